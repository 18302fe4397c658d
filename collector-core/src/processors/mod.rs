//! Processors: what happens to payloads between receivers and exporters. One folder per
//! type, named as in YAML.

pub(crate) mod attributes;
pub(crate) mod batch;
pub(crate) mod memory_limiter;
pub(crate) mod redaction;
pub(crate) mod resource;
pub(crate) mod resourcedetection;
#[cfg(test)]
pub(crate) mod test_panic;
