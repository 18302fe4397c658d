//! Configuration: the Go collector's YAML, loaded from the same sources, merged, expanded,
//! decoded into typed component configs and validated, with every error naming its key
//! path, its source and its line.
//!
//! ```
//! use collector_core::Config;
//!
//! let cfg = Config::from_yaml(r#"
//! receivers:
//!   otlp:
//!     protocols:
//!       grpc:
//! exporters:
//!   debug:
//! service:
//!   pipelines:
//!     traces:
//!       receivers: [otlp]
//!       exporters: [debug]
//! "#).unwrap();
//! assert!(cfg.to_yaml().contains("endpoint: localhost:4317"));
//! ```

pub(crate) mod component;
pub(crate) mod de;
mod duration;
mod emit;
mod expand;
pub(crate) mod net;
pub(crate) mod node;
pub(crate) mod service;
mod source;
pub(crate) mod validate;

use std::sync::Arc;

pub use component::{ComponentId, Kind};
pub use duration::Duration;
pub use source::{PACKED_PREFIX, pack};

use crate::{Error, ErrorKind, Signal};
use component::{ComponentConfig, ConfigFactory};
use de::{DeError, Seg};
use node::{Node, Origin, Value};
use service::ServiceConfig;
use validate::Problems;

/// A configured component.
#[derive(Clone, Debug)]
pub(crate) struct Component {
    pub(crate) id: ComponentId,
    pub(crate) factory: &'static ConfigFactory,
    pub(crate) config: Arc<dyn ComponentConfig>,
}

/// A loaded and validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) receivers: Vec<Component>,
    pub(crate) processors: Vec<Component>,
    pub(crate) exporters: Vec<Component>,
    pub(crate) extensions: Vec<Component>,
    pub(crate) service: ServiceConfig,
    warnings: Vec<String>,
}

type EnvFn = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

#[derive(Clone, Debug)]
enum SourceSpec {
    /// A `--config` value.
    Uri(String),
    /// A document given as text, named for messages.
    Text { name: String, text: String },
    /// A `--set key=value` flag.
    Set(String),
}

/// Loads a configuration from sources, as the Go collector's `--config` and `--set` do:
/// later sources merge over earlier ones (maps merge, lists replace), `--set` flags apply
/// last, then `${...}` references expand.
#[derive(Clone)]
pub struct Loader {
    sources: Vec<SourceSpec>,
    env: EnvFn,
    /// The component types it knows (`Loader::new` gives the built-in ones).
    factories: Vec<&'static ConfigFactory>,
}

impl std::fmt::Debug for Loader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loader")
            .field("sources", &self.sources)
            .finish_non_exhaustive()
    }
}

/// One problem found while loading, before rendering.
struct Issue {
    origin: Option<Origin>,
    path: String,
    message: String,
}

impl Issue {
    fn render(&self) -> String {
        let mut s = String::new();
        if let Some(o) = &self.origin {
            s.push_str(&o.to_string());
            s.push_str(": ");
        }
        if !self.path.is_empty() {
            s.push_str(&self.path);
            s.push_str(": ");
        }
        s.push_str(&self.message);
        s
    }
}

impl Loader {
    /// A loader for the component types `factories`, reading variables from the process
    /// environment. (`Loader::new`, in `components.rs`, gives it the built-in ones.)
    pub(crate) fn with_factories(factories: Vec<&'static ConfigFactory>) -> Loader {
        Loader {
            sources: Vec::new(),
            env: Arc::new(|k| std::env::var(k).ok()),
            factories,
        }
    }

    /// Adds a `--config` value: a path, `file:PATH`, `env:VAR` or `yaml:...`.
    pub fn config(mut self, uri: impl Into<String>) -> Loader {
        self.sources.push(SourceSpec::Uri(uri.into()));
        self
    }

    /// Adds a YAML document given as text; `name` appears in error messages.
    pub fn document(mut self, name: impl Into<String>, text: impl Into<String>) -> Loader {
        self.sources.push(SourceSpec::Text {
            name: name.into(),
            text: text.into(),
        });
        self
    }

    /// Adds a `--set key=value` flag (`.` or `::` between keys); applied after every source.
    pub fn set(mut self, flag: impl Into<String>) -> Loader {
        self.sources.push(SourceSpec::Set(flag.into()));
        self
    }

    /// Reads variables with `lookup` instead of from the process environment.
    pub fn env(
        mut self,
        lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Loader {
        self.env = Arc::new(lookup);
        self
    }

    /// Whether any configuration source was given.
    pub fn has_sources(&self) -> bool {
        self.sources
            .iter()
            .any(|s| !matches!(s, SourceSpec::Set(_)))
    }

    /// Loads, merges, expands, decodes and validates.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`] listing every problem found, one per line, each with its
    /// source and line where known and its key path.
    pub fn load(&self) -> Result<Config, Error> {
        let mut issues = Vec::new();
        let mut warnings = Vec::new();
        let tree = self.merged(&mut issues, &mut warnings);
        let config = tree.map(|t| build(&t, &self.factories, &mut issues, &mut warnings));
        if issues.is_empty()
            && let Some(mut c) = config
        {
            c.warnings = warnings;
            return Ok(c);
        }
        let lines: Vec<String> = issues.iter().map(Issue::render).collect();
        Err(Error::new(ErrorKind::Config, lines.join("\n")))
    }

    /// Every source parsed and merged, `--set` last, then expanded.
    fn merged(&self, issues: &mut Vec<Issue>, warnings: &mut Vec<String>) -> Option<Node> {
        let env = self.env.clone();
        let lookup = move |k: &str| env(k);
        let mut tree: Option<Node> = None;
        let ordered = self
            .sources
            .iter()
            .filter(|s| !matches!(s, SourceSpec::Set(_)))
            .chain(
                self.sources
                    .iter()
                    .filter(|s| matches!(s, SourceSpec::Set(_))),
            );
        for spec in ordered {
            let parsed = match spec {
                SourceSpec::Uri(uri) => source::load(uri, &lookup),
                SourceSpec::Text { name, text } => source::parse(text, &Arc::from(name.as_str())),
                SourceSpec::Set(flag) => source::set_flag(flag),
            };
            match parsed {
                Ok(n) => match &mut tree {
                    Some(t) => t.merge(n),
                    None => tree = Some(n),
                },
                Err(e) => issues.push(Issue {
                    origin: Some(e.origin),
                    path: String::new(),
                    message: e.message,
                }),
            }
        }
        if !issues.is_empty() {
            return None;
        }
        let mut tree = tree?;
        let mut found = Vec::new();
        expand::expand_tree(&mut tree, &lookup, "", &mut found);
        for f in found {
            if f.warning {
                warnings.push(format!("{}: {}: {}", f.origin, f.path, f.message));
            } else {
                issues.push(Issue {
                    origin: Some(f.origin),
                    path: f.path,
                    message: f.message,
                });
            }
        }
        Some(tree)
    }
}

/// The node at `path` below `node`, if it exists.
fn find<'a>(node: &'a Node, path: &str) -> Option<&'a Node> {
    let mut cur = node;
    for part in path.split("::").filter(|p| !p.is_empty()) {
        cur = match &cur.value {
            Value::Map(_) => cur.get(part)?,
            Value::Seq(items) => items.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn de_issue(e: DeError) -> Issue {
    Issue {
        origin: e.origin,
        path: de::render_path(&e.path),
        message: e.message,
    }
}

/// Problems of one component (paths relative to it) as issues.
fn component_issues(issues: &mut Vec<Issue>, root: &Node, base: &str, p: Problems) {
    for (key, message) in p.0 {
        let path = if key.is_empty() {
            base.to_owned()
        } else {
            format!("{base}::{key}")
        };
        // The deepest node that exists gives the line.
        let mut probe = path.as_str();
        let origin = loop {
            if let Some(n) = find(root, probe) {
                break Some(n.origin.clone());
            }
            match probe.rfind("::") {
                Some(i) => probe = &probe[..i],
                None => break None,
            }
        };
        issues.push(Issue {
            origin,
            path,
            message,
        });
    }
}

const SECTIONS: [&str; 6] = [
    "receivers",
    "processors",
    "exporters",
    "connectors",
    "extensions",
    "service",
];

/// Decodes and validates the merged tree.
fn build(
    root: &Node,
    factories: &[&'static ConfigFactory],
    issues: &mut Vec<Issue>,
    warnings: &mut Vec<String>,
) -> Config {
    let root_origin = root.origin.clone();
    if let Some(entries) = root.as_map() {
        for (k, v) in entries {
            if !SECTIONS.contains(&k.as_str()) {
                issues.push(Issue {
                    origin: Some(v.origin.clone()),
                    path: k.clone(),
                    message: format!(
                        "unknown key {k:?} (expected one of {})",
                        SECTIONS.join(", ")
                    ),
                });
            }
        }
    }
    if let Some(c) = root.get("connectors")
        && c.as_map().is_some_and(|m| !m.is_empty())
    {
        issues.push(Issue {
            origin: Some(c.origin.clone()),
            path: "connectors".to_owned(),
            message: "connectors are not supported by this collector yet".to_owned(),
        });
    }
    // Components that are configured but could not be loaded (an unknown type, a bad
    // key): reported where they are, not again at every pipeline naming them.
    let mut broken: Vec<(Kind, ComponentId)> = Vec::new();
    let mut section = |kind: Kind| -> Vec<Component> {
        let mut out = Vec::new();
        let Some(node) = root.get(kind.section()) else {
            return out;
        };
        if node.is_null() {
            return out;
        }
        let Some(entries) = node.as_map() else {
            issues.push(Issue {
                origin: Some(node.origin.clone()),
                path: kind.section().to_owned(),
                message: "expected a map of components".to_owned(),
            });
            return out;
        };
        for (raw_id, cnode) in entries {
            let path = format!("{}::{raw_id}", kind.section());
            let at = |message: String| Issue {
                origin: Some(cnode.origin.clone()),
                path: path.clone(),
                message,
            };
            let id = match ComponentId::parse(raw_id) {
                Ok(id) => id,
                Err(e) => {
                    issues.push(at(e));
                    continue;
                }
            };
            if out.iter().any(|c: &Component| c.id == id) {
                issues.push(at(format!(
                    "duplicate name {:?} after unmarshaling",
                    id.to_string()
                )));
                continue;
            }
            let Some(factory) = factories.iter().copied().find(|f| f.is(kind, id.ty())) else {
                let known: Vec<&str> = factories
                    .iter()
                    .filter(|f| f.kind == kind)
                    .flat_map(|f| std::iter::once(f.name).chain(f.aliases.iter().copied()))
                    .collect();
                let message = if kind == Kind::Exporter && id.ty() == "logging" {
                    "the logging exporter has been deprecated, use the debug exporter instead"
                        .to_owned()
                } else {
                    format!(
                        "{} type {:?} is not supported by this collector (supported: {})",
                        kind.singular(),
                        id.ty(),
                        known.join(", ")
                    )
                };
                issues.push(at(message));
                broken.push((kind, id));
                continue;
            };
            let seg = vec![
                Seg::Key(kind.section().to_owned()),
                Seg::Key(raw_id.clone()),
            ];
            match (factory.decode)(cnode, seg) {
                Ok(config) => {
                    let mut p = Problems::default();
                    config.validate(&mut p);
                    component_issues(issues, root, &path, p);
                    out.push(Component {
                        id,
                        factory,
                        config,
                    });
                }
                Err(errs) => {
                    issues.extend(errs.into_iter().map(de_issue));
                    broken.push((kind, id));
                }
            }
        }
        out
    };
    let receivers = section(Kind::Receiver);
    let processors = section(Kind::Processor);
    let exporters = section(Kind::Exporter);
    let extensions = section(Kind::Extension);

    let service_node = root
        .get("service")
        .cloned()
        .unwrap_or_else(|| Node::map(Vec::new(), root_origin.clone()));
    let service: ServiceConfig =
        match de::decode(&service_node, vec![Seg::Key("service".to_owned())]) {
            Ok(s) => s,
            Err(errs) => {
                issues.extend(errs.into_iter().map(de_issue));
                ServiceConfig::default()
            }
        };
    let mut p = Problems::default();
    validate::Validate::validate(&service.telemetry, &mut p);
    component_issues(issues, root, "service::telemetry", p);
    if service.telemetry.traces.is_some() {
        warnings.push(
            "service::telemetry::traces: the collector's own traces are not supported; ignored"
                .to_owned(),
        );
    }

    let config = Config {
        receivers,
        processors,
        exporters,
        extensions,
        service,
        warnings: Vec::new(),
    };
    config.check_service(root, &broken, issues);
    config.check_ports(root, issues);
    config
}

/// A pipeline id: `traces[/name]`.
fn pipeline_signal(id: &str) -> Result<Signal, String> {
    let ty = id.split_once('/').map(|(t, _)| t).unwrap_or(id).trim();
    if let Some((_, name)) = id.split_once('/')
        && name.trim().is_empty()
    {
        return Err(format!(
            "in {id:?} id: the part after / should not be empty"
        ));
    }
    match ty {
        "traces" => Ok(Signal::Traces),
        "metrics" => Ok(Signal::Metrics),
        "logs" => Ok(Signal::Logs),
        "profiles" => Err(format!(
            "pipeline {id:?}: profiles are not supported by this collector"
        )),
        other => Err(format!("in {id:?} id: unknown pipeline signal: {other:?}")),
    }
}

impl Config {
    /// Loads one YAML document (what an embedder passes). Variables expand from the
    /// process environment.
    ///
    /// # Errors
    ///
    /// As [`Loader::load`].
    pub fn from_yaml(yaml: &str) -> Result<Config, Error> {
        Loader::new().document("config", yaml).load()
    }

    /// `service::telemetry::logs::level` (`info` by default).
    pub fn log_level(&self) -> &str {
        &self.service.telemetry.logs.level
    }

    /// `service::telemetry::logs::encoding` (`console` or `json`).
    pub fn log_encoding(&self) -> &str {
        &self.service.telemetry.logs.encoding
    }

    /// Warnings found while loading (unset variables, accepted-but-ignored settings).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The effective configuration as YAML: defaults filled in, secrets (headers, keys)
    /// shown as `[REDACTED]`.
    pub fn to_yaml(&self) -> String {
        let mut root = serde_json::Map::new();
        for (kind, list) in [
            (Kind::Receiver, &self.receivers),
            (Kind::Processor, &self.processors),
            (Kind::Exporter, &self.exporters),
            (Kind::Extension, &self.extensions),
        ] {
            if list.is_empty() {
                continue;
            }
            let mut m = serde_json::Map::new();
            for c in list {
                m.insert(c.id.to_string(), c.config.to_json());
            }
            root.insert(kind.section().to_owned(), serde_json::Value::Object(m));
        }
        root.insert(
            "service".to_owned(),
            serde_json::to_value(&self.service).unwrap_or(serde_json::Value::Null),
        );
        emit::to_yaml(&serde_json::Value::Object(root))
    }

    /// The component `id` of `kind`, which validation has made sure exists.
    pub(crate) fn component(&self, kind: Kind, id: &str) -> Result<&Component, Error> {
        self.find(kind, id).ok_or_else(|| {
            Error::new(
                ErrorKind::Internal,
                format!("{} {id} vanished", kind.singular()),
            )
        })
    }

    fn find(&self, kind: Kind, id: &str) -> Option<&Component> {
        let list = match kind {
            Kind::Receiver => &self.receivers,
            Kind::Processor => &self.processors,
            Kind::Exporter => &self.exporters,
            Kind::Extension => &self.extensions,
        };
        let parsed = ComponentId::parse(id).ok()?;
        list.iter().find(|c| c.id == parsed)
    }

    /// Pipelines and extensions refer to configured components of the right kind and signal.
    fn check_service(&self, root: &Node, broken: &[(Kind, ComponentId)], issues: &mut Vec<Issue>) {
        let is_broken = |kind: Kind, id: &str| {
            ComponentId::parse(id)
                .is_ok_and(|id| broken.iter().any(|(k, b)| *k == kind && *b == id))
        };
        let node_origin = |path: &str| find(root, path).map(|n| n.origin.clone());
        for (i, e) in self.service.extensions.iter().enumerate() {
            if self.find(Kind::Extension, e).is_none() && !is_broken(Kind::Extension, e) {
                issues.push(Issue {
                    origin: node_origin(&format!("service::extensions::{i}")),
                    path: "service::extensions".to_owned(),
                    message: format!("references extension {e:?} which is not configured"),
                });
            }
        }
        let nothing_configured = self.receivers.is_empty()
            && self.processors.is_empty()
            && self.exporters.is_empty()
            && self.extensions.is_empty()
            && broken.is_empty();
        if nothing_configured {
            issues.push(Issue {
                origin: Some(root.origin.clone()),
                path: String::new(),
                message: "empty configuration file".to_owned(),
            });
            return;
        }
        if self.service.pipelines.is_empty() {
            issues.push(Issue {
                origin: node_origin("service").or(Some(root.origin.clone())),
                path: "service::pipelines".to_owned(),
                message: "service must have at least one pipeline".to_owned(),
            });
        }
        for (pid, pipeline) in &self.service.pipelines {
            let base = format!("service::pipelines::{pid}");
            let origin = node_origin(&base);
            let issue = |message: String, at: &str| Issue {
                origin: node_origin(at).or(origin.clone()),
                path: base.clone(),
                message,
            };
            let signal = match pipeline_signal(pid) {
                Ok(s) => Some(s),
                Err(e) => {
                    issues.push(issue(e, &base));
                    None
                }
            };
            if pipeline.receivers.is_empty() {
                issues.push(issue("must have at least one receiver".to_owned(), &base));
            }
            if pipeline.exporters.is_empty() {
                issues.push(issue("must have at least one exporter".to_owned(), &base));
            }
            for (i, p) in pipeline.processors.iter().enumerate() {
                if pipeline.processors[..i].contains(p) {
                    issues.push(issue(
                        format!("references processor {p:?} multiple times"),
                        &format!("{base}::processors::{i}"),
                    ));
                }
            }
            for (kind, key, list) in [
                (Kind::Receiver, "receivers", &pipeline.receivers),
                (Kind::Processor, "processors", &pipeline.processors),
                (Kind::Exporter, "exporters", &pipeline.exporters),
            ] {
                for (i, id) in list.iter().enumerate() {
                    let at = format!("{base}::{key}::{i}");
                    match self.find(kind, id) {
                        // Reported where it is configured.
                        None if is_broken(kind, id) => {}
                        None => issues.push(issue(
                            format!(
                                "references {} {id:?} which is not configured",
                                kind.singular()
                            ),
                            &at,
                        )),
                        Some(c) => {
                            let Some(signal) = signal else { continue };
                            if !c.factory.signals.contains(&signal) {
                                let message = match kind {
                                    Kind::Processor => format!(
                                        "failed to create {id:?} processor, in pipeline {pid:?}: telemetry type is not supported"
                                    ),
                                    _ => format!(
                                        "failed to create {id:?} {} for data type {:?}: telemetry type is not supported",
                                        kind.singular(),
                                        signal.as_str()
                                    ),
                                };
                                issues.push(issue(message, &at));
                                continue;
                            }
                            let mut p = Problems::default();
                            c.config.validate_signal(signal, &mut p);
                            component_issues(
                                issues,
                                root,
                                &format!("{}::{}", kind.section(), c.id),
                                p,
                            );
                        }
                    }
                }
            }
        }
    }

    /// The addresses the configuration listens on, with the key that sets each: those of
    /// the receivers pipelines use, the service's extensions, and the own metrics.
    pub(crate) fn listeners(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let used = |kind: Kind, c: &Component| match kind {
            Kind::Extension => self.service.extensions.contains(&c.id.to_string()),
            _ => self
                .service
                .pipelines
                .values()
                .any(|p| p.receivers.contains(&c.id.to_string())),
        };
        for (kind, list) in [
            (Kind::Receiver, &self.receivers),
            (Kind::Extension, &self.extensions),
        ] {
            for c in list.iter().filter(|c| used(kind, c)) {
                for (endpoint, key) in c.config.listeners() {
                    out.push((endpoint, format!("{}::{}::{key}", kind.section(), c.id)));
                }
            }
        }
        if let Some(ep) = self.service.telemetry.metrics.endpoint() {
            out.push((ep, "service::telemetry::metrics".to_owned()));
        }
        out
    }

    /// Two listeners on one port (the same host, or one of them on every interface).
    fn check_ports(&self, root: &Node, issues: &mut Vec<Issue>) {
        let listeners = self.listeners();
        for (i, (a, a_key)) in listeners.iter().enumerate() {
            let Some((ah, ap)) = split_host_port(a) else {
                continue;
            };
            for (b, b_key) in &listeners[..i] {
                let Some((bh, bp)) = split_host_port(b) else {
                    continue;
                };
                let any = |h: &str| h.is_empty() || h == "0.0.0.0" || h == "::" || h == "[::]";
                let same_host = normalize_host(ah) == normalize_host(bh) || any(ah) || any(bh);
                // Port 0 asks the OS for a free port: never a conflict.
                if ap == bp && ap != 0 && same_host {
                    issues.push(Issue {
                        origin: find(root, a_key).map(|n| n.origin.clone()),
                        path: a_key.clone(),
                        message: format!("{a} is also used by {b_key} ({b})"),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;

/// `host:port` (also `[v6]:port`).
pub(crate) fn split_host_port(s: &str) -> Option<(&str, u16)> {
    let (h, p) = s.rsplit_once(':')?;
    Some((
        h.trim_start_matches('[').trim_end_matches(']'),
        p.parse().ok()?,
    ))
}

fn normalize_host(h: &str) -> &str {
    match h {
        "localhost" | "127.0.0.1" => "127.0.0.1",
        other => other,
    }
}
