use super::pool_units;
use crate::extract::LawyerAuth;
use crate::pagination::{PageQuery, split_page};
use crate::views::{self, ConsultationPage};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StaffListView {
    /// Consultations you own.
    #[default]
    Mine,
    /// Consultations waiting in the pools your firm serves.
    Pool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StaffListQuery {
    /// `mine` (default) or `pool`.
    #[param(inline)]
    pub view: Option<StaffListView>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^c1\.[0-9a-fA-F]{32}$")]
    pub cursor: Option<String>,
    /// 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
}

/// Your consultations, or the pool you can claim from; newest first.
#[utoipa::path(tag = "staff", security(("bearer" = [])), params(StaffListQuery), responses(
    (status = 200, body = ConsultationPage),
    (status = 400, body = ErrorBody, description = "`bad_parameter`"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
))]
#[get("/staff/consultations")]
pub async fn list_staff_consultations(
    state: web::Data<AppState>,
    auth: LawyerAuth,
    query: web::Query<StaffListQuery>,
) -> Result<web::Json<ConsultationPage>, ApiError> {
    let query = query.into_inner();
    let page = PageQuery {
        cursor: query.cursor,
        limit: query.limit,
    }
    .parse()?;
    let rows = match query.view.unwrap_or_default() {
        StaffListView::Mine => {
            state
                .store
                .consultations()
                .owned_by(auth.id, page.before, page.limit + 1)
                .await?
        }
        StaffListView::Pool => {
            let units = pool_units(&state, &auth).await?;
            state
                .store
                .consultations()
                .pooled(units, page.before, page.limit + 1)
                .await?
        }
    };
    let (rows, next_cursor) = split_page(rows, page.limit, |r| r.case.id);
    Ok(web::Json(ConsultationPage {
        items: rows.iter().map(views::summary).collect(),
        next_cursor,
    }))
}
