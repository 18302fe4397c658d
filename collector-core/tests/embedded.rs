//! The embedding API: `ingest` through an `embedded` receiver into real pipelines and a
//! real OTLP backend on 127.0.0.1 (an in-test sink decoding with prost), `flush`, and
//! `shutdown` reports; the blocking `EmbeddedCollector` from plain threads.

#![allow(clippy::unwrap_used)] // test helpers: a panic is a failing test

mod support;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use collector_core::{Collector, Config, EmbeddedCollector, ErrorKind, Signal};
use support::sink::Sink;
use support::traces;

/// Traces from `embedded` through a batch (that would hold items for a minute) to an OTLP
/// exporter pointed at `sink`.
fn config(sink: &Sink, extra_processors: &str) -> Config {
    Config::from_yaml(&format!(
        "receivers:
  embedded: {{}}
processors:
  batch:
    timeout: 60s
    send_batch_size: 100000
{extra_processors}
exporters:
  otlp:
    endpoint: {addr}
    tls:
      insecure: true
    retry_on_failure:
      initial_interval: 10ms
service:
  pipelines:
    traces:
      receivers: [embedded]
      processors: [batch]
      exporters: [otlp]
",
        addr = sink.addr
    ))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_then_flush_delivers_exact_counts_and_opens_no_port() {
    let sink = Sink::start(None).await;
    let h = Collector::new(config(&sink, ""))
        .embedded()
        .start()
        .await
        .unwrap();
    assert!(
        h.listen_addrs().is_empty(),
        "an embedded collector binds nothing: {:?}",
        h.listen_addrs()
    );
    for _ in 0..7 {
        h.ingest(Signal::Traces, Bytes::from(traces(2, 50)))
            .unwrap();
    }
    // The batch holds everything (60 s timer, huge size): only flush sends it.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(sink.spans(), 0);
    h.flush(Duration::from_secs(10)).await.unwrap();
    assert_eq!(
        sink.spans(),
        700,
        "flush returns once everything is delivered"
    );

    h.ingest(Signal::Traces, Bytes::from(traces(1, 33)))
        .unwrap();
    let report = h.shutdown(Duration::from_secs(10)).await;
    assert_eq!(sink.spans(), 733, "shutdown drains the batch");
    assert_eq!(report.delivered_items, 733);
    assert_eq!(report.dropped_items, 0);
    assert_eq!(
        h.ingest(Signal::Traces, Bytes::from(traces(1, 1)))
            .unwrap_err()
            .kind(),
        ErrorKind::NotRunning
    );
    assert_eq!(
        h.flush(Duration::from_secs(1)).await.unwrap_err().kind(),
        ErrorKind::NotRunning
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_calls_get_clear_errors_and_lose_nothing_accepted() {
    let sink = Sink::start(None).await;
    let h = Collector::new(config(&sink, ""))
        .embedded()
        .memory_budget(64 << 10)
        .start()
        .await
        .unwrap();
    h.ingest(Signal::Traces, Bytes::from(traces(1, 10)))
        .unwrap();

    let e = h.ingest(Signal::Logs, Bytes::from_static(b"")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.message().contains("no pipeline takes logs"), "{e}");

    let e = h
        .ingest(Signal::Traces, Bytes::from_static(b"\x0a\xff\xff"))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidData, "{e}");

    // Larger than the whole budget: refused before anything is read, retryable.
    let e = h
        .ingest(Signal::Traces, Bytes::from(vec![0u8; 128 << 10]))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Retryable, "{e}");

    // An empty request is fine and carries nothing.
    h.ingest(Signal::Traces, Bytes::new()).unwrap();

    h.flush(Duration::from_secs(10)).await.unwrap();
    assert_eq!(sink.spans(), 10);
    assert_eq!(h.memory_in_use(), 0, "delivered data leaves the budget");
    let report = h.shutdown(Duration::from_secs(5)).await;
    assert_eq!((report.delivered_items, report.dropped_items), (10, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flush_times_out_while_the_backend_is_down_and_delivers_later() {
    // A port nothing listens on yet; the sink comes up there after the failed flush.
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = probe.local_addr().unwrap();
    drop(probe);
    let cfg = Config::from_yaml(&format!(
        "receivers: {{embedded: {{}}}}
exporters:
  otlp:
    endpoint: {addr}
    tls: {{insecure: true}}
    timeout: 200ms
    retry_on_failure: {{initial_interval: 50ms, max_interval: 100ms, randomization_factor: 0}}
service:
  pipelines:
    traces: {{receivers: [embedded], exporters: [otlp]}}
"
    ))
    .unwrap();
    let h = Collector::new(cfg).embedded().start().await.unwrap();
    h.ingest(Signal::Traces, Bytes::from(traces(1, 5))).unwrap();
    let e = h.flush(Duration::from_millis(300)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    let sink = Sink::start_on(addr, None).await;
    h.flush(Duration::from_secs(10)).await.unwrap();
    assert_eq!(sink.spans(), 5, "retried until the backend came up");
    let report = h.shutdown(Duration::from_secs(5)).await;
    assert_eq!((report.delivered_items, report.dropped_items), (5, 0));
}

#[test]
fn blocking_collector_from_four_threads() {
    // The sink needs a runtime of its own; the collector brings its own threads.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sink = rt.block_on(Sink::start(None));
    let c = Arc::new(EmbeddedCollector::start(config(&sink, "")).unwrap());
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let c = c.clone();
            std::thread::spawn(move || {
                let mut ok = 0u64;
                for i in 0..50 {
                    let req = Bytes::from(traces(1, 10 + (t + i) % 3));
                    loop {
                        match c.ingest(Signal::Traces, req.clone()) {
                            Ok(()) => break,
                            Err(e) if e.is_retryable() => std::thread::yield_now(),
                            Err(e) => panic!("{e}"),
                        }
                    }
                    ok += 10 + ((t + i) % 3) as u64;
                }
                ok
            })
        })
        .collect();
    let sent: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    c.flush(Duration::from_secs(10)).unwrap();
    assert_eq!(sink.spans(), sent);
    let report = c.shutdown(Duration::from_secs(5)).unwrap();
    assert_eq!(report.delivered_items, sent);
    assert_eq!(report.dropped_items, 0);
    // A second shutdown returns the same report; ingest is refused.
    assert_eq!(c.shutdown(Duration::from_secs(1)).unwrap(), report);
    assert_eq!(
        c.ingest(Signal::Traces, Bytes::from(traces(1, 1)))
            .unwrap_err()
            .kind(),
        ErrorKind::NotRunning
    );
    drop(rt);
}
