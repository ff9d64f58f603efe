//! Audit of personal data (issue 18, item 5): one row every time a staff
//! member is shown a person's unmasked data — who (staff, role, unit),
//! when, through which operation and request, on which case, whose data
//! (the resident, when the person is one) and what kind. The rows name the
//! data, never copy it. Written before the data leaves; the read fails if
//! the row cannot be written.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PersonalDataViews {
    Table,
    Id,
    ViewedAt,
    StaffId,
    Role,
    OrgUnitId,
    Operation,
    RequestId,
    CaseId,
    CommunityId,
    SubjectResidentId,
    What,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PersonalDataViews::Table)
                    .col(uuid(PersonalDataViews::Id).primary_key())
                    .col(timestamp_with_time_zone(PersonalDataViews::ViewedAt))
                    .col(uuid(PersonalDataViews::StaffId))
                    .col(string_len(PersonalDataViews::Role, 16))
                    .col(uuid(PersonalDataViews::OrgUnitId))
                    .col(string_len(PersonalDataViews::Operation, 200))
                    .col(string_len(PersonalDataViews::RequestId, 64))
                    .col(uuid(PersonalDataViews::CaseId))
                    .col(uuid(PersonalDataViews::CommunityId))
                    .col(uuid_null(PersonalDataViews::SubjectResidentId))
                    .col(string_len(PersonalDataViews::What, 32))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("personal_data_views_case", PersonalDataViews::CaseId),
            ("personal_data_views_staff", PersonalDataViews::StaffId),
            (
                "personal_data_views_subject",
                PersonalDataViews::SubjectResidentId,
            ),
            (
                "personal_data_views_community",
                PersonalDataViews::CommunityId,
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(PersonalDataViews::Table)
                        .col(col)
                        .col(PersonalDataViews::Id)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PersonalDataViews::Table).to_owned())
            .await
    }
}
