//! The component types this collector has: the one list. A component is a folder named by
//! its YAML type (`exporters/otlp/`) whose `mod.rs` holds its `FACTORY`; adding one is its
//! folder and two lines here, its `mod` line and its `FACTORIES` line
//! (`docs/architecture.md`, "Adding a component").
//!
//! The kind modules are declared here, over the kind folders, so that no other file
//! changes when a component comes or goes; `lib.rs` makes them `crate::receivers`,
//! `crate::exporters`...

use serde::Serialize;

use crate::config::component::ConfigFactory;
use crate::config::{Kind, Loader};
use crate::pipeline::build::Factory;

/// Receivers: where payloads enter.
#[path = "receivers"]
pub(crate) mod receivers {
    pub(crate) mod embedded;
    pub(crate) mod nop;
    pub(crate) mod otlp;
}

/// Processors: what happens to payloads between receivers and exporters.
#[path = "processors"]
pub(crate) mod processors {
    pub(crate) mod attributes;
    pub(crate) mod batch;
    pub(crate) mod memory_limiter;
    pub(crate) mod redaction;
    pub(crate) mod resource;
    pub(crate) mod resourcedetection;
    #[cfg(test)]
    pub(crate) mod test_panic;
}

/// Exporters: where payloads leave. Each wraps the exporter helper
/// (`pipeline/exporter/`) around how it sends.
#[path = "exporters"]
pub(crate) mod exporters {
    pub(crate) mod awss3;
    pub(crate) mod debug;
    pub(crate) mod file;
    pub(crate) mod nop;
    pub(crate) mod otlp;
    pub(crate) mod otlphttp;
}

/// Extensions: what runs beside the pipelines.
#[path = "extensions"]
pub(crate) mod extensions {
    pub(crate) mod file_storage;
    pub(crate) mod health_check;
    #[cfg(feature = "pprof")]
    pub(crate) mod pprof;
    pub(crate) mod zpages;
}

/// Every component type, by kind.
pub(crate) static FACTORIES: &[&Factory] = &[
    &receivers::otlp::FACTORY,
    &receivers::embedded::FACTORY,
    &receivers::nop::FACTORY,
    &processors::memory_limiter::FACTORY,
    &processors::batch::FACTORY,
    &processors::resource::FACTORY,
    &processors::resourcedetection::FACTORY,
    &processors::attributes::FACTORY,
    &processors::redaction::FACTORY,
    &exporters::otlp::FACTORY,
    &exporters::otlphttp::FACTORY,
    &exporters::debug::FACTORY,
    &exporters::awss3::FACTORY,
    &exporters::file::FACTORY,
    &exporters::nop::FACTORY,
    &extensions::health_check::FACTORY,
    &extensions::file_storage::FACTORY,
    &extensions::zpages::FACTORY,
    #[cfg(feature = "pprof")]
    &extensions::pprof::FACTORY,
    #[cfg(test)]
    &processors::test_panic::FACTORY,
];

/// The factory of a configured component type.
pub(crate) fn factory(config: &'static ConfigFactory) -> Option<&'static Factory> {
    FACTORIES
        .iter()
        .copied()
        .find(|f| std::ptr::eq(&f.config, config))
}

impl Loader {
    /// A loader for the built-in component types, reading variables from the process
    /// environment.
    pub fn new() -> Loader {
        Loader::with_factories(FACTORIES.iter().map(|f| &f.config).collect())
    }
}

impl Default for Loader {
    fn default() -> Self {
        Loader::new()
    }
}

/// What `collector components` prints: one component type.
#[derive(Clone, Debug, Serialize)]
pub struct ComponentInfo {
    /// `receiver`, `processor`, `exporter` or `extension`.
    pub kind: &'static str,
    /// The type name.
    pub name: &'static str,
    /// Other accepted names.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub aliases: &'static [&'static str],
    /// Signals it handles (empty for extensions).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub signals: Vec<&'static str>,
    /// `built`: every type listed runs (the field stays for the output's sake).
    pub status: &'static str,
}

/// Every component type this collector has.
pub fn components() -> Vec<ComponentInfo> {
    FACTORIES
        .iter()
        .map(|f| &f.config)
        .filter(|f| !f.name.starts_with("test_"))
        .map(|f| ComponentInfo {
            kind: f.kind.singular(),
            name: f.name,
            aliases: f.aliases,
            signals: if f.kind == Kind::Extension {
                Vec::new()
            } else {
                f.signals.iter().map(|s| s.as_str()).collect()
            },
            status: "built",
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(kind: Kind, ty: &str) -> Option<&'static str> {
        FACTORIES
            .iter()
            .find(|f| f.config.is(kind, ty))
            .map(|f| f.config.name)
    }

    #[test]
    fn aliases_resolve() {
        assert_eq!(find(Kind::Exporter, "otlp_grpc"), Some("otlp"));
        assert_eq!(find(Kind::Exporter, "otlp_http"), Some("otlphttp"));
        assert_eq!(
            find(Kind::Processor, "resource_detection"),
            Some("resourcedetection")
        );
        assert_eq!(find(Kind::Processor, "tail_sampling"), None);
        assert_eq!(find(Kind::Receiver, "debug"), None);
    }

    #[test]
    fn one_factory_per_kind_and_name() {
        for (i, a) in FACTORIES.iter().enumerate() {
            for b in &FACTORIES[..i] {
                for name in std::iter::once(a.config.name).chain(a.config.aliases.iter().copied()) {
                    assert!(
                        !b.config.is(a.config.kind, name),
                        "{} {name} twice",
                        a.config.kind.singular()
                    );
                }
            }
        }
    }
}
