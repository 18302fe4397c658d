//! The OTLP receiver over real sockets on 127.0.0.1: every content type, encoding and error
//! answer, gRPC framing, admission against the memory budget, and the metrics it counts.

#![allow(clippy::unwrap_used)] // test helpers: a panic is a failing test

mod support;

use std::time::Duration;

use support::*;

const PROTO: &str = "application/x-protobuf";
const JSON: &str = "application/json";

/// Waits until the debug exporter has sent `spans` spans, then says whether it sent exactly
/// that many: a duplicate delivery shows as more. (Tests also check the shutdown report,
/// which counts whatever arrives after this returns.)
async fn delivered(h: &collector_core::CollectorHandle, spans: f64) -> bool {
    let sent = || metric(h, "otelcol_exporter_sent_spans_total", "exporter=\"debug\"");
    eventually(|| sent() >= spans).await && sent() == spans
}

/// Shuts `h` down and asserts what it delivered and dropped, all told.
async fn shutdown_with(h: &collector_core::CollectorHandle, delivered: u64) {
    let report = h.shutdown(Duration::from_secs(5)).await;
    assert_eq!(
        (report.delivered_items, report.dropped_items),
        (delivered, 0)
    );
}

#[tokio::test]
async fn http_protobuf_with_every_encoding() {
    let h = start("", None).await;
    let addr = http_addr(&h);
    let body = traces(2, 5);
    let cases: Vec<(Option<&str>, Vec<u8>)> = vec![
        (None, body.clone()),
        (Some("gzip"), gzip(&body)),
        (Some("zstd"), zstd::bulk::compress(&body, 1).unwrap()),
        (Some("deflate"), zlib(&body)),
        (Some("zlib"), zlib(&body)),
        (
            Some("snappy"),
            snap::raw::Encoder::new().compress_vec(&body).unwrap(),
        ),
        (Some("snappy"), snappy_framed(&body)),
        (Some("x-snappy-framed"), snappy_framed(&body)),
        (Some("lz4"), lz4(&body)),
    ];
    let n = cases.len();
    for (enc, b) in cases {
        let r = http(post(addr, "/v1/traces", PROTO, enc, b)).await;
        assert_eq!(r.status, 200, "{enc:?}: {:?}", r.body);
        assert_eq!(r.headers["content-type"], PROTO);
        assert!(r.body.is_empty());
    }
    assert!(delivered(&h, (10 * n) as f64).await);
    assert_eq!(
        metric(
            &h,
            "otelcol_receiver_accepted_spans_total",
            "transport=\"http\""
        ),
        (10 * n) as f64
    );
    shutdown_with(&h, 10 * n as u64).await;
}

#[tokio::test]
async fn http_json_example_vectors() {
    let h = start("", None).await;
    let addr = http_addr(&h);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/otlp-examples");
    for (file, path, metric_name, items) in [
        (
            "trace.json",
            "/v1/traces",
            "otelcol_receiver_accepted_spans_total",
            1.0,
        ),
        (
            "logs.json",
            "/v1/logs",
            "otelcol_receiver_accepted_log_records_total",
            1.0,
        ),
        (
            "metrics.json",
            "/v1/metrics",
            "otelcol_receiver_accepted_metric_points_total",
            4.0,
        ),
    ] {
        let body = std::fs::read(dir.join(file)).unwrap();
        let r = http(post(
            addr,
            path,
            "application/json; charset=utf-8",
            None,
            body,
        ))
        .await;
        assert_eq!(r.status, 200, "{file}");
        assert_eq!(&r.body[..], b"{\"partialSuccess\":{}}");
        assert_eq!(r.headers["content-type"], JSON);
        assert_eq!(metric(&h, metric_name, ""), items, "{file}");
    }
    h.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn http_errors_have_their_codes() {
    let h = start("", None).await;
    let addr = http_addr(&h);
    let good = traces(1, 1);

    let r = http(post(addr, "/v1/nope", PROTO, None, good.clone())).await;
    assert_eq!(r.status, 404);

    let get = http::Request::get(format!("http://{addr}/v1/traces"))
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    let r = http(get).await;
    assert_eq!(r.status, 405);
    assert_eq!(&r.body[..], b"405 method not allowed, supported: [POST]");

    let r = http(post(addr, "/v1/traces", "text/plain", None, good.clone())).await;
    assert_eq!(r.status, 415);

    // Malformed protobuf: 400 with a Status naming the problem, in the request's encoding.
    let mut bad = good.clone();
    bad.truncate(bad.len() - 3);
    let r = http(post(addr, "/v1/traces", PROTO, None, bad)).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.headers["content-type"], PROTO);
    let text = String::from_utf8_lossy(&r.body);
    assert!(
        text.contains("resource_spans[0]") && text.contains("truncated"),
        "{text}"
    );

    let r = http(post(
        addr,
        "/v1/traces",
        JSON,
        None,
        b"{\"resourceSpans\": 7}".to_vec(),
    ))
    .await;
    assert_eq!(r.status, 400);
    let status: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(status["code"], 3);
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("resourceSpans"),
        "{status}"
    );

    let r = http(post(
        addr,
        "/v1/traces",
        PROTO,
        Some("brotli"),
        good.clone(),
    ))
    .await;
    assert_eq!(r.status, 400);
    assert!(String::from_utf8_lossy(&r.body).contains("unsupported Content-Encoding: brotli"));

    let r = http(post(
        addr,
        "/v1/traces",
        PROTO,
        Some("gzip"),
        b"not gzip".to_vec(),
    ))
    .await;
    assert_eq!(r.status, 400);

    assert!(h.is_ready());
    assert_eq!(metric(&h, "otelcol_receiver_accepted_spans_total", ""), 0.0);
    h.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn oversized_bodies_and_bombs_get_413() {
    let h = start(
        "receivers:\n  otlp:\n    protocols:\n      http:\n        max_request_body_size: 100000\n",
        None,
    )
    .await;
    let addr = http_addr(&h);
    let big = traces(1, 3000);
    assert!(big.len() > 100_000);
    let r = http(post(addr, "/v1/traces", PROTO, None, big.clone())).await;
    assert_eq!(r.status, 413);
    // A small compressed body that expands past the limit.
    let bomb = gzip(&vec![0u8; 4 << 20]);
    assert!(bomb.len() < 100_000);
    let r = http(post(addr, "/v1/traces", PROTO, Some("gzip"), bomb)).await;
    assert_eq!(r.status, 413);
    // Nothing stays reserved once the client's connection is gone.
    assert!(
        eventually(|| h.memory_in_use() == 0).await,
        "{}",
        h.memory_in_use()
    );
    assert!(h.is_ready());
    h.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn over_budget_is_refused_before_reading_with_retry_after() {
    // A budget smaller than one request: it holds the client's connections (28 KiB each,
    // at most three open at once here) and small requests, not this one.
    let h = start("", Some(128 << 10)).await;
    let body = traces(1, 5000);
    assert!(body.len() > 128 << 10);
    let r = http(post(http_addr(&h), "/v1/traces", PROTO, None, body.clone())).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.headers["retry-after"], "1");
    let g = grpc(grpc_addr(&h), TRACES_PATH, None, false, &body).await;
    assert_eq!(g.status, 14, "{}", g.message);
    assert!(g.message.contains("data refused due to high memory usage"));
    assert!(metric(&h, "otelcol_receiver_requests_total", "outcome=\"refused\"") >= 2.0);
    // Small requests still fit.
    let r = http(post(http_addr(&h), "/v1/traces", PROTO, None, traces(1, 1))).await;
    assert_eq!(r.status, 200);
    h.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn cors_preflight_and_headers() {
    let h = start(
        "receivers:\n  otlp:\n    protocols:\n      http:\n        cors:\n          allowed_origins: [\"https://*.example.com\"]\n          allowed_headers: [x-custom]\n          max_age: 600\n",
        None,
    )
    .await;
    let addr = http_addr(&h);
    let pre = |origin: &str, headers: &str| {
        http::Request::options(format!("http://{addr}/v1/traces"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", headers)
            .body(http_body_util::Full::new(bytes::Bytes::new()))
            .unwrap()
    };
    let r = http(pre("https://app.example.com", "content-type, x-custom")).await;
    assert_eq!(r.status, 204);
    assert_eq!(
        r.headers["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert_eq!(r.headers["access-control-allow-methods"], "POST");
    assert_eq!(r.headers["access-control-max-age"], "600");
    let r = http(pre("https://evil.org", "content-type")).await;
    assert!(!r.headers.contains_key("access-control-allow-origin"));
    let r = http(pre("https://app.example.com", "x-not-allowed")).await;
    assert!(!r.headers.contains_key("access-control-allow-origin"));
    // A simple request from an allowed origin gets the header.
    let mut req = post(addr, "/v1/traces", PROTO, None, traces(1, 1));
    req.headers_mut()
        .insert("origin", "https://a.example.com".parse().unwrap());
    let r = http(req).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.headers["access-control-allow-origin"],
        "https://a.example.com"
    );
    h.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn grpc_every_encoding_and_error() {
    let h = start("", None).await;
    let addr = grpc_addr(&h);
    let body = traces(1, 4);
    for (enc, compressed, msg) in [
        (None, false, body.clone()),
        (Some("identity"), false, body.clone()),
        (Some("gzip"), true, gzip(&body)),
        (Some("zstd"), true, zstd::bulk::compress(&body, 1).unwrap()),
        (Some("snappy"), true, snappy_framed(&body)),
        (Some("gzip"), false, body.clone()),
    ] {
        let r = grpc(addr, TRACES_PATH, enc, compressed, &msg).await;
        assert_eq!(
            (r.http_status, r.status),
            (200, 0),
            "{enc:?}: {}",
            r.message
        );
    }
    assert!(delivered(&h, 24.0).await);

    let mut bad = body.clone();
    bad[2] = 0xff;
    let r = grpc(addr, TRACES_PATH, None, false, &bad).await;
    assert_eq!(r.status, 3, "{}", r.message);
    assert!(r.message.contains("resource_spans[0]"), "{}", r.message);

    let r = grpc(
        addr,
        "/opentelemetry.proto.collector.trace.v1.TraceService/Nope",
        None,
        false,
        &body,
    )
    .await;
    assert_eq!(r.status, 12);

    let r = grpc(addr, TRACES_PATH, Some("br"), true, &body).await;
    assert_eq!(r.status, 12);

    let big = traces(1, 150_000);
    assert!(big.len() > 4 << 20);
    let r = grpc(addr, TRACES_PATH, None, false, &big).await;
    assert_eq!(r.status, 8, "{}", r.message);

    let bomb = gzip(&vec![0u8; 64 << 20]);
    let r = grpc(addr, TRACES_PATH, Some("gzip"), true, &bomb).await;
    assert_eq!(r.status, 8, "{}", r.message);
    assert!(
        eventually(|| h.memory_in_use() == 0).await,
        "{}",
        h.memory_in_use()
    );
    // The refused requests delivered nothing.
    shutdown_with(&h, 24).await;
}

#[tokio::test]
async fn bad_inputs_do_not_disturb_a_good_client() {
    let h = start("", None).await;
    let (g, ha) = (grpc_addr(&h), http_addr(&h));
    let good = tokio::spawn(async move {
        for _ in 0..50 {
            let r = grpc(g, TRACES_PATH, None, false, &traces(1, 10)).await;
            assert_eq!(r.status, 0, "{}", r.message);
        }
    });
    let bad = tokio::spawn(async move {
        for i in 0..50u8 {
            // One of the first five bytes flipped: the resource_spans length, the
            // scope_spans tag or its length; every variant is malformed.
            let mut b = traces(1, 10);
            b[1 + (i as usize % 5)] ^= 0x55;
            let r = grpc(g, TRACES_PATH, None, false, &b).await;
            assert_eq!(r.status, 3, "byte {}: {}", 1 + i % 5, r.message);
            let r = http(post(ha, "/v1/traces", "text/plain", None, b.clone())).await;
            assert_eq!(r.status, 415);
            let r = http(post(ha, "/v1/traces", PROTO, Some("gzip"), b)).await;
            assert_eq!(r.status, 400, "{:?}", r.body);
        }
    });
    good.await.unwrap();
    bad.await.unwrap();
    assert!(h.is_ready());
    // Exactly the good client's 500 spans: nothing of the bad requests got in, and
    // nothing was counted or delivered twice.
    assert_eq!(
        metric(
            &h,
            "otelcol_receiver_accepted_spans_total",
            "transport=\"grpc\""
        ),
        500.0
    );
    assert_eq!(
        metric(
            &h,
            "otelcol_receiver_accepted_spans_total",
            "transport=\"http\""
        ),
        0.0
    );
    assert!(delivered(&h, 500.0).await);
    shutdown_with(&h, 500).await;
}

#[tokio::test]
async fn shutdown_delivers_what_was_accepted() {
    let h = start("", None).await;
    for _ in 0..20 {
        let r = http(post(http_addr(&h), "/v1/traces", PROTO, None, traces(1, 7))).await;
        assert_eq!(r.status, 200);
    }
    let report = h.shutdown(Duration::from_secs(5)).await;
    assert_eq!(report.delivered_items, 140);
    assert_eq!(report.dropped_items, 0);
    assert!(!h.is_ready());
    // The listeners are closed.
    assert!(std::net::TcpStream::connect(http_addr(&h)).is_err());
}

#[tokio::test]
async fn metrics_count_exactly_what_was_sent() {
    let h = start("", None).await;
    for _ in 0..3 {
        let r = grpc(grpc_addr(&h), TRACES_PATH, None, false, &traces(2, 3)).await;
        assert_eq!(r.status, 0, "{}", r.message);
        let r = http(post(http_addr(&h), "/v1/traces", PROTO, None, traces(1, 5))).await;
        assert_eq!(r.status, 200);
    }
    let logs = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/otlp-examples/logs.json"),
    )
    .unwrap();
    let r = http(post(http_addr(&h), "/v1/logs", JSON, None, logs)).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        metric(
            &h,
            "otelcol_receiver_accepted_spans_total",
            "receiver=\"otlp\",transport=\"grpc\""
        ),
        18.0
    );
    assert_eq!(
        metric(
            &h,
            "otelcol_receiver_accepted_spans_total",
            "receiver=\"otlp\",transport=\"http\""
        ),
        15.0
    );
    assert_eq!(
        metric(&h, "otelcol_receiver_accepted_log_records_total", ""),
        1.0
    );
    assert!(delivered(&h, 33.0).await);
    assert_eq!(
        metric(
            &h,
            "otelcol_receiver_requests_total",
            "transport=\"grpc\",outcome=\"success\""
        ),
        3.0
    );
    // 33 spans and the example's one log record.
    shutdown_with(&h, 34).await;
}
