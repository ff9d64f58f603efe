use super::list::{MediationPage, page, session_window, status_filter};
use crate::extract::MediatorAuth;
use crate::pagination::{PageQuery, PageRequest};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, web};
use chrono::NaiveDate;
use sansuo_domain::CaseId;
use sansuo_store::mediations::MediationFilter;
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StaffMediationsQuery {
    /// Only mediations in this status (`accepted`, `scheduled`, `heard`, ...).
    #[param(
        pattern = r"^(submitted|offered|pooled|accepted|scheduled|heard|agreed|terminated|closed|refused|withdrawn)$"
    )]
    pub status: Option<String>,
    /// Only mediations with a session booked on or after this local
    /// (Asia/Shanghai) date.
    pub session_from: Option<NaiveDate>,
    /// Only mediations with a session booked on or before this local date.
    pub session_to: Option<NaiveDate>,
    /// `next_cursor` of the previous page; omit for the first page.
    #[param(pattern = r"^c1\.[0-9a-fA-F]{32}$")]
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
}

impl StaffMediationsQuery {
    /// The filter and the page it asks for (the mediators' and the
    /// coordinators' lists read the same query).
    pub(crate) fn parse(self) -> Result<(MediationFilter, PageRequest<CaseId>), ApiError> {
        let filter = MediationFilter {
            status: status_filter(self.status.as_deref())?,
            sessions_between: session_window(self.session_from, self.session_to)?,
        };
        let page = PageQuery {
            cursor: self.cursor,
            limit: self.limit,
        }
        .parse()?;
        Ok((filter, page))
    }
}

/// The mediations you own, newest first; with `session_from`/`session_to`,
/// those with a session booked in those days (your upcoming sessions).
#[utoipa::path(tag = "mediations", security(("bearer" = [])), params(StaffMediationsQuery), responses(
    (status = 200, body = MediationPage),
    (status = 400, body = ErrorBody, description = "`bad_parameter`: bad cursor, limit, status or dates"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a mediator"),
))]
#[get("/staff/mediations")]
pub async fn list_staff_mediations(
    state: web::Data<AppState>,
    auth: MediatorAuth,
    query: web::Query<StaffMediationsQuery>,
) -> Result<web::Json<MediationPage>, ApiError> {
    let (filter, page_request) = query.into_inner().parse()?;
    let rows = state
        .store
        .mediations()
        .owned_by(auth.id, filter, page_request.before, page_request.limit + 1)
        .await?;
    Ok(page(rows, page_request.limit))
}
