//! The `resourcedetection` runtime: one detection per processor id, run once at start with
//! every detector concurrently and bounded by `timeout`, then merged into every resource
//! that passes.
//!
//! Until detection has finished (or timed out) the processor answers [`Pending::Room`] with
//! itself as the place to resume: the receiver keeps the payload (still on the memory
//! budget) and offers it to this processor again when the detection's `Notify` fires, so
//! data sent during start-up is held rather than refused or sent without its resource, and
//! the processors before this one do not run on it twice.

use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use super::ResourceDetectionConfig;
use super::detector::{Detected, EcsHint, merge};
pub(crate) use crate::aws::env::{EnvLookup, process_env};
use crate::aws::metadata::MetadataClient;
use crate::otlp::{Payload, Value};
use crate::pipeline::panics::Panics;
use crate::pipeline::{Consumer, Pending, Processor, Refusal};
use crate::{Error, ErrorKind};

/// Merges `detected` into every resource of `payload`: `override_` upserts (detected values
/// win), otherwise only missing keys are added. A resource without a schema URL takes the
/// detected one (Go's `MergeSchemaURL`). Only the `Resource` (and the schema URL field) is
/// re-encoded; nothing is touched when nothing was detected.
pub(crate) fn apply(payload: &mut Payload, detected: &Detected, override_: bool) {
    if detected.is_empty() {
        return;
    }
    for entry in payload.entries_mut() {
        if !detected.attrs.is_empty() {
            entry.edit_resource(|attrs| {
                for (k, v) in &detected.attrs {
                    if override_ {
                        attrs.upsert(k, v.clone());
                    } else {
                        attrs.insert(k, v.clone());
                    }
                }
            });
        }
        if !detected.schema_url.is_empty() && entry.view().schema_url().is_empty() {
            // `schema_url` appended as a piece of its own: a decoder keeps the
            // last occurrence of a singular field, so an explicit empty one earlier is
            // overridden, and every other field keeps its bytes.
            let mut field = Vec::with_capacity(detected.schema_url.len() + 3);
            crate::otlp::wire::put_len_field(
                &mut field,
                crate::otlp::fields::resource_x::SCHEMA_URL,
                detected.schema_url.as_bytes(),
            );
            let mut pieces: smallvec::SmallVec<[bytes::Bytes; 2]> =
                entry.pieces().iter().cloned().collect();
            pieces.push(bytes::Bytes::from(field));
            entry.replace_pieces(pieces);
        }
    }
}

/// What detection ended with.
#[derive(Debug)]
enum State {
    /// Finished or timed out: what to merge (possibly nothing).
    Ready(Arc<Detected>),
    /// A detector whose failure was configured to be fatal failed.
    Failed(String),
}

/// One detection, shared by every pipeline that names the processor id (Go shares the
/// provider per id): started once, its result read lock-free by every payload.
pub(crate) struct Detection {
    id: String,
    config: Arc<ResourceDetectionConfig>,
    env: EnvLookup,
    state: OnceLock<State>,
    notify: Arc<Notify>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    panics: Panics,
}

impl std::fmt::Debug for Detection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detection")
            .field("id", &self.id)
            .field("state", &self.state.get())
            .finish_non_exhaustive()
    }
}

impl Detection {
    /// A detection for processor `id` reading the process environment.
    pub(crate) fn new(
        id: &str,
        config: &ResourceDetectionConfig,
        panics: Panics,
    ) -> Arc<Detection> {
        Detection::build(id, config, process_env(), panics)
    }

    /// A detection reading variables through `env`.
    #[cfg(test)]
    pub(crate) fn with_env(
        id: &str,
        config: &ResourceDetectionConfig,
        env: EnvLookup,
    ) -> Arc<Detection> {
        Detection::build(id, config, env, Panics::default())
    }

    fn build(
        id: &str,
        config: &ResourceDetectionConfig,
        env: EnvLookup,
        panics: Panics,
    ) -> Arc<Detection> {
        Arc::new(Detection {
            id: id.to_owned(),
            config: Arc::new(config.clone()),
            env,
            state: OnceLock::new(),
            notify: Arc::new(Notify::new()),
            task: Mutex::new(None),
            panics,
        })
    }

    /// Starts detecting (once, however many pipelines share it). Needs a tokio runtime.
    pub(crate) fn start(self: &Arc<Self>) {
        let mut task = self.task.lock();
        if task.is_some() || self.state.get().is_some() {
            return;
        }
        let me = self.clone();
        *task = Some(tokio::spawn(async move {
            let detect = run(&me.id, me.config.clone(), me.env.clone(), &me.panics);
            let outcome = me
                .panics
                .catch_future(me.id.clone(), detect)
                .await
                .unwrap_or_else(|| {
                    // A bug in the merge: go on as if every detector had found nothing,
                    // rather than hold the pipeline forever.
                    tracing::error!(processor = %me.id, "resource detection panicked; going on without detected attributes");
                    Ok(Detected::default())
                });
            me.finish(outcome);
        }));
    }

    fn finish(&self, outcome: Result<Detected, String>) {
        let state = match outcome {
            Ok(d) => State::Ready(Arc::new(d)),
            Err(msg) => State::Failed(msg),
        };
        let _ = self.state.set(state);
        // After the state is set: a payload offered from now on sees it, and one that was
        // refused before is woken (the receiver also re-checks every 50 ms, which covers a
        // wake-up between its check and its wait).
        self.notify.notify_waiters();
    }

    /// Resolves when detection has finished or timed out; never after a fatal failure.
    pub(crate) async fn ready(&self) {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            // Registered before the check, so a completion in between is not missed.
            notified.as_mut().enable();
            if matches!(self.state.get(), Some(State::Ready(_))) {
                return;
            }
            notified.await;
        }
    }

    /// True once detection has finished or timed out (and not failed fatally).
    #[cfg(test)]
    pub(crate) fn is_ready(&self) -> bool {
        matches!(self.state.get(), Some(State::Ready(_)))
    }

    /// What detection found, once it is ready.
    #[cfg(test)]
    pub(crate) fn detected(&self) -> Option<Arc<Detected>> {
        match self.state.get() {
            Some(State::Ready(d)) => Some(d.clone()),
            _ => None,
        }
    }

    fn stop(&self) {
        if let Some(t) = self.task.lock().take() {
            t.abort();
        }
    }
}

/// The `resourcedetection` processor in one pipeline.
pub(crate) struct ResourceDetectionProcessor {
    detection: Arc<Detection>,
    override_: bool,
    next: Arc<dyn Consumer>,
    /// Itself, as the place a held payload resumes.
    me: std::sync::Weak<ResourceDetectionProcessor>,
}

impl ResourceDetectionProcessor {
    /// A processor applying `detection`'s result before `next`.
    pub(crate) fn new(
        detection: Arc<Detection>,
        override_: bool,
        next: Arc<dyn Consumer>,
    ) -> Arc<ResourceDetectionProcessor> {
        Arc::new_cyclic(|me| ResourceDetectionProcessor {
            detection,
            override_,
            next,
            me: me.clone(),
        })
    }
}

impl Consumer for ResourceDetectionProcessor {
    fn consume(&self, mut payload: Payload) -> Result<(), Refusal> {
        match self.detection.state.get() {
            Some(State::Ready(d)) => {
                apply(&mut payload, d, self.override_);
                self.next.consume(payload)
            }
            None => match self.me.upgrade() {
                Some(me) => Err(Refusal::Pending(Pending::Room {
                    room: self.detection.notify.clone(),
                    payload: Box::new(payload),
                    resume: me,
                })),
                None => Err(Refusal::Retryable(
                    "resource detection is shutting down".to_owned(),
                )),
            },
            Some(State::Failed(msg)) => Err(Refusal::Retryable(format!(
                "resource detection failed: {msg}"
            ))),
        }
    }
}

impl Processor for ResourceDetectionProcessor {
    fn start(&self) {
        self.detection.start();
    }

    fn delays_readiness(&self) -> bool {
        true
    }

    fn ready(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(self.detection.ready())
    }

    fn shutdown(
        &self,
        _deadline: std::time::Instant,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        self.detection.stop();
        Box::pin(async {})
    }
}

/// Far enough to mean "no deadline" (`timeout: 0`) without overflowing `Instant`.
fn no_deadline() -> Instant {
    Instant::now() + Duration::from_secs(365 * 24 * 3600)
}

/// Runs every configured detector concurrently, bounded by `timeout`, and merges what
/// they found in configured order. A detector that fails or does not finish in time is
/// logged and skipped, unless `fail_on_missing_metadata` (processor level: any detector;
/// `ec2::fail_on_missing_metadata`: the ec2 detector) makes its failure fatal: then the
/// error is returned.
pub(crate) async fn run(
    id: &str,
    config: Arc<ResourceDetectionConfig>,
    env: EnvLookup,
    panics: &Panics,
) -> Result<Detected, String> {
    tracing::info!(processor = %id, "began detecting resource information");
    let started = Instant::now();
    let timeout = config.timeout.to_std();
    let deadline = if timeout.is_zero() {
        no_deadline()
    } else {
        started + timeout
    };
    let client = MetadataClient::new();
    let names: Vec<String> = config
        .detectors
        .iter()
        .map(|d| d.trim().to_owned())
        .collect();
    // The EC2 detector waits for the ECS detector's launch type only when both run.
    let both = names.iter().any(|n| n == "ecs") && names.iter().any(|n| n == "ec2");
    let (hint_tx, hint_rx) = watch::channel(EcsHint::Pending);
    let mut hint_tx = both.then_some(hint_tx);
    let mut tasks = Vec::with_capacity(names.len());
    for name in &names {
        let config = config.clone();
        let env = env.clone();
        let client = client.clone();
        let task: tokio::task::JoinHandle<Result<Detected, Error>> = match name.as_str() {
            "env" => tokio::spawn(async move { super::env::detect(&env) }),
            "system" => tokio::spawn(async move {
                let cfg = config.system.clone();
                tokio::task::spawn_blocking(move || super::system::detect(&cfg))
                    .await
                    .map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))?
            }),
            "ecs" => {
                let tx = hint_tx.take();
                tokio::spawn(async move {
                    super::ecs::detect(&config.ecs, &env, &client, deadline, timeout, tx).await
                })
            }
            "ec2" => {
                let rx = both.then(|| hint_rx.clone());
                tokio::spawn(async move {
                    super::ec2::detect(&config.ec2, &env, &client, deadline, rx).await
                })
            }
            other => tokio::spawn({
                let msg = format!("invalid detector key: {other}");
                async move { Err(Error::new(ErrorKind::Config, msg)) }
            }),
        };
        tasks.push(task);
    }
    drop(hint_tx);
    drop(hint_rx);

    let mut results = Vec::with_capacity(tasks.len());
    let mut fatal = Vec::new();
    for (name, mut task) in names.iter().zip(tasks) {
        let outcome = match tokio::time::timeout_at(deadline, &mut task).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) if e.is_panic() => {
                panics.record(id, e.into_panic().as_ref());
                Err(Error::new(ErrorKind::Internal, "detector panicked"))
            }
            Ok(Err(e)) => Err(Error::new(
                ErrorKind::Internal,
                format!("detector stopped: {e}"),
            )),
            Err(_) => {
                task.abort();
                Err(Error::new(ErrorKind::Timeout, "context deadline exceeded"))
            }
        };
        match outcome {
            Ok(d) => results.push(d),
            Err(e) => {
                let is_fatal = config.fail_on_missing_metadata
                    || (name == "ec2" && config.ec2.fail_on_missing_metadata);
                if is_fatal {
                    tracing::error!(processor = %id, detector = %name, error = %e, "failed to detect resource");
                    fatal.push(format!("{name}: {e}"));
                } else {
                    tracing::warn!(processor = %id, detector = %name, error = %e, "failed to detect resource");
                }
            }
        }
    }
    if !fatal.is_empty() {
        let msg = fatal.join("; ");
        tracing::error!(
            processor = %id,
            error = %msg,
            "resource detection failed and fail_on_missing_metadata is set: the collector will not report ready"
        );
        return Err(msg);
    }
    let mut merged = merge(results);
    if let Some(keep) = &config.attributes {
        merged.attrs.retain(|(k, _)| keep.iter().any(|a| a == k));
    }
    tracing::info!(
        processor = %id,
        resource = %render(&merged),
        elapsed = ?started.elapsed(),
        "detected resource information"
    );
    Ok(merged)
}

/// `{"key": "value", ...}` for the log line, as Go logs the detected resource.
fn render(d: &Detected) -> String {
    let mut s = String::from("{");
    for (i, (k, v)) in d.attrs.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let _ = write!(s, "{k:?}: ");
        render_value(&mut s, v);
    }
    s.push('}');
    s
}

fn render_value(s: &mut String, v: &Value) {
    match v {
        Value::Str(x) => {
            let _ = write!(s, "{x:?}");
        }
        Value::Array(items) => {
            s.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                render_value(s, x);
            }
            s.push(']');
        }
        Value::Int(i) => {
            let _ = write!(s, "{i}");
        }
        other => {
            let _ = write!(s, "{other:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::detector::SCHEMA_1_6_1;
    use super::super::detector::tests::{det, s};
    use super::*;
    use crate::Signal;
    use crate::aws::env::fixed as env;
    use crate::config::Duration as CfgDuration;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
    use prost::Message;

    fn kv(k: &str, v: &str) -> KeyValue {
        KeyValue {
            key: k.to_owned(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(v.to_owned())),
            }),
            ..Default::default()
        }
    }

    /// A traces payload with two resources: one with `service.name` and `host.name`, one
    /// without a resource (and a schema URL of its own).
    fn payload() -> Payload {
        let span = Span {
            trace_id: vec![1; 16],
            span_id: vec![2; 8],
            name: "s".into(),
            ..Default::default()
        };
        let req = ExportTraceServiceRequest {
            resource_spans: vec![
                ResourceSpans {
                    resource: Some(Resource {
                        attributes: vec![kv("service.name", "api"), kv("host.name", "mine")],
                        ..Default::default()
                    }),
                    scope_spans: vec![ScopeSpans {
                        spans: vec![span.clone()],
                        ..Default::default()
                    }],
                    schema_url: String::new(),
                },
                ResourceSpans {
                    resource: None,
                    scope_spans: vec![ScopeSpans {
                        spans: vec![span],
                        ..Default::default()
                    }],
                    schema_url: "https://example.com/own".into(),
                },
            ],
        };
        Payload::decode(Signal::Traces, bytes::Bytes::from(req.encode_to_vec())).unwrap()
    }

    fn decoded(p: &Payload) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest::decode(p.to_bytes()).unwrap()
    }

    fn attrs(rs: &ResourceSpans) -> Vec<(String, String)> {
        rs.resource
            .as_ref()
            .map(|r| {
                r.attributes
                    .iter()
                    .map(|kv| {
                        let v = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                            Some(any_value::Value::StringValue(s)) => s.clone(),
                            other => format!("{other:?}"),
                        };
                        (kv.key.clone(), v)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn override_true_upserts_and_false_inserts() {
        let d = det(
            &[("host.name", "detected"), ("cloud.region", "eu-west-1")],
            "",
        );
        let mut p = payload();
        apply(&mut p, &d, true);
        let r = decoded(&p);
        assert_eq!(
            attrs(&r.resource_spans[0]),
            pairs(&[
                ("service.name", "api"),
                ("host.name", "detected"),
                ("cloud.region", "eu-west-1")
            ])
        );
        assert_eq!(
            attrs(&r.resource_spans[1]),
            pairs(&[("host.name", "detected"), ("cloud.region", "eu-west-1")])
        );

        let mut p = payload();
        apply(&mut p, &d, false);
        let r = decoded(&p);
        assert_eq!(
            attrs(&r.resource_spans[0]),
            pairs(&[
                ("service.name", "api"),
                ("host.name", "mine"),
                ("cloud.region", "eu-west-1")
            ])
        );
        // The spans are untouched.
        assert_eq!(r.resource_spans[0].scope_spans[0].spans[0].name, "s");
        assert_eq!(p.items(), 2);
    }

    #[test]
    fn schema_url_is_set_only_where_empty() {
        let d = det(&[("a", "b")], SCHEMA_1_6_1);
        let mut p = payload();
        apply(&mut p, &d, true);
        let r = decoded(&p);
        assert_eq!(r.resource_spans[0].schema_url, SCHEMA_1_6_1);
        assert_eq!(r.resource_spans[1].schema_url, "https://example.com/own");
        // The edited payload is still valid OTLP as this crate reads it.
        assert!(Payload::decode(Signal::Traces, p.to_bytes()).is_ok());
    }

    #[test]
    fn nothing_detected_leaves_the_bytes_alone() {
        let p0 = payload();
        let mut p = p0.clone();
        apply(&mut p, &Detected::default(), true);
        assert_eq!(p.to_bytes(), p0.to_bytes());
        // Not even re-framed: still one slice of the received buffer.
        assert_eq!(p.chunks().len(), p0.chunks().len());
    }

    fn config(yaml: &str) -> ResourceDetectionConfig {
        let cfg = crate::Config::from_yaml(&format!(
            "processors:
  resourcedetection:
{yaml}
receivers:
  otlp:
    protocols:
      http:
exporters:
  debug:
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [resourcedetection]
      exporters: [debug]
"
        ))
        .unwrap();
        cfg.processors[0]
            .config
            .get::<ResourceDetectionConfig>()
            .unwrap()
            .clone()
    }

    #[tokio::test]
    async fn run_merges_env_then_system_and_applies_the_allow_list() {
        let mut cfg = config(
            "    detectors: [env, system]
    system:
      hostname_sources: [os]",
        );
        let e = env(&[("OTEL_RESOURCE_ATTRIBUTES", "host.name=from-env,team=core")]);
        let d = run(
            "resourcedetection",
            Arc::new(cfg.clone()),
            e.clone(),
            &Panics::default(),
        )
        .await
        .unwrap();
        assert_eq!(d.get("host.name"), Some(&s("from-env")));
        assert_eq!(d.get("team"), Some(&s("core")));
        assert_eq!(d.get("os.type"), Some(&s(std::env::consts::OS)));
        // env has no schema URL; system's is the first non-empty one.
        assert_eq!(d.schema_url, SCHEMA_1_6_1);

        cfg.attributes = Some(vec!["team".to_owned()]);
        let d = run("resourcedetection", Arc::new(cfg), e, &Panics::default())
            .await
            .unwrap();
        assert_eq!(d.attrs, vec![("team".to_owned(), s("core"))]);
    }

    #[tokio::test]
    async fn a_failing_detector_is_skipped_unless_fatal() {
        let mut cfg = config("    detectors: [env, ec2]");
        // Malformed env and a disabled metadata service: both fail, nothing is detected,
        // and no request leaves the process.
        let e = env(&[
            ("OTEL_RESOURCE_ATTRIBUTES", "garbage"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ]);
        let d = run("rd", Arc::new(cfg.clone()), e.clone(), &Panics::default())
            .await
            .unwrap();
        assert!(d.is_empty());
        cfg.ec2.fail_on_missing_metadata = true;
        let err = run("rd", Arc::new(cfg.clone()), e.clone(), &Panics::default())
            .await
            .unwrap_err();
        assert!(err.starts_with("ec2: "), "{err}");
        cfg.ec2.fail_on_missing_metadata = false;
        cfg.fail_on_missing_metadata = true;
        let err = run("rd", Arc::new(cfg), e, &Panics::default())
            .await
            .unwrap_err();
        assert!(err.contains("env: invalid resource format"), "{err}");
    }

    #[tokio::test]
    async fn processor_holds_payloads_until_ready() {
        struct Sink(Mutex<Vec<Payload>>);
        impl Consumer for Sink {
            fn consume(&self, p: Payload) -> Result<(), Refusal> {
                self.0.lock().push(p);
                Ok(())
            }
        }
        let cfg = config("    detectors: [env]\n    timeout: 2s");
        let e = env(&[("OTEL_RESOURCE_ATTRIBUTES", "k=v")]);
        let detection = Detection::with_env("rd", &cfg, e);
        let sink = Arc::new(Sink(Mutex::new(Vec::new())));
        let p = ResourceDetectionProcessor::new(detection.clone(), true, sink.clone());
        assert!(p.delays_readiness());
        // Not started: held (the payload handed back, to resume at this processor).
        let (back, resume) = match p.consume(payload()) {
            Err(Refusal::Pending(Pending::Room {
                room,
                payload,
                resume,
            })) => {
                assert!(Arc::ptr_eq(&room, &detection.notify));
                let me: Arc<dyn Consumer> = p.clone();
                assert!(std::ptr::eq(
                    Arc::as_ptr(&resume).cast::<()>(),
                    Arc::as_ptr(&me).cast::<()>()
                ));
                (*payload, resume)
            }
            other => panic!("{other:?}"),
        };
        assert!(!detection.is_ready());
        p.start();
        p.start(); // idempotent
        tokio::time::timeout(Duration::from_secs(2), p.ready())
            .await
            .unwrap();
        assert!(detection.is_ready());
        resume.consume(back).unwrap();
        let got = sink.0.lock().pop().unwrap();
        let r = decoded(&got);
        assert!(attrs(&r.resource_spans[0]).contains(&("k".to_owned(), "v".to_owned())));
        assert_eq!(
            detection.detected().unwrap().attrs,
            vec![("k".to_owned(), s("v"))]
        );
        p.shutdown(std::time::Instant::now()).await;
    }

    #[tokio::test]
    async fn fatal_failure_never_turns_ready_and_refuses() {
        struct Nothing;
        impl Consumer for Nothing {
            fn consume(&self, _: Payload) -> Result<(), Refusal> {
                Ok(())
            }
        }
        let mut cfg = config("    detectors: [ec2]");
        cfg.ec2.fail_on_missing_metadata = true;
        cfg.timeout = CfgDuration::from_millis(500);
        let detection =
            Detection::with_env("rd", &cfg, env(&[("AWS_EC2_METADATA_DISABLED", "true")]));
        let p = ResourceDetectionProcessor::new(detection.clone(), true, Arc::new(Nothing));
        p.start();
        assert!(
            tokio::time::timeout(Duration::from_millis(700), p.ready())
                .await
                .is_err()
        );
        assert!(detection.state.get().is_some());
        match p.consume(payload()) {
            Err(Refusal::Retryable(m)) => {
                assert!(m.starts_with("resource detection failed"), "{m}")
            }
            other => panic!("{other:?}"),
        }
    }
}
