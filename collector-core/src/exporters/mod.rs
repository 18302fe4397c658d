//! Exporters: where payloads leave.

pub mod debug;
pub mod file;
pub mod otlp;
pub mod queue;
pub mod retry;
pub mod s3;
