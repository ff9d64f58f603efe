use crate::views::CategoryList;
use crate::{ApiError, AppState};
use actix_web::{get, web};

/// The active category tree, parents before children.
#[utoipa::path(tag = "categories", responses((status = 200, body = CategoryList)))]
#[get("/categories")]
pub async fn list_categories(
    state: web::Data<AppState>,
) -> Result<web::Json<CategoryList>, ApiError> {
    let items = state
        .store
        .active_categories()
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(web::Json(CategoryList { items }))
}
