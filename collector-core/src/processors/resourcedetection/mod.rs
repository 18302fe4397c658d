//! The `resourcedetection` processor (alias `resource_detection`): configuration here, the
//! runtime in [`processor`](self) and one module per detector.
//!
//! Detection runs once per processor id at start, every detector concurrently, bounded by
//! `timeout`; the results are merged in configured order (first detector wins per key) and
//! added to every resource. Until detection ends the processor holds payloads back (the
//! receiver keeps them, on the memory budget) and the collector does not report ready.

mod detector;
mod ec2;
mod ecs;
mod env;
mod processor;
mod system;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::config::component::{ComponentConfig, ComponentType, ConfigFactory, decode};
use crate::config::net::TlsClientConfig;
use crate::config::validate::{Problems, Validate};
use crate::config::{Duration, Kind};
use crate::pipeline::build::{Build, Context, Factory};
use crate::pipeline::{Consumer, Processor};
use crate::{Error, Signal};

use processor::{Detection, ResourceDetectionProcessor};

/// The `resourcedetection` processor type.
pub(crate) static FACTORY: Factory = Factory {
    config: ConfigFactory {
        kind: Kind::Processor,
        name: "resourcedetection",
        aliases: &["resource_detection"],
        signals: &Signal::ALL,
        decode: decode::<ResourceDetectionConfig>,
    },
    build: Build::Processor(build),
};

impl ComponentType for ResourceDetectionConfig {}

/// One detection per id, however many pipelines list it (as Go's shared processor).
fn build(
    ctx: &Context<'_>,
    cfg: &dyn ComponentConfig,
    next: Arc<dyn Consumer>,
) -> Result<Arc<dyn Processor>, Error> {
    let cfg = cfg.get::<ResourceDetectionConfig>()?;
    let detection = ctx.shared(|| Ok(Detection::new(ctx.id, cfg, ctx.tally.panics.clone())))?;
    Ok(ResourceDetectionProcessor::new(
        detection,
        cfg.override_,
        next,
    ))
}

/// `resource_attributes::<name>`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct AttributeToggle {
    /// Emit this attribute.
    pub enabled: bool,
}

impl Default for AttributeToggle {
    fn default() -> Self {
        AttributeToggle { enabled: true }
    }
}

/// `system` detector settings.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct SystemDetectorConfig {
    /// `dns`, `os`, `cname`, `lookup`, tried in order (default `[dns, os]`).
    pub hostname_sources: Vec<String>,
    /// Per-attribute switches.
    pub resource_attributes: BTreeMap<String, AttributeToggle>,
}

/// `ecs` detector settings.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct EcsDetectorConfig {
    /// Per-attribute switches.
    pub resource_attributes: BTreeMap<String, AttributeToggle>,
}

/// `ec2` detector settings.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct Ec2DetectorConfig {
    /// Instance tags to add (regular expressions on keys; needs the EC2 API: not supported).
    pub tags: Vec<String>,
    /// Metadata request attempts.
    pub max_attempts: i64,
    /// Cap on the backoff between attempts.
    pub max_backoff: Duration,
    /// Fail instead of skipping when the metadata service is absent.
    pub fail_on_missing_metadata: bool,
    /// Per-attribute switches.
    pub resource_attributes: BTreeMap<String, AttributeToggle>,
}

impl Default for Ec2DetectorConfig {
    fn default() -> Self {
        Ec2DetectorConfig {
            tags: Vec::new(),
            max_attempts: 3,
            max_backoff: Duration::from_secs(20),
            fail_on_missing_metadata: false,
            resource_attributes: BTreeMap::new(),
        }
    }
}

/// Attributes each detector can emit, and whether they are on by default.
pub(crate) const SYSTEM_ATTRIBUTES: &[(&str, bool)] = &[
    ("host.name", true),
    ("os.type", true),
    ("host.id", false),
    ("host.arch", false),
    ("host.ip", false),
    ("host.mac", false),
    ("host.interface", false),
    ("host.cpu.vendor.id", false),
    ("host.cpu.family", false),
    ("host.cpu.model.id", false),
    ("host.cpu.model.name", false),
    ("host.cpu.stepping", false),
    ("host.cpu.cache.l2.size", false),
    ("os.description", false),
    ("os.name", false),
    ("os.version", false),
    ("os.build.id", false),
];

/// ECS detector attributes (all on by default).
pub(crate) const ECS_ATTRIBUTES: &[&str] = &[
    "cloud.provider",
    "cloud.platform",
    "cloud.account.id",
    "cloud.region",
    "cloud.availability_zone",
    "aws.ecs.cluster.arn",
    "aws.ecs.task.arn",
    "aws.ecs.task.family",
    "aws.ecs.task.id",
    "aws.ecs.task.revision",
    "aws.ecs.launchtype",
    "aws.log.group.names",
    "aws.log.group.arns",
    "aws.log.stream.names",
    "aws.log.stream.arns",
];

/// EC2 detector attributes (all on by default).
pub(crate) const EC2_ATTRIBUTES: &[&str] = &[
    "cloud.account.id",
    "cloud.availability_zone",
    "cloud.platform",
    "cloud.provider",
    "cloud.region",
    "host.id",
    "host.image.id",
    "host.name",
    "host.type",
];

/// Detectors this collector has.
pub(crate) const DETECTORS: &[&str] = &["env", "system", "ecs", "ec2"];

/// Detectors of the Go collector (v0.138) that this collector does not have.
const GO_ONLY_DETECTORS: &[&str] = &[
    "eks",
    "elastic_beanstalk",
    "lambda",
    "azure",
    "aks",
    "consul",
    "docker",
    "gcp",
    "heroku",
    "hetzner",
    "openshift",
    "oraclecloud",
    "k8snode",
    "kubeadm",
    "akamai",
    "scaleway",
    "vultr",
    "digitalocean",
    "upcloud",
    "nova",
    "dynatrace",
];

/// `resourcedetection` configuration (contrib `processor/resourcedetectionprocessor`).
///
/// The Go processor squashes an HTTP client config into this struct; those keys are
/// accepted (so existing files load) and have no effect here, except `timeout`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct ResourceDetectionConfig {
    /// Detectors in priority order: the first that sets a key wins.
    pub detectors: Vec<String>,
    /// Detected attributes replace ones already on the data (`false`: data wins).
    #[serde(rename = "override")]
    pub override_: bool,
    /// Deprecated allow-list of attribute keys.
    pub attributes: Option<Vec<String>>,
    /// Bound on detection at start-up.
    pub timeout: Duration,
    /// Fail start-up when a detector fails (otherwise it is logged and skipped).
    pub fail_on_missing_metadata: bool,
    /// `system` detector.
    pub system: SystemDetectorConfig,
    /// `ecs` detector.
    pub ecs: EcsDetectorConfig,
    /// `ec2` detector.
    pub ec2: Ec2DetectorConfig,
    /// Go's `eks` detector settings: accepted as Go accepts them when the detector is not
    /// listed (listing it is an error: the detector is not supported).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eks: Option<serde_json::Value>,
    /// Go's `elastic_beanstalk` detector settings: accepted as Go accepts them when the detector is not
    /// listed (listing it is an error: the detector is not supported).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elastic_beanstalk: Option<serde_json::Value>,
    /// Go's `lambda` detector settings: accepted as Go accepts them when the detector is not
    /// listed (listing it is an error: the detector is not supported).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lambda: Option<serde_json::Value>,
    /// Go's `azure` detector settings: accepted as Go accepts them when the detector is not
    /// listed (listing it is an error: the detector is not supported).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub azure: Option<serde_json::Value>,
    /// Go's `aks` detector settings: accepted as Go accepts them when the detector is not
    /// listed (listing it is an error: the detector is not supported).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aks: Option<serde_json::Value>,
    /// Go's `consul` detector settings: accepted as Go accepts them when the detector is not
    /// listed (listing it is an error: the detector is not supported).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consul: Option<serde_json::Value>,
    /// Go's `docker` detector settings: accepted as Go accepts them when the detector is not
    /// listed (listing it is an error: the detector is not supported).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub docker: Option<serde_json::Value>,
    /// Go's `gcp` detector settings: accepted as Go accepts them when the detector is not
    /// listed (listing it is an error: the detector is not supported).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gcp: Option<serde_json::Value>,
    /// Go's `heroku` detector settings: accepted as Go accepts them when the detector is not
    /// listed (listing it is an error: the detector is not supported).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heroku: Option<serde_json::Value>,
    /// Go's `hetzner` detector settings: accepted as Go accepts them when the detector is not
    /// listed (listing it is an error: the detector is not supported).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hetzner: Option<serde_json::Value>,
    /// Go's `openshift` detector settings: accepted as Go accepts them when the detector is not
    /// listed (listing it is an error: the detector is not supported).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub openshift: Option<serde_json::Value>,
    /// Go's `oraclecloud` detector settings: accepted as Go accepts them when the detector is not
    /// listed (listing it is an error: the detector is not supported).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oraclecloud: Option<serde_json::Value>,
    /// Go's `k8snode` detector settings: accepted as Go accepts them when the detector is not
    /// listed (listing it is an error: the detector is not supported).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k8snode: Option<serde_json::Value>,
    /// Go's `kubeadm` detector settings: accepted as Go accepts them when the detector is not
    /// listed (listing it is an error: the detector is not supported).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubeadm: Option<serde_json::Value>,
    /// Go's `akamai` detector settings: accepted as Go accepts them when the detector is not
    /// listed (listing it is an error: the detector is not supported).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub akamai: Option<serde_json::Value>,
    /// Go's `scaleway` detector settings: accepted as Go accepts them when the detector is not
    /// listed (listing it is an error: the detector is not supported).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaleway: Option<serde_json::Value>,
    /// Go's `vultr` detector settings: accepted as Go accepts them when the detector is not
    /// listed (listing it is an error: the detector is not supported).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vultr: Option<serde_json::Value>,
    /// Go's `digitalocean` detector settings: accepted as Go accepts them when the detector is not
    /// listed (listing it is an error: the detector is not supported).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digitalocean: Option<serde_json::Value>,
    /// Go's `upcloud` detector settings: accepted as Go accepts them when the detector is not
    /// listed (listing it is an error: the detector is not supported).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upcloud: Option<serde_json::Value>,
    /// Go's `nova` detector settings: accepted as Go accepts them when the detector is not
    /// listed (listing it is an error: the detector is not supported).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nova: Option<serde_json::Value>,
    /// Go's `dynatrace` detector settings: accepted as Go accepts them when the detector is not
    /// listed (listing it is an error: the detector is not supported).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dynatrace: Option<serde_json::Value>,
    /// HTTP client key (no effect).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub endpoint: String,
    /// HTTP client key (no effect).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub proxy_url: String,
    /// HTTP client key (no effect).
    pub tls: TlsClientConfig,
    /// HTTP client key (no effect).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, crate::config::net::Opaque>,
    /// HTTP client keys (no effect).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_buffer_size: Option<i64>,
    /// HTTP client key (no effect).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_buffer_size: Option<i64>,
    /// HTTP client key (no effect).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_idle_conns: Option<i64>,
    /// HTTP client key (no effect).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_idle_conns_per_host: Option<i64>,
    /// HTTP client key (no effect).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_conns_per_host: Option<i64>,
    /// HTTP client key (no effect).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_conn_timeout: Option<Duration>,
    /// HTTP client key (no effect).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable_keep_alives: Option<bool>,
    /// HTTP client key (no effect).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub force_attempt_http2: Option<bool>,
    /// HTTP client key (no effect).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression: Option<String>,
}

impl Default for ResourceDetectionConfig {
    fn default() -> Self {
        ResourceDetectionConfig {
            detectors: vec!["env".to_owned()],
            override_: true,
            attributes: None,
            timeout: Duration::from_secs(5),
            fail_on_missing_metadata: false,
            system: SystemDetectorConfig::default(),
            ecs: EcsDetectorConfig::default(),
            ec2: Ec2DetectorConfig::default(),
            eks: None,
            elastic_beanstalk: None,
            lambda: None,
            azure: None,
            aks: None,
            consul: None,
            docker: None,
            gcp: None,
            heroku: None,
            hetzner: None,
            openshift: None,
            oraclecloud: None,
            k8snode: None,
            kubeadm: None,
            akamai: None,
            scaleway: None,
            vultr: None,
            digitalocean: None,
            upcloud: None,
            nova: None,
            dynatrace: None,
            endpoint: String::new(),
            proxy_url: String::new(),
            tls: TlsClientConfig::default(),
            headers: BTreeMap::new(),
            read_buffer_size: None,
            write_buffer_size: None,
            max_idle_conns: None,
            max_idle_conns_per_host: None,
            max_conns_per_host: None,
            idle_conn_timeout: None,
            disable_keep_alives: None,
            force_attempt_http2: None,
            compression: None,
        }
    }
}

fn check_toggles(
    p: &mut Problems,
    key: &str,
    toggles: &BTreeMap<String, AttributeToggle>,
    known: &[&str],
) {
    for name in toggles.keys() {
        if !known.contains(&name.as_str()) {
            p.key(
                format!("{key}::resource_attributes::{name}"),
                format!(
                    "unknown resource attribute {name:?} (known: {})",
                    known.join(", ")
                ),
            );
        }
    }
}

impl Validate for ResourceDetectionConfig {
    fn validate(&self, p: &mut Problems) {
        for d in &self.detectors {
            let d = d.trim();
            if DETECTORS.contains(&d) {
                continue;
            }
            if GO_ONLY_DETECTORS.contains(&d) {
                p.key(
                    "detectors",
                    format!(
                        "detector {d:?} is not supported by this collector (supported: {})",
                        DETECTORS.join(", ")
                    ),
                );
            } else {
                p.key("detectors", format!("invalid detector key: {d}"));
            }
        }
        for s in &self.system.hostname_sources {
            if !matches!(s.as_str(), "dns" | "os" | "cname" | "lookup") {
                p.key(
                    "system::hostname_sources",
                    format!("hostname_sources contains invalid value: {s:?}"),
                );
            }
        }
        let system: Vec<&str> = SYSTEM_ATTRIBUTES.iter().map(|(n, _)| *n).collect();
        check_toggles(p, "system", &self.system.resource_attributes, &system);
        check_toggles(p, "ecs", &self.ecs.resource_attributes, ECS_ATTRIBUTES);
        check_toggles(p, "ec2", &self.ec2.resource_attributes, EC2_ATTRIBUTES);
        for t in &self.ec2.tags {
            if let Err(e) = regex::Regex::new(t) {
                p.key("ec2::tags", format!("invalid tag pattern {t:?}: {e}"));
            }
        }
        if !self.ec2.tags.is_empty() {
            p.key(
                "ec2::tags",
                "ec2 instance tags need the EC2 DescribeTags API, which this collector does not call",
            );
        }
        if self.timeout.is_negative() {
            p.key("timeout", "'timeout' must be non-negative");
        }
    }
}
