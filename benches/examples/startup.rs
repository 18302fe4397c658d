//! Start-up time of the `collector` binary on its built-in default config: exec to the
//! OTLP gRPC port accepting connections, and exec to the health check answering 200, beside
//! exec to exit of `collector --version` (the cost of starting the process at all) measured
//! in the same run.
//!
//! `cargo build --release -p collector-bin && cargo run --release -p collector-benches --example startup [RUNS]`

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

fn health_ok(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let mut buf = [0u8; 16];
    matches!(s.read(&mut buf), Ok(n) if n >= 12 && &buf[9..12] == b"200")
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let bin = std::env::var("COLLECTOR_BIN").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../target/release/collector").to_owned()
    });
    let (mut version, mut port_open, mut healthy) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let t = Instant::now();
        let ok = Command::new(&bin)
            .arg("--version")
            .stdout(Stdio::null())
            .status();
        assert!(ok.is_ok_and(|s| s.success()), "cannot run {bin}");
        version.push(t.elapsed().as_secs_f64() * 1e3);

        let (grpc, http, health, metrics) = (free_port(), free_port(), free_port(), free_port());
        let t = Instant::now();
        let mut child = Command::new(&bin)
            .arg(format!(
                "--set=receivers.otlp.protocols.grpc.endpoint=127.0.0.1:{grpc}"
            ))
            .arg(format!(
                "--set=receivers.otlp.protocols.http.endpoint=127.0.0.1:{http}"
            ))
            .arg(format!(
                "--set=extensions.health_check.endpoint=127.0.0.1:{health}"
            ))
            .arg(format!(
                "--set=service.telemetry.metrics.address=127.0.0.1:{metrics}"
            ))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn collector");
        let deadline = t + Duration::from_secs(5);
        while TcpStream::connect(("127.0.0.1", grpc)).is_err() {
            assert!(Instant::now() < deadline, "port never opened");
            std::thread::sleep(Duration::from_micros(50));
        }
        port_open.push(t.elapsed().as_secs_f64() * 1e3);
        while !health_ok(health) {
            assert!(Instant::now() < deadline, "never healthy");
            std::thread::sleep(Duration::from_micros(50));
        }
        healthy.push(t.elapsed().as_secs_f64() * 1e3);
        let _ = child.kill();
        let _ = child.wait();
    }
    let v50 = percentile(&mut version, 0.5);
    println!("runs: {runs}");
    println!("| measure | median ms | p90 ms | ratio to `--version` (median) |");
    println!("|---|---|---|---|");
    println!(
        "| exec to exit, `collector --version` | {v50:.2} | {:.2} | 1.00 |",
        percentile(&mut version, 0.9)
    );
    for (name, v) in [
        ("exec to OTLP gRPC port open", &mut port_open),
        ("exec to health check 200", &mut healthy),
    ] {
        let m = percentile(v, 0.5);
        println!(
            "| {name} | {m:.2} | {:.2} | {:.2} |",
            percentile(v, 0.9),
            m / v50
        );
    }
}
