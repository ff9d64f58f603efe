//! Sessions that end, and demo accounts that stay in the demo.
//!
//! - `staff.session_epoch`: written into every staff access token; bumped when
//!   the account is deactivated, its role or unit changes or its password
//!   changes, so every token issued before stops working at once.
//! - `staff.demo`: accounts seeded by `sansuo seed-demo` (known password);
//!   refused unless the server runs `--demo`. Accounts of a demo district
//!   seeded before this migration are marked by their names.
//! - `refresh_tokens` again, now in families (rotation with reuse detection:
//!   presenting a used token ends its family). No issue or use time: a
//!   resident's row must not say when they were last active (a tip's time
//!   could be matched against it), so a row keeps only its expiry, and a
//!   resident's expiry is a whole UTC day. Its ids are random (v4), not
//!   time-ordered. The old table is dropped: everyone logs in once more.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Staff {
    Table,
    SessionEpoch,
    Demo,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    TokenHash,
    FamilyId,
    SubjectKind,
    SubjectId,
    ExpiresAt,
    Used,
}

/// The accounts `seed-demo` creates (crates/server/src/seed.rs).
const DEMO_USERNAMES: &str = "'lawyer.zhang', 'lawyer.li', 'lawyer.wang', 'lawyer.zhao', \
     'mediator.chen', 'officer.liu', 'coordinator.sun', 'admin'";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Staff::Table)
                    .add_column(integer(Staff::SessionEpoch).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Staff::Table)
                    .add_column(boolean(Staff::Demo).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "UPDATE staff SET demo = TRUE WHERE username IN ({DEMO_USERNAMES}) \
                 AND EXISTS (SELECT 1 FROM org_units WHERE name = '虹口区（演示）')"
            ))
            .await?;
        manager
            .drop_table(Table::drop().table(RefreshTokens::Table).to_owned())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(pk_uuid(RefreshTokens::Id))
                    // SHA-256 of the token: a database leak yields no usable tokens.
                    .col(string_len_uniq(RefreshTokens::TokenHash, 64))
                    .col(uuid(RefreshTokens::FamilyId))
                    .col(string_len(RefreshTokens::SubjectKind, 16))
                    .col(uuid(RefreshTokens::SubjectId))
                    .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
                    .col(boolean(RefreshTokens::Used).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("refresh_tokens_family")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::FamilyId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("refresh_tokens_subject")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::SubjectKind)
                    .col(RefreshTokens::SubjectId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Back to single tokens with times (every session ends again).
        manager
            .drop_table(Table::drop().table(RefreshTokens::Table).to_owned())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(pk_uuid(RefreshTokens::Id))
                    .col(string_len_uniq(RefreshTokens::TokenHash, 64))
                    .col(string_len(RefreshTokens::SubjectKind, 16))
                    .col(uuid(RefreshTokens::SubjectId))
                    .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Alias::new("used_at")))
                    .col(timestamp_with_time_zone(Alias::new("created_at")))
                    .to_owned(),
            )
            .await?;
        for column in [Staff::Demo, Staff::SessionEpoch] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Staff::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
