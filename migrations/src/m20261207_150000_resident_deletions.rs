//! Deleted residents, as every instance checks resident tokens against
//! them (issue 16): one row per account deletion, read by each instance at
//! most once a second as one query over the access tokens' lifetime,
//! instead of one read of the resident's row per request.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ResidentDeletions {
    Table,
    ResidentId,
    DeletedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ResidentDeletions::Table)
                    .col(uuid(ResidentDeletions::ResidentId).primary_key())
                    .col(timestamp_with_time_zone(ResidentDeletions::DeletedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("resident_deletions_deleted_at")
                    .table(ResidentDeletions::Table)
                    .col(ResidentDeletions::DeletedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ResidentDeletions::Table).to_owned())
            .await
    }
}
