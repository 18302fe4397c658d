//! What the `resourcedetection` detectors have in common, and what the processor reads
//! from them: a detected resource ([`Detected`]) and how several merge, the per-attribute
//! switches, the ECS detector's hint to the EC2 detector, and the retry of metadata
//! requests. The processor (`processor.rs`) runs the detectors; the detectors import only
//! this module, never the processor.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::AttributeToggle;
use crate::otlp::Value;
use crate::{Error, ErrorKind};

/// The semantic-conventions schema the Go detectors (system, ecs, ec2) report at v0.138.
pub(crate) const SCHEMA_1_6_1: &str = "https://opentelemetry.io/schemas/1.6.1";

/// A resource found by one detector, or the merge of several: attributes in order, and a
/// schema URL (empty when none).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Detected {
    pub(crate) attrs: Vec<(String, Value)>,
    pub(crate) schema_url: String,
}

impl Detected {
    /// Sets `key` (replacing an earlier value, as Go's resource builder does).
    pub(crate) fn set(&mut self, key: &str, value: Value) {
        match self.attrs.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.attrs.push((key.to_owned(), value)),
        }
    }

    /// Sets a string attribute.
    pub(crate) fn set_str(&mut self, key: &str, value: impl Into<String>) {
        self.set(key, Value::Str(value.into()));
    }

    /// The value of `key`, if set.
    #[cfg(test)]
    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        self.attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// True when applying it would change nothing.
    pub(crate) fn is_empty(&self) -> bool {
        self.attrs.is_empty() && self.schema_url.is_empty()
    }
}

/// Go's `MergeResource(res, r, false)` over the detectors in configured order: the first
/// detector that sets a key wins; the first non-empty schema URL wins.
pub(crate) fn merge(results: impl IntoIterator<Item = Detected>) -> Detected {
    let mut out = Detected::default();
    for r in results {
        if out.schema_url.is_empty() {
            out.schema_url = r.schema_url;
        }
        for (k, v) in r.attrs {
            if !out.attrs.iter().any(|(have, _)| *have == k) {
                out.attrs.push((k, v));
            }
        }
    }
    out
}

/// Whether a per-detector `resource_attributes::<name>::enabled` switch is on.
pub(crate) fn enabled(
    toggles: &BTreeMap<String, AttributeToggle>,
    name: &str,
    default: bool,
) -> bool {
    toggles.get(name).map_or(default, |t| t.enabled)
}

/// Whether the ECS detector found a Fargate task (which has no instance metadata service,
/// so the EC2 detector need not wait for one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EcsHint {
    /// The ECS detector has not read the task metadata yet.
    Pending,
    /// Launch type `FARGATE`.
    Fargate,
    /// Any other launch type, or no answer.
    NotFargate,
}

/// Runs `attempt` again while it fails with `ErrorKind::Io` (a transport error or an
/// unexpected status) and the next try can start before `deadline`; waits 100 ms, growing
/// by 1.5 up to `max_interval`, as the v0.138 provider's backoff (without its jitter).
pub(crate) async fn retrying<T, F, Fut>(
    deadline: Instant,
    max_interval: Duration,
    mut attempt: F,
) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let mut wait = Duration::from_millis(100);
    loop {
        match attempt().await {
            Err(e) if e.kind() == ErrorKind::Io && Instant::now() + wait < deadline => {
                tracing::debug!(error = %e, "resource detector failed; retrying");
                tokio::time::sleep(wait).await;
                wait = (wait * 3 / 2).min(max_interval.max(Duration::from_millis(100)));
            }
            other => return other,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn s(v: &str) -> Value {
        Value::Str(v.to_owned())
    }

    /// A detection result of string attributes.
    pub(crate) fn det(attrs: &[(&str, &str)], schema: &str) -> Detected {
        Detected {
            attrs: attrs.iter().map(|(k, v)| ((*k).to_owned(), s(v))).collect(),
            schema_url: schema.to_owned(),
        }
    }

    #[test]
    fn merge_first_detector_wins_and_first_schema_url() {
        let m = merge([
            det(&[("a", "env"), ("host.name", "env-host")], ""),
            det(
                &[("host.name", "ec2-host"), ("cloud.provider", "aws")],
                SCHEMA_1_6_1,
            ),
            det(
                &[("host.name", "sys"), ("os.type", "linux")],
                "https://other",
            ),
        ]);
        assert_eq!(
            m,
            det(
                &[
                    ("a", "env"),
                    ("host.name", "env-host"),
                    ("cloud.provider", "aws"),
                    ("os.type", "linux"),
                ],
                SCHEMA_1_6_1
            )
        );
        assert!(merge(Vec::new()).is_empty());
    }

    #[test]
    fn toggles_default_and_override() {
        let mut t = BTreeMap::new();
        assert!(enabled(&t, "host.name", true));
        assert!(!enabled(&t, "host.id", false));
        t.insert("host.name".to_owned(), AttributeToggle { enabled: false });
        t.insert("host.id".to_owned(), AttributeToggle { enabled: true });
        assert!(!enabled(&t, "host.name", true));
        assert!(enabled(&t, "host.id", false));
    }

    #[tokio::test]
    async fn retrying_stops_at_the_deadline_and_on_other_errors() {
        let n = std::sync::atomic::AtomicU32::new(0);
        let deadline = Instant::now() + Duration::from_millis(450);
        let r: Result<(), Error> = retrying(deadline, Duration::from_secs(1), || {
            n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            async { Err(Error::new(ErrorKind::Io, "refused")) }
        })
        .await;
        assert!(r.is_err());
        // 0, 100, 250 ms: a fourth try (at 475 ms) would start after the deadline.
        assert_eq!(n.load(std::sync::atomic::Ordering::Relaxed), 3);
        let n = std::sync::atomic::AtomicU32::new(0);
        let r: Result<(), Error> = retrying(deadline, Duration::from_secs(1), || {
            n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            async { Err(Error::new(ErrorKind::InvalidData, "bad json")) }
        })
        .await;
        assert!(r.is_err());
        assert_eq!(n.load(std::sync::atomic::Ordering::Relaxed), 1);
    }
}
