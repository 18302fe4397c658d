//! The collector's own metrics: a registry per collector instance, rendered in the
//! Prometheus text format at `/metrics`.
//!
//! Components resolve their series once, when they are built, and keep the returned
//! [`Counter`]/[`Gauge`] handles: counting on the data path is one relaxed atomic add, with
//! no lock and no label lookup. The registry lock is taken only to register and to render.

pub(crate) mod logs;
pub(crate) mod push;
pub(crate) mod server;

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use parking_lot::Mutex;

/// A monotonic counter.
#[derive(Clone, Debug, Default)]
pub(crate) struct Counter(Arc<AtomicU64>);

impl Counter {
    #[inline]
    pub(crate) fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A value that goes up and down.
#[derive(Clone, Debug, Default)]
pub(crate) struct Gauge(Arc<AtomicI64>);

impl Gauge {
    #[inline]
    pub(crate) fn set(&self, v: i64) {
        self.0.store(v, Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A histogram with fixed bucket bounds.
#[derive(Clone, Debug)]
pub(crate) struct Histogram(Arc<HistogramInner>);

#[derive(Debug)]
pub(crate) struct HistogramInner {
    bounds: Vec<f64>,
    /// One per bound, plus `+Inf`.
    buckets: Vec<AtomicU64>,
    count: AtomicU64,
    sum: AtomicU64,
}

impl Histogram {
    pub(crate) fn record(&self, v: u64) {
        let i = self
            .0
            .bounds
            .iter()
            .position(|b| (v as f64) <= *b)
            .unwrap_or(self.0.bounds.len());
        self.0.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.0.count.fetch_add(1, Ordering::Relaxed);
        self.0.sum.fetch_add(v, Ordering::Relaxed);
    }
}

type GaugeFn = Box<dyn Fn() -> f64 + Send + Sync>;

enum Value {
    Counter(Counter),
    Gauge(Gauge),
    GaugeFn(GaugeFn),
    CounterFn(GaugeFn),
    Histogram(Histogram),
}

struct Series {
    labels: Vec<(String, String)>,
    value: Value,
}

struct Family {
    name: String,
    help: String,
    series: Vec<Series>,
}

/// The metrics of one collector.
#[derive(Clone, Default)]
pub(crate) struct Registry {
    families: Arc<Mutex<Vec<Family>>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").finish_non_exhaustive()
    }
}

fn owned(labels: &[(&str, &str)]) -> Vec<(String, String)> {
    labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A registry that does not keep it alive: for what the registry's own gauges hold (an
/// exporter's state holds the tally, whose drop counters are made on demand), so that no
/// cycle keeps a stopped collector's memory.
#[derive(Clone, Default)]
pub(crate) struct WeakRegistry {
    families: std::sync::Weak<Mutex<Vec<Family>>>,
}

impl std::fmt::Debug for WeakRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WeakRegistry").finish_non_exhaustive()
    }
}

impl WeakRegistry {
    /// The registry, while the collector that owns it lives.
    pub(crate) fn upgrade(&self) -> Option<Registry> {
        self.families
            .upgrade()
            .map(|families| Registry { families })
    }
}

impl Registry {
    /// A handle that does not keep the registry alive.
    pub(crate) fn downgrade(&self) -> WeakRegistry {
        WeakRegistry {
            families: Arc::downgrade(&self.families),
        }
    }

    /// Returns the existing series or registers it.
    fn series<T>(
        &self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
        make: impl FnOnce() -> Value,
        get: impl Fn(&Value) -> Option<T>,
    ) -> Option<T> {
        let labels = owned(labels);
        let mut fams = self.families.lock();
        let fam = match fams.iter_mut().position(|f| f.name == name) {
            Some(i) => &mut fams[i],
            None => {
                fams.push(Family {
                    name: name.to_owned(),
                    help: help.to_owned(),
                    series: Vec::new(),
                });
                fams.last_mut()?
            }
        };
        if let Some(s) = fam.series.iter().find(|s| s.labels == labels) {
            return get(&s.value);
        }
        let value = make();
        let out = get(&value);
        fam.series.push(Series { labels, value });
        out
    }

    /// A counter series (rendered with Prometheus' `_total` suffix).
    pub(crate) fn counter(&self, name: &str, help: &str, labels: &[(&str, &str)]) -> Counter {
        self.series(
            name,
            help,
            labels,
            || Value::Counter(Counter::default()),
            |v| match v {
                Value::Counter(c) => Some(c.clone()),
                _ => None,
            },
        )
        .unwrap_or_default()
    }

    /// A gauge series.
    pub(crate) fn gauge(&self, name: &str, help: &str, labels: &[(&str, &str)]) -> Gauge {
        self.series(
            name,
            help,
            labels,
            || Value::Gauge(Gauge::default()),
            |v| match v {
                Value::Gauge(g) => Some(g.clone()),
                _ => None,
            },
        )
        .unwrap_or_default()
    }

    /// A gauge read at render time.
    pub(crate) fn gauge_fn(
        &self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
        f: impl Fn() -> f64 + Send + Sync + 'static,
    ) {
        self.series(
            name,
            help,
            labels,
            || Value::GaugeFn(Box::new(f)),
            |_| Some(()),
        );
    }

    /// A counter read at render time.
    pub(crate) fn counter_fn(
        &self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
        f: impl Fn() -> f64 + Send + Sync + 'static,
    ) {
        self.series(
            name,
            help,
            labels,
            || Value::CounterFn(Box::new(f)),
            |_| Some(()),
        );
    }

    /// A histogram series with `bounds`.
    pub(crate) fn histogram(
        &self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
        bounds: &[f64],
    ) -> Histogram {
        let make = || {
            Value::Histogram(Histogram(Arc::new(HistogramInner {
                bounds: bounds.to_vec(),
                buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
                count: AtomicU64::new(0),
                sum: AtomicU64::new(0),
            })))
        };
        self.series(name, help, labels, make, |v| match v {
            Value::Histogram(h) => Some(h.clone()),
            _ => None,
        })
        .unwrap_or_else(|| match make() {
            Value::Histogram(h) => h,
            _ => unreachable!("make builds a histogram"),
        })
    }

    /// The sum of the series of family `name` (without a `_total` suffix) that carry every
    /// label of `labels`; `None` when there is none.
    pub(crate) fn sum(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let fams = self.families.lock();
        let f = fams.iter().find(|f| f.name == name)?;
        let mut total = None;
        for s in &f.series {
            let has =
                |(key, value): &(&str, &str)| s.labels.iter().any(|(k, v)| k == key && v == value);
            if !labels.iter().all(has) {
                continue;
            }
            let v = match &s.value {
                Value::Counter(c) => c.get() as f64,
                Value::Gauge(g) => g.get() as f64,
                Value::GaugeFn(g) | Value::CounterFn(g) => g(),
                Value::Histogram(h) => h.0.count.load(Ordering::Relaxed) as f64,
            };
            *total.get_or_insert(0.0) += v;
        }
        total
    }

    /// Every series as OTLP `Metric` messages (field `field` of `out`'s message):
    /// counters as cumulative monotonic sums, gauges as gauges, histograms as cumulative
    /// histograms; each point with its labels as attributes, `start` and `now` in Unix
    /// nanoseconds.
    pub(crate) fn write_otlp(&self, out: &mut Vec<u8>, field: u32, start: u64, now: u64) {
        use crate::otlp::wire::{WireType, put_key, put_len_field, put_nested, put_varint};
        let attrs = |out: &mut Vec<u8>, num: u32, labels: &[(String, String)]| {
            for (k, v) in labels {
                put_string_kv(out, num, k, v);
            }
        };
        let times = |p: &mut Vec<u8>| {
            put_key(p, 2, WireType::I64);
            p.extend_from_slice(&start.to_le_bytes());
            put_key(p, 3, WireType::I64);
            p.extend_from_slice(&now.to_le_bytes());
        };
        let fams = self.families.lock();
        for f in fams.iter() {
            let Some(first) = f.series.first() else {
                continue;
            };
            put_nested(out, field, |m| {
                put_len_field(m, 1, f.name.as_bytes());
                put_len_field(m, 2, f.help.as_bytes());
                // Gauge = 5, Sum = 7, Histogram = 9.
                let data = match first.value {
                    Value::Counter(_) | Value::CounterFn(_) => 7,
                    Value::Gauge(_) | Value::GaugeFn(_) => 5,
                    Value::Histogram(_) => 9,
                };
                put_nested(m, data, |d| {
                    for s in &f.series {
                        put_nested(d, 1, |p| match &s.value {
                            Value::Histogram(h) => {
                                times(p);
                                put_key(p, 4, WireType::I64);
                                p.extend_from_slice(
                                    &h.0.count.load(Ordering::Relaxed).to_le_bytes(),
                                );
                                put_key(p, 5, WireType::I64);
                                let sum = h.0.sum.load(Ordering::Relaxed) as f64;
                                p.extend_from_slice(&sum.to_le_bytes());
                                put_nested(p, 6, |b| {
                                    for c in &h.0.buckets {
                                        b.extend_from_slice(
                                            &c.load(Ordering::Relaxed).to_le_bytes(),
                                        );
                                    }
                                });
                                put_nested(p, 7, |b| {
                                    for x in &h.0.bounds {
                                        b.extend_from_slice(&x.to_le_bytes());
                                    }
                                });
                                attrs(p, 9, &s.labels);
                            }
                            v => {
                                times(p);
                                let x = match v {
                                    Value::Counter(c) => c.get() as f64,
                                    Value::Gauge(g) => g.get() as f64,
                                    Value::GaugeFn(g) | Value::CounterFn(g) => g(),
                                    Value::Histogram(_) => 0.0,
                                };
                                put_key(p, 4, WireType::I64);
                                p.extend_from_slice(&x.to_le_bytes());
                                attrs(p, 7, &s.labels);
                            }
                        });
                    }
                    if data != 5 {
                        // Cumulative; sums are monotonic.
                        put_key(d, 2, WireType::Varint);
                        put_varint(d, 2);
                        if data == 7 {
                            put_key(d, 3, WireType::Varint);
                            put_varint(d, 1);
                        }
                    }
                });
            });
        }
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub(crate) fn render(&self) -> String {
        let fams = self.families.lock();
        let mut out = String::with_capacity(4096);
        for f in fams.iter() {
            let Some(first) = f.series.first() else {
                continue;
            };
            let (kind, suffix) = match first.value {
                Value::Counter(_) | Value::CounterFn(_) => ("counter", "_total"),
                Value::Gauge(_) | Value::GaugeFn(_) => ("gauge", ""),
                Value::Histogram(_) => ("histogram", ""),
            };
            let full = format!("{}{suffix}", f.name);
            let _ = writeln!(out, "# HELP {full} {}", f.help);
            let _ = writeln!(out, "# TYPE {full} {kind}");
            for s in &f.series {
                match &s.value {
                    Value::Counter(c) => line(&mut out, &full, &s.labels, None, c.get() as f64),
                    Value::Gauge(g) => line(&mut out, &full, &s.labels, None, g.get() as f64),
                    Value::GaugeFn(g) | Value::CounterFn(g) => {
                        line(&mut out, &full, &s.labels, None, g())
                    }
                    Value::Histogram(h) => {
                        let mut cum = 0;
                        let bucket = format!("{full}_bucket");
                        for (i, b) in h.0.buckets.iter().enumerate() {
                            cum += b.load(Ordering::Relaxed);
                            let le =
                                h.0.bounds
                                    .get(i)
                                    .map_or("+Inf".to_owned(), |b| b.to_string());
                            line(&mut out, &bucket, &s.labels, Some(&le), cum as f64);
                        }
                        let n = h.0.count.load(Ordering::Relaxed) as f64;
                        let sum = h.0.sum.load(Ordering::Relaxed) as f64;
                        line(&mut out, &format!("{full}_sum"), &s.labels, None, sum);
                        line(&mut out, &format!("{full}_count"), &s.labels, None, n);
                    }
                }
            }
        }
        out
    }
}

/// A `KeyValue` with a string value, as field `field`.
pub(crate) fn put_string_kv(out: &mut Vec<u8>, field: u32, key: &str, value: &str) {
    use crate::otlp::wire::{put_len_field, put_nested};
    put_nested(out, field, |kv| {
        put_len_field(kv, 1, key.as_bytes());
        put_nested(kv, 2, |any| put_len_field(any, 1, value.as_bytes()));
    });
}

/// The envelope of the collector's own metrics and logs, as field 1 of an export request:
/// `Resource{Metrics,Logs} { resource, Scope{Metrics,Logs} { scope: collector, <body> } }`
/// (both signals use the same field numbers); `body` writes the items as field 2.
pub(crate) fn put_own_request(
    out: &mut Vec<u8>,
    resource: &[(String, String)],
    body: impl FnOnce(&mut Vec<u8>),
) {
    use crate::otlp::wire::{put_len_field, put_nested};
    put_nested(out, 1, |rx| {
        put_nested(rx, 1, |r| {
            for (k, v) in resource {
                put_string_kv(r, 1, k, v);
            }
        });
        put_nested(rx, 2, |sx| {
            put_nested(sx, 1, |scope| {
                put_len_field(scope, 1, b"collector");
                put_len_field(scope, 2, env!("CARGO_PKG_VERSION").as_bytes());
            });
            body(sx);
        });
    });
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn line(out: &mut String, name: &str, labels: &[(String, String)], le: Option<&str>, v: f64) {
    out.push_str(name);
    if !labels.is_empty() || le.is_some() {
        out.push('{');
        let mut first = true;
        for (k, val) in labels {
            if !first {
                out.push(',');
            }
            first = false;
            let _ = write!(out, "{k}=\"{}\"", escape(val));
        }
        if let Some(le) = le {
            if !first {
                out.push(',');
            }
            let _ = write!(out, "le=\"{le}\"");
        }
        out.push('}');
    }
    let _ = writeln!(out, " {v}");
}

/// Process metrics Go reports (`otelcol_process_*`), read from `/proc` at scrape time.
pub(crate) fn register_process_metrics(r: &Registry, started: std::time::Instant) {
    r.counter_fn(
        "otelcol_process_uptime",
        "Uptime of the process [s]",
        &[],
        move || started.elapsed().as_secs_f64(),
    );
    r.gauge_fn(
        "otelcol_process_memory_rss",
        "Total physical memory (resident set size) [By]",
        &[],
        || proc_status_kib("VmRSS:").map_or(0.0, |k| (k * 1024) as f64),
    );
    // Go's figure is the live Go heap; ours is the allocator's heap in use, which is what
    // the memory limiter compares with its limits.
    r.gauge_fn(
        "otelcol_process_runtime_heap_alloc_bytes",
        "Bytes of allocated heap objects [By]",
        &[],
        || crate::cgroup::heap_in_use() as f64,
    );
    r.counter_fn(
        "otelcol_process_cpu_seconds",
        "Total CPU user and system time in seconds [s]",
        &[],
        process_cpu_seconds,
    );
}

/// A `kB` field of `/proc/self/status`.
pub(crate) fn proc_status_kib(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line[field.len()..].split_whitespace().next()?.parse().ok()
}

/// User plus system CPU time of this process.
pub(crate) fn process_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of stat; `rest` starts at field 3.
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    (ticks(11) + ticks(12)) / hz
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let r = Registry::default();
        let c = r.counter(
            "otelcol_receiver_accepted_spans",
            "Number of spans successfully pushed into the pipeline.",
            &[("receiver", "otlp"), ("transport", "grpc")],
        );
        c.add(3);
        // The same series again is the same counter.
        r.counter(
            "otelcol_receiver_accepted_spans",
            "",
            &[("receiver", "otlp"), ("transport", "grpc")],
        )
        .add(2);
        r.gauge(
            "otelcol_exporter_queue_size",
            "Current size of the retry queue",
            &[("exporter", "debug")],
        )
        .set(7);
        let h = r.histogram("h", "help", &[], &[10.0, 100.0]);
        h.record(5);
        h.record(50);
        h.record(500);
        let text = r.render();
        assert!(
            text.contains("# TYPE otelcol_receiver_accepted_spans_total counter\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "otelcol_receiver_accepted_spans_total{receiver=\"otlp\",transport=\"grpc\"} 5\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("otelcol_exporter_queue_size{exporter=\"debug\"} 7\n"),
            "{text}"
        );
        assert!(text.contains("h_bucket{le=\"10\"} 1\nh_bucket{le=\"100\"} 2\nh_bucket{le=\"+Inf\"} 3\nh_sum 555\nh_count 3\n"), "{text}");
    }

    #[test]
    fn process_metrics_read_proc() {
        assert!(proc_status_kib("VmRSS:").unwrap_or(0) > 0);
        let r = Registry::default();
        register_process_metrics(&r, std::time::Instant::now());
        assert!(r.render().contains("otelcol_process_memory_rss "));
    }
}
