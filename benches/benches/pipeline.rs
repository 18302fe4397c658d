//! CPU per span of processor chains built from YAML as the collector builds them, beside
//! bare validation of the same requests in the same run (what a receiver pays anyway):
//! `memory_limiter -> batch`, and the seed's `memory_limiter -> resourcedetection -> batch
//! -> resource` against its `batch` alone.
//!
//! Measured in CPU time of the whole process (`CLOCK_PROCESS_CPUTIME_ID`), not wall time:
//! it counts what the batch timer and the limiter's checks cost on the runtime's thread as
//! well as the calling thread's work, and it is far less disturbed than wall time by other
//! processes on a shared 2-core machine.
//!
//! `cargo bench -p collector-benches --bench pipeline`

use bytes::Bytes;
use collector_benches::cpu::ProcessCpu;
use collector_benches::traces_request;
use collector_core::bench::Chain;
use collector_core::otlp::Payload;
use collector_core::{Config, Signal};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

const SPANS: u64 = 100;

/// What the seed's ECS detector finds on Fargate, handed to the `env` detector instead: the
/// per-payload cost of merging a detected resource does not depend on which detector found
/// it, and a benchmark must not need a metadata server.
const DETECTED: &str = "cloud.provider=aws,cloud.platform=aws_ecs,cloud.region=eu-west-1,\
cloud.account.id=123456789012,cloud.availability_zone=eu-west-1a,\
aws.ecs.task.arn=arn%3Aaws%3Aecs%3Aeu-west-1%3A123456789012%3Atask%2Fprod%2F0123abcd,\
aws.ecs.task.family=api,aws.ecs.task.revision=7,aws.ecs.task.id=0123abcd,\
aws.ecs.cluster.arn=arn%3Aaws%3Aecs%3Aeu-west-1%3A123456789012%3Acluster%2Fprod,\
aws.ecs.launchtype=fargate";

/// The seed's batch settings (`../shared/examples/seed-sidecar.yaml`).
const SEED_BATCH: &str =
    "  batch:\n    timeout: 10s\n    send_batch_size: 1000\n    send_batch_max_size: 1000\n";

fn config(processors: &str, chain: &str) -> Config {
    let yaml = format!(
        "receivers:\n  otlp:\n    protocols:\n      grpc:\n\
         processors:\n{processors}\
         exporters:\n  debug:\n\
         service:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      processors: [{chain}]\n      exporters: [debug]\n"
    );
    Config::from_yaml(&yaml).expect("benchmark config")
}

fn bench(c: &mut Criterion<ProcessCpu>) {
    // SAFETY: set before the runtime (or any other thread of this process) starts.
    unsafe { std::env::set_var("OTEL_RESOURCE_ATTRIBUTES", DETECTED) };
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
    let limiter = "  memory_limiter:\n    check_interval: 1s\n    limit_mib: 4096\n";
    let seed = format!(
        "  memory_limiter:\n    check_interval: 1s\n    limit_percentage: 75\n    spike_limit_percentage: 25\n\
         {SEED_BATCH}\
         \x20 resourcedetection:\n    detectors: [env, system]\n    timeout: 2s\n    override: false\n\
         \x20 resource:\n    attributes:\n      - key: cloud.provider\n        value: aws\n        action: upsert\n\
         \x20     - key: deployment.environment\n        value: production\n        action: upsert\n"
    );
    let cases = [
        (
            "validate_limiter_batch",
            config(&format!("{limiter}  batch:\n"), "memory_limiter, batch"),
        ),
        (
            // 8192 is not a multiple of 100: every cut splits a request (copies its part).
            "validate_limiter_batch_max_8192",
            config(
                &format!("{limiter}  batch:\n    send_batch_max_size: 8192\n"),
                "memory_limiter, batch",
            ),
        ),
        ("validate_seed_batch", config(SEED_BATCH, "batch")),
        (
            "validate_seed_processors",
            config(&seed, "memory_limiter, resourcedetection, batch, resource"),
        ),
    ];
    for (name, cfg) in cases {
        let chain = Chain::new(&cfg, "traces").expect("chain");
        rt.block_on(chain.ready());
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

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ProcessCpu::default());
    targets = bench
}
criterion_main!(benches);
