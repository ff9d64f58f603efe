//! Where photos live: one interface, a local directory for the embedded
//! default. The PostgreSQL store (several instances serving every photo)
//! implements the same trait in `sansuo-store`.

use std::io;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

use crate::ImageKind;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("invalid photo key `{0}`")]
    InvalidKey(String),
    #[error("photo storage I/O: {0}")]
    Io(#[from] io::Error),
    /// Any other backend's failure (e.g. the database), with its cause.
    #[error("photo storage backend: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Photo bytes by key. Keys are `<photo uuid>.<ext>` ([`photo_key`]), and
/// a photo is written once: the bytes under a key never change, which is
/// what makes a receipt's hash checkable later.
///
/// Object-safe, so the server holds an `Arc<dyn PhotoStore>`.
#[async_trait]
pub trait PhotoStore: Send + Sync {
    /// Stores `bytes` under `key`, all or nothing: a reader sees either no
    /// photo or the whole photo. Storing the same bytes again under the same
    /// key (a retried request) succeeds.
    async fn put(&self, key: &str, bytes: &[u8]) -> Result<(), StorageError>;

    /// The photo under `key`, or `None` if there is none.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError>;

    /// Removes the photo under `key`; removing a missing photo succeeds, so
    /// a retried deletion (retention clean-up) is harmless.
    async fn delete(&self, key: &str) -> Result<(), StorageError>;
}

/// The storage key of a photo.
pub fn photo_key(photo_id: Uuid, kind: ImageKind) -> String {
    format!("{}.{}", photo_id.hyphenated(), kind.extension())
}

/// Longest key accepted: a hyphenated UUID (36) + "." + a short extension.
const MAX_KEY_LEN: usize = 64;

/// Checks that `key` is `<[0-9a-f-]+>.<[a-z0-9]+>`: one dot, nothing that
/// could name another directory (`/`, `\`, `..`) or a hidden file. Every
/// store should call this, so keys are the same everywhere.
pub fn validate_key(key: &str) -> Result<(), StorageError> {
    let invalid = || StorageError::InvalidKey(key.chars().take(MAX_KEY_LEN).collect());
    if key.len() > MAX_KEY_LEN {
        return Err(invalid());
    }
    let (stem, extension) = key.split_once('.').ok_or_else(invalid)?;
    let stem_ok = !stem.is_empty()
        && stem
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b) || b == b'-');
    let extension_ok = !extension.is_empty()
        && extension
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if stem_ok && extension_ok {
        Ok(())
    } else {
        Err(invalid())
    }
}

/// Photos as files in one directory: the embedded default (one instance,
/// its own disk). Not for several instances: each would see only its own
/// disk.
#[derive(Debug, Clone)]
pub struct LocalDirStore {
    root: PathBuf,
}

impl LocalDirStore {
    /// Uses `root`, creating it if needed.
    pub async fn open(root: impl Into<PathBuf>) -> Result<Self, StorageError> {
        let root = root.into();
        tokio::fs::create_dir_all(&root).await?;
        Ok(Self { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path_of(&self, key: &str) -> Result<PathBuf, StorageError> {
        validate_key(key)?;
        Ok(self.root.join(key))
    }

    async fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
        let mut file = tokio::fs::File::create_new(path).await?;
        file.write_all(bytes).await?;
        // On disk before the rename makes it visible; otherwise a crash
        // could leave the final name pointing at an empty file.
        file.sync_all().await
    }
}

#[async_trait]
impl PhotoStore for LocalDirStore {
    async fn put(&self, key: &str, bytes: &[u8]) -> Result<(), StorageError> {
        let path = self.path_of(key)?;
        // Written under a temporary name in the same directory, then renamed:
        // rename is atomic within a file system, so the photo appears whole
        // or not at all, even if we crash mid-write. The leading dot fails
        // `validate_key`, so a left-over temporary file is never served.
        let temporary = self
            .root
            .join(format!(".{key}.{}.tmp", Uuid::now_v7().simple()));
        if let Err(error) = Self::write_synced(&temporary, bytes).await {
            let _ = tokio::fs::remove_file(&temporary).await;
            return Err(error.into());
        }
        if let Err(error) = tokio::fs::rename(&temporary, &path).await {
            let _ = tokio::fs::remove_file(&temporary).await;
            return Err(error.into());
        }
        // Persist the rename itself (the directory entry).
        #[cfg(unix)]
        tokio::fs::File::open(&self.root).await?.sync_all().await?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let path = self.path_of(key)?;
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        let path = self.path_of(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(error.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> Self {
            let path = std::env::temp_dir().join(format!("sansuo-media-{}", Uuid::now_v7()));
            Self(path)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn key() -> String {
        photo_key(Uuid::now_v7(), ImageKind::Jpeg)
    }

    #[tokio::test]
    async fn round_trip_through_a_shared_trait_object() {
        let dir = TempDir::new();
        let store: Arc<dyn PhotoStore> = Arc::new(LocalDirStore::open(&dir.0).await.unwrap());
        let key = key();
        store.put(&key, b"photo bytes").await.unwrap();
        assert_eq!(
            store.get(&key).await.unwrap().as_deref(),
            Some(&b"photo bytes"[..])
        );
        // A retried put of the same photo is fine.
        store.put(&key, b"photo bytes").await.unwrap();
        assert_eq!(
            store.get(&key).await.unwrap().as_deref(),
            Some(&b"photo bytes"[..])
        );
        store.delete(&key).await.unwrap();
        assert_eq!(store.get(&key).await.unwrap(), None);
        // Deleting again is harmless.
        store.delete(&key).await.unwrap();
    }

    #[tokio::test]
    async fn missing_key_is_none() {
        let dir = TempDir::new();
        let store = LocalDirStore::open(&dir.0).await.unwrap();
        assert_eq!(store.get(&key()).await.unwrap(), None);
    }

    #[tokio::test]
    async fn no_temporary_files_are_left_behind() {
        let dir = TempDir::new();
        let store = LocalDirStore::open(&dir.0).await.unwrap();
        let key = key();
        store.put(&key, &[7; 4096]).await.unwrap();
        let names: Vec<String> = std::fs::read_dir(&dir.0)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec![key]);
    }

    #[tokio::test]
    async fn path_traversal_and_odd_keys_are_refused() {
        let dir = TempDir::new();
        let outside = TempDir::new();
        std::fs::create_dir_all(&outside.0).unwrap();
        std::fs::write(outside.0.join("secret.txt"), b"secret").unwrap();
        let store = LocalDirStore::open(dir.0.join("photos")).await.unwrap();
        let too_long = format!("{}.jpg", "a".repeat(MAX_KEY_LEN - 3));
        let escape = format!(
            "../../{}/secret.txt",
            outside.0.file_name().unwrap().to_str().unwrap()
        );
        let refused = [
            "../etc/passwd",
            "/etc/passwd",
            escape.as_str(),
            "..",
            ".",
            "",
            "abc",
            "abc.",
            ".jpg",
            "abc.jpg.exe",
            "abc/def.jpg",
            "abc\\def.jpg",
            "ABC.jpg",
            "abc.JPG",
            "abc.jp g",
            "abc\0.jpg",
            ".abc.jpg.0190.tmp",
            too_long.as_str(),
        ];
        for key in refused {
            assert!(
                matches!(store.get(key).await, Err(StorageError::InvalidKey(_))),
                "get {key:?} must be refused"
            );
            assert!(
                matches!(store.put(key, b"x").await, Err(StorageError::InvalidKey(_))),
                "put {key:?} must be refused"
            );
            assert!(
                matches!(store.delete(key).await, Err(StorageError::InvalidKey(_))),
                "delete {key:?} must be refused"
            );
        }
        assert_eq!(
            std::fs::read(outside.0.join("secret.txt")).unwrap(),
            b"secret"
        );
    }

    #[test]
    fn photo_keys_are_valid_keys() {
        for kind in [ImageKind::Jpeg, ImageKind::Png, ImageKind::Webp] {
            let key = photo_key(Uuid::now_v7(), kind);
            assert!(validate_key(&key).is_ok(), "{key}");
            assert!(key.ends_with(kind.extension()));
        }
        let id = Uuid::parse_str("0190f5e2-7b1c-7a3e-9c4d-2b8e1f6a5d3c").unwrap();
        assert_eq!(
            photo_key(id, ImageKind::Webp),
            "0190f5e2-7b1c-7a3e-9c4d-2b8e1f6a5d3c.webp"
        );
    }
}
