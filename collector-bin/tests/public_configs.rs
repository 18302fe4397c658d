//! Configurations modelled on public ones (tests/data/public-configs/: the core and contrib
//! examples and testdata, the Helm chart, the OpenTelemetry demo, the AWS distribution's ECS
//! configs, SigNoz and Grafana's LGTM image), run through `collector validate`.
//!
//! Each file is classified by its component types (the keys of `receivers`, `processors`,
//! `exporters`, `extensions` and `connectors`, up to the `/`) against what `collector
//! components` lists. The count of files that validate is printed. Every file made only of
//! components this collector has must validate, and must start: it runs until it logs that
//! everything is ready, then SIGTERM must stop it with exit status 0.
//!
//! How the files are written so that they can start here (see their headers):
//! - every listener has an explicit endpoint `${env:<NAME>_LISTEN:-127.0.0.1:<port>}`; this test
//!   sets each such variable to `127.0.0.1:0`, and the collector's own metrics endpoint is moved
//!   to `127.0.0.1:0` with `--set`;
//! - `${env:<NAME>_DIR:-...}` variables get a fresh directory under CARGO_TARGET_TMPDIR, and
//!   `${env:S3_ENDPOINT:-...}` a `file://` directory there, so the S3 exporter writes locally;
//! - exporters point at loopback ports where nothing needs to listen (they retry);
//! - the EC2 metadata service is disabled and no ECS metadata variable is set (the environment
//!   is cleared), so the ec2 and ecs detectors make no request.
//!
//! Run with `cargo test -p collector-bin --test public_configs -- --nocapture` to see the
//! per-file lines and the summary.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The sections whose keys are component ids.
const KINDS: [&str; 5] = [
    "receivers",
    "processors",
    "exporters",
    "extensions",
    "connectors",
];

/// What the collector logs once every component has started and every processor is ready
/// (collector-core/src/collector.rs).
const READY: &str = "Everything is ready";

const READY_WITHIN: Duration = Duration::from_secs(20);
const STOP_WITHIN: Duration = Duration::from_secs(10);

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/public-configs")
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_collector"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    c
}

/// `(kind, type)` pairs this collector has, names and aliases, from `collector components`.
fn components_we_have() -> BTreeSet<(String, String)> {
    let o = bin().arg("components").output().unwrap();
    assert!(o.status.success(), "collector components failed");
    let text = String::from_utf8(o.stdout).unwrap();
    let mut have = BTreeSet::new();
    let mut kind = String::new();
    // One entry's names, added when its status says it is built.
    let mut names: Vec<String> = Vec::new();
    let flush = |kind: &str, names: &mut Vec<String>, built: bool, have: &mut BTreeSet<_>| {
        if built {
            for n in names.iter() {
                have.insert((kind.to_owned(), n.clone()));
            }
        }
        names.clear();
    };
    for line in text.lines() {
        let t = line.trim();
        if !line.starts_with(' ') && t.ends_with(':') {
            kind = t.trim_end_matches(':').to_owned();
        } else if let Some(name) = t.strip_prefix("- name:") {
            names.clear();
            names.push(name.trim().to_owned());
        } else if let Some(list) = t.strip_prefix("aliases:") {
            let list = list.trim().trim_start_matches('[').trim_end_matches(']');
            names.extend(list.split(',').map(|a| a.trim().to_owned()));
        } else if let Some(status) = t.strip_prefix("status:") {
            flush(&kind, &mut names, status.trim() == "built", &mut have);
        }
    }
    assert!(
        have.contains(&("receivers".to_owned(), "otlp".to_owned())),
        "no otlp receiver in\n{text}"
    );
    have
}

/// Indentation of a line (spaces).
fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// Whether a line carries nothing (blank or a comment).
fn is_blank(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

/// The component ids of each top-level component section of a block-style YAML file:
/// the keys one level below `receivers:` and the others.
fn component_ids(yaml: &str, file: &str) -> BTreeMap<&'static str, Vec<String>> {
    let mut out: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut current: Option<&'static str> = None;
    let mut child_indent: Option<usize> = None;
    for line in yaml.lines() {
        if is_blank(line) {
            continue;
        }
        let ind = indent(line);
        if ind == 0 {
            current = None;
            child_indent = None;
            let key = line.split(':').next().unwrap_or("").trim();
            if let Some(kind) = KINDS.iter().find(|k| **k == key) {
                let rest = line[key.len()..].trim_start_matches(':').trim();
                let rest = rest.split(" #").next().unwrap_or("").trim();
                assert!(
                    rest.is_empty(),
                    "{file}: write `{key}:` in block style for this test to read it"
                );
                current = Some(kind);
                out.entry(kind).or_default();
            }
            continue;
        }
        let Some(kind) = current else { continue };
        let ci = *child_indent.get_or_insert(ind);
        if ind == ci {
            let id = line.trim().split(':').next().unwrap().trim();
            let id = id.trim_matches(|c| c == '"' || c == '\'');
            out.entry(kind).or_default().push(id.to_owned());
        }
    }
    out
}

/// The names of the `${env:NAME...}` references in a file.
fn env_names(yaml: &str) -> BTreeSet<String> {
    yaml.split("${env:")
        .skip(1)
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

/// Every `endpoint:` of a receiver or extension must be movable to port 0 through a
/// `*_LISTEN` variable, or the collector started here would take a fixed port.
fn check_listeners_are_movable(yaml: &str, file: &str) {
    let mut in_listeners = false;
    for line in yaml.lines() {
        if is_blank(line) {
            continue;
        }
        if indent(line) == 0 {
            let key = line.split(':').next().unwrap_or("").trim();
            in_listeners = key == "receivers" || key == "extensions";
            continue;
        }
        let t = line.trim();
        if in_listeners && t.starts_with("endpoint:") {
            assert!(
                t.contains("_LISTEN:-"),
                "{file}: listening endpoint without a *_LISTEN variable: {t}"
            );
        }
    }
}

/// The environment for validating and starting `name`: loopback port 0 for listeners,
/// fresh directories, S3 to a local directory, no instance metadata.
fn environment(name: &str, yaml: &str) -> Vec<(String, String)> {
    let stem = name.trim_end_matches(".yaml");
    let root = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("public-configs")
        .join(stem);
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let mut vars = vec![
        ("AWS_EC2_METADATA_DISABLED".to_owned(), "true".to_owned()),
        // Never asked while disabled; if it were, the request would stay on this machine.
        (
            "AWS_EC2_METADATA_SERVICE_ENDPOINT".to_owned(),
            "http://127.0.0.1:9".to_owned(),
        ),
    ];
    for var in env_names(yaml) {
        if var.ends_with("_LISTEN") {
            vars.push((var, "127.0.0.1:0".to_owned()));
        } else if var.ends_with("_DIR") {
            let d = root.join(var.to_lowercase());
            std::fs::create_dir_all(&d).unwrap();
            vars.push((var, d.display().to_string()));
        } else if var.ends_with("S3_ENDPOINT") {
            vars.push((var, format!("file://{}", root.join("s3").display())));
        }
    }
    vars
}

/// `collector validate`: `Ok` or the first problem it reports.
fn validate(path: &Path, env: &[(String, String)]) -> Result<(), String> {
    let o = bin()
        .arg("validate")
        .arg("--config")
        .arg(path)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap();
    if o.status.success() {
        return Ok(());
    }
    // Problems are reported as `<path>:<line>: <key path>: <message>`; the path is shortened
    // to the file name.
    let err = String::from_utf8_lossy(&o.stderr).replace(
        &path.display().to_string(),
        &path.file_name().unwrap().to_string_lossy(),
    );
    let first = err
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && *l != "invalid configuration:" && !l.starts_with("warning:"))
        .unwrap_or("(no message)")
        .to_owned();
    match o.status.code() {
        Some(1) => Err(first),
        code => Err(format!("exit status {code:?}: {first}")),
    }
}

/// Collects a child's output stream into `buf` until it closes.
fn drain(mut from: impl Read + Send + 'static, buf: Arc<Mutex<Vec<u8>>>) {
    std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(n) = from.read(&mut chunk) {
            if n == 0 {
                break;
            }
            buf.lock().unwrap().extend_from_slice(&chunk[..n]);
        }
    });
}

/// Whether process `pid` has a handler for SIGTERM (`SigCgt` in /proc/<pid>/status). Where
/// there is no /proc, it waits a moment and says yes.
fn catches_sigterm(pid: i32) -> bool {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        std::thread::sleep(Duration::from_millis(200));
        return true;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (libc::SIGTERM - 1)) != 0)
}

/// Starts the collector with `path`, waits until it is ready, sends SIGTERM and expects exit
/// status 0. `Err` carries what went wrong and the collector's output.
fn start_and_stop(path: &Path, env: &[(String, String)]) -> Result<Duration, String> {
    let started = Instant::now();
    let mut child = bin()
        .arg("--config")
        .arg(path)
        // The collector's own metrics endpoint, like every other listener, on a free port;
        // info level so that the readiness line is logged whatever level the file sets.
        .arg("--set=service.telemetry.metrics.address=127.0.0.1:0")
        .arg("--set=service.telemetry.logs.level=info")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = Arc::new(Mutex::new(Vec::new()));
    drain(child.stdout.take().unwrap(), out.clone());
    drain(child.stderr.take().unwrap(), out.clone());
    let output =
        |out: &Arc<Mutex<Vec<u8>>>| String::from_utf8_lossy(&out.lock().unwrap()).into_owned();

    let deadline = started + READY_WITHIN;
    loop {
        if output(&out).contains(READY) {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            std::thread::sleep(Duration::from_millis(100));
            return Err(format!(
                "exited before it was ready ({status}):\n{}",
                output(&out)
            ));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "not ready within {READY_WITHIN:?}:\n{}",
                output(&out)
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }

    let pid = i32::try_from(child.id()).unwrap();
    // The collector installs its SIGTERM handler once start returns, just after the readiness
    // line (as Go's otelcol Run does); a SIGTERM before that would kill it outright.
    while !catches_sigterm(pid) {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "ready, but no SIGTERM handler within {READY_WITHIN:?}:\n{}",
                output(&out)
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    // SAFETY: kill(2) with the pid of our own child, which has not been reaped yet.
    let rc = unsafe { libc::kill(pid, libc::SIGTERM) };
    assert_eq!(rc, 0, "kill(SIGTERM) failed");
    let deadline = Instant::now() + STOP_WITHIN;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "still running {STOP_WITHIN:?} after SIGTERM:\n{}",
                output(&out)
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // Let the readers take the last lines.
    std::thread::sleep(Duration::from_millis(50));
    if status.code() != Some(0) {
        return Err(format!(
            "exited with {status} after SIGTERM:\n{}",
            output(&out)
        ));
    }
    Ok(started.elapsed())
}

struct Entry {
    name: String,
    path: PathBuf,
    env: Vec<(String, String)>,
    /// Component types this collector lacks, as `kind type` (`receiver hostmetrics`).
    lacking: Vec<String>,
    validated: Result<(), String>,
}

#[test]
fn public_configs_validate_and_the_supported_ones_start() {
    let have = components_we_have();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 20,
        "expected at least 20 public configs, found {}",
        files.len()
    );

    let mut entries = Vec::new();
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let yaml = std::fs::read_to_string(&path).unwrap();
        assert!(
            yaml.starts_with("# Modelled on "),
            "{name}: the first line must say which public file it is modelled on"
        );
        let mut lacking = Vec::new();
        let ids = component_ids(&yaml, &name);
        for kind in KINDS {
            for id in ids.get(kind).into_iter().flatten() {
                let ty = id.split('/').next().unwrap().to_owned();
                if !have.contains(&(kind.to_owned(), ty.clone())) {
                    let k = kind.trim_end_matches('s');
                    if !lacking.contains(&format!("{k} {ty}")) {
                        lacking.push(format!("{k} {ty}"));
                    }
                }
            }
        }
        if lacking.is_empty() {
            check_listeners_are_movable(&yaml, &name);
        }
        let env = environment(&name, &yaml);
        let validated = validate(&path, &env);
        entries.push(Entry {
            name,
            path,
            env,
            lacking,
            validated,
        });
    }

    // Start every all-supported config that validated, side by side.
    let starts: Vec<(String, std::thread::JoinHandle<Result<Duration, String>>)> = entries
        .iter()
        .filter(|e| e.lacking.is_empty() && e.validated.is_ok())
        .map(|e| {
            let (path, env) = (e.path.clone(), e.env.clone());
            (
                e.name.clone(),
                std::thread::spawn(move || start_and_stop(&path, &env)),
            )
        })
        .collect();
    let mut started: BTreeMap<String, Result<Duration, String>> = BTreeMap::new();
    for (name, handle) in starts {
        started.insert(name, handle.join().unwrap());
    }

    let mut failures = Vec::new();
    for e in &entries {
        let line = match (&e.validated, e.lacking.is_empty()) {
            (Ok(()), true) => match &started[&e.name] {
                Ok(took) => format!(
                    "validates  {}  (only components we have; started and stopped cleanly in {:.1} s)",
                    e.name,
                    took.as_secs_f64()
                ),
                Err(why) => {
                    failures.push(format!("{}: validates but does not start: {why}", e.name));
                    format!(
                        "validates  {}  (only components we have) but DOES NOT START",
                        e.name
                    )
                }
            },
            (Ok(()), false) => format!("validates  {}  (lacks {})", e.name, e.lacking.join(", ")),
            (Err(first), supported) => {
                if supported {
                    failures.push(format!(
                        "{}: made only of components we have, but does not validate: {first}",
                        e.name
                    ));
                }
                let what = if supported {
                    "only components we have".to_owned()
                } else {
                    format!("lacks {}", e.lacking.join(", "))
                };
                format!("INVALID    {}  ({what}): {first}", e.name)
            }
        };
        println!("{line}");
    }

    let total = entries.len();
    let valid = entries.iter().filter(|e| e.validated.is_ok()).count();
    let supported = entries.iter().filter(|e| e.lacking.is_empty()).count();
    let clean = started.values().filter(|r| r.is_ok()).count();
    let summary = format!(
        "{valid} of {total} public configs validate; {supported} are made only of components we \
         have, of which {clean} started and stopped cleanly"
    );
    println!("{summary}");
    eprintln!("{summary}");

    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        valid >= supported,
        "{valid} configs validate, fewer than the {supported} made only of components we have"
    );
}
