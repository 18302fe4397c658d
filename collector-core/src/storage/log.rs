//! The write-ahead log's files: segments of checksummed records in one locked directory.
//!
//! A directory holds `LOCK` (held with an exclusive file lock while a collector uses it),
//! `exporters` (the exporter ids the record masks' bits stand for, one per line, append
//! only) and segment files `<first seq, 20 digits>.wal`. A segment starts with [`MAGIC`]
//! and holds records one after the other:
//!
//! ```text
//! len u32 LE | crc32c u32 LE | kind u8 | seq u64 LE | mask u64 LE | items u32 LE | body
//! ```
//!
//! `len` counts the bytes after the checksum, which covers them. A data record carries an
//! encoded export request as its body and the set of exporters that need it as `mask`; a
//! release record (empty body) says that the exporters of `mask` are done with record
//! `seq`. A record is written with one `write` call, so a process killed at any instant
//! leaves at most one torn record, at the end of the segment being written; a torn or
//! corrupt record ends what is read of its segment (logged), and the next start writes to
//! a new segment.
//!
//! Segments are deleted oldest first, once every data record in them and in every older
//! segment is released: the release records of a kept segment always stay with the data
//! records they refer to, so recovery never sees a release without its record and never
//! loses one for a record it still has.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, IoSlice, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// The first bytes of every segment.
pub(crate) const MAGIC: &[u8; 8] = b"OTELWAL1";

/// Bytes before the checksummed part: `len` and `crc`.
const PREFIX: usize = 8;

/// Bytes of a record header: prefix, kind, seq, mask, items.
pub(crate) const HEADER: usize = PREFIX + 1 + 8 + 8 + 4;

/// The largest record body read back: anything larger is corruption, not data.
const MAX_BODY: usize = 1 << 30;

/// A segment is closed and a new one started past this size.
pub(crate) const SEGMENT_BYTES: u64 = 16 << 20;

/// At most this many old segments are emptied by moving their records at each rotation.
const RELOCATE_PER_ROTATION: usize = 4;

/// A head segment whose records are all released is cut back past this size (at once
/// after a failed write): truncating costs page cache work, so not after every record.
const RESET_BYTES: u64 = 4 << 20;

const DATA: u8 = 1;
const RELEASE: u8 = 2;

/// Where a live data record is and what it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Record {
    /// First seq of the segment holding it.
    pub(crate) segment: u64,
    /// Offset of its body in the segment.
    pub(crate) offset: u64,
    /// Length of its body.
    pub(crate) len: u32,
    /// Items (spans, data points, log records) in the body.
    pub(crate) items: u32,
    /// Exporters (manifest bits) that still need it.
    pub(crate) mask: u64,
}

struct Segment {
    file: File,
    len: u64,
    /// Data records in it not yet released by every exporter.
    live: usize,
}

/// What recovery found wrong, for the log and the tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Damage {
    /// `(segment file, offset, why)` of each torn or corrupt record: reading that segment
    /// stopped there.
    pub(crate) torn: Vec<(PathBuf, u64, String)>,
}

/// One open log directory.
pub(crate) struct Log {
    dir: PathBuf,
    /// Held for the lock, never read; `None` once closed.
    lock: Option<File>,
    segments: BTreeMap<u64, Segment>,
    records: BTreeMap<u64, Record>,
    /// Releases not yet written: they go out with the next append or [`Log::write_releases`].
    releases: Vec<u8>,
    head: u64,
    next_seq: u64,
    fsync: bool,
    /// A write failed (a full disk) since the head was last cut back.
    failed_write: bool,
}

fn segment_path(dir: &Path, first: u64) -> PathBuf {
    dir.join(format!("{first:020}.wal"))
}

/// A record's header for a body in `parts` (the checksum covers them in order).
fn header<B: AsRef<[u8]>>(kind: u8, seq: u64, mask: u64, items: u32, parts: &[B]) -> [u8; HEADER] {
    let mut h = [0u8; HEADER];
    let body: usize = parts.iter().map(|p| p.as_ref().len()).sum();
    let len = (HEADER - PREFIX + body) as u32;
    h[0..4].copy_from_slice(&len.to_le_bytes());
    h[8] = kind;
    h[9..17].copy_from_slice(&seq.to_le_bytes());
    h[17..25].copy_from_slice(&mask.to_le_bytes());
    h[25..29].copy_from_slice(&items.to_le_bytes());
    let crc = parts.iter().fold(crc32c::crc32c(&h[PREFIX..]), |c, p| {
        crc32c::crc32c_append(c, p.as_ref())
    });
    h[4..8].copy_from_slice(&crc.to_le_bytes());
    h
}

/// Writes all of `parts` with as few calls as the kernel allows (one, for a regular file).
fn write_all_vectored(file: &mut File, parts: &[&[u8]]) -> io::Result<()> {
    let mut parts: Vec<&[u8]> = parts.iter().copied().filter(|p| !p.is_empty()).collect();
    let mut first = 0;
    while first < parts.len() {
        let slices: Vec<IoSlice<'_>> = parts[first..].iter().map(|p| IoSlice::new(p)).collect();
        let mut n = match file.write_vectored(&slices) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        while first < parts.len() && n >= parts[first].len() {
            n -= parts[first].len();
            first += 1;
        }
        if n > 0 {
            parts[first] = &parts[first][n..];
        }
    }
    Ok(())
}

impl Log {
    /// Opens (creating) the log in `dir`: takes the lock, reads every segment, and starts a
    /// new segment to write to.
    ///
    /// # Errors
    ///
    /// The directory cannot be created or read, or another process holds its lock.
    pub(crate) fn open(dir: &Path, fsync: bool) -> io::Result<(Log, Damage)> {
        std::fs::create_dir_all(dir)?;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("LOCK"))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(io::Error::new(
                    io::ErrorKind::ResourceBusy,
                    format!(
                        "{} is in use by another collector (it holds the lock on {})",
                        dir.display(),
                        dir.join("LOCK").display()
                    ),
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
        let mut names: Vec<(u64, PathBuf)> = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            let first = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".wal"))
                .and_then(|n| n.parse::<u64>().ok());
            if let Some(first) = first {
                names.push((first, path));
            }
        }
        names.sort();
        let mut log = Log {
            dir: dir.to_owned(),
            lock: Some(lock),
            segments: BTreeMap::new(),
            records: BTreeMap::new(),
            releases: Vec::new(),
            head: 0,
            next_seq: 1,
            fsync,
            failed_write: false,
        };
        let mut damage = Damage::default();
        for (first, path) in names {
            log.recover_segment(first, &path, &mut damage)?;
            // The new head gets a name of its own even when a torn record's seq is reused.
            log.next_seq = log.next_seq.max(first + 1);
        }
        let head = log.next_seq;
        log.start_segment(head)?;
        log.collect();
        Ok((log, damage))
    }

    fn recover_segment(&mut self, first: u64, path: &Path, damage: &mut Damage) -> io::Result<()> {
        let data = std::fs::read(path)?;
        let file = OpenOptions::new().read(true).append(true).open(path)?;
        let mut seg = Segment {
            file,
            len: data.len() as u64,
            live: 0,
        };
        if data.len() < MAGIC.len() || &data[..MAGIC.len()] != MAGIC {
            damage
                .torn
                .push((path.to_owned(), 0, "not a log segment".to_owned()));
            self.segments.insert(first, seg);
            return Ok(());
        }
        let mut at = MAGIC.len();
        while at < data.len() {
            let why = match parse(&data[at..]) {
                Ok(Some((kind, seq, mask, items, body_at, end))) => {
                    match kind {
                        DATA => {
                            let prev = self.records.insert(
                                seq,
                                Record {
                                    segment: first,
                                    offset: (at + body_at) as u64,
                                    len: (end - body_at) as u32,
                                    items,
                                    mask,
                                },
                            );
                            if let Some(prev) = prev
                                && let Some(s) = self.segments.get_mut(&prev.segment)
                            {
                                s.live = s.live.saturating_sub(1);
                            }
                            seg.live += 1;
                        }
                        _ => {
                            if let Some(r) = self.records.get_mut(&seq) {
                                r.mask &= !mask;
                            }
                        }
                    }
                    self.next_seq = self.next_seq.max(seq + 1);
                    at += end;
                    continue;
                }
                Ok(None) => "torn record (the process stopped while writing it)".to_owned(),
                Err(why) => why,
            };
            damage.torn.push((path.to_owned(), at as u64, why));
            break;
        }
        self.segments.insert(first, seg);
        // Records whose every exporter released them are gone.
        let dead: Vec<u64> = self
            .records
            .iter()
            .filter(|(_, r)| r.mask == 0)
            .map(|(s, _)| *s)
            .collect();
        for seq in dead {
            self.forget(seq);
        }
        Ok(())
    }

    fn start_segment(&mut self, first: u64) -> io::Result<()> {
        let path = segment_path(&self.dir, first);
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create_new(true)
            .open(&path)?;
        let header = file.write_all(MAGIC).and_then(|()| {
            if self.fsync {
                file.sync_data()?;
                File::open(&self.dir)?.sync_all()?;
            }
            Ok(())
        });
        if let Err(e) = header {
            // A full disk: the next attempt must be able to create it again.
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
        self.segments.insert(
            first,
            Segment {
                file,
                len: MAGIC.len() as u64,
                live: 0,
            },
        );
        self.head = first;
        Ok(())
    }

    /// Appends a data record for the exporters of `mask` (with any pending releases) and
    /// returns its seq. On failure nothing of it stays in the segment.
    /// The body is the concatenation of `parts` (a payload's chunks: written with the
    /// header in one vectored write, never joined first).
    pub(crate) fn append<B: AsRef<[u8]>>(
        &mut self,
        mask: u64,
        items: u32,
        parts: &[B],
    ) -> io::Result<u64> {
        if self.lock.is_none() {
            return Err(io::Error::other("the persistent queue is closed"));
        }
        if self
            .segments
            .get(&self.head)
            .is_some_and(|s| s.len >= SEGMENT_BYTES)
        {
            self.rotate()?;
        }
        let seq = self.next_seq;
        self.write_data(seq, mask, items, parts)?;
        self.next_seq = seq + 1;
        Ok(seq)
    }

    /// Writes data record `seq` to the head (a new one, or a live one moved there) with any
    /// pending releases, and points the index at it.
    fn write_data<B: AsRef<[u8]>>(
        &mut self,
        seq: u64,
        mask: u64,
        items: u32,
        parts: &[B],
    ) -> io::Result<()> {
        let h = header(DATA, seq, mask, items, parts);
        let body: usize = parts.iter().map(|p| p.as_ref().len()).sum();
        let head = self.head;
        let releases = std::mem::take(&mut self.releases);
        let Some(seg) = self.segments.get_mut(&head) else {
            return Err(io::Error::other("the log has no segment to write to"));
        };
        let before = seg.len;
        let mut all: Vec<&[u8]> = Vec::with_capacity(parts.len() + 2);
        all.push(&releases);
        all.push(&h);
        all.extend(parts.iter().map(AsRef::as_ref));
        if let Err(e) = write_all_vectored(&mut seg.file, &all) {
            // Cut off what got written, so the segment ends on a whole record.
            let _ = seg.file.set_len(before);
            self.releases = releases;
            self.failed_write = true;
            return Err(e);
        }
        seg.len = before + (releases.len() + HEADER + body) as u64;
        seg.live += 1;
        let moved = self.records.insert(
            seq,
            Record {
                segment: head,
                offset: before + (releases.len() + HEADER) as u64,
                len: body as u32,
                items,
                mask,
            },
        );
        if let Some(old) = moved
            && let Some(s) = self.segments.get_mut(&old.segment)
        {
            s.live = s.live.saturating_sub(1);
        }
        Ok(())
    }

    /// Moves the live records of the oldest segments to the head while they are few (a
    /// quarter of the segment or less), so that one record an exporter is still retrying
    /// does not keep every later segment on disk. The moved copy keeps its seq and its
    /// current mask; recovery takes the later copy of a seq.
    fn relocate_sparse(&mut self) {
        for _ in 0..RELOCATE_PER_ROTATION {
            let Some((&first, seg)) = self.segments.first_key_value() else {
                return;
            };
            if first == self.head {
                return;
            }
            let live: Vec<(u64, Record)> = self
                .records
                .iter()
                .filter(|(_, r)| r.segment == first)
                .map(|(s, r)| (*s, *r))
                .collect();
            let bytes: u64 = live
                .iter()
                .map(|(_, r)| u64::from(r.len) + HEADER as u64)
                .sum();
            if bytes.saturating_mul(4) > seg.len {
                return;
            }
            for (seq, r) in live {
                let moved = self.read(seq).and_then(|body| match body {
                    Some(body) => self.write_data(seq, r.mask, r.items, &[body]),
                    None => Ok(()),
                });
                if let Err(e) = moved {
                    tracing::warn!(dir = %self.dir.display(), error = %e, "Cannot move a record out of an old log segment; it stays there.");
                    return;
                }
            }
            self.collect();
        }
    }

    fn rotate(&mut self) -> io::Result<()> {
        if self.fsync
            && let Some(seg) = self.segments.get(&self.head)
        {
            seg.file.sync_data()?;
        }
        let first = self.next_seq;
        self.start_segment(first)?;
        self.collect();
        self.relocate_sparse();
        Ok(())
    }

    /// The body of live record `seq`.
    pub(crate) fn read(&self, seq: u64) -> io::Result<Option<Vec<u8>>> {
        let Some(r) = self.records.get(&seq) else {
            return Ok(None);
        };
        let Some(seg) = self.segments.get(&r.segment) else {
            return Ok(None);
        };
        let mut buf = vec![0u8; r.len as usize];
        seg.file.read_exact_at(&mut buf, r.offset)?;
        Ok(Some(buf))
    }

    /// Live record `seq`.
    #[cfg(test)]
    pub(crate) fn record(&self, seq: u64) -> Option<Record> {
        self.records.get(&seq).copied()
    }

    /// Live records from `from` on, in order.
    pub(crate) fn records_from(&self, from: u64) -> impl Iterator<Item = (u64, Record)> + '_ {
        self.records.range(from..).map(|(s, r)| (*s, *r))
    }

    /// The exporters of `bits` are done with record `seq`; returns the bits that were still
    /// set. The release is written with the next append or [`Log::write_releases`]; a
    /// record nobody needs any more is forgotten, and segments nobody needs are deleted.
    pub(crate) fn release(&mut self, seq: u64, bits: u64) -> u64 {
        if self.lock.is_none() {
            // Closed: the files may belong to the next collector on the directory.
            return 0;
        }
        let Some(r) = self.records.get_mut(&seq) else {
            return 0;
        };
        let cleared = r.mask & bits;
        if cleared == 0 {
            return 0;
        }
        r.mask &= !bits;
        let gone = r.mask == 0;
        self.releases
            .extend_from_slice(&header::<&[u8]>(RELEASE, seq, cleared, 0, &[]));
        if gone {
            self.forget(seq);
            self.collect();
            if self.records.is_empty() && (self.failed_write || self.head_len() >= RESET_BYTES) {
                self.reset_head();
            }
        }
        cleared
    }

    fn head_len(&self) -> u64 {
        self.segments.get(&self.head).map_or(0, |s| s.len)
    }

    /// With every record released, the head is cut back to its header, so a log that
    /// filled the disk gives the space back without waiting for a rotation; releases
    /// pending for records that are gone are moot.
    fn reset_head(&mut self) {
        let Some(seg) = self.segments.get_mut(&self.head) else {
            return;
        };
        if seg.len == MAGIC.len() as u64 {
            return;
        }
        match seg.file.set_len(MAGIC.len() as u64) {
            Ok(()) => {
                seg.len = MAGIC.len() as u64;
                self.releases.clear();
                self.failed_write = false;
            }
            Err(e) => {
                tracing::warn!(dir = %self.dir.display(), error = %e, "Cannot cut back the log's head segment.");
            }
        }
    }

    fn forget(&mut self, seq: u64) {
        if let Some(r) = self.records.remove(&seq)
            && let Some(s) = self.segments.get_mut(&r.segment)
        {
            s.live = s.live.saturating_sub(1);
        }
    }

    /// Deletes the oldest segments while nothing in them is live (never the head).
    fn collect(&mut self) {
        while let Some((&first, seg)) = self.segments.first_key_value() {
            if first == self.head || seg.live > 0 {
                break;
            }
            self.segments.remove(&first);
            let path = segment_path(&self.dir, first);
            if let Err(e) = std::fs::remove_file(&path) {
                tracing::warn!(path = %path.display(), error = %e, "Cannot delete a log segment nobody needs.");
            }
        }
    }

    /// Writes pending releases now (they otherwise wait for the next append).
    pub(crate) fn write_releases(&mut self) -> io::Result<()> {
        if self.releases.is_empty() || self.lock.is_none() {
            return Ok(());
        }
        let releases = std::mem::take(&mut self.releases);
        let Some(seg) = self.segments.get_mut(&self.head) else {
            return Ok(());
        };
        let before = seg.len;
        if let Err(e) = write_all_vectored(&mut seg.file, &[&releases]) {
            let _ = seg.file.set_len(before);
            self.releases = releases;
            return Err(e);
        }
        seg.len = before + releases.len() as u64;
        Ok(())
    }

    /// Flushes the head segment to stable storage (`fsync: true`).
    pub(crate) fn sync(&self) -> io::Result<()> {
        match self.segments.get(&self.head) {
            Some(seg) => seg.file.sync_data(),
            None => Ok(()),
        }
    }

    /// A handle on the head segment for syncing outside the lock.
    pub(crate) fn head_file(&self) -> io::Result<File> {
        match self.segments.get(&self.head) {
            Some(seg) => seg.file.try_clone(),
            None => Err(io::Error::other("the log has no segment")),
        }
    }

    /// Writes pending releases and gives up the directory: from now on this log neither
    /// writes nor deletes anything, so another collector may open the directory.
    pub(crate) fn close(&mut self) -> io::Result<()> {
        let written = self.write_releases();
        let synced = if self.fsync { self.sync() } else { Ok(()) };
        self.lock = None;
        written.and(synced)
    }

    /// Bytes of all segments.
    pub(crate) fn disk_bytes(&self) -> u64 {
        self.segments.values().map(|s| s.len).sum()
    }

    /// Live data records.
    pub(crate) fn live_records(&self) -> usize {
        self.records.len()
    }

    /// The seq the next append gets.
    pub(crate) fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Segment files.
    pub(crate) fn segment_count(&self) -> usize {
        self.segments.len()
    }

    /// The directory.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }
}

/// One record at the start of `data`: `(kind, seq, mask, items, body offset, end)`, `None`
/// when `data` ends inside it (torn), `Err` when it is corrupt.
#[allow(clippy::type_complexity)]
fn parse(data: &[u8]) -> Result<Option<(u8, u64, u64, u32, usize, usize)>, String> {
    if data.len() < HEADER {
        return Ok(None);
    }
    let le32 = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let le64 = |b: &[u8]| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[..8]);
        u64::from_le_bytes(a)
    };
    let len = le32(&data[0..4]) as usize;
    if !(HEADER - PREFIX..=HEADER - PREFIX + MAX_BODY).contains(&len) {
        return Err(format!("impossible record length {len}"));
    }
    let end = PREFIX + len;
    if data.len() < end {
        return Ok(None);
    }
    let crc = le32(&data[4..8]);
    if crc32c::crc32c(&data[PREFIX..end]) != crc {
        return Err("checksum mismatch".to_owned());
    }
    let kind = data[8];
    if kind != DATA && kind != RELEASE {
        return Err(format!("unknown record kind {kind}"));
    }
    Ok(Some((
        kind,
        le64(&data[9..17]),
        le64(&data[17..25]),
        le32(&data[25..29]),
        HEADER,
        end,
    )))
}

/// The exporter ids the bits of a log's masks stand for: `exporters` in the log directory,
/// one id per line, only ever appended to, so that a bit never changes meaning while a
/// record that has it may be on disk.
pub(crate) fn manifest(dir: &Path, ids: &[&str], fsync: bool) -> io::Result<Vec<u64>> {
    let path = dir.join("exporters");
    let mut known: Vec<String> = match std::fs::read_to_string(&path) {
        Ok(s) => s.lines().map(str::to_owned).collect(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    let before = known.len();
    let mut bits = Vec::with_capacity(ids.len());
    for id in ids {
        let i = match known.iter().position(|k| k == id) {
            Some(i) => i,
            None => {
                known.push((*id).to_owned());
                known.len() - 1
            }
        };
        if i >= 64 {
            return Err(io::Error::other(format!(
                "{} has seen more than 64 exporters; remove the directory to start afresh",
                dir.display()
            )));
        }
        bits.push(1u64 << i);
    }
    if known.len() != before {
        let tmp = dir.join("exporters.tmp");
        let mut f = File::create(&tmp)?;
        f.write_all(known.join("\n").as_bytes())?;
        f.write_all(b"\n")?;
        if fsync {
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &path)?;
        if fsync {
            File::open(dir)?.sync_all()?;
        }
    }
    Ok(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    #[test]
    fn records_survive_a_reopen_until_released() {
        let dir = tmp();
        let (mut log, damage) = Log::open(dir.path(), false).unwrap();
        assert_eq!(damage, Damage::default());
        // A body in pieces is one record.
        let a = log.append(0b11, 2, &[&b"fi"[..], &b"rst"[..]]).unwrap();
        let b = log.append(0b01, 1, &[b"second"]).unwrap();
        assert_eq!(log.release(a, 0b01), 0b01);
        assert_eq!(log.release(b, 0b01), 0b01, "b is gone");
        drop(log);
        let (log, damage) = Log::open(dir.path(), false).unwrap();
        assert!(damage.torn.is_empty());
        // The releases were never written (no append after them): both come back whole.
        let live: Vec<_> = log.records_from(0).map(|(s, r)| (s, r.mask)).collect();
        assert_eq!(live, vec![(a, 0b11), (b, 0b01)]);
        assert_eq!(log.read(a).unwrap().unwrap(), b"first");
        assert_eq!(log.record(a).unwrap().items, 2);
        assert!(log.next_seq() > b);
    }

    #[test]
    fn written_releases_are_not_replayed_and_dead_segments_go() {
        let dir = tmp();
        let (mut log, _) = Log::open(dir.path(), false).unwrap();
        let a = log.append(1, 1, &[b"x"]).unwrap();
        log.release(a, 1);
        log.write_releases().unwrap();
        drop(log);
        let (log, _) = Log::open(dir.path(), false).unwrap();
        assert_eq!(log.live_records(), 0);
        // The old segment held nothing live: only the new head is left.
        assert_eq!(log.segment_count(), 1);
    }

    #[test]
    fn a_second_collector_on_the_directory_is_refused_until_the_first_closes() {
        let dir = tmp();
        let (mut first, _) = Log::open(dir.path(), false).unwrap();
        let a = first.append(1, 1, &[b"a"]).unwrap();
        let err = Log::open(dir.path(), false).err().unwrap();
        assert_eq!(err.kind(), io::ErrorKind::ResourceBusy);
        assert!(
            err.to_string().contains("in use by another collector"),
            "{err}"
        );
        first.close().unwrap();
        let (second, _) = Log::open(dir.path(), false).unwrap();
        // The closed log touches nothing any more: a late release neither writes nor
        // deletes the segment the second one reads.
        assert_eq!(first.release(a, 1), 0);
        assert!(first.append(1, 1, &[b"b"]).is_err());
        assert_eq!(second.read(a).unwrap().unwrap(), b"a");
    }

    #[test]
    fn a_torn_tail_is_reported_and_the_rest_kept() {
        let dir = tmp();
        let (mut log, _) = Log::open(dir.path(), false).unwrap();
        log.append(1, 1, &[b"kept"]).unwrap();
        log.append(1, 1, &[b"torn away"]).unwrap();
        let path = segment_path(dir.path(), log.head);
        drop(log);
        let len = std::fs::metadata(&path).unwrap().len();
        let f = OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(len - 3).unwrap();
        let (mut log, damage) = Log::open(dir.path(), false).unwrap();
        assert_eq!(damage.torn.len(), 1, "{damage:?}");
        assert!(damage.torn[0].2.contains("torn"));
        let bodies: Vec<_> = log
            .records_from(0)
            .map(|(s, _)| log.read(s).unwrap().unwrap())
            .collect();
        assert_eq!(bodies, vec![b"kept".to_vec()]);
        // New records go to a new segment and get new seqs.
        let c = log.append(1, 1, &[b"after"]).unwrap();
        drop(log);
        let (log, _) = Log::open(dir.path(), false).unwrap();
        assert_eq!(log.read(c).unwrap().unwrap(), b"after");
        assert_eq!(log.live_records(), 2);
    }

    #[test]
    fn a_corrupt_record_is_reported_and_never_crashes() {
        let dir = tmp();
        let (mut log, _) = Log::open(dir.path(), false).unwrap();
        log.append(1, 1, &[b"good"]).unwrap();
        let bad = log.append(1, 1, &[b"flipped"]).unwrap();
        let r = log.record(bad).unwrap();
        let path = segment_path(dir.path(), r.segment);
        drop(log);
        let f = OpenOptions::new().write(true).open(&path).unwrap();
        f.write_at(b"X", r.offset + 2).unwrap();
        let (log, damage) = Log::open(dir.path(), false).unwrap();
        assert!(damage.torn[0].2.contains("checksum"), "{damage:?}");
        assert_eq!(log.live_records(), 1);
        // Garbage where a segment should be.
        drop(log);
        std::fs::write(dir.path().join("00000000000000000099.wal"), b"garbage!!").unwrap();
        let (_, damage) = Log::open(dir.path(), false).unwrap();
        assert!(
            damage
                .torn
                .iter()
                .any(|t| t.2.contains("not a log segment"))
        );
    }

    #[test]
    fn segments_rotate_and_the_oldest_go_when_released() {
        let dir = tmp();
        let (mut log, _) = Log::open(dir.path(), true).unwrap();
        let body = vec![7u8; (SEGMENT_BYTES / 2) as usize];
        let seqs: Vec<u64> = (0..5)
            .map(|_| log.append(1, 1, &[&body]).unwrap())
            .collect();
        assert!(log.segment_count() >= 3);
        // Releasing a middle one deletes nothing: the oldest is still live.
        log.release(seqs[2], 1);
        let before = log.segment_count();
        assert_eq!(log.segment_count(), before);
        for s in &seqs[..4] {
            log.release(*s, 1);
        }
        assert!(log.segment_count() < before);
        assert_eq!(log.live_records(), 1);
        assert!(log.disk_bytes() < 2 * SEGMENT_BYTES);
    }

    #[test]
    fn a_fully_released_log_gives_its_space_back() {
        let dir = tmp();
        let (mut log, _) = Log::open(dir.path(), false).unwrap();
        let small = log.append(1, 1, &[b"small"]).unwrap();
        log.release(small, 1);
        assert!(
            log.disk_bytes() > MAGIC.len() as u64,
            "small heads are left alone"
        );
        let a = log.append(1, 1, &[&[1u8; 3 << 20]]).unwrap();
        let b = log.append(1, 1, &[&[2u8; 2 << 20]]).unwrap();
        log.release(a, 1);
        assert!(log.disk_bytes() > 5 << 20);
        log.release(b, 1);
        assert_eq!(log.disk_bytes(), MAGIC.len() as u64);
        // Appends go on at the cut, and a reopen finds only them.
        let c = log.append(1, 1, &[b"c"]).unwrap();
        drop(log);
        let (log, damage) = Log::open(dir.path(), false).unwrap();
        assert!(damage.torn.is_empty());
        let live: Vec<u64> = log.records_from(0).map(|(s, _)| s).collect();
        assert_eq!(live, vec![c]);
    }

    #[test]
    fn one_old_record_does_not_keep_later_segments() {
        let dir = tmp();
        let (mut log, _) = Log::open(dir.path(), false).unwrap();
        let pinned = log.append(0b11, 3, &[b"still being retried"]).unwrap();
        log.release(pinned, 0b01);
        let body = vec![7u8; (SEGMENT_BYTES / 4) as usize];
        let mut last = 0;
        for _ in 0..40 {
            last = log.append(1, 1, &[&body]).unwrap();
            log.release(last, 1);
        }
        // Ten segments' worth written; the pinned record moved along instead of keeping
        // them all.
        assert!(log.segment_count() <= 3, "{} segments", log.segment_count());
        assert_eq!(log.read(pinned).unwrap().unwrap(), b"still being retried");
        let r = log.record(pinned).unwrap();
        assert_eq!((r.mask, r.items), (0b10, 3));
        drop(log);
        // Reopened: one copy of it, with its mask; releasing it empties the log.
        let (mut log, damage) = Log::open(dir.path(), false).unwrap();
        assert!(damage.torn.is_empty());
        let live: Vec<(u64, u64)> = log.records_from(0).map(|(s, r)| (s, r.mask)).collect();
        // The last release was still pending (written with the next append): that record
        // comes back too, as at-least-once allows.
        assert_eq!(live, vec![(pinned, 0b10), (last, 1)]);
        log.release(pinned, 0b10);
        assert!(log.records_from(0).all(|(s, _)| s != pinned));
    }

    #[test]
    fn the_manifest_only_grows() {
        let dir = tmp();
        std::fs::create_dir_all(dir.path()).unwrap();
        assert_eq!(
            manifest(dir.path(), &["otlp", "awss3"], false).unwrap(),
            vec![1, 2]
        );
        // A removed exporter keeps its bit; a new one gets the next.
        assert_eq!(
            manifest(dir.path(), &["awss3", "file"], false).unwrap(),
            vec![2, 4]
        );
        assert_eq!(manifest(dir.path(), &["otlp"], false).unwrap(), vec![1]);
    }
}
