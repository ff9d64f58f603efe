//! Tip reports (线索举报): the state machine an officer walks a tip
//! through, and the rules around it that need no database — where a
//! location really is (map datums), which open tips are "the same thing"
//! (duplicate radius), how a reporter's unfounded tips count against them
//! (screening), and how our statuses read in Open311's two-word world.
//!
//! ```text
//! submitted ─offer─▶ offered ─accept─▶ acknowledged ─triage_valid─▶ valid ─verify─▶ verifying ─action─▶ actioned ─close─▶ closed
//!     │      ◀─decline/expire─┘  ▲        │ │ │                      │                 │                  ▲          │
//!     └─pool/escalate─▶ pooled ──┘claim   │ │ └─triage_unfounded─▶ unfounded           └────── close ─────┘          │
//!                                         │ └─refer (not a police matter)─▶ referred                                 │
//!                                         └─mark_duplicate (also from valid, verifying) ─▶ duplicate                 │
//!                                           convert (to a mediation; also from valid) ─▶ converted                   │
//! reopen (the reporter follows up with more): closed, unfounded ─▶ submitted ◀─────────────────────────────────────────┘
//! ```
//! The routing part (submitted, offered, pooled → owned) is the shared
//! engine's; "acknowledged" is the officer having signed for the tip (签收).

use crate::lang::Lang;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TipStatus {
    /// Reported; its routing event not yet handled.
    Submitted,
    /// Offered to one officer, until the offer expires.
    Offered,
    /// Waiting on a duty queue.
    Pooled,
    /// An officer signed for it (签收) and owns it; not yet triaged.
    Acknowledged,
    /// Triaged as a real police matter.
    Valid,
    /// Being checked on the ground.
    Verifying,
    /// Something was done about it.
    Actioned,
    /// Done, with a note to the reporter.
    Closed,
    /// Triaged as unfounded (counts against the reporter's screening).
    Unfounded,
    /// Not a police matter: referred to a named body.
    Referred,
    /// The same matter as another tip.
    Duplicate,
    /// Turned into a mediation case (a neighbour quarrel).
    Converted,
}

impl TipStatus {
    pub const ALL: [TipStatus; 12] = [
        TipStatus::Submitted,
        TipStatus::Offered,
        TipStatus::Pooled,
        TipStatus::Acknowledged,
        TipStatus::Valid,
        TipStatus::Verifying,
        TipStatus::Actioned,
        TipStatus::Closed,
        TipStatus::Unfounded,
        TipStatus::Referred,
        TipStatus::Duplicate,
        TipStatus::Converted,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            TipStatus::Submitted => "submitted",
            TipStatus::Offered => "offered",
            TipStatus::Pooled => "pooled",
            TipStatus::Acknowledged => "acknowledged",
            TipStatus::Valid => "valid",
            TipStatus::Verifying => "verifying",
            TipStatus::Actioned => "actioned",
            TipStatus::Closed => "closed",
            TipStatus::Unfounded => "unfounded",
            TipStatus::Referred => "referred",
            TipStatus::Duplicate => "duplicate",
            TipStatus::Converted => "converted",
        }
    }

    /// Nothing more will happen unless the reporter reopens it.
    pub fn is_finished(&self) -> bool {
        matches!(
            self,
            TipStatus::Closed
                | TipStatus::Unfounded
                | TipStatus::Referred
                | TipStatus::Duplicate
                | TipStatus::Converted
        )
    }

    /// An officer owns it and works on it.
    pub fn is_owned_open(&self) -> bool {
        matches!(
            self,
            TipStatus::Acknowledged | TipStatus::Valid | TipStatus::Verifying | TipStatus::Actioned
        )
    }

    /// Open311 knows two statuses; the detail goes into `status_notes`.
    pub fn open311(&self) -> Open311Status {
        if self.is_finished() {
            Open311Status::Closed
        } else {
            Open311Status::Open
        }
    }

    /// A plain-words note for Open311's `status_notes` and the reporter,
    /// in Chinese.
    pub fn public_note(&self) -> &'static str {
        self.public_note_in(Lang::Zh)
    }

    /// The plain-words note in the language the client asked for.
    pub fn public_note_in(&self, lang: Lang) -> &'static str {
        let (zh, en) = match self {
            TipStatus::Submitted | TipStatus::Offered | TipStatus::Pooled => (
                "已收到，等待值班民警签收。",
                "Received; waiting for the officer on duty.",
            ),
            TipStatus::Acknowledged => ("值班民警已签收。", "The officer on duty has taken it."),
            TipStatus::Valid => (
                "已确认属公安事项，正在办理。",
                "Confirmed as a police matter.",
            ),
            TipStatus::Verifying => ("正在现场核查。", "Being checked on the ground."),
            TipStatus::Actioned => ("已采取处置措施。", "Action has been taken."),
            TipStatus::Closed => ("已办结。", "Closed."),
            TipStatus::Unfounded => (
                "经核查，未发现相关情况。",
                "Checked: no grounds were found.",
            ),
            TipStatus::Referred => (
                "不属公安事项，已转交有关部门。",
                "Not a police matter: referred to the body responsible.",
            ),
            TipStatus::Duplicate => (
                "已有相同线索，合并办理。",
                "Already reported: handled with an earlier report.",
            ),
            TipStatus::Converted => ("已转为调解案件办理。", "Handled as a mediation case."),
        };
        match lang {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

impl fmt::Display for TipStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TipStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TipStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown tip status `{s}`"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Open311Status {
    Open,
    Closed,
}

impl Open311Status {
    pub fn as_str(&self) -> &'static str {
        match self {
            Open311Status::Open => "open",
            Open311Status::Closed => "closed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TipAction {
    Offer,
    Pool,
    Escalate,
    Unroute,
    /// Officer: sign for the offer (签收).
    Accept,
    Decline,
    ExpireOffer,
    /// Officer: take it from the duty queue.
    Claim,
    /// Coordinator: give it to a named officer.
    Reassign,
    /// Owner: "not mine" before triage.
    HandBack,
    TriageValid,
    TriageUnfounded,
    /// Not a police matter: referred to a named body (street office, 12315, ...).
    Refer,
    Verify,
    Action,
    /// Close with a note to the reporter.
    Close,
    MarkDuplicate,
    /// Turn into a mediation case, keeping this tip's history.
    Convert,
    /// The reporter added something to a closed or unfounded tip.
    Reopen,
    /// Timer: a response-time target passed.
    SlaBreach,
}

impl TipAction {
    pub const ALL: [TipAction; 20] = [
        TipAction::Offer,
        TipAction::Pool,
        TipAction::Escalate,
        TipAction::Unroute,
        TipAction::Accept,
        TipAction::Decline,
        TipAction::ExpireOffer,
        TipAction::Claim,
        TipAction::Reassign,
        TipAction::HandBack,
        TipAction::TriageValid,
        TipAction::TriageUnfounded,
        TipAction::Refer,
        TipAction::Verify,
        TipAction::Action,
        TipAction::Close,
        TipAction::MarkDuplicate,
        TipAction::Convert,
        TipAction::Reopen,
        TipAction::SlaBreach,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            TipAction::Offer => "offer",
            TipAction::Pool => "pool",
            TipAction::Escalate => "escalate",
            TipAction::Unroute => "unroute",
            TipAction::Accept => "accept",
            TipAction::Decline => "decline",
            TipAction::ExpireOffer => "expire_offer",
            TipAction::Claim => "claim",
            TipAction::Reassign => "reassign",
            TipAction::HandBack => "hand_back",
            TipAction::TriageValid => "triage_valid",
            TipAction::TriageUnfounded => "triage_unfounded",
            TipAction::Refer => "refer",
            TipAction::Verify => "verify",
            TipAction::Action => "action",
            TipAction::Close => "close",
            TipAction::MarkDuplicate => "mark_duplicate",
            TipAction::Convert => "convert",
            TipAction::Reopen => "reopen",
            TipAction::SlaBreach => "sla_breach",
        }
    }

    /// Whether the reporter sees this event. Routing internals stay with staff.
    pub fn is_public(&self) -> bool {
        !matches!(
            self,
            TipAction::Offer
                | TipAction::Pool
                | TipAction::Escalate
                | TipAction::Unroute
                | TipAction::Decline
                | TipAction::ExpireOffer
                | TipAction::HandBack
                | TipAction::Reassign
                | TipAction::SlaBreach
        )
    }
}

impl fmt::Display for TipAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a tip that is {from} cannot {action}")]
pub struct TipTransitionError {
    pub from: TipStatus,
    pub action: TipAction,
}

/// The status after `action`, or why the move is forbidden.
pub fn transition(from: TipStatus, action: TipAction) -> Result<TipStatus, TipTransitionError> {
    use TipAction as A;
    use TipStatus as S;
    let to = match (from, action) {
        (S::Submitted | S::Pooled, A::Offer) => S::Offered,
        (S::Submitted, A::Pool) => S::Pooled,
        (S::Submitted | S::Pooled, A::Escalate | A::Unroute) => S::Pooled,
        (S::Offered, A::Accept) => S::Acknowledged,
        (S::Offered, A::Decline | A::ExpireOffer) => S::Pooled,
        (S::Pooled, A::Claim) => S::Acknowledged,
        (S::Submitted | S::Offered | S::Pooled | S::Acknowledged, A::Reassign) => S::Acknowledged,
        (S::Acknowledged, A::HandBack) => S::Pooled,
        (S::Acknowledged, A::TriageValid) => S::Valid,
        (S::Acknowledged, A::TriageUnfounded) => S::Unfounded,
        (S::Acknowledged, A::Refer) => S::Referred,
        (S::Valid, A::Verify) => S::Verifying,
        (S::Valid | S::Verifying, A::Action) => S::Actioned,
        (S::Valid | S::Verifying | S::Actioned, A::Close) => S::Closed,
        (S::Acknowledged | S::Valid | S::Verifying, A::MarkDuplicate) => S::Duplicate,
        (S::Acknowledged | S::Valid, A::Convert) => S::Converted,
        (S::Closed | S::Unfounded, A::Reopen) => S::Submitted,
        (
            S::Submitted
            | S::Offered
            | S::Pooled
            | S::Acknowledged
            | S::Valid
            | S::Verifying
            | S::Actioned,
            A::SlaBreach,
        ) => from,
        _ => return Err(TipTransitionError { from, action }),
    };
    Ok(to)
}

/// Whether the owning officer may hand the tip back (退单: "not mine" —
/// wrong area, wrong kind of matter, a conflict of interest). Only after
/// signing for it and before triage: once judged, verified or acted on, the
/// tip carries the officer's work and is closed, referred or converted
/// instead.
pub fn may_hand_back(status: TipStatus) -> bool {
    status == TipStatus::Acknowledged
}

/// The officer's triage verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriageVerdict {
    Valid,
    Unfounded,
    /// Not a police matter: refer to the body responsible.
    NotPoliceMatter,
}

impl TriageVerdict {
    pub const ALL: [TriageVerdict; 3] = [
        TriageVerdict::Valid,
        TriageVerdict::Unfounded,
        TriageVerdict::NotPoliceMatter,
    ];

    /// As stored and shown.
    pub fn as_str(&self) -> &'static str {
        match self {
            TriageVerdict::Valid => "valid",
            TriageVerdict::Unfounded => "unfounded",
            TriageVerdict::NotPoliceMatter => "not_police_matter",
        }
    }

    pub fn action(&self) -> TipAction {
        match self {
            TriageVerdict::Valid => TipAction::TriageValid,
            TriageVerdict::Unfounded => TipAction::TriageUnfounded,
            TriageVerdict::NotPoliceMatter => TipAction::Refer,
        }
    }
}

impl FromStr for TriageVerdict {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unknown triage verdict `{s}`"))
    }
}

/// Why a tip is not taken. The order is the rule: an emergency is refused
/// first, before anything else is looked at or recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TipRefusal {
    /// Happening now: the client must tell the resident to call 110.
    Emergency,
    /// The category takes no tips.
    NotForTips,
    /// The category takes tips by name only.
    AnonymousNotAllowed,
}

/// What a category says about a tip submitted in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CategoryRules {
    pub urgent: bool,
    pub takes_tips: bool,
    pub anonymous_allowed: bool,
}

pub fn admit_tip(rules: CategoryRules, anonymous: bool) -> Result<(), TipRefusal> {
    if rules.urgent {
        Err(TipRefusal::Emergency)
    } else if !rules.takes_tips {
        Err(TipRefusal::NotForTips)
    } else if anonymous && !rules.anonymous_allowed {
        Err(TipRefusal::AnonymousNotAllowed)
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Where: map datums and distances.

/// The coordinate system a client's location is in. WeChat's
/// `wx.getLocation` returns WGS-84 by default and GCJ-02 (the mandated
/// "Mars" offset of Chinese maps) with `type: 'gcj02'`; Baidu maps use
/// BD-09. We store WGS-84 (what Open311 and every GIS expects) and keep
/// which datum the client sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Datum {
    #[default]
    Wgs84,
    Gcj02,
    Bd09,
}

impl Datum {
    pub fn as_str(&self) -> &'static str {
        match self {
            Datum::Wgs84 => "wgs84",
            Datum::Gcj02 => "gcj02",
            Datum::Bd09 => "bd09",
        }
    }
}

impl FromStr for Datum {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Datum::Wgs84, Datum::Gcj02, Datum::Bd09]
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| format!("unknown datum `{s}`"))
    }
}

/// A point in WGS-84, validated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoPoint {
    lat: f64,
    lng: f64,
}

impl GeoPoint {
    pub fn new(lat: f64, lng: f64) -> Option<GeoPoint> {
        let ok = lat.is_finite()
            && lng.is_finite()
            && (-90.0..=90.0).contains(&lat)
            && (-180.0..=180.0).contains(&lng);
        ok.then_some(GeoPoint { lat, lng })
    }

    pub fn lat(&self) -> f64 {
        self.lat
    }

    pub fn lng(&self) -> f64 {
        self.lng
    }

    /// A point the client sent in `datum`, as WGS-84.
    pub fn from_datum(lat: f64, lng: f64, datum: Datum) -> Option<GeoPoint> {
        let given = GeoPoint::new(lat, lng)?;
        let (lat, lng) = match datum {
            Datum::Wgs84 => return Some(given),
            Datum::Gcj02 => gcj02_to_wgs84(lat, lng),
            Datum::Bd09 => {
                let (glat, glng) = bd09_to_gcj02(lat, lng);
                gcj02_to_wgs84(glat, glng)
            }
        };
        GeoPoint::new(lat, lng)
    }

    /// Great-circle distance in metres (haversine; metres matter, not
    /// millimetres, for "the same pothole").
    pub fn distance_m(&self, other: &GeoPoint) -> f64 {
        let (p1, p2) = (self.lat.to_radians(), other.lat.to_radians());
        let dp = p2 - p1;
        let dl = (other.lng - self.lng).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * a.sqrt().asin()
    }

    /// A latitude/longitude box that contains every point within
    /// `radius_m` (for an index-friendly pre-filter before `distance_m`).
    pub fn bounding_box(&self, radius_m: f64) -> BoundingBox {
        let dlat = (radius_m / EARTH_RADIUS_M).to_degrees();
        // Near the poles a degree of longitude shrinks to nothing; clamp so
        // the box stays finite (no tip is reported at the poles).
        let cos = self.lat.to_radians().cos().max(0.01);
        let dlng = (radius_m / (EARTH_RADIUS_M * cos)).to_degrees();
        BoundingBox {
            min_lat: self.lat - dlat,
            max_lat: self.lat + dlat,
            min_lng: self.lng - dlng,
            max_lng: self.lng + dlng,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoundingBox {
    pub min_lat: f64,
    pub max_lat: f64,
    pub min_lng: f64,
    pub max_lng: f64,
}

const EARTH_RADIUS_M: f64 = 6_371_008.8;

// GCJ-02 is WGS-84 plus a published, deterministic obfuscation inside
// China (none outside). Its inverse has no closed form; three fixed-point
// iterations of the forward transform bring the error under a centimetre.
const GCJ_A: f64 = 6_378_245.0;
const GCJ_EE: f64 = 0.006_693_421_622_965_943;

fn outside_china(lat: f64, lng: f64) -> bool {
    !(72.004..=137.8347).contains(&lng) || !(0.8293..=55.8271).contains(&lat)
}

fn gcj_offset(lat: f64, lng: f64) -> (f64, f64) {
    use std::f64::consts::PI;
    let x = lng - 105.0;
    let y = lat - 35.0;
    let mut dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    dlat += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    dlat += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    dlat += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    let mut dlng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    dlng += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    dlng += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    dlng += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    let rad = lat.to_radians();
    let magic = 1.0 - GCJ_EE * rad.sin().powi(2);
    let sqrt_magic = magic.sqrt();
    let dlat = (dlat * 180.0) / ((GCJ_A * (1.0 - GCJ_EE)) / (magic * sqrt_magic) * PI);
    let dlng = (dlng * 180.0) / (GCJ_A / sqrt_magic * rad.cos() * PI);
    (dlat, dlng)
}

/// WGS-84 → GCJ-02 (what a Chinese map shows for a GPS fix).
pub fn wgs84_to_gcj02(lat: f64, lng: f64) -> (f64, f64) {
    if outside_china(lat, lng) {
        return (lat, lng);
    }
    let (dlat, dlng) = gcj_offset(lat, lng);
    (lat + dlat, lng + dlng)
}

/// GCJ-02 → WGS-84 by fixed-point iteration of the forward transform.
pub fn gcj02_to_wgs84(lat: f64, lng: f64) -> (f64, f64) {
    if outside_china(lat, lng) {
        return (lat, lng);
    }
    let (mut wlat, mut wlng) = (lat, lng);
    for _ in 0..5 {
        let (glat, glng) = wgs84_to_gcj02(wlat, wlng);
        wlat += lat - glat;
        wlng += lng - glng;
    }
    (wlat, wlng)
}

/// BD-09 (Baidu) → GCJ-02: Baidu's published inverse.
pub fn bd09_to_gcj02(lat: f64, lng: f64) -> (f64, f64) {
    const X_PI: f64 = std::f64::consts::PI * 3000.0 / 180.0;
    let x = lng - 0.0065;
    let y = lat - 0.006;
    let z = (x * x + y * y).sqrt() - 0.000_02 * (y * X_PI).sin();
    let theta = y.atan2(x) - 0.000_003 * (x * X_PI).cos();
    (z * theta.sin(), z * theta.cos())
}

// ---------------------------------------------------------------------------
// Duplicates, screening, rate limits.

/// "The same thing": an open tip of the same category within this radius,
/// reported within this many days, is offered as a likely duplicate.
pub const DUPLICATE_RADIUS_M: f64 = 500.0;
pub const DUPLICATE_WINDOW_DAYS: i64 = 7;

/// A candidate for "is this the same as yours?".
#[derive(Debug, Clone, PartialEq)]
pub struct NearbyTip<Id> {
    pub id: Id,
    pub point: GeoPoint,
    pub status: TipStatus,
}

/// Open tips within `radius_m` of `here`, nearest first, with their distance.
pub fn likely_duplicates<Id: Clone>(
    here: &GeoPoint,
    candidates: &[NearbyTip<Id>],
    radius_m: f64,
) -> Vec<(Id, f64)> {
    let mut near: Vec<(Id, f64)> = candidates
        .iter()
        .filter(|c| !c.status.is_finished())
        .map(|c| (c.id.clone(), here.distance_m(&c.point)))
        .filter(|(_, d)| *d <= radius_m)
        .collect();
    near.sort_by(|a, b| a.1.total_cmp(&b.1));
    near
}

/// Distances shown to residents are rounded to 50 m: enough to judge
/// "same place", not enough to triangulate another reporter's doorstep.
pub fn public_distance_m(distance_m: f64) -> u32 {
    ((distance_m / 50.0).round() * 50.0).max(0.0) as u32
}

/// A reporter's history as screening sees it (keyed by a pseudonym for
/// anonymous reporters, so the count needs no identity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReporterRecord {
    pub triaged: u32,
    pub unfounded: u32,
}

/// Unfounded tips beyond which a reporter's new tips are flagged for the
/// officer and limited harder: at least this many unfounded, and they are
/// at least half of what was triaged (a prolific, mostly-right reporter is
/// not a nuisance).
pub const SCREENING_MIN_UNFOUNDED: u32 = 3;

pub fn is_flagged(record: &ReporterRecord) -> bool {
    record.unfounded >= SCREENING_MIN_UNFOUNDED && record.unfounded * 2 >= record.triaged
}

/// The screening window: an anonymous reporter's pseudonym, its counts
/// and the link from their tips to it live one window (a week, on fixed
/// boundaries since the Unix epoch) and are deleted when it ends.
pub const SCREENING_WINDOW_SECONDS: i64 = 7 * 24 * 3600;

/// The number of the screening window `at` falls in.
pub fn screening_window(at: chrono::DateTime<chrono::Utc>) -> i64 {
    at.timestamp().div_euclid(SCREENING_WINDOW_SECONDS)
}

/// When screening window `window` began.
pub fn screening_window_start(window: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(window * SCREENING_WINDOW_SECONDS, 0)
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC)
}

/// A reporter's standing: their named record (by resident, for ever) and
/// their anonymous record (by this window's pseudonym), judged together
/// only in memory, never stored side by side.
pub fn combined(named: ReporterRecord, anonymous: ReporterRecord) -> ReporterRecord {
    ReporterRecord {
        triaged: named.triaged.saturating_add(anonymous.triaged),
        unfounded: named.unfounded.saturating_add(anonymous.unfounded),
    }
}

/// How many tips a reporter may file per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubmissionLimit {
    pub max: u32,
    pub window_seconds: u64,
}

/// Submissions per hour: generous for a resident, tight for a flagged one.
pub fn submission_limit(flagged: bool) -> SubmissionLimit {
    if flagged {
        SubmissionLimit {
            max: 1,
            window_seconds: 3600,
        }
    } else {
        SubmissionLimit {
            max: 5,
            window_seconds: 3600,
        }
    }
}

/// Follow-ups (text or photos) per hour on one tip.
pub const FOLLOW_UP_LIMIT: SubmissionLimit = SubmissionLimit {
    max: 20,
    window_seconds: 3600,
};

#[cfg(test)]
mod tests {
    use super::*;
    use TipAction as A;
    use TipStatus as S;

    const ALLOWED: &[(S, A, S)] = &[
        (S::Submitted, A::Offer, S::Offered),
        (S::Pooled, A::Offer, S::Offered),
        (S::Submitted, A::Pool, S::Pooled),
        (S::Submitted, A::Escalate, S::Pooled),
        (S::Pooled, A::Escalate, S::Pooled),
        (S::Submitted, A::Unroute, S::Pooled),
        (S::Pooled, A::Unroute, S::Pooled),
        (S::Offered, A::Accept, S::Acknowledged),
        (S::Offered, A::Decline, S::Pooled),
        (S::Offered, A::ExpireOffer, S::Pooled),
        (S::Pooled, A::Claim, S::Acknowledged),
        (S::Submitted, A::Reassign, S::Acknowledged),
        (S::Offered, A::Reassign, S::Acknowledged),
        (S::Pooled, A::Reassign, S::Acknowledged),
        (S::Acknowledged, A::Reassign, S::Acknowledged),
        (S::Acknowledged, A::HandBack, S::Pooled),
        (S::Acknowledged, A::TriageValid, S::Valid),
        (S::Acknowledged, A::TriageUnfounded, S::Unfounded),
        (S::Acknowledged, A::Refer, S::Referred),
        (S::Valid, A::Verify, S::Verifying),
        (S::Valid, A::Action, S::Actioned),
        (S::Verifying, A::Action, S::Actioned),
        (S::Valid, A::Close, S::Closed),
        (S::Verifying, A::Close, S::Closed),
        (S::Actioned, A::Close, S::Closed),
        (S::Acknowledged, A::MarkDuplicate, S::Duplicate),
        (S::Valid, A::MarkDuplicate, S::Duplicate),
        (S::Verifying, A::MarkDuplicate, S::Duplicate),
        (S::Acknowledged, A::Convert, S::Converted),
        (S::Valid, A::Convert, S::Converted),
        (S::Closed, A::Reopen, S::Submitted),
        (S::Unfounded, A::Reopen, S::Submitted),
        (S::Submitted, A::SlaBreach, S::Submitted),
        (S::Offered, A::SlaBreach, S::Offered),
        (S::Pooled, A::SlaBreach, S::Pooled),
        (S::Acknowledged, A::SlaBreach, S::Acknowledged),
        (S::Valid, A::SlaBreach, S::Valid),
        (S::Verifying, A::SlaBreach, S::Verifying),
        (S::Actioned, A::SlaBreach, S::Actioned),
    ];

    #[test]
    fn only_a_tip_signed_for_and_not_yet_triaged_may_be_handed_back() {
        for status in TipStatus::ALL {
            assert_eq!(
                may_hand_back(status),
                status == TipStatus::Acknowledged,
                "{status}"
            );
            if may_hand_back(status) {
                assert_eq!(
                    transition(status, TipAction::HandBack),
                    Ok(TipStatus::Pooled)
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
                    (Ok(to), Some(want)) => assert_eq!(to, want, "{from} {action}"),
                    (Err(e), None) => assert_eq!((e.from, e.action), (from, action)),
                    (got, want) => panic!("{from} {action}: got {got:?}, table says {want:?}"),
                }
                checked += 1;
            }
        }
        assert_eq!(checked, 12 * 20);
    }

    #[test]
    fn statuses_and_actions_round_trip_their_names() {
        for s in S::ALL {
            assert_eq!(s.as_str().parse::<S>(), Ok(s));
        }
        assert!("open".parse::<S>().is_err());
        let names: std::collections::BTreeSet<_> = A::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(names.len(), A::ALL.len());
    }

    #[test]
    fn open311_sees_open_until_the_tip_is_finished() {
        for s in S::ALL {
            let want = if matches!(
                s,
                S::Closed | S::Unfounded | S::Referred | S::Duplicate | S::Converted
            ) {
                Open311Status::Closed
            } else {
                Open311Status::Open
            };
            assert_eq!(s.open311(), want, "{s}");
        }
        assert!(S::Unfounded.public_note().contains("未发现"));
        assert!(S::Unfounded.public_note_in(Lang::En).contains("no grounds"));
        for s in S::ALL {
            assert!(!s.public_note().is_ascii(), "{s}: Chinese by default");
            assert!(s.public_note_in(Lang::En).is_ascii(), "{s}");
        }
    }

    #[test]
    fn routing_internals_stay_with_staff() {
        assert!(!A::Offer.is_public());
        assert!(!A::SlaBreach.is_public());
        assert!(A::Accept.is_public());
        assert!(A::Close.is_public());
        assert!(A::Reopen.is_public());
    }

    #[test]
    fn triage_verdicts_map_onto_actions() {
        assert_eq!(
            transition(S::Acknowledged, TriageVerdict::Valid.action()),
            Ok(S::Valid)
        );
        assert_eq!(
            transition(S::Acknowledged, TriageVerdict::NotPoliceMatter.action()),
            Ok(S::Referred)
        );
        assert_eq!(
            transition(S::Acknowledged, TriageVerdict::Unfounded.action()),
            Ok(S::Unfounded)
        );
    }

    #[test]
    fn emergencies_are_refused_before_anything_else() {
        let rules = |urgent, takes_tips, anonymous_allowed| CategoryRules {
            urgent,
            takes_tips,
            anonymous_allowed,
        };
        // Urgent wins over every other rule, named or anonymous.
        for (takes, anon_ok, anon) in [
            (true, true, true),
            (false, false, true),
            (true, false, false),
        ] {
            assert_eq!(
                admit_tip(rules(true, takes, anon_ok), anon),
                Err(TipRefusal::Emergency)
            );
        }
        assert_eq!(
            admit_tip(rules(false, false, true), false),
            Err(TipRefusal::NotForTips)
        );
        assert_eq!(
            admit_tip(rules(false, true, false), true),
            Err(TipRefusal::AnonymousNotAllowed)
        );
        assert_eq!(admit_tip(rules(false, true, false), false), Ok(()));
        assert_eq!(admit_tip(rules(false, true, true), true), Ok(()));
    }

    #[test]
    fn points_are_validated() {
        assert!(GeoPoint::new(31.27, 121.48).is_some());
        assert!(GeoPoint::new(91.0, 0.0).is_none());
        assert!(GeoPoint::new(0.0, -180.5).is_none());
        assert!(GeoPoint::new(f64::NAN, 0.0).is_none());
        assert!(GeoPoint::new(0.0, f64::INFINITY).is_none());
    }

    #[test]
    fn haversine_matches_known_distances() {
        // One degree of latitude ≈ 111.2 km anywhere.
        let a = GeoPoint::new(31.0, 121.0).unwrap();
        let b = GeoPoint::new(32.0, 121.0).unwrap();
        assert!((a.distance_m(&b) - 111_195.0).abs() < 50.0);
        // Shanghai People's Square → the Bund: about 1.5 km.
        let square = GeoPoint::new(31.2304, 121.4737).unwrap();
        let bund = GeoPoint::new(31.2400, 121.4900).unwrap();
        let d = square.distance_m(&bund);
        assert!((1_800.0..1_950.0).contains(&d), "{d}");
        assert_eq!(a.distance_m(&a), 0.0);
    }

    #[test]
    fn the_bounding_box_contains_the_radius_and_not_much_more() {
        let here = GeoPoint::new(31.27, 121.48).unwrap();
        let bbox = here.bounding_box(500.0);
        for bearing in 0..360 {
            // Walk ~499 m in every direction: always inside the box.
            let (s, c) = (bearing as f64).to_radians().sin_cos();
            let lat = here.lat() + c * 499.0 / 111_195.0;
            let lng = here.lng() + s * 499.0 / (111_195.0 * here.lat().to_radians().cos());
            assert!((bbox.min_lat..=bbox.max_lat).contains(&lat), "{bearing}");
            assert!((bbox.min_lng..=bbox.max_lng).contains(&lng), "{bearing}");
        }
        assert!(bbox.max_lat - bbox.min_lat < 0.01);
    }

    #[test]
    fn gcj02_round_trips_to_wgs84_within_a_centimetre() {
        // Hongkou district.
        let (lat, lng) = (31.2646, 121.5052);
        let (glat, glng) = wgs84_to_gcj02(lat, lng);
        let shifted = GeoPoint::new(lat, lng)
            .unwrap()
            .distance_m(&GeoPoint::new(glat, glng).unwrap());
        // The "Mars" offset in Shanghai is a few hundred metres.
        assert!((300.0..700.0).contains(&shifted), "{shifted}");
        let back = GeoPoint::from_datum(glat, glng, Datum::Gcj02).unwrap();
        let err = back.distance_m(&GeoPoint::new(lat, lng).unwrap());
        assert!(err < 0.01, "{err} m");
        // Outside China nothing moves.
        assert_eq!(wgs84_to_gcj02(51.5, -0.12), (51.5, -0.12));
    }

    #[test]
    fn bd09_lands_within_metres_of_the_truth() {
        // BD-09 of a known point (Baidu's forward transform, applied here
        // to avoid a magic constant): GCJ → BD, then back through ours.
        let (lat, lng) = (31.2646, 121.5052);
        let (glat, glng) = wgs84_to_gcj02(lat, lng);
        let x_pi = std::f64::consts::PI * 3000.0 / 180.0;
        let z = (glng * glng + glat * glat).sqrt() + 0.000_02 * (glat * x_pi).sin();
        let theta = glat.atan2(glng) + 0.000_003 * (glng * x_pi).cos();
        let (blat, blng) = (z * theta.sin() + 0.006, z * theta.cos() + 0.0065);
        let back = GeoPoint::from_datum(blat, blng, Datum::Bd09).unwrap();
        let err = back.distance_m(&GeoPoint::new(lat, lng).unwrap());
        assert!(err < 5.0, "{err} m");
        assert_eq!("gcj02".parse::<Datum>(), Ok(Datum::Gcj02));
        assert!("osgb36".parse::<Datum>().is_err());
    }

    #[test]
    fn duplicates_are_open_same_place_tips_nearest_first() {
        let here = GeoPoint::new(31.27, 121.48).unwrap();
        let at = |dlat_m: f64| GeoPoint::new(31.27 + dlat_m / 111_195.0, 121.48).unwrap();
        let candidates = vec![
            NearbyTip {
                id: "far",
                point: at(800.0),
                status: S::Pooled,
            },
            NearbyTip {
                id: "near",
                point: at(120.0),
                status: S::Acknowledged,
            },
            NearbyTip {
                id: "nearer-but-closed",
                point: at(30.0),
                status: S::Closed,
            },
            NearbyTip {
                id: "edge",
                point: at(480.0),
                status: S::Submitted,
            },
        ];
        let found = likely_duplicates(&here, &candidates, DUPLICATE_RADIUS_M);
        let ids: Vec<_> = found.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, vec!["near", "edge"]);
        assert_eq!(public_distance_m(found[0].1), 100);
        assert_eq!(public_distance_m(124.0), 100);
        assert_eq!(public_distance_m(126.0), 150);
    }

    #[test]
    fn screening_flags_mostly_unfounded_reporters_only() {
        let flagged = |triaged, unfounded| is_flagged(&ReporterRecord { triaged, unfounded });
        assert!(!flagged(0, 0));
        assert!(!flagged(2, 2), "two unfounded tips are not yet a pattern");
        assert!(flagged(3, 3));
        assert!(flagged(6, 3), "half unfounded");
        assert!(!flagged(7, 3), "mostly right");
        assert!(!flagged(40, 10));
        assert_eq!(submission_limit(true).max, 1);
        let now = chrono::Utc::now();
        let w = screening_window(now);
        assert!(screening_window_start(w) <= now && now < screening_window_start(w + 1));
        assert!(is_flagged(&combined(
            ReporterRecord {
                triaged: 2,
                unfounded: 2
            },
            ReporterRecord {
                triaged: 1,
                unfounded: 1
            }
        )));
        assert!(submission_limit(false).max > submission_limit(true).max);
    }
}
