//! A resident's bound phone number: sealed at rest, masked for display.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Residents {
    Table,
    /// AES-256-GCM, see sansuo-vault; never the plain number.
    PhoneSealed,
    /// `138****1234`, what screens show.
    PhoneMasked,
    PhoneBoundAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            text_null(Residents::PhoneSealed).to_owned(),
            string_len_null(Residents::PhoneMasked, 32).to_owned(),
            timestamp_with_time_zone_null(Residents::PhoneBoundAt).to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Residents::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Residents::PhoneBoundAt,
            Residents::PhoneMasked,
            Residents::PhoneSealed,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Residents::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
