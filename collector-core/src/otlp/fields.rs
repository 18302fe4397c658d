//! The protobuf field numbers of the OTLP messages this layer reads and writes, named once.
//!
//! Numbers follow the `opentelemetry-proto` crate in Cargo.lock; the tests below encode its
//! prost types with one field set and read the tag back, for every constant here.
//!
//! # Naming
//!
//! One module per proto message, named as prost names the module of a message's nested
//! types (the message name in snake_case, a nested message inside its parent's module:
//! `Span.Event` is `span::event`), holding one constant per field, the proto field name in
//! upper case: `span::TRACE_ID`, `span::event::ATTRIBUTES`. Why modules rather than flat
//! names (`SPAN_TRACE_ID`):
//!
//! - field names repeat across messages with different numbers (`attributes` is 1, 3, 4, 6,
//!   7 or 9), so the message has to be in the name; a module keeps it there without making
//!   every match arm long, and a file imports the messages it reads;
//! - the validator has one function per message (`fn span`), and its arms then read as the
//!   `.proto` does: `span::TRACE_ID => ...` inside `fn span`;
//! - the paths are prost's (`span::Event` ↔ `span::event`), so a constant and the prost
//!   field the tests check it against are easy to pair.
//!
//! # Shapes
//!
//! Some code reads several messages alike because they give a field the same number (the
//! module doc of `otlp` states the facts: the three requests and the three `ResourceX`
//! messages, and so on down). That code names the shape, not one of its members:
//! [`export_request`], [`resource_x`], [`scope_x`], [`points_wrapper`] and [`data_point`].
//! A shape's constants are defined from one member, and an assertion evaluated at compile
//! time checks that every other member agrees, so a proto change that broke a shape would
//! fail the build rather than misread data.
//!
//! The constants are `u32`, the type of field numbers in `wire.rs`: as patterns and
//! arguments they compile to the same code as the literals they replace.

// ---- common.proto -------------------------------------------------------------------------

/// `AnyValue` (its `value` oneof).
pub(crate) mod any_value {
    pub(crate) const STRING_VALUE: u32 = 1;
    pub(crate) const BOOL_VALUE: u32 = 2;
    pub(crate) const INT_VALUE: u32 = 3;
    pub(crate) const DOUBLE_VALUE: u32 = 4;
    pub(crate) const ARRAY_VALUE: u32 = 5;
    pub(crate) const KVLIST_VALUE: u32 = 6;
    pub(crate) const BYTES_VALUE: u32 = 7;
    pub(crate) const STRING_VALUE_STRINDEX: u32 = 8;
}

/// `ArrayValue`.
pub(crate) mod array_value {
    pub(crate) const VALUES: u32 = 1;
}

/// `KeyValueList`.
pub(crate) mod key_value_list {
    pub(crate) const VALUES: u32 = 1;
}

/// `KeyValue`.
pub(crate) mod key_value {
    pub(crate) const KEY: u32 = 1;
    pub(crate) const VALUE: u32 = 2;
    pub(crate) const KEY_STRINDEX: u32 = 3;
}

/// `InstrumentationScope`.
pub(crate) mod instrumentation_scope {
    pub(crate) const NAME: u32 = 1;
    pub(crate) const VERSION: u32 = 2;
    pub(crate) const ATTRIBUTES: u32 = 3;
    pub(crate) const DROPPED_ATTRIBUTES_COUNT: u32 = 4;
}

/// `EntityRef`.
pub(crate) mod entity_ref {
    pub(crate) const SCHEMA_URL: u32 = 1;
    pub(crate) const TYPE: u32 = 2;
    pub(crate) const ID_KEYS: u32 = 3;
    pub(crate) const DESCRIPTION_KEYS: u32 = 4;
}

// ---- resource.proto -----------------------------------------------------------------------

/// `Resource`.
pub(crate) mod resource {
    pub(crate) const ATTRIBUTES: u32 = 1;
    pub(crate) const DROPPED_ATTRIBUTES_COUNT: u32 = 2;
    pub(crate) const ENTITY_REFS: u32 = 3;
}

// ---- trace.proto and trace_service.proto ----------------------------------------------------

/// `ExportTraceServiceRequest`.
pub(crate) mod export_trace_service_request {
    pub(crate) const RESOURCE_SPANS: u32 = 1;
}

/// `ResourceSpans`.
pub(crate) mod resource_spans {
    pub(crate) const RESOURCE: u32 = 1;
    pub(crate) const SCOPE_SPANS: u32 = 2;
    pub(crate) const SCHEMA_URL: u32 = 3;
}

/// `ScopeSpans`.
pub(crate) mod scope_spans {
    pub(crate) const SCOPE: u32 = 1;
    pub(crate) const SPANS: u32 = 2;
    pub(crate) const SCHEMA_URL: u32 = 3;
}

/// `Span`, and its nested `Event` and `Link`.
pub(crate) mod span {
    pub(crate) const TRACE_ID: u32 = 1;
    pub(crate) const SPAN_ID: u32 = 2;
    pub(crate) const TRACE_STATE: u32 = 3;
    pub(crate) const PARENT_SPAN_ID: u32 = 4;
    pub(crate) const NAME: u32 = 5;
    pub(crate) const KIND: u32 = 6;
    pub(crate) const START_TIME_UNIX_NANO: u32 = 7;
    pub(crate) const END_TIME_UNIX_NANO: u32 = 8;
    pub(crate) const ATTRIBUTES: u32 = 9;
    pub(crate) const DROPPED_ATTRIBUTES_COUNT: u32 = 10;
    pub(crate) const EVENTS: u32 = 11;
    pub(crate) const DROPPED_EVENTS_COUNT: u32 = 12;
    pub(crate) const LINKS: u32 = 13;
    pub(crate) const DROPPED_LINKS_COUNT: u32 = 14;
    pub(crate) const STATUS: u32 = 15;
    pub(crate) const FLAGS: u32 = 16;

    /// `Span.Event`.
    pub(crate) mod event {
        pub(crate) const TIME_UNIX_NANO: u32 = 1;
        pub(crate) const NAME: u32 = 2;
        pub(crate) const ATTRIBUTES: u32 = 3;
        pub(crate) const DROPPED_ATTRIBUTES_COUNT: u32 = 4;
    }

    /// `Span.Link`.
    pub(crate) mod link {
        pub(crate) const TRACE_ID: u32 = 1;
        pub(crate) const SPAN_ID: u32 = 2;
        pub(crate) const TRACE_STATE: u32 = 3;
        pub(crate) const ATTRIBUTES: u32 = 4;
        pub(crate) const DROPPED_ATTRIBUTES_COUNT: u32 = 5;
        pub(crate) const FLAGS: u32 = 6;
    }
}

/// `Status` (field 1 is reserved).
pub(crate) mod status {
    pub(crate) const MESSAGE: u32 = 2;
    pub(crate) const CODE: u32 = 3;
}

// ---- logs.proto and logs_service.proto ------------------------------------------------------

/// `ExportLogsServiceRequest`.
pub(crate) mod export_logs_service_request {
    pub(crate) const RESOURCE_LOGS: u32 = 1;
}

/// `ResourceLogs`.
pub(crate) mod resource_logs {
    pub(crate) const RESOURCE: u32 = 1;
    pub(crate) const SCOPE_LOGS: u32 = 2;
    pub(crate) const SCHEMA_URL: u32 = 3;
}

/// `ScopeLogs`.
pub(crate) mod scope_logs {
    pub(crate) const SCOPE: u32 = 1;
    pub(crate) const LOG_RECORDS: u32 = 2;
    pub(crate) const SCHEMA_URL: u32 = 3;
}

/// `LogRecord` (field 4 is reserved).
pub(crate) mod log_record {
    pub(crate) const TIME_UNIX_NANO: u32 = 1;
    pub(crate) const SEVERITY_NUMBER: u32 = 2;
    pub(crate) const SEVERITY_TEXT: u32 = 3;
    pub(crate) const BODY: u32 = 5;
    pub(crate) const ATTRIBUTES: u32 = 6;
    pub(crate) const DROPPED_ATTRIBUTES_COUNT: u32 = 7;
    pub(crate) const FLAGS: u32 = 8;
    pub(crate) const TRACE_ID: u32 = 9;
    pub(crate) const SPAN_ID: u32 = 10;
    pub(crate) const OBSERVED_TIME_UNIX_NANO: u32 = 11;
    pub(crate) const EVENT_NAME: u32 = 12;
}

// ---- metrics.proto and metrics_service.proto ------------------------------------------------

/// `ExportMetricsServiceRequest`.
pub(crate) mod export_metrics_service_request {
    pub(crate) const RESOURCE_METRICS: u32 = 1;
}

/// `ResourceMetrics`.
pub(crate) mod resource_metrics {
    pub(crate) const RESOURCE: u32 = 1;
    pub(crate) const SCOPE_METRICS: u32 = 2;
    pub(crate) const SCHEMA_URL: u32 = 3;
}

/// `ScopeMetrics`.
pub(crate) mod scope_metrics {
    pub(crate) const SCOPE: u32 = 1;
    pub(crate) const METRICS: u32 = 2;
    pub(crate) const SCHEMA_URL: u32 = 3;
}

/// `Metric`; `GAUGE` to `SUMMARY` are the members of its `data` oneof.
pub(crate) mod metric {
    pub(crate) const NAME: u32 = 1;
    pub(crate) const DESCRIPTION: u32 = 2;
    pub(crate) const UNIT: u32 = 3;
    pub(crate) const GAUGE: u32 = 5;
    pub(crate) const SUM: u32 = 7;
    pub(crate) const HISTOGRAM: u32 = 9;
    pub(crate) const EXPONENTIAL_HISTOGRAM: u32 = 10;
    pub(crate) const SUMMARY: u32 = 11;
    pub(crate) const METADATA: u32 = 12;
}

/// `Gauge`.
pub(crate) mod gauge {
    pub(crate) const DATA_POINTS: u32 = 1;
}

/// `Sum`.
pub(crate) mod sum {
    pub(crate) const DATA_POINTS: u32 = 1;
    pub(crate) const AGGREGATION_TEMPORALITY: u32 = 2;
    pub(crate) const IS_MONOTONIC: u32 = 3;
}

/// `Histogram`.
pub(crate) mod histogram {
    pub(crate) const DATA_POINTS: u32 = 1;
    pub(crate) const AGGREGATION_TEMPORALITY: u32 = 2;
}

/// `ExponentialHistogram`.
pub(crate) mod exponential_histogram {
    pub(crate) const DATA_POINTS: u32 = 1;
    pub(crate) const AGGREGATION_TEMPORALITY: u32 = 2;
}

/// `Summary`.
pub(crate) mod summary {
    pub(crate) const DATA_POINTS: u32 = 1;
}

/// `NumberDataPoint`; `AS_DOUBLE` and `AS_INT` are its `value` oneof.
pub(crate) mod number_data_point {
    pub(crate) const START_TIME_UNIX_NANO: u32 = 2;
    pub(crate) const TIME_UNIX_NANO: u32 = 3;
    pub(crate) const AS_DOUBLE: u32 = 4;
    pub(crate) const EXEMPLARS: u32 = 5;
    pub(crate) const AS_INT: u32 = 6;
    pub(crate) const ATTRIBUTES: u32 = 7;
    pub(crate) const FLAGS: u32 = 8;
}

/// `HistogramDataPoint`.
pub(crate) mod histogram_data_point {
    pub(crate) const START_TIME_UNIX_NANO: u32 = 2;
    pub(crate) const TIME_UNIX_NANO: u32 = 3;
    pub(crate) const COUNT: u32 = 4;
    pub(crate) const SUM: u32 = 5;
    pub(crate) const BUCKET_COUNTS: u32 = 6;
    pub(crate) const EXPLICIT_BOUNDS: u32 = 7;
    pub(crate) const EXEMPLARS: u32 = 8;
    pub(crate) const ATTRIBUTES: u32 = 9;
    pub(crate) const FLAGS: u32 = 10;
    pub(crate) const MIN: u32 = 11;
    pub(crate) const MAX: u32 = 12;
}

/// `ExponentialHistogramDataPoint`, and its nested `Buckets`.
pub(crate) mod exponential_histogram_data_point {
    pub(crate) const ATTRIBUTES: u32 = 1;
    pub(crate) const START_TIME_UNIX_NANO: u32 = 2;
    pub(crate) const TIME_UNIX_NANO: u32 = 3;
    pub(crate) const COUNT: u32 = 4;
    pub(crate) const SUM: u32 = 5;
    pub(crate) const SCALE: u32 = 6;
    pub(crate) const ZERO_COUNT: u32 = 7;
    pub(crate) const POSITIVE: u32 = 8;
    pub(crate) const NEGATIVE: u32 = 9;
    pub(crate) const FLAGS: u32 = 10;
    pub(crate) const EXEMPLARS: u32 = 11;
    pub(crate) const MIN: u32 = 12;
    pub(crate) const MAX: u32 = 13;
    pub(crate) const ZERO_THRESHOLD: u32 = 14;

    /// `ExponentialHistogramDataPoint.Buckets`.
    pub(crate) mod buckets {
        pub(crate) const OFFSET: u32 = 1;
        pub(crate) const BUCKET_COUNTS: u32 = 2;
    }
}

/// `SummaryDataPoint`, and its nested `ValueAtQuantile`.
pub(crate) mod summary_data_point {
    pub(crate) const START_TIME_UNIX_NANO: u32 = 2;
    pub(crate) const TIME_UNIX_NANO: u32 = 3;
    pub(crate) const COUNT: u32 = 4;
    pub(crate) const SUM: u32 = 5;
    pub(crate) const QUANTILE_VALUES: u32 = 6;
    pub(crate) const ATTRIBUTES: u32 = 7;
    pub(crate) const FLAGS: u32 = 8;

    /// `SummaryDataPoint.ValueAtQuantile`.
    pub(crate) mod value_at_quantile {
        pub(crate) const QUANTILE: u32 = 1;
        pub(crate) const VALUE: u32 = 2;
    }
}

/// `Exemplar`; `AS_DOUBLE` and `AS_INT` are its `value` oneof.
pub(crate) mod exemplar {
    pub(crate) const TIME_UNIX_NANO: u32 = 2;
    pub(crate) const AS_DOUBLE: u32 = 3;
    pub(crate) const SPAN_ID: u32 = 4;
    pub(crate) const TRACE_ID: u32 = 5;
    pub(crate) const AS_INT: u32 = 6;
    pub(crate) const FILTERED_ATTRIBUTES: u32 = 7;
}

// ---- shapes -------------------------------------------------------------------------------

/// `Export{Trace,Logs,Metrics}ServiceRequest`: the one field, `repeated ResourceX`.
pub(crate) mod export_request {
    use super::*;

    pub(crate) const RESOURCE_X: u32 = export_trace_service_request::RESOURCE_SPANS;

    const _: () = assert!(
        RESOURCE_X == export_logs_service_request::RESOURCE_LOGS
            && RESOURCE_X == export_metrics_service_request::RESOURCE_METRICS
    );
}

/// `ResourceSpans`, `ResourceLogs`, `ResourceMetrics`.
pub(crate) mod resource_x {
    use super::*;

    pub(crate) const RESOURCE: u32 = resource_spans::RESOURCE;
    /// `scope_spans`, `scope_logs` or `scope_metrics`.
    pub(crate) const SCOPE_X: u32 = resource_spans::SCOPE_SPANS;
    pub(crate) const SCHEMA_URL: u32 = resource_spans::SCHEMA_URL;

    const _: () = assert!(
        RESOURCE == resource_logs::RESOURCE
            && RESOURCE == resource_metrics::RESOURCE
            && SCOPE_X == resource_logs::SCOPE_LOGS
            && SCOPE_X == resource_metrics::SCOPE_METRICS
            && SCHEMA_URL == resource_logs::SCHEMA_URL
            && SCHEMA_URL == resource_metrics::SCHEMA_URL
    );
}

/// `ScopeSpans`, `ScopeLogs`, `ScopeMetrics`.
pub(crate) mod scope_x {
    use super::*;

    pub(crate) const SCOPE: u32 = scope_spans::SCOPE;
    /// `spans`, `log_records` or `metrics`: what the rest of this layer calls the scope's
    /// items (for metrics, the data points inside them are what is counted).
    pub(crate) const ITEMS: u32 = scope_spans::SPANS;
    pub(crate) const SCHEMA_URL: u32 = scope_spans::SCHEMA_URL;

    const _: () = assert!(
        SCOPE == scope_logs::SCOPE
            && SCOPE == scope_metrics::SCOPE
            && ITEMS == scope_logs::LOG_RECORDS
            && ITEMS == scope_metrics::METRICS
            && SCHEMA_URL == scope_logs::SCHEMA_URL
            && SCHEMA_URL == scope_metrics::SCHEMA_URL
    );
}

/// `Gauge`, `Sum`, `Histogram`, `ExponentialHistogram`, `Summary`: the message a member of
/// `Metric.data` holds, wrapping the data points.
pub(crate) mod points_wrapper {
    use super::*;

    /// In all five.
    pub(crate) const DATA_POINTS: u32 = gauge::DATA_POINTS;
    /// In `Sum`, `Histogram` and `ExponentialHistogram`.
    pub(crate) const AGGREGATION_TEMPORALITY: u32 = sum::AGGREGATION_TEMPORALITY;

    const _: () = assert!(
        DATA_POINTS == sum::DATA_POINTS
            && DATA_POINTS == histogram::DATA_POINTS
            && DATA_POINTS == exponential_histogram::DATA_POINTS
            && DATA_POINTS == summary::DATA_POINTS
            && AGGREGATION_TEMPORALITY == histogram::AGGREGATION_TEMPORALITY
            && AGGREGATION_TEMPORALITY == exponential_histogram::AGGREGATION_TEMPORALITY
    );
}

/// `NumberDataPoint`, `HistogramDataPoint`, `ExponentialHistogramDataPoint`,
/// `SummaryDataPoint`: the fields a data point is read by whatever its kind. Attributes are
/// not among them (7, 9, 1 and 7).
pub(crate) mod data_point {
    use super::*;

    /// In all four.
    pub(crate) const START_TIME_UNIX_NANO: u32 = number_data_point::START_TIME_UNIX_NANO;
    /// In all four.
    pub(crate) const TIME_UNIX_NANO: u32 = number_data_point::TIME_UNIX_NANO;
    /// In all but `NumberDataPoint` (whose field 4 is `as_double`).
    pub(crate) const COUNT: u32 = histogram_data_point::COUNT;
    /// In all but `NumberDataPoint` (whose field 5 is `exemplars`).
    pub(crate) const SUM: u32 = histogram_data_point::SUM;

    const _: () = assert!(
        START_TIME_UNIX_NANO == histogram_data_point::START_TIME_UNIX_NANO
            && START_TIME_UNIX_NANO == exponential_histogram_data_point::START_TIME_UNIX_NANO
            && START_TIME_UNIX_NANO == summary_data_point::START_TIME_UNIX_NANO
            && TIME_UNIX_NANO == histogram_data_point::TIME_UNIX_NANO
            && TIME_UNIX_NANO == exponential_histogram_data_point::TIME_UNIX_NANO
            && TIME_UNIX_NANO == summary_data_point::TIME_UNIX_NANO
            && COUNT == exponential_histogram_data_point::COUNT
            && COUNT == summary_data_point::COUNT
            && SUM == exponential_histogram_data_point::SUM
            && SUM == summary_data_point::SUM
    );
}

#[cfg(test)]
// The checks set one field of messages of any size; for a message of one field (`Gauge`,
// `AnyValue`'s oneof) the `..Default::default()` they add updates nothing.
#[allow(clippy::needless_update)]
mod tests {
    //! Every constant above against the prost types of `opentelemetry-proto`: a message
    //! with only that field set encodes to that field alone, and its key carries the
    //! number prost was generated with.

    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1 as c;
    use opentelemetry_proto::tonic::logs::v1 as l;
    use opentelemetry_proto::tonic::metrics::v1 as m;
    use opentelemetry_proto::tonic::resource::v1 as r;
    use opentelemetry_proto::tonic::trace::v1 as t;
    use prost::Message;

    use super::*;

    /// The field number of the only field `msg` encodes.
    #[track_caller]
    fn tag(msg: impl Message) -> u32 {
        let bytes = msg.encode_to_vec();
        let mut buf = &bytes[..];
        let (field, wire_type) = prost::encoding::decode_key(&mut buf).unwrap();
        prost::encoding::skip_field(
            wire_type,
            field,
            &mut buf,
            prost::encoding::DecodeContext::default(),
        )
        .unwrap();
        assert!(buf.is_empty(), "more than one field encoded: {bytes:02x?}");
        field
    }

    /// `$msg` with only `$field` set to `$value` encodes with tag `$expected`.
    macro_rules! check {
        ($msg:ty { $field:ident: $value:expr } => $expected:expr) => {{
            // A macro's type cannot start a struct literal; an alias can.
            type M = $msg;
            assert_eq!(
                tag(M {
                    $field: $value,
                    ..Default::default()
                }),
                $expected,
                "{}.{}",
                stringify!($msg),
                stringify!($field)
            );
        }};
    }

    /// A one-of member: `$msg` with `$field` set to `$value` encodes with tag `$expected`.
    macro_rules! check_oneof {
        ($msg:ty { $field:ident: $value:expr } => $expected:expr) => {{
            // A macro's type cannot start a struct literal; an alias can.
            type M = $msg;
            assert_eq!(
                tag(M {
                    $field: Some($value),
                    ..Default::default()
                }),
                $expected,
                "{}.{}",
                stringify!($msg),
                stringify!($value)
            );
        }};
    }

    fn kv() -> Vec<c::KeyValue> {
        vec![c::KeyValue::default()]
    }

    #[test]
    fn common_and_resource() {
        use c::any_value::Value as V;
        check_oneof!(c::AnyValue { value: V::StringValue("a".into()) } => any_value::STRING_VALUE);
        check_oneof!(c::AnyValue { value: V::BoolValue(true) } => any_value::BOOL_VALUE);
        check_oneof!(c::AnyValue { value: V::IntValue(1) } => any_value::INT_VALUE);
        check_oneof!(c::AnyValue { value: V::DoubleValue(1.0) } => any_value::DOUBLE_VALUE);
        check_oneof!(c::AnyValue { value: V::ArrayValue(Default::default()) } => any_value::ARRAY_VALUE);
        check_oneof!(c::AnyValue { value: V::KvlistValue(Default::default()) } => any_value::KVLIST_VALUE);
        check_oneof!(c::AnyValue { value: V::BytesValue(vec![1]) } => any_value::BYTES_VALUE);
        check_oneof!(c::AnyValue { value: V::StringValueStrindex(1) } => any_value::STRING_VALUE_STRINDEX);
        check!(c::ArrayValue { values: vec![c::AnyValue::default()] } => array_value::VALUES);
        check!(c::KeyValueList { values: kv() } => key_value_list::VALUES);
        check!(c::KeyValue { key: "k".into() } => key_value::KEY);
        check!(c::KeyValue { value: Some(c::AnyValue::default()) } => key_value::VALUE);
        check!(c::KeyValue { key_strindex: 1 } => key_value::KEY_STRINDEX);
        check!(c::InstrumentationScope { name: "n".into() } => instrumentation_scope::NAME);
        check!(c::InstrumentationScope { version: "v".into() } => instrumentation_scope::VERSION);
        check!(c::InstrumentationScope { attributes: kv() } => instrumentation_scope::ATTRIBUTES);
        check!(c::InstrumentationScope { dropped_attributes_count: 1 } => instrumentation_scope::DROPPED_ATTRIBUTES_COUNT);
        check!(c::EntityRef { schema_url: "u".into() } => entity_ref::SCHEMA_URL);
        check!(c::EntityRef { r#type: "t".into() } => entity_ref::TYPE);
        check!(c::EntityRef { id_keys: vec!["k".into()] } => entity_ref::ID_KEYS);
        check!(c::EntityRef { description_keys: vec!["k".into()] } => entity_ref::DESCRIPTION_KEYS);
        check!(r::Resource { attributes: kv() } => resource::ATTRIBUTES);
        check!(r::Resource { dropped_attributes_count: 1 } => resource::DROPPED_ATTRIBUTES_COUNT);
        check!(r::Resource { entity_refs: vec![c::EntityRef::default()] } => resource::ENTITY_REFS);
    }

    #[test]
    fn traces() {
        check!(ExportTraceServiceRequest { resource_spans: vec![Default::default()] } => export_trace_service_request::RESOURCE_SPANS);
        check!(t::ResourceSpans { resource: Some(Default::default()) } => resource_spans::RESOURCE);
        check!(t::ResourceSpans { scope_spans: vec![Default::default()] } => resource_spans::SCOPE_SPANS);
        check!(t::ResourceSpans { schema_url: "u".into() } => resource_spans::SCHEMA_URL);
        check!(t::ScopeSpans { scope: Some(Default::default()) } => scope_spans::SCOPE);
        check!(t::ScopeSpans { spans: vec![Default::default()] } => scope_spans::SPANS);
        check!(t::ScopeSpans { schema_url: "u".into() } => scope_spans::SCHEMA_URL);
        check!(t::Span { trace_id: vec![1; 16] } => span::TRACE_ID);
        check!(t::Span { span_id: vec![1; 8] } => span::SPAN_ID);
        check!(t::Span { trace_state: "s".into() } => span::TRACE_STATE);
        check!(t::Span { parent_span_id: vec![1; 8] } => span::PARENT_SPAN_ID);
        check!(t::Span { name: "n".into() } => span::NAME);
        check!(t::Span { kind: 1 } => span::KIND);
        check!(t::Span { start_time_unix_nano: 1 } => span::START_TIME_UNIX_NANO);
        check!(t::Span { end_time_unix_nano: 1 } => span::END_TIME_UNIX_NANO);
        check!(t::Span { attributes: kv() } => span::ATTRIBUTES);
        check!(t::Span { dropped_attributes_count: 1 } => span::DROPPED_ATTRIBUTES_COUNT);
        check!(t::Span { events: vec![Default::default()] } => span::EVENTS);
        check!(t::Span { dropped_events_count: 1 } => span::DROPPED_EVENTS_COUNT);
        check!(t::Span { links: vec![Default::default()] } => span::LINKS);
        check!(t::Span { dropped_links_count: 1 } => span::DROPPED_LINKS_COUNT);
        check!(t::Span { status: Some(Default::default()) } => span::STATUS);
        check!(t::Span { flags: 1 } => span::FLAGS);
        check!(t::span::Event { time_unix_nano: 1 } => span::event::TIME_UNIX_NANO);
        check!(t::span::Event { name: "n".into() } => span::event::NAME);
        check!(t::span::Event { attributes: kv() } => span::event::ATTRIBUTES);
        check!(t::span::Event { dropped_attributes_count: 1 } => span::event::DROPPED_ATTRIBUTES_COUNT);
        check!(t::span::Link { trace_id: vec![1; 16] } => span::link::TRACE_ID);
        check!(t::span::Link { span_id: vec![1; 8] } => span::link::SPAN_ID);
        check!(t::span::Link { trace_state: "s".into() } => span::link::TRACE_STATE);
        check!(t::span::Link { attributes: kv() } => span::link::ATTRIBUTES);
        check!(t::span::Link { dropped_attributes_count: 1 } => span::link::DROPPED_ATTRIBUTES_COUNT);
        check!(t::span::Link { flags: 1 } => span::link::FLAGS);
        check!(t::Status { message: "m".into() } => status::MESSAGE);
        check!(t::Status { code: 1 } => status::CODE);
    }

    #[test]
    fn logs() {
        check!(ExportLogsServiceRequest { resource_logs: vec![Default::default()] } => export_logs_service_request::RESOURCE_LOGS);
        check!(l::ResourceLogs { resource: Some(Default::default()) } => resource_logs::RESOURCE);
        check!(l::ResourceLogs { scope_logs: vec![Default::default()] } => resource_logs::SCOPE_LOGS);
        check!(l::ResourceLogs { schema_url: "u".into() } => resource_logs::SCHEMA_URL);
        check!(l::ScopeLogs { scope: Some(Default::default()) } => scope_logs::SCOPE);
        check!(l::ScopeLogs { log_records: vec![Default::default()] } => scope_logs::LOG_RECORDS);
        check!(l::ScopeLogs { schema_url: "u".into() } => scope_logs::SCHEMA_URL);
        check!(l::LogRecord { time_unix_nano: 1 } => log_record::TIME_UNIX_NANO);
        check!(l::LogRecord { severity_number: 1 } => log_record::SEVERITY_NUMBER);
        check!(l::LogRecord { severity_text: "s".into() } => log_record::SEVERITY_TEXT);
        check!(l::LogRecord { body: Some(Default::default()) } => log_record::BODY);
        check!(l::LogRecord { attributes: kv() } => log_record::ATTRIBUTES);
        check!(l::LogRecord { dropped_attributes_count: 1 } => log_record::DROPPED_ATTRIBUTES_COUNT);
        check!(l::LogRecord { flags: 1 } => log_record::FLAGS);
        check!(l::LogRecord { trace_id: vec![1; 16] } => log_record::TRACE_ID);
        check!(l::LogRecord { span_id: vec![1; 8] } => log_record::SPAN_ID);
        check!(l::LogRecord { observed_time_unix_nano: 1 } => log_record::OBSERVED_TIME_UNIX_NANO);
        check!(l::LogRecord { event_name: "e".into() } => log_record::EVENT_NAME);
    }

    #[test]
    fn metrics() {
        use m::exemplar::Value as E;
        use m::metric::Data as D;
        use m::number_data_point::Value as N;
        check!(ExportMetricsServiceRequest { resource_metrics: vec![Default::default()] } => export_metrics_service_request::RESOURCE_METRICS);
        check!(m::ResourceMetrics { resource: Some(Default::default()) } => resource_metrics::RESOURCE);
        check!(m::ResourceMetrics { scope_metrics: vec![Default::default()] } => resource_metrics::SCOPE_METRICS);
        check!(m::ResourceMetrics { schema_url: "u".into() } => resource_metrics::SCHEMA_URL);
        check!(m::ScopeMetrics { scope: Some(Default::default()) } => scope_metrics::SCOPE);
        check!(m::ScopeMetrics { metrics: vec![Default::default()] } => scope_metrics::METRICS);
        check!(m::ScopeMetrics { schema_url: "u".into() } => scope_metrics::SCHEMA_URL);
        check!(m::Metric { name: "n".into() } => metric::NAME);
        check!(m::Metric { description: "d".into() } => metric::DESCRIPTION);
        check!(m::Metric { unit: "u".into() } => metric::UNIT);
        check_oneof!(m::Metric { data: D::Gauge(Default::default()) } => metric::GAUGE);
        check_oneof!(m::Metric { data: D::Sum(Default::default()) } => metric::SUM);
        check_oneof!(m::Metric { data: D::Histogram(Default::default()) } => metric::HISTOGRAM);
        check_oneof!(m::Metric { data: D::ExponentialHistogram(Default::default()) } => metric::EXPONENTIAL_HISTOGRAM);
        check_oneof!(m::Metric { data: D::Summary(Default::default()) } => metric::SUMMARY);
        check!(m::Metric { metadata: kv() } => metric::METADATA);
        check!(m::Gauge { data_points: vec![Default::default()] } => gauge::DATA_POINTS);
        check!(m::Sum { data_points: vec![Default::default()] } => sum::DATA_POINTS);
        check!(m::Sum { aggregation_temporality: 1 } => sum::AGGREGATION_TEMPORALITY);
        check!(m::Sum { is_monotonic: true } => sum::IS_MONOTONIC);
        check!(m::Histogram { data_points: vec![Default::default()] } => histogram::DATA_POINTS);
        check!(m::Histogram { aggregation_temporality: 1 } => histogram::AGGREGATION_TEMPORALITY);
        check!(m::ExponentialHistogram { data_points: vec![Default::default()] } => exponential_histogram::DATA_POINTS);
        check!(m::ExponentialHistogram { aggregation_temporality: 1 } => exponential_histogram::AGGREGATION_TEMPORALITY);
        check!(m::Summary { data_points: vec![Default::default()] } => summary::DATA_POINTS);

        check!(m::NumberDataPoint { start_time_unix_nano: 1 } => number_data_point::START_TIME_UNIX_NANO);
        check!(m::NumberDataPoint { time_unix_nano: 1 } => number_data_point::TIME_UNIX_NANO);
        check_oneof!(m::NumberDataPoint { value: N::AsDouble(1.0) } => number_data_point::AS_DOUBLE);
        check!(m::NumberDataPoint { exemplars: vec![Default::default()] } => number_data_point::EXEMPLARS);
        check_oneof!(m::NumberDataPoint { value: N::AsInt(1) } => number_data_point::AS_INT);
        check!(m::NumberDataPoint { attributes: kv() } => number_data_point::ATTRIBUTES);
        check!(m::NumberDataPoint { flags: 1 } => number_data_point::FLAGS);

        check!(m::HistogramDataPoint { start_time_unix_nano: 1 } => histogram_data_point::START_TIME_UNIX_NANO);
        check!(m::HistogramDataPoint { time_unix_nano: 1 } => histogram_data_point::TIME_UNIX_NANO);
        check!(m::HistogramDataPoint { count: 1 } => histogram_data_point::COUNT);
        check!(m::HistogramDataPoint { sum: Some(1.0) } => histogram_data_point::SUM);
        check!(m::HistogramDataPoint { bucket_counts: vec![1] } => histogram_data_point::BUCKET_COUNTS);
        check!(m::HistogramDataPoint { explicit_bounds: vec![1.0] } => histogram_data_point::EXPLICIT_BOUNDS);
        check!(m::HistogramDataPoint { exemplars: vec![Default::default()] } => histogram_data_point::EXEMPLARS);
        check!(m::HistogramDataPoint { attributes: kv() } => histogram_data_point::ATTRIBUTES);
        check!(m::HistogramDataPoint { flags: 1 } => histogram_data_point::FLAGS);
        check!(m::HistogramDataPoint { min: Some(1.0) } => histogram_data_point::MIN);
        check!(m::HistogramDataPoint { max: Some(1.0) } => histogram_data_point::MAX);

        check!(m::ExponentialHistogramDataPoint { attributes: kv() } => exponential_histogram_data_point::ATTRIBUTES);
        check!(m::ExponentialHistogramDataPoint { start_time_unix_nano: 1 } => exponential_histogram_data_point::START_TIME_UNIX_NANO);
        check!(m::ExponentialHistogramDataPoint { time_unix_nano: 1 } => exponential_histogram_data_point::TIME_UNIX_NANO);
        check!(m::ExponentialHistogramDataPoint { count: 1 } => exponential_histogram_data_point::COUNT);
        check!(m::ExponentialHistogramDataPoint { sum: Some(1.0) } => exponential_histogram_data_point::SUM);
        check!(m::ExponentialHistogramDataPoint { scale: 1 } => exponential_histogram_data_point::SCALE);
        check!(m::ExponentialHistogramDataPoint { zero_count: 1 } => exponential_histogram_data_point::ZERO_COUNT);
        check!(m::ExponentialHistogramDataPoint { positive: Some(Default::default()) } => exponential_histogram_data_point::POSITIVE);
        check!(m::ExponentialHistogramDataPoint { negative: Some(Default::default()) } => exponential_histogram_data_point::NEGATIVE);
        check!(m::ExponentialHistogramDataPoint { flags: 1 } => exponential_histogram_data_point::FLAGS);
        check!(m::ExponentialHistogramDataPoint { exemplars: vec![Default::default()] } => exponential_histogram_data_point::EXEMPLARS);
        check!(m::ExponentialHistogramDataPoint { min: Some(1.0) } => exponential_histogram_data_point::MIN);
        check!(m::ExponentialHistogramDataPoint { max: Some(1.0) } => exponential_histogram_data_point::MAX);
        check!(m::ExponentialHistogramDataPoint { zero_threshold: 1.0 } => exponential_histogram_data_point::ZERO_THRESHOLD);
        check!(m::exponential_histogram_data_point::Buckets { offset: 1 } => exponential_histogram_data_point::buckets::OFFSET);
        check!(m::exponential_histogram_data_point::Buckets { bucket_counts: vec![1] } => exponential_histogram_data_point::buckets::BUCKET_COUNTS);

        check!(m::SummaryDataPoint { start_time_unix_nano: 1 } => summary_data_point::START_TIME_UNIX_NANO);
        check!(m::SummaryDataPoint { time_unix_nano: 1 } => summary_data_point::TIME_UNIX_NANO);
        check!(m::SummaryDataPoint { count: 1 } => summary_data_point::COUNT);
        check!(m::SummaryDataPoint { sum: 1.0 } => summary_data_point::SUM);
        check!(m::SummaryDataPoint { quantile_values: vec![Default::default()] } => summary_data_point::QUANTILE_VALUES);
        check!(m::SummaryDataPoint { attributes: kv() } => summary_data_point::ATTRIBUTES);
        check!(m::SummaryDataPoint { flags: 1 } => summary_data_point::FLAGS);
        check!(m::summary_data_point::ValueAtQuantile { quantile: 1.0 } => summary_data_point::value_at_quantile::QUANTILE);
        check!(m::summary_data_point::ValueAtQuantile { value: 1.0 } => summary_data_point::value_at_quantile::VALUE);

        check!(m::Exemplar { time_unix_nano: 1 } => exemplar::TIME_UNIX_NANO);
        check_oneof!(m::Exemplar { value: E::AsDouble(1.0) } => exemplar::AS_DOUBLE);
        check!(m::Exemplar { span_id: vec![1; 8] } => exemplar::SPAN_ID);
        check!(m::Exemplar { trace_id: vec![1; 16] } => exemplar::TRACE_ID);
        check_oneof!(m::Exemplar { value: E::AsInt(1) } => exemplar::AS_INT);
        check!(m::Exemplar { filtered_attributes: kv() } => exemplar::FILTERED_ATTRIBUTES);
    }
}
