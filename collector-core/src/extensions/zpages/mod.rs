//! The `zpages` extension: small HTML pages about the running collector, as the Go
//! collector's `extension/zpagesextension` serves them (v0.138: `/debug/servicez`,
//! `/debug/pipelinez`, `/debug/extensionz`; `/debug/expvar` when `expvar.enabled`).
//!
//! What they show is ours: the build and uptime, each pipeline with its components and their
//! live item counts (the collector's own metrics: accepted and refused at receivers, sent
//! and failed at exporters, and how full each exporter queue is), and the extensions.
//! Nothing secret: no configuration values, only component ids. Go's `/debug/tracez` and
//! `/debug/featurez` show Go SDK spans and feature gates, which this collector does not
//! have: those paths answer 404.

use std::fmt::Write as _;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::config::Kind;
use crate::config::component::{ComponentConfig, ComponentType, ConfigFactory, decode};
use crate::config::service::ServiceConfig;
use crate::config::validate::{Problems, Validate};
use crate::pipeline::build::{Build, Context, Endpoint, Extension, Factory};
use crate::telemetry::WeakRegistry;
use crate::{Error, Signal};

/// The `zpages` extension type.
pub(crate) static FACTORY: Factory = Factory {
    config: ConfigFactory {
        kind: Kind::Extension,
        name: "zpages",
        aliases: &[],
        signals: &Signal::ALL,
        decode: decode::<ZpagesConfig>,
    },
    build: Build::Extension(build),
};

impl ComponentType for ZpagesConfig {
    fn listeners(&self) -> Vec<(String, String)> {
        vec![(self.endpoint.clone(), "endpoint".to_owned())]
    }
}

/// `expvar`: Go serves its runtime's variables at `/debug/expvar`; ours are the
/// collector's own metrics, as JSON.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct ExpvarConfig {
    /// Serve `/debug/expvar`.
    pub enabled: bool,
}

crate::config::net::http_server_struct! {
    /// `zpages` configuration (core `extension/zpagesextension`, v0.138).
    pub(crate) struct ZpagesConfig {
        /// `/debug/expvar`.
        pub expvar: ExpvarConfig = ExpvarConfig::default(),
    }
    endpoint = "localhost:55679";
}

impl Validate for ZpagesConfig {
    fn validate(&self, p: &mut Problems) {
        // zpagesextension/config.go, Validate.
        if self.endpoint.is_empty() {
            p.key(
                "endpoint",
                "\"endpoint\" is required when using the \"zpages\" extension",
            );
        }
        let mut inner = Problems::default();
        self.server().validate(&mut inner);
        p.0.extend(inner.0);
    }
}

fn build(ctx: &Context<'_>, cfg: &dyn ComponentConfig) -> Result<Box<dyn Extension>, Error> {
    let cfg = cfg.get::<ZpagesConfig>()?;
    let pages = std::sync::Arc::new(Pages {
        registry: ctx.registry.downgrade(),
        service: ctx.service.cloned().unwrap_or_default(),
        started: Instant::now(),
        started_at: jiff::Timestamp::now(),
        expvar: cfg.expvar.enabled,
    });
    let endpoint = Endpoint::serve(
        ctx,
        &cfg.endpoint,
        cfg.tls.as_ref(),
        cfg.max_connections,
        move |req| {
            let pages = pages.clone();
            async move { pages.answer(req.uri().path()) }
        },
    )?;
    Ok(Box::new(endpoint))
}

/// What the pages are made from.
struct Pages {
    /// Weak: the pages must not keep a stopped collector's metrics alive.
    registry: WeakRegistry,
    service: ServiceConfig,
    started: Instant,
    started_at: jiff::Timestamp,
    expvar: bool,
}

/// The items of a signal as the collector's metric names spell them.
fn items(signal: Signal) -> &'static str {
    match signal {
        Signal::Traces => "spans",
        Signal::Metrics => "metric_points",
        Signal::Logs => "log_records",
    }
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}\
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}th{background:#eee}\
td.n{text-align:right;font-family:monospace}";

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{t}</title>\
         <style>{STYLE}</style></head><body>\n<h1>{t}</h1>\n<p><a href=\"/debug/servicez\">servicez</a> \
         | <a href=\"/debug/pipelinez\">pipelinez</a> | <a href=\"/debug/extensionz\">extensionz</a></p>\n\
         {body}</body></html>\n",
        t = esc(title)
    )
}

impl Pages {
    fn num(&self, name: &str, labels: &[(&str, &str)]) -> String {
        match self.registry.upgrade().and_then(|r| r.sum(name, labels)) {
            Some(v) => format!("{v}"),
            None => "-".to_owned(),
        }
    }

    fn servicez(&self) -> String {
        let up = self.started.elapsed().as_secs();
        let mut b = String::new();
        let _ = write!(
            b,
            "<table>\n<tr><th>Command</th><td>collector</td></tr>\n\
             <tr><th>Version</th><td>{}</td></tr>\n\
             <tr><th>Start time</th><td>{}</td></tr>\n\
             <tr><th>Uptime</th><td>{}h{:02}m{:02}s</td></tr>\n\
             <tr><th>Pipelines</th><td class=\"n\">{}</td></tr>\n\
             <tr><th>Extensions</th><td class=\"n\">{}</td></tr>\n</table>\n",
            esc(env!("CARGO_PKG_VERSION")),
            self.started_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            up / 3600,
            up / 60 % 60,
            up % 60,
            self.service.pipelines.len(),
            self.service.extensions.len(),
        );
        page("Service", &b)
    }

    fn pipelinez(&self) -> String {
        let mut b = String::new();
        for (id, p) in &self.service.pipelines {
            let signal = crate::config::service::pipeline_signal(id);
            let it = items(signal);
            let data_type = signal.to_string();
            let _ = write!(
                b,
                "<h2>Pipeline {}</h2>\n<table>\n<tr><th>Kind</th><th>Component</th>\
                 <th>Accepted / sent {it}</th><th>Refused / failed {it}</th><th>Queue</th></tr>\n",
                esc(id)
            );
            for r in &p.receivers {
                let _ = writeln!(
                    b,
                    "<tr><td>receiver</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td></td></tr>",
                    esc(r),
                    self.num(
                        &format!("otelcol_receiver_accepted_{it}"),
                        &[("receiver", r)]
                    ),
                    self.num(
                        &format!("otelcol_receiver_refused_{it}"),
                        &[("receiver", r)]
                    ),
                );
            }
            for pr in &p.processors {
                let _ = writeln!(
                    b,
                    "<tr><td>processor</td><td>{}</td><td></td><td></td><td></td></tr>",
                    esc(pr)
                );
            }
            for e in &p.exporters {
                let _ = writeln!(
                    b,
                    "<tr><td>exporter</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
                     <td class=\"n\">{} / {}</td></tr>",
                    esc(e),
                    self.num(&format!("otelcol_exporter_sent_{it}"), &[("exporter", e)]),
                    self.num(
                        &format!("otelcol_exporter_send_failed_{it}"),
                        &[("exporter", e)]
                    ),
                    self.num(
                        "otelcol_exporter_queue_size",
                        &[("exporter", e), ("data_type", &data_type)]
                    ),
                    self.num(
                        "otelcol_exporter_queue_capacity",
                        &[("exporter", e), ("data_type", &data_type)]
                    ),
                );
            }
            b.push_str("</table>\n");
        }
        page("Pipelines", &b)
    }

    fn extensionz(&self) -> String {
        let mut b = String::from("<table>\n<tr><th>Extension</th></tr>\n");
        for e in &self.service.extensions {
            let _ = writeln!(b, "<tr><td>{}</td></tr>", esc(e));
        }
        b.push_str("</table>\n");
        page("Extensions", &b)
    }

    /// The collector's own metrics as one JSON object (name with labels -> value).
    fn expvar(&self) -> String {
        let text = self
            .registry
            .upgrade()
            .map(|r| r.render())
            .unwrap_or_default();
        let mut map = serde_json::Map::new();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            if let Some((k, v)) = line.rsplit_once(' ') {
                let value = v
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map_or(serde_json::Value::Null, serde_json::Value::Number);
                map.insert(k.to_owned(), value);
            }
        }
        serde_json::Value::Object(map).to_string()
    }
}

impl Pages {
    /// The answer to a request for `path`.
    fn answer(&self, path: &str) -> http::Response<http_body_util::Full<bytes::Bytes>> {
        use bytes::Bytes;
        use http::{Response, StatusCode, header};
        use http_body_util::Full;

        let (body, kind) = match path {
            "/debug/servicez" => (self.servicez(), "text/html; charset=utf-8"),
            "/debug/pipelinez" => (self.pipelinez(), "text/html; charset=utf-8"),
            "/debug/extensionz" => (self.extensionz(), "text/html; charset=utf-8"),
            "/debug/expvar" if self.expvar => (self.expvar(), "application/json"),
            _ => {
                let mut r = Response::new(Full::new(Bytes::from_static(b"404 page not found\n")));
                *r.status_mut() = StatusCode::NOT_FOUND;
                return r;
            }
        };
        let mut r = Response::new(Full::new(Bytes::from(body)));
        r.headers_mut()
            .insert(header::CONTENT_TYPE, http::HeaderValue::from_static(kind));
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_a_component_id_may_hold() {
        assert_eq!(esc("otlp/<b>&\"'"), "otlp/&lt;b&gt;&amp;&quot;&#39;");
    }

    #[test]
    fn empty_endpoint_is_refused_as_go_words_it() {
        let cfg = ZpagesConfig {
            endpoint: String::new(),
            ..ZpagesConfig::default()
        };
        let mut p = Problems::default();
        Validate::validate(&cfg, &mut p);
        assert!(
            format!("{p:?}").contains("\\\"endpoint\\\" is required"),
            "{p:?}"
        );
    }
}
