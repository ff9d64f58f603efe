use super::ExtensionView;
use crate::extract::AdminAuth;
use crate::pagination::{PageQuery, split_page};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExtensionPage {
    pub items: Vec<ExtensionView>,
    pub next_cursor: Option<String>,
}

/// The 延期 (extension) requests waiting for a decision on cases of your
/// subtree (every service), newest first.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(PageQuery), responses(
    (status = 200, body = ExtensionPage),
    (status = 400, body = ErrorBody, description = "`bad_parameter`"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
))]
#[get("/admin/extensions")]
pub async fn list_pending_extensions(
    state: web::Data<AppState>,
    admin: AdminAuth,
    query: web::Query<PageQuery>,
) -> Result<web::Json<ExtensionPage>, ApiError> {
    let page = query.parse::<Uuid>()?;
    let rows = state
        .store
        .supervision()
        .pending_extensions(admin.scope, page.before, page.limit)
        .await?;
    let (rows, next_cursor) = split_page(rows, page.limit, |e| e.id.as_uuid());
    Ok(web::Json(ExtensionPage {
        items: rows.iter().map(ExtensionView::from).collect(),
        next_cursor,
    }))
}
