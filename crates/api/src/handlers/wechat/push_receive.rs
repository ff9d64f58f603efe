use super::{PushQuery, verify};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, post, web};
use sansuo_domain::moderation::Verdict;
use sansuo_wechat::{MediaCheckEvent, PushError, Suggest};

/// WeChat pushes an event (JSON mode). `wxa_media_check` results are
/// recorded against the image they are about (a doubtful or risky photo
/// goes to the review queue, `GET /admin/moderation`, and is hidden from
/// its reporter until passed); other events are ignored.
/// Answers `success` as WeChat expects.
#[utoipa::path(tag = "wechat", params(PushQuery), request_body(content = String, content_type = "application/json", description = "The pushed event"), responses(
    (status = 200, content_type = "text/plain", body = String, description = "`success`"),
    (status = 400, body = ErrorBody, description = "`malformed_json`"),
    (status = 403, body = ErrorBody, description = "`forbidden`: bad signature or stale timestamp"),
    (status = 404, body = ErrorBody, description = "`push_not_configured`"),
))]
#[post("/wechat/push")]
pub async fn push_receive(
    state: web::Data<AppState>,
    query: web::Query<PushQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    verify(&state, &query)?;
    match MediaCheckEvent::parse(&body) {
        Ok(event) => {
            let verdict = match event.result.suggest {
                Suggest::Pass => Verdict::Pass,
                Suggest::Review => Verdict::Review,
                Suggest::Risky => Verdict::Risky,
            };
            if let Some(subject) = state
                .store
                .moderation()
                .record_media_verdict(
                    &event.trace_id,
                    verdict,
                    event.result.label,
                    chrono::Utc::now(),
                )
                .await?
            {
                tracing::info!(trace_id = %event.trace_id, %subject, verdict = verdict.as_str(), "media check settled");
                // A doubtful or risky photo joins the review queue and is
                // hidden from resident-facing views until a person passes it.
                if let Some(photo) = subject
                    .strip_prefix("photo:")
                    .and_then(|id| uuid::Uuid::parse_str(id).ok())
                {
                    state
                        .store
                        .moderation()
                        .flag_photo(photo, verdict, event.result.label, chrono::Utc::now())
                        .await?;
                }
            }
        }
        Err(PushError::OtherEvent) => {}
        Err(e @ PushError::Malformed(..)) => return Err(ApiError::malformed_json(e.to_string())),
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain")
        .body("success"))
}
