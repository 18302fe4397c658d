//! CPU per span of exporting with `otlp` (gRPC) and `otlphttp`, uncompressed, gzip and zstd,
//! beside compressing the same bytes alone, in one run. The backend is a `collector`
//! process (release build) on 127.0.0.1, so its CPU is not counted: the figure is this
//! process's user + system time (`getrusage`), which holds the exporter and nothing else.
//!
//! `cargo build --release -p collector-bin && cargo run --release -p collector-benches --example export_cpu [ITERATIONS]`

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use collector_benches::traces_request;
use collector_core::Signal;
use collector_core::bench::{OtlpExport, compress};
use collector_core::otlp::Payload;

fn cpu_seconds() -> f64 {
    // SAFETY: getrusage writes into the struct we pass; no other preconditions.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

fn main() {
    let iterations: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let bin = std::env::var("COLLECTOR_BIN").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../target/release/collector").to_owned()
    });
    let (grpc, http) = (free_port(), free_port());
    let config = format!(
        "yaml:
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{grpc}
      http:
        endpoint: 127.0.0.1:{http}
exporters:
  debug:
    verbosity: basic
service:
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
"
    );
    let mut sink = Command::new(&bin)
        .arg(format!("--config={config}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the collector binary (build it with --release first)");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", http)).is_err() {
        assert!(Instant::now() < deadline, "sink did not start");
        std::thread::sleep(Duration::from_millis(10));
    }

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let bytes = Bytes::from(traces_request(17, 100, 2));
    let payload = Payload::decode(Signal::Traces, bytes.clone()).expect("valid");
    let spans = payload.items() as f64;
    println!(
        "payload: {} spans, {} bytes; {iterations} iterations each",
        payload.items(),
        bytes.len()
    );

    let per_span = |f: &mut dyn FnMut()| {
        for _ in 0..3 {
            f();
        }
        let start = cpu_seconds();
        for _ in 0..iterations {
            f();
        }
        (cpu_seconds() - start) / iterations as f64 / spans * 1e9
    };

    let mut alone = std::collections::HashMap::new();
    for enc in ["gzip", "zstd"] {
        let ns = per_span(&mut || {
            std::hint::black_box(compress(enc, &payload));
        });
        alone.insert(enc, ns);
    }
    println!("| exporter | compression | CPU per span | ratio to compressing alone |");
    println!("|---|---|---|---|");
    for (name, proto) in [("otlp (gRPC)", true), ("otlphttp", false)] {
        for enc in ["none", "gzip", "zstd"] {
            // ONLY=otlphttp-zstd (say) runs one case, for profiling.
            if let Ok(only) = std::env::var("ONLY") {
                let proto_name = if proto { "otlp" } else { "otlphttp" };
                if only != format!("{proto_name}-{enc}") {
                    continue;
                }
            }
            let exporter = if proto {
                OtlpExport::grpc(&format!("127.0.0.1:{grpc}"), enc)
            } else {
                OtlpExport::http(&format!("http://127.0.0.1:{http}"), enc)
            }
            .expect("exporter");
            let ns = per_span(&mut || {
                rt.block_on(exporter.export(&payload)).expect("export");
            });
            let ratio = match alone.get(enc) {
                Some(a) => format!("{:.2}", ns / a),
                None => format!("{:.2} of gzip alone", ns / alone["gzip"]),
            };
            println!("| {name} | {enc} | {ns:.0} ns | {ratio} |");
        }
    }
    for (enc, ns) in &alone {
        println!("| (compress alone) | {enc} | {ns:.0} ns | 1.00 |");
    }
    let _ = sink.kill();
    let _ = sink.wait();
}
