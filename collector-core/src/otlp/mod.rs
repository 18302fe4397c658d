//! The zero-copy OTLP wire layer.
//!
//! An OTLP export request is `repeated ResourceX resource_x = 1`: on the wire, a sequence of
//! `(tag, length, ResourceX)` entries. Two facts make the collector cheap, and this module
//! is built on them:
//!
//! - concatenating two encoded requests gives a valid request holding both, so batching is
//!   appending [`Bytes`](bytes::Bytes) handles, and sending is a vectored write of them;
//! - a `ResourceX` is `resource = 1, scope_x = 2, schema_url = 3`, so changing resource
//!   attributes re-encodes only the small `Resource` and keeps the rest as slices.
//!
//! [`Payload::decode`] validates a request in one pass (structure, wire types, UTF-8, id
//! lengths, item counts) and keeps it as slices of the input. The views ([`ResourceView`],
//! [`ScopeView`], [`SpanView`], ...) read validated payloads without allocating; the edits
//! ([`Entry::edit_resource`], [`Payload::split_to`], [`Payload::append`],
//! [`Payload::compact`]) never re-encode items. [`Payload::from_json`] and
//! [`Payload::to_json`] convert OTLP/JSON.
//!
//! Acceptance matches a prost decode of the `opentelemetry-proto` types (recursion limit
//! 100, unknown fields skipped, repeated singular fields merged) with one addition: trace
//! ids must be 16 bytes and span ids 8 bytes, or empty.
//!
//! This module is public for benchmarks, fuzz targets and embedders; it is unstable
//! before 1.0.

pub(crate) mod actions;
mod edit;
pub(crate) mod fields;
mod items;
mod json;
mod json_in;
pub mod packed;
pub(crate) mod payload;
mod schema;
mod split;
pub(crate) mod text;
mod validate;
mod view;
pub(crate) mod wire;

#[cfg(test)]
pub(crate) use edit::encode_key_value as edit_encode_key_value;
pub use edit::{AttrRef, Attributes, Value};
pub use items::{ItemEdit, ItemView};
pub use payload::{Entry, Metadata, Payload};
pub use view::{
    AnyValueView, ArrayView, DataPointView, EventView, KeyValueListView, KeyValueView, LinkView,
    LogRecordView, MetricKind, MetricView, ResourceView, ScopeView, SpanView,
};

#[cfg(test)]
mod tests;
