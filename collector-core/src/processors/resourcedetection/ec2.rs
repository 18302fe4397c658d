//! The `ec2` detector: the instance metadata service (IMDSv2, falling back to v1 as the AWS
//! SDK does), read as contrib's `internal/aws/ec2` reads it.

use std::time::Duration;

use http::Method;
use serde::Deserialize;
use tokio::sync::watch;
use tokio::time::Instant;

use super::Ec2DetectorConfig;
use super::detector::{Detected, EcsHint, SCHEMA_1_6_1, enabled};
use crate::aws::env::EnvLookup;
use crate::aws::imds::{disabled, endpoint};
use crate::aws::metadata::{Answer, MetadataClient};
use crate::otlp::Value;
use crate::{Error, ErrorKind};

/// Token lifetime the SDK asks for (6 hours).
const TOKEN_TTL: &str = "21600";

/// The fields of `/latest/dynamic/instance-identity/document` that become attributes.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct IdentityDocument {
    pub(crate) account_id: String,
    pub(crate) availability_zone: String,
    pub(crate) image_id: String,
    pub(crate) instance_id: String,
    pub(crate) instance_type: String,
    pub(crate) region: String,
}

/// Detects the EC2 resource.
///
/// Skipped without any request (nothing detected, no error) when the metadata service is
/// disabled by `AWS_EC2_METADATA_DISABLED`, or when `ecs_hint` says the ECS detector found
/// a Fargate task; with `fail_on_missing_metadata` a disabled service is an error.
pub(crate) async fn detect(
    cfg: &Ec2DetectorConfig,
    env: &EnvLookup,
    client: &MetadataClient,
    deadline: Instant,
    ecs_hint: Option<watch::Receiver<EcsHint>>,
) -> Result<Detected, Error> {
    if disabled(env) {
        let msg = "EC2 metadata unavailable: AWS_EC2_METADATA_DISABLED is true";
        if cfg.fail_on_missing_metadata {
            return Err(Error::new(ErrorKind::Io, msg));
        }
        tracing::info!("{msg}; the ec2 detector is skipped");
        return Ok(Detected::default());
    }
    if let Some(mut rx) = ecs_hint {
        // Waits for the ECS detector's first answer; a closed channel (the ECS detector
        // ended without one) or the deadline means "not known to be Fargate".
        let hint = tokio::time::timeout_at(deadline, rx.wait_for(|h| *h != EcsHint::Pending))
            .await
            .ok()
            .and_then(|r| r.ok().map(|h| *h));
        if hint == Some(EcsHint::Fargate) {
            tracing::info!(
                "ECS task on Fargate: no instance metadata service; the ec2 detector is skipped"
            );
            return Ok(Detected::default());
        }
    }
    let imds = Imds {
        client,
        base: endpoint(env),
        attempts: u32::try_from(cfg.max_attempts.clamp(1, 100)).unwrap_or(3),
        max_backoff: cfg.max_backoff.to_std(),
        deadline,
    };
    let token = imds.token().await;
    let token = match token {
        Ok(t) => t,
        Err(e) => {
            return Err(Error::new(
                e.kind(),
                format!("EC2 metadata unavailable: {e}"),
            ));
        }
    };
    let token = token.as_deref();
    let instance_id = imds
        .get("/latest/meta-data/instance-id", token)
        .await
        .map_err(|e| Error::new(e.kind(), format!("EC2 metadata unavailable: {e}")))?;
    let doc = imds
        .get("/latest/dynamic/instance-identity/document", token)
        .await
        .and_then(|body| {
            serde_json::from_str::<IdentityDocument>(&body).map_err(|e| {
                Error::new(
                    ErrorKind::InvalidData,
                    format!("failed to decode instance identity document: {e}"),
                )
            })
        })
        .map_err(|e| {
            Error::new(
                e.kind(),
                format!(
                    "failed getting identity document: failed to get instance identity document: {e}"
                ),
            )
        })?;
    let hostname = imds
        .get("/latest/meta-data/hostname", token)
        .await
        .map_err(|e| Error::new(e.kind(), format!("failed getting hostname: {e}")))?;
    if doc.instance_id.is_empty() {
        tracing::debug!(instance_id = %instance_id, "identity document without instanceId");
    }
    Ok(resource(cfg, &doc, &hostname))
}

/// The attributes Go's EC2 detector sets.
pub(crate) fn resource(
    cfg: &Ec2DetectorConfig,
    doc: &IdentityDocument,
    hostname: &str,
) -> Detected {
    let mut d = Detected {
        attrs: Vec::new(),
        schema_url: SCHEMA_1_6_1.to_owned(),
    };
    for (k, v) in [
        ("cloud.provider", "aws"),
        ("cloud.platform", "aws_ec2"),
        ("cloud.region", doc.region.as_str()),
        ("cloud.account.id", doc.account_id.as_str()),
        ("cloud.availability_zone", doc.availability_zone.as_str()),
        ("host.id", doc.instance_id.as_str()),
        ("host.image.id", doc.image_id.as_str()),
        ("host.type", doc.instance_type.as_str()),
        ("host.name", hostname),
    ] {
        if enabled(&cfg.resource_attributes, k, true) {
            d.set(k, Value::Str(v.to_owned()));
        }
    }
    d
}

/// The metadata service as the SDK's client uses it: `max_attempts` tries of each request
/// on transport errors and 5xx answers, backing off 100 ms, doubling up to `max_backoff`,
/// never past the detection deadline.
struct Imds<'a> {
    client: &'a MetadataClient,
    base: String,
    attempts: u32,
    max_backoff: Duration,
    deadline: Instant,
}

impl Imds<'_> {
    async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<Answer, Error> {
        let url = format!("{}{path}", self.base);
        let mut wait = Duration::from_millis(100);
        let mut n = 1;
        loop {
            let r = self
                .client
                .send(method.clone(), &url, headers, self.deadline)
                .await;
            let transient = match &r {
                Err(e) => e.kind() == ErrorKind::Io,
                Ok(a) => a.status.is_server_error(),
            };
            if !transient || n >= self.attempts || Instant::now() + wait >= self.deadline {
                return r;
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(self.max_backoff.max(Duration::from_millis(100)));
            n += 1;
        }
    }

    /// An IMDSv2 session token; `None` when the service has no token API (403, 404, 405:
    /// the SDK then falls back to IMDSv1).
    async fn token(&self) -> Result<Option<String>, Error> {
        let a = self
            .send(
                Method::PUT,
                "/latest/api/token",
                &[("x-aws-ec2-metadata-token-ttl-seconds", TOKEN_TTL)],
            )
            .await
            .map_err(|e| Error::new(e.kind(), format!("failed to get API token, {e}")))?;
        match a.status.as_u16() {
            200 => Ok(Some(String::from_utf8_lossy(&a.body).trim().to_owned())),
            403..=405 => {
                tracing::debug!(status = %a.status, "IMDS token API unavailable: falling back to IMDSv1");
                Ok(None)
            }
            _ => Err(Error::new(
                ErrorKind::Io,
                format!("failed to get API token, status {}", a.status),
            )),
        }
    }

    /// A metadata path's body.
    async fn get(&self, path: &str, token: Option<&str>) -> Result<String, Error> {
        let headers: Vec<(&str, &str)> = token
            .map(|t| vec![("x-aws-ec2-metadata-token", t)])
            .unwrap_or_default();
        let a = self
            .send(Method::GET, path, &headers)
            .await
            .map_err(|e| Error::new(e.kind(), format!("failed to get {path} from IMDS: {e}")))?;
        if a.status != http::StatusCode::OK {
            return Err(Error::new(
                ErrorKind::Io,
                format!("failed to get {path} from IMDS: status {}", a.status),
            ));
        }
        String::from_utf8(a.body.to_vec()).map_err(|_| {
            Error::new(
                ErrorKind::InvalidData,
                format!("failed to read {path} response: not UTF-8"),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::env::fixed as env;
    use crate::components::processors::resourcedetection::AttributeToggle;
    use std::sync::Arc;

    #[test]
    fn identity_document_to_attributes() {
        let doc: IdentityDocument = serde_json::from_str(
            r#"{"accountId":"123456789012","architecture":"x86_64","availabilityZone":"eu-west-1b",
                "billingProducts":null,"imageId":"ami-0abc","instanceId":"i-0123",
                "instanceType":"t3.micro","pendingTime":"2025-01-01T00:00:00Z",
                "privateIp":"10.0.0.1","region":"eu-west-1","version":"2017-09-30"}"#,
        )
        .unwrap();
        let mut cfg = Ec2DetectorConfig::default();
        let d = resource(&cfg, &doc, "ip-10-0-0-1.eu-west-1.compute.internal");
        let get = |d: &Detected, k: &str| match d.get(k) {
            Some(Value::Str(s)) => s.clone(),
            other => panic!("{k}: {other:?}"),
        };
        assert_eq!(get(&d, "cloud.provider"), "aws");
        assert_eq!(get(&d, "cloud.platform"), "aws_ec2");
        assert_eq!(get(&d, "cloud.region"), "eu-west-1");
        assert_eq!(get(&d, "cloud.account.id"), "123456789012");
        assert_eq!(get(&d, "cloud.availability_zone"), "eu-west-1b");
        assert_eq!(get(&d, "host.id"), "i-0123");
        assert_eq!(get(&d, "host.image.id"), "ami-0abc");
        assert_eq!(get(&d, "host.type"), "t3.micro");
        assert_eq!(
            get(&d, "host.name"),
            "ip-10-0-0-1.eu-west-1.compute.internal"
        );
        assert_eq!(d.attrs.len(), 9);
        cfg.resource_attributes
            .insert("host.name".into(), AttributeToggle { enabled: false });
        assert!(resource(&cfg, &doc, "h").get("host.name").is_none());
    }

    #[tokio::test]
    async fn disabled_makes_no_request() {
        // The endpoint is a listener of the test's own that is never answered: a
        // connection would wait in its backlog, where the test finds it (no clock
        // involved), and nothing can leave the host.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let e: EnvLookup = Arc::new(move |k: &str| match k {
            "AWS_EC2_METADATA_DISABLED" => Some("true".to_owned()),
            "AWS_EC2_METADATA_SERVICE_ENDPOINT" => Some(endpoint.clone()),
            _ => None,
        });
        let client = MetadataClient::new();
        let deadline = Instant::now() + Duration::from_secs(1);
        let d = detect(&Ec2DetectorConfig::default(), &e, &client, deadline, None)
            .await
            .unwrap();
        assert!(d.is_empty());
        let cfg = Ec2DetectorConfig {
            fail_on_missing_metadata: true,
            ..Default::default()
        };
        assert!(detect(&cfg, &e, &client, deadline, None).await.is_err());
        let err = listener.accept().map(|_| ()).unwrap_err();
        assert_eq!(
            err.kind(),
            std::io::ErrorKind::WouldBlock,
            "the detector connected"
        );
    }

    #[tokio::test]
    async fn fargate_hint_skips_without_a_request() {
        // An endpoint nothing listens on: port 9 (discard) on 127.0.0.1 would refuse, but no
        // connection must even be tried.
        let e = env(&[("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9")]);
        let (tx, rx) = watch::channel(EcsHint::Pending);
        tx.send_replace(EcsHint::Fargate);
        let d = detect(
            &Ec2DetectorConfig::default(),
            &e,
            &MetadataClient::new(),
            Instant::now() + Duration::from_secs(1),
            Some(rx),
        )
        .await
        .unwrap();
        assert!(d.is_empty());
    }
}
