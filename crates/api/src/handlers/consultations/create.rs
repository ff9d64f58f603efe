use super::resident_view;
use crate::error::ErrorCode;
use crate::extract::{Idempotency, ResidentWrite, write};
use crate::middleware::RequestId;
use crate::views::ConsultationView;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, post, web};
use sansuo_domain::catalog::Service;
use sansuo_domain::moderation::Moderation;
use sansuo_domain::values::QuestionText;
use sansuo_store::consultations::{NewConsultation, Submission};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateConsultationRequest {
    /// The community whose QR code the resident scanned.
    pub community_id: Uuid,
    /// A category code from `GET /api/v1/categories` that accepts consultations.
    #[schema(example = "LJ")]
    pub category_code: String,
    /// 10 to 2000 characters.
    #[schema(example = "楼上邻居装修噪音每天持续到晚上十点，我可以怎么维权？")]
    pub question: String,
}

/// Ask a lawyer a question.
///
/// Send an `Idempotency-Key` header (a UUID): a retry with the same key and
/// body returns the same consultation (with `Idempotent-Replayed: true`)
/// instead of creating a second one.
#[utoipa::path(tag = "consultations", security(("bearer" = [])), request_body = CreateConsultationRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "8–128 visible ASCII characters (a UUID is ideal); a retry with the same key and body replays the first answer", min_length = 8, max_length = 128, pattern = r"^[!-~]{8,128}$")),
    responses(
    (status = 429, body = ErrorBody, description = "`rate_limited`: too many of these lately; see Retry-After"),
        (status = 201, body = ConsultationView, description = "Created, or replayed for a repeated Idempotency-Key"),
        (status = 400, body = ErrorBody, description = "`malformed_json`"),
        (status = 401, body = ErrorBody, description = "`unauthenticated` / `token_expired`"),
        (status = 403, body = ErrorBody, description = "`forbidden`: not a resident"),
        (status = 404, body = ErrorBody, description = "`community_not_found` / `category_not_found`"),
        (status = 413, body = ErrorBody, description = "`body_too_large`"),
        (status = 422, body = ErrorBody, description = "`validation_failed`, `invalid_body`, `idempotency_key_reused`, `category_not_offered` (the category takes no consultations), or `emergency_call_110` (an urgent category: call 110 now; nothing is recorded)"),
        (status = 503, body = ErrorBody, description = "`submission_stored`: the consultation is stored (see Location) but could not be read back; retry with the same Idempotency-Key to get it, never submit it anew"),
    ))]
#[post("/consultations")]
pub async fn create_consultation(
    state: web::Data<AppState>,
    auth: ResidentWrite<write::AskQuestion>,
    request_id: RequestId,
    body: web::Json<CreateConsultationRequest>,
    idempotency: Idempotency,
) -> Result<HttpResponse, ApiError> {
    let resident = auth.0;
    let body = body.into_inner();
    let idempotency = idempotency.with_body(&body)?;
    // Urgent: never queued, the client shows "call 110 now".
    let category = crate::handlers::admit_category(
        state.store.org().category(&body.category_code).await?,
        Service::Consultation,
    )?;
    let question = QuestionText::parse(&body.question)?;
    let community = state
        .store
        .org()
        .community(body.community_id.into())
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::CommunityNotFound, "no such community"))?;
    if !community.offers(Service::Consultation) {
        return Err(ApiError::new(
            ErrorCode::CommunityNotFound,
            "this community does not offer consultations",
        ));
    }
    let moderation = crate::moderation::screen(&state, resident, question.as_str()).await?;
    let first_offer = match moderation {
        Moderation::Passed => {
            let community = community.id.into();
            crate::handlers::first_offer(&state, community, &category.code, Service::Consultation)
                .await
        }
        _ => None,
    };
    let submission = state
        .store
        .consultations()
        .submit(
            NewConsultation {
                resident,
                community: community.id.into(),
                pool_unit: community.parent_id.map(Into::into),
                category: category.code,
                question,
                idempotency,
                request_id: Some(request_id.as_str().to_owned()),
                moderation,
                first_offer,
            },
            chrono::Utc::now(),
        )
        .await?;
    if let Some(id) = submission.created() {
        tracing::info!(case_id = %id, "consultation submitted");
    }
    crate::handlers::route_new_case(&state, &submission, Some(request_id.as_str()));
    let id = submission.case_id();
    let location = format!("/api/v1/consultations/{id}");
    let view = crate::handlers::read_back(
        id,
        Some(location.clone()),
        &format!(
            "您的咨询已保存（编号 {id}），但暂时无法显示。请勿重新提交：稍后用同一 Idempotency-Key 重试即可取回。"
        ),
        resident_view(&state, id, resident),
    )
    .await?;
    let mut response = HttpResponse::Created();
    response.insert_header(("Location", location));
    if matches!(submission, Submission::Replayed(_)) {
        response.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(response.json(view))
}
