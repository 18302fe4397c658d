//! The `resource` processor.

use serde::{Deserialize, Serialize};

use crate::config::Kind as FactoryKind;
use crate::config::component::{ComponentConfig, ComponentType, ConfigFactory, decode};
use crate::config::validate::{Problems, Validate};
use crate::otlp::actions::{ActionConfig, validate_actions};
use crate::pipeline::build::{Build, Context, Factory};

/// `resource` configuration (contrib `processor/resourceprocessor`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct ResourceConfig {
    /// Actions applied in order to every resource's attributes.
    pub attributes: Vec<ActionConfig>,
}

/// The `resource` processor type.
pub(crate) static FACTORY: Factory = Factory {
    config: ConfigFactory {
        kind: FactoryKind::Processor,
        name: "resource",
        aliases: &[],
        signals: &crate::Signal::ALL,
        decode: decode::<ResourceConfig>,
    },
    build: Build::Processor(build),
};

impl ComponentType for ResourceConfig {}

fn build(
    ctx: &Context<'_>,
    cfg: &dyn ComponentConfig,
    next: std::sync::Arc<dyn crate::pipeline::Consumer>,
) -> Result<std::sync::Arc<dyn crate::pipeline::Processor>, crate::Error> {
    let cfg = cfg.get::<ResourceConfig>()?;
    Ok(std::sync::Arc::new(ResourceProcessor::new(
        ctx.id,
        cfg,
        next,
        ctx.registry,
    )?))
}

impl Validate for ResourceConfig {
    fn validate(&self, p: &mut Problems) {
        if self.attributes.is_empty() {
            p.root("missing required field \"attributes\"");
        } else if let Some(e) = validate_actions(&self.attributes) {
            p.key("attributes", e);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Runtime
// ---------------------------------------------------------------------------------------

use std::num::NonZeroUsize;
use std::sync::Arc;

use bytes::Bytes;
use lru::LruCache;
use parking_lot::Mutex;

use crate::otlp::Payload;
use crate::otlp::actions::AttrProc;
use crate::pipeline::{Consumer, Processor, Refusal};
use crate::telemetry::{Counter, Registry};

/// Distinct input resources remembered. A sidecar sees a handful; a gateway more, and
/// misses then cost one re-encode each, as without a cache.
const CACHE_ENTRIES: usize = 1024;

/// The `resource` processor: runs the actions on every resource, re-encoding only the
/// `Resource` message. The edited resource is cached per distinct input resource (and the
/// client metadata values the actions read), so a repeated resource costs a lookup and a
/// splice.
pub(crate) struct ResourceProcessor {
    actions: AttrProc,
    context_keys: Vec<String>,
    next: Arc<dyn Consumer>,
    /// Encoded input resource (plus context values) -> the encoded edited `resource`
    /// field, or `None` when the actions change nothing.
    cache: Mutex<LruCache<Vec<u8>, Option<Bytes>>>,
    misses: Counter,
    evictions: Counter,
}

impl ResourceProcessor {
    pub(crate) fn new(
        id: &str,
        cfg: &ResourceConfig,
        next: Arc<dyn Consumer>,
        registry: &Registry,
    ) -> Result<ResourceProcessor, crate::Error> {
        Self::with_cache(id, cfg, next, registry, CACHE_ENTRIES)
    }

    fn with_cache(
        id: &str,
        cfg: &ResourceConfig,
        next: Arc<dyn Consumer>,
        registry: &Registry,
        entries: usize,
    ) -> Result<ResourceProcessor, crate::Error> {
        let actions = AttrProc::new(&cfg.attributes)
            .map_err(|e| crate::Error::new(crate::ErrorKind::Config, e))?;
        let context_keys = actions.context_keys().map(str::to_owned).collect();
        let labels = [("processor", id)];
        Ok(ResourceProcessor {
            actions,
            context_keys,
            next,
            cache: Mutex::new(LruCache::new(
                NonZeroUsize::new(entries).unwrap_or(NonZeroUsize::MIN),
            )),
            misses: registry.counter(
                "otelcol_processor_resource_cache_misses",
                "Resources edited afresh (not found in the edit cache)",
                &labels,
            ),
            evictions: registry.counter(
                "otelcol_processor_resource_cache_evictions",
                "Edited resources evicted from the edit cache",
                &labels,
            ),
        })
    }

    fn edit(&self, p: &mut Payload) {
        let metadata = if self.context_keys.is_empty() {
            None
        } else {
            p.metadata().cloned()
        };
        let mut key = Vec::new();
        for e in p.entries_mut() {
            key.clear();
            e.resource_key(&mut key);
            for k in &self.context_keys {
                // 0xff never occurs in protobuf tags of the key's prefix, nor in UTF-8.
                key.push(0xff);
                for v in metadata.iter().flat_map(|m| m.get(k)) {
                    key.push(0xfe);
                    key.extend_from_slice(v.as_bytes());
                }
            }
            let cached = self.cache.lock().get(&key).cloned();
            match cached {
                Some(Some(field)) => e.set_resource_field(field),
                Some(None) => {}
                None => {
                    self.misses.add(1);
                    let (_, field) = e.edit_resource_field(|attrs| {
                        self.actions.process(attrs, metadata.as_ref())
                    });
                    let evicted = self.cache.lock().push(key.clone(), field);
                    if evicted.is_some_and(|(k, _)| k != key) {
                        self.evictions.add(1);
                    }
                }
            }
        }
    }
}

impl Consumer for ResourceProcessor {
    fn consume(&self, mut payload: Payload) -> Result<(), Refusal> {
        self.edit(&mut payload);
        self.next.consume(payload)
    }
}

impl Processor for ResourceProcessor {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Signal;
    use crate::otlp::{Metadata, Value};
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
    use prost::Message;

    #[derive(Default)]
    struct Sink(Mutex<Vec<Payload>>);
    impl Consumer for Sink {
        fn consume(&self, p: Payload) -> Result<(), Refusal> {
            self.0.lock().push(p);
            Ok(())
        }
    }

    fn kv(k: &str, v: &str) -> KeyValue {
        KeyValue {
            key: k.into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(v.into())),
            }),
            ..Default::default()
        }
    }

    fn request(services: &[&str]) -> Payload {
        let req = ExportTraceServiceRequest {
            resource_spans: services
                .iter()
                .map(|s| ResourceSpans {
                    resource: Some(Resource {
                        attributes: vec![kv("service.name", s), kv("cloud.provider", "gcp")],
                        ..Default::default()
                    }),
                    scope_spans: vec![ScopeSpans {
                        spans: vec![Span {
                            name: format!("{s}-span"),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }],
                    ..Default::default()
                })
                .collect(),
        };
        Payload::decode(Signal::Traces, bytes::Bytes::from(req.encode_to_vec())).unwrap()
    }

    fn seed_actions() -> ResourceConfig {
        let upsert = |k: &str, v: &str| crate::otlp::actions::ActionConfig {
            key: k.into(),
            value: Some(serde_json::json!(v)),
            action: "upsert".into(),
            ..Default::default()
        };
        ResourceConfig {
            attributes: vec![
                upsert("cloud.provider", "aws"),
                upsert("deployment.environment", "prod"),
            ],
        }
    }

    fn decoded(p: &Payload) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest::decode(p.to_bytes()).unwrap()
    }

    #[test]
    fn stamps_every_resource_and_caches_edits() {
        let sink = Arc::new(Sink::default());
        let reg = Registry::default();
        let proc = ResourceProcessor::new("resource", &seed_actions(), sink.clone(), &reg).unwrap();
        for _ in 0..3 {
            proc.consume(request(&["api", "worker"])).unwrap();
        }
        let got = sink.0.lock();
        for p in got.iter() {
            let req = decoded(p);
            for (rs, name) in req.resource_spans.iter().zip(["api", "worker"]) {
                let attrs = &rs.resource.as_ref().unwrap().attributes;
                assert_eq!(
                    attrs.clone(),
                    vec![
                        kv("service.name", name),
                        kv("cloud.provider", "aws"),
                        kv("deployment.environment", "prod")
                    ]
                );
                assert_eq!(rs.scope_spans[0].spans[0].name, format!("{name}-span"));
            }
        }
        // Two distinct resources, each edited once.
        assert_eq!(proc.misses.get(), 2);
        assert_eq!(proc.evictions.get(), 0);
    }

    #[test]
    fn evictions_are_counted() {
        let sink = Arc::new(Sink::default());
        let proc = ResourceProcessor::with_cache(
            "resource",
            &seed_actions(),
            sink.clone(),
            &Registry::default(),
            2,
        )
        .unwrap();
        proc.consume(request(&["a", "b", "c"])).unwrap();
        proc.consume(request(&["a"])).unwrap();
        assert_eq!(proc.misses.get(), 4);
        assert_eq!(proc.evictions.get(), 2);
        let req = decoded(&sink.0.lock()[1]);
        assert_eq!(
            req.resource_spans[0]
                .resource
                .as_ref()
                .unwrap()
                .attributes
                .len(),
            3
        );
    }

    #[test]
    fn context_values_are_part_of_the_cache_key() {
        let sink = Arc::new(Sink::default());
        let cfg = ResourceConfig {
            attributes: vec![crate::otlp::actions::ActionConfig {
                key: "tenant".into(),
                from_context: "metadata.x-tenant".into(),
                action: "insert".into(),
                ..Default::default()
            }],
        };
        let proc =
            ResourceProcessor::new("resource", &cfg, sink.clone(), &Registry::default()).unwrap();
        for t in ["t1", "t2", "t1"] {
            let md = Metadata::new([("x-tenant".to_owned(), t.to_owned())]);
            proc.consume(request(&["api"]).with_metadata(Arc::new(md)))
                .unwrap();
        }
        proc.consume(request(&["api"])).unwrap();
        let tenants: Vec<Option<Value>> = sink
            .0
            .lock()
            .iter()
            .map(|p| {
                p.resources()
                    .next()
                    .unwrap()
                    .attribute("tenant")
                    .map(|v| Value::from_view(&v))
            })
            .collect();
        assert_eq!(
            tenants,
            [
                Some(Value::Str("t1".into())),
                Some(Value::Str("t2".into())),
                Some(Value::Str("t1".into())),
                None
            ]
        );
        assert_eq!(proc.misses.get(), 3);
    }
}
