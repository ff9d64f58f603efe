//! Where each case stands on its escalation ladder, and the SLA breaches
//! recorded against it: the routing engine's state in the system of record.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Cases {
    Table,
    /// The workflow (ladder + SLA targets) the case entered at submission.
    Workflow,
    /// Index into the workflow's ladder.
    LadderStep,
    StepEnteredAt,
    /// Category priority plus the boosts of every step climbed.
    Priority,
    /// Since when the case has been waiting for an owner (queue age).
    QueuedAt,
    /// Set when the case passed the last step: the coordinator's queue.
    UnroutedAt,
    PoolUnitId,
    Status,
}

#[derive(DeriveIden)]
enum Offers {
    Table,
    /// The ladder step the offer was made on: exclusions last one step.
    LadderStep,
}

#[derive(DeriveIden)]
enum SlaBreaches {
    Table,
    CaseId,
    /// accept | first_response | resolution
    Clock,
    LadderStep,
    DueAt,
    BreachedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        for column in [
            string_len_null(Cases::Workflow, 64).to_owned(),
            integer(Cases::LadderStep).default(0).to_owned(),
            timestamp_with_time_zone_null(Cases::StepEnteredAt).to_owned(),
            integer(Cases::Priority).default(0).to_owned(),
            timestamp_with_time_zone_null(Cases::QueuedAt).to_owned(),
            timestamp_with_time_zone_null(Cases::UnroutedAt).to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Cases::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Offers::Table)
                    .add_column(integer(Offers::LadderStep).default(0))
                    .to_owned(),
            )
            .await?;
        // "Next case": waiting cases of one unit, highest priority, oldest first.
        manager
            .create_index(
                Index::create()
                    .name("cases_waiting_by_unit")
                    .table(Cases::Table)
                    .col(Cases::PoolUnitId)
                    .col(Cases::Status)
                    .col(Cases::Priority)
                    .col(Cases::QueuedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SlaBreaches::Table)
                    .col(uuid(SlaBreaches::CaseId))
                    .col(string_len(SlaBreaches::Clock, 24))
                    .col(integer(SlaBreaches::LadderStep))
                    .col(timestamp_with_time_zone(SlaBreaches::DueAt))
                    .col(timestamp_with_time_zone(SlaBreaches::BreachedAt))
                    // A clock breaches once per case: timers are at-least-once.
                    .primary_key(
                        Index::create()
                            .col(SlaBreaches::CaseId)
                            .col(SlaBreaches::Clock),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("sla_breaches_by_time")
                    .table(SlaBreaches::Table)
                    .col(SlaBreaches::BreachedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SlaBreaches::Table).to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("cases_waiting_by_unit")
                    .table(Cases::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Offers::Table)
                    .drop_column(Offers::LadderStep)
                    .to_owned(),
            )
            .await?;
        for column in [
            Cases::Workflow,
            Cases::LadderStep,
            Cases::StepEnteredAt,
            Cases::Priority,
            Cases::QueuedAt,
            Cases::UnroutedAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Cases::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
