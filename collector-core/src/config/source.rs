//! Configuration sources, as the Go collector's `--config` and `--set` take them:
//!
//! - a path, or `file:PATH`;
//! - `env:VAR`: the whole YAML document in a variable (the ECS pattern); a value starting
//!   `zstd+base64:` is a packed document (see [`pack`]), for the 4 KB limit on task
//!   definition variables;
//! - `yaml:processors::batch::timeout: 2s`: inline YAML, `::` separating keys;
//! - `--set=processors.batch.timeout=2s`: a `yaml:` source with `.` (or `::`) separating
//!   keys, applied after every `--config`.

use std::io::Read as _;
use std::sync::Arc;

use base64::Engine as _;

use super::node::{self, Node, Origin};

/// The prefix of a packed configuration value.
pub const PACKED_PREFIX: &str = "zstd+base64:";

/// Packed documents may not expand past this (a bomb in a variable must not exhaust memory).
const MAX_UNPACKED: u64 = 16 << 20;

/// A source that could not be read or parsed.
#[derive(Debug)]
pub(crate) struct SourceError {
    pub(crate) origin: Origin,
    pub(crate) message: String,
}

/// Reads and parses one `--config` value.
pub(crate) fn load(uri: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Node, SourceError> {
    let (scheme, rest) = split_scheme(uri);
    let name: Arc<str> = Arc::from(uri);
    let fail = |message: String| SourceError {
        origin: Origin::new(&name, 0),
        message,
    };
    let text = match scheme {
        Some("file") | None => std::fs::read_to_string(rest)
            .map_err(|e| fail(format!("cannot read config file {rest:?}: {e}")))?,
        Some("env") => {
            let v = env(rest)
                .ok_or_else(|| fail(format!("environment variable {rest:?} is not set")))?;
            match v.strip_prefix(PACKED_PREFIX) {
                Some(packed) => unpack(packed).map_err(fail)?,
                None => v,
            }
        }
        Some("yaml") => rest.to_owned(),
        Some(other) => {
            return Err(fail(format!(
                "unsupported config source scheme {other:?} (supported: file, env, yaml)"
            )));
        }
    };
    parse(&text, &name)
}

/// Parses YAML text from a named source, splitting `::` keys.
pub(crate) fn parse(text: &str, name: &Arc<str>) -> Result<Node, SourceError> {
    let mut n = node::parse(text, name).map_err(|e| SourceError {
        origin: e.origin,
        message: format!("invalid YAML: {}", e.message),
    })?;
    n.split_delimited_keys();
    Ok(n)
}

/// A `--set key=value` flag as a source.
pub(crate) fn set_flag(flag: &str) -> Result<Node, SourceError> {
    let name: Arc<str> = Arc::from(format!("--set={flag}"));
    let Some((key, value)) = flag.split_once('=') else {
        return Err(SourceError {
            origin: Origin::new(&name, 0),
            message: format!("--set {flag:?}: expected key=value"),
        });
    };
    let key = key.trim().replace("::", ".").replace('.', "::");
    parse(&format!("{key}: {value}"), &name)
}

/// `scheme:rest` when the value starts with a URI scheme of two or more characters (so a
/// Windows drive letter or a plain path is a file).
fn split_scheme(uri: &str) -> (Option<&str>, &str) {
    if let Some((scheme, rest)) = uri.split_once(':') {
        let mut chars = scheme.chars();
        let ok = scheme.len() >= 2
            && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'));
        if ok {
            return (Some(scheme), rest);
        }
    }
    (None, uri)
}

/// Packs a YAML document as `zstd+base64:...`: zstd at its highest level, then standard
/// base64. A 3.8 KB collector config packs to well under half.
pub fn pack(yaml: &[u8]) -> std::io::Result<String> {
    let compressed = zstd::bulk::compress(yaml, 19)?;
    Ok(format!(
        "{PACKED_PREFIX}{}",
        base64::engine::general_purpose::STANDARD.encode(compressed)
    ))
}

/// Unpacks the part after `zstd+base64:`.
fn unpack(packed: &str) -> Result<String, String> {
    let compressed = base64::engine::general_purpose::STANDARD
        .decode(packed.trim())
        .map_err(|e| format!("packed config is not valid base64: {e}"))?;
    let decoder = zstd::stream::read::Decoder::new(&compressed[..])
        .map_err(|e| format!("packed config is not valid zstd: {e}"))?;
    let mut out = Vec::new();
    decoder
        .take(MAX_UNPACKED + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("packed config is not valid zstd: {e}"))?;
    if out.len() as u64 > MAX_UNPACKED {
        return Err(format!(
            "packed config expands past {} MiB",
            MAX_UNPACKED >> 20
        ));
    }
    String::from_utf8(out).map_err(|_| "packed config is not UTF-8 text".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn schemes() {
        assert_eq!(split_scheme("file:/a.yaml"), (Some("file"), "/a.yaml"));
        assert_eq!(
            split_scheme("env:OTEL_CONFIG"),
            (Some("env"), "OTEL_CONFIG")
        );
        assert_eq!(split_scheme("/etc/otel.yaml"), (None, "/etc/otel.yaml"));
        assert_eq!(split_scheme("C:\\x.yaml"), (None, "C:\\x.yaml"));
        assert_eq!(
            split_scheme("yaml:processors::batch::timeout: 2s"),
            (Some("yaml"), "processors::batch::timeout: 2s")
        );
    }

    #[test]
    fn yaml_and_set_sources_nest() {
        let n = load("yaml:processors::batch::timeout: 2s", &no_env).unwrap();
        let b = n.get("processors").unwrap().get("batch").unwrap();
        assert_eq!(b.get("timeout").unwrap().scalar(), Some("2s"));
        for flag in [
            "processors.batch.timeout=3s",
            "processors::batch::timeout=3s",
        ] {
            let n = set_flag(flag).unwrap();
            let b = n.get("processors").unwrap().get("batch").unwrap();
            assert_eq!(b.get("timeout").unwrap().scalar(), Some("3s"));
        }
        assert!(set_flag("novalue").is_err());
    }

    #[test]
    fn env_source_plain_and_packed() {
        let doc = "receivers:\n  otlp:\n    protocols:\n      grpc:\n";
        let packed = pack(doc.as_bytes()).unwrap();
        let env = |k: &str| match k {
            "PLAIN" => Some(doc.to_owned()),
            "PACKED" => Some(packed.clone()),
            "BAD" => Some("zstd+base64:!!!".to_owned()),
            _ => None,
        };
        let a = load("env:PLAIN", &env).unwrap();
        let b = load("env:PACKED", &env).unwrap();
        let shape = |n: &Node| format!("{:?}", n.value).replace("env:PACKED", "env:PLAIN");
        assert_eq!(shape(&a), shape(&b));
        assert!(
            load("env:BAD", &env)
                .unwrap_err()
                .message
                .contains("base64")
        );
        assert!(
            load("env:MISSING", &env)
                .unwrap_err()
                .message
                .contains("not set")
        );
        assert!(
            load("http://x", &env)
                .unwrap_err()
                .message
                .contains("unsupported")
        );
    }

    #[test]
    fn packed_bombs_are_refused() {
        let big = vec![b'#'; (MAX_UNPACKED + 10) as usize];
        let packed = pack(&big).unwrap();
        let err = unpack(packed.strip_prefix(PACKED_PREFIX).unwrap()).unwrap_err();
        assert!(err.contains("expands past"), "{err}");
    }
}
