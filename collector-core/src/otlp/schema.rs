//! The OTLP message schema as data, for the slow paths that walk any message generically
//! (OTLP/JSON in both directions). The hot-path validator in `validate.rs` is hand-written
//! from the same proto definitions; the differential tests keep the two in agreement.
//!
//! Field numbers, names and types follow the `opentelemetry-proto` crate in Cargo.lock.

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
        f(1, "string_value", "stringValue", Ty::Str, O(1)),
        f(2, "bool_value", "boolValue", Ty::Bool, O(1)),
        f(3, "int_value", "intValue", Ty::Int64, O(1)),
        f(4, "double_value", "doubleValue", Ty::Double, O(1)),
        f(5, "array_value", "arrayValue", Ty::Msg(&ARRAY_VALUE), O(1)),
        f(
            6,
            "kvlist_value",
            "kvlistValue",
            Ty::Msg(&KEY_VALUE_LIST),
            O(1),
        ),
        f(7, "bytes_value", "bytesValue", Ty::Bytes, O(1)),
        f(
            8,
            "string_value_strindex",
            "stringValueStrindex",
            Ty::Int32,
            O(1),
        ),
    ],
};

pub(crate) static ARRAY_VALUE: Msg = Msg {
    fields: &[f(1, "values", "values", Ty::Msg(&ANY_VALUE), R)],
};

pub(crate) static KEY_VALUE_LIST: Msg = Msg {
    fields: &[f(1, "values", "values", Ty::Msg(&KEY_VALUE), R)],
};

pub(crate) static KEY_VALUE: Msg = Msg {
    fields: &[
        f(1, "key", "key", Ty::Str, S),
        f(2, "value", "value", Ty::Msg(&ANY_VALUE), S),
        f(3, "key_strindex", "keyStrindex", Ty::Int32, S),
    ],
};

static SCOPE: Msg = Msg {
    fields: &[
        f(1, "name", "name", Ty::Str, S),
        f(2, "version", "version", Ty::Str, S),
        f(3, "attributes", "attributes", Ty::Msg(&KEY_VALUE), R),
        f(
            4,
            "dropped_attributes_count",
            "droppedAttributesCount",
            Ty::Uint32,
            S,
        ),
    ],
};

static ENTITY_REF: Msg = Msg {
    fields: &[
        f(1, "schema_url", "schemaUrl", Ty::Str, S),
        f(2, "type", "type", Ty::Str, S),
        f(3, "id_keys", "idKeys", Ty::Str, R),
        f(4, "description_keys", "descriptionKeys", Ty::Str, R),
    ],
};

static RESOURCE: Msg = Msg {
    fields: &[
        f(1, "attributes", "attributes", Ty::Msg(&KEY_VALUE), R),
        f(
            2,
            "dropped_attributes_count",
            "droppedAttributesCount",
            Ty::Uint32,
            S,
        ),
        f(3, "entity_refs", "entityRefs", Ty::Msg(&ENTITY_REF), R),
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
        f(2, "message", "message", Ty::Str, S),
        f(3, "code", "code", Ty::Enum(STATUS_CODE), S),
    ],
};

static EVENT: Msg = Msg {
    fields: &[
        f(1, "time_unix_nano", "timeUnixNano", Ty::Fixed64, S),
        f(2, "name", "name", Ty::Str, S),
        f(3, "attributes", "attributes", Ty::Msg(&KEY_VALUE), R),
        f(
            4,
            "dropped_attributes_count",
            "droppedAttributesCount",
            Ty::Uint32,
            S,
        ),
    ],
};

static LINK: Msg = Msg {
    fields: &[
        f(1, "trace_id", "traceId", Ty::Id, S),
        f(2, "span_id", "spanId", Ty::Id, S),
        f(3, "trace_state", "traceState", Ty::Str, S),
        f(4, "attributes", "attributes", Ty::Msg(&KEY_VALUE), R),
        f(
            5,
            "dropped_attributes_count",
            "droppedAttributesCount",
            Ty::Uint32,
            S,
        ),
        f(6, "flags", "flags", Ty::Fixed32, S),
    ],
};

static SPAN: Msg = Msg {
    fields: &[
        f(1, "trace_id", "traceId", Ty::Id, S),
        f(2, "span_id", "spanId", Ty::Id, S),
        f(3, "trace_state", "traceState", Ty::Str, S),
        f(4, "parent_span_id", "parentSpanId", Ty::Id, S),
        f(16, "flags", "flags", Ty::Fixed32, S),
        f(5, "name", "name", Ty::Str, S),
        f(6, "kind", "kind", Ty::Enum(SPAN_KIND), S),
        f(
            7,
            "start_time_unix_nano",
            "startTimeUnixNano",
            Ty::Fixed64,
            S,
        ),
        f(8, "end_time_unix_nano", "endTimeUnixNano", Ty::Fixed64, S),
        f(9, "attributes", "attributes", Ty::Msg(&KEY_VALUE), R),
        f(
            10,
            "dropped_attributes_count",
            "droppedAttributesCount",
            Ty::Uint32,
            S,
        ),
        f(11, "events", "events", Ty::Msg(&EVENT), R),
        f(
            12,
            "dropped_events_count",
            "droppedEventsCount",
            Ty::Uint32,
            S,
        ),
        f(13, "links", "links", Ty::Msg(&LINK), R),
        f(
            14,
            "dropped_links_count",
            "droppedLinksCount",
            Ty::Uint32,
            S,
        ),
        f(15, "status", "status", Ty::Msg(&STATUS), S),
    ],
};

static SCOPE_SPANS: Msg = Msg {
    fields: &[
        f(1, "scope", "scope", Ty::Msg(&SCOPE), S),
        f(2, "spans", "spans", Ty::Msg(&SPAN), R),
        f(3, "schema_url", "schemaUrl", Ty::Str, S),
    ],
};

pub(crate) static RESOURCE_SPANS: Msg = Msg {
    fields: &[
        f(1, "resource", "resource", Ty::Msg(&RESOURCE), S),
        f(2, "scope_spans", "scopeSpans", Ty::Msg(&SCOPE_SPANS), R),
        f(3, "schema_url", "schemaUrl", Ty::Str, S),
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
        f(1, "time_unix_nano", "timeUnixNano", Ty::Fixed64, S),
        f(
            11,
            "observed_time_unix_nano",
            "observedTimeUnixNano",
            Ty::Fixed64,
            S,
        ),
        f(
            2,
            "severity_number",
            "severityNumber",
            Ty::Enum(SEVERITY),
            S,
        ),
        f(3, "severity_text", "severityText", Ty::Str, S),
        f(5, "body", "body", Ty::Msg(&ANY_VALUE), S),
        f(6, "attributes", "attributes", Ty::Msg(&KEY_VALUE), R),
        f(
            7,
            "dropped_attributes_count",
            "droppedAttributesCount",
            Ty::Uint32,
            S,
        ),
        f(8, "flags", "flags", Ty::Fixed32, S),
        f(9, "trace_id", "traceId", Ty::Id, S),
        f(10, "span_id", "spanId", Ty::Id, S),
        f(12, "event_name", "eventName", Ty::Str, S),
    ],
};

static SCOPE_LOGS: Msg = Msg {
    fields: &[
        f(1, "scope", "scope", Ty::Msg(&SCOPE), S),
        f(2, "log_records", "logRecords", Ty::Msg(&LOG_RECORD), R),
        f(3, "schema_url", "schemaUrl", Ty::Str, S),
    ],
};

pub(crate) static RESOURCE_LOGS: Msg = Msg {
    fields: &[
        f(1, "resource", "resource", Ty::Msg(&RESOURCE), S),
        f(2, "scope_logs", "scopeLogs", Ty::Msg(&SCOPE_LOGS), R),
        f(3, "schema_url", "schemaUrl", Ty::Str, S),
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
            7,
            "filtered_attributes",
            "filteredAttributes",
            Ty::Msg(&KEY_VALUE),
            R,
        ),
        f(2, "time_unix_nano", "timeUnixNano", Ty::Fixed64, S),
        f(3, "as_double", "asDouble", Ty::Double, O(1)),
        f(6, "as_int", "asInt", Ty::Sfixed64, O(1)),
        f(4, "span_id", "spanId", Ty::Id, S),
        f(5, "trace_id", "traceId", Ty::Id, S),
    ],
};

static NUMBER_DATA_POINT: Msg = Msg {
    fields: &[
        f(7, "attributes", "attributes", Ty::Msg(&KEY_VALUE), R),
        f(
            2,
            "start_time_unix_nano",
            "startTimeUnixNano",
            Ty::Fixed64,
            S,
        ),
        f(3, "time_unix_nano", "timeUnixNano", Ty::Fixed64, S),
        f(4, "as_double", "asDouble", Ty::Double, O(1)),
        f(6, "as_int", "asInt", Ty::Sfixed64, O(1)),
        f(5, "exemplars", "exemplars", Ty::Msg(&EXEMPLAR), R),
        f(8, "flags", "flags", Ty::Uint32, S),
    ],
};

static HISTOGRAM_DATA_POINT: Msg = Msg {
    fields: &[
        f(9, "attributes", "attributes", Ty::Msg(&KEY_VALUE), R),
        f(
            2,
            "start_time_unix_nano",
            "startTimeUnixNano",
            Ty::Fixed64,
            S,
        ),
        f(3, "time_unix_nano", "timeUnixNano", Ty::Fixed64, S),
        f(4, "count", "count", Ty::Fixed64, S),
        f(5, "sum", "sum", Ty::Double, O(2)),
        f(6, "bucket_counts", "bucketCounts", Ty::Fixed64, R),
        f(7, "explicit_bounds", "explicitBounds", Ty::Double, R),
        f(8, "exemplars", "exemplars", Ty::Msg(&EXEMPLAR), R),
        f(10, "flags", "flags", Ty::Uint32, S),
        f(11, "min", "min", Ty::Double, O(3)),
        f(12, "max", "max", Ty::Double, O(4)),
    ],
};

static BUCKETS: Msg = Msg {
    fields: &[
        f(1, "offset", "offset", Ty::Sint32, S),
        f(2, "bucket_counts", "bucketCounts", Ty::Uint64, R),
    ],
};

static EXP_HISTOGRAM_DATA_POINT: Msg = Msg {
    fields: &[
        f(1, "attributes", "attributes", Ty::Msg(&KEY_VALUE), R),
        f(
            2,
            "start_time_unix_nano",
            "startTimeUnixNano",
            Ty::Fixed64,
            S,
        ),
        f(3, "time_unix_nano", "timeUnixNano", Ty::Fixed64, S),
        f(4, "count", "count", Ty::Fixed64, S),
        f(5, "sum", "sum", Ty::Double, O(2)),
        f(6, "scale", "scale", Ty::Sint32, S),
        f(7, "zero_count", "zeroCount", Ty::Fixed64, S),
        f(8, "positive", "positive", Ty::Msg(&BUCKETS), S),
        f(9, "negative", "negative", Ty::Msg(&BUCKETS), S),
        f(10, "flags", "flags", Ty::Uint32, S),
        f(11, "exemplars", "exemplars", Ty::Msg(&EXEMPLAR), R),
        f(12, "min", "min", Ty::Double, O(3)),
        f(13, "max", "max", Ty::Double, O(4)),
        f(14, "zero_threshold", "zeroThreshold", Ty::Double, S),
    ],
};

static VALUE_AT_QUANTILE: Msg = Msg {
    fields: &[
        f(1, "quantile", "quantile", Ty::Double, S),
        f(2, "value", "value", Ty::Double, S),
    ],
};

static SUMMARY_DATA_POINT: Msg = Msg {
    fields: &[
        f(7, "attributes", "attributes", Ty::Msg(&KEY_VALUE), R),
        f(
            2,
            "start_time_unix_nano",
            "startTimeUnixNano",
            Ty::Fixed64,
            S,
        ),
        f(3, "time_unix_nano", "timeUnixNano", Ty::Fixed64, S),
        f(4, "count", "count", Ty::Fixed64, S),
        f(5, "sum", "sum", Ty::Double, S),
        f(
            6,
            "quantile_values",
            "quantileValues",
            Ty::Msg(&VALUE_AT_QUANTILE),
            R,
        ),
        f(8, "flags", "flags", Ty::Uint32, S),
    ],
};

static GAUGE: Msg = Msg {
    fields: &[f(
        1,
        "data_points",
        "dataPoints",
        Ty::Msg(&NUMBER_DATA_POINT),
        R,
    )],
};

static SUM: Msg = Msg {
    fields: &[
        f(
            1,
            "data_points",
            "dataPoints",
            Ty::Msg(&NUMBER_DATA_POINT),
            R,
        ),
        f(
            2,
            "aggregation_temporality",
            "aggregationTemporality",
            Ty::Enum(TEMPORALITY),
            S,
        ),
        f(3, "is_monotonic", "isMonotonic", Ty::Bool, S),
    ],
};

static HISTOGRAM: Msg = Msg {
    fields: &[
        f(
            1,
            "data_points",
            "dataPoints",
            Ty::Msg(&HISTOGRAM_DATA_POINT),
            R,
        ),
        f(
            2,
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
            1,
            "data_points",
            "dataPoints",
            Ty::Msg(&EXP_HISTOGRAM_DATA_POINT),
            R,
        ),
        f(
            2,
            "aggregation_temporality",
            "aggregationTemporality",
            Ty::Enum(TEMPORALITY),
            S,
        ),
    ],
};

static SUMMARY: Msg = Msg {
    fields: &[f(
        1,
        "data_points",
        "dataPoints",
        Ty::Msg(&SUMMARY_DATA_POINT),
        R,
    )],
};

static METRIC: Msg = Msg {
    fields: &[
        f(1, "name", "name", Ty::Str, S),
        f(2, "description", "description", Ty::Str, S),
        f(3, "unit", "unit", Ty::Str, S),
        f(5, "gauge", "gauge", Ty::Msg(&GAUGE), O(1)),
        f(7, "sum", "sum", Ty::Msg(&SUM), O(1)),
        f(9, "histogram", "histogram", Ty::Msg(&HISTOGRAM), O(1)),
        f(
            10,
            "exponential_histogram",
            "exponentialHistogram",
            Ty::Msg(&EXP_HISTOGRAM),
            O(1),
        ),
        f(11, "summary", "summary", Ty::Msg(&SUMMARY), O(1)),
        f(12, "metadata", "metadata", Ty::Msg(&KEY_VALUE), R),
    ],
};

static SCOPE_METRICS: Msg = Msg {
    fields: &[
        f(1, "scope", "scope", Ty::Msg(&SCOPE), S),
        f(2, "metrics", "metrics", Ty::Msg(&METRIC), R),
        f(3, "schema_url", "schemaUrl", Ty::Str, S),
    ],
};

pub(crate) static RESOURCE_METRICS: Msg = Msg {
    fields: &[
        f(1, "resource", "resource", Ty::Msg(&RESOURCE), S),
        f(
            2,
            "scope_metrics",
            "scopeMetrics",
            Ty::Msg(&SCOPE_METRICS),
            R,
        ),
        f(3, "schema_url", "schemaUrl", Ty::Str, S),
    ],
};

// ---- export requests ----------------------------------------------------------------------

static EXPORT_TRACES: Msg = Msg {
    fields: &[f(
        1,
        "resource_spans",
        "resourceSpans",
        Ty::Msg(&RESOURCE_SPANS),
        R,
    )],
};

static EXPORT_LOGS: Msg = Msg {
    fields: &[f(
        1,
        "resource_logs",
        "resourceLogs",
        Ty::Msg(&RESOURCE_LOGS),
        R,
    )],
};

static EXPORT_METRICS: Msg = Msg {
    fields: &[f(
        1,
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
