//! What the router needs to know about staff: the units they work for,
//! their skills, capacity, presence and fairness clock; the duty roster;
//! mediation rooms.

use super::m20261124_000001_organisation::{Categories, OrgUnits};
use super::m20261124_000002_identity::Staff;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StaffRouting {
    Capacity,
    Presence,
    PresenceChangedAt,
    LastAssignedAt,
}

#[derive(DeriveIden)]
enum StaffUnits {
    Table,
    StaffId,
    OrgUnitId,
}

#[derive(DeriveIden)]
enum StaffSkills {
    Table,
    StaffId,
    CategoryCode,
}

#[derive(DeriveIden)]
enum DutyShifts {
    Table,
    Id,
    OrgUnitId,
    StaffId,
    StartsAt,
    EndsAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MediationRooms {
    Table,
    Id,
    OrgUnitId,
    Name,
    Address,
    OpeningHours,
    Active,
    CreatedAt,
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
        for column in [
            // Most active cases at once; the router offers nothing beyond it.
            integer(StaffRouting::Capacity).default(5).to_owned(),
            // available | away | off_duty
            string_len(StaffRouting::Presence, 16)
                .default("available")
                .to_owned(),
            timestamp_with_time_zone_null(StaffRouting::PresenceChangedAt).to_owned(),
            // Fairness: the longest idle are offered first.
            timestamp_with_time_zone_null(StaffRouting::LastAssignedAt).to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Staff::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        // The units a staff member works for (beyond their home unit).
        manager
            .create_table(
                Table::create()
                    .table(StaffUnits::Table)
                    .col(uuid(StaffUnits::StaffId))
                    .col(uuid(StaffUnits::OrgUnitId))
                    .primary_key(
                        Index::create()
                            .col(StaffUnits::StaffId)
                            .col(StaffUnits::OrgUnitId),
                    )
                    .foreign_key(&mut fk(
                        (StaffUnits::Table, StaffUnits::StaffId),
                        (Staff::Table, Staff::Id),
                    ))
                    .foreign_key(&mut fk(
                        (StaffUnits::Table, StaffUnits::OrgUnitId),
                        (OrgUnits::Table, OrgUnits::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        // Category codes a staff member handles; a top-level code covers its sub-items.
        manager
            .create_table(
                Table::create()
                    .table(StaffSkills::Table)
                    .col(uuid(StaffSkills::StaffId))
                    .col(string_len(StaffSkills::CategoryCode, 16))
                    .primary_key(
                        Index::create()
                            .col(StaffSkills::StaffId)
                            .col(StaffSkills::CategoryCode),
                    )
                    .foreign_key(&mut fk(
                        (StaffSkills::Table, StaffSkills::StaffId),
                        (Staff::Table, Staff::Id),
                    ))
                    .foreign_key(&mut fk(
                        (StaffSkills::Table, StaffSkills::CategoryCode),
                        (Categories::Table, Categories::Code),
                    ))
                    .to_owned(),
            )
            .await?;
        // Who is on duty for a community or station, and when (值班表).
        manager
            .create_table(
                Table::create()
                    .table(DutyShifts::Table)
                    .col(pk_uuid(DutyShifts::Id))
                    .col(uuid(DutyShifts::OrgUnitId))
                    .col(uuid(DutyShifts::StaffId))
                    .col(timestamp_with_time_zone(DutyShifts::StartsAt))
                    .col(timestamp_with_time_zone(DutyShifts::EndsAt))
                    .col(timestamp_with_time_zone(DutyShifts::CreatedAt))
                    .foreign_key(&mut fk(
                        (DutyShifts::Table, DutyShifts::OrgUnitId),
                        (OrgUnits::Table, OrgUnits::Id),
                    ))
                    .foreign_key(&mut fk(
                        (DutyShifts::Table, DutyShifts::StaffId),
                        (Staff::Table, Staff::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("duty_shifts_unit_time")
                    .table(DutyShifts::Table)
                    .col(DutyShifts::OrgUnitId)
                    .col(DutyShifts::StartsAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MediationRooms::Table)
                    .col(pk_uuid(MediationRooms::Id))
                    .col(uuid(MediationRooms::OrgUnitId))
                    .col(string_len(MediationRooms::Name, 128))
                    .col(string_len_null(MediationRooms::Address, 256))
                    .col(string_len_null(MediationRooms::OpeningHours, 128))
                    .col(boolean(MediationRooms::Active).default(true))
                    .col(timestamp_with_time_zone(MediationRooms::CreatedAt))
                    .foreign_key(&mut fk(
                        (MediationRooms::Table, MediationRooms::OrgUnitId),
                        (OrgUnits::Table, OrgUnits::Id),
                    ))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            MediationRooms::Table.into_iden(),
            DutyShifts::Table.into_iden(),
            StaffSkills::Table.into_iden(),
            StaffUnits::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for column in [
            StaffRouting::LastAssignedAt.into_iden(),
            StaffRouting::PresenceChangedAt.into_iden(),
            StaffRouting::Presence.into_iden(),
            StaffRouting::Capacity.into_iden(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Staff::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
