//! 督办 and 延期: `case_supervisions` holds each supervision of a case (the
//! unit whose coordinators hold it, its level, deadline and note, when its
//! deadline was missed and when it ended); `case_extensions` each request
//! for more time on a case's resolution target and its decision;
//! `cases.sla_extension_minutes` the business minutes granted so far, which
//! the resolution clock adds to its target. Partial unique indexes (read
//! the same by PostgreSQL and SQLite) allow one live supervision and one
//! pending extension per case.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CaseSupervisions {
    Table,
    Id,
    CaseId,
    UnitId,
    Level,
    Deadline,
    Note,
    CreatedBy,
    CreatedAt,
    MissedAt,
    EndedAt,
}

#[derive(DeriveIden)]
enum CaseExtensions {
    Table,
    Id,
    CaseId,
    RequestedBy,
    Reason,
    ExtraMinutes,
    Status,
    DecidedBy,
    DecidedAt,
    DecisionNote,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    Id,
    SlaExtensionMinutes,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Cases::Table)
                    .add_column(integer(Cases::SlaExtensionMinutes).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CaseSupervisions::Table)
                    .col(uuid(CaseSupervisions::Id).primary_key())
                    .col(uuid(CaseSupervisions::CaseId))
                    .col(uuid(CaseSupervisions::UnitId))
                    .col(integer(CaseSupervisions::Level).default(0))
                    .col(timestamp_with_time_zone(CaseSupervisions::Deadline))
                    .col(text_null(CaseSupervisions::Note))
                    .col(uuid_null(CaseSupervisions::CreatedBy))
                    .col(timestamp_with_time_zone(CaseSupervisions::CreatedAt))
                    .col(timestamp_with_time_zone_null(CaseSupervisions::MissedAt))
                    .col(timestamp_with_time_zone_null(CaseSupervisions::EndedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CaseSupervisions::Table, CaseSupervisions::CaseId)
                            .to(Cases::Table, Cases::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CaseExtensions::Table)
                    .col(uuid(CaseExtensions::Id).primary_key())
                    .col(uuid(CaseExtensions::CaseId))
                    .col(uuid(CaseExtensions::RequestedBy))
                    .col(text(CaseExtensions::Reason))
                    .col(integer(CaseExtensions::ExtraMinutes))
                    .col(string_len(CaseExtensions::Status, 16))
                    .col(uuid_null(CaseExtensions::DecidedBy))
                    .col(timestamp_with_time_zone_null(CaseExtensions::DecidedAt))
                    .col(text_null(CaseExtensions::DecisionNote))
                    .col(timestamp_with_time_zone(CaseExtensions::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CaseExtensions::Table, CaseExtensions::CaseId)
                            .to(Cases::Table, Cases::Id),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE UNIQUE INDEX case_supervisions_one_live ON case_supervisions (case_id) WHERE ended_at IS NULL",
        )
        .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX case_extensions_one_pending ON case_extensions (case_id) WHERE status = 'pending'",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CaseExtensions::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(CaseSupervisions::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Cases::Table)
                    .drop_column(Cases::SlaExtensionMinutes)
                    .to_owned(),
            )
            .await
    }
}
