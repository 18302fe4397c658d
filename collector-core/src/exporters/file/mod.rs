//! The `file` exporter.

use serde::{Deserialize, Serialize};

use crate::config::Duration;
use crate::config::validate::{Problems, Validate};

/// `rotation` of the file exporter.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct RotationConfig {
    /// Rotate at this size (0: 100 MB).
    pub max_megabytes: i64,
    /// Delete rotated files older than this many days (0: never).
    pub max_days: i64,
    /// Rotated files kept.
    pub max_backups: i64,
    /// Local time in rotated names (default UTC).
    pub localtime: bool,
}

impl Default for RotationConfig {
    fn default() -> Self {
        RotationConfig {
            max_megabytes: 0,
            max_days: 0,
            max_backups: 100,
            localtime: false,
        }
    }
}

/// `group_by` of the file exporter.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct GroupByConfig {
    /// Write one file per value of a resource attribute.
    pub enabled: bool,
    /// The attribute substituted for `*` in `path`.
    pub resource_attribute: String,
    /// Open files kept.
    pub max_open_files: i64,
}

impl Default for GroupByConfig {
    fn default() -> Self {
        GroupByConfig {
            enabled: false,
            resource_attribute: "fileexporter.path_segment".to_owned(),
            max_open_files: 100,
        }
    }
}

/// `file` exporter configuration (contrib `exporter/fileexporter`).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct FileConfig {
    /// Output file.
    pub path: String,
    /// Append instead of truncating.
    pub append: bool,
    /// Size-based rotation; off unless the key is present.
    #[serde(deserialize_with = "crate::config::net::present")]
    pub rotation: Option<RotationConfig>,
    /// `json` (one document per line) or `proto` (length-prefixed).
    pub format: String,
    /// Encoding extension (not supported).
    pub encoding: Option<String>,
    /// `zstd`, per message.
    pub compression: String,
    /// Flush the buffer this often (0: 1s).
    pub flush_interval: Duration,
    /// One file per resource attribute value.
    pub group_by: GroupByConfig,
}

impl Default for FileConfig {
    fn default() -> Self {
        FileConfig {
            path: String::new(),
            append: false,
            rotation: None,
            format: "json".to_owned(),
            encoding: None,
            compression: String::new(),
            flush_interval: Duration::ZERO,
            group_by: GroupByConfig::default(),
        }
    }
}

impl Validate for FileConfig {
    /// Go checks these in order and reports the first.
    fn validate(&self, p: &mut Problems) {
        let first = if self.path.is_empty() {
            Some(("path", "path must be non-empty"))
        } else if self.append && !self.compression.is_empty() {
            Some((
                "append",
                "append and compression enabled at the same time is not supported",
            ))
        } else if self.append && self.rotation.is_some() {
            Some((
                "append",
                "append and rotation enabled at the same time is not supported",
            ))
        } else if !matches!(self.format.as_str(), "json" | "proto") {
            Some(("format", "format type is not supported"))
        } else if !matches!(self.compression.as_str(), "" | "zstd") {
            Some(("compression", "compression is not supported"))
        } else if self.flush_interval.is_negative() {
            Some(("flush_interval", "flush_interval must be larger than zero"))
        } else if self.group_by.enabled && self.path.matches('*').count() != 1 {
            Some((
                "path",
                "path must contain exactly one * when group_by is enabled",
            ))
        } else if self.group_by.enabled && self.path.starts_with('*') {
            Some((
                "path",
                "path must not start with * when group_by is enabled",
            ))
        } else if self.group_by.enabled && self.group_by.resource_attribute.is_empty() {
            Some((
                "group_by::resource_attribute",
                "resource_attribute must not be empty when group_by is enabled",
            ))
        } else {
            None
        };
        if let Some((k, m)) = first {
            p.key(k, m);
        }
        if self.encoding.is_some() {
            p.key(
                "encoding",
                "encoding extensions are not supported by this collector",
            );
        }
    }
}
