//! `normal`: Go's one line per item, under a line per resource and scope.

use std::fmt::Write as _;

use super::pdata::go_id;
use crate::Signal;
use crate::otlp::text::{as_string, go_f, go_v};
use crate::otlp::{
    KeyValueView, LogRecordView, MetricKind, MetricView, Payload, ScopeView, SpanView,
};

/// Go's `normal` output: a line per resource and scope, then one per item.
///
/// The group labels are Go's (`ResourceTraces`, `ResourceLog`, ...), but scope lines carry
/// the scope's own index where Go repeats the resource's.
pub(super) fn normal(p: &Payload) -> String {
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

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

    use super::super::Verbosity;
    use super::super::fixtures::*;

    // Go sources are cited as `fixtures.rs` describes.

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
    fn logs_normal() {
        // Go: debugexporter/internal/normal/logs.go:24-47 (MarshalLogs; line 40 joins body
        // and attributes with "%s %s"). `tree` prints logs as `normal` does.
        let p = log_payload();
        // Go joins body and attributes with a space even when either is empty.
        let normal = "ResourceLog #0 service.name=svc\n\
                      ScopeLog #0 app@1.0 lib=x\n\
                      user created user.id=42\n \n";
        assert_eq!(detail(&p, Verbosity::Normal), normal);
        assert_eq!(detail(&p, Verbosity::Tree), normal);
    }

    #[test]
    fn metrics_normal() {
        // Go: debugexporter/internal/normal/metrics.go:25-60 (MarshalMetrics),
        // writeNumberDataPoints 62-79 (`%v` at 72), writeHistogramDataPoints 81-111,
        // writeExponentialHistogramDataPoints 113-136, writeSummaryDataPoints 138-156 (sum
        // as `%f`, 145). `tree` prints metrics as `normal` does.
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
    }
}
