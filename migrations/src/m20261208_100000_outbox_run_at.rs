//! When an outbox row's work is due (issue 16). A new case offered in the
//! transaction that stores it owes the offer's timer at the offer's expiry
//! and the SLA check at its first deadline: written with their times, the
//! relay queues them for then, and the router does no early run that only
//! re-arms them. Empty: due when published, as every row before this.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Outbox {
    Table,
    RunAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .add_column(timestamp_with_time_zone_null(Outbox::RunAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .drop_column(Outbox::RunAt)
                    .to_owned(),
            )
            .await
    }
}
