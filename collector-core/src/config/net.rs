//! Settings shared by components that listen or connect: the Go collector's `configtls`,
//! `configgrpc`, `confighttp` and `confignet` blocks (v0.138 keys and defaults).
//!
//! Keys for features this collector does not have (authenticator and middleware extensions,
//! TPM-held keys) are accepted so configurations parse, and rejected by validation when they
//! are actually used.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Duration;
use super::validate::Problems;

/// A value that must not be printed (`configopaque.String`): shown as `[REDACTED]`.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub(crate) struct Opaque(pub String);

impl Opaque {
    /// The secret itself.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// True when empty.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Opaque {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl Serialize for Opaque {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.is_empty() {
            s.serialize_str("")
        } else {
            s.serialize_str("[REDACTED]")
        }
    }
}

/// For `Option<T>` fields whose presence enables a feature even when written as `key:` with
/// no value (`configoptional` with a default): `grpc:` alone turns gRPC on with defaults.
pub(crate) fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// An authenticator reference (`auth: {authenticator: id}`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct AuthConfig {
    /// The authenticator extension's id.
    pub authenticator: String,
    /// HTTP server only: request parameters passed to the authenticator.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub request_params: Vec<String>,
}

/// A middleware reference (`middlewares: [{id: x}]`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct MiddlewareConfig {
    /// The middleware extension's id.
    pub id: String,
}

/// TPM-held keys (`tls::tpm`): accepted, rejected when enabled.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct TpmConfig {
    /// Whether keys come from a TPM.
    pub enabled: bool,
    /// TPM device path.
    pub path: String,
    /// Owner authorization.
    pub owner_auth: Opaque,
    /// Key authorization.
    pub auth: Opaque,
}

/// TLS settings for servers (`configtls.ServerConfig`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct TlsServerConfig {
    /// CA bundle for client certificates (with `client_ca_file`).
    pub ca_file: String,
    /// CA bundle, PEM text.
    pub ca_pem: Opaque,
    /// Add the system roots to `ca_file`.
    pub include_system_ca_certs_pool: bool,
    /// Certificate chain file.
    pub cert_file: String,
    /// Certificate chain, PEM text.
    pub cert_pem: Opaque,
    /// Private key file.
    pub key_file: String,
    /// Private key, PEM text.
    pub key_pem: Opaque,
    /// `1.0`..`1.3`; default 1.2.
    pub min_version: String,
    /// `1.0`..`1.3`; default the highest.
    pub max_version: String,
    /// Go cipher suite names.
    pub cipher_suites: Vec<String>,
    /// Certificate reload interval (0: never).
    pub reload_interval: Duration,
    /// Key exchange groups.
    pub curve_preferences: Vec<String>,
    /// TPM-held keys.
    pub tpm: TpmConfig,
    /// CA for verifying client certificates (mutual TLS).
    pub client_ca_file: String,
    /// Reload `client_ca_file` when it changes.
    pub client_ca_file_reload: bool,
}

/// TLS settings for clients (`configtls.ClientConfig`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct TlsClientConfig {
    /// Plaintext (gRPC): no TLS unless a CA is given.
    pub insecure: bool,
    /// Do not verify the server's certificate.
    pub insecure_skip_verify: bool,
    /// Server name to verify instead of the endpoint's host.
    pub server_name_override: String,
    /// CA bundle file.
    pub ca_file: String,
    /// CA bundle, PEM text.
    pub ca_pem: Opaque,
    /// Add the system roots to `ca_file`.
    pub include_system_ca_certs_pool: bool,
    /// Client certificate file.
    pub cert_file: String,
    /// Client certificate, PEM text.
    pub cert_pem: Opaque,
    /// Client key file.
    pub key_file: String,
    /// Client key, PEM text.
    pub key_pem: Opaque,
    /// `1.0`..`1.3`; default 1.2.
    pub min_version: String,
    /// `1.0`..`1.3`; default the highest.
    pub max_version: String,
    /// Go cipher suite names.
    pub cipher_suites: Vec<String>,
    /// Certificate reload interval.
    pub reload_interval: Duration,
    /// Key exchange groups.
    pub curve_preferences: Vec<String>,
    /// TPM-held keys.
    pub tpm: TpmConfig,
}

fn tls_version(v: &str) -> Option<u8> {
    match v {
        "" => Some(0),
        "1.0" => Some(10),
        "1.1" => Some(11),
        "1.2" => Some(12),
        "1.3" => Some(13),
        _ => None,
    }
}

/// The checks of Go's `configtls.Config.Validate`, shared by both sides.
#[allow(clippy::too_many_arguments)]
fn validate_tls_common(
    p: &mut Problems,
    ca_file: &str,
    ca_pem: &Opaque,
    cert_file: &str,
    cert_pem: &Opaque,
    key_file: &str,
    key_pem: &Opaque,
    min: &str,
    max: &str,
    tpm: &TpmConfig,
) {
    if !ca_file.is_empty() && !ca_pem.is_empty() {
        p.root("provide either a CA file or the PEM-encoded string, but not both");
    }
    if !cert_file.is_empty() && !cert_pem.is_empty() {
        p.root("provide either certificate file or PEM, but not both");
    }
    if !key_file.is_empty() && !key_pem.is_empty() {
        p.root("provide either key file or PEM, but not both");
    }
    let has_cert = !cert_file.is_empty() || !cert_pem.is_empty();
    let has_key = !key_file.is_empty() || !key_pem.is_empty();
    if has_cert != has_key {
        p.root("TLS configuration must include both certificate and key (CertFile/CertPem and KeyFile/KeyPem)");
    }
    let (lo, hi) = (tls_version(min), tls_version(max));
    if lo.is_none() {
        p.key(
            "min_version",
            format!("invalid TLS min_version: unsupported TLS version: {min:?}"),
        );
    }
    if hi.is_none() {
        p.key(
            "max_version",
            format!("invalid TLS max_version: unsupported TLS version: {max:?}"),
        );
    }
    if let (Some(lo), Some(hi)) = (lo, hi) {
        if lo > 0 && hi > 0 && lo > hi {
            p.root("invalid TLS configuration: min_version cannot be greater than max_version");
        }
        if (lo > 0 && lo < 12) || (hi > 0 && hi < 12) {
            p.root("TLS 1.0 and 1.1 are not supported by this collector (rustls): use 1.2 or 1.3");
        }
    }
    if tpm.enabled {
        p.key("tpm", "TPM-held keys are not supported by this collector");
    }
}

impl TlsServerConfig {
    pub(crate) fn validate(&self, p: &mut Problems) {
        validate_tls_common(
            p,
            &self.ca_file,
            &self.ca_pem,
            &self.cert_file,
            &self.cert_pem,
            &self.key_file,
            &self.key_pem,
            &self.min_version,
            &self.max_version,
            &self.tpm,
        );
        if self.cert_file.is_empty() && self.cert_pem.is_empty() {
            p.root(
                "TLS configuration must include both certificate and key for server connections",
            );
        }
    }
}

impl TlsClientConfig {
    pub(crate) fn validate(&self, p: &mut Problems) {
        validate_tls_common(
            p,
            &self.ca_file,
            &self.ca_pem,
            &self.cert_file,
            &self.cert_pem,
            &self.key_file,
            &self.key_pem,
            &self.min_version,
            &self.max_version,
            &self.tpm,
        );
    }
}

/// `keepalive::server_parameters` of a gRPC server.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct KeepaliveServerParameters {
    /// Close connections idle this long.
    pub max_connection_idle: Duration,
    /// Close connections older than this.
    pub max_connection_age: Duration,
    /// Grace period after `max_connection_age`.
    pub max_connection_age_grace: Duration,
    /// Ping an idle client after this long.
    pub time: Duration,
    /// Wait this long for a ping acknowledgement.
    pub timeout: Duration,
}

/// `keepalive::enforcement_policy` of a gRPC server.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct KeepaliveEnforcementPolicy {
    /// Minimum interval between client pings.
    pub min_time: Duration,
    /// Allow pings without active streams.
    pub permit_without_stream: bool,
}

/// `keepalive` of a gRPC server.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct KeepaliveServerConfig {
    /// Server-side keepalive.
    pub server_parameters: KeepaliveServerParameters,
    /// Limits on client pings.
    pub enforcement_policy: KeepaliveEnforcementPolicy,
}

/// `dialer` (accepted beside `endpoint`, unused by servers).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct DialerConfig {
    /// Dial timeout.
    pub timeout: Duration,
}

/// A gRPC server (`configgrpc.ServerConfig`), with the OTLP receiver's defaults (the only
/// gRPC server here).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct GrpcServerConfig {
    /// `host:port`; `localhost` binds the loopback addresses.
    pub endpoint: String,
    /// `tcp` (and the other Go network names; only TCP is served).
    pub transport: String,
    /// Accepted for compatibility.
    pub dialer: DialerConfig,
    /// TLS; off when absent.
    pub tls: Option<TlsServerConfig>,
    /// Largest accepted message in MiB (0: 4).
    pub max_recv_msg_size_mib: i64,
    /// HTTP/2 streams per connection (0: unlimited).
    pub max_concurrent_streams: u32,
    /// Socket read buffer hint.
    pub read_buffer_size: i64,
    /// Socket write buffer hint.
    pub write_buffer_size: i64,
    /// Keepalive settings.
    pub keepalive: Option<KeepaliveServerConfig>,
    /// Authenticator (not supported).
    pub auth: Option<AuthConfig>,
    /// Keep request metadata for `metadata_keys` and `from_context`.
    pub include_metadata: bool,
    /// Middleware extensions (not supported).
    pub middlewares: Vec<MiddlewareConfig>,
    /// Connections open at once; past it, new ones are closed at once (ours; 0: 1000).
    pub max_connections: i64,
    /// A connection must send the HTTP/2 preface and a first request within this, or it
    /// is closed (ours; grpc-go's `ConnectionTimeout` is 120 s and not configurable).
    pub handshake_timeout: Duration,
}

impl GrpcServerConfig {
    pub(crate) fn validate(&self, p: &mut Problems) {
        if self.max_recv_msg_size_mib < 0 || self.max_recv_msg_size_mib > (i64::MAX >> 20) {
            p.key(
                "max_recv_msg_size_mib",
                format!(
                    "invalid max_recv_msg_size_mib value, must be between 1 and {}: {}",
                    i64::MAX >> 20,
                    self.max_recv_msg_size_mib
                ),
            );
        }
        if self.read_buffer_size < 0 {
            p.key(
                "read_buffer_size",
                format!("invalid read_buffer_size value: {}", self.read_buffer_size),
            );
        }
        if self.write_buffer_size < 0 {
            p.key(
                "write_buffer_size",
                format!(
                    "invalid write_buffer_size value: {}",
                    self.write_buffer_size
                ),
            );
        }
        validate_transport(&self.transport, p);
        validate_server_common(p, &self.tls, &self.auth, &self.middlewares);
        validate_max_connections(self.max_connections, p);
        if self.handshake_timeout.as_nanos() <= 0 {
            p.key("handshake_timeout", "handshake_timeout must be positive");
        }
    }
}

fn validate_max_connections(n: i64, p: &mut Problems) {
    if n < 0 {
        p.key(
            "max_connections",
            format!("invalid max_connections value: {n} (0 means the default, 1000)"),
        );
    }
}

/// A `max_connections` setting as a count (0: the default).
pub(crate) fn max_connections(n: i64) -> usize {
    match usize::try_from(n) {
        Ok(0) | Err(_) => crate::server::DEFAULT_MAX_CONNECTIONS,
        Ok(n) => n,
    }
}

impl Default for GrpcServerConfig {
    fn default() -> Self {
        GrpcServerConfig {
            endpoint: "localhost:4317".to_owned(),
            transport: "tcp".to_owned(),
            dialer: DialerConfig::default(),
            tls: None,
            max_recv_msg_size_mib: 0,
            max_concurrent_streams: 0,
            read_buffer_size: 512 * 1024,
            write_buffer_size: 0,
            keepalive: Some(KeepaliveServerConfig::default()),
            auth: None,
            include_metadata: false,
            middlewares: Vec::new(),
            max_connections: 0,
            handshake_timeout: Duration::from_secs(20),
        }
    }
}

fn validate_transport(t: &str, p: &mut Problems) {
    match t {
        "tcp" | "tcp4" | "tcp6" => {}
        "udp" | "udp4" | "udp6" | "ip" | "ip4" | "ip6" | "unix" | "unixgram" | "unixpacket" => {
            p.key(
                "transport",
                format!("transport {t:?} is not supported by this collector (only tcp)"),
            );
        }
        _ => p.key("transport", format!("invalid transport type {t:?}")),
    }
}

fn validate_server_common(
    p: &mut Problems,
    tls: &Option<TlsServerConfig>,
    auth: &Option<AuthConfig>,
    middlewares: &[MiddlewareConfig],
) {
    if let Some(tls) = tls {
        let mut inner = Problems::default();
        tls.validate(&mut inner);
        p.nested("tls", inner);
    }
    if auth.is_some() {
        p.key(
            "auth",
            "authenticator extensions are not supported by this collector",
        );
    }
    if !middlewares.is_empty() {
        p.key(
            "middlewares",
            "middleware extensions are not supported by this collector",
        );
    }
}

/// `cors` of an HTTP server.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct CorsConfig {
    /// Origins allowed (`*` wildcards allowed).
    pub allowed_origins: Vec<String>,
    /// Extra request headers allowed.
    pub allowed_headers: Vec<String>,
    /// Preflight cache lifetime in seconds.
    pub max_age: i64,
}

/// An HTTP server (`confighttp.ServerConfig`), with the OTLP receiver's URL paths.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct HttpServerConfig {
    /// `host:port`; `localhost` binds the loopback addresses.
    pub endpoint: String,
    /// TLS; off when absent.
    pub tls: Option<TlsServerConfig>,
    /// Cross-origin requests.
    pub cors: Option<CorsConfig>,
    /// Authenticator (not supported).
    pub auth: Option<AuthConfig>,
    /// Largest body, before and after decompression (0: 20 MiB).
    pub max_request_body_size: i64,
    /// Keep request headers for `metadata_keys` and `from_context`.
    pub include_metadata: bool,
    /// Headers added to every response.
    pub response_headers: BTreeMap<String, Opaque>,
    /// Accepted `Content-Encoding`s (default: all supported).
    pub compression_algorithms: Option<Vec<String>>,
    /// Whole-request read timeout (0: none).
    pub read_timeout: Duration,
    /// Header read timeout. Finite by default here (1m), unlike the Go OTLP receiver.
    pub read_header_timeout: Duration,
    /// Response write timeout (0: none).
    pub write_timeout: Duration,
    /// Idle keep-alive connection timeout. Finite by default here (1m).
    pub idle_timeout: Duration,
    /// Middleware extensions (not supported).
    pub middlewares: Vec<MiddlewareConfig>,
    /// HTTP keep-alive.
    pub keep_alives_enabled: bool,
    /// Connections open at once; past it, new ones are closed at once (ours; 0: 1000).
    pub max_connections: i64,
}

impl Default for HttpServerConfig {
    fn default() -> Self {
        HttpServerConfig {
            endpoint: String::new(),
            tls: None,
            cors: None,
            auth: None,
            max_request_body_size: 0,
            include_metadata: false,
            response_headers: BTreeMap::new(),
            compression_algorithms: None,
            read_timeout: Duration::ZERO,
            read_header_timeout: Duration::from_secs(60),
            write_timeout: Duration::ZERO,
            idle_timeout: Duration::from_secs(60),
            middlewares: Vec::new(),
            keep_alives_enabled: true,
            max_connections: 0,
        }
    }
}

/// The `Content-Encoding`s an HTTP server can accept.
pub(crate) const HTTP_ENCODINGS: &[&str] = &[
    "",
    "gzip",
    "zstd",
    "zlib",
    "snappy",
    "deflate",
    "lz4",
    "x-snappy-framed",
];

impl HttpServerConfig {
    pub(crate) fn validate(&self, p: &mut Problems) {
        if self.max_request_body_size < 0 {
            p.key(
                "max_request_body_size",
                format!(
                    "invalid max_request_body_size value: {}",
                    self.max_request_body_size
                ),
            );
        }
        for c in self.compression_algorithms.iter().flatten() {
            if !HTTP_ENCODINGS.contains(&c.as_str()) {
                p.key(
                    "compression_algorithms",
                    format!("unsupported compression type {c:?}"),
                );
            }
        }
        validate_server_common(p, &self.tls, &self.auth, &self.middlewares);
        validate_max_connections(self.max_connections, p);
    }
}

/// gRPC client keepalive.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct KeepaliveClientConfig {
    /// Ping after this long without activity.
    pub time: Duration,
    /// Wait this long for the acknowledgement.
    pub timeout: Duration,
    /// Ping without active streams.
    pub permit_without_stream: bool,
}

/// `compression_params` of an HTTP client.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct CompressionParams {
    /// Compression level (0: the codec's default).
    pub level: i64,
}

/// `cookies` of an HTTP client.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct CookiesConfig {
    /// Keep cookies between requests.
    pub enabled: bool,
}

/// The client parts of both OTLP exporters (`http`: the HTTP one).
pub(crate) fn validate_client(
    p: &mut Problems,
    tls: &TlsClientConfig,
    compression: &str,
    http: bool,
    auth: &Option<AuthConfig>,
    middlewares: &[MiddlewareConfig],
) {
    let mut t = Problems::default();
    tls.validate(&mut t);
    p.nested("tls", t);
    validate_client_compression(compression, http, p);
    AuthConfig::reject(auth, p);
    MiddlewareConfig::reject_all(middlewares, p);
}

/// Compression names a client may be configured with, and whether we can send them: Go's
/// `configcompression` names; over HTTP every one (confighttp), over gRPC gzip, snappy and
/// zstd (configgrpc, which refuses the others at start).
pub(crate) fn validate_client_compression(c: &str, http: bool, p: &mut Problems) {
    match c {
        "" | "none" | "gzip" | "zstd" | "snappy" => {}
        "zlib" | "deflate" | "lz4" | "x-snappy-framed" if http => {}
        "zlib" | "deflate" | "x-snappy-framed" | "lz4" => p.key(
            "compression",
            format!("compression {c:?} is not supported for export by this collector (use gzip, zstd, snappy or none)"),
        ),
        other => p.key("compression", format!("unsupported compression type {other:?}")),
    }
}

impl MiddlewareConfig {
    pub(crate) fn reject_all(list: &[MiddlewareConfig], p: &mut Problems) {
        if !list.is_empty() {
            p.key(
                "middlewares",
                "middleware extensions are not supported by this collector",
            );
        }
    }
}

impl AuthConfig {
    pub(crate) fn reject(auth: &Option<AuthConfig>, p: &mut Problems) {
        if auth.is_some() {
            p.key(
                "auth",
                "authenticator extensions are not supported by this collector",
            );
        }
    }
}

/// Declares a config struct that starts with the HTTP server settings (Go squashes
/// `confighttp.ServerConfig` into the component's own struct), followed by the component's
/// fields with their defaults. `server()` returns the settings part.
///
/// Written as a macro rather than `#[serde(flatten)]` because flatten hides unknown keys
/// and loses the key path of type errors.
macro_rules! http_server_struct {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty = $default:expr ),* $(,)?
        }
        endpoint = $endpoint:expr;
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, serde::Deserialize, serde::Serialize)]
        #[serde(default)]
        $vis struct $name {
            /// `host:port`; `localhost` binds the loopback addresses.
            pub endpoint: String,
            /// TLS; off when absent.
            pub tls: Option<$crate::config::net::TlsServerConfig>,
            /// Cross-origin requests.
            pub cors: Option<$crate::config::net::CorsConfig>,
            /// Authenticator (not supported).
            pub auth: Option<$crate::config::net::AuthConfig>,
            /// Largest body, before and after decompression (0: 20 MiB).
            pub max_request_body_size: i64,
            /// Keep request headers for `metadata_keys` and `from_context`.
            pub include_metadata: bool,
            /// Headers added to every response.
            pub response_headers:
                std::collections::BTreeMap<String, $crate::config::net::Opaque>,
            /// Accepted `Content-Encoding`s (default: all supported).
            pub compression_algorithms: Option<Vec<String>>,
            /// Whole-request read timeout (0: none).
            pub read_timeout: $crate::config::Duration,
            /// Header read timeout; finite by default here (1m), unlike Go's receivers.
            pub read_header_timeout: $crate::config::Duration,
            /// Response write timeout (0: none).
            pub write_timeout: $crate::config::Duration,
            /// Idle keep-alive connection timeout; finite by default here (1m).
            pub idle_timeout: $crate::config::Duration,
            /// Middleware extensions (not supported).
            pub middlewares: Vec<$crate::config::net::MiddlewareConfig>,
            /// HTTP keep-alive.
            pub keep_alives_enabled: bool,
            /// Connections open at once; past it, new ones are closed (ours; 0: 1000).
            pub max_connections: i64,
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl Default for $name {
            fn default() -> Self {
                let s = $crate::config::net::HttpServerConfig {
                    endpoint: $endpoint.to_owned(),
                    ..Default::default()
                };
                $name {
                    endpoint: s.endpoint,
                    tls: s.tls,
                    cors: s.cors,
                    auth: s.auth,
                    max_request_body_size: s.max_request_body_size,
                    include_metadata: s.include_metadata,
                    response_headers: s.response_headers,
                    compression_algorithms: s.compression_algorithms,
                    read_timeout: s.read_timeout,
                    read_header_timeout: s.read_header_timeout,
                    write_timeout: s.write_timeout,
                    idle_timeout: s.idle_timeout,
                    middlewares: s.middlewares,
                    keep_alives_enabled: s.keep_alives_enabled,
                    max_connections: s.max_connections,
                    $( $field: $default, )*
                }
            }
        }

        impl $name {
            /// The HTTP server settings part.
            #[allow(dead_code)]
            pub(crate) fn server(&self) -> $crate::config::net::HttpServerConfig {
                $crate::config::net::HttpServerConfig {
                    endpoint: self.endpoint.clone(),
                    tls: self.tls.clone(),
                    cors: self.cors.clone(),
                    auth: self.auth.clone(),
                    max_request_body_size: self.max_request_body_size,
                    include_metadata: self.include_metadata,
                    response_headers: self.response_headers.clone(),
                    compression_algorithms: self.compression_algorithms.clone(),
                    read_timeout: self.read_timeout,
                    read_header_timeout: self.read_header_timeout,
                    write_timeout: self.write_timeout,
                    idle_timeout: self.idle_timeout,
                    middlewares: self.middlewares.clone(),
                    keep_alives_enabled: self.keep_alives_enabled,
                    max_connections: self.max_connections,
                }
            }
        }
    };
}
pub(crate) use http_server_struct;
