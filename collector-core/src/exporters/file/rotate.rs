//! Size-based rotation as lumberjack (and its fork timberjack, which contrib's file exporter
//! uses) does it: the file is opened lazily on the first write, appended to while it has
//! room, renamed to `<name>-<timestamp><ext>` when a write would overflow it, and backups
//! beyond `max_backups` or older than `max_days` are deleted.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::RotationConfig;

/// lumberjack's `megabyte`: sizes are in MiB.
const MEGABYTE: i64 = 1024 * 1024;

/// lumberjack's default `MaxSize` (MB) when the setting is 0.
const DEFAULT_MAX_MEGABYTES: i64 = 100;

/// Where "now" comes from; tests pin it to name backups deterministically.
pub(super) type Clock = fn() -> SystemTime;

/// A file that rotates by size, as `lumberjack.Logger`. Writes are not buffered (the Go
/// exporter writes to the logger directly, without its `bufio` wrapper).
#[derive(Debug)]
pub(super) struct Rotator {
    /// The current file; backups are named after it in the same directory.
    path: PathBuf,
    /// Rotate before a write that would take the file past this many bytes. Negative (a
    /// negative `max_megabytes`) makes every write fail, as in Go.
    max_bytes: i64,
    /// Backups kept (`<= 0`: all).
    max_backups: i64,
    /// Backups older than this many days are deleted (`<= 0`: never).
    max_days: i64,
    /// Local time in backup names.
    localtime: bool,
    /// "Now", for backup names and ages.
    clock: Clock,
    /// Open after the first write.
    file: Option<File>,
    /// Bytes in the current file, as lumberjack counts them.
    size: i64,
}

impl Rotator {
    /// A rotator for `path`; nothing is opened until the first write.
    pub(super) fn new(path: &Path, cfg: &RotationConfig, clock: Clock) -> Rotator {
        let mb = if cfg.max_megabytes == 0 {
            DEFAULT_MAX_MEGABYTES
        } else {
            cfg.max_megabytes
        };
        Rotator {
            path: path.to_owned(),
            max_bytes: mb.saturating_mul(MEGABYTE),
            max_backups: cfg.max_backups,
            max_days: cfg.max_days,
            localtime: cfg.localtime,
            clock,
            file: None,
            size: 0,
        }
    }

    /// A rotator with the limit in bytes, so tests rotate without writing megabytes.
    #[cfg(test)]
    pub(super) fn with_max_bytes(mut self, max_bytes: i64) -> Rotator {
        self.max_bytes = max_bytes;
        self
    }

    /// Writes one whole message, rotating first when it would not fit.
    pub(super) fn write(&mut self, msg: &[u8]) -> io::Result<()> {
        let len = i64::try_from(msg.len()).unwrap_or(i64::MAX);
        if len > self.max_bytes {
            return Err(io::Error::other(format!(
                "write length {len} exceeds maximum file size {}",
                self.max_bytes
            )));
        }
        if self.file.is_none() {
            self.open_existing_or_new(len)?;
        }
        if self.size + len > self.max_bytes {
            self.rotate()?;
        }
        let Some(f) = self.file.as_mut() else {
            return Err(io::Error::other("rotated file is not open"));
        };
        // Counted even when the write fails part-way, as lumberjack counts what was written;
        // `write_all` cannot say how much, so count all of it and let the next write rotate.
        self.size += len;
        f.write_all(msg)
    }

    /// Closes the file (writes are unbuffered, so there is nothing to flush).
    pub(super) fn close(&mut self) {
        self.file = None;
    }

    /// Appends to the existing file while it has room for the first write (lumberjack's
    /// `openExistingOrNew`: `>=` here, where `write` rotates on `>`).
    fn open_existing_or_new(&mut self, len: i64) -> io::Result<()> {
        self.prune();
        let meta = match std::fs::metadata(&self.path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return self.open_new(),
            Err(e) => {
                return Err(io::Error::other(format!(
                    "error getting log file info: {e}"
                )));
            }
        };
        let size = i64::try_from(meta.len()).unwrap_or(i64::MAX);
        if size.saturating_add(len) >= self.max_bytes {
            return self.rotate();
        }
        match OpenOptions::new().append(true).open(&self.path) {
            Ok(f) => {
                self.file = Some(f);
                self.size = size;
                Ok(())
            }
            // As lumberjack: an old file that cannot be opened is moved aside.
            Err(_) => self.open_new(),
        }
    }

    /// Closes the current file, moves it aside and starts a new one, then prunes.
    fn rotate(&mut self) -> io::Result<()> {
        self.close();
        self.open_new()?;
        self.prune();
        Ok(())
    }

    /// Moves the current file (if any) to its backup name and starts an empty one. A new
    /// file gets mode 0600, or the mode of the file it replaces (lumberjack's `openNew`).
    fn open_new(&mut self) -> io::Result<()> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o755)
                .create(dir)
                .map_err(|e| {
                    io::Error::other(format!("can't make directories for new logfile: {e}"))
                })?;
        }
        let mut mode = 0o600;
        if let Ok(meta) = std::fs::metadata(&self.path) {
            mode = meta.permissions().mode() & 0o7777;
            let backup = backup_name(&self.path, (self.clock)(), self.localtime);
            std::fs::rename(&self.path, &backup)
                .map_err(|e| io::Error::other(format!("can't rename log file: {e}")))?;
        }
        let f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&self.path)
            .map_err(|e| io::Error::other(format!("can't open new logfile: {e}")))?;
        self.file = Some(f);
        self.size = 0;
        Ok(())
    }

    /// Deletes backups beyond `max_backups` (newest kept) and older than `max_days`
    /// (lumberjack's `millRunOnce`, run in line rather than in a goroutine). Failures are
    /// logged: pruning never fails a write.
    fn prune(&self) {
        if self.max_backups <= 0 && self.max_days <= 0 {
            return;
        }
        let Some(name) = self.path.file_name().and_then(|n| n.to_str()) else {
            return;
        };
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
            _ => PathBuf::from("."),
        };
        let (stem, ext) = split_ext(name);
        let prefix = format!("{stem}-");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return;
        };
        let mut backups: Vec<(i64, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| !t.is_dir()))
            .filter_map(|e| {
                let n = e.file_name().into_string().ok()?;
                let ts = n.strip_prefix(&prefix)?.strip_suffix(ext)?;
                Some((parse_timestamp(ts)?, e.path()))
            })
            .collect();
        // Newest first, as lumberjack's `byFormatTime`.
        backups.sort_by_key(|b| std::cmp::Reverse(b.0));
        let mut remove = Vec::new();
        if self.max_backups > 0 && backups.len() as i64 > self.max_backups {
            remove.extend(backups.split_off(self.max_backups as usize));
        }
        if self.max_days > 0 {
            let now = millis_since_epoch((self.clock)());
            let cutoff = now.saturating_sub(self.max_days.saturating_mul(86_400_000));
            let (old, _kept): (Vec<_>, Vec<_>) = backups.into_iter().partition(|b| b.0 < cutoff);
            remove.extend(old);
        }
        for (_, p) in remove {
            if let Err(e) = std::fs::remove_file(&p) {
                tracing::warn!(file = %p.display(), error = %e, "Cannot delete an old rotated file.");
            }
        }
    }
}

/// `name.ext` → (`name`, `.ext`), as Go's `filepath.Ext` splits: at the last dot.
fn split_ext(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(i) => name.split_at(i),
        None => (name, ""),
    }
}

/// `<dir>/<name>-<2006-01-02T15-04-05.000><ext>`, in UTC unless `localtime`.
pub(super) fn backup_name(path: &Path, now: SystemTime, localtime: bool) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (stem, ext) = split_ext(&name);
    let stamp = format_timestamp(now, localtime);
    path.with_file_name(format!("{stem}-{stamp}{ext}"))
}

/// Calendar fields of an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Civil {
    /// Proleptic Gregorian year.
    year: i64,
    /// 1 to 12.
    month: u32,
    /// 1 to 31.
    day: u32,
    /// 0 to 23.
    hour: u32,
    /// 0 to 59.
    minute: u32,
    /// 0 to 59.
    second: u32,
}

/// Milliseconds since the Unix epoch (negative before it).
fn millis_since_epoch(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

/// Go's `2006-01-02T15-04-05.000` layout.
pub(super) fn format_timestamp(t: SystemTime, localtime: bool) -> String {
    let ms = millis_since_epoch(t);
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let c = if localtime {
        local_civil(secs).unwrap_or_else(|| utc_civil(secs))
    } else {
        utc_civil(secs)
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}-{:02}-{:02}.{millis:03}",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

/// The instant a backup name's timestamp denotes, read as UTC (lumberjack parses with
/// `time.Parse`, so local-time names are read as UTC too), in milliseconds.
fn parse_timestamp(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 23
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b'-'
        || b[16] != b'-'
        || b[19] != b'.'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let d = s.get(r)?;
        if !d.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        d.parse().ok()
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second, millis) = (num(11..13)?, num(14..16)?, num(17..19)?, num(20..23)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let days = days_from_civil(year, month as u32, day as u32);
    Some(((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millis)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The UTC calendar fields of `secs` since the epoch (the inverse of `days_from_civil`).
fn utc_civil(secs: i64) -> Civil {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    Civil {
        year,
        month,
        day,
        hour: (rem / 3600) as u32,
        minute: (rem % 3600 / 60) as u32,
        second: (rem % 60) as u32,
    }
}

/// The local calendar fields of `secs` (the process's `TZ`), via `localtime_r`.
fn local_civil(secs: i64) -> Option<Civil> {
    let t = libc::time_t::try_from(secs).ok()?;
    // SAFETY: `tm` is plain data; all-zero is a valid value to be overwritten.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the call; `localtime_r` is the thread-safe form.
    let r = unsafe { libc::localtime_r(&t, &mut tm) };
    if r.is_null() {
        return None;
    }
    Some(Civil {
        year: i64::from(tm.tm_year) + 1900,
        month: u32::try_from(tm.tm_mon + 1).ok()?,
        day: u32::try_from(tm.tm_mday).ok()?,
        hour: u32::try_from(tm.tm_hour).ok()?,
        minute: u32::try_from(tm.tm_min).ok()?,
        // A leap second (60) is shown as 59, as Go never produces 60.
        second: u32::try_from(tm.tm_sec.min(59)).ok()?,
    })
}

/// A clock for tests: a fixed instant.
#[cfg(test)]
pub(super) fn at(ms: u64) -> SystemTime {
    UNIX_EPOCH + std::time::Duration::from_millis(ms)
}

/// The real clock.
pub(super) fn now() -> SystemTime {
    SystemTime::now()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// 2026-11-26T03:04:05.123Z
    const T: u64 = 1_795_662_245_123;

    fn t_clock() -> SystemTime {
        at(T)
    }

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "collector-file-rotate-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn utc_formatting_and_parsing_round_trip() {
        assert_eq!(format_timestamp(at(T), false), "2026-11-26T03-04-05.123");
        assert_eq!(format_timestamp(at(0), false), "1970-01-01T00-00-00.000");
        assert_eq!(
            format_timestamp(at(951_782_400_000), false),
            "2000-02-29T00-00-00.000"
        );
        for ms in [0, T, 951_782_400_000, 4_102_444_799_999] {
            let s = format_timestamp(at(ms), false);
            assert_eq!(parse_timestamp(&s), Some(ms as i64), "{s}");
        }
        assert_eq!(parse_timestamp("2026-11-26T03-04-05"), None);
        assert_eq!(parse_timestamp("2026-13-26T03-04-05.123"), None);
        assert_eq!(parse_timestamp("2026-1x-26T03-04-05.123"), None);
    }

    #[test]
    fn local_time_formats_a_whole_timestamp() {
        let s = format_timestamp(at(T), true);
        assert_eq!(s.len(), 23);
        assert!(parse_timestamp(&s).is_some(), "{s}");
        assert!(s.ends_with(".123"));
    }

    #[test]
    fn backup_names_keep_the_extension() {
        let p = Path::new("/x/data.json");
        assert_eq!(
            backup_name(p, at(T), false),
            Path::new("/x/data-2026-11-26T03-04-05.123.json")
        );
        assert_eq!(
            backup_name(Path::new("out.tar.gz"), at(T), false),
            Path::new("out.tar-2026-11-26T03-04-05.123.gz")
        );
        assert_eq!(
            backup_name(Path::new("d/plain"), at(T), false),
            Path::new("d/plain-2026-11-26T03-04-05.123")
        );
    }

    #[test]
    fn rotates_before_the_write_that_would_overflow() {
        let d = tmp("overflow");
        let path = d.join("data.json");
        let mut r = Rotator::new(&path, &RotationConfig::default(), t_clock).with_max_bytes(10);
        r.write(b"12345").unwrap();
        r.write(b"67890").unwrap(); // exactly full: no rotation
        r.write(b"abc").unwrap();
        r.close();
        assert_eq!(
            names(&d),
            ["data-2026-11-26T03-04-05.123.json", "data.json"]
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"abc");
        assert_eq!(
            std::fs::read(d.join("data-2026-11-26T03-04-05.123.json")).unwrap(),
            b"1234567890"
        );
        let err = Rotator::new(&path, &RotationConfig::default(), t_clock)
            .with_max_bytes(2)
            .write(b"abc")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "write length 3 exceeds maximum file size 2"
        );
    }

    #[test]
    fn an_existing_file_is_appended_to_while_it_has_room() {
        let d = tmp("existing");
        let path = d.join("data.json");
        std::fs::write(&path, b"old").unwrap();
        let mut r = Rotator::new(&path, &RotationConfig::default(), t_clock).with_max_bytes(10);
        r.write(b"new").unwrap();
        r.close();
        assert_eq!(std::fs::read(&path).unwrap(), b"oldnew");
        // Full on open (`>=`): moved aside first.
        let mut r = Rotator::new(&path, &RotationConfig::default(), t_clock).with_max_bytes(10);
        r.write(b"four").unwrap();
        r.close();
        assert_eq!(std::fs::read(&path).unwrap(), b"four");
        assert_eq!(names(&d).len(), 2);
    }

    #[test]
    fn new_files_are_0600_or_keep_the_old_mode() {
        let d = tmp("mode");
        let path = d.join("m.log");
        let mut r = Rotator::new(&path, &RotationConfig::default(), t_clock).with_max_bytes(4);
        r.write(b"abcd").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        r.write(b"e").unwrap();
        assert_eq!(mode(&path), 0o640);
    }

    #[test]
    fn prunes_to_max_backups_newest_kept_and_by_age() {
        let d = tmp("prune");
        let path = d.join("data.json");
        // Backups of five different days, an unrelated file and a malformed name.
        for day in 20..25 {
            std::fs::write(
                d.join(format!("data-2026-11-{day}T00-00-00.000.json")),
                b"x",
            )
            .unwrap();
        }
        std::fs::write(d.join("other-2026-11-01T00-00-00.000.json"), b"x").unwrap();
        std::fs::write(d.join("data-yesterday.json"), b"x").unwrap();
        let cfg = RotationConfig {
            max_backups: 3,
            max_days: 4,
            ..RotationConfig::default()
        };
        let mut r = Rotator::new(&path, &cfg, t_clock).with_max_bytes(100);
        r.write(b"x").unwrap();
        // Newest three kept by count (20 and 21 go); of those, 2026-11-22T00:00 is more
        // than 4 days before 2026-11-26T03:04.
        assert_eq!(
            names(&d),
            [
                "data-2026-11-23T00-00-00.000.json",
                "data-2026-11-24T00-00-00.000.json",
                "data-yesterday.json",
                "data.json",
                "other-2026-11-01T00-00-00.000.json",
            ]
        );
    }

    #[test]
    fn zero_max_megabytes_means_100_mib_and_negative_refuses_writes() {
        let d = tmp("limits");
        let r = Rotator::new(&d.join("a"), &RotationConfig::default(), t_clock);
        assert_eq!(r.max_bytes, 100 * MEGABYTE);
        let cfg = RotationConfig {
            max_megabytes: -1,
            ..RotationConfig::default()
        };
        let mut r = Rotator::new(&d.join("a"), &cfg, t_clock);
        assert!(r.write(b"x").is_err());
    }
}
