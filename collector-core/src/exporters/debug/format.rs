//! Text renderings of payloads for the `debug` exporter.
//!
//! `basic`, `normal` and `detailed` reproduce the Go collector's debug exporter (v0.138)
//! byte for byte where the views carry the data, so that output, tutorials and habits
//! carry over from the Go collector. `tree` is ours: it draws each trace of a batch with
//! durations, which is what people reach for the debug exporter to see.
//!
//! Everything here is a pure function of the payload: the exporter decides where the text
//! goes and how often.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::Verbosity;
use crate::Signal;
use crate::otlp::text::{as_string, go_f, go_v};
use crate::otlp::wire::{Fields, Value};
use crate::otlp::{
    AnyValueView, DataPointView, KeyValueView, LogRecordView, MetricKind, MetricView, Payload,
    ScopeView, SpanView,
};

/// One payload rendered for the debug exporter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rendered {
    /// The one-line count Go logs for every batch (the whole `basic` output).
    pub(crate) summary: String,
    /// The multi-line body for `normal`, `detailed` and `tree`; every line ends in `\n`.
    pub(crate) detail: Option<String>,
}

/// One payload rendered for the debug exporter: Go logs the summary for every batch and
/// the detail, when the verbosity asks for one, after it.
pub(crate) fn render(payload: &Payload, verbosity: Verbosity) -> Rendered {
    let detail = match verbosity {
        Verbosity::Basic => None,
        Verbosity::Normal => Some(normal(payload)),
        Verbosity::Detailed => Some(detailed(payload)),
        // A tree needs parent links, which only spans have.
        Verbosity::Tree => Some(match payload.signal() {
            Signal::Traces => tree(payload),
            Signal::Logs | Signal::Metrics => normal(payload),
        }),
    };
    Rendered {
        summary: summary(payload),
        detail,
    }
}

/// Appends one line; writing to a `String` cannot fail, so the result is dropped.
macro_rules! ln {
    ($out:expr, $($arg:tt)*) => {{
        let _ = writeln!($out, $($arg)*);
    }};
}

// ---- basic ----------------------------------------------------------------------------

/// The zap console rendering of the fields Go's exporter logs with the message.
fn summary(p: &Payload) -> String {
    let resources = p.resources().count();
    match p.signal() {
        Signal::Traces => format!(
            r#"Traces {{"resource spans": {resources}, "spans": {}}}"#,
            p.items()
        ),
        Signal::Logs => format!(
            r#"Logs {{"resource logs": {resources}, "log records": {}}}"#,
            p.items()
        ),
        Signal::Metrics => {
            let mut metrics = 0usize;
            for r in p.resources() {
                for s in r.scopes() {
                    metrics += s.metrics().count();
                }
            }
            format!(
                r#"Metrics {{"resource metrics": {resources}, "metrics": {metrics}, "data points": {}}}"#,
                p.items()
            )
        }
    }
}

// ---- normal ---------------------------------------------------------------------------

/// Go's `normal` output: a line per resource and scope, then one per item.
///
/// The group labels are Go's (`ResourceTraces`, `ResourceLog`, ...), but scope lines carry
/// the scope's own index where Go repeats the resource's.
fn normal(p: &Payload) -> String {
    let (resource_label, scope_label) = match p.signal() {
        Signal::Traces => ("ResourceTraces", "ScopeTraces"),
        Signal::Logs => ("ResourceLog", "ScopeLog"),
        Signal::Metrics => ("ResourceMetrics", "ScopeMetrics"),
    };
    let mut out = String::new();
    for (i, r) in p.resources().enumerate() {
        let schema = match r.schema_url() {
            "" => String::new(),
            url => format!(" [{url}]"),
        };
        ln!(
            out,
            "{resource_label} #{i}{schema}{}",
            attributes_line(r.attributes())
        );
        for (j, s) in r.scopes().enumerate() {
            ln!(
                out,
                "{scope_label} #{j}{}{}",
                scope_details(&s),
                attributes_line(s.attributes())
            );
            match p.signal() {
                Signal::Traces => s.spans().for_each(|span| normal_span(&mut out, &span)),
                Signal::Logs => s.log_records().for_each(|lr| normal_log(&mut out, &lr)),
                Signal::Metrics => s.metrics().for_each(|m| normal_metric(&mut out, &m)),
            }
        }
    }
    out
}

/// ` name@version [schema] `, each part only when set (Go's `writeScopeDetails`).
fn scope_details(s: &ScopeView<'_>) -> String {
    let mut d = String::from(s.name());
    if !s.version().is_empty() {
        d.push('@');
        d.push_str(s.version());
    }
    if !s.schema_url().is_empty() {
        if !d.is_empty() {
            d.push(' ');
        }
        let _ = write!(d, "[{}]", s.schema_url());
    }
    if !d.is_empty() {
        d.insert(0, ' ');
    }
    d
}

/// `k=v` pairs, each behind a space.
fn attributes_line<'a>(attrs: impl Iterator<Item = KeyValueView<'a>>) -> String {
    let mut s = String::new();
    for kv in attrs {
        let _ = write!(s, " {}={}", kv.key(), as_string(&kv.value()));
    }
    s
}

fn normal_span(out: &mut String, span: &SpanView<'_>) {
    ln!(
        out,
        "{} {} {}{}",
        span.name(),
        go_id(span.trace_id()),
        go_id(span.span_id()),
        attributes_line(span.attributes())
    );
}

fn normal_log(out: &mut String, lr: &LogRecordView<'_>) {
    // Go joins body and attributes with a space even when there are no attributes.
    let attrs: Vec<String> = lr
        .attributes()
        .map(|kv| format!("{}={}", kv.key(), as_string(&kv.value())))
        .collect();
    ln!(out, "{} {}", as_string(&lr.body()), attrs.join(" "));
}

fn normal_metric(out: &mut String, m: &MetricView<'_>) {
    for dp in m.data_points() {
        let attrs: Vec<String> = dp
            .attributes()
            .map(|kv| format!("{}={}", kv.key(), as_string(&kv.value())))
            .collect();
        let value = match dp.kind() {
            MetricKind::Empty => continue,
            MetricKind::Gauge | MetricKind::Sum => match dp.number_value() {
                Some(v) => go_v(v),
                None => String::new(),
            },
            MetricKind::Histogram | MetricKind::ExponentialHistogram => match dp.sum() {
                Some(sum) => format!("count={} sum={}", dp.count(), go_v(sum)),
                None => format!("count={}", dp.count()),
            },
            MetricKind::Summary => {
                format!("count={} sum={}", dp.count(), go_f(dp.sum().unwrap_or(0.0)))
            }
        };
        ln!(out, "{}{{{}}} {value}", m.name(), attrs.join(","));
    }
}

// ---- detailed -------------------------------------------------------------------------

/// Go's `detailed` output (`otlptext`): every field, one per line.
fn detailed(p: &Payload) -> String {
    let (resource_label, scope_label) = match p.signal() {
        Signal::Traces => ("ResourceSpans", "ScopeSpans"),
        Signal::Logs => ("ResourceLog", "ScopeLogs"),
        Signal::Metrics => ("ResourceMetrics", "ScopeMetrics"),
    };
    let mut out = String::new();
    for (i, r) in p.resources().enumerate() {
        ln!(out, "{resource_label} #{i}");
        ln!(out, "Resource SchemaURL: {}", r.schema_url());
        attributes_block(&mut out, "Resource attributes", r.attributes());
        for (j, s) in r.scopes().enumerate() {
            ln!(out, "{scope_label} #{j}");
            ln!(out, "{scope_label} SchemaURL: {}", s.schema_url());
            ln!(out, "InstrumentationScope {} {}", s.name(), s.version());
            attributes_block(&mut out, "InstrumentationScope attributes", s.attributes());
            match p.signal() {
                Signal::Traces => {
                    for (k, span) in s.spans().enumerate() {
                        detailed_span(&mut out, k, &span);
                    }
                }
                Signal::Logs => {
                    for (k, lr) in s.log_records().enumerate() {
                        detailed_log(&mut out, k, &lr);
                    }
                }
                Signal::Metrics => {
                    for (k, m) in s.metrics().enumerate() {
                        detailed_metric(&mut out, k, &m);
                    }
                }
            }
        }
    }
    out
}

/// Go's `logAttributes`: nothing for an empty map; a header containing `->` indents the
/// entries by what precedes the arrow (which is how Go nests event and link attributes).
fn attributes_block<'a>(
    out: &mut String,
    header: &str,
    attrs: impl Iterator<Item = KeyValueView<'a>>,
) {
    let mut attrs = attrs.peekable();
    if attrs.peek().is_none() {
        return;
    }
    ln!(out, "{header}:");
    let indent = header.split_once("->").map_or("", |(before, _)| before);
    for kv in attrs {
        ln!(
            out,
            "{indent}     -> {}: {}",
            kv.key(),
            value_to_string(&kv.value())
        );
    }
}

/// Go's `logAttr`: the aligned `    Name           : value` lines of a span.
fn field(out: &mut String, name: &str, value: &str) {
    ln!(out, "    {name:<15}: {value}");
}

fn detailed_span(out: &mut String, k: usize, span: &SpanView<'_>) {
    ln!(out, "Span #{k}");
    field(out, "Trace ID", &go_id(span.trace_id()));
    field(out, "Parent ID", &go_id(span.parent_span_id()));
    field(out, "ID", &go_id(span.span_id()));
    field(out, "Name", span.name());
    field(out, "Kind", span_kind(span.kind()));
    if !span.trace_state().is_empty() {
        field(out, "TraceState", span.trace_state());
    }
    field(out, "Start time", &go_time(span.start_time_unix_nano()));
    field(out, "End time", &go_time(span.end_time_unix_nano()));
    field(out, "Status code", status_code(span.status_code()));
    field(out, "Status message", span.status_message());
    attributes_block(out, "Attributes", span.attributes());

    let extras = SpanExtras::read(span.raw());
    let mut events = span.events().peekable();
    if events.peek().is_some() {
        ln!(out, "Events:");
    }
    for (i, e) in events.enumerate() {
        ln!(out, "SpanEvent #{i}");
        ln!(out, "     -> Name: {}", e.name());
        ln!(out, "     -> Timestamp: {}", go_time(e.time_unix_nano()));
        let dropped = extras.event_dropped.get(i).copied().unwrap_or(0);
        ln!(out, "     -> DroppedAttributesCount: {dropped}");
        attributes_block(out, "     -> Attributes:", e.attributes());
    }
    let mut links = span.links().peekable();
    if links.peek().is_some() {
        ln!(out, "Links:");
    }
    for (i, l) in links.enumerate() {
        let (state, dropped) = extras.links.get(i).copied().unwrap_or(("", 0));
        ln!(out, "SpanLink #{i}");
        ln!(out, "     -> Trace ID: {}", go_id(l.trace_id()));
        ln!(out, "     -> ID: {}", go_id(l.span_id()));
        ln!(out, "     -> TraceState: {state}");
        ln!(out, "     -> DroppedAttributesCount: {dropped}");
        attributes_block(out, "     -> Attributes:", l.attributes());
    }
}

fn detailed_log(out: &mut String, k: usize, lr: &LogRecordView<'_>) {
    ln!(out, "LogRecord #{k}");
    ln!(
        out,
        "ObservedTimestamp: {}",
        go_time(lr.observed_time_unix_nano())
    );
    ln!(out, "Timestamp: {}", go_time(lr.time_unix_nano()));
    ln!(out, "SeverityText: {}", lr.severity_text());
    let sev = lr.severity_number();
    ln!(out, "SeverityNumber: {}({sev})", severity_name(sev));
    if !lr.event_name().is_empty() {
        ln!(out, "EventName: {}", lr.event_name());
    }
    ln!(out, "Body: {}", value_to_string(&lr.body()));
    attributes_block(out, "Attributes", lr.attributes());
    ln!(out, "Trace ID: {}", go_id(lr.trace_id()));
    ln!(out, "Span ID: {}", go_id(lr.span_id()));
    ln!(out, "Flags: {}", log_flags(lr.raw()));
}

fn detailed_metric(out: &mut String, k: usize, m: &MetricView<'_>) {
    ln!(out, "Metric #{k}");
    ln!(out, "Descriptor:");
    ln!(out, "     -> Name: {}", m.name());
    ln!(out, "     -> Description: {}", m.description());
    ln!(out, "     -> Unit: {}", m.unit());
    ln!(out, "     -> DataType: {}", m.kind().as_str());
    let temporality = temporality(m.aggregation_temporality());
    let label = match m.kind() {
        MetricKind::Empty => return,
        MetricKind::Gauge | MetricKind::Sum => "NumberDataPoints",
        MetricKind::Histogram => "HistogramDataPoints",
        MetricKind::ExponentialHistogram => "ExponentialHistogramDataPoints",
        MetricKind::Summary => "SummaryDataPoints",
    };
    match m.kind() {
        MetricKind::Sum => {
            ln!(out, "     -> IsMonotonic: {}", m.is_monotonic());
            ln!(out, "     -> AggregationTemporality: {temporality}");
        }
        MetricKind::Histogram | MetricKind::ExponentialHistogram => {
            ln!(out, "     -> AggregationTemporality: {temporality}");
        }
        _ => {}
    }
    for (i, dp) in m.data_points().enumerate() {
        ln!(out, "{label} #{i}");
        detailed_point(out, &dp);
    }
}

fn detailed_point(out: &mut String, dp: &DataPointView<'_>) {
    attributes_block(out, "Data point attributes", dp.attributes());
    ln!(
        out,
        "StartTimestamp: {}",
        go_time(dp.start_time_unix_nano())
    );
    ln!(out, "Timestamp: {}", go_time(dp.time_unix_nano()));
    match dp.kind() {
        MetricKind::Empty => {}
        // The view folds `as_int` into a double, so both print as Go prints doubles.
        MetricKind::Gauge | MetricKind::Sum => {
            if let Some(v) = dp.number_value() {
                ln!(out, "Value: {}", go_f(v));
            }
        }
        MetricKind::Histogram | MetricKind::ExponentialHistogram => {
            ln!(out, "Count: {}", dp.count());
            if let Some(sum) = dp.sum() {
                ln!(out, "Sum: {}", go_f(sum));
            }
        }
        // A summary's sum is not optional in the proto, so Go always prints it.
        MetricKind::Summary => {
            ln!(out, "Count: {}", dp.count());
            ln!(out, "Sum: {}", go_f(dp.sum().unwrap_or(0.0)));
        }
    }
}

// ---- fields the views do not expose ---------------------------------------------------
//
// Go prints a log record's flags, and each span event's and link's dropped-attribute count
// and each link's trace state. The views have no accessors for these yet, so they are read
// here from the item's own encoding (validated, hence iteration simply ends on surprises).

/// `LogRecord.flags` (field 8, fixed32; the last occurrence wins, as in prost).
fn log_flags(raw: &[u8]) -> u32 {
    let mut flags = 0;
    for (f, v) in Fields::new(raw) {
        if let (8, Value::I32(x)) = (f, v) {
            flags = x;
        }
    }
    flags
}

/// Per event and per link of one span, in the order the views yield them.
struct SpanExtras<'a> {
    /// `Event.dropped_attributes_count` (field 4).
    event_dropped: Vec<u32>,
    /// `Link.trace_state` (field 3) and `Link.dropped_attributes_count` (field 5).
    links: Vec<(&'a str, u32)>,
}

impl<'a> SpanExtras<'a> {
    fn read(span: &'a [u8]) -> SpanExtras<'a> {
        let mut extras = SpanExtras {
            event_dropped: Vec::new(),
            links: Vec::new(),
        };
        for (f, v) in Fields::new(span) {
            match (f, v) {
                (11, Value::Len(event)) => {
                    let mut dropped = 0;
                    for (f, v) in Fields::new(event) {
                        if let (4, Value::Varint(x)) = (f, v) {
                            dropped = x as u32;
                        }
                    }
                    extras.event_dropped.push(dropped);
                }
                (13, Value::Len(link)) => {
                    let (mut state, mut dropped) = ("", 0);
                    for (f, v) in Fields::new(link) {
                        match (f, v) {
                            (3, Value::Len(b)) => state = std::str::from_utf8(b).unwrap_or(""),
                            (5, Value::Varint(x)) => dropped = x as u32,
                            _ => {}
                        }
                    }
                    extras.links.push((state, dropped));
                }
                _ => {}
            }
        }
        extras
    }
}

// ---- tree -----------------------------------------------------------------------------

/// One span, as the tree needs it.
struct Node<'a> {
    id: &'a [u8],
    parent: &'a [u8],
    name: &'a str,
    service: usize,
    start: u64,
    end: u64,
}

impl Node<'_> {
    fn duration(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }
}

/// The spans of each trace drawn as a tree, traces in order of first appearance.
///
/// A span hangs under the span of the batch its parent id names; a span whose parent is
/// elsewhere (or that has none) is drawn as a root, since a batch rarely holds a whole
/// trace. Ids come from the wire: duplicates, self-parents and cycles must not hang or
/// repeat a span, so each span is drawn exactly once.
fn tree(p: &Payload) -> String {
    let mut services: Vec<String> = Vec::new();
    let mut traces: Vec<(&[u8], Vec<Node<'_>>)> = Vec::new();
    let mut trace_index: HashMap<&[u8], usize> = HashMap::new();
    for r in p.resources() {
        let service = services.len();
        services.push(
            r.attribute("service.name")
                .map(|v| as_string(&v))
                .unwrap_or_default(),
        );
        for s in r.scopes() {
            for span in s.spans() {
                let trace_id = span.trace_id();
                let t = *trace_index.entry(trace_id).or_insert_with(|| {
                    traces.push((trace_id, Vec::new()));
                    traces.len() - 1
                });
                traces[t].1.push(Node {
                    id: span.span_id(),
                    parent: span.parent_span_id(),
                    name: span.name(),
                    service,
                    start: span.start_time_unix_nano(),
                    end: span.end_time_unix_nano(),
                });
            }
        }
    }
    let mut out = String::new();
    for (i, (trace_id, nodes)) in traces.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        draw_trace(&mut out, trace_id, nodes, &services);
    }
    out
}

fn draw_trace(out: &mut String, trace_id: &[u8], nodes: &[Node<'_>], services: &[String]) {
    let n = nodes.len();
    // The first span with an id wins it; an empty id names no span.
    let mut by_id: HashMap<&[u8], usize> = HashMap::with_capacity(n);
    for (i, node) in nodes.iter().enumerate() {
        if !node.id.is_empty() {
            by_id.entry(node.id).or_insert(i);
        }
    }
    let parent_of: Vec<Option<usize>> = nodes
        .iter()
        .enumerate()
        .map(|(i, node)| {
            if node.parent.is_empty() {
                return None;
            }
            by_id.get(node.parent).copied().filter(|&p| p != i)
        })
        .collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut roots = Vec::new();
    for (i, parent) in parent_of.iter().enumerate() {
        match parent {
            Some(p) => children[*p].push(i),
            None => roots.push(i),
        }
    }
    // Stable sorts: spans that start together keep their order in the batch.
    for kids in &mut children {
        kids.sort_by_key(|&k| nodes[k].start);
    }
    roots.sort_by_key(|&k| nodes[k].start);

    let mut body = String::new();
    let mut visited = vec![false; n];
    for &root in &roots {
        draw_subtree(&mut body, root, nodes, &children, &mut visited, services);
    }
    // Spans on a parent cycle have no root above them. Promote the topmost not yet drawn
    // (climbing stops where the climb meets itself), so they appear once, not never.
    let mut climbed = vec![usize::MAX; n];
    let mut promoted = Vec::new();
    for start in 0..n {
        if visited[start] {
            continue;
        }
        let mut top = start;
        climbed[top] = start;
        while let Some(p) = parent_of[top] {
            if visited[p] || climbed[p] == start {
                break;
            }
            climbed[p] = start;
            top = p;
        }
        promoted.push(top);
        draw_subtree(&mut body, top, nodes, &children, &mut visited, services);
    }

    let first_root = roots.first().or(promoted.first()).copied();
    let service = first_root.map_or("", |r| services[nodes[r].service].as_str());
    let longest = roots
        .iter()
        .chain(&promoted)
        .map(|&r| nodes[r].duration())
        .max()
        .unwrap_or(0);
    let id = if trace_id.is_empty() {
        "<empty>".to_owned()
    } else {
        const_hex::encode(trace_id)
    };
    let spans = if n == 1 { "span" } else { "spans" };
    let service = if service.is_empty() {
        String::new()
    } else {
        format!("{service}, ")
    };
    ln!(
        out,
        "Trace {id} ({service}{n} {spans}, {})",
        format_duration(longest)
    );
    out.push_str(&body);
}

/// Draws `root` and every span below it not drawn yet, depth first.
///
/// An explicit stack, not recursion: a batch may hold a parent chain thousands deep.
fn draw_subtree(
    out: &mut String,
    root: usize,
    nodes: &[Node<'_>],
    children: &[Vec<usize>],
    visited: &mut [bool],
    services: &[String],
) {
    struct Item {
        node: usize,
        /// What precedes the name on this span's line.
        lead: String,
        /// What precedes the connectors of this span's children.
        indent: String,
        slowest: bool,
        /// The parent's service, or `None` on a root (which always names its service).
        parent_service: Option<usize>,
    }
    visited[root] = true;
    let mut stack = vec![Item {
        node: root,
        lead: String::new(),
        indent: String::new(),
        slowest: false,
        parent_service: None,
    }];
    while let Some(item) = stack.pop() {
        let node = &nodes[item.node];
        let service = services[node.service].as_str();
        let prefix = match item.parent_service {
            Some(ps) if services[ps] == service => "",
            _ if service.is_empty() => "",
            _ => service,
        };
        let _ = write!(out, "{}", item.lead);
        if !prefix.is_empty() {
            let _ = write!(out, "{prefix}: ");
        }
        let mark = if item.slowest { " ◀ slowest" } else { "" };
        ln!(
            out,
            "{} ({}){mark}",
            node.name,
            format_duration(node.duration())
        );

        // Only a cycle can lead back to a drawn span: each span has a single parent.
        let kids: Vec<usize> = children[item.node]
            .iter()
            .copied()
            .filter(|&k| !visited[k])
            .collect();
        for &k in &kids {
            visited[k] = true;
        }
        let slowest = if kids.len() >= 2 {
            // The first of equally slow siblings.
            kids.iter()
                .copied()
                .rev()
                .max_by_key(|&k| nodes[k].duration())
        } else {
            None
        };
        let last = kids.len().saturating_sub(1);
        for (pos, &k) in kids.iter().enumerate().rev() {
            let (connector, continuation) = if pos == last {
                ("└── ", "    ")
            } else {
                ("├── ", "│   ")
            };
            stack.push(Item {
                node: k,
                lead: format!("{}{connector}", item.indent),
                indent: format!("{}{continuation}", item.indent),
                slowest: slowest == Some(k),
                parent_service: Some(node.service),
            });
        }
    }
}

/// A span duration, with about three significant digits.
///
/// Below 10 of a unit one decimal is kept (`2.3ms`), above it none (`156ms`); seconds
/// keep two (`2.50s`). Rounding that reaches 1000 of a unit moves to the next unit.
fn format_duration(ns: u64) -> String {
    if ns < 1_000 {
        return format!("{ns}ns");
    }
    for (unit, suffix) in [(1_000u64, "µs"), (1_000_000, "ms")] {
        if ns >= unit * 1_000 {
            continue;
        }
        let tenths = (ns * 10 + unit / 2) / unit;
        if tenths < 100 {
            return format!("{}.{}{suffix}", tenths / 10, tenths % 10);
        }
        let whole = (ns + unit / 2) / unit;
        if whole < 1_000 {
            return format!("{whole}{suffix}");
        }
    }
    let centis = ns / 10_000_000 + u64::from(ns % 10_000_000 >= 5_000_000);
    format!("{}.{:02}s", centis / 100, centis % 100)
}

// ---- pdata's renderings ---------------------------------------------------------------

/// A trace or span id as pdata prints it: lowercase hex, and nothing for an all-zero id
/// (which OTLP defines as invalid) as for a missing one.
fn go_id(id: &[u8]) -> String {
    if id.iter().all(|&b| b == 0) {
        String::new()
    } else {
        const_hex::encode(id)
    }
}

/// `pcommon.Timestamp.String()`: Go's `time.Time.String()` in UTC, fraction trimmed.
fn go_time(unix_nano: u64) -> String {
    // pdata converts with int64(ts): the top half of the range prints as dates before 1970.
    let t = unix_nano as i64;
    let secs = t.div_euclid(1_000_000_000);
    let nanos = t.rem_euclid(1_000_000_000);
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    let mut s = format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        sod / 3_600,
        sod % 3_600 / 60,
        sod % 60
    );
    if nanos != 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push_str(" +0000 UTC");
    s
}

/// Proleptic Gregorian date of a day count from 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, exact over the whole `i64` nanosecond range).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn span_kind(kind: i32) -> &'static str {
    match kind {
        0 => "Unspecified",
        1 => "Internal",
        2 => "Server",
        3 => "Client",
        4 => "Producer",
        5 => "Consumer",
        _ => "",
    }
}

fn status_code(code: i32) -> &'static str {
    match code {
        0 => "Unset",
        1 => "Ok",
        2 => "Error",
        _ => "",
    }
}

fn temporality(t: i32) -> &'static str {
    match t {
        0 => "Unspecified",
        1 => "Delta",
        2 => "Cumulative",
        _ => "",
    }
}

fn severity_name(n: i32) -> &'static str {
    const NAMES: [&str; 25] = [
        "Unspecified",
        "Trace",
        "Trace2",
        "Trace3",
        "Trace4",
        "Debug",
        "Debug2",
        "Debug3",
        "Debug4",
        "Info",
        "Info2",
        "Info3",
        "Info4",
        "Warn",
        "Warn2",
        "Warn3",
        "Warn4",
        "Error",
        "Error2",
        "Error3",
        "Error4",
        "Fatal",
        "Fatal2",
        "Fatal3",
        "Fatal4",
    ];
    usize::try_from(n)
        .ok()
        .and_then(|i| NAMES.get(i))
        .copied()
        .unwrap_or("")
}

/// `pcommon.Value.Type().String()`.
fn value_type(v: &AnyValueView<'_>) -> &'static str {
    match v {
        AnyValueView::Empty => "Empty",
        AnyValueView::Str(_) => "Str",
        AnyValueView::Bool(_) => "Bool",
        AnyValueView::Int(_) => "Int",
        AnyValueView::Double(_) => "Double",
        AnyValueView::Bytes(_) => "Bytes",
        AnyValueView::Array(_) => "Slice",
        AnyValueView::KvList(_) => "Map",
    }
}

/// The debug exporter's `Type(AsString)` rendering of a value.
fn value_to_string(v: &AnyValueView<'_>) -> String {
    format!("{}({})", value_type(v), as_string(v))
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::any_value::Value as V;
    use opentelemetry_proto::tonic::common::v1::{
        AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList,
    };
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::metrics::v1::{
        ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint,
        Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint,
        metric::Data, number_data_point,
    };
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::span::{Event, Link};
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
    use prost::Message as _;

    use super::*;

    // The `basic`, `normal` and `detailed` fixtures below claim the Go collector's exact
    // text. Each test names the Go source it follows: open-telemetry/opentelemetry-collector
    // at tag v0.138.0, paths relative to the repository root, line numbers of that tag
    // (`debugexporter` is exporter/debugexporter, `pcommon` is pdata/pcommon). `tree` is
    // ours and has no Go counterpart.

    /// 2025-10-31 15:42:33.123 UTC.
    const T0: u64 = 1_761_925_353_123_000_000;
    const MS: u64 = 1_000_000;

    fn kv(key: &str, v: V) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(v) }),
            key_strindex: 0,
        }
    }

    fn text(s: &str) -> V {
        V::StringValue(s.into())
    }

    fn resource(attrs: Vec<KeyValue>) -> Option<Resource> {
        Some(Resource {
            attributes: attrs,
            ..Default::default()
        })
    }

    fn service(name: &str) -> Option<Resource> {
        resource(vec![kv("service.name", text(name))])
    }

    fn scope(name: &str, version: &str, attrs: Vec<KeyValue>) -> Option<InstrumentationScope> {
        Some(InstrumentationScope {
            name: name.into(),
            version: version.into(),
            attributes: attrs,
            ..Default::default()
        })
    }

    fn traces(resource_spans: Vec<ResourceSpans>) -> Payload {
        let req = ExportTraceServiceRequest { resource_spans };
        Payload::decode(Signal::Traces, Bytes::from(req.encode_to_vec())).unwrap()
    }

    fn logs(resource_logs: Vec<ResourceLogs>) -> Payload {
        let req = ExportLogsServiceRequest { resource_logs };
        Payload::decode(Signal::Logs, Bytes::from(req.encode_to_vec())).unwrap()
    }

    fn metrics(resource_metrics: Vec<ResourceMetrics>) -> Payload {
        let req = ExportMetricsServiceRequest { resource_metrics };
        Payload::decode(Signal::Metrics, Bytes::from(req.encode_to_vec())).unwrap()
    }

    fn detail(p: &Payload, v: Verbosity) -> String {
        render(p, v).detail.unwrap()
    }

    /// One resource of spans with the given service name.
    fn spans_of(service_name: &str, spans: Vec<Span>) -> ResourceSpans {
        ResourceSpans {
            resource: service(service_name),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    /// A span of trace `[trace; 16]` with id `[id; 8]`, starting `start` ns after [`T0`].
    fn span(trace: u8, id: u8, parent: Option<u8>, name: &str, start: u64, dur: u64) -> Span {
        Span {
            trace_id: vec![trace; 16],
            span_id: vec![id; 8],
            parent_span_id: parent.map(|p| vec![p; 8]).unwrap_or_default(),
            name: name.into(),
            start_time_unix_nano: T0 + start,
            end_time_unix_nano: T0 + start + dur,
            ..Default::default()
        }
    }

    fn log_payload() -> Payload {
        logs(vec![ResourceLogs {
            resource: service("svc"),
            scope_logs: vec![ScopeLogs {
                scope: scope("app", "1.0", vec![kv("lib", text("x"))]),
                log_records: vec![
                    LogRecord {
                        time_unix_nano: T0,
                        severity_text: "INFO".into(),
                        severity_number: 9,
                        body: Some(AnyValue {
                            value: Some(text("user created")),
                        }),
                        attributes: vec![kv("user.id", V::IntValue(42))],
                        trace_id: vec![0xab; 16],
                        span_id: vec![0xcd; 8],
                        flags: 1,
                        ..Default::default()
                    },
                    LogRecord {
                        severity_number: 30,
                        event_name: "login".into(),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        }])
    }

    fn number(attr: KeyValue, value: number_data_point::Value) -> NumberDataPoint {
        NumberDataPoint {
            attributes: vec![attr],
            time_unix_nano: T0,
            value: Some(value),
            ..Default::default()
        }
    }

    fn metric(name: &str, unit: &str, data: Data) -> Metric {
        Metric {
            name: name.into(),
            unit: unit.into(),
            data: Some(data),
            ..Default::default()
        }
    }

    fn metric_payload() -> Payload {
        let metrics_list = vec![
            Metric {
                description: "temperature".into(),
                ..metric(
                    "temp",
                    "C",
                    Data::Gauge(Gauge {
                        data_points: vec![number(
                            kv("room", text("a")),
                            number_data_point::Value::AsDouble(5.0),
                        )],
                    }),
                )
            },
            metric(
                "requests",
                "1",
                Data::Sum(Sum {
                    data_points: vec![
                        number(
                            kv("code", V::IntValue(200)),
                            number_data_point::Value::AsInt(7),
                        ),
                        number(
                            kv("code", V::IntValue(500)),
                            number_data_point::Value::AsInt(3),
                        ),
                    ],
                    aggregation_temporality: 2,
                    is_monotonic: true,
                }),
            ),
            metric(
                "latency",
                "ms",
                Data::Histogram(Histogram {
                    data_points: vec![HistogramDataPoint {
                        time_unix_nano: T0,
                        count: 4,
                        sum: Some(10.5),
                        ..Default::default()
                    }],
                    aggregation_temporality: 1,
                }),
            ),
            metric(
                "sizes",
                "",
                Data::Summary(Summary {
                    data_points: vec![SummaryDataPoint {
                        time_unix_nano: T0,
                        count: 2,
                        sum: 3.0,
                        ..Default::default()
                    }],
                }),
            ),
            metric(
                "eh",
                "",
                Data::ExponentialHistogram(ExponentialHistogram {
                    data_points: vec![ExponentialHistogramDataPoint {
                        time_unix_nano: T0,
                        count: 3,
                        ..Default::default()
                    }],
                    aggregation_temporality: 2,
                }),
            ),
        ];
        metrics(vec![ResourceMetrics {
            resource: service("svc"),
            scope_metrics: vec![ScopeMetrics {
                scope: scope("meter", "", vec![]),
                metrics: metrics_list,
                ..Default::default()
            }],
            ..Default::default()
        }])
    }

    #[test]
    fn summary_per_signal() {
        // Go: debugexporter/exporter.go:56-58 (pushTraces), 72-75 (pushMetrics), 89-91
        // (pushLogs): `logger.Info("Traces", zap.Int("resource spans", ..), zap.Int("spans",
        // ..))` and so on, the fields as zap's console encoder writes them.
        let t = traces(vec![
            spans_of(
                "a",
                vec![span(1, 1, None, "x", 0, 1), span(1, 2, Some(1), "y", 0, 1)],
            ),
            spans_of("b", vec![span(2, 3, None, "z", 0, 1)]),
        ]);
        let r = render(&t, Verbosity::Basic);
        assert_eq!(r.summary, r#"Traces {"resource spans": 2, "spans": 3}"#);
        assert_eq!(r.detail, None);
        assert_eq!(
            render(&log_payload(), Verbosity::Basic).summary,
            r#"Logs {"resource logs": 1, "log records": 2}"#
        );
        assert_eq!(
            render(&metric_payload(), Verbosity::Detailed).summary,
            r#"Metrics {"resource metrics": 1, "metrics": 5, "data points": 6}"#
        );
        assert_eq!(
            render(&Payload::empty(Signal::Traces), Verbosity::Tree),
            Rendered {
                summary: r#"Traces {"resource spans": 0, "spans": 0}"#.into(),
                detail: Some(String::new()),
            }
        );
    }

    #[test]
    fn detailed_span_with_every_value_type() {
        // Go: debugexporter/internal/otlptext/traces.go:18-60 (MarshalTraces), and in
        // databuffer.go: logAttr 28-30 (`"    %-15s: %s"`), logAttributes 32-49 (the `->`
        // indent rule), logInstrumentationScope 105-111, logEvents 281-295, logLinks
        // 297-313, valueToString 459-461 (`Type(AsString)`). Values: pcommon/value.go:389-420
        // (Value.AsString: json.Marshal for maps and slices, base64 for bytes) and 424-451
        // (float64AsString); times: pcommon/timestamp.go:27-29 (Timestamp.String).
        let attrs = vec![
            kv("http.method", text("POST")),
            kv("http.status_code", V::IntValue(201)),
            kv("ratio", V::DoubleValue(0.25)),
            kv("huge", V::DoubleValue(1e21)),
            kv("tiny", V::DoubleValue(1.5e-7)),
            kv("ok", V::BoolValue(true)),
            kv("raw", V::BytesValue(vec![1, 2, 3])),
            kv(
                "list",
                V::ArrayValue(ArrayValue {
                    values: vec![
                        AnyValue {
                            value: Some(text("a")),
                        },
                        AnyValue {
                            value: Some(V::IntValue(1)),
                        },
                        AnyValue {
                            value: Some(V::DoubleValue(2.5)),
                        },
                        AnyValue {
                            value: Some(V::BoolValue(false)),
                        },
                        AnyValue { value: None },
                    ],
                }),
            ),
            // Keys sorted, the later duplicate wins, HTML-safe escapes: Go's json.Marshal.
            kv(
                "map",
                V::KvlistValue(KeyValueList {
                    values: vec![
                        kv("z", V::IntValue(1)),
                        kv("a", text("first")),
                        kv("a", text("<b>\"q\"\n")),
                    ],
                }),
            ),
            KeyValue {
                key: "nothing".into(),
                value: None,
                key_strindex: 0,
            },
            // json.Marshal fails on NaN, and AsString then gives nothing.
            kv(
                "nan",
                V::KvlistValue(KeyValueList {
                    values: vec![kv("x", V::DoubleValue(f64::NAN))],
                }),
            ),
        ];
        let s = Span {
            trace_id: const_hex::decode("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
            span_id: const_hex::decode("5fb397be34d26b51").unwrap(),
            parent_span_id: const_hex::decode("00f067aa0ba902b7").unwrap(),
            name: "POST /api/v1/users".into(),
            kind: 2,
            start_time_unix_nano: T0,
            end_time_unix_nano: T0 + 27 * MS,
            attributes: attrs,
            events: vec![Event {
                time_unix_nano: T0 + MS,
                name: "cache miss".into(),
                attributes: vec![kv("k", text("v"))],
                dropped_attributes_count: 2,
            }],
            links: vec![Link {
                trace_id: vec![0x11; 16],
                span_id: vec![0x22; 8],
                trace_state: "ot=th:0".into(),
                dropped_attributes_count: 4,
                ..Default::default()
            }],
            status: Some(Status {
                message: String::new(),
                code: 1,
            }),
            ..Default::default()
        };
        let p = traces(vec![ResourceSpans {
            resource: service("my-api"),
            scope_spans: vec![ScopeSpans {
                scope: scope("opentelemetry.instrumentation.fastapi", "0.60b0", vec![]),
                spans: vec![s],
                ..Default::default()
            }],
            schema_url: "https://opentelemetry.io/schemas/1.21.0".into(),
        }]);
        // Lines ending in ": " keep their trailing space, as Go prints them.
        let expected = r##"ResourceSpans #0
Resource SchemaURL: https://opentelemetry.io/schemas/1.21.0
Resource attributes:
     -> service.name: Str(my-api)
ScopeSpans #0
ScopeSpans SchemaURL: 
InstrumentationScope opentelemetry.instrumentation.fastapi 0.60b0
Span #0
    Trace ID       : 4bf92f3577b34da6a3ce929d0e0e4736
    Parent ID      : 00f067aa0ba902b7
    ID             : 5fb397be34d26b51
    Name           : POST /api/v1/users
    Kind           : Server
    Start time     : 2025-10-31 15:42:33.123 +0000 UTC
    End time       : 2025-10-31 15:42:33.15 +0000 UTC
    Status code    : Ok
    Status message : 
Attributes:
     -> http.method: Str(POST)
     -> http.status_code: Int(201)
     -> ratio: Double(0.25)
     -> huge: Double(1e+21)
     -> tiny: Double(1.5e-7)
     -> ok: Bool(true)
     -> raw: Bytes(AQID)
     -> list: Slice(["a",1,2.5,false,null])
     -> map: Map({"a":"\u003cb\u003e\"q\"\n","z":1})
     -> nothing: Empty()
     -> nan: Map()
Events:
SpanEvent #0
     -> Name: cache miss
     -> Timestamp: 2025-10-31 15:42:33.124 +0000 UTC
     -> DroppedAttributesCount: 2
     -> Attributes::
          -> k: Str(v)
Links:
SpanLink #0
     -> Trace ID: 11111111111111111111111111111111
     -> ID: 2222222222222222
     -> TraceState: ot=th:0
     -> DroppedAttributesCount: 4
"##;
        assert_eq!(detail(&p, Verbosity::Detailed), expected);
    }

    #[test]
    fn normal_traces() {
        // Go: debugexporter/internal/normal/traces.go:24-58 (MarshalTraces: name, trace id,
        // span id, attributes); normal/common.go:14-20 (writeAttributes, `k=AsString`),
        // 23-29 (writeAttributesString), 31-36 (writeResourceDetails), 38-55
        // (writeScopeDetails, `name@version [schema]`). Go prints the resource's index on
        // scope lines (traces.go:34 passes `i`); ours prints the scope's.
        let p = traces(vec![ResourceSpans {
            resource: service("my-api"),
            scope_spans: vec![ScopeSpans {
                scope: scope("fastapi", "0.60b0", vec![kv("k", text("v"))]),
                spans: vec![
                    Span {
                        attributes: vec![kv("http.method", text("GET"))],
                        ..span(0x4b, 0x5f, None, "GET /", 0, MS)
                    },
                    // Go prints empty ids as nothing, keeping the separators.
                    Span {
                        name: "op".into(),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
            schema_url: "https://opentelemetry.io/schemas/1.21.0".into(),
        }]);
        let expected = "ResourceTraces #0 [https://opentelemetry.io/schemas/1.21.0] service.name=my-api\n\
                        ScopeTraces #0 fastapi@0.60b0 k=v\n\
                        GET / 4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b 5f5f5f5f5f5f5f5f http.method=GET\n\
                        op  \n";
        assert_eq!(detail(&p, Verbosity::Normal), expected);
    }

    #[test]
    fn logs_normal_and_detailed() {
        // Go: normal: debugexporter/internal/normal/logs.go:24-47 (MarshalLogs; line 40
        // joins body and attributes with "%s %s"); detailed: internal/otlptext/logs.go:18-55
        // (MarshalLogs, with `SeverityNumber: %s(%d)` at line 41 and EventName only when
        // set, 42-44).
        let p = log_payload();
        // Go joins body and attributes with a space even when either is empty.
        let normal = "ResourceLog #0 service.name=svc\n\
                      ScopeLog #0 app@1.0 lib=x\n\
                      user created user.id=42\n \n";
        assert_eq!(detail(&p, Verbosity::Normal), normal);
        assert_eq!(detail(&p, Verbosity::Tree), normal);
        let expected = r"ResourceLog #0
Resource SchemaURL: 
Resource attributes:
     -> service.name: Str(svc)
ScopeLogs #0
ScopeLogs SchemaURL: 
InstrumentationScope app 1.0
InstrumentationScope attributes:
     -> lib: Str(x)
LogRecord #0
ObservedTimestamp: 1970-01-01 00:00:00 +0000 UTC
Timestamp: 2025-10-31 15:42:33.123 +0000 UTC
SeverityText: INFO
SeverityNumber: Info(9)
Body: Str(user created)
Attributes:
     -> user.id: Int(42)
Trace ID: abababababababababababababababab
Span ID: cdcdcdcdcdcdcdcd
Flags: 1
LogRecord #1
ObservedTimestamp: 1970-01-01 00:00:00 +0000 UTC
Timestamp: 1970-01-01 00:00:00 +0000 UTC
SeverityText: 
SeverityNumber: (30)
EventName: login
Body: Empty()
Trace ID: 
Span ID: 
Flags: 0
";
        assert_eq!(detail(&p, Verbosity::Detailed), expected);
    }

    #[test]
    fn metrics_normal_and_detailed() {
        // Go: normal: debugexporter/internal/normal/metrics.go:25-60 (MarshalMetrics),
        // writeNumberDataPoints 62-79 (`%v` at 72), writeHistogramDataPoints 81-111,
        // writeExponentialHistogramDataPoints 113-136, writeSummaryDataPoints 138-156 (sum
        // as `%f`, 145); detailed: internal/otlptext/metrics.go:16-42 (MarshalMetrics) and
        // databuffer.go logMetricDescriptor 113-119, logMetricDataPoints 121-144,
        // logNumberDataPoints 146-163 (`Value: %f`, 158), logHistogramDataPoints 165-197,
        // logExponentialHistogramDataPoints 199-256, logDoubleSummaryDataPoints 258-275.
        let p = metric_payload();
        let normal = "ResourceMetrics #0 service.name=svc\n\
                      ScopeMetrics #0 meter\n\
                      temp{room=a} 5\n\
                      requests{code=200} 7\n\
                      requests{code=500} 3\n\
                      latency{} count=4 sum=10.5\n\
                      sizes{} count=2 sum=3.000000\n\
                      eh{} count=3\n";
        assert_eq!(detail(&p, Verbosity::Normal), normal);
        assert_eq!(detail(&p, Verbosity::Tree), normal);
        // Integer points print as doubles ("7.000000" where Go prints "7"): the view gives
        // the value as f64 only.
        let t = "2025-10-31 15:42:33.123 +0000 UTC";
        let z = "1970-01-01 00:00:00 +0000 UTC";
        let expected = format!(
            "ResourceMetrics #0
Resource SchemaURL: 
Resource attributes:
     -> service.name: Str(svc)
ScopeMetrics #0
ScopeMetrics SchemaURL: 
InstrumentationScope meter 
Metric #0
Descriptor:
     -> Name: temp
     -> Description: temperature
     -> Unit: C
     -> DataType: Gauge
NumberDataPoints #0
Data point attributes:
     -> room: Str(a)
StartTimestamp: {z}
Timestamp: {t}
Value: 5.000000
Metric #1
Descriptor:
     -> Name: requests
     -> Description: 
     -> Unit: 1
     -> DataType: Sum
     -> IsMonotonic: true
     -> AggregationTemporality: Cumulative
NumberDataPoints #0
Data point attributes:
     -> code: Int(200)
StartTimestamp: {z}
Timestamp: {t}
Value: 7.000000
NumberDataPoints #1
Data point attributes:
     -> code: Int(500)
StartTimestamp: {z}
Timestamp: {t}
Value: 3.000000
Metric #2
Descriptor:
     -> Name: latency
     -> Description: 
     -> Unit: ms
     -> DataType: Histogram
     -> AggregationTemporality: Delta
HistogramDataPoints #0
StartTimestamp: {z}
Timestamp: {t}
Count: 4
Sum: 10.500000
Metric #3
Descriptor:
     -> Name: sizes
     -> Description: 
     -> Unit: 
     -> DataType: Summary
SummaryDataPoints #0
StartTimestamp: {z}
Timestamp: {t}
Count: 2
Sum: 3.000000
Metric #4
Descriptor:
     -> Name: eh
     -> Description: 
     -> Unit: 
     -> DataType: ExponentialHistogram
     -> AggregationTemporality: Cumulative
ExponentialHistogramDataPoints #0
StartTimestamp: {z}
Timestamp: {t}
Count: 3
"
        );
        assert_eq!(detail(&p, Verbosity::Detailed), expected);
    }

    #[test]
    fn tree_of_two_traces() {
        let (t1, t2) = (0x4b, 0x5c);
        let p = traces(vec![
            // Children listed before their parents and out of start order.
            spans_of(
                "my-api",
                vec![
                    span(
                        t1,
                        6,
                        Some(1),
                        "SQS SEND process_user_task",
                        171 * MS,
                        23 * MS,
                    ),
                    span(t1, 1, None, "HTTP POST /api/v1/users", 0, 2_500 * MS),
                    span(t1, 2, Some(1), "validate_request", MS, 12 * MS),
                    span(t1, 3, Some(1), "process_user_data", 14 * MS, 156 * MS),
                    span(t1, 5, Some(3), "transform_data", 40 * MS, 133 * MS),
                    span(t1, 4, Some(3), "validate_data", 15 * MS, 23 * MS),
                ],
            ),
            spans_of(
                "worker",
                vec![
                    span(t2, 0x21, None, "cron tick", 5_000 * MS, 850_000),
                    span(t2, 0x23, Some(0x21), "store", 5_000 * MS + 2_000, 4_250),
                    span(t2, 0x22, Some(0x21), "fetch", 5_000 * MS + 1_000, 999),
                ],
            ),
            spans_of(
                "async-daemon",
                vec![
                    span(t1, 7, Some(6), "process_user_task", 195 * MS, 2_300 * MS),
                    // Its parent is not in the batch.
                    span(t1, 8, Some(0x99), "orphan_job", 3_000 * MS, 41 * MS),
                ],
            ),
            spans_of(
                "my-api",
                vec![span(t1, 9, Some(7), "db.query", 200 * MS, 2_340_000)],
            ),
        ]);
        let expected = "\
Trace 4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b (my-api, 9 spans, 2.50s)
my-api: HTTP POST /api/v1/users (2.50s)
├── validate_request (12ms)
├── process_user_data (156ms) ◀ slowest
│   ├── validate_data (23ms)
│   └── transform_data (133ms) ◀ slowest
└── SQS SEND process_user_task (23ms)
    └── async-daemon: process_user_task (2.30s)
        └── my-api: db.query (2.3ms)
async-daemon: orphan_job (41ms)

Trace 5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c (worker, 3 spans, 850µs)
worker: cron tick (850µs)
├── fetch (999ns)
└── store (4.3µs) ◀ slowest
";
        assert_eq!(detail(&p, Verbosity::Tree), expected);
    }

    #[test]
    fn tree_survives_cycles_and_missing_ids() {
        let t = 7;
        let p = traces(vec![spans_of(
            "svc",
            vec![
                // a and b are each other's parent; c is its own.
                span(t, 1, Some(2), "a", 0, 1_000),
                span(t, 2, Some(1), "b", 1, 1_000),
                span(t, 3, Some(3), "c", 2, 1_000),
                span(t, 4, Some(1), "d", 3, 1_000),
                Span {
                    span_id: Vec::new(),
                    ..span(t, 0, None, "e", 4, 1_000)
                },
                // A duplicate id: the first span keeps it.
                span(t, 1, None, "a2", 5, 1_000),
            ],
        )]);
        let expected = "\
Trace 07070707070707070707070707070707 (svc, 6 spans, 1.0µs)
svc: c (1.0µs)
svc: e (1.0µs)
svc: a2 (1.0µs)
svc: b (1.0µs)
└── a (1.0µs)
    └── d (1.0µs)
";
        assert_eq!(detail(&p, Verbosity::Tree), expected);
    }

    #[test]
    fn durations() {
        let cases = [
            (0, "0ns"),
            (999, "999ns"),
            (1_000, "1.0µs"),
            (2_340, "2.3µs"),
            (9_960, "10µs"),
            (999_400, "999µs"),
            (999_600, "1.0ms"),
            (12 * MS, "12ms"),
            (999_999_600, "1.00s"),
            (2_500 * MS, "2.50s"),
            (3_600_000 * MS, "3600.00s"),
        ];
        for (ns, text) in cases {
            assert_eq!(format_duration(ns), text, "{ns}ns");
        }
    }

    #[test]
    fn timestamps_as_go_prints_them() {
        // Go: pcommon/timestamp.go:27-29 (Timestamp.String is AsTime().String(), in UTC),
        // which is Go's time.Time.String ("2006-01-02 15:04:05.999999999 -0700 MST",
        // src/time/format.go in the Go standard library).
        assert_eq!(go_time(0), "1970-01-01 00:00:00 +0000 UTC");
        assert_eq!(go_time(T0 + 1), "2025-10-31 15:42:33.123000001 +0000 UTC");
        assert_eq!(
            go_time(951_782_400_000_000_000),
            "2000-02-29 00:00:00 +0000 UTC"
        );
        // int64(ts) in Go: the top of the u64 range is before 1970.
        assert_eq!(go_time(u64::MAX), "1969-12-31 23:59:59.999999999 +0000 UTC");
    }
}
