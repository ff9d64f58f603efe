use super::{
    MediationView, PARTY_CONTACT_CONTEXT, PARTY_NAME_CONTEXT, PartyDetail, bounded_text,
    mediation_view,
};
use crate::error::ErrorCode;
use crate::extract::{Idempotency, ResidentWrite, write};
use crate::middleware::RequestId;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, post, web};
use chrono::{DateTime, Utc};
use sansuo_domain::OrgUnitId;
use sansuo_domain::ValidationError;
use sansuo_domain::catalog::Service;
use sansuo_domain::privacy::{mask_name, mask_phone};
use sansuo_store::consultations::Submission;
use sansuo_store::mediations::{NewMediation, NewParty};
use sansuo_store::scope::MediatorId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Deserialize, Serialize, ToSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PartyRole {
    Applicant,
    Respondent,
    Other,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartyRequest {
    pub role: PartyRole,
    /// 1 to 32 characters; stored sealed, shown masked.
    #[schema(example = "李四")]
    pub name: String,
    /// A phone number or other contact, up to 32 characters; stored sealed, shown masked.
    #[schema(example = "13812341234")]
    pub contact: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeWindow {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyMediationRequest {
    /// The community whose QR code the resident scanned.
    pub community_id: Uuid,
    /// A category code that accepts mediations (`GET /categories`).
    #[schema(example = "LJ02")]
    pub category_code: String,
    /// What happened, 10 to 2000 characters.
    pub facts: String,
    /// What the applicant asks for, 2 to 1000 characters.
    pub claims: String,
    /// Exactly one applicant and at least one respondent; at most 10 parties.
    pub parties: Vec<PartyRequest>,
    /// Up to 5 windows that suit the applicant.
    #[serde(default)]
    pub preferred_times: Vec<TimeWindow>,
    /// Ask for a session not open to the public (不公开).
    #[serde(default)]
    pub private: bool,
    /// Relatives or others who should attend, up to 200 characters.
    pub attendees: Option<String>,
    /// A mediator the applicant asks for: offered the case first if they
    /// can take it (a party's right to choose).
    pub requested_mediator_id: Option<Uuid>,
    /// Mediators the applicant refuses (回避), at most 5: never offered it.
    #[serde(default)]
    pub refused_mediator_ids: Vec<Uuid>,
}

const MAX_PARTIES: usize = 10;

/// Book a mediation (预约调解). The other party's name and contact are
/// sealed at rest and shown masked; the mediator who accepts the case sees
/// them in full.
///
/// Send an `Idempotency-Key` header (a UUID): a retry with the same key and
/// body returns the same mediation (with `Idempotent-Replayed: true`)
/// instead of booking a second one.
#[utoipa::path(tag = "mediations", security(("bearer" = [])), request_body = ApplyMediationRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "8–128 visible ASCII characters (a UUID is ideal); a retry with the same key and body replays the first answer", min_length = 8, max_length = 128, pattern = r"^[!-~]{8,128}$")),
    responses(
    (status = 429, body = ErrorBody, description = "`rate_limited`: too many of these lately; see Retry-After"),
    (status = 201, body = MediationView, description = "Booked, or replayed for a repeated Idempotency-Key"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`community_not_found`, `category_not_found`; `staff_not_found`: a requested or refused mediator who is not a mediator of the community's street (or over it); `feature_disabled`: no data keys on this server, so no bookings"),
    (status = 422, body = ErrorBody, description = "`validation_failed`, `invalid_body`, `idempotency_key_reused`, `category_not_offered`: the category takes no mediations; `content_risky`: the facts or claims were refused by the content check (nothing stored)"),
    (status = 503, body = ErrorBody, description = "`submission_stored`: the application is stored (see Location) but could not be read back: do not apply again, read it there (or retry with the same Idempotency-Key)"),
))]
#[post("/mediations")]
pub async fn apply_mediation(
    state: web::Data<AppState>,
    auth: ResidentWrite<write::BookMediation>,
    request_id: RequestId,
    body: web::Json<ApplyMediationRequest>,
    idempotency: Idempotency,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let idempotency = idempotency.with_body(&body)?;
    let facts = bounded_text("facts", &body.facts, 10, 2000)?;
    let claims = bounded_text("claims", &body.claims, 2, 1000)?;
    let attendees = body
        .attendees
        .as_deref()
        .map(|a| bounded_text("attendees", a, 1, 200))
        .transpose()?;
    check_parties(&body.parties)?;
    let found =
        crate::moderation::screen_mediation(&state, auth.0, &format!("{facts}\n{claims}")).await?;
    if body.refused_mediator_ids.len() > 5
        || body
            .requested_mediator_id
            .is_some_and(|r| body.refused_mediator_ids.contains(&r))
    {
        return Err(ValidationError::new(
            "refused_mediator_ids",
            "at most 5, and not the mediator you ask for",
        )
        .into());
    }
    if body.preferred_times.len() > 5 || body.preferred_times.iter().any(|w| w.to <= w.from) {
        return Err(ValidationError::new(
            "preferred_times",
            "at most 5 windows, each ending after it starts",
        )
        .into());
    }
    let community = state
        .store
        .org()
        .community(body.community_id.into())
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::CommunityNotFound, "no such community"))?;
    let category = crate::handlers::admit_category(
        state.store.org().category(&body.category_code).await?,
        sansuo_domain::catalog::Service::Mediation,
    )?;
    // The mediators named, asked for or refused, resolve like every body
    // id: a mediator of another street reads as absent.
    let community_scope: OrgUnitId = community.id.into();
    let mediator = |id: Uuid| {
        crate::scoped::resolve(
            &state,
            community_scope,
            MediatorId(id.into()),
            ErrorCode::StaffNotFound,
        )
    };
    let requested_mediator = match body.requested_mediator_id {
        Some(id) => Some(mediator(id).await?.id().0),
        None => None,
    };
    let mut refused_mediators = Vec::with_capacity(body.refused_mediator_ids.len());
    for id in &body.refused_mediator_ids {
        refused_mediators.push(mediator(*id).await?.id().0);
    }
    let parties = seal_parties(&state, &body.parties)?;
    let preferred_times = serde_json::to_string(&body.preferred_times)
        .map_err(|e| ApiError::internal(format!("preferred times: {e}")))?;
    let first_offer = match (&requested_mediator, refused_mediators.is_empty()) {
        (None, true) => {
            let community = community.id.into();
            crate::handlers::first_offer(&state, community, &category.code, Service::Mediation)
                .await
        }
        _ => None,
    };
    let submission = state
        .store
        .mediations()
        .submit(
            NewMediation {
                resident: Some(auth.0),
                community: community.id.into(),
                category: category.code,
                facts,
                claims,
                preferred_times,
                private: body.private,
                attendees,
                requested_mediator,
                refused_mediators,
                parties,
                request_id: Some(request_id.as_str().to_owned()),
                intake: None,
                first_offer,
            },
            idempotency,
            Utc::now(),
        )
        .await?;
    if let Some(id) = submission.created() {
        tracing::info!(case_id = %id, "mediation booked");
        // Booked already: a failed flag is logged, never answered as an error.
        if let Err(e) = crate::moderation::flag_content(
            &state,
            sansuo_store::moderation::FlagKind::Mediation,
            id.as_uuid(),
            id,
            found,
        )
        .await
        {
            tracing::warn!(case_id = %id, error = ?e, "content check of a mediation not recorded");
        }
    }
    crate::handlers::route_new_case(&state, &submission, Some(request_id.as_str()));
    let id = submission.case_id();
    let view = crate::handlers::read_back(
        id,
        Some(format!("/api/v1/mediations/{id}")),
        &format!(
            "您的调解申请已保存（编号 {id}），但暂时无法显示。请勿重新申请：稍后可在“我的调解”中查看，或用同一 Idempotency-Key 重试取回。"
        ),
        async {
            let record = state
                .store
                .mediations()
                .get(id)
                .await?
                .ok_or_else(super::mediation_not_found)?;
            mediation_view(&state, &record, true, PartyDetail::Masked).await
        },
    )
    .await?;
    let mut response = HttpResponse::Created();
    response.insert_header(("Location", format!("/api/v1/mediations/{id}")));
    if matches!(submission, Submission::Replayed(_)) {
        response.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(response.json(view))
}

/// Exactly one applicant, at least one respondent, at most ten parties.
pub(crate) fn check_parties(parties: &[PartyRequest]) -> Result<(), ApiError> {
    let applicants = parties
        .iter()
        .filter(|p| p.role == PartyRole::Applicant)
        .count();
    let respondents = parties
        .iter()
        .filter(|p| p.role == PartyRole::Respondent)
        .count();
    if applicants != 1 || respondents == 0 || parties.len() > MAX_PARTIES {
        return Err(ValidationError::new(
            "parties",
            format!(
                "exactly one applicant, at least one respondent, at most {MAX_PARTIES} parties"
            ),
        )
        .into());
    }
    Ok(())
}

/// Names and contacts sealed at rest, masks in clear.
pub(crate) fn seal_parties(
    state: &AppState,
    requests: &[PartyRequest],
) -> Result<Vec<NewParty>, ApiError> {
    let vault = state.vault.as_ref().ok_or_else(|| {
        ApiError::new(
            ErrorCode::FeatureDisabled,
            "party names and contacts cannot be stored on this server (no data keys): mediation bookings are switched off",
        )
    })?;
    let mut parties = Vec::with_capacity(requests.len());
    for p in requests {
        let name = bounded_text("parties.name", &p.name, 1, 32)?;
        let contact = p
            .contact
            .as_deref()
            .map(|c| bounded_text("parties.contact", c, 3, 32))
            .transpose()?;
        parties.push(NewParty {
            role: match p.role {
                PartyRole::Applicant => "applicant",
                PartyRole::Respondent => "respondent",
                PartyRole::Other => "other",
            },
            name_sealed: vault.seal(PARTY_NAME_CONTEXT, &name),
            name_masked: mask_name(&name),
            contact_sealed: contact
                .as_deref()
                .map(|c| vault.seal(PARTY_CONTACT_CONTEXT, c)),
            contact_masked: contact.as_deref().map(mask_phone),
        });
    }
    Ok(parties)
}
