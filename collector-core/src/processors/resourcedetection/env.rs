//! The `env` detector: `OTEL_RESOURCE_ATTRIBUTES` (or the deprecated `OTEL_RESOURCE`), parsed
//! as contrib's `internal/env/env.go` parses it.

use std::sync::LazyLock;

use regex::Regex;

use super::detector::Detected;
use crate::aws::env::EnvLookup;
use crate::otlp::Value;
use crate::{Error, ErrorKind};

/// Go's `labelRegex`. `\s` is spelled out as Go's RE2 class (ASCII only), which Rust's
/// Unicode `\s` is not; the lazy quantifiers and leftmost-first matching are the same in
/// both engines.
static LABEL: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"[\t\n\x0C\r ]*([[:ascii:]]{1,256}?)[\t\n\x0C\r ]*=[\t\n\x0C\r ]*([[:ascii:]]{0,256}?)[\t\n\x0C\r ]*(?:,|$)",
    )
    .ok()
});

/// Reads the variables through `env` and parses them. Values are strings; the schema URL is
/// empty, as in Go.
pub(crate) fn detect(env: &EnvLookup) -> Result<Detected, Error> {
    let mut labels = env("OTEL_RESOURCE_ATTRIBUTES")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    if labels.is_empty() {
        labels = env("OTEL_RESOURCE")
            .map(|s| s.trim().to_owned())
            .unwrap_or_default();
    }
    if labels.is_empty() {
        return Ok(Detected::default());
    }
    let attrs = parse(&labels)?;
    Ok(Detected {
        attrs: attrs.into_iter().map(|(k, v)| (k, Value::Str(v))).collect(),
        schema_url: String::new(),
    })
}

/// `k=v,k2=v2` as Go's `initializeAttributeMap` reads it: the regex matches must tile the
/// whole string, values are `url.QueryUnescape`d. A later duplicate key replaces the
/// earlier value in place (Go's `PutStr` on a map).
pub(crate) fn parse(s: &str) -> Result<Vec<(String, String)>, Error> {
    let invalid = |m: String| Error::new(ErrorKind::InvalidData, m);
    let re = LABEL
        .as_ref()
        .ok_or_else(|| Error::new(ErrorKind::Internal, "env detector regex did not compile"))?;
    let mut out: Vec<(String, String)> = Vec::new();
    let mut prev = 0;
    let mut any = false;
    for c in re.captures_iter(s) {
        any = true;
        let (Some(whole), Some(key), Some(value)) = (c.get(0), c.get(1), c.get(2)) else {
            continue;
        };
        if prev < whole.start() {
            return Err(invalid(format!(
                "invalid resource format, invalid text: {:?}",
                &s[prev..whole.start()]
            )));
        }
        let value = query_unescape(value.as_str()).map_err(|e| {
            invalid(format!(
                "invalid resource format in attribute: {:?}, err: {e}",
                whole.as_str()
            ))
        })?;
        let key = key.as_str();
        match out.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => out.push((key.to_owned(), value)),
        }
        prev = whole.end();
    }
    if !any {
        return Err(invalid(format!("invalid resource format: {s:?}")));
    }
    if prev != s.len() {
        return Err(invalid(format!(
            "invalid resource format, invalid text: {:?}",
            &s[prev..]
        )));
    }
    Ok(out)
}

/// Go's `url.QueryUnescape`: `+` is a space, `%XX` a byte; a `%` without two hex digits is
/// `invalid URL escape "%.."`. Unlike Go, bytes that do not form UTF-8 are an error too:
/// OTLP strings must be UTF-8, and Go would emit a string its own exporters then refuse.
pub(crate) fn query_unescape(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (
                    b.get(i + 1).copied().and_then(hex),
                    b.get(i + 2).copied().and_then(hex),
                ) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                    }
                    _ => {
                        let end = (i + 3).min(b.len());
                        let bad = String::from_utf8_lossy(&b[i..end]);
                        return Err(format!("invalid URL escape {bad:?}"));
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| "invalid UTF-8 after URL decoding".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(s: &str) -> Vec<(String, String)> {
        parse(s).unwrap()
    }

    fn kv(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn parses_and_trims() {
        assert_eq!(
            pairs("service.name=api, deployment.environment = prod ,a=b"),
            kv(&[
                ("service.name", "api"),
                ("deployment.environment", "prod"),
                ("a", "b")
            ])
        );
        // Inner spaces of keys and values stay; empty values are allowed.
        assert_eq!(
            pairs("my key = my value,e="),
            kv(&[("my key", "my value"), ("e", "")])
        );
        // A trailing comma is one more separator, as the regex allows.
        assert_eq!(pairs("a=1,"), kv(&[("a", "1")]));
        // The key is the shortest run before `=`: the rest of a second `=` is value.
        assert_eq!(pairs("a=b=c"), kv(&[("a", "b=c")]));
        // A duplicate key keeps its first position and takes the last value.
        assert_eq!(pairs("a=1,b=2,a=3"), kv(&[("a", "3"), ("b", "2")]));
    }

    #[test]
    fn url_decodes_as_go_query_unescape() {
        assert_eq!(
            pairs("k8s.pod.name=a%2Cb,team=red+blue,path=%2Fv1%2fx,pct=100%25"),
            kv(&[
                ("k8s.pod.name", "a,b"),
                ("team", "red blue"),
                ("path", "/v1/x"),
                ("pct", "100%")
            ])
        );
        assert_eq!(pairs("name=caf%C3%A9"), kv(&[("name", "café")]));
    }

    #[test]
    fn malformed_input_fails_with_gos_messages() {
        // Go: open-telemetry/opentelemetry-collector-contrib (line not pinned),
        // processor/resourcedetectionprocessor/internal/env/env.go, initializeAttributeMap;
        // "invalid URL escape" is net/url's EscapeError (Go standard library).
        let err = |s: &str| parse(s).unwrap_err().message().to_owned();
        assert_eq!(err("novalue"), "invalid resource format: \"novalue\"");
        assert_eq!(
            err("a=1,garbage"),
            "invalid resource format, invalid text: \"garbage\""
        );
        assert_eq!(
            err("a=%zz1"),
            "invalid resource format in attribute: \"a=%zz1\", err: invalid URL escape \"%zz\""
        );
        assert_eq!(
            err("a=1,b=%4"),
            "invalid resource format in attribute: \"b=%4\", err: invalid URL escape \"%4\""
        );
        // Non-ASCII text is outside `[[:ascii:]]`: it cannot be matched, so it is invalid
        // text (percent-encode it instead).
        assert!(err("name=café").starts_with("invalid resource format"));
        // Decoded bytes that are not UTF-8 (Go would emit them).
        assert!(err("a=%FF").contains("invalid UTF-8"));
        assert!(parse("a=1").is_ok());
    }

    #[test]
    fn keys_and_values_are_limited_to_256_bytes() {
        let long = "k".repeat(257);
        assert!(parse(&format!("{long}=v")).is_err());
        let ok = "k".repeat(256);
        assert_eq!(pairs(&format!("{ok}=v")), kv(&[(ok.as_str(), "v")]));
        let v = "v".repeat(257);
        assert!(parse(&format!("k={v}")).is_err());
    }

    #[test]
    fn reads_the_variables_as_go_does() {
        let env = |vars: &'static [(&'static str, &'static str)]| -> EnvLookup {
            std::sync::Arc::new(move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
            })
        };
        let d = detect(&env(&[("OTEL_RESOURCE_ATTRIBUTES", "  a=1  ")])).unwrap();
        assert_eq!(d.attrs, vec![("a".to_owned(), Value::Str("1".to_owned()))]);
        assert_eq!(d.schema_url, "");
        // The deprecated variable only when the new one is empty or blank.
        let d = detect(&env(&[
            ("OTEL_RESOURCE_ATTRIBUTES", "   "),
            ("OTEL_RESOURCE", "b=2"),
        ]))
        .unwrap();
        assert_eq!(d.attrs, vec![("b".to_owned(), Value::Str("2".to_owned()))]);
        assert!(detect(&env(&[])).unwrap().attrs.is_empty());
        assert!(detect(&env(&[("OTEL_RESOURCE_ATTRIBUTES", "x")])).is_err());
    }
}
