use crate::extract::AdminAuth;
use crate::views::{HeldTextList, HeldTextView};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, web};
use sansuo_store::moderation::Subject;

/// Resident text held for a person to look at (or still unchecked) in
/// your organisation's communities, oldest first; with them, the flagged
/// items that are not withheld from the officer handling a tip (a tip's
/// description and follow-ups, resident photos).
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
            verdict: None,
            created_at: held.created_at,
        });
    }
    // Flagged items (tips' text, photos): in the same queue, never
    // withheld from the officer handling the tip.
    for flag in state.store.moderation().open_flags(200).await? {
        if !state
            .store
            .staffing()
            .unit_within(flag.community_id.into(), admin.scope)
            .await?
        {
            continue;
        }
        items.push(HeldTextView {
            kind: flag.kind.as_str().into(),
            id: flag.subject_id,
            case_id: flag.case_id,
            community_id: flag.community_id,
            moderation: flag.moderation.as_str().into(),
            text: flag.text,
            verdict: Some(flag.verdict.as_str().into()),
            created_at: flag.created_at,
        });
    }
    items.sort_by_key(|i| i.created_at);
    Ok(web::Json(HeldTextList { items }))
}
