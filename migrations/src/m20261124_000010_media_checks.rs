//! Asynchronous image checks (`media_check_async`): what was submitted, and
//! the verdict WeChat pushes back later.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MediaChecks {
    Table,
    TraceId,
    /// What was checked, e.g. `photo:<id>`; its owner hides it when risky.
    Subject,
    /// pending | pass | review | risky
    Status,
    Label,
    CreatedAt,
    CheckedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MediaChecks::Table)
                    .col(string_len(MediaChecks::TraceId, 128).primary_key())
                    .col(string_len(MediaChecks::Subject, 128))
                    .col(string_len(MediaChecks::Status, 16))
                    .col(big_integer_null(MediaChecks::Label))
                    .col(timestamp_with_time_zone(MediaChecks::CreatedAt))
                    .col(timestamp_with_time_zone_null(MediaChecks::CheckedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(MediaChecks::Table).to_owned())
            .await
    }
}
