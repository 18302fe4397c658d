//! The `resourcedetection` processor end to end: ECS task metadata and EC2 IMDSv2 served by
//! local HTTP servers, a collector built from YAML, OTLP sent over HTTP, the exported
//! resource decoded with prost.
//!
//! Network rule: every test here runs itself again as a child process inside a private
//! network namespace (`unshare -n`, loopback only), with the metadata endpoints pointed at
//! fixed loopback ports through environment variables. Nothing can reach 169.254.169.254 or
//! anything else off the machine, and no test changes the environment of this process.

#![allow(clippy::unwrap_used)] // test helpers: a panic is a failing test

mod support;

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use collector_core::{Collector, CollectorHandle, Config};
use http::Request;
use http_body_util::Full;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value;
use prost::Message;

/// Fixed loopback ports inside the namespace (each child has a namespace of its own).
const ECS_PORT: u16 = 18_001;
const IMDS_PORT: u16 = 18_002;
/// The task metadata URI, served on `ECS_PORT`.
const ECS_URI: &str = "http://127.0.0.1:18001/v4/0123abcd-task";
/// The metadata service, served on `IMDS_PORT`.
const IMDS_URL: &str = "http://127.0.0.1:18002";
/// A port nothing listens on: connections are refused at once.
const CLOSED: &str = "http://127.0.0.1:18009";

/// Runs `body` in a private network namespace, without any inherited variable that could
/// point a detector elsewhere.
fn isolated<F: Future<Output = ()>>(test: &str, env: &[(&str, &str)], body: impl FnOnce() -> F) {
    const INHERITED: [&str; 7] = [
        "OTEL_RESOURCE_ATTRIBUTES",
        "OTEL_RESOURCE",
        "ECS_CONTAINER_METADATA_URI_V4",
        "ECS_CONTAINER_METADATA_URI",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
        "AWS_EC2_METADATA_DISABLED",
    ];
    support::netns::isolated(test, |k| INHERITED.contains(&k), env, body);
}

// ---------------------------------------------------------------------------------------
// Metadata servers.

use support::recorder::{Recorder as MetadataServer, Seen};

/// ECS task metadata v4 of a Fargate task (shape from the AWS documentation): the
/// collector's own container and an application container logging to CloudWatch.
const FARGATE_TASK: &str = r#"{
  "Cluster": "arn:aws:ecs:eu-west-1:111122223333:cluster/prod",
  "TaskARN": "arn:aws:ecs:eu-west-1:111122223333:task/prod/0123abcd",
  "Family": "checkout", "Revision": "12",
  "DesiredStatus": "RUNNING", "KnownStatus": "RUNNING",
  "Limits": {"CPU": 0.25, "Memory": 512},
  "PullStartedAt": "2025-01-01T10:00:00.000Z", "PullStoppedAt": "2025-01-01T10:00:05.000Z",
  "AvailabilityZone": "eu-west-1b", "LaunchType": "FARGATE",
  "Containers": [
    {"DockerId": "0123abcd-collector", "Name": "otel-collector", "DockerName": "otel-collector",
     "Image": "collector:latest", "ImageID": "sha256:aa", "Labels": {}, "DesiredStatus": "RUNNING",
     "KnownStatus": "RUNNING", "Limits": {"CPU": 2}, "Type": "NORMAL",
     "ContainerARN": "arn:aws:ecs:eu-west-1:111122223333:container/prod/0123abcd/c1",
     "LogDriver": "awslogs",
     "LogOptions": {"awslogs-create-group": "true", "awslogs-group": "/ecs/otel",
                    "awslogs-region": "eu-west-1", "awslogs-stream": "ecs/otel-collector/0123abcd"},
     "Networks": [{"NetworkMode": "awsvpc", "IPv4Addresses": ["10.0.1.15"]}]},
    {"DockerId": "0123abcd-app", "Name": "checkout", "DockerName": "checkout",
     "Image": "checkout:1.4", "ImageID": "sha256:bb", "Labels": {}, "DesiredStatus": "RUNNING",
     "KnownStatus": "RUNNING", "Limits": {"CPU": 2}, "Type": "NORMAL",
     "ContainerARN": "arn:aws:ecs:eu-west-1:111122223333:container/prod/0123abcd/c2",
     "LogDriver": "awslogs",
     "LogOptions": {"awslogs-create-group": "true", "awslogs-group": "/ecs/checkout",
                    "awslogs-region": "eu-west-1", "awslogs-stream": "ecs/checkout/0123abcd"},
     "Networks": [{"NetworkMode": "awsvpc", "IPv4Addresses": ["10.0.1.15"]}]}
  ]
}"#;

/// The same task on the EC2 launch type (the cluster given by its short name, as the EC2
/// agent reports it).
const EC2_TASK: &str = r#"{
  "Cluster": "default",
  "TaskARN": "arn:aws:ecs:us-east-2:444455556666:task/default/158d1c8083dd49d6b527399fd6414f5c",
  "Family": "web", "Revision": "3", "DesiredStatus": "RUNNING", "KnownStatus": "RUNNING",
  "AvailabilityZone": "us-east-2a", "LaunchType": "EC2",
  "Containers": [
    {"DockerId": "ea32192c8553fbff06c9340478a2ff089b2bb5646fb718b4ee206641c9086d66",
     "Name": "otel", "Type": "NORMAL", "KnownStatus": "RUNNING", "LogDriver": "json-file"},
    {"DockerId": "bb32192c8553", "Name": "web", "Type": "NORMAL", "KnownStatus": "RUNNING",
     "LogDriver": "awslogs",
     "LogOptions": {"awslogs-group": "/ecs/web", "awslogs-region": "us-east-2",
                    "awslogs-stream": "ecs/web/158d1c80"},
     "ContainerARN": "arn:aws:ecs:us-east-2:444455556666:container/1bdcca8b"}
  ]
}"#;

fn fargate_ecs(s: &Seen) -> (u16, String) {
    match s.path.as_str() {
        "/v4/0123abcd-task/task" => (200, FARGATE_TASK.to_owned()),
        "/v4/0123abcd-task" => (
            200,
            r#"{"DockerId": "0123abcd-collector", "Name": "otel-collector", "Type": "NORMAL"}"#
                .to_owned(),
        ),
        _ => (404, String::new()),
    }
}

fn ec2_ecs(s: &Seen) -> (u16, String) {
    match s.path.as_str() {
        "/v4/0123abcd-task/task" => (200, EC2_TASK.to_owned()),
        "/v4/0123abcd-task" => (
            200,
            r#"{"DockerId": "ea32192c8553fbff06c9340478a2ff089b2bb5646fb718b4ee206641c9086d66"}"#
                .to_owned(),
        ),
        _ => (404, String::new()),
    }
}

const TOKEN: &str = "AQAEAFTNrA4eEGx0AQgJ1arIq_Cc-t4tWt3fB0Hd8RKhXlKc5ccvhg==";

/// IMDSv2: a token from `PUT /latest/api/token` (TTL header required), then every GET
/// must carry it (401 otherwise, as IMDS in "required" mode answers).
fn imds_v2(s: &Seen) -> (u16, String) {
    if s.method == "PUT" {
        return match (
            s.path.as_str(),
            s.header("x-aws-ec2-metadata-token-ttl-seconds"),
        ) {
            ("/latest/api/token", Some(_)) => (200, TOKEN.to_owned()),
            ("/latest/api/token", None) => (400, String::new()),
            _ => (404, String::new()),
        };
    }
    if s.header("x-aws-ec2-metadata-token") != Some(TOKEN) {
        return (401, String::new());
    }
    match s.path.as_str() {
        "/latest/meta-data/instance-id" => (200, "i-0b22a22eec53b9321".to_owned()),
        "/latest/meta-data/hostname" => {
            (200, "ip-172-31-24-17.us-east-2.compute.internal".to_owned())
        }
        "/latest/dynamic/instance-identity/document" => (
            200,
            r#"{
  "accountId" : "444455556666", "architecture" : "x86_64",
  "availabilityZone" : "us-east-2b", "billingProducts" : null,
  "devpayProductCodes" : null, "marketplaceProductCodes" : null,
  "imageId" : "ami-0cfe2a3fcd2f7d9fd", "instanceId" : "i-0b22a22eec53b9321",
  "instanceType" : "m5.large", "kernelId" : null, "pendingTime" : "2025-01-01T10:00:00Z",
  "privateIp" : "172.31.24.17", "ramdiskId" : null, "region" : "us-east-2",
  "version" : "2017-09-30"
}"#
            .to_owned(),
        ),
        _ => (404, String::new()),
    }
}

// ---------------------------------------------------------------------------------------
// A backend recording what the collector exports, and the collector itself.

/// An OTLP/HTTP backend on 127.0.0.1 keeping every traces request, decoded with prost.
/// While its gate is closed it holds its answers (what it received is kept).
struct Backend {
    addr: SocketAddr,
    server: MetadataServer,
}

impl Backend {
    async fn start() -> Backend {
        let server = MetadataServer::start(0, |_| (200, String::new())).await;
        Backend {
            addr: server.addr,
            server,
        }
    }

    fn close(&self) {
        self.server.close();
    }

    fn open(&self) {
        self.server.open();
    }

    /// Every request received, decoded.
    fn got(&self) -> Vec<ExportTraceServiceRequest> {
        self.server
            .seen()
            .iter()
            .map(|s| ExportTraceServiceRequest::decode(s.body.clone()).unwrap())
            .collect()
    }

    /// Spans of every request kept, by the value of their `user.email` attribute.
    fn emails(&self) -> Vec<String> {
        self.got()
            .iter()
            .flat_map(|r| r.resource_spans.iter())
            .flat_map(|rs| rs.scope_spans.iter())
            .flat_map(|ss| ss.spans.iter())
            .map(|s| {
                s.attributes
                    .iter()
                    .find(|kv| kv.key == "user.email")
                    .map(|kv| text(kv.value.as_ref().and_then(|v| v.value.as_ref())))
                    .unwrap_or_default()
            })
            .collect()
    }

    fn spans(&self) -> usize {
        self.emails().len()
    }

    /// The resource attributes of every exported resource, as strings (arrays joined by
    /// `|`), waiting up to 5 s for the first export.
    async fn resources(&self) -> Vec<BTreeMap<String, String>> {
        assert!(
            support::eventually(|| !self.got().is_empty()).await,
            "nothing exported"
        );
        self.got()
            .iter()
            .flat_map(|r| r.resource_spans.iter())
            .map(|rs| {
                rs.resource
                    .iter()
                    .flat_map(|r| r.attributes.iter())
                    .map(|kv| {
                        let v = kv.value.as_ref().and_then(|v| v.value.as_ref());
                        (kv.key.clone(), text(v))
                    })
                    .collect()
            })
            .collect()
    }

    fn schema_urls(&self) -> Vec<String> {
        self.got()
            .iter()
            .flat_map(|r| r.resource_spans.iter())
            .map(|rs| rs.schema_url.clone())
            .collect()
    }
}

fn text(v: Option<&any_value::Value>) -> String {
    match v {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::ArrayValue(a)) => a
            .values
            .iter()
            .map(|v| text(v.value.as_ref()))
            .collect::<Vec<_>>()
            .join("|"),
        other => format!("{other:?}"),
    }
}

/// A collector: OTLP/HTTP in, `resourcedetection` with `detection` (YAML lines under the
/// processor), otlphttp out to `backend`, and a health check.
async fn collector(detection: &str, backend: &Backend) -> CollectorHandle {
    let yaml = format!(
        "receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
processors:
  resource_detection:
{detection}
exporters:
  otlphttp:
    endpoint: http://{}
    compression: none
    retry_on_failure:
      enabled: false
extensions:
  health_check:
    endpoint: 127.0.0.1:0
service:
  extensions: [health_check]
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      processors: [resource_detection]
      exporters: [otlphttp]
",
        backend.addr
    );
    Collector::new(Config::from_yaml(&yaml).unwrap())
        .start()
        .await
        .unwrap()
}

fn addr_of(h: &CollectorHandle, id: &str) -> SocketAddr {
    h.listen_addrs()
        .into_iter()
        .find(|(i, _)| i == id)
        .map(|(_, a)| a)
        .unwrap()
}

async fn health(h: &CollectorHandle) -> u16 {
    let addr = addr_of(h, "health_check");
    let req = Request::get(format!("http://{addr}/"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    support::http(req).await.status
}

/// Sends one trace request (one resource with `service.name`, `host.name`, two spans).
async fn send(h: &CollectorHandle) -> u16 {
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    let mut req = ExportTraceServiceRequest::decode(Bytes::from(support::traces(1, 2))).unwrap();
    let kv = |k: &str, v: &str| KeyValue {
        key: k.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.to_owned())),
        }),
        ..Default::default()
    };
    req.resource_spans[0].resource = Some(Resource {
        attributes: vec![kv("service.name", "checkout"), kv("host.name", "from-sdk")],
        ..Default::default()
    });
    let addr = addr_of(h, "otlp");
    let r = support::http(support::post(
        addr,
        "/v1/traces",
        "application/x-protobuf",
        None,
        req.encode_to_vec(),
    ))
    .await;
    r.status
}

fn assert_attrs(got: &BTreeMap<String, String>, want: &[(&str, &str)]) {
    for (k, v) in want {
        assert_eq!(got.get(*k).map(String::as_str), Some(*v), "{k} in {got:#?}");
    }
}

// ---------------------------------------------------------------------------------------
// Tests.

#[test]
fn ecs_fargate_task_and_no_imds_request() {
    isolated(
        "ecs_fargate_task_and_no_imds_request",
        &[
            ("ECS_CONTAINER_METADATA_URI_V4", ECS_URI),
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", IMDS_URL),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment=prod,team=pay%2Cments",
            ),
        ],
        || async {
            let ecs = MetadataServer::start_with_delay(ECS_PORT, Duration::ZERO, fargate_ecs).await;
            let imds = MetadataServer::start_with_delay(IMDS_PORT, Duration::ZERO, imds_v2).await;
            let backend = Backend::start().await;
            let h = collector(
                "    detectors: [env, ecs, ec2]\n    timeout: 2s\n    override: false",
                &backend,
            )
            .await;
            tokio::time::timeout(Duration::from_secs(3), h.ready())
                .await
                .unwrap();
            assert_eq!(send(&h).await, 200);
            let r = &backend.resources().await[0];
            assert_attrs(
                r,
                &[
                    ("service.name", "checkout"),
                    // override: false keeps what the SDK sent.
                    ("host.name", "from-sdk"),
                    ("deployment.environment", "prod"),
                    ("team", "pay,ments"),
                    ("cloud.provider", "aws"),
                    ("cloud.platform", "aws_ecs"),
                    ("cloud.region", "eu-west-1"),
                    ("cloud.account.id", "111122223333"),
                    ("cloud.availability_zone", "eu-west-1b"),
                    (
                        "aws.ecs.cluster.arn",
                        "arn:aws:ecs:eu-west-1:111122223333:cluster/prod",
                    ),
                    (
                        "aws.ecs.task.arn",
                        "arn:aws:ecs:eu-west-1:111122223333:task/prod/0123abcd",
                    ),
                    ("aws.ecs.task.family", "checkout"),
                    ("aws.ecs.task.revision", "12"),
                    ("aws.ecs.task.id", "0123abcd"),
                    ("aws.ecs.launchtype", "fargate"),
                    // Only the other container: the collector's own logs are not its data's.
                    ("aws.log.group.names", "/ecs/checkout"),
                    (
                        "aws.log.group.arns",
                        "arn:aws:logs:eu-west-1:111122223333:log-group:/ecs/checkout",
                    ),
                    ("aws.log.stream.names", "ecs/checkout/0123abcd"),
                    (
                        "aws.log.stream.arns",
                        "arn:aws:logs:eu-west-1:111122223333:log-group:/ecs/checkout:log-stream:ecs/checkout/0123abcd",
                    ),
                ],
            );
            assert!(!r.contains_key("host.id"), "{r:#?}");
            assert_eq!(
                backend.schema_urls(),
                ["https://opentelemetry.io/schemas/1.6.1"]
            );
            let paths: Vec<String> = ecs.seen().iter().map(|s| s.path.clone()).collect();
            assert!(
                paths.contains(&"/v4/0123abcd-task/task".to_owned()),
                "{paths:?}"
            );
            assert!(paths.contains(&"/v4/0123abcd-task".to_owned()), "{paths:?}");
            // Fargate has no instance metadata service: not even tried.
            assert!(imds.seen().is_empty(), "{:?}", imds.seen());
            h.shutdown(Duration::from_secs(2)).await;
        },
    );
}

#[test]
fn ecs_on_ec2_then_imdsv2() {
    isolated(
        "ecs_on_ec2_then_imdsv2",
        &[
            ("ECS_CONTAINER_METADATA_URI_V4", ECS_URI),
            (
                "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                "http://127.0.0.1:18002/",
            ),
        ],
        || async {
            let _ecs = MetadataServer::start_with_delay(ECS_PORT, Duration::ZERO, ec2_ecs).await;
            let imds = MetadataServer::start_with_delay(IMDS_PORT, Duration::ZERO, imds_v2).await;
            let backend = Backend::start().await;
            let h = collector("    detectors: [ecs, ec2]\n    timeout: 2s", &backend).await;
            tokio::time::timeout(Duration::from_secs(3), h.ready())
                .await
                .unwrap();
            assert_eq!(send(&h).await, 200);
            let r = &backend.resources().await[0];
            assert_attrs(
                r,
                &[
                    // ecs is listed first: it wins the keys both set.
                    ("cloud.platform", "aws_ecs"),
                    ("cloud.region", "us-east-2"),
                    ("cloud.availability_zone", "us-east-2a"),
                    ("aws.ecs.launchtype", "ec2"),
                    (
                        "aws.ecs.cluster.arn",
                        "arn:aws:ecs:us-east-2:444455556666:cluster/default",
                    ),
                    ("aws.ecs.task.id", "158d1c8083dd49d6b527399fd6414f5c"),
                    ("aws.log.group.names", "/ecs/web"),
                    (
                        "aws.log.stream.arns",
                        "arn:aws:logs:us-east-2:444455556666:log-group:/ecs/web:log-stream:ecs/web/158d1c80",
                    ),
                    // ec2 adds the host.
                    ("host.id", "i-0b22a22eec53b9321"),
                    ("host.type", "m5.large"),
                    ("host.image.id", "ami-0cfe2a3fcd2f7d9fd"),
                    // override: true (the default) replaces the SDK's host.name.
                    ("host.name", "ip-172-31-24-17.us-east-2.compute.internal"),
                    ("cloud.account.id", "444455556666"),
                    ("service.name", "checkout"),
                ],
            );
            let seen = imds.seen();
            assert_eq!(seen[0].method, "PUT");
            assert_eq!(seen[0].path, "/latest/api/token");
            assert_eq!(
                seen[0].header("x-aws-ec2-metadata-token-ttl-seconds"),
                Some("21600")
            );
            let gets: Vec<&str> = seen[1..].iter().map(|s| s.path.as_str()).collect();
            assert_eq!(
                gets,
                [
                    "/latest/meta-data/instance-id",
                    "/latest/dynamic/instance-identity/document",
                    "/latest/meta-data/hostname"
                ]
            );
            assert!(
                seen[1..]
                    .iter()
                    .all(|s| s.header("x-aws-ec2-metadata-token") == Some(TOKEN))
            );
            h.shutdown(Duration::from_secs(2)).await;
        },
    );
}

#[test]
fn unreachable_ecs_and_slow_imds_end_within_the_timeout() {
    isolated(
        "unreachable_ecs_and_slow_imds_end_within_the_timeout",
        &[
            ("ECS_CONTAINER_METADATA_URI_V4", CLOSED),
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", IMDS_URL),
            ("OTEL_RESOURCE_ATTRIBUTES", "team=core"),
        ],
        || async {
            // Answers only long after the detection timeout.
            let imds =
                MetadataServer::start_with_delay(IMDS_PORT, Duration::from_secs(60), imds_v2).await;
            let backend = Backend::start().await;
            let started = Instant::now();
            let h = collector("    detectors: [env, ecs, ec2]\n    timeout: 1s", &backend).await;
            assert!(!h.is_ready());
            // Waiting for the slow server would take a minute: ready well before that means
            // the timeout ended detection. The bound is loose for a loaded machine; the
            // lower bound is the exact part (the timeout was waited for, not skipped).
            tokio::time::timeout(Duration::from_secs(20), h.ready())
                .await
                .unwrap();
            let took = started.elapsed();
            assert!(took >= Duration::from_millis(900), "{took:?}");
            assert_eq!(health(&h).await, 200);
            assert_eq!(send(&h).await, 200);
            let r = &backend.resources().await[0];
            // env still counts; the failed detectors add nothing.
            assert_eq!(r.get("team").map(String::as_str), Some("core"));
            assert!(!r.contains_key("cloud.provider"), "{r:#?}");
            assert!(!r.contains_key("host.id"), "{r:#?}");
            // The slow server was asked (ECS failing did not hold the EC2 detector back).
            assert!(!imds.seen().is_empty());
            h.shutdown(Duration::from_secs(2)).await;
        },
    );
}

#[test]
fn unreachable_imds_is_skipped_quickly() {
    isolated(
        "unreachable_imds_is_skipped_quickly",
        &[("AWS_EC2_METADATA_SERVICE_ENDPOINT", CLOSED)],
        || async {
            let backend = Backend::start().await;
            // Three refused attempts (100 ms, 200 ms apart), not the whole timeout: with a
            // timeout of a minute, ready within 20 s (loose, for a loaded machine) tells
            // the two apart.
            let h = collector("    detectors: [ec2]\n    timeout: 60s", &backend).await;
            tokio::time::timeout(Duration::from_secs(20), h.ready())
                .await
                .unwrap();
            assert_eq!(send(&h).await, 200);
            let r = &backend.resources().await[0];
            assert_eq!(r.get("host.name").map(String::as_str), Some("from-sdk"));
            assert!(!r.contains_key("cloud.provider"), "{r:#?}");
            // Nothing detected, nothing edited: no schema URL either.
            assert_eq!(backend.schema_urls(), [""]);
            h.shutdown(Duration::from_secs(2)).await;
        },
    );
}

#[test]
fn request_during_detection_is_held_then_delivered() {
    isolated(
        "request_during_detection_is_held_then_delivered",
        &[("ECS_CONTAINER_METADATA_URI_V4", ECS_URI)],
        || async {
            // Detection waits at the server's gate until the request below is held; then
            // each answer takes 400 ms (task, then container: ~800 ms).
            let ecs =
                MetadataServer::start_with_delay(ECS_PORT, Duration::from_millis(400), fargate_ecs)
                    .await;
            ecs.close();
            let backend = Backend::start().await;
            let h = collector("    detectors: [ecs]\n    timeout: 30s", &backend).await;
            assert!(!h.is_ready());
            assert_eq!(health(&h).await, 503);
            let sender = {
                let h = h.clone();
                tokio::spawn(async move { send(&h).await })
            };
            // Received: its bytes are reserved on the memory budget.
            assert!(support::eventually(|| h.memory_in_use() > 0).await);
            // Held: not answered, not exported, still accounted (detection cannot have
            // ended: the server answers nothing while its gate is closed).
            assert!(!sender.is_finished());
            assert!(backend.got().is_empty());
            assert!(h.memory_in_use() > 0);
            assert!(!h.is_ready());
            let opened = Instant::now();
            ecs.open();
            h.ready().await;
            assert!(
                opened.elapsed() >= Duration::from_millis(750),
                "ready before both answers: {:?}",
                opened.elapsed()
            );
            assert_eq!(health(&h).await, 200);
            assert_eq!(
                tokio::time::timeout(Duration::from_secs(2), sender)
                    .await
                    .unwrap()
                    .unwrap(),
                200
            );
            let r = &backend.resources().await[0];
            assert_attrs(
                r,
                &[
                    ("cloud.platform", "aws_ecs"),
                    ("aws.ecs.task.id", "0123abcd"),
                ],
            );
            // A request after detection goes straight through.
            assert_eq!(send(&h).await, 200);
            assert!(support::eventually(|| backend.got().len() == 2).await);
            h.shutdown(Duration::from_secs(2)).await;
        },
    );
}

#[test]
fn fail_on_missing_metadata_never_turns_ready() {
    isolated(
        "fail_on_missing_metadata_never_turns_ready",
        &[("AWS_EC2_METADATA_SERVICE_ENDPOINT", CLOSED)],
        || async {
            let backend = Backend::start().await;
            let h = collector(
                "    detectors: [ec2]\n    timeout: 500ms\n    ec2:\n      fail_on_missing_metadata: true",
                &backend,
            )
            .await;
            assert!(
                tokio::time::timeout(Duration::from_millis(1500), h.ready())
                    .await
                    .is_err()
            );
            assert!(!h.is_ready());
            assert_eq!(health(&h).await, 503);
            // Data is refused (retryable), not sent without its resource.
            assert_eq!(send(&h).await, 503);
            assert!(backend.got().is_empty());
            h.shutdown(Duration::from_secs(2)).await;
        },
    );
}

/// Two pipelines behind one receiver, one of them waiting for resource detection: each
/// backend gets each span once, and the processor in front of the waiting stage runs once
/// (a hash of a hash would show it ran twice). Before, the receiver offered the whole
/// payload to every pipeline again every 50 ms while one waited.
#[test]
fn a_request_waiting_in_one_pipeline_reaches_each_pipeline_once() {
    isolated(
        "a_request_waiting_in_one_pipeline_reaches_each_pipeline_once",
        &[("ECS_CONTAINER_METADATA_URI_V4", ECS_URI)],
        || async {
            let ecs =
                MetadataServer::start_with_delay(ECS_PORT, Duration::from_millis(100), fargate_ecs)
                    .await;
            ecs.close();
            let (a, b) = (Backend::start().await, Backend::start().await);
            let yaml = format!(
                "receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
processors:
  attributes:
    actions:
      - key: user.email
        action: hash
  resource_detection:
    detectors: [ecs]
    timeout: 30s
exporters:
  otlphttp/a:
    endpoint: http://{}
    compression: none
  otlphttp/b:
    endpoint: http://{}
    compression: none
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces/a:
      receivers: [otlp]
      processors: [attributes, resource_detection]
      exporters: [otlphttp/a]
    traces/b:
      receivers: [otlp]
      exporters: [otlphttp/b]
",
                a.addr, b.addr
            );
            let h = Collector::new(Config::from_yaml(&yaml).unwrap())
                .start()
                .await
                .unwrap();
            let body = {
                use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
                let mut req =
                    ExportTraceServiceRequest::decode(Bytes::from(support::traces(1, 3))).unwrap();
                for span in &mut req.resource_spans[0].scope_spans[0].spans {
                    span.attributes.push(KeyValue {
                        key: "user.email".into(),
                        value: Some(AnyValue {
                            value: Some(any_value::Value::StringValue("alice@example.com".into())),
                        }),
                        ..Default::default()
                    });
                }
                req.encode_to_vec()
            };
            let addr = addr_of(&h, "otlp");
            let sender = tokio::spawn(async move {
                support::http(support::post(
                    addr,
                    "/v1/traces",
                    "application/x-protobuf",
                    None,
                    body,
                ))
                .await
                .status
            });
            // Pipeline b takes it at once; pipeline a holds it at detection for a while.
            assert!(support::eventually(|| b.spans() == 3).await);
            tokio::time::sleep(Duration::from_millis(500)).await;
            assert!(!sender.is_finished());
            ecs.open();
            assert_eq!(
                tokio::time::timeout(Duration::from_secs(10), sender)
                    .await
                    .unwrap()
                    .unwrap(),
                200
            );
            assert!(support::eventually(|| a.spans() == 3).await);
            tokio::time::sleep(Duration::from_millis(300)).await;
            let hashed = {
                use sha2::Digest;
                let d = sha2::Sha256::digest(b"alice@example.com");
                d.iter().map(|b| format!("{b:02x}")).collect::<String>()
            };
            assert_eq!(a.emails(), vec![hashed; 3], "hashed once, delivered once");
            assert_eq!(b.emails(), vec!["alice@example.com".to_owned(); 3]);
            h.shutdown(Duration::from_secs(2)).await;
        },
    );
}

/// Ingested payloads held during detection that then meet a full exporter queue (a
/// retryable refusal) stay held and are delivered once the queue has room: nothing
/// `ingest` acknowledged is lost. Before, a held payload was dropped at the first refusal.
#[test]
fn held_ingests_survive_a_full_queue_after_detection() {
    isolated(
        "held_ingests_survive_a_full_queue_after_detection",
        &[("ECS_CONTAINER_METADATA_URI_V4", ECS_URI)],
        || async {
            let ecs = MetadataServer::start_with_delay(ECS_PORT, Duration::ZERO, fargate_ecs).await;
            ecs.close();
            let backend = Backend::start().await;
            backend.close();
            let yaml = format!(
                "receivers:
  embedded: {{}}
processors:
  resource_detection:
    detectors: [ecs]
    timeout: 30s
exporters:
  otlphttp:
    endpoint: http://{}
    compression: none
    timeout: 30s
    sending_queue:
      queue_size: 1
      num_consumers: 1
service:
  pipelines:
    traces:
      receivers: [embedded]
      processors: [resource_detection]
      exporters: [otlphttp]
",
                backend.addr
            );
            let h = Collector::new(Config::from_yaml(&yaml).unwrap())
                .embedded()
                .start()
                .await
                .unwrap();
            for _ in 0..4 {
                h.ingest(
                    collector_core::Signal::Traces,
                    Bytes::from(support::traces(1, 2)),
                )
                .unwrap();
            }
            // Detection ends: one payload is sent (and waits at the closed backend), one
            // fills the queue, the other two are refused by it and must stay held.
            ecs.open();
            h.ready().await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert_eq!(backend.spans(), 2, "one request in flight, unanswered");
            backend.open();
            tokio::time::timeout(Duration::from_secs(20), h.flush(Duration::from_secs(20)))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(backend.spans(), 8);
            let report = h.shutdown(Duration::from_secs(2)).await;
            assert_eq!((report.delivered_items, report.dropped_items), (8, 0));
        },
    );
}
