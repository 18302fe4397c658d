//! `collector`: the sidecar binary. A thin command line over `collector-core`: it parses
//! flags, loads the configuration and hands it to the library.

use std::process::ExitCode;

mod healthcheck;
mod logging;

use clap::{Args, Parser, Subcommand};
use collector_core::Collector;
use collector_core::config::{Duration, Loader};

/// The configuration used when no `--config` is given.
const DEFAULT_CONFIG: &str = include_str!("default_config.yaml");

/// An OpenTelemetry collector: reads the Go collector's configuration and runs it.
#[derive(Parser, Debug)]
#[command(name = "collector", version, about, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    sources: Sources,

    /// Feature gates of the Go collector: accepted and ignored (with a warning).
    #[arg(long = "feature-gates", global = true, value_name = "GATES")]
    feature_gates: Vec<String>,

    /// How long a shutdown may take before what is left is dropped (under ECS's 30 s).
    #[arg(long = "shutdown-timeout", global = true, default_value = "25s", value_parser = parse_duration)]
    shutdown_timeout: Duration,

    /// Memory budget for telemetry in flight when no memory_limiter is configured.
    #[arg(long = "memory-budget-mib", global = true, value_name = "MIB")]
    memory_budget_mib: Option<u64>,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Args, Debug)]
struct Sources {
    /// A configuration source: a path, file:PATH, env:VAR or yaml:key::path: value.
    /// Repeatable; later sources merge over earlier ones. Default: the built-in config.
    #[arg(long = "config", global = true, value_name = "URI")]
    config: Vec<String>,

    /// Set one value, e.g. processors.batch.timeout=2s; applied after every --config.
    #[arg(long = "set", global = true, value_name = "KEY=VALUE")]
    set: Vec<String>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check the configuration and print every problem (exit 1 if any).
    Validate,
    /// List the component types this collector knows.
    Components,
    /// Print the effective configuration (defaults filled in, secrets redacted).
    PrintConfig,
    /// Configuration utilities.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Ask a running collector's health_check extension; exit 0 only on 200 (for container
    /// health checks in images without a shell).
    Healthcheck {
        /// The health endpoint.
        #[arg(long, default_value = "http://127.0.0.1:13133/")]
        endpoint: String,
    },
}

#[derive(Subcommand, Debug)]
enum ConfigCommand {
    /// Print FILE packed as zstd+base64:..., for environment variables with a size limit
    /// (use as --config env:VAR).
    Pack {
        /// The YAML file.
        file: std::path::PathBuf,
    },
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    Duration::parse(s)
}

/// Long flags the Go collector also accepts with one dash (`-config=env:OTEL_CONFIG`, as
/// the seed's ECS task definition passes it).
const LONG_FLAGS: &[&str] = &[
    "config",
    "set",
    "feature-gates",
    "shutdown-timeout",
    "memory-budget-mib",
    "version",
    "help",
    "endpoint",
];

fn normalize_args(args: impl IntoIterator<Item = String>) -> Vec<String> {
    args.into_iter()
        .enumerate()
        .map(|(i, a)| {
            if i == 0 || a.starts_with("--") || !a.starts_with('-') {
                return a;
            }
            let name = a[1..].split('=').next().unwrap_or_default();
            if LONG_FLAGS.contains(&name) {
                format!("-{a}")
            } else {
                a
            }
        })
        .collect()
}

fn loader(sources: &Sources) -> Loader {
    let mut l = Loader::new();
    for c in &sources.config {
        l = l.config(c);
    }
    if sources.config.is_empty() {
        l = l.document("built-in default config", DEFAULT_CONFIG);
    }
    for s in &sources.set {
        l = l.set(s);
    }
    l
}

fn load(sources: &Sources) -> Result<collector_core::Config, ExitCode> {
    match loader(sources).load() {
        Ok(cfg) => {
            for w in cfg.warnings() {
                eprintln!("warning: {w}");
            }
            Ok(cfg)
        }
        Err(e) => {
            eprintln!("invalid configuration:");
            for line in e.message().lines() {
                eprintln!("  {line}");
            }
            Err(ExitCode::FAILURE)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse_from(normalize_args(std::env::args()));
    if !cli.feature_gates.is_empty() {
        eprintln!(
            "warning: --feature-gates {} accepted and ignored: this collector has no feature gates",
            cli.feature_gates.join(",")
        );
    }
    match cli.command {
        Some(Command::Validate) => match load(&cli.sources) {
            Ok(_) => ExitCode::SUCCESS,
            Err(code) => code,
        },
        Some(Command::Components) => {
            print_components();
            ExitCode::SUCCESS
        }
        Some(Command::PrintConfig) => match load(&cli.sources) {
            Ok(cfg) => {
                print!("{}", cfg.to_yaml());
                ExitCode::SUCCESS
            }
            Err(code) => code,
        },
        Some(Command::Config(ConfigCommand::Pack { file })) => {
            let packed = std::fs::read(&file).and_then(|b| collector_core::config::pack(&b));
            match packed {
                Ok(p) => {
                    println!("{p}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("cannot pack {}: {e}", file.display());
                    ExitCode::FAILURE
                }
            }
        }
        Some(Command::Healthcheck { endpoint }) => healthcheck::check(&endpoint),
        None => run(&cli),
    }
}

fn print_components() {
    let all = collector_core::components();
    for kind in ["receiver", "processor", "exporter", "extension"] {
        println!("{kind}s:");
        for c in all.iter().filter(|c| c.kind == kind) {
            println!("  - name: {}", c.name);
            if !c.aliases.is_empty() {
                println!("    aliases: [{}]", c.aliases.join(", "));
            }
            if !c.signals.is_empty() {
                println!("    signals: [{}]", c.signals.join(", "));
            }
            println!("    status: {}", c.status);
        }
    }
}

fn run(cli: &Cli) -> ExitCode {
    let cfg = match load(&cli.sources) {
        Ok(cfg) => cfg,
        Err(code) => return code,
    };
    logging::init(cfg.log_level(), cfg.log_encoding());
    raise_open_file_limit();
    // The container's CPU quota, not the host's cores: a quarter-core Fargate task gets one
    // worker instead of contending with itself on every core of the host.
    let workers = collector_core::worker_threads();
    tracing::info!(worker_threads = workers, "Starting the runtime");
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .thread_name("collector")
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let shutdown_timeout = cli.shutdown_timeout.to_std();
    let budget = cli.memory_budget_mib;
    runtime.block_on(async move {
        let mut collector = Collector::new(cfg);
        if let Some(mib) = budget {
            collector = collector.memory_budget((mib as usize) << 20);
        }
        let handle = match collector.start().await {
            Ok(h) => h,
            Err(e) => {
                tracing::error!(error = %e, "collector server run finished with error");
                return ExitCode::FAILURE;
            }
        };
        let signal = wait_for_signal().await;
        tracing::info!(signal, "Received signal from OS");
        handle.shutdown(shutdown_timeout).await;
        ExitCode::SUCCESS
    })
}

/// Waits for SIGTERM (what ECS sends), SIGINT or SIGHUP. The Go collector reloads its
/// configuration on SIGHUP; until this one can, SIGHUP drains and exits as SIGTERM does
/// (never the default action, which kills without a drain). docs/migration.md says so.
async fn wait_for_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::hangup()),
    ) else {
        // Without signal handlers the process can only be killed; wait forever.
        std::future::pending::<()>().await;
        return "none";
    };
    tokio::select! {
        _ = term.recv() => "terminated",
        _ = int.recv() => "interrupt",
        _ = hup.recv() => "hangup",
    }
}

/// Raises the soft open-file limit to the hard limit: every client connection is a file.
fn raise_open_file_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}
