//! The SQLite file under a running store: created once, owner-only, and
//! watched, so that a moved, deleted or replaced file is never written to
//! behind the operator's back.
//!
//! - The file is created (mode 0600) only when the store first connects and
//!   it does not exist; connections never create it afterwards (a file moved
//!   away is not silently replaced by an empty, world-readable one).
//! - Before a pooled connection is handed out, the file's identity (device
//!   and inode) is checked: a file that is gone makes the connection close
//!   (the request answers 503, and `/healthz`'s ping sees the same); a file
//!   replaced by another one makes every connection opened before the
//!   replacement close, so none keeps writing into the old, unlinked inode.
//!   When the original file comes back, new connections open it again.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Creates `path` empty with mode 0600 when it does not exist (first start).
pub(crate) fn create_owner_only(path: &Path) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// The identity of the database file, and when it last changed.
#[derive(Debug)]
pub(crate) struct FileWatch {
    path: PathBuf,
    identity: Mutex<Option<Identity>>,
    started: Instant,
    /// Nanoseconds after `started` of the last replacement (0: never).
    replaced_at: AtomicU64,
}

/// Device, inode and birth time: an inode number can be reused after the
/// old file is unlinked; a renamed file keeps all three.
type Identity = (u64, u64, Option<std::time::SystemTime>);

#[cfg(unix)]
fn identity(path: &Path) -> Option<Identity> {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata(path)
        .ok()
        .map(|m| (m.dev(), m.ino(), m.created().ok()))
}

#[cfg(not(unix))]
fn identity(path: &Path) -> Option<Identity> {
    std::fs::metadata(path)
        .ok()
        .map(|m| (0, 0, m.created().ok()))
}

impl FileWatch {
    pub(crate) fn new(path: PathBuf) -> Self {
        let identity = Mutex::new(identity(&path));
        FileWatch {
            path,
            identity,
            started: Instant::now(),
            replaced_at: AtomicU64::new(0),
        }
    }

    /// Whether a pooled connection opened `age` ago may be used: the file
    /// exists, and it was not replaced after the connection was opened.
    pub(crate) fn connection_usable(&self, age: Duration) -> bool {
        let Some(now_id) = identity(&self.path) else {
            tracing::warn!(path = %self.path.display(), "the SQLite database file is gone");
            return false;
        };
        let since_start = self.started.elapsed();
        {
            let mut known = self.identity.lock().unwrap_or_else(|p| p.into_inner());
            if *known != Some(now_id) {
                if known.is_some() {
                    tracing::warn!(
                        path = %self.path.display(),
                        "the SQLite database file was replaced; reconnecting"
                    );
                }
                *known = Some(now_id);
                let nanos = u64::try_from(since_start.as_nanos()).unwrap_or(u64::MAX);
                self.replaced_at.store(nanos, Ordering::Release);
            }
        }
        let replaced_at = Duration::from_nanos(self.replaced_at.load(Ordering::Acquire));
        // Opened at `since_start - age`: usable when that is not before the
        // replacement.
        since_start.saturating_sub(age) >= replaced_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moved_away_then_back_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("glue.db");
        create_owner_only(&db).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&db).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let watch = FileWatch::new(db.clone());
        let old = Duration::from_secs(3600);
        assert!(watch.connection_usable(old));
        let aside = dir.path().join("aside.db");
        std::fs::rename(&db, &aside).unwrap();
        assert!(!watch.connection_usable(old));
        std::fs::rename(&aside, &db).unwrap();
        assert!(watch.connection_usable(old), "same file back");
        // Replaced by another file: connections opened before are refused,
        // connections opened after are fine.
        std::fs::remove_file(&db).unwrap();
        std::fs::write(&db, b"").unwrap();
        std::thread::sleep(Duration::from_millis(5));
        assert!(!watch.connection_usable(old));
        assert!(watch.connection_usable(Duration::ZERO));
        // Creating never touches an existing file.
        std::fs::write(&db, b"data").unwrap();
        create_owner_only(&db).unwrap();
        assert_eq!(std::fs::read(&db).unwrap(), b"data");
    }
}
