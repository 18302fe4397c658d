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

/// An environment of exactly `vars`, for tests.
#[cfg(test)]
pub(crate) fn fixed(vars: &[(&str, &str)]) -> EnvLookup {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Arc::new(move |k: &str| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
}
