//! The `pprof` extension (contrib extension/pprofextension, v0.138 keys): a CPU profile over
//! HTTP that a pprof reader parses back, the heap summary, and `save_to_file`. Built with
//! the `pprof` feature (the `collector` binary's; `cargo test --workspace` has it).

#![cfg(feature = "pprof")]
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pprof::protos::Message;

/// The profiler is one per process: the tests that start it take turns.
static PROFILER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn busy(stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut x = 1u64;
        while !stop.load(Ordering::Relaxed) {
            for i in 0..100_000u64 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(i);
            }
        }
        x
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cpu_profile_parses_back_and_heap_summary() {
    let _turn = PROFILER.lock().await;
    let h = support::start(
        "extensions:
  pprof:
    endpoint: 127.0.0.1:0
    block_profile_fraction: 3
    mutex_profile_fraction: 5
service:
  extensions: [pprof]
",
        None,
    )
    .await;
    let addr = support::addr_of(&h, "pprof", 0);
    let stop = Arc::new(AtomicBool::new(false));
    let worker = busy(stop.clone());
    let r = support::get(addr, "/debug/pprof/profile?seconds=1").await;
    stop.store(true, Ordering::Relaxed);
    worker.join().unwrap();
    assert_eq!(r.status, 200, "{:?}", r.body);
    let p = pprof::protos::Profile::decode(r.body.clone()).unwrap();
    let st = |i: i64| p.string_table[i as usize].clone();
    let types: Vec<_> = p
        .sample_type
        .iter()
        .map(|t| (st(t.ty), st(t.unit)))
        .collect();
    assert!(
        types.contains(&("cpu".to_owned(), "nanoseconds".to_owned())),
        "{types:?}"
    );
    assert!(!p.sample.is_empty(), "a busy thread was sampled");
    assert!(!p.function.is_empty() && !p.location.is_empty());

    assert_eq!(
        support::get(addr, "/debug/pprof/profile?seconds=x")
            .await
            .status,
        400
    );
    let heap = support::get(addr, "/debug/pprof/heap").await;
    let text = String::from_utf8(heap.body.to_vec()).unwrap();
    assert!(
        text.contains("heap_in_use_bytes") && text.contains("budget_limit_bytes"),
        "{text}"
    );
    assert_eq!(
        support::get(addr, "/debug/pprof/goroutine").await.status,
        404
    );
    h.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_to_file_profiles_the_whole_run() {
    let _turn = PROFILER.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("whole-run.prof");
    let h = support::start(
        &format!(
            "extensions:
  pprof:
    endpoint: 127.0.0.1:0
    save_to_file: {}
service:
  extensions: [pprof]
",
            saved.display()
        ),
        None,
    )
    .await;
    let addr = support::addr_of(&h, "pprof", 0);
    // As in Go, the whole-run profile holds the profiler: a request for another fails.
    let r = support::get(addr, "/debug/pprof/profile?seconds=1").await;
    assert_eq!(r.status, 500);
    assert!(String::from_utf8_lossy(&r.body).contains("Could not enable CPU profiling"));
    h.shutdown(Duration::from_secs(5)).await;
    let whole = std::fs::read(&saved).unwrap();
    let p = pprof::protos::Profile::decode(whole.as_slice()).unwrap();
    assert!(!p.string_table.is_empty());
}

#[test]
fn negative_fractions_are_refused_as_go_words_them() {
    let e = collector_core::config::Loader::new()
        .document("p.yaml", "extensions:\n  pprof: {block_profile_fraction: -1}\nreceivers: {nop: {}}\nexporters: {nop: {}}\nservice:\n  extensions: [pprof]\n  pipelines:\n    traces: {receivers: [nop], exporters: [nop]}\n")
        .load()
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("block_profile_fraction must be >= 0"),
        "{e}"
    );
}
