//! The persistent queue (`file_storage` + `sending_queue::storage`) with real sockets and
//! a real filesystem: what was acknowledged survives restarts with the backend down, a
//! damaged log tail, and a full share of the disk, and two collectors never share a
//! directory.

#![allow(clippy::unwrap_used)] // test helpers: a panic is a failing test

mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use collector_core::{Collector, CollectorHandle};
use support::sink::Sink;
use support::*;

const PROTO: &str = "application/x-protobuf";

/// A free port with nothing listening: a backend that is down.
fn down() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// The exporter YAML of an `otlphttp` exporter to `addr` with storage.
fn exporter(name: &str, addr: SocketAddr, extra: &str) -> String {
    format!(
        "  otlphttp/{name}:
    endpoint: http://{addr}
    compression: none
    retry_on_failure:
      initial_interval: 20ms
      max_interval: 100ms
      max_elapsed_time: 0s
    sending_queue:
      storage: file_storage
{extra}"
    )
}

/// A traces pipeline from an OTLP/HTTP receiver on a free port through `batch` to
/// `exporters` (YAML under `exporters:`), with `file_storage` in `dir`.
fn config(dir: &Path, exporters: &str, names: &str) -> String {
    pipeline_config(
        dir,
        "",
        "  otlp:\n    protocols:\n      http:\n        endpoint: 127.0.0.1:0\n",
        "otlp",
        exporters,
        names,
    )
}

/// [`config`] with the receiver `receiver` (YAML under `receivers:`, listed as `listed`)
/// and `storage` (more `file_storage` keys).
fn pipeline_config(
    dir: &Path,
    storage: &str,
    receiver: &str,
    listed: &str,
    exporters: &str,
    names: &str,
) -> String {
    format!(
        "extensions:
  file_storage:
    directory: {dir}
{storage}receivers:
{receiver}processors:
  batch:
    timeout: 20ms
exporters:
{exporters}
service:
  extensions: [file_storage]
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [{listed}]
      processors: [batch]
      exporters: [{names}]
",
        dir = dir.display()
    )
}

async fn start_yaml(yaml: &str) -> Result<CollectorHandle, collector_core::Error> {
    let cfg = collector_core::config::Loader::new()
        .document("pq.yaml", yaml)
        .load()?;
    Collector::new(cfg).start().await
}

/// Sends `requests` requests of `spans` spans; how many were acknowledged.
async fn send(h: &CollectorHandle, requests: usize, spans: usize) -> usize {
    let addr = h.listen_addrs()[0].1;
    let mut ok = 0;
    for _ in 0..requests {
        let r = http(post(addr, "/v1/traces", PROTO, None, traces(1, spans))).await;
        if r.status == 200 {
            ok += 1;
        }
    }
    ok
}

async fn wait(f: impl FnMut() -> bool) {
    assert!(eventually(f).await, "timed out waiting");
}

#[tokio::test]
async fn backend_down_through_two_restarts_then_everything_is_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let addr = down();
    let yaml = config(dir.path(), &exporter("a", addr, ""), "otlphttp/a");
    let h = start_yaml(&yaml).await.unwrap();
    assert_eq!(send(&h, 20, 5).await, 20);
    let report = h.shutdown(Duration::from_secs(1)).await;
    assert_eq!(
        (report.delivered_items, report.dropped_items),
        (0, 0),
        "kept on disk is not dropped"
    );
    assert_eq!(h.items_on_disk(), 100, "everything acknowledged is on disk");
    // Restarted, still down, more data, stopped again.
    let h = start_yaml(&yaml).await.unwrap();
    assert_eq!(h.items_on_disk(), 100);
    assert_eq!(send(&h, 10, 5).await, 10);
    h.shutdown(Duration::from_secs(1)).await;
    assert_eq!(h.items_on_disk(), 150);
    // The backend is back: the third start delivers all of it.
    let sink = Sink::start_on(addr, None).await;
    let h = start_yaml(&yaml).await.unwrap();
    h.flush(Duration::from_secs(10)).await.unwrap();
    assert_eq!(sink.spans(), 150);
    assert_eq!(h.items_on_disk(), 0);
    let replayed = metric(&h, "otelcol_exporter_replayed_spans", "otlphttp/a");
    assert_eq!(
        replayed, 150.0,
        "read back after a restart: possible duplicates"
    );
    let report = h.shutdown(Duration::from_secs(2)).await;
    assert_eq!((report.delivered_items, report.dropped_items), (150, 0));
    // Nothing comes back on the next start, and the log's old segments are gone.
    let h = start_yaml(&yaml).await.unwrap();
    assert_eq!(h.items_on_disk(), 0);
    h.shutdown(Duration::from_secs(1)).await;
    let segments = std::fs::read_dir(dir.path().join("wal_traces"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "wal")
        })
        .count();
    assert!(segments <= 1, "{segments} segments left");
    sink.stop();
}

#[tokio::test]
async fn a_damaged_log_tail_is_skipped_and_the_rest_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let addr = down();
    let yaml = config(dir.path(), &exporter("a", addr, ""), "otlphttp/a");
    let h = start_yaml(&yaml).await.unwrap();
    assert_eq!(send(&h, 4, 5).await, 4);
    h.shutdown(Duration::from_secs(1)).await;
    // A record cut off half way, as a crash while writing leaves it.
    let wal = dir.path().join("wal_traces");
    let mut segments: Vec<_> = std::fs::read_dir(&wal)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "wal"))
        .collect();
    segments.sort();
    let last = segments.last().unwrap();
    let mut bytes = std::fs::read(last).unwrap();
    bytes.extend_from_slice(&[200, 0, 0, 0, 1, 2, 3]);
    std::fs::write(last, bytes).unwrap();
    let sink = Sink::start_on(addr, None).await;
    let h = start_yaml(&yaml).await.unwrap();
    h.flush(Duration::from_secs(10)).await.unwrap();
    assert_eq!(sink.spans(), 20);
    assert_eq!(metric(&h, "otelcol_storage_damaged_records", ""), 1.0);
    h.shutdown(Duration::from_secs(1)).await;
    sink.stop();
}

#[tokio::test]
async fn a_full_share_drops_for_that_exporter_only() {
    let dir = tempfile::tempdir().unwrap();
    let dead = down();
    let sink = Sink::start(None).await;
    let exporters = format!(
        "{}{}",
        exporter("down", dead, "      queue_size: 5\n"),
        exporter("up", sink.addr, "")
    );
    let yaml = config(dir.path(), &exporters, "otlphttp/down, otlphttp/up");
    let h = start_yaml(&yaml).await.unwrap();
    assert_eq!(send(&h, 20, 3).await, 20, "the healthy exporter had room");
    wait(|| sink.spans() == 60).await;
    // `down` holds its five requests on disk and counted the other fifteen.
    wait(|| {
        metric(
            &h,
            "otelcol_exporter_dropped_spans",
            "exporter=\"otlphttp/down\"",
        ) == 45.0
    })
    .await;
    wait(|| h.items_on_disk() == 15).await;
    assert_eq!(
        metric(
            &h,
            "otelcol_exporter_enqueue_failed_spans",
            "exporter=\"otlphttp/down\""
        ),
        45.0
    );
    assert_eq!(
        metric(
            &h,
            "otelcol_exporter_queue_size",
            "exporter=\"otlphttp/down\""
        ),
        5.0
    );
    // With no exporter able to take it, the sender is told to retry.
    let other = tempfile::tempdir().unwrap();
    let only_down = config(
        other.path(),
        &exporter("down", dead, "      queue_size: 2\n"),
        "otlphttp/down",
    );
    let h2 = start_yaml(&only_down).await.unwrap();
    let addr = h2.listen_addrs()[0].1;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(
            http(post(addr, "/v1/traces", PROTO, None, traces(1, 1)))
                .await
                .status,
        );
    }
    assert_eq!(statuses, vec![200, 200, 503, 503]);
    h2.shutdown(Duration::from_millis(500)).await;
    h.shutdown(Duration::from_secs(1)).await;
    sink.stop();
}

#[tokio::test]
async fn one_directory_one_collector_and_the_extension_must_be_listed() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = config(dir.path(), &exporter("a", down(), ""), "otlphttp/a");
    let first = start_yaml(&yaml).await.unwrap();
    let err = start_yaml(&yaml).await.unwrap_err().to_string();
    assert!(err.contains("in use by another collector"), "{err}");
    first.shutdown(Duration::from_millis(200)).await;
    // Configured but not in `service::extensions`: Go's message, with the fix.
    let unlisted = yaml.replace("  extensions: [file_storage]\n", "");
    let err = start_yaml(&unlisted).await.unwrap_err().to_string();
    assert!(err.contains("no storage client extension found"), "{err}");
    assert!(err.contains("service::extensions"), "{err}");
}

#[tokio::test]
async fn with_fsync_the_acknowledgement_waits_for_the_commit() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(None).await;
    let yaml = config(dir.path(), &exporter("a", sink.addr, ""), "otlphttp/a")
        .replace("    directory:", "    fsync: true\n    directory:");
    let h = start_yaml(&yaml).await.unwrap();
    assert_eq!(send(&h, 5, 4).await, 5);
    h.flush(Duration::from_secs(10)).await.unwrap();
    assert_eq!(sink.spans(), 20);
    h.shutdown(Duration::from_secs(1)).await;
    sink.stop();
}

/// Set in the child: run the test body instead of spawning.
const CHILD: &str = "OTELCOL_TEST_TMPFS";

/// Runs `body` with a `kib` KiB tmpfs mounted at a new directory, inside a private mount
/// namespace (`unshare -m`, so the mount is gone with the test): in the parent, spawns
/// this test binary again for this one test and asserts that it passed.
fn in_tmpfs<F: std::future::Future<Output = ()>>(
    test: &str,
    kib: u64,
    body: impl FnOnce(std::path::PathBuf) -> F,
) {
    if let Some(dir) = std::env::var_os(CHILD) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(body(dir.into()));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    // `$0` is the test binary, `$1` the mount point: no quoting of their paths here.
    let script = format!(
        "mount -t tmpfs -o size={kib}k tmpfs \"$1\" && exec \"$0\" --exact {test} --nocapture --test-threads=1"
    );
    let out = std::process::Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .arg(&exe)
        .arg(dir.path())
        .env(CHILD, dir.path())
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run `unshare -m` ({e}): this test mounts a tmpfs (root)")
        });
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("test result: ok. 1 passed"),
        "child {test} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
}

#[test]
fn a_full_disk_is_a_retryable_refusal_and_loses_nothing_acknowledged() {
    in_tmpfs(
        "a_full_disk_is_a_retryable_refusal_and_loses_nothing_acknowledged",
        256,
        |dir| async move {
            let addr = down();
            let yaml = config(
                &dir,
                &exporter("a", addr, "      queue_size: 1000000\n"),
                "otlphttp/a",
            );
            let h = start_yaml(&yaml).await.unwrap();
            let at = h.listen_addrs()[0].1;
            let (mut acked, mut refused) = (0u64, 0);
            for _ in 0..5000 {
                let r = http(post(at, "/v1/traces", PROTO, None, traces(1, 20))).await;
                match r.status {
                    200 => acked += 20,
                    503 => refused += 1,
                    s => panic!("unexpected status {s}: {:?}", r.body),
                }
                if refused >= 3 {
                    break;
                }
            }
            assert!(
                refused >= 3 && acked > 0,
                "the tmpfs filled up ({acked} acknowledged)"
            );
            assert_eq!(h.items_on_disk(), acked);
            // The backend comes back: everything acknowledged arrives, the space comes back
            // and new data is taken again.
            let sink = Sink::start_on(addr, None).await;
            h.flush(Duration::from_secs(20)).await.unwrap();
            assert_eq!(sink.spans(), acked);
            assert_eq!(send(&h, 3, 20).await, 3);
            h.flush(Duration::from_secs(10)).await.unwrap();
            assert_eq!(sink.spans(), acked + 60);
            let report = h.shutdown(Duration::from_secs(1)).await;
            assert_eq!(report.dropped_items, 0);
            sink.stop();
        },
    );
}

/// Set in the child of the kill test: the directory and the backend's address.
const KILLED_CHILD: &str = "OTELCOL_TEST_KILLED_CHILD";

/// The `embedded` receiver's pipeline to an exporter at `addr`, with `fsync: true`.
fn embedded_config(dir: &Path, addr: SocketAddr) -> String {
    pipeline_config(
        dir,
        "    fsync: true\n",
        "  embedded: {}\n",
        "embedded",
        &exporter("a", addr, ""),
        "otlphttp/a",
    )
}

#[test]
fn an_embedder_killed_right_after_ingest_loses_nothing() {
    use std::os::unix::process::ExitStatusExt;
    if let Ok(v) = std::env::var(KILLED_CHILD) {
        // The child: ingest with `fsync: true` (each `ingest` returns after the commit),
        // then die without flushing or shutting down.
        let (dir, addr) = v.split_once('|').unwrap();
        let cfg = collector_core::config::Loader::new()
            .document(
                "embedded.yaml",
                embedded_config(Path::new(dir), addr.parse().unwrap()),
            )
            .load()
            .unwrap();
        let c = collector_core::EmbeddedCollector::start(cfg).unwrap();
        for _ in 0..10 {
            c.ingest(collector_core::Signal::Traces, traces(1, 7).into())
                .unwrap();
        }
        assert_eq!(c.items_on_disk(), 70);
        // SAFETY: signalling our own process; nothing runs after it.
        unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
        unreachable!("killed");
    }
    let dir = tempfile::tempdir().unwrap();
    let addr = down();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "an_embedder_killed_right_after_ingest_loses_nothing",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(KILLED_CHILD, format!("{}|{addr}", dir.path().display()))
        .output()
        .unwrap();
    assert_eq!(
        out.status.signal(),
        Some(9),
        "the child did not die as planned:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let sink = Sink::start_on(addr, None).await;
        let cfg = collector_core::config::Loader::new()
            .document("embedded.yaml", embedded_config(dir.path(), addr))
            .load()
            .unwrap();
        let h = Collector::new(cfg).embedded().start().await.unwrap();
        h.flush(Duration::from_secs(10)).await.unwrap();
        assert_eq!(sink.spans(), 70);
        assert_eq!(h.items_on_disk(), 0);
        h.shutdown(Duration::from_secs(1)).await;
        sink.stop();
    });
}

/// A configuration modelled on the `file_storage` README's (contrib
/// extension/storage/filestorage/README.md: an empty `file_storage` and one with every
/// setting, `max_transaction_size: 65_536` written with an underscore as there) and the
/// exporterhelper README's (core exporter/exporterhelper/README.md, v0.138:
/// `sending_queue::storage` naming `file_storage/<name>`), written anew; Go's checks are
/// contrib extension/storage/filestorage/config.go, `Config.Validate`.
#[tokio::test]
async fn go_configs_with_every_setting_load_and_run() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(None).await;
    let yaml = format!(
        "extensions:
  file_storage:
    directory: {dir}
  file_storage/all_settings:
    directory: {dir}/all
    create_directory: true
    directory_permissions: \"0700\"
    timeout: 2s
    fsync: false
    recreate: true
    compaction:
      on_start: true
      on_rebound: true
      directory: {dir}
      rebound_needed_threshold_mib: 128
      rebound_trigger_threshold_mib: 16
      max_transaction_size: 65_536
      check_interval: 5s
      cleanup_on_start: true
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
exporters:
  otlphttp:
    endpoint: http://{sink}
    retry_on_failure:
      enabled: true
    sending_queue:
      enabled: true
      num_consumers: 10
      queue_size: 10000
      storage: file_storage/all_settings
service:
  extensions: [file_storage, file_storage/all_settings]
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlphttp]
",
        dir = dir.path().display(),
        sink = sink.addr
    );
    let h = start_yaml(&yaml).await.unwrap();
    assert_eq!(send(&h, 3, 2).await, 3);
    h.flush(Duration::from_secs(10)).await.unwrap();
    assert_eq!(sink.spans(), 6);
    h.shutdown(Duration::from_secs(1)).await;
    assert!(dir.path().join("all/wal_traces").is_dir());
    // Go's validation messages, with the key.
    let bad = yaml
        .replace(
            &format!("{}/all\n", dir.path().display()),
            "/nonexistent/x\n",
        )
        .replace("    create_directory: true\n", "");
    let err = start_yaml(&bad).await.unwrap_err().to_string();
    assert!(
        err.contains("extensions::file_storage/all_settings::directory: directory must exist"),
        "{err}"
    );
    sink.stop();
}
