use super::{CannedReplyList, service_of};
use crate::extract::StaffAuth;
use crate::handlers::admin::create_org_unit::ServiceName;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, web};
use sansuo_domain::canned_reply::MAX_LISTED;
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CannedReplyQuery {
    /// Only replies for this service's threads (and those for any service).
    pub service: Option<ServiceName>,
}

/// The canned replies (常用回复) the caller may insert into a reply: their
/// own, then those shared by their unit and each unit over it (nearest
/// first), newest first within each. At most 200, so the list has no cursor.
#[utoipa::path(tag = "staff", security(("bearer" = [])), params(CannedReplyQuery), responses(
    (status = 200, body = CannedReplyList),
    (status = 400, body = ErrorBody, description = "`bad_parameter`: an unknown service"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: residents have no canned replies"),
))]
#[get("/staff/canned-replies")]
pub async fn list_canned_replies(
    state: web::Data<AppState>,
    auth: StaffAuth,
    query: web::Query<CannedReplyQuery>,
) -> Result<web::Json<CannedReplyList>, ApiError> {
    let account = state
        .store
        .identity()
        .staff(auth.id)
        .await?
        .ok_or_else(|| ApiError::unauthenticated("account no longer exists"))?;
    let units: Vec<_> = state
        .store
        .org()
        .units_covering(account.org_unit_id)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    let items = state
        .store
        .canned_replies()
        .visible(auth.id, &units, query.service.map(service_of), MAX_LISTED)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(web::Json(CannedReplyList { items }))
}
