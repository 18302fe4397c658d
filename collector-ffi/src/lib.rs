//! The C ABI over `collector-core`: `otelcol_*` functions on an opaque
//! [`otelcol_collector`], as `include/otelcol.h` declares them.
//!
//! Rules every entry point keeps:
//! - no panic crosses the boundary: each body runs under `catch_unwind`, a panic becomes
//!   `OTELCOL_ERR_PANIC` with its message in `otelcol_last_error()`;
//! - arguments are checked (NULL, lengths, signal values) before use;
//! - a handle is thread-safe: ingest from many threads at once; calls that block (start,
//!   flush, shutdown, free) say so in the header;
//! - after `fork()` the child never touches the parent's collector (see [`fork`]).

#![allow(non_camel_case_types)] // C names, as the header spells them.

mod error;
mod fork;

use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use collector_core::{Collector, Config, EmbeddedCollector, Signal};
use parking_lot::Mutex;

pub use error::Error;

/// Result of every fallible call. Values may be added, never changed or reused.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum otelcol_result {
    /// Success.
    OTELCOL_OK = 0,
    /// NULL pointer, bad length, unknown signal.
    OTELCOL_ERR_INVALID_ARGUMENT = 1,
    /// The configuration did not parse or validate.
    OTELCOL_ERR_CONFIG = 2,
    /// Ingested bytes are not a valid OTLP request.
    OTELCOL_ERR_INVALID_DATA = 3,
    /// Over budget or queues full: try again later.
    OTELCOL_ERR_RETRYABLE = 4,
    /// Not started, or already shut down.
    OTELCOL_ERR_NOT_RUNNING = 5,
    /// The flush or shutdown deadline passed.
    OTELCOL_ERR_TIMEOUT = 6,
    /// A bug: the panic was caught at the boundary.
    OTELCOL_ERR_PANIC = 7,
    /// Anything else (threads could not start, a port could not be bound...).
    OTELCOL_ERR_INTERNAL = 8,
}

/// The OTLP signals. Values may be added, never changed or reused.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum otelcol_signal {
    /// `ExportTraceServiceRequest` bytes.
    OTELCOL_SIGNAL_TRACES = 1,
    /// `ExportMetricsServiceRequest` bytes.
    OTELCOL_SIGNAL_METRICS = 2,
    /// `ExportLogsServiceRequest` bytes.
    OTELCOL_SIGNAL_LOGS = 3,
}

/// A signal as C passes it: any integer, checked before use (a C enum may hold values a
/// Rust enum may not). Declared as `otelcol_signal` in the header.
#[repr(transparent)]
#[derive(Clone, Copy, Debug)]
pub struct SignalArg(pub u32);

impl SignalArg {
    fn signal(self) -> Result<Signal, Error> {
        match self.0 {
            1 => Ok(Signal::Traces),
            2 => Ok(Signal::Metrics),
            3 => Ok(Signal::Logs),
            other => Err(Error::InvalidArgument(format!("unknown signal {other}"))),
        }
    }
}

/// A result code as C passes it to `otelcol_result_str`: any integer, checked before use.
/// Declared as `otelcol_result` in the header.
#[repr(transparent)]
#[derive(Clone, Copy, Debug)]
pub struct ResultArg(pub u32);

/// What a shutdown delivered and dropped over the collector's life.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct otelcol_report {
    /// Items exporters delivered.
    pub delivered_items: u64,
    /// Items dropped (permanent failures, retries given up, the deadline).
    pub dropped_items: u64,
}

/// Where a handle's collector is.
enum State {
    /// Built from a valid configuration, not started.
    Created,
    /// Running in this process.
    Running(Arc<EmbeddedCollector>),
    /// Running in the parent of this forked process: started again here on first use.
    Forked,
    /// Shut down, with its report and the items it left in persistent queues.
    Stopped(otelcol_report, u64),
}

/// An opaque collector handle.
pub struct otelcol_collector {
    config: Config,
    state: Mutex<State>,
    /// Fork bookkeeping: which process `state` belongs to.
    owner: fork::Owner,
}

impl std::fmt::Debug for otelcol_collector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("otelcol_collector")
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

impl otelcol_collector {
    /// The state, after making sure it belongs to this process: in a forked child the
    /// parent's collector is abandoned (never dropped: its threads do not exist here).
    fn state(&self) -> parking_lot::MutexGuard<'_, State> {
        self.owner.enter(&self.state, |st| {
            let old = std::mem::replace(st, State::Forked);
            *st = match old {
                State::Running(parent) => {
                    std::mem::forget(parent);
                    State::Forked
                }
                State::Created => State::Created,
                State::Stopped(r, d) => State::Stopped(r, d),
                State::Forked => State::Forked,
            };
        });
        self.state.lock()
    }

    /// The running collector, started afresh (no listener, fresh budget) in a forked child.
    fn running(&self) -> Result<Arc<EmbeddedCollector>, Error> {
        let mut st = self.state();
        match &*st {
            State::Running(c) => Ok(c.clone()),
            State::Forked => {
                let c = Arc::new(EmbeddedCollector::start_with(
                    Collector::new(self.config.clone()).without_listeners(),
                )?);
                *st = State::Running(c.clone());
                Ok(c)
            }
            State::Created => Err(Error::NotRunning("the collector is not started".into())),
            State::Stopped(..) => Err(Error::NotRunning("the collector is shut down".into())),
        }
    }
}

/// How long `otelcol_collector_free` waits for a running collector's data.
const FREE_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(msg: &str) {
    // An interior NUL would cut the message short in C: replaced.
    let msg = CString::new(msg.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = msg);
}

/// Runs `f` inside the panic boundary and turns its outcome into a result code, recording
/// the message of a failure for `otelcol_last_error`.
fn guard(f: impl FnOnce() -> Result<(), Error>) -> otelcol_result {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => {
            set_last_error("");
            otelcol_result::OTELCOL_OK
        }
        Ok(Err(e)) => {
            set_last_error(&e.to_string());
            e.code()
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            set_last_error(&format!("panic: {what}"));
            otelcol_result::OTELCOL_ERR_PANIC
        }
    }
}

/// The handle behind `c`, or INVALID_ARGUMENT for NULL.
///
/// # Safety
///
/// `c` is NULL or a live handle from `otelcol_collector_new`.
unsafe fn handle<'a>(c: *mut otelcol_collector) -> Result<&'a otelcol_collector, Error> {
    // SAFETY: the caller passes NULL or a pointer from `otelcol_collector_new` not yet freed.
    unsafe { c.as_ref() }.ok_or_else(|| Error::InvalidArgument("collector is NULL".into()))
}

/// Parses and validates `len` bytes of YAML at `yaml` and stores a new handle in `*out`
/// (NULL on failure). Does not start anything.
///
/// # Safety
///
/// `yaml` points to `len` readable bytes; `out` is a writable pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otelcol_collector_new(
    yaml: *const c_char,
    len: usize,
    out: *mut *mut otelcol_collector,
) -> otelcol_result {
    guard(|| {
        if out.is_null() {
            return Err(Error::InvalidArgument("out is NULL".into()));
        }
        // SAFETY: `out` is non-null and writable, as documented.
        unsafe { *out = std::ptr::null_mut() };
        if yaml.is_null() {
            return Err(Error::InvalidArgument("yaml is NULL".into()));
        }
        if len == 0 {
            return Err(Error::InvalidArgument("yaml is empty (len 0)".into()));
        }
        // SAFETY: `yaml` points to `len` readable bytes, as documented.
        let bytes = unsafe { std::slice::from_raw_parts(yaml.cast::<u8>(), len) };
        let text = std::str::from_utf8(bytes)
            .map_err(|e| Error::InvalidArgument(format!("yaml is not UTF-8: {e}")))?;
        let config = Config::from_yaml(text)?;
        let c = Box::new(otelcol_collector {
            config,
            state: Mutex::new(State::Created),
            owner: fork::Owner::new(),
        });
        // SAFETY: as above.
        unsafe { *out = Box::into_raw(c) };
        Ok(())
    })
}

/// Starts the collector on threads of its own; blocks until its listeners (if the config
/// asks for any) are bound.
///
/// # Safety
///
/// `c` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otelcol_collector_start(c: *mut otelcol_collector) -> otelcol_result {
    guard(|| {
        // SAFETY: as documented.
        let c = unsafe { handle(c) }?;
        let mut st = c.state();
        match &*st {
            State::Created => {
                let running = EmbeddedCollector::start(c.config.clone())?;
                *st = State::Running(Arc::new(running));
                Ok(())
            }
            State::Running(_) | State::Forked => Ok(()),
            State::Stopped(..) => Err(Error::NotRunning("the collector is shut down".into())),
        }
    })
}

/// Hands `len` bytes of an encoded OTLP export request to the pipelines that list an
/// `embedded` receiver. Never blocks.
///
/// # Safety
///
/// `c` is NULL or a live handle; `data` points to `len` readable bytes (or is NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otelcol_collector_ingest(
    c: *mut otelcol_collector,
    s: SignalArg,
    data: *const u8,
    len: usize,
) -> otelcol_result {
    guard(|| {
        // SAFETY: as documented.
        let c = unsafe { handle(c) }?;
        let signal = s.signal()?;
        if data.is_null() {
            return Err(Error::InvalidArgument("data is NULL".into()));
        }
        // SAFETY: `data` points to `len` readable bytes, as documented; copied at once.
        let bytes = Bytes::copy_from_slice(unsafe { std::slice::from_raw_parts(data, len) });
        c.running()?.ingest(signal, bytes)?;
        Ok(())
    })
}

/// Hands `len` bytes of spans in the packed format (`docs/packed-spans.md`; what the Python
/// fast path sends) to the traces pipelines that list an `embedded` receiver. The library
/// builds the OTLP request from them; the buffer is only read during the call. Never
/// blocks. Bytes that are not a valid packed batch give OTELCOL_ERR_INVALID_DATA.
///
/// # Safety
///
/// `c` is NULL or a live handle; `data` points to `len` readable bytes (or is NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otelcol_collector_ingest_packed_spans(
    c: *mut otelcol_collector,
    data: *const u8,
    len: usize,
) -> otelcol_result {
    guard(|| {
        // SAFETY: as documented.
        let c = unsafe { handle(c) }?;
        if data.is_null() {
            return Err(Error::InvalidArgument("data is NULL".into()));
        }
        // SAFETY: `data` points to `len` readable bytes, as documented; read, not kept.
        let packed = unsafe { std::slice::from_raw_parts(data, len) };
        c.running()?.ingest_packed_spans(packed)?;
        Ok(())
    })
}

/// Blocks until everything ingested before the call is delivered or counted as dropped,
/// or `timeout_ms` passes (OTELCOL_ERR_TIMEOUT).
///
/// # Safety
///
/// `c` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otelcol_collector_flush(
    c: *mut otelcol_collector,
    timeout_ms: u32,
) -> otelcol_result {
    guard(|| {
        // SAFETY: as documented.
        let c = unsafe { handle(c) }?;
        c.running()?
            .flush(Duration::from_millis(u64::from(timeout_ms)))?;
        Ok(())
    })
}

/// Stops the collector, delivering what it holds within `timeout_ms`, and writes what was
/// delivered and dropped to `*report` (if not NULL). Blocks. A second call reports again.
///
/// # Safety
///
/// `c` is NULL or a live handle; `report` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otelcol_collector_shutdown(
    c: *mut otelcol_collector,
    timeout_ms: u32,
    report: *mut otelcol_report,
) -> otelcol_result {
    guard(|| {
        // SAFETY: as documented.
        let c = unsafe { handle(c) }?;
        let r = shutdown(c, Duration::from_millis(u64::from(timeout_ms)))?;
        if !report.is_null() {
            // SAFETY: `report` is writable, as documented.
            unsafe { *report = r };
        }
        Ok(())
    })
}

fn shutdown(c: &otelcol_collector, timeout: Duration) -> Result<otelcol_report, Error> {
    let running = {
        let mut st = c.state();
        match std::mem::replace(&mut *st, State::Created) {
            State::Running(r) => r,
            State::Stopped(r, d) => {
                *st = State::Stopped(r, d);
                return Ok(r);
            }
            State::Created | State::Forked => {
                *st = State::Stopped(otelcol_report::default(), 0);
                return Ok(otelcol_report::default());
            }
        }
        // The lock is released here: ingest on other threads sees NotRunning... from the
        // collector itself once shutdown begins.
    };
    let r = running.shutdown(timeout)?;
    let report = otelcol_report {
        delivered_items: r.delivered_items,
        dropped_items: r.dropped_items,
    };
    *c.state() = State::Stopped(report, running.items_on_disk());
    Ok(report)
}

/// Writes to `*out` how many items are in the collector's persistent queues
/// (`sending_queue::storage`): written to disk and not yet delivered or dropped by every
/// exporter that needs them. After `otelcol_collector_flush` or
/// `otelcol_collector_shutdown`, what is left for the next start; 0 without a persistent
/// queue or before the start.
///
/// # Safety
///
/// `c` is NULL or a live handle; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otelcol_collector_items_on_disk(
    c: *mut otelcol_collector,
    out: *mut u64,
) -> otelcol_result {
    guard(|| {
        // SAFETY: as documented.
        let c = unsafe { handle(c) }?;
        if out.is_null() {
            return Err(Error::InvalidArgument("out is NULL".into()));
        }
        let n = match &*c.state() {
            State::Running(r) => r.items_on_disk(),
            State::Stopped(_, d) => *d,
            State::Created | State::Forked => 0,
        };
        // SAFETY: `out` is writable, as documented, and not NULL.
        unsafe { *out = n };
        Ok(())
    })
}

/// Shuts the collector down if it runs (waiting up to 5 s for its data), then frees the
/// handle. NULL is a no-op. No other call may use the handle during or after this one.
///
/// # Safety
///
/// `c` is NULL or a live handle that no other thread uses any more.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otelcol_collector_free(c: *mut otelcol_collector) {
    let _ = guard(|| {
        if c.is_null() {
            return Ok(());
        }
        // SAFETY: `c` came from `Box::into_raw` in `otelcol_collector_new` and is not used
        // by anyone else, as documented.
        let boxed = unsafe { Box::from_raw(c) };
        let st = std::mem::replace(&mut *boxed.state(), State::Created);
        if let State::Running(r) = st {
            let _ = r.shutdown(FREE_SHUTDOWN_TIMEOUT);
        }
        drop(boxed);
        Ok(())
    });
}

/// This thread's last failure message ("" after a success); valid until this thread's next
/// `otelcol_` call.
#[unsafe(no_mangle)]
pub extern "C" fn otelcol_last_error() -> *const c_char {
    catch_unwind(|| LAST_ERROR.with(|e| e.borrow().as_ptr())).unwrap_or(c"panic".as_ptr())
}

/// A static description of a result code; "unknown result" for a value that is not one (a
/// C caller may pass any integer: it is read as one, never as the Rust enum).
#[unsafe(no_mangle)]
pub extern "C" fn otelcol_result_str(r: ResultArg) -> *const c_char {
    let s: &'static CStr = match r.0 {
        0 => c"ok",
        1 => c"invalid argument",
        2 => c"invalid configuration",
        3 => c"invalid OTLP data",
        4 => c"retryable: try again later",
        5 => c"not running",
        6 => c"timeout",
        7 => c"panic (a bug)",
        8 => c"internal error",
        _ => c"unknown result",
    };
    s.as_ptr()
}

/// The library version, a static string.
#[unsafe(no_mangle)]
pub extern "C" fn otelcol_version() -> *const c_char {
    static VERSION: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(v) => v,
            Err(_) => c"unknown",
        };
    VERSION.as_ptr()
}

/// Tells the library it runs in a freshly forked child. Optional: the library notices the
/// new process on first use anyway (a `pthread_atfork` handler and a pid check).
#[unsafe(no_mangle)]
pub extern "C" fn otelcol_after_fork_child() {
    let _ = catch_unwind(fork::after_fork_child);
}
