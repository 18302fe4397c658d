//! The awss3 exporter's `otlp_json` body (the seed's log path): our JSON written straight
//! from the wire bytes (`Payload::to_json`) against the owned-type route (prost decode, then
//! serde_json over `opentelemetry-proto`'s serde types), on the seed's batch of 1000 log
//! records and a 1000-span batch, in the same run. Process CPU time.
//!
//! `cargo bench -p collector-benches --bench s3_json`

use bytes::Bytes;
use collector_benches::cpu::ProcessCpu;
use collector_benches::{logs_request, traces_request};
use collector_core::Signal;
use collector_core::otlp::Payload;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use std::hint::black_box;

fn owned_json(signal: Signal, b: &[u8]) -> Vec<u8> {
    match signal {
        Signal::Logs => ExportLogsServiceRequest::decode(b)
            .ok()
            .and_then(|r| serde_json::to_vec(&r).ok()),
        _ => ExportTraceServiceRequest::decode(b)
            .ok()
            .and_then(|r| serde_json::to_vec(&r).ok()),
    }
    .unwrap_or_default()
}

fn bench(c: &mut Criterion<ProcessCpu>) {
    let cases = [
        (
            "logs_1000_records",
            Signal::Logs,
            Bytes::from(logs_request(1000, 7)),
            1000u64,
        ),
        (
            "traces_1000_spans",
            Signal::Traces,
            Bytes::from(traces_request(1, 1000, 8)),
            1000,
        ),
    ];
    for (name, signal, bytes, items) in cases {
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Elements(items));
        // The payload reaches the exporter validated already; what the body costs is the
        // conversion (the owned route must decode, since it has no views).
        let payload = Payload::decode(signal, bytes.clone()).expect("valid");
        g.bench_function("owned_types_prost_serde", |b| {
            b.iter(|| owned_json(signal, black_box(&bytes)).len())
        });
        g.bench_function("views_to_json", |b| {
            b.iter(|| black_box(&payload).to_json().len())
        });
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ProcessCpu::default());
    targets = bench
}
criterion_main!(benches);
