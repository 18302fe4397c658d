//! [`Collector`]: builds the pipelines of a [`Config`], starts them in the Go collector's
//! order, and shuts them down within a deadline.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::config::component::Kind;
use crate::config::{Component, Config};
use crate::memory::{Budget, DEFAULT_BUDGET_BYTES};
use crate::pipeline::build::{Build, Context, Extension, Factory, Receiver, Shared, Targets};
use crate::pipeline::exporter::ExporterRuntime;
use crate::pipeline::health::Health;
use crate::pipeline::ingest::Ingest;
use crate::pipeline::persist::{self, Persist, Readers};
use crate::pipeline::{
    Consumer, Counted, ExporterFanout, ExporterQueue, Guarded, Processor, Tally,
};
use crate::server::ServerHandle;
use crate::telemetry::{self, Counter, Registry};
use crate::{Error, ErrorKind, Signal};

/// A collector built from a configuration, ready to start.
#[derive(Debug)]
pub struct Collector {
    config: Config,
    budget_bytes: usize,
    embedded: bool,
    listeners: bool,
}

/// What a shutdown delivered and dropped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Items exporters delivered during the collector's life.
    pub delivered_items: u64,
    /// Items dropped: permanent export failures, exhausted retries, full queues of one
    /// exporter while another took the data, and what the shutdown deadline cut off.
    pub dropped_items: u64,
}

struct Running {
    /// What `ingest` feeds.
    ingest: Ingest,
    /// Where held ingests wait.
    runtime: tokio::runtime::Handle,
    health: Health,
    receivers: Mutex<Vec<(String, Box<dyn Receiver>)>>,
    /// Running extensions, in start order.
    extensions: Mutex<Vec<(String, Box<dyn Extension>)>>,
    /// Every pipeline's processors, first to last.
    processors: Vec<Arc<dyn Processor>>,
    /// Waits for every processor to be ready, then turns the health check to 200.
    ready_task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    ready_tx: Arc<tokio::sync::watch::Sender<bool>>,
    exporters: Vec<Arc<ExporterRuntime>>,
    /// The persistent queues' readers.
    readers: Readers,
    servers: Mutex<Vec<ServerHandle>>,
    tally: Arc<Tally>,
    registry: Registry,
    budget: Budget,
    listen: Vec<(String, SocketAddr)>,
    stopped: Mutex<Option<ShutdownReport>>,
    /// Held by the shutdown in progress; a second one waits on it for the report.
    shutdown: tokio::sync::Mutex<Option<ShutdownReport>>,
    /// Set when shutdown begins: `ingest` refuses from then on.
    stopping: AtomicBool,
}

/// The share of `--shutdown-timeout` receivers get to finish in-flight requests (2.5 s of
/// the default 25 s).
pub(crate) const RECEIVER_DRAIN_SHARE: f64 = 0.1;

/// What exporters leave of the shutdown timeout for their own shutdown and the exit.
pub(crate) const EXPORTER_MARGIN: Duration = Duration::from_secs(1);

/// A running collector. Cloning gives another handle to the same collector.
#[derive(Clone)]
pub struct CollectorHandle {
    inner: Arc<Running>,
}

impl std::fmt::Debug for CollectorHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CollectorHandle")
            .field("listen", &self.inner.listen)
            .finish_non_exhaustive()
    }
}

impl Collector {
    /// A collector for `config`, with the default memory budget.
    pub fn new(config: Config) -> Collector {
        Collector {
            config,
            budget_bytes: DEFAULT_BUDGET_BYTES,
            embedded: false,
            listeners: true,
        }
    }

    /// The memory budget for telemetry in flight (bytes).
    pub fn memory_budget(mut self, bytes: usize) -> Collector {
        self.budget_bytes = bytes;
        self
    }

    /// An embedded collector opens no listener the configuration does not ask for: its own
    /// metrics endpoint is served only when `service::telemetry::metrics` names one.
    pub fn embedded(mut self) -> Collector {
        self.embedded = true;
        self
    }

    /// Binds nothing at all: no OTLP receiver, no health check, no metrics endpoint, whatever
    /// the configuration says (a forked child's collector: the parent owns the ports).
    /// Data comes in through [`CollectorHandle::ingest`] only.
    pub fn without_listeners(mut self) -> Collector {
        self.embedded = true;
        self.listeners = false;
        self
    }

    /// Starts extensions, exporters, processors and receivers, in that order; ports are
    /// bound when this returns. Must run inside a tokio runtime.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`] when a component cannot be built from its configuration (a
    /// regex that does not compile, a file that cannot be opened), [`ErrorKind::Io`] when a
    /// port cannot be bound. Anything started before the failure is stopped again.
    pub async fn start(self) -> Result<CollectorHandle, Error> {
        let started = Instant::now();
        tracing::info!(version = env!("CARGO_PKG_VERSION"), "Starting collector...");
        let registry = Registry::default();
        telemetry::register_process_metrics(&registry, started);
        let budget = Budget::new(self.budget_bytes);
        let b = budget.clone();
        registry.gauge_fn(
            "otelcol_memory_budget_used",
            "Payload bytes held by the collector [By]",
            &[],
            move || b.used() as f64,
        );
        let tally = Arc::new(Tally::new(&registry));
        let health = Health::new(tally.panics.clone());
        let mut started_parts = Parts::default();
        match self
            .build(&registry, &budget, &tally, &health, &mut started_parts)
            .await
        {
            Ok(()) => {}
            Err(e) => {
                // A failed start stops what it started.
                started_parts.stop().await;
                return Err(e);
            }
        }
        let Parts {
            servers,
            extensions,
            receivers,
            exporters,
            processors,
            logs,
            listen,
            embedded_targets,
        } = started_parts;
        // Exporters and processors run: the logs' readers feed them what is on disk.
        let readers = Readers::start(logs, &budget, &tally);

        // Ports are open; the health check turns 200 once every processor is ready (resource
        // detection done or timed out). Until then such a processor holds payloads back.
        let (ready_tx, _) = tokio::sync::watch::channel(false);
        let ready_tx = Arc::new(ready_tx);
        let announce = {
            let health = health.clone();
            let ready_tx = ready_tx.clone();
            move || {
                health.set_ready();
                ready_tx.send_replace(true);
                tracing::info!(
                    startup = ?started.elapsed(),
                    "Everything is ready. Begin running and processing data."
                );
            }
        };
        let waiting: Vec<Arc<dyn Processor>> = processors
            .iter()
            .filter(|p| p.delays_readiness())
            .cloned()
            .collect();
        let ready_task = if waiting.is_empty() {
            announce();
            None
        } else {
            Some(tokio::spawn(async move {
                for p in &waiting {
                    p.ready().await;
                }
                announce();
            }))
        };
        let ingest = Ingest::new(
            embedded_targets.into_inner(),
            budget.clone(),
            tally.clone(),
            &registry,
        );
        Ok(CollectorHandle {
            inner: Arc::new(Running {
                ingest,
                runtime: tokio::runtime::Handle::current(),
                health,
                receivers: Mutex::new(receivers),
                extensions: Mutex::new(extensions),
                processors,
                ready_task: Mutex::new(ready_task),
                ready_tx,
                exporters,
                readers,
                servers: Mutex::new(servers),
                tally,
                registry,
                budget,
                listen,
                stopped: Mutex::new(None),
                shutdown: tokio::sync::Mutex::new(None),
                stopping: AtomicBool::new(false),
            }),
        })
    }
}

/// What a start has built so far, so that a failure can stop it again.
#[derive(Default)]
struct Parts {
    servers: Vec<ServerHandle>,
    extensions: Vec<(String, Box<dyn Extension>)>,
    receivers: Vec<(String, Box<dyn Receiver>)>,
    exporters: Vec<Arc<ExporterRuntime>>,
    processors: Vec<Arc<dyn Processor>>,
    /// Persistent queues' logs (their readers start with the collector).
    logs: Vec<Arc<persist::Log>>,
    listen: Vec<(String, SocketAddr)>,
    embedded_targets: Mutex<Targets>,
}

impl Parts {
    /// Stops everything started, at once (a start that failed half way).
    async fn stop(self) {
        for (_, r) in self.receivers {
            r.shutdown(Duration::ZERO).await;
        }
        for s in self.servers {
            s.abort();
        }
        let now = Instant::now();
        for p in &self.processors {
            p.shutdown(now).await;
        }
        for e in &self.exporters {
            e.shutdown(now, now).await;
        }
        for l in &self.logs {
            l.wal.close();
        }
        for (_, e) in &self.extensions {
            e.shutdown(Duration::ZERO).await;
        }
    }
}

/// The factory of a configured component (validation made sure there is one).
fn factory_of(c: &Component) -> Result<&'static Factory, Error> {
    crate::components::factory(c.factory).ok_or_else(|| {
        Error::new(
            ErrorKind::Internal,
            format!("no factory for {} {}", c.factory.kind.singular(), c.id),
        )
    })
}

/// A build error with the component it is about, as Go words them.
fn in_component(kind: Kind, id: &str, e: Error) -> Error {
    Error::new(
        e.kind(),
        format!("{} {id}: {}", kind.singular(), e.message()),
    )
}

/// A pipeline's processors: the consumer its receivers feed, and the processors first to
/// last (to start, flush and stop).
pub(crate) type Chain = (Arc<dyn Consumer>, Vec<Arc<dyn Processor>>);

/// What building components needs besides their configuration: the collector's shared
/// pieces, handed to each factory's `build` as a [`Context`].
pub(crate) struct Builder<'a> {
    pub(crate) registry: &'a Registry,
    pub(crate) budget: &'a Budget,
    pub(crate) tally: &'a Arc<Tally>,
    pub(crate) health: &'a Health,
    pub(crate) listeners: bool,
    pub(crate) ingest: &'a Mutex<Targets>,
    pub(crate) shared: &'a Shared,
    pub(crate) extensions: &'a [(String, Box<dyn Extension>)],
    pub(crate) service: &'a crate::config::service::ServiceConfig,
}

impl<'a> Builder<'a> {
    fn context<'b>(&'b self, id: &'b str, signal: Signal) -> Context<'b> {
        Context::new(
            id,
            signal,
            self.registry,
            self.budget,
            self.tally,
            self.health,
            self.listeners,
            self.ingest,
            self.shared,
            self.extensions,
        )
        .with_service(self.service)
    }

    /// The processors `ids` of one pipeline of `signal` in front of `tail`, built from the
    /// last back: the consumer a receiver feeds, and the processors first to last (to
    /// start, flush and stop). Each is wrapped in Go's `processorhelper` item counters and
    /// in the panic guard.
    pub(crate) fn chain(
        &self,
        cfg: &Config,
        signal: Signal,
        ids: &[String],
        tail: Arc<dyn Consumer>,
    ) -> Result<Chain, Error> {
        let mut next = tail;
        let mut built: Vec<Arc<dyn Processor>> = Vec::with_capacity(ids.len());
        for id in ids.iter().rev() {
            let c = cfg.component(Kind::Processor, id)?;
            let Build::Processor(build) = factory_of(c)?.build else {
                return Err(not_a(Kind::Processor, id));
            };
            let (incoming, outgoing) = processor_counters(self.registry, id, signal);
            let out: Arc<dyn Consumer> = Arc::new(Counted::outgoing(next, outgoing));
            let processor = build(&self.context(id, signal), c.config.as_ref(), out)
                .map_err(|e| in_component(Kind::Processor, id, e))?;
            let guarded = Guarded::new(processor.clone(), id, self.tally.clone());
            next = Arc::new(Counted::incoming(guarded, incoming));
            built.push(processor);
        }
        built.reverse();
        Ok((next, built))
    }

    /// A pipeline whose exporters `stored` have `sending_queue::storage`: the processors
    /// before `batch` in front of the [`Persist`] stage, which writes the logs and feeds the
    /// exporters without storage (`queues`) through the processors from `batch` on; each
    /// exporter with storage gets its own copy of those, fed by its log's reader
    /// (`pipeline/persist.rs`). Returns the consumer receivers feed, the processors first
    /// to last, and the logs.
    fn persistent(
        &self,
        cfg: &Config,
        pid: &str,
        ids: &[String],
        queues: Vec<Arc<dyn ExporterQueue>>,
        stored: Vec<Arc<ExporterRuntime>>,
    ) -> Result<(Chain, Vec<Arc<persist::Log>>), Error> {
        let signal = pipeline_signal(pid);
        let at = ids
            .iter()
            .position(|id| {
                cfg.component(Kind::Processor, id)
                    .is_ok_and(|c| c.factory.name == persist::LOG_BEFORE)
            })
            .unwrap_or(ids.len());
        let (before, after) = ids.split_at(at);
        let mut built = Vec::new();
        let rest = if queues.is_empty() {
            None
        } else {
            let (chain, mine) = self.chain(cfg, signal, after, ExporterFanout::new(queues))?;
            built.extend(mine);
            Some(chain)
        };
        // One log per storage extension the exporters name.
        let mut by_storage: Vec<(String, Vec<Arc<ExporterRuntime>>)> = Vec::new();
        for e in stored {
            let sid = e.disk().map(|d| d.storage.clone()).unwrap_or_default();
            match by_storage.iter_mut().find(|(s, _)| *s == sid) {
                Some((_, v)) => v.push(e),
                None => by_storage.push((sid, vec![e])),
            }
        }
        let mut logs = Vec::new();
        for (sid, exporters) in by_storage {
            let first = exporters
                .first()
                .map(|e| e.id().to_owned())
                .unwrap_or_default();
            let in_exporter = |msg: String| {
                Error::new(
                    ErrorKind::Config,
                    format!("exporter {first}: sending_queue::storage: {msg}"),
                )
            };
            let storage = match self.extensions.iter().find(|(id, _)| *id == sid) {
                None => {
                    return Err(in_exporter(format!(
                        "no storage client extension found: {sid:?} must be configured under `extensions` and listed in `service::extensions`"
                    )));
                }
                Some((_, e)) => e.storage().ok_or_else(|| {
                    in_exporter(format!(
                        "requested extension is not a storage extension: {sid:?}"
                    ))
                })?,
            };
            let dir = storage.log_dir(pid);
            let ids: Vec<&str> = exporters.iter().map(|e| e.id()).collect();
            let (wal, bits, damage) =
                crate::storage::Wal::open(&dir, &storage, &ids).map_err(|e| {
                    Error::with_source(
                        ErrorKind::Io,
                        format!(
                            "pipeline {pid}: cannot open the persistent queue in {}: {e}",
                            dir.display()
                        ),
                        e,
                    )
                })?;
            self.registry
                .counter(
                    "otelcol_storage_damaged_records",
                    "Torn or corrupt records found in the persistent queue's log at start; reading their file stopped there (ours).",
                    &[("pipeline", pid), ("storage", &sid)],
                )
                .add(damage.torn.len() as u64);
            for (path, offset, why) in &damage.torn {
                tracing::warn!(
                    pipeline = pid,
                    file = %path.display(),
                    offset,
                    "The persistent queue has a damaged record ({why}); skipping the rest of that file and delivering everything else."
                );
            }
            let mut targets = Vec::new();
            for (e, bit) in exporters.into_iter().zip(bits) {
                let (chain, mine) =
                    self.chain(cfg, signal, after, ExporterFanout::new(vec![e.clone()]))?;
                built.extend(mine);
                targets.push((bit, e, chain));
            }
            logs.push(persist::Log::new(
                pid,
                &sid,
                signal,
                wal,
                targets,
                self.registry,
            ));
        }
        let persist = Arc::new(Persist::new(pid, logs.clone(), rest, self.tally.clone()));
        let (chain, mut mine) = self.chain(cfg, signal, before, persist)?;
        // Pipeline order: the processors before the log first.
        mine.extend(built);
        Ok(((chain, mine), logs))
    }

    /// The exporter `id` for `signal`.
    fn exporter(
        &self,
        cfg: &Config,
        id: &str,
        signal: Signal,
    ) -> Result<Arc<ExporterRuntime>, Error> {
        let c = cfg.component(Kind::Exporter, id)?;
        let Build::Exporter(build) = factory_of(c)?.build else {
            return Err(not_a(Kind::Exporter, id));
        };
        build(&self.context(id, signal), c.config.as_ref())
            .map_err(|e| in_component(Kind::Exporter, id, e))
    }

    /// The receiver `id` feeding `targets`, if it has something to run.
    fn receiver(
        &self,
        c: &Component,
        id: &str,
        targets: Targets,
    ) -> Result<Option<Box<dyn Receiver>>, Error> {
        let Build::Receiver(build) = factory_of(c)?.build else {
            return Err(not_a(Kind::Receiver, id));
        };
        build(
            &self.context(id, Signal::Traces),
            c.config.as_ref(),
            targets,
        )
        .map_err(|e| in_component(Kind::Receiver, id, e))
    }
}

/// A component listed where another kind belongs (validation rules it out: a bug).
fn not_a(kind: Kind, id: &str) -> Error {
    Error::new(
        ErrorKind::Internal,
        format!("{id} is not a {}", kind.singular()),
    )
}

impl Collector {
    /// What components are built with: the collector's shared pieces and the extensions
    /// started so far.
    fn builder<'a>(
        &'a self,
        registry: &'a Registry,
        budget: &'a Budget,
        tally: &'a Arc<Tally>,
        health: &'a Health,
        shared: &'a Shared,
        parts: &'a Parts,
    ) -> Builder<'a> {
        Builder {
            registry,
            budget,
            tally,
            health,
            listeners: self.listeners,
            ingest: &parts.embedded_targets,
            shared,
            extensions: &parts.extensions,
            service: &self.config.service,
        }
    }

    /// Builds and starts extensions, exporters, processors and receivers into `parts`,
    /// walking the factories of the configured components.
    async fn build(
        &self,
        registry: &Registry,
        budget: &Budget,
        tally: &Arc<Tally>,
        health: &Health,
        parts: &mut Parts,
    ) -> Result<(), Error> {
        let cfg = &self.config;
        let shared = Shared::default();

        // Extensions, in `service::extensions` order; each sees those started before it.
        tracing::info!("Starting extensions...");
        for id in &cfg.service.extensions {
            let c = cfg.component(Kind::Extension, id)?;
            let Build::Extension(build) = factory_of(c)?.build else {
                return Err(not_a(Kind::Extension, id));
            };
            tracing::info!(kind = "extension", name = %id, "Extension is starting...");
            let ext = {
                let b = self.builder(registry, budget, tally, health, &shared, parts);
                build(&b.context(id, Signal::Traces), c.config.as_ref())
                    .map_err(|e| in_component(Kind::Extension, id, e))?
            };
            parts
                .listen
                .extend(ext.local_addrs().into_iter().map(|a| (id.clone(), a)));
            parts.extensions.push((id.clone(), ext));
            tracing::info!(kind = "extension", name = %id, "Extension started.");
        }

        let b = self.builder(registry, budget, tally, health, &shared, parts);
        // Exporters: one instance per (id, signal), as in Go; then each pipeline's
        // processors in front of its exporters.
        let mut exporters: HashMap<(String, Signal), Arc<ExporterRuntime>> = HashMap::new();
        let mut pipelines: HashMap<String, (Signal, Arc<dyn Consumer>)> = HashMap::new();
        let mut processors = Vec::new();
        let mut all_logs = Vec::new();
        for (pid, p) in &cfg.service.pipelines {
            let signal = pipeline_signal(pid);
            let mut queues: Vec<Arc<dyn ExporterQueue>> = Vec::new();
            let mut stored: Vec<Arc<ExporterRuntime>> = Vec::new();
            for eid in &p.exporters {
                let key = (eid.clone(), signal);
                let rt = match exporters.get(&key) {
                    Some(rt) => rt.clone(),
                    None => {
                        let rt = b.exporter(cfg, eid, signal)?;
                        exporters.insert(key, rt.clone());
                        rt
                    }
                };
                if rt.disk().is_some() {
                    stored.push(rt);
                } else {
                    queues.push(rt);
                }
            }
            let chain = if stored.is_empty() {
                let (chain, mine) =
                    b.chain(cfg, signal, &p.processors, ExporterFanout::new(queues))?;
                processors.extend(mine);
                chain
            } else {
                let ((chain, mine), logs) =
                    b.persistent(cfg, pid, &p.processors, queues, stored)?;
                processors.extend(mine);
                all_logs.extend(logs);
                chain
            };
            pipelines.insert(pid.clone(), (signal, chain));
        }
        let exporters: Vec<Arc<ExporterRuntime>> = exporters.into_values().collect();
        for e in &exporters {
            e.start();
        }
        for p in &processors {
            p.start();
        }

        // Receivers: one instance per id, feeding every pipeline that names it.
        let mut receivers = Vec::new();
        let mut listen = Vec::new();
        let mut failed = None;
        for c in &cfg.receivers {
            let id = c.id.to_string();
            let targets: Targets = Signal::ALL.map(|signal| {
                cfg.service
                    .pipelines
                    .iter()
                    .filter(|(_, p)| p.receivers.contains(&id))
                    .filter_map(|(pid, _)| Some((pid, pipelines.get(pid)?)))
                    .filter(|(_, (s, _))| *s == signal)
                    .map(|(pid, (_, chain))| (pid.clone(), chain.clone()))
                    .collect()
            });
            if targets.iter().all(Vec::is_empty) {
                continue;
            }
            match b.receiver(c, &id, targets) {
                Ok(Some(rx)) => {
                    listen.extend(rx.local_addrs().into_iter().map(|a| (id.clone(), a)));
                    receivers.push((id, rx));
                }
                Ok(None) => {}
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        parts.exporters = exporters;
        parts.processors = processors;
        parts.logs = all_logs;
        parts.receivers = receivers;
        parts.listen.extend(listen);
        if let Some(e) = failed {
            return Err(e);
        }

        // Own metrics.
        let metrics = &cfg.service.telemetry.metrics;
        let explicit = metrics.readers.is_some() || metrics.address.is_some();
        if let Some(endpoint) = metrics
            .endpoint()
            .filter(|_| self.listeners && (explicit || !self.embedded))
        {
            let s = telemetry::server::start(&endpoint, registry.clone())
                .map_err(|e| io_error(&format!("telemetry: cannot listen on {endpoint}"), e))?;
            parts
                .listen
                .extend(s.local_addrs.iter().map(|a| ("telemetry".to_owned(), *a)));
            parts.servers.push(s);
        }
        // Own metrics pushed over OTLP (periodic readers); stopped with the extensions, last.
        if !metrics.level.eq_ignore_ascii_case("none") {
            let periodic = metrics
                .readers
                .iter()
                .flatten()
                .filter_map(|r| r.periodic.as_ref());
            for (i, r) in periodic.enumerate() {
                let pusher = telemetry::push::start(registry.downgrade(), r, own_resource(cfg))
                    .map_err(|e| {
                        Error::new(
                            e.kind(),
                            format!("telemetry: metrics reader {i}: {}", e.message()),
                        )
                    })?;
                parts
                    .extensions
                    .insert(0, (format!("telemetry/periodic/{i}"), Box::new(pusher)));
            }
        }
        // Own logs shipped over OTLP.
        for (i, proc) in cfg.service.telemetry.logs.processors.iter().enumerate() {
            let Some(spec) = proc.spec() else { continue };
            let shipper =
                telemetry::logs::start(spec, proc.batch.is_none(), own_resource(cfg), registry)
                    .map_err(|e| {
                        Error::new(
                            e.kind(),
                            format!("telemetry: log processor {i}: {}", e.message()),
                        )
                    })?;
            parts
                .extensions
                .insert(0, (format!("telemetry/logs/{i}"), Box::new(shipper)));
        }
        Ok(())
    }
}

/// The resource of the collector's own telemetry: `service.name`, `service.version` and a
/// `service.instance.id` as Go sets them, then `service::telemetry::resource` (a null value
/// removes an attribute).
fn own_resource(cfg: &Config) -> Vec<(String, String)> {
    let id: [u8; 16] = rand::random();
    let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
    let mut attrs: std::collections::BTreeMap<String, String> = [
        ("service.name".to_owned(), "collector".to_owned()),
        (
            "service.version".to_owned(),
            env!("CARGO_PKG_VERSION").to_owned(),
        ),
        (
            "service.instance.id".to_owned(),
            format!(
                "{}-{}-{}-{}-{}",
                &hex[..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..]
            ),
        ),
    ]
    .into_iter()
    .collect();
    for (k, v) in &cfg.service.telemetry.resource {
        match v {
            Some(v) => attrs.insert(k.clone(), v.clone()),
            None => attrs.remove(k),
        };
    }
    attrs.into_iter().collect()
}

/// Go's `processorhelper` counters (v0.138): `otelcol_processor_incoming_items` and
/// `otelcol_processor_outgoing_items`, labels `processor` and `otel.signal`.
fn processor_counters(registry: &Registry, id: &str, signal: Signal) -> (Counter, Counter) {
    let labels = [("processor", id), ("otel_signal", signal.as_str())];
    (
        registry.counter(
            "otelcol_processor_incoming_items",
            "Number of items passed to the processor.",
            &labels,
        ),
        registry.counter(
            "otelcol_processor_outgoing_items",
            "Number of items emitted from the processor.",
            &labels,
        ),
    )
}

fn io_error(what: &str, e: std::io::Error) -> Error {
    Error::with_source(ErrorKind::Io, format!("{what}: {e}"), e)
}

pub(crate) use crate::config::service::pipeline_signal;

impl CollectorHandle {
    /// True while every pipeline runs (what the health check reports).
    pub fn is_ready(&self) -> bool {
        self.inner.health.ready_since().is_some()
    }

    /// Resolves once every pipeline runs (at once, unless a processor such as
    /// `resourcedetection` is still detecting).
    pub async fn ready(&self) {
        let mut rx = self.inner.ready_tx.subscribe();
        let _ = rx.wait_for(|r| *r).await;
    }

    /// The addresses bound, by component id (`telemetry` for the metrics endpoint).
    pub fn listen_addrs(&self) -> Vec<(String, SocketAddr)> {
        self.inner.listen.clone()
    }

    /// Payload bytes currently held (the memory budget in use).
    pub fn memory_in_use(&self) -> usize {
        self.inner.budget.used()
    }

    /// The collector's own metrics in the Prometheus text format.
    pub fn metrics_text(&self) -> String {
        self.inner.registry.render()
    }

    /// The shutdown report, once shut down.
    pub fn report(&self) -> Option<ShutdownReport> {
        *self.inner.stopped.lock()
    }

    /// Hands an encoded OTLP export request (`ExportTraceServiceRequest` etc.) to the
    /// pipelines that list an `embedded` receiver, in-process. The bytes are validated as
    /// a receiver validates them and kept without a copy. Synchronous and never blocking:
    /// over the memory budget, or with every exporter queue full, it returns an
    /// [`ErrorKind::Retryable`] error at once. Must not be called from inside an async
    /// task that holds a lock the pipeline needs (it takes none of the caller's).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidArgument`] when no pipeline takes `signal` in-process,
    /// [`ErrorKind::InvalidData`] for bytes that are not a valid request,
    /// [`ErrorKind::Retryable`] over budget or when every queue is full,
    /// [`ErrorKind::NotRunning`] after shutdown.
    pub fn ingest(&self, signal: Signal, data: bytes::Bytes) -> Result<(), Error> {
        self.check_running()?;
        self.inner.ingest.ingest(signal, data, &self.inner.runtime)
    }

    /// Hands a batch of spans in the packed format (`docs/packed-spans.md`, what the
    /// Python fast path sends) to the pipelines that list an `embedded` receiver: turned
    /// into an OTLP `ExportTraceServiceRequest` (on the memory budget before it is built),
    /// then taken as [`ingest`](Self::ingest) takes one. The input is only read.
    ///
    /// # Errors
    ///
    /// As [`ingest`](Self::ingest); [`ErrorKind::InvalidData`] also for input that is not
    /// a valid packed batch.
    pub fn ingest_packed_spans(&self, packed: &[u8]) -> Result<(), Error> {
        self.check_running()?;
        self.inner
            .ingest
            .ingest_packed_spans(packed, &self.inner.runtime)
    }

    fn check_running(&self) -> Result<(), Error> {
        if self.inner.stopped.lock().is_some() || self.inner.stopping.load(Ordering::Acquire) {
            return Err(Error::new(
                ErrorKind::NotRunning,
                "the collector has been shut down",
            ));
        }
        Ok(())
    }

    /// Delivers everything taken in before the call: held payloads are offered, batches
    /// are cut and every exporter queue works through what it had. Returns once all of it
    /// is delivered or counted as dropped (a permanent failure, or retries given up).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Timeout`] when `timeout` passes first (the data stays queued and
    /// keeps being exported), [`ErrorKind::NotRunning`] after shutdown.
    pub async fn flush(&self, timeout: Duration) -> Result<(), Error> {
        if self.inner.stopped.lock().is_some() || self.inner.stopping.load(Ordering::Acquire) {
            return Err(Error::new(
                ErrorKind::NotRunning,
                "the collector has been shut down",
            ));
        }
        let deadline = Instant::now() + timeout;
        let late = || {
            Error::new(
                ErrorKind::Timeout,
                format!("flush: not everything was delivered within {timeout:?}"),
            )
        };
        if !self.inner.ingest.settled(deadline.into()).await {
            return Err(late());
        }
        let marks = self.inner.readers.marks();
        loop {
            // In pipeline order: a batch cut lands in the exporter queues before they are
            // waited for.
            for p in &self.inner.processors {
                if !p.flush(deadline).await {
                    return Err(late());
                }
            }
            for e in &self.inner.exporters {
                if !e.flush(deadline).await {
                    return Err(late());
                }
            }
            // A persistent queue's records are read on their own time: flushed again
            // until every one written before the call is released.
            if self.inner.readers.released(&marks) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(late());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Items still in persistent queues (`sending_queue::storage`): written to disk and not
    /// yet delivered or dropped by every exporter that needs them. After
    /// [`shutdown`](Self::shutdown), what the next start will deliver.
    pub fn items_on_disk(&self) -> u64 {
        self.inner.readers.items_on_disk()
    }

    /// Stops the collector within `timeout`, sharing it between the stages: health goes
    /// unavailable and receivers stop accepting at once; in-flight requests get
    /// [`RECEIVER_DRAIN_SHARE`] of `timeout` to finish, all receivers at the same time; then
    /// batches flush and every exporter works through its queue at the same time until
    /// [`EXPORTER_MARGIN`] before the deadline; whatever is left is dropped and counted with
    /// a reason, and the last moments go to exporters' own shutdown (a file exporter's
    /// flush). A second call, concurrent or later, waits for the first and returns its
    /// report.
    pub async fn shutdown(&self, timeout: Duration) -> ShutdownReport {
        let mut running = self.inner.shutdown.lock().await;
        if let Some(r) = *running {
            return r;
        }
        let deadline = Instant::now() + timeout;
        self.inner.stopping.store(true, Ordering::Release);
        tracing::info!("Starting shutdown...");
        if let Some(t) = self.inner.ready_task.lock().take() {
            t.abort();
        }
        self.inner.health.set_unavailable();

        // Receivers: stop accepting now, drain briefly, all at once.
        let drain = timeout.mul_f64(RECEIVER_DRAIN_SHARE);
        let receivers: Vec<_> = std::mem::take(&mut *self.inner.receivers.lock());
        let tasks: Vec<_> = receivers
            .into_iter()
            .map(|(_, r)| tokio::spawn(r.shutdown(drain)))
            .collect();
        for t in tasks {
            let _ = t.await;
        }
        // Ingested payloads still held at a stage give up (counted).
        self.inner.ingest.stop();
        // Persistent queues stop reading: what is on disk stays there.
        self.inner.readers.stop().await;

        // Processors in pipeline order, so a batch flushes into exporters still running;
        // then every exporter drains at the same time.
        let exporters_until = deadline
            .checked_sub(EXPORTER_MARGIN)
            .unwrap_or(deadline)
            .max(Instant::now());
        for p in &self.inner.processors {
            p.shutdown(exporters_until).await;
        }
        let tasks: Vec<_> = self
            .inner
            .exporters
            .iter()
            .map(|e| {
                let e = e.clone();
                tokio::spawn(async move { e.shutdown(exporters_until, deadline).await })
            })
            .collect();
        for t in tasks {
            let _ = t.await;
        }
        self.inner.readers.close();
        tracing::info!("Stopping extensions...");
        let servers: Vec<_> = std::mem::take(&mut *self.inner.servers.lock());
        let grace = deadline
            .saturating_duration_since(Instant::now())
            .min(Duration::from_millis(100));
        for s in servers {
            s.shutdown(grace).await;
        }
        // In reverse start order, as Go stops them.
        let extensions: Vec<_> = std::mem::take(&mut *self.inner.extensions.lock());
        for (_, e) in extensions.iter().rev() {
            e.shutdown(grace).await;
        }
        let report = ShutdownReport {
            delivered_items: self.inner.tally.delivered.get(),
            dropped_items: self.inner.tally.dropped.get(),
        };
        *self.inner.stopped.lock() = Some(report);
        *running = Some(report);
        tracing::info!(
            delivered_items = report.delivered_items,
            dropped_items = report.dropped_items,
            "Shutdown complete."
        );
        report
    }
}
