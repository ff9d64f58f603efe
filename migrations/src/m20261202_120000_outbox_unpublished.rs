//! The outbox's unpublished rows, indexed by themselves.
//!
//! Published rows stay in the table, so without this index the relay's
//! "oldest unpublished rows" (`WHERE published_at IS NULL ORDER BY id`, every
//! poll) and the metrics' outbox lag read the whole table. A partial index
//! holds only the rows still owed to the queue (both PostgreSQL and SQLite
//! support `WHERE` on an index), so both reads touch only those.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX IF NOT EXISTS outbox_unpublished ON outbox (id) \
                 WHERE published_at IS NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS outbox_unpublished")
            .await?;
        Ok(())
    }
}
