//! The organisation tree, law firms and the category tree.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum OrgUnits {
    Table,
    Id,
    Kind,
    ParentId,
    StationId,
    Name,
    Scene,
    Address,
    OfficeHours,
    Services,
    CreatedAt,
}

#[derive(DeriveIden)]
pub enum LawFirms {
    Table,
    Id,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
pub enum FirmSignings {
    Table,
    FirmId,
    OrgUnitId,
}

#[derive(DeriveIden)]
pub enum Categories {
    Table,
    Code,
    ParentCode,
    NameZh,
    NameEn,
    Services,
    SortOrder,
    Active,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OrgUnits::Table)
                    .col(pk_uuid(OrgUnits::Id))
                    // district | street | police_station | judicial_office | community | grid
                    .col(string_len(OrgUnits::Kind, 32))
                    .col(uuid_null(OrgUnits::ParentId))
                    // A community answers to a street (parent) and a police station.
                    .col(uuid_null(OrgUnits::StationId))
                    .col(string_len(OrgUnits::Name, 128))
                    // The QR code scene: an opaque id, unique, never personal data.
                    .col(string_len_uniq(OrgUnits::Scene, 32).null())
                    .col(string_len_null(OrgUnits::Address, 256))
                    .col(string_len_null(OrgUnits::OfficeHours, 128))
                    // Comma-separated services offered: consultation,mediation,tip
                    .col(string_len(OrgUnits::Services, 64).default(""))
                    .col(timestamp_with_time_zone(OrgUnits::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(OrgUnits::Table, OrgUnits::ParentId)
                            .to(OrgUnits::Table, OrgUnits::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(OrgUnits::Table, OrgUnits::StationId)
                            .to(OrgUnits::Table, OrgUnits::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("org_units_parent")
                    .table(OrgUnits::Table)
                    .col(OrgUnits::ParentId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LawFirms::Table)
                    .col(pk_uuid(LawFirms::Id))
                    .col(string_len(LawFirms::Name, 128))
                    .col(timestamp_with_time_zone(LawFirms::CreatedAt))
                    .to_owned(),
            )
            .await?;
        // A firm signed to a street or district supplies the lawyer pool there.
        manager
            .create_table(
                Table::create()
                    .table(FirmSignings::Table)
                    .col(uuid(FirmSignings::FirmId))
                    .col(uuid(FirmSignings::OrgUnitId))
                    .primary_key(
                        Index::create()
                            .col(FirmSignings::FirmId)
                            .col(FirmSignings::OrgUnitId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(FirmSignings::Table, FirmSignings::FirmId)
                            .to(LawFirms::Table, LawFirms::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(FirmSignings::Table, FirmSignings::OrgUnitId)
                            .to(OrgUnits::Table, OrgUnits::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Categories::Table)
                    .col(string_len(Categories::Code, 16).primary_key())
                    .col(string_len_null(Categories::ParentCode, 16))
                    .col(string_len(Categories::NameZh, 64))
                    .col(string_len(Categories::NameEn, 128))
                    .col(string_len(Categories::Services, 64))
                    .col(integer(Categories::SortOrder).default(0))
                    .col(boolean(Categories::Active).default(true))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Categories::Table, Categories::ParentCode)
                            .to(Categories::Table, Categories::Code),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Categories::Table.into_iden(),
            FirmSignings::Table.into_iden(),
            LawFirms::Table.into_iden(),
            OrgUnits::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
