use crate::extract::StaffAuth;
use crate::views::StaffProfileView;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{put, web};
use sansuo_domain::dispatch::Presence;
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PresenceName {
    /// Takes offers.
    Available,
    /// Briefly away: no new offers.
    Away,
    /// Off duty: no new offers.
    OffDuty,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PresenceRequest {
    pub presence: PresenceName,
}

/// Set your own presence; only `available` staff are offered cases.
#[utoipa::path(tag = "staff", security(("bearer" = [])), request_body = PresenceRequest, responses(
    (status = 200, body = StaffProfileView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: residents have no presence"),
    (status = 422, body = ErrorBody, description = "`invalid_body`"),
))]
#[put("/staff/me/presence")]
pub async fn set_presence(
    state: web::Data<AppState>,
    auth: StaffAuth,
    body: web::Json<PresenceRequest>,
) -> Result<web::Json<StaffProfileView>, ApiError> {
    let presence = match body.presence {
        PresenceName::Available => Presence::Available,
        PresenceName::Away => Presence::Away,
        PresenceName::OffDuty => Presence::OffDuty,
    };
    state
        .store
        .staffing()
        .set_presence(auth.id, presence, chrono::Utc::now())
        .await?;
    let profile = state
        .store
        .staffing()
        .profile(auth.id)
        .await?
        .ok_or_else(|| ApiError::unauthenticated("account no longer exists"))?;
    Ok(web::Json(profile.into()))
}
