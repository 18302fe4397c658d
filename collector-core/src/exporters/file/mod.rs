//! The `file` exporter (contrib `exporter/fileexporter` v0.138): writes every payload to a
//! file as OTLP/JSON lines or length-prefixed protobuf, optionally zstd-compressed per
//! message, rotated by size ([`rotate`]) or split into one file per resource attribute value
//! (`group_by`).
//!
//! As in Go, the traces, metrics and logs instances of one component id share one file:
//! [`FileSinks`] hands every instance of an id the same [`Sink`], a dedicated writer thread
//! that owns the file(s), so blocking I/O never runs on a tokio worker and messages are
//! written whole and in order.

mod rotate;

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::num::NonZeroUsize;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use crate::Signal;
use crate::config::Kind;
use crate::config::component::{ComponentConfig, ComponentType, ConfigFactory, decode};
use crate::otlp::AnyValueView;
use crate::otlp::Payload;
use crate::pipeline::build::{Build, Context, Factory};
use crate::pipeline::exporter::queue::QueueConfig;
use crate::pipeline::exporter::retry::RetryConfig;
use crate::pipeline::exporter::{BoxFuture, ExportError, Exporter, ExporterRuntime};
use crate::{Error, ErrorKind};

use crate::config::Duration;
use crate::config::validate::{Problems, Validate};

/// `rotation` of the file exporter.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct RotationConfig {
    /// Rotate at this size (0: 100 MB).
    pub max_megabytes: i64,
    /// Delete rotated files older than this many days (0: never).
    pub max_days: i64,
    /// Rotated files kept.
    pub max_backups: i64,
    /// Local time in rotated names (default UTC).
    pub localtime: bool,
}

impl Default for RotationConfig {
    fn default() -> Self {
        RotationConfig {
            max_megabytes: 0,
            max_days: 0,
            max_backups: 100,
            localtime: false,
        }
    }
}

/// `group_by` of the file exporter.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct GroupByConfig {
    /// Write one file per value of a resource attribute.
    pub enabled: bool,
    /// The attribute substituted for `*` in `path`.
    pub resource_attribute: String,
    /// Open files kept.
    pub max_open_files: i64,
}

impl Default for GroupByConfig {
    fn default() -> Self {
        GroupByConfig {
            enabled: false,
            resource_attribute: "fileexporter.path_segment".to_owned(),
            max_open_files: 100,
        }
    }
}

/// `file` exporter configuration (contrib `exporter/fileexporter`).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct FileConfig {
    /// Output file.
    pub path: String,
    /// Append instead of truncating.
    pub append: bool,
    /// Size-based rotation; off unless the key is present.
    #[serde(deserialize_with = "crate::config::net::present")]
    pub rotation: Option<RotationConfig>,
    /// `json` (one document per line) or `proto` (length-prefixed).
    pub format: String,
    /// Encoding extension (not supported).
    pub encoding: Option<String>,
    /// `zstd`, per message.
    pub compression: String,
    /// Flush the buffer this often (0: 1s).
    pub flush_interval: Duration,
    /// One file per resource attribute value.
    pub group_by: GroupByConfig,
}

impl Default for FileConfig {
    fn default() -> Self {
        FileConfig {
            path: String::new(),
            append: false,
            rotation: None,
            format: "json".to_owned(),
            encoding: None,
            compression: String::new(),
            flush_interval: Duration::ZERO,
            group_by: GroupByConfig::default(),
        }
    }
}

impl FileConfig {
    /// The queue in front of every file exporter instance. Go's file exporter has none and
    /// writes in the caller; here one sender writes in arrival order, and a full queue makes
    /// the pipeline wait (`block_on_overflow`) rather than drop, as a synchronous write
    /// would hold the caller.
    pub(crate) fn queue() -> QueueConfig {
        QueueConfig {
            enabled: true,
            queue_size: 100,
            num_consumers: 1,
            block_on_overflow: true,
            ..QueueConfig::default()
        }
    }
}

impl Validate for FileConfig {
    /// Go checks these in order and reports the first.
    fn validate(&self, p: &mut Problems) {
        let first = if self.path.is_empty() {
            Some(("path", "path must be non-empty"))
        } else if self.append && !self.compression.is_empty() {
            Some((
                "append",
                "append and compression enabled at the same time is not supported",
            ))
        } else if self.append && self.rotation.is_some() {
            Some((
                "append",
                "append and rotation enabled at the same time is not supported",
            ))
        } else if !matches!(self.format.as_str(), "json" | "proto") {
            Some(("format", "format type is not supported"))
        } else if !matches!(self.compression.as_str(), "" | "zstd") {
            Some(("compression", "compression is not supported"))
        } else if self.flush_interval.is_negative() {
            Some(("flush_interval", "flush_interval must be larger than zero"))
        } else if self.group_by.enabled && self.path.matches('*').count() != 1 {
            Some((
                "path",
                "path must contain exactly one * when group_by is enabled",
            ))
        } else if self.group_by.enabled && self.path.starts_with('*') {
            Some((
                "path",
                "path must not start with * when group_by is enabled",
            ))
        } else if self.group_by.enabled && self.group_by.resource_attribute.is_empty() {
            Some((
                "group_by::resource_attribute",
                "resource_attribute must not be empty when group_by is enabled",
            ))
        } else {
            None
        };
        if let Some((k, m)) = first {
            p.key(k, m);
        }
        if self.encoding.is_some() {
            p.key(
                "encoding",
                "encoding extensions are not supported by this collector",
            );
        }
    }
}

/// Go's `bufio.Writer` default size: data reaches the file in pieces of this size between
/// flushes, as it does from the Go exporter.
const BUFFER_SIZE: usize = 4096;

/// The zstd level of klauspost's `SpeedDefault`, which the Go exporter uses.
const ZSTD_LEVEL: i32 = 3;

/// How a message is framed on disk (Go's `buildExportFunc`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    /// The message, then `\n` (`json` without compression).
    Line,
    /// A 4-byte big-endian length, then the message (`proto`, or any compression).
    LengthPrefixed,
}

/// Turns payloads into framed messages.
#[derive(Clone, Copy, Debug)]
struct Encoding {
    /// OTLP/JSON rather than protobuf.
    json: bool,
    /// Each message compressed as one zstd frame.
    zstd: bool,
    /// Derived from the two above, as Go's `buildExportFunc` picks it.
    framing: Framing,
}

impl Encoding {
    /// The encoding a validated configuration asks for.
    fn new(cfg: &FileConfig) -> Encoding {
        let json = cfg.format != "proto";
        let zstd = cfg.compression == "zstd";
        Encoding {
            json,
            zstd,
            framing: if json && !zstd {
                Framing::Line
            } else {
                Framing::LengthPrefixed
            },
        }
    }

    /// The framed message as chunks for the writer. Protobuf is written as the payload's
    /// own bytes (an export request encodes byte-identically to `TracesData` and friends),
    /// never re-encoded.
    fn encode(&self, p: &Payload) -> Result<Vec<Bytes>, String> {
        let mut body = if self.json {
            vec![Bytes::from(p.to_json())]
        } else {
            p.chunks()
        };
        if self.zstd {
            let mut raw = Vec::with_capacity(body.iter().map(Bytes::len).sum());
            for c in &body {
                raw.extend_from_slice(c);
            }
            let z = zstd::bulk::compress(&raw, ZSTD_LEVEL)
                .map_err(|e| format!("zstd compression failed: {e}"))?;
            body = vec![Bytes::from(z)];
        }
        match self.framing {
            Framing::Line => {
                body.push(Bytes::from_static(b"\n"));
                Ok(body)
            }
            Framing::LengthPrefixed => {
                let len: usize = body.iter().map(Bytes::len).sum();
                let len = u32::try_from(len)
                    .map_err(|_| format!("message of {len} bytes does not fit a 4-byte length"))?;
                body.insert(0, Bytes::copy_from_slice(&len.to_be_bytes()));
                Ok(body)
            }
        }
    }
}

/// Where messages go.
#[derive(Debug)]
enum Output {
    /// One file, buffered, flushed every `flush_interval`.
    Plain(BufWriter<File>),
    /// One file rotated by size, unbuffered (as the Go exporter writes to its logger).
    Rotating(rotate::Rotator),
    /// One buffered file per resource attribute value.
    Grouped(Grouped),
}

/// Opens `path` as the Go exporter does: `O_RDWR|O_CREATE` and `O_TRUNC` or `O_APPEND`,
/// mode 0644 (before the umask); the directory must exist.
fn open_plain(path: &Path, append: bool) -> io::Result<BufWriter<File>> {
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .append(append)
        .truncate(!append)
        .mode(0o644)
        .open(path)?;
    Ok(BufWriter::with_capacity(BUFFER_SIZE, f))
}

/// Writes a message's chunks in order (into a buffer, so no vectored call is needed).
fn write_chunks(w: &mut impl Write, chunks: &[Bytes]) -> io::Result<()> {
    for c in chunks {
        w.write_all(c)?;
    }
    Ok(())
}

/// `group_by`: the path split around its `*`, and the open files, least recently used
/// closed first.
#[derive(Debug)]
struct Grouped {
    /// `path` before the `*`, cleaned.
    prefix: String,
    /// `path` after the `*`.
    suffix: String,
    /// The resource attribute whose value replaces the `*`.
    attribute: String,
    /// Open files appending rather than truncating.
    append: bool,
    /// At most `max_open_files` open writers.
    open: lru::LruCache<PathBuf, BufWriter<File>>,
}

impl Grouped {
    /// `group_by` from the configuration; nothing is opened yet.
    fn new(cfg: &FileConfig) -> Result<Grouped, Error> {
        let (prefix, suffix) = cfg.path.split_once('*').unwrap_or((&cfg.path, ""));
        let size = usize::try_from(cfg.group_by.max_open_files)
            .ok()
            .and_then(NonZeroUsize::new)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Config,
                    "group_by::max_open_files: must provide a positive size",
                )
            })?;
        Ok(Grouped {
            prefix: clean_prefix(prefix),
            suffix: suffix.to_owned(),
            attribute: cfg.group_by.resource_attribute.clone(),
            append: cfg.append,
            open: lru::LruCache::new(size),
        })
    }

    /// The file for an attribute value: the value cleaned as a rooted path first, so `..`
    /// can never climb above the prefix.
    fn path_for(&self, segment: &str) -> PathBuf {
        let rooted = clean(&format!("/{segment}"));
        let segment = rooted.trim_start_matches('/');
        PathBuf::from(clean(&format!("{}{segment}{}", self.prefix, self.suffix)))
    }

    /// The open writer for `path`, opening it (and its directory, 0755) if needed. A file
    /// closed for room and opened again is truncated again unless `append`, as in Go.
    fn writer(&mut self, path: &Path) -> io::Result<&mut BufWriter<File>> {
        if !self.open.contains(path) {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o755)
                    .create(dir)?;
            }
            let w = open_plain(path, self.append)?;
            if let Some((old, mut evicted)) = self.open.push(path.to_owned(), w)
                && let Err(e) = evicted.flush()
            {
                tracing::error!(file = %old.display(), error = %e, "Cannot flush a file closed to make room.");
            }
        }
        self.open
            .get_mut(path)
            .ok_or_else(|| io::Error::other("group_by file missing from its cache"))
    }

    /// Writes each resource to the file of its attribute value, one message per file;
    /// resources without the attribute (or with a non-string value) are dropped, as in Go.
    fn write(&mut self, enc: &Encoding, p: &Payload) -> Result<(), String> {
        let mut groups: Vec<(PathBuf, Vec<u8>)> = Vec::new();
        for e in p.entries() {
            let value = match e.view().attribute(&self.attribute) {
                Some(AnyValueView::Str(s)) => s,
                _ => {
                    tracing::debug!(
                        attribute = %self.attribute,
                        "Resource does not contain {} attribute, dropping it",
                        self.attribute
                    );
                    continue;
                }
            };
            let path = self.path_for(value);
            let i = match groups.iter().position(|(p, _)| *p == path) {
                Some(i) => i,
                None => {
                    groups.push((path, Vec::new()));
                    groups.len() - 1
                }
            };
            // The entry re-framed as field 1 of a request: a request of its own group.
            let out = &mut groups[i].1;
            crate::otlp::wire::put_key(
                out,
                crate::otlp::fields::export_request::RESOURCE_X,
                crate::otlp::wire::WireType::Len,
            );
            crate::otlp::wire::put_varint(out, e.body_len() as u64);
            for piece in e.pieces() {
                out.extend_from_slice(piece);
            }
        }
        let mut first_error = None;
        for (path, bytes) in groups {
            let result = Payload::decode(p.signal(), Bytes::from(bytes))
                .map_err(|e| e.to_string())
                .and_then(|g| enc.encode(&g))
                .and_then(|msg| {
                    let w = self
                        .writer(&path)
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                    write_chunks(w, &msg).map_err(|e| format!("{}: {e}", path.display()))
                });
            if let Err(e) = result {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Flushes every open file; failures are logged, the next flush tries again.
    fn flush(&mut self) {
        for (path, w) in self.open.iter_mut() {
            if let Err(e) = w.flush() {
                tracing::error!(file = %path.display(), error = %e, "Cannot flush the file.");
            }
        }
    }
}

/// Go's `cleanPathPrefix`: cleaned, keeping a trailing separator (`out/` stays a
/// directory prefix, `out/x-` a name prefix).
fn clean_prefix(prefix: &str) -> String {
    if prefix.is_empty() {
        return String::new();
    }
    let c = clean(prefix);
    if prefix.ends_with('/') && !c.ends_with('/') {
        c + "/"
    } else {
        c
    }
}

/// Go's `path.Clean`: lexical, `.` and `..` resolved, repeated separators folded.
fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

/// What the writer thread is asked to do.
enum Command {
    /// Write one payload; the result goes back to the exporter.
    Write(Payload, oneshot::Sender<Result<(), String>>),
    /// Flush buffers (one instance of the id is shutting down).
    Flush(oneshot::Sender<()>),
    /// Flush and close everything (the last instance is shutting down).
    Close(oneshot::Sender<()>),
}

/// The writer thread's state.
#[derive(Debug)]
struct Writer {
    /// The component id, for logs.
    id: String,
    /// How payloads become messages.
    encoding: Encoding,
    /// Where messages go.
    output: Output,
}

impl Writer {
    /// Encodes and writes one payload; the error goes back to the exporter instance.
    fn write(&mut self, p: &Payload) -> Result<(), String> {
        match &mut self.output {
            Output::Plain(w) => {
                let msg = self.encoding.encode(p)?;
                write_chunks(w, &msg).map_err(|e| e.to_string())
            }
            Output::Rotating(r) => {
                // One write call per message, so rotation never splits a message.
                let msg = self.encoding.encode(p)?.concat();
                r.write(&msg).map_err(|e| e.to_string())
            }
            Output::Grouped(g) => g.write(&self.encoding, p),
        }
    }

    /// Flushes buffers (rotated files are unbuffered); failures are logged.
    fn flush(&mut self) {
        match &mut self.output {
            Output::Plain(w) => {
                if let Err(e) = w.flush() {
                    tracing::error!(exporter = %self.id, error = %e, "Cannot flush the file.");
                }
            }
            Output::Rotating(_) => {}
            Output::Grouped(g) => g.flush(),
        }
    }

    /// Flushes and closes every file.
    fn close(&mut self) {
        self.flush();
        match &mut self.output {
            Output::Rotating(r) => r.close(),
            Output::Grouped(g) => g.open.clear(),
            Output::Plain(_) => {}
        }
    }

    /// Serves commands until closed or every sender is gone, flushing every `every`.
    fn run(mut self, rx: mpsc::Receiver<Command>, every: std::time::Duration) {
        let mut next = Instant::now() + every;
        loop {
            let wait = next.saturating_duration_since(Instant::now());
            match rx.recv_timeout(wait) {
                Ok(Command::Write(p, reply)) => {
                    let _ = reply.send(self.write(&p));
                }
                Ok(Command::Flush(reply)) => {
                    self.flush();
                    let _ = reply.send(());
                }
                Ok(Command::Close(reply)) => {
                    self.close();
                    let _ = reply.send(());
                    return;
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    self.close();
                    return;
                }
            }
            // Checked after every command too: a steady stream of writes never times out.
            if Instant::now() >= next {
                self.flush();
                next = Instant::now() + every;
            }
        }
    }
}

/// One component id's writer thread, shared by its traces, metrics and logs instances.
#[derive(Debug)]
pub(crate) struct Sink {
    /// The component id, for logs.
    id: String,
    /// Commands to the writer thread.
    tx: mpsc::Sender<Command>,
    /// Instances not yet shut down: the last one closes the file.
    users: AtomicUsize,
}

impl Sink {
    /// Opens the output (a plain file at once, truncating unless `append`; a rotated file
    /// on the first write) and starts the writer thread.
    fn start(id: &str, cfg: &FileConfig, clock: rotate::Clock) -> Result<Arc<Sink>, Error> {
        if let Some(ext) = &cfg.encoding {
            return Err(Error::new(
                ErrorKind::Config,
                format!(
                    "exporter {id}: encoding extension {ext} is not supported by this collector"
                ),
            ));
        }
        let output = if cfg.group_by.enabled {
            Output::Grouped(Grouped::new(cfg)?)
        } else if let Some(r) = &cfg.rotation {
            Output::Rotating(rotate::Rotator::new(Path::new(&cfg.path), r, clock))
        } else {
            Output::Plain(open_plain(Path::new(&cfg.path), cfg.append).map_err(|e| {
                Error::with_source(
                    ErrorKind::Io,
                    format!("exporter {id}: cannot open {}: {e}", cfg.path),
                    e,
                )
            })?)
        };
        let every = if cfg.flush_interval.as_nanos() > 0 {
            cfg.flush_interval.to_std()
        } else {
            std::time::Duration::from_secs(1)
        };
        let writer = Writer {
            id: id.to_owned(),
            encoding: Encoding::new(cfg),
            output,
        };
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name(format!("file-exporter {id}"))
            .spawn(move || writer.run(rx, every))
            .map_err(|e| {
                Error::with_source(
                    ErrorKind::Io,
                    format!("exporter {id}: cannot start the writer thread: {e}"),
                    e,
                )
            })?;
        Ok(Arc::new(Sink {
            id: id.to_owned(),
            tx,
            users: AtomicUsize::new(0),
        }))
    }
}

/// The `file` exporter type.
pub(crate) static FACTORY: Factory = Factory {
    config: ConfigFactory {
        kind: Kind::Exporter,
        name: "file",
        aliases: &[],
        signals: &Signal::ALL,
        decode: decode::<FileConfig>,
    },
    build: Build::Exporter(build),
};

impl ComponentType for FileConfig {}

/// One instance per signal; the signals of one id share its sink (file and writer), as in
/// Go.
fn build(ctx: &Context<'_>, cfg: &dyn ComponentConfig) -> Result<Arc<ExporterRuntime>, Error> {
    let cfg = cfg.get::<FileConfig>()?;
    let sink = ctx.shared(|| Sink::start(ctx.id, cfg, rotate::now))?;
    sink.users.fetch_add(1, Ordering::AcqRel);
    // Writing a file either works or will not by retrying.
    let no_retry = RetryConfig {
        enabled: false,
        ..RetryConfig::default()
    };
    Ok(ctx.exporter(
        Arc::new(FileExporter { sink }),
        &FileConfig::queue(),
        &no_retry,
    ))
}

/// The file sinks of one collector, by component id (tests build exporters without a
/// collector).
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct FileSinks {
    /// Started sinks, by component id.
    by_id: std::collections::HashMap<String, Arc<Sink>>,
}

#[cfg(test)]
impl FileSinks {
    /// The exporter instance for one signal of `id`, sharing the id's sink (started on the
    /// first call).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`] when the file cannot be opened, [`ErrorKind::Config`] for
    /// `group_by::max_open_files <= 0` or an encoding extension.
    pub(crate) fn exporter(&mut self, id: &str, cfg: &FileConfig) -> Result<FileExporter, Error> {
        self.exporter_with_clock(id, cfg, rotate::now)
    }

    /// [`exporter`](Self::exporter) with the clock that names rotated files.
    fn exporter_with_clock(
        &mut self,
        id: &str,
        cfg: &FileConfig,
        clock: rotate::Clock,
    ) -> Result<FileExporter, Error> {
        let sink = match self.by_id.get(id) {
            Some(s) => s.clone(),
            None => {
                let s = Sink::start(id, cfg, clock)?;
                self.by_id.insert(id.to_owned(), s.clone());
                s
            }
        };
        sink.users.fetch_add(1, Ordering::AcqRel);
        Ok(FileExporter { sink })
    }
}

/// One signal's instance of a file exporter.
#[derive(Debug)]
pub(crate) struct FileExporter {
    /// The id's writer, shared with its other signals.
    sink: Arc<Sink>,
}

impl Exporter for FileExporter {
    fn export<'a>(&'a self, payload: &'a Payload) -> BoxFuture<'a, Result<(), ExportError>> {
        Box::pin(async move {
            let (reply, done) = oneshot::channel();
            // The writer only stops after the last instance's shutdown, which follows this
            // instance's last export; a send error means it died, which is permanent.
            self.sink
                .tx
                .send(Command::Write(payload.clone(), reply))
                .map_err(|_| ExportError::Permanent("file writer has stopped".to_owned()))?;
            match done.await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(ExportError::Permanent(e)),
                Err(_) => Err(ExportError::Permanent("file writer has stopped".to_owned())),
            }
        })
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let (reply, done) = oneshot::channel();
            let last = self.sink.users.fetch_sub(1, Ordering::AcqRel) == 1;
            let cmd = if last {
                Command::Close(reply)
            } else {
                Command::Flush(reply)
            };
            if self.sink.tx.send(cmd).is_ok() {
                let _ = done.await;
            } else {
                tracing::warn!(exporter = %self.sink.id, "File writer stopped before shutdown.");
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::Signal;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "collector-file-exporter-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// A traces payload with one resource per `(segment, span)` pair; `None` leaves the
    /// resource without the group attribute.
    fn traces(resources: &[(Option<&str>, &str)]) -> Payload {
        let rs: Vec<String> = resources
            .iter()
            .map(|(seg, span)| {
                let attrs = seg.map_or(String::new(), |s| {
                    format!(
                        r#"{{"key":"fileexporter.path_segment","value":{{"stringValue":"{s}"}}}}"#
                    )
                });
                format!(
                    r#"{{"resource":{{"attributes":[{attrs}]}},"scopeSpans":[{{"spans":[{{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"{span}"}}]}}]}}"#
                )
            })
            .collect();
        let json = format!(r#"{{"resourceSpans":[{}]}}"#, rs.join(","));
        Payload::from_json(Signal::Traces, json.as_bytes()).unwrap()
    }

    fn cfg(path: &Path) -> FileConfig {
        FileConfig {
            path: path.to_string_lossy().into_owned(),
            ..FileConfig::default()
        }
    }

    /// Splits a length-prefixed file into its messages.
    fn frames(mut data: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while !data.is_empty() {
            let n = u32::from_be_bytes(data[..4].try_into().unwrap()) as usize;
            out.push(data[4..4 + n].to_vec());
            data = &data[4 + n..];
        }
        out
    }

    async fn write_all(cfg: &FileConfig, payloads: &[Payload]) {
        let mut sinks = FileSinks::default();
        let e = sinks.exporter("file", cfg).unwrap();
        for p in payloads {
            e.export(p).await.unwrap();
        }
        e.shutdown().await;
    }

    #[test]
    fn framing_follows_format_and_compression() {
        let mut c = FileConfig::default();
        assert_eq!(Encoding::new(&c).framing, Framing::Line);
        c.compression = "zstd".into();
        assert_eq!(Encoding::new(&c).framing, Framing::LengthPrefixed);
        c.compression.clear();
        c.format = "proto".into();
        assert_eq!(Encoding::new(&c).framing, Framing::LengthPrefixed);
    }

    #[tokio::test]
    async fn json_lines_proto_frames_and_zstd_frames() {
        let d = tmp("formats");
        let p = traces(&[(None, "a"), (Some("x"), "b")]);
        let q = traces(&[(None, "c")]);

        let json = cfg(&d.join("t.json"));
        write_all(&json, &[p.clone(), q.clone()]).await;
        let text = std::fs::read(d.join("t.json")).unwrap();
        let mut want = p.to_json();
        want.push(b'\n');
        want.extend(q.to_json());
        want.push(b'\n');
        assert_eq!(text, want);

        let proto = FileConfig {
            format: "proto".into(),
            ..cfg(&d.join("t.pb"))
        };
        write_all(&proto, &[p.clone(), q.clone()]).await;
        let got = frames(&std::fs::read(d.join("t.pb")).unwrap());
        assert_eq!(got, [p.to_bytes().to_vec(), q.to_bytes().to_vec()]);

        let zjson = FileConfig {
            compression: "zstd".into(),
            ..cfg(&d.join("t.json.zst"))
        };
        write_all(&zjson, std::slice::from_ref(&p)).await;
        let got = frames(&std::fs::read(d.join("t.json.zst")).unwrap());
        assert_eq!(got.len(), 1);
        assert_eq!(zstd::decode_all(&got[0][..]).unwrap(), p.to_json());
    }

    #[tokio::test]
    async fn truncates_unless_append() {
        let d = tmp("append");
        let path = d.join("t.json");
        std::fs::write(&path, b"old\n").unwrap();
        let p = traces(&[(None, "a")]);
        write_all(&cfg(&path), std::slice::from_ref(&p)).await;
        let one = std::fs::read(&path).unwrap();
        assert!(!one.starts_with(b"old"));
        let append = FileConfig {
            append: true,
            ..cfg(&path)
        };
        write_all(&append, std::slice::from_ref(&p)).await;
        let two = std::fs::read(&path).unwrap();
        assert_eq!(two, [one.clone(), one].concat());
    }

    #[tokio::test]
    async fn buffered_until_flushed() {
        let d = tmp("flush");
        let path = d.join("t.json");
        // An interval no test run reaches: only the explicit flush below can write.
        let c = FileConfig {
            flush_interval: crate::config::Duration::from_millis(3_600_000),
            ..cfg(&path)
        };
        let mut sinks = FileSinks::default();
        let e = sinks.exporter("file", &c).unwrap();
        let p = traces(&[(None, "a")]);
        e.export(&p).await.unwrap();
        // Smaller than the buffer: written, but nothing on disk yet.
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
        let (reply, done) = oneshot::channel();
        e.sink.tx.send(Command::Flush(reply)).unwrap();
        done.await.unwrap();
        let mut line = p.to_json();
        line.push(b'\n');
        assert_eq!(std::fs::read(&path).unwrap(), line);
        e.shutdown().await;
    }

    #[tokio::test]
    async fn the_flush_interval_flushes_without_further_writes() {
        let d = tmp("interval");
        let path = d.join("t.json");
        let c = FileConfig {
            flush_interval: crate::config::Duration::from_millis(20),
            ..cfg(&path)
        };
        let mut sinks = FileSinks::default();
        let e = sinks.exporter("file", &c).unwrap();
        e.export(&traces(&[(None, "a")])).await.unwrap();
        // Only the writer thread's timer can flush here (no more writes, no shutdown).
        // How soon is up to the scheduler, so there is no upper bound beyond the poll's.
        let mut flushed = false;
        for _ in 0..1_000 {
            if std::fs::metadata(&path).unwrap().len() > 0 {
                flushed = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(flushed, "nothing flushed within 10 s");
        e.shutdown().await;
    }

    #[tokio::test]
    async fn instances_of_one_id_share_the_file_and_the_last_closes_it() {
        let d = tmp("shared");
        let path = d.join("t.json");
        let c = cfg(&path);
        let mut sinks = FileSinks::default();
        let a = sinks.exporter("file", &c).unwrap();
        let b = sinks.exporter("file", &c).unwrap();
        a.export(&traces(&[(None, "a")])).await.unwrap();
        b.export(&traces(&[(None, "b")])).await.unwrap();
        a.shutdown().await;
        // The first shutdown flushed; the writer still serves the other instance.
        assert_eq!(
            std::fs::read(&path).unwrap().split(|c| *c == b'\n').count(),
            3
        );
        b.export(&traces(&[(None, "c")])).await.unwrap();
        b.shutdown().await;
        assert_eq!(
            std::fs::read(&path).unwrap().split(|c| *c == b'\n').count(),
            4
        );
        assert!(b.export(&traces(&[(None, "d")])).await.is_err());
    }

    #[test]
    fn a_missing_directory_fails_at_start() {
        let d = tmp("missing");
        let err = FileSinks::default()
            .exporter("file", &cfg(&d.join("no/such/dir.json")))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io);
    }

    #[tokio::test]
    async fn rotation_names_backups_after_the_clock() {
        fn clock() -> std::time::SystemTime {
            rotate::at(1_795_662_245_123)
        }
        let d = tmp("rotation");
        let path = d.join("data.json");
        // An existing file of 1 MiB: the first write moves it aside (lumberjack appends
        // only while the file has room).
        std::fs::write(&path, vec![b'x'; 1024 * 1024]).unwrap();
        let c = FileConfig {
            rotation: Some(RotationConfig {
                max_megabytes: 1,
                ..RotationConfig::default()
            }),
            ..cfg(&path)
        };
        let mut sinks = FileSinks::default();
        let e = sinks.exporter_with_clock("file", &c, clock).unwrap();
        let p = traces(&[(None, "a")]);
        e.export(&p).await.unwrap();
        // Unbuffered: on disk before any flush.
        let mut line = p.to_json();
        line.push(b'\n');
        assert_eq!(std::fs::read(&path).unwrap(), line);
        e.shutdown().await;
        let backup = d.join("data-2026-11-26T03-04-05.123.json");
        assert_eq!(std::fs::metadata(backup).unwrap().len(), 1024 * 1024);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn paths_are_cleaned_as_go_does() {
        assert_eq!(clean("a/b/../c"), "a/c");
        assert_eq!(clean("/../a"), "/a");
        assert_eq!(clean("../a"), "../a");
        assert_eq!(clean("a//./b/"), "a/b");
        assert_eq!(clean(""), ".");
        assert_eq!(clean_prefix("out/./"), "out/");
        assert_eq!(clean_prefix("out/x-"), "out/x-");
        let g = Grouped::new(&FileConfig {
            path: "out/*/data.json".into(),
            group_by: GroupByConfig {
                enabled: true,
                ..GroupByConfig::default()
            },
            ..FileConfig::default()
        })
        .unwrap();
        assert_eq!(g.path_for("a"), Path::new("out/a/data.json"));
        assert_eq!(g.path_for("../../etc"), Path::new("out/etc/data.json"));
        assert_eq!(g.path_for("a/b"), Path::new("out/a/b/data.json"));
    }

    #[tokio::test]
    async fn group_by_writes_one_file_per_value_and_drops_the_rest() {
        let d = tmp("group");
        let c = FileConfig {
            path: format!("{}/*/t.json", d.display()),
            group_by: GroupByConfig {
                enabled: true,
                max_open_files: 1,
                ..GroupByConfig::default()
            },
            ..FileConfig::default()
        };
        let p = traces(&[
            (Some("a"), "1"),
            (None, "2"),
            (Some("b"), "3"),
            (Some("a"), "4"),
        ]);
        write_all(&c, &[p]).await;
        let a = std::fs::read_to_string(d.join("a/t.json")).unwrap();
        let b = std::fs::read_to_string(d.join("b/t.json")).unwrap();
        // One message per group, its resources in arrival order.
        assert_eq!(a.lines().count(), 1);
        let want_a = traces(&[(Some("a"), "1"), (Some("a"), "4")]).to_json();
        assert_eq!(a.trim_end().as_bytes(), want_a);
        assert_eq!(
            b.trim_end().as_bytes(),
            traces(&[(Some("b"), "3")]).to_json()
        );
        assert!(!a.contains("\"2\"") && !b.contains("\"2\""));
        let zero = FileConfig {
            group_by: GroupByConfig {
                max_open_files: 0,
                ..c.group_by.clone()
            },
            ..c
        };
        let err = FileSinks::default().exporter("file", &zero).unwrap_err();
        assert!(
            err.to_string().contains("must provide a positive size"),
            "{err}"
        );
    }
}
