//! Case numbers (案件编号) for the case files of every service (issue 18,
//! item 1).
//!
//! - `org_units.case_number_pattern`: a unit's own numbering pattern
//!   (`sansuo_casefile::number`), NULL for the default.
//! - `case_numbers`: one row per numbered case, written once (the first
//!   time its file is produced) and never changed: the sequence `seq` within
//!   (numbering unit, service, Beijing year) and the number as printed, so a
//!   later change of pattern or unit name does not renumber the archive.
//!   `(unit_id, service, year, seq)` is unique: two concurrent first
//!   requests for two cases cannot take the same number; the primary key on
//!   `case_id` makes two concurrent first requests for one case agree.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OrgUnits {
    Table,
    CaseNumberPattern,
}

#[derive(DeriveIden)]
enum CaseNumbers {
    Table,
    CaseId,
    UnitId,
    Service,
    Year,
    Seq,
    Number,
    AssignedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(OrgUnits::Table)
                    .add_column(string_len_null(OrgUnits::CaseNumberPattern, 256))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CaseNumbers::Table)
                    .col(uuid(CaseNumbers::CaseId).primary_key())
                    .col(uuid(CaseNumbers::UnitId))
                    .col(string_len(CaseNumbers::Service, 16))
                    .col(integer(CaseNumbers::Year))
                    .col(big_integer(CaseNumbers::Seq))
                    .col(string_len(CaseNumbers::Number, 512))
                    .col(timestamp_with_time_zone(CaseNumbers::AssignedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("case_numbers_sequence")
                    .table(CaseNumbers::Table)
                    .col(CaseNumbers::UnitId)
                    .col(CaseNumbers::Service)
                    .col(CaseNumbers::Year)
                    .col(CaseNumbers::Seq)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CaseNumbers::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(OrgUnits::Table)
                    .drop_column(OrgUnits::CaseNumberPattern)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
