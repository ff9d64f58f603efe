//! Anonymity by construction (docs/anonymity.md). An anonymous tip keeps no
//! pseudonym of its reporter: screening moves to window-scoped tables whose
//! rows are deleted when their week ends.
//!
//! - `tips.reporter_key` goes: it held one pseudonym per resident on named
//!   and anonymous tips alike, so one self-join linked them.
//! - `tip_reporters` is rebuilt keyed by a window pseudonym (the old
//!   permanent pseudonyms are dropped with it); `tip_screening` links an
//!   anonymous tip to its window pseudonym until the window ends.
//! - `tip_supporters` ("me too") is rebuilt keyed by a pseudonym of the
//!   resident and the tip in a window (the old key was one per resident,
//!   joining everything a resident supported); its rows go with the window.
//! - Request ids of anonymous reporters' events (and the outbox rows they
//!   wrote) are cleared: a client's `X-Request-Id` can carry its identity.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tips {
    Table,
    ReporterKey,
}

#[derive(DeriveIden)]
enum TipReporters {
    Table,
    ReporterKey,
    Triaged,
    Unfounded,
    UpdatedAt,
    /// The screening window the pseudonym belongs to.
    ScreeningWindow,
}

#[derive(DeriveIden)]
enum TipScreening {
    Table,
    CaseId,
    /// This window's pseudonym of the anonymous reporter.
    ReporterKey,
    ScreeningWindow,
}

#[derive(DeriveIden)]
enum TipSupporters {
    Table,
    CaseId,
    SupporterKey,
    CreatedAt,
    ScreeningWindow,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE outbox SET request_id = NULL WHERE request_id IN \
             (SELECT request_id FROM case_events WHERE actor_kind = 'reporter' AND request_id IS NOT NULL)",
        )
        .await?;
        db.execute_unprepared(
            "UPDATE case_events SET request_id = NULL WHERE actor_kind = 'reporter'",
        )
        .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tips::Table)
                    .drop_column(Tips::ReporterKey)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(TipReporters::Table).to_owned())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TipReporters::Table)
                    .col(string_len(TipReporters::ReporterKey, 64).primary_key())
                    .col(big_integer(TipReporters::ScreeningWindow))
                    .col(integer(TipReporters::Triaged).default(0))
                    .col(integer(TipReporters::Unfounded).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("tip_reporters_by_window")
                    .table(TipReporters::Table)
                    .col(TipReporters::ScreeningWindow)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TipScreening::Table)
                    .col(uuid(TipScreening::CaseId).primary_key())
                    .col(string_len(TipScreening::ReporterKey, 64))
                    .col(big_integer(TipScreening::ScreeningWindow))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("tip_screening_by_window")
                    .table(TipScreening::Table)
                    .col(TipScreening::ScreeningWindow)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(TipSupporters::Table).to_owned())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TipSupporters::Table)
                    .col(uuid(TipSupporters::CaseId))
                    .col(string_len(TipSupporters::SupporterKey, 64))
                    .col(big_integer(TipSupporters::ScreeningWindow))
                    .primary_key(
                        Index::create()
                            .col(TipSupporters::CaseId)
                            .col(TipSupporters::SupporterKey),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("tip_supporters_by_window")
                    .table(TipSupporters::Table)
                    .col(TipSupporters::ScreeningWindow)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TipSupporters::Table).to_owned())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TipSupporters::Table)
                    .col(uuid(TipSupporters::CaseId))
                    .col(string_len(TipSupporters::SupporterKey, 64))
                    .col(timestamp_with_time_zone(TipSupporters::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(TipSupporters::CaseId)
                            .col(TipSupporters::SupporterKey),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(TipScreening::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(TipReporters::Table).to_owned())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TipReporters::Table)
                    .col(string_len(TipReporters::ReporterKey, 64).primary_key())
                    .col(integer(TipReporters::Triaged).default(0))
                    .col(integer(TipReporters::Unfounded).default(0))
                    .col(timestamp_with_time_zone(TipReporters::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tips::Table)
                    .add_column(string_len_null(Tips::ReporterKey, 64))
                    .to_owned(),
            )
            .await
    }
}
