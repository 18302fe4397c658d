//! CPU per span of `memory_limiter -> batch`, beside bare validation of the same requests
//! in the same run (what a receiver pays anyway).
//!
//! `cargo bench -p collector-benches --bench pipeline`

use bytes::Bytes;
use collector_benches::traces_request;
use collector_core::Signal;
use collector_core::bench::LimiterBatch;
use collector_core::otlp::Payload;
use collector_core::processors::batch::BatchConfig;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

const SPANS: u64 = 100;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let _guard = rt.enter();
    let bytes = Bytes::from(traces_request(1, SPANS as usize, 1));
    let mut g = c.benchmark_group("traces_100_spans");
    g.throughput(Throughput::Elements(SPANS));
    g.bench_function("validate", |b| {
        b.iter(|| {
            Payload::decode(Signal::Traces, black_box(bytes.clone()))
                .map(|p| p.items())
                .unwrap_or(0)
        })
    });
    let configs = [
        ("validate_limiter_batch", BatchConfig::default()),
        (
            // 8192 is not a multiple of 100: every cut splits a request (copies its part).
            "validate_limiter_batch_max_8192",
            BatchConfig {
                send_batch_max_size: 8192,
                ..BatchConfig::default()
            },
        ),
    ];
    for (name, cfg) in configs {
        let chain = LimiterBatch::new(Signal::Traces, 4096, &cfg).expect("chain");
        g.bench_function(name, |b| {
            b.iter(|| {
                let p = Payload::decode(Signal::Traces, black_box(bytes.clone())).expect("valid");
                chain.consume(p)
            })
        });
        rt.block_on(chain.shutdown());
        assert!(chain.delivered() > 0);
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
