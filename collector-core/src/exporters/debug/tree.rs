//! `tree` (ours, no Go counterpart): each trace of a batch drawn as a tree of spans with
//! their durations.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::otlp::Payload;
use crate::otlp::text::as_string;

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
pub(super) fn tree(p: &Payload) -> String {
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

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::trace::v1::Span;

    use super::super::Verbosity;
    use super::super::fixtures::*;
    use super::*;

    // Go sources are cited as `fixtures.rs` describes.

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
}
