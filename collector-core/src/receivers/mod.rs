//! Receivers: where payloads enter. One folder per type, named as in YAML.

pub(crate) mod embedded;
pub(crate) mod otlp;
