//! The `otlp` receiver.

use serde::{Deserialize, Serialize};

use crate::config::net::GrpcServerConfig;
use crate::config::validate::{Problems, Validate};

crate::config::net::http_server_struct! {
    /// The HTTP protocol block: an HTTP server plus the OTLP URL paths.
    pub struct OtlpHttpConfig {
        /// Path for traces.
        pub traces_url_path: String = "/v1/traces".to_owned(),
        /// Path for metrics.
        pub metrics_url_path: String = "/v1/metrics".to_owned(),
        /// Path for logs.
        pub logs_url_path: String = "/v1/logs".to_owned(),
    }
    endpoint = "localhost:4318";
}

/// `protocols` of the OTLP receiver: a protocol is enabled when its key is present, even
/// without a value (`grpc:`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct ProtocolsConfig {
    /// OTLP/gRPC.
    #[serde(deserialize_with = "crate::config::net::present")]
    pub grpc: Option<GrpcServerConfig>,
    /// OTLP/HTTP.
    #[serde(deserialize_with = "crate::config::net::present")]
    pub http: Option<OtlpHttpConfig>,
}

/// `otlp` receiver configuration (Go `receiver/otlpreceiver`, v0.138).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct OtlpReceiverConfig {
    /// Which protocols to serve.
    pub protocols: ProtocolsConfig,
}

impl Validate for OtlpReceiverConfig {
    fn validate(&self, p: &mut Problems) {
        if self.protocols.grpc.is_none() && self.protocols.http.is_none() {
            p.root("must specify at least one protocol when using the OTLP receiver");
        }
        if let Some(g) = &self.protocols.grpc {
            let mut inner = Problems::default();
            g.validate(&mut inner);
            p.nested("protocols::grpc", inner);
        }
        if let Some(h) = &self.protocols.http {
            let mut inner = Problems::default();
            h.server().validate(&mut inner);
            for (k, v) in [
                ("traces_url_path", &h.traces_url_path),
                ("metrics_url_path", &h.metrics_url_path),
                ("logs_url_path", &h.logs_url_path),
            ] {
                if v.contains(char::is_whitespace) || v.contains("://") {
                    inner.key(k, format!("invalid HTTP URL path set for signal: {v:?}"));
                }
            }
            p.nested("protocols::http", inner);
        }
    }
}

pub(crate) mod grpc;
pub(crate) mod http;

use std::sync::Arc;

use bytes::Bytes;

use crate::Signal;
use crate::memory::Budget;
use crate::otlp::{Metadata, Payload};
use crate::pipeline::{Consumer, Refusal};
use crate::telemetry::{Counter, Registry};

/// How long a request may wait for an exporter with `block_on_overflow` to have room.
const BLOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(30);
/// How long one wait lasts before the room is checked again.
const BLOCK_POLL: std::time::Duration = std::time::Duration::from_millis(50);

/// How a request ended, for the answer and the metrics.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Taken by every pipeline.
    Accepted,
    /// Malformed: gRPC `INVALID_ARGUMENT`, HTTP 400.
    Invalid(String),
    /// Over budget or queues full: gRPC `UNAVAILABLE`, HTTP 503.
    Refused(String),
    /// A pipeline can never take it: gRPC `INTERNAL`, HTTP 500.
    Failed(String),
}

/// Per signal and transport counters, resolved once.
struct SignalMetrics {
    accepted: Counter,
    refused: Counter,
    failed: Counter,
    requests_success: Counter,
    requests_refused: Counter,
    requests_failure: Counter,
}

impl SignalMetrics {
    fn new(registry: &Registry, id: &str, transport: &str, signal: Signal) -> SignalMetrics {
        let labels = [("receiver", id), ("transport", transport)];
        let item = signal.item_name();
        let c = |what: &str, help: &str| {
            registry.counter(&format!("otelcol_receiver_{what}_{item}"), help, &labels)
        };
        let req = |outcome: &str| {
            registry.counter(
                "otelcol_receiver_requests",
                "Requests received, by outcome (refusals decided before a body is read have no item count).",
                &[("receiver", id), ("transport", transport), ("outcome", outcome)],
            )
        };
        SignalMetrics {
            accepted: c(
                "accepted",
                "Number of items successfully pushed into the pipeline.",
            ),
            refused: c(
                "refused",
                "Number of items that could not be pushed into the pipeline.",
            ),
            failed: c(
                "failed",
                "Number of items that were not accepted because of an internal failure.",
            ),
            requests_success: req("success"),
            requests_refused: req("refused"),
            requests_failure: req("failure"),
        }
    }
}

/// What the gRPC and HTTP servers of one receiver share: the pipelines per signal, the
/// budget, and the metrics.
pub(crate) struct ReceiverCore {
    consumers: [Option<Arc<dyn Consumer>>; 3],
    pub(crate) budget: Budget,
    metrics: [SignalMetrics; 3],
}

impl ReceiverCore {
    pub(crate) fn new(
        id: &str,
        transport: &str,
        consumers: [Option<Arc<dyn Consumer>>; 3],
        budget: Budget,
        registry: &Registry,
    ) -> ReceiverCore {
        ReceiverCore {
            consumers,
            budget,
            metrics: Signal::ALL.map(|s| SignalMetrics::new(registry, id, transport, s)),
        }
    }

    /// Whether some pipeline takes `signal` from this receiver.
    pub(crate) fn serves(&self, signal: Signal) -> bool {
        self.consumers[signal.index()].is_some()
    }

    /// A refusal decided before the body was read (no item count is known).
    pub(crate) fn refused_early(&self, signal: Signal) {
        self.metrics[signal.index()].requests_refused.add(1);
    }

    /// A request whose body could not be read or decoded.
    pub(crate) fn failed_early(&self, signal: Signal) {
        self.metrics[signal.index()].requests_failure.add(1);
    }

    /// Validates `body` (accounted on the budget) and hands it to the pipelines; waits (up
    /// to [`BLOCK_WAIT`]) while an exporter with `block_on_overflow` is full.
    pub(crate) async fn receive(
        &self,
        signal: Signal,
        body: Bytes,
        json: bool,
        metadata: Option<Arc<Metadata>>,
    ) -> Outcome {
        let m = &self.metrics[signal.index()];
        let decoded = if json {
            Payload::from_json_accounted(signal, &body, &self.budget)
        } else {
            Payload::decode(signal, body)
        };
        let mut payload = match decoded {
            Ok(p) => p,
            // Decoding JSON reserves its output on the budget as it grows: a refusal there
            // is the same retryable answer as one at admission.
            Err(e) if e.kind() == crate::ErrorKind::Retryable => {
                m.requests_refused.add(1);
                return Outcome::Refused(e.message().to_owned());
            }
            Err(e) => {
                m.requests_failure.add(1);
                return Outcome::Invalid(e.message().to_owned());
            }
        };
        let items = payload.items();
        if items == 0 {
            // An empty request succeeds without reaching the pipeline, as in Go.
            m.requests_success.add(1);
            return Outcome::Accepted;
        }
        if let Some(md) = metadata {
            payload = payload.with_metadata(md);
        }
        let Some(consumer) = &self.consumers[signal.index()] else {
            m.requests_failure.add(1);
            return Outcome::Failed(format!("no pipeline takes {signal}"));
        };
        let deadline = tokio::time::Instant::now() + BLOCK_WAIT;
        let result = loop {
            match consumer.consume(payload) {
                Err(Refusal::Blocked(room, back)) if tokio::time::Instant::now() < deadline => {
                    // Bounded waits: a wake-up between the check and the wait is not missed
                    // for long.
                    let _ = tokio::time::timeout(BLOCK_POLL, room.notified()).await;
                    payload = *back;
                }
                other => break other,
            }
        };
        match result {
            Ok(()) => {
                m.accepted.add(items);
                m.requests_success.add(1);
                Outcome::Accepted
            }
            Err(Refusal::Retryable(msg)) => {
                m.refused.add(items);
                m.requests_refused.add(1);
                Outcome::Refused(msg)
            }
            Err(Refusal::Blocked(..)) => {
                m.refused.add(items);
                m.requests_refused.add(1);
                Outcome::Refused("sending queue is full".to_owned())
            }
            Err(Refusal::Permanent(msg)) => {
                m.failed.add(items);
                m.requests_failure.add(1);
                Outcome::Failed(msg)
            }
        }
    }
}

/// Encodes a `google.rpc.Status` (code = 1, message = 2).
pub(crate) fn status_proto(code: i32, message: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 8);
    if code != 0 {
        crate::otlp::wire::put_key(&mut out, 1, crate::otlp::wire::WireType::Varint);
        crate::otlp::wire::put_varint(&mut out, code as i64 as u64);
    }
    if !message.is_empty() {
        crate::otlp::wire::put_len_field(&mut out, 2, message.as_bytes());
    }
    out
}

/// A running OTLP receiver: its gRPC and HTTP servers.
pub(crate) struct OtlpReceiver {
    servers: Vec<crate::server::ServerHandle>,
}

impl OtlpReceiver {
    /// Binds and serves the configured protocols.
    pub(crate) fn start(
        id: &str,
        config: &OtlpReceiverConfig,
        consumers: [Option<Arc<dyn Consumer>>; 3],
        budget: &Budget,
        registry: &Registry,
    ) -> Result<OtlpReceiver, crate::Error> {
        let mut servers = Vec::new();
        let fail = |endpoint: &str, e: crate::Error| {
            crate::Error::new(
                e.kind(),
                format!(
                    "receiver {id}: cannot listen on {endpoint}: {}",
                    e.message()
                ),
            )
        };
        if let Some(g) = &config.protocols.grpc {
            let core = Arc::new(ReceiverCore::new(
                id,
                "grpc",
                consumers.clone(),
                budget.clone(),
                registry,
            ));
            servers.push(grpc::start(g, core).map_err(|e| fail(&g.endpoint, e))?);
        }
        if let Some(h) = &config.protocols.http {
            let core = Arc::new(ReceiverCore::new(
                id,
                "http",
                consumers,
                budget.clone(),
                registry,
            ));
            servers.push(http::start(h, core).map_err(|e| fail(&h.endpoint, e))?);
        }
        Ok(OtlpReceiver { servers })
    }

    /// The bound addresses (gRPC first).
    pub(crate) fn local_addrs(&self) -> Vec<std::net::SocketAddr> {
        self.servers
            .iter()
            .flat_map(|s| s.local_addrs.iter().copied())
            .collect()
    }

    /// Stops accepting and lets in-flight requests finish within `grace`.
    pub(crate) async fn shutdown(self, grace: std::time::Duration) {
        for s in self.servers {
            s.shutdown(grace).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes everything.
    struct Sink;

    impl Consumer for Sink {
        fn consume(&self, _: Payload) -> Result<(), Refusal> {
            Ok(())
        }
    }

    fn core(budget: &Budget) -> ReceiverCore {
        let sink: Arc<dyn Consumer> = Arc::new(Sink);
        ReceiverCore::new(
            "otlp",
            "http",
            [Some(sink.clone()), Some(sink.clone()), Some(sink)],
            budget.clone(),
            &Registry::default(),
        )
    }

    fn request(spans: usize) -> Vec<u8> {
        let span = r#"{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"span","attributes":[{"key":"k","value":{"stringValue":"v"}}]}"#;
        let spans = vec![span; spans].join(",");
        format!(r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{spans}]}}]}}]}}"#).into_bytes()
    }

    /// A JSON body admitted on the budget whose protobuf form the budget then refuses is
    /// answered as a refusal (503 / UNAVAILABLE), not as invalid data.
    #[tokio::test]
    async fn json_decoding_over_budget_is_a_refusal() {
        let body = request(1000);
        let budget = Budget::new(body.len() + body.len() / 8);
        let core = core(&budget);
        let reservation = budget.try_reserve(body.len()).unwrap();
        let body = crate::memory::accounted(body, reservation);
        match core.receive(Signal::Traces, body, true, None).await {
            Outcome::Refused(m) => assert_eq!(m, "data refused due to high memory usage"),
            other => panic!("{other:?}"),
        }
        assert_eq!(budget.used(), 0);
        let m = &core.metrics[Signal::Traces.index()];
        assert_eq!(m.requests_refused.get(), 1);
        assert_eq!(m.requests_failure.get(), 0);
        // With room, the same body goes through.
        budget.set_limit(usize::MAX);
        let body = Bytes::from(request(1000));
        assert!(matches!(
            core.receive(Signal::Traces, body, true, None).await,
            Outcome::Accepted
        ));
        assert_eq!(m.accepted.get(), 1000);
    }
}
