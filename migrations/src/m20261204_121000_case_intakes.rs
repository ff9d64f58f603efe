//! Assisted intake (代办): a mediator or coordinator files a consultation
//! or a mediation for a resident who came in person without a smartphone.
//! The case has no resident account; this row records how it came in
//! (`channel`: `in_person`), who filed it, and the resident's name and
//! phone, sealed by the vault (`intake.name`, `intake.phone`) with their
//! masks, like a mediation's parties.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CaseIntakes {
    Table,
    CaseId,
    Channel,
    FiledBy,
    NameSealed,
    NameMasked,
    PhoneSealed,
    PhoneMasked,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Cases {
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
                    .table(CaseIntakes::Table)
                    .col(uuid(CaseIntakes::CaseId).primary_key())
                    .col(string_len(CaseIntakes::Channel, 16))
                    .col(uuid(CaseIntakes::FiledBy))
                    .col(text(CaseIntakes::NameSealed))
                    .col(string(CaseIntakes::NameMasked))
                    .col(text(CaseIntakes::PhoneSealed))
                    .col(string(CaseIntakes::PhoneMasked))
                    .col(timestamp_with_time_zone(CaseIntakes::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CaseIntakes::Table, CaseIntakes::CaseId)
                            .to(Cases::Table, Cases::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CaseIntakes::Table, CaseIntakes::FiledBy)
                            .to(Staff::Table, Staff::Id),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CaseIntakes::Table).to_owned())
            .await
    }
}
