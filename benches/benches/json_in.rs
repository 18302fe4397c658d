//! OTLP/JSON ingest: `Payload::from_json` (transcode to protobuf, then validate) in MB/s of
//! JSON body, beside `serde_json::from_slice::<serde_json::Value>` of the same bytes (a tree
//! alone, no OTLP) in the same run. Requests are written by our own `to_json` from the
//! protobuf requests of `collector_benches`; the hostile body is `{"x":[0,0,...]}` of 18 MiB.
//!
//! The same file builds at older commits (it uses only public API), so the tree-based
//! decoder can be measured against the streaming one: see BENCHMARKS.md.
//!
//! `cargo bench -p collector-benches --bench json_in`

use bytes::Bytes;
use collector_benches::{logs_request, metrics_request, traces_request};
use collector_core::Signal;
use collector_core::otlp::Payload;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn our_json(signal: Signal, proto: Vec<u8>) -> Vec<u8> {
    Payload::decode(signal, Bytes::from(proto))
        .expect("a valid request")
        .to_json()
}

fn hostile() -> Vec<u8> {
    let mut json = b"{\"x\":[0".to_vec();
    json.extend(std::iter::repeat_n(*b",0", 9 << 20).flatten());
    json.extend_from_slice(b"]}");
    json
}

fn bench(c: &mut Criterion) {
    let cases = [
        (
            "json_traces_1000_spans",
            Signal::Traces,
            our_json(Signal::Traces, traces_request(1, 1000, 8)),
        ),
        (
            "json_logs_1000_records",
            Signal::Logs,
            our_json(Signal::Logs, logs_request(1000, 7)),
        ),
        (
            "json_metrics_300_points",
            Signal::Metrics,
            our_json(Signal::Metrics, metrics_request(30, 10, 4)),
        ),
        ("json_hostile_18mib", Signal::Traces, hostile()),
    ];
    for (name, signal, json) in cases {
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(json.len() as u64));
        if json.len() > 1 << 20 {
            g.sample_size(10);
        }
        g.bench_function("serde_value", |b| {
            b.iter(|| {
                serde_json::from_slice::<serde_json::Value>(black_box(&json))
                    .map(|v| v.is_object())
                    .unwrap_or(false)
            })
        });
        g.bench_function("from_json", |b| {
            b.iter(|| {
                Payload::from_json(signal, black_box(&json))
                    .map(|p| p.items())
                    .unwrap_or(0)
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
