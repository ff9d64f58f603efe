//! The staff event stream (`GET /staff/events`): `staff_events` holds what
//! each staff member is told (an offer, its expiry, a reassignment, a
//! message on their case), written in the transaction of the change itself;
//! `staff_streams` holds, per staff member, the last event number given out
//! (`last_seq`, bumped under that row's lock, so numbers are gapless and
//! committed in order per person) and when a stream of theirs was last seen
//! connected (`seen_at`, a heartbeat), which decides whether a lapsed offer
//! sets them away.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StaffEvents {
    Table,
    Id,
    StaffId,
    Seq,
    Kind,
    Payload,
    CreatedAt,
}

#[derive(DeriveIden)]
enum StaffStreams {
    Table,
    StaffId,
    LastSeq,
    SeenAt,
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
                    .table(StaffStreams::Table)
                    .col(uuid(StaffStreams::StaffId).primary_key())
                    .col(big_integer(StaffStreams::LastSeq).default(0))
                    .col(timestamp_with_time_zone_null(StaffStreams::SeenAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(StaffStreams::Table, StaffStreams::StaffId)
                            .to(Staff::Table, Staff::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StaffEvents::Table)
                    .col(big_pk_auto(StaffEvents::Id))
                    .col(uuid(StaffEvents::StaffId))
                    .col(big_integer(StaffEvents::Seq))
                    .col(string(StaffEvents::Kind))
                    .col(text(StaffEvents::Payload))
                    .col(timestamp_with_time_zone(StaffEvents::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(StaffEvents::Table, StaffEvents::StaffId)
                            .to(Staff::Table, Staff::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // A stream reads its person's events after a number; the purge reads by age.
        manager
            .create_index(
                Index::create()
                    .name("staff_events_staff_seq")
                    .table(StaffEvents::Table)
                    .col(StaffEvents::StaffId)
                    .col(StaffEvents::Seq)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("staff_events_created")
                    .table(StaffEvents::Table)
                    .col(StaffEvents::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(StaffEvents::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(StaffStreams::Table).to_owned())
            .await
    }
}
