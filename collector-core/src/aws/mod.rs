//! What AWS components share: where the instance metadata service is and whether it may
//! be asked (`imds`), a small client for metadata endpoints (`metadata`), and environment
//! lookups (`env`). Used by the `resourcedetection` processor's `ecs` and `ec2` detectors
//! and the `awss3` exporter's credential chain.

pub(crate) mod env;
pub(crate) mod imds;
pub(crate) mod metadata;
