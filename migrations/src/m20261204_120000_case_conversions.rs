//! Conversions (三所联动): a lawyer turns a consultation into a mediation
//! (proposed, then consented to or refused by the resident) or into a tip
//! (at once). One row per proposal: what the new case will hold until the
//! resident answers (`proposal`, JSON, the parties sealed as on a
//! mediation), where it stands, and the case it became. The partial unique
//! index lets a consultation have at most one live conversion (proposed or
//! done); a refused one leaves room for another proposal.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CaseConversions {
    Table,
    Id,
    FromCaseId,
    ToService,
    Status,
    Proposal,
    ProposedBy,
    ProposedAt,
    AnsweredAt,
    ToCaseId,
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CaseConversions::Table)
                    .col(uuid(CaseConversions::Id).primary_key())
                    .col(uuid(CaseConversions::FromCaseId))
                    .col(string_len(CaseConversions::ToService, 16))
                    .col(string_len(CaseConversions::Status, 16))
                    .col(text(CaseConversions::Proposal))
                    .col(uuid(CaseConversions::ProposedBy))
                    .col(timestamp_with_time_zone(CaseConversions::ProposedAt))
                    .col(timestamp_with_time_zone_null(CaseConversions::AnsweredAt))
                    .col(uuid_null(CaseConversions::ToCaseId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CaseConversions::Table, CaseConversions::FromCaseId)
                            .to(Cases::Table, Cases::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CaseConversions::Table, CaseConversions::ToCaseId)
                            .to(Cases::Table, Cases::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("case_conversions_from")
                    .table(CaseConversions::Table)
                    .col(CaseConversions::FromCaseId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("case_conversions_to")
                    .table(CaseConversions::Table)
                    .col(CaseConversions::ToCaseId)
                    .to_owned(),
            )
            .await?;
        // The database, not the code, forbids converting a case twice.
        // Partial indexes read the same in PostgreSQL and SQLite.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX case_conversions_one_live ON case_conversions (from_case_id) WHERE status <> 'refused'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CaseConversions::Table).to_owned())
            .await
    }
}
