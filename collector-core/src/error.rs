//! The crate's one error type.

use std::fmt;

/// What kind of failure an [`Error`] is; callers branch on this, not on messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Bytes that are not a valid OTLP request (protobuf or JSON).
    InvalidData,
    /// A configuration that did not parse or validate.
    Config,
    /// Over budget or every queue full: the same call may succeed later.
    Retryable,
    /// The collector is not running (not started, or shut down).
    NotRunning,
    /// A deadline passed.
    Timeout,
    /// An operating-system or network failure.
    Io,
    /// A bug or an unexpected state.
    Internal,
    /// An argument the call cannot take (a signal no pipeline takes in-process).
    InvalidArgument,
}

impl ErrorKind {
    /// A short lowercase name, as used in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidData => "invalid data",
            ErrorKind::Config => "config",
            ErrorKind::Retryable => "retryable",
            ErrorKind::NotRunning => "not running",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Io => "io",
            ErrorKind::Internal => "internal",
            ErrorKind::InvalidArgument => "invalid argument",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error from `collector-core`: a [`kind`](Error::kind) and a message that names what
/// went wrong and where (byte offset and field path for data, key path and source for
/// configuration).
#[derive(thiserror::Error)]
#[error(transparent)]
pub struct Error {
    inner: Box<Inner>,
}

/// The error itself: its `source` is the cause given to [`Error::with_source`], which
/// `Error::source()` returns through the transparent wrapper.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
struct Inner {
    kind: ErrorKind,
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    /// A new error of `kind` with a message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                source: None,
            }),
        }
    }

    /// A new error of `kind` with a message and an underlying cause.
    pub fn with_source(
        kind: ErrorKind,
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Error {
        Error {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                source: Some(Box::new(source)),
            }),
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The message without the kind.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// True when the same call may succeed later (over budget, queues full).
    pub fn is_retryable(&self) -> bool {
        self.inner.kind == ErrorKind::Retryable
    }

    /// True for malformed OTLP input.
    pub fn is_invalid_data(&self) -> bool {
        self.inner.kind == ErrorKind::InvalidData
    }

    /// The underlying cause, if any.
    pub fn cause(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        self.inner.source.as_deref()
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.inner.kind)
            .field("message", &self.inner.message);
        if let Some(s) = &self.inner.source {
            d.field("source", s);
        }
        d.finish()
    }
}

impl From<Box<crate::otlp::wire::WireError>> for Error {
    fn from(e: Box<crate::otlp::wire::WireError>) -> Error {
        Error::new(ErrorKind::InvalidData, e.to_string())
    }
}

/// The error and its causes, for logs (hyper's top-level error alone says little).
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn the_cause_is_the_source() {
        let io = std::io::Error::new(std::io::ErrorKind::AddrInUse, "port taken");
        let e = Error::with_source(ErrorKind::Io, "cannot listen on :4317", io);
        assert_eq!(e.to_string(), "cannot listen on :4317");
        let source = e.source().expect("a source");
        assert_eq!(source.to_string(), "port taken");
        assert_eq!(error_chain(&e), "cannot listen on :4317: port taken");
        assert!(Error::new(ErrorKind::Config, "bad").source().is_none());
    }
}
