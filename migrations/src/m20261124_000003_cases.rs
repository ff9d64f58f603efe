//! Cases (work orders), consultations, their history, thread, offers,
//! idempotency keys and the transactional outbox.

use super::m20261124_000001_organisation::{Categories, OrgUnits};
use super::m20261124_000002_identity::{Residents, Staff};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Cases {
    Table,
    Id,
    Service,
    CommunityId,
    CategoryCode,
    ResidentId,
    Status,
    OwnerStaffId,
    PoolUnitId,
    Version,
    CreatedAt,
    UpdatedAt,
    AcceptedAt,
    AnsweredAt,
    ResolvedAt,
    ClosedAt,
}

#[derive(DeriveIden)]
enum Consultations {
    Table,
    CaseId,
    Question,
    RatingStars,
    RatingComment,
    RatedAt,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    ResidentId,
    Key,
    RequestHash,
    CaseId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CaseEvents {
    Table,
    Id,
    CaseId,
    Action,
    FromStatus,
    ToStatus,
    ActorKind,
    ActorId,
    Reason,
    Public,
    RequestId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CaseMessages {
    Table,
    Id,
    CaseId,
    AuthorKind,
    AuthorId,
    Body,
    Visibility,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Offers {
    Table,
    Id,
    CaseId,
    StaffId,
    Status,
    CreatedAt,
    ExpiresAt,
    RespondedAt,
    DeclineReason,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    Topic,
    Payload,
    RequestId,
    CreatedAt,
    PublishedAt,
    Attempts,
}

fn fk(
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to.0, to.1)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Cases::Table)
                    .col(pk_uuid(Cases::Id))
                    // consultation | mediation | tip
                    .col(string_len(Cases::Service, 16))
                    .col(uuid(Cases::CommunityId))
                    .col(string_len(Cases::CategoryCode, 16))
                    .col(uuid_null(Cases::ResidentId))
                    .col(string_len(Cases::Status, 24))
                    // One column, so one owner: two owners are unrepresentable.
                    .col(uuid_null(Cases::OwnerStaffId))
                    // The street or district whose firm pool may claim it.
                    .col(uuid_null(Cases::PoolUnitId))
                    // Bumped by every guarded update (optimistic concurrency).
                    .col(integer(Cases::Version).default(0))
                    .col(timestamp_with_time_zone(Cases::CreatedAt))
                    .col(timestamp_with_time_zone(Cases::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Cases::AcceptedAt))
                    .col(timestamp_with_time_zone_null(Cases::AnsweredAt))
                    .col(timestamp_with_time_zone_null(Cases::ResolvedAt))
                    .col(timestamp_with_time_zone_null(Cases::ClosedAt))
                    .foreign_key(&mut fk(
                        (Cases::Table, Cases::CommunityId),
                        (OrgUnits::Table, OrgUnits::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Cases::Table, Cases::CategoryCode),
                        (Categories::Table, Categories::Code),
                    ))
                    .foreign_key(&mut fk(
                        (Cases::Table, Cases::ResidentId),
                        (Residents::Table, Residents::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Cases::Table, Cases::OwnerStaffId),
                        (Staff::Table, Staff::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        // "My consultations", newest first, paginated by id (UUID v7 = time order).
        manager
            .create_index(
                Index::create()
                    .name("cases_resident")
                    .table(Cases::Table)
                    .col(Cases::ResidentId)
                    .col(Cases::Id)
                    .to_owned(),
            )
            .await?;
        // "My cases" for staff.
        manager
            .create_index(
                Index::create()
                    .name("cases_owner")
                    .table(Cases::Table)
                    .col(Cases::OwnerStaffId)
                    .col(Cases::Id)
                    .to_owned(),
            )
            .await?;
        // The pool, and the reconciler's scan of cases waiting in a status.
        manager
            .create_index(
                Index::create()
                    .name("cases_status_pool")
                    .table(Cases::Table)
                    .col(Cases::Status)
                    .col(Cases::PoolUnitId)
                    .col(Cases::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Consultations::Table)
                    .col(uuid(Consultations::CaseId).primary_key())
                    .col(text(Consultations::Question))
                    .col(small_integer_null(Consultations::RatingStars))
                    .col(text_null(Consultations::RatingComment))
                    .col(timestamp_with_time_zone_null(Consultations::RatedAt))
                    .foreign_key(&mut fk(
                        (Consultations::Table, Consultations::CaseId),
                        (Cases::Table, Cases::Id),
                    ))
                    .to_owned(),
            )
            .await?;

        // A retried submission with the same key finds its case here instead
        // of creating a second one; the primary key decides concurrent retries.
        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(uuid(IdempotencyKeys::ResidentId))
                    .col(string_len(IdempotencyKeys::Key, 128))
                    .col(string_len(IdempotencyKeys::RequestHash, 64))
                    .col(uuid(IdempotencyKeys::CaseId))
                    .col(timestamp_with_time_zone(IdempotencyKeys::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(IdempotencyKeys::ResidentId)
                            .col(IdempotencyKeys::Key),
                    )
                    .foreign_key(&mut fk(
                        (IdempotencyKeys::Table, IdempotencyKeys::CaseId),
                        (Cases::Table, Cases::Id),
                    ))
                    .to_owned(),
            )
            .await?;

        // Append-only history: the case file (卷宗).
        manager
            .create_table(
                Table::create()
                    .table(CaseEvents::Table)
                    .col(pk_uuid(CaseEvents::Id))
                    .col(uuid(CaseEvents::CaseId))
                    .col(string_len(CaseEvents::Action, 32))
                    .col(string_len_null(CaseEvents::FromStatus, 24))
                    .col(string_len(CaseEvents::ToStatus, 24))
                    .col(string_len(CaseEvents::ActorKind, 16))
                    .col(uuid_null(CaseEvents::ActorId))
                    .col(text_null(CaseEvents::Reason))
                    .col(boolean(CaseEvents::Public))
                    .col(string_len_null(CaseEvents::RequestId, 64))
                    .col(timestamp_with_time_zone(CaseEvents::CreatedAt))
                    .foreign_key(&mut fk(
                        (CaseEvents::Table, CaseEvents::CaseId),
                        (Cases::Table, Cases::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("case_events_case")
                    .table(CaseEvents::Table)
                    .col(CaseEvents::CaseId)
                    .col(CaseEvents::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CaseMessages::Table)
                    .col(pk_uuid(CaseMessages::Id))
                    .col(uuid(CaseMessages::CaseId))
                    .col(string_len(CaseMessages::AuthorKind, 16))
                    .col(uuid(CaseMessages::AuthorId))
                    .col(text(CaseMessages::Body))
                    // public | internal (internal notes never reach the resident)
                    .col(string_len(CaseMessages::Visibility, 16))
                    .col(timestamp_with_time_zone(CaseMessages::CreatedAt))
                    .foreign_key(&mut fk(
                        (CaseMessages::Table, CaseMessages::CaseId),
                        (Cases::Table, Cases::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("case_messages_case")
                    .table(CaseMessages::Table)
                    .col(CaseMessages::CaseId)
                    .col(CaseMessages::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Offers::Table)
                    .col(pk_uuid(Offers::Id))
                    .col(uuid(Offers::CaseId))
                    .col(uuid(Offers::StaffId))
                    // pending | accepted | declined | expired | cancelled
                    .col(string_len(Offers::Status, 16))
                    .col(timestamp_with_time_zone(Offers::CreatedAt))
                    .col(timestamp_with_time_zone(Offers::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Offers::RespondedAt))
                    .col(text_null(Offers::DeclineReason))
                    .foreign_key(&mut fk(
                        (Offers::Table, Offers::CaseId),
                        (Cases::Table, Cases::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Offers::Table, Offers::StaffId),
                        (Staff::Table, Staff::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("offers_staff_status")
                    .table(Offers::Table)
                    .col(Offers::StaffId)
                    .col(Offers::Status)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("offers_case")
                    .table(Offers::Table)
                    .col(Offers::CaseId)
                    .to_owned(),
            )
            .await?;
        // The database, not the code, forbids a second live offer for a case.
        // Partial indexes read the same in PostgreSQL and SQLite.
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE UNIQUE INDEX offers_one_pending_per_case ON offers (case_id) WHERE status = 'pending'",
        )
        .await?;
        db.execute_unprepared(
            "CREATE INDEX offers_pending_expiry ON offers (expires_at) WHERE status = 'pending'",
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(big_pk_auto(Outbox::Id))
                    .col(string_len(Outbox::Topic, 32))
                    .col(text(Outbox::Payload))
                    .col(string_len_null(Outbox::RequestId, 64))
                    .col(timestamp_with_time_zone(Outbox::CreatedAt))
                    .col(timestamp_with_time_zone_null(Outbox::PublishedAt))
                    .col(integer(Outbox::Attempts).default(0))
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared(
            "CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Outbox::Table.into_iden(),
            Offers::Table.into_iden(),
            CaseMessages::Table.into_iden(),
            CaseEvents::Table.into_iden(),
            IdempotencyKeys::Table.into_iden(),
            Consultations::Table.into_iden(),
            Cases::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
