use crate::extract::AdminAuth;
use crate::handlers::mediations::list::{MediationPage, page};
use crate::handlers::mediations::staff_list::StaffMediationsQuery;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, web};

/// The mediations of the communities in your subtree, newest first, with
/// the mediators' filters (status, sessions booked in a span of days).
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(StaffMediationsQuery), responses(
    (status = 200, body = MediationPage),
    (status = 400, body = ErrorBody, description = "`bad_parameter`: bad cursor, limit, status or dates"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a coordinator or administrator"),
))]
#[get("/admin/mediations")]
pub async fn list_mediations(
    state: web::Data<AppState>,
    admin: AdminAuth,
    query: web::Query<StaffMediationsQuery>,
) -> Result<web::Json<MediationPage>, ApiError> {
    let (filter, page_request) = query.into_inner().parse()?;
    let communities = state.store.stats().subtree_units(admin.scope).await?;
    let rows = state
        .store
        .mediations()
        .in_communities(
            communities,
            filter,
            page_request.before,
            page_request.limit + 1,
        )
        .await?;
    Ok(page(rows, page_request.limit))
}
