//! Calendar years imported as data (issue #14, item 3).
//!
//! - `calendar_years`: one row per imported year: where it came from, whether
//!   it is provisional, when and by whom it was imported, and the checked
//!   notice itself (canonical JSON), so importing the same notice again is
//!   recognised and changes nothing.
//! - `calendar_days.imported_year`: the year whose import wrote the day;
//!   `NULL` for a day an administrator entered by hand (`PUT
//!   /admin/calendar/{day}`). A re-import replaces only its own year's
//!   imported days and leaves hand-entered ones as they are.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CalendarYears {
    Table,
    Year,
    Source,
    Provisional,
    Notice,
    ImportedAt,
    ImportedBy,
}

#[derive(DeriveIden)]
enum CalendarDays {
    Table,
    ImportedYear,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CalendarYears::Table)
                    .col(integer(CalendarYears::Year).primary_key())
                    .col(string_len(CalendarYears::Source, 256))
                    .col(boolean(CalendarYears::Provisional))
                    .col(text(CalendarYears::Notice))
                    .col(timestamp_with_time_zone(CalendarYears::ImportedAt))
                    .col(string_len(CalendarYears::ImportedBy, 128))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(CalendarDays::Table)
                    .add_column(integer_null(CalendarDays::ImportedYear))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(CalendarDays::Table)
                    .drop_column(CalendarDays::ImportedYear)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(CalendarYears::Table).to_owned())
            .await
    }
}
