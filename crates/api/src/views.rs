//! What the API returns. Views are built from store records here, so
//! handlers stay short and every response shape is defined once.

use chrono::{DateTime, Utc};
use sansuo_domain::ConsultationStatus;
use sansuo_store::consultations::{ConsultationRecord, OfferedCase};
use sansuo_store::org::CommunityCard;
use sansuo_store::records::{CaseEventRecord, CaseMessageRecord};
use sansuo_store::records::{CategoryRecord, OrgUnitRecord};
use sansuo_store::records::{OfferRecord, StaffRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Tokens returned by every login and by refresh.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    /// JWT to send as `Authorization: Bearer ...`.
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
    pub expires_at: DateTime<Utc>,
    /// Use once at `POST /api/v1/auth/refresh` for a new pair.
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
    /// The resident or staff id.
    pub subject_id: Uuid,
    /// The staff role; absent for residents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// The public card of a community, shown after scanning its QR code.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CommunityCardView {
    pub id: Uuid,
    pub name: String,
    pub scene: String,
    pub street: Option<String>,
    pub police_station: Option<String>,
    pub signed_lawyer: Option<LawyerView>,
    /// Services offered here: `consultation`, `mediation`, `tip`.
    pub services: Vec<String>,
    pub office_hours: Option<String>,
    pub address: Option<String>,
}

impl From<CommunityCard> for CommunityCardView {
    fn from(c: CommunityCard) -> Self {
        Self {
            id: c.id.as_uuid(),
            name: c.name,
            scene: c.scene,
            street: c.street,
            police_station: c.police_station,
            signed_lawyer: c.signed_lawyer.map(|l| LawyerView {
                display_name: l.display_name,
                firm: l.firm,
            }),
            services: c.services,
            office_hours: c.office_hours,
            address: c.address,
        }
    }
}

/// A lawyer as residents see them: display name and firm, nothing else.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LawyerView {
    pub display_name: String,
    pub firm: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CategoryView {
    #[schema(example = "LJ")]
    pub code: String,
    pub parent_code: Option<String>,
    #[schema(example = "邻里纠纷")]
    pub name_zh: String,
    pub name_en: String,
    /// Which services accept this category: `consultation`, `mediation`, `tip`.
    pub services: Vec<String>,
    /// Higher is handled first.
    pub priority: i32,
    /// Tips in this category may be anonymous.
    pub anonymous_allowed: bool,
    /// An emergency: the client must tell the resident to call 110 now;
    /// submissions in it are refused (`emergency_call_110`), never queued.
    pub urgent: bool,
}

impl From<CategoryRecord> for CategoryView {
    fn from(c: CategoryRecord) -> Self {
        Self {
            services: service_names(&c.services),
            code: c.code,
            parent_code: c.parent_code,
            name_zh: c.name_zh,
            name_en: c.name_en,
            priority: c.priority,
            anonymous_allowed: c.anonymous_allowed,
            urgent: c.urgent,
        }
    }
}

/// Services as the wire names them.
fn service_names(services: &[sansuo_domain::catalog::Service]) -> Vec<String> {
    services.iter().map(|s| s.as_str().to_owned()).collect()
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CategoryList {
    pub items: Vec<CategoryView>,
}

/// Where a consultation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConsultationStatusView {
    Submitted,
    Offered,
    Pooled,
    Assigned,
    Answered,
    Resolved,
    Closed,
    Withdrawn,
    /// Refused by content moderation; it never reached a lawyer.
    Rejected,
    /// Its lawyer turned it into a mediation (the resident consented) or a
    /// tip: `conversion` names the new case.
    Converted,
}

impl From<ConsultationStatus> for ConsultationStatusView {
    fn from(s: ConsultationStatus) -> Self {
        use ConsultationStatus as S;
        match s {
            S::Submitted => Self::Submitted,
            S::Offered => Self::Offered,
            S::Pooled => Self::Pooled,
            S::Assigned => Self::Assigned,
            S::Answered => Self::Answered,
            S::Resolved => Self::Resolved,
            S::Closed => Self::Closed,
            S::Withdrawn => Self::Withdrawn,
            S::Rejected => Self::Rejected,
            S::Converted => Self::Converted,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RatingView {
    pub stars: i16,
    pub comment: Option<String>,
    pub rated_at: Option<DateTime<Utc>>,
}

/// One entry of a case thread.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MessageView {
    pub id: Uuid,
    /// `resident`, or the staff member's role in the case: `lawyer` on a
    /// consultation, `mediator` on a mediation.
    pub author: String,
    /// The staff member's display name for their messages.
    pub author_name: Option<String>,
    pub body: String,
    /// `public`, or `internal` (staff only).
    pub visibility: String,
    /// `passed`; a resident's own text may still be `pending` or `review`
    /// (held: staff do not see it yet) or `rejected`.
    pub moderation: String,
    pub created_at: DateTime<Utc>,
}

/// One entry of a case history.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EventView {
    /// `submit`, `accept`, `reply`, `resolve`, ... (staff also see `offer`, `decline`, `pool`, `expire_offer`, `note`).
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    /// `resident`, `staff` or `system`.
    pub actor: String,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A consultation with its thread and history.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConsultationView {
    pub id: Uuid,
    pub community_id: Uuid,
    pub category_code: String,
    pub status: ConsultationStatusView,
    pub question: String,
    /// Where the content check of the question stands: `passed`, `pending`
    /// (WeChat's checker was unreachable; checked again shortly), `review`
    /// (a coordinator will look), `rejected`. Held questions are not routed.
    pub moderation: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// 催办: how often the case was urged, and when last.
    pub urge_count: i32,
    pub last_urged_at: Option<DateTime<Utc>>,
    pub lawyer: Option<LawyerView>,
    pub rating: Option<RatingView>,
    pub messages: Vec<MessageView>,
    pub history: Vec<EventView>,
    /// 三所联动: the latest conversion the lawyer proposed or made (a
    /// mediation waits for the resident's `conversion/accept` or
    /// `conversion/refuse`; a tip is made at once).
    #[serde(default)]
    pub conversion: Option<ConversionView>,
    /// The case this consultation became, once converted.
    #[serde(default)]
    pub converted_to: Option<CaseLinkView>,
    /// Filed in person by a mediator or coordinator (代办) for a resident
    /// without the app: who filed it and how to reach the resident.
    #[serde(default)]
    pub intake: Option<IntakeView>,
    /// Staff only: the live 督办 and every 延期 asked for (absent on
    /// residents' views).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_order: Option<crate::handlers::supervision::WorkOrderView>,
}

/// Another case this one is linked to by a conversion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CaseLinkView {
    /// `consultation`, `mediation` or `tip`.
    #[schema(example = "mediation")]
    pub service: String,
    pub id: Uuid,
}

/// A party of a proposed mediation, always masked.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProposedPartyView {
    /// `applicant`, `respondent` or `other`.
    pub role: String,
    pub name: String,
    pub contact: Option<String>,
}

/// A consultation's conversion into a mediation or a tip.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConversionView {
    pub id: Uuid,
    /// `mediation` or `tip`.
    #[schema(example = "mediation")]
    pub to: String,
    /// `proposed` (waiting for the resident), `refused`, `withdrawn` (the
    /// consultation left the proposing lawyer's hands before the answer) or
    /// `converted`.
    #[schema(example = "proposed")]
    pub status: String,
    pub category_code: String,
    /// A mediation's facts and claims, as the lawyer summed them up.
    pub facts: Option<String>,
    pub claims: Option<String>,
    /// A tip's description.
    pub description: Option<String>,
    pub parties: Vec<ProposedPartyView>,
    pub proposed_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    /// The new case, once converted.
    pub case_id: Option<Uuid>,
}

impl From<sansuo_store::records::ConversionRecord> for ConversionView {
    fn from(c: sansuo_store::records::ConversionRecord) -> Self {
        ConversionView {
            id: c.id,
            to: c.to_service.as_str().to_owned(),
            status: c.status.as_str().to_owned(),
            category_code: c.category,
            facts: c.facts,
            claims: c.claims,
            description: c.description,
            parties: c
                .parties
                .into_iter()
                .map(|(role, name, contact)| ProposedPartyView {
                    role: role.as_str().to_owned(),
                    name,
                    contact,
                })
                .collect(),
            proposed_at: c.proposed_at,
            answered_at: c.answered_at,
            case_id: c.to_case_id,
        }
    }
}

/// Fill a consultation view's conversion, its link to the new case and
/// its intake (opened for the case's owner, masked for anyone else).
pub async fn with_links(
    state: &crate::AppState,
    mut view: ConsultationView,
    owner: bool,
) -> Result<ConsultationView, crate::ApiError> {
    view.intake = crate::handlers::intake::intake_of(state, view.id, owner).await?;
    let conversion = state
        .store
        .consultations()
        .conversion(view.id.into())
        .await?;
    view.converted_to = conversion.as_ref().and_then(|c| {
        c.to_case_id.map(|id| CaseLinkView {
            service: c.to_service.as_str().to_owned(),
            id,
        })
    });
    view.conversion = conversion.map(Into::into);
    Ok(view)
}

/// A line in a list of consultations.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConsultationSummary {
    pub id: Uuid,
    pub community_id: Uuid,
    pub category_code: String,
    pub status: ConsultationStatusView,
    /// The first 80 characters of the question.
    pub question_excerpt: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub lawyer: Option<LawyerView>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConsultationPage {
    pub items: Vec<ConsultationSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A case offered to the caller, to accept or decline before `expires_at`.
/// `service` says which summary is present.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OfferView {
    pub id: Uuid,
    pub case_id: Uuid,
    /// `consultation`, `mediation` or `tip`.
    #[schema(example = "consultation")]
    pub service: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The consultation offered (when `service` is `consultation`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consultation: Option<ConsultationSummary>,
    /// The mediation offered (when `service` is `mediation`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mediation: Option<MediationSummary>,
    /// The tip offered (when `service` is `tip`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tip: Option<TipSummary>,
}

/// A tip as an offer list shows it: what and where, never who reported it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TipSummary {
    pub id: Uuid,
    pub community_id: Uuid,
    pub category_code: String,
    pub status: String,
    /// The first 80 characters of the description.
    pub description_excerpt: String,
    pub anonymous: bool,
    /// The reporter's earlier tips were mostly unfounded.
    pub flagged: bool,
    pub created_at: DateTime<Utc>,
}

/// A mediation as an offer list shows it: what it is about, not who.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MediationSummary {
    pub id: Uuid,
    pub community_id: Uuid,
    pub category_code: String,
    pub status: String,
    /// The first 80 characters of the facts.
    pub facts_excerpt: String,
    /// The applicant asked for a session not open to the public.
    pub private: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OfferList {
    pub items: Vec<OfferView>,
}

/// The calling staff member.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StaffView {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub org_unit_id: Uuid,
    pub law_firm_id: Option<Uuid>,
    /// Whether a WeChat is bound for subscribe messages (never which).
    #[serde(default)]
    pub wechat_bound: bool,
    /// `available`, `away` or `off_duty` (only `available` staff are
    /// offered cases); set with `PUT /staff/me/presence`.
    pub presence: String,
    /// The district's map link for a location: an https URL in which the
    /// console puts a tip's `{lat}` and `{lng}` (`SANSUO_MAP_URL_TEMPLATE`);
    /// null when none is configured.
    #[serde(default)]
    pub map_url_template: Option<String>,
}

impl From<StaffRecord> for StaffView {
    fn from(s: StaffRecord) -> Self {
        Self {
            id: s.id.as_uuid(),
            username: s.username,
            display_name: s.display_name,
            role: s.role.as_str().to_owned(),
            org_unit_id: s.org_unit_id.as_uuid(),
            law_firm_id: s.law_firm_id,
            wechat_bound: false,
            presence: s.presence.as_str().to_owned(),
            map_url_template: None,
        }
    }
}

/// The answer of a state change: the case id and where it stands now.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseStatusView {
    pub id: Uuid,
    pub status: ConsultationStatusView,
}

fn lawyer_of(record: &ConsultationRecord) -> Option<LawyerView> {
    // The firm name is on the community card; the case view keeps to the name.
    record.owner.as_ref().map(|o| LawyerView {
        display_name: o.display_name.clone(),
        firm: None,
    })
}

pub fn summary(record: &ConsultationRecord) -> ConsultationSummary {
    ConsultationSummary {
        id: record.case.id,
        community_id: record.case.community_id,
        category_code: record.case.category_code.clone(),
        status: record.status().into(),
        question_excerpt: record.detail.question.chars().take(80).collect(),
        created_at: record.case.created_at,
        updated_at: record.case.updated_at,
        lawyer: lawyer_of(record),
    }
}

pub fn consultation(
    record: &ConsultationRecord,
    messages: Vec<CaseMessageRecord>,
    events: Vec<CaseEventRecord>,
) -> ConsultationView {
    let owner = record.owner.as_ref();
    let messages = messages
        .into_iter()
        .map(|m| {
            let by_staff = m.author_kind == "staff";
            MessageView {
                id: m.id,
                author: if by_staff {
                    "lawyer".into()
                } else {
                    m.author_kind.clone()
                },
                author_name: owner
                    .filter(|o| by_staff && o.id.as_uuid() == m.author_id)
                    .map(|o| o.display_name.clone()),
                body: m.body,
                visibility: m.visibility,
                moderation: m.moderation,
                created_at: m.created_at,
            }
        })
        .collect();
    let history = events
        .into_iter()
        .map(|e| EventView {
            action: e.action,
            from_status: e.from_status,
            to_status: e.to_status,
            actor: e.actor_kind,
            reason: e.reason,
            created_at: e.created_at,
        })
        .collect();
    let c = &record.case;
    ConsultationView {
        id: c.id,
        community_id: c.community_id,
        category_code: c.category_code.clone(),
        status: record.status().into(),
        question: record.detail.question.clone(),
        moderation: c.moderation.as_str().to_owned(),
        created_at: c.created_at,
        updated_at: c.updated_at,
        accepted_at: c.accepted_at,
        answered_at: c.answered_at,
        resolved_at: c.resolved_at,
        closed_at: c.closed_at,
        urge_count: c.urge_count,
        last_urged_at: c.last_urged_at,
        lawyer: lawyer_of(record),
        rating: record.detail.rating_stars.map(|stars| RatingView {
            stars,
            comment: record.detail.rating_comment.clone(),
            rated_at: record.detail.rated_at,
        }),
        messages,
        history,
        conversion: None,
        converted_to: None,
        intake: None,
        work_order: None,
    }
}

pub fn offer_view(offer: &OfferRecord, offered: &OfferedCase) -> OfferView {
    let (service, consultation, mediation, tip) = match offered {
        OfferedCase::Consultation(record) => (
            sansuo_store::consultations::SERVICE,
            Some(summary(record)),
            None,
            None,
        ),
        OfferedCase::Tip { case, detail } => (
            sansuo_store::tips::SERVICE,
            None,
            None,
            Some(TipSummary {
                id: case.id,
                community_id: case.community_id,
                category_code: case.category_code.clone(),
                status: case.status.to_string(),
                description_excerpt: detail.description.chars().take(80).collect(),
                anonymous: detail.anonymous,
                flagged: detail.flagged,
                created_at: case.created_at,
            }),
        ),
        OfferedCase::Mediation { case, detail } => (
            sansuo_store::mediations::SERVICE,
            None,
            Some(MediationSummary {
                id: case.id,
                community_id: case.community_id,
                category_code: case.category_code.clone(),
                status: case.status.to_string(),
                facts_excerpt: detail.facts.chars().take(80).collect(),
                private: detail.private,
                created_at: case.created_at,
            }),
            None,
        ),
    };
    OfferView {
        id: offer.id.as_uuid(),
        case_id: offer.case_id.as_uuid(),
        service: service.to_owned(),
        created_at: offer.created_at,
        expires_at: offer.expires_at,
        consultation,
        mediation,
        tip,
    }
}

/// A unit of the organisation tree.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrgUnitView {
    pub id: Uuid,
    /// `district`, `street`, `police_station`, `judicial_office`, `community`, `grid`.
    pub kind: String,
    pub parent_id: Option<Uuid>,
    /// For a community: its police station.
    pub station_id: Option<Uuid>,
    pub name: String,
    pub scene: Option<String>,
    pub address: Option<String>,
    pub office_hours: Option<String>,
    pub services: Vec<String>,
    /// False: deactivated (takes no new work; its history stays).
    pub active: bool,
    /// The unit's own case-number pattern (`PATCH` sets it); absent: the
    /// default, or the pattern of a unit above it.
    #[serde(default)]
    pub case_number_pattern: Option<String>,
}

impl From<OrgUnitRecord> for OrgUnitView {
    fn from(u: OrgUnitRecord) -> Self {
        Self {
            services: service_names(&u.services),
            id: u.id,
            kind: u.kind.as_str().to_owned(),
            parent_id: u.parent_id,
            station_id: u.station_id,
            name: u.name,
            scene: u.scene,
            address: u.address,
            office_hours: u.office_hours,
            active: u.active,
            case_number_pattern: u.case_number_pattern,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrgUnitList {
    pub items: Vec<OrgUnitView>,
}

/// A staff account with what the router uses.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StaffProfileView {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: String,
    /// The home unit (the scope of the staff member's own actions).
    pub org_unit_id: Uuid,
    /// Further units this person works for.
    pub units: Vec<Uuid>,
    /// Category codes; a top-level code covers its sub-items.
    pub skills: Vec<String>,
    /// Most active cases at once.
    pub capacity: i32,
    /// `available`, `away` or `off_duty`.
    pub presence: String,
    pub law_firm_id: Option<Uuid>,
    pub active: bool,
}

impl From<sansuo_store::staffing::StaffProfile> for StaffProfileView {
    fn from(p: sansuo_store::staffing::StaffProfile) -> Self {
        let a = p.account;
        Self {
            id: a.id.as_uuid(),
            username: a.username,
            display_name: a.display_name,
            role: a.role.as_str().to_owned(),
            org_unit_id: a.org_unit_id.as_uuid(),
            units: p.units,
            skills: p.skills,
            capacity: a.capacity,
            presence: a.presence.as_str().to_owned(),
            law_firm_id: a.law_firm_id,
            active: a.active,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StaffList {
    pub items: Vec<StaffProfileView>,
}

/// Someone on duty for a unit from `starts_at` to `ends_at`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DutyShiftView {
    pub id: Uuid,
    pub org_unit_id: Uuid,
    pub staff_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

impl From<sansuo_store::records::DutyShiftRecord> for DutyShiftView {
    fn from(s: sansuo_store::records::DutyShiftRecord) -> Self {
        Self {
            id: s.id,
            org_unit_id: s.org_unit_id,
            staff_id: s.staff_id,
            starts_at: s.starts_at,
            ends_at: s.ends_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DutyShiftList {
    pub items: Vec<DutyShiftView>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RoomView {
    pub id: Uuid,
    pub org_unit_id: Uuid,
    pub name: String,
    pub address: Option<String>,
    pub opening_hours: Option<String>,
    pub active: bool,
}

impl From<sansuo_store::records::RoomRecord> for RoomView {
    fn from(r: sansuo_store::records::RoomRecord) -> Self {
        Self {
            id: r.id,
            org_unit_id: r.org_unit_id,
            name: r.name,
            address: r.address,
            opening_hours: r.opening_hours,
            active: r.active,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RoomList {
    pub items: Vec<RoomView>,
}

/// A date that differs from its weekday's schedule.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CalendarDayView {
    pub day: chrono::NaiveDate,
    /// `holiday` or `workday` (a make-up working day, 调休).
    pub kind: String,
    pub source: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CalendarDayList {
    pub items: Vec<CalendarDayView>,
}

/// Resident text or a photo waiting for a person's decision.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HeldTextView {
    /// Held from staff until decided: `case` (a question) or `message` (a
    /// follow-up). Flagged, never withheld from the officer handling the
    /// tip: `tip` (a tip's description), `tip_message` (a reporter's
    /// follow-up), `photo` (a resident photo, hidden from resident-facing
    /// views until passed), `mediation` (an application's facts and claims),
    /// `rating` (a rating's comment), `visit_answer` (a visit answer's
    /// comment), `reopen` (a resident's reason for reopening a consultation).
    pub kind: String,
    pub id: Uuid,
    pub case_id: Uuid,
    pub community_id: Uuid,
    /// `review` or `pending`.
    pub moderation: String,
    /// The text (empty for a photo: open it through the tip).
    pub text: String,
    /// Flagged items only: what the check said, `review`, `risky` or
    /// `unchecked` (no automatic check was possible, e.g. an anonymous tip).
    #[serde(default)]
    pub verdict: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HeldTextList {
    pub items: Vec<HeldTextView>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ModerationDecisionView {
    pub id: Uuid,
    /// `passed` or `rejected`.
    pub moderation: String,
}

/// The calling resident.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ResidentView {
    pub id: Uuid,
    /// `138****1234`; absent until a number is bound.
    pub phone_masked: Option<String>,
    pub phone_bound_at: Option<DateTime<Utc>>,
}

/// A generated community QR code.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct QrCodeView {
    pub community_id: Uuid,
    pub scene: String,
    /// `wechat` or `local`.
    pub source: String,
    /// Size of the PNG.
    pub bytes: usize,
    /// Where to download it.
    pub url: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct QrCodeList {
    pub items: Vec<QrCodeView>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TemplateView {
    /// `consultation_accepted`, `consultation_answered`.
    pub event: String,
    pub template_id: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TemplateList {
    pub items: Vec<TemplateView>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreditView {
    pub template_id: String,
    /// Messages of this template the resident will still receive.
    pub credits: i32,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreditList {
    pub items: Vec<CreditView>,
}

// The response types defined beside their handlers, re-exported so clients
// in Rust (the end-to-end tests) read one path: `sansuo_api::views::*`.
pub use crate::handlers::admin::cases::{RoutingCasePage, RoutingCaseView};
pub use crate::handlers::admin::categories::{CategoryDetailList, CategoryDetailView};
pub use crate::handlers::admin::duty_rotas::{RotaList, RotaPreview, RotaShiftView, RotaView};
pub use crate::handlers::admin::law_firms::{LawFirmList, LawFirmView};
pub use crate::handlers::admin::lawyer_signings::{LawyerSigningList, LawyerSigningView};
pub use crate::handlers::admin::mediation_report::MediationReportView;
pub use crate::handlers::admin::open311_keys::{IssuedOpen311Key, Open311KeyList, Open311KeyView};
pub use crate::handlers::admin::stats_live::{
    LiveCountsView, LiveStatsView, OwnedByServiceView, PriorityWaitingView, QueueView,
    RoleStaffingView,
};
pub use crate::handlers::admin::stats_summary::{
    ByServiceView, CategoryCountView, ChannelCountView, DurationStatsView, OfferCountsView,
    SatisfactionView, ServiceStatsView, SlaBreachCountsView, StaffCountView, StatusCountView,
    SummaryStatsView, TipOutcomeView, TipOutcomesView,
};
pub use crate::handlers::admin::workflows::{
    LadderStepBody, SlaTargetsBody, WorkflowList, WorkflowView,
};
pub use crate::handlers::canned_replies::{CannedReplyKind, CannedReplyList, CannedReplyView};
pub use crate::handlers::intake::{IntakeReceipt, IntakeView};
pub use crate::handlers::mediations::list::{BookedSessionView, MediationLine, MediationPage};
pub use crate::handlers::mediations::rooms::{FreeSlotsView, TimeSpanView};
pub use crate::handlers::mediations::{
    AttendanceView, MediationEventView, MediationView, OutcomeView, PartyView, SessionView,
    VisitAnswerView,
};
pub use crate::handlers::staff::StaffCaseView;
pub use crate::handlers::staff::duty_shifts::{RosterList, RosterShiftView};
pub use crate::handlers::tips::photos::PhotoReceipts;
pub use crate::handlers::tips::report::TipReceipt;
pub use crate::handlers::tips::resident::{SimilarTip, SupportResult, TipPage};
pub use crate::handlers::tips::staff::TipBoard;
pub use crate::handlers::tips::triage::ConvertedView;
pub use crate::handlers::tips::{
    LocationView, PhotoReceiptView, TipEventView, TipMessageView, TipStaffDetail, TipView,
};
pub use sansuo_casefile::{CaseFile, CaseFileEvent, CaseFileParty, CaseFileRow, CaseFileSection};
