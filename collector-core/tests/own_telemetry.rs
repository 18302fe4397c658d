//! The collector's own metrics pushed over OTLP (`service::telemetry::metrics::readers` with
//! a `periodic` reader, `otelconf` keys as the Go collector v0.138 reads them), received by
//! real OTLP/HTTP and OTLP/gRPC endpoints on 127.0.0.1.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use prost::Message;
use support::recorder::Recorder;

fn ok(_: &support::recorder::Seen) -> (u16, String) {
    (200, String::new())
}

#[tokio::test]
async fn periodic_reader_pushes_over_http_with_resource_and_headers() {
    let rec = Recorder::start(0, ok).await;
    let h = support::start(
        &format!(
            "service:
  telemetry:
    resource:
      deployment.environment: test
      service.version: null
    metrics:
      level: normal
      readers:
        - periodic:
            interval: 100
            exporter:
              otlp:
                protocol: http/protobuf
                endpoint: http://{}
                headers:
                  - name: x-token
                    value: abc
",
            rec.addr
        ),
        None,
    )
    .await;
    let body = support::traces(1, 5);
    let http = support::addr_of(&h, "otlp", 1);
    let r = support::http(support::post(
        http,
        "/v1/traces",
        "application/x-protobuf",
        None,
        body,
    ))
    .await;
    assert_eq!(r.status, 200);
    // A push after the spans were counted.
    let seen = |rec: &Recorder| {
        rec.seen()
            .into_iter()
            .filter(|s| s.path == "/v1/metrics")
            .collect::<Vec<_>>()
    };
    let mut found = None;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        for s in seen(&rec) {
            let req = ExportMetricsServiceRequest::decode(s.body.clone()).unwrap();
            let m = &req.resource_metrics[0].scope_metrics[0].metrics;
            let accepted = m
                .iter()
                .find(|m| m.name == "otelcol_receiver_accepted_spans");
            let Some(Data::Sum(sum)) = accepted.and_then(|m| m.data.clone()) else {
                continue;
            };
            let total: f64 = sum
                .data_points
                .iter()
                .map(|p| match p.value {
                    Some(
                        opentelemetry_proto::tonic::metrics::v1::number_data_point::Value::AsDouble(
                            v,
                        ),
                    ) => v,
                    _ => 0.0,
                })
                .sum();
            if total >= 5.0 {
                assert!(sum.is_monotonic && sum.aggregation_temporality == 2);
                found = Some((s, req));
            }
        }
        if found.is_some() {
            break;
        }
    }
    let (s, req) = found.unwrap_or_else(|| {
        let paths: Vec<_> = rec.seen().iter().map(|s| s.path.clone()).collect();
        panic!("no push with the 5 accepted spans; seen {paths:?}")
    });
    assert_eq!(s.header("x-token"), Some("abc"));
    assert_eq!(s.header("content-type"), Some("application/x-protobuf"));
    let res: std::collections::BTreeMap<_, _> = req.resource_metrics[0]
        .resource
        .as_ref()
        .unwrap()
        .attributes
        .iter()
        .map(|kv| (kv.key.clone(), kv.value.clone().unwrap().value.unwrap()))
        .collect();
    assert_eq!(
        res["deployment.environment"],
        Value::StringValue("test".into())
    );
    assert_eq!(res["service.name"], Value::StringValue("collector".into()));
    assert!(!res.contains_key("service.version"), "a null removes it");
    assert!(res.contains_key("service.instance.id"));
    let names: Vec<_> = req.resource_metrics[0].scope_metrics[0]
        .metrics
        .iter()
        .map(|m| m.name.clone())
        .collect();
    assert!(
        names.iter().any(|n| n == "otelcol_process_uptime"),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n == "otelcol_exporter_queue_size"),
        "{names:?}"
    );
    // Stopping pushes once more.
    let before = seen(&rec).len();
    h.shutdown(Duration::from_secs(5)).await;
    assert!(seen(&rec).len() > before);
}

#[tokio::test]
async fn periodic_reader_pushes_over_grpc() {
    let sink = support::sink::Sink::start(None).await;
    let h = support::start(
        &format!(
            "service:
  telemetry:
    metrics:
      level: normal
      readers:
        - periodic:
            interval: 50
            exporter:
              otlp:
                protocol: grpc
                endpoint: http://{}
",
            sink.addr
        ),
        None,
    )
    .await;
    let pushed =
        support::eventually(|| sink.state.points.load(std::sync::atomic::Ordering::Relaxed) > 10)
            .await;
    assert!(pushed, "points arrived over gRPC");
    let paths: Vec<String> = sink
        .state
        .requests
        .lock()
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert!(
        paths
            .iter()
            .all(|p| p == "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"),
        "{paths:?}"
    );
    h.shutdown(Duration::from_secs(5)).await;
    sink.stop();
}

#[test]
fn bad_readers_name_the_key() {
    let load = |yaml: &str| {
        collector_core::config::Loader::new()
            .document("t.yaml", format!("receivers: {{nop: {{}}}}\nexporters: {{nop: {{}}}}\nservice:\n  pipelines:\n    traces: {{receivers: [nop], exporters: [nop]}}\n  telemetry:\n    metrics:\n      readers:\n{yaml}"))
            .load()
    };
    let e = load("        - periodic: {exporter: {otlp: {protocol: http/json, endpoint: 'http://127.0.0.1:1'}}}\n").unwrap_err();
    assert!(
        e.to_string()
            .contains("readers::0::periodic::exporter::otlp::protocol"),
        "{e}"
    );
    let e = load("        - periodic: {exporter: {otlp: {endpoint: 'not a url'}}}\n").unwrap_err();
    assert!(e.to_string().contains("otlp::endpoint"), "{e}");
    let e = load("        - periodic: {exporter: {console: {}}}\n").unwrap_err();
    assert!(e.to_string().contains("only the otlp exporter"), "{e}");
    load("        - periodic: {interval: 1000, exporter: {otlp: {protocol: grpc, endpoint: 'https://127.0.0.1:4317', headers_list: 'a=b'}}}\n").unwrap();
}

#[test]
fn bad_log_processors_name_the_key() {
    let load = |yaml: &str| {
        collector_core::config::Loader::new()
            .document("t.yaml", format!("receivers: {{nop: {{}}}}\nexporters: {{nop: {{}}}}\nservice:\n  pipelines:\n    traces: {{receivers: [nop], exporters: [nop]}}\n  telemetry:\n    logs:\n      processors:\n{yaml}"))
            .load()
    };
    let e = load("        - batch: {exporter: {console: {}}}\n").unwrap_err();
    assert!(
        e.to_string().contains("logs::processors::0::exporter"),
        "{e}"
    );
    let e = load("        - {}\n").unwrap_err();
    assert!(e.to_string().contains("`batch` or `simple`"), "{e}");
    load("        - simple: {exporter: {otlp: {protocol: grpc, endpoint: 'http://127.0.0.1:4317'}}}\n").unwrap();
    // Without a shipping collector, a record costs nothing and goes nowhere.
    collector_core::own_log(tracing::Level::INFO, "nobody listens", &[]);
}
