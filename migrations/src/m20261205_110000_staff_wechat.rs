//! Staff on WeChat: the openid a staff member bound (`staff_wechat`, one
//! account per openid), their one-time subscription credits
//! (`staff_subscription_credits`, apart from residents' so that neither
//! can spend the other's) and one row per message owed to them
//! (`staff_notifications`, exactly one send per event).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StaffWechat {
    Table,
    StaffId,
    Openid,
    BoundAt,
}

#[derive(DeriveIden)]
enum StaffSubscriptionCredits {
    Table,
    StaffId,
    TemplateId,
    Credits,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum StaffNotifications {
    Table,
    /// `<event>:<occurrence>`: the same event never yields two messages.
    Id,
    Event,
    CaseId,
    StaffId,
    TemplateId,
    /// pending | sending | sent | no_credit | dead
    Status,
    Attempts,
    LastError,
    ClaimedAt,
    CreatedAt,
    UpdatedAt,
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
                    .table(StaffWechat::Table)
                    .col(uuid(StaffWechat::StaffId).primary_key())
                    .col(string_len(StaffWechat::Openid, 128))
                    .col(timestamp_with_time_zone(StaffWechat::BoundAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(StaffWechat::Table, StaffWechat::StaffId)
                            .to(Staff::Table, Staff::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // One staff account per WeChat user: a second bind of the same
        // openid loses this index, whatever the race.
        manager
            .create_index(
                Index::create()
                    .name("staff_wechat_openid")
                    .table(StaffWechat::Table)
                    .col(StaffWechat::Openid)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StaffSubscriptionCredits::Table)
                    .col(uuid(StaffSubscriptionCredits::StaffId))
                    .col(string_len(StaffSubscriptionCredits::TemplateId, 128))
                    .col(integer(StaffSubscriptionCredits::Credits).default(0))
                    .col(timestamp_with_time_zone(
                        StaffSubscriptionCredits::UpdatedAt,
                    ))
                    .primary_key(
                        Index::create()
                            .col(StaffSubscriptionCredits::StaffId)
                            .col(StaffSubscriptionCredits::TemplateId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StaffNotifications::Table)
                    .col(string_len(StaffNotifications::Id, 96).primary_key())
                    .col(string_len(StaffNotifications::Event, 48))
                    .col(uuid(StaffNotifications::CaseId))
                    .col(uuid(StaffNotifications::StaffId))
                    .col(string_len(StaffNotifications::TemplateId, 128))
                    .col(string_len(StaffNotifications::Status, 16))
                    .col(integer(StaffNotifications::Attempts).default(0))
                    .col(text_null(StaffNotifications::LastError))
                    .col(timestamp_with_time_zone_null(StaffNotifications::ClaimedAt))
                    .col(timestamp_with_time_zone(StaffNotifications::CreatedAt))
                    .col(timestamp_with_time_zone(StaffNotifications::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("staff_notifications_staff")
                    .table(StaffNotifications::Table)
                    .col(StaffNotifications::StaffId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(StaffNotifications::Table).to_owned())
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(StaffSubscriptionCredits::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(StaffWechat::Table).to_owned())
            .await
    }
}
