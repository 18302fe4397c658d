//! In-process ingest cost per span: `otelcol_collector_ingest` (the C ABI, called as C
//! would call it) against Rust's `EmbeddedCollector::ingest`, same collector config, same
//! 100-span request, in the same run. Process CPU time, so the pipeline work on the
//! collector's threads (batch, a debug exporter that prints nothing) counts for both.
//!
//! `cargo bench -p collector-benches --bench ingest`

use bytes::Bytes;
use collector_benches::cpu::ProcessCpu;
use collector_benches::traces_request;
use collector_core::{Config, EmbeddedCollector, Signal};
use collector_ffi::{
    SignalArg, otelcol_collector, otelcol_collector_free, otelcol_collector_ingest,
    otelcol_collector_new, otelcol_collector_start, otelcol_result,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

const SPANS: u64 = 100;

/// `embedded -> batch -> debug (basic)`: no logging subscriber is installed, so the debug
/// exporter's lines go nowhere and cost almost nothing.
const YAML: &str = "receivers: {embedded: {}}
processors: {batch: {}}
exporters: {debug: {verbosity: basic}}
service:
  pipelines:
    traces: {receivers: [embedded], processors: [batch], exporters: [debug]}
";

fn bench(c: &mut Criterion<ProcessCpu>) {
    let request = traces_request(1, SPANS as usize, 1);
    let bytes = Bytes::from(request.clone());
    let mut g = c.benchmark_group("ingest_100_spans");
    g.throughput(Throughput::Elements(SPANS));

    let rust = EmbeddedCollector::start(Config::from_yaml(YAML).expect("config")).expect("start");
    g.bench_function("rust_ingest", |b| {
        b.iter(|| {
            while let Err(e) = rust.ingest(Signal::Traces, black_box(bytes.clone())) {
                assert!(e.is_retryable(), "{e}");
                std::thread::yield_now();
            }
        })
    });
    rust.shutdown(std::time::Duration::from_secs(10))
        .expect("shutdown");

    let mut handle: *mut otelcol_collector = std::ptr::null_mut();
    // SAFETY: a valid YAML buffer and out pointer; the handle is freed below.
    unsafe {
        assert_eq!(
            otelcol_collector_new(YAML.as_ptr().cast(), YAML.len(), &mut handle),
            otelcol_result::OTELCOL_OK
        );
        assert_eq!(otelcol_collector_start(handle), otelcol_result::OTELCOL_OK);
    }
    g.bench_function("c_abi_ingest", |b| {
        b.iter(|| {
            loop {
                // SAFETY: a live handle and a buffer of `len` bytes.
                let r = unsafe {
                    otelcol_collector_ingest(
                        handle,
                        SignalArg(1),
                        black_box(request.as_ptr()),
                        request.len(),
                    )
                };
                match r {
                    otelcol_result::OTELCOL_OK => break,
                    otelcol_result::OTELCOL_ERR_RETRYABLE => std::thread::yield_now(),
                    other => panic!("{other:?}"),
                }
            }
        })
    });
    // SAFETY: the handle is live and no longer used.
    unsafe { otelcol_collector_free(handle) };
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ProcessCpu::default());
    targets = bench
}
criterion_main!(benches);
