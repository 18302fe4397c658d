//! Attribute actions shared by the `resource` and `attributes` processors: the Go
//! collector's `attraction` package (`insert`, `update`, `upsert`, `delete`, `hash`,
//! `extract`, `convert`).

use serde::{Deserialize, Serialize};

/// One action, as a list element under `resource.attributes` or `attributes.actions`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct ActionConfig {
    /// The attribute acted on.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub key: String,
    /// A literal value (string, bool, int, double, list or map).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
    /// A regular expression: keys for `delete`/`hash`, named groups for `extract`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub pattern: String,
    /// Copy the value of this attribute.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub from_attribute: String,
    /// Copy a client context value: `metadata.<key>`, `auth.<key>` or `client.address`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub from_context: String,
    /// For `convert`: `int`, `double` or `string`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub converted_type: String,
    /// `insert`, `update`, `upsert`, `delete`, `hash`, `extract` or `convert`
    /// (case-insensitive).
    pub action: String,
}

/// Checks a list of actions with the Go collector's messages (`attraction.NewAttrProc`),
/// returning the first problem, as Go does.
pub(crate) fn validate_actions(actions: &[ActionConfig]) -> Option<String> {
    for (i, a) in actions.iter().enumerate() {
        let action = a.action.to_lowercase();
        if matches!(action.as_str(), "delete" | "hash") {
            if a.key.is_empty() && a.pattern.is_empty() {
                return Some(format!(
                    "error creating AttrProc due to missing required field (at least one of \"key\" and \"pattern\" have to be used) at the {i}-th actions"
                ));
            }
        } else if a.key.is_empty() {
            return Some(format!(
                "error creating AttrProc due to missing required field \"key\" at the {i}-th actions"
            ));
        }
        let sources = usize::from(a.value.is_some())
            + usize::from(!a.from_attribute.is_empty())
            + usize::from(!a.from_context.is_empty());
        let converted = || {
            format!(
                "error creating AttrProc. Action \"{action}\" does not use the \"converted_type\" field. This must not be specified for {i}-th action"
            )
        };
        let bad_pattern = |pattern: &str| match regex::Regex::new(pattern) {
            Ok(re) => Ok(re),
            Err(_) => Err(format!(
                "error creating AttrProc. Field \"pattern\" has invalid pattern: \"{pattern}\" to be set at the {i}-th actions"
            )),
        };
        match action.as_str() {
            "insert" | "update" | "upsert" => {
                if sources == 0 {
                    return Some(format!(
                        "error creating AttrProc. Either field \"value\", \"from_attribute\" or \"from_context\" setting must be specified for {i}-th action"
                    ));
                }
                if sources > 1 {
                    return Some(format!(
                        "error creating AttrProc due to multiple value sources being set at the {i}-th actions"
                    ));
                }
                if !a.pattern.is_empty() {
                    return Some(format!(
                        "error creating AttrProc. Action \"{action}\" does not use the \"pattern\" field. This must not be specified for {i}-th action"
                    ));
                }
                if !a.converted_type.is_empty() {
                    return Some(converted());
                }
            }
            "hash" | "delete" => {
                if a.value.is_some() || !a.from_attribute.is_empty() {
                    return Some(format!(
                        "error creating AttrProc. Action \"{action}\" does not use \"value\" or \"from_attribute\" field. These must not be specified for {i}-th action"
                    ));
                }
                if !a.pattern.is_empty()
                    && let Err(e) = bad_pattern(&a.pattern)
                {
                    return Some(e);
                }
                if !a.converted_type.is_empty() {
                    return Some(converted());
                }
            }
            "extract" => {
                if sources > 0 {
                    return Some(format!(
                        "error creating AttrProc. Action \"{action}\" does not use a value source field. These must not be specified for {i}-th action"
                    ));
                }
                if a.pattern.is_empty() {
                    return Some(format!(
                        "error creating AttrProc due to missing required field \"pattern\" for action \"{action}\" at the {i}-th action"
                    ));
                }
                if !a.converted_type.is_empty() {
                    return Some(converted());
                }
                let re = match bad_pattern(&a.pattern) {
                    Ok(re) => re,
                    Err(e) => return Some(e),
                };
                let names: Vec<_> = re.capture_names().skip(1).collect();
                if names.is_empty() {
                    return Some(format!(
                        "error creating AttrProc. Field \"pattern\" contains no named matcher groups at the {i}-th actions"
                    ));
                }
                if names.iter().any(Option::is_none) {
                    return Some(format!(
                        "error creating AttrProc. Field \"pattern\" contains at least one unnamed matcher group at the {i}-th actions"
                    ));
                }
            }
            "convert" => {
                if sources > 0 || !a.pattern.is_empty() {
                    return Some(format!(
                        "error creating AttrProc. Action \"{action}\" does not use value sources or \"pattern\" field. These must not be specified for {i}-th action"
                    ));
                }
                match a.converted_type.as_str() {
                    "" => {
                        return Some(format!(
                            "error creating AttrProc due to missing required field \"converted_type\" for action \"{action}\" at the {i}-th action"
                        ));
                    }
                    "int" | "double" | "string" => {}
                    other => {
                        return Some(format!(
                            "error creating AttrProc due to invalid value \"{other}\" in field \"converted_type\" for action \"{action}\" at the {i}-th action"
                        ));
                    }
                }
            }
            _ => {
                return Some(format!(
                    "error creating AttrProc due to unsupported action {action:?} at the {i}-th actions"
                ));
            }
        }
    }
    None
}

// ---------------------------------------------------------------------------------------
// Runtime
// ---------------------------------------------------------------------------------------

use regex::Regex;
use sha2::{Digest, Sha256};

use crate::otlp::text::as_string;
use crate::otlp::{AttrRef, Attributes, Metadata, Value};

/// A literal `value` as Go's `pcommon.Value.FromRaw` reads it.
pub(crate) fn value_from_json(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Empty,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Double(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => Value::Str(s.clone()),
        serde_json::Value::Array(a) => Value::Array(a.iter().map(value_from_json).collect()),
        serde_json::Value::Object(o) => Value::KvList(
            o.iter()
                .map(|(k, v)| (k.clone(), value_from_json(v)))
                .collect(),
        ),
    }
}

/// Where an insert/update/upsert takes its value from.
#[derive(Debug)]
enum Source {
    Literal(Value),
    Attribute(String),
    /// `client.address`: this collector does not keep the peer address with a payload;
    /// as in Go when the address is unknown, the value is an empty string.
    ClientAddress,
    /// `metadata.<key>`, or a bare key (Go's legacy form).
    Metadata(String),
    /// `auth.<key>`: no authenticator extension exists here, so never found.
    Auth,
}

#[derive(Debug)]
enum Conversion {
    Int,
    Double,
    Str,
}

#[derive(Debug)]
enum Kind {
    Insert(Source),
    Update(Source),
    Upsert(Source),
    Delete,
    Hash,
    Extract(Regex),
    Convert(Conversion),
}

#[derive(Debug)]
struct Action {
    key: String,
    pattern: Option<Regex>,
    kind: Kind,
}

/// Compiled actions (Go's `attraction.AttrProc`), applied in order to one attribute map.
#[derive(Debug)]
pub(crate) struct AttrProc {
    actions: Vec<Action>,
}

impl AttrProc {
    /// Compiles validated actions.
    ///
    /// # Errors
    ///
    /// Go's creation message for the first invalid action.
    pub(crate) fn new(cfgs: &[ActionConfig]) -> Result<AttrProc, String> {
        if let Some(e) = validate_actions(cfgs) {
            return Err(e);
        }
        let mut actions = Vec::with_capacity(cfgs.len());
        for c in cfgs {
            let pattern = if c.pattern.is_empty() {
                None
            } else {
                Some(Regex::new(&c.pattern).map_err(|e| e.to_string())?)
            };
            let source = || {
                if let Some(v) = &c.value {
                    Source::Literal(value_from_json(v))
                } else if !c.from_context.is_empty() {
                    match c.from_context.as_str() {
                        "client.address" => Source::ClientAddress,
                        k if k.starts_with("auth.") => Source::Auth,
                        k => Source::Metadata(k.strip_prefix("metadata.").unwrap_or(k).to_owned()),
                    }
                } else {
                    Source::Attribute(c.from_attribute.clone())
                }
            };
            let kind = match c.action.to_lowercase().as_str() {
                "insert" => Kind::Insert(source()),
                "update" => Kind::Update(source()),
                "upsert" => Kind::Upsert(source()),
                "delete" => Kind::Delete,
                "hash" => Kind::Hash,
                "extract" => match pattern.clone() {
                    Some(re) => Kind::Extract(re),
                    None => return Err("extract needs a pattern".into()),
                },
                _ => Kind::Convert(match c.converted_type.as_str() {
                    "int" => Conversion::Int,
                    "double" => Conversion::Double,
                    _ => Conversion::Str,
                }),
            };
            actions.push(Action {
                key: c.key.clone(),
                pattern,
                kind,
            });
        }
        Ok(AttrProc { actions })
    }

    /// True when some action reads the client context (metadata), so results depend on
    /// more than the attributes.
    pub(crate) fn uses_context(&self) -> bool {
        self.actions.iter().any(|a| match &a.kind {
            Kind::Insert(s) | Kind::Update(s) | Kind::Upsert(s) => {
                matches!(s, Source::Metadata(_))
            }
            _ => false,
        })
    }

    /// The context keys the actions read, in order (for cache keys).
    pub(crate) fn context_keys(&self) -> impl Iterator<Item = &str> {
        self.actions.iter().filter_map(|a| match &a.kind {
            Kind::Insert(Source::Metadata(k))
            | Kind::Update(Source::Metadata(k))
            | Kind::Upsert(Source::Metadata(k)) => Some(k.as_str()),
            _ => None,
        })
    }

    /// Applies every action, in order, to `attrs`.
    pub(crate) fn process(&self, attrs: &mut Attributes<'_>, metadata: Option<&Metadata>) {
        for a in &self.actions {
            match &a.kind {
                Kind::Insert(src) => {
                    if !attrs.contains(&a.key)
                        && let Some(v) = source_value(src, attrs, metadata)
                    {
                        attrs.insert(&a.key, v);
                    }
                }
                Kind::Update(src) => {
                    if attrs.contains(&a.key)
                        && let Some(v) = source_value(src, attrs, metadata)
                    {
                        attrs.update(&a.key, v);
                    }
                }
                Kind::Upsert(src) => {
                    if let Some(v) = source_value(src, attrs, metadata) {
                        attrs.upsert(&a.key, v);
                    }
                }
                Kind::Delete => {
                    attrs.retain(|k| {
                        k != a.key && !a.pattern.as_ref().is_some_and(|re| re.is_match(k))
                    });
                }
                Kind::Hash => {
                    let key = &a.key;
                    let pattern = a.pattern.as_ref();
                    attrs.replace_values(|k, v| {
                        (k == key || pattern.is_some_and(|re| re.is_match(k)))
                            .then(|| Value::Str(sha256_hex(&v)))
                    });
                }
                Kind::Extract(re) => {
                    let Some(Value::Str(s)) = attrs.get(&a.key) else {
                        continue;
                    };
                    let Some(caps) = re.captures(&s) else {
                        continue;
                    };
                    for name in re.capture_names().flatten() {
                        let got = caps.name(name).map_or("", |m| m.as_str());
                        attrs.upsert(name, Value::Str(got.to_owned()));
                    }
                }
                Kind::Convert(to) => {
                    let Some(v) = attrs.get(&a.key) else {
                        continue;
                    };
                    if let Some(new) = convert(&v, to) {
                        attrs.update(&a.key, new);
                    }
                }
            }
        }
    }
}

fn source_value(src: &Source, attrs: &Attributes<'_>, md: Option<&Metadata>) -> Option<Value> {
    match src {
        Source::Literal(v) => Some(v.clone()),
        Source::Attribute(k) => attrs.get(k),
        Source::ClientAddress => Some(Value::Str(String::new())),
        Source::Auth => None,
        Source::Metadata(k) => {
            let vals: Vec<&str> = md.into_iter().flat_map(|m| m.get(k)).collect();
            (!vals.is_empty()).then(|| Value::Str(vals.join(";")))
        }
    }
}

/// Go's `sha2Hasher` at v0.138: SHA-256 of the value's bytes (strings as UTF-8, booleans
/// as one byte, numbers as 8 little-endian bytes), lower-case hex. An empty string and
/// values of other types become "".
fn sha256_hex(v: &AttrRef<'_>) -> String {
    let bytes: Vec<u8> = match v.to_value() {
        Value::Str(s) => s.into_bytes(),
        Value::Bool(b) => vec![u8::from(b)],
        Value::Int(i) => i.to_le_bytes().to_vec(),
        Value::Double(d) => d.to_bits().to_le_bytes().to_vec(),
        _ => Vec::new(),
    };
    if bytes.is_empty() {
        return String::new();
    }
    let digest = Sha256::digest(&bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        use std::fmt::Write;
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Go's `type_converter`: `None` leaves the value as it is.
fn convert(v: &Value, to: &Conversion) -> Option<Value> {
    match (to, v) {
        (Conversion::Str, Value::Str(_)) => None,
        (Conversion::Str, other) => Some(Value::Str(as_string(other))),
        (Conversion::Int, Value::Int(_)) => None,
        (Conversion::Int, Value::Double(d)) => Some(Value::Int(d.trunc() as i64)),
        (Conversion::Int, Value::Bool(b)) => Some(Value::Int(i64::from(*b))),
        (Conversion::Int, Value::Str(s)) => s.parse::<i64>().ok().map(Value::Int),
        (Conversion::Double, Value::Double(_)) => None,
        (Conversion::Double, Value::Int(i)) => Some(Value::Double(*i as f64)),
        (Conversion::Double, Value::Bool(b)) => Some(Value::Double(if *b { 1.0 } else { 0.0 })),
        (Conversion::Double, Value::Str(s)) => s.parse::<f64>().ok().map(Value::Double),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn act(action: &str) -> ActionConfig {
        ActionConfig {
            key: "k".into(),
            action: action.into(),
            ..Default::default()
        }
    }

    #[test]
    fn go_messages() {
        // Go: open-telemetry/opentelemetry-collector-contrib (line not pinned),
        // internal/coreinternal/attraction/attraction.go, NewAttrProc: the messages below
        // are its fmt.Errorf texts with the action index filled in.
        let ok = ActionConfig {
            value: Some(serde_json::json!("v")),
            ..act("UPSERT")
        };
        assert_eq!(validate_actions(std::slice::from_ref(&ok)), None);
        let cases: Vec<(ActionConfig, &str)> = vec![
            (
                act("insert"),
                "Either field \"value\", \"from_attribute\" or \"from_context\" setting must be specified for 0-th action",
            ),
            (
                ActionConfig {
                    from_attribute: "x".into(),
                    ..ok.clone()
                },
                "multiple value sources being set at the 0-th actions",
            ),
            (
                ActionConfig {
                    key: String::new(),
                    ..act("delete")
                },
                "at least one of \"key\" and \"pattern\" have to be used",
            ),
            (
                ActionConfig {
                    pattern: "(".into(),
                    ..act("hash")
                },
                "Field \"pattern\" has invalid pattern: \"(\"",
            ),
            (
                ActionConfig {
                    pattern: "(a)(b)".into(),
                    ..act("extract")
                },
                "contains at least one unnamed matcher group",
            ),
            (
                ActionConfig {
                    pattern: "ab".into(),
                    ..act("extract")
                },
                "contains no named matcher groups",
            ),
            (
                act("convert"),
                "missing required field \"converted_type\" for action \"convert\"",
            ),
            (
                ActionConfig {
                    converted_type: "bool".into(),
                    ..act("convert")
                },
                "invalid value \"bool\" in field \"converted_type\"",
            ),
            (
                act("explode"),
                "unsupported action \"explode\" at the 0-th actions",
            ),
        ];
        for (a, want) in cases {
            let got = validate_actions(&[ok.clone(), a]).unwrap_or_default();
            let want = want.replace("0-th", "1-th");
            assert!(got.contains(&want), "{got} lacks {want}");
        }
    }

    // ---- runtime -----------------------------------------------------------------------

    use crate::Signal;
    use crate::otlp::{Payload, wire};

    /// A traces payload whose one resource has `attrs` (string values).
    fn resource_with(attrs: &[(&str, Value)]) -> Payload {
        let mut out = Vec::new();
        wire::put_nested(&mut out, 1, |rs| {
            wire::put_nested(rs, 1, |r| {
                for (k, v) in attrs {
                    wire::put_nested(r, 1, |kv| crate::otlp::edit_encode_key_value(kv, k, v));
                }
            });
            wire::put_nested(rs, 2, |ss| wire::put_nested(ss, 2, |_| {}));
        });
        Payload::decode(Signal::Traces, bytes::Bytes::from(out)).unwrap()
    }

    /// Runs `actions` on a resource with `attrs` and returns the resulting attributes.
    fn run(
        actions: Vec<ActionConfig>,
        attrs: &[(&str, Value)],
        md: Option<&Metadata>,
    ) -> Vec<(String, Value)> {
        let proc = AttrProc::new(&actions).unwrap();
        let mut p = resource_with(attrs);
        p.entries_mut()[0].edit_resource(|a| proc.process(a, md));
        p.resources()
            .next()
            .unwrap()
            .attributes()
            .map(|kv| (kv.key().to_owned(), Value::from_view(&kv.value())))
            .collect()
    }

    fn a(action: &str, key: &str) -> ActionConfig {
        ActionConfig {
            key: key.into(),
            action: action.into(),
            ..Default::default()
        }
    }

    fn with_value(action: &str, key: &str, v: serde_json::Value) -> ActionConfig {
        ActionConfig {
            value: Some(v),
            ..a(action, key)
        }
    }

    fn s(v: &str) -> Value {
        Value::Str(v.into())
    }

    fn pairs(v: &[(&str, Value)]) -> Vec<(String, Value)> {
        v.iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn insert_update_upsert() {
        let base = [("a", s("1"))];
        assert_eq!(
            run(
                vec![with_value("insert", "a", serde_json::json!("x"))],
                &base,
                None
            ),
            pairs(&[("a", s("1"))])
        );
        assert_eq!(
            run(
                vec![with_value("insert", "b", serde_json::json!(2))],
                &base,
                None
            ),
            pairs(&[("a", s("1")), ("b", Value::Int(2))])
        );
        assert_eq!(
            run(
                vec![with_value("update", "b", serde_json::json!("x"))],
                &base,
                None
            ),
            pairs(&[("a", s("1"))])
        );
        assert_eq!(
            run(
                vec![with_value("UPDATE", "a", serde_json::json!(true))],
                &base,
                None
            ),
            pairs(&[("a", Value::Bool(true))])
        );
        assert_eq!(
            run(
                vec![with_value("upsert", "c", serde_json::json!([1, "two"]))],
                &base,
                None
            ),
            pairs(&[
                ("a", s("1")),
                ("c", Value::Array(vec![Value::Int(1), s("two")]))
            ])
        );
        assert_eq!(
            run(
                vec![with_value("upsert", "d", serde_json::json!(1.5))],
                &[],
                None
            ),
            pairs(&[("d", Value::Double(1.5))])
        );
    }

    #[test]
    fn value_sources() {
        let from_attr = ActionConfig {
            from_attribute: "a".into(),
            ..a("insert", "copy")
        };
        assert_eq!(
            run(vec![from_attr.clone()], &[("a", Value::Int(5))], None),
            pairs(&[("a", Value::Int(5)), ("copy", Value::Int(5))])
        );
        // A missing source attribute means no action.
        assert_eq!(run(vec![from_attr], &[], None), pairs(&[]));
        let md = Metadata::new([
            ("X-Tenant".to_owned(), "t1".to_owned()),
            ("x-tenant".to_owned(), "t2".to_owned()),
        ]);
        let ctx = |from: &str| ActionConfig {
            from_context: from.into(),
            ..a("upsert", "tenant")
        };
        assert_eq!(
            run(vec![ctx("metadata.x-tenant")], &[], Some(&md)),
            pairs(&[("tenant", s("t1;t2"))])
        );
        assert_eq!(
            run(vec![ctx("X-Tenant")], &[], Some(&md)),
            pairs(&[("tenant", s("t1;t2"))])
        );
        assert_eq!(
            run(vec![ctx("metadata.absent")], &[], Some(&md)),
            pairs(&[])
        );
        assert_eq!(run(vec![ctx("auth.subject")], &[], Some(&md)), pairs(&[]));
        assert_eq!(
            run(vec![ctx("client.address")], &[], None),
            pairs(&[("tenant", s(""))])
        );
    }

    #[test]
    fn delete_by_key_and_pattern() {
        let base = [
            ("user.email", s("x")),
            ("user.name", s("y")),
            ("keep", s("z")),
        ];
        let del = ActionConfig {
            pattern: "^user\\.".into(),
            ..a("delete", "keep")
        };
        assert_eq!(run(vec![del], &base, None), pairs(&[]));
        let del = ActionConfig {
            pattern: "mail".into(),
            ..a("delete", "")
        };
        assert_eq!(
            run(vec![del], &base, None),
            pairs(&[("user.name", s("y")), ("keep", s("z"))])
        );
    }

    #[test]
    fn hash_as_go_v0_138() {
        let base = [
            ("s", s("hello")),
            ("i", Value::Int(42)),
            ("b", Value::Bool(true)),
            ("d", Value::Double(1.5)),
            ("e", s("")),
            ("other", s("hello")),
        ];
        let hash = ActionConfig {
            pattern: "^[ibde]$".into(),
            ..a("hash", "s")
        };
        assert_eq!(
            run(vec![hash], &base, None),
            pairs(&[
                (
                    "s",
                    s("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
                ),
                (
                    "i",
                    s("ed049108bc18f2c64369e8d0ea42850bdd1a7d1dd340cfde716315579702a76c")
                ),
                (
                    "b",
                    s("4bf5122f344554c53bde2ebb8cd2b7e3d1600ad631c385a5d7cce23c7785459a")
                ),
                (
                    "d",
                    s("e163f8cb0f7067a7fc78ca859a77f849aea3214f38fb75b884e4a16be725c905")
                ),
                ("e", s("")),
                ("other", s("hello")),
            ])
        );
    }

    #[test]
    fn extract_named_groups() {
        let ex = ActionConfig {
            pattern: "^/api/(?P<version>v\\d+)/(?P<resource>\\w+)(?P<rest>/x)?".into(),
            ..a("extract", "http.route")
        };
        assert_eq!(
            run(
                vec![ex.clone()],
                &[("http.route", s("/api/v1/users/7")), ("version", s("old"))],
                None
            ),
            pairs(&[
                ("http.route", s("/api/v1/users/7")),
                ("version", s("v1")),
                ("resource", s("users")),
                ("rest", s("")),
            ])
        );
        // Not a string, or no match: nothing.
        assert_eq!(
            run(vec![ex.clone()], &[("http.route", Value::Int(1))], None),
            pairs(&[("http.route", Value::Int(1))])
        );
        assert_eq!(
            run(vec![ex], &[("http.route", s("/other"))], None),
            pairs(&[("http.route", s("/other"))])
        );
    }

    #[test]
    fn convert_types() {
        let conv = |key: &str, to: &str| ActionConfig {
            converted_type: to.into(),
            ..a("convert", key)
        };
        let base = [
            ("n", s("42")),
            ("bad", s("4x")),
            ("f", Value::Double(2.9)),
            ("b", Value::Bool(true)),
            ("i", Value::Int(3)),
        ];
        assert_eq!(
            run(
                vec![
                    conv("n", "int"),
                    conv("bad", "int"),
                    conv("f", "int"),
                    conv("b", "double"),
                    conv("i", "string"),
                    conv("absent", "int"),
                ],
                &base,
                None
            ),
            pairs(&[
                ("n", Value::Int(42)),
                ("bad", s("4x")),
                ("f", Value::Int(2)),
                ("b", Value::Double(1.0)),
                ("i", s("3")),
            ])
        );
        assert_eq!(
            run(
                vec![conv("d", "string")],
                &[("d", Value::Double(0.1))],
                None
            ),
            pairs(&[("d", s("0.1"))])
        );
    }

    #[test]
    fn convert_to_string_as_go_v0_138() {
        // Go: contrib internal/coreinternal/attraction/type_converter.go, convertValue:
        // `v.SetStr(v.AsString())` for every non-string type, i.e. pdata's Value.AsString
        // (collector pdata/pcommon/value.go:389-420, doubles by float64AsString 424-451).
        // Before, doubles were converted with strconv.FormatFloat(d, 'f', -1, 64) and maps
        // and slices with serde_json.
        let conv = |key: &str| ActionConfig {
            converted_type: "string".into(),
            ..a("convert", key)
        };
        let base = [
            ("huge", Value::Double(1e21)),
            ("tiny", Value::Double(1.5e-7)),
            ("nan", Value::Double(f64::NAN)),
            ("one", Value::Double(1.0)),
            (
                "map",
                Value::KvList(vec![
                    ("z".into(), Value::Double(2.0)),
                    ("a".into(), s("<&>")),
                ]),
            ),
            (
                "list",
                Value::Array(vec![Value::Double(0.5), Value::Double(f64::INFINITY)]),
            ),
        ];
        let keys = ["huge", "tiny", "nan", "one", "map", "list"];
        assert_eq!(
            run(keys.iter().map(|k| conv(k)).collect(), &base, None),
            pairs(&[
                ("huge", s("1e+21")),
                ("tiny", s("1.5e-7")),
                ("nan", s("json: unsupported value: NaN")),
                ("one", s("1")),
                ("map", s(r#"{"a":"\u003c\u0026\u003e","z":2}"#)),
                // json.Marshal fails on the infinity; AsString gives the empty string.
                ("list", s("")),
            ])
        );
    }
}
