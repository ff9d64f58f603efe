//! Residents, staff accounts, lawyers' community signings and refresh tokens.

use super::m20261124_000001_organisation::{LawFirms, OrgUnits};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Residents {
    Table,
    Id,
    Openid,
    Unionid,
    CreatedAt,
    LastLoginAt,
}

#[derive(DeriveIden)]
pub enum Staff {
    Table,
    Id,
    Username,
    PasswordHash,
    DisplayName,
    Role,
    OrgUnitId,
    LawFirmId,
    Active,
    CreatedAt,
}

#[derive(DeriveIden)]
pub enum LawyerSignings {
    Table,
    CommunityId,
    StaffId,
    CreatedAt,
}

#[derive(DeriveIden)]
pub enum RefreshTokens {
    Table,
    Id,
    TokenHash,
    SubjectKind,
    SubjectId,
    ExpiresAt,
    UsedAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Residents::Table)
                    .col(pk_uuid(Residents::Id))
                    .col(string_len_uniq(Residents::Openid, 64))
                    .col(string_len_null(Residents::Unionid, 64))
                    .col(timestamp_with_time_zone(Residents::CreatedAt))
                    .col(timestamp_with_time_zone(Residents::LastLoginAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Staff::Table)
                    .col(pk_uuid(Staff::Id))
                    .col(string_len_uniq(Staff::Username, 64))
                    .col(string_len(Staff::PasswordHash, 256))
                    .col(string_len(Staff::DisplayName, 64))
                    .col(string_len(Staff::Role, 16))
                    .col(uuid(Staff::OrgUnitId))
                    .col(uuid_null(Staff::LawFirmId))
                    .col(boolean(Staff::Active).default(true))
                    .col(timestamp_with_time_zone(Staff::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Staff::Table, Staff::OrgUnitId)
                            .to(OrgUnits::Table, OrgUnits::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Staff::Table, Staff::LawFirmId)
                            .to(LawFirms::Table, LawFirms::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // One signed lawyer per community (the primary key says so); a lawyer
        // may be signed to several communities.
        manager
            .create_table(
                Table::create()
                    .table(LawyerSignings::Table)
                    .col(uuid(LawyerSignings::CommunityId).primary_key())
                    .col(uuid(LawyerSignings::StaffId))
                    .col(timestamp_with_time_zone(LawyerSignings::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(LawyerSignings::Table, LawyerSignings::CommunityId)
                            .to(OrgUnits::Table, OrgUnits::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(LawyerSignings::Table, LawyerSignings::StaffId)
                            .to(Staff::Table, Staff::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(pk_uuid(RefreshTokens::Id))
                    // SHA-256 of the token: a database leak yields no usable tokens.
                    .col(string_len_uniq(RefreshTokens::TokenHash, 64))
                    .col(string_len(RefreshTokens::SubjectKind, 16))
                    .col(uuid(RefreshTokens::SubjectId))
                    .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::UsedAt))
                    .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            RefreshTokens::Table.into_iden(),
            LawyerSignings::Table.into_iden(),
            Staff::Table.into_iden(),
            Residents::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
