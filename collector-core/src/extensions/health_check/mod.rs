//! The `health_check` extension: 200 while every pipeline runs, 503 while starting,
//! stopping, or while a component keeps panicking.

use serde::{Deserialize, Serialize};

use crate::config::Kind;
use crate::config::component::{ComponentConfig, ComponentType, ConfigFactory, decode};
use crate::config::validate::{Problems, Validate};
use crate::pipeline::build::{Build, Context, Endpoint, Extension, Factory};
use crate::pipeline::health::Health;
use crate::{Error, Signal};

/// The `health_check` extension type.
pub(crate) static FACTORY: Factory = Factory {
    config: ConfigFactory {
        kind: Kind::Extension,
        name: "health_check",
        aliases: &[],
        signals: &Signal::ALL,
        decode: decode::<HealthCheckConfig>,
    },
    build: Build::Extension(build),
};

impl ComponentType for HealthCheckConfig {
    fn listeners(&self) -> Vec<(String, String)> {
        vec![(self.endpoint.clone(), "endpoint".to_owned())]
    }
}

fn build(ctx: &Context<'_>, cfg: &dyn ComponentConfig) -> Result<Box<dyn Extension>, Error> {
    let cfg = cfg.get::<HealthCheckConfig>()?;
    let health = ctx.health.clone();
    let path = cfg.path.clone();
    let bodies = cfg.response_body.clone();
    let endpoint = Endpoint::serve(
        ctx,
        &cfg.endpoint,
        cfg.tls.as_ref(),
        cfg.max_connections,
        move |req| {
            let (health, path, bodies) = (health.clone(), path.clone(), bodies.clone());
            async move { answer(&health, &path, bodies.as_ref(), req.uri().path()) }
        },
    )?;
    Ok(Box::new(endpoint))
}

/// `response_body`: static bodies instead of the JSON status.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct ResponseBodyConfig {
    /// Body when healthy.
    pub healthy: String,
    /// Body when not.
    pub unhealthy: String,
}

/// `check_collector_pipeline`: documented as broken in the Go collector; not supported.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct CheckPipelineConfig {
    /// Turn the check on.
    pub enabled: bool,
    /// Window (a duration string).
    pub interval: String,
    /// Failures tolerated in the window.
    pub exporter_failure_threshold: i64,
}

impl Default for CheckPipelineConfig {
    fn default() -> Self {
        CheckPipelineConfig {
            enabled: false,
            interval: "5m".to_owned(),
            exporter_failure_threshold: 5,
        }
    }
}

crate::config::net::http_server_struct! {
    /// `health_check` configuration (contrib `extension/healthcheckextension`, legacy keys).
    pub(crate) struct HealthCheckConfig {
        /// Path served (any method).
        pub path: String = "/".to_owned(),
        /// Static response bodies.
        pub response_body: Option<ResponseBodyConfig> = None,
        /// Pipeline health from exporter failures (not supported).
        pub check_collector_pipeline: CheckPipelineConfig = CheckPipelineConfig::default(),
    }
    endpoint = "localhost:13133";
}

impl Validate for HealthCheckConfig {
    fn validate(&self, p: &mut Problems) {
        if self.endpoint.is_empty() {
            p.key("endpoint", "bad config: endpoint must be specified");
        }
        if !self.path.starts_with('/') {
            p.key("path", "bad config: path must start with /");
        }
        let c = &self.check_collector_pipeline;
        if c.exporter_failure_threshold <= 0 {
            p.key(
                "check_collector_pipeline::exporter_failure_threshold",
                "bad config: exporter_failure_threshold expects a positive number",
            );
        }
        if let Err(e) = crate::config::Duration::parse(&c.interval) {
            p.key(
                "check_collector_pipeline::interval",
                format!("bad config: invalid interval {:?}: {e}", c.interval),
            );
        }
        if c.enabled {
            p.key(
                "check_collector_pipeline::enabled",
                "check_collector_pipeline is not supported (the Go collector documents it as broken, contrib #11780)",
            );
        }
        let mut inner = Problems::default();
        self.server().validate(&mut inner);
        p.0.extend(inner.0);
    }
}

/// A time as Go's `encoding/json` writes a `time.Time`: RFC 3339 with the fraction's
/// trailing zeros trimmed, in `zone` (`Z` for a zero offset). Go's extension marshals a
/// `time.Now()`, which is in the local zone (contrib
/// extension/healthcheckextension/internal/healthcheck/handler.go, `Set` and
/// `createRespBody`; Go's src/time/format_rfc3339.go, `appendFormatRFC3339`).
fn rfc3339(t: std::time::SystemTime, zone: &jiff::tz::TimeZone) -> String {
    // SystemTime reaches beyond jiff's years -9999 to 9999 only on a broken clock; such a
    // time prints as the epoch rather than failing a health probe.
    let ts = jiff::Timestamp::try_from(t).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let offset = zone.to_offset(ts);
    let dt = offset.to_datetime(ts);
    let mut out = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
    );
    let nanos = dt.subsec_nanosecond();
    if nanos != 0 {
        let fraction = format!("{nanos:09}");
        out.push('.');
        out.push_str(fraction.trim_end_matches('0'));
    }
    let secs = offset.seconds();
    if secs == 0 {
        out.push('Z');
    } else {
        let sign = if secs < 0 { '-' } else { '+' };
        let m = secs.unsigned_abs() / 60;
        out.push_str(&format!("{sign}{:02}:{:02}", m / 60, m % 60));
    }
    out
}

/// [`rfc3339`] in the local zone (`TZ`, else the system's), as Go's `time.Now()`.
fn rfc3339_local(t: std::time::SystemTime) -> String {
    rfc3339(t, &jiff::tz::TimeZone::system())
}

/// What a request path gets from a handler registered at `pattern`.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    Serve,
    NotFound,
    /// The path is the pattern without its trailing slash: Go's mux redirects to it.
    Redirect,
}

/// Go's `ServeMux` matching, which the Go extension registers its handler with: a pattern
/// ending in `/` matches its whole subtree (so the default `/` answers every path, as load
/// balancer and ECS probes at `/health` expect), any other pattern only itself.
fn route(pattern: &str, path: &str) -> Route {
    if pattern.ends_with('/') {
        if path.starts_with(pattern) {
            Route::Serve
        } else if path.len() + 1 == pattern.len() && pattern.starts_with(path) {
            Route::Redirect
        } else {
            Route::NotFound
        }
    } else if path == pattern {
        Route::Serve
    } else {
        Route::NotFound
    }
}

/// The answer to a request for `request_path`: Go's routing of the configured `path`, then
/// the health (or the configured bodies).
fn answer(
    health: &Health,
    path: &str,
    bodies: Option<&ResponseBodyConfig>,
    request_path: &str,
) -> http::Response<http_body_util::Full<bytes::Bytes>> {
    use bytes::Bytes;
    use http::{Response, StatusCode, header};
    use http_body_util::Full;

    match route(path, request_path) {
        Route::Serve => {}
        Route::NotFound => {
            let mut r = Response::new(Full::new(Bytes::from_static(b"404 page not found\n")));
            *r.status_mut() = StatusCode::NOT_FOUND;
            return r;
        }
        Route::Redirect => {
            let mut r = Response::new(Full::new(Bytes::new()));
            *r.status_mut() = StatusCode::MOVED_PERMANENTLY;
            if let Ok(v) = http::HeaderValue::from_str(path) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            return r;
        }
    }
    // A component that keeps panicking makes the collector unhealthy, whatever the
    // pipelines' readiness says.
    if let Some(component) = health.failing() {
        let body = match bodies {
            Some(b) if !b.unhealthy.is_empty() => b.unhealthy.clone(),
            _ => serde_json::json!({
                "status": "Server not available",
                "upSince": health.ready_since().map_or_else(|| "0001-01-01T00:00:00Z".to_owned(), rfc3339_local),
                "uptime": "",
                "reason": format!(
                    "component {component} panicked {} times within {}s",
                    crate::pipeline::panics::FAILING_PANICS,
                    crate::pipeline::panics::FAILING_WINDOW.as_secs()
                ),
            })
            .to_string(),
        };
        let mut r = Response::new(Full::new(Bytes::from(body)));
        *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        return r;
    }
    let (status, body) = match (health.ready_since(), bodies) {
        (Some(_), Some(b)) if !b.healthy.is_empty() => (StatusCode::OK, b.healthy.clone()),
        (None, Some(b)) if !b.unhealthy.is_empty() => {
            (StatusCode::SERVICE_UNAVAILABLE, b.unhealthy.clone())
        }
        (Some(since), _) => {
            let up = health.uptime();
            (
                StatusCode::OK,
                serde_json::json!({
                    "status": "Server available",
                    "upSince": rfc3339_local(since),
                    "uptime": crate::config::Duration::from(up).to_string(),
                })
                .to_string(),
            )
        }
        (None, _) => (
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({
                "status": "Server not available",
                "upSince": "0001-01-01T00:00:00Z",
                "uptime": "",
            })
            .to_string(),
        ),
    };
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_as_gos_mux_does() {
        // The default pattern answers everywhere.
        for p in ["/", "/health", "/healthz", "/anything/deeper"] {
            assert_eq!(route("/", p), Route::Serve, "{p}");
        }
        // A subtree pattern: its subtree, a redirect from its bare name, nothing else.
        assert_eq!(route("/health/", "/health/"), Route::Serve);
        assert_eq!(route("/health/", "/health/live"), Route::Serve);
        assert_eq!(route("/health/", "/health"), Route::Redirect);
        assert_eq!(route("/health/", "/healthz"), Route::NotFound);
        assert_eq!(route("/health/", "/"), Route::NotFound);
        // An exact pattern: only itself.
        assert_eq!(route("/health/status", "/health/status"), Route::Serve);
        assert_eq!(route("/health/status", "/health/status/x"), Route::NotFound);
        assert_eq!(route("/health/status", "/health"), Route::NotFound);
    }

    #[test]
    fn rfc3339_as_go_marshals_a_time() {
        let utc = jiff::tz::TimeZone::UTC;
        let at =
            |secs: u64, nanos: u32| std::time::UNIX_EPOCH + std::time::Duration::new(secs, nanos);
        // Go: t.MarshalJSON() for these instants, in UTC: trailing zeros trimmed.
        assert_eq!(
            rfc3339(at(1_764_115_200, 5), &utc),
            "2025-11-26T00:00:00.000000005Z"
        );
        assert_eq!(rfc3339(std::time::UNIX_EPOCH, &utc), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(at(1_709_164_800 + 86_399, 500_000_000), &utc),
            "2024-02-29T23:59:59.5Z"
        );
        // A clock before 1970 prints its date, as Go's Time.MarshalJSON does for any year
        // 0 to 9999.
        assert_eq!(
            rfc3339(
                std::time::UNIX_EPOCH - std::time::Duration::new(14_182_940, 0),
                &utc
            ),
            "1969-07-20T20:17:40Z"
        );
        assert_eq!(
            rfc3339(
                std::time::UNIX_EPOCH - std::time::Duration::from_nanos(1),
                &utc
            ),
            "1969-12-31T23:59:59.999999999Z"
        );
        // In a zone with an offset, the local time and the offset (Go: time.Local).
        let east = jiff::tz::TimeZone::fixed(jiff::tz::offset(5));
        assert_eq!(
            rfc3339(at(1_764_115_200, 120_000_000), &east),
            "2025-11-26T05:00:00.12+05:00"
        );
        let west = jiff::tz::TimeZone::fixed(
            jiff::tz::Offset::from_seconds(-(3 * 3600 + 30 * 60)).unwrap(),
        );
        assert_eq!(
            rfc3339(at(1_764_115_200, 0), &west),
            "2025-11-25T20:30:00-03:30"
        );
    }
}
