//! A small YAML writer for `print-config`: block style, keys in declaration order, strings
//! quoted only when plain style would read differently.

use serde_json::Value;

/// Writes `v` as a YAML document.
pub(crate) fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Object(m) if !m.is_empty() => write_map(&mut out, m, 0),
        other => {
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
    out
}

fn indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn write_map(out: &mut String, m: &serde_json::Map<String, Value>, level: usize) {
    for (k, v) in m {
        indent(out, level);
        out.push_str(&key(k));
        out.push(':');
        write_value(out, v, level);
    }
}

/// Writes what follows `key:` (or `-`): a scalar on the same line, a block below.
fn write_value(out: &mut String, v: &Value, level: usize) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            write_map(out, m, level + 2);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            for item in a {
                indent(out, level + 2);
                out.push('-');
                match item {
                    Value::Object(m) if !m.is_empty() => {
                        // First key on the dash line, the rest aligned under it.
                        let mut first = true;
                        for (k, v) in m {
                            if first {
                                out.push(' ');
                                first = false;
                            } else {
                                indent(out, level + 4);
                            }
                            out.push_str(&key(k));
                            out.push(':');
                            write_value(out, v, level + 4);
                        }
                    }
                    other => write_value(out, other, level + 2),
                }
            }
        }
        other => {
            out.push(' ');
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

fn key(k: &str) -> String {
    if plain_ok(k) { k.to_owned() } else { quote(k) }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if plain_ok(s) => s.clone(),
        Value::String(s) => quote(s),
        Value::Array(_) => "[]".to_owned(),
        Value::Object(_) => "{}".to_owned(),
    }
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

/// Would `s` read back as the same string in plain style?
fn plain_ok(s: &str) -> bool {
    if s.is_empty()
        || super::de::parse_bool(s).is_some()
        || super::de::parse_float(s).is_some()
        || matches!(s, "~" | "null" | "Null" | "NULL")
        || s.starts_with(|c: char| " -?:,[]{}#&*!|>'\"%@`".contains(c))
        || s.ends_with([' ', ':'])
        || s.contains(": ")
        || s.contains(" #")
    {
        return false;
    }
    s.chars().all(|c| !c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn block_yaml_that_reads_back() {
        let v = json!({
            "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": "127.0.0.1:4317"}}}},
            "list": ["a", "true", "", {"key": "x", "value": 1}],
            "empty": {},
            "n": 5,
            "s": "has: colon"
        });
        let y = to_yaml(&v);
        assert!(
            y.contains("      grpc:\n        endpoint: 127.0.0.1:4317\n"),
            "{y}"
        );
        assert!(y.contains("  - \"true\"\n"), "{y}");
        assert!(y.contains("  - key: x\n    value: 1\n"), "{y}");
        let back = crate::config::node::parse(&y, &std::sync::Arc::from("x")).unwrap();
        assert_eq!(back.get("s").unwrap().scalar(), Some("has: colon"));
        assert_eq!(back.get("n").unwrap().scalar(), Some("5"));
    }
}
