//! The OTLP message schema as data, for the slow paths that walk any message generically
//! (OTLP/JSON in both directions). The hot-path validator in `validate.rs` is hand-written
//! from the same proto definitions; the differential tests keep the two in agreement.
//!
//! Field numbers (named in `fields.rs`), names and types follow the `opentelemetry-proto`
//! crate in Cargo.lock.

use super::fields::{
    any_value, array_value, entity_ref, exemplar, exponential_histogram,
    exponential_histogram_data_point, export_logs_service_request, export_metrics_service_request,
    export_trace_service_request, gauge, histogram, histogram_data_point, instrumentation_scope,
    key_value, key_value_list, log_record, metric, number_data_point, resource, resource_logs,
    resource_metrics, resource_spans, scope_logs, scope_metrics, scope_spans, span, status, sum,
    summary, summary_data_point,
};

/// A field's type.
#[derive(Debug)]
pub(crate) enum Ty {
    Str,
    /// `bytes` shown as base64 in JSON.
    Bytes,
    /// A trace or span id: `bytes` shown as hex in JSON.
    Id,
    Bool,
    Int32,
    Int64,
    Uint32,
    Uint64,
    Sint32,
    Fixed32,
    Fixed64,
    Sfixed64,
    Double,
    Enum(&'static [(&'static str, i32)]),
    Msg(&'static Msg),
}

/// Presence and repetition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Card {
    /// proto3 implicit presence: the default value is not written.
    Single,
    /// Explicit presence (`optional`, or a member of oneof group `n`): written when set.
    Optional(u8),
    Repeated,
}

#[derive(Debug)]
pub(crate) struct Field {
    pub(crate) num: u32,
    pub(crate) name: &'static str,
    pub(crate) json: &'static str,
    pub(crate) ty: Ty,
    pub(crate) card: Card,
}

#[derive(Debug)]
pub(crate) struct Msg {
    pub(crate) fields: &'static [Field],
}

impl Msg {
    pub(crate) fn field(&self, num: u32) -> Option<(usize, &'static Field)> {
        self.fields.iter().enumerate().find(|(_, f)| f.num == num)
    }
}

impl Ty {
    /// Packable scalar types (written packed by the JSON encoder when repeated).
    pub(crate) fn packable(&self) -> bool {
        !matches!(self, Ty::Str | Ty::Bytes | Ty::Id | Ty::Msg(_))
    }
}

const fn f(num: u32, name: &'static str, json: &'static str, ty: Ty, card: Card) -> Field {
    Field {
        num,
        name,
        json,
        ty,
        card,
    }
}

use Card::{Optional as O, Repeated as R, Single as S};

// ---- common / resource ------------------------------------------------------------------

pub(crate) static ANY_VALUE: Msg = Msg {
    fields: &[
        f(
            any_value::STRING_VALUE,
            "string_value",
            "stringValue",
            Ty::Str,
            O(1),
        ),
        f(
            any_value::BOOL_VALUE,
            "bool_value",
            "boolValue",
            Ty::Bool,
            O(1),
        ),
        f(
            any_value::INT_VALUE,
            "int_value",
            "intValue",
            Ty::Int64,
            O(1),
        ),
        f(
            any_value::DOUBLE_VALUE,
            "double_value",
            "doubleValue",
            Ty::Double,
            O(1),
        ),
        f(
            any_value::ARRAY_VALUE,
            "array_value",
            "arrayValue",
            Ty::Msg(&ARRAY_VALUE),
            O(1),
        ),
        f(
            any_value::KVLIST_VALUE,
            "kvlist_value",
            "kvlistValue",
            Ty::Msg(&KEY_VALUE_LIST),
            O(1),
        ),
        f(
            any_value::BYTES_VALUE,
            "bytes_value",
            "bytesValue",
            Ty::Bytes,
            O(1),
        ),
        f(
            any_value::STRING_VALUE_STRINDEX,
            "string_value_strindex",
            "stringValueStrindex",
            Ty::Int32,
            O(1),
        ),
    ],
};

pub(crate) static ARRAY_VALUE: Msg = Msg {
    fields: &[f(
        array_value::VALUES,
        "values",
        "values",
        Ty::Msg(&ANY_VALUE),
        R,
    )],
};

pub(crate) static KEY_VALUE_LIST: Msg = Msg {
    fields: &[f(
        key_value_list::VALUES,
        "values",
        "values",
        Ty::Msg(&KEY_VALUE),
        R,
    )],
};

pub(crate) static KEY_VALUE: Msg = Msg {
    fields: &[
        f(key_value::KEY, "key", "key", Ty::Str, S),
        f(key_value::VALUE, "value", "value", Ty::Msg(&ANY_VALUE), S),
        f(
            key_value::KEY_STRINDEX,
            "key_strindex",
            "keyStrindex",
            Ty::Int32,
            S,
        ),
    ],
};

static SCOPE: Msg = Msg {
    fields: &[
        f(instrumentation_scope::NAME, "name", "name", Ty::Str, S),
        f(
            instrumentation_scope::VERSION,
            "version",
            "version",
            Ty::Str,
            S,
        ),
        f(
            instrumentation_scope::ATTRIBUTES,
            "attributes",
            "attributes",
            Ty::Msg(&KEY_VALUE),
            R,
        ),
        f(
            instrumentation_scope::DROPPED_ATTRIBUTES_COUNT,
            "dropped_attributes_count",
            "droppedAttributesCount",
            Ty::Uint32,
            S,
        ),
    ],
};

static ENTITY_REF: Msg = Msg {
    fields: &[
        f(
            entity_ref::SCHEMA_URL,
            "schema_url",
            "schemaUrl",
            Ty::Str,
            S,
        ),
        f(entity_ref::TYPE, "type", "type", Ty::Str, S),
        f(entity_ref::ID_KEYS, "id_keys", "idKeys", Ty::Str, R),
        f(
            entity_ref::DESCRIPTION_KEYS,
            "description_keys",
            "descriptionKeys",
            Ty::Str,
            R,
        ),
    ],
};

static RESOURCE: Msg = Msg {
    fields: &[
        f(
            resource::ATTRIBUTES,
            "attributes",
            "attributes",
            Ty::Msg(&KEY_VALUE),
            R,
        ),
        f(
            resource::DROPPED_ATTRIBUTES_COUNT,
            "dropped_attributes_count",
            "droppedAttributesCount",
            Ty::Uint32,
            S,
        ),
        f(
            resource::ENTITY_REFS,
            "entity_refs",
            "entityRefs",
            Ty::Msg(&ENTITY_REF),
            R,
        ),
    ],
};

// ---- traces -------------------------------------------------------------------------------

const SPAN_KIND: &[(&str, i32)] = &[
    ("SPAN_KIND_UNSPECIFIED", 0),
    ("SPAN_KIND_INTERNAL", 1),
    ("SPAN_KIND_SERVER", 2),
    ("SPAN_KIND_CLIENT", 3),
    ("SPAN_KIND_PRODUCER", 4),
    ("SPAN_KIND_CONSUMER", 5),
];

const STATUS_CODE: &[(&str, i32)] = &[
    ("STATUS_CODE_UNSET", 0),
    ("STATUS_CODE_OK", 1),
    ("STATUS_CODE_ERROR", 2),
];

static STATUS: Msg = Msg {
    fields: &[
        f(status::MESSAGE, "message", "message", Ty::Str, S),
        f(status::CODE, "code", "code", Ty::Enum(STATUS_CODE), S),
    ],
};

static EVENT: Msg = Msg {
    fields: &[
        f(
            span::event::TIME_UNIX_NANO,
            "time_unix_nano",
            "timeUnixNano",
            Ty::Fixed64,
            S,
        ),
        f(span::event::NAME, "name", "name", Ty::Str, S),
        f(
            span::event::ATTRIBUTES,
            "attributes",
            "attributes",
            Ty::Msg(&KEY_VALUE),
            R,
        ),
        f(
            span::event::DROPPED_ATTRIBUTES_COUNT,
            "dropped_attributes_count",
            "droppedAttributesCount",
            Ty::Uint32,
            S,
        ),
    ],
};

static LINK: Msg = Msg {
    fields: &[
        f(span::link::TRACE_ID, "trace_id", "traceId", Ty::Id, S),
        f(span::link::SPAN_ID, "span_id", "spanId", Ty::Id, S),
        f(
            span::link::TRACE_STATE,
            "trace_state",
            "traceState",
            Ty::Str,
            S,
        ),
        f(
            span::link::ATTRIBUTES,
            "attributes",
            "attributes",
            Ty::Msg(&KEY_VALUE),
            R,
        ),
        f(
            span::link::DROPPED_ATTRIBUTES_COUNT,
            "dropped_attributes_count",
            "droppedAttributesCount",
            Ty::Uint32,
            S,
        ),
        f(span::link::FLAGS, "flags", "flags", Ty::Fixed32, S),
    ],
};

static SPAN: Msg = Msg {
    fields: &[
        f(span::TRACE_ID, "trace_id", "traceId", Ty::Id, S),
        f(span::SPAN_ID, "span_id", "spanId", Ty::Id, S),
        f(span::TRACE_STATE, "trace_state", "traceState", Ty::Str, S),
        f(
            span::PARENT_SPAN_ID,
            "parent_span_id",
            "parentSpanId",
            Ty::Id,
            S,
        ),
        f(span::FLAGS, "flags", "flags", Ty::Fixed32, S),
        f(span::NAME, "name", "name", Ty::Str, S),
        f(span::KIND, "kind", "kind", Ty::Enum(SPAN_KIND), S),
        f(
            span::START_TIME_UNIX_NANO,
            "start_time_unix_nano",
            "startTimeUnixNano",
            Ty::Fixed64,
            S,
        ),
        f(
            span::END_TIME_UNIX_NANO,
            "end_time_unix_nano",
            "endTimeUnixNano",
            Ty::Fixed64,
            S,
        ),
        f(
            span::ATTRIBUTES,
            "attributes",
            "attributes",
            Ty::Msg(&KEY_VALUE),
            R,
        ),
        f(
            span::DROPPED_ATTRIBUTES_COUNT,
            "dropped_attributes_count",
            "droppedAttributesCount",
            Ty::Uint32,
            S,
        ),
        f(span::EVENTS, "events", "events", Ty::Msg(&EVENT), R),
        f(
            span::DROPPED_EVENTS_COUNT,
            "dropped_events_count",
            "droppedEventsCount",
            Ty::Uint32,
            S,
        ),
        f(span::LINKS, "links", "links", Ty::Msg(&LINK), R),
        f(
            span::DROPPED_LINKS_COUNT,
            "dropped_links_count",
            "droppedLinksCount",
            Ty::Uint32,
            S,
        ),
        f(span::STATUS, "status", "status", Ty::Msg(&STATUS), S),
    ],
};

static SCOPE_SPANS: Msg = Msg {
    fields: &[
        f(scope_spans::SCOPE, "scope", "scope", Ty::Msg(&SCOPE), S),
        f(scope_spans::SPANS, "spans", "spans", Ty::Msg(&SPAN), R),
        f(
            scope_spans::SCHEMA_URL,
            "schema_url",
            "schemaUrl",
            Ty::Str,
            S,
        ),
    ],
};

pub(crate) static RESOURCE_SPANS: Msg = Msg {
    fields: &[
        f(
            resource_spans::RESOURCE,
            "resource",
            "resource",
            Ty::Msg(&RESOURCE),
            S,
        ),
        f(
            resource_spans::SCOPE_SPANS,
            "scope_spans",
            "scopeSpans",
            Ty::Msg(&SCOPE_SPANS),
            R,
        ),
        f(
            resource_spans::SCHEMA_URL,
            "schema_url",
            "schemaUrl",
            Ty::Str,
            S,
        ),
    ],
};

// ---- logs ---------------------------------------------------------------------------------

const SEVERITY: &[(&str, i32)] = &[
    ("SEVERITY_NUMBER_UNSPECIFIED", 0),
    ("SEVERITY_NUMBER_TRACE", 1),
    ("SEVERITY_NUMBER_TRACE2", 2),
    ("SEVERITY_NUMBER_TRACE3", 3),
    ("SEVERITY_NUMBER_TRACE4", 4),
    ("SEVERITY_NUMBER_DEBUG", 5),
    ("SEVERITY_NUMBER_DEBUG2", 6),
    ("SEVERITY_NUMBER_DEBUG3", 7),
    ("SEVERITY_NUMBER_DEBUG4", 8),
    ("SEVERITY_NUMBER_INFO", 9),
    ("SEVERITY_NUMBER_INFO2", 10),
    ("SEVERITY_NUMBER_INFO3", 11),
    ("SEVERITY_NUMBER_INFO4", 12),
    ("SEVERITY_NUMBER_WARN", 13),
    ("SEVERITY_NUMBER_WARN2", 14),
    ("SEVERITY_NUMBER_WARN3", 15),
    ("SEVERITY_NUMBER_WARN4", 16),
    ("SEVERITY_NUMBER_ERROR", 17),
    ("SEVERITY_NUMBER_ERROR2", 18),
    ("SEVERITY_NUMBER_ERROR3", 19),
    ("SEVERITY_NUMBER_ERROR4", 20),
    ("SEVERITY_NUMBER_FATAL", 21),
    ("SEVERITY_NUMBER_FATAL2", 22),
    ("SEVERITY_NUMBER_FATAL3", 23),
    ("SEVERITY_NUMBER_FATAL4", 24),
];

static LOG_RECORD: Msg = Msg {
    fields: &[
        f(
            log_record::TIME_UNIX_NANO,
            "time_unix_nano",
            "timeUnixNano",
            Ty::Fixed64,
            S,
        ),
        f(
            log_record::OBSERVED_TIME_UNIX_NANO,
            "observed_time_unix_nano",
            "observedTimeUnixNano",
            Ty::Fixed64,
            S,
        ),
        f(
            log_record::SEVERITY_NUMBER,
            "severity_number",
            "severityNumber",
            Ty::Enum(SEVERITY),
            S,
        ),
        f(
            log_record::SEVERITY_TEXT,
            "severity_text",
            "severityText",
            Ty::Str,
            S,
        ),
        f(log_record::BODY, "body", "body", Ty::Msg(&ANY_VALUE), S),
        f(
            log_record::ATTRIBUTES,
            "attributes",
            "attributes",
            Ty::Msg(&KEY_VALUE),
            R,
        ),
        f(
            log_record::DROPPED_ATTRIBUTES_COUNT,
            "dropped_attributes_count",
            "droppedAttributesCount",
            Ty::Uint32,
            S,
        ),
        f(log_record::FLAGS, "flags", "flags", Ty::Fixed32, S),
        f(log_record::TRACE_ID, "trace_id", "traceId", Ty::Id, S),
        f(log_record::SPAN_ID, "span_id", "spanId", Ty::Id, S),
        f(
            log_record::EVENT_NAME,
            "event_name",
            "eventName",
            Ty::Str,
            S,
        ),
    ],
};

static SCOPE_LOGS: Msg = Msg {
    fields: &[
        f(scope_logs::SCOPE, "scope", "scope", Ty::Msg(&SCOPE), S),
        f(
            scope_logs::LOG_RECORDS,
            "log_records",
            "logRecords",
            Ty::Msg(&LOG_RECORD),
            R,
        ),
        f(
            scope_logs::SCHEMA_URL,
            "schema_url",
            "schemaUrl",
            Ty::Str,
            S,
        ),
    ],
};

pub(crate) static RESOURCE_LOGS: Msg = Msg {
    fields: &[
        f(
            resource_logs::RESOURCE,
            "resource",
            "resource",
            Ty::Msg(&RESOURCE),
            S,
        ),
        f(
            resource_logs::SCOPE_LOGS,
            "scope_logs",
            "scopeLogs",
            Ty::Msg(&SCOPE_LOGS),
            R,
        ),
        f(
            resource_logs::SCHEMA_URL,
            "schema_url",
            "schemaUrl",
            Ty::Str,
            S,
        ),
    ],
};

// ---- metrics ------------------------------------------------------------------------------

const TEMPORALITY: &[(&str, i32)] = &[
    ("AGGREGATION_TEMPORALITY_UNSPECIFIED", 0),
    ("AGGREGATION_TEMPORALITY_DELTA", 1),
    ("AGGREGATION_TEMPORALITY_CUMULATIVE", 2),
];

static EXEMPLAR: Msg = Msg {
    fields: &[
        f(
            exemplar::FILTERED_ATTRIBUTES,
            "filtered_attributes",
            "filteredAttributes",
            Ty::Msg(&KEY_VALUE),
            R,
        ),
        f(
            exemplar::TIME_UNIX_NANO,
            "time_unix_nano",
            "timeUnixNano",
            Ty::Fixed64,
            S,
        ),
        f(
            exemplar::AS_DOUBLE,
            "as_double",
            "asDouble",
            Ty::Double,
            O(1),
        ),
        f(exemplar::AS_INT, "as_int", "asInt", Ty::Sfixed64, O(1)),
        f(exemplar::SPAN_ID, "span_id", "spanId", Ty::Id, S),
        f(exemplar::TRACE_ID, "trace_id", "traceId", Ty::Id, S),
    ],
};

static NUMBER_DATA_POINT: Msg = Msg {
    fields: &[
        f(
            number_data_point::ATTRIBUTES,
            "attributes",
            "attributes",
            Ty::Msg(&KEY_VALUE),
            R,
        ),
        f(
            number_data_point::START_TIME_UNIX_NANO,
            "start_time_unix_nano",
            "startTimeUnixNano",
            Ty::Fixed64,
            S,
        ),
        f(
            number_data_point::TIME_UNIX_NANO,
            "time_unix_nano",
            "timeUnixNano",
            Ty::Fixed64,
            S,
        ),
        f(
            number_data_point::AS_DOUBLE,
            "as_double",
            "asDouble",
            Ty::Double,
            O(1),
        ),
        f(
            number_data_point::AS_INT,
            "as_int",
            "asInt",
            Ty::Sfixed64,
            O(1),
        ),
        f(
            number_data_point::EXEMPLARS,
            "exemplars",
            "exemplars",
            Ty::Msg(&EXEMPLAR),
            R,
        ),
        f(number_data_point::FLAGS, "flags", "flags", Ty::Uint32, S),
    ],
};

static HISTOGRAM_DATA_POINT: Msg = Msg {
    fields: &[
        f(
            histogram_data_point::ATTRIBUTES,
            "attributes",
            "attributes",
            Ty::Msg(&KEY_VALUE),
            R,
        ),
        f(
            histogram_data_point::START_TIME_UNIX_NANO,
            "start_time_unix_nano",
            "startTimeUnixNano",
            Ty::Fixed64,
            S,
        ),
        f(
            histogram_data_point::TIME_UNIX_NANO,
            "time_unix_nano",
            "timeUnixNano",
            Ty::Fixed64,
            S,
        ),
        f(
            histogram_data_point::COUNT,
            "count",
            "count",
            Ty::Fixed64,
            S,
        ),
        f(histogram_data_point::SUM, "sum", "sum", Ty::Double, O(2)),
        f(
            histogram_data_point::BUCKET_COUNTS,
            "bucket_counts",
            "bucketCounts",
            Ty::Fixed64,
            R,
        ),
        f(
            histogram_data_point::EXPLICIT_BOUNDS,
            "explicit_bounds",
            "explicitBounds",
            Ty::Double,
            R,
        ),
        f(
            histogram_data_point::EXEMPLARS,
            "exemplars",
            "exemplars",
            Ty::Msg(&EXEMPLAR),
            R,
        ),
        f(histogram_data_point::FLAGS, "flags", "flags", Ty::Uint32, S),
        f(histogram_data_point::MIN, "min", "min", Ty::Double, O(3)),
        f(histogram_data_point::MAX, "max", "max", Ty::Double, O(4)),
    ],
};

static BUCKETS: Msg = Msg {
    fields: &[
        f(
            exponential_histogram_data_point::buckets::OFFSET,
            "offset",
            "offset",
            Ty::Sint32,
            S,
        ),
        f(
            exponential_histogram_data_point::buckets::BUCKET_COUNTS,
            "bucket_counts",
            "bucketCounts",
            Ty::Uint64,
            R,
        ),
    ],
};

static EXP_HISTOGRAM_DATA_POINT: Msg = Msg {
    fields: &[
        f(
            exponential_histogram_data_point::ATTRIBUTES,
            "attributes",
            "attributes",
            Ty::Msg(&KEY_VALUE),
            R,
        ),
        f(
            exponential_histogram_data_point::START_TIME_UNIX_NANO,
            "start_time_unix_nano",
            "startTimeUnixNano",
            Ty::Fixed64,
            S,
        ),
        f(
            exponential_histogram_data_point::TIME_UNIX_NANO,
            "time_unix_nano",
            "timeUnixNano",
            Ty::Fixed64,
            S,
        ),
        f(
            exponential_histogram_data_point::COUNT,
            "count",
            "count",
            Ty::Fixed64,
            S,
        ),
        f(
            exponential_histogram_data_point::SUM,
            "sum",
            "sum",
            Ty::Double,
            O(2),
        ),
        f(
            exponential_histogram_data_point::SCALE,
            "scale",
            "scale",
            Ty::Sint32,
            S,
        ),
        f(
            exponential_histogram_data_point::ZERO_COUNT,
            "zero_count",
            "zeroCount",
            Ty::Fixed64,
            S,
        ),
        f(
            exponential_histogram_data_point::POSITIVE,
            "positive",
            "positive",
            Ty::Msg(&BUCKETS),
            S,
        ),
        f(
            exponential_histogram_data_point::NEGATIVE,
            "negative",
            "negative",
            Ty::Msg(&BUCKETS),
            S,
        ),
        f(
            exponential_histogram_data_point::FLAGS,
            "flags",
            "flags",
            Ty::Uint32,
            S,
        ),
        f(
            exponential_histogram_data_point::EXEMPLARS,
            "exemplars",
            "exemplars",
            Ty::Msg(&EXEMPLAR),
            R,
        ),
        f(
            exponential_histogram_data_point::MIN,
            "min",
            "min",
            Ty::Double,
            O(3),
        ),
        f(
            exponential_histogram_data_point::MAX,
            "max",
            "max",
            Ty::Double,
            O(4),
        ),
        f(
            exponential_histogram_data_point::ZERO_THRESHOLD,
            "zero_threshold",
            "zeroThreshold",
            Ty::Double,
            S,
        ),
    ],
};

static VALUE_AT_QUANTILE: Msg = Msg {
    fields: &[
        f(
            summary_data_point::value_at_quantile::QUANTILE,
            "quantile",
            "quantile",
            Ty::Double,
            S,
        ),
        f(
            summary_data_point::value_at_quantile::VALUE,
            "value",
            "value",
            Ty::Double,
            S,
        ),
    ],
};

static SUMMARY_DATA_POINT: Msg = Msg {
    fields: &[
        f(
            summary_data_point::ATTRIBUTES,
            "attributes",
            "attributes",
            Ty::Msg(&KEY_VALUE),
            R,
        ),
        f(
            summary_data_point::START_TIME_UNIX_NANO,
            "start_time_unix_nano",
            "startTimeUnixNano",
            Ty::Fixed64,
            S,
        ),
        f(
            summary_data_point::TIME_UNIX_NANO,
            "time_unix_nano",
            "timeUnixNano",
            Ty::Fixed64,
            S,
        ),
        f(summary_data_point::COUNT, "count", "count", Ty::Fixed64, S),
        f(summary_data_point::SUM, "sum", "sum", Ty::Double, S),
        f(
            summary_data_point::QUANTILE_VALUES,
            "quantile_values",
            "quantileValues",
            Ty::Msg(&VALUE_AT_QUANTILE),
            R,
        ),
        f(summary_data_point::FLAGS, "flags", "flags", Ty::Uint32, S),
    ],
};

static GAUGE: Msg = Msg {
    fields: &[f(
        gauge::DATA_POINTS,
        "data_points",
        "dataPoints",
        Ty::Msg(&NUMBER_DATA_POINT),
        R,
    )],
};

static SUM: Msg = Msg {
    fields: &[
        f(
            sum::DATA_POINTS,
            "data_points",
            "dataPoints",
            Ty::Msg(&NUMBER_DATA_POINT),
            R,
        ),
        f(
            sum::AGGREGATION_TEMPORALITY,
            "aggregation_temporality",
            "aggregationTemporality",
            Ty::Enum(TEMPORALITY),
            S,
        ),
        f(
            sum::IS_MONOTONIC,
            "is_monotonic",
            "isMonotonic",
            Ty::Bool,
            S,
        ),
    ],
};

static HISTOGRAM: Msg = Msg {
    fields: &[
        f(
            histogram::DATA_POINTS,
            "data_points",
            "dataPoints",
            Ty::Msg(&HISTOGRAM_DATA_POINT),
            R,
        ),
        f(
            histogram::AGGREGATION_TEMPORALITY,
            "aggregation_temporality",
            "aggregationTemporality",
            Ty::Enum(TEMPORALITY),
            S,
        ),
    ],
};

static EXP_HISTOGRAM: Msg = Msg {
    fields: &[
        f(
            exponential_histogram::DATA_POINTS,
            "data_points",
            "dataPoints",
            Ty::Msg(&EXP_HISTOGRAM_DATA_POINT),
            R,
        ),
        f(
            exponential_histogram::AGGREGATION_TEMPORALITY,
            "aggregation_temporality",
            "aggregationTemporality",
            Ty::Enum(TEMPORALITY),
            S,
        ),
    ],
};

static SUMMARY: Msg = Msg {
    fields: &[f(
        summary::DATA_POINTS,
        "data_points",
        "dataPoints",
        Ty::Msg(&SUMMARY_DATA_POINT),
        R,
    )],
};

static METRIC: Msg = Msg {
    fields: &[
        f(metric::NAME, "name", "name", Ty::Str, S),
        f(
            metric::DESCRIPTION,
            "description",
            "description",
            Ty::Str,
            S,
        ),
        f(metric::UNIT, "unit", "unit", Ty::Str, S),
        f(metric::GAUGE, "gauge", "gauge", Ty::Msg(&GAUGE), O(1)),
        f(metric::SUM, "sum", "sum", Ty::Msg(&SUM), O(1)),
        f(
            metric::HISTOGRAM,
            "histogram",
            "histogram",
            Ty::Msg(&HISTOGRAM),
            O(1),
        ),
        f(
            metric::EXPONENTIAL_HISTOGRAM,
            "exponential_histogram",
            "exponentialHistogram",
            Ty::Msg(&EXP_HISTOGRAM),
            O(1),
        ),
        f(
            metric::SUMMARY,
            "summary",
            "summary",
            Ty::Msg(&SUMMARY),
            O(1),
        ),
        f(
            metric::METADATA,
            "metadata",
            "metadata",
            Ty::Msg(&KEY_VALUE),
            R,
        ),
    ],
};

static SCOPE_METRICS: Msg = Msg {
    fields: &[
        f(scope_metrics::SCOPE, "scope", "scope", Ty::Msg(&SCOPE), S),
        f(
            scope_metrics::METRICS,
            "metrics",
            "metrics",
            Ty::Msg(&METRIC),
            R,
        ),
        f(
            scope_metrics::SCHEMA_URL,
            "schema_url",
            "schemaUrl",
            Ty::Str,
            S,
        ),
    ],
};

pub(crate) static RESOURCE_METRICS: Msg = Msg {
    fields: &[
        f(
            resource_metrics::RESOURCE,
            "resource",
            "resource",
            Ty::Msg(&RESOURCE),
            S,
        ),
        f(
            resource_metrics::SCOPE_METRICS,
            "scope_metrics",
            "scopeMetrics",
            Ty::Msg(&SCOPE_METRICS),
            R,
        ),
        f(
            resource_metrics::SCHEMA_URL,
            "schema_url",
            "schemaUrl",
            Ty::Str,
            S,
        ),
    ],
};

// ---- export requests ----------------------------------------------------------------------

static EXPORT_TRACES: Msg = Msg {
    fields: &[f(
        export_trace_service_request::RESOURCE_SPANS,
        "resource_spans",
        "resourceSpans",
        Ty::Msg(&RESOURCE_SPANS),
        R,
    )],
};

static EXPORT_LOGS: Msg = Msg {
    fields: &[f(
        export_logs_service_request::RESOURCE_LOGS,
        "resource_logs",
        "resourceLogs",
        Ty::Msg(&RESOURCE_LOGS),
        R,
    )],
};

static EXPORT_METRICS: Msg = Msg {
    fields: &[f(
        export_metrics_service_request::RESOURCE_METRICS,
        "resource_metrics",
        "resourceMetrics",
        Ty::Msg(&RESOURCE_METRICS),
        R,
    )],
};

/// The `Export*ServiceRequest` schema of a signal.
pub(crate) fn request(signal: crate::Signal) -> &'static Msg {
    match signal {
        crate::Signal::Traces => &EXPORT_TRACES,
        crate::Signal::Logs => &EXPORT_LOGS,
        crate::Signal::Metrics => &EXPORT_METRICS,
    }
}

/// The `ResourceX` schema and the request's field names for a signal.
pub(crate) fn resource_x(signal: crate::Signal) -> (&'static Msg, &'static str, &'static str) {
    match signal {
        crate::Signal::Traces => (&RESOURCE_SPANS, "resource_spans", "resourceSpans"),
        crate::Signal::Logs => (&RESOURCE_LOGS, "resource_logs", "resourceLogs"),
        crate::Signal::Metrics => (&RESOURCE_METRICS, "resource_metrics", "resourceMetrics"),
    }
}
