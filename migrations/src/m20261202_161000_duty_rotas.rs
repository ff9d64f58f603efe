//! Recurring duty rotas (排班): one per unit, a weekly pattern plus dated
//! exceptions, stored as written (`spec`, the JSON of
//! `domain::rota::RotaSpec`) and read by dispatch as it stands, so nothing
//! is materialised and a replaced rota counts from the next case on.
//! `duty_rota_staff` lists everyone a rota names, so dispatch finds the
//! rotas of the people it weighs with one indexed read.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DutyRotas {
    Table,
    OrgUnitId,
    Spec,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DutyRotaStaff {
    Table,
    OrgUnitId,
    StaffId,
}

#[derive(DeriveIden)]
enum OrgUnits {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Staff {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DutyRotas::Table)
                    .col(uuid(DutyRotas::OrgUnitId).primary_key())
                    .col(text(DutyRotas::Spec))
                    .col(timestamp_with_time_zone(DutyRotas::CreatedAt))
                    .col(timestamp_with_time_zone(DutyRotas::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(DutyRotas::Table, DutyRotas::OrgUnitId)
                            .to(OrgUnits::Table, OrgUnits::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DutyRotaStaff::Table)
                    .col(uuid(DutyRotaStaff::OrgUnitId))
                    .col(uuid(DutyRotaStaff::StaffId))
                    .primary_key(
                        Index::create()
                            .col(DutyRotaStaff::OrgUnitId)
                            .col(DutyRotaStaff::StaffId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(DutyRotaStaff::Table, DutyRotaStaff::OrgUnitId)
                            .to(DutyRotas::Table, DutyRotas::OrgUnitId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(DutyRotaStaff::Table, DutyRotaStaff::StaffId)
                            .to(Staff::Table, Staff::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("duty_rota_staff_staff")
                    .table(DutyRotaStaff::Table)
                    .col(DutyRotaStaff::StaffId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(DutyRotaStaff::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(DutyRotas::Table).to_owned())
            .await
    }
}
