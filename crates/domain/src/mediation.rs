//! The mediation (预约调解) state machine and the deadlines the law sets.
//!
//! ```text
//! submitted ─offer─▶ offered ─accept─▶ accepted ─schedule─▶ scheduled ─hold─▶ heard ─agree─▶ agreed ─visit─▶ closed
//!     │      ◀─decline/expire─┘  ▲        │  ▲                 │ cancel (none left)  │              │            │
//!     └─pool/escalate─▶ pooled ──┘claim   │  └─────────────────┘                    └─terminate─▶ terminated─close┘
//!                                         └─refuse (ground + referral) ─▶ refused         reopen: closed ─▶ accepted
//! withdraw (resident): before a session was held ─▶ withdrawn
//! escalate_tier (mediator/coordinator, by hand): accepted, scheduled, heard ─▶ pooled one tier up
//! reschedule: scheduled ─▶ scheduled (one booking cancelled and another made together)
//! ```
//! What the applicant says does not move the case: attendance of a booked
//! session, a rating once concluded (`may_rate`), their own answer to the
//! follow-up visit while agreed (`may_answer_visit`).
//! The routing part (submitted, offered, pooled → accepted) is the same
//! engine as consultations; "accepted" is 受理 and owning the case at once.

use crate::calendar::BusinessCalendar;
use crate::values::ValidationError;
use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediationStatus {
    /// Applied; its routing event not yet handled.
    Submitted,
    /// Offered to one mediator, until the offer expires.
    Offered,
    /// Waiting on its tier's queue for a mediator.
    Pooled,
    /// A mediator accepted it (受理) and owns it; no session booked yet.
    Accepted,
    /// A session is booked in a room.
    Scheduled,
    /// At least one session was held; no outcome yet.
    Heard,
    /// An agreement was reached (written or oral); performance is followed up.
    Agreed,
    /// Mediation ended without agreement; the parties were told their routes.
    Terminated,
    /// Done: followed up (agreement) or closed after termination.
    Closed,
    /// Not accepted, with a ground and a referral.
    Refused,
    /// The applicant withdrew before any session was held.
    Withdrawn,
}

impl MediationStatus {
    pub const ALL: [MediationStatus; 11] = [
        MediationStatus::Submitted,
        MediationStatus::Offered,
        MediationStatus::Pooled,
        MediationStatus::Accepted,
        MediationStatus::Scheduled,
        MediationStatus::Heard,
        MediationStatus::Agreed,
        MediationStatus::Terminated,
        MediationStatus::Closed,
        MediationStatus::Refused,
        MediationStatus::Withdrawn,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            MediationStatus::Submitted => "submitted",
            MediationStatus::Offered => "offered",
            MediationStatus::Pooled => "pooled",
            MediationStatus::Accepted => "accepted",
            MediationStatus::Scheduled => "scheduled",
            MediationStatus::Heard => "heard",
            MediationStatus::Agreed => "agreed",
            MediationStatus::Terminated => "terminated",
            MediationStatus::Closed => "closed",
            MediationStatus::Refused => "refused",
            MediationStatus::Withdrawn => "withdrawn",
        }
    }

    /// Concluded (an outcome is recorded): what the success rate divides by.
    pub fn is_concluded(&self) -> bool {
        matches!(
            self,
            MediationStatus::Agreed | MediationStatus::Terminated | MediationStatus::Closed
        )
    }

    pub fn is_terminal(&self) -> bool {
        matches!(self, MediationStatus::Refused | MediationStatus::Withdrawn)
    }
}

impl fmt::Display for MediationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MediationStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MediationStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown mediation status `{s}`"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediationAction {
    Offer,
    Pool,
    Escalate,
    Unroute,
    /// Mediator: take the offer (受理).
    Accept,
    Decline,
    ExpireOffer,
    /// Mediator: take it from the tier's queue.
    Claim,
    /// Mediator or coordinator: not accepted, with a ground and a referral.
    Refuse,
    /// Coordinator: give it to a named mediator.
    Reassign,
    /// Owner: "not mine" before any session.
    HandBack,
    /// Book a session in a room.
    Schedule,
    /// Cancel the only upcoming session (with notice to the parties).
    CancelSession,
    /// Move a booked session to another time or room: the old booking is
    /// cancelled and the new one made in one step, so the case stays scheduled.
    Reschedule,
    /// Record a held session (attendees, minutes).
    Hold,
    /// Record an agreement.
    Agree,
    /// End without agreement, telling the parties their routes.
    Terminate,
    /// The follow-up visit (回访) on an agreement's performance.
    Visit,
    /// Close a terminated case.
    Close,
    /// A closed case needs more work.
    Reopen,
    /// By hand, with a reason: to the next tier (专业助调, 公调对接).
    EscalateTier,
    /// Applicant: withdraw before any session was held.
    Withdraw,
    /// Timer: a response-time target passed.
    SlaBreach,
}

impl MediationAction {
    pub const ALL: [MediationAction; 23] = [
        MediationAction::Offer,
        MediationAction::Pool,
        MediationAction::Escalate,
        MediationAction::Unroute,
        MediationAction::Accept,
        MediationAction::Decline,
        MediationAction::ExpireOffer,
        MediationAction::Claim,
        MediationAction::Refuse,
        MediationAction::Reassign,
        MediationAction::HandBack,
        MediationAction::Schedule,
        MediationAction::CancelSession,
        MediationAction::Reschedule,
        MediationAction::Hold,
        MediationAction::Agree,
        MediationAction::Terminate,
        MediationAction::Visit,
        MediationAction::Close,
        MediationAction::Reopen,
        MediationAction::EscalateTier,
        MediationAction::Withdraw,
        MediationAction::SlaBreach,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            MediationAction::Offer => "offer",
            MediationAction::Pool => "pool",
            MediationAction::Escalate => "escalate",
            MediationAction::Unroute => "unroute",
            MediationAction::Accept => "accept",
            MediationAction::Decline => "decline",
            MediationAction::ExpireOffer => "expire_offer",
            MediationAction::Claim => "claim",
            MediationAction::Refuse => "refuse",
            MediationAction::Reassign => "reassign",
            MediationAction::HandBack => "hand_back",
            MediationAction::Schedule => "schedule",
            MediationAction::CancelSession => "cancel_session",
            MediationAction::Reschedule => "reschedule",
            MediationAction::Hold => "hold",
            MediationAction::Agree => "agree",
            MediationAction::Terminate => "terminate",
            MediationAction::Visit => "visit",
            MediationAction::Close => "close",
            MediationAction::Reopen => "reopen",
            MediationAction::EscalateTier => "escalate_tier",
            MediationAction::Withdraw => "withdraw",
            MediationAction::SlaBreach => "sla_breach",
        }
    }

    /// Whether the parties see this event in their history. Routing
    /// internals stay with staff.
    pub fn is_public(&self) -> bool {
        !matches!(
            self,
            MediationAction::Offer
                | MediationAction::Pool
                | MediationAction::Escalate
                | MediationAction::Unroute
                | MediationAction::Decline
                | MediationAction::ExpireOffer
                | MediationAction::HandBack
                | MediationAction::Reassign
                | MediationAction::SlaBreach
        )
    }
}

impl fmt::Display for MediationAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a mediation that is {from} cannot {action}")]
pub struct MediationTransitionError {
    pub from: MediationStatus,
    pub action: MediationAction,
}

/// The status after `action`, or why the move is forbidden.
pub fn transition(
    from: MediationStatus,
    action: MediationAction,
) -> Result<MediationStatus, MediationTransitionError> {
    use MediationAction as A;
    use MediationStatus as S;
    let to = match (from, action) {
        (S::Submitted | S::Pooled, A::Offer) => S::Offered,
        (S::Submitted, A::Pool) => S::Pooled,
        (S::Submitted | S::Pooled, A::Escalate | A::Unroute) => S::Pooled,
        (S::Offered, A::Accept) => S::Accepted,
        (S::Offered, A::Decline | A::ExpireOffer) => S::Pooled,
        (S::Pooled, A::Claim) => S::Accepted,
        (S::Submitted | S::Offered | S::Pooled | S::Accepted, A::Refuse) => S::Refused,
        (S::Submitted | S::Offered | S::Pooled | S::Accepted, A::Reassign) => S::Accepted,
        (S::Accepted, A::HandBack) => S::Pooled,
        (S::Accepted | S::Scheduled | S::Heard, A::Schedule) => S::Scheduled,
        (S::Scheduled, A::CancelSession) => S::Accepted,
        (S::Scheduled, A::Reschedule) => S::Scheduled,
        (S::Scheduled, A::Hold) => S::Heard,
        (S::Heard, A::Agree) => S::Agreed,
        (S::Accepted | S::Scheduled | S::Heard, A::Terminate) => S::Terminated,
        (S::Agreed, A::Visit) => S::Closed,
        (S::Terminated, A::Close) => S::Closed,
        (S::Closed, A::Reopen) => S::Accepted,
        (S::Accepted | S::Scheduled | S::Heard, A::EscalateTier) => S::Pooled,
        (S::Submitted | S::Offered | S::Pooled | S::Accepted | S::Scheduled, A::Withdraw) => {
            S::Withdrawn
        }
        (
            S::Submitted | S::Offered | S::Pooled | S::Accepted | S::Scheduled | S::Heard,
            A::SlaBreach,
        ) => from,
        _ => return Err(MediationTransitionError { from, action }),
    };
    Ok(to)
}

/// Whether the owning mediator may hand the case back (退单: "not mine" —
/// wrong category, wrong area, a conflict of interest). Only while nothing
/// has been done with the parties that another mediator would inherit: the
/// case is accepted, no session was ever held and no outcome was ever
/// recorded (a reopened case is accepted again but carries both). A booked
/// session is cancelled first, which brings the case back to accepted.
pub fn may_hand_back(
    status: MediationStatus,
    any_session_held: bool,
    outcome_recorded: bool,
) -> bool {
    status == MediationStatus::Accepted && !any_session_held && !outcome_recorded
}

/// Whether a hand-back must first cancel the case's booked sessions: a
/// scheduled case never heard. Cancelling them all brings it back to
/// accepted ([`status_after_cancel`]), from which [`may_hand_back`] allows
/// it; the resident is told the sessions are off.
pub fn hand_back_cancels_bookings(
    status: MediationStatus,
    any_session_held: bool,
    outcome_recorded: bool,
) -> bool {
    status == MediationStatus::Scheduled
        && may_hand_back(
            status_after_cancel(0, any_session_held),
            any_session_held,
            outcome_recorded,
        )
}

/// Cancelling one session of several keeps the case scheduled; cancelling
/// the last upcoming one returns it to where it was before booking.
pub fn status_after_cancel(upcoming_left: usize, any_held: bool) -> MediationStatus {
    match (upcoming_left, any_held) {
        (n, _) if n > 0 => MediationStatus::Scheduled,
        (_, true) => MediationStatus::Heard,
        (_, false) => MediationStatus::Accepted,
    }
}

/// The applicant may rate the service once an outcome is recorded
/// (agreed, terminated, or closed after either).
pub fn may_rate(status: MediationStatus) -> bool {
    status.is_concluded()
}

/// The applicant answers the follow-up visit while the agreement is being
/// performed: after it is reached, before the mediator's visit closes it.
pub fn may_answer_visit(status: MediationStatus) -> bool {
    status == MediationStatus::Agreed
}

/// Whether an agreement was performed, as the follow-up visit finds it
/// (the mediator's record) or as the applicant answers it (their own word).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Performance {
    Performed,
    Partly,
    NotPerformed,
}

impl Performance {
    pub const ALL: [Performance; 3] = [
        Performance::Performed,
        Performance::Partly,
        Performance::NotPerformed,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Performance::Performed => "performed",
            Performance::Partly => "partly",
            Performance::NotPerformed => "not_performed",
        }
    }
}

impl FromStr for Performance {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Performance::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("unknown performance `{s}`"))
    }
}

/// The applicant's own answer to the follow-up visit, parsed at the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitAnswer {
    performance: Performance,
    satisfaction: i16,
    comment: Option<String>,
}

impl VisitAnswer {
    pub fn parse(
        performance: Performance,
        satisfaction: i64,
        comment: Option<&str>,
    ) -> Result<Self, ValidationError> {
        if !(1..=5).contains(&satisfaction) {
            return Err(ValidationError::new("satisfaction", "must be 1 to 5"));
        }
        Ok(Self {
            performance,
            satisfaction: satisfaction as i16,
            comment: optional_text("comment", comment, 500)?,
        })
    }

    pub fn performance(&self) -> Performance {
        self.performance
    }

    pub fn satisfaction(&self) -> i16 {
        self.satisfaction
    }

    pub fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }
}

/// The applicant's answer to "will you attend this session?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttendanceAnswer {
    attending: bool,
    note: Option<String>,
}

impl AttendanceAnswer {
    pub fn parse(attending: bool, note: Option<&str>) -> Result<Self, ValidationError> {
        Ok(Self {
            attending,
            note: optional_text("note", note, 200)?,
        })
    }

    pub fn attending(&self) -> bool {
        self.attending
    }

    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// The event's reason: what the mediator reads to decide whether to
    /// reschedule.
    pub fn summary(&self) -> String {
        let answer = if self.attending {
            "will attend"
        } else {
            "cannot attend"
        };
        match &self.note {
            Some(note) => format!("{answer}: {note}"),
            None => answer.to_owned(),
        }
    }
}

/// Optional free text: blank means none, otherwise 1 to `max` characters.
fn optional_text(
    field: &'static str,
    text: Option<&str>,
    max: usize,
) -> Result<Option<String>, ValidationError> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => crate::values::bounded_text(field, text, 1, max).map(Some),
    }
}

/// Why a mediation may be refused (不予受理), as the law lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalGround {
    /// A court, arbitration body or administrative agency already handles it.
    AlreadyHandled,
    /// Only a specialised body may mediate it (e.g. labour arbitration).
    SpecialisedBody,
    /// A party refuses mediation.
    PartyRefuses,
    /// Not a civil dispute (a crime, an administrative act).
    NotMediable,
}

impl RefusalGround {
    pub const ALL: [RefusalGround; 4] = [
        RefusalGround::AlreadyHandled,
        RefusalGround::SpecialisedBody,
        RefusalGround::PartyRefuses,
        RefusalGround::NotMediable,
    ];

    /// The name stored in `mediations.refusal_ground` (its serde name).
    pub fn as_str(&self) -> &'static str {
        match self {
            RefusalGround::AlreadyHandled => "already_handled",
            RefusalGround::SpecialisedBody => "specialised_body",
            RefusalGround::PartyRefuses => "party_refuses",
            RefusalGround::NotMediable => "not_mediable",
        }
    }
}

impl FromStr for RefusalGround {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RefusalGround::ALL
            .into_iter()
            .find(|g| g.as_str() == s)
            .ok_or_else(|| format!("unknown refusal ground `{s}`"))
    }
}

/// What a concluded mediation came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A written agreement (调解协议书).
    AgreementWritten,
    /// An oral agreement, recorded by the mediator.
    AgreementOral,
    /// No agreement; the parties were told their other routes.
    Terminated,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [
        Outcome::AgreementWritten,
        Outcome::AgreementOral,
        Outcome::Terminated,
    ];

    /// The name stored in `mediations.outcome`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::AgreementWritten => "agreement_written",
            Outcome::AgreementOral => "agreement_oral",
            Outcome::Terminated => "terminated",
        }
    }
}

impl FromStr for Outcome {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Outcome::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| format!("unknown outcome `{s}`"))
    }
}

/// A party's place in the dispute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartyRole {
    Applicant,
    Respondent,
    Other,
}

impl PartyRole {
    pub const ALL: [PartyRole; 3] = [
        PartyRole::Applicant,
        PartyRole::Respondent,
        PartyRole::Other,
    ];

    /// The name stored in `mediation_parties.role`.
    pub fn as_str(&self) -> &'static str {
        match self {
            PartyRole::Applicant => "applicant",
            PartyRole::Respondent => "respondent",
            PartyRole::Other => "other",
        }
    }
}

impl FromStr for PartyRole {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PartyRole::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown party role `{s}`"))
    }
}

/// Where a booked session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    Scheduled,
    Held,
    Cancelled,
}

impl SessionStatus {
    pub const ALL: [SessionStatus; 3] = [
        SessionStatus::Scheduled,
        SessionStatus::Held,
        SessionStatus::Cancelled,
    ];

    /// The name stored in `mediation_sessions.status`.
    pub const fn as_str(&self) -> &'static str {
        match self {
            SessionStatus::Scheduled => "scheduled",
            SessionStatus::Held => "held",
            SessionStatus::Cancelled => "cancelled",
        }
    }
}

impl FromStr for SessionStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SessionStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown session status `{s}`"))
    }
}

/// How a terminated mediation leaves the parties: the routes they were told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OtherRoute {
    Arbitration,
    Administrative,
    Court,
}

/// Days the law gives to apply for judicial confirmation of an agreement
/// (人民调解法 art. 33: within 30 days of its taking effect).
pub const CONFIRMATION_DAYS: i64 = 30;

/// The last day to apply for judicial confirmation, as courts count
/// periods (民事诉讼法 art. 85): the day the agreement took effect is not
/// counted, and a period ending on a rest day (holiday or weekend) ends on
/// the next working day instead.
pub fn confirmation_deadline(effective: NaiveDate, calendar: &BusinessCalendar) -> NaiveDate {
    next_working_day_from(effective + Duration::days(CONFIRMATION_DAYS), calendar)
}

/// `day` itself if it is a working day, else the first working day after it.
/// A calendar with no working day within a year ahead returns `day` (it can
/// never breach, and a court would not be open either).
pub fn next_working_day_from(day: NaiveDate, calendar: &BusinessCalendar) -> NaiveDate {
    (0..366)
        .map(|d| day + Duration::days(d))
        .find(|d| !calendar.intervals_on(*d).is_empty())
        .unwrap_or(day)
}

/// Mediations should be concluded within 30 days of acceptance (the
/// programme's target): counted in working days, so holidays do not eat it.
pub const CONCLUSION_WORKING_DAYS: u32 = 30;

/// The date by which a mediation accepted on `accepted` should be concluded:
/// the 30th working day after the day of acceptance.
pub fn conclusion_target(accepted: NaiveDate, calendar: &BusinessCalendar) -> NaiveDate {
    let mut day = accepted;
    let mut counted = 0;
    // A bounded walk: at most a few years of calendar for 30 working days.
    for _ in 0..(366 * 3) {
        day += Duration::days(1);
        if !calendar.intervals_on(day).is_empty() {
            counted += 1;
            if counted == CONCLUSION_WORKING_DAYS {
                return day;
            }
        }
    }
    day
}

/// The follow-up visit (回访) falls due a week after the agreement's
/// performance deadline (time to see whether it was performed), or 30
/// days after the agreement when it sets no deadline (performed on the spot).
pub fn visit_due(agreed_on: NaiveDate, perform_by: Option<NaiveDate>) -> NaiveDate {
    match perform_by {
        Some(deadline) if deadline >= agreed_on => deadline + Duration::days(7),
        _ => agreed_on + Duration::days(30),
    }
}

/// Calendar days between two dates (for "days to conclude" statistics).
pub fn days_between(from: NaiveDate, to: NaiveDate) -> i64 {
    i64::from(to.num_days_from_ce() - from.num_days_from_ce())
}

/// One mediation as the programme report counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    pub status: MediationStatus,
    pub accepted_on: Option<NaiveDate>,
    pub concluded_on: Option<NaiveDate>,
    /// `agreement_written`, `agreement_oral`, `terminated`.
    pub outcome: Option<String>,
    pub confirmation_applied: bool,
    /// Recorded by the mediator's follow-up visit (the official figure).
    pub satisfaction: Option<i16>,
    /// The applicant's rating of the service (1–5).
    pub rating: Option<i16>,
    /// The applicant's own answer to the follow-up visit (1–5).
    pub resident_satisfaction: Option<i16>,
}

/// The figures districts publish for mediation (预约调解).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MediationReport {
    pub bookings: u64,
    pub accepted: u64,
    pub refused: u64,
    pub withdrawn: u64,
    /// With an outcome: agreement or termination.
    pub concluded: u64,
    pub agreements: u64,
    /// agreements ÷ concluded, as the programme reports it; `None` before
    /// anything concluded.
    pub success_rate: Option<f64>,
    /// Calendar days from acceptance to outcome (nearest-rank median).
    pub median_days_to_conclude: Option<i64>,
    pub judicial_confirmations: u64,
    pub visits: u64,
    /// Mean follow-up satisfaction (1–5) over the visits that recorded one:
    /// the mediator's visit record, which is what the programme publishes.
    pub mean_satisfaction: Option<f64>,
    /// Applicants who rated the service, and their mean stars (1–5).
    pub ratings: u64,
    pub mean_rating: Option<f64>,
    /// Applicants who answered the follow-up visit themselves, and their
    /// mean satisfaction. Reported beside the official figure, never mixed
    /// into it: a gap between the two is what a supervisor looks for.
    pub resident_visit_answers: u64,
    pub mean_resident_satisfaction: Option<f64>,
}

/// How many values there are, and their mean (`None` for none).
fn count_and_mean(values: impl Iterator<Item = i16>) -> (u64, Option<f64>) {
    let values: Vec<i64> = values.map(i64::from).collect();
    let n = values.len() as u64;
    let mean = (n > 0).then(|| values.iter().sum::<i64>() as f64 / n as f64);
    (n, mean)
}

pub fn report(rows: &[ReportRow]) -> MediationReport {
    let count = |f: &dyn Fn(&ReportRow) -> bool| rows.iter().filter(|r| f(r)).count() as u64;
    let concluded = count(&|r| r.outcome.is_some());
    let agreements = count(&|r| {
        r.outcome
            .as_deref()
            .is_some_and(|o| o.starts_with("agreement"))
    });
    let mut days: Vec<i64> = rows
        .iter()
        .filter_map(|r| Some(days_between(r.accepted_on?, r.concluded_on?)))
        .collect();
    days.sort_unstable();
    let (visits, mean_satisfaction) = count_and_mean(rows.iter().filter_map(|r| r.satisfaction));
    let (ratings, mean_rating) = count_and_mean(rows.iter().filter_map(|r| r.rating));
    let (resident_visit_answers, mean_resident_satisfaction) =
        count_and_mean(rows.iter().filter_map(|r| r.resident_satisfaction));
    MediationReport {
        bookings: rows.len() as u64,
        accepted: count(&|r| r.accepted_on.is_some()),
        refused: count(&|r| r.status == MediationStatus::Refused),
        withdrawn: count(&|r| r.status == MediationStatus::Withdrawn),
        concluded,
        agreements,
        success_rate: (concluded > 0).then(|| agreements as f64 / concluded as f64),
        median_days_to_conclude: crate::stats::nearest_rank(&days, 50),
        judicial_confirmations: count(&|r| r.confirmation_applied),
        visits,
        mean_satisfaction,
        ratings,
        mean_rating,
        resident_visit_answers,
        mean_resident_satisfaction,
    }
}

/// Sessions are booked in half-hour slots: a room or mediator is busy in a
/// slot when a session covers it. One row per (resource, slot) under a
/// primary key is what lets the database refuse a double booking, on
/// PostgreSQL and SQLite alike.
pub const SLOT_MINUTES: i64 = 30;

/// The longest session one booking may cover.
pub const MAX_SESSION_MINUTES: i64 = 8 * 60;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlotError {
    #[error("a session must end after it starts")]
    Empty,
    #[error("sessions start and end on the hour or half hour")]
    OffGrid,
    #[error("a session lasts at most {MAX_SESSION_MINUTES} minutes")]
    TooLong,
}

/// A session's time against the clock: booked only ahead, held only once
/// it has begun.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SessionTimeError {
    #[error("the session would start in the past")]
    InPast,
    #[error("the session has not started yet")]
    NotStarted,
}

/// A session may be booked (or moved) only to a time that has not begun.
pub fn check_bookable(
    starts: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), SessionTimeError> {
    if starts <= now {
        return Err(SessionTimeError::InPast);
    }
    Ok(())
}

/// A session may be recorded as held only once its start has come.
pub fn check_holdable(
    starts: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), SessionTimeError> {
    if now < starts {
        return Err(SessionTimeError::NotStarted);
    }
    Ok(())
}

/// Whether the thread takes new messages: not once the case is refused,
/// withdrawn or closed (a reopened case takes them again).
pub fn may_message(status: MediationStatus) -> bool {
    !matches!(
        status,
        MediationStatus::Refused | MediationStatus::Withdrawn | MediationStatus::Closed
    )
}

/// The slot starts a session `[starts, ends)` occupies.
pub fn slots_of(
    starts: chrono::DateTime<chrono::Utc>,
    ends: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<chrono::DateTime<chrono::Utc>>, SlotError> {
    if ends <= starts {
        return Err(SlotError::Empty);
    }
    let on_grid = |t: chrono::DateTime<chrono::Utc>| {
        t.timestamp() % (SLOT_MINUTES * 60) == 0 && t.timestamp_subsec_nanos() == 0
    };
    if !on_grid(starts) || !on_grid(ends) {
        return Err(SlotError::OffGrid);
    }
    if ends - starts > Duration::minutes(MAX_SESSION_MINUTES) {
        return Err(SlotError::TooLong);
    }
    let count = (ends - starts).num_minutes() / SLOT_MINUTES;
    Ok((0..count)
        .map(|i| starts + Duration::minutes(i * SLOT_MINUTES))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::DayOverride;
    use MediationAction as A;
    use MediationStatus as S;

    const ALLOWED: &[(S, A, S)] = &[
        (S::Submitted, A::Offer, S::Offered),
        (S::Pooled, A::Offer, S::Offered),
        (S::Submitted, A::Pool, S::Pooled),
        (S::Submitted, A::Escalate, S::Pooled),
        (S::Pooled, A::Escalate, S::Pooled),
        (S::Submitted, A::Unroute, S::Pooled),
        (S::Pooled, A::Unroute, S::Pooled),
        (S::Offered, A::Accept, S::Accepted),
        (S::Offered, A::Decline, S::Pooled),
        (S::Offered, A::ExpireOffer, S::Pooled),
        (S::Pooled, A::Claim, S::Accepted),
        (S::Submitted, A::Refuse, S::Refused),
        (S::Offered, A::Refuse, S::Refused),
        (S::Pooled, A::Refuse, S::Refused),
        (S::Accepted, A::Refuse, S::Refused),
        (S::Submitted, A::Reassign, S::Accepted),
        (S::Offered, A::Reassign, S::Accepted),
        (S::Pooled, A::Reassign, S::Accepted),
        (S::Accepted, A::Reassign, S::Accepted),
        (S::Accepted, A::HandBack, S::Pooled),
        (S::Accepted, A::Schedule, S::Scheduled),
        (S::Scheduled, A::Schedule, S::Scheduled),
        (S::Heard, A::Schedule, S::Scheduled),
        (S::Scheduled, A::CancelSession, S::Accepted),
        (S::Scheduled, A::Reschedule, S::Scheduled),
        (S::Scheduled, A::Hold, S::Heard),
        (S::Heard, A::Agree, S::Agreed),
        (S::Accepted, A::Terminate, S::Terminated),
        (S::Scheduled, A::Terminate, S::Terminated),
        (S::Heard, A::Terminate, S::Terminated),
        (S::Agreed, A::Visit, S::Closed),
        (S::Terminated, A::Close, S::Closed),
        (S::Closed, A::Reopen, S::Accepted),
        (S::Accepted, A::EscalateTier, S::Pooled),
        (S::Scheduled, A::EscalateTier, S::Pooled),
        (S::Heard, A::EscalateTier, S::Pooled),
        (S::Submitted, A::Withdraw, S::Withdrawn),
        (S::Offered, A::Withdraw, S::Withdrawn),
        (S::Pooled, A::Withdraw, S::Withdrawn),
        (S::Accepted, A::Withdraw, S::Withdrawn),
        (S::Scheduled, A::Withdraw, S::Withdrawn),
        (S::Submitted, A::SlaBreach, S::Submitted),
        (S::Offered, A::SlaBreach, S::Offered),
        (S::Pooled, A::SlaBreach, S::Pooled),
        (S::Accepted, A::SlaBreach, S::Accepted),
        (S::Scheduled, A::SlaBreach, S::Scheduled),
        (S::Heard, A::SlaBreach, S::Heard),
    ];

    #[test]
    fn sessions_are_booked_ahead_and_held_once_begun() {
        let now: chrono::DateTime<chrono::Utc> = "2026-12-08T02:00:00Z".parse().unwrap();
        let later = now + Duration::minutes(30);
        assert_eq!(check_bookable(later, now), Ok(()));
        assert_eq!(check_bookable(now, now), Err(SessionTimeError::InPast));
        assert_eq!(
            check_bookable(now - Duration::minutes(30), now),
            Err(SessionTimeError::InPast)
        );
        assert_eq!(check_holdable(now, now), Ok(()));
        assert_eq!(check_holdable(now - Duration::hours(1), now), Ok(()));
        assert_eq!(
            check_holdable(later, now),
            Err(SessionTimeError::NotStarted)
        );
    }

    #[test]
    fn the_thread_closes_with_the_case() {
        for status in [
            S::Submitted,
            S::Accepted,
            S::Scheduled,
            S::Heard,
            S::Agreed,
            S::Terminated,
        ] {
            assert!(may_message(status), "{status}");
        }
        for status in [S::Refused, S::Withdrawn, S::Closed] {
            assert!(!may_message(status), "{status}");
        }
    }

    #[test]
    fn a_scheduled_mediation_never_heard_is_handed_back_after_its_bookings() {
        use MediationStatus as S;
        assert!(hand_back_cancels_bookings(S::Scheduled, false, false));
        // Heard once, or an outcome on a reopened case: no hand-back at all.
        assert!(!hand_back_cancels_bookings(S::Scheduled, true, false));
        assert!(!hand_back_cancels_bookings(S::Scheduled, false, true));
        // Nothing booked to cancel.
        assert!(!hand_back_cancels_bookings(S::Accepted, false, false));
    }

    #[test]
    fn only_an_untouched_accepted_mediation_may_be_handed_back() {
        assert!(may_hand_back(MediationStatus::Accepted, false, false));
        // A session held or an outcome recorded (a reopened case): the
        // parties already dealt with this mediator.
        assert!(!may_hand_back(MediationStatus::Accepted, true, false));
        assert!(!may_hand_back(MediationStatus::Accepted, false, true));
        for status in MediationStatus::ALL {
            if status != MediationStatus::Accepted {
                assert!(!may_hand_back(status, false, false), "{status}");
            }
        }
        // The rule never allows what the machine forbids.
        for status in MediationStatus::ALL {
            if may_hand_back(status, false, false) {
                assert_eq!(
                    transition(status, MediationAction::HandBack),
                    Ok(MediationStatus::Pooled)
                );
            }
        }
    }

    #[test]
    fn every_status_action_pair_matches_the_table() {
        let mut checked = 0;
        for from in S::ALL {
            for action in A::ALL {
                let expected = ALLOWED
                    .iter()
                    .find(|(f, a, _)| *f == from && *a == action)
                    .map(|(_, _, to)| *to);
                match (transition(from, action), expected) {
                    (Ok(to), Some(want)) => assert_eq!(to, want, "{from} --{action}-->"),
                    (Err(e), None) => assert_eq!((e.from, e.action), (from, action)),
                    (got, want) => panic!("{from} --{action}--> got {got:?}, table says {want:?}"),
                }
                checked += 1;
            }
        }
        assert_eq!(checked, 11 * 23);
    }

    #[test]
    fn refused_and_withdrawn_allow_nothing() {
        for from in S::ALL.into_iter().filter(S::is_terminal) {
            for action in A::ALL {
                assert!(transition(from, action).is_err(), "{from} --{action}");
            }
        }
    }

    #[test]
    fn a_held_session_cannot_be_withdrawn_from() {
        let err = transition(S::Heard, A::Withdraw).unwrap_err();
        assert_eq!(err.to_string(), "a mediation that is heard cannot withdraw");
    }

    #[test]
    fn the_applicant_rates_a_concluded_case_and_answers_the_visit_of_an_agreement() {
        let rate: Vec<S> = S::ALL.into_iter().filter(|s| may_rate(*s)).collect();
        assert_eq!(rate, [S::Agreed, S::Terminated, S::Closed]);
        let answer: Vec<S> = S::ALL
            .into_iter()
            .filter(|s| may_answer_visit(*s))
            .collect();
        assert_eq!(answer, [S::Agreed]);
    }

    #[test]
    fn visit_answers_and_attendance_are_parsed_at_the_edge() {
        let ok = VisitAnswer::parse(Performance::Partly, 3, Some("  只赔了一半 ")).unwrap();
        assert_eq!(
            (ok.performance(), ok.satisfaction(), ok.comment()),
            (Performance::Partly, 3, Some("只赔了一半"))
        );
        assert_eq!(Performance::NotPerformed.as_str(), "not_performed");
        for p in Performance::ALL {
            assert_eq!(p.as_str().parse::<Performance>(), Ok(p));
        }
        for bad in [0, 6, -1] {
            let err = VisitAnswer::parse(Performance::Performed, bad, None).unwrap_err();
            assert_eq!(err.field, "satisfaction");
        }
        assert!(VisitAnswer::parse(Performance::Performed, 5, Some(&"长".repeat(501))).is_err());
        assert_eq!(
            VisitAnswer::parse(Performance::Performed, 5, Some("   "))
                .unwrap()
                .comment(),
            None
        );
        let no = AttendanceAnswer::parse(false, Some("那天要上班")).unwrap();
        assert_eq!(no.summary(), "cannot attend: 那天要上班");
        assert_eq!(
            AttendanceAnswer::parse(true, None).unwrap().summary(),
            "will attend"
        );
        assert!(AttendanceAnswer::parse(false, Some(&"x".repeat(201))).is_err());
    }

    #[test]
    fn cancelling_the_last_session_goes_back_to_before_booking() {
        assert_eq!(status_after_cancel(1, false), S::Scheduled);
        assert_eq!(status_after_cancel(0, false), S::Accepted);
        assert_eq!(status_after_cancel(0, true), S::Heard);
    }

    /// The stored names read back, and are the serde names the API uses.
    #[test]
    fn stored_names_round_trip_and_match_serde() {
        fn check<T>(all: &[T], name: fn(&T) -> &'static str)
        where
            T: Copy + PartialEq + std::fmt::Debug + Serialize + FromStr<Err = String>,
        {
            for v in all {
                assert_eq!(name(v).parse::<T>(), Ok(*v));
                assert_eq!(serde_json::to_value(v).unwrap(), name(v));
            }
            assert!("nonsense".parse::<T>().is_err());
        }
        check(&RefusalGround::ALL, RefusalGround::as_str);
        check(&Outcome::ALL, Outcome::as_str);
        check(&PartyRole::ALL, PartyRole::as_str);
        check(&SessionStatus::ALL, SessionStatus::as_str);
        check(&Performance::ALL, Performance::as_str);
    }

    #[test]
    fn statuses_round_trip_and_concluded_ones_are_known() {
        for st in S::ALL {
            assert_eq!(st.as_str().parse::<S>(), Ok(st));
        }
        let concluded: Vec<S> = S::ALL.into_iter().filter(S::is_concluded).collect();
        assert_eq!(concluded, [S::Agreed, S::Terminated, S::Closed]);
    }

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    fn calendar_2026() -> BusinessCalendar {
        let mut cal = BusinessCalendar::china_office_hours();
        for day in 1..=7 {
            cal.set_override(d(10, day), DayOverride::Holiday);
        }
        cal.set_override(d(10, 10), DayOverride::Workday);
        for day in 1..=3 {
            cal.set_override(d(1, day), DayOverride::Holiday);
        }
        cal
    }

    #[test]
    fn confirmation_deadline_counts_from_the_next_day_and_skips_rest_days() {
        let cal = calendar_2026();
        // Effective Monday 2 Nov: the 30th day after is Wednesday 2 Dec.
        assert_eq!(confirmation_deadline(d(11, 2), &cal), d(12, 2));
        // Effective 31 Aug: day 30 is Wednesday 30 Sep, a working day.
        assert_eq!(confirmation_deadline(d(8, 31), &cal), d(9, 30));
        // Effective 1 Sep: day 30 is 1 Oct, National Day; the holiday runs
        // to 7 Oct, so the last day moves to Thursday 8 Oct.
        assert_eq!(confirmation_deadline(d(9, 1), &cal), d(10, 8));
        // Ending on a Saturday (7 Nov 2026 + 30 = Monday 7 Dec; take 6 Nov +
        // 30 = Sunday 6 Dec) moves to Monday.
        assert_eq!(confirmation_deadline(d(11, 6), &cal), d(12, 7));
        // Across the year end into New Year's holidays: 3 Dec 2026 + 30 =
        // 2 Jan 2027, a Saturday (no 2027 notice: weekends only) → Monday 4 Jan.
        assert_eq!(
            confirmation_deadline(d(12, 3), &cal),
            NaiveDate::from_ymd_opt(2027, 1, 4).unwrap()
        );
    }

    #[test]
    fn conclusion_target_is_thirty_working_days() {
        let cal = calendar_2026();
        // Accepted Monday 2 Nov 2026: the day itself does not count; Tue–Fri
        // (4), five full weeks (29), then Monday 14 Dec is the 30th.
        assert_eq!(conclusion_target(d(11, 2), &cal), d(12, 14));
        // Accepted Monday 28 Sep: 29–30 Sep (2), the holiday week does not
        // count, 8–9 Oct and the make-up Saturday 10 Oct (5), four full weeks
        // (25), then 9–13 Nov: Friday 13 Nov is the 30th.
        let target = conclusion_target(d(9, 28), &cal);
        let calendar_days = days_between(d(9, 28), target);
        assert!(calendar_days > 42, "{target}: holidays extend it");
        assert_eq!(target, d(11, 13));
    }

    #[test]
    fn the_visit_follows_the_performance_deadline() {
        assert_eq!(visit_due(d(11, 2), Some(d(11, 30))), d(12, 7));
        assert_eq!(visit_due(d(11, 2), None), d(12, 2));
        // A deadline before the agreement is a typo, not a reason to visit early.
        assert_eq!(visit_due(d(11, 2), Some(d(10, 1))), d(12, 2));
    }

    #[test]
    fn sessions_occupy_half_hour_slots_on_the_grid() {
        use chrono::TimeZone;
        let at = |h, m| chrono::Utc.with_ymd_and_hms(2026, 11, 25, h, m, 0).unwrap();
        assert_eq!(
            slots_of(at(1, 0), at(2, 30)).unwrap(),
            vec![at(1, 0), at(1, 30), at(2, 0)]
        );
        assert_eq!(slots_of(at(1, 0), at(1, 0)), Err(SlotError::Empty));
        assert_eq!(slots_of(at(2, 0), at(1, 0)), Err(SlotError::Empty));
        assert_eq!(slots_of(at(1, 15), at(2, 0)), Err(SlotError::OffGrid));
        assert_eq!(slots_of(at(1, 0), at(1, 45)), Err(SlotError::OffGrid));
        assert_eq!(slots_of(at(0, 0), at(8, 30)), Err(SlotError::TooLong));
        assert_eq!(slots_of(at(0, 0), at(8, 0)).unwrap().len(), 16);
        // Overlapping sessions share a slot; back-to-back ones do not.
        let a = slots_of(at(1, 0), at(2, 0)).unwrap();
        let b = slots_of(at(1, 30), at(2, 30)).unwrap();
        let c = slots_of(at(2, 0), at(3, 0)).unwrap();
        assert!(a.iter().any(|s| b.contains(s)));
        assert!(!a.iter().any(|s| c.contains(s)));
    }

    #[test]
    fn the_report_counts_like_the_programme() {
        let row = |status, accepted: Option<u32>, concluded: Option<u32>, outcome: Option<&str>| {
            ReportRow {
                status,
                accepted_on: accepted.map(|day| d(11, day)),
                concluded_on: concluded.map(|day| d(11, day)),
                outcome: outcome.map(str::to_owned),
                confirmation_applied: false,
                satisfaction: None,
                rating: None,
                resident_satisfaction: None,
            }
        };
        let rows = vec![
            ReportRow {
                confirmation_applied: true,
                satisfaction: Some(5),
                rating: Some(5),
                resident_satisfaction: Some(4),
                ..row(S::Closed, Some(2), Some(12), Some("agreement_written"))
            },
            ReportRow {
                satisfaction: Some(4),
                rating: Some(2),
                ..row(S::Closed, Some(3), Some(5), Some("agreement_oral"))
            },
            ReportRow {
                resident_satisfaction: Some(1),
                ..row(S::Agreed, Some(4), Some(24), Some("agreement_written"))
            },
            ReportRow {
                rating: Some(3),
                ..row(S::Terminated, Some(5), Some(9), Some("terminated"))
            },
            row(S::Scheduled, Some(6), None, None),
            row(S::Refused, None, None, None),
            row(S::Withdrawn, None, None, None),
        ];
        let r = report(&rows);
        assert_eq!(
            (r.bookings, r.accepted, r.refused, r.withdrawn),
            (7, 5, 1, 1)
        );
        assert_eq!((r.concluded, r.agreements), (4, 3));
        assert_eq!(r.success_rate, Some(0.75));
        // Days to conclude: 10, 2, 20, 4 → sorted 2, 4, 10, 20 → nearest-rank median 4.
        assert_eq!(r.median_days_to_conclude, Some(4));
        assert_eq!((r.judicial_confirmations, r.visits), (1, 2));
        assert_eq!(r.mean_satisfaction, Some(4.5));
        // Ratings 5, 2, 3 → mean 10/3; the applicants' own visit answers
        // 4 and 1 stay apart from the visit record's 5 and 4.
        assert_eq!(r.ratings, 3);
        assert_eq!(r.mean_rating, Some(10.0 / 3.0));
        assert_eq!(r.resident_visit_answers, 2);
        assert_eq!(r.mean_resident_satisfaction, Some(2.5));
        let empty = report(&[]);
        assert_eq!(
            (
                empty.bookings,
                empty.success_rate,
                empty.median_days_to_conclude,
                empty.mean_rating
            ),
            (0, None, None, None)
        );
    }
}
