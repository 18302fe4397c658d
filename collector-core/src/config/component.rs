//! Component kinds and ids, and the part of a component's factory that configuration uses:
//! how to decode and check its keys. Configuration names no component: it loads with the
//! factories it is given (`components.rs` lists them).

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::de::{self, DeError, Seg};
use super::node::Node;
use super::validate::{Problems, Validate};
use crate::Signal;

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

/// A component type's configuration, as components declare it: decoded from YAML with
/// serde (unknown keys refused), checked by [`Validate`], printed by `print-config`.
pub(crate) trait ComponentType:
    Validate + Serialize + DeserializeOwned + std::fmt::Debug + Send + Sync + 'static
{
    /// The addresses this component listens on, each with the key (relative to the
    /// component, `::`-separated) that sets it: two components on one port are refused at
    /// load time.
    fn listeners(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}

/// A decoded component configuration, whatever its type. A component's `build` gets its
/// own type back with [`get`](dyn ComponentConfig::get).
pub(crate) trait ComponentConfig: std::fmt::Debug + Send + Sync {
    /// Semantic checks, in the Go collector's words.
    fn validate(&self, p: &mut Problems);
    /// Checks that depend on the signal of a pipeline the component is used in.
    fn validate_signal(&self, signal: Signal, p: &mut Problems);
    /// The effective configuration (defaults filled in, secrets redacted), for printing.
    fn to_json(&self) -> serde_json::Value;
    /// See [`ComponentType::listeners`].
    fn listeners(&self) -> Vec<(String, String)>;
    /// For [`get`](dyn ComponentConfig::get).
    fn as_any(&self) -> &dyn Any;
}

impl<T: ComponentType> ComponentConfig for T {
    fn validate(&self, p: &mut Problems) {
        Validate::validate(self, p);
    }

    fn validate_signal(&self, signal: Signal, p: &mut Problems) {
        Validate::validate_signal(self, signal, p);
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    fn listeners(&self) -> Vec<(String, String)> {
        ComponentType::listeners(self)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl dyn ComponentConfig + '_ {
    /// The configuration as its own type.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Internal`](crate::ErrorKind::Internal) when it is another type: a
    /// factory given a configuration its own `decode` did not make (a bug).
    pub(crate) fn get<T: 'static>(&self) -> Result<&T, crate::Error> {
        self.as_any().downcast_ref::<T>().ok_or_else(|| {
            crate::Error::new(
                crate::ErrorKind::Internal,
                format!(
                    "a component was given another type's configuration (expected {})",
                    std::any::type_name::<T>()
                ),
            )
        })
    }
}

/// Decodes a component's YAML into `T`.
pub(crate) type DecodeFn = fn(&Node, Vec<Seg>) -> Result<Arc<dyn ComponentConfig>, Vec<DeError>>;

/// The [`DecodeFn`] of `T`.
pub(crate) fn decode<T: ComponentType>(
    node: &Node,
    path: Vec<Seg>,
) -> Result<Arc<dyn ComponentConfig>, Vec<DeError>> {
    de::decode::<T>(node, path).map(|c| Arc::new(c) as Arc<dyn ComponentConfig>)
}

/// What loading a configuration needs to know of a component type: its kind, names,
/// signals and how to decode its keys. The rest of its factory (how to build it) is the
/// runtime's (`pipeline::build`); the list of them is `components.rs`.
#[derive(Debug)]
pub(crate) struct ConfigFactory {
    pub(crate) kind: Kind,
    pub(crate) name: &'static str,
    /// Other names of the same type (the Go collector's renames).
    pub(crate) aliases: &'static [&'static str],
    /// The signals it handles (every one for extensions, which have none).
    pub(crate) signals: &'static [Signal],
    pub(crate) decode: DecodeFn,
}

impl ConfigFactory {
    /// Whether `ty` names this type (its name or an alias).
    pub(crate) fn is(&self, kind: Kind, ty: &str) -> bool {
        self.kind == kind && (self.name == ty || self.aliases.contains(&ty))
    }
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
}
