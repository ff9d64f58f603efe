//! Tip reports (线索举报): the report and its triage, photos (metadata
//! stripped, hashed on receipt), "me too" supporters, screening counts per
//! reporter pseudonym, stored photo bytes for multi-instance production,
//! and Open311 client keys.
//!
//! Anonymous tips hold no resident id anywhere: `cases.resident_id` stays
//! NULL, and the only trace of the reporter is `reporter_key`, a keyed hash
//! (HMAC with a server secret) that lets screening and rate limits count
//! without knowing who it is.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tips {
    Table,
    CaseId,
    Description,
    /// WGS-84, whatever the client sent (converted on the way in).
    Lat,
    Lng,
    /// The datum the client sent: wgs84 | gcj02 | bd09.
    Datum,
    AddressText,
    Anonymous,
    /// HMAC of the reporter's resident id: screening and limits, no identity.
    ReporterKey,
    /// HMAC of (reporter, Idempotency-Key): a retried submission finds its tip.
    SubmissionKey,
    RequestHash,
    /// SHA-256 of the anonymous reporter's tracking token (the token itself
    /// is derived from the case id with a server key and never stored).
    TrackingTokenHash,
    /// The reporter's tips were mostly unfounded when this one arrived.
    Flagged,
    /// valid | unfounded | not_police_matter
    TriageVerdict,
    TriageNote,
    ReferredTo,
    DuplicateOf,
    ConvertedTo,
    /// The mediation whose public-order flag opened this tip.
    SourceCaseId,
    /// The officer's closing note to the reporter.
    CloseNote,
    Supporters,
    /// Which channel filed it: app | open311 | mediation
    Channel,
}

#[derive(DeriveIden)]
enum TipPhotos {
    Table,
    Id,
    CaseId,
    /// jpeg | png | webp, sniffed from the bytes.
    Kind,
    Bytes,
    /// SHA-256 of the stored (metadata-stripped) bytes: the receipt.
    Sha256,
    ReceivedAt,
    /// reporter | staff
    AddedBy,
    StorageKey,
}

#[derive(DeriveIden)]
enum PhotoBlobs {
    Table,
    Key,
    Bytes,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TipSupporters {
    Table,
    CaseId,
    SupporterKey,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TipReporters {
    Table,
    ReporterKey,
    Triaged,
    Unfounded,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Open311Keys {
    Table,
    Id,
    Name,
    /// SHA-256 of the key; the key is shown once when issued.
    KeyHash,
    CreatedBy,
    CreatedAt,
    RevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tips::Table)
                    .col(uuid(Tips::CaseId).primary_key())
                    .col(text(Tips::Description))
                    .col(double_null(Tips::Lat))
                    .col(double_null(Tips::Lng))
                    .col(string_len_null(Tips::Datum, 8))
                    .col(text_null(Tips::AddressText))
                    .col(boolean(Tips::Anonymous))
                    .col(string_len_null(Tips::ReporterKey, 64))
                    .col(string_len_null(Tips::SubmissionKey, 64).unique_key())
                    .col(string_len_null(Tips::RequestHash, 64))
                    .col(string_len_null(Tips::TrackingTokenHash, 64).unique_key())
                    .col(boolean(Tips::Flagged).default(false))
                    .col(string_len_null(Tips::TriageVerdict, 24))
                    .col(text_null(Tips::TriageNote))
                    .col(text_null(Tips::ReferredTo))
                    .col(uuid_null(Tips::DuplicateOf))
                    .col(uuid_null(Tips::ConvertedTo))
                    .col(uuid_null(Tips::SourceCaseId))
                    .col(text_null(Tips::CloseNote))
                    .col(integer(Tips::Supporters).default(0))
                    .col(string_len(Tips::Channel, 16).default("app"))
                    .to_owned(),
            )
            .await?;
        // Likely duplicates: a latitude band first, then the exact distance.
        manager
            .create_index(
                Index::create()
                    .name("tips_by_latitude")
                    .table(Tips::Table)
                    .col(Tips::Lat)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TipPhotos::Table)
                    .col(pk_uuid(TipPhotos::Id))
                    .col(uuid(TipPhotos::CaseId))
                    .col(string_len(TipPhotos::Kind, 8))
                    .col(integer(TipPhotos::Bytes))
                    .col(string_len(TipPhotos::Sha256, 64))
                    .col(timestamp_with_time_zone(TipPhotos::ReceivedAt))
                    .col(string_len(TipPhotos::AddedBy, 16))
                    .col(string_len(TipPhotos::StorageKey, 80))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("tip_photos_by_case")
                    .table(TipPhotos::Table)
                    .col(TipPhotos::CaseId)
                    .col(TipPhotos::ReceivedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PhotoBlobs::Table)
                    .col(string_len(PhotoBlobs::Key, 80).primary_key())
                    .col(blob(PhotoBlobs::Bytes))
                    .col(timestamp_with_time_zone(PhotoBlobs::CreatedAt))
                    .to_owned(),
            )
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
            .create_table(
                Table::create()
                    .table(Open311Keys::Table)
                    .col(pk_uuid(Open311Keys::Id))
                    .col(string_len(Open311Keys::Name, 64))
                    .col(string_len(Open311Keys::KeyHash, 64).unique_key())
                    .col(uuid(Open311Keys::CreatedBy))
                    .col(timestamp_with_time_zone(Open311Keys::CreatedAt))
                    .col(timestamp_with_time_zone_null(Open311Keys::RevokedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Open311Keys::Table.into_iden(),
            TipReporters::Table.into_iden(),
            TipSupporters::Table.into_iden(),
            PhotoBlobs::Table.into_iden(),
            TipPhotos::Table.into_iden(),
            Tips::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
