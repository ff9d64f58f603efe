//! Assisted intake (代办): a mediator or a coordinator files a consultation
//! or a mediation for a resident who came in person without a smartphone.
//! The resident's name and phone are sealed like a mediation's parties and
//! shown masked (opened only to the case's owner); the community named in
//! the body must lie in the staff member's subtree (404 otherwise, as for a
//! missing one). The case is routed like any new one and records how it
//! came in (`in_person`, who filed it, a staff-only event).

pub mod consultation;
pub mod mediation;

use crate::error::ErrorCode;
use crate::extract::IntakeAuth;
use crate::handlers::mediations::bounded_text;
use crate::{ApiError, AppState};
use chrono::{DateTime, Utc};
use sansuo_domain::catalog::Service;
use sansuo_domain::{OrgUnitId, ValidationError};
use sansuo_store::consultations::NewIntake;
use sansuo_store::records::{IntakeRecord, OrgUnitRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Vault contexts of the resident's name and phone on a case filed in person.
pub const INTAKE_NAME_CONTEXT: &str = "intake.name";
pub const INTAKE_PHONE_CONTEXT: &str = "intake.phone";

/// The resident who came in person.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InPersonResident {
    /// 1 to 32 characters; stored sealed, shown masked.
    #[schema(example = "王大爷")]
    pub name: String,
    /// A phone number to reach them, 5 to 20 digits (`+`, `-` and spaces
    /// allowed); stored sealed, shown masked.
    #[schema(example = "13812341234")]
    pub phone: String,
}

/// How a case filed in person came in.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IntakeView {
    /// `in_person`.
    #[schema(example = "in_person")]
    pub channel: String,
    /// The mediator or coordinator who filed it.
    pub filed_by: Uuid,
    pub filed_at: DateTime<Utc>,
    /// Masked (`王**`) unless you own the case.
    pub resident_name: String,
    /// Masked (`138****1234`) unless you own the case.
    pub resident_phone: String,
}

/// What the staff member who filed the case gets back.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IntakeReceipt {
    pub case_id: Uuid,
    /// `consultation` or `mediation`.
    #[schema(example = "consultation")]
    pub service: String,
    /// `submitted`: routed like any new case.
    pub status: String,
    pub community_id: Uuid,
    pub category_code: String,
    pub intake: IntakeView,
}

/// The community named in the body, if it lies in the caller's subtree and
/// offers `service`; otherwise 404 `community_not_found`.
pub(crate) async fn community_in_scope(
    state: &AppState,
    auth: &IntakeAuth,
    community: Uuid,
    service: Service,
) -> Result<OrgUnitRecord, ApiError> {
    let community: OrgUnitId = community.into();
    crate::scoped::resolve(state, auth.scope, community, ErrorCode::CommunityNotFound).await?;
    let card = state
        .store
        .org()
        .community(community)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::CommunityNotFound, "no such community"))?;
    if !card.offers(service) {
        return Err(ApiError::new(
            ErrorCode::CommunityNotFound,
            "this community does not offer this service",
        ));
    }
    Ok(card)
}

/// The resident's name and phone, checked and sealed (never logged).
pub(crate) fn seal_resident(
    state: &AppState,
    auth: &IntakeAuth,
    resident: &InPersonResident,
) -> Result<NewIntake, ApiError> {
    let vault = state.vault.as_ref().ok_or_else(|| {
        ApiError::new(
            ErrorCode::FeatureDisabled,
            "personal data cannot be stored on this server (no data keys): assisted intake is switched off",
        )
    })?;
    let name = bounded_text("resident.name", &resident.name, 1, 32)?;
    let phone = resident.phone.trim();
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    if !(5..=20).contains(&digits)
        || !phone
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' '))
    {
        return Err(ValidationError::new("resident.phone", "5 to 20 digits").into());
    }
    Ok(NewIntake {
        filed_by: auth.principal().into(),
        name_sealed: vault.seal(INTAKE_NAME_CONTEXT, &name),
        name_masked: sansuo_domain::privacy::mask_name(&name),
        phone_sealed: vault.seal(INTAKE_PHONE_CONTEXT, phone),
        phone_masked: sansuo_domain::privacy::mask_phone(phone),
    })
}

/// The intake record as a view: masked, or opened for the case's owner.
/// Opening is audited by the caller, before this (`crate::audit`).
pub(crate) fn intake_view(
    state: &AppState,
    record: IntakeRecord,
    opened: bool,
) -> Result<IntakeView, ApiError> {
    let (resident_name, resident_phone) = if opened {
        let vault = state
            .vault
            .as_ref()
            .ok_or_else(|| ApiError::internal("sealed intake data but no data keys"))?;
        let open = |context: &str, sealed: &str| {
            // Erased (docs/retention.md): the placeholder, as is.
            if sansuo_domain::retention::is_erased(sealed) {
                return Ok(sealed.to_owned());
            }
            vault
                .open(context, sealed)
                .map_err(|e| ApiError::internal(format!("intake data: {e}")))
        };
        (
            open(INTAKE_NAME_CONTEXT, &record.name_sealed)?,
            open(INTAKE_PHONE_CONTEXT, &record.phone_sealed)?,
        )
    } else {
        (record.name_masked, record.phone_masked)
    };
    Ok(IntakeView {
        channel: record.channel,
        filed_by: record.filed_by,
        filed_at: record.created_at,
        resident_name,
        resident_phone,
    })
}

/// The case's intake, if it was filed in person.
pub(crate) async fn intake_of(
    state: &AppState,
    id: Uuid,
    opened: bool,
) -> Result<Option<IntakeView>, ApiError> {
    match state.store.cases().intake(id.into()).await? {
        Some(record) => {
            if opened {
                let case = state
                    .store
                    .cases()
                    .get(id.into())
                    .await?
                    .ok_or_else(|| ApiError::internal("intake without its case"))?;
                crate::audit::record_here(
                    state,
                    &[crate::audit::Shown {
                        case_id: id,
                        community_id: case.community_id,
                        subject_resident_id: case.resident_id,
                        what: sansuo_domain::data_view::DataKind::IntakeResident,
                    }],
                )
                .await?;
            }
            Ok(Some(intake_view(state, record, opened)?))
        }
        None => Ok(None),
    }
}

/// The 201 for a case filed in person: the receipt `build` makes around
/// the intake as anyone but the owner reads it (masked). A filing replayed
/// for a repeated Idempotency-Key answers as the first did, marked
/// `Idempotent-Replayed: true`.
pub(crate) async fn receipt(
    state: &AppState,
    submission: &sansuo_store::consultations::Submission,
    location: String,
    build: impl FnOnce(IntakeView) -> IntakeReceipt,
) -> Result<actix_web::HttpResponse, ApiError> {
    let id = submission.case_id();
    let intake = intake_of(state, id.as_uuid(), false)
        .await?
        .ok_or_else(|| ApiError::internal("intake record missing after commit"))?;
    let mut response = actix_web::HttpResponse::Created();
    response.insert_header(("Location", location));
    if matches!(
        submission,
        sansuo_store::consultations::Submission::Replayed(_)
    ) {
        response.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(response.json(build(intake)))
}
