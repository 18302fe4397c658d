//! AWS credentials for the `awss3` exporter: the AWS SDK's default chain, in its order.
//!
//! 1. `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`): static keys.
//! 2. `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN` (+ `AWS_ROLE_SESSION_NAME`,
//!    `AWS_ENDPOINT_URL_STS`): STS `AssumeRoleWithWebIdentity`, done by object_store.
//! 3. `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (ECS task role, `http://169.254.170.2<uri>`)
//!    or `AWS_CONTAINER_CREDENTIALS_FULL_URI`, with `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`
//!    or `AWS_CONTAINER_AUTHORIZATION_TOKEN` as `Authorization`: [`ContainerCredentials`]
//!    here, because object_store only reads a full URI together with a token file (EKS Pod
//!    Identity) and would otherwise fall through to the instance metadata service.
//! 4. The instance metadata service (IMDSv2), done by object_store, at
//!    `AWS_EC2_METADATA_SERVICE_ENDPOINT` (or the IPv6 address with
//!    `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6`); skipped with
//!    `AWS_EC2_METADATA_DISABLED=true`, which object_store does not read itself.
//!
//! Shared config and credentials files (`~/.aws`, `AWS_PROFILE`) are not read.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey, AwsCredential};
use object_store::client::{CredentialProvider, HttpRequestBody};
use parking_lot::Mutex;
use serde::Deserialize;

use super::http::HyperTransport;
use crate::aws::env::EnvLookup;
use crate::aws::imds;

/// The ECS agent's credentials address for `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`.
const ECS_HOST: &str = "http://169.254.170.2";
/// Refresh container credentials this long before they expire (the SDK's window).
const REFRESH_BEFORE: Duration = Duration::from_secs(5 * 60);
/// One credentials request may take this long.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the exporter's credentials come from.
#[derive(Debug)]
pub(crate) enum Source {
    /// Static keys in the environment.
    Static,
    /// Web identity through STS.
    WebIdentity,
    /// The ECS (or another container) credentials endpoint.
    Container(String),
    /// The instance metadata service at this endpoint.
    InstanceMetadata(String),
    /// Nothing in the chain: uploads fail with this message and make no request.
    None(String),
}

impl Source {
    /// For the start log line.
    pub(crate) fn describe(&self) -> String {
        match self {
            Source::Static => "static keys (AWS_ACCESS_KEY_ID)".to_owned(),
            Source::WebIdentity => "web identity (AWS_WEB_IDENTITY_TOKEN_FILE)".to_owned(),
            Source::Container(url) => format!("container credentials endpoint {url}"),
            Source::InstanceMetadata(url) => format!("instance metadata service {url}"),
            Source::None(_) => "none".to_owned(),
        }
    }
}

/// A variable, unset when empty (as the SDK treats it).
fn var(env: &EnvLookup, key: &str) -> Option<String> {
    env(key).filter(|v| !v.trim().is_empty())
}

/// Picks the first source of the chain present in `env` and configures `builder` for it.
///
/// # Errors
///
/// A message for a container endpoint the SDK would refuse (plain HTTP to a host that is
/// neither loopback nor the ECS/EKS agent).
pub(crate) fn configure(
    mut builder: AmazonS3Builder,
    env: &EnvLookup,
    transport: &HyperTransport,
) -> Result<(AmazonS3Builder, Source), String> {
    if let (Some(key), Some(secret)) = (
        var(env, "AWS_ACCESS_KEY_ID"),
        var(env, "AWS_SECRET_ACCESS_KEY"),
    ) {
        builder = builder
            .with_access_key_id(key)
            .with_secret_access_key(secret);
        if let Some(token) = var(env, "AWS_SESSION_TOKEN") {
            builder = builder.with_token(token);
        }
        return Ok((builder, Source::Static));
    }
    if let (Some(file), Some(role)) = (
        var(env, "AWS_WEB_IDENTITY_TOKEN_FILE"),
        var(env, "AWS_ROLE_ARN"),
    ) {
        builder = builder
            .with_config(AmazonS3ConfigKey::WebIdentityTokenFile, file)
            .with_config(AmazonS3ConfigKey::RoleArn, role);
        if let Some(name) = var(env, "AWS_ROLE_SESSION_NAME") {
            builder = builder.with_config(AmazonS3ConfigKey::RoleSessionName, name);
        }
        if let Some(sts) = var(env, "AWS_ENDPOINT_URL_STS") {
            builder = builder.with_config(AmazonS3ConfigKey::StsEndpoint, sts);
        }
        return Ok((builder, Source::WebIdentity));
    }
    let container = match (
        var(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"),
        var(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI"),
    ) {
        (Some(rel), _) => Some(format!("{ECS_HOST}{rel}")),
        (None, Some(full)) => {
            check_full_uri(&full)?;
            Some(full)
        }
        (None, None) => None,
    };
    if let Some(url) = container {
        let provider = ContainerCredentials {
            url: url.clone(),
            token_file: var(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"),
            token: var(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN"),
            transport: transport.clone(),
            cache: Mutex::new(None),
            fetching: tokio::sync::Mutex::new(()),
        };
        return Ok((
            builder.with_credentials(Arc::new(provider)),
            Source::Container(url),
        ));
    }
    if imds::disabled(env) {
        return Ok((
            builder,
            Source::None(
                "no AWS credentials found: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, \
                 AWS_WEB_IDENTITY_TOKEN_FILE/AWS_ROLE_ARN and \
                 AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI are unset, and the instance \
                 metadata service is disabled (AWS_EC2_METADATA_DISABLED=true)"
                    .to_owned(),
            ),
        ));
    }
    let endpoint = imds::endpoint(env);
    Ok((
        builder.with_metadata_endpoint(endpoint.clone()),
        Source::InstanceMetadata(endpoint),
    ))
}

/// The SDK accepts a plain-HTTP full URI only for loopback hosts and the ECS/EKS agents.
fn check_full_uri(full: &str) -> Result<(), String> {
    let uri: http::Uri = full
        .parse()
        .map_err(|e| format!("AWS_CONTAINER_CREDENTIALS_FULL_URI {full:?} is not a URL: {e}"))?;
    match uri.scheme_str() {
        Some("https") => return Ok(()),
        Some("http") => {}
        _ => {
            return Err(format!(
                "AWS_CONTAINER_CREDENTIALS_FULL_URI {full:?} must be an http or https URL"
            ));
        }
    }
    let host = uri
        .host()
        .unwrap_or("")
        .trim_start_matches('[')
        .trim_end_matches(']');
    let allowed = host == "localhost"
        || matches!(host, "169.254.170.2" | "169.254.170.23" | "fd00:ec2::23")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if allowed {
        Ok(())
    } else {
        Err(format!(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI {full:?}: plain HTTP is only allowed to a \
             loopback address or the ECS/EKS credentials agent"
        ))
    }
}

/// The credentials document of the ECS agent.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ContainerDocument {
    access_key_id: String,
    secret_access_key: String,
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    expiration: Option<String>,
}

/// Credentials from a container credentials endpoint, cached until shortly before they
/// expire.
pub(crate) struct ContainerCredentials {
    url: String,
    token_file: Option<String>,
    token: Option<String>,
    transport: HyperTransport,
    cache: Mutex<Option<(Arc<AwsCredential>, Option<jiff::Timestamp>)>>,
    /// Held while fetching: uploads that start together (a queue's senders) wait for one
    /// fetch instead of each asking the endpoint.
    fetching: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for ContainerCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContainerCredentials")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// An object_store error carrying `message` (what a credential provider returns).
fn generic(message: String) -> object_store::Error {
    object_store::Error::Generic {
        store: "S3",
        source: message.into(),
    }
}

impl ContainerCredentials {
    /// The cached credentials, unless they expire soon.
    fn cached(&self) -> Option<Arc<AwsCredential>> {
        let now = jiff::Timestamp::now();
        let cache = self.cache.lock();
        let (c, expires) = cache.as_ref()?;
        let fresh = expires
            .is_none_or(|e| e.as_second() - now.as_second() > REFRESH_BEFORE.as_secs() as i64);
        fresh.then(|| c.clone())
    }

    /// One request to the endpoint: the credentials and when they expire.
    async fn fetch(&self) -> Result<(AwsCredential, Option<jiff::Timestamp>), String> {
        let mut req = http::Request::get(&self.url);
        // The token file is read on every fetch: the agent rotates it.
        let token = match &self.token_file {
            Some(f) => Some(
                std::fs::read_to_string(f)
                    .map_err(|e| {
                        format!("cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE {f}: {e}")
                    })?
                    .trim()
                    .to_owned(),
            ),
            None => self.token.clone(),
        };
        if let Some(t) = token {
            req = req.header(http::header::AUTHORIZATION, t);
        }
        let req = req
            .body(HttpRequestBody::empty())
            .map_err(|e| format!("credentials request: {e}"))?;
        let get = async {
            let resp = self.transport.send(req).await.map_err(|e| e.to_string())?;
            let status = resp.status();
            let body = resp.into_body().bytes().await.map_err(|e| e.to_string())?;
            Ok::<(http::StatusCode, Bytes), String>((status, body))
        };
        let (status, body) = tokio::time::timeout(FETCH_TIMEOUT, get)
            .await
            .map_err(|_| format!("timed out after {FETCH_TIMEOUT:?}"))??;
        if !status.is_success() {
            return Err(format!(
                "{} answered {status}: {}",
                self.url,
                String::from_utf8_lossy(&body[..body.len().min(200)])
            ));
        }
        let doc: ContainerDocument = serde_json::from_slice(&body)
            .map_err(|e| format!("{} answered an invalid credentials document: {e}", self.url))?;
        let expires = doc.expiration.as_deref().and_then(|e| e.parse().ok());
        Ok((
            AwsCredential {
                key_id: doc.access_key_id,
                secret_key: doc.secret_access_key,
                token: doc.token.filter(|t| !t.is_empty()),
            },
            expires,
        ))
    }
}

#[async_trait]
impl CredentialProvider for ContainerCredentials {
    type Credential = AwsCredential;

    async fn get_credential(&self) -> object_store::Result<Arc<AwsCredential>> {
        if let Some(c) = self.cached() {
            return Ok(c);
        }
        let _one_fetch = self.fetching.lock().await;
        // Another caller may have fetched while this one waited.
        if let Some(c) = self.cached() {
            return Ok(c);
        }
        let (c, expires) = self.fetch().await.map_err(|e| {
            generic(format!(
                "cannot get credentials from the container credentials endpoint: {e}"
            ))
        })?;
        let c = Arc::new(c);
        *self.cache.lock() = Some((c.clone(), expires));
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::aws::env::fixed as env;

    /// The source the chain picks in `vars`.
    fn source(vars: &[(&str, &str)]) -> Result<Source, String> {
        let t = HyperTransport::new().unwrap();
        configure(AmazonS3Builder::new(), &env(vars), &t).map(|(_, s)| s)
    }

    #[test]
    fn chain_order() {
        let all = [
            ("AWS_ACCESS_KEY_ID", "k"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            (
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                "/v2/credentials/x",
            ),
        ];
        assert!(matches!(source(&all).unwrap(), Source::Static));
        assert!(matches!(
            source(&all[2..]).unwrap(),
            Source::Container(u) if u == "http://169.254.170.2/v2/credentials/x"
        ));
        // A key without its secret is not a credential: the chain goes on.
        assert!(matches!(
            source(&[("AWS_ACCESS_KEY_ID", "k")]).unwrap(),
            Source::InstanceMetadata(u) if u == "http://169.254.169.254"
        ));
        assert!(matches!(
            source(&[("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9/")]).unwrap(),
            Source::InstanceMetadata(u) if u == "http://127.0.0.1:9"
        ));
        assert!(matches!(
            source(&[("AWS_EC2_METADATA_DISABLED", "TRUE")]).unwrap(),
            Source::None(m) if m.contains("AWS_EC2_METADATA_DISABLED")
        ));
    }

    #[test]
    fn full_uri_hosts() {
        for ok in [
            "http://127.0.0.1:8080/creds",
            "http://localhost/creds",
            "http://[::1]:1/c",
            "http://169.254.170.23/v1/credentials",
            "https://creds.example.com/x",
        ] {
            assert!(check_full_uri(ok).is_ok(), "{ok}");
        }
        for bad in ["http://10.0.0.1/creds", "ftp://127.0.0.1/x", "not a url"] {
            assert!(check_full_uri(bad).is_err(), "{bad}");
        }
    }
}
