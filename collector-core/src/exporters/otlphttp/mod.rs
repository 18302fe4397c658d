//! The `otlphttp` exporter (alias `otlp_http`): OTLP over HTTP, protobuf or JSON bodies.
//!
//! It posts a payload's chunks as they are, or one compressed buffer; nothing is decoded or
//! re-encoded on the way out (JSON is written from the views). What it shares with `otlp`
//! (the client, the chunked body) is in `pipeline/exporter/client.rs`.

mod config;
mod http;

use std::sync::Arc;

pub(crate) use config::OtlpHttpExporterConfig;
#[cfg(feature = "bench")]
pub(crate) use http::HttpExporter;

use crate::config::Kind;
use crate::config::component::{ComponentConfig, ConfigFactory, decode};
use crate::pipeline::build::{Build, Context, Factory};
use crate::pipeline::exporter::ExporterRuntime;
use crate::{Error, Signal};

/// The `otlphttp` exporter type.
pub(crate) static FACTORY: Factory = Factory {
    config: ConfigFactory {
        kind: Kind::Exporter,
        name: "otlphttp",
        aliases: &["otlp_http"],
        signals: &Signal::ALL,
        decode: decode::<OtlpHttpExporterConfig>,
    },
    build: Build::Exporter(build),
};

fn build(ctx: &Context<'_>, cfg: &dyn ComponentConfig) -> Result<Arc<ExporterRuntime>, Error> {
    let cfg = cfg.get::<OtlpHttpExporterConfig>()?;
    let exporter = http::HttpExporter::new(ctx.id, ctx.signal, cfg, ctx.registry)?;
    Ok(ctx.exporter(
        Arc::new(exporter),
        &cfg.sending_queue,
        &cfg.retry_on_failure,
    ))
}
