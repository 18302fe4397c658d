//! Component ids and the factories that decode each component type's configuration.

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::de::{self, DeError, Seg};
use super::node::Node;
use super::validate::{Problems, Validate};
use crate::Signal;
use crate::exporters::debug::DebugConfig;
use crate::exporters::file::FileConfig;
use crate::exporters::otlp::{OtlpGrpcExporterConfig, OtlpHttpExporterConfig};
use crate::exporters::s3::S3Config;
use crate::extensions::health_check::HealthCheckConfig;
use crate::processors::attributes::AttributesConfig;
use crate::processors::batch::BatchConfig;
use crate::processors::memory_limiter::MemoryLimiterConfig;
use crate::processors::redaction::RedactionConfig;
use crate::processors::resource::ResourceConfig;
use crate::processors::resourcedetection::ResourceDetectionConfig;
use crate::receivers::embedded::EmbeddedConfig;
use crate::receivers::otlp::OtlpReceiverConfig;

/// The kinds of component, named as their config sections.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `receivers`.
    Receiver,
    /// `processors`.
    Processor,
    /// `exporters`.
    Exporter,
    /// `extensions`.
    Extension,
}

impl Kind {
    /// The config section (`receivers`...).
    pub fn section(self) -> &'static str {
        match self {
            Kind::Receiver => "receivers",
            Kind::Processor => "processors",
            Kind::Exporter => "exporters",
            Kind::Extension => "extensions",
        }
    }

    /// The singular word (`receiver`...).
    pub fn singular(self) -> &'static str {
        match self {
            Kind::Receiver => "receiver",
            Kind::Processor => "processor",
            Kind::Exporter => "exporter",
            Kind::Extension => "extension",
        }
    }
}

/// A component id: `type[/name]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ComponentId {
    ty: String,
    name: Option<String>,
}

impl ComponentId {
    /// Parses an id with the Go collector's rules (`component/identifiable.go`).
    ///
    /// # Errors
    ///
    /// The Go messages, e.g. `in "otlp/" id: the part after / should not be empty`.
    pub fn parse(id: &str) -> Result<ComponentId, String> {
        if id.trim().is_empty() {
            return Err("id must not be empty".to_owned());
        }
        let (ty, name) = match id.split_once('/') {
            Some((t, n)) => (t.trim(), Some(n.trim())),
            None => (id.trim(), None),
        };
        if ty.is_empty() {
            return Err(format!(
                "in {id:?} id: the part before / should not be empty"
            ));
        }
        let mut chars = ty.chars();
        let type_ok = ty.len() <= 63
            && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !type_ok {
            return Err(format!("in {id:?} id: invalid character(s) in type {ty:?}"));
        }
        if let Some(n) = name {
            if n.is_empty() {
                return Err(format!(
                    "in {id:?} id: the part after / should not be empty"
                ));
            }
            if n.len() > 1024 {
                return Err(format!(
                    "in {n:?} id: name {n:?} is longer than 1024 characters ({} characters)",
                    n.len()
                ));
            }
            let bad = |c: char| {
                c.is_whitespace()
                    || c.is_control()
                    || matches!(c, '+' | '$' | '<' | '=' | '>' | '^' | '`' | '|' | '~')
                    || (!c.is_ascii() && !c.is_alphanumeric())
            };
            if n.chars().any(bad) {
                return Err(format!("in {n:?} id: invalid character(s) in name {n:?}"));
            }
        }
        Ok(ComponentId {
            ty: ty.to_owned(),
            name: name.map(str::to_owned),
        })
    }

    /// The type part.
    pub fn ty(&self) -> &str {
        &self.ty
    }

    /// The name part, if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

impl fmt::Display for ComponentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(n) => write!(f, "{}/{}", self.ty, n),
            None => f.write_str(&self.ty),
        }
    }
}

/// A decoded component configuration.
#[derive(Clone, Debug)]
#[allow(missing_docs, clippy::large_enum_variant)]
pub(crate) enum ComponentConfig {
    OtlpReceiver(OtlpReceiverConfig),
    Embedded(EmbeddedConfig),
    MemoryLimiter(MemoryLimiterConfig),
    Batch(BatchConfig),
    Resource(ResourceConfig),
    ResourceDetection(ResourceDetectionConfig),
    Attributes(AttributesConfig),
    Redaction(RedactionConfig),
    OtlpGrpc(OtlpGrpcExporterConfig),
    OtlpHttp(OtlpHttpExporterConfig),
    Debug(DebugConfig),
    AwsS3(S3Config),
    File(FileConfig),
    HealthCheck(HealthCheckConfig),
    #[cfg(test)]
    TestPanic(crate::processors::test_panic::TestPanicConfig),
}

macro_rules! each_config {
    ($self:expr, $c:ident => $e:expr) => {
        match $self {
            ComponentConfig::OtlpReceiver($c) => $e,
            ComponentConfig::Embedded($c) => $e,
            ComponentConfig::MemoryLimiter($c) => $e,
            ComponentConfig::Batch($c) => $e,
            ComponentConfig::Resource($c) => $e,
            ComponentConfig::ResourceDetection($c) => $e,
            ComponentConfig::Attributes($c) => $e,
            ComponentConfig::Redaction($c) => $e,
            ComponentConfig::OtlpGrpc($c) => $e,
            ComponentConfig::OtlpHttp($c) => $e,
            ComponentConfig::Debug($c) => $e,
            ComponentConfig::AwsS3($c) => $e,
            ComponentConfig::File($c) => $e,
            ComponentConfig::HealthCheck($c) => $e,
            #[cfg(test)]
            ComponentConfig::TestPanic($c) => $e,
        }
    };
}

impl ComponentConfig {
    pub(crate) fn validate(&self, p: &mut Problems) {
        each_config!(self, c => c.validate(p))
    }

    pub(crate) fn validate_signal(&self, signal: Signal, p: &mut Problems) {
        each_config!(self, c => c.validate_signal(signal, p))
    }

    /// The effective configuration (defaults filled in, secrets redacted), for printing.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        each_config!(self, c => serde_json::to_value(c).unwrap_or(serde_json::Value::Null))
    }
}

/// A config type that can be wrapped as a [`ComponentConfig`].
pub(crate) trait ComponentType: DeserializeOwned + Serialize + Validate {
    fn wrap(self) -> ComponentConfig;
}

macro_rules! component_type {
    ($($ty:ty => $variant:ident),* $(,)?) => {
        $(impl ComponentType for $ty {
            fn wrap(self) -> ComponentConfig {
                ComponentConfig::$variant(self)
            }
        })*
    };
}

component_type! {
    OtlpReceiverConfig => OtlpReceiver,
    EmbeddedConfig => Embedded,
    MemoryLimiterConfig => MemoryLimiter,
    BatchConfig => Batch,
    ResourceConfig => Resource,
    ResourceDetectionConfig => ResourceDetection,
    AttributesConfig => Attributes,
    RedactionConfig => Redaction,
    OtlpGrpcExporterConfig => OtlpGrpc,
    OtlpHttpExporterConfig => OtlpHttp,
    DebugConfig => Debug,
    S3Config => AwsS3,
    FileConfig => File,
    HealthCheckConfig => HealthCheck,
}

#[cfg(test)]
component_type! {
    crate::processors::test_panic::TestPanicConfig => TestPanic,
}

fn decode<T: ComponentType>(node: &Node, path: Vec<Seg>) -> Result<ComponentConfig, Vec<DeError>> {
    de::decode::<T>(node, path).map(T::wrap)
}

type DecodeFn = fn(&Node, Vec<Seg>) -> Result<ComponentConfig, Vec<DeError>>;

/// A component type this collector knows.
#[derive(Debug)]
pub(crate) struct Factory {
    pub(crate) kind: Kind,
    pub(crate) name: &'static str,
    /// Other names of the same type (the Go collector's renames).
    pub(crate) aliases: &'static [&'static str],
    pub(crate) signals: &'static [Signal],
    /// Whether this type can run yet (a configuration may name a type that only validates).
    pub(crate) runtime: bool,
    pub(crate) decode: DecodeFn,
}

const ALL: &[Signal] = &Signal::ALL;

macro_rules! factory {
    ($kind:ident, $name:literal, [$($alias:literal),*], $ty:ty, runtime = $rt:expr) => {
        Factory {
            kind: Kind::$kind,
            name: $name,
            aliases: &[$($alias),*],
            signals: ALL,
            runtime: $rt,
            decode: decode::<$ty>,
        }
    };
}

/// Every component type, by kind. `runtime` says whether the type can run yet.
#[rustfmt::skip]
pub(crate) static FACTORIES: &[Factory] = &[
    factory!(Receiver, "otlp", [], OtlpReceiverConfig, runtime = true),
    factory!(Receiver, "embedded", [], EmbeddedConfig, runtime = true),
    factory!(Processor, "memory_limiter", [], MemoryLimiterConfig, runtime = true),
    factory!(Processor, "batch", [], BatchConfig, runtime = true),
    factory!(Processor, "resource", [], ResourceConfig, runtime = true),
    factory!(Processor, "resourcedetection", ["resource_detection"], ResourceDetectionConfig, runtime = true),
    factory!(Processor, "attributes", [], AttributesConfig, runtime = true),
    factory!(Processor, "redaction", [], RedactionConfig, runtime = true),
    factory!(Exporter, "otlp", ["otlp_grpc"], OtlpGrpcExporterConfig, runtime = true),
    factory!(Exporter, "otlphttp", ["otlp_http"], OtlpHttpExporterConfig, runtime = true),
    factory!(Exporter, "debug", [], DebugConfig, runtime = true),
    factory!(Exporter, "awss3", [], S3Config, runtime = true),
    factory!(Exporter, "file", [], FileConfig, runtime = true),
    factory!(Extension, "health_check", [], HealthCheckConfig, runtime = true),
];

/// Components that exist only in this crate's tests.
#[cfg(test)]
static TEST_FACTORIES: &[Factory] = &[factory!(
    Processor,
    "test_panic",
    [],
    crate::processors::test_panic::TestPanicConfig,
    runtime = true
)];
#[cfg(not(test))]
static TEST_FACTORIES: &[Factory] = &[];

/// The factory of `ty` for `kind` (by name or alias).
pub(crate) fn factory(kind: Kind, ty: &str) -> Option<&'static Factory> {
    FACTORIES
        .iter()
        .chain(TEST_FACTORIES)
        .find(|f| f.kind == kind && (f.name == ty || f.aliases.contains(&ty)))
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
    /// `built`, or `not built yet` for types that only validate so far.
    pub status: &'static str,
}

/// Every component type this collector knows.
pub fn components() -> Vec<ComponentInfo> {
    FACTORIES
        .iter()
        .map(|f| ComponentInfo {
            kind: f.kind.singular(),
            name: f.name,
            aliases: f.aliases,
            signals: if f.kind == Kind::Extension {
                Vec::new()
            } else {
                f.signals.iter().map(|s| s.as_str()).collect()
            },
            status: if f.runtime { "built" } else { "not built yet" },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_grammar() {
        // Go: open-telemetry/opentelemetry-collector v0.138.0, component/identifiable.go:54
        // and 140 (empty), 57 (type), 138 and 147 (the parts around /), 177 (name).
        let id = ComponentId::parse("otlp/signoz").unwrap();
        assert_eq!((id.ty(), id.name()), ("otlp", Some("signoz")));
        assert_eq!(id.to_string(), "otlp/signoz");
        assert_eq!(ComponentId::parse("a/b/c").unwrap().name(), Some("b/c"));
        for (bad, msg) in [
            ("", "id must not be empty"),
            ("/x", "the part before / should not be empty"),
            ("otlp/", "the part after / should not be empty"),
            ("1otlp", "invalid character(s) in type"),
            ("otlp/a b", "invalid character(s) in name"),
            ("otlp/x+y", "invalid character(s) in name"),
        ] {
            let e = ComponentId::parse(bad).unwrap_err();
            assert!(e.contains(msg), "{bad}: {e}");
        }
    }

    #[test]
    fn aliases_resolve() {
        assert_eq!(factory(Kind::Exporter, "otlp_grpc").unwrap().name, "otlp");
        assert_eq!(
            factory(Kind::Exporter, "otlp_http").unwrap().name,
            "otlphttp"
        );
        assert_eq!(
            factory(Kind::Processor, "resource_detection").unwrap().name,
            "resourcedetection"
        );
        assert!(factory(Kind::Processor, "tail_sampling").is_none());
        assert!(factory(Kind::Receiver, "debug").is_none());
    }
}
