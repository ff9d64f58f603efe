//! Mediation bookings (预约调解): the application and its outcome, the
//! parties (names and contacts sealed), sessions in rooms, and the booking
//! slots that make a double booking impossible in the database itself.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Mediations {
    Table,
    CaseId,
    Facts,
    Claims,
    /// JSON list of `{"from", "to"}` windows the applicant prefers.
    PreferredTimes,
    /// The applicant asks for a private session (不公开调解).
    Private,
    /// Relatives or others who should attend, as the applicant wrote it.
    Attendees,
    RequestedMediatorId,
    /// Comma-separated staff ids the applicant refused (回避).
    RefusedMediatorIds,
    RefusalGround,
    Referral,
    /// agreement_written | agreement_oral | terminated
    Outcome,
    AgreementTerms,
    PerformanceMethod,
    PerformBy,
    EffectiveOn,
    TerminationReason,
    /// Comma-separated routes told to the parties: arbitration, administrative, court.
    OtherRoutes,
    ConfirmationAppliedOn,
    ConfirmationCourt,
    ConfirmationRuling,
    VisitDue,
    VisitedAt,
    /// performed | partly | not_performed
    PerformanceStatus,
    Satisfaction,
    /// Risk of a public-order or criminal matter: the officer was told.
    PublicOrderRisk,
    ConcludedAt,
}

#[derive(DeriveIden)]
enum MediationParties {
    Table,
    Id,
    CaseId,
    /// applicant | respondent | other
    Role,
    NameSealed,
    NameMasked,
    ContactSealed,
    ContactMasked,
}

#[derive(DeriveIden)]
enum MediationSessions {
    Table,
    Id,
    CaseId,
    RoomId,
    MediatorId,
    StartsAt,
    EndsAt,
    /// scheduled | held | cancelled
    Status,
    Attendees,
    Minutes,
    CancelReason,
    CreatedAt,
}

#[derive(DeriveIden)]
enum BookingSlots {
    Table,
    /// room | mediator
    ResourceKind,
    ResourceId,
    SlotStart,
    SessionId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Mediations::Table)
                    .col(uuid(Mediations::CaseId).primary_key())
                    .col(text(Mediations::Facts))
                    .col(text(Mediations::Claims))
                    .col(text(Mediations::PreferredTimes))
                    .col(boolean(Mediations::Private).default(false))
                    .col(text_null(Mediations::Attendees))
                    .col(uuid_null(Mediations::RequestedMediatorId))
                    .col(text(Mediations::RefusedMediatorIds).default(""))
                    .col(string_len_null(Mediations::RefusalGround, 32))
                    .col(text_null(Mediations::Referral))
                    .col(string_len_null(Mediations::Outcome, 24))
                    .col(text_null(Mediations::AgreementTerms))
                    .col(text_null(Mediations::PerformanceMethod))
                    .col(date_null(Mediations::PerformBy))
                    .col(date_null(Mediations::EffectiveOn))
                    .col(text_null(Mediations::TerminationReason))
                    .col(text(Mediations::OtherRoutes).default(""))
                    .col(date_null(Mediations::ConfirmationAppliedOn))
                    .col(text_null(Mediations::ConfirmationCourt))
                    .col(text_null(Mediations::ConfirmationRuling))
                    .col(date_null(Mediations::VisitDue))
                    .col(timestamp_with_time_zone_null(Mediations::VisitedAt))
                    .col(string_len_null(Mediations::PerformanceStatus, 24))
                    .col(small_integer_null(Mediations::Satisfaction))
                    .col(boolean(Mediations::PublicOrderRisk).default(false))
                    .col(timestamp_with_time_zone_null(Mediations::ConcludedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MediationParties::Table)
                    .col(pk_uuid(MediationParties::Id))
                    .col(uuid(MediationParties::CaseId))
                    .col(string_len(MediationParties::Role, 16))
                    .col(text(MediationParties::NameSealed))
                    .col(string_len(MediationParties::NameMasked, 64))
                    .col(text_null(MediationParties::ContactSealed))
                    .col(string_len_null(MediationParties::ContactMasked, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("mediation_parties_by_case")
                    .table(MediationParties::Table)
                    .col(MediationParties::CaseId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MediationSessions::Table)
                    .col(pk_uuid(MediationSessions::Id))
                    .col(uuid(MediationSessions::CaseId))
                    .col(uuid(MediationSessions::RoomId))
                    .col(uuid(MediationSessions::MediatorId))
                    .col(timestamp_with_time_zone(MediationSessions::StartsAt))
                    .col(timestamp_with_time_zone(MediationSessions::EndsAt))
                    .col(string_len(MediationSessions::Status, 16))
                    .col(text_null(MediationSessions::Attendees))
                    .col(text_null(MediationSessions::Minutes))
                    .col(text_null(MediationSessions::CancelReason))
                    .col(timestamp_with_time_zone(MediationSessions::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("mediation_sessions_by_case")
                    .table(MediationSessions::Table)
                    .col(MediationSessions::CaseId)
                    .col(MediationSessions::StartsAt)
                    .to_owned(),
            )
            .await?;
        // One row per busy half hour of a room or a mediator. The primary key
        // is the guarantee: of two bookings covering one slot, the second
        // insert fails and its whole transaction rolls back.
        manager
            .create_table(
                Table::create()
                    .table(BookingSlots::Table)
                    .col(string_len(BookingSlots::ResourceKind, 16))
                    .col(uuid(BookingSlots::ResourceId))
                    .col(timestamp_with_time_zone(BookingSlots::SlotStart))
                    .col(uuid(BookingSlots::SessionId))
                    .primary_key(
                        Index::create()
                            .col(BookingSlots::ResourceKind)
                            .col(BookingSlots::ResourceId)
                            .col(BookingSlots::SlotStart),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("booking_slots_by_session")
                    .table(BookingSlots::Table)
                    .col(BookingSlots::SessionId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            BookingSlots::Table.into_iden(),
            MediationSessions::Table.into_iden(),
            MediationParties::Table.into_iden(),
            Mediations::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
