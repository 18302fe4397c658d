//! The `otlp` receiver.

use serde::{Deserialize, Serialize};

use crate::config::component::{ComponentConfig, ComponentType, ConfigFactory, decode};
use crate::config::net::GrpcServerConfig;
use crate::config::validate::{Problems, Validate};
use crate::pipeline::build::{Build, Context, Factory, Receiver, Targets};

/// The `otlp` receiver type.
pub(crate) static FACTORY: Factory = Factory {
    config: ConfigFactory {
        kind: crate::config::Kind::Receiver,
        name: "otlp",
        aliases: &[],
        signals: &Signal::ALL,
        decode: decode::<OtlpReceiverConfig>,
    },
    build: Build::Receiver(build),
};

impl ComponentType for OtlpReceiverConfig {
    fn listeners(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(g) = &self.protocols.grpc {
            out.push((g.endpoint.clone(), "protocols::grpc::endpoint".to_owned()));
        }
        if let Some(h) = &self.protocols.http {
            out.push((h.endpoint.clone(), "protocols::http::endpoint".to_owned()));
        }
        out
    }
}

/// One instance per id, whatever pipelines list it: one listener per protocol, feeding
/// each pipeline of the request's signal.
fn build(
    ctx: &Context<'_>,
    cfg: &dyn ComponentConfig,
    targets: Targets,
) -> Result<Option<Box<dyn Receiver>>, crate::Error> {
    let cfg = cfg.get::<OtlpReceiverConfig>()?;
    if !ctx.listeners {
        return Ok(None);
    }
    let consumers = targets
        .map(|t| (!t.is_empty()).then(|| Arc::new(ReceiverFanout::new(t, ctx.tally.clone()))));
    let rx = OtlpReceiver::start(
        ctx.id,
        cfg,
        consumers,
        ctx.budget,
        ctx.registry,
        &ctx.tally.panics,
    )?;
    Ok(Some(Box::new(rx)))
}

crate::config::net::http_server_struct! {
    /// The HTTP protocol block: an HTTP server plus the OTLP URL paths.
    pub(crate) struct OtlpHttpConfig {
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
pub(crate) struct ProtocolsConfig {
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
pub(crate) struct OtlpReceiverConfig {
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

use crate::Signal;
use crate::memory::{Budget, Reservation};
use crate::otlp::payload::DecodeError;
use crate::otlp::{Metadata, Payload};
use crate::pipeline::panics::Panics;
use crate::pipeline::{ReceiverFanout, Refusal, Stop};
use crate::telemetry::{Counter, Registry};

/// How long a request may wait at a stage that has no room (a `block_on_overflow` queue,
/// resource detection still running) when the client sets no shorter deadline.
pub(crate) const BLOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// The answer to a request the memory budget cannot take now (retryable).
pub(crate) const OVER_BUDGET: &str = "data refused due to high memory usage";

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
    consumers: [Option<Arc<ReceiverFanout>>; 3],
    pub(crate) budget: Budget,
    metrics: [SignalMetrics; 3],
    /// The receiver's id, for panics caught in its handlers.
    pub(crate) id: String,
    pub(crate) panics: Panics,
    /// Set when the receiver stops: requests waiting at a stage give up.
    stop: Stop,
}

impl ReceiverCore {
    pub(crate) fn new(
        id: &str,
        transport: &str,
        consumers: [Option<Arc<ReceiverFanout>>; 3],
        budget: Budget,
        registry: &Registry,
        panics: Panics,
        stop: Stop,
    ) -> ReceiverCore {
        ReceiverCore {
            consumers,
            budget,
            metrics: Signal::ALL.map(|s| SignalMetrics::new(registry, id, transport, s)),
            id: id.to_owned(),
            panics,
            stop,
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

    /// Validates `body` (accounted on the budget by `reservation`) and hands it to the
    /// pipelines; waits where a stage has no room, up to the client's deadline
    /// (`client_wait`) or [`BLOCK_WAIT`], whichever is first, or until the receiver stops.
    pub(crate) async fn receive(
        &self,
        signal: Signal,
        body: Vec<u8>,
        reservation: Reservation,
        json: bool,
        metadata: Option<Arc<Metadata>>,
        client_wait: Option<std::time::Duration>,
    ) -> Outcome {
        let m = &self.metrics[signal.index()];
        let decoded = if json {
            // The JSON body stays reserved while it is transcoded; the protobuf it becomes
            // is reserved on its own.
            let out = Payload::from_json_accounted(signal, &body, &self.budget);
            drop((body, reservation));
            // Decoding JSON reserves its output on the budget as it grows: a refusal there
            // is the same retryable answer as one at admission.
            out.map_err(|e| match e.kind() {
                crate::ErrorKind::Retryable => DecodeError::OverBudget,
                _ => DecodeError::Invalid(e),
            })
        } else {
            Payload::decode_received(signal, body, reservation)
        };
        let mut payload = match decoded {
            Ok(p) => p,
            Err(DecodeError::Invalid(e)) => {
                m.requests_failure.add(1);
                return Outcome::Invalid(e.message().to_owned());
            }
            Err(DecodeError::OverBudget) => {
                m.requests_refused.add(1);
                return Outcome::Refused(OVER_BUDGET.to_owned());
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
        let Some(fanout) = &self.consumers[signal.index()] else {
            m.requests_failure.add(1);
            return Outcome::Failed(format!("no pipeline takes {signal}"));
        };
        let wait = client_wait.map_or(BLOCK_WAIT, |w| w.min(BLOCK_WAIT));
        let deadline = tokio::time::Instant::now() + wait;
        let result = fanout
            .deliver(payload, deadline, Some(self.stop.clone()))
            .await;
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
            Err(Refusal::Rejected(msg)) => {
                m.failed.add(items);
                m.requests_failure.add(1);
                Outcome::Invalid(msg)
            }
            Err(Refusal::Permanent(msg) | Refusal::Dropped(msg)) => {
                m.failed.add(items);
                m.requests_failure.add(1);
                Outcome::Failed(msg)
            }
            Err(Refusal::Pending(_)) => {
                // `deliver` settles every wait; kept total for the compiler.
                m.refused.add(items);
                m.requests_refused.add(1);
                Outcome::Refused("still waiting".to_owned())
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
    /// Tells requests waiting at a stage to give up (the drain is ending).
    stop: tokio::sync::watch::Sender<bool>,
}

/// What is left of a receiver's drain for requests that gave up waiting to answer.
const ANSWER_MARGIN: std::time::Duration = std::time::Duration::from_millis(200);

impl OtlpReceiver {
    /// Binds and serves the configured protocols.
    pub(crate) fn start(
        id: &str,
        config: &OtlpReceiverConfig,
        consumers: [Option<Arc<ReceiverFanout>>; 3],
        budget: &Budget,
        registry: &Registry,
        panics: &Panics,
    ) -> Result<OtlpReceiver, crate::Error> {
        let (stop, stopping) = tokio::sync::watch::channel(false);
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
                panics.clone(),
                stopping.clone(),
            ));
            servers.push(grpc::start(g, core, registry).map_err(|e| fail(&g.endpoint, e))?);
        }
        if let Some(h) = &config.protocols.http {
            let core = Arc::new(ReceiverCore::new(
                id,
                "http",
                consumers,
                budget.clone(),
                registry,
                panics.clone(),
                stopping,
            ));
            match http::start(h, core, registry) {
                Ok(s) => servers.push(s),
                Err(e) => {
                    // Whatever already listens stops again.
                    for s in servers {
                        s.abort();
                    }
                    return Err(fail(&h.endpoint, e));
                }
            }
        }
        Ok(OtlpReceiver { servers, stop })
    }
}

impl Receiver for OtlpReceiver {
    /// The bound addresses (gRPC first).
    fn local_addrs(&self) -> Vec<std::net::SocketAddr> {
        self.servers
            .iter()
            .flat_map(|s| s.local_addrs.iter().copied())
            .collect()
    }

    fn shutdown(
        self: Box<Self>,
        grace: std::time::Duration,
    ) -> crate::pipeline::BoxFuture<'static, ()> {
        Box::pin(self.stop(grace))
    }
}

impl OtlpReceiver {
    /// Stops accepting at once and lets in-flight requests finish within `grace`, every
    /// server at the same time; requests still waiting at a stage give up shortly before
    /// the grace ends, so that they can answer.
    async fn stop(self, grace: std::time::Duration) {
        let stop = self.stop;
        let give_up = grace.saturating_sub(ANSWER_MARGIN);
        let tasks: Vec<_> = self
            .servers
            .into_iter()
            .map(|s| tokio::spawn(s.shutdown(grace)))
            .collect();
        let all = async {
            for t in tasks {
                let _ = t.await;
            }
        };
        tokio::pin!(all);
        tokio::select! {
            _ = &mut all => return,
            _ = tokio::time::sleep(give_up) => {}
        }
        let _ = stop.send(true);
        all.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes everything.
    struct Sink;

    impl crate::pipeline::Consumer for Sink {
        fn consume(&self, _: Payload) -> Result<(), Refusal> {
            Ok(())
        }
    }

    fn core(budget: &Budget) -> ReceiverCore {
        let sink: Arc<dyn crate::pipeline::Consumer> = Arc::new(Sink);
        let fanout = || {
            Some(Arc::new(ReceiverFanout::new(
                vec![("traces".to_owned(), sink.clone())],
                Arc::default(),
            )))
        };
        ReceiverCore::new(
            "otlp",
            "http",
            [fanout(), fanout(), fanout()],
            budget.clone(),
            &Registry::default(),
            Panics::default(),
            tokio::sync::watch::channel(false).1,
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
        match core
            .receive(Signal::Traces, body, reservation, true, None, None)
            .await
        {
            Outcome::Refused(m) => assert_eq!(m, "data refused due to high memory usage"),
            other => panic!("{other:?}"),
        }
        assert_eq!(budget.used(), 0);
        let m = &core.metrics[Signal::Traces.index()];
        assert_eq!(m.requests_refused.get(), 1);
        assert_eq!(m.requests_failure.get(), 0);
        // With room, the same body goes through.
        budget.set_limit(usize::MAX);
        let body = request(1000);
        let reservation = budget.try_reserve(body.len()).unwrap();
        assert!(matches!(
            core.receive(Signal::Traces, body, reservation, true, None, None)
                .await,
            Outcome::Accepted
        ));
        assert_eq!(m.accepted.get(), 1000);
    }

    #[test]
    fn protocol_blocks_are_enabled_by_presence() {
        let cfg = crate::Config::from_yaml(
            "receivers:
  otlp:
    protocols:
      http:
exporters:
  debug:
service:
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [debug]
",
        )
        .unwrap();
        let r = cfg.receivers[0].config.get::<OtlpReceiverConfig>().unwrap();
        assert!(r.protocols.grpc.is_none());
        let http = r.protocols.http.as_ref().unwrap();
        assert_eq!(http.endpoint, "localhost:4318");
        assert_eq!(http.traces_url_path, "/v1/traces");
    }
}
