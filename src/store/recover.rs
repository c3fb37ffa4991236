//! Opening the database when its file is broken: a corrupt file (not a database, or damaged
//! pages) is moved aside, with its -wal and -shm, and a fresh one takes its place, so the
//! console keeps its cache and every job operation keeps its journal. The old file is kept
//! for inspection and named in the message.
//!
//! Only corruption moves the file. A locked or busy file (another flinkdeck writing), a
//! schema newer than this flinkdeck, or a file it may not read is an error: moving those
//! aside would throw away good data.

use std::fmt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, ErrorCode, OpenFlags};

use super::{Store, StoreError};

/// SQLite's companions of a database file, moved with it.
pub(super) const SIDECARS: [&str; 2] = ["-wal", "-shm"];

/// A corrupt database file that was moved aside and replaced by a fresh one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    pub path: PathBuf,
    /// Where the corrupt file (and its -wal/-shm, if any) now is.
    pub moved_to: PathBuf,
    /// What SQLite said about it.
    pub reason: String,
}

impl fmt::Display for Recovered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the cache {} was corrupt ({}): moved it to {} and started a fresh one \
             (cached jobs, launch specs, SQL history and the operations journal start empty)",
            self.path.display(),
            self.reason,
            self.moved_to.display()
        )
    }
}

impl Store {
    /// Opens the database at `path` like [`Store::open`]; if the file is corrupt, moves it
    /// aside and opens a fresh one in its place, saying so in the returned [`Recovered`].
    pub fn open_or_recover(path: &Path) -> Result<(Self, Option<Recovered>), StoreError> {
        let identity = file_identity(path);
        let corrupt = match identity {
            Some(_) => probe(path).err().filter(is_corruption),
            None => None,
        };
        let error = match corrupt {
            Some(error) => error,
            None => match Self::open(path) {
                Ok(store) => return Ok((store, None)),
                Err(error) if is_corruption(&error) => error,
                Err(error) => return Err(error),
            },
        };
        // Another process may have recovered the same file meanwhile: move only the file
        // that was found corrupt, never the fresh one that replaced it.
        if identity.is_none() || file_identity(path) != identity {
            return Ok((Self::open(path)?, None));
        }
        let moved_to = move_aside(path)?;
        tracing::warn!(path = %path.display(), moved_to = %moved_to.display(), "corrupt cache: {error}");
        let store = Self::open(path)?;
        Ok((store, Some(Recovered { path: path.to_path_buf(), moved_to, reason: reason(&error) })))
    }
}

/// Reads the schema through a read-only connection: a file with a sound header but damaged
/// pages shows here, not in the middle of the first poll, and closing a read-write
/// connection on a broken file would delete the -wal and -shm that are to be kept.
fn probe(path: &Path) -> Result<(), StoreError> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0))?;
    Ok(())
}

/// SQLITE_NOTADB and SQLITE_CORRUPT: the file's content is broken, whatever holds it.
fn is_corruption(error: &StoreError) -> bool {
    matches!(
        error,
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
            if matches!(e.code, ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt)
    )
}

fn reason(error: &StoreError) -> String {
    match error {
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(_, Some(message))) => message.clone(),
        other => other.to_string(),
    }
}

/// Device and inode: which file a path names right now.
fn file_identity(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// Renames `path` to `<path>.corrupt-<UTC time>` (a counter added if that exists), and its
/// -wal/-shm to the same name plus their suffix, so SQLite can still open the set together.
fn move_aside(path: &Path) -> Result<PathBuf, StoreError> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let base = format!("{}.corrupt-{stamp}", path.display());
    let target = (1..)
        .map(|n| if n == 1 { PathBuf::from(&base) } else { PathBuf::from(format!("{base}-{n}")) })
        .find(|candidate| !candidate.exists())
        .expect("an unused name");
    let moved = |from: &Path, to: &Path| {
        std::fs::rename(from, to).map_err(|e| StoreError::Open {
            path: from.display().to_string(),
            message: format!("cannot move the corrupt file aside to {}: {e}", to.display()),
        })
    };
    moved(path, &target)?;
    for suffix in SIDECARS {
        let sidecar = with_suffix(path, suffix);
        if sidecar.exists() {
            moved(&sidecar, &with_suffix(&target, suffix))?;
        }
    }
    Ok(target)
}

pub(super) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GARBAGE: &[u8] = b"this was never a database, just bytes a stray redirect left here";

    #[test]
    fn a_garbage_file_is_moved_aside_with_its_wal_and_a_fresh_store_works() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flinkdeck.sqlite3");
        std::fs::write(&path, GARBAGE.repeat(100)).unwrap();
        std::fs::write(with_suffix(&path, "-wal"), b"wal bytes").unwrap();
        std::fs::write(with_suffix(&path, "-shm"), b"shm bytes").unwrap();

        let (store, recovered) = Store::open_or_recover(&path).unwrap();
        let recovered = recovered.expect("recovered");
        assert_eq!(recovered.path, path);
        let name = recovered.moved_to.file_name().unwrap().to_str().unwrap().to_string();
        assert!(name.starts_with("flinkdeck.sqlite3.corrupt-"), "{name}");
        assert_eq!(std::fs::read(&recovered.moved_to).unwrap(), GARBAGE.repeat(100));
        // The -wal is kept as it was; the -shm is only SQLite's index of it, rebuilt on open.
        assert_eq!(std::fs::read(with_suffix(&recovered.moved_to, "-wal")).unwrap(), b"wal bytes");
        assert!(with_suffix(&recovered.moved_to, "-shm").exists());
        let message = recovered.to_string();
        assert!(message.contains(&recovered.moved_to.display().to_string()), "{message}");
        assert!(message.contains("not a database"), "{message}");

        // The fresh store holds a journal like any other.
        assert!(store.history(None, 10).unwrap().is_empty());
        drop(store);
        let (_, again) = Store::open_or_recover(&path).unwrap();
        assert_eq!(again, None);
    }

    #[test]
    fn a_schema_too_new_or_a_busy_file_is_an_error_and_stays_where_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flinkdeck.sqlite3");
        drop(Store::open(&path).unwrap());
        rusqlite::Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 999)
            .unwrap();
        let error = Store::open_or_recover(&path).err().expect("an error");
        assert!(matches!(error, StoreError::TooNew { found: 999, .. }), "{error}");
        let files: Vec<_> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(files.iter().all(|f| !f.to_string_lossy().contains("corrupt")), "{files:?}");

        let failure = |code| {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(code),
                None,
            ))
        };
        assert!(!is_corruption(&failure(rusqlite::ffi::SQLITE_BUSY)));
        assert!(!is_corruption(&failure(rusqlite::ffi::SQLITE_LOCKED)));
        assert!(!is_corruption(&failure(rusqlite::ffi::SQLITE_CANTOPEN)));
        assert!(!is_corruption(&failure(rusqlite::ffi::SQLITE_READONLY)));
        assert!(is_corruption(&failure(rusqlite::ffi::SQLITE_NOTADB)));
        assert!(is_corruption(&failure(rusqlite::ffi::SQLITE_CORRUPT)));
    }
}
