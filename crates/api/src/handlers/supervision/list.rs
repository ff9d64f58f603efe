use super::SupervisionView;
use crate::extract::AdminAuth;
use crate::pagination::{PageQuery, split_page};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SupervisionPage {
    pub items: Vec<SupervisionView>,
    pub next_cursor: Option<String>,
}

/// The cases under 督办 (supervision) in your subtree, newest supervision
/// first: deadline, level, and whether it was missed.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(PageQuery), responses(
    (status = 200, body = SupervisionPage),
    (status = 400, body = ErrorBody, description = "`bad_parameter`"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
))]
#[get("/admin/cases/supervised")]
pub async fn list_supervised(
    state: web::Data<AppState>,
    admin: AdminAuth,
    query: web::Query<PageQuery>,
) -> Result<web::Json<SupervisionPage>, ApiError> {
    let page = query.parse::<Uuid>()?;
    let rows = state
        .store
        .supervision()
        .supervised(admin.scope, page.before, page.limit)
        .await?;
    let (rows, next_cursor) = split_page(rows, page.limit, |s| s.id.as_uuid());
    let now = Utc::now();
    Ok(web::Json(SupervisionPage {
        items: rows.iter().map(|r| SupervisionView::of(r, now)).collect(),
        next_cursor,
    }))
}
