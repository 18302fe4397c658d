//! OTLP/JSON against the opentelemetry-proto example vectors, the leniency the Go
//! collector's decoder has, and golden files for what we write.

#![allow(clippy::unwrap_used)] // test helpers: a panic is a failing test

use std::path::{Path, PathBuf};

use collector_core::Signal;
use collector_core::otlp::{AnyValueView, Payload};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn example(name: &str) -> Vec<u8> {
    std::fs::read(data(&format!("otlp-examples/{name}.json"))).unwrap()
}

const VECTORS: [(&str, Signal, u64); 4] = [
    ("trace", Signal::Traces, 1),
    ("logs", Signal::Logs, 1),
    ("metrics", Signal::Metrics, 4),
    ("events", Signal::Logs, 1),
];

/// The same JSON decoded by the `opentelemetry-proto` crate's serde support, as a second
/// opinion on the vectors (which it reads, though it is stricter than the Go decoder).
fn serde_reference(signal: Signal, json: &[u8]) -> Vec<u8> {
    match signal {
        Signal::Traces => serde_json::from_slice::<ExportTraceServiceRequest>(json)
            .unwrap()
            .encode_to_vec(),
        Signal::Logs => serde_json::from_slice::<ExportLogsServiceRequest>(json)
            .unwrap()
            .encode_to_vec(),
        Signal::Metrics => serde_json::from_slice::<ExportMetricsServiceRequest>(json)
            .unwrap()
            .encode_to_vec(),
    }
}

fn canonical(signal: Signal, bytes: &[u8]) -> Vec<u8> {
    match signal {
        Signal::Traces => ExportTraceServiceRequest::decode(bytes)
            .unwrap()
            .encode_to_vec(),
        Signal::Logs => ExportLogsServiceRequest::decode(bytes)
            .unwrap()
            .encode_to_vec(),
        Signal::Metrics => ExportMetricsServiceRequest::decode(bytes)
            .unwrap()
            .encode_to_vec(),
    }
}

#[test]
fn example_vectors_decode_as_the_reference_does() {
    for (name, signal, items) in VECTORS {
        let json = example(name);
        let p = Payload::from_json(signal, &json).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(p.items(), items, "{name}");
        assert_eq!(
            canonical(signal, &p.to_bytes()),
            serde_reference(signal, &json),
            "{name}"
        );
    }
}

/// Golden files: what we write for each vector. On a mismatch the actual output is written
/// next to the golden file (`*.actual`) and the test fails, so `git diff` shows the change.
#[test]
fn json_output_matches_golden_files() {
    for (name, signal, _) in VECTORS {
        let p = Payload::from_json(signal, &example(name)).unwrap();
        let out = p.to_json();
        let golden = data(&format!("golden/{name}.json"));
        let expected = std::fs::read(&golden).unwrap_or_default();
        if out != expected {
            let actual = golden.with_extension("json.actual");
            std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
            std::fs::write(&actual, &out).unwrap();
            panic!(
                "{name}: output differs from {}; wrote {}",
                golden.display(),
                actual.display()
            );
        }
        // And it reads back to the same request. Not to the same bytes: fields are written
        // in document order, and the vectors' order is not ours.
        let back = Payload::from_json(signal, &out).unwrap();
        assert_eq!(
            canonical(signal, &back.to_bytes()),
            canonical(signal, &p.to_bytes()),
            "{name}"
        );
        assert_eq!(back.to_json(), out, "{name}");
    }
}

#[test]
fn accepts_what_the_go_decoder_accepts() {
    let reference = Payload::from_json(Signal::Traces, &example("trace")).unwrap();
    let lenient = br#"{
      "resource_spans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"string_value": "my.service"}}]},
        "scope_spans": [{
          "scope": {"name": "my.library", "version": "1.0.0",
                    "attributes": [{"key": "my.scope.attribute", "value": {"stringValue": "some scope attribute"}}]},
          "spans": [{
            "trace_id": "5b8efff798038103d269b633813fc60c",
            "spanId": "eee19b7ec3c1b174",
            "parent_span_id": "EEE19B7EC3C1B173",
            "name": "I'm a server span",
            "start_time_unix_nano": 1544712660000000000,
            "endTimeUnixNano": "1544712661000000000",
            "kind": "SPAN_KIND_SERVER",
            "attributes": [{"key": "my.span.attr", "value": {"stringValue": "some value"}}],
            "someFutureField": {"nested": [1, 2, 3]},
            "droppedLinksCount": null
          }]
        }]
      }],
      "unknownTopLevel": true
    }"#;
    let p = Payload::from_json(Signal::Traces, lenient).unwrap();
    assert_eq!(p.to_bytes(), reference.to_bytes());
}

#[test]
fn numbers_and_special_doubles() {
    let json =
        br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"g","gauge":{"dataPoints":[
        {"asDouble":"NaN"},{"asDouble":"Infinity"},{"asDouble":"-Infinity"},{"asDouble":1e300},
        {"asInt":"-9223372036854775808"},{"asInt":42}]}}]}]}]}"#;
    let p = Payload::from_json(Signal::Metrics, json).unwrap();
    assert_eq!(p.items(), 6);
    let values: Vec<f64> = p
        .resources()
        .flat_map(|r| r.scopes().collect::<Vec<_>>())
        .flat_map(|s| s.metrics().collect::<Vec<_>>())
        .flat_map(|m| {
            m.data_points()
                .map(|d| d.number_value().unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(values[0].is_nan());
    assert_eq!(
        values[1..],
        [
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e300,
            i64::MIN as f64,
            42.0
        ]
    );
    let out = String::from_utf8(p.to_json()).unwrap();
    assert!(out.contains(r#"{"asDouble":"NaN"}"#), "{out}");
    assert!(out.contains(r#"{"asInt":"-9223372036854775808"}"#), "{out}");
}

#[test]
fn bad_json_names_the_path() {
    let cases: [(&[u8], &str); 5] = [
        (b"not json", "invalid OTLP/JSON: expected"),
        (b"[]", "not a JSON object"),
        (
            br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":"SPAN_KIND_NOPE"}]}]}]}"#,
            "resourceSpans[0].scopeSpans[0].spans[0].kind: unknown enum value",
        ),
        (
            br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"abcd"}]}]}]}"#,
            "spans[0].spanId: id of 2 bytes (expected 8 or empty)",
        ),
        (
            br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"soon"}]}]}]}"#,
            "spans[0].startTimeUnixNano: \"soon\" is not an unsigned 64-bit integer",
        ),
    ];
    for (json, want) in cases {
        let err = Payload::from_json(Signal::Traces, json).unwrap_err();
        assert!(err.is_invalid_data());
        assert!(err.message().contains(want), "{err} lacks {want}");
    }
}

#[test]
fn views_read_the_example_log() {
    let p = Payload::from_json(Signal::Logs, &example("logs")).unwrap();
    let r = p.resources().next().unwrap();
    assert_eq!(
        r.attribute("service.name").and_then(|v| v.as_str()),
        Some("my.service")
    );
    let scope = r.scopes().next().unwrap();
    assert_eq!(scope.name(), "my.library");
    let log = scope.log_records().next().unwrap();
    assert_eq!(log.severity_number(), 10);
    assert!(matches!(
        log.body(),
        AnyValueView::Str("Example log record")
    ));
    let kinds: Vec<String> = log
        .attributes()
        .map(|kv| match kv.value() {
            AnyValueView::Str(_) => "str".into(),
            AnyValueView::Bool(true) => "bool".into(),
            AnyValueView::Int(10) => "int".into(),
            AnyValueView::Double(637.704) => "double".into(),
            AnyValueView::Array(a) => format!("array{}", a.iter().count()),
            AnyValueView::KvList(l) => format!("map{}", l.iter().count()),
            other => format!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(kinds, ["str", "bool", "int", "double", "array2", "map1"]);
    assert_eq!(log.trace_id().len(), 16);
}
