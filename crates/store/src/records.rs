//! What the store hands its callers instead of rows: each record is read
//! from its row once, here, so list columns are split and kinds parsed in
//! one place and no caller ever sees a column's spelling.

use crate::entity::{
    case, case_conversion, case_event, case_intake, case_message, category, consultation,
    duty_shift, mediation, mediation_party, mediation_room, mediation_session, offer, open311_key,
    org_unit, qr_code, resident, sla_breach, staff, tip, tip_photo,
};
use crate::rows::split_list;
use chrono::{DateTime, Utc};
use sansuo_domain::catalog::Service;
use sansuo_domain::dispatch::Presence;
use sansuo_domain::mediation::{Outcome, PartyRole, Performance, RefusalGround, SessionStatus};
use sansuo_domain::moderation::Moderation;
use sansuo_domain::offer::OfferStatus;
use sansuo_domain::org::UnitKind;
use sansuo_domain::sla::SlaKind;
use sansuo_domain::tip::{Datum, TriageVerdict};
use sansuo_domain::work_order::CaseStatus;
use sansuo_domain::{CaseId, OfferId, OrgUnitId, ResidentId, StaffId, StaffRole};
use sea_orm::DbErr;
use uuid::Uuid;

/// A row whose column holds what the code never writes: corrupt data, so
/// a database error rather than a caller's mistake.
fn corrupt(table: &str, column: &str, why: String) -> DbErr {
    DbErr::Type(format!("{table}.{column}: {why}"))
}

/// A list column of service names as services.
fn services(table: &str, csv: &str) -> Result<Vec<Service>, DbErr> {
    split_list(csv)
        .iter()
        .map(|s| s.parse().map_err(|e| corrupt(table, "services", e)))
        .collect()
}

/// A case of any service, as callers read it: its service and status are
/// the domain's enums (the status typed by the service's own machine).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRecord {
    pub id: Uuid,
    pub service: Service,
    pub status: CaseStatus,
    pub community_id: Uuid,
    pub category_code: String,
    pub resident_id: Option<Uuid>,
    pub moderation: Moderation,
    pub owner_staff_id: Option<Uuid>,
    pub pool_unit_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub workflow: Option<String>,
    pub ladder_step: i32,
    pub priority: i32,
    pub queued_at: Option<DateTime<Utc>>,
    pub unrouted_at: Option<DateTime<Utc>>,
    /// 催办: how often the case was urged, and when last.
    pub urge_count: i32,
    pub last_urged_at: Option<DateTime<Utc>>,
    /// 延期: business minutes granted on the resolution target.
    pub sla_extension_minutes: i32,
}

impl TryFrom<case::Model> for CaseRecord {
    type Error = DbErr;
    fn try_from(c: case::Model) -> Result<Self, DbErr> {
        let service: Service = c
            .service
            .parse()
            .map_err(|e| corrupt("cases", "service", e))?;
        let status = CaseStatus::parse(service, &c.status)
            .map_err(|e| corrupt("cases", "status", e.to_string()))?;
        let moderation = Moderation::parse(&c.moderation)
            .ok_or_else(|| corrupt("cases", "moderation", format!("unknown `{}`", c.moderation)))?;
        Ok(Self {
            id: c.id,
            service,
            moderation,
            status,
            community_id: c.community_id,
            category_code: c.category_code,
            resident_id: c.resident_id,
            owner_staff_id: c.owner_staff_id,
            pool_unit_id: c.pool_unit_id,
            created_at: c.created_at,
            updated_at: c.updated_at,
            accepted_at: c.accepted_at,
            answered_at: c.answered_at,
            resolved_at: c.resolved_at,
            closed_at: c.closed_at,
            workflow: c.workflow,
            ladder_step: c.ladder_step,
            priority: c.priority,
            queued_at: c.queued_at,
            unrouted_at: c.unrouted_at,
            urge_count: c.urge_count,
            last_urged_at: c.last_urged_at,
            sla_extension_minutes: c.sla_extension_minutes,
        })
    }
}

/// A staff account, as callers read it: role and presence are the
/// domain's enums. The password hash is here for the password checks and
/// never printed (`Debug` leaves it out).
#[derive(Clone, PartialEq, Eq)]
pub struct StaffRecord {
    pub id: StaffId,
    pub username: String,
    pub password_hash: String,
    pub display_name: String,
    pub role: StaffRole,
    pub org_unit_id: OrgUnitId,
    pub law_firm_id: Option<Uuid>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub capacity: i32,
    pub presence: Presence,
    pub presence_changed_at: Option<DateTime<Utc>>,
    pub last_assigned_at: Option<DateTime<Utc>>,
    pub session_epoch: i32,
    pub demo: bool,
}

impl std::fmt::Debug for StaffRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffRecord")
            .field("id", &self.id)
            .field("role", &self.role)
            .field("org_unit_id", &self.org_unit_id)
            .field("active", &self.active)
            .field("presence", &self.presence)
            .finish_non_exhaustive()
    }
}

impl TryFrom<staff::Model> for StaffRecord {
    type Error = DbErr;
    fn try_from(s: staff::Model) -> Result<Self, DbErr> {
        let role: StaffRole = s.role.parse().map_err(|e| corrupt("staff", "role", e))?;
        let presence: Presence = s
            .presence
            .parse()
            .map_err(|e| corrupt("staff", "presence", e))?;
        Ok(Self {
            id: s.id.into(),
            username: s.username,
            password_hash: s.password_hash,
            display_name: s.display_name,
            role,
            org_unit_id: s.org_unit_id.into(),
            law_firm_id: s.law_firm_id,
            active: s.active,
            created_at: s.created_at,
            capacity: s.capacity,
            presence,
            presence_changed_at: s.presence_changed_at,
            last_assigned_at: s.last_assigned_at,
            session_epoch: s.session_epoch,
            demo: s.demo,
        })
    }
}

/// An offer of a case to one person, as callers read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferRecord {
    pub id: OfferId,
    pub case_id: CaseId,
    pub staff_id: StaffId,
    pub status: OfferStatus,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub responded_at: Option<DateTime<Utc>>,
    pub decline_reason: Option<String>,
    pub ladder_step: i32,
}

impl TryFrom<offer::Model> for OfferRecord {
    type Error = DbErr;
    fn try_from(o: offer::Model) -> Result<Self, DbErr> {
        let status: OfferStatus = o
            .status
            .parse()
            .map_err(|e| corrupt("offers", "status", e))?;
        Ok(Self {
            id: o.id.into(),
            case_id: o.case_id.into(),
            staff_id: o.staff_id.into(),
            status,
            created_at: o.created_at,
            expires_at: o.expires_at,
            responded_at: o.responded_at,
            decline_reason: o.decline_reason,
            ladder_step: o.ladder_step,
        })
    }
}

/// A category of the catalogue, as callers read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryRecord {
    pub code: String,
    pub parent_code: Option<String>,
    pub name_zh: String,
    pub name_en: String,
    /// The services that take this category, in the column's order.
    pub services: Vec<Service>,
    pub sort_order: i32,
    pub active: bool,
    pub priority: i32,
    pub anonymous_allowed: bool,
    pub urgent: bool,
    /// Its tips are listed by Open311's public `GET requests`.
    pub open311_public: bool,
    /// The names of the workflows it accepts.
    pub workflows: Vec<String>,
}

impl CategoryRecord {
    pub fn takes(&self, service: Service) -> bool {
        self.services.contains(&service)
    }
}

impl TryFrom<category::Model> for CategoryRecord {
    type Error = DbErr;
    fn try_from(c: category::Model) -> Result<Self, DbErr> {
        Ok(Self {
            services: services("categories", &c.services)?,
            workflows: split_list(&c.workflows),
            code: c.code,
            parent_code: c.parent_code,
            name_zh: c.name_zh,
            name_en: c.name_en,
            sort_order: c.sort_order,
            active: c.active,
            priority: c.priority,
            anonymous_allowed: c.anonymous_allowed,
            urgent: c.urgent,
            open311_public: c.open311_public,
        })
    }
}

/// A unit of the organisation tree, as callers read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgUnitRecord {
    pub id: Uuid,
    pub kind: UnitKind,
    pub parent_id: Option<Uuid>,
    /// For a community: its police station.
    pub station_id: Option<Uuid>,
    pub name: String,
    pub scene: Option<String>,
    pub address: Option<String>,
    pub office_hours: Option<String>,
    /// The services offered here, in the column's order.
    pub services: Vec<Service>,
    pub created_at: DateTime<Utc>,
    /// False: deactivated (takes no new work; its history stays).
    pub active: bool,
    /// Its own case-number pattern (`store::case_numbers`), if it set one.
    pub case_number_pattern: Option<String>,
}

impl OrgUnitRecord {
    pub fn offers(&self, service: Service) -> bool {
        self.services.contains(&service)
    }
}

impl TryFrom<org_unit::Model> for OrgUnitRecord {
    type Error = DbErr;
    fn try_from(u: org_unit::Model) -> Result<Self, DbErr> {
        Ok(Self {
            kind: u
                .kind
                .parse()
                .map_err(|e| corrupt("org_units", "kind", e))?,
            services: services("org_units", &u.services)?,
            id: u.id,
            parent_id: u.parent_id,
            station_id: u.station_id,
            name: u.name,
            scene: u.scene,
            address: u.address,
            office_hours: u.office_hours,
            created_at: u.created_at,
            active: u.active,
            case_number_pattern: u.case_number_pattern,
        })
    }
}

/// Someone on duty for a unit from `starts_at` to `ends_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DutyShiftRecord {
    pub id: Uuid,
    pub org_unit_id: Uuid,
    pub staff_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl From<duty_shift::Model> for DutyShiftRecord {
    fn from(s: duty_shift::Model) -> Self {
        Self {
            id: s.id,
            org_unit_id: s.org_unit_id,
            staff_id: s.staff_id,
            starts_at: s.starts_at,
            ends_at: s.ends_at,
            created_at: s.created_at,
        }
    }
}

/// A mediation room of a unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomRecord {
    pub id: Uuid,
    pub org_unit_id: Uuid,
    pub name: String,
    pub address: Option<String>,
    pub opening_hours: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl From<mediation_room::Model> for RoomRecord {
    fn from(r: mediation_room::Model) -> Self {
        Self {
            id: r.id,
            org_unit_id: r.org_unit_id,
            name: r.name,
            address: r.address,
            opening_hours: r.opening_hours,
            active: r.active,
            created_at: r.created_at,
        }
    }
}

/// A law firm and the units (streets or districts) it is signed to: its
/// lawyers form the consultation pool there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LawFirmRecord {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub signed_units: Vec<Uuid>,
}

/// A community's signed lawyer (签约律师): offered the community's
/// consultations first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LawyerSigningRecord {
    pub community_id: Uuid,
    pub staff_id: Uuid,
    pub display_name: String,
    pub since: DateTime<Utc>,
}

/// An Open311 client key, by its hash (the key itself is never stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open311KeyRecord {
    pub id: Uuid,
    pub name: String,
    pub key_hash: String,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<open311_key::Model> for Open311KeyRecord {
    fn from(k: open311_key::Model) -> Self {
        Self {
            id: k.id,
            name: k.name,
            key_hash: k.key_hash,
            created_by: k.created_by,
            created_at: k.created_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// The stored QR code of a community.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrCodeRecord {
    pub org_unit_id: Uuid,
    pub scene: String,
    pub png: Vec<u8>,
    /// Who made it: `wechat` or `local`.
    pub source: String,
    pub created_at: DateTime<Utc>,
}

impl From<qr_code::Model> for QrCodeRecord {
    fn from(q: qr_code::Model) -> Self {
        Self {
            org_unit_id: q.org_unit_id,
            scene: q.scene,
            png: q.png,
            source: q.source,
            created_at: q.created_at,
        }
    }
}

/// Rows to records, failing on the first corrupt one.
pub(crate) fn all<M, R: TryFrom<M, Error = DbErr>>(rows: Vec<M>) -> Result<Vec<R>, DbErr> {
    rows.into_iter().map(R::try_from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_category_row_reads_its_lists() {
        let row = category::Model {
            code: "LJ".into(),
            parent_code: None,
            name_zh: "邻里纠纷".into(),
            name_en: "Neighbours".into(),
            services: "consultation, mediation,".into(),
            sort_order: 1,
            active: true,
            priority: 0,
            anonymous_allowed: false,
            urgent: false,
            open311_public: false,
            workflows: "a,b".into(),
            edited_at: None,
        };
        let record = CategoryRecord::try_from(row.clone()).unwrap();
        assert_eq!(record.services, [Service::Consultation, Service::Mediation]);
        assert_eq!(record.workflows, ["a", "b"]);
        let bad = category::Model {
            services: "fax".into(),
            ..row
        };
        assert!(CategoryRecord::try_from(bad).is_err());
    }

    #[test]
    fn a_staff_row_reads_its_enums_and_never_prints_its_hash() {
        let row = staff::Model {
            id: Uuid::nil(),
            username: "lawyer.wang".into(),
            password_hash: "$argon2id$secret".into(),
            display_name: "王律师".into(),
            role: "lawyer".into(),
            org_unit_id: Uuid::nil(),
            law_firm_id: None,
            active: true,
            created_at: Utc::now(),
            capacity: 5,
            presence: "off_duty".into(),
            presence_changed_at: None,
            last_assigned_at: None,
            session_epoch: 0,
            demo: false,
            load: 0,
        };
        let record = StaffRecord::try_from(row.clone()).unwrap();
        assert_eq!(record.role, StaffRole::Lawyer);
        assert_eq!(record.presence, Presence::OffDuty);
        assert!(!format!("{record:?}").contains("secret"));
        let bad_role = staff::Model {
            role: "judge".into(),
            ..row.clone()
        };
        assert!(StaffRecord::try_from(bad_role).is_err());
        let bad_presence = staff::Model {
            presence: "asleep".into(),
            ..row
        };
        assert!(StaffRecord::try_from(bad_presence).is_err());
    }

    #[test]
    fn an_offer_row_reads_its_status() {
        let row = offer::Model {
            id: Uuid::nil(),
            case_id: Uuid::nil(),
            staff_id: Uuid::nil(),
            status: "pending".into(),
            created_at: Utc::now(),
            expires_at: Utc::now(),
            responded_at: None,
            decline_reason: None,
            ladder_step: 0,
        };
        assert_eq!(
            OfferRecord::try_from(row.clone()).unwrap().status,
            OfferStatus::Pending
        );
        let bad = offer::Model {
            status: "maybe".into(),
            ..row
        };
        assert!(OfferRecord::try_from(bad).is_err());
    }
}

/// One message of a case's thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseMessageRecord {
    pub id: Uuid,
    pub case_id: Uuid,
    /// `resident` or `staff`.
    pub author_kind: String,
    pub author_id: Uuid,
    pub body: String,
    /// `public` or `internal`.
    pub visibility: String,
    pub created_at: DateTime<Utc>,
    pub moderation: String,
}

impl From<case_message::Model> for CaseMessageRecord {
    fn from(m: case_message::Model) -> Self {
        Self {
            id: m.id,
            case_id: m.case_id,
            author_kind: m.author_kind,
            author_id: m.author_id,
            body: m.body,
            visibility: m.visibility,
            created_at: m.created_at,
            moderation: m.moderation,
        }
    }
}

/// One event of a case's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseEventRecord {
    pub id: Uuid,
    pub case_id: Uuid,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub actor_kind: String,
    pub actor_id: Option<Uuid>,
    pub reason: Option<String>,
    pub public: bool,
    /// The `X-Request-Id` of the request that made the move.
    pub request_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<case_event::Model> for CaseEventRecord {
    fn from(e: case_event::Model) -> Self {
        Self {
            id: e.id,
            case_id: e.case_id,
            action: e.action,
            from_status: e.from_status,
            to_status: e.to_status,
            actor_kind: e.actor_kind,
            actor_id: e.actor_id,
            reason: e.reason,
            public: e.public,
            request_id: e.request_id,
            created_at: e.created_at,
        }
    }
}

/// A tip photo's receipt (the bytes live in the photo store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TipPhotoRecord {
    pub id: Uuid,
    pub case_id: Uuid,
    /// The stored type: `jpg`, `png`, …
    pub kind: String,
    pub bytes: i32,
    pub sha256: String,
    pub received_at: DateTime<Utc>,
    pub added_by: String,
    pub storage_key: String,
}

impl From<tip_photo::Model> for TipPhotoRecord {
    fn from(p: tip_photo::Model) -> Self {
        Self {
            id: p.id,
            case_id: p.case_id,
            kind: p.kind,
            bytes: p.bytes,
            sha256: p.sha256,
            received_at: p.received_at,
            added_by: p.added_by,
            storage_key: p.storage_key,
        }
    }
}

/// A consultation's own columns: the question and the resident's rating.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsultationDetail {
    pub question: String,
    pub rating_stars: Option<i16>,
    pub rating_comment: Option<String>,
    pub rated_at: Option<DateTime<Utc>>,
}

impl From<consultation::Model> for ConsultationDetail {
    fn from(c: consultation::Model) -> Self {
        Self {
            question: c.question,
            rating_stars: c.rating_stars,
            rating_comment: c.rating_comment,
            rated_at: c.rated_at,
        }
    }
}

/// A tip's own columns, as callers read them: the datum and the triage
/// verdict are the domain's enums. The keys that screen and track its
/// reporter stay in the store.
#[derive(Debug, Clone, PartialEq)]
pub struct TipDetail {
    pub description: String,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    /// The datum the reporter's client sent (the point is stored in WGS-84).
    pub datum: Option<Datum>,
    pub address_text: Option<String>,
    pub anonymous: bool,
    pub flagged: bool,
    pub triage_verdict: Option<TriageVerdict>,
    pub triage_note: Option<String>,
    pub referred_to: Option<String>,
    pub duplicate_of: Option<Uuid>,
    pub converted_to: Option<Uuid>,
    pub source_case_id: Option<Uuid>,
    pub close_note: Option<String>,
    pub supporters: i32,
    /// How it came in: `tips::channel`.
    pub channel: String,
}

impl TryFrom<tip::Model> for TipDetail {
    type Error = DbErr;
    fn try_from(t: tip::Model) -> Result<Self, DbErr> {
        Ok(Self {
            datum: t
                .datum
                .map(|d| d.parse().map_err(|e| corrupt("tips", "datum", e)))
                .transpose()?,
            triage_verdict: t
                .triage_verdict
                .map(|v| v.parse().map_err(|e| corrupt("tips", "triage_verdict", e)))
                .transpose()?,
            description: t.description,
            lat: t.lat,
            lng: t.lng,
            address_text: t.address_text,
            anonymous: t.anonymous,
            flagged: t.flagged,
            triage_note: t.triage_note,
            referred_to: t.referred_to,
            duplicate_of: t.duplicate_of,
            converted_to: t.converted_to,
            source_case_id: t.source_case_id,
            close_note: t.close_note,
            supporters: t.supporters,
            channel: t.channel,
        })
    }
}

/// A response-time clock that ran out on a case, recorded once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaBreachRecord {
    pub case_id: CaseId,
    pub clock: SlaKind,
    pub ladder_step: i32,
    pub due_at: DateTime<Utc>,
    pub breached_at: DateTime<Utc>,
}

impl TryFrom<sla_breach::Model> for SlaBreachRecord {
    type Error = DbErr;
    fn try_from(b: sla_breach::Model) -> Result<Self, DbErr> {
        let clock = SlaKind::parse(&b.clock)
            .ok_or_else(|| corrupt("sla_breaches", "clock", format!("unknown `{}`", b.clock)))?;
        Ok(Self {
            case_id: b.case_id.into(),
            clock,
            ladder_step: b.ladder_step,
            due_at: b.due_at,
            breached_at: b.breached_at,
        })
    }
}

/// A resident, as callers read it. The phone is sealed (sansuo-vault) and
/// masked; the plain number is never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidentRecord {
    pub id: ResidentId,
    pub openid: String,
    pub unionid: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_login_at: DateTime<Utc>,
    pub phone_sealed: Option<String>,
    pub phone_masked: Option<String>,
    pub phone_bound_at: Option<DateTime<Utc>>,
}

impl From<resident::Model> for ResidentRecord {
    fn from(r: resident::Model) -> Self {
        Self {
            id: r.id.into(),
            openid: r.openid,
            unionid: r.unionid,
            created_at: r.created_at,
            last_login_at: r.last_login_at,
            phone_sealed: r.phone_sealed,
            phone_masked: r.phone_masked,
            phone_bound_at: r.phone_bound_at,
        }
    }
}

/// An optional kind column, parsed: a value the code never writes is corrupt.
fn kind_of<T: std::str::FromStr<Err = String>>(
    table: &str,
    column: &str,
    value: Option<String>,
) -> Result<Option<T>, DbErr> {
    value
        .map(|v| v.parse().map_err(|e| corrupt(table, column, e)))
        .transpose()
}

/// A mediation's own columns, as callers read them: the refusal ground,
/// the outcome and the performance found are the domain's enums, the
/// list columns are split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediationDetail {
    pub facts: String,
    pub claims: String,
    /// The applicant's time windows, as the JSON text they sent.
    pub preferred_times: String,
    pub private: bool,
    pub attendees: Option<String>,
    pub requested_mediator: Option<StaffId>,
    pub refused_mediators: Vec<StaffId>,
    pub refusal_ground: Option<RefusalGround>,
    pub referral: Option<String>,
    pub outcome: Option<Outcome>,
    pub agreement_terms: Option<String>,
    pub performance_method: Option<String>,
    pub perform_by: Option<chrono::NaiveDate>,
    pub effective_on: Option<chrono::NaiveDate>,
    pub termination_reason: Option<String>,
    /// The other routes the parties were told of on termination, as written.
    pub other_routes: Vec<String>,
    pub confirmation_applied_on: Option<chrono::NaiveDate>,
    pub confirmation_court: Option<String>,
    pub confirmation_ruling: Option<String>,
    pub visit_due: Option<chrono::NaiveDate>,
    pub visited_at: Option<DateTime<Utc>>,
    /// What the mediator's follow-up visit found.
    pub performance_status: Option<Performance>,
    pub satisfaction: Option<i16>,
    pub public_order_risk: bool,
    pub concluded_at: Option<DateTime<Utc>>,
    pub rating_stars: Option<i16>,
    pub rating_comment: Option<String>,
    pub rated_at: Option<DateTime<Utc>>,
    /// The applicant's own answer to the follow-up visit.
    pub visit_answer_performance: Option<Performance>,
    pub visit_answer_satisfaction: Option<i16>,
    pub visit_answer_comment: Option<String>,
    pub visit_answered_at: Option<DateTime<Utc>>,
}

impl TryFrom<mediation::Model> for MediationDetail {
    type Error = DbErr;
    fn try_from(m: mediation::Model) -> Result<Self, DbErr> {
        const T: &str = "mediations";
        let refused_mediators = split_list(&m.refused_mediator_ids)
            .iter()
            .map(|id| {
                id.parse::<Uuid>()
                    .map(StaffId::from)
                    .map_err(|e| corrupt(T, "refused_mediator_ids", e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            refusal_ground: kind_of(T, "refusal_ground", m.refusal_ground)?,
            outcome: kind_of(T, "outcome", m.outcome)?,
            performance_status: kind_of(T, "performance_status", m.performance_status)?,
            visit_answer_performance: kind_of(
                T,
                "visit_answer_performance",
                m.visit_answer_performance,
            )?,
            other_routes: split_list(&m.other_routes),
            refused_mediators,
            requested_mediator: m.requested_mediator_id.map(StaffId::from),
            facts: m.facts,
            claims: m.claims,
            preferred_times: m.preferred_times,
            private: m.private,
            attendees: m.attendees,
            referral: m.referral,
            agreement_terms: m.agreement_terms,
            performance_method: m.performance_method,
            perform_by: m.perform_by,
            effective_on: m.effective_on,
            termination_reason: m.termination_reason,
            confirmation_applied_on: m.confirmation_applied_on,
            confirmation_court: m.confirmation_court,
            confirmation_ruling: m.confirmation_ruling,
            visit_due: m.visit_due,
            visited_at: m.visited_at,
            satisfaction: m.satisfaction,
            public_order_risk: m.public_order_risk,
            concluded_at: m.concluded_at,
            rating_stars: m.rating_stars,
            rating_comment: m.rating_comment,
            rated_at: m.rated_at,
            visit_answer_satisfaction: m.visit_answer_satisfaction,
            visit_answer_comment: m.visit_answer_comment,
            visit_answered_at: m.visit_answered_at,
        })
    }
}

/// A party to a mediation. Name and contact are sealed (sansuo-vault) and
/// masked; only the owner's mediator sees them opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyRecord {
    pub id: Uuid,
    pub role: PartyRole,
    pub name_sealed: String,
    pub name_masked: String,
    pub contact_sealed: Option<String>,
    pub contact_masked: Option<String>,
}

impl TryFrom<mediation_party::Model> for PartyRecord {
    type Error = DbErr;
    fn try_from(p: mediation_party::Model) -> Result<Self, DbErr> {
        Ok(Self {
            id: p.id,
            role: p
                .role
                .parse()
                .map_err(|e| corrupt("mediation_parties", "role", e))?,
            name_sealed: p.name_sealed,
            name_masked: p.name_masked,
            contact_sealed: p.contact_sealed,
            contact_masked: p.contact_masked,
        })
    }
}

/// A session of a mediation booked in a room, with the applicant's answer
/// about attending it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id: Uuid,
    pub case_id: CaseId,
    pub room_id: Uuid,
    pub mediator_id: StaffId,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub status: SessionStatus,
    pub attendees: Option<String>,
    pub minutes: Option<String>,
    pub cancel_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub attending: Option<bool>,
    pub attendance_note: Option<String>,
    pub attendance_answered_at: Option<DateTime<Utc>>,
    pub attendance_resident_id: Option<ResidentId>,
    /// The session this one replaced, when it was rescheduled.
    pub rescheduled_from: Option<Uuid>,
}

impl TryFrom<mediation_session::Model> for SessionRecord {
    type Error = DbErr;
    fn try_from(s: mediation_session::Model) -> Result<Self, DbErr> {
        Ok(Self {
            status: s
                .status
                .parse()
                .map_err(|e| corrupt("mediation_sessions", "status", e))?,
            id: s.id,
            case_id: s.case_id.into(),
            room_id: s.room_id,
            mediator_id: s.mediator_id.into(),
            starts_at: s.starts_at,
            ends_at: s.ends_at,
            attendees: s.attendees,
            minutes: s.minutes,
            cancel_reason: s.cancel_reason,
            created_at: s.created_at,
            attending: s.attending,
            attendance_note: s.attendance_note,
            attendance_answered_at: s.attendance_answered_at,
            attendance_resident_id: s.attendance_resident_id.map(ResidentId::from),
            rescheduled_from: s.rescheduled_from,
        })
    }
}

/// Where a conversion (三所联动) stands: proposed to the resident (a
/// mediation waits for their consent), refused by them, or done (the new
/// case exists).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConversionStatus {
    Proposed,
    Refused,
    /// The consultation left the proposing lawyer's hands (hand-back,
    /// reassignment) before the resident answered.
    Withdrawn,
    Converted,
}

impl ConversionStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            ConversionStatus::Proposed => "proposed",
            ConversionStatus::Refused => "refused",
            ConversionStatus::Withdrawn => "withdrawn",
            ConversionStatus::Converted => "converted",
        }
    }
}

impl std::str::FromStr for ConversionStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [
            ConversionStatus::Proposed,
            ConversionStatus::Refused,
            ConversionStatus::Withdrawn,
            ConversionStatus::Converted,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
        .ok_or_else(|| format!("unknown conversion status `{s}`"))
    }
}

/// A party of a proposed mediation, sealed as on a mediation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct ProposedParty {
    pub role: String,
    pub name_sealed: String,
    pub name_masked: String,
    pub contact_sealed: Option<String>,
    pub contact_masked: Option<String>,
}

/// What the new case will hold (`case_conversions.proposal`, JSON): a
/// mediation's category, facts, claims and parties, or a tip's category
/// and description.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Proposal {
    pub category: String,
    #[serde(default)]
    pub facts: Option<String>,
    #[serde(default)]
    pub claims: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub parties: Vec<ProposedParty>,
}

/// A consultation's conversion into a mediation or a tip, as views show it
/// (parties masked only: the resident and the lawyer read them here).
#[derive(Debug, Clone)]
pub struct ConversionRecord {
    pub id: Uuid,
    pub from_case_id: Uuid,
    pub to_service: Service,
    pub status: ConversionStatus,
    pub proposed_by: Uuid,
    pub proposed_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub to_case_id: Option<Uuid>,
    pub category: String,
    pub facts: Option<String>,
    pub claims: Option<String>,
    pub description: Option<String>,
    /// (role, masked name, masked contact)
    pub parties: Vec<(PartyRole, String, Option<String>)>,
}

impl TryFrom<case_conversion::Model> for ConversionRecord {
    type Error = DbErr;
    fn try_from(c: case_conversion::Model) -> Result<Self, DbErr> {
        let table = "case_conversions";
        let proposal: Proposal = serde_json::from_str(&c.proposal)
            .map_err(|e| corrupt(table, "proposal", e.to_string()))?;
        let parties = proposal
            .parties
            .into_iter()
            .map(|p| {
                Ok((
                    p.role.parse().map_err(|e| corrupt(table, "proposal", e))?,
                    p.name_masked,
                    p.contact_masked,
                ))
            })
            .collect::<Result<_, DbErr>>()?;
        Ok(Self {
            id: c.id,
            from_case_id: c.from_case_id,
            to_service: c
                .to_service
                .parse()
                .map_err(|e| corrupt(table, "to_service", e))?,
            status: c.status.parse().map_err(|e| corrupt(table, "status", e))?,
            proposed_by: c.proposed_by,
            proposed_at: c.proposed_at,
            answered_at: c.answered_at,
            to_case_id: c.to_case_id,
            category: proposal.category,
            facts: proposal.facts,
            claims: proposal.claims,
            description: proposal.description,
            parties,
        })
    }
}

/// A case filed in person (代办): the channel, who filed it, when, and the
/// resident's name and phone sealed with their masks.
#[derive(Debug, Clone)]
pub struct IntakeRecord {
    pub case_id: Uuid,
    pub channel: String,
    pub filed_by: Uuid,
    pub name_sealed: String,
    pub name_masked: String,
    pub phone_sealed: String,
    pub phone_masked: String,
    pub created_at: DateTime<Utc>,
}

impl From<case_intake::Model> for IntakeRecord {
    fn from(i: case_intake::Model) -> Self {
        Self {
            case_id: i.case_id,
            channel: i.channel,
            filed_by: i.filed_by,
            name_sealed: i.name_sealed,
            name_masked: i.name_masked,
            phone_sealed: i.phone_sealed,
            phone_masked: i.phone_masked,
            created_at: i.created_at,
        }
    }
}
