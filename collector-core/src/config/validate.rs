//! Semantic validation of decoded component configs, in the Go collector's words.

/// Problems found in one component's config: each names the key it is about (relative to
/// the component, `::`-separated; empty for the component as a whole) and a message.
#[derive(Debug, Default)]
pub(crate) struct Problems(pub(crate) Vec<(String, String)>);

impl Problems {
    /// A problem with the component as a whole.
    pub(crate) fn root(&mut self, message: impl Into<String>) {
        self.0.push((String::new(), message.into()));
    }

    /// A problem with one key of the component.
    pub(crate) fn key(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.0.push((key.into(), message.into()));
    }

    /// Problems of a nested part, with their keys prefixed by `prefix`.
    pub(crate) fn nested(&mut self, prefix: &str, inner: Problems) {
        for (k, m) in inner.0 {
            let k = if k.is_empty() {
                prefix.to_owned()
            } else {
                format!("{prefix}::{k}")
            };
            self.0.push((k, m));
        }
    }
}

/// A decoded config that can check itself.
pub(crate) trait Validate {
    fn validate(&self, p: &mut Problems);

    /// Checks that depend on the signal of the pipeline the component is used in.
    fn validate_signal(&self, _signal: crate::Signal, _p: &mut Problems) {}
}
