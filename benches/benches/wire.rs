//! Wire-layer micro-benchmarks: validation, resource upsert, split and concatenation, each
//! beside a full prost decode (and decode + encode) of the same bytes in the same run.
//!
//! `cargo bench -p collector-benches --bench wire`

use bytes::Bytes;
use collector_benches::{logs_request, metrics_request, traces_request};
use collector_core::Signal;
use collector_core::otlp::{Payload, Value};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use std::hint::black_box;

fn prost_decode(signal: Signal, b: &[u8]) -> usize {
    match signal {
        Signal::Traces => ExportTraceServiceRequest::decode(b).map(|r| r.resource_spans.len()),
        Signal::Logs => ExportLogsServiceRequest::decode(b).map(|r| r.resource_logs.len()),
        Signal::Metrics => ExportMetricsServiceRequest::decode(b).map(|r| r.resource_metrics.len()),
    }
    .unwrap_or(0)
}

fn prost_round_trip(signal: Signal, b: &[u8]) -> Vec<u8> {
    match signal {
        Signal::Traces => ExportTraceServiceRequest::decode(b).map(|r| r.encode_to_vec()),
        Signal::Logs => ExportLogsServiceRequest::decode(b).map(|r| r.encode_to_vec()),
        Signal::Metrics => ExportMetricsServiceRequest::decode(b).map(|r| r.encode_to_vec()),
    }
    .unwrap_or_default()
}

fn cases() -> Vec<(&'static str, Signal, Bytes)> {
    vec![
        (
            "traces_100_spans",
            Signal::Traces,
            Bytes::from(traces_request(1, 100, 1)),
        ),
        (
            "traces_1mb",
            Signal::Traces,
            Bytes::from(traces_request(17, 100, 2)),
        ),
        (
            "logs_100_records",
            Signal::Logs,
            Bytes::from(logs_request(100, 3)),
        ),
        (
            "metrics_100_points",
            Signal::Metrics,
            Bytes::from(metrics_request(20, 5, 4)),
        ),
    ]
}

fn bench(c: &mut Criterion) {
    for (name, signal, bytes) in cases() {
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function("prost_decode", |b| {
            b.iter(|| prost_decode(signal, black_box(&bytes)))
        });
        g.bench_function("prost_decode_encode", |b| {
            b.iter(|| prost_round_trip(signal, black_box(&bytes)))
        });
        g.bench_function("validate", |b| {
            b.iter(|| {
                Payload::decode(signal, black_box(bytes.clone()))
                    .map(|p| p.items())
                    .unwrap_or(0)
            })
        });
        let payload = Payload::decode(signal, bytes.clone()).expect("valid");
        g.bench_function("resource_upsert", |b| {
            b.iter_batched(
                || payload.clone(),
                |mut p| {
                    for e in p.entries_mut() {
                        e.edit_resource(|a| {
                            a.upsert("deployment.environment", Value::Str("staging".into()))
                        });
                    }
                    p
                },
                BatchSize::SmallInput,
            )
        });
        g.bench_function("split_10_items", |b| {
            b.iter_batched(|| payload.clone(), |p| p.split(10), BatchSize::SmallInput)
        });
        g.bench_function("concat_10", |b| {
            b.iter_batched(
                || (0..10).map(|_| payload.clone()).collect::<Vec<_>>(),
                |ps| {
                    let mut all = Payload::empty(signal);
                    for p in ps {
                        all.append(p);
                    }
                    all
                },
                BatchSize::SmallInput,
            )
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
