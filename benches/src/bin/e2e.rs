//! `e2e`: the end-to-end load benchmark runner (issue 10). For each row (a collector under
//! test at a rate) it starts the `sink`, starts the collector pinned to its own core, times
//! exec-to-ready (until its OTLP/gRPC port accepts), reads its idle RSS, runs `loadgen` at a
//! fixed rate for a fixed time, reads the collector's CPU time (utime + stime) and peak RSS
//! (VmHWM) from `/proc`, stops it (SIGTERM, so batches still held are flushed), checks that
//! the sink received every item sent, and prints one table row.
//!
//! ```text
//! e2e [--plan full|smoke] [--rows relay,pass,seed,...] [--rates 20000,200000]
//!     [--duration SECONDS] [--inflight N] [--bins DIR] [--configs DIR]
//!     [--rotel PATH | --fetch-rotel] [--netns] [--prost-sink] [--json FILE]
//! ```
//!
//! Rows: `relay` (the floor: `relay`), `pass`, `pass-gzip`, `pass-zstd` (the collector with
//! `benches/e2e/passthrough.yaml`), `disk`, `disk-sync` (the same with the exporter's queue
//! on disk, `fsync` off and on: `benches/e2e/persistent.yaml`), `seed`, `seed-gzip`
//! (`benches/e2e/seed.yaml`) and
//! `rotel` (`rotel-agent` with `benches/e2e/rotel.args`). Binaries are looked up next to
//! this one (`--bins`); rotel at `--rotel`, else `<bins>/../rotel/rotel/rotel-agent`,
//! which `--fetch-rotel` fills with `pip download` when missing (a row whose binary is
//! missing is skipped and said so). `--netns` first moves the whole run into a new network
//! namespace with only loopback up (needs CAP_SYS_ADMIN), so the seed's detectors cannot
//! reach anything but 127.0.0.1 whatever they are told. The sink checks and counts with the
//! collector's wire validator (`sink --validate`) unless `--prost-sink` asks for a full
//! prost decode, which at 200,000 spans/s needs more than a core of its own. Exits non-zero when any row lost
//! an item or failed to run.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How the run is configured.
#[derive(Debug)]
struct Opts {
    bins: PathBuf,
    configs: PathBuf,
    plan: Vec<(String, f64)>,
    duration: f64,
    inflight: usize,
    rotel: Option<PathBuf>,
    fetch_rotel: bool,
    netns: bool,
    prost_sink: bool,
    json: Option<PathBuf>,
}

/// One row's measurements.
#[derive(Debug, Clone)]
struct Measure {
    row: String,
    export: &'static str,
    rate: f64,
    ready_ms: f64,
    idle_rss_kb: u64,
    peak_rss_kb: u64,
    cpu_s: f64,
    sent: u64,
    acked: u64,
    failed: u64,
    received: u64,
    invalid: u64,
    achieved: f64,
}

impl Measure {
    fn cpu_us_per_span(&self) -> f64 {
        self.cpu_s * 1e6 / self.acked.max(1) as f64
    }
    fn lost(&self) -> u64 {
        self.sent.saturating_sub(self.received) + self.failed + self.invalid
    }
}

/// Where each process runs: the collector under test alone on the last core, everything
/// else (sink, load) on the others. `None` on a single core: no pinning.
#[derive(Debug, Clone, Copy)]
struct Cores {
    target: libc::cpu_set_t,
    rest: libc::cpu_set_t,
}

fn main() {
    match run() {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("e2e: {e}");
            std::process::exit(2);
        }
    }
}

fn parse() -> Result<Opts, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find myself: {e}"))?;
    let mut bins = exe
        .parent()
        .ok_or("the executable has no directory")?
        .to_path_buf();
    let mut configs = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/e2e"));
    let mut plan_name = "full".to_owned();
    let mut rows: Option<Vec<String>> = None;
    let mut rates: Option<Vec<f64>> = None;
    let mut duration = None;
    let mut inflight = 8;
    let mut rotel = None;
    let mut fetch_rotel = false;
    let mut netns = false;
    let mut prost_sink = false;
    let mut json = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value"));
        let num = |v: &str| {
            v.parse::<f64>()
                .map_err(|e| format!("bad number {v:?}: {e}"))
        };
        match a.as_str() {
            "--plan" => plan_name = val()?,
            "--rows" => rows = Some(val()?.split(',').map(str::to_owned).collect()),
            "--rates" => rates = Some(val()?.split(',').map(num).collect::<Result<Vec<_>, _>>()?),
            "--duration" => duration = Some(num(&val()?)?),
            "--inflight" => inflight = num(&val()?)?.max(1.0) as usize,
            "--bins" => bins = PathBuf::from(val()?),
            "--configs" => configs = PathBuf::from(val()?),
            "--rotel" => rotel = Some(PathBuf::from(val()?)),
            "--fetch-rotel" => fetch_rotel = true,
            "--netns" => netns = true,
            "--prost-sink" => prost_sink = true,
            "--json" => json = Some(PathBuf::from(val()?)),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let strs = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let (plan, default_duration) = match (plan_name.as_str(), rows, rates) {
        (_, Some(rows), Some(rates)) => (cross(&rows, &rates), 10.0),
        ("full", rows, rates) => {
            let low = rates
                .as_ref()
                .and_then(|r| r.first().copied())
                .unwrap_or(20_000.0);
            let high = rates
                .as_ref()
                .and_then(|r| r.get(1).copied())
                .unwrap_or(200_000.0);
            let mut plan = cross(
                &rows.clone().unwrap_or_else(|| {
                    strs(&[
                        "relay",
                        "pass",
                        "seed",
                        "pass-gzip",
                        "pass-zstd",
                        "seed-gzip",
                        "rotel",
                    ])
                }),
                &[low],
            );
            plan.extend(cross(
                &rows.unwrap_or_else(|| strs(&["relay", "pass", "seed"])),
                &[high],
            ));
            (plan, 10.0)
        }
        ("smoke", rows, rates) => (
            cross(
                &rows.unwrap_or_else(|| strs(&["relay", "pass", "seed"])),
                &rates.unwrap_or_else(|| vec![5_000.0]),
            ),
            2.0,
        ),
        (other, _, _) => return Err(format!("unknown plan {other:?} (full or smoke)")),
    };
    Ok(Opts {
        bins,
        configs,
        plan,
        duration: duration.unwrap_or(default_duration),
        inflight,
        rotel,
        fetch_rotel,
        netns,
        prost_sink,
        json,
    })
}

fn cross(rows: &[String], rates: &[f64]) -> Vec<(String, f64)> {
    rates
        .iter()
        .flat_map(|r| rows.iter().map(move |row| (row.clone(), *r)))
        .collect()
}

fn run() -> Result<bool, String> {
    let o = parse()?;
    if o.netns {
        enter_netns()?;
    }
    let cores = cores();
    let rotel = rotel_path(&o)?;
    let ecs = fake_ecs()?;
    let dir = std::env::temp_dir().join(format!("e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut results = Vec::new();
    let mut ok = true;
    for (row, rate) in &o.plan {
        if row == "rotel" && rotel.is_none() {
            eprintln!("e2e: skipping rotel: no rotel-agent (pass --rotel PATH or --fetch-rotel)");
            continue;
        }
        eprintln!("e2e: {row} at {rate} spans/s for {} s", o.duration);
        match run_row(&o, &dir, cores, rotel.as_deref(), ecs, row, *rate) {
            Ok(m) => {
                if m.lost() > 0 {
                    ok = false;
                    eprintln!(
                        "e2e: {row}: LOSS: sent {} acked {} failed {} received {} invalid {}",
                        m.sent, m.acked, m.failed, m.received, m.invalid
                    );
                }
                results.push(m);
            }
            Err(e) => {
                ok = false;
                eprintln!("e2e: {row} at {rate}: {e}");
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    print_table(&o, &results);
    if let Some(path) = &o.json {
        let rows: Vec<Value> = results
            .iter()
            .map(|m| {
                json!({
                    "row": m.row, "export": m.export, "rate": m.rate,
                    "achieved": m.achieved, "ready_ms": m.ready_ms,
                    "idle_rss_kb": m.idle_rss_kb, "peak_rss_kb": m.peak_rss_kb,
                    "cpu_s": m.cpu_s, "cpu_us_per_span": m.cpu_us_per_span(),
                    "sent": m.sent, "acked": m.acked, "failed": m.failed,
                    "received": m.received, "invalid": m.invalid, "lost": m.lost(),
                })
            })
            .collect();
        std::fs::write(path, json!({ "rows": rows, "ok": ok }).to_string())
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(ok)
}

/// Moves this process (and so every child) into a new network namespace with loopback up.
fn enter_netns() -> Result<(), String> {
    // SAFETY: unshare takes no pointers; it only changes this process's namespaces.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        return Err(format!(
            "--netns: unshare(CLONE_NEWNET): {} (needs CAP_SYS_ADMIN)",
            std::io::Error::last_os_error()
        ));
    }
    let st = Command::new("ip")
        .args(["link", "set", "lo", "up"])
        .status()
        .map_err(|e| format!("--netns: ip link set lo up: {e}"))?;
    if !st.success() {
        return Err("--netns: ip link set lo up failed".to_owned());
    }
    Ok(())
}

fn cores() -> Option<Cores> {
    // SAFETY: cpu_set_t is plain data; zeroed is the empty set, and the CPU_* helpers only
    // index within it.
    unsafe {
        let mut allowed: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut allowed) != 0 {
            return None;
        }
        let ids: Vec<usize> = (0..libc::CPU_SETSIZE as usize)
            .filter(|&c| libc::CPU_ISSET(c, &allowed))
            .collect();
        let (&last, others) = ids.split_last()?;
        if others.is_empty() {
            return None;
        }
        let mut target: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(last, &mut target);
        let mut rest: libc::cpu_set_t = std::mem::zeroed();
        for &c in others {
            libc::CPU_SET(c, &mut rest);
        }
        Some(Cores { target, rest })
    }
}

/// Pins the child to `set` (what `taskset` does) between fork and exec.
fn pin(cmd: &mut Command, set: Option<libc::cpu_set_t>) {
    if let Some(set) = set {
        // SAFETY: the closure only calls sched_setaffinity, which is async-signal-safe, on
        // a set copied into it before the fork.
        unsafe {
            cmd.pre_exec(move || {
                if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
}

fn rotel_path(o: &Opts) -> Result<Option<PathBuf>, String> {
    if let Some(p) = &o.rotel {
        return Ok(Some(p.clone()));
    }
    let cache = o.bins.join("../rotel");
    let agent = cache.join("rotel/rotel-agent");
    if agent.exists() {
        return Ok(Some(agent));
    }
    if !o.fetch_rotel || !o.plan.iter().any(|(r, _)| r == "rotel") {
        return Ok(None);
    }
    eprintln!("e2e: fetching rotel 0.0.1a15 into {}", cache.display());
    std::fs::create_dir_all(&cache).map_err(|e| format!("{}: {e}", cache.display()))?;
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let st = Command::new(&python)
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--quiet",
            "rotel==0.0.1a15",
            "-d",
        ])
        .arg(&cache)
        .status()
        .map_err(|e| format!("{python} -m pip: {e}"))?;
    if !st.success() {
        return Err("pip download rotel==0.0.1a15 failed".to_owned());
    }
    let wheel = std::fs::read_dir(&cache)
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or("no wheel after pip download")?;
    // The wheel is a zip; Python's zipfile drops the executable bit, restored below.
    let st = Command::new(&python)
        .args(["-m", "zipfile", "-e"])
        .arg(&wheel)
        .arg(&cache)
        .status()
        .map_err(|e| format!("{python} -m zipfile: {e}"))?;
    if !st.success() {
        return Err(format!("cannot unpack {}", wheel.display()));
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&agent, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("{}: {e}", agent.display()))?;
    Ok(Some(agent))
}

/// A child process that is killed if still running when dropped.
#[derive(Debug)]
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn free_port() -> Result<u16, String> {
    // Bound then released: another process could take it in between, which on a benchmark
    // machine is unlikely and shows as a startup failure, not a wrong figure.
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

/// Starts a program that prints `listening on ADDR` first, and returns it with ADDR.
fn start_listening(mut cmd: Command, what: &str) -> Result<(Proc, SocketAddr), String> {
    cmd.stdout(Stdio::piped()).stderr(Stdio::inherit());
    let mut child = Proc(
        cmd.spawn()
            .map_err(|e| format!("cannot start {what}: {e}"))?,
    );
    let out = child.0.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    BufReader::new(out)
        .read_line(&mut line)
        .map_err(|e| format!("{what}: {e}"))?;
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .ok_or(format!("{what} said {line:?}"))?
        .parse()
        .map_err(|e| format!("{what}: {e}"))?;
    Ok((child, addr))
}

fn run_row(
    o: &Opts,
    dir: &Path,
    cores: Option<Cores>,
    rotel: Option<&Path>,
    ecs: SocketAddr,
    row: &str,
    rate: f64,
) -> Result<Measure, String> {
    let mut sink_cmd = Command::new(o.bins.join("sink"));
    // The wire validator rather than prost: a prost decode costs about 6 us per span here,
    // more than one core at 200,000 spans/s, which would make the sink the bottleneck.
    if !o.prost_sink {
        sink_cmd.arg("--validate");
    }
    pin(&mut sink_cmd, cores.map(|c| c.rest));
    let (sink, sink_addr) = start_listening(sink_cmd, "sink")?;
    let grpc = free_port()?;
    let http = free_port()?;
    // A port nothing listens on, for the EC2 detector (which the ECS detector's Fargate
    // answer skips anyway): "connection refused" from 127.0.0.1, never a link-local address.
    let nothing = free_port()?;
    let log = dir.join(format!("{row}-{rate}.log"));
    let log_file = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let log_err = log_file.try_clone().map_err(|e| e.to_string())?;
    let (mut cmd, export) = match row {
        "relay" => {
            let mut c = Command::new(o.bins.join("relay"));
            c.args(["--listen", &format!("127.0.0.1:{grpc}"), "--upstream"])
                .arg(sink_addr.to_string());
            (c, "none")
        }
        "rotel" => {
            let agent = rotel.ok_or("no rotel-agent")?;
            let text = std::fs::read_to_string(o.configs.join("rotel.args"))
                .map_err(|e| format!("rotel.args: {e}"))?;
            let mut c = Command::new(agent);
            for line in text
                .lines()
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
            {
                c.arg(
                    line.replace("${E2E_GRPC}", &format!("127.0.0.1:{grpc}"))
                        .replace("${E2E_HTTP}", &format!("127.0.0.1:{http}"))
                        .replace("${E2E_SINK}", &sink_addr.to_string())
                        .replace("${E2E_DIR}", &dir.to_string_lossy()),
                );
            }
            (c, "gzip")
        }
        _ => {
            let (config, export) = match row {
                "pass" => ("passthrough.yaml", "none"),
                "pass-gzip" => ("passthrough.yaml", "gzip"),
                "pass-zstd" => ("passthrough.yaml", "zstd"),
                "seed" => ("seed.yaml", "none"),
                "seed-gzip" => ("seed.yaml", "gzip"),
                "disk" | "disk-sync" => ("persistent.yaml", "none"),
                other => return Err(format!("unknown row {other:?}")),
            };
            let mut c = Command::new(o.bins.join("collector"));
            c.env("E2E_STORAGE", dir.join(format!("storage-{row}-{rate}")))
                .env("E2E_FSYNC", (row == "disk-sync").to_string());
            c.arg("--config")
                .arg(o.configs.join(config))
                .env("E2E_GRPC", format!("127.0.0.1:{grpc}"))
                .env("E2E_HTTP", format!("127.0.0.1:{http}"))
                .env("E2E_SINK", sink_addr.to_string())
                .env("E2E_COMPRESSION", export)
                .env("ENVIRONMENT", "bench")
                .env("ECS_CONTAINER_METADATA_URI_V4", format!("http://{ecs}/v4"))
                .env(
                    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                    format!("http://127.0.0.1:{nothing}"),
                );
            (c, export)
        }
    };
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(log_file))
        .stderr(Stdio::from(log_err));
    pin(&mut cmd, cores.map(|c| c.target));
    let fail = |msg: String| {
        let tail = std::fs::read_to_string(&log).unwrap_or_default();
        let tail: Vec<&str> = tail.lines().rev().take(15).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        format!("{msg}\n--- {}:\n{}", log.display(), tail.join("\n"))
    };

    let t0 = Instant::now();
    let mut target = Proc(
        cmd.spawn()
            .map_err(|e| format!("cannot start {row}: {e}"))?,
    );
    let pid = target.0.id();
    let addr = SocketAddr::from(([127, 0, 0, 1], grpc));
    let ready = loop {
        if TcpStream::connect(addr).is_ok() {
            break t0.elapsed();
        }
        if let Ok(Some(st)) = target.0.try_wait() {
            return Err(fail(format!("{row} exited before it was ready: {st}")));
        }
        if t0.elapsed() > Duration::from_secs(20) {
            return Err(fail(format!("{row} not ready after 20 s")));
        }
        std::thread::sleep(Duration::from_micros(200));
    };
    // Settled: runtime threads started, first allocations made, nothing received yet.
    std::thread::sleep(Duration::from_millis(500));
    let idle_rss_kb = status_kb(pid, "VmRSS")?;

    let cpu0 = cpu_s(pid)?;
    let mut load = Command::new(o.bins.join("loadgen"));
    load.args(["--endpoint", &addr.to_string()])
        .args(["--rate", &rate.to_string()])
        .args(["--duration", &o.duration.to_string()])
        .args(["--inflight", &o.inflight.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    pin(&mut load, cores.map(|c| c.rest));
    let out = load
        .output()
        .map_err(|e| format!("cannot run loadgen: {e}"))?;
    if row.starts_with("disk") {
        // A persistent queue delivers from its log on its own time: its CPU per span counts
        // the work until everything sent has arrived.
        wait_for(
            sink_addr,
            field_of(&out.stdout, "acked_items"),
            Duration::from_secs(30),
        );
    }
    let cpu1 = cpu_s(pid)?;
    let peak_rss_kb = status_kb(pid, "VmHWM")?;
    if !out.status.success() {
        return Err(fail(format!("loadgen failed: {}", out.status)));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value = stdout
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
        .ok_or(format!("loadgen printed {stdout:?}"))?;
    let field = |k: &str| report.get(k).and_then(Value::as_u64).unwrap_or(0);
    let (sent, acked, failed) = (
        field("sent_items"),
        field("acked_items"),
        field("failed_requests"),
    );
    let achieved = report
        .get("items_per_s")
        .and_then(Value::as_f64)
        .unwrap_or(0.0);

    // Batches a collector still holds reach the sink on their timeout or, failing that,
    // on shutdown (SIGTERM drains the pipelines).
    wait_for(sink_addr, sent, Duration::from_millis(1500));
    // SAFETY: kill(2) on our own child's pid, still unreaped (the Proc owns it).
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGTERM);
    }
    let stop = Instant::now();
    while !matches!(target.0.try_wait(), Ok(Some(_))) {
        if stop.elapsed() > Duration::from_secs(20) {
            eprintln!("e2e: {row} still running 20 s after SIGTERM: killed");
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(target);
    let (received, invalid) = wait_for(sink_addr, sent, Duration::from_secs(3));
    drop(sink);
    let m = Measure {
        row: row.to_owned(),
        export,
        rate,
        ready_ms: ready.as_secs_f64() * 1e3,
        idle_rss_kb,
        peak_rss_kb,
        cpu_s: cpu1 - cpu0,
        sent,
        acked,
        failed,
        received,
        invalid,
        achieved,
    };
    eprintln!(
        "e2e: {row}: {:.2} us/span, peak {} kB, idle {} kB, ready {:.1} ms, sent {sent} received {received}",
        m.cpu_us_per_span(),
        peak_rss_kb,
        idle_rss_kb,
        m.ready_ms
    );
    Ok(m)
}

/// A number from loadgen's report (its last line, JSON), 0 when missing.
fn field_of(stdout: &[u8], key: &str) -> u64 {
    String::from_utf8_lossy(stdout)
        .lines()
        .last()
        .and_then(|l| serde_json::from_str::<Value>(l).ok())
        .and_then(|v| v.get(key).and_then(Value::as_u64))
        .unwrap_or(0)
}

/// Serves a Fargate task's metadata (ECS task metadata endpoint v4) on 127.0.0.1 for the
/// seed's `ecs` detector, as a sidecar on Fargate finds it: answered at once, so start-up
/// is timed as it is there. Against a refused port the detector retries for over a second
/// (as Go's does), which would time the retries rather than the collector.
fn fake_ecs() -> Result<SocketAddr, String> {
    const TASK: &str = r#"{"Cluster":"arn:aws:ecs:eu-west-1:123456789012:cluster/prod",
"TaskARN":"arn:aws:ecs:eu-west-1:123456789012:task/prod/0123456789abcdef","Family":"my-api",
"Revision":"7","AvailabilityZone":"eu-west-1a","LaunchType":"FARGATE","DesiredStatus":"RUNNING",
"Containers":[{"DockerId":"otel","Type":"NORMAL","KnownStatus":"RUNNING","LogDriver":"awslogs",
"LogOptions":{"awslogs-group":"/ecs/otel","awslogs-region":"eu-west-1","awslogs-stream":"ecs/otel/1"}},
{"DockerId":"app","Type":"NORMAL","KnownStatus":"RUNNING","LogDriver":"awslogs",
"LogOptions":{"awslogs-group":"/ecs/my-api","awslogs-region":"eu-west-1","awslogs-stream":"ecs/my-api/1"}}]}"#;
    const CONTAINER: &str = r#"{"DockerId":"otel","Type":"NORMAL","KnownStatus":"RUNNING",
"LogDriver":"awslogs","LogOptions":{"awslogs-group":"/ecs/otel","awslogs-region":"eu-west-1",
"awslogs-stream":"ecs/otel/1"}}"#;
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("fake ECS endpoint: {e}"))?;
    let addr = l.local_addr().map_err(|e| e.to_string())?;
    std::thread::spawn(move || {
        for mut s in l.incoming().filter_map(Result::ok) {
            let mut req = Vec::new();
            let mut buf = [0u8; 1024];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let line = String::from_utf8_lossy(&req);
            let path = line.split_whitespace().nth(1).unwrap_or("");
            let body = if path.ends_with("/task") {
                TASK
            } else {
                CONTAINER
            };
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    Ok(addr)
}

/// Polls the sink until it has `want` spans or `limit` passes; (spans, invalid requests).
fn wait_for(sink: SocketAddr, want: u64, limit: Duration) -> (u64, u64) {
    let t = Instant::now();
    loop {
        let got = sink_report(sink).unwrap_or((0, 0));
        if got.0 >= want || t.elapsed() > limit {
            return got;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The sink's span and invalid-request counts, from `GET /report`.
fn sink_report(sink: SocketAddr) -> Result<(u64, u64), String> {
    let mut s = TcpStream::connect(sink).map_err(|e| e.to_string())?;
    // HTTP/1.0: the answer ends when the connection closes, never chunked.
    s.write_all(b"GET /report HTTP/1.0\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut text = String::new();
    s.read_to_string(&mut text).map_err(|e| e.to_string())?;
    let body = text.split_once("\r\n\r\n").ok_or("no body")?.1;
    let v: Value = serde_json::from_str(body).map_err(|e| e.to_string())?;
    let traces = v
        .pointer("/items/traces")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let invalid = v.get("invalid").and_then(Value::as_u64).unwrap_or(0);
    Ok((traces, invalid))
}

/// The process's CPU time so far, every thread: utime + stime from `/proc/PID/stat`.
fn cpu_s(pid: u32) -> Result<f64, String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|e| format!("/proc/{pid}/stat: {e}"))?;
    // The command name may hold spaces and parentheses: fields count from the last ')'.
    let rest = stat.rsplit_once(')').ok_or("bad stat")?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After ')': state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let ticks = |i: usize| {
        f.get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or("bad stat field")
    };
    // SAFETY: sysconf only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Ok((ticks(11)? + ticks(12)?) as f64 / hz)
}

/// A `kB` line of `/proc/PID/status` (VmRSS, VmHWM).
fn status_kb(pid: u32, key: &str) -> Result<u64, String> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("/proc/{pid}/status: {e}"))?;
    s.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .ok_or(format!("no {key} in /proc/{pid}/status"))
}

/// CPU time of this thread.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec we own.
    unsafe {
        libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts);
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// CPU per span of compressing a 1,000-span batch alone (gzip level 6, zstd level 3, the
/// exporter's levels): what the compressed rows are compared with.
fn compress_alone() -> (f64, f64) {
    let batch = collector_benches::traces_request(10, 100, 7);
    let time = |f: &dyn Fn(&[u8]) -> usize| {
        let t = thread_cpu();
        let mut n = 0u64;
        let mut sink = 0usize;
        while thread_cpu() - t < Duration::from_millis(300) || n < 3 {
            sink = sink.wrapping_add(f(&batch));
            n += 1;
        }
        std::hint::black_box(sink);
        (thread_cpu() - t).as_secs_f64() * 1e6 / (n * 1000) as f64
    };
    let gzip = time(&|b| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let _ = e.write_all(b);
        e.finish().map(|v| v.len()).unwrap_or(0)
    });
    let zstd = time(&|b| zstd::encode_all(b, 3).map(|v| v.len()).unwrap_or(0));
    (gzip, zstd)
}

fn print_table(o: &Opts, results: &[Measure]) {
    let relay = |rate: f64| {
        results
            .iter()
            .find(|m| m.row == "relay" && m.rate == rate)
            .map(Measure::cpu_us_per_span)
    };
    let mb = |kb: u64| kb as f64 / 1024.0;
    println!(
        "| row | export | spans/s (achieved) | CPU us/span | vs relay | peak RSS MB | idle RSS MB | exec-to-ready ms | sent / received |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for m in results {
        let cpu = m.cpu_us_per_span();
        let vs = relay(m.rate).map_or("-".to_owned(), |r| {
            format!("{:.2}x ({:+.2} us)", cpu / r, cpu - r)
        });
        println!(
            "| {} | {} | {:.0} ({:.0}) | {:.2} | {} | {:.1} | {:.1} | {:.1} | {} / {}{} |",
            m.row,
            m.export,
            m.rate,
            m.achieved,
            cpu,
            vs,
            mb(m.peak_rss_kb),
            mb(m.idle_rss_kb),
            m.ready_ms,
            m.sent,
            m.received,
            if m.lost() > 0 { " LOSS" } else { "" },
        );
    }
    let (gzip, zstd) = compress_alone();
    println!();
    println!("compressing a 1000-span batch alone: gzip {gzip:.2} us/span, zstd {zstd:.2} us/span");
    for (row, alone) in [("pass-gzip", gzip), ("pass-zstd", zstd)] {
        let at = |name: &str| results.iter().find(|m| m.row == name);
        if let (Some(c), Some(p)) = (at(row), at("pass")) {
            let extra = c.cpu_us_per_span() - p.cpu_us_per_span();
            println!(
                "{row}: {extra:.2} us/span more than pass = {:.2}x compressing alone",
                extra / alone
            );
        }
    }
    if let Ok(md) = std::fs::metadata(o.bins.join("collector")) {
        println!(
            "collector binary: {:.1} MB ({} bytes)",
            md.len() as f64 / 1e6,
            md.len()
        );
    }
}
