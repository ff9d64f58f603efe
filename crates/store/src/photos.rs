//! Photo bytes in the database: the production `PhotoStore`. Every
//! instance reads the same table, so any instance serves any photo, and a
//! photo is backed up with the case it belongs to. Tips carry at most six
//! photos of at most 8 MiB, stripped; a district's volume fits comfortably
//! in PostgreSQL. An S3-compatible bucket would implement the same trait.

use crate::entity::photo_blob;
use async_trait::async_trait;
use chrono::Utc;
use sansuo_media::{PhotoStore, StorageError, validate_key};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait};

pub struct DbPhotoStore {
    db: DatabaseConnection,
}

impl DbPhotoStore {
    pub fn new(store: &crate::Store) -> Self {
        DbPhotoStore {
            db: store.db().clone(),
        }
    }
}

fn backend(err: sea_orm::DbErr) -> StorageError {
    StorageError::Backend(Box::new(err))
}

#[async_trait]
impl PhotoStore for DbPhotoStore {
    async fn put(&self, key: &str, bytes: &[u8]) -> Result<(), StorageError> {
        validate_key(key)?;
        // The bytes under a key never change: a retried put is a no-op.
        photo_blob::Entity::insert(photo_blob::ActiveModel {
            key: Set(key.to_owned()),
            bytes: Set(bytes.to_vec()),
            created_at: Set(Utc::now()),
        })
        .on_conflict(
            OnConflict::column(photo_blob::Column::Key)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&self.db)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        validate_key(key)?;
        Ok(photo_blob::Entity::find_by_id(key.to_owned())
            .one(&self.db)
            .await
            .map_err(backend)?
            .map(|row| row.bytes))
    }

    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        validate_key(key)?;
        photo_blob::Entity::delete_by_id(key.to_owned())
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
