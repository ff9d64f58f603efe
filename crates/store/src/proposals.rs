//! A consultation's conversion proposal waiting for the resident belongs to
//! the lawyer who made it: when the consultation leaves their hands (they
//! hand it back, a coordinator reassigns it) before the resident answers,
//! the proposal is withdrawn in the same transaction, so the resident can
//! no longer consent to a plan nobody owns. Below `offers`, which calls it,
//! and `crossings`, which makes and answers proposals.

use crate::StoreError;
use crate::cases::{Context, append_event};
use crate::entity::{case, case_conversion};
use crate::records::ConversionStatus;
use sansuo_domain::catalog::Service;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

/// The case's public history says why the proposal disappeared.
const WITHDRAWN_REASON: &str = "咨询已转由他人办理，原转人民调解建议已撤回";

/// Withdraw the consultation's waiting proposal, if any (one guarded
/// update; a case of another service or without a proposal costs nothing
/// more). Returns whether one was withdrawn.
pub(crate) async fn withdraw_waiting<C: ConnectionTrait>(
    conn: &C,
    case: &case::Model,
    ctx: Context<'_>,
) -> Result<bool, StoreError> {
    if case.service != Service::Consultation.as_str() {
        return Ok(false);
    }
    let withdrawn = case_conversion::Entity::update_many()
        .col_expr(
            case_conversion::Column::Status,
            Expr::value(ConversionStatus::Withdrawn.as_str()),
        )
        .col_expr(case_conversion::Column::AnsweredAt, Expr::value(ctx.now))
        .filter(case_conversion::Column::FromCaseId.eq(case.id))
        .filter(case_conversion::Column::Status.eq(ConversionStatus::Proposed.as_str()))
        .exec(conn)
        .await?;
    if withdrawn.rows_affected == 0 {
        return Ok(false);
    }
    append_event(
        conn,
        case.id,
        "withdraw_conversion",
        Some(&case.status),
        &case.status,
        true,
        Some(WITHDRAWN_REASON),
        ctx,
    )
    .await?;
    Ok(true)
}
