//! Shared helpers for the benchmarks: realistic OTLP requests.
