//! The `awss3` exporter end to end: a collector built from YAML receives OTLP over HTTP on
//! 127.0.0.1 and uploads to a real S3 API (moto's server, from the pinned Python
//! requirements), to recording fake endpoints (credentials, metadata service, S3) or to a
//! local directory; the test then lists and reads the bucket over plain HTTP and decodes
//! every object back (prost, serde_json, gzip, zstd).
//!
//! Network rule: every test that builds the S3 client runs itself again as a child process
//! inside a private network namespace (`unshare -n`, loopback only) with fixed loopback
//! ports and its own AWS variables, so nothing can reach AWS or 169.254.169.254.
//!
//! Moto is started with `$OTELCOL_TEST_PYTHON -m moto.server` (`./scripts/test` sets it to
//! its virtualenv), else `<workspace>/.venv/bin/python`.

#![allow(clippy::unwrap_used)] // test helpers: a panic is a failing test

mod support;

use std::future::Future;
use std::io::Read;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use collector_core::{Collector, CollectorHandle};
use http::Request;
use http_body_util::Full;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;

use support::{eventually, metric, post};

/// Fixed loopback ports inside the namespace (each child has a namespace of its own).
const MOTO_PORT: u16 = 18_100;
const CREDS_PORT: u16 = 18_101;
const FAKE_S3_PORT: u16 = 18_102;
const IMDS_PORT: u16 = 18_103;
/// A port nothing listens on: connections are refused at once.
const CLOSED_PORT: u16 = 18_109;
/// OTLP/HTTP protobuf.
const PROTO: &str = "application/x-protobuf";

/// The Python with moto: `OTELCOL_TEST_PYTHON`, else the workspace's `.venv`.
fn python() -> String {
    if let Some(p) = std::env::var_os("OTELCOL_TEST_PYTHON") {
        return p.to_string_lossy().into_owned();
    }
    let venv = concat!(env!("CARGO_MANIFEST_DIR"), "/../.venv/bin/python");
    assert!(
        std::path::Path::new(venv).exists(),
        "no Python with moto: set OTELCOL_TEST_PYTHON or run ./scripts/test, which creates \
         .venv from collector-bin/tests/python/requirements.txt (moto[server])"
    );
    venv.to_owned()
}

/// Runs `body` in a private network namespace, with no inherited AWS variable (credentials,
/// profile, endpoints), UTC as the local time zone and the Python that has moto.
fn isolated<F: Future<Output = ()>>(test: &str, env: &[(&str, &str)], body: impl FnOnce() -> F) {
    let python = python();
    let mut all = vec![("TZ", "UTC"), ("OTELCOL_TEST_PYTHON", python.as_str())];
    all.extend_from_slice(env);
    support::netns::isolated(test, |k| k.starts_with("AWS_"), &all, body);
}

/// Static keys (moto accepts any) and no metadata service.
const STATIC: &[(&str, &str)] = &[
    ("AWS_ACCESS_KEY_ID", "test"),
    ("AWS_SECRET_ACCESS_KEY", "test"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
];

// ---------------------------------------------------------------------------------------
// Moto.

/// `python -m moto.server` on 127.0.0.1:`MOTO_PORT`, killed on drop.
struct Moto {
    child: Child,
    log: std::path::PathBuf,
}

impl Moto {
    async fn start() -> Moto {
        let log = std::env::temp_dir().join(format!("moto-{}.log", std::process::id()));
        let child = Command::new(python())
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p"])
            .arg(MOTO_PORT.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {} -m moto.server: {e}", python()));
        let mut m = Moto { child, log };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", MOTO_PORT))
                .await
                .is_ok()
            {
                return m;
            }
            if let Ok(Some(status)) = m.child.try_wait() {
                panic!(
                    "moto.server exited ({status}); is moto[server] installed? run \
                     ./scripts/test to create .venv\n{}",
                    m.log_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "moto.server did not listen within 30 s\n{}",
                m.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{MOTO_PORT}")
    }

    async fn create_bucket(&self, bucket: &str) {
        let r = request("PUT", &format!("{}/{bucket}", self.url())).await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    }

    /// Every key of `bucket` (the test lists; the exporter never does).
    async fn keys(&self, bucket: &str) -> Vec<String> {
        let r = request("GET", &format!("{}/{bucket}?list-type=2", self.url())).await;
        assert_eq!(r.status, 200);
        let xml = String::from_utf8(r.body.to_vec()).unwrap();
        let mut keys: Vec<String> = xml
            .split("<Key>")
            .skip(1)
            .map(|s| s.split("</Key>").next().unwrap().to_owned())
            .collect();
        keys.sort();
        keys
    }

    async fn get(&self, bucket: &str, key: &str) -> support::Reply {
        let r = request("GET", &format!("{}/{bucket}/{}", self.url(), escape(key))).await;
        assert_eq!(r.status, 200, "{key}: {}", String::from_utf8_lossy(&r.body));
        r
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// A key in a URL path: moto refuses a raw `=` there (as object_store, encode it).
fn escape(key: &str) -> String {
    key.replace('=', "%3D")
}

/// A request as the bucket's owner: moto checks ACLs for anonymous requests only and does
/// not verify signatures, so any SigV4-shaped `Authorization` will do.
async fn request(method: &str, url: &str) -> support::Reply {
    send_request(method, url, true).await
}

/// An anonymous request (no `Authorization`): moto answers it as the object's ACL allows.
async fn anonymous(method: &str, url: &str) -> support::Reply {
    send_request(method, url, false).await
}

/// One request without a body, as the owner or anonymously.
async fn send_request(method: &str, url: &str, owner: bool) -> support::Reply {
    let mut b = Request::builder().method(method).uri(url);
    if owner {
        b = b.header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/s3/aws4_request, \
             SignedHeaders=host, Signature=00",
        );
    }
    support::http(b.body(Full::new(Bytes::new())).unwrap()).await
}

// ---------------------------------------------------------------------------------------
// Recording fake endpoints (credentials, metadata service, S3).

use support::recorder::{Recorder, Seen};

/// S3 accepting every upload.
fn fake_s3(_: &Seen) -> (u16, String) {
    (200, String::new())
}

/// An RFC 3339 expiry an hour from now, as the credential endpoints give it.
fn expires_in_an_hour() -> String {
    (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1)).to_string()
}

/// The ECS agent: credentials for the right token only.
fn ecs_agent(s: &Seen) -> (u16, String) {
    if s.path != "/creds" || s.header("authorization") != Some("ecs-agent-token") {
        return (403, String::new());
    }
    (
        200,
        format!(
            r#"{{"RoleArn":"arn:aws:iam::111122223333:role/task","AccessKeyId":"ASIAECSTASKROLE","SecretAccessKey":"task-secret","Token":"task-session-token","Expiration":"{}"}}"#,
            expires_in_an_hour()
        ),
    )
}

/// IMDSv2 with an instance profile role.
fn imds(s: &Seen) -> (u16, String) {
    const TOKEN: &str = "imds-token";
    if s.method == "PUT" && s.path == "/latest/api/token" {
        return (200, TOKEN.to_owned());
    }
    if s.header("x-aws-ec2-metadata-token") != Some(TOKEN) {
        return (401, String::new());
    }
    match s.path.as_str() {
        "/latest/meta-data/iam/security-credentials/" => (200, "instance-role".to_owned()),
        "/latest/meta-data/iam/security-credentials/instance-role" => (
            200,
            format!(
                r#"{{"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"ASIAINSTANCEROLE","SecretAccessKey":"instance-secret","Token":"instance-session-token","Expiration":"{}"}}"#,
                expires_in_an_hour()
            ),
        ),
        _ => (404, String::new()),
    }
}

// ---------------------------------------------------------------------------------------
// The collector and what it is sent.

/// A collector with an OTLP/HTTP receiver on an OS-chosen port and `rest` (exporters and
/// pipelines) as YAML.
async fn collector(rest: &str) -> CollectorHandle {
    let yaml = format!(
        "receivers:\n  otlp:\n    protocols:\n      http:\n        endpoint: 127.0.0.1:0\n{rest}"
    );
    let cfg = collector_core::config::Loader::new()
        .document("s3.yaml", &yaml)
        .load()
        .unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    Collector::new(cfg).embedded().start().await.unwrap()
}

/// The OTLP/HTTP receiver's address.
fn addr(h: &CollectorHandle) -> SocketAddr {
    h.listen_addrs()[0].1
}

/// Posts one protobuf export request and expects 200.
async fn send(h: &CollectorHandle, path: &str, body: Vec<u8>) {
    let r = support::http(post(addr(h), path, PROTO, None, body)).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
}

/// A resource with `service.name` (so the JSON round trip has a resource to compare).
fn resource(service: &str) -> Option<Resource> {
    Some(Resource {
        attributes: vec![KeyValue {
            key: "service.name".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(service.into())),
            }),
            ..Default::default()
        }],
        ..Default::default()
    })
}

/// One resource with three spans.
fn traces() -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: resource("checkout"),
            scope_spans: vec![ScopeSpans {
                spans: (1..=3u8)
                    .map(|i| Span {
                        trace_id: vec![7; 16],
                        span_id: vec![i; 8],
                        name: format!("span-{i}"),
                        start_time_unix_nano: 1_700_000_000_000_000_000,
                        end_time_unix_nano: 1_700_000_000_500_000_000,
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// One resource with two log records.
fn logs() -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource("checkout"),
            scope_logs: vec![ScopeLogs {
                log_records: (0..2)
                    .map(|i| LogRecord {
                        time_unix_nano: 1_700_000_000_000_000_000 + i,
                        severity_number: 9,
                        severity_text: "INFO".into(),
                        body: Some(AnyValue {
                            value: Some(any_value::Value::StringValue(format!("line {i}"))),
                        }),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// One resource with one gauge point.
fn metrics() -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource("checkout"),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: "queue.depth".into(),
                    data: Some(metric::Data::Gauge(Gauge {
                        data_points: vec![NumberDataPoint {
                            time_unix_nano: 1_700_000_000_000_000_000,
                            value: Some(number_data_point::Value::AsInt(42)),
                            ..Default::default()
                        }],
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// The gzip member's contents.
fn gunzip(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(b)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// The strftime `format` of now and of a second ago in `tz` (a test may straddle a
/// boundary).
fn partitions(format: &str, tz: &str, since: jiff::Timestamp) -> Vec<String> {
    let tz = jiff::tz::TimeZone::get(tz).unwrap();
    [since, jiff::Timestamp::now()]
        .iter()
        .map(|t| jiff::fmt::strtime::format(format, &t.to_zoned(tz.clone())).unwrap())
        .collect()
}

/// `<stem><9 digits><suffix>`.
fn nine_digits(file: &str, stem: &str, suffix: &str) -> bool {
    file.strip_prefix(stem)
        .and_then(|f| f.strip_suffix(suffix))
        .is_some_and(|d| {
            d.len() == 9
                && d.bytes().all(|b| b.is_ascii_digit())
                && d.parse::<u32>().unwrap() >= 100_000_000
        })
}

// ---------------------------------------------------------------------------------------
// Tests.

#[test]
fn keys_bodies_compression_and_headers_in_moto() {
    isolated(
        "keys_bodies_compression_and_headers_in_moto",
        STATIC,
        || async {
            let moto = Moto::start().await;
            moto.create_bucket("telemetry").await;
            let m = moto.url();
            let since = jiff::Timestamp::now();
            let h = collector(&format!(
                "exporters:
  awss3/json:
    s3uploader:
      region: eu-west-1
      s3_bucket: telemetry
      # An IP-literal endpoint takes path-style requests without s3_force_path_style, as
      # with the AWS SDKs (virtual-hosted ones would name the host telemetry.127.0.0.1).
      endpoint: {m}
      s3_base_prefix: base
      s3_prefix: otel/prod
      s3_partition_format: '%Y/%m/%d/%H'
      s3_partition_timezone: UTC
      file_prefix: app-
      storage_class: STANDARD_IA
      acl: public-read
  awss3/proto:
    marshaler: otlp_proto
    s3uploader:
      s3_bucket: telemetry
      endpoint: {m}
      s3_force_path_style: true
      s3_prefix: proto
      s3_partition_format: 'dt=%Y%m%d%H'
      s3_partition_timezone: Asia/Tokyo
      compression: gzip
  awss3/zstd:
    s3uploader:
      s3_bucket: telemetry
      endpoint: 127.0.0.1:{MOTO_PORT}
      disable_ssl: true
      s3_force_path_style: true
      s3_prefix: zstd
      compression: zstd
      unique_key_func_name: uuidv7
  awss3/missing:
    retry_on_failure:
      initial_interval: 20ms
      max_interval: 50ms
      max_elapsed_time: 300ms
    s3uploader:
      s3_bucket: no-such-bucket
      endpoint: {m}
      s3_force_path_style: true
      retry_mode: nop
  awss3/late:
    retry_on_failure:
      initial_interval: 50ms
      max_interval: 100ms
      max_elapsed_time: 20s
    s3uploader:
      s3_bucket: late-bucket
      endpoint: {m}
      s3_force_path_style: true
      retry_mode: nop
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [awss3/json, awss3/proto, awss3/missing, awss3/late]
    logs:
      receivers: [otlp]
      exporters: [awss3/json, awss3/zstd]
    metrics:
      receivers: [otlp]
      exporters: [awss3/json, awss3/proto]
"
            ))
            .await;
            send(&h, "/v1/traces", traces().encode_to_vec()).await;
            send(&h, "/v1/logs", logs().encode_to_vec()).await;
            send(&h, "/v1/metrics", metrics().encode_to_vec()).await;
            let sent = |e: &str, what: &str| {
                metric(
                    &h,
                    &format!("otelcol_exporter_sent_{what}"),
                    &format!("exporter=\"{e}\""),
                )
            };
            assert!(
                eventually(|| sent("awss3/json", "spans") == 3.0
                    && sent("awss3/json", "log_records") == 2.0
                    && sent("awss3/json", "metric_points") == 1.0
                    && sent("awss3/proto", "spans") == 3.0
                    && sent("awss3/proto", "metric_points") == 1.0
                    && sent("awss3/zstd", "log_records") == 2.0)
                .await,
                "{}",
                h.metrics_text()
            );
            // Every S3 error is retried until max_elapsed_time, as Go does: NoSuchBucket
            // (404) too. A bucket created while the upload retries gets the data...
            assert_eq!(sent("awss3/late", "spans"), 0.0);
            moto.create_bucket("late-bucket").await;
            assert!(
                eventually(|| sent("awss3/late", "spans") == 3.0).await,
                "{}",
                h.metrics_text()
            );
            assert_eq!(moto.keys("late-bucket").await.len(), 1);
            // ...and one that never comes makes the upload fail once retries run out.
            assert!(
                eventually(|| metric(
                    &h,
                    "otelcol_exporter_send_failed_spans",
                    "exporter=\"awss3/missing\""
                ) == 3.0)
                .await,
                "{}",
                h.metrics_text()
            );
            assert_eq!(
                metric(
                    &h,
                    "otelcol_dropped_items_total",
                    "component=\"awss3/missing\",reason=\"retries_exhausted\""
                ),
                3.0
            );
            let report = h.shutdown(Duration::from_secs(5)).await;
            assert_eq!(report.dropped_items, 3);

            let keys = moto.keys("telemetry").await;
            assert_eq!(keys.len(), 6, "{keys:?}");
            let utc_hours = partitions("%Y/%m/%d/%H", "UTC", since);
            let tokyo = partitions("dt=%Y%m%d%H", "Asia/Tokyo", since);
            let minutes = partitions("year=%Y/month=%m/day=%d/hour=%H/minute=%M", "UTC", since);
            let mut seen = Vec::new();
            for key in &keys {
                let (dir, file) = key.rsplit_once('/').unwrap();
                let obj = moto.get("telemetry", key).await;
                let encoding = obj
                    .headers
                    .get("content-encoding")
                    .map(|v| v.to_str().unwrap().to_owned());
                if let Some(part) = dir.strip_prefix("base/otel/prod/") {
                    assert!(utc_hours.iter().any(|p| p == part), "{key} {utc_hours:?}");
                    assert_eq!(encoding, None, "{key}");
                    let signal = ["traces", "logs", "metrics"]
                        .into_iter()
                        .find(|s| nine_digits(file, &format!("app-{s}_"), ".json"))
                        .unwrap_or_else(|| panic!("{key}"));
                    match signal {
                        "traces" => assert_eq!(
                            serde_json::from_slice::<ExportTraceServiceRequest>(&obj.body).unwrap(),
                            traces()
                        ),
                        "logs" => assert_eq!(
                            serde_json::from_slice::<ExportLogsServiceRequest>(&obj.body).unwrap(),
                            logs()
                        ),
                        _ => assert_eq!(
                            serde_json::from_slice::<ExportMetricsServiceRequest>(&obj.body)
                                .unwrap(),
                            metrics()
                        ),
                    }
                    let head = request("HEAD", &format!("{m}/telemetry/{key}")).await;
                    assert_eq!(
                        head.headers.get("x-amz-storage-class").unwrap(),
                        "STANDARD_IA",
                        "{key}"
                    );
                    let acl = request("GET", &format!("{m}/telemetry/{key}?acl")).await;
                    assert!(
                        String::from_utf8_lossy(&acl.body).contains("/global/AllUsers"),
                        "public-read not applied to {key}"
                    );
                    let public = anonymous("GET", &format!("{m}/telemetry/{key}")).await;
                    assert_eq!(public.status, 200, "anonymous read of public-read {key}");
                    seen.push(format!("json-{signal}"));
                } else if let Some(part) = dir.strip_prefix("proto/") {
                    assert!(tokyo.iter().any(|p| p == part), "{key} {tokyo:?}");
                    assert_eq!(encoding.as_deref(), Some("gzip"), "{key}");
                    // No `acl`: private.
                    let private = anonymous("GET", &format!("{m}/telemetry/{}", escape(key))).await;
                    assert_eq!(private.status, 403, "anonymous read of private {key}");
                    let body = gunzip(&obj.body);
                    if nine_digits(file, "traces_", ".binpb.gz") {
                        assert_eq!(
                            ExportTraceServiceRequest::decode(&body[..]).unwrap(),
                            traces()
                        );
                        seen.push("proto-traces".into());
                    } else {
                        assert!(nine_digits(file, "metrics_", ".binpb.gz"), "{key}");
                        assert_eq!(
                            ExportMetricsServiceRequest::decode(&body[..]).unwrap(),
                            metrics()
                        );
                        seen.push("proto-metrics".into());
                    }
                } else {
                    // Default partition format in local time (TZ=UTC in the child).
                    let part = dir.strip_prefix("zstd/").unwrap_or_else(|| panic!("{key}"));
                    assert!(minutes.iter().any(|p| p == part), "{key} {minutes:?}");
                    assert_eq!(encoding.as_deref(), Some("zstd"), "{key}");
                    let uuid = file
                        .strip_prefix("logs_")
                        .and_then(|f| f.strip_suffix(".json.zst"))
                        .unwrap_or_else(|| panic!("{key}"));
                    assert_eq!(uuid.len(), 36, "{key}");
                    assert_eq!(&uuid[14..15], "7", "UUIDv7 in {key}");
                    let body = zstd::decode_all(&obj.body[..]).unwrap();
                    assert_eq!(
                        serde_json::from_slice::<ExportLogsServiceRequest>(&body).unwrap(),
                        logs()
                    );
                    seen.push("zstd-logs".into());
                }
            }
            seen.sort();
            assert_eq!(
                seen,
                [
                    "json-logs",
                    "json-metrics",
                    "json-traces",
                    "proto-metrics",
                    "proto-traces",
                    "zstd-logs"
                ]
            );
        },
    );
}

#[test]
fn s3_down_counts_failures_and_the_other_exporter_still_delivers() {
    isolated(
        "s3_down_counts_failures_and_the_other_exporter_still_delivers",
        STATIC,
        || async {
            let h = collector(&format!(
                "exporters:
  debug:
    verbosity: basic
    sending_queue:
      queue_size: 100
  awss3:
    timeout: 2s
    retry_on_failure:
      initial_interval: 20ms
      max_interval: 50ms
      max_elapsed_time: 200ms
    s3uploader:
      s3_bucket: telemetry
      endpoint: http://127.0.0.1:{CLOSED_PORT}
      s3_force_path_style: true
      retry_mode: nop
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [awss3, debug]
"
            ))
            .await;
            for _ in 0..3 {
                send(&h, "/v1/traces", traces().encode_to_vec()).await;
            }
            // Without `sending_queue` one payload is uploading and one waits; a third that
            // arrives meanwhile is dropped for awss3 alone (debug took it).
            let failed = || {
                metric(
                    &h,
                    "otelcol_exporter_send_failed_spans",
                    "exporter=\"awss3\"",
                ) + metric(&h, "otelcol_exporter_dropped_spans", "exporter=\"awss3\"")
            };
            assert!(
                eventually(
                    || metric(&h, "otelcol_exporter_sent_spans", "exporter=\"debug\"") == 9.0
                )
                .await,
                "{}",
                h.metrics_text()
            );
            assert!(eventually(|| failed() == 9.0).await, "{}", h.metrics_text());
            // Still up and accepting (once the last failed upload has left awss3's slot).
            assert!(h.is_ready());
            let mut accepted = false;
            for _ in 0..100 {
                let r = support::http(post(
                    addr(&h),
                    "/v1/traces",
                    PROTO,
                    None,
                    traces().encode_to_vec(),
                ))
                .await;
                if r.status == 200 {
                    accepted = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            assert!(accepted);
            assert!(
                eventually(
                    || metric(&h, "otelcol_exporter_sent_spans", "exporter=\"debug\"") == 12.0
                )
                .await
            );
            let report = h.shutdown(Duration::from_secs(5)).await;
            assert_eq!(report.delivered_items, 12);
            assert_eq!(report.dropped_items, 12);
        },
    );
}

/// One exporter to the fake S3 with no credentials configured in YAML.
fn fake_s3_exporter() -> String {
    format!(
        "exporters:
  awss3:
    s3uploader:
      region: eu-west-1
      s3_bucket: telemetry
      endpoint: http://127.0.0.1:{FAKE_S3_PORT}
      s3_force_path_style: true
      retry_mode: nop
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [awss3]
"
    )
}

#[test]
fn ecs_task_role_from_container_credentials_full_uri() {
    let uri = format!("http://127.0.0.1:{CREDS_PORT}/creds");
    isolated(
        "ecs_task_role_from_container_credentials_full_uri",
        &[
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", &uri),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ecs-agent-token"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
        || async {
            let agent = Recorder::start(CREDS_PORT, ecs_agent).await;
            let s3 = Recorder::start(FAKE_S3_PORT, fake_s3).await;
            let h = collector(&fake_s3_exporter()).await;
            send(&h, "/v1/traces", traces().encode_to_vec()).await;
            send(&h, "/v1/traces", traces().encode_to_vec()).await;
            assert!(
                eventually(
                    || metric(&h, "otelcol_exporter_sent_spans", "exporter=\"awss3\"") == 6.0
                )
                .await,
                "{}",
                h.metrics_text()
            );
            h.shutdown(Duration::from_secs(5)).await;
            // Fetched once with the agent's token, then cached.
            let asked = agent.seen();
            assert_eq!(asked.len(), 1, "{asked:?}");
            assert_eq!(asked[0].header("authorization"), Some("ecs-agent-token"));
            let puts = s3.seen();
            assert_eq!(puts.len(), 2, "{puts:?}");
            for p in &puts {
                assert_eq!(p.method, "PUT");
                // object_store percent-encodes `=` in the path; S3 decodes it.
                assert!(p.path.starts_with("/telemetry/year%3D"), "{}", p.path);
                let auth = p.header("authorization").unwrap();
                assert!(
                    auth.starts_with("AWS4-HMAC-SHA256 Credential=ASIAECSTASKROLE/")
                        && auth.contains("/eu-west-1/s3/aws4_request"),
                    "{auth}"
                );
                assert_eq!(p.header("x-amz-security-token"), Some("task-session-token"));
                assert_eq!(p.header("x-amz-storage-class"), Some("STANDARD"));
            }
        },
    );
}

#[test]
fn instance_role_from_the_metadata_endpoint_variable() {
    let endpoint = format!("http://127.0.0.1:{IMDS_PORT}");
    isolated(
        "instance_role_from_the_metadata_endpoint_variable",
        &[("AWS_EC2_METADATA_SERVICE_ENDPOINT", &endpoint)],
        || async {
            let imds = Recorder::start(IMDS_PORT, imds).await;
            let s3 = Recorder::start(FAKE_S3_PORT, fake_s3).await;
            let h = collector(&fake_s3_exporter()).await;
            send(&h, "/v1/traces", traces().encode_to_vec()).await;
            assert!(
                eventually(
                    || metric(&h, "otelcol_exporter_sent_spans", "exporter=\"awss3\"") == 3.0
                )
                .await,
                "{}",
                h.metrics_text()
            );
            h.shutdown(Duration::from_secs(5)).await;
            assert!(
                imds.seen().iter().any(|s| s.method == "PUT"),
                "IMDSv2 token"
            );
            let puts = s3.seen();
            assert_eq!(puts.len(), 1);
            let auth = puts[0].header("authorization").unwrap();
            assert!(auth.contains("Credential=ASIAINSTANCEROLE/"), "{auth}");
            assert_eq!(
                puts[0].header("x-amz-security-token"),
                Some("instance-session-token")
            );
        },
    );
}

#[test]
fn no_credentials_with_metadata_disabled_fails_without_a_request() {
    let endpoint = format!("http://127.0.0.1:{IMDS_PORT}");
    isolated(
        "no_credentials_with_metadata_disabled_fails_without_a_request",
        &[
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", &endpoint),
        ],
        || async {
            let imds = Recorder::start(IMDS_PORT, imds).await;
            let s3 = Recorder::start(FAKE_S3_PORT, fake_s3).await;
            let h = collector(&fake_s3_exporter()).await;
            send(&h, "/v1/traces", traces().encode_to_vec()).await;
            // Permanent: counted at once, not retried (the first retry would wait 5 s).
            assert!(
                eventually(|| metric(
                    &h,
                    "otelcol_exporter_send_failed_spans",
                    "exporter=\"awss3\""
                ) == 3.0)
                .await,
                "{}",
                h.metrics_text()
            );
            let report = h.shutdown(Duration::from_secs(5)).await;
            assert_eq!(report.dropped_items, 3);
            assert!(imds.seen().is_empty(), "{:?}", imds.seen());
            assert!(s3.seen().is_empty(), "{:?}", s3.seen());
        },
    );
}

#[tokio::test]
async fn file_endpoint_writes_the_same_objects_to_a_directory() {
    let dir = std::env::temp_dir().join(format!("s3-exporter-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let since = jiff::Timestamp::now();
    let h = collector(&format!(
        "exporters:
  awss3:
    s3uploader:
      s3_bucket: telemetry
      endpoint: file://{}
      s3_prefix: local
      s3_partition_format: '%Y-%m-%d'
      s3_partition_timezone: UTC
      compression: gzip
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [awss3]
",
        dir.display()
    ))
    .await;
    send(&h, "/v1/traces", traces().encode_to_vec()).await;
    assert!(
        eventually(|| metric(&h, "otelcol_exporter_sent_spans", "exporter=\"awss3\"") == 3.0).await,
        "{}",
        h.metrics_text()
    );
    h.shutdown(Duration::from_secs(5)).await;
    let days = partitions("%Y-%m-%d", "UTC", since);
    let day = days
        .iter()
        .find(|d| dir.join("telemetry/local").join(d).is_dir())
        .unwrap_or_else(|| panic!("no partition {days:?} under {}", dir.display()));
    let part = dir.join("telemetry/local").join(day);
    let files: Vec<_> = std::fs::read_dir(&part)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(nine_digits(&files[0], "traces_", ".json.gz"), "{files:?}");
    let body = gunzip(&std::fs::read(part.join(&files[0])).unwrap());
    assert_eq!(
        serde_json::from_slice::<ExportTraceServiceRequest>(&body).unwrap(),
        traces()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
