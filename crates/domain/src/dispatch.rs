//! The routing engine's decisions, for every service (consultations,
//! mediations, tips), as pure functions over a snapshot.
//!
//! A case climbs the **ladder** of its category: each step names who may
//! take it (role and organisation level), how long the step lasts, a
//! priority boost, and whether to skip it when nobody is eligible now.
//! Within a step the case is **offered** to one eligible person at a time,
//! longest idle first, then least loaded; someone who declined or let an
//! offer lapse is excluded for the rest of the step. Past the last step the
//! case is never dropped: it becomes **unrouted** and waits for a
//! coordinator.
//!
//! A step's timeout runs in **business time** on the district's calendar
//! (`LadderStep::ends_at`): a case that reaches a step on Friday evening
//! does not climb overnight or over the weekend, only once the step's
//! working minutes have passed. Offers still lapse on the wall clock (a
//! person answers or not), but never after their step's end.

use crate::actor::StaffRole;
use crate::calendar::BusinessCalendar;
use crate::ids::{OrgUnitId, StaffId};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;

/// The organisation level a ladder step draws its people from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeLevel {
    /// The case's own community (signed lawyer, community mediator, grid officer).
    Community,
    /// The police station responsible for the community.
    Station,
    /// The street, with its judicial office and legal-service station.
    Street,
    /// The whole district.
    District,
}

/// One rung of a category's escalation ladder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LadderStep {
    pub role: StaffRole,
    pub level: ScopeLevel,
    /// How long the case may stay on this step before it escalates, in
    /// business minutes (working time on the business calendar).
    pub timeout_minutes: i64,
    /// Finer grain for drills and tests: when set, replaces `timeout_minutes`
    /// and runs on the wall clock (see [`LadderStep::ends_at`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<i64>,
    /// Added to the case's priority from this step on.
    #[serde(default)]
    pub priority_boost: i32,
    /// Move straight up when nobody is eligible now (instead of waiting
    /// on this step for someone to become available).
    #[serde(default)]
    pub skip_when_nobody: bool,
    /// Only staff on the duty roster now (tips go to the officer on duty).
    #[serde(default)]
    pub on_duty_only: bool,
    /// Only the community's signed lawyer (the consultation's first step).
    #[serde(default)]
    pub signed_lawyer_only: bool,
}

impl LadderStep {
    pub fn timeout(&self) -> Duration {
        match self.timeout_seconds {
            Some(seconds) => Duration::seconds(seconds),
            None => Duration::minutes(self.timeout_minutes),
        }
    }

    /// When a case that entered this step at `entered_at` has used up its
    /// time here. The one rule for the step's end: the router's decision,
    /// its step timer, and an offer's cap all come from it.
    ///
    /// - `timeout_minutes` run in business time: `calendar.add(entered_at,
    ///   timeout)`, so nights, weekends and holidays do not count.
    /// - `timeout_seconds` (drills and tests, which run at any hour, at
    ///   03:00 Beijing and on Sundays too) run on the wall clock: seconds of
    ///   business time would stall a drill outside office hours for the
    ///   whole night.
    /// - A calendar with no working time ahead (every day a holiday for
    ///   three years; the calendar cannot be built without a working week,
    ///   so only a broken import gets here) falls back to the wall clock:
    ///   the case still climbs to the coordinators instead of waiting on a
    ///   step for ever.
    pub fn ends_at(&self, entered_at: DateTime<Utc>, calendar: &BusinessCalendar) -> DateTime<Utc> {
        let timeout = self.timeout();
        let wall = || {
            entered_at
                .checked_add_signed(timeout)
                .unwrap_or(DateTime::<Utc>::MAX_UTC)
        };
        if self.timeout_seconds.is_some() {
            return wall();
        }
        calendar.add(entered_at, timeout).unwrap_or_else(wall)
    }
}

/// Where a case sits in the organisation tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CasePlace {
    pub community: OrgUnitId,
    pub station: Option<OrgUnitId>,
    pub street: Option<OrgUnitId>,
    pub district: Option<OrgUnitId>,
}

impl CasePlace {
    pub fn unit_at(&self, level: ScopeLevel) -> Option<OrgUnitId> {
        match level {
            ScopeLevel::Community => Some(self.community),
            ScopeLevel::Station => self.station,
            ScopeLevel::Street => self.street,
            ScopeLevel::District => self.district,
        }
    }
}

/// What the router knows about the case it is placing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRouting {
    pub place: CasePlace,
    pub category: String,
    /// The top-level category (`LJ` for `LJ01`), if `category` is a sub-item.
    pub parent_category: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    Available,
    Away,
    OffDuty,
}

impl Presence {
    pub const ALL: [Presence; 3] = [Presence::Available, Presence::Away, Presence::OffDuty];

    /// The name stored in `staff.presence`.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Presence::Available => "available",
            Presence::Away => "away",
            Presence::OffDuty => "off_duty",
        }
    }
}

impl std::str::FromStr for Presence {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Presence::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("unknown presence `{s}`"))
    }
}

/// One staff member as the router sees them now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffSnapshot {
    pub id: StaffId,
    pub role: StaffRole,
    pub active: bool,
    /// The units this person works for (a membership covers the unit itself).
    pub units: Vec<OrgUnitId>,
    /// Category codes; a top-level code covers its sub-items. No skills
    /// recorded means a generalist of the role, who covers every category.
    pub skills: Vec<String>,
    pub presence: Presence,
    /// On the duty roster at this moment.
    pub on_duty: bool,
    /// Cases owned and not finished, plus pending offers (an offer holds a place).
    pub active_cases: u32,
    pub capacity: u32,
    /// Communities whose signed lawyer this is.
    pub signed_communities: Vec<OrgUnitId>,
    /// Since when this person has had no new offer or case (fairness order).
    pub idle_since: DateTime<Utc>,
}

/// Why someone cannot take a case on a step. Reported to coordinators
/// ("nobody eligible: 3 at capacity, 1 away") and tested one by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ineligible {
    Inactive,
    WrongRole,
    OutOfScope,
    NotSignedLawyer,
    LacksSkill,
    NotAvailable,
    NotOnDuty,
    AtCapacity,
    AlreadyTried,
}

pub fn eligibility(
    step: &LadderStep,
    case: &CaseRouting,
    staff: &StaffSnapshot,
    excluded: &[StaffId],
) -> Result<(), Ineligible> {
    if !staff.active {
        return Err(Ineligible::Inactive);
    }
    if staff.role != step.role {
        return Err(Ineligible::WrongRole);
    }
    let unit = case
        .place
        .unit_at(step.level)
        .ok_or(Ineligible::OutOfScope)?;
    if !staff.units.contains(&unit) {
        return Err(Ineligible::OutOfScope);
    }
    if step.signed_lawyer_only && !staff.signed_communities.contains(&case.place.community) {
        return Err(Ineligible::NotSignedLawyer);
    }
    let covers =
        |skill: &String| *skill == case.category || Some(skill) == case.parent_category.as_ref();
    if !staff.skills.is_empty() && !staff.skills.iter().any(covers) {
        return Err(Ineligible::LacksSkill);
    }
    if staff.presence != Presence::Available {
        return Err(Ineligible::NotAvailable);
    }
    if step.on_duty_only && !staff.on_duty {
        return Err(Ineligible::NotOnDuty);
    }
    if staff.active_cases >= staff.capacity {
        return Err(Ineligible::AtCapacity);
    }
    if excluded.contains(&staff.id) {
        return Err(Ineligible::AlreadyTried);
    }
    Ok(())
}

/// Eligible staff, best first: longest idle, then fewest active cases,
/// then id (so the order is total and the same on every instance).
pub fn candidates<'a>(
    step: &LadderStep,
    case: &CaseRouting,
    staff: &'a [StaffSnapshot],
    excluded: &[StaffId],
) -> Vec<&'a StaffSnapshot> {
    let mut eligible: Vec<&StaffSnapshot> = staff
        .iter()
        .filter(|s| eligibility(step, case, s, excluded).is_ok())
        .collect();
    eligible.sort_by_key(|s| (s.idle_since, s.active_cases, s.id));
    eligible
}

/// Where on its ladder a case is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LadderPosition {
    pub step: usize,
    pub entered_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EscalationReason {
    StepTimedOut,
    NobodyEligible,
    /// The step is the coordinators' (joint handling): they assign by hand
    /// from their queue, nobody is offered anything.
    CoordinatorStep,
}

impl EscalationReason {
    /// The reason as the case's history records it.
    pub fn text(self) -> &'static str {
        match self {
            EscalationReason::StepTimedOut => "the step's time ran out",
            EscalationReason::NobodyEligible => "nobody eligible on this step",
            EscalationReason::CoordinatorStep => "joint handling: the coordinators assign it",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dispatch {
    /// Offer it to this person until `expires_at`.
    Offer {
        to: StaffId,
        expires_at: DateTime<Utc>,
    },
    /// Nobody eligible now and the step says wait: keep it queued on this
    /// step until someone becomes available or the step ends at `until`.
    Wait { until: DateTime<Utc> },
    /// Move to the next step.
    Escalate {
        to_step: usize,
        reason: EscalationReason,
    },
    /// Past the last step: the coordinator's unrouted queue, with an alarm.
    Unrouted { reason: EscalationReason },
}

/// The next thing to do with a case waiting on `position` of `ladder`.
/// The step ends in business time on `calendar` ([`LadderStep::ends_at`]).
// Each argument is a separate input of the one decision; a struct bundling
// them would only be built here and taken apart again.
#[allow(clippy::too_many_arguments)]
pub fn dispatch(
    ladder: &[LadderStep],
    position: LadderPosition,
    case: &CaseRouting,
    staff: &[StaffSnapshot],
    excluded: &[StaffId],
    offer_timeout: Duration,
    calendar: &BusinessCalendar,
    now: DateTime<Utc>,
) -> Dispatch {
    let up = |reason| {
        if position.step + 1 < ladder.len() {
            Dispatch::Escalate {
                to_step: position.step + 1,
                reason,
            }
        } else {
            Dispatch::Unrouted { reason }
        }
    };
    let Some(step) = ladder.get(position.step) else {
        return Dispatch::Unrouted {
            reason: EscalationReason::NobodyEligible,
        };
    };
    let step_ends = step.ends_at(position.entered_at, calendar);
    if now >= step_ends {
        return up(EscalationReason::StepTimedOut);
    }
    if !is_offered_cases(step.role) {
        return Dispatch::Unrouted {
            reason: EscalationReason::CoordinatorStep,
        };
    }
    match candidates(step, case, staff, excluded).first() {
        // An offer lapses on the wall clock but never outlives its step:
        // the step's end escalates the case.
        Some(best) => Dispatch::Offer {
            to: best.id,
            expires_at: offer_expiry(now, offer_timeout, step_ends),
        },
        None if step.skip_when_nobody => up(EscalationReason::NobodyEligible),
        None => Dispatch::Wait { until: step_ends },
    }
}

/// When an offer made at `now` lapses: after the offer timeout on the wall
/// clock, but never after the end of the step it was made on.
pub fn offer_expiry(
    now: DateTime<Utc>,
    offer_timeout: Duration,
    step_ends: DateTime<Utc>,
) -> DateTime<Utc> {
    now.checked_add_signed(offer_timeout)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
        .min(step_ends)
}

/// Whether the engine offers cases to people of this role: handlers
/// (lawyers, mediators, officers) are offered cases and pull them from
/// their queues; a coordinators' step is never offered (they assign by
/// hand from the unrouted queue), and administrators handle no cases.
pub fn is_offered_cases(role: StaffRole) -> bool {
    !matches!(role, StaffRole::Coordinator | StaffRole::Admin)
}

/// Where a reopened case goes first: the first step on which its previous
/// owner is eligible now (they know the case), or `None` to climb the
/// ladder from the bottom as usual.
pub fn step_for_previous_owner(
    ladder: &[LadderStep],
    case: &CaseRouting,
    owner: &StaffSnapshot,
) -> Option<usize> {
    ladder
        .iter()
        .position(|step| eligibility(step, case, owner, &[]).is_ok())
}

/// A case waiting in a queue, as "next case" sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting<T> {
    pub case: T,
    pub priority: i32,
    pub waiting_since: DateTime<Utc>,
}

/// "Give me the next case": highest priority first, then the oldest.
pub fn next_case<T>(waiting: &[Waiting<T>]) -> Option<&Waiting<T>> {
    waiting
        .iter()
        .min_by_key(|w| (Reverse(w.priority), w.waiting_since))
}

/// A case's priority on a step: its category's base plus every boost so far.
pub fn priority_on(ladder: &[LadderStep], base: i32, step: usize) -> i32 {
    base + ladder
        .iter()
        .take(step + 1)
        .map(|s| s.priority_boost)
        .sum::<i32>()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Wednesday 2026-11-18 09:00 Beijing, plus `minutes`: working time on
    /// the office calendar, so the first 180 minutes are wall and business
    /// time alike.
    fn t(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_794_963_600, 0).unwrap() + Duration::minutes(minutes)
    }

    fn office() -> BusinessCalendar {
        BusinessCalendar::china_office_hours()
    }

    /// A Beijing wall-clock time, as UTC.
    fn beijing(date: &str, time: &str) -> DateTime<Utc> {
        let local =
            chrono::NaiveDateTime::parse_from_str(&format!("{date} {time}"), "%Y-%m-%d %H:%M")
                .unwrap();
        local.and_utc() - Duration::hours(8)
    }

    struct World {
        community: OrgUnitId,
        other_community: OrgUnitId,
        station: OrgUnitId,
        street: OrgUnitId,
    }

    fn world() -> World {
        World {
            community: OrgUnitId::new(),
            other_community: OrgUnitId::new(),
            station: OrgUnitId::new(),
            street: OrgUnitId::new(),
        }
    }

    fn case(w: &World, category: &str) -> CaseRouting {
        CaseRouting {
            place: CasePlace {
                community: w.community,
                station: Some(w.station),
                street: Some(w.street),
                district: None,
            },
            category: category.into(),
            parent_category: category
                .get(..2)
                .map(str::to_owned)
                .filter(|p| p != category),
        }
    }

    fn lawyer(units: Vec<OrgUnitId>, idle_minutes_ago: i64, active: u32) -> StaffSnapshot {
        StaffSnapshot {
            id: StaffId::new(),
            role: StaffRole::Lawyer,
            active: true,
            units,
            skills: vec!["LJ".into(), "HY".into()],
            presence: Presence::Available,
            on_duty: false,
            active_cases: active,
            capacity: 5,
            signed_communities: vec![],
            idle_since: t(-idle_minutes_ago),
        }
    }

    fn step(role: StaffRole, level: ScopeLevel) -> LadderStep {
        LadderStep {
            role,
            level,
            timeout_minutes: 60,
            timeout_seconds: None,
            priority_boost: 0,
            skip_when_nobody: true,
            on_duty_only: false,
            signed_lawyer_only: false,
        }
    }

    #[test]
    fn staff_without_skills_cover_every_category() {
        let w = world();
        let generalist = StaffSnapshot {
            skills: vec![],
            ..lawyer(vec![w.community], 10, 0)
        };
        let step = step(StaffRole::Lawyer, ScopeLevel::Community);
        assert_eq!(
            eligibility(&step, &case(&w, "ZW03"), &generalist, &[]),
            Ok(())
        );
    }

    #[test]
    fn a_reopened_case_goes_back_to_its_owner_where_they_are_still_eligible() {
        let w = world();
        let ladder = vec![
            LadderStep {
                signed_lawyer_only: true,
                ..step(StaffRole::Lawyer, ScopeLevel::Community)
            },
            step(StaffRole::Lawyer, ScopeLevel::Street),
        ];
        let c = case(&w, "LJ01");
        let pool_lawyer = lawyer(vec![w.street], 10, 0);
        assert_eq!(step_for_previous_owner(&ladder, &c, &pool_lawyer), Some(1));
        let signed = StaffSnapshot {
            signed_communities: vec![w.community],
            ..lawyer(vec![w.community], 10, 0)
        };
        assert_eq!(step_for_previous_owner(&ladder, &c, &signed), Some(0));
        let away = StaffSnapshot {
            presence: Presence::Away,
            ..pool_lawyer
        };
        assert_eq!(step_for_previous_owner(&ladder, &c, &away), None);
    }

    #[test]
    fn a_coordinator_step_hands_the_case_to_the_coordinators_queue() {
        let w = world();
        let c = case(&w, "LJ01");
        let ladder = vec![
            step(StaffRole::Coordinator, ScopeLevel::Street),
            step(StaffRole::Lawyer, ScopeLevel::District),
        ];
        let coordinator = StaffSnapshot {
            role: StaffRole::Coordinator,
            ..lawyer(vec![w.street], 10, 0)
        };
        let position = LadderPosition {
            step: 0,
            entered_at: t(0),
        };
        assert_eq!(
            dispatch(
                &ladder,
                position,
                &c,
                &[coordinator],
                &[],
                Duration::minutes(10),
                &office(),
                t(1)
            ),
            Dispatch::Unrouted {
                reason: EscalationReason::CoordinatorStep
            },
            "nobody is offered anything on a coordinators' step"
        );
    }

    #[test]
    fn timeouts_in_seconds_replace_minutes() {
        let mut s = step(StaffRole::Lawyer, ScopeLevel::Street);
        assert_eq!(s.timeout(), Duration::minutes(60));
        s.timeout_seconds = Some(3);
        assert_eq!(s.timeout(), Duration::seconds(3));
    }

    #[test]
    fn eligibility_checks_each_rule() {
        let w = world();
        let c = case(&w, "LJ01");
        let community_step = step(StaffRole::Lawyer, ScopeLevel::Community);
        let ok = lawyer(vec![w.community], 10, 0);
        assert_eq!(eligibility(&community_step, &c, &ok, &[]), Ok(()));

        let table: Vec<(&str, StaffSnapshot, LadderStep, Ineligible)> = vec![
            (
                "inactive",
                StaffSnapshot {
                    active: false,
                    ..ok.clone()
                },
                community_step.clone(),
                Ineligible::Inactive,
            ),
            (
                "a mediator on a lawyer step",
                StaffSnapshot {
                    role: StaffRole::Mediator,
                    ..ok.clone()
                },
                community_step.clone(),
                Ineligible::WrongRole,
            ),
            (
                "another community",
                StaffSnapshot {
                    units: vec![w.other_community],
                    ..ok.clone()
                },
                community_step.clone(),
                Ineligible::OutOfScope,
            ),
            (
                "community member on a street step",
                ok.clone(),
                step(StaffRole::Lawyer, ScopeLevel::Street),
                Ineligible::OutOfScope,
            ),
            (
                "no district known",
                StaffSnapshot {
                    units: vec![w.community],
                    ..ok.clone()
                },
                step(StaffRole::Lawyer, ScopeLevel::District),
                Ineligible::OutOfScope,
            ),
            (
                "not the signed lawyer",
                ok.clone(),
                LadderStep {
                    signed_lawyer_only: true,
                    ..community_step.clone()
                },
                Ineligible::NotSignedLawyer,
            ),
            (
                "no skill for the category",
                StaffSnapshot {
                    skills: vec!["ZW".into()],
                    ..ok.clone()
                },
                community_step.clone(),
                Ineligible::LacksSkill,
            ),
            (
                "away",
                StaffSnapshot {
                    presence: Presence::Away,
                    ..ok.clone()
                },
                community_step.clone(),
                Ineligible::NotAvailable,
            ),
            (
                "off duty",
                StaffSnapshot {
                    presence: Presence::OffDuty,
                    ..ok.clone()
                },
                community_step.clone(),
                Ineligible::NotAvailable,
            ),
            (
                "not on the roster for an on-duty step",
                ok.clone(),
                LadderStep {
                    on_duty_only: true,
                    ..community_step.clone()
                },
                Ineligible::NotOnDuty,
            ),
            (
                "at capacity",
                StaffSnapshot {
                    active_cases: 5,
                    ..ok.clone()
                },
                community_step.clone(),
                Ineligible::AtCapacity,
            ),
        ];
        for (name, staff, step, want) in table {
            assert_eq!(eligibility(&step, &c, &staff, &[]), Err(want), "{name}");
        }
        assert_eq!(
            eligibility(&community_step, &c, &ok, &[ok.id]),
            Err(Ineligible::AlreadyTried)
        );
        // The exact sub-item as a skill works too, and the signed lawyer passes.
        let signed = StaffSnapshot {
            skills: vec!["LJ01".into()],
            signed_communities: vec![w.community],
            ..ok.clone()
        };
        assert_eq!(
            eligibility(
                &LadderStep {
                    signed_lawyer_only: true,
                    ..community_step.clone()
                },
                &c,
                &signed,
                &[]
            ),
            Ok(())
        );
        let on_duty = StaffSnapshot {
            on_duty: true,
            ..ok
        };
        assert_eq!(
            eligibility(
                &LadderStep {
                    on_duty_only: true,
                    ..community_step
                },
                &c,
                &on_duty,
                &[]
            ),
            Ok(())
        );
    }

    #[test]
    fn candidates_are_ordered_longest_idle_then_least_loaded() {
        let w = world();
        let c = case(&w, "HY");
        let s = step(StaffRole::Lawyer, ScopeLevel::Community);
        let fresh = lawyer(vec![w.community], 5, 0);
        let idle_busy = lawyer(vec![w.community], 120, 3);
        let idle_free = StaffSnapshot {
            idle_since: idle_busy.idle_since,
            ..lawyer(vec![w.community], 0, 1)
        };
        let full = lawyer(vec![w.community], 500, 5);
        let staff = vec![fresh.clone(), idle_busy.clone(), idle_free.clone(), full];
        let order: Vec<StaffId> = candidates(&s, &c, &staff, &[])
            .iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(order, vec![idle_free.id, idle_busy.id, fresh.id]);
        let order: Vec<StaffId> = candidates(&s, &c, &staff, &[idle_free.id])
            .iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(order, vec![idle_busy.id, fresh.id]);
    }

    #[test]
    fn ladder_progression() {
        let w = world();
        let c = case(&w, "LJ02");
        let community = lawyer(vec![w.community], 30, 0);
        let street = lawyer(vec![w.street], 30, 0);
        let ladder = vec![
            LadderStep {
                timeout_minutes: 30,
                ..step(StaffRole::Lawyer, ScopeLevel::Community)
            },
            LadderStep {
                timeout_minutes: 60,
                skip_when_nobody: false,
                ..step(StaffRole::Lawyer, ScopeLevel::Street)
            },
        ];
        let at = |step, entered| LadderPosition {
            step,
            entered_at: t(entered),
        };
        let offer = Duration::minutes(10);
        let cal = office();
        let staff = vec![community.clone(), street.clone()];

        // Step 0: offered to the community lawyer, for the offer timeout.
        assert_eq!(
            dispatch(&ladder, at(0, 0), &c, &staff, &[], offer, &cal, t(0)),
            Dispatch::Offer {
                to: community.id,
                expires_at: t(10)
            }
        );
        // An offer is cut short by the step's end.
        assert_eq!(
            dispatch(&ladder, at(0, 0), &c, &staff, &[], offer, &cal, t(25)),
            Dispatch::Offer {
                to: community.id,
                expires_at: t(30)
            }
        );
        // They declined: nobody else there, the step skips when nobody → escalate.
        assert_eq!(
            dispatch(
                &ladder,
                at(0, 0),
                &c,
                &staff,
                &[community.id],
                offer,
                &cal,
                t(5)
            ),
            Dispatch::Escalate {
                to_step: 1,
                reason: EscalationReason::NobodyEligible
            }
        );
        // The step's time ran out → escalate, even if someone is free.
        assert_eq!(
            dispatch(&ladder, at(0, 0), &c, &staff, &[], offer, &cal, t(30)),
            Dispatch::Escalate {
                to_step: 1,
                reason: EscalationReason::StepTimedOut
            }
        );
        // Step 1: the street lawyer.
        assert_eq!(
            dispatch(&ladder, at(1, 30), &c, &staff, &[], offer, &cal, t(31)),
            Dispatch::Offer {
                to: street.id,
                expires_at: t(41)
            }
        );
        // Step 1 waits when nobody is eligible (it does not skip) ...
        assert_eq!(
            dispatch(
                &ladder,
                at(1, 30),
                &c,
                &staff,
                &[street.id],
                offer,
                &cal,
                t(40)
            ),
            Dispatch::Wait { until: t(90) }
        );
        // ... and past the last step the case is unrouted, never dropped.
        assert_eq!(
            dispatch(
                &ladder,
                at(1, 30),
                &c,
                &staff,
                &[street.id],
                offer,
                &cal,
                t(90)
            ),
            Dispatch::Unrouted {
                reason: EscalationReason::StepTimedOut
            }
        );
        let skipping = vec![ladder[0].clone()];
        assert_eq!(
            dispatch(&skipping, at(0, 0), &c, &[], &[], offer, &cal, t(1)),
            Dispatch::Unrouted {
                reason: EscalationReason::NobodyEligible
            }
        );
        assert_eq!(
            dispatch(&[], at(0, 0), &c, &staff, &[], offer, &cal, t(1)),
            Dispatch::Unrouted {
                reason: EscalationReason::NobodyEligible
            }
        );
    }

    #[test]
    fn a_step_ends_in_business_time_across_the_weekend() {
        let cal = office();
        let minutes = |m| LadderStep {
            timeout_minutes: m,
            ..step(StaffRole::Lawyer, ScopeLevel::Street)
        };
        // The office calendar closes at 17:30: from 16:30 a full hour is
        // still Friday's.
        assert_eq!(
            minutes(60).ends_at(beijing("2026-11-20", "16:30"), &cal),
            beijing("2026-11-20", "17:30")
        );
        // Past it, the rest waits for Monday 09:00, not for Saturday.
        assert_eq!(
            minutes(90).ends_at(beijing("2026-11-20", "16:30"), &cal),
            beijing("2026-11-23", "09:30")
        );
        assert_eq!(
            minutes(60).ends_at(beijing("2026-11-20", "17:00"), &cal),
            beijing("2026-11-23", "09:30")
        );
        // Begun on Friday evening or on Sunday night: all of it is Monday's.
        assert_eq!(
            minutes(60).ends_at(beijing("2026-11-20", "18:00"), &cal),
            beijing("2026-11-23", "10:00")
        );
        assert_eq!(
            minutes(60).ends_at(beijing("2026-11-22", "03:00"), &cal),
            beijing("2026-11-23", "10:00")
        );
        // The lunch break does not count either.
        assert_eq!(
            minutes(60).ends_at(beijing("2026-11-23", "11:30"), &cal),
            beijing("2026-11-23", "14:00")
        );
    }

    #[test]
    fn a_holiday_on_the_calendar_is_skipped() {
        // Dragon Boat Festival 2026: Friday 19 June to Sunday 21 June.
        let mut cal = office();
        for day in 19..=21 {
            cal.set_override(
                chrono::NaiveDate::from_ymd_opt(2026, 6, day).unwrap(),
                crate::calendar::DayOverride::Holiday,
            );
        }
        let s = LadderStep {
            timeout_minutes: 90,
            ..step(StaffRole::Lawyer, ScopeLevel::Street)
        };
        // Thursday 16:30: an hour on Thursday, the other half hour on Monday.
        assert_eq!(
            s.ends_at(beijing("2026-06-18", "16:30"), &cal),
            beijing("2026-06-22", "09:30")
        );
        // Without the holiday it would have been Friday morning.
        assert_eq!(
            s.ends_at(beijing("2026-06-18", "16:30"), &office()),
            beijing("2026-06-19", "09:30")
        );
    }

    #[test]
    fn drill_seconds_run_on_the_wall_clock_at_any_hour() {
        let cal = office();
        let drill = LadderStep {
            timeout_minutes: 1,
            timeout_seconds: Some(2),
            ..step(StaffRole::Lawyer, ScopeLevel::Street)
        };
        // 03:00 Beijing on a Sunday: two seconds later, not Monday 09:00:02.
        let sunday_night = beijing("2026-11-22", "03:00");
        assert_eq!(
            drill.ends_at(sunday_night, &cal),
            sunday_night + Duration::seconds(2)
        );
        // And dispatch escalates on them at that hour.
        let ladder = vec![
            LadderStep {
                skip_when_nobody: false,
                ..drill.clone()
            },
            drill,
        ];
        let w = world();
        let position = LadderPosition {
            step: 0,
            entered_at: sunday_night,
        };
        let decide = |now| {
            dispatch(
                &ladder,
                position,
                &case(&w, "LJ01"),
                &[],
                &[],
                Duration::minutes(10),
                &cal,
                now,
            )
        };
        assert_eq!(
            decide(sunday_night + Duration::seconds(1)),
            Dispatch::Wait {
                until: sunday_night + Duration::seconds(2)
            }
        );
        assert_eq!(
            decide(sunday_night + Duration::seconds(2)),
            Dispatch::Escalate {
                to_step: 1,
                reason: EscalationReason::StepTimedOut
            }
        );
    }

    #[test]
    fn a_calendar_without_working_time_ahead_falls_back_to_the_wall_clock() {
        // Every day a holiday for longer than the calendar looks ahead.
        let mut cal = office();
        let first = chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        for day in first.iter_days().take(4 * 366) {
            cal.set_override(day, crate::calendar::DayOverride::Holiday);
        }
        let s = LadderStep {
            timeout_minutes: 60,
            ..step(StaffRole::Lawyer, ScopeLevel::Street)
        };
        let entered = beijing("2026-11-20", "18:00");
        assert_eq!(s.ends_at(entered, &cal), entered + Duration::minutes(60));
    }

    #[test]
    fn a_weekend_does_not_escalate_and_monday_does() {
        let w = world();
        let c = case(&w, "LJ01");
        let cal = office();
        let ladder = vec![
            LadderStep {
                timeout_minutes: 60,
                skip_when_nobody: false,
                ..step(StaffRole::Lawyer, ScopeLevel::Community)
            },
            step(StaffRole::Lawyer, ScopeLevel::Street),
        ];
        let position = LadderPosition {
            step: 0,
            entered_at: beijing("2026-11-20", "18:00"),
        };
        let monday_ten = beijing("2026-11-23", "10:00");
        let decide = |now, staff: &[StaffSnapshot]| {
            dispatch(
                &ladder,
                position,
                &c,
                staff,
                &[],
                Duration::minutes(10),
                &cal,
                now,
            )
        };
        for now in [
            beijing("2026-11-21", "10:00"),
            beijing("2026-11-22", "23:00"),
            beijing("2026-11-23", "09:59"),
        ] {
            assert_eq!(
                decide(now, &[]),
                Dispatch::Wait { until: monday_ten },
                "{now}"
            );
        }
        assert_eq!(
            decide(monday_ten, &[]),
            Dispatch::Escalate {
                to_step: 1,
                reason: EscalationReason::StepTimedOut
            }
        );
        // An offer on Monday at 09:55 lapses with the step, at 10:00, not
        // ten minutes on; one on Saturday lapses on the wall clock.
        let lawyer = lawyer(vec![w.community], 30, 0);
        assert_eq!(
            decide(
                beijing("2026-11-23", "09:55"),
                std::slice::from_ref(&lawyer)
            ),
            Dispatch::Offer {
                to: lawyer.id,
                expires_at: monday_ten
            }
        );
        assert_eq!(
            decide(
                beijing("2026-11-21", "10:00"),
                std::slice::from_ref(&lawyer)
            ),
            Dispatch::Offer {
                to: lawyer.id,
                expires_at: beijing("2026-11-21", "10:10")
            }
        );
    }

    #[test]
    fn next_case_takes_the_highest_priority_then_the_oldest() {
        let waiting = vec![
            Waiting {
                case: "old-low",
                priority: 1,
                waiting_since: t(0),
            },
            Waiting {
                case: "new-high",
                priority: 5,
                waiting_since: t(30),
            },
            Waiting {
                case: "old-high",
                priority: 5,
                waiting_since: t(10),
            },
        ];
        assert_eq!(next_case(&waiting).map(|w| w.case), Some("old-high"));
        assert_eq!(next_case::<&str>(&[]), None);
    }

    #[test]
    fn priority_grows_with_each_step_climbed() {
        let ladder = vec![
            LadderStep {
                priority_boost: 0,
                ..step(StaffRole::Lawyer, ScopeLevel::Community)
            },
            LadderStep {
                priority_boost: 2,
                ..step(StaffRole::Lawyer, ScopeLevel::Street)
            },
            LadderStep {
                priority_boost: 3,
                ..step(StaffRole::Coordinator, ScopeLevel::District)
            },
        ];
        assert_eq!(priority_on(&ladder, 1, 0), 1);
        assert_eq!(priority_on(&ladder, 1, 1), 3);
        assert_eq!(priority_on(&ladder, 1, 2), 6);
    }

    #[test]
    fn handlers_are_offered_cases_and_coordinators_and_admins_are_not() {
        let offered: Vec<StaffRole> = StaffRole::ALL
            .into_iter()
            .filter(|r| is_offered_cases(*r))
            .collect();
        assert_eq!(
            offered,
            [StaffRole::Lawyer, StaffRole::Mediator, StaffRole::Officer]
        );
    }
}
