use super::lawyer_view;
use crate::extract::LawyerAuth;
use crate::handlers::context;
use crate::middleware::RequestId;
use crate::views::ConsultationView;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, post, web};

/// Take the next case from your queues: the highest-priority, longest-waiting
/// case you are eligible for now (role, scope, skills, capacity). It is
/// yours at once, as if you had accepted an offer; pull and push never both
/// win. `204` when nothing waits for you.
#[utoipa::path(tag = "staff", security(("bearer" = [])), responses(
    (status = 200, body = ConsultationView, description = "The case, now yours"),
    (status = 204, description = "Nothing is waiting for you"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a lawyer"),
))]
#[post("/staff/next-case")]
pub async fn next_case(
    state: web::Data<AppState>,
    auth: LawyerAuth,
    request_id: RequestId,
) -> Result<HttpResponse, ApiError> {
    let taken = state
        .store
        .claim_next_case(auth.id, context(auth.principal(), &request_id))
        .await?;
    match taken {
        Some(id) => {
            tracing::info!(case_id = %id, "next case taken");
            Ok(HttpResponse::Ok().json(lawyer_view(&state, id, &auth).await?))
        }
        None => Ok(HttpResponse::NoContent().finish()),
    }
}
