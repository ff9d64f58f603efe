//! The demo's keys. `serve --demo` without `SANSUO_DATA_KEYS` keeps a data
//! key in a file beside its SQLite database (`sansuo.key`, mode 0600,
//! written once), so party names and contacts sealed in one demo run still
//! open after a restart; without `SANSUO_TIP_KEY` it keeps the tip key the
//! same way (`sansuo.tip-key`), so an anonymous tipper's tracking token
//! still finds the tip after a restart or a restore (`sansuo backup` copies
//! both files). Production sets the variables and never reads or writes
//! these files.

use anyhow::Context;
use sansuo_vault::KeyRing;
use secrecy::SecretString;
use std::io::Write;
use std::path::{Path, PathBuf};

pub const DEMO_KEY_FILE: &str = "sansuo.key";
pub const TIP_KEY_FILE: &str = "sansuo.tip-key";
/// The photo receipts' signing key when `SANSUO_RECEIPT_KEY` is not set.
pub const RECEIPT_KEY_FILE: &str = "sansuo.receipt-key";

/// Where the demo keeps its data key: beside the SQLite file of
/// `database_url`, or in the working directory for any other database (a
/// demo on PostgreSQL).
pub fn key_file_beside(database_url: &str) -> PathBuf {
    file_beside(database_url, DEMO_KEY_FILE)
}

/// The file `name` beside the SQLite file of `database_url` (the working
/// directory for any other database).
pub fn file_beside(database_url: &str, name: &str) -> PathBuf {
    let sqlite_path = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or(rest))
        .filter(|path| !path.is_empty() && !path.starts_with(':'));
    match sqlite_path.and_then(|p| Path::new(p).parent()) {
        Some(dir) => dir.join(name),
        None => PathBuf::from(name),
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
        create(path, &KeyRing::random_spec("demo"))?
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

/// The demo's tip key in `path`, created first if there is none (the same
/// way as [`load_or_create`]): 32 random bytes in hex.
pub fn load_or_create_tip_key(path: &Path) -> anyhow::Result<(SecretString, KeyFileState)> {
    let state = if path.exists() {
        KeyFileState::Read
    } else {
        create(path, &crate::config::hex_random())?
    };
    let key = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the demo tip key {}", path.display()))?;
    let key = key.trim();
    if key.len() < 32 {
        anyhow::bail!(
            "the demo tip key {} is shorter than 32 characters; delete it to start afresh (tracking tokens of earlier anonymous tips stop working)",
            path.display()
        );
    }
    Ok((SecretString::from(key.to_owned()), state))
}

/// The receipt key in `path`, created first if there is none (the same way
/// as [`load_or_create`]): an Ed25519 private key in PKCS#8 PEM.
pub fn load_or_create_receipt_key(
    path: &Path,
) -> anyhow::Result<(sansuo_media::ReceiptSigner, KeyFileState)> {
    let state = if path.exists() {
        KeyFileState::Read
    } else {
        let mut seed = [0u8; 32];
        rand::fill(&mut seed);
        create(path, sansuo_media::ReceiptSigner::new_pem(seed).trim_end())?
    };
    let pem = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the receipt key {}", path.display()))?;
    let signer = sansuo_media::ReceiptSigner::parse(&pem).map_err(|why| {
        anyhow::anyhow!(
            "the receipt key {} {why}; receipts signed with it cannot be checked without it",
            path.display()
        )
    })?;
    Ok((signer, state))
}

fn create(path: &Path, contents: &str) -> anyhow::Result<KeyFileState> {
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
    file.write_all(format!("{contents}\n").as_bytes())?;
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

    #[test]
    fn the_tip_key_is_created_once_private_and_read_back_the_same() {
        use secrecy::ExposeSecret;
        let dir = std::env::temp_dir().join(format!("sansuo-tip-key-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(TIP_KEY_FILE);
        let (first, state) = load_or_create_tip_key(&path).unwrap();
        assert_eq!(state, KeyFileState::Created);
        assert_eq!(first.expose_secret().len(), 64);
        let (second, state) = load_or_create_tip_key(&path).unwrap();
        assert_eq!(state, KeyFileState::Read);
        assert_eq!(first.expose_secret(), second.expose_secret());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(
            file_beside("sqlite:///var/lib/sansuo/sansuo.db?mode=rwc", TIP_KEY_FILE),
            PathBuf::from("/var/lib/sansuo/sansuo.tip-key")
        );
        std::fs::write(&path, "short").unwrap();
        let err = load_or_create_tip_key(&path).unwrap_err().to_string();
        assert!(err.contains("sansuo.tip-key"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
