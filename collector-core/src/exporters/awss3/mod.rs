//! The `awss3` exporter (contrib `exporter/awss3exporter`): one S3 `PutObject` per batch,
//! keys laid out as contrib's, uploaded through object_store ([`exporter`]); `endpoint:
//! file:///dir` writes the same objects to a local directory instead.

mod credentials;
mod exporter;
mod http;
mod key;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::config::component::{ComponentConfig, ComponentType, ConfigFactory, decode};
use crate::config::validate::{Problems, Validate};
use crate::config::{Duration, Kind};
use crate::pipeline::build::{Build, Context, Factory};
use crate::pipeline::exporter::queue::QueueConfig;
use crate::pipeline::exporter::retry::RetryConfig;
use crate::pipeline::exporter::{ExporterRuntime, validate_helper};
use crate::{Error, Signal};

/// The `awss3` exporter type.
pub(crate) static FACTORY: Factory = Factory {
    config: ConfigFactory {
        kind: Kind::Exporter,
        name: "awss3",
        aliases: &[],
        signals: &Signal::ALL,
        decode: decode::<S3Config>,
    },
    build: Build::Exporter(build),
};

fn build(ctx: &Context<'_>, cfg: &dyn ComponentConfig) -> Result<Arc<ExporterRuntime>, Error> {
    let cfg = cfg.get::<S3Config>()?;
    let env = crate::aws::env::process_env();
    let exporter = exporter::S3Exporter::new(ctx.id, ctx.signal, cfg, &env)?;
    Ok(ctx.exporter(
        Arc::new(exporter),
        &cfg.sending_queue,
        &cfg.retry_on_failure,
    ))
}

impl ComponentType for S3Config {}

/// `s3uploader` (contrib `exporter/awss3exporter`).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct S3UploaderConfig {
    /// AWS region.
    pub region: String,
    /// Bucket (a folder under `endpoint` for `file://` endpoints).
    pub s3_bucket: String,
    /// Key prefix after `s3_base_prefix`.
    pub s3_prefix: String,
    /// Always-first key prefix.
    pub s3_base_prefix: String,
    /// strftime pattern of the time partition.
    pub s3_partition_format: String,
    /// IANA time zone of the partition (default: local time).
    pub s3_partition_timezone: String,
    /// Prefix of every object name.
    pub file_prefix: String,
    /// Custom S3 endpoint, or `file:///path` for a local directory.
    pub endpoint: String,
    /// Role to assume (not supported).
    pub role_arn: String,
    /// Path-style bucket addressing.
    pub s3_force_path_style: bool,
    /// Plain HTTP to `endpoint`.
    pub disable_ssl: bool,
    /// Canned ACL.
    pub acl: String,
    /// Storage class.
    pub storage_class: String,
    /// `gzip` (as Go) or `zstd`.
    pub compression: String,
    /// AWS SDK retry mode.
    pub retry_mode: String,
    /// AWS SDK attempts.
    pub retry_max_attempts: i64,
    /// AWS SDK maximum backoff.
    pub retry_max_backoff: Duration,
    /// `""` (9 random digits) or `uuidv7`.
    pub unique_key_func_name: String,
}

impl Default for S3UploaderConfig {
    fn default() -> Self {
        S3UploaderConfig {
            region: "us-east-1".to_owned(),
            s3_bucket: String::new(),
            s3_prefix: String::new(),
            s3_base_prefix: String::new(),
            s3_partition_format: "year=%Y/month=%m/day=%d/hour=%H/minute=%M".to_owned(),
            s3_partition_timezone: String::new(),
            file_prefix: String::new(),
            endpoint: String::new(),
            role_arn: String::new(),
            s3_force_path_style: false,
            disable_ssl: false,
            acl: String::new(),
            storage_class: "STANDARD".to_owned(),
            compression: String::new(),
            retry_mode: "standard".to_owned(),
            retry_max_attempts: 3,
            retry_max_backoff: Duration::from_secs(20),
            unique_key_func_name: String::new(),
        }
    }
}

/// `resource_attrs_to_s3`: per-resource bucket and prefix overrides.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct ResourceAttrsToS3 {
    /// Resource attribute naming the bucket.
    pub s3_bucket: String,
    /// Resource attribute naming the prefix.
    pub s3_prefix: String,
}

/// `awss3` exporter configuration.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct S3Config {
    /// The exporter's queue: on by default here (Go's awss3 has none unless configured;
    /// docs/runtime.md). `enabled: false` makes uploads synchronous.
    pub sending_queue: QueueConfig,
    /// Per-upload timeout.
    pub timeout: Duration,
    /// Retries (newer Go versions; ours always has them).
    pub retry_on_failure: RetryConfig,
    /// Where objects go.
    pub s3uploader: S3UploaderConfig,
    /// `otlp_json` (default) or `otlp_proto`.
    pub marshaler: String,
    /// Encoding extension (not supported).
    pub encoding: Option<String>,
    /// File extension for an encoding extension.
    pub encoding_file_extension: String,
    /// Per-resource routing.
    pub resource_attrs_to_s3: ResourceAttrsToS3,
}

impl Default for S3Config {
    fn default() -> Self {
        S3Config {
            // Every exporter keeps a bounded queue by default (the independence rule of
            // docs/architecture.md); Go's awss3 uploads in the caller unless configured.
            sending_queue: QueueConfig::default(),
            timeout: Duration::from_secs(5),
            retry_on_failure: RetryConfig::default(),
            s3uploader: S3UploaderConfig::default(),
            marshaler: "otlp_json".to_owned(),
            encoding: None,
            encoding_file_extension: String::new(),
            resource_attrs_to_s3: ResourceAttrsToS3::default(),
        }
    }
}

impl Validate for S3Config {
    fn validate(&self, p: &mut Problems) {
        let u = &self.s3uploader;
        if u.region.is_empty() {
            p.key("s3uploader::region", "region is required");
        }
        if u.s3_bucket.is_empty() && u.endpoint.is_empty() {
            p.key("s3uploader", "bucket or endpoint is required");
        }
        const CLASSES: [&str; 6] = [
            "STANDARD",
            "STANDARD_IA",
            "ONEZONE_IA",
            "INTELLIGENT_TIERING",
            "GLACIER",
            "DEEP_ARCHIVE",
        ];
        if !CLASSES.contains(&u.storage_class.as_str()) {
            p.key("s3uploader::storage_class", "invalid StorageClass");
        }
        const ACLS: [&str; 7] = [
            "private",
            "public-read",
            "public-read-write",
            "authenticated-read",
            "aws-exec-read",
            "bucket-owner-read",
            "bucket-owner-full-control",
        ];
        if !u.acl.is_empty() && !ACLS.contains(&u.acl.as_str()) {
            p.key("s3uploader::acl", "invalid ACL");
        }
        if !matches!(u.compression.as_str(), "" | "none" | "gzip" | "zstd") {
            p.key("s3uploader::compression", "unknown compression type");
        }
        if !matches!(u.retry_mode.as_str(), "standard" | "adaptive" | "nop") {
            p.key(
                "s3uploader::retry_mode",
                "invalid retry mode, must be either 'standard', 'adaptive' or 'nop'",
            );
        }
        if !matches!(u.unique_key_func_name.as_str(), "" | "uuidv7") {
            p.key(
                "s3uploader::unique_key_func_name",
                "invalid UniqueKeyFuncName",
            );
        }
        if !u.role_arn.is_empty() {
            p.key(
                "s3uploader::role_arn",
                "role_arn is not supported by this collector: use the task role (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) or static credentials",
            );
        }
        match self.marshaler.as_str() {
            "otlp_json" | "otlp_proto" => {}
            "sumo_ic" | "body" => p.key(
                "marshaler",
                format!(
                    "marshaler {:?} is not supported by this collector (use otlp_json or otlp_proto)",
                    self.marshaler
                ),
            ),
            _ => p.key("marshaler", "unknown marshaler"),
        }
        let r = &self.resource_attrs_to_s3;
        if !r.s3_bucket.is_empty() || !r.s3_prefix.is_empty() {
            p.key(
                "resource_attrs_to_s3",
                "resource_attrs_to_s3 is not supported by this collector",
            );
        }
        if self.encoding.is_some() {
            p.key(
                "encoding",
                "encoding extensions are not supported by this collector",
            );
        }
        validate_helper(p, self.timeout, &self.sending_queue, &self.retry_on_failure);
    }
}
