//! The crate's one error type: what a call failed with, mapped to a result code.

use crate::otelcol_result;
use collector_core::ErrorKind;

/// Why an `otelcol_` call failed; its message is what `otelcol_last_error` returns.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// NULL pointer, bad length, unknown signal, a signal no pipeline takes.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The configuration did not parse or validate.
    #[error("{0}")]
    Config(String),
    /// Not started, or shut down.
    #[error("not running: {0}")]
    NotRunning(String),
    /// From the collector.
    #[error("{0}")]
    Collector(#[from] collector_core::Error),
}

impl Error {
    /// The result code C sees.
    pub fn code(&self) -> otelcol_result {
        use otelcol_result::*;
        match self {
            Error::InvalidArgument(_) => OTELCOL_ERR_INVALID_ARGUMENT,
            Error::Config(_) => OTELCOL_ERR_CONFIG,
            Error::NotRunning(_) => OTELCOL_ERR_NOT_RUNNING,
            Error::Collector(e) => match e.kind() {
                ErrorKind::InvalidData => OTELCOL_ERR_INVALID_DATA,
                ErrorKind::Config => OTELCOL_ERR_CONFIG,
                ErrorKind::Retryable => OTELCOL_ERR_RETRYABLE,
                ErrorKind::NotRunning => OTELCOL_ERR_NOT_RUNNING,
                ErrorKind::Timeout => OTELCOL_ERR_TIMEOUT,
                ErrorKind::InvalidArgument => OTELCOL_ERR_INVALID_ARGUMENT,
                _ => OTELCOL_ERR_INTERNAL,
            },
        }
    }
}
