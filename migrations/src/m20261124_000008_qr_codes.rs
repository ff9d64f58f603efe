//! Generated QR codes (communities, later rooms), kept so that printing a
//! street's posters does not call WeChat again for each download.

use super::m20261124_000001_organisation::OrgUnits;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum QrCodes {
    Table,
    OrgUnitId,
    Scene,
    Png,
    /// `wechat` (a mini-program code) or `local` (a plain QR of the scene).
    Source,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(QrCodes::Table)
                    .col(uuid(QrCodes::OrgUnitId).primary_key())
                    .col(string_len(QrCodes::Scene, 32))
                    .col(blob(QrCodes::Png))
                    .col(string_len(QrCodes::Source, 16))
                    .col(timestamp_with_time_zone(QrCodes::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(QrCodes::Table, QrCodes::OrgUnitId)
                            .to(OrgUnits::Table, OrgUnits::Id),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(QrCodes::Table).to_owned())
            .await
    }
}
