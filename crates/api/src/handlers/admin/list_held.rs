use crate::extract::AdminAuth;
use crate::views::{HeldTextList, HeldTextView};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, web};
use sansuo_store::moderation::Subject;

/// Resident text held for a person to look at (or still unchecked) in
/// your organisation's communities, oldest first.
#[utoipa::path(tag = "admin", security(("bearer" = [])), responses(
    (status = 200, body = HeldTextList),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
))]
#[get("/admin/moderation")]
pub async fn list_held(
    state: web::Data<AppState>,
    admin: AdminAuth,
) -> Result<web::Json<HeldTextList>, ApiError> {
    let mut items = Vec::new();
    for held in state.store.moderation().held_for_review(200).await? {
        if !state
            .store
            .staffing()
            .unit_within(held.community_id.into(), admin.scope)
            .await?
        {
            continue;
        }
        let (kind, id) = match held.subject {
            Subject::Case(id) => ("case", id),
            Subject::Message(id) => ("message", id),
        };
        items.push(HeldTextView {
            kind: kind.into(),
            id,
            case_id: held.case_id,
            community_id: held.community_id,
            moderation: held.moderation.as_str().into(),
            text: held.text,
            created_at: held.created_at,
        });
    }
    Ok(web::Json(HeldTextList { items }))
}
