//! The C ABI (`otelcol_*`) and the Python package over `collector-core`.
//!
//! Not built yet: the embedding API lands with its own issue. This crate exists so the
//! workspace has its final shape.
