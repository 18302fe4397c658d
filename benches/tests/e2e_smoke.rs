//! A few seconds of the end-to-end benchmark (issue 10) on the test build: the relay, the
//! pass-through collector and the seed's processors at a low rate, checking that the sink
//! received every span. It asserts no timing: debug binaries on a shared CI machine say
//! nothing about performance.
//!
//! The runner, sink, loadgen and relay are this crate's binaries (`CARGO_BIN_EXE_*`). The
//! `collector` binary belongs to collector-bin, so cargo gives no path to it here; it sits
//! in the same directory, and `cargo test --workspace` (what CI and scripts/test run)
//! builds every member's binaries before running any test. Run on its own
//! (`cargo test -p collector-benches`) the test needs `cargo build -p collector-bin` first
//! and says so.

use std::path::Path;
use std::process::Command;

#[test]
fn smoke_run_loses_nothing() {
    let e2e = Path::new(env!("CARGO_BIN_EXE_e2e"));
    let bins = e2e.parent().expect("the binaries' directory");
    let collector = bins.join("collector");
    assert!(
        collector.exists(),
        "{} is missing: run `cargo build -p collector-bin` (cargo test --workspace builds it)",
        collector.display()
    );
    let json = std::env::temp_dir().join(format!("e2e-smoke-{}.json", std::process::id()));
    let out = Command::new(e2e)
        .args([
            "--plan",
            "smoke",
            "--duration",
            "2",
            "--prost-sink",
            "--json",
        ])
        .arg(&json)
        .output()
        .expect("run e2e");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "e2e failed: {}\n{stdout}\n{stderr}",
        out.status
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("the JSON report"))
            .expect("JSON");
    let _ = std::fs::remove_file(&json);
    let rows = report["rows"].as_array().expect("rows");
    let names: Vec<&str> = rows.iter().filter_map(|r| r["row"].as_str()).collect();
    assert_eq!(names, ["relay", "pass", "seed"], "{stdout}\n{stderr}");
    for r in rows {
        assert!(r["sent"].as_u64().unwrap_or(0) > 0, "{r}");
        assert_eq!(r["lost"], 0, "{r}\n{stderr}");
        assert_eq!(r["sent"], r["received"], "{r}");
    }
}
