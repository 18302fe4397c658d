//! `basic`: the one summary line Go logs for every batch (also the first line of every
//! other verbosity).

use crate::Signal;
use crate::otlp::Payload;

/// The zap console rendering of the fields Go's exporter logs with the message.
pub(super) fn summary(p: &Payload) -> String {
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

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::super::{Rendered, Verbosity, render};
    use crate::Signal;
    use crate::otlp::Payload;

    // Go sources are cited as `fixtures.rs` describes.

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
}
