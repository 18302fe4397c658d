//! The `file` exporter in a real collector: OTLP sent over HTTP on 127.0.0.1, written to a
//! temporary directory, read back after shutdown. JSON lines are parsed with serde_json and
//! the `opentelemetry-proto` types, protobuf frames decoded with prost, zstd frames
//! decompressed first; rotation, append/truncate, flush on shutdown and `group_by`.
//!
//! Golden files: `tests/data/golden/file/` holds the exact bytes written for the
//! opentelemetry-proto example vectors (`*.jsonl`: JSON lines, `*.pb`: length-prefixed
//! protobuf). On a mismatch the output is written next to the golden file (`*.actual`) and
//! the test fails. To accept a deliberate change, regenerate them with
//!
//! ```text
//! UPDATE_GOLDEN=1 cargo test -p collector-core --test exporter_file
//! ```
//!
//! and review `git diff`.

#![allow(clippy::unwrap_used)] // test helpers: a panic is a failing test

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use collector_core::{Collector, CollectorHandle};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use support::*;

const JSON: &str = "application/json";
const PROTO: &str = "application/x-protobuf";

/// A fresh directory of one test's own, removed when dropped.
struct TempDir(PathBuf);

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempdir(name: &str) -> TempDir {
    let d = std::env::temp_dir().join(format!(
        "collector-exporter-file-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    TempDir(d)
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn example(name: &str) -> Vec<u8> {
    std::fs::read(data(&format!("otlp-examples/{name}.json"))).unwrap()
}

/// Compares `actual` with `golden/file/<name>`, or rewrites it under `UPDATE_GOLDEN=1`.
fn golden(name: &str, actual: &[u8]) {
    let path = data(&format!("golden/file/{name}"));
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read(&path).unwrap_or_default();
    if actual != expected {
        let out = path.with_file_name(format!("{name}.actual"));
        std::fs::write(&out, actual).unwrap();
        panic!(
            "{name}: output differs from {}; wrote {} (UPDATE_GOLDEN=1 accepts it)",
            path.display(),
            out.display()
        );
    }
}

/// A collector with an OTLP receiver on 127.0.0.1 and `exporters` (YAML under
/// `exporters:`) in the pipelines given as `(pipeline, exporter list)`.
async fn collector(exporters: &str, pipelines: &[(&str, &str)]) -> CollectorHandle {
    let mut yaml = format!(
        "receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: 127.0.0.1:0\n      http:\n        endpoint: 127.0.0.1:0\nexporters:\n{exporters}\nservice:\n  telemetry:\n    metrics:\n      level: none\n  pipelines:\n"
    );
    for (p, e) in pipelines {
        yaml += &format!("    {p}:\n      receivers: [otlp]\n      exporters: [{e}]\n");
    }
    let cfg = collector_core::config::Loader::new()
        .document("test.yaml", &yaml)
        .load()
        .unwrap();
    Collector::new(cfg).embedded().start().await.unwrap()
}

/// Posts `body` to `path` and expects 200.
async fn send(h: &CollectorHandle, path: &str, ct: &str, body: Vec<u8>) {
    let r = http(post(http_addr(h), path, ct, None, body)).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
}

async fn stop(h: &CollectorHandle) {
    let report = h.shutdown(Duration::from_secs(5)).await;
    assert_eq!(report.dropped_items, 0, "{report:?}");
}

/// Splits a length-prefixed file into its messages.
fn frames(mut data: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while !data.is_empty() {
        assert!(data.len() >= 4, "truncated length prefix");
        let n = u32::from_be_bytes(data[..4].try_into().unwrap()) as usize;
        assert!(data.len() >= 4 + n, "truncated frame");
        out.push(data[4..4 + n].to_vec());
        data = &data[4 + n..];
    }
    out
}

fn lines(data: &[u8]) -> Vec<&[u8]> {
    assert!(data.ends_with(b"\n"));
    data[..data.len() - 1].split(|b| *b == b'\n').collect()
}

/// The example vectors as protobuf requests (decoded by opentelemetry-proto's serde).
fn expected_traces() -> ExportTraceServiceRequest {
    serde_json::from_slice(&example("trace")).unwrap()
}
fn expected_metrics() -> ExportMetricsServiceRequest {
    serde_json::from_slice(&example("metrics")).unwrap()
}
fn expected_logs() -> ExportLogsServiceRequest {
    serde_json::from_slice(&example("logs")).unwrap()
}

/// A protobuf request of `signal` decoded with prost and encoded again (field order and
/// packing as prost writes them).
fn canonical(signal: &str, bytes: &[u8]) -> Vec<u8> {
    match signal {
        "traces" => ExportTraceServiceRequest::decode(bytes)
            .unwrap()
            .encode_to_vec(),
        "metrics" => ExportMetricsServiceRequest::decode(bytes)
            .unwrap()
            .encode_to_vec(),
        _ => ExportLogsServiceRequest::decode(bytes)
            .unwrap()
            .encode_to_vec(),
    }
}

#[tokio::test]
async fn every_signal_as_json_lines_and_proto_frames_matches_golden_files() {
    let d = tempdir("formats");
    let dir = d.display();
    let mut exporters = String::new();
    let mut pipelines = Vec::new();
    for signal in ["traces", "metrics", "logs"] {
        exporters += &format!(
            "  file/{signal}_json:\n    path: {dir}/{signal}.jsonl\n  file/{signal}_proto:\n    path: {dir}/{signal}.pb\n    format: proto\n  file/{signal}_zstd:\n    path: {dir}/{signal}.pb.zst\n    format: proto\n    compression: zstd\n  file/{signal}_json_zstd:\n    path: {dir}/{signal}.json.zst\n    compression: zstd\n"
        );
        pipelines.push(format!(
            "file/{signal}_json, file/{signal}_proto, file/{signal}_zstd, file/{signal}_json_zstd"
        ));
    }
    let h = collector(
        &exporters,
        &[
            ("traces", &pipelines[0]),
            ("metrics", &pipelines[1]),
            ("logs", &pipelines[2]),
        ],
    )
    .await;
    // Each vector twice, as JSON then as protobuf: both land as the same request.
    let inputs = [
        ("/v1/traces", "trace", expected_traces().encode_to_vec()),
        ("/v1/metrics", "metrics", expected_metrics().encode_to_vec()),
        ("/v1/logs", "logs", expected_logs().encode_to_vec()),
    ];
    for (path, vector, proto) in &inputs {
        send(&h, path, JSON, example(vector)).await;
        send(&h, path, PROTO, proto.clone()).await;
    }
    stop(&h).await;

    let read = |name: &str| std::fs::read(d.join(name)).unwrap();
    for ((_, _, proto), signal) in inputs.iter().zip(["traces", "metrics", "logs"]) {
        // JSON: one request per line, each reading back to what was sent.
        let jsonl = read(&format!("{signal}.jsonl"));
        let ls = lines(&jsonl);
        assert_eq!(ls.len(), 2, "{signal}");
        for l in &ls {
            let _: serde_json::Value = serde_json::from_slice(l).unwrap();
            let back = match signal {
                "traces" => serde_json::from_slice::<ExportTraceServiceRequest>(l)
                    .unwrap()
                    .encode_to_vec(),
                "metrics" => serde_json::from_slice::<ExportMetricsServiceRequest>(l)
                    .unwrap()
                    .encode_to_vec(),
                _ => serde_json::from_slice::<ExportLogsServiceRequest>(l)
                    .unwrap()
                    .encode_to_vec(),
            };
            assert_eq!(&back, proto, "{signal}");
        }
        golden(&format!("{signal}.jsonl"), &jsonl);

        // Protobuf: length-prefixed. The request sent as protobuf is written as the bytes
        // it arrived as; the one sent as JSON decodes to the same request (its fields may
        // be in JSON order, which prost does not keep).
        let pb = read(&format!("{signal}.pb"));
        let fs = frames(&pb);
        assert_eq!(fs.len(), 2, "{signal}");
        assert_eq!(&fs[1], proto, "{signal}");
        assert_eq!(&canonical(signal, &fs[0]), proto, "{signal}");
        golden(&format!("{signal}.pb"), &pb);

        // zstd: each frame one compressed message.
        let z = frames(&read(&format!("{signal}.pb.zst")));
        assert_eq!(z.len(), 2);
        for (f, raw) in z.iter().zip(&fs) {
            assert_eq!(&zstd::decode_all(&f[..]).unwrap(), raw, "{signal}");
        }
        let z = frames(&read(&format!("{signal}.json.zst")));
        assert_eq!(z.len(), 2);
        for (f, l) in z.iter().zip(&ls) {
            assert_eq!(&zstd::decode_all(&f[..]).unwrap(), l, "{signal}");
        }
    }
    // Decoding as prost types too, not only comparing bytes.
    let t = ExportTraceServiceRequest::decode(&frames(&read("traces.pb"))[0][..]).unwrap();
    assert_eq!(t, expected_traces());
}

#[tokio::test]
async fn the_signals_of_one_id_share_one_file() {
    let d = tempdir("shared");
    let exporters = format!("  file:\n    path: {}/all.jsonl\n", d.display());
    let h = collector(
        &exporters,
        &[("traces", "file"), ("metrics", "file"), ("logs", "file")],
    )
    .await;
    send(&h, "/v1/traces", JSON, example("trace")).await;
    send(&h, "/v1/metrics", JSON, example("metrics")).await;
    send(&h, "/v1/logs", JSON, example("logs")).await;
    stop(&h).await;
    let all = std::fs::read(d.join("all.jsonl")).unwrap();
    let mut keys: Vec<String> = lines(&all)
        .iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_slice(l).unwrap();
            v.as_object().unwrap().keys().next().unwrap().clone()
        })
        .collect();
    keys.sort();
    assert_eq!(keys, ["resourceLogs", "resourceMetrics", "resourceSpans"]);
}

#[tokio::test]
async fn buffered_data_is_flushed_on_shutdown() {
    let d = tempdir("flush");
    let path = d.join("t.jsonl");
    let exporters = format!(
        "  file:\n    path: {}\n    flush_interval: 1h\n",
        path.display()
    );
    let h = collector(&exporters, &[("traces", "file")]).await;
    send(&h, "/v1/traces", PROTO, traces(1, 3)).await;
    // Delivered (written into the 4 KiB buffer), not yet on disk.
    assert!(eventually(|| metric(&h, "otelcol_exporter_sent_spans", "file") == 3.0).await);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
    stop(&h).await;
    let data = std::fs::read(&path).unwrap();
    assert_eq!(lines(&data).len(), 1);
}

#[tokio::test]
async fn truncates_at_start_unless_append() {
    let d = tempdir("append");
    let path = d.join("t.pb");
    std::fs::write(&path, b"previous run").unwrap();
    let request = traces(1, 2);
    for (append, expected) in [
        (false, vec![request.clone()]),
        (true, vec![request.clone(), request.clone()]),
    ] {
        let exporters = format!(
            "  file:\n    path: {}\n    format: proto\n    append: {append}\n",
            path.display()
        );
        let h = collector(&exporters, &[("traces", "file")]).await;
        send(&h, "/v1/traces", PROTO, request.clone()).await;
        stop(&h).await;
        assert_eq!(
            frames(&std::fs::read(&path).unwrap()),
            expected,
            "append: {append}"
        );
    }
}

/// `data-2006-01-02T15-04-05.000.pb`.
fn is_backup_name(name: &str) -> bool {
    let Some(ts) = name
        .strip_prefix("data-")
        .and_then(|n| n.strip_suffix(".pb"))
    else {
        return false;
    };
    ts.len() == 23
        && ts.char_indices().all(|(i, c)| match i {
            4 | 7 | 13 | 16 => c == '-',
            10 => c == 'T',
            19 => c == '.',
            _ => c.is_ascii_digit(),
        })
}

#[tokio::test]
async fn rotation_names_backups_as_lumberjack_and_keeps_max_backups() {
    let d = tempdir("rotation");
    let exporters = format!(
        "  file:\n    path: {}/data.pb\n    format: proto\n    rotation:\n      max_megabytes: 1\n      max_backups: 2\n",
        d.display()
    );
    let h = collector(&exporters, &[("traces", "file")]).await;
    // ~400 KB per request: two fit in a MiB, the third rotates. Ten requests make four
    // rotations; pruning keeps the newest two backups.
    let big = || {
        use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: (0..400)
                        .map(|i| Span {
                            trace_id: vec![1; 16],
                            span_id: vec![(i % 250) as u8 + 1; 8],
                            name: format!("{i:01000}"),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
        .encode_to_vec()
    };
    let request = big();
    assert!(
        (350_000..500_000).contains(&request.len()),
        "{}",
        request.len()
    );
    for _ in 0..10 {
        send(&h, "/v1/traces", PROTO, request.clone()).await;
        // Backups are named to the millisecond; two rotations in one would share a name.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop(&h).await;
    let mut names: Vec<String> = std::fs::read_dir(&*d)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len(), 3, "{names:?}");
    assert_eq!(names[2], "data.pb");
    assert!(names[..2].iter().all(|n| is_backup_name(n)), "{names:?}");
    // The newest backups hold two requests each, the current file the last two; every
    // frame decodes.
    for n in &names {
        let fs = frames(&std::fs::read(d.join(n)).unwrap());
        assert_eq!(fs.len(), 2, "{n}");
        for f in fs {
            assert_eq!(f, request);
            ExportTraceServiceRequest::decode(&f[..]).unwrap();
        }
    }
}

#[tokio::test]
async fn group_by_writes_one_file_per_resource_attribute() {
    let d = tempdir("group");
    let exporters = format!(
        "  file:\n    path: {}/*/t.jsonl\n    group_by:\n      enabled: true\n      resource_attribute: tenant\n",
        d.display()
    );
    let h = collector(&exporters, &[("logs", "file")]).await;
    let logs = |tenant: Option<&str>, body: &str| {
        let attrs = tenant.map_or(String::new(), |t| {
            format!(r#"{{"key":"tenant","value":{{"stringValue":"{t}"}}}}"#)
        });
        format!(
            r#"{{"resource":{{"attributes":[{attrs}]}},"scopeLogs":[{{"logRecords":[{{"body":{{"stringValue":"{body}"}}}}]}}]}}"#
        )
    };
    let body = format!(
        r#"{{"resourceLogs":[{},{},{},{}]}}"#,
        logs(Some("a"), "one"),
        logs(Some("b"), "two"),
        logs(None, "dropped"),
        logs(Some("../../a"), "three")
    );
    send(&h, "/v1/logs", JSON, body.into_bytes()).await;
    stop(&h).await;
    let a = std::fs::read_to_string(d.join("a/t.jsonl")).unwrap();
    let b = std::fs::read_to_string(d.join("b/t.jsonl")).unwrap();
    assert_eq!(a.lines().count(), 1);
    // `../../a` is kept under the prefix: the same file as `a`, in the same message.
    assert!(a.contains("\"one\"") && a.contains("\"three\""), "{a}");
    assert!(b.contains("\"two\"") && !b.contains("dropped"), "{b}");
    let mut dirs: Vec<_> = std::fs::read_dir(&*d)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    dirs.sort();
    assert_eq!(dirs, ["a", "b"]);
}

#[tokio::test]
async fn an_unopenable_path_fails_the_start() {
    let d = tempdir("unopenable");
    let yaml = format!(
        "receivers:\n  otlp:\n    protocols:\n      http:\n        endpoint: 127.0.0.1:0\nexporters:\n  file:\n    path: {}/missing/dir/t.json\nservice:\n  telemetry:\n    metrics:\n      level: none\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [file]\n",
        d.display()
    );
    let cfg = collector_core::config::Loader::new()
        .document("test.yaml", &yaml)
        .load()
        .unwrap();
    let err = Collector::new(cfg).embedded().start().await.unwrap_err();
    assert!(err.to_string().contains("cannot open"), "{err}");
}
