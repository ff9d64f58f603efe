//! Content flags: resident text or photos that a content check found
//! doubtful or risky but that are not held back from the staff handling
//! the case (a tip's description and follow-ups, every resident photo,
//! a mediation application's facts). Each row is one item in
//! the review queue (`GET /admin/moderation`) until a coordinator decides
//! it; a rejected item stays hidden from resident-facing and public views.
//!
//! `kind` names the subject (`tip`, `tip_message`, `photo`, `mediation`;
//! more kinds need no schema change); `verdict`
//! what the check said (`review`, `risky`, or `unchecked` when no check
//! could be run, e.g. an anonymous tip); `status` is `review` until decided,
//! then `passed` or `rejected`. No reporter identity is stored here.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ContentFlags {
    Table,
    Id,
    Kind,
    SubjectId,
    CaseId,
    Verdict,
    Label,
    Status,
    CreatedAt,
    DecidedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ContentFlags::Table)
                    .col(uuid(ContentFlags::Id).primary_key())
                    .col(string_len(ContentFlags::Kind, 32))
                    .col(uuid(ContentFlags::SubjectId))
                    .col(uuid(ContentFlags::CaseId))
                    .col(string_len(ContentFlags::Verdict, 16))
                    .col(big_integer_null(ContentFlags::Label))
                    .col(string_len(ContentFlags::Status, 16))
                    .col(timestamp_with_time_zone(ContentFlags::CreatedAt))
                    .col(timestamp_with_time_zone_null(ContentFlags::DecidedAt))
                    .to_owned(),
            )
            .await?;
        // One flag per subject: a repeated check or push changes nothing.
        manager
            .create_index(
                Index::create()
                    .name("content_flags_subject")
                    .table(ContentFlags::Table)
                    .col(ContentFlags::Kind)
                    .col(ContentFlags::SubjectId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("content_flags_status")
                    .table(ContentFlags::Table)
                    .col(ContentFlags::Status)
                    .col(ContentFlags::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("content_flags_case")
                    .table(ContentFlags::Table)
                    .col(ContentFlags::CaseId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ContentFlags::Table).to_owned())
            .await
    }
}
