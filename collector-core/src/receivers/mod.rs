//! Receivers: where payloads enter.

pub mod embedded;
pub mod otlp;
