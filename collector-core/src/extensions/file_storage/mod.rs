//! The `file_storage` extension (contrib `extension/storage/filestorage`, v0.138 keys):
//! where persistent queues keep their logs.
//!
//! Go's extension hands each component a bbolt file; ours hands each pipeline that has an
//! exporter with `sending_queue::storage` naming it a write-ahead log directory
//! (`storage/`). The keys are Go's; `compaction` is accepted and validated, and the log
//! compacts by deleting segments nothing needs (docs/guarantees.md).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::config::component::{ComponentConfig, ComponentType, ConfigFactory, decode};
use crate::config::validate::{Problems, Validate};
use crate::config::{Duration, Kind};
use crate::pipeline::BoxFuture;
use crate::pipeline::build::{Build, Context, Extension, Factory};
use crate::storage::Storage;
use crate::{Error, ErrorKind, Signal};

/// The `file_storage` extension type.
pub(crate) static FACTORY: Factory = Factory {
    config: ConfigFactory {
        kind: Kind::Extension,
        name: "file_storage",
        aliases: &[],
        signals: &Signal::ALL,
        decode: decode::<FileStorageConfig>,
    },
    build: Build::Extension(build),
};

impl ComponentType for FileStorageConfig {}

/// Go's default `directory` on Linux (contrib `default_others.go`).
const DEFAULT_DIRECTORY: &str = "/var/lib/otelcol/file_storage";

/// `compaction` (contrib `CompactionConfig`): accepted and validated; the log compacts by
/// deleting released segments whatever these say.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct CompactionConfig {
    /// Compact when starting.
    pub on_start: bool,
    /// Compact when usage falls back.
    pub on_rebound: bool,
    /// Where compaction writes its temporary files.
    pub directory: String,
    /// Usage above which a rebound is watched for (MiB).
    pub rebound_needed_threshold_mib: i64,
    /// Usage below which a watched rebound compacts (MiB).
    pub rebound_trigger_threshold_mib: i64,
    /// Largest compaction transaction.
    pub max_transaction_size: i64,
    /// How often a rebound is checked for.
    pub check_interval: Duration,
    /// Remove leftover temporary files when starting.
    pub cleanup_on_start: bool,
}

impl Default for CompactionConfig {
    fn default() -> Self {
        CompactionConfig {
            on_start: false,
            on_rebound: false,
            directory: DEFAULT_DIRECTORY.to_owned(),
            rebound_needed_threshold_mib: 100,
            rebound_trigger_threshold_mib: 10,
            max_transaction_size: 65536,
            check_interval: Duration::from_secs(5),
            cleanup_on_start: false,
        }
    }
}

/// `file_storage` configuration.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct FileStorageConfig {
    /// Where the logs are.
    pub directory: String,
    /// How long opening a log waits for its directory's lock (Go: for bbolt's file lock),
    /// and how long an acknowledgement waits for its commit with `fsync`.
    pub timeout: Duration,
    /// Make every acknowledgement wait for the data to be on stable storage.
    pub fsync: bool,
    /// Create `directory` when missing.
    pub create_directory: bool,
    /// Permissions of a created directory (octal), before the umask.
    pub directory_permissions: String,
    /// Go renames a database bbolt cannot open and starts afresh; our log skips what it
    /// cannot read (logged) and keeps the rest, so this changes nothing.
    pub recreate: bool,
    /// Compaction settings (accepted, validated).
    pub compaction: CompactionConfig,
}

impl Default for FileStorageConfig {
    fn default() -> Self {
        FileStorageConfig {
            directory: DEFAULT_DIRECTORY.to_owned(),
            timeout: Duration::from_secs(1),
            fsync: false,
            create_directory: false,
            directory_permissions: "0750".to_owned(),
            recreate: false,
            compaction: CompactionConfig::default(),
        }
    }
}

impl FileStorageConfig {
    /// `directory_permissions` as mode bits (valid only with `create_directory`, as in Go).
    fn permissions(&self) -> Result<u32, &'static str> {
        let perm = u32::from_str_radix(self.directory_permissions.trim_start_matches("0o"), 8)
            .map_err(|_| "directory_permissions value must be a valid octal representation")?;
        if perm & !0o777 != 0 {
            return Err("directory_permissions contain invalid bits for file access");
        }
        Ok(perm)
    }
}

/// Go's checks of one directory (contrib `config.go`, `Validate`), with its messages.
fn check_directory(p: &mut Problems, key: &str, dir: &str, create: bool) {
    match std::fs::metadata(dir) {
        Ok(m) if !m.is_dir() => p.key(key, format!("{dir} is not a directory")),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if !create {
                p.key(
                    key,
                    format!(
                        "directory must exist: stat {dir}: no such file or directory. You can enable the create_directory option to automatically create it"
                    ),
                );
            }
        }
        Err(e) => p.key(
            key,
            format!("problem accessing configured directory: {dir}, err: {e}"),
        ),
    }
}

impl Validate for FileStorageConfig {
    fn validate(&self, p: &mut Problems) {
        check_directory(p, "directory", &self.directory, self.create_directory);
        let c = &self.compaction;
        if c.on_start || c.on_rebound {
            check_directory(
                p,
                "compaction::directory",
                &c.directory,
                self.create_directory,
            );
        }
        if c.max_transaction_size < 0 {
            p.key(
                "compaction::max_transaction_size",
                "max transaction size for compaction cannot be less than 0",
            );
        }
        if c.on_rebound && c.check_interval.as_nanos() <= 0 {
            p.key(
                "compaction::check_interval",
                "compaction check interval must be positive when rebound compaction is set",
            );
        }
        if self.create_directory
            && let Err(e) = self.permissions()
        {
            p.key("directory_permissions", e);
        }
        if self.timeout.is_negative() {
            p.key("timeout", "'timeout' must be non-negative");
        }
    }
}

/// The running extension: the storage persistent queues open their logs in.
struct FileStorage {
    storage: Arc<Storage>,
}

impl Extension for FileStorage {
    fn shutdown(&self, _grace: std::time::Duration) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn storage(&self) -> Option<Arc<Storage>> {
        Some(self.storage.clone())
    }
}

fn create(dir: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(dir)
}

fn build(ctx: &Context<'_>, cfg: &dyn ComponentConfig) -> Result<Box<dyn Extension>, Error> {
    let cfg = cfg.get::<FileStorageConfig>()?;
    let directory = PathBuf::from(&cfg.directory);
    if cfg.create_directory {
        let mode = cfg.permissions().unwrap_or(0o750);
        create(&directory, mode).map_err(|e| {
            Error::with_source(
                ErrorKind::Io,
                format!(
                    "extension {}: cannot create directory {}: {e}",
                    ctx.id, cfg.directory
                ),
                e,
            )
        })?;
    }
    // A timeout of 0 means wait forever in Go (bbolt); an acknowledgement still needs a
    // bound, so it waits as long as a request may.
    let timeout = match cfg.timeout.to_std() {
        t if t.is_zero() => std::time::Duration::from_secs(300),
        t => t,
    };
    Ok(Box::new(FileStorage {
        storage: Arc::new(Storage {
            directory,
            fsync: cfg.fsync,
            timeout,
        }),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(c: &FileStorageConfig) -> Vec<String> {
        let mut p = Problems::default();
        Validate::validate(c, &mut p);
        p.0.iter().map(|x| format!("{x:?}")).collect()
    }

    #[test]
    fn go_defaults_and_checks() {
        let d = FileStorageConfig::default();
        assert_eq!(d.directory, "/var/lib/otelcol/file_storage");
        assert_eq!(d.timeout, Duration::from_secs(1));
        assert!(!d.fsync && !d.create_directory && !d.recreate);
        assert_eq!(d.directory_permissions, "0750");
        assert_eq!(d.compaction.max_transaction_size, 65536);
        let tmp = tempfile::tempdir().unwrap();
        let missing = tmp.path().join("missing").display().to_string();
        let c = FileStorageConfig {
            directory: missing.clone(),
            ..FileStorageConfig::default()
        };
        let p = problems(&c);
        assert!(p[0].contains("directory must exist"), "{p:?}");
        assert!(p[0].contains("create_directory"), "{p:?}");
        // Created on demand; permissions are checked only then.
        let c = FileStorageConfig {
            directory: missing,
            create_directory: true,
            directory_permissions: "0778".into(),
            ..FileStorageConfig::default()
        };
        let p = problems(&c);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains("valid octal"), "{p:?}");
        let c = FileStorageConfig {
            directory_permissions: "07771".into(),
            ..c
        };
        assert!(problems(&c)[0].contains("invalid bits"));
        let c = FileStorageConfig {
            directory_permissions: "nonsense".into(),
            create_directory: false,
            directory: tmp.path().display().to_string(),
            ..FileStorageConfig::default()
        };
        assert!(problems(&c).is_empty());
        // A file where the directory should be.
        let file = tmp.path().join("f");
        std::fs::write(&file, b"").unwrap();
        let c = FileStorageConfig {
            directory: file.display().to_string(),
            ..FileStorageConfig::default()
        };
        assert!(problems(&c)[0].contains("is not a directory"));
        let c = FileStorageConfig {
            directory: tmp.path().display().to_string(),
            compaction: CompactionConfig {
                on_rebound: true,
                check_interval: Duration::from_secs(0),
                max_transaction_size: -1,
                directory: tmp.path().display().to_string(),
                ..CompactionConfig::default()
            },
            ..FileStorageConfig::default()
        };
        let p = problems(&c);
        assert!(
            p.iter().any(|x| x.contains("cannot be less than 0")),
            "{p:?}"
        );
        assert!(
            p.iter()
                .any(|x| x.contains("check interval must be positive")),
            "{p:?}"
        );
    }

    #[test]
    fn create_directory_uses_the_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        create(&dir, 0o700).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & !0o700, 0, "{mode:o}");
    }
}
