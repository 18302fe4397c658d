//! The reference side: prost decoding of the `opentelemetry-proto` types, and what the
//! wire layer must agree with (acceptance, item counts, flattened items).

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{Metric, metric};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;

use super::super::schema::{self, Msg};
use super::super::view::{AnyValueView, KeyValueView};
use super::checks;
use crate::Signal;

/// An export request type with what the differential tests need to know about it.
pub(crate) trait Request: Message + Default + Clone {
    const SIGNAL: Signal;
    fn entry_schema() -> &'static Msg;
    /// Items as the Go collector counts them.
    fn items(&self) -> u64;
    /// Every trace id 16 bytes and span id 8 bytes, or empty.
    fn ids_ok(&self) -> bool;
    fn resources_mut(&mut self) -> Vec<&mut Option<Resource>>;
    /// One canonical encoding per item, prefixed by its resource and scope (and for
    /// metrics the metric's own fields): equal for a request and its split+concat.
    fn flatten(&self) -> Vec<Vec<u8>>;
}

fn framed(parts: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        out.extend_from_slice(&(p.len() as u64).to_le_bytes());
        out.extend_from_slice(p);
    }
    out
}

fn enc<M: Message>(m: &Option<M>) -> Vec<u8> {
    m.as_ref().map(|m| m.encode_to_vec()).unwrap_or_default()
}

impl Request for ExportTraceServiceRequest {
    const SIGNAL: Signal = Signal::Traces;
    fn entry_schema() -> &'static Msg {
        &schema::RESOURCE_SPANS
    }
    fn items(&self) -> u64 {
        checks::trace_items(self)
    }
    fn ids_ok(&self) -> bool {
        checks::trace_ids_ok(self)
    }
    fn resources_mut(&mut self) -> Vec<&mut Option<Resource>> {
        self.resource_spans
            .iter_mut()
            .map(|r| &mut r.resource)
            .collect()
    }
    fn flatten(&self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for r in &self.resource_spans {
            for s in &r.scope_spans {
                for span in &s.spans {
                    out.push(framed(&[
                        enc(&r.resource),
                        r.schema_url.clone().into_bytes(),
                        enc(&s.scope),
                        s.schema_url.clone().into_bytes(),
                        span.encode_to_vec(),
                    ]));
                }
            }
        }
        out
    }
}

impl Request for ExportLogsServiceRequest {
    const SIGNAL: Signal = Signal::Logs;
    fn entry_schema() -> &'static Msg {
        &schema::RESOURCE_LOGS
    }
    fn items(&self) -> u64 {
        checks::log_items(self)
    }
    fn ids_ok(&self) -> bool {
        checks::log_ids_ok(self)
    }
    fn resources_mut(&mut self) -> Vec<&mut Option<Resource>> {
        self.resource_logs
            .iter_mut()
            .map(|r| &mut r.resource)
            .collect()
    }
    fn flatten(&self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for r in &self.resource_logs {
            for s in &r.scope_logs {
                for l in &s.log_records {
                    out.push(framed(&[
                        enc(&r.resource),
                        r.schema_url.clone().into_bytes(),
                        enc(&s.scope),
                        s.schema_url.clone().into_bytes(),
                        l.encode_to_vec(),
                    ]));
                }
            }
        }
        out
    }
}

/// Each point of a metric as (its metric with only that point).
fn metric_point_items(m: &Metric) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let n = checks::metric_points(m) as usize;
    for i in 0..n {
        let mut one = m.clone();
        match &mut one.data {
            Some(metric::Data::Gauge(g)) => g.data_points = vec![g.data_points[i].clone()],
            Some(metric::Data::Sum(s)) => s.data_points = vec![s.data_points[i].clone()],
            Some(metric::Data::Histogram(h)) => h.data_points = vec![h.data_points[i].clone()],
            Some(metric::Data::ExponentialHistogram(e)) => {
                e.data_points = vec![e.data_points[i].clone()]
            }
            Some(metric::Data::Summary(s)) => s.data_points = vec![s.data_points[i].clone()],
            None => {}
        }
        out.push(one.encode_to_vec());
    }
    out
}

impl Request for ExportMetricsServiceRequest {
    const SIGNAL: Signal = Signal::Metrics;
    fn entry_schema() -> &'static Msg {
        &schema::RESOURCE_METRICS
    }
    fn items(&self) -> u64 {
        checks::metric_items(self)
    }
    fn ids_ok(&self) -> bool {
        checks::metric_ids_ok(self)
    }
    fn resources_mut(&mut self) -> Vec<&mut Option<Resource>> {
        self.resource_metrics
            .iter_mut()
            .map(|r| &mut r.resource)
            .collect()
    }
    fn flatten(&self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for r in &self.resource_metrics {
            for s in &r.scope_metrics {
                for m in &s.metrics {
                    for p in metric_point_items(m) {
                        out.push(framed(&[
                            enc(&r.resource),
                            r.schema_url.clone().into_bytes(),
                            enc(&s.scope),
                            s.schema_url.clone().into_bytes(),
                            p,
                        ]));
                    }
                }
            }
        }
        out
    }
}

/// The acceptance oracle: prost decodes it and the ids have valid lengths.
pub(crate) fn oracle<R: Request>(bytes: &[u8]) -> Option<R> {
    R::decode(bytes).ok().filter(|r| r.ids_ok())
}

/// A view converted to the prost type, for comparison.
pub(crate) fn kv_to_prost(kv: &KeyValueView<'_>) -> KeyValue {
    KeyValue {
        key: kv.key().to_owned(),
        value: kv.has_value().then(|| any_to_prost(&kv.value())),
        key_strindex: 0,
    }
}

pub(crate) fn any_to_prost(v: &AnyValueView<'_>) -> AnyValue {
    use any_value::Value as V;
    let value = match v {
        AnyValueView::Empty => None,
        AnyValueView::Str(s) => Some(V::StringValue((*s).to_owned())),
        AnyValueView::Bool(b) => Some(V::BoolValue(*b)),
        AnyValueView::Int(i) => Some(V::IntValue(*i)),
        AnyValueView::Double(d) => Some(V::DoubleValue(*d)),
        AnyValueView::Bytes(b) => Some(V::BytesValue(b.to_vec())),
        AnyValueView::Array(a) => Some(V::ArrayValue(
            opentelemetry_proto::tonic::common::v1::ArrayValue {
                values: a.iter().map(|v| any_to_prost(&v)).collect(),
            },
        )),
        AnyValueView::KvList(l) => Some(V::KvlistValue(
            opentelemetry_proto::tonic::common::v1::KeyValueList {
                values: l.iter().map(|kv| kv_to_prost(&kv)).collect(),
            },
        )),
    };
    AnyValue { value }
}
