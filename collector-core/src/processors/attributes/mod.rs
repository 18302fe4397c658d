//! The `attributes` processor.

use serde::{Deserialize, Serialize};

use crate::Signal;
use crate::config::Kind as FactoryKind;
use crate::config::component::{ComponentConfig, ComponentType, ConfigFactory, decode};
use crate::config::validate::{Problems, Validate};
use crate::otlp::actions::{ActionConfig, validate_actions};
use crate::pipeline::build::{Build, Context, Factory};

/// `regexp` options of a match (an LRU of match results in Go).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct RegexpOptions {
    /// Cache match results.
    pub cacheenabled: bool,
    /// Cache size (0: unbounded).
    pub cachemaxnumentries: i64,
}

/// An attribute condition: the key must exist, and equal (strict) or match (regexp)
/// `value` when given.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct AttributeMatch {
    /// Attribute key.
    pub key: String,
    /// Expected value.
    pub value: Option<serde_json::Value>,
}

/// An instrumentation scope condition.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct LibraryMatch {
    /// Scope name.
    pub name: String,
    /// Scope version; absent matches any.
    pub version: Option<String>,
}

/// A log severity condition.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct SeverityNumberMatch {
    /// Lowest matching severity number (1-24) or name (`INFO`, `ERROR2`...).
    pub min: serde_json::Value,
    /// Whether an unset severity matches.
    pub match_undefined: bool,
}

/// `include` / `exclude` (Go `filterconfig.MatchProperties`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct MatchProperties {
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
pub(crate) struct AttributesConfig {
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

/// The `attributes` processor type.
pub(crate) static FACTORY: Factory = Factory {
    config: ConfigFactory {
        kind: FactoryKind::Processor,
        name: "attributes",
        aliases: &[],
        signals: &crate::Signal::ALL,
        decode: decode::<AttributesConfig>,
    },
    build: Build::Processor(build),
};

impl ComponentType for AttributesConfig {}

fn build(
    ctx: &Context<'_>,
    cfg: &dyn ComponentConfig,
    next: std::sync::Arc<dyn crate::pipeline::Consumer>,
) -> Result<std::sync::Arc<dyn crate::pipeline::Processor>, crate::Error> {
    let cfg = cfg.get::<AttributesConfig>()?;
    Ok(std::sync::Arc::new(AttributesProcessor::new(
        ctx.signal,
        cfg,
        next,
        ctx.budget.clone(),
    )?))
}

// ---------------------------------------------------------------------------------------
// Runtime
// ---------------------------------------------------------------------------------------

use std::sync::Arc;

use regex::Regex;

use crate::memory::Budget;
use crate::otlp::actions::{AttrProc, value_from_json};
use crate::otlp::text::{as_string, format_float_f};
use crate::otlp::{AnyValueView, Attributes, ItemEdit, ItemView, Payload, ResourceView, Value};
use crate::pipeline::{Consumer, Processor, Refusal};

/// A list of strings to match, exactly or by unanchored regular expression; empty means
/// "not a criterion".
#[derive(Debug)]
enum StrSet {
    Strict(Vec<String>),
    Regexp(Vec<Regex>),
}

impl StrSet {
    fn new(list: &[String], strict: bool) -> Result<StrSet, String> {
        if strict {
            return Ok(StrSet::Strict(list.to_vec()));
        }
        list.iter()
            .map(|p| Regex::new(p).map_err(|e| format!("invalid regexp {p:?}: {e}")))
            .collect::<Result<_, _>>()
            .map(StrSet::Regexp)
    }

    fn is_empty(&self) -> bool {
        match self {
            StrSet::Strict(v) => v.is_empty(),
            StrSet::Regexp(v) => v.is_empty(),
        }
    }

    fn matches(&self, s: &str) -> bool {
        match self {
            StrSet::Strict(v) => v.iter().any(|x| x == s),
            StrSet::Regexp(v) => v.iter().any(|re| re.is_match(s)),
        }
    }
}

/// One `attributes` / `resources` condition.
#[derive(Debug)]
struct AttrCond {
    key: String,
    value: Option<CondValue>,
}

#[derive(Debug)]
enum CondValue {
    Strict(Value),
    Regexp(Regex),
}

impl AttrCond {
    fn matches(&self, v: Option<Value>) -> bool {
        let Some(v) = v else { return false };
        match &self.value {
            None => true,
            Some(CondValue::Strict(want)) => values_equal(want, &v),
            Some(CondValue::Regexp(re)) => {
                // Go stringifies only scalars for a regexp match, doubles with
                // strconv.FormatFloat(d, 'f', -1, 64) rather than AsString (contrib
                // internal/filter/filtermatcher/attributematcher.go, attributeStringValue).
                let s = match &v {
                    Value::Str(s) => s.clone(),
                    Value::Bool(b) => b.to_string(),
                    Value::Int(i) => i.to_string(),
                    Value::Double(d) => format_float_f(*d),
                    _ => return false,
                };
                re.is_match(&s)
            }
        }
    }
}

/// Same type and equal value (Go compares other types by their hash, i.e. structurally).
fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Double(x), Value::Double(y)) => x == y,
        _ => a == b,
    }
}

/// A compiled `include` / `exclude`.
#[derive(Debug)]
struct Matcher {
    services: StrSet,
    span_names: StrSet,
    span_kinds: StrSet,
    log_bodies: StrSet,
    log_severity_texts: StrSet,
    severity: Option<(i32, bool)>,
    metric_names: StrSet,
    attributes: Vec<AttrCond>,
    resources: Vec<AttrCond>,
    libraries: Vec<(StrSet, Option<String>)>,
}

const SPAN_KIND_NAMES: [&str; 6] = [
    "SPAN_KIND_UNSPECIFIED",
    "SPAN_KIND_INTERNAL",
    "SPAN_KIND_SERVER",
    "SPAN_KIND_CLIENT",
    "SPAN_KIND_PRODUCER",
    "SPAN_KIND_CONSUMER",
];

fn attr_of(attrs: &Attributes<'_>, key: &str) -> Option<Value> {
    attrs.get(key)
}

fn resource_attr(r: &ResourceView<'_>, key: &str) -> Option<Value> {
    r.attribute(key).map(|v| Value::from_view(&v))
}

impl Matcher {
    fn new(m: &MatchProperties, signal: Signal) -> Result<Matcher, String> {
        if let Some(e) = m.validate_for(signal) {
            return Err(e);
        }
        let strict = m.match_type == "strict";
        let conds = |list: &[AttributeMatch]| -> Result<Vec<AttrCond>, String> {
            list.iter()
                .map(|a| {
                    let value = match &a.value {
                        None => None,
                        Some(v) if strict => Some(CondValue::Strict(value_from_json(v))),
                        Some(serde_json::Value::String(p)) => Some(CondValue::Regexp(
                            Regex::new(p).map_err(|e| format!("invalid regexp {p:?}: {e}"))?,
                        )),
                        Some(_) => {
                            return Err(format!(
                                "match_type=regexp for {:?} only supports Str",
                                a.key
                            ));
                        }
                    };
                    Ok(AttrCond {
                        key: a.key.clone(),
                        value,
                    })
                })
                .collect()
        };
        Ok(Matcher {
            services: StrSet::new(&m.services, strict)?,
            span_names: StrSet::new(&m.span_names, strict)?,
            span_kinds: StrSet::new(&m.span_kinds, strict)?,
            log_bodies: StrSet::new(&m.log_bodies, strict)?,
            log_severity_texts: StrSet::new(&m.log_severity_texts, strict)?,
            severity: m
                .log_severity_number
                .as_ref()
                .and_then(|s| severity_number(&s.min).map(|n| (n, s.match_undefined))),
            metric_names: StrSet::new(&m.metric_names, strict)?,
            attributes: conds(&m.attributes)?,
            resources: conds(&m.resources)?,
            libraries: m
                .libraries
                .iter()
                .map(|l| {
                    Ok((
                        StrSet::new(std::slice::from_ref(&l.name), strict)?,
                        l.version.clone(),
                    ))
                })
                .collect::<Result<_, String>>()?,
        })
    }

    /// Whether a span or log record matches every configured criterion.
    fn matches_item(&self, e: &ItemEdit<'_, '_>) -> bool {
        let resource = e.resource();
        if !self
            .resources
            .iter()
            .all(|c| c.matches(resource_attr(resource, &c.key)))
        {
            return false;
        }
        let scope = e.scope();
        for (name, version) in &self.libraries {
            if !name.matches(scope.name()) {
                return false;
            }
            if version.as_deref().is_some_and(|v| v != scope.version()) {
                return false;
            }
        }
        match e.item() {
            ItemView::Span(s) => {
                if !self.services.is_empty() {
                    let service = match resource.attribute("service.name") {
                        Some(v) => as_string(&v),
                        None => "<nil-service-name>".to_owned(),
                    };
                    if !self.services.matches(&service) {
                        return false;
                    }
                }
                if !self.span_names.is_empty() && !self.span_names.matches(s.name()) {
                    return false;
                }
                if !self.span_kinds.is_empty() {
                    let kind = usize::try_from(s.kind())
                        .ok()
                        .and_then(|k| SPAN_KIND_NAMES.get(k))
                        .copied()
                        .unwrap_or("");
                    if !self.span_kinds.matches(kind) {
                        return false;
                    }
                }
            }
            ItemView::LogRecord(l) => {
                if !self.log_bodies.is_empty() {
                    let body = match l.body() {
                        AnyValueView::Str(s) => s.to_owned(),
                        other => as_string(&other),
                    };
                    if !self.log_bodies.matches(&body) {
                        return false;
                    }
                }
                if !self.log_severity_texts.is_empty()
                    && !self.log_severity_texts.matches(l.severity_text())
                {
                    return false;
                }
                if let Some((min, undefined)) = self.severity {
                    let sev = l.severity_number();
                    let ok = if sev == 0 { undefined } else { sev >= min };
                    if !ok {
                        return false;
                    }
                }
            }
            ItemView::DataPoint(..) => {}
        }
        let attrs = e.attributes_ref();
        self.attributes
            .iter()
            .all(|c| c.matches(attr_of(attrs, &c.key)))
    }

    /// Metrics are matched by name only (Go's non-OTTL metric path ignores `resources`).
    fn matches_metric(&self, name: &str) -> bool {
        self.metric_names.is_empty() || self.metric_names.matches(name)
    }
}

/// The `attributes` processor: actions on the attributes of spans, log records and metric
/// data points that pass `include` / `exclude`. Items left alone keep their bytes.
pub(crate) struct AttributesProcessor {
    signal: Signal,
    actions: AttrProc,
    include: Option<Matcher>,
    exclude: Option<Matcher>,
    next: Arc<dyn Consumer>,
    budget: Budget,
}

impl AttributesProcessor {
    pub(crate) fn new(
        signal: Signal,
        cfg: &AttributesConfig,
        next: Arc<dyn Consumer>,
        budget: Budget,
    ) -> Result<AttributesProcessor, crate::Error> {
        let err = |e: String| crate::Error::new(crate::ErrorKind::Config, e);
        let matcher = |m: &Option<MatchProperties>| -> Result<Option<Matcher>, crate::Error> {
            m.as_ref()
                .map(|m| Matcher::new(m, signal))
                .transpose()
                .map_err(err)
        };
        Ok(AttributesProcessor {
            signal,
            actions: AttrProc::new(&cfg.actions).map_err(err)?,
            include: matcher(&cfg.include)?,
            exclude: matcher(&cfg.exclude)?,
            next,
            budget,
        })
    }

    fn wanted(&self, e: &ItemEdit<'_, '_>) -> bool {
        let hit = |m: &Matcher| match e.item() {
            ItemView::DataPoint(metric, _) => m.matches_metric(metric.name()),
            _ => m.matches_item(e),
        };
        !(self.include.as_ref().is_some_and(|m| !hit(m)) || self.exclude.as_ref().is_some_and(hit))
    }

    fn edit(&self, p: &mut Payload) {
        let metadata = if self.actions.uses_context() {
            p.metadata().cloned()
        } else {
            None
        };
        for entry in p.entries_mut() {
            entry.edit_items_in(self.signal, Some(&self.budget), |e| {
                if self.wanted(e) {
                    self.actions.process(e.attributes(), metadata.as_ref());
                }
            });
        }
    }
}

impl Consumer for AttributesProcessor {
    fn consume(&self, mut payload: Payload) -> Result<(), Refusal> {
        self.edit(&mut payload);
        self.next.consume(payload)
    }
}

impl Processor for AttributesProcessor {}

#[cfg(test)]
mod runtime_tests {
    use super::*;
    use crate::otlp::actions::ActionConfig;
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{
        AnyValue, InstrumentationScope, KeyValue, KeyValueList, any_value,
    };
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::metrics::v1 as m;
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
    use parking_lot::Mutex;
    use prost::Message;

    #[derive(Default)]
    struct Sink(Mutex<Vec<Payload>>);
    impl Consumer for Sink {
        fn consume(&self, p: Payload) -> Result<(), Refusal> {
            self.0.lock().push(p);
            Ok(())
        }
    }

    fn kv(k: &str, v: any_value::Value) -> KeyValue {
        KeyValue {
            key: k.into(),
            value: Some(AnyValue { value: Some(v) }),
            ..Default::default()
        }
    }
    fn s(v: &str) -> any_value::Value {
        any_value::Value::StringValue(v.into())
    }

    fn mark() -> Vec<ActionConfig> {
        vec![ActionConfig {
            key: "marked".into(),
            value: Some(serde_json::json!(true)),
            action: "insert".into(),
            ..Default::default()
        }]
    }

    fn run(signal: Signal, cfg: AttributesConfig, req: Vec<u8>) -> Payload {
        let sink = Arc::new(Sink::default());
        let p =
            AttributesProcessor::new(signal, &cfg, sink.clone(), Budget::new(usize::MAX)).unwrap();
        p.consume(Payload::decode(signal, bytes::Bytes::from(req)).unwrap())
            .unwrap();
        sink.0.lock().pop().unwrap()
    }

    fn props(f: impl FnOnce(&mut MatchProperties)) -> Option<MatchProperties> {
        let mut m = MatchProperties {
            match_type: "strict".into(),
            ..Default::default()
        };
        f(&mut m);
        Some(m)
    }

    fn spans_request() -> Vec<u8> {
        let span = |name: &str, kind: i32, attrs: Vec<KeyValue>| Span {
            name: name.into(),
            kind,
            attributes: attrs,
            ..Default::default()
        };
        let rs = |service: &str, scope: &str, version: &str, spans: Vec<Span>| ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", s(service)), kv("env", s("prod"))],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: scope.into(),
                    version: version.into(),
                    ..Default::default()
                }),
                spans,
                ..Default::default()
            }],
            ..Default::default()
        };
        ExportTraceServiceRequest {
            resource_spans: vec![
                rs(
                    "api",
                    "flask",
                    "1.0",
                    vec![
                        span(
                            "GET /users",
                            2,
                            vec![kv("http.status_code", any_value::Value::IntValue(200))],
                        ),
                        span(
                            "GET /health",
                            2,
                            vec![kv("http.status_code", any_value::Value::IntValue(500))],
                        ),
                        span("db", 3, vec![]),
                    ],
                ),
                rs("worker", "celery", "", vec![span("GET /users", 1, vec![])]),
            ],
        }
        .encode_to_vec()
    }

    /// Names of marked spans, as `service/name`.
    fn marked_spans(p: &Payload) -> Vec<String> {
        let req = ExportTraceServiceRequest::decode(p.to_bytes()).unwrap();
        let mut out = Vec::new();
        for rs in req.resource_spans {
            let service = match &rs.resource.unwrap().attributes[0]
                .value
                .as_ref()
                .unwrap()
                .value
            {
                Some(any_value::Value::StringValue(v)) => v.clone(),
                _ => String::new(),
            };
            for ss in rs.scope_spans {
                for sp in ss.spans {
                    if sp.attributes.iter().any(|a| a.key == "marked") {
                        out.push(format!("{service}/{}", sp.name));
                    }
                }
            }
        }
        out
    }

    fn traces(include: Option<MatchProperties>, exclude: Option<MatchProperties>) -> Vec<String> {
        let cfg = AttributesConfig {
            actions: mark(),
            include,
            exclude,
        };
        marked_spans(&run(Signal::Traces, cfg, spans_request()))
    }

    #[test]
    fn spans_without_filters_are_all_processed() {
        assert_eq!(
            traces(None, None),
            [
                "api/GET /users",
                "api/GET /health",
                "api/db",
                "worker/GET /users"
            ]
        );
    }

    #[test]
    fn span_criteria() {
        let names = |m: &mut MatchProperties| m.span_names = vec!["GET /users".into()];
        assert_eq!(
            traces(props(names), None),
            ["api/GET /users", "worker/GET /users"]
        );
        // Regexp is unanchored.
        let re = |m: &mut MatchProperties| {
            m.match_type = "regexp".into();
            m.span_names = vec!["users".into()];
        };
        assert_eq!(
            traces(props(re), None),
            ["api/GET /users", "worker/GET /users"]
        );
        let services = |m: &mut MatchProperties| m.services = vec!["worker".into()];
        assert_eq!(traces(props(services), None), ["worker/GET /users"]);
        let kinds = |m: &mut MatchProperties| m.span_kinds = vec!["SPAN_KIND_CLIENT".into()];
        assert_eq!(traces(props(kinds), None), ["api/db"]);
        // All criteria of one block must hold; include then exclude.
        let both = |m: &mut MatchProperties| {
            m.services = vec!["api".into()];
            m.span_names = vec!["GET /users".into(), "GET /health".into()];
        };
        let not_500 = |m: &mut MatchProperties| {
            m.attributes = vec![AttributeMatch {
                key: "http.status_code".into(),
                value: Some(serde_json::json!(500)),
            }];
        };
        assert_eq!(traces(props(both), props(not_500)), ["api/GET /users"]);
        // A strict value must have the same type: the string "200" is not the int 200.
        let str_200 = |m: &mut MatchProperties| {
            m.attributes = vec![AttributeMatch {
                key: "http.status_code".into(),
                value: Some(serde_json::json!("200")),
            }];
        };
        assert!(traces(props(str_200), None).is_empty());
        // Regexp values match the stringified attribute.
        let re_5xx = |m: &mut MatchProperties| {
            m.match_type = "regexp".into();
            m.attributes = vec![AttributeMatch {
                key: "http.status_code".into(),
                value: Some(serde_json::json!("^5")),
            }];
        };
        assert_eq!(traces(props(re_5xx), None), ["api/GET /health"]);
        // A key with no value condition only has to exist.
        let has = |m: &mut MatchProperties| {
            m.attributes = vec![AttributeMatch {
                key: "http.status_code".into(),
                value: None,
            }];
        };
        assert_eq!(
            traces(props(has), None),
            ["api/GET /users", "api/GET /health"]
        );
        let resources = |m: &mut MatchProperties| {
            m.resources = vec![AttributeMatch {
                key: "service.name".into(),
                value: Some(serde_json::json!("worker")),
            }];
        };
        assert_eq!(traces(props(resources), None), ["worker/GET /users"]);
    }

    #[test]
    fn libraries_and_versions() {
        let lib = |version: Option<&str>| {
            props(move |m: &mut MatchProperties| {
                m.libraries = vec![LibraryMatch {
                    name: "celery".into(),
                    version: version.map(str::to_owned),
                }]
            })
        };
        assert_eq!(traces(lib(None), None), ["worker/GET /users"]);
        assert_eq!(traces(lib(Some("")), None), ["worker/GET /users"]);
        assert!(traces(lib(Some("1.0")), None).is_empty());
    }

    #[test]
    fn unmatched_spans_keep_their_bytes() {
        let names = props(|m| m.span_names = vec!["db".into()]);
        let cfg = AttributesConfig {
            actions: mark(),
            include: names,
            exclude: None,
        };
        let req = spans_request();
        let out = run(Signal::Traces, cfg, req.clone()).to_bytes();
        let original = ExportTraceServiceRequest::decode(&req[..]).unwrap();
        let users = original.resource_spans[0].scope_spans[0].spans[0].encode_to_vec();
        assert!(out.windows(users.len()).any(|w| w == users));
    }

    #[test]
    fn log_criteria() {
        let rec = |body: &str, sev: i32, text: &str| LogRecord {
            body: Some(AnyValue {
                value: Some(s(body)),
            }),
            severity_number: sev,
            severity_text: text.into(),
            ..Default::default()
        };
        let req = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: vec![
                        rec("login ok", 9, "INFO"),
                        rec("login failed", 17, "ERROR"),
                        rec("no severity", 0, ""),
                    ],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
        .encode_to_vec();
        let marked = |include: Option<MatchProperties>| -> Vec<String> {
            let cfg = AttributesConfig {
                actions: mark(),
                include,
                exclude: None,
            };
            let out = run(Signal::Logs, cfg, req.clone());
            let got = ExportLogsServiceRequest::decode(out.to_bytes()).unwrap();
            got.resource_logs[0].scope_logs[0]
                .log_records
                .iter()
                .filter(|r| r.attributes.iter().any(|a| a.key == "marked"))
                .map(|r| match &r.body.as_ref().unwrap().value {
                    Some(any_value::Value::StringValue(b)) => b.clone(),
                    _ => String::new(),
                })
                .collect()
        };
        let bodies = props(|m| {
            m.match_type = "regexp".into();
            m.log_bodies = vec!["^login".into()];
        });
        assert_eq!(marked(bodies), ["login ok", "login failed"]);
        let texts = props(|m| m.log_severity_texts = vec!["ERROR".into()]);
        assert_eq!(marked(texts), ["login failed"]);
        let sev = |undefined: bool| {
            props(move |m| {
                m.log_severity_number = Some(SeverityNumberMatch {
                    min: serde_json::json!("WARN"),
                    match_undefined: undefined,
                })
            })
        };
        assert_eq!(marked(sev(false)), ["login failed"]);
        assert_eq!(marked(sev(true)), ["login failed", "no severity"]);
    }

    #[test]
    fn non_string_bodies_match_as_go_stringifies_them() {
        // Go: contrib internal/filter/filterlog/filterlog.go, propertiesMatcher.Eval matches
        // `bodies` against `lr.Body().AsString()` (contrib #22738); AsString is collector
        // pdata/pcommon/value.go:389-420 (json.Marshal of AsRaw for maps: keys sorted,
        // HTML-safe escapes; float64AsString for doubles, 424-451).
        let body = |v: any_value::Value| LogRecord {
            body: Some(AnyValue { value: Some(v) }),
            ..Default::default()
        };
        let map = any_value::Value::KvlistValue(KeyValueList {
            values: vec![
                kv("z", any_value::Value::DoubleValue(1.0)),
                kv("a", s("<x>")),
            ],
        });
        let req = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: vec![
                        body(map),
                        body(any_value::Value::DoubleValue(1e21)),
                        body(any_value::Value::DoubleValue(2.5)),
                    ],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
        .encode_to_vec();
        let cfg = AttributesConfig {
            actions: mark(),
            include: props(|m| {
                m.log_bodies = vec![r#"{"a":"\u003cx\u003e","z":1}"#.into(), "1e+21".into()];
            }),
            exclude: None,
        };
        let out = run(Signal::Logs, cfg, req);
        let got = ExportLogsServiceRequest::decode(out.to_bytes()).unwrap();
        let marked: Vec<bool> = got.resource_logs[0].scope_logs[0]
            .log_records
            .iter()
            .map(|r| r.attributes.iter().any(|a| a.key == "marked"))
            .collect();
        assert_eq!(marked, [true, true, false]);
    }

    #[test]
    fn metrics_match_by_name_and_edit_every_point() {
        let gauge = |name: &str| m::Metric {
            name: name.into(),
            data: Some(m::metric::Data::Gauge(m::Gauge {
                data_points: vec![m::NumberDataPoint::default(), m::NumberDataPoint::default()],
            })),
            ..Default::default()
        };
        let req = ExportMetricsServiceRequest {
            resource_metrics: vec![m::ResourceMetrics {
                scope_metrics: vec![m::ScopeMetrics {
                    metrics: vec![gauge("http.duration"), gauge("cpu")],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
        .encode_to_vec();
        let marked = |include: Option<MatchProperties>| -> Vec<(String, usize)> {
            let cfg = AttributesConfig {
                actions: mark(),
                include,
                exclude: None,
            };
            let out = run(Signal::Metrics, cfg, req.clone());
            let got = ExportMetricsServiceRequest::decode(out.to_bytes()).unwrap();
            got.resource_metrics[0].scope_metrics[0]
                .metrics
                .iter()
                .map(|mt| {
                    let Some(m::metric::Data::Gauge(g)) = &mt.data else {
                        panic!()
                    };
                    let n = g
                        .data_points
                        .iter()
                        .filter(|p| p.attributes.iter().any(|a| a.key == "marked"))
                        .count();
                    (mt.name.clone(), n)
                })
                .collect()
        };
        let names = props(|m| m.metric_names = vec!["http.duration".into()]);
        assert_eq!(
            marked(names),
            [("http.duration".to_owned(), 2), ("cpu".to_owned(), 0)]
        );
        // Only `resources`: Go's metric path ignores it and processes every metric.
        let res = props(|m| {
            m.resources = vec![AttributeMatch {
                key: "absent".into(),
                value: None,
            }]
        });
        assert_eq!(
            marked(res),
            [("http.duration".to_owned(), 2), ("cpu".to_owned(), 2)]
        );
    }
}
