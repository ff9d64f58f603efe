//! Routing rules as data: workflows (service, SLA targets, escalation
//! ladder), the rules on each category, and the public-holiday calendar.

use super::m20261124_000001_organisation::Categories;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Workflows {
    Table,
    Name,
    Service,
    SlaAcceptMinutes,
    SlaFirstResponseMinutes,
    SlaResolutionMinutes,
    /// The ladder's steps as JSON (validated by the domain on load).
    Ladder,
}

#[derive(DeriveIden)]
enum CategoryRules {
    Priority,
    AnonymousAllowed,
    Urgent,
    Workflows,
}

#[derive(DeriveIden)]
enum CalendarDays {
    Table,
    Day,
    Kind,
    Source,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Workflows::Table)
                    .col(string_len(Workflows::Name, 64).primary_key())
                    .col(string_len(Workflows::Service, 16))
                    .col(integer(Workflows::SlaAcceptMinutes))
                    .col(integer(Workflows::SlaFirstResponseMinutes))
                    .col(integer(Workflows::SlaResolutionMinutes))
                    .col(text(Workflows::Ladder))
                    .to_owned(),
            )
            .await?;
        // SQLite alters one column per statement.
        for column in [
            integer(CategoryRules::Priority).default(0).to_owned(),
            boolean(CategoryRules::AnonymousAllowed)
                .default(false)
                .to_owned(),
            boolean(CategoryRules::Urgent).default(false).to_owned(),
            // Comma-separated workflow names, at most one per service.
            string_len(CategoryRules::Workflows, 256)
                .default("")
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Categories::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        // Public holidays and make-up working days (调休), per date.
        manager
            .create_table(
                Table::create()
                    .table(CalendarDays::Table)
                    .col(date(CalendarDays::Day).primary_key())
                    // holiday | workday
                    .col(string_len(CalendarDays::Kind, 16))
                    .col(string_len(CalendarDays::Source, 256))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CalendarDays::Table).to_owned())
            .await?;
        for column in [
            CategoryRules::Workflows.into_iden(),
            CategoryRules::Urgent.into_iden(),
            CategoryRules::AnonymousAllowed.into_iden(),
            CategoryRules::Priority.into_iden(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Categories::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(Workflows::Table).to_owned())
            .await
    }
}
