//! Routing statistics for coordinators and administrators, always within
//! one organisation subtree: what is waiting and who is free right now,
//! and what happened to the cases of a period, for every service. Counting
//! is done by the database (COUNT ... GROUP BY, by service and status);
//! what a group counts as (resolved, in hand, a tip's outcome) is decided
//! by `sansuo_domain::stats`. Only durations and ratings come back row by
//! row. No resident data is read.

use crate::entity::{
    case, case_conversion, case_event, case_intake, category, consultation, firm_signing,
    mediation, offer, org_unit, sla_breach, staff, staff_unit, tip,
};
use crate::tips::channel;
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use sansuo_domain::catalog::Service;
use sansuo_domain::dispatch::Presence;
use sansuo_domain::mediation::Outcome;
use sansuo_domain::offer::OfferStatus;
use sansuo_domain::sla::SlaKind;
use sansuo_domain::stats::{
    CaseCounts, CaseTally, DurationSummary, Satisfaction, SourceChannel, is_in_hand,
};
use sansuo_domain::tip::TipStatus;
use sansuo_domain::work_order::CaseStatus;
use sansuo_domain::{ConsultationStatus, OrgUnitId, StaffRole};
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, FromQueryResult, JoinType, PaginatorTrait, QueryFilter,
    QuerySelect, RelationDef,
};
use std::collections::{BTreeMap, HashMap, HashSet};
use uuid::Uuid;

fn offer_case() -> RelationDef {
    offer::Entity::belongs_to(case::Entity)
        .from(offer::Column::CaseId)
        .to(case::Column::Id)
        .into()
}

fn case_mediation() -> RelationDef {
    case::Entity::belongs_to(mediation::Entity)
        .from(case::Column::Id)
        .to(mediation::Column::CaseId)
        .into()
}

fn consultation_case() -> RelationDef {
    consultation::Entity::belongs_to(case::Entity)
        .from(consultation::Column::CaseId)
        .to(case::Column::Id)
        .into()
}

fn event_case() -> RelationDef {
    case_event::Entity::belongs_to(case::Entity)
        .from(case_event::Column::CaseId)
        .to(case::Column::Id)
        .into()
}

fn breach_case() -> RelationDef {
    sla_breach::Entity::belongs_to(case::Entity)
        .from(sla_breach::Column::CaseId)
        .to(case::Column::Id)
        .into()
}

/// Cases waiting in one queue at one priority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorityLevel {
    pub priority: i32,
    pub waiting: u64,
}

/// One queue: the waiting cases of one pool unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueStats {
    pub unit_id: Uuid,
    pub unit_name: String,
    /// Highest priority first.
    pub by_priority: Vec<PriorityLevel>,
    /// When the longest-waiting case joined the queue.
    pub oldest_queued_at: Option<DateTime<Utc>>,
}

impl QueueStats {
    pub fn waiting(&self) -> u64 {
        self.by_priority.iter().map(|l| l.waiting).sum()
    }
}

/// Active staff of one role and how many of them could take a case now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleStaffing {
    pub role: StaffRole,
    pub active: u64,
    /// Active and present (`available`).
    pub available: u64,
    /// Available with fewer open cases than their capacity.
    pub available_below_capacity: u64,
    /// Cases of the subtree in the hands of staff of this role
    /// (`domain::stats::is_in_hand`), whoever they are.
    pub owned_cases: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveStats {
    /// Longest wait first.
    pub queues: Vec<QueueStats>,
    pub open_offers: u64,
    pub unrouted_cases: u64,
    /// Cases of the subtree in their owner's hands, every service.
    pub owned_cases: u64,
    /// The same by service, in `Service::ALL` order.
    pub owned_by_service: Vec<(Service, u64)>,
    /// Every role, in `StaffRole::ALL` order.
    pub staff: Vec<RoleStaffing>,
}

/// Offers made in the period, by what became of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OfferCounts {
    /// Every offer made, whatever became of it (hand-backs are not offers).
    pub created: u64,
    pub pending: u64,
    pub accepted: u64,
    pub declined: u64,
    pub expired: u64,
    pub cancelled: u64,
    /// Hand-backs (退单): an owner returned the case to the queue.
    pub returned: u64,
}

/// SLA breaches recorded in the period, by clock.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlaBreachCounts {
    pub accept: u64,
    pub first_response: u64,
    pub resolution: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffCases {
    pub staff_id: Uuid,
    pub display_name: String,
    pub cases: u64,
    /// Of those, the ones that reached their service's successful outcome
    /// (`domain::stats::CaseTally::is_resolved`).
    pub resolved: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SummaryStats {
    pub offers: OfferCounts,
    pub time_to_accept: DurationSummary,
    pub time_to_first_response: DurationSummary,
    pub sla_breaches: SlaBreachCounts,
    /// Every service's cases: totals, resolved, statuses, tip outcomes.
    pub cases: CaseCounts,
    /// Most cases first, then by code.
    pub by_category: Vec<CategoryCases>,
    /// Every channel, in `SourceChannel::ALL` order, zeros included; sums
    /// to the cases' total.
    pub by_channel: Vec<(SourceChannel, u64)>,
    /// Most cases first, then by name.
    pub by_staff: Vec<StaffCases>,
    /// The ratings of the period's consultations.
    pub consultation_satisfaction: Satisfaction,
}

/// The period's cases of one category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryCases {
    pub code: String,
    /// Its Chinese name; the code again for a category no longer in the catalogue.
    pub name_zh: String,
    pub cases: u64,
}

#[derive(FromQueryResult)]
struct Tally {
    key: String,
    n: i64,
}

fn count(n: i64) -> u64 {
    n.max(0) as u64
}

/// Routing statistics for coordinators and administrators.
///
/// Reached as `store.stats()`; see [`Store`].
#[derive(Clone, Copy)]
pub struct Stats<'a>(pub(crate) &'a Store);

impl std::ops::Deref for Stats<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.0
    }
}

impl Store {
    /// Routing statistics for coordinators and administrators.
    pub fn stats(&self) -> Stats<'_> {
        Stats(self)
    }
}

impl Stats<'_> {
    /// Every unit in the subtree of `unit`: the unit itself, its
    /// descendants through `parent_id`, and the communities whose police
    /// station is one of those (with their own descendants). One query per
    /// level of the tree.
    pub async fn subtree_units(self, unit: OrgUnitId) -> Result<Vec<Uuid>, StoreError> {
        let mut seen: HashSet<Uuid> = HashSet::from([unit.as_uuid()]);
        let mut all = vec![unit.as_uuid()];
        let mut frontier = all.clone();
        while !frontier.is_empty() {
            let below: Vec<Uuid> = org_unit::Entity::find()
                .select_only()
                .column(org_unit::Column::Id)
                .filter(
                    Condition::any()
                        .add(org_unit::Column::ParentId.is_in(frontier.clone()))
                        .add(org_unit::Column::StationId.is_in(frontier.clone())),
                )
                .into_tuple()
                .all(self.db())
                .await?;
            // The seen set also ends the walk should the tree ever hold a cycle.
            frontier = below.into_iter().filter(|id| seen.insert(*id)).collect();
            all.extend(&frontier);
        }
        Ok(all)
    }

    /// The real-time picture of the subtree of `unit`.
    pub async fn live(self, unit: OrgUnitId) -> Result<LiveStats, StoreError> {
        let units = self.subtree_units(unit).await?;
        let queues = self.queues(&units).await?;

        let open_offers = offer::Entity::find()
            .join(JoinType::InnerJoin, offer_case())
            .filter(offer::Column::Status.eq(OfferStatus::Pending.as_str()))
            .filter(case::Column::CommunityId.is_in(units.clone()))
            .count(self.db())
            .await?;
        let unrouted_cases = case::Entity::find()
            .filter(case::Column::CommunityId.is_in(units.clone()))
            .filter(case::Column::Status.eq(ConsultationStatus::Pooled.as_str()))
            .filter(case::Column::UnroutedAt.is_not_null())
            .count(self.db())
            .await?;
        let in_hand = self.in_hand(&units).await?;
        let owned_cases = in_hand.iter().map(|(_, _, n)| n).sum();
        let owned_by_service = Service::ALL
            .into_iter()
            .map(|service| {
                let n = in_hand
                    .iter()
                    .filter(|(s, ..)| *s == service)
                    .map(|(.., n)| n)
                    .sum();
                (service, n)
            })
            .collect();
        let mut staff = self.staffing(&units).await?;
        let owners: Vec<Uuid> = in_hand.iter().map(|(_, owner, _)| *owner).collect();
        let roles: HashMap<Uuid, String> = staff::Entity::find()
            .select_only()
            .column(staff::Column::Id)
            .column(staff::Column::Role)
            .filter(staff::Column::Id.is_in(owners))
            .into_tuple::<(Uuid, String)>()
            .all(self.db())
            .await?
            .into_iter()
            .collect();
        for (_, owner, n) in &in_hand {
            let role = roles.get(owner).and_then(|r| r.parse::<StaffRole>().ok());
            if let Some(tally) = staff.iter_mut().find(|t| Some(t.role) == role) {
                tally.owned_cases += n;
            }
        }
        Ok(LiveStats {
            queues,
            open_offers,
            unrouted_cases,
            owned_cases,
            owned_by_service,
            staff,
        })
    }

    /// The subtree's cases in their owner's hands now, as (service, owner,
    /// count): grouped by the database, judged by the domain.
    async fn in_hand(self, units: &[Uuid]) -> Result<Vec<(Service, Uuid, u64)>, StoreError> {
        let rows: Vec<(String, String, Uuid, i64)> = case::Entity::find()
            .select_only()
            .column(case::Column::Service)
            .column(case::Column::Status)
            .column(case::Column::OwnerStaffId)
            .column_as(case::Column::Id.count(), "n")
            .filter(case::Column::CommunityId.is_in(units.to_vec()))
            .filter(case::Column::OwnerStaffId.is_not_null())
            .group_by(case::Column::Service)
            .group_by(case::Column::Status)
            .group_by(case::Column::OwnerStaffId)
            .into_tuple()
            .all(self.db())
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(service, status, owner, n)| {
                let status = case_status(&service, &status)?;
                is_in_hand(status).then_some((status.service(), owner, count(n)))
            })
            .collect())
    }

    /// Waiting cases (pooled, not with the coordinator) of every queue
    /// whose unit is in `units`.
    async fn queues(self, units: &[Uuid]) -> Result<Vec<QueueStats>, StoreError> {
        #[derive(FromQueryResult)]
        struct Level {
            pool_unit_id: Uuid,
            priority: i32,
            waiting: i64,
            oldest: Option<DateTime<Utc>>,
        }
        // Served by the `cases_waiting_by_unit` index (pool unit, status, priority, queued_at).
        let levels: Vec<Level> = case::Entity::find()
            .select_only()
            .column(case::Column::PoolUnitId)
            .column(case::Column::Priority)
            .column_as(case::Column::Id.count(), "waiting")
            .column_as(case::Column::QueuedAt.min(), "oldest")
            .filter(case::Column::PoolUnitId.is_in(units.to_vec()))
            .filter(case::Column::Status.eq(ConsultationStatus::Pooled.as_str()))
            .filter(case::Column::UnroutedAt.is_null())
            .group_by(case::Column::PoolUnitId)
            .group_by(case::Column::Priority)
            .into_model::<Level>()
            .all(self.db())
            .await?;
        let queue_units: Vec<Uuid> = levels.iter().map(|l| l.pool_unit_id).collect();
        let unit_names: HashMap<Uuid, String> = org_unit::Entity::find()
            .select_only()
            .column(org_unit::Column::Id)
            .column(org_unit::Column::Name)
            .filter(org_unit::Column::Id.is_in(queue_units))
            .into_tuple::<(Uuid, String)>()
            .all(self.db())
            .await?
            .into_iter()
            .collect();

        let mut queues: BTreeMap<Uuid, QueueStats> = BTreeMap::new();
        for level in levels {
            let queue = queues
                .entry(level.pool_unit_id)
                .or_insert_with(|| QueueStats {
                    unit_id: level.pool_unit_id,
                    unit_name: unit_names
                        .get(&level.pool_unit_id)
                        .cloned()
                        .unwrap_or_default(),
                    by_priority: Vec::new(),
                    oldest_queued_at: None,
                });
            queue.by_priority.push(PriorityLevel {
                priority: level.priority,
                waiting: count(level.waiting),
            });
            queue.oldest_queued_at = match (queue.oldest_queued_at, level.oldest) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        let mut queues: Vec<QueueStats> = queues.into_values().collect();
        for queue in &mut queues {
            queue
                .by_priority
                .sort_by_key(|l| std::cmp::Reverse(l.priority));
        }
        // Longest wait first; a queue with no queue times (should not
        // happen) last; ties by name for a stable order.
        queues.sort_by(|a, b| {
            let age = |q: &QueueStats| (q.oldest_queued_at.is_none(), q.oldest_queued_at);
            age(a)
                .cmp(&age(b))
                .then_with(|| a.unit_name.cmp(&b.unit_name))
        });
        Ok(queues)
    }

    /// Active staff of the subtree by role. A person belongs to the
    /// subtree through their home unit, a unit membership, or (lawyers) a
    /// firm signed to one of its units. Each counts once per role.
    async fn staffing(self, units: &[Uuid]) -> Result<Vec<RoleStaffing>, StoreError> {
        let members = Query::select()
            .column(staff_unit::Column::StaffId)
            .from(staff_unit::Entity)
            .and_where(staff_unit::Column::OrgUnitId.is_in(units.to_vec()))
            .to_owned();
        let firms = Query::select()
            .column(firm_signing::Column::FirmId)
            .from(firm_signing::Entity)
            .and_where(firm_signing::Column::OrgUnitId.is_in(units.to_vec()))
            .to_owned();
        // Staff of a subtree are a few hundred at most: their rows come
        // back, and the capacity comparison (per person) is made here.
        let people: Vec<(Uuid, String, String, i32)> = staff::Entity::find()
            .select_only()
            .column(staff::Column::Id)
            .column(staff::Column::Role)
            .column(staff::Column::Presence)
            .column(staff::Column::Capacity)
            .filter(staff::Column::Active.eq(true))
            .filter(
                Condition::any()
                    .add(staff::Column::OrgUnitId.is_in(units.to_vec()))
                    .add(staff::Column::Id.in_subquery(members))
                    .add(
                        Condition::all()
                            .add(staff::Column::Role.eq(StaffRole::Lawyer.as_str()))
                            .add(staff::Column::LawFirmId.in_subquery(firms)),
                    ),
            )
            .into_tuple()
            .all(self.db())
            .await?;
        let available: HashSet<Uuid> = people
            .iter()
            .filter(|(_, _, presence, _)| presence.parse::<Presence>() == Ok(Presence::Available))
            .map(|(id, ..)| *id)
            .collect();

        #[derive(FromQueryResult)]
        struct Load {
            owner_staff_id: Uuid,
            open: i64,
        }
        // Load as the router counts it: open cases owned plus pending offers.
        let mut loads: HashMap<Uuid, u64> = HashMap::new();
        let owned: Vec<Load> = case::Entity::find()
            .select_only()
            .column(case::Column::OwnerStaffId)
            .column_as(case::Column::Id.count(), "open")
            .filter(case::Column::OwnerStaffId.is_in(available.iter().copied()))
            .filter(case::Column::Status.is_not_in(sansuo_domain::work_order::FINISHED_STATUSES))
            .group_by(case::Column::OwnerStaffId)
            .into_model::<Load>()
            .all(self.db())
            .await?;
        let offered: Vec<Load> = offer::Entity::find()
            .select_only()
            .column_as(offer::Column::StaffId, "owner_staff_id")
            .column_as(offer::Column::Id.count(), "open")
            .filter(offer::Column::StaffId.is_in(available.iter().copied()))
            .filter(offer::Column::Status.eq(OfferStatus::Pending.as_str()))
            .group_by(offer::Column::StaffId)
            .into_model::<Load>()
            .all(self.db())
            .await?;
        for load in owned.into_iter().chain(offered) {
            *loads.entry(load.owner_staff_id).or_default() += count(load.open);
        }

        Ok(StaffRole::ALL
            .into_iter()
            .map(|role| {
                let of_role = people.iter().filter(|(_, r, ..)| *r == role.as_str());
                let mut tally = RoleStaffing {
                    role,
                    active: 0,
                    available: 0,
                    available_below_capacity: 0,
                    owned_cases: 0,
                };
                for (id, _, _, capacity) in of_role {
                    tally.active += 1;
                    if !available.contains(id) {
                        continue;
                    }
                    tally.available += 1;
                    let open = loads.get(id).copied().unwrap_or(0);
                    if open < u64::try_from(*capacity).unwrap_or(0) {
                        tally.available_below_capacity += 1;
                    }
                }
                tally
            })
            .collect())
    }

    /// What happened in `[from, to)` in the subtree of `unit`: offers made
    /// and SLA breaches recorded in the period (of the subtree's cases,
    /// whenever those were created), and durations and counts of the cases
    /// created in the period.
    pub async fn summary(
        self,
        unit: OrgUnitId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<SummaryStats, StoreError> {
        let units = self.subtree_units(unit).await?;
        let in_period = || {
            Condition::all()
                .add(case::Column::CommunityId.is_in(units.clone()))
                .add(case::Column::CreatedAt.gte(from))
                .add(case::Column::CreatedAt.lt(to))
        };

        let offers_by_status: Vec<Tally> = offer::Entity::find()
            .select_only()
            .column_as(offer::Column::Status, "key")
            .column_as(offer::Column::Id.count(), "n")
            .join(JoinType::InnerJoin, offer_case())
            .filter(case::Column::CommunityId.is_in(units.clone()))
            .filter(offer::Column::CreatedAt.gte(from))
            .filter(offer::Column::CreatedAt.lt(to))
            .group_by(offer::Column::Status)
            .into_model()
            .all(self.db())
            .await?;
        let mut offers = OfferCounts::default();
        for Tally { key, n } in offers_by_status {
            let n = count(n);
            let Ok(status) = key.parse::<OfferStatus>() else {
                continue;
            };
            let slot = match status {
                OfferStatus::Pending => &mut offers.pending,
                OfferStatus::Accepted => &mut offers.accepted,
                OfferStatus::Declined => &mut offers.declined,
                OfferStatus::Expired => &mut offers.expired,
                OfferStatus::Cancelled => &mut offers.cancelled,
                // Not an offer made: a hand-back, counted apart.
                OfferStatus::Returned => {
                    offers.returned += n;
                    continue;
                }
            };
            *slot += n;
            offers.created += n;
        }

        #[derive(FromQueryResult)]
        struct Times {
            created_at: DateTime<Utc>,
            accepted_at: DateTime<Utc>,
            answered_at: Option<DateTime<Utc>>,
        }
        let times: Vec<Times> = case::Entity::find()
            .select_only()
            .column(case::Column::CreatedAt)
            .column(case::Column::AcceptedAt)
            .column(case::Column::AnsweredAt)
            .filter(in_period())
            .filter(case::Column::AcceptedAt.is_not_null())
            .into_model()
            .all(self.db())
            .await?;
        let time_to_accept = DurationSummary::of(
            times
                .iter()
                .map(|t| (t.accepted_at - t.created_at).num_seconds())
                .collect(),
        );
        let time_to_first_response = DurationSummary::of(
            times
                .iter()
                .filter_map(|t| Some((t.answered_at? - t.accepted_at).num_seconds()))
                .collect(),
        );

        let breaches: Vec<Tally> = sla_breach::Entity::find()
            .select_only()
            .column_as(sla_breach::Column::Clock, "key")
            .column_as(sla_breach::Column::CaseId.count(), "n")
            .join(JoinType::InnerJoin, breach_case())
            .filter(case::Column::CommunityId.is_in(units.clone()))
            .filter(sla_breach::Column::BreachedAt.gte(from))
            .filter(sla_breach::Column::BreachedAt.lt(to))
            .group_by(sla_breach::Column::Clock)
            .into_model()
            .all(self.db())
            .await?;
        let mut sla_breaches = SlaBreachCounts::default();
        for Tally { key, n } in breaches {
            let slot = match SlaKind::parse(&key) {
                Some(SlaKind::Accept) => &mut sla_breaches.accept,
                Some(SlaKind::FirstResponse) => &mut sla_breaches.first_response,
                Some(SlaKind::Resolution) => &mut sla_breaches.resolution,
                None => continue,
            };
            *slot += count(n);
        }

        let by_category: Vec<(String, u64)> = case::Entity::find()
            .select_only()
            .column_as(case::Column::CategoryCode, "key")
            .column_as(case::Column::Id.count(), "n")
            .filter(in_period())
            .group_by(case::Column::CategoryCode)
            .into_model::<Tally>()
            .all(self.db())
            .await?
            .into_iter()
            .map(|t| (t.key, count(t.n)))
            .collect();
        let by_category = self.named_categories(by_category).await?;

        let (cases, by_owner) = self.case_counts(in_period()).await?;
        let by_channel = self.channels(in_period(), cases.total()).await?;
        let by_staff = self.named_staff(by_owner).await?;

        let stars: Vec<i16> = consultation::Entity::find()
            .select_only()
            .column(consultation::Column::RatingStars)
            .join(JoinType::InnerJoin, consultation_case())
            .filter(in_period())
            .filter(consultation::Column::RatingStars.is_not_null())
            .into_tuple()
            .all(self.db())
            .await?;
        let consultation_satisfaction = Satisfaction::of(
            stars.len() as u64,
            stars.iter().map(|s| u64::try_from(*s).unwrap_or(0)).sum(),
        );
        Ok(SummaryStats {
            offers,
            time_to_accept,
            time_to_first_response,
            sla_breaches,
            cases,
            by_category,
            by_channel,
            by_staff,
            consultation_satisfaction,
        })
    }

    /// Category counts with the categories' Chinese names, most cases
    /// first, then by code.
    async fn named_categories(
        self,
        counts: Vec<(String, u64)>,
    ) -> Result<Vec<CategoryCases>, StoreError> {
        let names: HashMap<String, String> = category::Entity::find()
            .select_only()
            .column(category::Column::Code)
            .column(category::Column::NameZh)
            .filter(category::Column::Code.is_in(counts.iter().map(|(c, _)| c.clone())))
            .into_tuple::<(String, String)>()
            .all(self.db())
            .await?
            .into_iter()
            .collect();
        let mut named: Vec<CategoryCases> = counts
            .into_iter()
            .map(|(code, cases)| CategoryCases {
                name_zh: names.get(&code).cloned().unwrap_or_else(|| code.clone()),
                code,
                cases,
            })
            .collect();
        named.sort_by(|a, b| b.cases.cmp(&a.cases).then_with(|| a.code.cmp(&b.code)));
        Ok(named)
    }

    /// The cases matching `cases` (`total` of them) by source channel
    /// (`SourceChannel::classify`): the ids carrying each recorded fact come
    /// back, the rest came through the mini-program.
    async fn channels(
        self,
        cases: Condition,
        total: u64,
    ) -> Result<Vec<(SourceChannel, u64)>, StoreError> {
        let ids = |fact: Condition| {
            case::Entity::find()
                .select_only()
                .column(case::Column::Id)
                .filter(cases.clone())
                .filter(fact)
                .into_tuple::<Uuid>()
                .all(self.db())
        };
        let conversions = Query::select()
            .column(case_conversion::Column::ToCaseId)
            .from(case_conversion::Entity)
            .and_where(case_conversion::Column::ToCaseId.is_not_null())
            .to_owned();
        let from_tips = Query::select()
            .column(tip::Column::ConvertedTo)
            .from(tip::Entity)
            .and_where(tip::Column::ConvertedTo.is_not_null())
            .to_owned();
        let tips_from_cases = Query::select()
            .column(tip::Column::CaseId)
            .from(tip::Entity)
            .and_where(tip::Column::Channel.is_in([channel::MEDIATION, channel::CONSULTATION]))
            .to_owned();
        let converted: HashSet<Uuid> = ids(Condition::any()
            .add(case::Column::Id.in_subquery(conversions))
            .add(case::Column::Id.in_subquery(from_tips))
            .add(case::Column::Id.in_subquery(tips_from_cases)))
        .await?
        .into_iter()
        .collect();
        let intakes = Query::select()
            .column(case_intake::Column::CaseId)
            .from(case_intake::Entity)
            .to_owned();
        let in_person: HashSet<Uuid> =
            ids(Condition::all().add(case::Column::Id.in_subquery(intakes)))
                .await?
                .into_iter()
                .collect();
        let open311_tips = Query::select()
            .column(tip::Column::CaseId)
            .from(tip::Entity)
            .and_where(tip::Column::Channel.eq(channel::OPEN311))
            .to_owned();
        let open311: HashSet<Uuid> =
            ids(Condition::all().add(case::Column::Id.in_subquery(open311_tips)))
                .await?
                .into_iter()
                .collect();

        let mut counts: HashMap<SourceChannel, u64> = HashMap::new();
        // An id with several facts comes once per fact: count it once.
        let mut seen = HashSet::new();
        for id in converted.iter().chain(&in_person).chain(&open311) {
            if !seen.insert(*id) {
                continue;
            }
            let channel = SourceChannel::classify(
                converted.contains(id),
                in_person.contains(id),
                open311.contains(id),
            );
            *counts.entry(channel).or_default() += 1;
        }
        let recorded: u64 = counts.values().sum();
        *counts.entry(SourceChannel::App).or_default() += total.saturating_sub(recorded);
        Ok(SourceChannel::ALL
            .into_iter()
            .map(|c| (c, counts.get(&c).copied().unwrap_or(0)))
            .collect())
    }

    /// The cases matching `cases`, counted by service and status (with the
    /// facts that decide a mediation's and a tip's success), in total and
    /// per current owner (cases, resolved).
    async fn case_counts(
        self,
        cases: Condition,
    ) -> Result<(CaseCounts, HashMap<Uuid, (u64, u64)>), StoreError> {
        #[derive(FromQueryResult)]
        struct Group {
            service: String,
            status: String,
            owner_staff_id: Option<Uuid>,
            outcome: Option<String>,
            n: i64,
        }
        let groups: Vec<Group> = case::Entity::find()
            .select_only()
            .column(case::Column::Service)
            .column(case::Column::Status)
            .column(case::Column::OwnerStaffId)
            .column(mediation::Column::Outcome)
            .column_as(case::Column::Id.count(), "n")
            .join(JoinType::LeftJoin, case_mediation())
            .filter(cases.clone())
            .group_by(case::Column::Service)
            .group_by(case::Column::Status)
            .group_by(case::Column::OwnerStaffId)
            .group_by(mediation::Column::Outcome)
            .into_model()
            .all(self.db())
            .await?;
        // Closed tips on which action was taken (an `action` event), per
        // owner: a closed tip's status does not say whether it was actioned.
        let actioned: Vec<(Uuid, Option<Uuid>)> = case::Entity::find()
            .select_only()
            .column(case::Column::Id)
            .column(case::Column::OwnerStaffId)
            .distinct()
            .join(JoinType::InnerJoin, event_case().rev())
            .filter(cases)
            .filter(case::Column::Service.eq(Service::Tip.as_str()))
            .filter(case::Column::Status.eq(TipStatus::Closed.as_str()))
            .filter(case_event::Column::Action.eq(sansuo_domain::tip::TipAction::Action.as_str()))
            .into_tuple()
            .all(self.db())
            .await?;
        let mut actioned_by_owner: HashMap<Option<Uuid>, u64> = HashMap::new();
        let mut seen = HashSet::new();
        for (id, owner) in actioned {
            if seen.insert(id) {
                *actioned_by_owner.entry(owner).or_default() += 1;
            }
        }

        let mut counts = CaseCounts::default();
        let mut by_owner: HashMap<Uuid, (u64, u64)> = HashMap::new();
        let mut add = |tally: CaseTally, owner: Option<Uuid>, n: u64| {
            if n == 0 {
                return;
            }
            counts.add(tally, n);
            if let Some(owner) = owner {
                let entry = by_owner.entry(owner).or_default();
                entry.0 += n;
                if tally.is_resolved() {
                    entry.1 += n;
                }
            }
        };
        for group in groups {
            let Some(status) = case_status(&group.service, &group.status) else {
                continue;
            };
            let agreement = group
                .outcome
                .and_then(|o| o.parse::<Outcome>().ok())
                .is_some_and(|o| matches!(o, Outcome::AgreementWritten | Outcome::AgreementOral));
            let n = count(group.n);
            if status == CaseStatus::Tip(TipStatus::Closed) {
                let with_action = actioned_by_owner
                    .get(&group.owner_staff_id)
                    .copied()
                    .unwrap_or(0)
                    .min(n);
                let actioned = CaseTally {
                    actioned: true,
                    ..CaseTally::of(status)
                };
                add(actioned, group.owner_staff_id, with_action);
                add(CaseTally::of(status), group.owner_staff_id, n - with_action);
            } else {
                let tally = CaseTally {
                    agreement,
                    ..CaseTally::of(status)
                };
                add(tally, group.owner_staff_id, n);
            }
        }
        Ok((counts, by_owner))
    }

    /// Per-owner counts with the owners' names, most cases first.
    async fn named_staff(
        self,
        per_owner: HashMap<Uuid, (u64, u64)>,
    ) -> Result<Vec<StaffCases>, StoreError> {
        let display_names: HashMap<Uuid, String> = staff::Entity::find()
            .select_only()
            .column(staff::Column::Id)
            .column(staff::Column::DisplayName)
            .filter(staff::Column::Id.is_in(per_owner.keys().copied().collect::<Vec<_>>()))
            .into_tuple::<(Uuid, String)>()
            .all(self.db())
            .await?
            .into_iter()
            .collect();
        let mut by_staff: Vec<StaffCases> = per_owner
            .into_iter()
            .map(|(id, (cases, resolved))| StaffCases {
                staff_id: id,
                display_name: display_names.get(&id).cloned().unwrap_or_default(),
                cases,
                resolved,
            })
            .collect();
        by_staff.sort_by(|a, b| {
            b.cases
                .cmp(&a.cases)
                .then_with(|| a.display_name.cmp(&b.display_name))
                .then_with(|| a.staff_id.cmp(&b.staff_id))
        });
        Ok(by_staff)
    }
}

/// A `cases` row's service and status, or `None` for a row no machine knows.
fn case_status(service: &str, status: &str) -> Option<CaseStatus> {
    let service = service.parse::<Service>().ok()?;
    CaseStatus::parse(service, status).ok()
}
