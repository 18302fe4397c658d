//! Read-only views over validated payloads, without allocation.
//!
//! Views follow prost's decode semantics: a singular scalar that occurs twice keeps its
//! last value, a singular message that occurs twice is the merge of both (its fields read
//! in order across the occurrences), a oneof keeps its last member. Views are only built
//! over validated bytes, so they never fail; were the bytes malformed after all, iteration
//! would simply end.

use bytes::Bytes;

use super::fields::span::{event, link};
use super::fields::{
    any_value, array_value, data_point, exponential_histogram_data_point, histogram_data_point,
    instrumentation_scope, key_value, key_value_list, log_record, metric, number_data_point,
    points_wrapper, resource, resource_x, scope_x, span, status, sum, summary_data_point,
};
use super::wire::{Fields, Value};

/// The occurrences of one (possibly merged) message.
///
/// A plain enum rather than a `SmallVec`: views must be covariant in their lifetime (an
/// edit hands out views of shorter-lived borrows), and `SmallVec`'s associated-type
/// storage is not.
#[derive(Clone, Debug, Default)]
pub(crate) enum Parts<'a> {
    #[default]
    Empty,
    One(&'a [u8]),
    Many(Vec<&'a [u8]>),
}

impl<'a> Parts<'a> {
    pub(crate) fn one(b: &'a [u8]) -> Self {
        Parts::One(b)
    }

    pub(crate) fn from_pieces(pieces: &'a [Bytes]) -> Self {
        match pieces {
            [] => Parts::Empty,
            [p] => Parts::One(p),
            many => Parts::Many(many.iter().map(|p| &p[..]).collect()),
        }
    }

    pub(crate) fn push(&mut self, b: &'a [u8]) {
        *self = match std::mem::take(self) {
            Parts::Empty => Parts::One(b),
            Parts::One(a) => Parts::Many(vec![a, b]),
            Parts::Many(mut v) => {
                v.push(b);
                Parts::Many(v)
            }
        };
    }

    pub(crate) fn slices(&self) -> &[&'a [u8]] {
        match self {
            Parts::Empty => &[],
            Parts::One(b) => std::slice::from_ref(b),
            Parts::Many(v) => v,
        }
    }

    /// All fields of all occurrences, in order.
    pub(crate) fn fields(&self) -> PartsFields<'a> {
        PartsFields {
            parts: self.clone(),
            next: 0,
            cur: Fields::new(&[]),
        }
    }

    /// Every occurrence of message field `field`, merged.
    pub(crate) fn message(&self, field: u32) -> Parts<'a> {
        let mut out = Parts::default();
        for (f, v) in self.fields() {
            if let (true, Value::Len(b)) = (f == field, v) {
                out.push(b);
            }
        }
        out
    }

    /// Each occurrence of a repeated length-delimited field.
    pub(crate) fn repeated(&self, field: u32) -> Repeated<'a> {
        Repeated {
            fields: self.fields(),
            field,
        }
    }

    fn last_len(&self, field: u32) -> Option<&'a [u8]> {
        let mut last = None;
        for (f, v) in self.fields() {
            if let (true, Value::Len(b)) = (f == field, v) {
                last = Some(b);
            }
        }
        last
    }

    fn last_str(&self, field: u32) -> &'a str {
        self.last_len(field).map(as_str).unwrap_or("")
    }

    fn last_bytes(&self, field: u32) -> &'a [u8] {
        self.last_len(field).unwrap_or(&[])
    }

    fn last_varint(&self, field: u32) -> u64 {
        let mut last = 0;
        for (f, v) in self.fields() {
            if let (true, Value::Varint(x)) = (f == field, v) {
                last = x;
            }
        }
        last
    }

    fn last_fixed64(&self, field: u32) -> Option<u64> {
        let mut last = None;
        for (f, v) in self.fields() {
            if let (true, Value::I64(x)) = (f == field, v) {
                last = Some(x);
            }
        }
        last
    }

    fn last_fixed32(&self, field: u32) -> u32 {
        let mut last = 0;
        for (f, v) in self.fields() {
            if let (true, Value::I32(x)) = (f == field, v) {
                last = x;
            }
        }
        last
    }
}

/// Iterator over the fields of every occurrence of a message.
#[derive(Clone, Debug)]
pub(crate) struct PartsFields<'a> {
    parts: Parts<'a>,
    next: usize,
    cur: Fields<'a>,
}

impl<'a> Iterator for PartsFields<'a> {
    type Item = (u32, Value<'a>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(x) = self.cur.next() {
                return Some(x);
            }
            let p = *self.parts.slices().get(self.next)?;
            self.next += 1;
            self.cur = Fields::new(p);
        }
    }
}

/// Iterator over the occurrences of one repeated length-delimited field.
#[derive(Clone, Debug)]
pub(crate) struct Repeated<'a> {
    fields: PartsFields<'a>,
    field: u32,
}

impl<'a> Iterator for Repeated<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        for (f, v) in self.fields.by_ref() {
            if let (true, Value::Len(b)) = (f == self.field, v) {
                return Some(b);
            }
        }
        None
    }
}

/// Validated bytes are UTF-8; the check is repeated only to stay free of `unsafe`.
#[inline]
pub(crate) fn as_str(b: &[u8]) -> &str {
    simdutf8::basic::from_utf8(b).unwrap_or("")
}

macro_rules! attributes_iter {
    ($parts:expr, $field:expr) => {
        $parts.repeated($field).map(KeyValueView::new)
    };
}

// ---- common ------------------------------------------------------------------------------

/// One attribute: a key and an [`AnyValueView`].
#[derive(Clone, Debug)]
pub struct KeyValueView<'a> {
    raw: &'a [u8],
    key: &'a str,
    value: Parts<'a>,
}

impl<'a> KeyValueView<'a> {
    pub(crate) fn new(raw: &'a [u8]) -> Self {
        let mut key = "";
        let mut value = Parts::default();
        for (f, v) in Fields::new(raw) {
            match (f, v) {
                (key_value::KEY, Value::Len(b)) => key = as_str(b),
                (key_value::VALUE, Value::Len(b)) => value.push(b),
                _ => {}
            }
        }
        KeyValueView { raw, key, value }
    }

    /// The attribute key.
    pub fn key(&self) -> &'a str {
        self.key
    }

    /// The attribute value.
    pub fn value(&self) -> AnyValueView<'a> {
        AnyValueView::from_parts(&self.value)
    }

    /// The encoded `KeyValue` message body.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// Whether the `value` field is present at all (an absent value reads as
    /// [`AnyValueView::Empty`], as does an `AnyValue` with nothing set).
    pub fn has_value(&self) -> bool {
        !self.value.slices().is_empty()
    }
}

/// An OTLP `AnyValue`.
#[derive(Clone, Debug)]
pub enum AnyValueView<'a> {
    /// No value set (also a `string_value_strindex`, which only profiles use).
    Empty,
    /// `string_value`.
    Str(&'a str),
    /// `bool_value`.
    Bool(bool),
    /// `int_value`.
    Int(i64),
    /// `double_value`.
    Double(f64),
    /// `bytes_value`.
    Bytes(&'a [u8]),
    /// `array_value`.
    Array(ArrayView<'a>),
    /// `kvlist_value`.
    KvList(KeyValueListView<'a>),
}

impl<'a> AnyValueView<'a> {
    pub(crate) fn from_parts(parts: &Parts<'a>) -> Self {
        let mut cur = AnyValueView::Empty;
        for (f, v) in parts.fields() {
            cur = match (f, v) {
                (any_value::STRING_VALUE, Value::Len(b)) => AnyValueView::Str(as_str(b)),
                (any_value::BOOL_VALUE, Value::Varint(x)) => AnyValueView::Bool(x != 0),
                (any_value::INT_VALUE, Value::Varint(x)) => AnyValueView::Int(x as i64),
                (any_value::DOUBLE_VALUE, Value::I64(x)) => AnyValueView::Double(f64::from_bits(x)),
                (any_value::ARRAY_VALUE, Value::Len(b)) => match cur {
                    AnyValueView::Array(mut a) => {
                        a.parts.push(b);
                        AnyValueView::Array(a)
                    }
                    _ => AnyValueView::Array(ArrayView {
                        parts: Parts::one(b),
                    }),
                },
                (any_value::KVLIST_VALUE, Value::Len(b)) => match cur {
                    AnyValueView::KvList(mut a) => {
                        a.parts.push(b);
                        AnyValueView::KvList(a)
                    }
                    _ => AnyValueView::KvList(KeyValueListView {
                        parts: Parts::one(b),
                    }),
                },
                (any_value::BYTES_VALUE, Value::Len(b)) => AnyValueView::Bytes(b),
                (any_value::STRING_VALUE_STRINDEX, Value::Varint(_)) => AnyValueView::Empty,
                _ => cur,
            };
        }
        cur
    }

    /// The string, when the value is one; `None` for every other type (whose
    /// `AsString`, in `otlp::text`, needs allocating).
    pub fn as_str(&self) -> Option<&'a str> {
        match self {
            AnyValueView::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// An `ArrayValue`: a list of [`AnyValueView`].
#[derive(Clone, Debug)]
pub struct ArrayView<'a> {
    parts: Parts<'a>,
}

impl<'a> ArrayView<'a> {
    /// The elements, in order.
    pub fn iter(&self) -> impl Iterator<Item = AnyValueView<'a>> + 'a {
        self.parts
            .repeated(array_value::VALUES)
            .map(|b| AnyValueView::from_parts(&Parts::one(b)))
    }
}

/// A `KeyValueList`: a list of [`KeyValueView`].
#[derive(Clone, Debug)]
pub struct KeyValueListView<'a> {
    parts: Parts<'a>,
}

impl<'a> KeyValueListView<'a> {
    /// The entries, in order.
    pub fn iter(&self) -> impl Iterator<Item = KeyValueView<'a>> + 'a {
        attributes_iter!(self.parts, key_value_list::VALUES)
    }
}

// ---- resource and scope -------------------------------------------------------------------

/// A `ResourceSpans` / `ResourceLogs` / `ResourceMetrics` entry.
#[derive(Clone, Debug)]
pub struct ResourceView<'a> {
    parts: Parts<'a>,
}

impl<'a> ResourceView<'a> {
    pub(crate) fn new(pieces: &'a [Bytes]) -> Self {
        ResourceView {
            parts: Parts::from_pieces(pieces),
        }
    }

    /// The resource's attributes, in order (across merged `resource` occurrences).
    pub fn attributes(&self) -> impl Iterator<Item = KeyValueView<'a>> + 'a {
        let res = self.parts.message(resource_x::RESOURCE);
        attributes_iter!(res, resource::ATTRIBUTES)
    }

    /// The value of the first resource attribute named `key`.
    pub fn attribute(&self, key: &str) -> Option<AnyValueView<'a>> {
        self.attributes()
            .find(|kv| kv.key() == key)
            .map(|kv| kv.value())
    }

    /// `resource.dropped_attributes_count`.
    pub fn dropped_attributes_count(&self) -> u32 {
        self.parts
            .message(resource_x::RESOURCE)
            .last_varint(resource::DROPPED_ATTRIBUTES_COUNT) as u32
    }

    /// The entry's `schema_url`.
    pub fn schema_url(&self) -> &'a str {
        self.parts.last_str(resource_x::SCHEMA_URL)
    }

    /// The scope entries (`ScopeSpans` / `ScopeLogs` / `ScopeMetrics`), in order.
    pub fn scopes(&self) -> impl Iterator<Item = ScopeView<'a>> + 'a {
        self.parts
            .repeated(resource_x::SCOPE_X)
            .map(|b| ScopeView { body: b })
    }
}

/// A `ScopeSpans` / `ScopeLogs` / `ScopeMetrics` entry.
#[derive(Clone, Copy, Debug)]
pub struct ScopeView<'a> {
    body: &'a [u8],
}

impl<'a> ScopeView<'a> {
    pub(crate) fn new(body: &'a [u8]) -> Self {
        ScopeView { body }
    }

    fn scope(&self) -> Parts<'a> {
        Parts::one(self.body).message(scope_x::SCOPE)
    }

    /// The instrumentation scope's name.
    pub fn name(&self) -> &'a str {
        self.scope().last_str(instrumentation_scope::NAME)
    }

    /// The instrumentation scope's version.
    pub fn version(&self) -> &'a str {
        self.scope().last_str(instrumentation_scope::VERSION)
    }

    /// The instrumentation scope's attributes.
    pub fn attributes(&self) -> impl Iterator<Item = KeyValueView<'a>> + 'a {
        let s = self.scope();
        attributes_iter!(s, instrumentation_scope::ATTRIBUTES)
    }

    /// The scope entry's `schema_url`.
    pub fn schema_url(&self) -> &'a str {
        Parts::one(self.body).last_str(scope_x::SCHEMA_URL)
    }

    fn items(&self) -> Repeated<'a> {
        Parts::one(self.body).repeated(scope_x::ITEMS)
    }

    /// The spans of a `ScopeSpans`.
    pub fn spans(&self) -> impl Iterator<Item = SpanView<'a>> + 'a {
        self.items().map(|b| SpanView { p: Parts::one(b) })
    }

    /// The log records of a `ScopeLogs`.
    pub fn log_records(&self) -> impl Iterator<Item = LogRecordView<'a>> + 'a {
        self.items().map(|b| LogRecordView { p: Parts::one(b) })
    }

    /// The metrics of a `ScopeMetrics`.
    pub fn metrics(&self) -> impl Iterator<Item = MetricView<'a>> + 'a {
        self.items().map(|b| MetricView { p: Parts::one(b) })
    }
}

// ---- traces -------------------------------------------------------------------------------

/// A `Span`.
#[derive(Clone, Debug)]
pub struct SpanView<'a> {
    p: Parts<'a>,
}

impl<'a> SpanView<'a> {
    pub(crate) fn new(body: &'a [u8]) -> Self {
        SpanView {
            p: Parts::one(body),
        }
    }
    /// The encoded `Span` body.
    pub fn raw(&self) -> &'a [u8] {
        self.p.slices().first().copied().unwrap_or(&[])
    }
    /// 16 bytes, or empty.
    pub fn trace_id(&self) -> &'a [u8] {
        self.p.last_bytes(span::TRACE_ID)
    }
    /// 8 bytes, or empty.
    pub fn span_id(&self) -> &'a [u8] {
        self.p.last_bytes(span::SPAN_ID)
    }
    /// W3C trace state.
    pub fn trace_state(&self) -> &'a str {
        self.p.last_str(span::TRACE_STATE)
    }
    /// 8 bytes, or empty for a root span.
    pub fn parent_span_id(&self) -> &'a [u8] {
        self.p.last_bytes(span::PARENT_SPAN_ID)
    }
    /// The span name.
    pub fn name(&self) -> &'a str {
        self.p.last_str(span::NAME)
    }
    /// `SpanKind` as its number.
    pub fn kind(&self) -> i32 {
        self.p.last_varint(span::KIND) as i32
    }
    /// Start time, nanoseconds since the epoch.
    pub fn start_time_unix_nano(&self) -> u64 {
        self.p.last_fixed64(span::START_TIME_UNIX_NANO).unwrap_or(0)
    }
    /// End time, nanoseconds since the epoch.
    pub fn end_time_unix_nano(&self) -> u64 {
        self.p.last_fixed64(span::END_TIME_UNIX_NANO).unwrap_or(0)
    }
    /// The span's attributes.
    pub fn attributes(&self) -> impl Iterator<Item = KeyValueView<'a>> + 'a {
        attributes_iter!(self.p, span::ATTRIBUTES)
    }
    /// `dropped_attributes_count`.
    pub fn dropped_attributes_count(&self) -> u32 {
        self.p.last_varint(span::DROPPED_ATTRIBUTES_COUNT) as u32
    }
    /// The span's events.
    pub fn events(&self) -> impl Iterator<Item = EventView<'a>> + 'a {
        self.p
            .repeated(span::EVENTS)
            .map(|b| EventView { p: Parts::one(b) })
    }
    /// The span's links.
    pub fn links(&self) -> impl Iterator<Item = LinkView<'a>> + 'a {
        self.p
            .repeated(span::LINKS)
            .map(|b| LinkView { p: Parts::one(b) })
    }
    /// `status.code` (0 unset, 1 ok, 2 error).
    pub fn status_code(&self) -> i32 {
        self.p.message(span::STATUS).last_varint(status::CODE) as i32
    }
    /// `status.message`.
    pub fn status_message(&self) -> &'a str {
        self.p.message(span::STATUS).last_str(status::MESSAGE)
    }
    /// W3C trace flags and the remote-parent bits.
    pub fn flags(&self) -> u32 {
        self.p.last_fixed32(span::FLAGS)
    }
}

/// A span `Event`.
#[derive(Clone, Debug)]
pub struct EventView<'a> {
    p: Parts<'a>,
}

impl<'a> EventView<'a> {
    /// Event time, nanoseconds since the epoch.
    pub fn time_unix_nano(&self) -> u64 {
        self.p.last_fixed64(event::TIME_UNIX_NANO).unwrap_or(0)
    }
    /// The event name.
    pub fn name(&self) -> &'a str {
        self.p.last_str(event::NAME)
    }
    /// The event's attributes.
    pub fn attributes(&self) -> impl Iterator<Item = KeyValueView<'a>> + 'a {
        attributes_iter!(self.p, event::ATTRIBUTES)
    }
}

/// A span `Link`.
#[derive(Clone, Debug)]
pub struct LinkView<'a> {
    p: Parts<'a>,
}

impl<'a> LinkView<'a> {
    /// The linked trace id.
    pub fn trace_id(&self) -> &'a [u8] {
        self.p.last_bytes(link::TRACE_ID)
    }
    /// The linked span id.
    pub fn span_id(&self) -> &'a [u8] {
        self.p.last_bytes(link::SPAN_ID)
    }
    /// The link's attributes.
    pub fn attributes(&self) -> impl Iterator<Item = KeyValueView<'a>> + 'a {
        attributes_iter!(self.p, link::ATTRIBUTES)
    }
}

// ---- logs ---------------------------------------------------------------------------------

/// A `LogRecord`.
#[derive(Clone, Debug)]
pub struct LogRecordView<'a> {
    p: Parts<'a>,
}

impl<'a> LogRecordView<'a> {
    pub(crate) fn new(body: &'a [u8]) -> Self {
        LogRecordView {
            p: Parts::one(body),
        }
    }
    /// The encoded `LogRecord` body.
    pub fn raw(&self) -> &'a [u8] {
        self.p.slices().first().copied().unwrap_or(&[])
    }
    /// Event time, nanoseconds since the epoch.
    pub fn time_unix_nano(&self) -> u64 {
        self.p.last_fixed64(log_record::TIME_UNIX_NANO).unwrap_or(0)
    }
    /// Observation time, nanoseconds since the epoch.
    pub fn observed_time_unix_nano(&self) -> u64 {
        self.p
            .last_fixed64(log_record::OBSERVED_TIME_UNIX_NANO)
            .unwrap_or(0)
    }
    /// `SeverityNumber` as its number.
    pub fn severity_number(&self) -> i32 {
        self.p.last_varint(log_record::SEVERITY_NUMBER) as i32
    }
    /// Severity text.
    pub fn severity_text(&self) -> &'a str {
        self.p.last_str(log_record::SEVERITY_TEXT)
    }
    /// The log body.
    pub fn body(&self) -> AnyValueView<'a> {
        AnyValueView::from_parts(&self.p.message(log_record::BODY))
    }
    /// The record's attributes.
    pub fn attributes(&self) -> impl Iterator<Item = KeyValueView<'a>> + 'a {
        attributes_iter!(self.p, log_record::ATTRIBUTES)
    }
    /// 16 bytes, or empty.
    pub fn trace_id(&self) -> &'a [u8] {
        self.p.last_bytes(log_record::TRACE_ID)
    }
    /// 8 bytes, or empty.
    pub fn span_id(&self) -> &'a [u8] {
        self.p.last_bytes(log_record::SPAN_ID)
    }
    /// The event name.
    pub fn event_name(&self) -> &'a str {
        self.p.last_str(log_record::EVENT_NAME)
    }
}

// ---- metrics ------------------------------------------------------------------------------

/// Which `data` member a metric holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricKind {
    /// No data set.
    Empty,
    /// `gauge`.
    Gauge,
    /// `sum`.
    Sum,
    /// `histogram`.
    Histogram,
    /// `exponential_histogram`.
    ExponentialHistogram,
    /// `summary`.
    Summary,
}

impl MetricKind {
    fn from_field(f: u32) -> MetricKind {
        match f {
            metric::GAUGE => MetricKind::Gauge,
            metric::SUM => MetricKind::Sum,
            metric::HISTOGRAM => MetricKind::Histogram,
            metric::EXPONENTIAL_HISTOGRAM => MetricKind::ExponentialHistogram,
            metric::SUMMARY => MetricKind::Summary,
            _ => MetricKind::Empty,
        }
    }

    /// The `attributes` field of this kind's data points (gauges and sums hold
    /// `NumberDataPoint`s; `Empty` has no points and reads as a number point).
    pub(crate) fn point_attributes(self) -> u32 {
        match self {
            MetricKind::ExponentialHistogram => exponential_histogram_data_point::ATTRIBUTES,
            MetricKind::Histogram => histogram_data_point::ATTRIBUTES,
            MetricKind::Summary => summary_data_point::ATTRIBUTES,
            MetricKind::Empty | MetricKind::Gauge | MetricKind::Sum => {
                number_data_point::ATTRIBUTES
            }
        }
    }

    /// The Go collector's name for the type (`Gauge`, `Sum`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            MetricKind::Empty => "Empty",
            MetricKind::Gauge => "Gauge",
            MetricKind::Sum => "Sum",
            MetricKind::Histogram => "Histogram",
            MetricKind::ExponentialHistogram => "ExponentialHistogram",
            MetricKind::Summary => "Summary",
        }
    }
}

/// Is `f` a member of `Metric.data`?
pub(crate) fn is_metric_data(f: u32) -> bool {
    matches!(
        f,
        metric::GAUGE
            | metric::SUM
            | metric::HISTOGRAM
            | metric::EXPONENTIAL_HISTOGRAM
            | metric::SUMMARY
    )
}

/// The effective `data` member of a metric: its field number and its occurrences (the
/// trailing run of that member, which prost merges; earlier other members are replaced).
pub(crate) fn metric_data<'a>(p: &Parts<'a>) -> (u32, Parts<'a>) {
    let mut variant = 0;
    let mut parts = Parts::default();
    for (f, v) in p.fields() {
        if let (true, Value::Len(b)) = (is_metric_data(f), v) {
            if f != variant {
                variant = f;
                parts = Parts::default();
            }
            parts.push(b);
        }
    }
    (variant, parts)
}

/// A `Metric`.
#[derive(Clone, Debug)]
pub struct MetricView<'a> {
    p: Parts<'a>,
}

impl<'a> MetricView<'a> {
    pub(crate) fn new(body: &'a [u8]) -> Self {
        MetricView {
            p: Parts::one(body),
        }
    }
    /// The metric name.
    pub fn name(&self) -> &'a str {
        self.p.last_str(metric::NAME)
    }
    /// The description.
    pub fn description(&self) -> &'a str {
        self.p.last_str(metric::DESCRIPTION)
    }
    /// The unit.
    pub fn unit(&self) -> &'a str {
        self.p.last_str(metric::UNIT)
    }
    /// Which data member is set.
    pub fn kind(&self) -> MetricKind {
        MetricKind::from_field(metric_data(&self.p).0)
    }
    /// `aggregation_temporality` of a sum or histogram (0 otherwise).
    pub fn aggregation_temporality(&self) -> i32 {
        let (f, parts) = metric_data(&self.p);
        if matches!(
            f,
            metric::SUM | metric::HISTOGRAM | metric::EXPONENTIAL_HISTOGRAM
        ) {
            parts.last_varint(points_wrapper::AGGREGATION_TEMPORALITY) as i32
        } else {
            0
        }
    }
    /// `is_monotonic` of a sum.
    pub fn is_monotonic(&self) -> bool {
        let (f, parts) = metric_data(&self.p);
        f == metric::SUM && parts.last_varint(sum::IS_MONOTONIC) != 0
    }
    /// The data points.
    pub fn data_points(&self) -> impl Iterator<Item = DataPointView<'a>> + 'a {
        let (f, parts) = metric_data(&self.p);
        let kind = MetricKind::from_field(f);
        parts
            .repeated(points_wrapper::DATA_POINTS)
            .map(move |b| DataPointView {
                kind,
                p: Parts::one(b),
            })
    }
}

/// A data point of any metric kind.
#[derive(Clone, Debug)]
pub struct DataPointView<'a> {
    kind: MetricKind,
    p: Parts<'a>,
}

impl<'a> DataPointView<'a> {
    pub(crate) fn new(kind: MetricKind, body: &'a [u8]) -> Self {
        DataPointView {
            kind,
            p: Parts::one(body),
        }
    }
    /// The kind of the metric this point belongs to.
    pub fn kind(&self) -> MetricKind {
        self.kind
    }
    /// The point's attributes.
    pub fn attributes(&self) -> impl Iterator<Item = KeyValueView<'a>> + 'a {
        attributes_iter!(self.p, self.kind.point_attributes())
    }
    /// Start time, nanoseconds since the epoch.
    pub fn start_time_unix_nano(&self) -> u64 {
        self.p
            .last_fixed64(data_point::START_TIME_UNIX_NANO)
            .unwrap_or(0)
    }
    /// Time, nanoseconds since the epoch.
    pub fn time_unix_nano(&self) -> u64 {
        self.p.last_fixed64(data_point::TIME_UNIX_NANO).unwrap_or(0)
    }
    /// A gauge or sum point's value: `as_double`, or `as_int` as f64, whichever came last.
    pub fn number_value(&self) -> Option<f64> {
        let mut last = None;
        for (f, v) in self.p.fields() {
            match (f, v) {
                (number_data_point::AS_DOUBLE, Value::I64(x)) => last = Some(f64::from_bits(x)),
                (number_data_point::AS_INT, Value::I64(x)) => last = Some(x as i64 as f64),
                _ => {}
            }
        }
        last
    }
    /// `count` of a histogram, exponential histogram or summary point.
    pub fn count(&self) -> u64 {
        match self.kind {
            MetricKind::Histogram | MetricKind::ExponentialHistogram | MetricKind::Summary => {
                self.p.last_fixed64(data_point::COUNT).unwrap_or(0)
            }
            _ => 0,
        }
    }
    /// `sum` of a histogram, exponential histogram or summary point, when present.
    pub fn sum(&self) -> Option<f64> {
        match self.kind {
            MetricKind::Histogram | MetricKind::ExponentialHistogram | MetricKind::Summary => {
                self.p.last_fixed64(data_point::SUM).map(f64::from_bits)
            }
            _ => None,
        }
    }
}
