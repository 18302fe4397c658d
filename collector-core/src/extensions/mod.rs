//! Extensions: health check.

pub mod health_check;
