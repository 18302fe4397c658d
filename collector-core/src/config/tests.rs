//! Unit tests that look inside decoded component configs.

use super::*;

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
