//! `${VAR}`, `${env:VAR}`, `${env:VAR:-default}` and `$$` in configuration values, with the
//! Go collector's rules (confmap `expand.go`, envprovider):
//!
//! - the default is used only when the variable is unset (set-but-empty stays empty);
//! - an unset variable without a default is a warning and expands to nothing;
//! - names must match `[a-zA-Z_][a-zA-Z0-9_]*`;
//! - `$$` is a literal `$`, so `$${env:X}` stays `${env:X}`;
//! - when a reference is the whole value its text is kept raw and typed by the field it
//!   lands in (a string field keeps `0123`, an integer field reads 123), and a value that is
//!   a YAML list or map becomes that structure; embedded in text it is text;
//! - expansion is applied again to what a variable contains, a bounded number of times.

use super::node::{Node, Origin, Value};

/// How many times a value may be re-expanded (Go allows 1000; nobody needs more than a few).
const MAX_PASSES: usize = 16;

/// A problem found while expanding.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExpandIssue {
    pub(crate) origin: Origin,
    pub(crate) path: String,
    pub(crate) message: String,
    /// Warnings do not stop the configuration from loading.
    pub(crate) warning: bool,
}

/// Expands every scalar value in the tree.
pub(crate) fn expand_tree(
    node: &mut Node,
    lookup: &dyn Fn(&str) -> Option<String>,
    path: &str,
    issues: &mut Vec<ExpandIssue>,
) {
    match &mut node.value {
        Value::Map(entries) => {
            for (k, v) in entries {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}::{k}")
                };
                expand_tree(v, lookup, &p, issues);
            }
        }
        Value::Seq(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                expand_tree(v, lookup, &format!("{path}::{i}"), issues);
            }
        }
        Value::Scalar { text, .. } if text.contains('$') => {
            let mut report = |message: String, warning: bool| {
                issues.push(ExpandIssue {
                    origin: node.origin.clone(),
                    path: path.to_owned(),
                    message,
                    warning,
                })
            };
            match expand_value(text, lookup, &mut report) {
                Expanded::Text(t) => {
                    node.value = Value::Scalar {
                        text: t,
                        quoted: matches!(node.value, Value::Scalar { quoted: true, .. }),
                    }
                }
                Expanded::Whole(None) => node.value = Value::Null,
                Expanded::Whole(Some(raw)) => node.value = typed(raw, &node.origin),
            }
        }
        _ => {}
    }
}

/// A whole-value expansion: a YAML list or map becomes structure; anything else stays the
/// raw text (unquoted, so the field decides its type).
fn typed(raw: String, origin: &Origin) -> Value {
    let looks_structured = matches!(raw.trim_start().chars().next(), Some('[' | '{' | '-'))
        || raw.contains(": ")
        || raw.contains(":\n");
    if looks_structured {
        let wrapped = format!("v: {raw}");
        if let Ok(node) = super::node::parse(&wrapped, &origin.source)
            && let Some(v) = node.get("v")
            && matches!(v.value, Value::Seq(_) | Value::Map(_))
        {
            return v.value.clone();
        }
        if let Ok(node) = super::node::parse(&raw, &origin.source)
            && matches!(node.value, Value::Map(ref m) if !m.is_empty())
        {
            return node.value;
        }
    }
    Value::Scalar {
        text: raw,
        quoted: false,
    }
}

enum Expanded {
    /// Text, possibly with references substituted.
    Text(String),
    /// The value was exactly one reference: its raw value, or `None` when unset.
    Whole(Option<String>),
}

fn expand_value(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    report: &mut dyn FnMut(String, bool),
) -> Expanded {
    let trimmed = text.trim();
    if let Some(inner) = whole_reference(trimmed) {
        let v = resolve(inner, lookup, report);
        return Expanded::Whole(v.map(|v| {
            if v.contains("${") {
                match expand_value(&v, lookup, report) {
                    Expanded::Text(t) => t,
                    Expanded::Whole(w) => w.unwrap_or_default(),
                }
            } else {
                v
            }
        }));
    }
    let mut current = text.to_owned();
    for _ in 0..MAX_PASSES {
        let (next, again) = expand_once(&current, lookup, report);
        current = next;
        if !again {
            return Expanded::Text(current);
        }
    }
    report(format!("too many recursive expansions in {text:?}"), false);
    Expanded::Text(current)
}

/// `${...}` spanning the whole (trimmed) value, without a `$$` escape in front.
fn whole_reference(s: &str) -> Option<&str> {
    let inner = s.strip_prefix("${")?.strip_suffix('}')?;
    (!inner.contains('}') && !inner.contains("${")).then_some(inner)
}

/// One left-to-right pass; returns the text and whether a substituted value brought new
/// references (which get another pass).
fn expand_once(
    s: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    report: &mut dyn FnMut(String, bool),
) -> (String, bool) {
    let mut out = String::with_capacity(s.len());
    let mut again = false;
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("$$") {
            out.push('$');
            rest = after;
        } else if tail.starts_with("${") {
            match tail.find('}') {
                Some(end) => {
                    let inner = &tail[2..end];
                    let v = resolve(inner, lookup, report).unwrap_or_default();
                    again |= v.contains("${");
                    out.push_str(&v);
                    rest = &tail[end + 1..];
                }
                None => {
                    out.push_str(tail);
                    rest = "";
                }
            }
        } else {
            // A bare `$VAR` is not expanded (Go stopped doing so in v0.107).
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    (out, again)
}

/// Resolves the inside of `${...}`: `VAR`, `env:VAR`, `env:VAR:-default`.
fn resolve(
    inner: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    report: &mut dyn FnMut(String, bool),
) -> Option<String> {
    let (scheme, rest) = match inner.split_once(':') {
        Some((s, r)) if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric()) => (s, r),
        _ => ("env", inner),
    };
    if scheme != "env" {
        report(
            format!(
                "unsupported scheme {scheme:?} in ${{{inner}}}: only env is supported in references"
            ),
            false,
        );
        return None;
    }
    let (name, default) = match rest.split_once(":-") {
        Some((n, d)) => (n, Some(d)),
        None => (rest, None),
    };
    if !valid_name(name) {
        report(
            format!(
                "environment variable {name:?} has invalid name: must match ^[a-zA-Z_][a-zA-Z0-9_]*$"
            ),
            false,
        );
        return None;
    }
    match (lookup(name), default) {
        (Some(v), _) => Some(v),
        (None, Some(d)) => Some(d.to_owned()),
        (None, None) => {
            report(
                format!("Configuration references unset environment variable {name:?}"),
                true,
            );
            None
        }
    }
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::super::node::parse;
    use super::*;
    use std::collections::HashMap;
    use std::sync::Arc;

    fn run(yaml: &str, env: &[(&str, &str)]) -> (Node, Vec<ExpandIssue>) {
        let vars: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut n = parse(yaml, &Arc::from("t.yaml")).unwrap();
        let mut issues = Vec::new();
        expand_tree(&mut n, &|k| vars.get(k).cloned(), "", &mut issues);
        (n, issues)
    }

    fn text(n: &Node, key: &str) -> Option<String> {
        n.get(key).and_then(|v| v.scalar().map(str::to_owned))
    }

    #[test]
    fn forms_and_defaults() {
        let (n, issues) = run(
            "a: ${A}\nb: ${env:A}\nc: x-${env:A}-y\nd: ${env:UNSET:-dflt}\ne: ${env:EMPTY:-dflt}\nf: $${env:A}\ng: $$5\nh: $A\n",
            &[("A", "1"), ("EMPTY", "")],
        );
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(text(&n, "a").as_deref(), Some("1"));
        assert_eq!(text(&n, "b").as_deref(), Some("1"));
        assert_eq!(text(&n, "c").as_deref(), Some("x-1-y"));
        assert_eq!(text(&n, "d").as_deref(), Some("dflt"));
        // Set but empty: the default is not used.
        assert_eq!(text(&n, "e").as_deref(), Some(""));
        assert_eq!(text(&n, "f").as_deref(), Some("${env:A}"));
        assert_eq!(text(&n, "g").as_deref(), Some("$5"));
        assert_eq!(text(&n, "h").as_deref(), Some("$A"));
    }

    #[test]
    fn unset_warns_and_yields_empty() {
        let (n, issues) = run("a: ${env:NOPE}\nb: pre-${NOPE}\n", &[]);
        assert!(n.get("a").unwrap().is_null());
        assert_eq!(text(&n, "b").as_deref(), Some("pre-"));
        assert_eq!(issues.len(), 2);
        assert!(issues.iter().all(|i| i.warning));
        assert!(
            issues[0]
                .message
                .contains("unset environment variable \"NOPE\"")
        );
        assert_eq!(issues[0].path, "a");
    }

    #[test]
    fn whole_values_keep_raw_text_or_become_structure() {
        let (n, _) = run(
            "k: ${env:KEY}\nl: ${env:LIST}\nm: ${env:MAP}\nq: \"${env:KEY}\"\n",
            &[("KEY", "0123"), ("LIST", "[a, b]"), ("MAP", "{x: 1}")],
        );
        assert_eq!(text(&n, "k").as_deref(), Some("0123"));
        assert!(matches!(n.get("l").unwrap().value, Value::Seq(ref v) if v.len() == 2));
        assert_eq!(n.get("m").unwrap().get("x").unwrap().scalar(), Some("1"));
        assert_eq!(text(&n, "q").as_deref(), Some("0123"));
    }

    #[test]
    fn invalid_names_and_schemes_are_errors() {
        let (_, issues) = run("a: ${env:1BAD}\nb: ${file:/etc/x}\n", &[]);
        assert_eq!(issues.len(), 2);
        assert!(issues.iter().all(|i| !i.warning));
        assert!(issues[0].message.contains("has invalid name"));
        assert!(issues[1].message.contains("unsupported scheme \"file\""));
    }

    #[test]
    fn recursive_values_expand() {
        let (n, _) = run(
            "a: ${env:OUTER}\nb: x${env:OUTER}\n",
            &[("OUTER", "${env:INNER}"), ("INNER", "deep")],
        );
        assert_eq!(text(&n, "a").as_deref(), Some("deep"));
        assert_eq!(text(&n, "b").as_deref(), Some("xdeep"));
    }
}
