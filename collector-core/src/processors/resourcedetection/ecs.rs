//! The `ecs` detector: the ECS task metadata endpoint (v4, else v3), read as contrib's
//! `internal/aws/ecs/ecs.go` and `internal/aws/ecsutil` read it.

use std::collections::BTreeMap;
use std::time::Duration;

use http::Method;
use serde::Deserialize;
use tokio::sync::watch;
use tokio::time::Instant;

use super::EcsDetectorConfig;
use super::detector::{Detected, EcsHint, SCHEMA_1_6_1, enabled, retrying};
use crate::aws::env::EnvLookup;
use crate::aws::metadata::MetadataClient;
use crate::otlp::Value;
use crate::{Error, ErrorKind};

/// Task metadata (`GET ${ECS_CONTAINER_METADATA_URI_V4}/task`): the fields Go reads.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct TaskMetadata {
    #[serde(rename = "Cluster")]
    pub(crate) cluster: String,
    #[serde(rename = "TaskARN")]
    pub(crate) task_arn: String,
    #[serde(rename = "Family")]
    pub(crate) family: String,
    #[serde(rename = "Revision")]
    pub(crate) revision: String,
    #[serde(rename = "AvailabilityZone")]
    pub(crate) availability_zone: String,
    #[serde(rename = "LaunchType")]
    pub(crate) launch_type: String,
    #[serde(rename = "Containers")]
    pub(crate) containers: Vec<ContainerMetadata>,
}

/// Container metadata (one of the task's `Containers`, or `GET ${URI}` for this one).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ContainerMetadata {
    #[serde(rename = "DockerId")]
    pub(crate) docker_id: String,
    #[serde(rename = "Type")]
    pub(crate) kind: String,
    #[serde(rename = "KnownStatus")]
    pub(crate) known_status: String,
    #[serde(rename = "LogDriver")]
    pub(crate) log_driver: String,
    #[serde(rename = "LogOptions")]
    pub(crate) log_options: LogOptions,
}

/// `LogOptions` of the `awslogs` driver.
#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub(crate) struct LogOptions {
    #[serde(rename = "awslogs-group")]
    pub(crate) group: String,
    #[serde(rename = "awslogs-region")]
    pub(crate) region: String,
    #[serde(rename = "awslogs-stream")]
    pub(crate) stream: String,
}

/// The metadata base URL: trimmed `ECS_CONTAINER_METADATA_URI_V4`, else
/// `ECS_CONTAINER_METADATA_URI` (v3); `None` when neither is an absolute URL.
pub(crate) fn endpoint(env: &EnvLookup) -> Option<String> {
    [
        "ECS_CONTAINER_METADATA_URI_V4",
        "ECS_CONTAINER_METADATA_URI",
    ]
    .iter()
    .filter_map(|k| env(k))
    .map(|v| v.trim().to_owned())
    .find(|v| {
        v.parse::<http::Uri>()
            .is_ok_and(|u| u.scheme().is_some() && u.authority().is_some())
    })
}

/// Detects the ECS resource. Without a metadata endpoint this is not an ECS task: nothing
/// is detected and nothing fails. `hint` learns the launch type as soon as the task
/// metadata has been read once (or could not be).
pub(crate) async fn detect(
    cfg: &EcsDetectorConfig,
    env: &EnvLookup,
    client: &MetadataClient,
    deadline: Instant,
    max_interval: Duration,
    hint: Option<watch::Sender<EcsHint>>,
) -> Result<Detected, Error> {
    let Some(base) = endpoint(env) else {
        tracing::debug!("ecs detector: no task metadata endpoint; not running on ECS");
        if let Some(h) = &hint {
            h.send_replace(EcsHint::NotFargate);
        }
        return Ok(Detected::default());
    };
    // Shared references, copied into each attempt.
    let (base, hint) = (base.as_str(), hint.as_ref());
    retrying(deadline, max_interval, || async move {
        let task: Result<TaskMetadata, Error> = get_json(
            client,
            &format!("{base}/task"),
            "ECS Task Metadata Endpoint",
            deadline,
        )
        .await;
        if let Some(h) = hint {
            let fargate = task
                .as_ref()
                .is_ok_and(|t| t.launch_type.eq_ignore_ascii_case("fargate"));
            h.send_replace(if fargate {
                EcsHint::Fargate
            } else {
                EcsHint::NotFargate
            });
        }
        let task =
            task.map_err(|e| Error::new(e.kind(), format!("unable to fetch task metadata: {e}")))?;
        let me: ContainerMetadata =
            get_json(client, base, "ECS Container Metadata Endpoint", deadline)
                .await
                .map_err(|e| {
                    Error::new(e.kind(), format!("unable to fetch container metadata: {e}"))
                })?;
        Ok(resource(cfg, &task, &me))
    })
    .await
}

async fn get_json<T: serde::de::DeserializeOwned>(
    client: &MetadataClient,
    url: &str,
    what: &str,
    deadline: Instant,
) -> Result<T, Error> {
    let a = client
        .send(
            Method::GET,
            url,
            &[("content-type", "application/json")],
            deadline,
        )
        .await?;
    if a.status != http::StatusCode::OK {
        return Err(Error::new(
            ErrorKind::Io,
            format!("request GET {url} failed - {:?}", a.status.to_string()),
        ));
    }
    serde_json::from_slice(&a.body).map_err(|e| {
        Error::new(
            ErrorKind::InvalidData,
            format!("encountered unexpected error reading response from {what}: {e}"),
        )
    })
}

/// The attributes Go's ECS detector sets, from the task and this container's metadata.
pub(crate) fn resource(
    cfg: &EcsDetectorConfig,
    task: &TaskMetadata,
    me: &ContainerMetadata,
) -> Detected {
    let mut d = Detected {
        attrs: Vec::new(),
        schema_url: SCHEMA_1_6_1.to_owned(),
    };
    let toggles: &BTreeMap<_, _> = &cfg.resource_attributes;
    let mut set = |k: &str, v: Value| {
        if enabled(toggles, k, true) {
            d.set(k, v);
        }
    };
    let s = |v: &str| Value::Str(v.to_owned());
    set("cloud.provider", s("aws"));
    set("cloud.platform", s("aws_ecs"));
    set("aws.ecs.task.arn", s(&task.task_arn));
    set("aws.ecs.task.family", s(&task.family));
    set("aws.ecs.task.revision", s(&task.revision));

    // arn:aws:ecs:<region>:<account>:task/<cluster>/<id> (or task/<id>).
    let parts: Vec<&str> = task.task_arn.split(':').collect();
    let (region, account, task_id) = if parts.len() >= 5 {
        let id = parts
            .get(5)
            .and_then(|p| p.rsplit('/').next())
            .unwrap_or("");
        (parts[3], parts[4], id)
    } else {
        ("", "", "")
    };
    if !account.is_empty() {
        set("cloud.account.id", s(account));
    }
    if !region.is_empty() {
        set("cloud.region", s(region));
    }
    if !task_id.is_empty() {
        set("aws.ecs.task.id", s(task_id));
    }
    let cluster = if task.cluster.contains(':') {
        task.cluster.clone()
    } else {
        format!("arn:aws:ecs:{region}:{account}:cluster/{}", task.cluster)
    };
    set("aws.ecs.cluster.arn", Value::Str(cluster));
    if !task.availability_zone.is_empty() {
        set("cloud.availability_zone", s(&task.availability_zone));
    }
    let launch = task.launch_type.to_lowercase();
    if launch == "ec2" || launch == "fargate" {
        set("aws.ecs.launchtype", Value::Str(launch));
    }

    // Log groups and streams of the task's other running containers that log to CloudWatch.
    let (mut groups, mut group_arns, mut streams, mut stream_arns) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for c in &task.containers {
        if c.kind != "NORMAL"
            || c.known_status != "RUNNING"
            || c.log_driver != "awslogs"
            || c.docker_id == me.docker_id
            || c.log_options == LogOptions::default()
        {
            continue;
        }
        let o = &c.log_options;
        let group_arn = format!("arn:aws:logs:{}:{account}:log-group:{}", o.region, o.group);
        groups.push(s(&o.group));
        streams.push(s(&o.stream));
        stream_arns.push(Value::Str(format!("{group_arn}:log-stream:{}", o.stream)));
        group_arns.push(Value::Str(group_arn));
    }
    if !groups.is_empty() {
        set("aws.log.group.names", Value::Array(groups));
        set("aws.log.group.arns", Value::Array(group_arns));
        set("aws.log.stream.names", Value::Array(streams));
        set("aws.log.stream.arns", Value::Array(stream_arns));
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::processors::resourcedetection::AttributeToggle;
    use std::sync::Arc;

    const TASK: &str = r#"{
      "Cluster": "prod",
      "TaskARN": "arn:aws:ecs:eu-west-1:123456789012:task/prod/0123abcd",
      "Family": "api", "Revision": "7", "AvailabilityZone": "eu-west-1a",
      "LaunchType": "FARGATE", "DesiredStatus": "RUNNING",
      "Containers": [
        {"DockerId": "self", "Type": "NORMAL", "KnownStatus": "RUNNING", "LogDriver": "awslogs",
         "LogOptions": {"awslogs-group": "/ecs/otel", "awslogs-region": "eu-west-1", "awslogs-stream": "ecs/otel/1"}},
        {"DockerId": "app", "Type": "NORMAL", "KnownStatus": "RUNNING", "LogDriver": "awslogs",
         "LogOptions": {"awslogs-group": "/ecs/api", "awslogs-region": "eu-west-1", "awslogs-stream": "ecs/api/1"}},
        {"DockerId": "stopped", "Type": "NORMAL", "KnownStatus": "STOPPED", "LogDriver": "awslogs",
         "LogOptions": {"awslogs-group": "/ecs/x", "awslogs-region": "eu-west-1", "awslogs-stream": "x"}},
        {"DockerId": "pause", "Type": "CNI_PAUSE", "KnownStatus": "RUNNING", "LogDriver": "awslogs",
         "LogOptions": {"awslogs-group": "/ecs/y", "awslogs-region": "eu-west-1", "awslogs-stream": "y"}},
        {"DockerId": "json", "Type": "NORMAL", "KnownStatus": "RUNNING", "LogDriver": "json-file"}
      ]
    }"#;

    fn str_of(d: &Detected, k: &str) -> Option<String> {
        match d.get(k) {
            Some(Value::Str(s)) => Some(s.clone()),
            Some(Value::Array(a)) => Some(
                a.iter()
                    .map(|v| match v {
                        Value::Str(s) => s.clone(),
                        other => format!("{other:?}"),
                    })
                    .collect::<Vec<_>>()
                    .join("|"),
            ),
            _ => None,
        }
    }

    #[test]
    fn task_metadata_to_attributes() {
        let task: TaskMetadata = serde_json::from_str(TASK).unwrap();
        let me = ContainerMetadata {
            docker_id: "self".into(),
            ..Default::default()
        };
        let d = resource(&EcsDetectorConfig::default(), &task, &me);
        let want = [
            ("cloud.provider", "aws"),
            ("cloud.platform", "aws_ecs"),
            (
                "aws.ecs.task.arn",
                "arn:aws:ecs:eu-west-1:123456789012:task/prod/0123abcd",
            ),
            ("aws.ecs.task.family", "api"),
            ("aws.ecs.task.revision", "7"),
            ("cloud.account.id", "123456789012"),
            ("cloud.region", "eu-west-1"),
            ("aws.ecs.task.id", "0123abcd"),
            (
                "aws.ecs.cluster.arn",
                "arn:aws:ecs:eu-west-1:123456789012:cluster/prod",
            ),
            ("cloud.availability_zone", "eu-west-1a"),
            ("aws.ecs.launchtype", "fargate"),
            ("aws.log.group.names", "/ecs/api"),
            (
                "aws.log.group.arns",
                "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/api",
            ),
            ("aws.log.stream.names", "ecs/api/1"),
            (
                "aws.log.stream.arns",
                "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/api:log-stream:ecs/api/1",
            ),
        ];
        for (k, v) in want {
            assert_eq!(str_of(&d, k).as_deref(), Some(v), "{k}");
        }
        assert_eq!(d.attrs.len(), want.len());
        assert_eq!(d.schema_url, SCHEMA_1_6_1);
    }

    #[test]
    fn short_arn_full_cluster_arn_other_launch_type_and_toggles() {
        let task = TaskMetadata {
            cluster: "arn:aws:ecs:us-east-1:1:cluster/c".into(),
            task_arn: "arn:aws:ecs:us-east-1:1:task/abc".into(),
            launch_type: "EXTERNAL".into(),
            ..Default::default()
        };
        let mut cfg = EcsDetectorConfig::default();
        cfg.resource_attributes
            .insert("cloud.platform".into(), AttributeToggle { enabled: false });
        let d = resource(&cfg, &task, &ContainerMetadata::default());
        assert_eq!(str_of(&d, "aws.ecs.task.id").as_deref(), Some("abc"));
        assert_eq!(
            str_of(&d, "aws.ecs.cluster.arn").as_deref(),
            Some("arn:aws:ecs:us-east-1:1:cluster/c")
        );
        assert!(d.get("aws.ecs.launchtype").is_none());
        assert!(d.get("cloud.availability_zone").is_none());
        assert!(d.get("cloud.platform").is_none());
        assert!(d.get("aws.log.group.names").is_none());
        // A malformed ARN: no region, account or id (Go would index out of range on
        // exactly five parts; here the id is simply absent).
        let task = TaskMetadata {
            task_arn: "arn:aws:ecs:r:a".into(),
            ..Default::default()
        };
        let d = resource(
            &EcsDetectorConfig::default(),
            &task,
            &ContainerMetadata::default(),
        );
        assert_eq!(str_of(&d, "cloud.region").as_deref(), Some("r"));
        assert!(d.get("aws.ecs.task.id").is_none());
    }

    #[test]
    fn endpoint_v4_then_v3() {
        let env = |vars: Vec<(&'static str, &'static str)>| -> EnvLookup {
            Arc::new(move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
            })
        };
        assert_eq!(endpoint(&env(vec![])), None);
        assert_eq!(
            endpoint(&env(vec![
                (
                    "ECS_CONTAINER_METADATA_URI_V4",
                    " http://169.254.170.2/v4/x "
                ),
                ("ECS_CONTAINER_METADATA_URI", "http://169.254.170.2/v3/x"),
            ]))
            .as_deref(),
            Some("http://169.254.170.2/v4/x")
        );
        assert_eq!(
            endpoint(&env(vec![
                ("ECS_CONTAINER_METADATA_URI_V4", "not a url"),
                ("ECS_CONTAINER_METADATA_URI", "http://169.254.170.2/v3/x"),
            ]))
            .as_deref(),
            Some("http://169.254.170.2/v3/x")
        );
    }

    #[tokio::test]
    async fn no_endpoint_is_not_an_error() {
        let env: EnvLookup = Arc::new(|_: &str| None);
        let (tx, rx) = watch::channel(EcsHint::Pending);
        let d = detect(
            &EcsDetectorConfig::default(),
            &env,
            &MetadataClient::new(),
            Instant::now() + Duration::from_secs(1),
            Duration::from_secs(1),
            Some(tx),
        )
        .await
        .unwrap();
        assert!(d.is_empty());
        assert_eq!(*rx.borrow(), EcsHint::NotFargate);
    }
}
