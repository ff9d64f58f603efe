//! Which tip categories Open311's public `GET requests` lists: filled from
//! `data/categories.json` (`open311_public`, inherited by sub-items) by the
//! catalogue sync. False by default: nothing is public unless the file says so.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Categories {
    Table,
    Open311Public,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Categories::Table)
                    .add_column(boolean(Categories::Open311Public).default(false))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Categories::Table)
                    .drop_column(Categories::Open311Public)
                    .to_owned(),
            )
            .await
    }
}
