use crate::error::ErrorCode;
use crate::extract::{ResidentWrite, write};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{delete, web};
use sansuo_store::StoreError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteAccountRequest {
    /// Must be `true`: deleting the account cannot be undone, so the
    /// client asks the resident first and says so here.
    pub confirm: bool,
}

/// What deleting the account did.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AccountDeletedView {
    /// Open consultations and mediations not yet heard, withdrawn.
    pub withdrawn_cases: u64,
    /// Cases kept for the record with nothing that names the resident.
    pub anonymised_cases: u64,
}

/// Delete the calling resident's account (注销账户), at once and for good:
/// their WeChat identity, bound phone, subscriptions and sessions go (every
/// token issued before answers 401); open consultations and mediations not
/// yet heard are withdrawn; every case of theirs stays for the record with
/// whatever named them replaced by 已注销用户 (docs/retention.md). Logging
/// in again with the same WeChat makes a new, unrelated account.
#[utoipa::path(tag = "residents", security(("bearer" = [])), request_body = DeleteAccountRequest, responses(
    (status = 200, body = AccountDeletedView),
    (status = 400, body = ErrorBody, description = "`malformed_json`"),
    (status = 401, body = ErrorBody, description = "`session_ended`: the account was deleted already"),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a resident"),
    (status = 409, body = ErrorBody, description = "`state_conflict`: one of their cases kept moving meanwhile; ask again"),
    (status = 415, body = ErrorBody, description = "`unsupported_media_type`"),
    (status = 422, body = ErrorBody, description = "`confirmation_required`: `confirm` is not true; `invalid_body`"),
    (status = 429, body = ErrorBody, description = "`rate_limited`: too many of these lately; see Retry-After"),
))]
#[delete("/me")]
pub async fn delete_me(
    state: web::Data<AppState>,
    auth: ResidentWrite<write::DeleteAccount>,
    body: web::Json<DeleteAccountRequest>,
) -> Result<web::Json<AccountDeletedView>, ApiError> {
    if !body.confirm {
        return Err(ErrorCode::ConfirmationRequired.into());
    }
    // A case the router moves meanwhile fails the whole transaction with a
    // conflict; the deletion is asked again a couple of times before the
    // client is told to.
    let mut attempt = 0;
    let done = loop {
        attempt += 1;
        match state
            .store
            .retention()
            .delete_resident(auth.0, chrono::Utc::now())
            .await
        {
            Err(StoreError::Conflict(_)) if attempt < 3 => continue,
            other => break other?,
        }
    };
    tracing::info!(
        withdrawn = done.withdrawn,
        anonymised = done.anonymised,
        "a resident deleted their account"
    );
    Ok(web::Json(AccountDeletedView {
        withdrawn_cases: done.withdrawn,
        anonymised_cases: done.anonymised,
    }))
}
