//! Reading environment variables through a lookup: production reads the process
//! environment; tests pass their own, so that no test depends on (or changes)
//! process-global state.

use std::sync::Arc;

/// How environment variables are read.
pub(crate) type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The process environment.
pub(crate) fn process_env() -> EnvLookup {
    Arc::new(|k: &str| std::env::var(k).ok())
}
