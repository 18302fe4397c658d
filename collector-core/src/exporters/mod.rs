//! Exporters: where payloads leave. One folder per type, named as in YAML; each wraps the
//! exporter helper (`pipeline/exporter/`) around how it sends.

pub(crate) mod awss3;
pub(crate) mod debug;
pub(crate) mod file;
pub(crate) mod otlp;
pub(crate) mod otlphttp;
