//! The demo's data key. `serve --demo` without `SANSUO_DATA_KEYS` keeps a
//! key in a file beside its SQLite database (`sansuo.key`, mode 0600,
//! written once), so party names and contacts sealed in one demo run still
//! open after a restart. Production sets `SANSUO_DATA_KEYS` and never
//! reads or writes this file.

use anyhow::Context;
use sansuo_vault::KeyRing;
use std::io::Write;
use std::path::{Path, PathBuf};

pub const DEMO_KEY_FILE: &str = "sansuo.key";

/// Where the demo keeps its key: beside the SQLite file of `database_url`,
/// or in the working directory for any other database (a demo on
/// PostgreSQL).
pub fn key_file_beside(database_url: &str) -> PathBuf {
    let sqlite_path = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or(rest))
        .filter(|path| !path.is_empty() && !path.starts_with(':'));
    match sqlite_path.and_then(|p| Path::new(p).parent()) {
        Some(dir) => dir.join(DEMO_KEY_FILE),
        None => PathBuf::from(DEMO_KEY_FILE),
    }
}

/// Whether the key file was made now or found from an earlier run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFileState {
    Created,
    Read,
}

/// Read the key in `path`, creating it first if there is none. The new
/// key is written to a private temporary file and linked into place, so two
/// instances starting together agree on one key and nobody ever reads a
/// half-written file.
pub fn load_or_create(path: &Path) -> anyhow::Result<(KeyRing, KeyFileState)> {
    let state = if path.exists() {
        KeyFileState::Read
    } else {
        create(path)?
    };
    let spec = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the demo data key {}", path.display()))?;
    let ring = KeyRing::parse(spec.trim()).map_err(|e| {
        anyhow::anyhow!(
            "the demo data key {} is not usable ({e}); delete it to start afresh (sealed demo data will not open)",
            path.display()
        )
    })?;
    Ok((ring, state))
}

fn create(path: &Path) -> anyhow::Result<KeyFileState> {
    let tmp = path.with_extension(format!("key.{}.tmp", uuid::Uuid::now_v7().simple()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&tmp)
        .with_context(|| format!("cannot write the demo data key beside {}", path.display()))?;
    file.write_all(format!("{}\n", KeyRing::random_spec("demo")).as_bytes())?;
    file.sync_all()?;
    drop(file);
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(KeyFileState::Created),
        // Another instance made it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(KeyFileState::Read),
        Err(e) => {
            Err(e).with_context(|| format!("cannot create the demo data key {}", path.display()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_sits_beside_the_sqlite_database() {
        assert_eq!(
            key_file_beside("sqlite://sansuo.db?mode=rwc"),
            PathBuf::from("sansuo.key")
        );
        assert_eq!(
            key_file_beside("sqlite:///var/lib/sansuo/sansuo.db?mode=rwc"),
            PathBuf::from("/var/lib/sansuo/sansuo.key")
        );
        assert_eq!(
            key_file_beside("sqlite:data/demo.db"),
            PathBuf::from("data/sansuo.key")
        );
        assert_eq!(
            key_file_beside("sqlite::memory:"),
            PathBuf::from("sansuo.key")
        );
        assert_eq!(
            key_file_beside("postgres://db.internal/sansuo"),
            PathBuf::from("sansuo.key")
        );
    }

    #[test]
    fn a_key_is_created_once_private_and_read_back_the_same() {
        let dir = std::env::temp_dir().join(format!("sansuo-key-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(DEMO_KEY_FILE);
        let (first, state) = load_or_create(&path).unwrap();
        assert_eq!(state, KeyFileState::Created);
        let sealed = first.seal("ctx", "赵大力");
        let (second, state) = load_or_create(&path).unwrap();
        assert_eq!(state, KeyFileState::Read);
        assert_eq!(second.open("ctx", &sealed).unwrap(), "赵大力");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Nothing but the key is left behind.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::write(&path, "garbage").unwrap();
        let err = load_or_create(&path).unwrap_err().to_string();
        assert!(err.contains("sansuo.key"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
