//! Files and directories only their owner can read.
//!
//! flinkdeck runs on bastion hosts shared by many users, and what it keeps (cluster
//! credentials, SQL history, job configuration, logs) is nobody else's business: directories
//! it creates are 0700 and files it writes 0600, whatever the umask. Every file flinkdeck
//! creates goes through these helpers.

use std::fs::{File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Owner read/write, nothing for group and others.
pub const PRIVATE_FILE_MODE: u32 = 0o600;
/// Owner only.
pub const PRIVATE_DIR_MODE: u32 = 0o700;

/// Creates `path` and its missing parents as 0700. A directory that already exists is left as
/// it is: it may be one the user chose and shares on purpose.
pub fn create_private_dir(path: &Path) -> io::Result<()> {
    std::fs::DirBuilder::new().recursive(true).mode(PRIVATE_DIR_MODE).create(path)
}

/// Writes `contents` to `path` (created or truncated) as a 0600 file.
pub fn write_private_file(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut file = private_options().write(true).truncate(true).open(path)?;
    restrict(&file)?;
    file.write_all(contents)
}

/// Opens `path` for appending, created as 0600.
pub fn open_private_append(path: &Path) -> io::Result<File> {
    let file = private_options().append(true).open(path)?;
    restrict(&file)?;
    Ok(file)
}

/// Makes sure `path` exists as a 0600 file without touching its contents (SQLite then gives
/// its -wal and -shm files the same mode).
///
/// An existing file is never opened, only stat'ed and chmod'ed by path: closing any
/// descriptor of a database file drops every POSIX lock this process holds on it, so another
/// process's SQLite would take this process's open connections for gone and delete the WAL
/// they still write to.
pub fn ensure_private_file(path: &Path) -> io::Result<()> {
    match std::fs::metadata(path) {
        Ok(metadata) => {
            let mode = metadata.permissions().mode();
            if mode & 0o077 != 0 {
                std::fs::set_permissions(path, Permissions::from_mode(mode & 0o700))?;
            }
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let file = private_options().write(true).open(path)?;
            restrict(&file)
        }
        Err(e) => Err(e),
    }
}

/// Whether users other than the owner may read `path` (group or other read bit).
pub fn readable_by_others(path: &Path) -> io::Result<bool> {
    Ok(std::fs::metadata(path)?.permissions().mode() & 0o044 != 0)
}

fn private_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.create(true).mode(PRIVATE_FILE_MODE);
    options
}

/// The mode given at creation does not apply to a file that existed: clear group and other
/// bits of one created looser (by an older flinkdeck or another tool).
fn restrict(file: &File) -> io::Result<()> {
    let mode = file.metadata()?.permissions().mode();
    if mode & 0o077 != 0 {
        file.set_permissions(Permissions::from_mode(mode & 0o700))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn created_dirs_and_files_are_private_and_loose_files_are_tightened() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        create_private_dir(&dir).unwrap();
        assert_eq!((mode(&root.path().join("a")), mode(&dir)), (0o700, 0o700));

        let written = dir.join("export.csv");
        write_private_file(&written, b"a,b\n").unwrap();
        assert_eq!(mode(&written), 0o600);
        assert_eq!(std::fs::read(&written).unwrap(), b"a,b\n");

        let log = dir.join("x.log");
        std::fs::write(&log, "old\n").unwrap();
        std::fs::set_permissions(&log, Permissions::from_mode(0o644)).unwrap();
        assert!(readable_by_others(&log).unwrap());
        writeln!(open_private_append(&log).unwrap(), "new").unwrap();
        assert_eq!(mode(&log), 0o600);
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "old\nnew\n");
        assert!(!readable_by_others(&log).unwrap());

        let database = dir.join("db");
        ensure_private_file(&database).unwrap();
        std::fs::write(&database, "kept").unwrap();
        ensure_private_file(&database).unwrap();
        assert_eq!(
            (mode(&database), std::fs::read_to_string(&database).unwrap()),
            (0o600, "kept".into())
        );
    }
}
