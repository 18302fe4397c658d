//! How components are built: a factory per component type, and what its `build` gets.
//!
//! A component is a folder named by its YAML type (`processors/batch/`); its `mod.rs` holds
//! a [`Factory`]: the [`ConfigFactory`] configuration loads with (kind, name, aliases,
//! signals, decode) and a [`Build`] for its kind. `components.rs` lists the factories;
//! `collector.rs` walks them and never names a component. `build` gets one [`Context`]:
//! the component's id and signal, the collector's budget, tally and metrics registry,
//! state shared per id (as Go's `sharedcomponent`), the running extensions, and the
//! collector's health.

use std::any::Any;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use super::exporter::ExporterRuntime;
use super::health::Health;
use super::{BoxFuture, Consumer, Processor, Tally};
use crate::config::component::{ComponentConfig, ConfigFactory};
use crate::memory::Budget;
use crate::telemetry::Registry;
use crate::{Error, Signal};

/// A component type: what configuration needs, and how to build one.
#[derive(Debug)]
pub(crate) struct Factory {
    pub(crate) config: ConfigFactory,
    pub(crate) build: Build,
}

/// The pipelines a receiver feeds, per signal ([`Signal::ALL`] order), each with its id.
pub(crate) type Targets = [Vec<(String, Arc<dyn Consumer>)>; 3];

/// Builds a receiver feeding the pipelines it is given; `None` when there is nothing to
/// run (no listener allowed, or data comes in through `ingest`).
pub(crate) type BuildReceiver =
    fn(&Context<'_>, &dyn ComponentConfig, Targets) -> Result<Option<Box<dyn Receiver>>, Error>;

/// Builds a processor in front of `next`.
pub(crate) type BuildProcessor =
    fn(&Context<'_>, &dyn ComponentConfig, Arc<dyn Consumer>) -> Result<Arc<dyn Processor>, Error>;

/// Builds an exporter (its helper: queue, senders, retries).
pub(crate) type BuildExporter =
    fn(&Context<'_>, &dyn ComponentConfig) -> Result<Arc<ExporterRuntime>, Error>;

/// Builds and starts an extension.
pub(crate) type BuildExtension =
    fn(&Context<'_>, &dyn ComponentConfig) -> Result<Box<dyn Extension>, Error>;

/// How a component of each kind is built.
#[derive(Clone, Copy)]
pub(crate) enum Build {
    /// Once per id, with every pipeline that names it.
    Receiver(BuildReceiver),
    /// Once per pipeline.
    Processor(BuildProcessor),
    /// Once per (id, signal), as in Go.
    Exporter(BuildExporter),
    /// Once per id listed in `service::extensions`, before anything else.
    Extension(BuildExtension),
}

impl std::fmt::Debug for Build {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Build::Receiver(_) => "Build::Receiver",
            Build::Processor(_) => "Build::Processor",
            Build::Exporter(_) => "Build::Exporter",
            Build::Extension(_) => "Build::Extension",
        })
    }
}

/// A running receiver.
pub(crate) trait Receiver: Send + Sync {
    /// The addresses it listens on.
    fn local_addrs(&self) -> Vec<SocketAddr> {
        Vec::new()
    }
    /// Stops accepting at once and lets in-flight requests finish within `grace`.
    fn shutdown(self: Box<Self>, grace: Duration) -> BoxFuture<'static, ()>;
}

/// A running extension.
pub(crate) trait Extension: Any + Send + Sync {
    /// The addresses it listens on.
    fn local_addrs(&self) -> Vec<SocketAddr> {
        Vec::new()
    }
    /// Stops it within `grace`.
    fn shutdown(&self, grace: Duration) -> BoxFuture<'_, ()>;
    /// For [`Context::extension`]: another component's view of it.
    #[cfg_attr(not(test), allow(dead_code))]
    fn as_any(&self) -> &dyn Any;
    /// The storage a persistent queue keeps its log in, for a storage extension
    /// (`file_storage`).
    fn storage(&self) -> Option<Arc<crate::storage::Storage>> {
        None
    }
}

/// An extension that is an HTTP endpoint (`health_check`, `zpages`): the running server,
/// or nothing when the collector may not listen.
pub(crate) struct Endpoint {
    server: Mutex<Option<crate::server::ServerHandle>>,
    addrs: Vec<SocketAddr>,
}

impl Endpoint {
    /// Serves `service` on `endpoint` with the HTTP server settings every such extension
    /// takes (`tls`, `max_connections`); an error names the extension and the endpoint.
    /// Listens on nothing when the collector may not (a forked child's, an embedded one's).
    pub(crate) fn serve<S, F, B>(
        ctx: &Context<'_>,
        endpoint: &str,
        tls: Option<&crate::config::net::TlsServerConfig>,
        max_connections: i64,
        service: S,
    ) -> Result<Endpoint, Error>
    where
        S: Fn(http::Request<hyper::body::Incoming>) -> F + Clone + Send + Sync + 'static,
        F: std::future::Future<Output = http::Response<B>> + Send + 'static,
        B: http_body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        if !ctx.listeners {
            return Ok(Endpoint {
                server: Mutex::new(None),
                addrs: Vec::new(),
            });
        }
        let id = ctx.id;
        let started = || -> std::io::Result<crate::server::ServerHandle> {
            let tls = match tls {
                Some(t) => Some(crate::tls::server_config(t, &[b"http/1.1"]).map_err(|e| {
                    std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string())
                })?),
                None => None,
            };
            let listeners = crate::server::bind(endpoint)?;
            let opts = crate::server::ServeOptions {
                tls,
                max_connections: crate::config::net::max_connections(max_connections),
                ..Default::default()
            };
            crate::server::serve(listeners, opts, service)
        };
        let server = started().map_err(|e| {
            Error::with_source(
                crate::ErrorKind::Io,
                format!("extension {id}: cannot listen on {endpoint}: {e}"),
                e,
            )
        })?;
        Ok(Endpoint {
            addrs: server.local_addrs.clone(),
            server: Mutex::new(Some(server)),
        })
    }
}

impl Extension for Endpoint {
    fn local_addrs(&self) -> Vec<SocketAddr> {
        self.addrs.clone()
    }

    fn shutdown(&self, grace: Duration) -> BoxFuture<'_, ()> {
        let server = self.server.lock().take();
        Box::pin(async move {
            if let Some(s) = server {
                s.shutdown(grace).await;
            }
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// State that the instances of one component id share (a memory limiter's state across the
/// pipelines that list it, the file exporter's file across signals), as Go's
/// `sharedcomponent` shares one instance.
#[derive(Default)]
pub(crate) struct Shared {
    map: Mutex<HashMap<(String, std::any::TypeId), Arc<dyn Any + Send + Sync>>>,
}

/// Everything a component's `build` gets.
pub(crate) struct Context<'a> {
    /// The component's id (`type[/name]`).
    pub(crate) id: &'a str,
    /// The pipeline signal it is built for (receivers and extensions: traces, unused).
    pub(crate) signal: Signal,
    pub(crate) registry: &'a Registry,
    /// The collector's memory budget.
    pub(crate) budget: &'a Budget,
    /// Delivered and dropped items, and panics.
    pub(crate) tally: &'a Arc<Tally>,
    /// Readiness, which the health check reports.
    pub(crate) health: &'a Health,
    /// Whether the collector may listen (a forked child's collector may not).
    pub(crate) listeners: bool,
    /// Pipelines fed in-process (`ingest`), per signal: the `embedded` receiver adds its.
    pub(crate) ingest: &'a Mutex<Targets>,
    shared: &'a Shared,
    #[cfg_attr(not(test), allow(dead_code))]
    extensions: &'a [(String, Box<dyn Extension>)],
    /// The `service` section (what the collector runs), for components that show it.
    pub(crate) service: Option<&'a crate::config::service::ServiceConfig>,
}

impl<'a> Context<'a> {
    /// A context for component `id`; the collector fills in the rest.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        id: &'a str,
        signal: Signal,
        registry: &'a Registry,
        budget: &'a Budget,
        tally: &'a Arc<Tally>,
        health: &'a Health,
        listeners: bool,
        ingest: &'a Mutex<Targets>,
        shared: &'a Shared,
        extensions: &'a [(String, Box<dyn Extension>)],
    ) -> Context<'a> {
        Context {
            id,
            signal,
            registry,
            budget,
            tally,
            health,
            listeners,
            ingest,
            shared,
            extensions,
            service: None,
        }
    }

    /// The same context, showing the `service` section.
    pub(crate) fn with_service(
        mut self,
        service: &'a crate::config::service::ServiceConfig,
    ) -> Context<'a> {
        self.service = Some(service);
        self
    }

    /// The state of type `T` shared by every instance of this component id, made by `make`
    /// the first time.
    ///
    /// # Errors
    ///
    /// What `make` returns.
    pub(crate) fn shared<T: Any + Send + Sync>(
        &self,
        make: impl FnOnce() -> Result<Arc<T>, Error>,
    ) -> Result<Arc<T>, Error> {
        let key = (self.id.to_owned(), std::any::TypeId::of::<T>());
        let mut map = self.shared.map.lock();
        if let Some(found) = map.get(&key).and_then(|v| v.clone().downcast::<T>().ok()) {
            return Ok(found);
        }
        let made = make()?;
        map.insert(key, made.clone());
        Ok(made)
    }

    /// The exporter helper around `exporter`: its queue and retries, counted on the
    /// collector's registry and tally.
    pub(crate) fn exporter(
        &self,
        exporter: Arc<dyn super::exporter::Exporter>,
        queue: &super::exporter::queue::QueueConfig,
        retry: &super::exporter::retry::RetryConfig,
    ) -> Arc<ExporterRuntime> {
        ExporterRuntime::new(
            self.id,
            self.signal,
            exporter,
            queue,
            retry,
            self.registry,
            self.tally.clone(),
        )
    }

    /// A running extension of the configuration's `service::extensions`, as Go's
    /// `Host.GetExtensions` gives them: `file_storage/x` for a persistent queue.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn extension(&self, id: &str) -> Option<&dyn Extension> {
        self.extensions
            .iter()
            .find(|(i, _)| i == id)
            .map(|(_, e)| e.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Named(&'static str);

    impl Extension for Named {
        fn shutdown(&self, _: Duration) -> BoxFuture<'_, ()> {
            Box::pin(async {})
        }
        fn as_any(&self) -> &dyn Any {
            self
        }
    }

    #[test]
    fn state_is_shared_per_id_and_extensions_are_found_by_id() {
        let registry = Registry::default();
        let budget = Budget::new(1);
        let tally = Arc::new(Tally::default());
        let health = Health::default();
        let ingest = Mutex::default();
        let shared = Shared::default();
        let extensions: Vec<(String, Box<dyn Extension>)> =
            vec![("file_storage/x".into(), Box::new(Named("x")))];
        let ctx = |id| {
            Context::new(
                id,
                Signal::Traces,
                &registry,
                &budget,
                &tally,
                &health,
                false,
                &ingest,
                &shared,
                &extensions,
            )
        };
        let a = ctx("memory_limiter").shared(|| Ok(Arc::new(7u32))).unwrap();
        let b = ctx("memory_limiter").shared(|| Ok(Arc::new(8u32))).unwrap();
        let c = ctx("memory_limiter/other")
            .shared(|| Ok(Arc::new(9u32)))
            .unwrap();
        assert!(Arc::ptr_eq(&a, &b), "one per id");
        assert_eq!((*b, *c), (7, 9));
        let otlp = ctx("otlp");
        let found = otlp.extension("file_storage/x").unwrap();
        assert!(found.storage().is_none());
        assert_eq!(
            found.as_any().downcast_ref::<Named>().map(|n| n.0),
            Some("x")
        );
        assert!(otlp.extension("file_storage/y").is_none());
    }
}
