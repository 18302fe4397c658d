//! The `awss3` exporter's runtime: one `PutObject` per payload, through object_store.

use std::cell::Cell;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    Attribute, Attributes, BackoffConfig, ClientOptions, ObjectStore, PutOptions, PutPayload,
    RetryConfig,
};

use super::S3Config;
use super::credentials::{self, Source};
use super::http::{HyperTransport, LAST_STATUS};
use super::key::{KeyBuilder, KeyParts};
use crate::aws::env::EnvLookup;
use crate::compression::{self, Encoding};
use crate::otlp::Payload;
use crate::pipeline::exporter::{BoxFuture, ExportError, Exporter};
use crate::{Error, ErrorKind, Signal};

/// One `awss3` exporter instance (per id and signal).
pub(crate) struct S3Exporter {
    id: String,
    store: Arc<dyn ObjectStore>,
    /// Where objects go, for messages (`s3://bucket` or the local directory).
    target: String,
    keys: KeyBuilder,
    json: bool,
    compression: Option<Encoding>,
    /// Storage class and content encoding (S3 only; a local directory keeps bytes only).
    attributes: Attributes,
    timeout: Duration,
    /// Set when the credential chain found nothing: uploads fail without a request.
    no_credentials: Option<String>,
}

impl std::fmt::Debug for S3Exporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Exporter")
            .field("id", &self.id)
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

/// A configuration error naming the exporter.
fn config_error(id: &str, message: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Config, format!("exporter {id}: {message}"))
}

impl S3Exporter {
    /// Builds the exporter; no request is made until the first upload.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`] for an unusable endpoint, time zone, partition format or
    /// container credentials URI; [`ErrorKind::Io`] when a `file://` directory cannot be
    /// created.
    pub(crate) fn new(
        id: &str,
        signal: Signal,
        cfg: &S3Config,
        env: &EnvLookup,
    ) -> Result<S3Exporter, Error> {
        let u = &cfg.s3uploader;
        let json = cfg.marshaler != "otlp_proto";
        let (compression, ext) = match u.compression.as_str() {
            "gzip" => (Some(Encoding::Gzip), "gz"),
            "zstd" => (Some(Encoding::Zstd), "zst"),
            _ => (None, ""),
        };
        let keys = KeyBuilder::new(
            signal,
            &KeyParts {
                base_prefix: &u.s3_base_prefix,
                prefix: &u.s3_prefix,
                format: &u.s3_partition_format,
                timezone: &u.s3_partition_timezone,
                file_prefix: &u.file_prefix,
                extension: if json { "json" } else { "binpb" },
                compression: ext,
                uuid: u.unique_key_func_name == "uuidv7",
            },
        )
        .map_err(|e| config_error(id, e.message()))?;
        // Prefixes and the partition pattern fix every part of a key but the random one, so
        // one sample shows whether object_store will take them.
        let sample = keys.build(jiff::Timestamp::now());
        Path::parse(&sample).map_err(|e| {
            config_error(
                id,
                format!("object keys such as {sample:?} are not valid: {e}"),
            )
        })?;
        let timeout = if cfg.timeout.as_nanos() > 0 {
            cfg.timeout.to_std()
        } else {
            Duration::from_secs(3600)
        };
        let (store, target, attributes, no_credentials) =
            if let Some(dir) = u.endpoint.strip_prefix("file://") {
                let (store, target) = local_store(id, dir, &u.s3_bucket)?;
                (store, target, Attributes::new(), None)
            } else {
                let (store, source) = s3_store(id, cfg, timeout, env)?;
                tracing::info!(
                    exporter = %id,
                    bucket = %u.s3_bucket,
                    credentials = %source.describe(),
                    "S3 exporter ready."
                );
                let mut attributes = Attributes::new();
                attributes.insert(Attribute::StorageClass, u.storage_class.clone().into());
                if let Some(c) = compression {
                    // As contrib: the object is stored compressed and says so.
                    let name = if c == Encoding::Zstd { "zstd" } else { "gzip" };
                    attributes.insert(Attribute::ContentEncoding, name.into());
                }
                let none = match source {
                    Source::None(m) => Some(m),
                    _ => None,
                };
                (store, format!("s3://{}", u.s3_bucket), attributes, none)
            };
        Ok(S3Exporter {
            id: id.to_owned(),
            store,
            target,
            keys,
            json,
            compression,
            attributes,
            timeout,
            no_credentials,
        })
    }

    /// One attempt: builds the key, encodes and compresses the body, puts the object.
    async fn upload(&self, payload: &Payload) -> Result<(), ExportError> {
        // As contrib: an empty batch makes no object.
        if payload.is_empty() {
            return Ok(());
        }
        let key = self.keys.build(jiff::Timestamp::now());
        let at = format!("{}/{key}", self.target);
        if let Some(m) = &self.no_credentials {
            return Err(ExportError::Permanent(format!("cannot upload {at}: {m}")));
        }
        let path = Path::parse(&key)
            .map_err(|e| ExportError::Permanent(format!("invalid object key {key:?}: {e}")))?;
        let chunks = if self.json {
            vec![Bytes::from(payload.to_json())]
        } else {
            payload.chunks()
        };
        let body: PutPayload = match self.compression {
            None => chunks.into_iter().collect(),
            Some(enc) => Bytes::from(
                compression::compress(enc, &chunks)
                    .map_err(|e| ExportError::Permanent(format!("compression failed: {e}")))?,
            )
            .into(),
        };
        let opts = PutOptions {
            attributes: self.attributes.clone(),
            ..PutOptions::default()
        };
        let put = self.store.put_opts(&path, body, opts);
        let result = LAST_STATUS
            .scope(Cell::new(0), async {
                let r = tokio::time::timeout(self.timeout, put).await;
                (r, LAST_STATUS.with(Cell::get))
            })
            .await;
        match result {
            (Ok(Ok(_)), _) => {
                tracing::debug!(exporter = %self.id, key = %at, "Uploaded.");
                Ok(())
            }
            (Ok(Err(e)), status) => Err(classify(&at, &e, status)),
            (Err(_), _) => Err(ExportError::Retryable {
                message: format!("upload of {at} timed out after {:?}", self.timeout),
                throttle: None,
            }),
        }
    }
}

impl Exporter for S3Exporter {
    fn export<'a>(&'a self, payload: &'a Payload) -> BoxFuture<'a, Result<(), ExportError>> {
        Box::pin(self.upload(payload))
    }
}

/// Every failed upload is retried until `retry_on_failure::max_elapsed_time`, as Go's awss3
/// exporter does: it marks no S3 error permanent (`exporter/awss3exporter/exporter.go`,
/// `ConsumeTraces` and the rest return the upload error as is, so exporterhelper retries
/// it). Some refusals do pass with time: an expired token (403 `ExpiredToken`) is renewed,
/// a skewed clock (`RequestTimeTooSkewed`) corrected, a missing bucket created. What can
/// never succeed (an invalid key, no credentials) is refused before the upload.
fn classify(at: &str, e: &object_store::Error, status: u16) -> ExportError {
    let status = if status == 0 {
        String::new()
    } else {
        format!(" (HTTP {status})")
    };
    ExportError::Retryable {
        message: format!(
            "upload of {at} failed{status}: {}",
            crate::error::error_chain(e)
        ),
        throttle: None,
    }
}

/// `endpoint: file:///dir`: objects are files under `dir/<bucket>/`.
fn local_store(id: &str, dir: &str, bucket: &str) -> Result<(Arc<dyn ObjectStore>, String), Error> {
    if dir.is_empty() || !dir.starts_with('/') {
        return Err(config_error(
            id,
            format!("endpoint file://{dir}: a file:// endpoint needs an absolute path"),
        ));
    }
    let root = std::path::Path::new(dir).join(bucket.trim_matches('/'));
    std::fs::create_dir_all(&root).map_err(|e| {
        Error::with_source(
            ErrorKind::Io,
            format!("exporter {id}: cannot create {}: {e}", root.display()),
            e,
        )
    })?;
    let store = LocalFileSystem::new_with_prefix(&root)
        .map_err(|e| config_error(id, format!("cannot use {}: {e}", root.display())))?;
    Ok((Arc::new(store), root.display().to_string()))
}

/// Whether a configured endpoint's host is an IP literal (`http://127.0.0.1:9000`,
/// `[::1]:9000`).
fn endpoint_is_ip(endpoint: &str) -> bool {
    let without_scheme = endpoint
        .split_once("://")
        .map_or(endpoint, |(_, rest)| rest);
    let authority = without_scheme.split('/').next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    host.parse::<std::net::IpAddr>().is_ok()
}

/// The S3 store for `cfg`, with credentials from the chain in `env`.
fn s3_store(
    id: &str,
    cfg: &S3Config,
    timeout: Duration,
    env: &EnvLookup,
) -> Result<(Arc<dyn ObjectStore>, Source), Error> {
    let u = &cfg.s3uploader;
    if u.s3_bucket.is_empty() {
        return Err(config_error(
            id,
            "s3uploader::s3_bucket is required unless endpoint is a file:// URL",
        ));
    }
    let scheme = if u.disable_ssl { "http" } else { "https" };
    // As the AWS SDKs do: an endpoint whose host is an IP address (MinIO, LocalStack) has
    // no DNS name to put the bucket in, so requests use path-style addressing.
    let virtual_hosted = !u.s3_force_path_style && !endpoint_is_ip(&u.endpoint);
    let endpoint = if u.endpoint.is_empty() {
        if virtual_hosted {
            format!("{scheme}://{}.s3.{}.amazonaws.com", u.s3_bucket, u.region)
        } else {
            format!("{scheme}://s3.{}.amazonaws.com", u.region)
        }
    } else {
        let e = if u.endpoint.contains("://") {
            u.endpoint.clone()
        } else {
            format!("{scheme}://{}", u.endpoint)
        };
        let uri: http::Uri = e
            .parse()
            .map_err(|err| config_error(id, format!("endpoint {e:?} is not a URL: {err}")))?;
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            return Err(config_error(id, format!("endpoint {e:?} has no host")));
        };
        let path = uri.path().trim_end_matches('/');
        if virtual_hosted {
            // object_store takes a virtual-hosted endpoint with the bucket already in it.
            format!("{scheme}://{}.{authority}{path}", u.s3_bucket)
        } else {
            format!("{scheme}://{authority}{path}")
        }
    };
    let mut options = ClientOptions::new().with_allow_http(endpoint.starts_with("http://"));
    if !u.acl.is_empty() {
        // Default headers are added before signing, so S3 sees a signed `x-amz-acl`.
        let mut headers = http::HeaderMap::new();
        let value = http::HeaderValue::from_str(&u.acl)
            .map_err(|e| config_error(id, format!("acl {:?}: {e}", u.acl)))?;
        headers.insert("x-amz-acl", value);
        options = options.with_default_headers(headers);
    }
    // The SDK's retryer (retry_mode, retry_max_attempts, retry_max_backoff) becomes
    // object_store's: attempts count the first request, retries do not.
    let max_retries = if u.retry_mode == "nop" {
        0
    } else {
        u.retry_max_attempts.max(1) as usize - 1
    };
    let retry = RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: u.retry_max_backoff.to_std().max(Duration::from_millis(100)),
            base: 2.0,
        },
        max_retries,
        retry_timeout: timeout,
    };
    let transport = HyperTransport::new()?;
    let builder = AmazonS3Builder::new()
        .with_region(&u.region)
        .with_bucket_name(&u.s3_bucket)
        .with_endpoint(endpoint)
        .with_virtual_hosted_style_request(virtual_hosted)
        .with_client_options(options)
        .with_retry(retry)
        .with_http_connector(transport.clone());
    let (builder, source) =
        credentials::configure(builder, env, &transport).map_err(|m| config_error(id, m))?;
    let store = builder
        .build()
        .map_err(|e| config_error(id, format!("cannot configure S3: {e}")))?;
    Ok((Arc::new(store), source))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_literal_endpoints_are_recognised() {
        for ip in [
            "http://127.0.0.1:9000",
            "127.0.0.1:9000",
            "http://10.0.0.5",
            "https://[::1]:9000/base",
            "[fd00::1]:443",
        ] {
            assert!(endpoint_is_ip(ip), "{ip}");
        }
        for name in [
            "",
            "http://minio:9000",
            "https://s3.eu-west-1.amazonaws.com",
            "localhost:4566",
        ] {
            assert!(!endpoint_is_ip(name), "{name}");
        }
    }
}
