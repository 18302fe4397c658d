//! The collector's health as components see it: ready once every pipeline runs, not ready
//! while starting or stopping, and failing while a component keeps panicking.

/// Readiness shared between the collector, which sets it, and the health check, which
/// answers 200 only while ready and no component keeps panicking.
#[derive(Clone, Debug, Default)]
pub(crate) struct Health {
    inner: std::sync::Arc<parking_lot::Mutex<Option<std::time::SystemTime>>>,
    started: std::sync::Arc<std::sync::OnceLock<std::time::Instant>>,
    panics: super::panics::Panics,
}

impl Health {
    /// Health that also reports a component failing with repeated panics.
    pub(crate) fn new(panics: super::panics::Panics) -> Health {
        Health {
            panics,
            ..Health::default()
        }
    }

    /// Marks the collector ready (every pipeline running).
    pub(crate) fn set_ready(&self) {
        *self.inner.lock() = Some(std::time::SystemTime::now());
        let _ = self.started.set(std::time::Instant::now());
        tracing::info!(status = "ready", "Health Check state change");
    }

    /// Marks it not ready (starting or stopping).
    pub(crate) fn set_unavailable(&self) {
        if self.inner.lock().take().is_some() {
            tracing::info!(status = "unavailable", "Health Check state change");
        }
    }

    /// When it became ready, if it is.
    pub(crate) fn ready_since(&self) -> Option<std::time::SystemTime> {
        *self.inner.lock()
    }

    /// How long it has been ready (zero before).
    pub(crate) fn uptime(&self) -> std::time::Duration {
        self.started.get().map(|s| s.elapsed()).unwrap_or_default()
    }

    /// A component that keeps panicking, if any (see `pipeline/panics.rs`).
    pub(crate) fn failing(&self) -> Option<String> {
        self.panics.failing()
    }
}
