//! Durable storage for the persistent queue: a write-ahead log per pipeline.
//!
//! Facts the design rests on (docs/guarantees.md says what they mean to a user):
//!
//! - A record is written with one `write` call before the receiver acknowledges it. What
//!   `write` returned is in the kernel's page cache, which outlives the process: a SIGKILL
//!   at any instant loses nothing acknowledged. Only power loss or a kernel crash can lose
//!   what was not `fsync`ed, hence `fsync: true`, which makes the acknowledgement wait for
//!   a group commit (one `fdatasync` for every record written while the previous one ran).
//! - A record carries the set of exporters that still need it (a bit each, see
//!   [`log::manifest`]); it is released bit by bit, and its segment is deleted once it and
//!   everything older is released. Releases are written lazily: losing one to a crash only
//!   delivers its record again (at-least-once).
//! - The log knows nothing of payloads, pipelines or exporters: `pipeline/persist.rs` puts
//!   payloads in and takes them out.

pub(crate) mod log;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

pub(crate) use log::{Damage, Record};

/// Where and how a `file_storage` extension keeps logs.
#[derive(Clone, Debug)]
pub(crate) struct Storage {
    /// The extension's `directory`.
    pub(crate) directory: PathBuf,
    /// `fsync`: acknowledge only after a group commit.
    pub(crate) fsync: bool,
    /// `timeout`: the longest an acknowledgement waits for its commit.
    pub(crate) timeout: Duration,
}

impl Storage {
    /// The directory of the log named `name` (a pipeline id): only `[A-Za-z0-9._-]` kept,
    /// anything else escaped as `~XXXX`, the way Go's `file_storage` names its files.
    pub(crate) fn log_dir(&self, name: &str) -> PathBuf {
        let mut s = String::from("wal_");
        for c in name.chars() {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                s.push(c);
            } else {
                s.push_str(&format!("~{:04X}", c as u32));
            }
        }
        self.directory.join(s)
    }
}

/// Group commit state: what is written and what is synced, as seqs.
struct Commit {
    written: u64,
    synced: u64,
    /// The last sync failed: waiters hear it until a sync succeeds.
    failed: Option<String>,
    stop: bool,
}

struct Committer {
    state: Mutex<Commit>,
    /// Wakes the sync thread (new writes) and blocking waiters (a sync finished).
    cv: Condvar,
    /// Wakes async waiters when `synced` moves.
    synced: tokio::sync::watch::Sender<u64>,
}

/// One pipeline's log, shared by its persist stage and its readers.
pub(crate) struct Wal {
    log: Mutex<log::Log>,
    /// Woken after appends ([`Wal::wake_readers`]), for the readers.
    pub(crate) appended: tokio::sync::Notify,
    commit: Option<Arc<Committer>>,
    sync_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    timeout: Duration,
    /// Records that were on disk when the log was opened are below this seq.
    pub(crate) recovered_below: u64,
}

impl Wal {
    /// Opens the log at `dir` for the exporters `ids`: their bits, and what recovery found
    /// damaged.
    ///
    /// # Errors
    ///
    /// The directory cannot be used (permissions, another collector holds its lock).
    pub(crate) fn open(
        dir: &Path,
        storage: &Storage,
        ids: &[&str],
    ) -> std::io::Result<(Arc<Wal>, Vec<u64>, Damage)> {
        // As Go's bbolt waits `timeout` for the file lock: a collector being replaced on
        // the same volume may still be stopping.
        let deadline = std::time::Instant::now() + storage.timeout;
        let (log, damage) = loop {
            match log::Log::open(dir, storage.fsync) {
                Err(e)
                    if e.kind() == std::io::ErrorKind::ResourceBusy
                        && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(10));
                }
                other => break other?,
            }
        };
        let bits = log::manifest(dir, ids, storage.fsync)?;
        let recovered_below = log.next_seq();
        let commit = storage.fsync.then(|| {
            Arc::new(Committer {
                state: Mutex::new(Commit {
                    written: recovered_below.saturating_sub(1),
                    synced: recovered_below.saturating_sub(1),
                    failed: None,
                    stop: false,
                }),
                cv: Condvar::new(),
                synced: tokio::sync::watch::channel(0).0,
            })
        });
        let wal = Arc::new(Wal {
            log: Mutex::new(log),
            appended: tokio::sync::Notify::new(),
            commit,
            sync_thread: Mutex::new(None),
            timeout: storage.timeout,
            recovered_below,
        });
        if let Some(c) = &wal.commit {
            let c = c.clone();
            let weak = Arc::downgrade(&wal);
            let handle = std::thread::Builder::new()
                .name("otelcol-wal-sync".to_owned())
                .spawn(move || sync_loop(&c, &weak))?;
            *wal.sync_thread.lock() = Some(handle);
        }
        Ok((wal, bits, damage))
    }

    /// Appends a data record (the concatenation of `parts`) for the exporters of `mask`
    /// and returns its seq, calling `written` with it before any reader can see the record
    /// (under the log's lock): the writer hands readers the payload there.
    pub(crate) fn append_then<B: AsRef<[u8]>>(
        &self,
        mask: u64,
        items: u64,
        parts: &[B],
        written: impl FnOnce(u64),
    ) -> std::io::Result<u64> {
        let items = u32::try_from(items).unwrap_or(u32::MAX);
        let seq = {
            let mut log = self.log.lock();
            let seq = log.append(mask, items, parts)?;
            written(seq);
            seq
        };
        if let Some(c) = &self.commit {
            let mut s = c.state.lock();
            s.written = s.written.max(seq);
            c.cv.notify_all();
        }
        Ok(seq)
    }

    /// Wakes the readers: called by the writer once it has done what readers should see
    /// with the new records (handed them the payloads).
    pub(crate) fn wake_readers(&self) {
        self.appended.notify_waiters();
    }

    /// Whether acknowledgements wait for a commit (`fsync: true`).
    pub(crate) fn syncs(&self) -> bool {
        self.commit.is_some()
    }

    /// Waits until record `seq` is on stable storage, up to the storage `timeout`.
    pub(crate) async fn synced(&self, seq: u64) -> Result<(), String> {
        let Some(c) = &self.commit else {
            return Ok(());
        };
        let mut rx = c.synced.subscribe();
        let wait = async {
            loop {
                {
                    let s = c.state.lock();
                    if s.synced >= seq {
                        return Ok(());
                    }
                    if let Some(e) = &s.failed {
                        return Err(format!("cannot sync the log: {e}"));
                    }
                }
                if rx.changed().await.is_err() {
                    return Err("the log was closed".to_owned());
                }
            }
        };
        match tokio::time::timeout(self.timeout, wait).await {
            Ok(r) => r,
            Err(_) => Err(format!(
                "the log was not synced within the storage timeout ({:?})",
                self.timeout
            )),
        }
    }

    /// [`synced`](Self::synced) for a caller that is not async (an embedder's `ingest`).
    pub(crate) fn synced_blocking(&self, seq: u64) -> Result<(), String> {
        let Some(c) = &self.commit else {
            return Ok(());
        };
        let deadline = std::time::Instant::now() + self.timeout;
        let mut s = c.state.lock();
        loop {
            if s.synced >= seq {
                return Ok(());
            }
            if let Some(e) = &s.failed {
                return Err(format!("cannot sync the log: {e}"));
            }
            if c.cv.wait_until(&mut s, deadline).timed_out() {
                return Err(format!(
                    "the log was not synced within the storage timeout ({:?})",
                    self.timeout
                ));
            }
        }
    }

    /// The body of live record `seq` (`None` once released).
    pub(crate) fn read(&self, seq: u64) -> std::io::Result<Option<Vec<u8>>> {
        // Read under the lock: a segment is never deleted while a read of it runs.
        self.log.lock().read(seq)
    }

    /// Up to `max` live records from seq `from` on that exporter `bit` still needs.
    pub(crate) fn pending(&self, bit: u64, from: u64, max: usize) -> Vec<(u64, Record)> {
        self.pending_after(bit, from, max).0
    }

    /// [`pending`](Self::pending), and the seq a reader that has dealt with them goes on
    /// from: past every record scanned, so records other exporters need are not scanned
    /// again (a record never gains an exporter).
    pub(crate) fn pending_after(
        &self,
        bit: u64,
        from: u64,
        max: usize,
    ) -> (Vec<(u64, Record)>, u64) {
        let log = self.log.lock();
        let found: Vec<(u64, Record)> = log
            .records_from(from)
            .filter(|(_, r)| r.mask & bit != 0)
            .take(max)
            .collect();
        let next = match found.last() {
            Some((seq, _)) if found.len() == max => seq + 1,
            _ => log.next_seq().max(from),
        };
        (found, next)
    }

    /// The exporter of `bit` is done with record `seq`.
    pub(crate) fn release(&self, seq: u64, bit: u64) {
        self.log.lock().release(seq, bit);
    }

    /// Writes pending releases (a timer and shutdown call this; appends also do).
    pub(crate) fn write_releases(&self) {
        let mut log = self.log.lock();
        if let Err(e) = log.write_releases() {
            tracing::warn!(dir = %log.dir().display(), error = %e, "Cannot write releases to the log; their records may be delivered again after a restart.");
        }
    }

    /// `(disk bytes, live records, live items, segments)`.
    pub(crate) fn stats(&self) -> (u64, usize, u64, usize) {
        let log = self.log.lock();
        let items = log.records_from(0).map(|(_, r)| u64::from(r.items)).sum();
        (
            log.disk_bytes(),
            log.live_records(),
            items,
            log.segment_count(),
        )
    }

    /// The seq the next record gets.
    pub(crate) fn next_seq(&self) -> u64 {
        self.log.lock().next_seq()
    }

    /// Stops the sync thread, writes pending releases, syncs, and gives up the directory.
    pub(crate) fn close(&self) {
        if let Some(c) = &self.commit {
            c.state.lock().stop = true;
            c.cv.notify_all();
            if let Some(h) = self.sync_thread.lock().take() {
                let _ = h.join();
            }
        }
        let mut log = self.log.lock();
        if let Err(e) = log.close() {
            tracing::warn!(dir = %log.dir().display(), error = %e, "Cannot write the last releases to the log; their records may be delivered again after a restart.");
        }
    }
}

/// The group commit: while writes are ahead of the last sync, sync the head segment once
/// for all of them.
fn sync_loop(c: &Committer, wal: &std::sync::Weak<Wal>) {
    loop {
        let target = {
            let mut s = c.state.lock();
            while s.written <= s.synced && !s.stop {
                c.cv.wait(&mut s);
            }
            if s.stop {
                return;
            }
            s.written
        };
        let Some(w) = wal.upgrade() else { return };
        // A clone of the head's handle, so appends go on while it syncs; a rotation syncs
        // the old head itself before moving on.
        let result = w.log.lock().head_file().and_then(|f| f.sync_data());
        drop(w);
        let mut s = c.state.lock();
        match result {
            Ok(()) => {
                s.synced = s.synced.max(target);
                s.failed = None;
            }
            Err(e) => s.failed = Some(e.to_string()),
        }
        let synced = s.synced;
        drop(s);
        c.cv.notify_all();
        c.synced.send_replace(synced);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn storage(dir: &Path, fsync: bool) -> Storage {
        Storage {
            directory: dir.to_owned(),
            fsync,
            timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn log_dirs_are_escaped_like_go_file_names() {
        let s = storage(Path::new("/x"), false);
        assert_eq!(s.log_dir("traces"), Path::new("/x/wal_traces"));
        assert_eq!(
            s.log_dir("traces/s3 a"),
            Path::new("/x/wal_traces~002Fs3~0020a")
        );
    }

    #[test]
    fn opening_waits_up_to_the_timeout_for_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage {
            timeout: Duration::from_millis(300),
            ..storage(dir.path(), false)
        };
        let path = s.log_dir("traces");
        let (first, _, _) = Wal::open(&path, &s, &["otlp"]).unwrap();
        let started = std::time::Instant::now();
        assert!(Wal::open(&path, &s, &["otlp"]).is_err());
        assert!(started.elapsed() >= Duration::from_millis(300));
        // Released while the second waits: it gets the directory.
        let closer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            first.close();
        });
        assert!(Wal::open(&path, &s, &["otlp"]).is_ok());
        closer.join().unwrap();
    }

    #[tokio::test]
    async fn fsync_waits_for_a_group_commit() {
        let dir = tempfile::tempdir().unwrap();
        let s = storage(dir.path(), true);
        let (wal, bits, _) = Wal::open(&s.log_dir("traces"), &s, &["otlp"]).unwrap();
        assert!(wal.syncs());
        let a = wal.append_then(bits[0], 1, &[b"a"], |_| {}).unwrap();
        let b = wal.append_then(bits[0], 1, &[b"b"], |_| {}).unwrap();
        wal.synced(b).await.unwrap();
        wal.synced_blocking(a).unwrap();
        wal.close();
        // Without fsync nothing waits.
        let s = storage(dir.path(), false);
        let (wal, bits, _) = Wal::open(&s.log_dir("logs"), &s, &["otlp"]).unwrap();
        let c = wal.append_then(bits[0], 1, &[b"c"], |_| {}).unwrap();
        assert!(!wal.syncs());
        wal.synced(c).await.unwrap();
        assert_eq!(wal.pending(bits[0], 0, 10).len(), 1);
        // Records for another exporter are scanned once: the reader goes on past them.
        let other = 1u64 << 5;
        let d = wal.append_then(other, 1, &[b"d"], |_| {}).unwrap();
        let (found, next) = wal.pending_after(bits[0], c + 1, 10);
        assert!(found.is_empty());
        assert_eq!(next, d + 1);
        let (found, next) = wal.pending_after(bits[0], 0, 1);
        assert_eq!((found.len(), next), (1, c + 1));
        assert_eq!(wal.recovered_below, 1);
    }
}
