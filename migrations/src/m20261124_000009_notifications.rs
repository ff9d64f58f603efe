//! Subscribe messages: residents' one-time subscription credits per
//! template, and one row per message owed (exactly one send per event).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SubscriptionCredits {
    Table,
    ResidentId,
    TemplateId,
    Credits,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    /// `<event>:<case id>`: the same event never yields two messages.
    Id,
    Event,
    CaseId,
    ResidentId,
    TemplateId,
    /// pending | sending | sent | no_credit | dead
    Status,
    Attempts,
    LastError,
    ClaimedAt,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SubscriptionCredits::Table)
                    .col(uuid(SubscriptionCredits::ResidentId))
                    .col(string_len(SubscriptionCredits::TemplateId, 128))
                    .col(integer(SubscriptionCredits::Credits).default(0))
                    .col(timestamp_with_time_zone(SubscriptionCredits::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(SubscriptionCredits::ResidentId)
                            .col(SubscriptionCredits::TemplateId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .col(string_len(Notifications::Id, 96).primary_key())
                    .col(string_len(Notifications::Event, 48))
                    .col(uuid(Notifications::CaseId))
                    .col(uuid(Notifications::ResidentId))
                    .col(string_len(Notifications::TemplateId, 128))
                    .col(string_len(Notifications::Status, 16))
                    .col(integer(Notifications::Attempts).default(0))
                    .col(text_null(Notifications::LastError))
                    .col(timestamp_with_time_zone_null(Notifications::ClaimedAt))
                    .col(timestamp_with_time_zone(Notifications::CreatedAt))
                    .col(timestamp_with_time_zone(Notifications::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Notifications::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SubscriptionCredits::Table).to_owned())
            .await
    }
}
