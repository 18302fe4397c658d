//! The `zpages` extension (core extension/zpagesextension v0.138): its pages answer a real
//! HTTP client with the pipelines, their components and live item counts.

#![allow(clippy::unwrap_used)]

mod support;

#[tokio::test]
async fn pages_show_pipelines_and_live_counts() {
    let h = support::start(
        "extensions:
  zpages:
    endpoint: 127.0.0.1:0
    expvar: {enabled: true}
  health_check:
    endpoint: 127.0.0.1:0
service:
  extensions: [zpages, health_check]
  telemetry:
    metrics:
      level: normal
",
        None,
    )
    .await;
    let zp = support::addr_of(&h, "zpages", 0);
    // 7 spans through the OTLP/HTTP receiver (its second address: gRPC comes first).
    let otlp_http = support::addr_of(&h, "otlp", 1);
    let r = support::http(support::post(
        otlp_http,
        "/v1/traces",
        "application/x-protobuf",
        None,
        support::traces(1, 7),
    ))
    .await;
    assert_eq!(r.status, 200);
    let sent =
        support::eventually(|| support::metric(&h, "otelcol_exporter_sent_spans", "debug") >= 7.0)
            .await;
    assert!(sent, "{}", h.metrics_text());

    let s = support::get(zp, "/debug/servicez").await;
    assert_eq!(s.status, 200);
    assert_eq!(s.headers["content-type"], "text/html; charset=utf-8");
    let body = String::from_utf8(s.body.to_vec()).unwrap();
    assert!(
        body.contains(env!("CARGO_PKG_VERSION")) && body.contains("Uptime"),
        "{body}"
    );

    let p = String::from_utf8(support::get(zp, "/debug/pipelinez").await.body.to_vec()).unwrap();
    for want in [
        "Pipeline traces",
        "Pipeline metrics",
        "Pipeline logs",
        "<td>otlp</td>",
        "<td>debug</td>",
    ] {
        assert!(p.contains(want), "{want} missing from {p}");
    }
    let traces = &p[p.find("Pipeline traces").unwrap()..];
    let traces = &traces[..traces.find("</table>").unwrap()];
    assert!(
        traces.contains("<td class=\"n\">7</td>"),
        "live counts: {traces}"
    );
    assert!(traces.contains(" / 1000"), "queue capacity: {traces}");

    let e = String::from_utf8(support::get(zp, "/debug/extensionz").await.body.to_vec()).unwrap();
    assert!(
        e.contains("<td>zpages</td>") && e.contains("<td>health_check</td>"),
        "{e}"
    );

    let x = support::get(zp, "/debug/expvar").await;
    assert_eq!(x.headers["content-type"], "application/json");
    let v: serde_json::Value = serde_json::from_slice(&x.body).unwrap();
    assert!(
        v.as_object()
            .unwrap()
            .keys()
            .any(|k| k.starts_with("otelcol_receiver_accepted_spans"))
    );

    // What Go serves from its SDK and feature gates is not here.
    assert_eq!(support::get(zp, "/debug/tracez").await.status, 404);
    h.shutdown(std::time::Duration::from_secs(5)).await;
}

#[tokio::test]
async fn expvar_is_off_by_default_and_the_endpoint_is_required() {
    let h = support::start(
        "extensions:
  zpages:
    endpoint: 127.0.0.1:0
service:
  extensions: [zpages]
",
        None,
    )
    .await;
    let zp = support::addr_of(&h, "zpages", 0);
    assert_eq!(support::get(zp, "/debug/expvar").await.status, 404);
    h.shutdown(std::time::Duration::from_secs(5)).await;

    let e = collector_core::config::Loader::new()
        .document("z.yaml", "extensions:\n  zpages:\n    endpoint: \"\"\nreceivers: {nop: {}}\nexporters: {nop: {}}\nservice:\n  extensions: [zpages]\n  pipelines:\n    traces: {receivers: [nop], exporters: [nop]}\n")
        .load()
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("\"endpoint\" is required when using the \"zpages\" extension"),
        "{e}"
    );
}
