//! 完整性校验: the hash chains of case events (issue 18, item 3), checked by
//! the same code as `sansuo verify` (`sansuo_domain::event_chain`).
use crate::error::ErrorCode;
use crate::extract::AdministratorAuth;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, web};
use sansuo_domain::CaseId;
use sansuo_domain::event_chain::{BreakKind, ChainReport};
use sansuo_store::ChainScope;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct IntegrityQuery {
    /// Check only this case (in your district); without it, every case of
    /// your district.
    pub case_id: Option<Uuid>,
}

/// The first event whose chain does not hold.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BrokenLinkView {
    pub case_id: Uuid,
    pub event_id: Uuid,
    /// 1-based place of the event in its case's history.
    pub position: i64,
    /// `hash`: the event's fields no longer give its stored hash (it was
    /// edited); `link`: it does not point at the event before it;
    /// `position`: an event is missing or extra before it.
    #[schema(example = "hash")]
    pub kind: String,
    pub expected: String,
    pub found: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IntegrityReportView {
    /// Every chain read recomputes and links up.
    pub whole: bool,
    /// Cases and events read (reading stops at the first broken link).
    pub cases: u64,
    pub events: u64,
    pub broken: Option<BrokenLinkView>,
}

impl From<ChainReport> for IntegrityReportView {
    fn from(report: ChainReport) -> Self {
        IntegrityReportView {
            whole: report.broken.is_none(),
            cases: report.cases,
            events: report.events,
            broken: report.broken.map(|b| BrokenLinkView {
                case_id: b.case_id,
                event_id: b.event_id,
                position: b.position,
                kind: match b.kind {
                    BreakKind::Hash => "hash",
                    BreakKind::Link => "link",
                    BreakKind::Position => "position",
                }
                .to_owned(),
                expected: b.expected,
                found: b.found,
            }),
        }
    }
}

/// Recompute the case events' hash chains of one case or of the whole
/// district and name the first broken link. Administrators only.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(IntegrityQuery), responses(
    (status = 200, body = IntegrityReportView),
    (status = 400, body = ErrorBody, description = "`bad_parameter`"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not an administrator"),
    (status = 404, body = ErrorBody, description = "`case_not_found`: no such case in your district"),
))]
#[get("/admin/integrity")]
pub async fn check_integrity(
    state: web::Data<AppState>,
    admin: AdministratorAuth,
    query: web::Query<IntegrityQuery>,
) -> Result<web::Json<IntegrityReportView>, ApiError> {
    let scope = match query.case_id {
        Some(id) => {
            let case = crate::scoped::resolve(
                &state,
                admin.scope,
                CaseId::from(id),
                ErrorCode::CaseNotFound,
            )
            .await?;
            ChainScope::Case(case.id())
        }
        None => ChainScope::Communities(state.store.stats().subtree_units(admin.scope).await?),
    };
    let report = state.store.cases().verify_chains(scope).await?;
    Ok(web::Json(report.into()))
}
