//! A district set up and changed through the API alone.
//!
//! - `org_units.active`: a deactivated unit takes no new work (residents
//!   cannot submit to a deactivated community, its QR scene opens nothing)
//!   and keeps its history. Deactivation is refused while open work would be
//!   orphaned (`store::org::Org::deactivate_unit`).
//! - `categories.edited_at`: set when an administrator edits a category; the
//!   start-up sync from `data/categories.json` then leaves that row alone
//!   (as `workflows.edited_at` does for workflows), so an edit outlives
//!   restarts.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OrgUnits {
    Table,
    Active,
}

#[derive(DeriveIden)]
enum Categories {
    Table,
    EditedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(OrgUnits::Table)
                    .add_column(boolean(OrgUnits::Active).default(true))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Categories::Table)
                    .add_column(timestamp_with_time_zone_null(Categories::EditedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Categories::Table)
                    .drop_column(Categories::EditedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(OrgUnits::Table)
                    .drop_column(OrgUnits::Active)
                    .to_owned(),
            )
            .await
    }
}
