//! The C ABI from C programs, compiled with `cc` by the test and linked against the
//! `cdylib` cargo built: errors and bad arguments, ingest from 4 threads, flush, shutdown,
//! free; one run under valgrind; fork safety (children ingest through the parent's handle,
//! 50 rounds, bounded by a timeout). Data goes to an OTLP backend on 127.0.0.1 (an in-test
//! sink decoding with prost), which must receive every item from every process.

#![allow(clippy::unwrap_used)] // test helpers: a panic is a failing test

#[path = "../../collector-core/tests/support/sink.rs"]
mod sink;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;

const SPANS: u64 = 10;

/// `target/debug` (or whichever profile built this test).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

fn work_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("otelcol-ffi-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Compiles `tests/c/<name>.c` against the header and the shared library.
fn compile(name: &str, dir: &Path) -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    compile_file(&crate_dir.join(format!("tests/c/{name}.c")), name, dir)
}

/// Where the shared library is: `cargo test` builds it into `deps/` (a `cargo build` also
/// copies it up, possibly from an older build, so `deps/` comes first).
fn lib_dir() -> PathBuf {
    let target = target_dir();
    [target.join("deps"), target]
        .into_iter()
        .find(|d| d.join("libcollector_ffi.so").exists())
        .unwrap_or_else(|| panic!("no libcollector_ffi.so under {}", target_dir().display()))
}

fn compile_file(source: &Path, name: &str, dir: &Path) -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib_dir = lib_dir();
    let out = dir.join(name);
    let status = Command::new("cc")
        .args([
            "-std=c11",
            "-D_GNU_SOURCE",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-g",
            "-O1",
        ])
        .arg("-I")
        .arg(crate_dir.join("include"))
        .arg(source)
        .arg("-o")
        .arg(&out)
        .arg("-L")
        .arg(&lib_dir)
        .arg(format!("-Wl,-rpath,{}", lib_dir.display()))
        .args(["-lcollector_ffi", "-lpthread"])
        .status()
        .unwrap();
    assert!(status.success(), "cc {name}.c failed");
    out
}

/// A traces pipeline from `embedded` through a batch to an OTLP exporter at `sink`, and a
/// request of `SPANS` spans, written as files for the C program.
fn inputs(dir: &Path, sink: &sink::Sink) -> (PathBuf, PathBuf) {
    let yaml = pipeline_yaml(sink.addr, None);
    let request = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: (0..SPANS)
                    .map(|i| Span {
                        trace_id: vec![7; 16],
                        span_id: vec![i as u8 + 1; 8],
                        name: format!("span-{i}"),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let config = dir.join("config.yaml");
    let req = dir.join("request.bin");
    std::fs::write(&config, yaml).unwrap();
    std::fs::write(&req, request.encode_to_vec()).unwrap();
    (config, req)
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn wait_for(sink: &sink::Sink, spans: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while sink.spans() < spans && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(sink.spans(), spans, "the backend got every span, once");
}

#[test]
fn c_program_ingests_from_four_threads_and_handles_bad_arguments() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sink = rt.block_on(sink::Sink::start(None));
    let dir = work_dir("basic");
    let (config, req) = inputs(&dir, &sink);
    let exe = compile("basic", &dir);
    let out = run(Command::new(&exe)
        .arg(&config)
        .arg(&req)
        .arg(SPANS.to_string()));
    assert!(out.starts_with("ok "), "{out}");
    // 4 threads x 100 requests, then one more ingested before free on a running handle.
    wait_for(&sink, (4 * 100 + 1) * SPANS);
}

#[test]
fn c_program_under_valgrind_leaks_nothing() {
    if Command::new("valgrind").arg("--version").output().is_err() {
        panic!("valgrind is not installed: it is part of the test tools (apt install valgrind)");
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sink = rt.block_on(sink::Sink::start(None));
    let dir = work_dir("valgrind");
    let (config, req) = inputs(&dir, &sink);
    let exe = compile("basic", &dir);
    let supp = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/valgrind.supp");
    run(Command::new("valgrind")
        .args([
            "--quiet",
            "--leak-check=full",
            "--errors-for-leak-kinds=definite",
            "--error-exitcode=1",
        ])
        .arg(format!("--suppressions={}", supp.display()))
        .arg(&exe)
        .arg(&config)
        .arg(&req)
        .arg(SPANS.to_string()));
    wait_for(&sink, (4 * 100 + 1) * SPANS);
}

#[test]
fn forked_children_ingest_through_the_parents_handle() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sink = rt.block_on(sink::Sink::start(None));
    let dir = work_dir("fork");
    let (config, req) = inputs(&dir, &sink);
    let exe = compile("fork", &dir);
    let rounds = std::env::var("OTELCOL_FORK_ROUNDS").unwrap_or_else(|_| "50".to_owned());
    let out = run(Command::new(&exe)
        .arg(&config)
        .arg(&req)
        .arg(SPANS.to_string())
        .arg(&rounds));
    let sent: u64 = out
        .lines()
        .find_map(|l| l.strip_prefix("sent "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no total in {out}"));
    assert!(sent > 0);
    wait_for(&sink, sent);
}

#[test]
fn the_c_example_runs() {
    let dir = work_dir("example");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/embed.c");
    let exe = compile_file(&source, "embed", &dir);
    let out = run(&mut Command::new(&exe));
    assert!(out.contains("delivered 1, dropped 0"), "{out}");
}

/// The configuration of [`inputs`], with the exporter's queue on disk in `dir` and the
/// exporter sending to `addr`.
fn durable_config(dir: &Path, addr: std::net::SocketAddr) -> PathBuf {
    let config = dir.join("durable.yaml");
    std::fs::write(&config, pipeline_yaml(addr, Some(&dir.join("storage")))).unwrap();
    config
}

/// The tests' pipeline: `embedded` through a batch to an OTLP exporter at `addr`, its
/// queue on disk in `storage` when given.
fn pipeline_yaml(addr: std::net::SocketAddr, storage: Option<&Path>) -> String {
    let (extension, queue, listed) = match storage {
        Some(dir) => (
            format!(
                "extensions:\n  file_storage:\n    directory: {}\n    create_directory: true\n",
                dir.display()
            ),
            "    sending_queue:\n      storage: file_storage\n",
            "  extensions: [file_storage]\n",
        ),
        None => (String::new(), "", ""),
    };
    format!(
        "receivers:
  embedded: {{}}
{extension}processors:
  batch:
    timeout: 100ms
exporters:
  otlp:
    endpoint: {addr}
    tls:
      insecure: true
{queue}service:
{listed}  telemetry:
    logs:
      level: warn
  pipelines:
    traces:
      receivers: [embedded]
      processors: [batch]
      exporters: [otlp]
"
    )
}

#[test]
fn a_c_program_killed_right_after_ingest_loses_nothing() {
    use std::os::unix::process::ExitStatusExt;
    let rt = tokio::runtime::Runtime::new().unwrap();
    // The backend is down while the program ingests and dies.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let dir = work_dir("durable");
    let _ = std::fs::remove_dir_all(dir.join("storage"));
    let sink_for_inputs = rt.block_on(sink::Sink::start(None));
    let (_, req) = inputs(&dir, &sink_for_inputs);
    let config = durable_config(&dir, addr);
    let exe = compile("durable", &dir);
    let out = Command::new(&exe)
        .arg(&config)
        .arg(&req)
        .args(["kill", "20"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.signal(),
        Some(9),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("{} items on disk", 20 * SPANS)),
        "{stdout}"
    );
    // Back up: the next process delivers all of it.
    let sink = rt.block_on(sink::Sink::start_on(addr, None));
    let out = run(Command::new(&exe).arg(&config).arg(&req).arg("drain"));
    assert!(out.starts_with("ok"), "{out}");
    wait_for(&sink, 20 * SPANS);
}
