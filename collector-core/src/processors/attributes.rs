//! The `attributes` processor.

use serde::{Deserialize, Serialize};

use super::actions::{ActionConfig, validate_actions};
use crate::Signal;
use crate::config::validate::{Problems, Validate};

/// `regexp` options of a match (an LRU of match results in Go).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct RegexpOptions {
    /// Cache match results.
    pub cacheenabled: bool,
    /// Cache size (0: unbounded).
    pub cachemaxnumentries: i64,
}

/// An attribute condition: the key must exist, and equal (strict) or match (regexp)
/// `value` when given.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct AttributeMatch {
    /// Attribute key.
    pub key: String,
    /// Expected value.
    pub value: Option<serde_json::Value>,
}

/// An instrumentation scope condition.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct LibraryMatch {
    /// Scope name.
    pub name: String,
    /// Scope version; absent matches any.
    pub version: Option<String>,
}

/// A log severity condition.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct SeverityNumberMatch {
    /// Lowest matching severity number (1-24) or name (`INFO`, `ERROR2`...).
    pub min: serde_json::Value,
    /// Whether an unset severity matches.
    pub match_undefined: bool,
}

/// `include` / `exclude` (Go `filterconfig.MatchProperties`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct MatchProperties {
    /// `strict` or `regexp`.
    pub match_type: String,
    /// Regexp options.
    pub regexp: Option<RegexpOptions>,
    /// Resource `service.name` values (spans).
    pub services: Vec<String>,
    /// Span names.
    pub span_names: Vec<String>,
    /// Span kinds (`SPAN_KIND_SERVER`...).
    pub span_kinds: Vec<String>,
    /// Log bodies.
    pub log_bodies: Vec<String>,
    /// Log severity texts.
    pub log_severity_texts: Vec<String>,
    /// Log severity numbers.
    pub log_severity_number: Option<SeverityNumberMatch>,
    /// Metric names.
    pub metric_names: Vec<String>,
    /// Item attributes (all must match).
    pub attributes: Vec<AttributeMatch>,
    /// Resource attributes (all must match).
    pub resources: Vec<AttributeMatch>,
    /// Instrumentation scopes.
    pub libraries: Vec<LibraryMatch>,
}

const SPAN_KINDS: [&str; 6] = [
    "SPAN_KIND_UNSPECIFIED",
    "SPAN_KIND_INTERNAL",
    "SPAN_KIND_SERVER",
    "SPAN_KIND_CLIENT",
    "SPAN_KIND_PRODUCER",
    "SPAN_KIND_CONSUMER",
];

impl MatchProperties {
    /// Go's `ValidateForSpans` / `ValidateForLogs` / `ValidateForMetrics`, then the regexes.
    pub(crate) fn validate_for(&self, signal: Signal) -> Option<String> {
        let any_of = |v: &[bool]| v.iter().any(|b| *b);
        match signal {
            Signal::Traces => {
                if !self.log_bodies.is_empty() {
                    return Some("log_bodies should not be specified for trace spans".into());
                }
                if !self.log_severity_texts.is_empty() {
                    return Some(
                        "log_severity_texts should not be specified for trace spans".into(),
                    );
                }
                if self.log_severity_number.is_some() {
                    return Some(
                        "log_severity_number should not be specified for trace spans".into(),
                    );
                }
                if !self.metric_names.is_empty() {
                    return Some("metric_names should not be specified for trace spans".into());
                }
                if !any_of(&[
                    !self.services.is_empty(),
                    !self.span_names.is_empty(),
                    !self.attributes.is_empty(),
                    !self.libraries.is_empty(),
                    !self.resources.is_empty(),
                    !self.span_kinds.is_empty(),
                ]) {
                    return Some("at least one of \"attributes\", \"libraries\",  or \"resources\" field must be specified".into());
                }
                if self.match_type == "strict"
                    && let Some(k) = self
                        .span_kinds
                        .iter()
                        .find(|k| !SPAN_KINDS.contains(&k.as_str()))
                {
                    return Some(format!(
                        "span_kinds string must match one of the standard span kinds when match_type=strict: {k:?} is not one of {SPAN_KINDS:?}"
                    ));
                }
            }
            Signal::Logs => {
                if !self.span_names.is_empty()
                    || !self.services.is_empty()
                    || !self.span_kinds.is_empty()
                    || !self.metric_names.is_empty()
                {
                    return Some("services, span_names, span_kinds and metric_names are not valid for log records".into());
                }
                if !any_of(&[
                    !self.attributes.is_empty(),
                    !self.libraries.is_empty(),
                    !self.resources.is_empty(),
                    !self.log_bodies.is_empty(),
                    !self.log_severity_texts.is_empty(),
                    self.log_severity_number.is_some(),
                ]) {
                    return Some("at least one of \"attributes\", \"libraries\", \"span_kinds\", \"resources\", \"log_bodies\", \"log_severity_texts\" or \"log_severity_number\" field must be specified".into());
                }
            }
            Signal::Metrics => {
                if !self.log_bodies.is_empty()
                    || !self.log_severity_texts.is_empty()
                    || !self.span_names.is_empty()
                    || !self.services.is_empty()
                    || !self.span_kinds.is_empty()
                    || !self.attributes.is_empty()
                    || !self.libraries.is_empty()
                    || self.log_severity_number.is_some()
                {
                    return Some("\"span_names\", \"span_kinds\", \"log_bodies\", \"log_severity_texts\", \"log_severity_number\", \"services\", \"attributes\" and \"libraries\" are not valid for metrics".into());
                }
                if self.metric_names.is_empty() && self.resources.is_empty() {
                    return Some(
                        "at least one of \"metric_names\" or \"resources\" field must be specified"
                            .into(),
                    );
                }
            }
        }
        if !matches!(self.match_type.as_str(), "strict" | "regexp") {
            return Some(format!(
                "unrecognized match_type: '{}', valid types are: [regexp strict]",
                self.match_type
            ));
        }
        for a in self.attributes.iter().chain(&self.resources) {
            if a.key.is_empty() {
                return Some("can't have empty key in the list of attributes".into());
            }
        }
        if self.match_type == "regexp" {
            let lists = [
                &self.services,
                &self.span_names,
                &self.span_kinds,
                &self.log_bodies,
                &self.log_severity_texts,
                &self.metric_names,
            ];
            for pattern in lists.iter().flat_map(|l| l.iter()) {
                if let Err(e) = regex::Regex::new(pattern) {
                    return Some(format!("invalid regexp {pattern:?}: {e}"));
                }
            }
            for a in self.attributes.iter().chain(&self.resources) {
                match &a.value {
                    None => {}
                    Some(serde_json::Value::String(p)) => {
                        if let Err(e) = regex::Regex::new(p) {
                            return Some(format!("invalid regexp {p:?}: {e}"));
                        }
                    }
                    Some(other) => {
                        return Some(format!(
                            "match_type=regexp for {:?} only supports Str, but found {}",
                            a.key,
                            json_type(other)
                        ));
                    }
                }
            }
        }
        if let Some(s) = &self.log_severity_number
            && severity_number(&s.min).is_none()
        {
            return Some(format!("invalid log_severity_number::min {}", s.min));
        }
        None
    }
}

fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "Empty",
        serde_json::Value::Bool(_) => "Bool",
        serde_json::Value::Number(n) if n.is_f64() => "Double",
        serde_json::Value::Number(_) => "Int",
        serde_json::Value::String(_) => "Str",
        serde_json::Value::Array(_) => "Slice",
        serde_json::Value::Object(_) => "Map",
    }
}

/// A severity number from its number or its name (`INFO`, `ERROR2`, `SEVERITY_NUMBER_WARN`).
pub(crate) fn severity_number(v: &serde_json::Value) -> Option<i32> {
    match v {
        serde_json::Value::Number(n) => n
            .as_i64()
            .filter(|n| (0..=24).contains(n))
            .map(|n| n as i32),
        serde_json::Value::String(s) => {
            let s = s.trim_start_matches("SEVERITY_NUMBER_").to_uppercase();
            let bases = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
            for (i, b) in bases.iter().enumerate() {
                if let Some(rest) = s.strip_prefix(b) {
                    let step = match rest {
                        "" => 0,
                        "2" => 1,
                        "3" => 2,
                        "4" => 3,
                        _ => return None,
                    };
                    return Some(i as i32 * 4 + 1 + step);
                }
            }
            None
        }
        _ => None,
    }
}

/// `attributes` processor configuration (contrib `processor/attributesprocessor`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct AttributesConfig {
    /// Actions applied in order to each item's attributes.
    pub actions: Vec<ActionConfig>,
    /// Only items matching this are processed.
    pub include: Option<MatchProperties>,
    /// Items matching this are not processed.
    pub exclude: Option<MatchProperties>,
}

impl Validate for AttributesConfig {
    fn validate(&self, p: &mut Problems) {
        if self.actions.is_empty() {
            p.root("missing required field \"actions\"");
        } else if let Some(e) = validate_actions(&self.actions) {
            p.key("actions", e);
        }
    }

    fn validate_signal(&self, signal: Signal, p: &mut Problems) {
        for (key, m) in [("include", &self.include), ("exclude", &self.exclude)] {
            if let Some(e) = m.as_ref().and_then(|m| m.validate_for(signal)) {
                p.key(key, e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities() {
        assert_eq!(severity_number(&serde_json::json!("INFO")), Some(9));
        assert_eq!(severity_number(&serde_json::json!("ERROR2")), Some(18));
        assert_eq!(
            severity_number(&serde_json::json!("SEVERITY_NUMBER_FATAL4")),
            Some(24)
        );
        assert_eq!(severity_number(&serde_json::json!(13)), Some(13));
        assert_eq!(severity_number(&serde_json::json!("LOUD")), None);
    }

    #[test]
    fn per_signal_rules() {
        let m = MatchProperties {
            match_type: "strict".into(),
            span_names: vec!["GET /".into()],
            ..Default::default()
        };
        assert_eq!(m.validate_for(Signal::Traces), None);
        assert!(
            m.validate_for(Signal::Logs)
                .unwrap()
                .contains("not valid for log records")
        );
        assert!(
            m.validate_for(Signal::Metrics)
                .unwrap()
                .contains("not valid for metrics")
        );
        let empty = MatchProperties {
            match_type: "strict".into(),
            ..Default::default()
        };
        assert!(
            empty
                .validate_for(Signal::Traces)
                .unwrap()
                .contains("at least one of")
        );
        let bad = MatchProperties {
            match_type: "fuzzy".into(),
            span_names: vec!["x".into()],
            ..Default::default()
        };
        assert!(
            bad.validate_for(Signal::Traces)
                .unwrap()
                .contains("unrecognized match_type: 'fuzzy'")
        );
    }
}
