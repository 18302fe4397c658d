//! Exporters: where payloads leave.

pub mod debug;
pub(crate) mod debug_format;
pub mod file;
pub mod otlp;
pub mod queue;
pub mod retry;
pub mod s3;
