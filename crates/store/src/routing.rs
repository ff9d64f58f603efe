//! What the routing engine reads and writes (it builds on `cases` and
//! `offers`, and knows no service module). The decisions themselves are
//! pure (`sansuo_domain::dispatch`); this module loads the snapshot a
//! decision needs and applies it with guarded updates (`move_routed`), so two
//! routers deciding about one case at once cannot both win. A partial
//! unique index allows one pending offer per case; one owner column allows
//! one owner.

use crate::cases::{Context, move_routed, route_again, service_of, status_of};
use crate::entity::{case, case_event, category, offer, org_unit, sla_breach, staff, workflow};
use crate::offers::{insert_offer, lock_staff};
use crate::records::{CaseRecord, SlaBreachRecord};
use crate::rows::{kind, split_list};
use crate::staff_events::{coordinators_over, stream_seen_at, tell, tell_each};
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use sansuo_domain::catalog::{Service, SlaTargets};
use sansuo_domain::dispatch::Presence;
use sansuo_domain::dispatch::{
    CasePlace, CaseRouting, Dispatch, EscalationReason, LadderPosition, LadderStep, StaffSnapshot,
    dispatch, eligibility, priority_on,
};
use sansuo_domain::offer::OfferStatus;
use sansuo_domain::sla::{CaseTimes, Pause, SlaMinutes};
use sansuo_domain::staff_event::{StaffEvent, away_after_lapse};
use sansuo_domain::work_order::{CaseStatus, RoutingMove};
use sansuo_domain::{
    Actor, CaseId, ConsultationAction, ConsultationStatus, OfferId, OrgUnitId, StaffId,
};
use sansuo_metrics::OfferOutcome;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, EntityTrait, JoinType, QueryFilter, QueryOrder,
    QuerySelect, UpdateMany,
};
use std::collections::HashMap;
use uuid::Uuid;

/// Re-exported: the type lives in `ladder` (the cache holds it too).
pub use crate::ladder::WorkflowRules;
/// Re-exported: the services place a new case too (`placement`).
pub use crate::placement::{FirstOffer, LadderPlacement};
use crate::placement::{Placed, place_on_ladder};

/// A case as the engine moves it. The row stays inside the store: each
/// guarded move checks the version it was read at, so a caller hands the
/// case back rather than its id; callers read it through typed accessors.
#[derive(Debug, Clone)]
pub struct EngineCase(case::Model);

impl EngineCase {
    pub fn id(&self) -> CaseId {
        self.0.id.into()
    }

    /// Whom the case is offered to first (a reopened case's previous
    /// owner, the mediator a party asked for), once.
    pub fn preferred_staff(&self) -> Option<StaffId> {
        self.0.preferred_staff_id.map(Into::into)
    }

    /// The workflow whose ladder the case climbs, if it was placed on one.
    pub fn workflow(&self) -> Option<&str> {
        self.0.workflow.as_deref()
    }

    pub fn ladder_step(&self) -> usize {
        self.0.ladder_step.max(0) as usize
    }

    pub fn priority(&self) -> i32 {
        self.0.priority
    }

    /// The unit whose queue the case waits in.
    pub fn pool_unit(&self) -> Option<OrgUnitId> {
        self.0.pool_unit_id.map(Into::into)
    }
}

/// Everything one routing decision needs about a case.
#[derive(Debug, Clone)]
pub struct RouteContext {
    pub case: EngineCase,
    /// The case's status, typed by its service.
    pub status: CaseStatus,
    /// `None` when the category has no workflow for the case's service: the
    /// case goes straight to the coordinator rather than nowhere.
    pub workflow: Option<WorkflowRules>,
    pub routing: CaseRouting,
    pub base_priority: i32,
    pub position: LadderPosition,
    /// Who already had the case on this step (declined, let it lapse,
    /// handed it back); empty unless the case is routable.
    pub excluded: Vec<StaffId>,
    /// Staff of the current step's role and unit; empty unless the case is
    /// routable.
    pub staff: Vec<StaffSnapshot>,
}

impl RouteContext {
    pub fn step(&self) -> Option<&LadderStep> {
        self.workflow.as_ref()?.ladder.get(self.position.step)
    }

    /// Whether the router has anything to do: waiting for an owner, content
    /// passed, not yet in the coordinator's hands.
    pub fn is_routable(&self) -> bool {
        is_routable(&self.case.0, self.status)
    }
}

/// A new case the router has not placed yet (a reopened tip is `submitted`
/// again, but was placed before): it has no offers and no replies. Every
/// placement sets `step_entered_at` (`place_on_ladder`); nothing clears it.
fn never_routed(case: &case::Model, status: CaseStatus) -> bool {
    status.is_submitted() && case.step_entered_at.is_none()
}

fn times_without_pauses(case: &case::Model) -> CaseTimes {
    CaseTimes {
        created_at: case.created_at,
        accepted_at: case.accepted_at,
        first_response_at: case.answered_at,
        resolved_at: case.resolved_at,
        waiting_on_resident: Vec::new(),
        resolution_extension_minutes: i64::from(case.sla_extension_minutes),
    }
}

fn is_routable(case: &case::Model, status: CaseStatus) -> bool {
    status.is_waiting()
        && case.unrouted_at.is_none()
        && case.moderation == sansuo_domain::moderation::Moderation::Passed.as_str()
}

fn system(request_id: Option<&str>, now: DateTime<Utc>) -> Context<'_> {
    Context {
        actor: Actor::System,
        request_id,
        now,
    }
}

/// Routing: route contexts, offers, queues, escalation, SLA clocks, workflows.
///
/// Reached as `store.routing()`; see [`Store`].
#[derive(Clone, Copy)]
pub struct Routing<'a>(pub(crate) &'a Store);

impl std::ops::Deref for Routing<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.0
    }
}

impl Store {
    /// Routing: route contexts, offers, queues, escalation, SLA clocks, workflows.
    pub fn routing(&self) -> Routing<'_> {
        Routing(self)
    }
}

impl Routing<'_> {
    pub async fn workflow_rules(self, name: &str) -> Result<Option<WorkflowRules>, StoreError> {
        if let Some(cached) = self.reference().workflow(name) {
            return Ok(cached);
        }
        let rules = workflow::Entity::find_by_id(name.to_owned())
            .one(self.db())
            .await?
            .map(WorkflowRules::from_row)
            .transpose()?;
        self.reference().put_workflow(name, rules.clone());
        Ok(rules)
    }

    /// The workflow a category uses for a service (its own list, else its parent's).
    async fn workflow_for(
        self,
        category: &category::Model,
        service: &str,
    ) -> Result<Option<WorkflowRules>, StoreError> {
        self.workflow_named_in(split_list(&category.workflows), service)
            .await
    }

    /// The workflow of `service` among a category's list of names.
    async fn workflow_named_in(
        self,
        names: Vec<String>,
        service: &str,
    ) -> Result<Option<WorkflowRules>, StoreError> {
        // Cached under the category's list and the service: a category
        // whose list is edited asks under a new key.
        let key = format!("{}\u{0}{service}", names.join(","));
        if let Some(cached) = self.reference().workflow_for(&key) {
            return Ok(cached);
        }
        let found = workflow::Entity::find()
            .filter(workflow::Column::Name.is_in(names))
            .filter(workflow::Column::Service.eq(service))
            .one(self.db())
            .await?;
        let rules = found.map(WorkflowRules::from_row).transpose()?;
        self.reference().put_workflow_for(&key, rules.clone());
        Ok(rules)
    }

    /// The community, its station, street and district.
    pub async fn case_place(self, community: OrgUnitId) -> Result<CasePlace, StoreError> {
        if let Some(place) = self.reference().place(community.as_uuid()) {
            return Ok(place);
        }
        let place = self.walk_place(community).await?;
        self.reference().put_place(community.as_uuid(), place);
        Ok(place)
    }

    async fn walk_place(self, community: OrgUnitId) -> Result<CasePlace, StoreError> {
        let mut place = CasePlace {
            community,
            station: None,
            street: None,
            district: None,
        };
        let mut next = Some(community.as_uuid());
        while let Some(id) = next {
            let Some(unit) = org_unit::Entity::find_by_id(id).one(self.db()).await? else {
                break;
            };
            place.station = place.station.or(unit.station_id.map(Into::into));
            match unit.kind.as_str() {
                kind::STREET => place.street = Some(unit.id.into()),
                kind::DISTRICT => place.district = Some(unit.id.into()),
                _ => {}
            }
            next = unit.parent_id;
        }
        Ok(place)
    }

    /// The first offer of a case about to be submitted: the engine's
    /// choice now, made in the submission's transaction
    /// (`placement::route_new`), climbing the steps where nobody is
    /// eligible as the router would. `None` when offering at submission is
    /// off (`Store::offer_at_submission`), when every slot for it is taken,
    /// or when the decision is to wait, to hand the case to the
    /// coordinators or to give up: those stay the router's, with their
    /// timers and alarms. Costs one staff snapshot (one statement) per step
    /// decided; the rest is the instance's reference data. The offer holds
    /// its slot until it is dropped, with the submission that carries it.
    pub async fn first_offer(
        self,
        community: OrgUnitId,
        category: &str,
        service: Service,
        now: DateTime<Utc>,
    ) -> Result<Option<FirstOffer>, StoreError> {
        let Some((offer_timeout, slot)) = self.reference().first_offer_slot() else {
            return Ok(None);
        };
        let Some(category) = self.org().category(category).await? else {
            return Ok(None);
        };
        let Some(workflow) = self
            .workflow_named_in(category.workflows.clone(), service.as_str())
            .await?
        else {
            return Ok(None);
        };
        let place = self.case_place(community).await?;
        let calendar = self.catalog().business_calendar().await?;
        let routing = CaseRouting {
            place,
            category: category.code.clone(),
            parent_category: category.parent_code.clone(),
        };
        let placed = |step: usize| Placed {
            step,
            priority: priority_on(&workflow.ladder, category.priority, step),
            unit: workflow
                .ladder
                .get(step)
                .and_then(|s| place.unit_at(s.level)),
        };
        let mut climbed = Vec::new();
        let mut step = 0;
        // Each pass decides one step, as the router's passes do; a ladder is short.
        while let Some(rung) = workflow.ladder.get(step) {
            let staff = match place.unit_at(rung.level) {
                Some(unit) => {
                    self.staffing()
                        .dispatch_snapshots(rung.role, unit, now)
                        .await?
                }
                None => Vec::new(),
            };
            let position = LadderPosition {
                step,
                entered_at: now,
            };
            let decision = dispatch(
                &workflow.ladder,
                position,
                &routing,
                &staff,
                &[],
                offer_timeout,
                &calendar,
                now,
            );
            match decision {
                Dispatch::Offer { to, expires_at } => {
                    return Ok(Some(FirstOffer {
                        to,
                        expires_at,
                        climbed,
                        offered_on: placed(step),
                        workflow: workflow.name.clone(),
                        sla: SlaMinutes::from(&workflow.sla),
                        calendar,
                        _slot: slot,
                    }));
                }
                Dispatch::Escalate {
                    to_step,
                    reason: reason @ EscalationReason::NobodyEligible,
                } if to_step > step => {
                    climbed.push((placed(to_step), reason.text()));
                    step = to_step;
                }
                // Waiting, the coordinators' joint handling, past the
                // last step: the router's, with its timers and alarms.
                _ => return Ok(None),
            }
        }
        Ok(None)
    }

    /// The case and everything the engine needs to decide about it now.
    pub async fn context(
        self,
        id: CaseId,
        now: DateTime<Utc>,
    ) -> Result<Option<RouteContext>, StoreError> {
        // The case and its category in one statement.
        let Some((case, category)) = case::Entity::find_by_id(id.as_uuid())
            .join(
                JoinType::LeftJoin,
                case::Entity::belongs_to(category::Entity)
                    .from(case::Column::CategoryCode)
                    .to(category::Column::Code)
                    .into(),
            )
            .select_also(category::Entity)
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        let workflow = match (&case.workflow, &category) {
            (Some(name), _) => self.workflow_rules(name).await?,
            (None, Some(category)) => self.workflow_for(category, &case.service).await?,
            (None, None) => None,
        };
        let routing = CaseRouting {
            place: self.case_place(case.community_id.into()).await?,
            category: case.category_code.clone(),
            parent_category: category.as_ref().and_then(|c| c.parent_code.clone()),
        };
        let position = LadderPosition {
            step: case.ladder_step.max(0) as usize,
            entered_at: case.step_entered_at.unwrap_or(now),
        };
        let status = status_of(&case)?;
        // Who could take it matters only while it waits for someone: a
        // case routed meanwhile (in the request that stored it, say) costs
        // the router this one read.
        let routable = is_routable(&case, status);
        let step = workflow
            .as_ref()
            .and_then(|w| w.ladder.get(position.step).cloned())
            .filter(|_| routable);
        let (excluded, staff) = match &step {
            Some(step) => (
                match never_routed(&case, status) {
                    // Nobody had it yet: no offer to read.
                    true => Vec::new(),
                    false => self.excluded_on_step(id, position.step).await?,
                }
                .into_iter()
                .chain(self.refused_by_parties(&case).await?)
                .collect(),
                match routing.place.unit_at(step.level) {
                    Some(unit) => {
                        self.staffing()
                            .dispatch_snapshots(step.role, unit, now)
                            .await?
                    }
                    None => Vec::new(),
                },
            ),
            None => (Vec::new(), Vec::new()),
        };
        Ok(Some(RouteContext {
            status,
            base_priority: category.as_ref().map_or(0, |c| c.priority),
            case: EngineCase(case),
            workflow,
            routing,
            position,
            excluded,
            staff,
        }))
    }

    /// Mediators a party refused (回避): never offered the case.
    async fn refused_by_parties(self, case: &case::Model) -> Result<Vec<StaffId>, StoreError> {
        if case.service != Service::Mediation.as_str() {
            return Ok(Vec::new());
        }
        Ok(crate::entity::mediation::Entity::find_by_id(case.id)
            .one(self.db())
            .await?
            .map(|m| {
                split_list(&m.refused_mediator_ids)
                    .iter()
                    .filter_map(|id| id.parse::<Uuid>().ok())
                    .map(StaffId::from)
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Staff not to ask again: whoever had the case on this step, whoever
    /// said "not me" (declined, handed back) on any step, and whoever let
    /// an offer of it lapse on any step. A lapse no longer sets someone
    /// away unless their stream was connected (`expire_offer`), so without
    /// the last rule a case would come back round to someone who is not
    /// there on every step of its ladder.
    async fn excluded_on_step(self, id: CaseId, step: usize) -> Result<Vec<StaffId>, StoreError> {
        Ok(offer::Entity::find()
            .filter(offer::Column::CaseId.eq(id.as_uuid()))
            .filter(
                Condition::any()
                    .add(offer::Column::LadderStep.eq(step as i32))
                    .add(
                        offer::Column::Status.is_in(
                            [
                                OfferStatus::Declined,
                                OfferStatus::Returned,
                                OfferStatus::Expired,
                            ]
                            .map(|s| s.as_str()),
                        ),
                    ),
            )
            .all(self.db())
            .await?
            .into_iter()
            .map(|o| StaffId::from(o.staff_id))
            .collect())
    }

    /// Offer the case to one person until `expires_at`. The partial unique
    /// index on pending offers makes a second live offer impossible even if
    /// two routers got past the status guard.
    pub async fn offer_case(
        self,
        case: &EngineCase,
        at: LadderPlacement<'_>,
        to: StaffId,
        expires_at: DateTime<Utc>,
        request_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<OfferId, StoreError> {
        let case = &case.0;
        let offer_id = OfferId::new();
        let txn = self.begin_write().await?;
        // The person's place first, in one statement that also restarts
        // their fairness clock and locks their row (PostgreSQL): concurrent
        // offers to one person queue up here, and each checks the counter
        // as the one before it committed it, so capacity holds across
        // routers (`staff_load`).
        if !crate::staff_load::take_place(&txn, to.as_uuid(), now).await? {
            return Err(StoreError::AtCapacity);
        }
        let ctx = system(request_id, now);
        move_routed(&txn, case, RoutingMove::Offer, None, ctx, |u| {
            place_on_ladder(u, case, at, now)
        })
        .await?;
        insert_offer(
            &txn,
            offer_id,
            case.id,
            to,
            at.step,
            OfferStatus::Pending,
            now,
            expires_at,
        )
        .await?;
        // Told in the same transaction: an offer nobody heard of cannot exist.
        let told = StaffEvent::Offer {
            case_id: case.id.into(),
            service: service_of(case)?,
            offer_id,
            expires_at,
        };
        tell(&txn, to, &told, now).await?;
        self.commit_work(txn).await?;
        sansuo_metrics::offer(OfferOutcome::offered);
        Ok(offer_id)
    }

    /// Nobody to offer it to now: keep it waiting in its step's queue. A
    /// case already waiting there is left as it is (no write).
    pub async fn queue_case(
        self,
        case: &EngineCase,
        at: LadderPlacement<'_>,
        reason: &str,
        request_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let case = &case.0;
        let pooled = status_of(case)?.is_pooled();
        if pooled
            && case.ladder_step == at.step as i32
            && case.step_entered_at.is_some()
            && case.workflow.as_deref() == at.workflow
        {
            return Ok(false);
        }
        if pooled {
            // Back on the queue after a decline or lapse: only the placement
            // changes (one statement, no move, so no event).
            let updated = place_on_ladder(case::Entity::update_many(), case, at, now)
                .col_expr(case::Column::Version, Expr::value(case.version + 1))
                .filter(case::Column::Id.eq(case.id))
                .filter(case::Column::Version.eq(case.version))
                .exec(self.db())
                .await?;
            if updated.rows_affected != 1 {
                return Err(StoreError::conflict("the case changed meanwhile"));
            }
            return Ok(true);
        }
        self.routing_move(case, RoutingMove::Pool, reason, request_id, now, |u| {
            place_on_ladder(u, case, at, now)
        })
        .await?;
        Ok(true)
    }

    /// A move the router decides on its own (pool, escalate, unroute): the
    /// case change and its event in one transaction, so a fault between
    /// them (a lost connection, a restarted database) leaves neither.
    async fn routing_move(
        &self,
        case: &case::Model,
        mv: RoutingMove,
        reason: &str,
        request_id: Option<&str>,
        now: DateTime<Utc>,
        set: impl FnOnce(UpdateMany<case::Entity>) -> UpdateMany<case::Entity>,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        move_routed(&txn, case, mv, Some(reason), system(request_id, now), set).await?;
        self.commit_work(txn).await
    }

    /// Climb to the next step (its timeout passed, or nobody there now).
    pub async fn escalate_case(
        self,
        case: &EngineCase,
        at: LadderPlacement<'_>,
        reason: &str,
        request_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let case = &case.0;
        self.routing_move(case, RoutingMove::Escalate, reason, request_id, now, |u| {
            place_on_ladder(u, case, at, now)
        })
        .await
    }

    /// Past the last step: into the coordinator's unrouted queue. The event
    /// is the alarm; coordinators list these cases and assign them by hand.
    pub async fn unroute_case(
        self,
        case: &EngineCase,
        at: LadderPlacement<'_>,
        reason: &str,
        request_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let case = &case.0;
        self.routing_move(case, RoutingMove::Unroute, reason, request_id, now, |u| {
            place_on_ladder(u, case, at, now).col_expr(case::Column::UnroutedAt, Expr::value(now))
        })
        .await?;
        sansuo_metrics::case_unrouted();
        Ok(())
    }

    /// Expire an offer whose deadline has passed; the case waits on its step
    /// and is routed again (next candidate). Returns false when there is
    /// nothing to do (answered meanwhile, not yet due, or already expired by
    /// another instance): timers are at-least-once.
    pub async fn expire_offer(
        self,
        id: OfferId,
        request_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let Some(found) = offer::Entity::find_by_id(id.as_uuid())
            .one(self.db())
            .await?
        else {
            return Ok(false);
        };
        let txn = self.begin_write().await?;
        // The person's row first, then the offer and the case (see `offers::lock_staff`).
        lock_staff(&txn, found.staff_id.into()).await?;
        let updated = offer::Entity::update_many()
            .col_expr(
                offer::Column::Status,
                Expr::value(OfferStatus::Expired.as_str()),
            )
            .col_expr(offer::Column::RespondedAt, Expr::value(now))
            .filter(offer::Column::Id.eq(id.as_uuid()))
            .filter(offer::Column::Status.eq(OfferStatus::Pending.as_str()))
            .filter(offer::Column::ExpiresAt.lte(now))
            .exec(&txn)
            .await?;
        if updated.rows_affected != 1 {
            return Ok(false);
        }
        crate::staff_load::add(&txn, found.staff_id, -1).await?;
        let offer = offer::Entity::find_by_id(id.as_uuid())
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound)?;
        let case = case::Entity::find_by_id(offer.case_id)
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound)?;
        // Someone who lets an offer lapse while their stream was connected
        // is probably not at their desk: they are set away (as contact
        // centres do) so offers stop piling up on them; saying "available"
        // again brings their queues to them. Someone who had no stream open
        // was never told of the offer, so nothing says they are away: they
        // stay available and the case moves on (`away_after_lapse`).
        let seen = stream_seen_at(&txn, offer.staff_id).await?;
        if away_after_lapse(offer.created_at, seen) {
            staff::Entity::update_many()
                .col_expr(
                    staff::Column::Presence,
                    Expr::value(Presence::Away.as_str()),
                )
                .col_expr(staff::Column::PresenceChangedAt, Expr::value(now))
                .filter(staff::Column::Id.eq(offer.staff_id))
                .filter(staff::Column::Presence.eq(Presence::Available.as_str()))
                .exec(&txn)
                .await?;
        }
        move_routed(
            &txn,
            &case,
            RoutingMove::ExpireOffer,
            Some("no answer before the offer deadline"),
            system(request_id, now),
            |u| u,
        )
        .await?;
        route_again(&txn, case.id, request_id, now).await?;
        // Last, as in every transaction that tells someone: the person's
        // `staff_streams` row is the last lock taken.
        let told = StaffEvent::OfferExpired {
            case_id: case.id.into(),
            service: service_of(&case)?,
            offer_id: id,
        };
        tell(&txn, offer.staff_id.into(), &told, now).await?;
        self.commit_work(txn).await?;
        sansuo_metrics::offer(OfferOutcome::expired);
        Ok(true)
    }

    /// The case as the engine moves it (with its version), reloaded between
    /// two guarded moves.
    pub async fn case(self, id: CaseId) -> Result<Option<EngineCase>, StoreError> {
        Ok(case::Entity::find_by_id(id.as_uuid())
            .one(self.db())
            .await?
            .map(EngineCase))
    }

    /// Record that a response-time clock ran out. Returns false when it was
    /// already recorded (timers are at-least-once; the key makes it once).
    pub async fn record_sla_breach(
        self,
        case: &EngineCase,
        clock: &str,
        due_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let case = &case.0;
        let txn = self.begin_write().await?;
        let inserted = sla_breach::Entity::insert(sla_breach::ActiveModel {
            case_id: Set(case.id),
            clock: Set(clock.to_owned()),
            ladder_step: Set(case.ladder_step),
            due_at: Set(due_at),
            breached_at: Set(now),
        })
        .exec_without_returning(&txn)
        .await;
        match inserted {
            Ok(_) => {}
            Err(err) if crate::error::is_unique_violation(&err) => return Ok(false),
            Err(err) => return Err(err.into()),
        }
        let reason = format!("the {clock} target ({}) passed", due_at.to_rfc3339());
        move_routed(
            &txn,
            case,
            RoutingMove::SlaBreach,
            Some(&reason),
            system(None, now),
            |u| u,
        )
        .await?;
        // A breach on an owned case alerts every coordinator over it (a
        // waiting case escalates instead).
        if case.owner_staff_id.is_some()
            && let (Ok(service), Some(kind)) = (
                case.service.parse::<Service>(),
                sansuo_domain::sla::SlaKind::parse(clock),
            )
        {
            let told = coordinators_over(&txn, case.community_id.into()).await?;
            let events = told
                .into_iter()
                .map(|staff| {
                    let event = StaffEvent::Overdue {
                        case_id: case.id.into(),
                        service,
                        clock: kind,
                    };
                    (staff, event)
                })
                .collect();
            tell_each(&txn, events, now).await?;
        }
        self.commit_work(txn).await?;
        sansuo_metrics::sla_breach(clock);
        Ok(true)
    }

    /// The moments that start, stop and pause the case's SLA clocks. The
    /// case waits on the resident from a public reply until their next
    /// follow-up.
    pub async fn case_times(self, case: &EngineCase) -> Result<CaseTimes, StoreError> {
        if never_routed(&case.0, status_of(&case.0)?) {
            // Never owned, so never replied to: no pause to read.
            return Ok(times_without_pauses(&case.0));
        }
        let case = &case.0;
        let events = case_event::Entity::find()
            .filter(case_event::Column::CaseId.eq(case.id))
            .filter(case_event::Column::Action.is_in([
                ConsultationAction::Reply.as_str(),
                ConsultationAction::FollowUp.as_str(),
            ]))
            .order_by_asc(case_event::Column::Id)
            .all(self.db())
            .await?;
        let mut pauses: Vec<Pause> = Vec::new();
        for event in events {
            let waiting = pauses.last().is_some_and(|p| p.until.is_none());
            match (event.action.as_str(), waiting) {
                ("reply", false) => pauses.push(Pause {
                    from: event.created_at,
                    until: None,
                }),
                ("follow_up", true) => {
                    if let Some(last) = pauses.last_mut() {
                        last.until = Some(event.created_at);
                    }
                }
                _ => {}
            }
        }
        Ok(CaseTimes {
            waiting_on_resident: pauses,
            ..times_without_pauses(case)
        })
    }

    pub async fn sla_breaches_of(self, id: CaseId) -> Result<Vec<SlaBreachRecord>, StoreError> {
        sla_breach::Entity::find()
            .filter(sla_breach::Column::CaseId.eq(id.as_uuid()))
            .order_by_asc(sla_breach::Column::BreachedAt)
            .all(self.db())
            .await?
            .into_iter()
            .map(|b| Ok(SlaBreachRecord::try_from(b)?))
            .collect()
    }

    /// Cases still waiting for their first routing decision since before
    /// `submitted_before`: their route job may have been lost.
    pub async fn cases_awaiting_first_route(
        self,
        submitted_before: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<CaseId>, StoreError> {
        Ok(case::Entity::find()
            .filter(case::Column::Status.eq(ConsultationStatus::Submitted.as_str()))
            .filter(
                case::Column::Moderation.eq(sansuo_domain::moderation::Moderation::Passed.as_str()),
            )
            .filter(case::Column::UpdatedAt.lt(submitted_before))
            .order_by_asc(case::Column::Id)
            .limit(limit)
            .all(self.db())
            .await?
            .into_iter()
            .map(|c| c.id.into())
            .collect())
    }

    /// Every case the engine is responsible for (waiting for an owner or
    /// owned and not yet finished), in id order from `after`: after Redis
    /// lost its data, each gets its route job and SLA timer back.
    pub async fn open_cases(
        self,
        after: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<CaseId>, StoreError> {
        let open = [
            ConsultationStatus::Submitted,
            ConsultationStatus::Offered,
            ConsultationStatus::Pooled,
            ConsultationStatus::Assigned,
            ConsultationStatus::Answered,
        ]
        .map(|s| s.as_str());
        let mut query = case::Entity::find()
            .filter(case::Column::Status.is_in(open))
            .filter(
                case::Column::Moderation.eq(sansuo_domain::moderation::Moderation::Passed.as_str()),
            );
        if let Some(after) = after {
            query = query.filter(case::Column::Id.gt(after));
        }
        Ok(query
            .order_by_asc(case::Column::Id)
            .limit(limit)
            .all(self.db())
            .await?
            .into_iter()
            .map(|c| c.id.into())
            .collect())
    }

    /// Cases waiting in the queues of these units (not offered, not with
    /// the coordinator), highest priority then oldest first: who to route
    /// when someone there becomes available.
    pub async fn waiting_in_units(
        self,
        units: &[OrgUnitId],
        limit: u64,
    ) -> Result<Vec<CaseRecord>, StoreError> {
        let mut waiting = Vec::new();
        // One indexed range per unit rather than an IN list (see `pooled_consultations`).
        for unit in units {
            waiting.extend(
                case::Entity::find()
                    .filter(case::Column::PoolUnitId.eq(unit.as_uuid()))
                    .filter(case::Column::Status.eq(ConsultationStatus::Pooled.as_str()))
                    .filter(case::Column::UnroutedAt.is_null())
                    .order_by_desc(case::Column::Priority)
                    .order_by_asc(case::Column::QueuedAt)
                    .limit(limit)
                    .all(self.db())
                    .await?,
            );
        }
        waiting.sort_by_key(|c| (std::cmp::Reverse(c.priority), c.queued_at, c.id));
        waiting.dedup_by_key(|c| c.id);
        waiting.truncate(limit as usize);
        waiting
            .into_iter()
            .map(|c| Ok(CaseRecord::try_from(c)?))
            .collect()
    }
}

impl Routing<'_> {
    /// The coordinators' unrouted queue (every service), newest first, one
    /// page from `before`.
    pub async fn unrouted_page(
        self,
        before: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<CaseRecord>, StoreError> {
        let mut query = case::Entity::find()
            .filter(case::Column::Status.eq(ConsultationStatus::Pooled.as_str()))
            .filter(case::Column::UnroutedAt.is_not_null());
        if let Some(before) = before {
            query = query.filter(case::Column::Id.lt(before));
        }
        query
            .order_by_desc(case::Column::Id)
            .limit(limit)
            .all(self.db())
            .await?
            .into_iter()
            .map(|c| Ok(CaseRecord::try_from(c)?))
            .collect()
    }

    /// How many cases wait in the coordinators' unrouted queue (for the
    /// metrics; the status index narrows it to pooled cases).
    pub async fn unrouted_count(self) -> Result<u64, StoreError> {
        use sea_orm::PaginatorTrait;
        Ok(case::Entity::find()
            .filter(case::Column::Status.eq(ConsultationStatus::Pooled.as_str()))
            .filter(case::Column::UnroutedAt.is_not_null())
            .count(self.db())
            .await?)
    }

    /// Every workflow, by name.
    pub async fn workflows(self) -> Result<Vec<(String, String, WorkflowRules)>, StoreError> {
        workflow::Entity::find()
            .order_by_asc(workflow::Column::Name)
            .all(self.db())
            .await?
            .into_iter()
            .map(|row| {
                let service = row.service.clone();
                WorkflowRules::from_row(row).map(|w| (w.name.clone(), service, w))
            })
            .collect()
    }

    /// Replace a workflow's SLA targets and ladder (validated by the caller
    /// with the catalogue's rules). Cases already on it follow the new
    /// ladder from their current step on.
    pub async fn update_workflow(
        self,
        name: &str,
        sla: SlaTargets,
        ladder: &[LadderStep],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let minutes = |m: i64| i32::try_from(m).unwrap_or(i32::MAX);
        let ladder = serde_json::to_string(ladder)
            .map_err(|e| StoreError::conflict(format!("ladder not serialisable: {e}")))?;
        let updated = workflow::Entity::update_many()
            .col_expr(
                workflow::Column::SlaAcceptMinutes,
                Expr::value(minutes(sla.accept_minutes)),
            )
            .col_expr(
                workflow::Column::SlaFirstResponseMinutes,
                Expr::value(minutes(sla.first_response_minutes)),
            )
            .col_expr(
                workflow::Column::SlaResolutionMinutes,
                Expr::value(minutes(sla.resolution_minutes)),
            )
            .col_expr(workflow::Column::Ladder, Expr::value(ladder))
            .col_expr(workflow::Column::EditedAt, Expr::value(now))
            .filter(workflow::Column::Name.eq(name))
            .exec(self.db())
            .await?;
        self.reference().clear();
        if updated.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

/// How many waiting cases "next case" looks at before saying there is none.
const NEXT_CASE_SCAN: u64 = 50;

impl Routing<'_> {
    /// "Give me the next case": the highest-priority, oldest waiting case
    /// this person is eligible for now, taken with the same guarded update
    /// as an accept, so pull and push never both win.
    pub async fn claim_next_case(
        self,
        staff: StaffId,
        ctx: Context<'_>,
    ) -> Result<Option<CaseId>, StoreError> {
        let Some(mut me) = self
            .staffing()
            .own_dispatch_snapshot(staff, ctx.now)
            .await?
        else {
            return Ok(None);
        };
        // Asking for work says "I am here", whatever the presence switch says.
        me.presence = Presence::Available;
        let mut workflows: HashMap<String, Option<WorkflowRules>> = HashMap::new();
        let mut places: HashMap<Uuid, CasePlace> = HashMap::new();
        for case in self.waiting_in_units(&me.units, NEXT_CASE_SCAN).await? {
            let Some(name) = case.workflow.clone() else {
                continue;
            };
            if !workflows.contains_key(&name) {
                let rules = self.workflow_rules(&name).await?;
                workflows.insert(name.clone(), rules);
            }
            let Some(step) = workflows[&name]
                .as_ref()
                .and_then(|w| w.ladder.get(case.ladder_step.max(0) as usize))
            else {
                continue;
            };
            let place = match places.get(&case.community_id) {
                Some(place) => *place,
                None => {
                    let place = self.case_place(case.community_id.into()).await?;
                    places.insert(case.community_id, place);
                    place
                }
            };
            let parent_category = category::Entity::find_by_id(case.category_code.clone())
                .one(self.db())
                .await?
                .and_then(|c| c.parent_code);
            let routing = CaseRouting {
                place,
                category: case.category_code.clone(),
                parent_category,
            };
            let excluded = self
                .excluded_on_step(case.id.into(), case.ladder_step.max(0) as usize)
                .await?;
            if eligibility(step, &routing, &me, &excluded).is_err() {
                continue;
            }
            match self
                .offers()
                .claim_case(case.id.into(), staff, None, ctx)
                .await
            {
                Ok(()) => return Ok(Some(case.id.into())),
                // Someone else took it (or it was offered) meanwhile: next one.
                Err(StoreError::Conflict(_) | StoreError::Transition(_)) => continue,
                Err(err) => return Err(err),
            }
        }
        Ok(None)
    }
}
