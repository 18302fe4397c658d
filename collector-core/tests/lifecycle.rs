//! The collector's lifecycle: a start that fails half way, and shutdowns that overlap.

#![allow(clippy::unwrap_used)] // test helpers: a panic is a failing test

mod support;

use std::time::{Duration, Instant};

use collector_core::{Collector, Config, ErrorKind};

/// A free port on 127.0.0.1 (bound, then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A start that fails at its last receiver stops everything it had started: the health
/// check's port is free again and no task of the collector is left running (exporter
/// senders, the batch timer, servers).
#[test]
fn a_failed_start_stops_what_it_started() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let busy = taken.local_addr().unwrap().port();
        let health = free_port();
        let yaml = format!(
            "receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{busy}
processors:
  batch: {{}}
exporters:
  debug: {{}}
  otlp:
    endpoint: 127.0.0.1:{}
    tls:
      insecure: true
extensions:
  health_check:
    endpoint: 127.0.0.1:{health}
service:
  extensions: [health_check]
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [debug, otlp]
",
            free_port()
        );
        let metrics = tokio::runtime::Handle::current().metrics();
        let before = metrics.num_alive_tasks();
        let err = Collector::new(Config::from_yaml(&yaml).unwrap())
            .start()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io, "{err}");
        assert!(err.to_string().contains(&busy.to_string()), "{err}");
        // Everything started is gone: tasks end, ports are released.
        assert!(
            support::eventually(|| metrics.num_alive_tasks() <= before).await,
            "{} tasks alive, {before} before the start",
            metrics.num_alive_tasks()
        );
        std::net::TcpListener::bind(("127.0.0.1", health)).unwrap();
        drop(taken);
    });
}

/// A second shutdown while the first runs waits for it and returns its report.
#[tokio::test]
async fn a_second_shutdown_waits_for_the_first() {
    // A backend that accepts and never answers: the first shutdown uses its timeout.
    let hole = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hole_addr = hole.local_addr().unwrap();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = hole.accept().await {
            held.push(s);
        }
    });
    let h = support::start(
        &format!(
            "exporters:\n  otlp:\n    endpoint: {hole_addr}\n    tls:\n      insecure: true\nservice:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [otlp]\n"
        ),
        None,
    )
    .await;
    let r = support::http(support::post(
        support::http_addr(&h),
        "/v1/traces",
        "application/x-protobuf",
        None,
        support::traces(1, 4),
    ))
    .await;
    assert_eq!(r.status, 200);
    let started = Instant::now();
    let first = {
        let h = h.clone();
        tokio::spawn(async move { h.shutdown(Duration::from_secs(2)).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let second = h.shutdown(Duration::from_millis(10)).await;
    let waited = started.elapsed();
    let first = first.await.unwrap();
    assert_eq!(first, second);
    assert_eq!((first.delivered_items, first.dropped_items), (0, 4));
    // The first drains its exporters until a second before its deadline, so it takes
    // about a second; alone, the second (10 ms) would have returned at once.
    assert!(
        waited >= Duration::from_millis(900),
        "the second returned after {waited:?}, before the first had finished"
    );
    holder.abort();
}
