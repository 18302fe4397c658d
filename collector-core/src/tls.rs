//! TLS with rustls (ring provider) from the Go collector's `tls` blocks.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::config::net::{TlsClientConfig, TlsServerConfig};
use crate::{Error, ErrorKind};

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn err(what: String) -> Error {
    Error::new(ErrorKind::Config, what)
}

fn versions(min: &str, max: &str) -> Vec<&'static rustls::SupportedProtocolVersion> {
    let lo = if min == "1.3" { 13 } else { 12 };
    let hi = if max == "1.2" { 12 } else { 13 };
    let mut v = Vec::new();
    if lo <= 12 && hi >= 12 {
        v.push(&rustls::version::TLS12);
    }
    if hi >= 13 {
        v.push(&rustls::version::TLS13);
    }
    v
}

fn certs(file: &str, pem: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    let list: Result<Vec<_>, _> = if !file.is_empty() {
        CertificateDer::pem_file_iter(file)
            .map_err(|e| err(format!("failed to load certificates from {file}: {e}")))?
            .collect()
    } else {
        CertificateDer::pem_slice_iter(pem.as_bytes()).collect()
    };
    let list = list.map_err(|e| err(format!("invalid PEM certificate {file}: {e}")))?;
    if list.is_empty() {
        return Err(err(format!("no certificate found in {file:?}")));
    }
    Ok(list)
}

fn key(file: &str, pem: &str) -> Result<PrivateKeyDer<'static>, Error> {
    if !file.is_empty() {
        PrivateKeyDer::from_pem_file(file)
            .map_err(|e| err(format!("failed to load TLS key {file}: {e}")))
    } else {
        PrivateKeyDer::from_pem_slice(pem.as_bytes())
            .map_err(|e| err(format!("failed to load TLS key: {e}")))
    }
}

/// The CA roots: `ca_file`/`ca_pem`, and the system's unless custom ones are given (or
/// `include_system`). `system` false skips the system's (reading them costs milliseconds)
/// for a client that never speaks TLS.
fn roots(
    ca_file: &str,
    ca_pem: &str,
    include_system: bool,
    system: bool,
) -> Result<RootCertStore, Error> {
    let mut store = RootCertStore::empty();
    let custom = !ca_file.is_empty() || !ca_pem.is_empty();
    if custom {
        for c in certs(ca_file, ca_pem)? {
            store
                .add(c)
                .map_err(|e| err(format!("failed to load CA {ca_file}: {e}")))?;
        }
    }
    if system && (!custom || include_system) {
        let native = rustls_native_certs::load_native_certs();
        for c in native.certs {
            let _ = store.add(c);
        }
    }
    Ok(store)
}

/// A server config: certificate chain and key, optional client verification (mutual TLS),
/// and the ALPN protocols the server speaks.
pub(crate) fn server_config(
    cfg: &TlsServerConfig,
    alpn: &[&[u8]],
) -> Result<Arc<rustls::ServerConfig>, Error> {
    let builder = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&versions(&cfg.min_version, &cfg.max_version))
        .map_err(|e| err(format!("invalid TLS configuration: {e}")))?;
    let builder = if cfg.client_ca_file.is_empty() {
        builder.with_no_client_auth()
    } else {
        let store = roots(&cfg.client_ca_file, "", false, false)?;
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(store),
            provider(),
        )
        .build()
        .map_err(|e| err(format!("invalid client CA {}: {e}", cfg.client_ca_file)))?;
        builder.with_client_cert_verifier(verifier)
    };
    let mut config = builder
        .with_single_cert(
            certs(&cfg.cert_file, cfg.cert_pem.expose())?,
            key(&cfg.key_file, cfg.key_pem.expose())?,
        )
        .map_err(|e| err(format!("failed to load TLS cert and key: {e}")))?;
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// Accepts any server certificate (`insecure_skip_verify: true`).
#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A client config: roots (the system's, or `ca_file`/`ca_pem`) and an optional client
/// certificate. ALPN is left to the connector. `secure` false (an `http://` endpoint) skips
/// reading the system's roots; everything configured is still loaded and checked.
pub(crate) fn client_config(
    cfg: &TlsClientConfig,
    secure: bool,
) -> Result<rustls::ClientConfig, Error> {
    let p = provider();
    let builder = rustls::ClientConfig::builder_with_provider(p.clone())
        .with_protocol_versions(&versions(&cfg.min_version, &cfg.max_version))
        .map_err(|e| err(format!("invalid TLS configuration: {e}")))?;
    let builder = if cfg.insecure_skip_verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(p)))
    } else {
        builder.with_root_certificates(roots(
            &cfg.ca_file,
            cfg.ca_pem.expose(),
            cfg.include_system_ca_certs_pool,
            secure,
        )?)
    };
    let has_client_cert = !cfg.cert_file.is_empty() || !cfg.cert_pem.is_empty();
    let config = if has_client_cert {
        builder
            .with_client_auth_cert(
                certs(&cfg.cert_file, cfg.cert_pem.expose())?,
                key(&cfg.key_file, cfg.key_pem.expose())?,
            )
            .map_err(|e| err(format!("failed to load TLS client cert and key: {e}")))?
    } else {
        builder.with_no_client_auth()
    };
    Ok(config)
}
