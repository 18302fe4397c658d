//! Processors: what happens to payloads between receivers and exporters.

pub mod actions;
pub mod attributes;
pub mod batch;
pub mod memory_limiter;
pub mod redaction;
pub mod resource;
pub mod resourcedetection;
