//! File-system permissions of what the gateway keeps on disk: the data
//! directory, the SQLite database (password hashes, refresh-token hashes)
//! and the private key.

use std::io;
use std::path::Path;

/// Creates `dir` and its missing parents, owner-only (0700 on unix).
/// Directories that already exist keep their mode.
pub(crate) fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Makes an existing file owner-only (0600 on unix); a missing file is fine.
pub(crate) fn restrict_file(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        match std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

/// Restricts a SQLite database file and its `-wal` / `-shm` companions.
/// (SQLite gives companions it creates later the database file's mode.)
pub(crate) fn restrict_sqlite_files(db: &Path) -> io::Result<()> {
    restrict_file(db)?;
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        restrict_file(Path::new(&name))?;
    }
    Ok(())
}

/// Whether the group or others may read `path` (unix; `false` elsewhere or
/// when it cannot be told).
pub(crate) fn readable_by_others(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o044 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn private_dirs_and_files() {
        let base = std::env::temp_dir().join(format!("glue-files-{}", std::process::id()));
        let dir = base.join("a/b");
        create_private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&base.join("a")), 0o700);
        let db = dir.join("glue.db");
        std::fs::write(&db, b"").unwrap();
        std::fs::write(dir.join("glue.db-wal"), b"").unwrap();
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(readable_by_others(&db));
        restrict_sqlite_files(&db).unwrap();
        assert_eq!(mode(&db), 0o600);
        assert_eq!(mode(&dir.join("glue.db-wal")), 0o600);
        assert!(!readable_by_others(&db));
        assert!(!dir.join("glue.db-shm").exists());
        std::fs::remove_dir_all(&base).unwrap();
    }
}
