//! Unit tests that look inside decoded component configs.

use super::component::ComponentConfig;
use super::*;

#[test]
fn secret_0123_through_env_arrives_as_text() {
    let yaml = "receivers:
  otlp:
    protocols:
      grpc:
exporters:
  otlp:
    endpoint: sink:4317
    headers:
      signoz-ingestion-key: ${env:KEY}
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlp]
";
    let cfg = Loader::new()
        .env(|k| (k == "KEY").then(|| "0123".to_owned()))
        .document("c.yaml", yaml)
        .load()
        .unwrap();
    let ComponentConfig::OtlpGrpc(exp) = &cfg.exporters[0].config else {
        panic!("not an otlp exporter");
    };
    assert_eq!(exp.headers["signoz-ingestion-key"].expose(), "0123");
    assert!(
        !format!("{exp:?}").contains("0123"),
        "Debug shows the secret"
    );
}

#[test]
fn protocol_blocks_are_enabled_by_presence() {
    let cfg = Config::from_yaml(
        "receivers:
  otlp:
    protocols:
      http:
exporters:
  debug:
service:
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [debug]
",
    )
    .unwrap();
    let ComponentConfig::OtlpReceiver(r) = &cfg.receivers[0].config else {
        panic!("not an otlp receiver");
    };
    assert!(r.protocols.grpc.is_none());
    let http = r.protocols.http.as_ref().unwrap();
    assert_eq!(http.endpoint, "localhost:4318");
    assert_eq!(http.traces_url_path, "/v1/traces");
}

#[test]
fn listeners_cover_used_components_only() {
    let cfg = Config::from_yaml(
        "receivers:
  otlp:
    protocols:
      grpc:
  otlp/unused:
    protocols:
      grpc:
exporters:
  debug:
extensions:
  health_check:
service:
  extensions: [health_check]
  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: 0.0.0.0
                port: 9464
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
",
    )
    .unwrap();
    let l: Vec<String> = cfg.listeners().into_iter().map(|(a, _)| a).collect();
    assert_eq!(l, ["localhost:4317", "localhost:13133", "0.0.0.0:9464"]);
}
