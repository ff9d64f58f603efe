//! Mediation bookings (预约调解): residents apply and follow their case;
//! mediators accept or refuse and book sessions in rooms. Parties' names
//! and contacts are sealed at rest and shown masked, except to the mediator
//! who owns the case (they must reach the parties).
use crate::error::ErrorCode;

pub mod apply;
pub mod attendance;
pub mod case_file;
pub mod get;
pub mod hand_back;
pub mod list;
pub mod messages;
pub mod my_sessions;
pub mod outcome;
pub mod rate;
pub mod reopen;
pub mod reschedule;
pub mod rooms;
pub mod staff;
pub mod staff_list;
pub mod staff_message;
pub mod visit_answer;
pub mod withdraw;

use crate::{ApiError, AppState};
use chrono::{DateTime, Utc};
use sansuo_store::mediations::MediationRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Vault contexts: a sealed value opens only as what it was sealed for.
pub(crate) const PARTY_NAME_CONTEXT: &str = "mediation-party-name";
pub(crate) const PARTY_CONTACT_CONTEXT: &str = "mediation-party-contact";

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PartyView {
    /// `applicant`, `respondent` or `other`.
    pub role: String,
    /// Masked (`张**`) unless you are the mediator handling the case.
    pub name: String,
    /// Masked (`138****1234`) unless you are the mediator handling the case.
    pub contact: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SessionView {
    pub id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// `scheduled`, `held` or `cancelled`.
    pub status: String,
    pub room_id: Uuid,
    pub room_name: Option<String>,
    pub room_address: Option<String>,
    pub cancel_reason: Option<String>,
    /// The applicant's answer to "will you attend?"; absent until they answer.
    pub attendance: Option<AttendanceView>,
    /// The session this one replaced, when it was rescheduled.
    pub rescheduled_from: Option<Uuid>,
}

/// The applicant's attendance answer for one session.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AttendanceView {
    pub attending: bool,
    pub note: Option<String>,
    /// Answered by the applicant (their latest answer) at this time.
    pub answered_at: DateTime<Utc>,
}

/// The applicant's own answer to the follow-up visit (回访).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VisitAnswerView {
    /// `performed`, `partly` or `not_performed`.
    pub performance: String,
    /// 1 to 5.
    pub satisfaction: i16,
    pub comment: Option<String>,
    pub answered_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MediationEventView {
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub actor: String,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A mediation as the applicant or its mediator sees it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MediationView {
    pub id: Uuid,
    pub community_id: Uuid,
    pub category_code: String,
    /// `submitted`, `offered`, `pooled`, `accepted`, `scheduled`, `heard`,
    /// `agreed`, `terminated`, `closed`, `refused`, `withdrawn`.
    pub status: String,
    pub facts: String,
    pub claims: String,
    pub preferred_times: serde_json::Value,
    pub private: bool,
    pub attendees: Option<String>,
    pub parties: Vec<PartyView>,
    pub sessions: Vec<SessionView>,
    /// The mediator's display name, once someone accepted it.
    pub mediator: Option<String>,
    /// Why it was not accepted, and where to go instead.
    pub refusal_ground: Option<String>,
    pub referral: Option<String>,
    pub outcome: Option<OutcomeView>,
    /// Concluded within 30 working days of acceptance: the target date.
    pub conclusion_target: Option<chrono::NaiveDate>,
    /// Flagged as risking a public-order or criminal matter.
    pub public_order_risk: bool,
    /// The applicant's rating of the service, once concluded.
    pub rating: Option<crate::views::RatingView>,
    /// The applicant's own answer to the follow-up visit; the mediator's
    /// official visit record is in `outcome`.
    pub visit_answer: Option<VisitAnswerView>,
    /// The thread, oldest first: the applicant's and the mediator's public
    /// messages; staff also see internal notes (`visibility: internal`),
    /// which the applicant never does. An applicant's own message may still
    /// be held by the content check (`moderation`); staff see it once passed.
    pub messages: Vec<crate::views::MessageView>,
    pub history: Vec<MediationEventView>,
    /// 催办: how often the case was urged, and when last.
    pub urge_count: i32,
    pub last_urged_at: Option<DateTime<Utc>>,
    /// The consultation (converted by its lawyer with the resident's
    /// consent) or the tip (converted by its officer) this case came from.
    #[serde(default)]
    pub converted_from: Option<crate::views::CaseLinkView>,
    /// Filed in person by a mediator or coordinator (代办) for a resident
    /// without the app: who filed it and how to reach the resident (opened
    /// for the mediator handling it, masked for anyone else).
    #[serde(default)]
    pub intake: Option<crate::handlers::intake::IntakeView>,
    /// Staff only: the live 督办 and every 延期 asked for (absent on
    /// residents' views).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_order: Option<crate::handlers::supervision::WorkOrderView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The outcome and what follows it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OutcomeView {
    /// `agreement_written`, `agreement_oral` or `terminated`.
    pub kind: String,
    pub agreement_terms: Option<String>,
    pub performance_method: Option<String>,
    pub perform_by: Option<chrono::NaiveDate>,
    pub effective_on: Option<chrono::NaiveDate>,
    /// The last day to apply for judicial confirmation (30 days, counted as
    /// courts count: rest days at the end move it to the next working day).
    pub confirmation_deadline: Option<chrono::NaiveDate>,
    pub confirmation_applied_on: Option<chrono::NaiveDate>,
    pub confirmation_court: Option<String>,
    pub confirmation_ruling: Option<String>,
    pub termination_reason: Option<String>,
    /// Routes the parties were told: `arbitration`, `administrative`, `court`.
    pub other_routes: Vec<String>,
    pub visit_due: Option<chrono::NaiveDate>,
    pub visited_at: Option<DateTime<Utc>>,
    pub performance_status: Option<String>,
    pub satisfaction: Option<i16>,
    pub concluded_at: Option<DateTime<Utc>>,
}

/// How parties appear: masked, or opened for the mediator who owns the case
/// (audited as `kind`: the case view or the case file).
pub(crate) enum PartyDetail {
    Masked,
    Opened(sansuo_domain::data_view::DataKind),
}

pub(crate) async fn mediation_view(
    state: &AppState,
    record: &MediationRecord,
    public_only: bool,
    detail: PartyDetail,
) -> Result<MediationView, ApiError> {
    let events = state
        .store
        .cases()
        .history(record.case.id.into(), public_only)
        .await?;
    let thread = state
        .store
        .cases()
        .thread(record.case.id.into(), !public_only)
        .await?;
    let messages = thread
        .into_iter()
        .map(|m| {
            let by_staff = m.author_kind == "staff";
            crate::views::MessageView {
                id: m.id,
                author: if by_staff {
                    "mediator".into()
                } else {
                    m.author_kind.clone()
                },
                author_name: record
                    .owner
                    .as_ref()
                    .filter(|o| by_staff && o.id.as_uuid() == m.author_id)
                    .map(|o| o.display_name.clone()),
                body: m.body,
                visibility: m.visibility,
                moderation: m.moderation,
                created_at: m.created_at,
            }
        })
        .collect();
    let mut sessions = Vec::with_capacity(record.sessions.len());
    for s in &record.sessions {
        let room = state.store.staffing().room(s.room_id).await?;
        sessions.push(SessionView {
            id: s.id,
            starts_at: s.starts_at,
            ends_at: s.ends_at,
            status: s.status.as_str().to_owned(),
            room_id: s.room_id,
            room_name: room.as_ref().map(|r| r.name.clone()),
            room_address: room.and_then(|r| r.address),
            cancel_reason: s.cancel_reason.clone(),
            attendance: s.attending.zip(s.attendance_answered_at).map(
                |(attending, answered_at)| AttendanceView {
                    attending,
                    note: s.attendance_note.clone(),
                    answered_at,
                },
            ),
            rescheduled_from: s.rescheduled_from,
        });
    }
    // The intake (代办) record, opened below for the owner: read first, so
    // the audit rows of both kinds go in one statement before anything is
    // opened.
    let intake = state.store.cases().intake(record.case.id.into()).await?;
    if let PartyDetail::Opened(kind) = detail {
        let shown = |what| crate::audit::Shown {
            case_id: record.case.id,
            community_id: record.case.community_id,
            subject_resident_id: record.case.resident_id,
            what,
        };
        let mut rows = Vec::with_capacity(2);
        if !record.parties.is_empty() {
            rows.push(shown(kind));
        }
        if intake.is_some() {
            rows.push(shown(sansuo_domain::data_view::DataKind::IntakeResident));
        }
        crate::audit::record_here(state, &rows).await?;
    }
    let open = |context: &str, sealed: &str| -> Result<String, ApiError> {
        // An erased party (docs/retention.md) holds the placeholder as is.
        if sansuo_domain::retention::is_erased(sealed) {
            return Ok(sealed.to_owned());
        }
        let vault = state
            .vault
            .as_ref()
            .ok_or_else(|| ApiError::internal("sealed party data but no data keys"))?;
        vault
            .open(context, sealed)
            .map_err(|e| ApiError::internal(format!("party data: {e}")))
    };
    let mut parties = Vec::with_capacity(record.parties.len());
    for p in &record.parties {
        let (name, contact) = match detail {
            PartyDetail::Masked => (p.name_masked.clone(), p.contact_masked.clone()),
            PartyDetail::Opened(_) => (
                open(PARTY_NAME_CONTEXT, &p.name_sealed)?,
                p.contact_sealed
                    .as_deref()
                    .map(|c| open(PARTY_CONTACT_CONTEXT, c))
                    .transpose()?,
            ),
        };
        parties.push(PartyView {
            role: p.role.as_str().to_owned(),
            name,
            contact,
        });
    }
    let d = &record.detail;
    let c = &record.case;
    let calendar = state.store.catalog().business_calendar().await?;
    let local_day = |t: DateTime<Utc>| {
        t.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
            .date_naive()
    };
    let outcome = d.outcome.map(|kind| OutcomeView {
        kind: kind.as_str().to_owned(),
        agreement_terms: d.agreement_terms.clone(),
        performance_method: d.performance_method.clone(),
        perform_by: d.perform_by,
        effective_on: d.effective_on,
        confirmation_deadline: d
            .effective_on
            .map(|e| sansuo_domain::mediation::confirmation_deadline(e, &calendar)),
        confirmation_applied_on: d.confirmation_applied_on,
        confirmation_court: d.confirmation_court.clone(),
        confirmation_ruling: d.confirmation_ruling.clone(),
        termination_reason: d.termination_reason.clone(),
        other_routes: d.other_routes.clone(),
        visit_due: d.visit_due,
        visited_at: d.visited_at,
        performance_status: d.performance_status.map(|p| p.as_str().to_owned()),
        satisfaction: d.satisfaction,
        concluded_at: d.concluded_at,
    });
    Ok(MediationView {
        id: c.id,
        community_id: c.community_id,
        category_code: c.category_code.clone(),
        status: c.status.to_string(),
        facts: d.facts.clone(),
        claims: d.claims.clone(),
        preferred_times: serde_json::from_str(&d.preferred_times)
            .unwrap_or(serde_json::Value::Array(vec![])),
        private: d.private,
        attendees: d.attendees.clone(),
        parties,
        sessions,
        mediator: record.owner.as_ref().map(|o| o.display_name.clone()),
        refusal_ground: d.refusal_ground.map(|g| g.as_str().to_owned()),
        referral: d.referral.clone(),
        outcome,
        conclusion_target: c
            .accepted_at
            .map(|a| sansuo_domain::mediation::conclusion_target(local_day(a), &calendar)),
        public_order_risk: d.public_order_risk,
        rating: d.rating_stars.map(|stars| crate::views::RatingView {
            stars,
            comment: d.rating_comment.clone(),
            rated_at: d.rated_at,
        }),
        visit_answer: d
            .visit_answer_performance
            .map(|p| p.as_str().to_owned())
            .zip(d.visit_answer_satisfaction)
            .zip(d.visit_answered_at)
            .map(
                |((performance, satisfaction), answered_at)| VisitAnswerView {
                    performance,
                    satisfaction,
                    comment: d.visit_answer_comment.clone(),
                    answered_at,
                },
            ),
        messages,
        history: events
            .into_iter()
            .map(|e| MediationEventView {
                action: e.action,
                from_status: e.from_status,
                to_status: e.to_status,
                actor: e.actor_kind,
                reason: e.reason,
                created_at: e.created_at,
            })
            .collect(),
        urge_count: c.urge_count,
        last_urged_at: c.last_urged_at,
        work_order: if public_only {
            None
        } else {
            Some(
                crate::handlers::supervision::work_order_of(
                    state,
                    c.id.into(),
                    sansuo_domain::catalog::Service::Mediation,
                )
                .await?,
            )
        },
        converted_from: state.store.cases().converted_from(c.id.into()).await?.map(
            |(service, id)| crate::views::CaseLinkView {
                service: service.as_str().to_owned(),
                id: id.as_uuid(),
            },
        ),
        intake: intake
            .map(|i| {
                crate::handlers::intake::intake_view(
                    state,
                    i,
                    matches!(detail, PartyDetail::Opened(_)),
                )
            })
            .transpose()?,
        created_at: c.created_at,
        updated_at: c.updated_at,
    })
}

/// Free text a person typed: trimmed, `min` to `max` characters.
pub(crate) fn bounded_text(
    field: &'static str,
    text: &str,
    min: usize,
    max: usize,
) -> Result<String, sansuo_domain::ValidationError> {
    let text = text.trim();
    let chars = text.chars().count();
    if chars < min || chars > max {
        return Err(sansuo_domain::ValidationError::new(
            field,
            format!("must be {min} to {max} characters"),
        ));
    }
    Ok(text.to_owned())
}

pub(crate) fn mediation_not_found() -> ApiError {
    ApiError::new(ErrorCode::MediationNotFound, "no such mediation")
}

/// The applicant's view of their mediation (parties masked, public history).
pub(crate) async fn applicant_view(
    state: &AppState,
    id: sansuo_domain::CaseId,
    resident: sansuo_domain::ResidentId,
) -> Result<MediationView, ApiError> {
    let record = state
        .store
        .mediations()
        .get(id)
        .await?
        .filter(|r| r.case.resident_id == Some(resident.as_uuid()))
        .ok_or_else(mediation_not_found)?;
    mediation_view(state, &record, true, PartyDetail::Masked).await
}
