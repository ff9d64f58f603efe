use crate::extract::ResidentAuth;
use crate::pagination::{PageQuery, split_page};
use crate::views::{self, ConsultationPage};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, web};

/// The calling resident's consultations, newest first.
#[utoipa::path(tag = "consultations", security(("bearer" = [])), params(PageQuery), responses(
    (status = 200, body = ConsultationPage),
    (status = 400, body = ErrorBody, description = "`bad_parameter`: bad cursor or limit"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
))]
#[get("/consultations")]
pub async fn list_consultations(
    state: web::Data<AppState>,
    auth: ResidentAuth,
    query: web::Query<PageQuery>,
) -> Result<web::Json<ConsultationPage>, ApiError> {
    let page = query.parse()?;
    let rows = state
        .store
        .consultations()
        .of_resident(auth.0, page.before, page.limit + 1)
        .await?;
    let (rows, next_cursor) = split_page(rows, page.limit, |r| r.case.id);
    Ok(web::Json(ConsultationPage {
        items: rows.iter().map(views::summary).collect(),
        next_cursor,
    }))
}
