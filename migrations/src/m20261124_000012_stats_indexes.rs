//! Indexes for the routing statistics: the cumulative report reads the
//! cases of a set of communities created in a time range, and the offers
//! made in a time range. Without them both are full-table scans.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Cases {
    Table,
    CommunityId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Offers {
    Table,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("cases_community_created")
                    .table(Cases::Table)
                    .col(Cases::CommunityId)
                    .col(Cases::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("offers_created")
                    .table(Offers::Table)
                    .col(Offers::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("offers_created")
                    .table(Offers::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("cases_community_created")
                    .table(Cases::Table)
                    .to_owned(),
            )
            .await
    }
}
