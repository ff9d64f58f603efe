//! `sansuo backup DIR` and `sansuo restore [--force] DIR` for the embedded
//! default (SQLite). Production (PostgreSQL) backs up with `pg_dump`:
//! deploy/BACKUP.md.
//!
//! A backup holds everything a restored instance needs to carry on:
//! - `sansuo.db`: an online, consistent copy of the database (`VACUUM INTO`,
//!   one read transaction: writers go on meanwhile, the copy is the state
//!   of one instant);
//! - `photos/`: the photo store directory, copied after the database, so
//!   every photo the copy names is there (a photo's file is written before
//!   its row commits; a photo stored meanwhile is an unreferenced extra);
//! - `keys/`: the demo's key files beside the database (`sansuo.key` seals
//!   party data, `sansuo.tip-key` keys anonymous tippers' tracking tokens,
//!   `sansuo.receipt-key` signs photo receipts),
//!   mode 0600. Keys set in the environment (`SANSUO_DATA_KEYS`,
//!   `SANSUO_TIP_KEY`) are the operator's to keep: they are not in the files;
//! - `manifest.json`, written last: version, time, and each file's size and
//!   SHA-256, checked whole before a restore writes anything.
//!
//! The queue of the embedded default is in process and rebuilt from the
//! database at start (the reconciler), so nothing else needs keeping.

use crate::config::PhotoStoreSetting;
use crate::demo_key::{DEMO_KEY_FILE, RECEIPT_KEY_FILE, TIP_KEY_FILE, file_beside};
use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use sansuo_store::sea_orm::{ConnectionTrait, Database};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Component, Path, PathBuf};

pub const MANIFEST: &str = "manifest.json";
const DATABASE: &str = "sansuo.db";
const PHOTOS: &str = "photos";
const KEYS: &str = "keys";
/// The manifest's format; a restore refuses any other.
const FORMAT: u32 = 1;

/// Where the embedded default keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedData {
    /// The SQLite file.
    pub database: PathBuf,
    /// The photo store directory (`None`: photos are in the database).
    pub photos: Option<PathBuf>,
    /// The demo's key files beside the database, whether they exist or not.
    pub key_files: Vec<PathBuf>,
}

impl EmbeddedData {
    /// From `DATABASE_URL` and `SANSUO_PHOTO_STORE`; refuses PostgreSQL.
    pub fn from_settings(database_url: &str, photos: &PhotoStoreSetting) -> anyhow::Result<Self> {
        let Some(database) = sqlite_file(database_url) else {
            bail!(
                "`sansuo backup` and `sansuo restore` are for the embedded default (DATABASE_URL=sqlite:...); back up PostgreSQL with pg_dump as deploy/BACKUP.md says"
            );
        };
        Ok(Self {
            database,
            photos: match photos {
                PhotoStoreSetting::Directory(dir) => Some(dir.clone()),
                PhotoStoreSetting::Database => None,
            },
            key_files: [DEMO_KEY_FILE, TIP_KEY_FILE, RECEIPT_KEY_FILE]
                .iter()
                .map(|name| file_beside(database_url, name))
                .collect(),
        })
    }
}

/// The file of a `sqlite:` URL; `None` for any other database or an
/// in-memory one.
fn sqlite_file(database_url: &str) -> Option<PathBuf> {
    database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or(rest))
        .filter(|path| !path.is_empty() && !path.starts_with(':'))
        .map(PathBuf::from)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub sansuo_version: String,
    pub created_at: DateTime<Utc>,
    /// Every file of the backup but the manifest, `/`-separated and
    /// relative to the backup's directory.
    pub files: Vec<ManifestFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

impl Manifest {
    /// The total size of the files.
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.bytes).sum()
    }
}

/// Back up a running (or stopped) embedded instance into `dir`, which must
/// not exist or be empty.
pub async fn backup(data: &EmbeddedData, dir: &Path) -> anyhow::Result<Manifest> {
    if dir.exists()
        && std::fs::read_dir(dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .next()
            .is_some()
    {
        bail!(
            "{} is not empty; a backup goes into a new or empty directory",
            dir.display()
        );
    }
    if !data.database.is_file() {
        bail!("there is no database at {}", data.database.display());
    }
    create_private_dir(dir)?;
    let mut files = Vec::new();

    // The database first: every photo it names is on disk by now.
    let copy = dir.join(DATABASE);
    let target = copy
        .to_str()
        .context("the backup directory's path is not UTF-8")?
        .replace('\'', "''");
    let url = format!("sqlite://{}?mode=rw", data.database.display());
    let db = Database::connect(&url)
        .await
        .with_context(|| format!("cannot open {}", data.database.display()))?;
    db.execute_unprepared(&format!("VACUUM INTO '{target}'"))
        .await
        .context("copying the database (VACUUM INTO)")?;
    db.close().await?;
    files.push(describe(dir, DATABASE)?);

    if let Some(photos) = data.photos.as_ref().filter(|p| p.is_dir()) {
        std::fs::create_dir(dir.join(PHOTOS))?;
        let mut names: Vec<String> = Vec::new();
        for entry in std::fs::read_dir(photos)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            // `.name.tmp`: a photo being written; it is not a photo yet.
            if name.starts_with('.') || !entry.file_type()?.is_file() {
                continue;
            }
            names.push(name);
        }
        names.sort();
        for name in names {
            std::fs::copy(photos.join(&name), dir.join(PHOTOS).join(&name))
                .with_context(|| format!("copying photo {name}"))?;
            files.push(describe(dir, &format!("{PHOTOS}/{name}"))?);
        }
    }

    let present: Vec<&PathBuf> = data.key_files.iter().filter(|k| k.is_file()).collect();
    if !present.is_empty() {
        create_private_dir(&dir.join(KEYS))?;
    }
    for key in present {
        let name = key.file_name().expect("a key file has a name");
        let name = name.to_string_lossy();
        copy_private(key, &dir.join(KEYS).join(name.as_ref()))?;
        files.push(describe(dir, &format!("{KEYS}/{name}"))?);
    }

    let manifest = Manifest {
        format: FORMAT,
        sansuo_version: env!("CARGO_PKG_VERSION").to_owned(),
        created_at: Utc::now(),
        files,
    };
    let text = serde_json::to_string_pretty(&manifest).expect("a manifest serialises");
    std::fs::write(dir.join(MANIFEST), format!("{text}\n"))?;
    Ok(manifest)
}

/// Check a backup against its manifest: every file present with its size
/// and SHA-256, and no path leaving the directory.
pub fn verify(dir: &Path) -> anyhow::Result<Manifest> {
    let text = std::fs::read_to_string(dir.join(MANIFEST))
        .with_context(|| format!("{} has no readable {MANIFEST}", dir.display()))?;
    let manifest: Manifest = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a sansuo backup manifest",
            dir.join(MANIFEST).display()
        )
    })?;
    if manifest.format != FORMAT {
        bail!(
            "the backup's format is {}, this sansuo reads {FORMAT}",
            manifest.format
        );
    }
    if !manifest.files.iter().any(|f| f.path == DATABASE) {
        bail!("the backup's manifest names no {DATABASE}");
    }
    let mut problems = Vec::new();
    for file in &manifest.files {
        let relative = Path::new(&file.path);
        if !relative
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
        {
            bail!("the manifest names `{}`, outside the backup", file.path);
        }
        match describe(dir, &file.path) {
            Ok(found) if found == *file => {}
            Ok(found) => problems.push(format!(
                "{}: {} bytes, SHA-256 {} (the manifest says {} bytes, {})",
                file.path, found.bytes, found.sha256, file.bytes, file.sha256
            )),
            Err(e) => problems.push(format!("{}: {e}", file.path)),
        }
    }
    if !problems.is_empty() {
        bail!(
            "the backup in {} does not match its manifest; nothing restored:\n  {}",
            dir.display(),
            problems.join("\n  ")
        );
    }
    Ok(manifest)
}

/// Restore a verified backup onto a stopped instance's paths. Refuses to
/// overwrite an existing database, photo or key file without `force`.
pub fn restore(data: &EmbeddedData, dir: &Path, force: bool) -> anyhow::Result<Manifest> {
    let manifest = verify(dir)?;
    let sidecars = |db: &Path| {
        ["-wal", "-shm", "-journal"].map(|suffix| {
            let mut name = db.as_os_str().to_owned();
            name.push(suffix);
            PathBuf::from(name)
        })
    };
    let mut existing: Vec<PathBuf> = Vec::new();
    if data.database.exists() {
        existing.push(data.database.clone());
    }
    existing.extend(sidecars(&data.database).into_iter().filter(|p| p.exists()));
    existing.extend(data.key_files.iter().filter(|p| p.exists()).cloned());
    let photos_in_store = data
        .photos
        .as_ref()
        .filter(|p| p.is_dir())
        .map(|p| std::fs::read_dir(p).map(|mut d| d.next().is_some()))
        .transpose()?
        .unwrap_or(false);
    if photos_in_store {
        existing.push(data.photos.clone().expect("checked"));
    }
    if !existing.is_empty() && !force {
        bail!(
            "refusing to overwrite existing data ({}); stop the server and pass --force to replace it",
            existing
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }

    // The database: written beside its place, then renamed over it.
    if let Some(parent) = data.database.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    for sidecar in sidecars(&data.database) {
        remove_if_present(&sidecar)?;
    }
    let mut temporary = data.database.as_os_str().to_owned();
    temporary.push(".restoring");
    let temporary = PathBuf::from(temporary);
    std::fs::copy(dir.join(DATABASE), &temporary)?;
    std::fs::File::open(&temporary)?.sync_all()?;
    std::fs::rename(&temporary, &data.database)?;

    let photos: Vec<&ManifestFile> = manifest
        .files
        .iter()
        .filter(|f| f.path.starts_with(&format!("{PHOTOS}/")))
        .collect();
    if let Some(store) = &data.photos {
        if photos_in_store {
            std::fs::remove_dir_all(store)?;
        }
        std::fs::create_dir_all(store)?;
        for file in &photos {
            let name = &file.path[PHOTOS.len() + 1..];
            std::fs::copy(dir.join(&file.path), store.join(name))?;
        }
    } else if !photos.is_empty() {
        bail!(
            "the backup holds {} photo files but SANSUO_PHOTO_STORE is `database`; set it to the directory they came from (dir:<path>)",
            photos.len()
        );
    }

    for file in manifest
        .files
        .iter()
        .filter(|f| f.path.starts_with(&format!("{KEYS}/")))
    {
        let name = &file.path[KEYS.len() + 1..];
        let Some(target) = data
            .key_files
            .iter()
            .find(|k| k.file_name().is_some_and(|n| n == name))
        else {
            bail!("the backup holds a key file `{name}` this sansuo does not know");
        };
        remove_if_present(target)?;
        copy_private(&dir.join(&file.path), target)?;
    }
    Ok(manifest)
}

fn describe(dir: &Path, relative: &str) -> anyhow::Result<ManifestFile> {
    let bytes =
        std::fs::read(dir.join(relative)).with_context(|| format!("cannot read {relative}"))?;
    Ok(ManifestFile {
        path: relative.to_owned(),
        bytes: bytes.len() as u64,
        sha256: hex::encode(Sha256::digest(&bytes)),
    })
}

fn remove_if_present(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// A directory only the server's user reads (a backup holds keys).
fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Copy a key file, readable by its owner only.
fn copy_private(from: &Path, to: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(from).with_context(|| format!("cannot read {}", from.display()))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(to)
        .with_context(|| format!("cannot write {}", to.display()))?;
    std::io::Write::write_all(&mut file, &bytes)?;
    file.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_embedded_default_is_backed_up_here() {
        let photos = PhotoStoreSetting::Directory("sansuo-photos".into());
        let data =
            EmbeddedData::from_settings("sqlite:///var/lib/sansuo/sansuo.db?mode=rwc", &photos)
                .unwrap();
        assert_eq!(data.database, PathBuf::from("/var/lib/sansuo/sansuo.db"));
        assert_eq!(
            data.key_files,
            vec![
                PathBuf::from("/var/lib/sansuo/sansuo.key"),
                PathBuf::from("/var/lib/sansuo/sansuo.tip-key"),
                PathBuf::from("/var/lib/sansuo/sansuo.receipt-key")
            ]
        );
        let err = EmbeddedData::from_settings("postgres://db/sansuo", &photos)
            .unwrap_err()
            .to_string();
        assert!(err.contains("pg_dump"), "{err}");
        assert!(EmbeddedData::from_settings("sqlite::memory:", &photos).is_err());
    }
}
