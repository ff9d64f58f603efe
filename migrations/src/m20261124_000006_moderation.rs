//! Content moderation of resident text: a case's question and each thread
//! message carry where their check stands; only `passed` text is shown to staff.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Cases {
    Table,
    Moderation,
}

#[derive(DeriveIden)]
enum CaseMessages {
    Table,
    Moderation,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // passed | pending | review | rejected
        manager
            .alter_table(
                Table::alter()
                    .table(Cases::Table)
                    .add_column(string_len(Cases::Moderation, 16).default("passed"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(CaseMessages::Table)
                    .add_column(string_len(CaseMessages::Moderation, 16).default("passed"))
                    .to_owned(),
            )
            .await?;
        // The coordinators' moderation queue reads held cases.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX cases_held ON cases (moderation) WHERE moderation <> 'passed'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX cases_held")
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(CaseMessages::Table)
                    .drop_column(CaseMessages::Moderation)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Cases::Table)
                    .drop_column(Cases::Moderation)
                    .to_owned(),
            )
            .await
    }
}
