//! 常用回复 (issue 17): `canned_replies` holds texts staff keep at hand for
//! answering threads. A row is either a staff member's own
//! (`owner_staff_id` set) or a unit's shared one (`org_unit_id` set, kept
//! by that unit's coordinators and administrators); the store writes
//! exactly one of the two. `service` narrows a reply to one service's
//! threads (NULL: any).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CannedReplies {
    Table,
    Id,
    OwnerStaffId,
    OrgUnitId,
    Service,
    Title,
    Body,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Staff {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum OrgUnits {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CannedReplies::Table)
                    .col(uuid(CannedReplies::Id).primary_key())
                    .col(uuid_null(CannedReplies::OwnerStaffId))
                    .col(uuid_null(CannedReplies::OrgUnitId))
                    .col(string_len_null(CannedReplies::Service, 16))
                    .col(text(CannedReplies::Title))
                    .col(text(CannedReplies::Body))
                    .col(uuid(CannedReplies::CreatedBy))
                    .col(timestamp_with_time_zone(CannedReplies::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CannedReplies::Table, CannedReplies::OwnerStaffId)
                            .to(Staff::Table, Staff::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CannedReplies::Table, CannedReplies::OrgUnitId)
                            .to(OrgUnits::Table, OrgUnits::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("canned_replies_owner")
                    .table(CannedReplies::Table)
                    .col(CannedReplies::OwnerStaffId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("canned_replies_unit")
                    .table(CannedReplies::Table)
                    .col(CannedReplies::OrgUnitId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CannedReplies::Table).to_owned())
            .await
    }
}
