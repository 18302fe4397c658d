//! The OTLP exporters against a real backend on 127.0.0.1 (an in-test sink decoding with
//! prost, or a second collector): compressions, headers, TLS with a generated CA, retries,
//! throttling, permanent errors, full queues and the independence rule.

#![allow(clippy::unwrap_used)] // test helpers: a panic is a failing test

mod support;

use std::time::{Duration, Instant};

use support::sink::{Answer, Recorded, Sink, tls_files};
use support::*;

const PROTO: &str = "application/x-protobuf";

/// A collector whose traces pipeline sends to `exporters` (YAML under `exporters:`).
async fn pipeline(exporters: &str, names: &str) -> collector_core::CollectorHandle {
    let extra = format!(
        "exporters:\n{exporters}\nservice:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [{names}]\n"
    );
    start(&extra, None).await
}

async fn send(h: &collector_core::CollectorHandle, requests: usize, spans: usize) -> usize {
    let mut ok = 0;
    for _ in 0..requests {
        let r = http(post(
            http_addr(h),
            "/v1/traces",
            PROTO,
            None,
            traces(1, spans),
        ))
        .await;
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
async fn grpc_and_http_with_every_compression_and_headers() {
    let sink = Sink::start(None).await;
    let a = sink.addr;
    let mut exporters = String::new();
    let mut names = Vec::new();
    for c in ["none", "gzip", "zstd", "snappy"] {
        exporters += &format!(
            "  otlp/{c}:\n    endpoint: {a}\n    tls:\n      insecure: true\n    compression: {c}\n    headers:\n      x-api-key: secret-{c}\n"
        );
        exporters += &format!(
            "  otlphttp/{c}:\n    endpoint: http://{a}\n    compression: {c}\n    headers:\n      x-api-key: secret-{c}\n"
        );
        names.push(format!("otlp/{c}"));
        names.push(format!("otlphttp/{c}"));
    }
    exporters += &format!("  otlphttp/json:\n    endpoint: http://{a}\n    encoding: json\n");
    names.push("otlphttp/json".into());
    let h = pipeline(&exporters, &names.join(", ")).await;
    assert_eq!(send(&h, 5, 10).await, 5);
    // Nine exporters, each gets all 50 spans.
    wait(|| sink.spans() == 9 * 50).await;
    {
        let reqs = sink.state.requests.lock();
        assert_eq!(reqs.len(), 9 * 5);
        let header =
            |r: &Recorded, k: &str| r.headers.get(k).map(|v| v.to_str().unwrap().to_owned());
        // Each (exporter, compression) pair is told apart by its path and its key; every
        // one of its five requests carries the encoding it was configured with (and, for
        // gRPC, the message prefix's compressed flag agrees). The sink decompressed each
        // body by that encoding and decoded it with prost to count the spans above.
        for c in ["none", "gzip", "zstd", "snappy"] {
            let key = format!("secret-{c}");
            let want = (c != "none").then(|| c.to_owned());
            for grpc in [true, false] {
                let of: Vec<&Recorded> = reqs
                    .iter()
                    .filter(|r| header(r, "x-api-key").as_deref() == Some(key.as_str()))
                    .filter(|r| (r.path == TRACES_PATH) == grpc)
                    .collect();
                let pair = format!("{} {c}", if grpc { "otlp" } else { "otlphttp" });
                assert_eq!(of.len(), 5, "{pair}");
                for r in of {
                    if grpc {
                        assert_eq!(header(r, "grpc-encoding"), want, "{pair}");
                        assert_eq!(r.grpc_compressed, Some(want.is_some()), "{pair}");
                        assert_eq!(header(r, "content-type").unwrap(), "application/grpc");
                    } else {
                        assert_eq!(r.path, "/v1/traces", "{pair}");
                        assert_eq!(header(r, "content-encoding"), want, "{pair}");
                        assert_eq!(header(r, "content-type").unwrap(), PROTO, "{pair}");
                    }
                }
            }
        }
        // otlphttp/json: JSON, with otlphttp's default compression (gzip).
        let json: Vec<&Recorded> = reqs
            .iter()
            .filter(|r| !r.headers.contains_key("x-api-key"))
            .collect();
        assert_eq!(json.len(), 5);
        for r in json {
            assert_eq!(r.path, "/v1/traces");
            assert_eq!(header(r, "content-type").unwrap(), "application/json");
            assert_eq!(header(r, "content-encoding").as_deref(), Some("gzip"));
        }
    }
    h.shutdown(Duration::from_secs(5)).await;
    sink.stop();
}

/// The compressions Go's confighttp sends besides gzip, zstd and snappy (v0.138
/// `configcompression`): each body arrives under its configured name and decodes.
#[tokio::test]
async fn http_sends_zlib_deflate_lz4_and_framed_snappy_as_go_does() {
    let sink = Sink::start(None).await;
    let a = sink.addr;
    let kinds = ["zlib", "deflate", "lz4", "x-snappy-framed"];
    let mut exporters = String::new();
    let mut names = Vec::new();
    for c in kinds {
        exporters += &format!(
            "  otlphttp/{c}:\n    endpoint: http://{a}\n    compression: {c}\n    headers:\n      x-api-key: {c}\n"
        );
        names.push(format!("otlphttp/{c}"));
    }
    let h = pipeline(&exporters, &names.join(", ")).await;
    assert_eq!(send(&h, 2, 10).await, 2);
    wait(|| sink.spans() == 4 * 20).await;
    {
        let reqs = sink.state.requests.lock();
        for c in kinds {
            let of: Vec<&Recorded> = reqs
                .iter()
                .filter(|r| r.headers.get("x-api-key").is_some_and(|v| v == c))
                .collect();
            assert_eq!(of.len(), 2, "{c}");
            for r in of {
                assert_eq!(r.headers.get("content-encoding").unwrap(), c);
            }
        }
    }
    h.shutdown(Duration::from_secs(5)).await;
    sink.stop();
}

#[tokio::test]
async fn tls_with_a_ca_the_test_generates() {
    let dir = tempdir();
    let (ca, server) = tls_files(&dir);
    let sink = Sink::start(Some(server)).await;
    let port = sink.addr.port();
    let exporters = format!(
        "  otlp:\n    endpoint: localhost:{port}\n    tls:\n      ca_file: {ca}\n  otlphttp:\n    endpoint: https://localhost:{port}\n    tls:\n      ca_file: {ca}\n  otlp/untrusted:\n    endpoint: localhost:{port}\n    retry_on_failure:\n      enabled: false\n",
        ca = ca.display()
    );
    let h = pipeline(&exporters, "otlp, otlphttp, otlp/untrusted").await;
    assert_eq!(send(&h, 3, 4).await, 3);
    wait(|| sink.spans() == 24).await;
    // Without the CA the handshake fails: dropped after one attempt, counted.
    wait(|| {
        metric(
            &h,
            "otelcol_exporter_send_failed_spans_total",
            "exporter=\"otlp/untrusted\"",
        ) == 12.0
    })
    .await;
    h.shutdown(Duration::from_secs(5)).await;
    sink.stop();
}

#[tokio::test]
async fn our_exporter_to_our_receiver_over_tls() {
    let dir = tempdir();
    let (ca, _) = tls_files(&dir);
    let backend = start(
        &format!(
            "receivers:\n  otlp:\n    protocols:\n      grpc:\n        tls:\n          cert_file: {d}/server.pem\n          key_file: {d}/server.key\n",
            d = dir.display()
        ),
        None,
    )
    .await;
    let port = grpc_addr(&backend).port();
    let front = pipeline(
        &format!(
            "  otlp:\n    endpoint: localhost:{port}\n    tls:\n      ca_file: {}\n",
            ca.display()
        ),
        "otlp",
    )
    .await;
    assert_eq!(send(&front, 4, 25).await, 4);
    wait(|| {
        metric(
            &backend,
            "otelcol_receiver_accepted_spans_total",
            "transport=\"grpc\"",
        ) == 100.0
    })
    .await;
    front.shutdown(Duration::from_secs(5)).await;
    backend.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn backend_down_then_back_loses_nothing() {
    // Reserve a port, close it: the backend is down.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let exporters = format!(
        "  otlp:\n    endpoint: {addr}\n    tls:\n      insecure: true\n    retry_on_failure:\n      initial_interval: 50ms\n      max_interval: 200ms\n      max_elapsed_time: 30s\n"
    );
    let h = pipeline(&exporters, "otlp").await;
    assert_eq!(send(&h, 10, 10).await, 10);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(metric(&h, "otelcol_exporter_sent_spans_total", "") == 0.0);
    let sink = Sink::start_on(addr, None).await;
    wait(|| sink.spans() == 100).await;
    let report = h.shutdown(Duration::from_secs(5)).await;
    assert_eq!((report.delivered_items, report.dropped_items), (100, 0));
    sink.stop();
}

#[tokio::test]
async fn throttles_are_honoured() {
    let sink = Sink::start(None).await;
    let a = sink.addr;
    sink.then(Answer::Http(503, Some(1)));
    sink.then(Answer::Grpc(14, Some(Duration::from_secs(1))));
    let exporters = format!(
        "  otlphttp:\n    endpoint: http://{a}\n    retry_on_failure:\n      initial_interval: 10ms\n  otlp:\n    endpoint: {a}\n    tls:\n      insecure: true\n    retry_on_failure:\n      initial_interval: 10ms\n"
    );
    let h = pipeline(&exporters, "otlphttp, otlp").await;
    assert_eq!(send(&h, 1, 3).await, 1);
    wait(|| sink.spans() == 6).await;
    {
        let reqs = sink.state.requests.lock();
        assert_eq!(reqs.len(), 4, "two throttled attempts and two successes");
        // Each exporter's second attempt came at least the server's second after the first.
        for path in [
            "/v1/traces",
            "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        ] {
            let times: Vec<Instant> = reqs
                .iter()
                .filter(|r| r.path == path)
                .map(|r| r.at)
                .collect();
            assert_eq!(times.len(), 2, "{path}");
            assert!(
                times[1] - times[0] >= Duration::from_millis(950),
                "{path}: {:?}",
                times[1] - times[0]
            );
        }
        // No upper bound: how late the retry comes on a loaded machine is not the
        // exporter's doing; `wait` above gives up after 5 s.
    }
    h.shutdown(Duration::from_secs(5)).await;
    sink.stop();
}

/// Go retries RESOURCE_EXHAUSTED whenever the status carries a RetryInfo, with a delay or
/// not (exporterhelper's `shouldRetry` checks `retryInfo != nil`; the delay only sets the
/// wait): `exporter/otlpexporter/otlp.go`, `shouldRetry` and `getRetryInfo`, v0.138.0.
#[tokio::test]
async fn resource_exhausted_with_a_bare_retry_info_is_retried() {
    let sink = Sink::start(None).await;
    let a = sink.addr;
    sink.then(Answer::GrpcBareRetryInfo(8));
    let exporters = format!(
        "  otlp:\n    endpoint: {a}\n    tls:\n      insecure: true\n    retry_on_failure:\n      initial_interval: 10ms\n"
    );
    let h = pipeline(&exporters, "otlp").await;
    assert_eq!(send(&h, 1, 5).await, 1);
    wait(|| sink.spans() == 5).await;
    assert_eq!(sink.requests(), 2);
    assert_eq!(
        metric(&h, "otelcol_exporter_send_failed_spans_total", ""),
        0.0
    );
    let report = h.shutdown(Duration::from_secs(5)).await;
    assert_eq!((report.delivered_items, report.dropped_items), (5, 0));
    sink.stop();
}

#[tokio::test]
async fn permanent_errors_are_dropped_after_one_attempt() {
    let sink = Sink::start(None).await;
    let a = sink.addr;
    sink.then(Answer::Http(400, None));
    sink.then(Answer::Grpc(3, None));
    // RESOURCE_EXHAUSTED without RetryInfo is permanent too.
    sink.then(Answer::Grpc(8, None));
    let exporters = format!(
        "  otlphttp:\n    endpoint: http://{a}\n  otlp:\n    endpoint: {a}\n    tls:\n      insecure: true\n"
    );
    let h = pipeline(&exporters, "otlphttp, otlp").await;
    assert_eq!(send(&h, 1, 5).await, 1);
    wait(|| metric(&h, "otelcol_exporter_send_failed_spans_total", "") == 10.0).await;
    assert_eq!(sink.requests(), 2);
    // The next request goes through (the third scripted answer), is dropped too.
    assert_eq!(send(&h, 1, 5).await, 1);
    wait(|| sink.requests() == 4).await;
    let report = h.shutdown(Duration::from_secs(5)).await;
    assert_eq!(report.dropped_items, 15);
    assert_eq!(report.delivered_items, 5);
    sink.stop();
}

#[tokio::test]
async fn partial_success_is_counted_not_retried() {
    let sink = Sink::start(None).await;
    sink.then(Answer::Partial(2));
    let exporters = format!(
        "  otlp:\n    endpoint: {}\n    tls:\n      insecure: true\n",
        sink.addr
    );
    let h = pipeline(&exporters, "otlp").await;
    send(&h, 1, 5).await;
    wait(|| {
        metric(
            &h,
            "otelcol_exporter_partial_success_rejected_spans_total",
            "",
        ) == 2.0
    })
    .await;
    assert_eq!(sink.requests(), 1);
    h.shutdown(Duration::from_secs(5)).await;
    sink.stop();
}

#[tokio::test]
async fn a_slow_backend_fills_the_queue_then_the_sender_is_refused() {
    let sink = Sink::start(None).await;
    // The backend holds every request until the test lets go: slow for exactly as long
    // as needed, whatever the machine's load.
    sink.close_gate();
    let exporters = format!(
        "  otlp:\n    endpoint: {}\n    tls:\n      insecure: true\n    sending_queue:\n      queue_size: 2\n      num_consumers: 1\n",
        sink.addr
    );
    let h = pipeline(&exporters, "otlp").await;
    let status = || async {
        http(post(http_addr(&h), "/v1/traces", PROTO, None, traces(1, 1)))
            .await
            .status
    };
    // The first request is taken off the queue and held in flight at the backend...
    assert_eq!(status().await, 200);
    wait(|| sink.arrived() == 1).await;
    // ...so the queue takes the next two and refuses the rest with 503 (retryable):
    // nothing is silently dropped.
    let mut answers = Vec::new();
    for _ in 0..9 {
        answers.push(status().await);
    }
    assert_eq!(answers, [200, 200, 503, 503, 503, 503, 503, 503, 503]);
    assert_eq!(
        metric(&h, "otelcol_exporter_enqueue_failed_spans_total", ""),
        7.0
    );
    sink.open_gate();
    wait(|| sink.spans() == 3).await;
    let report = h.shutdown(Duration::from_secs(5)).await;
    assert_eq!((report.delivered_items, report.dropped_items), (3, 0));
    assert_eq!(sink.requests(), 3);
    sink.stop();
}

#[tokio::test]
async fn one_exporter_down_does_not_stop_the_other() {
    let sink = Sink::start(None).await;
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let exporters = format!(
        "  otlp/down:\n    endpoint: {dead}\n    tls:\n      insecure: true\n    sending_queue:\n      queue_size: 3\n      num_consumers: 1\n    retry_on_failure:\n      initial_interval: 1s\n  otlp/up:\n    endpoint: {}\n    tls:\n      insecure: true\n",
        sink.addr
    );
    let h = pipeline(&exporters, "otlp/down, otlp/up").await;
    assert_eq!(
        send(&h, 20, 2).await,
        20,
        "the healthy exporter takes everything"
    );
    wait(|| sink.spans() == 40).await;
    // The full queue of the dead exporter dropped and counted what it could not hold.
    let dropped = metric(
        &h,
        "otelcol_exporter_dropped_spans_total",
        "exporter=\"otlp/down\"",
    );
    assert!(dropped >= 30.0, "dropped {dropped}");
    h.shutdown(Duration::from_millis(200)).await;
    sink.stop();
}

#[tokio::test]
async fn shutdown_gives_queued_data_one_attempt_within_the_deadline() {
    let sink = Sink::start(None).await;
    sink.delay(Duration::from_millis(200));
    let exporters = format!(
        "  otlp:\n    endpoint: {}\n    tls:\n      insecure: true\n    sending_queue:\n      num_consumers: 1\n",
        sink.addr
    );
    let h = pipeline(&exporters, "otlp").await;
    assert_eq!(send(&h, 30, 1).await, 30);
    let t0 = Instant::now();
    let report = h.shutdown(Duration::from_millis(1000)).await;
    // Draining all 30 at the backend's pace would take 6 s: a shutdown that ends well
    // before that stopped at its deadline. The bound is wide because a loaded machine
    // may take a while past the deadline to wind down; `dropped_items > 0` is the exact
    // check that the deadline cut the drain short.
    assert!(t0.elapsed() < Duration::from_secs(4), "{:?}", t0.elapsed());
    assert_eq!(report.delivered_items + report.dropped_items, 30);
    assert!(report.dropped_items > 0, "the deadline cut the queue short");
    // The one request in flight at the deadline is counted dropped even if the backend
    // had already counted it.
    let got = sink.spans();
    assert!(
        (report.delivered_items..=report.delivered_items + 1).contains(&got),
        "backend {got}, delivered {}",
        report.delivered_items
    );
    sink.stop();
}

fn tempdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "collector-test-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[tokio::test]
async fn block_on_overflow_waits_for_room_instead_of_refusing() {
    let sink = Sink::start(None).await;
    sink.delay(Duration::from_millis(100));
    let exporters = format!(
        "  otlp:\n    endpoint: {}\n    tls:\n      insecure: true\n    sending_queue:\n      queue_size: 1\n      num_consumers: 1\n      block_on_overflow: true\n",
        sink.addr
    );
    let h = pipeline(&exporters, "otlp").await;
    let addr = http_addr(&h);
    let senders: Vec<_> = (0..6)
        .map(|_| {
            tokio::spawn(async move {
                http(post(addr, "/v1/traces", PROTO, None, traces(1, 2)))
                    .await
                    .status
            })
        })
        .collect();
    for s in senders {
        assert_eq!(
            s.await.unwrap(),
            200,
            "a blocking exporter makes senders wait, not fail"
        );
    }
    wait(|| sink.spans() == 12).await;
    assert_eq!(
        metric(&h, "otelcol_exporter_enqueue_failed_spans_total", ""),
        0.0
    );
    h.shutdown(Duration::from_secs(5)).await;
    sink.stop();
}

/// Without a queue (`sending_queue: {enabled: false}`) export happens while the client
/// waits, and the client's answer is the backend's, as in Go: a permanent refusal reaches
/// it as INVALID_ARGUMENT / 400, a retryable one (retries off here) as UNAVAILABLE / 503.
#[tokio::test]
async fn without_a_queue_the_client_hears_the_backend() {
    let sink = Sink::start(None).await;
    let a = sink.addr;
    let exporters = format!(
        "  otlp:\n    endpoint: {a}\n    tls:\n      insecure: true\n    sending_queue:\n      enabled: false\n    retry_on_failure:\n      enabled: false\n"
    );
    let h = pipeline(&exporters, "otlp").await;
    let body = traces(1, 5);
    // Over HTTP.
    sink.then(Answer::Grpc(3, None));
    let r = http(post(http_addr(&h), "/v1/traces", PROTO, None, body.clone())).await;
    assert_eq!(r.status, 400);
    sink.then(Answer::Grpc(14, None));
    let r = http(post(http_addr(&h), "/v1/traces", PROTO, None, body.clone())).await;
    assert_eq!(r.status, 503);
    let r = http(post(http_addr(&h), "/v1/traces", PROTO, None, body.clone())).await;
    assert_eq!(r.status, 200);
    // Over gRPC.
    sink.then(Answer::Grpc(3, None));
    let g = grpc(grpc_addr(&h), TRACES_PATH, None, false, &body).await;
    assert_eq!(g.status, 3, "{}", g.message);
    sink.then(Answer::Grpc(14, None));
    let g = grpc(grpc_addr(&h), TRACES_PATH, None, false, &body).await;
    assert_eq!(g.status, 14, "{}", g.message);
    let g = grpc(grpc_addr(&h), TRACES_PATH, None, false, &body).await;
    assert_eq!(g.status, 0, "{}", g.message);
    assert_eq!(sink.requests(), 6);
    assert_eq!(sink.spans(), 10);
    // The refused requests were answered, not dropped: the clients know.
    let report = h.shutdown(Duration::from_secs(5)).await;
    assert_eq!((report.delivered_items, report.dropped_items), (10, 0));
    sink.stop();
}

/// `wait_for_result: true` gives the same answers with the queue on.
#[tokio::test]
async fn wait_for_result_answers_with_the_export() {
    let sink = Sink::start(None).await;
    let a = sink.addr;
    let exporters = format!(
        "  otlphttp:\n    endpoint: http://{a}\n    sending_queue:\n      wait_for_result: true\n    retry_on_failure:\n      enabled: false\n"
    );
    let h = pipeline(&exporters, "otlphttp").await;
    let body = traces(1, 5);
    sink.then(Answer::Http(400, None));
    let r = http(post(http_addr(&h), "/v1/traces", PROTO, None, body.clone())).await;
    assert_eq!(r.status, 400);
    let r = http(post(http_addr(&h), "/v1/traces", PROTO, None, body.clone())).await;
    assert_eq!(r.status, 200);
    let report = h.shutdown(Duration::from_secs(5)).await;
    assert_eq!((report.delivered_items, report.dropped_items), (5, 0));
    sink.stop();
}

/// Shutdown under load with one backend that never answers and one healthy: the healthy
/// exporter delivers everything it was given, the shutdown ends inside its timeout, and
/// what the dead backend kept is dropped and counted with the reason `shutdown`.
#[tokio::test]
async fn shutdown_with_a_blackholed_backend_stays_inside_its_timeout() {
    let healthy = Sink::start(None).await;
    // Accepts connections and never answers.
    let hole = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hole_addr = hole.local_addr().unwrap();
    let held = std::sync::Arc::new(parking_lot::Mutex::new(Vec::new()));
    let keep = held.clone();
    let holder = tokio::spawn(async move {
        while let Ok((s, _)) = hole.accept().await {
            keep.lock().push(s);
        }
    });
    let exporters = format!(
        "  otlp/healthy:\n    endpoint: {}\n    tls:\n      insecure: true\n  otlp/blackhole:\n    endpoint: {hole_addr}\n    tls:\n      insecure: true\n    timeout: 60s\n    sending_queue:\n      num_consumers: 2\n",
        healthy.addr
    );
    let h = pipeline(&exporters, "otlp/healthy, otlp/blackhole").await;
    let mut accepted = 0;
    for _ in 0..40 {
        let r = http(post(
            http_addr(&h),
            "/v1/traces",
            PROTO,
            None,
            traces(1, 10),
        ))
        .await;
        if r.status == 200 {
            accepted += 10;
        }
    }
    assert_eq!(accepted, 400);
    let timeout = Duration::from_secs(3);
    let started = Instant::now();
    let report = h.shutdown(timeout).await;
    let took = started.elapsed();
    assert!(took <= timeout, "shutdown took {took:?}");
    assert_eq!(healthy.spans(), 400);
    // Everything the blackhole was given is dropped, counted with a reason.
    assert_eq!(report.delivered_items, 400);
    assert_eq!(report.dropped_items, 400);
    assert_eq!(
        metric(
            &h,
            "otelcol_dropped_items_total",
            "component=\"otlp/blackhole\",reason=\"shutdown\""
        ),
        400.0
    );
    holder.abort();
    healthy.stop();
}

/// A header name no request can carry (a space in it): Go loads the config, starts, and
/// every export fails, retryably over HTTP (net/http refuses the request) and for good
/// over gRPC (grpc-go's `Internal`). `validate` and start agree: both accept it.
#[tokio::test]
async fn a_header_go_loads_starts_and_fails_each_export_as_go_does() {
    let sink = Sink::start(None).await;
    let a = sink.addr;
    let exporters = format!(
        "  otlp/bad:\n    endpoint: {a}\n    tls:\n      insecure: true\n    retry_on_failure:\n      enabled: false\n    headers:\n      \"bad key\": v\n  otlphttp/bad:\n    endpoint: http://{a}\n    retry_on_failure:\n      enabled: false\n    headers:\n      \"bad key\": v\n  otlphttp/good:\n    endpoint: http://{a}\n"
    );
    let h = pipeline(&exporters, "otlp/bad, otlphttp/bad, otlphttp/good").await;
    assert_eq!(send(&h, 3, 10).await, 3);
    wait(|| sink.spans() == 30).await;
    wait(|| {
        metric(&h, "otelcol_exporter_send_failed_spans", "otlp/bad") == 30.0
            && metric(&h, "otelcol_exporter_send_failed_spans", "otlphttp/bad") == 30.0
    })
    .await;
    assert_eq!(
        metric(&h, "otelcol_dropped_items", "reason=\"permanent\""),
        30.0,
        "gRPC: permanent"
    );
    assert_eq!(
        metric(&h, "otelcol_dropped_items", "reason=\"retries_exhausted\""),
        30.0,
        "HTTP: retryable, retries off"
    );
    h.shutdown(Duration::from_secs(2)).await;
    sink.stop();
}
