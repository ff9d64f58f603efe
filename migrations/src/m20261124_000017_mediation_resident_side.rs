//! The applicant's side of a mediation: attendance answers on sessions, a
//! rating of the service, their own answer to the follow-up visit; and a
//! rescheduled session's link to the booking it replaced.
//!
//! One column per `ALTER TABLE`: SQLite (the embedded default) adds one at a time.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Mediations {
    Table,
    /// The applicant's rating of the service, 1 to 5, once concluded.
    RatingStars,
    RatingComment,
    RatedAt,
    /// The applicant's own answer to the follow-up visit:
    /// performed | partly | not_performed.
    VisitAnswerPerformance,
    /// 1 to 5.
    VisitAnswerSatisfaction,
    VisitAnswerComment,
    VisitAnsweredAt,
}

#[derive(DeriveIden)]
enum MediationSessions {
    Table,
    /// The applicant's answer: will they attend? Null until they answer.
    Attending,
    AttendanceNote,
    AttendanceAnsweredAt,
    /// Who answered (the applicant's resident id).
    AttendanceResidentId,
    /// The session this one replaced (rescheduled from).
    RescheduledFrom,
}

fn mediation_columns() -> Vec<(Mediations, ColumnDef)> {
    vec![
        (
            Mediations::RatingStars,
            small_integer_null(Mediations::RatingStars),
        ),
        (
            Mediations::RatingComment,
            text_null(Mediations::RatingComment),
        ),
        (
            Mediations::RatedAt,
            timestamp_with_time_zone_null(Mediations::RatedAt),
        ),
        (
            Mediations::VisitAnswerPerformance,
            string_len_null(Mediations::VisitAnswerPerformance, 24),
        ),
        (
            Mediations::VisitAnswerSatisfaction,
            small_integer_null(Mediations::VisitAnswerSatisfaction),
        ),
        (
            Mediations::VisitAnswerComment,
            text_null(Mediations::VisitAnswerComment),
        ),
        (
            Mediations::VisitAnsweredAt,
            timestamp_with_time_zone_null(Mediations::VisitAnsweredAt),
        ),
    ]
}

fn session_columns() -> Vec<(MediationSessions, ColumnDef)> {
    vec![
        (
            MediationSessions::Attending,
            boolean_null(MediationSessions::Attending),
        ),
        (
            MediationSessions::AttendanceNote,
            text_null(MediationSessions::AttendanceNote),
        ),
        (
            MediationSessions::AttendanceAnsweredAt,
            timestamp_with_time_zone_null(MediationSessions::AttendanceAnsweredAt),
        ),
        (
            MediationSessions::AttendanceResidentId,
            uuid_null(MediationSessions::AttendanceResidentId),
        ),
        (
            MediationSessions::RescheduledFrom,
            uuid_null(MediationSessions::RescheduledFrom),
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (_, mut column) in mediation_columns() {
            manager
                .alter_table(
                    Table::alter()
                        .table(Mediations::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        for (_, mut column) in session_columns() {
            manager
                .alter_table(
                    Table::alter()
                        .table(MediationSessions::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in session_columns() {
            manager
                .alter_table(
                    Table::alter()
                        .table(MediationSessions::Table)
                        .drop_column(name)
                        .to_owned(),
                )
                .await?;
        }
        for (name, _) in mediation_columns() {
            manager
                .alter_table(
                    Table::alter()
                        .table(Mediations::Table)
                        .drop_column(name)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
