//! The `collector` command line, run as a process.

#![allow(clippy::unwrap_used)] // test helpers: a panic is a failing test

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_collector"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    c
}

fn seed() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../collector-core/tests/data/seed-sidecar.yaml")
}

const SECRET: &str = "sk-planted-secret-4711";

fn seed_env(c: &mut Command) -> &mut Command {
    c.env("SIGNOZ_ENDPOINT", "ingest.eu.signoz.cloud:443")
        .env("SIGNOZ_INGESTION_KEY", SECRET)
        .env("AWS_REGION", "eu-west-1")
        .env("S3_LOGS_BUCKET", "my-otel-logs")
        .env("ENVIRONMENT", "production")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn version() {
    let o = bin().arg("--version").output().unwrap();
    assert!(o.status.success());
    assert!(text(&o).0.starts_with("collector "));
}

#[test]
fn validate_accepts_the_seed_file() {
    let o = seed_env(bin().arg("validate").arg("--config").arg(seed()))
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
}

#[test]
fn validate_accepts_the_redaction_example() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/redaction.yaml");
    let o = bin()
        .arg("validate")
        .arg("--config")
        .arg(example)
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
}

#[test]
fn the_seeds_exact_ecs_command_array_loads_its_config() {
    let yaml = std::fs::read_to_string(seed()).unwrap();
    // Every component of the seed runs, so the collector would start for real: the seed's
    // OTLP gRPC port is held here so that it stops at its receivers, and the metadata
    // service is disabled so that resource detection (started before the receivers) makes
    // no request off this machine. If the port is someone else's, it stops all the same.
    let _port = std::net::TcpListener::bind("127.0.0.1:4317");
    // command = ["-config=env:OTEL_CONFIG"], as in the seed's task definition.
    let mut child = seed_env(bin().args(["-config=env:OTEL_CONFIG"]))
        .env("OTEL_CONFIG", &yaml)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the collector did not stop at its occupied port within 30 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let o = child.wait_with_output().unwrap();
    let (out, err) = text(&o);
    // It stopped where it should: loading, validating and starting everything before the
    // receivers worked, then the gRPC listener found its port taken. An exit for any
    // other reason (a panic exits 101) fails here.
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(
        err.contains("receiver otlp: cannot listen on 127.0.0.1:4317"),
        "{err}"
    );
    assert!(err.contains("Address already in use"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // The same flag form works for validate.
    let o = seed_env(bin().args(["validate", "-config=env:OTEL_CONFIG"]))
        .env("OTEL_CONFIG", &yaml)
        .output()
        .unwrap();
    assert!(o.status.success(), "{out}{err}");
}

#[test]
fn validate_prints_every_error_and_exits_1() {
    let o = bin()
        .args([
            "validate",
            "--config",
            "yaml:processors::batch::timeout: 10x",
            "--config",
            "yaml:processors::memory_limiter::limit_mib: 10",
            "--config",
            "yaml:service::pipelines::traces::receivers: [nope]",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let (_, err) = text(&o);
    // Go's messages (open-telemetry/opentelemetry-collector v0.138.0): time.ParseDuration
    // (Go standard library, src/time/format.go); internal/memorylimiter/config.go:14;
    // otelcol/config.go:101; service/pipelines/config.go:19.
    for want in [
        "processors::batch::timeout: time: unknown unit \"x\"",
        "processors::memory_limiter::check_interval: 'check_interval' must be greater than zero",
        "service::pipelines::traces: references receiver \"nope\" which is not configured",
        "service::pipelines::traces: must have at least one exporter",
    ] {
        assert!(err.contains(want), "{want} not in\n{err}");
    }
}

#[test]
fn print_config_redacts_secrets() {
    let o = seed_env(bin().arg("print-config").arg("--config").arg(seed()))
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        out.contains("signoz-ingestion-key: \"[REDACTED]\""),
        "{out}"
    );
    assert!(!out.contains(SECRET) && !err.contains(SECRET));
}

#[test]
fn set_applies_last_and_accepts_dots_or_colons() {
    let o = bin()
        .args(["print-config", "--set=exporters.debug.verbosity=detailed"])
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("verbosity: detailed"), "{out}");
    let o = bin()
        .args([
            "print-config",
            "--set",
            "exporters::debug::sampling_initial=7",
        ])
        .output()
        .unwrap();
    assert!(text(&o).0.contains("sampling_initial: 7"));
}

#[test]
fn default_config_is_the_documented_one() {
    let o = bin().arg("print-config").output().unwrap();
    let (out, _) = text(&o);
    for want in [
        "endpoint: 127.0.0.1:4317",
        "endpoint: 127.0.0.1:4318",
        "endpoint: 127.0.0.1:13133",
        "verbosity: tree",
        "- memory_limiter",
        "- batch",
        "limit_percentage: 80",
    ] {
        assert!(out.contains(want), "{want} not in\n{out}");
    }
}

#[test]
fn packed_config_round_trips_through_an_env_variable() {
    let o = bin().args(["config", "pack"]).arg(seed()).output().unwrap();
    let packed = text(&o).0.trim().to_owned();
    assert!(packed.starts_with("zstd+base64:"), "{packed}");
    let raw = std::fs::read(seed()).unwrap();
    assert!(packed.len() < raw.len());
    let o = seed_env(bin().args(["validate", "-config=env:PACKED"]))
        .env("PACKED", &packed)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o).1);
}

#[test]
fn feature_gates_are_accepted_with_a_warning() {
    let o = bin()
        .args([
            "validate",
            "--feature-gates=-component.UseLocalHostAsDefaultHost",
        ])
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(text(&o).1.contains("accepted and ignored"));
}

#[test]
fn components_lists_every_type() {
    let o = bin().arg("components").output().unwrap();
    let out = text(&o).0;
    for name in [
        "otlp",
        "embedded",
        "memory_limiter",
        "batch",
        "resource",
        "resourcedetection",
        "attributes",
        "redaction",
        "otlphttp",
        "debug",
        "awss3",
        "file",
        "health_check",
    ] {
        assert!(
            out.contains(&format!("- name: {name}\n")),
            "{name} not in\n{out}"
        );
    }
}
