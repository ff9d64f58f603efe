use super::{StaffCaseView, owned_case_view};
use crate::extract::CaseHandlerAuth;
use crate::handlers::context;
use crate::middleware::RequestId;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, post, web};

/// Take the next case from your queues: the highest-priority, longest-waiting
/// case you are eligible for now (role, scope, skills, capacity), of any
/// service whose ladder names your role — a lawyer gets consultations, a
/// mediator mediations. It is yours at once, as if you had accepted an
/// offer; pull and push never both win. `service` in the answer says what
/// it is. `204` when nothing waits for you.
#[utoipa::path(tag = "staff", security(("bearer" = [])), responses(
    (status = 200, body = StaffCaseView, description = "The case, now yours"),
    (status = 204, description = "Nothing is waiting for you"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not staff who handle cases (residents, coordinators, administrators)"),
    (status = 503, body = ErrorBody, description = "`audit_unavailable`: the personal data audit could not be written, so the case is not shown with its opened personal data (whatever the request changed stands; read the case again later)"),
))]
#[post("/staff/next-case")]
pub async fn next_case(
    state: web::Data<AppState>,
    auth: CaseHandlerAuth,
    request_id: RequestId,
) -> Result<HttpResponse, ApiError> {
    let taken = state
        .store
        .routing()
        .claim_next_case(auth.id, context(auth.principal(), &request_id))
        .await?;
    match taken {
        Some(id) => {
            tracing::info!(case_id = %id, "next case taken");
            Ok(HttpResponse::Ok().json(owned_case_view(&state, id, auth.id).await?))
        }
        None => Ok(HttpResponse::NoContent().finish()),
    }
}
