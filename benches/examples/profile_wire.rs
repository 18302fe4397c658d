//! Runs one wire-layer operation in a loop, for profilers (callgrind, perf):
//! `cargo build --profile bench -p collector-benches --example profile_wire`
//! `valgrind --tool=callgrind target/release/examples/profile_wire validate 200`

use bytes::Bytes;
use collector_core::Signal;
use collector_core::otlp::Payload;

fn main() {
    let mut args = std::env::args().skip(1);
    let op = args.next().unwrap_or_else(|| "validate".to_owned());
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1000);
    let bytes = Bytes::from(collector_benches::traces_request(1, 100, 1));
    let mut items = 0;
    for _ in 0..n {
        match op.as_str() {
            "validate" => {
                items += Payload::decode(Signal::Traces, bytes.clone())
                    .map(|p| p.items())
                    .unwrap_or(0)
            }
            other => {
                eprintln!("unknown operation {other}");
                std::process::exit(2);
            }
        }
    }
    println!("{items}");
}
