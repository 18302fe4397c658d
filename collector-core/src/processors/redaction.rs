//! The `redaction` processor.

use serde::{Deserialize, Serialize};

use crate::config::validate::{Problems, Validate};

/// One database sanitizer (`db_sanitizer::sql` ...): accepted, not supported.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct SanitizerConfig {
    /// Turn it on.
    pub enabled: bool,
    /// Attributes it applies to.
    pub attributes: Vec<String>,
}

/// `db_sanitizer`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct DbSanitizerConfig {
    /// SQL statements.
    pub sql: SanitizerConfig,
    /// Redis commands.
    pub redis: SanitizerConfig,
    /// Valkey commands.
    pub valkey: SanitizerConfig,
    /// Memcached commands.
    pub memcached: SanitizerConfig,
    /// MongoDB queries.
    pub mongo: SanitizerConfig,
    /// OpenSearch queries.
    pub opensearch: SanitizerConfig,
    /// Elasticsearch queries.
    pub es: SanitizerConfig,
}

/// `redaction` processor configuration (contrib `processor/redactionprocessor`, v0.138 keys).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct RedactionConfig {
    /// Keep every key (otherwise keys not in `allowed_keys` are removed).
    pub allow_all_keys: bool,
    /// Keys kept when `allow_all_keys` is false.
    pub allowed_keys: Vec<String>,
    /// Keys never touched.
    pub ignored_keys: Vec<String>,
    /// Keys whose whole value is masked (regular expressions).
    pub blocked_key_patterns: Vec<String>,
    /// Value parts masked wherever they appear (regular expressions).
    pub blocked_values: Vec<String>,
    /// Values never masked (regular expressions); win over both blocking lists.
    pub allowed_values: Vec<String>,
    /// Check non-string values too (as their string form).
    pub redact_all_types: bool,
    /// Replace masked parts with a hash (`sha1`, `sha3`, `md5`) instead of `****`.
    pub hash_function: String,
    /// `debug`, `info` or `silent`: which summary attributes are added.
    pub summary: String,
    /// URL path sanitizer (not supported).
    pub url_sanitizer: SanitizerConfig,
    /// Database query sanitizers (not supported).
    pub db_sanitizer: DbSanitizerConfig,
}

impl Validate for RedactionConfig {
    fn validate(&self, p: &mut Problems) {
        let h = self.hash_function.to_lowercase();
        if !matches!(h.as_str(), "" | "none" | "sha1" | "sha3" | "md5") {
            p.key(
                "hash_function",
                format!("unknown HashFunction {h}, allowed functions are sha1, sha3 and md5"),
            );
        }
        for (key, what, list) in [
            ("blocked_values", "block list", &self.blocked_values),
            (
                "blocked_key_patterns",
                "block keys list",
                &self.blocked_key_patterns,
            ),
            ("allowed_values", "allow list", &self.allowed_values),
        ] {
            for pattern in list {
                if let Err(e) = regex::Regex::new(pattern) {
                    p.key(
                        key,
                        format!("error creating a redaction processor: failed to process {what}: error compiling regex in list: {e}"),
                    );
                }
            }
        }
        if self.url_sanitizer.enabled {
            p.key(
                "url_sanitizer::enabled",
                "url_sanitizer is not supported by this collector",
            );
        }
        let d = &self.db_sanitizer;
        for (name, s) in [
            ("sql", &d.sql),
            ("redis", &d.redis),
            ("valkey", &d.valkey),
            ("memcached", &d.memcached),
            ("mongo", &d.mongo),
            ("opensearch", &d.opensearch),
            ("es", &d.es),
        ] {
            if s.enabled {
                p.key(
                    format!("db_sanitizer::{name}::enabled"),
                    "db_sanitizer is not supported by this collector",
                );
            }
        }
    }
}
