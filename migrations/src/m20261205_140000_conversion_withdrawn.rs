//! A conversion proposal can be withdrawn: when the consultation leaves the
//! proposing lawyer's hands (hand-back, reassignment) before the resident
//! answers, the proposal is theirs no longer and must not be consented to.
//! Only `proposed` and `converted` are live now, so the partial unique index
//! that allows one live conversion per consultation is rebuilt to say so,
//! under a new name: made before the old one is dropped, it never clashes
//! with a name another pooled SQLite connection may still see.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE UNIQUE INDEX case_conversions_live ON case_conversions (from_case_id) WHERE status IN ('proposed', 'converted')",
        )
        .await?;
        db.execute_unprepared("DROP INDEX case_conversions_one_live")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE UNIQUE INDEX case_conversions_one_live ON case_conversions (from_case_id) WHERE status <> 'refused'",
        )
        .await?;
        db.execute_unprepared("DROP INDEX case_conversions_live")
            .await?;
        Ok(())
    }
}
