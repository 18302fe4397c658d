//! Embedding the collector in a Rust program: no sidecar, no socket. Spans built with
//! `opentelemetry-proto` are handed over with `ingest`, batched, and printed by the debug
//! exporter; `shutdown` reports what was delivered.
//!
//! `cargo run -p collector-core --example embed`

use std::time::Duration;

use collector_core::{Config, EmbeddedCollector, Signal};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;

const CONFIG: &str = "
receivers:
  embedded: {}
processors:
  batch:
    timeout: 1s
exporters:
  debug:
    verbosity: basic
service:
  pipelines:
    traces:
      receivers: [embedded]
      processors: [batch]
      exporters: [debug]
";

fn main() -> Result<(), collector_core::Error> {
    tracing_subscriber::fmt().with_target(false).init();
    let collector = EmbeddedCollector::start(Config::from_yaml(CONFIG)?)?;
    for i in 0..3u8 {
        let request = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![KeyValue {
                        key: "service.name".into(),
                        value: Some(AnyValue {
                            value: Some(any_value::Value::StringValue("checkout".into())),
                        }),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span {
                        trace_id: vec![i + 1; 16],
                        span_id: vec![i + 1; 8],
                        name: format!("order {i}"),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        // Never blocks: over the memory budget it returns a retryable error instead.
        collector.ingest(Signal::Traces, request.encode_to_vec().into())?;
    }
    collector.flush(Duration::from_secs(5))?;
    let report = collector.shutdown(Duration::from_secs(5))?;
    println!(
        "delivered {} spans, dropped {}",
        report.delivered_items, report.dropped_items
    );
    Ok(())
}
