//! Panics inside components: caught where a component runs, counted, remembered.
//!
//! A bug in one component must not take the collector down, nor stop the task it runs in:
//! a receiver handler, a processor's `consume`, an exporter's sender, a timer. Each of those
//! runs its component's code under [`Panics::catch`] (or [`Panics::catch_future`]); a
//! panic is logged at error level with the component id, counted in
//! `otelcol_component_panics_total{component}` (ours), and the payload the component held is
//! dropped (counted by the caller, which knows it). The task then goes on with the next
//! payload. Unwinding is the release profile's setting (`panic = "unwind"` in the workspace `Cargo.toml`).
//!
//! The health check reads [`Panics::failing`]: a component that panicked
//! [`FAILING_PANICS`] times within [`FAILING_WINDOW`] makes it answer 503 until a whole
//! window passes without a panic.

use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::telemetry::{Counter, Registry};

/// How many panics within [`FAILING_WINDOW`] make a component unhealthy.
pub(crate) const FAILING_PANICS: usize = 5;

/// The window [`FAILING_PANICS`] are counted in; a component is healthy again once a whole
/// window has passed without a panic.
pub(crate) const FAILING_WINDOW: Duration = Duration::from_secs(60);

#[derive(Default)]
struct Recent {
    /// When the component last panicked, newest last, at most [`FAILING_PANICS`] kept.
    times: VecDeque<Instant>,
    /// Set when [`FAILING_PANICS`] fell within one window; cleared after a quiet window.
    failing: bool,
}

#[derive(Default)]
struct Inner {
    recent: HashMap<String, Recent>,
    counters: HashMap<String, Counter>,
}

/// The panics of one collector's components.
#[derive(Clone)]
pub(crate) struct Panics {
    inner: Arc<Mutex<Inner>>,
    /// Weak: components holding this live in the registry's gauges.
    registry: crate::telemetry::WeakRegistry,
    window: Duration,
}

impl Default for Panics {
    fn default() -> Self {
        Panics {
            inner: Arc::default(),
            registry: crate::telemetry::WeakRegistry::default(),
            window: FAILING_WINDOW,
        }
    }
}

impl std::fmt::Debug for Panics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Panics").finish_non_exhaustive()
    }
}

/// The message of a panic payload (`panic!` gives a `&str` or a `String`).
fn message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "(a panic without a message)"
    }
}

impl Panics {
    /// Panics counted in `registry`.
    pub(crate) fn new(registry: &Registry) -> Panics {
        Panics {
            registry: registry.downgrade(),
            ..Panics::default()
        }
    }

    /// Records a panic of `component` (logged, counted, remembered for the health check).
    pub(crate) fn record(&self, component: &str, payload: &(dyn Any + Send)) {
        tracing::error!(
            component,
            panic = message(payload),
            "A component panicked; what it held is dropped and it goes on with the next data."
        );
        let now = Instant::now();
        let mut inner = self.inner.lock();
        let recent = inner.recent.entry(component.to_owned()).or_default();
        recent.times.push_back(now);
        while recent.times.len() > FAILING_PANICS {
            recent.times.pop_front();
        }
        if recent.times.len() == FAILING_PANICS
            && recent
                .times
                .front()
                .is_some_and(|t| now.duration_since(*t) < self.window)
        {
            recent.failing = true;
        }
        let counter = match inner.counters.get(component) {
            Some(c) => c.clone(),
            None => {
                let c = match self.registry.upgrade() {
                    Some(r) => r.counter(
                        "otelcol_component_panics",
                        "Panics caught inside a component (ours): the component dropped what it held and went on.",
                        &[("component", component)],
                    ),
                    None => Counter::default(),
                };
                inner.counters.insert(component.to_owned(), c.clone());
                c
            }
        };
        counter.add(1);
    }

    /// A component that panicked [`FAILING_PANICS`] times within one [`FAILING_WINDOW`]
    /// and has not since been quiet for a whole window, if any (the first by name, so the
    /// answer is stable).
    pub(crate) fn failing(&self) -> Option<String> {
        let now = Instant::now();
        let mut inner = self.inner.lock();
        // A quiet window forgets a component's panics.
        let window = self.window;
        inner.recent.retain(|_, r| {
            r.times
                .back()
                .is_some_and(|t| now.duration_since(*t) < window)
        });
        inner
            .recent
            .iter()
            .filter(|(_, r)| r.failing)
            .map(|(id, _)| id.clone())
            .min()
    }

    /// Runs `f`, catching a panic: `None` when it panicked (recorded for `component`).
    pub(crate) fn catch<T>(&self, component: &str, f: impl FnOnce() -> T) -> Option<T> {
        match std::panic::catch_unwind(AssertUnwindSafe(f)) {
            Ok(v) => Some(v),
            Err(payload) => {
                self.record(component, payload.as_ref());
                None
            }
        }
    }

    /// `fut`, catching a panic in any of its polls: `None` when it panicked (recorded for
    /// `component`). The future is dropped where it panicked, with what it held.
    pub(crate) fn catch_future<F: Future>(
        &self,
        component: impl Into<String>,
        fut: F,
    ) -> CatchUnwind<F> {
        CatchUnwind {
            inner: Box::pin(fut),
            panics: self.clone(),
            component: component.into(),
        }
    }
}

/// A future whose panics are caught: see [`Panics::catch_future`].
pub(crate) struct CatchUnwind<F> {
    inner: Pin<Box<F>>,
    panics: Panics,
    component: String,
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Option<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.inner.as_mut();
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Some(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => {
                self.panics.record(&self.component, payload.as_ref());
                Poll::Ready(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_are_caught_counted_and_remembered() {
        let registry = Registry::default();
        let panics = Panics::new(&registry);
        assert_eq!(panics.catch("batch", || 7), Some(7));
        for i in 0..FAILING_PANICS {
            assert_eq!(panics.failing(), None, "after {i}");
            let r: Option<()> = panics.catch("batch", || panic!("boom {i}"));
            assert_eq!(r, None);
        }
        assert_eq!(panics.failing().as_deref(), Some("batch"));
        let text = registry.render();
        assert!(
            text.contains("otelcol_component_panics_total{component=\"batch\"} 5"),
            "{text}"
        );
    }

    #[test]
    fn a_quiet_window_makes_a_component_healthy_again() {
        let panics = Panics {
            window: Duration::from_secs(1),
            ..Panics::default()
        };
        for _ in 0..FAILING_PANICS {
            let _: Option<()> = panics.catch("otlp", || panic!("boom"));
        }
        assert_eq!(panics.failing().as_deref(), Some("otlp"));
        std::thread::sleep(Duration::from_millis(300));
        // Fewer than five in the last window now, but not yet quiet for a whole one.
        assert_eq!(panics.failing().as_deref(), Some("otlp"));
        std::thread::sleep(Duration::from_millis(1000));
        assert_eq!(panics.failing(), None);
        // Panics spread wider than the window never make it fail.
        for _ in 0..FAILING_PANICS {
            let _: Option<()> = panics.catch("batch", || panic!("boom"));
            std::thread::sleep(Duration::from_millis(300));
        }
        assert_eq!(panics.failing(), None);
    }

    #[tokio::test]
    async fn a_panicking_future_ends_with_none() {
        let panics = Panics::default();
        let ok = panics.catch_future("otlp", async { 1 }).await;
        assert_eq!(ok, Some(1));
        let bad = panics
            .catch_future("otlp", async {
                tokio::task::yield_now().await;
                panic!("in the second poll")
            })
            .await;
        let _: Option<()> = bad;
        assert_eq!(bad, None);
    }

    /// An OTLP/HTTP request of one span whose resource has `service.name = name`.
    fn request(name: &str) -> Vec<u8> {
        use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
        use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
        use opentelemetry_proto::tonic::resource::v1::Resource;
        use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
        use prost::Message as _;
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![KeyValue {
                        key: "service.name".into(),
                        value: Some(AnyValue {
                            value: Some(any_value::Value::StringValue(name.into())),
                        }),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span {
                        trace_id: vec![1; 16],
                        span_id: vec![2; 8],
                        name: "op".into(),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
        .encode_to_vec()
    }

    #[tokio::test]
    async fn a_panicking_processor_is_counted_and_the_collector_keeps_serving() {
        use http_body_util::{BodyExt, Full};
        let cfg = crate::Config::from_yaml(
            "receivers: {otlp: {protocols: {http: {endpoint: 127.0.0.1:0}}}}
processors: {test_panic: {marker: boom}}
exporters: {debug: {verbosity: basic}}
extensions: {health_check: {endpoint: 127.0.0.1:0}}
service:
  extensions: [health_check]
  telemetry: {metrics: {level: none}}
  pipelines: {traces: {receivers: [otlp], processors: [test_panic], exporters: [debug]}}",
        )
        .unwrap();
        let h = crate::Collector::new(cfg).start().await.unwrap();
        let addr = |id: &str| {
            h.listen_addrs()
                .into_iter()
                .find(|(i, _)| i == id)
                .map(|(_, a)| a)
                .unwrap()
        };
        let (otlp, health) = (addr("otlp"), addr("health_check"));
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http::<Full<bytes::Bytes>>();
        let send = |name: &str| {
            let req = http::Request::post(format!("http://{otlp}/v1/traces"))
                .header("content-type", "application/x-protobuf")
                .body(Full::new(bytes::Bytes::from(request(name))))
                .unwrap();
            let client = client.clone();
            async move { client.request(req).await.unwrap().status().as_u16() }
        };
        let get_health = || {
            let client = client.clone();
            async move {
                let r = client
                    .get(format!("http://{health}/").parse().unwrap())
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let body = r.into_body().collect().await.unwrap().to_bytes();
                (status, String::from_utf8_lossy(&body).into_owned())
            }
        };
        assert_eq!(send("fine").await, 200);
        for i in 1..FAILING_PANICS {
            assert_eq!(send("boom").await, 500, "panic {i}");
            // The receiver still serves, and one component panicking now and then does
            // not make the collector unhealthy.
            assert_eq!(send("fine").await, 200);
            assert_eq!(get_health().await.0, 200);
        }
        assert_eq!(send("boom").await, 500);
        let (status, body) = get_health().await;
        assert_eq!(status, 503, "{body}");
        assert!(
            body.contains("component test_panic panicked 5 times"),
            "{body}"
        );
        // Still serving data.
        assert_eq!(send("fine").await, 200);
        let text = h.metrics_text();
        assert!(
            text.contains("otelcol_component_panics_total{component=\"test_panic\"} 5"),
            "{text}"
        );
        assert!(
            text.contains(
                "otelcol_dropped_items_total{component=\"test_panic\",reason=\"panic\"} 5"
            ),
            "{text}"
        );
        let report = h.shutdown(std::time::Duration::from_secs(5)).await;
        assert_eq!((report.delivered_items, report.dropped_items), (6, 5));
    }
}
