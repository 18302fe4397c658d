//! Loading configuration: sources, merging, expansion, validation messages.
//!
//! Where an expected message is the Go collector's, the test names the Go source it
//! follows: open-telemetry/opentelemetry-collector at tag v0.138.0 (line numbers of that
//! tag), or -contrib (file and function), or the Go standard library. The
//! `source:line: key::path: ` prefix is ours; the text after it is Go's.

#![allow(clippy::unwrap_used)] // test helpers: a panic is a failing test

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use collector_core::config::Loader;
use collector_core::{Config, ErrorKind};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + Send + Sync + 'static {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

const SEED_ENV: &[(&str, &str)] = &[
    ("SIGNOZ_ENDPOINT", "ingest.eu.signoz.cloud:443"),
    ("SIGNOZ_INGESTION_KEY", "sk-planted-secret-4711"),
    ("AWS_REGION", "eu-west-1"),
    ("S3_LOGS_BUCKET", "my-otel-logs"),
    ("ENVIRONMENT", "production"),
];

fn load_doc(yaml: &str) -> Result<Config, collector_core::Error> {
    Loader::new()
        .env(env(&[]))
        .document("cfg.yaml", yaml)
        .load()
}

fn errors_of(yaml: &str) -> String {
    let e = load_doc(yaml).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    e.message().to_owned()
}

const MINIMAL: &str = "receivers:
  otlp:
    protocols:
      grpc:
exporters:
  debug:
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
";

#[test]
fn seed_config_loads_with_its_variables() {
    let cfg = Loader::new()
        .env(env(SEED_ENV))
        .config(data("seed-sidecar.yaml").to_str().unwrap())
        .load()
        .unwrap();
    let yaml = cfg.to_yaml();
    for want in [
        "timeout: 10s",
        "send_batch_size: 1000",
        "limit_percentage: 75",
        "endpoint: ingest.eu.signoz.cloud:443",
        "s3_prefix: otel-logs/production",
        "region: eu-west-1",
        "signoz-ingestion-key: \"[REDACTED]\"",
        "detectors:\n",
    ] {
        assert!(yaml.contains(want), "{want:?} missing from\n{yaml}");
    }
    assert!(
        !yaml.contains("sk-planted-secret-4711"),
        "secret leaked:\n{yaml}"
    );
    assert!(cfg.warnings().is_empty(), "{:?}", cfg.warnings());
    // Every component of the seed is known (loading refuses unknown types).
}

#[test]
fn seed_config_from_an_env_variable_as_ecs_passes_it() {
    let text = std::fs::read_to_string(data("seed-sidecar.yaml")).unwrap();
    let mut vars: Vec<(&str, &str)> = SEED_ENV.to_vec();
    vars.push(("OTEL_CONFIG", &text));
    let cfg = Loader::new()
        .env(env(&vars))
        .config("env:OTEL_CONFIG")
        .load()
        .unwrap();
    assert!(cfg.to_yaml().contains("s3_bucket: my-otel-logs"));
    // And packed, for the 4 KB limit on task definition variables.
    let packed = collector_core::config::pack(text.as_bytes()).unwrap();
    assert!(
        packed.len() < text.len(),
        "{} >= {}",
        packed.len(),
        text.len()
    );
    vars.push(("OTEL_CONFIG_PACKED", &packed));
    let cfg2 = Loader::new()
        .env(env(&vars))
        .config("env:OTEL_CONFIG_PACKED")
        .load()
        .unwrap();
    assert_eq!(cfg.to_yaml(), cfg2.to_yaml());
}

#[test]
fn unset_seed_variables_are_warnings_then_validation_errors() {
    let err = Loader::new()
        .env(env(&[]))
        .config(data("seed-sidecar.yaml").to_str().unwrap())
        .load()
        .unwrap_err();
    let msg = err.message();
    // Go: exporter/otlpexporter/config.go:41 (Config.Validate); contrib:
    // internal/coreinternal/attraction/attraction.go, NewAttrProc (INSERT/UPDATE/UPSERT
    // without a value source); contrib: exporter/awss3exporter/config.go, Config.Validate.
    assert!(
        msg.contains("seed-sidecar.yaml:36: exporters::otlp/signoz::endpoint: requires a non-empty \"endpoint\""),
        "{msg}"
    );
    // `value: ${ENVIRONMENT}` unset leaves the action without a value, as in Go.
    assert!(
        msg.contains(
            "processors::resource::attributes: error creating AttrProc. Either field \"value\""
        ),
        "{msg}"
    );
    assert!(
        msg.contains("exporters::awss3::s3uploader::region: region is required"),
        "{msg}"
    );
}

#[test]
fn unknown_key_names_path_source_and_line() {
    let msg = errors_of(&format!(
        "{MINIMAL}processors:\n  batch:\n    timeot: 2s\n    also_bad: 1\n"
    ));
    assert!(
        msg.contains("cfg.yaml:14: processors::batch::timeot: unknown key \"timeot\""),
        "{msg}"
    );
    assert!(
        msg.contains("cfg.yaml:15: processors::batch::also_bad: unknown key \"also_bad\""),
        "{msg}"
    );
}

#[test]
fn wrong_type_names_path_source_and_line() {
    let msg = errors_of(&format!(
        "{MINIMAL}processors:\n  batch:\n    send_batch_size: lots\n"
    ));
    assert!(
        msg.contains(
            "cfg.yaml:14: processors::batch::send_batch_size: expected an integer, found \"lots\""
        ),
        "{msg}"
    );
}

#[test]
fn bad_duration_names_path_source_and_line() {
    // Go: time.ParseDuration's errors (src/time/format.go, Go standard library), which
    // the Go collector reports for a duration field.
    for (value, want) in [
        ("10x", "time: unknown unit \"x\" in duration \"10x\""),
        ("\"10\"", "time: missing unit in duration \"10\""),
        ("soon", "time: invalid duration \"soon\""),
    ] {
        let msg = errors_of(&format!(
            "{MINIMAL}processors:\n  batch:\n    timeout: {value}\n"
        ));
        assert!(
            msg.contains(&format!("cfg.yaml:14: processors::batch::timeout: {want}")),
            "{msg}"
        );
    }
    // Valid forms, including a bare integer (nanoseconds, as in Go).
    for value in ["10s", "500ms", "1m30s", "1.5h", "0", "5"] {
        load_doc(&format!(
            "{MINIMAL}processors:\n  batch:\n    timeout: {value}\n"
        ))
        .unwrap();
    }
}

#[test]
fn component_validation_uses_go_messages() {
    // Go: internal/memorylimiter/config.go:14 (errCheckIntervalOutOfRange) and 17
    // (errSpikeLimitOutOfRange); processor/batchprocessor/config.go:56 (Config.Validate).
    let msg = errors_of(&format!(
        "{MINIMAL}processors:\n  memory_limiter:\n    limit_mib: 100\n    spike_limit_mib: 200\n  batch:\n    send_batch_size: 10\n    send_batch_max_size: 5\n"
    ));
    for want in [
        "cfg.yaml:13: processors::memory_limiter::check_interval: 'check_interval' must be greater than zero",
        "cfg.yaml:15: processors::memory_limiter::spike_limit_mib: 'spike_limit_mib' must be smaller than 'limit_mib'",
        "cfg.yaml:18: processors::batch::send_batch_max_size: send_batch_max_size must be greater or equal to send_batch_size",
    ] {
        assert!(msg.contains(want), "{want} not in\n{msg}");
    }
}

#[test]
fn pipelines_must_name_configured_components() {
    let msg = errors_of(
        "receivers:
  otlp:
    protocols:
      http:
exporters:
  debug:
extensions:
  health_check:
service:
  extensions: [health_check, zpages]
  pipelines:
    traces:
      receivers: [otlp, kafka]
      processors: [batch]
      exporters: [debug, otlp/missing]
    logs:
      receivers: [otlp]
",
    );
    // Go: otelcol/config.go:85 (extension), 101 (receiver), 108 (processor), 121
    // (exporter), in Config.Validate; service/pipelines/config.go:19
    // (errMissingServicePipelineExporters).
    for want in [
        "cfg.yaml:10: service::extensions: references extension \"zpages\" which is not configured",
        "cfg.yaml:13: service::pipelines::traces: references receiver \"kafka\" which is not configured",
        "cfg.yaml:14: service::pipelines::traces: references processor \"batch\" which is not configured",
        "cfg.yaml:15: service::pipelines::traces: references exporter \"otlp/missing\" which is not configured",
        "service::pipelines::logs: must have at least one exporter",
    ] {
        assert!(msg.contains(want), "{want} not in\n{msg}");
    }
}

#[test]
fn unsupported_signals_types_and_sections_are_errors() {
    let msg = errors_of(
        "receivers:
  otlp:
    protocols:
      grpc:
processors:
  tail_sampling:
    policies: []
exporters:
  debug:
  logging:
connectors:
  spanmetrics:
service:
  pipelines:
    profiles:
      receivers: [otlp]
      exporters: [debug]
    traces/x:
      receivers: [otlp]
      processors: [batch, batch]
      exporters: [debug]
",
    );
    // Go: otelcol/internal/configunmarshaler/configs.go:69 (errorUnknownType, the logging
    // exporter) and service/pipelines/config.go:85 (a processor listed twice); the "not
    // supported by this collector" messages are ours.
    for want in [
        "cfg.yaml:6: processors::tail_sampling: processor type \"tail_sampling\" is not supported by this collector",
        "exporters::logging: the logging exporter has been deprecated, use the debug exporter instead",
        "connectors: connectors are not supported by this collector yet",
        "service::pipelines::profiles: pipeline \"profiles\": profiles are not supported by this collector",
        "service::pipelines::traces/x: references processor \"batch\" multiple times",
    ] {
        assert!(msg.contains(want), "{want} not in\n{msg}");
    }
}

#[test]
fn two_listeners_on_one_port() {
    let msg = errors_of(
        "receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:4317
      http:
        endpoint: localhost:4317
exporters:
  debug:
extensions:
  health_check:
    endpoint: 0.0.0.0:8888
service:
  extensions: [health_check]
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
",
    );
    assert!(
        msg.contains("cfg.yaml:7: receivers::otlp::protocols::http::endpoint: localhost:4317 is also used by receivers::otlp::protocols::grpc::endpoint"),
        "{msg}"
    );
    assert!(
        msg.contains("service::telemetry::metrics: localhost:8888 is also used by extensions::health_check::endpoint (0.0.0.0:8888)"),
        "{msg}"
    );
}

#[test]
fn yaml_syntax_errors_have_lines() {
    let msg = errors_of("receivers:\n  otlp: [unclosed\nexporters:\n");
    assert!(msg.starts_with("cfg.yaml:"), "{msg}");
    assert!(msg.contains("invalid YAML"), "{msg}");
}

#[test]
fn every_error_is_reported_at_once() {
    let msg = errors_of(
        "receivers:
  otlp:
exporters:
  otlp:
    endpoint: ''
    retry_on_failure:
      randomization_factor: 2
  debug:
    verbosity: loud
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlp]
",
    );
    let lines: Vec<&str> = msg.lines().collect();
    assert!(lines.len() >= 4, "{msg}");
    // Go: receiver/otlpreceiver/config.go:74, exporter/otlpexporter/config.go:41,
    // config/configretry/backoff.go:55. The verbosity message is ours (Go's
    // configtelemetry.Level says `unknown metrics level "loud"`,
    // config/configtelemetry/configtelemetry.go:72).
    for want in [
        "receivers::otlp: must specify at least one protocol when using the OTLP receiver",
        "exporters::otlp::endpoint: requires a non-empty \"endpoint\"",
        "exporters::otlp::retry_on_failure::randomization_factor: 'randomization_factor' must be within [0, 1]",
        "exporters::debug::verbosity: unknown value \"loud\"",
    ] {
        assert!(msg.contains(want), "{want} not in\n{msg}");
    }
}

#[test]
fn sources_merge_and_set_wins() {
    let base = "receivers:
  otlp:
    protocols:
      grpc:
processors:
  batch:
    timeout: 1s
    metadata_keys: [a, b]
exporters:
  debug:
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [debug]
";
    let over = "processors:\n  batch:\n    send_batch_size: 5\n    metadata_keys: [c]\n";
    let cfg = Loader::new()
        .env(env(&[]))
        .set("processors.batch.timeout=7s")
        .document("base.yaml", base)
        .document("over.yaml", over)
        .config("yaml:processors::batch::send_batch_max_size: 9")
        .load()
        .unwrap();
    let y = cfg.to_yaml();
    // Maps merge, lists replace, --set applies last although given first.
    assert!(y.contains("timeout: 7s"), "{y}");
    assert!(y.contains("send_batch_size: 5"), "{y}");
    assert!(y.contains("send_batch_max_size: 9"), "{y}");
    assert!(y.contains("metadata_keys:\n      - c\n"), "{y}");
    // `::` works in --set too.
    let cfg = Loader::new()
        .env(env(&[]))
        .document("base.yaml", base)
        .set("processors::batch::timeout=3s")
        .load()
        .unwrap();
    assert!(cfg.to_yaml().contains("timeout: 3s"));
}

#[test]
fn expansion_types_by_field_and_keeps_secrets_as_text() {
    let yaml = "receivers:
  otlp:
    protocols:
      grpc:
        include_metadata: ${env:META}
processors:
  batch:
    send_batch_size: ${env:SIZE}
    timeout: ${env:MISSING:-3s}
exporters:
  otlp:
    endpoint: ${SINK}:4317
    headers:
      key: ${env:KEY}
      literal: $${env:KEY}
      empty: ${env:UNSET}
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [otlp]
";
    let cfg = Loader::new()
        .env(env(&[
            ("META", "true"),
            ("SIZE", "42"),
            ("SINK", "collector"),
            ("KEY", "0123"),
        ]))
        .document("cfg.yaml", yaml)
        .load()
        .unwrap();
    let y = cfg.to_yaml();
    assert!(y.contains("include_metadata: true"), "{y}");
    assert!(y.contains("send_batch_size: 42"), "{y}");
    assert!(y.contains("timeout: 3s"), "{y}");
    assert!(y.contains("endpoint: collector:4317"), "{y}");
    assert_eq!(cfg.warnings().len(), 1, "{:?}", cfg.warnings());
    assert!(cfg.warnings()[0].contains("unset environment variable \"UNSET\""));
    // Headers are redacted in print-config; the unit tests in config/tests.rs check that
    // `0123` reaches the typed header value as text.
    assert!(y.contains("key: \"[REDACTED]\""), "{y}");
}

#[test]
fn a_whole_value_reference_to_0123_stays_text_in_a_string_field() {
    let yaml = "receivers:
  otlp:
    protocols:
      grpc:
exporters:
  awss3:
    s3uploader:
      s3_bucket: b
      s3_prefix: ${env:PREFIX}
service:
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [awss3]
";
    let cfg = Loader::new()
        .env(env(&[("PREFIX", "0123")]))
        .document("cfg.yaml", yaml)
        .load()
        .unwrap();
    assert!(
        cfg.to_yaml().contains("s3_prefix: \"0123\""),
        "{}",
        cfg.to_yaml()
    );
}

/// Configs Go v0.138 accepts that this collector refused (issue 21, "config behaviour
/// users hit"), each written anew in the shape that showed it.
#[test]
fn configs_go_accepts_that_we_refused() {
    // A detector block for a detector that is not listed (contrib
    // processor/resourcedetectionprocessor/config.go: every detector's block is a field of
    // `DetectorConfig`, read whether listed or not); `Detailed` verbosity (core
    // config/configtelemetry Level.UnmarshalText lower-cases); otlphttp `deflate`, `zlib`,
    // `lz4`, `x-snappy-framed` (core config/configcompression, confighttp compressors).
    let mut yaml = String::from(
        "receivers:
  otlp:
    protocols:
      grpc:
processors:
  resourcedetection:
    detectors: [env, system]
    docker: {}
    gcp: {}
    eks:
      resource_attributes:
        k8s.cluster.name:
          enabled: true
exporters:
  debug:
    verbosity: Detailed
",
    );
    let kinds = ["deflate", "zlib", "lz4", "snappy", "x-snappy-framed"];
    for c in kinds {
        yaml += &format!(
            "  otlphttp/{c}:\n    endpoint: http://127.0.0.1:4318\n    compression: {c}\n"
        );
    }
    let names: Vec<String> = kinds.iter().map(|c| format!("otlphttp/{c}")).collect();
    yaml += &format!(
        "service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [resourcedetection]
      exporters: [debug, {}]
",
        names.join(", ")
    );
    let cfg = load_doc(&yaml).unwrap();
    assert!(
        cfg.to_yaml().contains("verbosity: detailed"),
        "{}",
        cfg.to_yaml()
    );
    // Listing a detector we lack is an error naming it; an unknown name is Go's error.
    let listed = yaml.replace("detectors: [env, system]", "detectors: [env, docker, nope]");
    let e = errors_of(&listed);
    assert!(e.contains("detector \"docker\" is not supported"), "{e}");
    assert!(e.contains("invalid detector key: nope"), "{e}");
    // gRPC has gzip, snappy and zstd only (core config/configgrpc).
    let grpc = "receivers:
  otlp:
    protocols:
      grpc:
exporters:
  otlp:
    endpoint: 127.0.0.1:4317
    compression: zlib
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlp]
";
    assert!(errors_of(grpc).contains("compression \"zlib\" is not supported for export"));
    // A misspelled verbosity is still an error.
    let bad = MINIMAL.replace("  debug:\n", "  debug:\n    verbosity: loud\n");
    assert!(errors_of(&bad).contains("unknown value \"loud\""));
}

/// Unknown or invalid components are reported once, where they are configured, and not
/// again at each pipeline naming them; a file made only of unknown components says so
/// rather than "empty configuration file".
#[test]
fn unknown_components_are_reported_once() {
    let e = errors_of(
        "receivers:
  kafka:
exporters:
  prometheusremotewrite:
  debug:
    verbosity: loud
service:
  pipelines:
    traces:
      receivers: [kafka]
      exporters: [prometheusremotewrite, debug]
    logs:
      receivers: [kafka]
      exporters: [debug]
",
    );
    assert_eq!(
        e.matches("receiver type \"kafka\" is not supported")
            .count(),
        1,
        "{e}"
    );
    assert_eq!(
        e.matches("\"prometheusremotewrite\" is not supported")
            .count(),
        1,
        "{e}"
    );
    assert_eq!(e.matches("unknown value \"loud\"").count(), 1, "{e}");
    assert!(!e.contains("which is not configured"), "{e}");
    assert!(!e.contains("empty configuration file"), "{e}");
    // A reference to nothing at all is still an error.
    let e = errors_of(&MINIMAL.replace("exporters: [debug]", "exporters: [debug, otlp/x]"));
    assert!(
        e.contains("references exporter \"otlp/x\" which is not configured"),
        "{e}"
    );
}
