use crate::extract::AdminAuth;
use crate::pagination::{PageQuery, split_page};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// One missed response-time target.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BreachView {
    /// `accept`, `first_response` or `resolution`.
    #[schema(example = "resolution")]
    pub clock: String,
    pub due_at: DateTime<Utc>,
    pub breached_at: DateTime<Utc>,
}

/// An open case, owned by someone, that missed a response-time target.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OverdueCaseView {
    pub case_id: Uuid,
    #[schema(example = "tip")]
    pub service: String,
    pub status: String,
    pub community_id: Uuid,
    pub owner_staff_id: Option<Uuid>,
    /// Business minutes granted by extensions on the resolution target.
    pub sla_extension_minutes: i32,
    pub breaches: Vec<BreachView>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OverdueCasePage {
    pub items: Vec<OverdueCaseView>,
    pub next_cursor: Option<String>,
}

/// The overdue view: open, owned cases of your subtree (every service) with
/// a missed response-time target, newest case first. Each breach is also
/// told to the coordinators over the case as it happens (`overdue`).
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(PageQuery), responses(
    (status = 200, body = OverdueCasePage),
    (status = 400, body = ErrorBody, description = "`bad_parameter`"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
))]
#[get("/admin/cases/overdue")]
pub async fn list_overdue(
    state: web::Data<AppState>,
    admin: AdminAuth,
    query: web::Query<PageQuery>,
) -> Result<web::Json<OverdueCasePage>, ApiError> {
    let page = query.parse::<Uuid>()?;
    let rows = state
        .store
        .supervision()
        .overdue(admin.scope, page.before, page.limit)
        .await?;
    let (rows, next_cursor) = split_page(rows, page.limit, |o| o.case.id);
    let items = rows
        .into_iter()
        .map(|o| OverdueCaseView {
            case_id: o.case.id,
            service: o.case.service.to_string(),
            status: o.case.status.to_string(),
            community_id: o.case.community_id,
            owner_staff_id: o.case.owner_staff_id,
            sla_extension_minutes: o.case.sla_extension_minutes,
            breaches: o
                .breaches
                .iter()
                .map(|b| BreachView {
                    clock: b.clock.as_str().to_owned(),
                    due_at: b.due_at,
                    breached_at: b.breached_at,
                })
                .collect(),
            created_at: o.case.created_at,
        })
        .collect();
    Ok(web::Json(OverdueCasePage { items, next_cursor }))
}
