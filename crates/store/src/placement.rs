//! Where routing leaves a case on its ladder, and a new case's first
//! step: its first offer, made in the transaction that stores it when the
//! first step of its workflow has someone free, else the routing job the
//! outbox carries to the router (issue 16). Below the services, which end
//! every new case's transaction with [`route_new`]; above `cases` and
//! `offers`, whose moves it makes.

use crate::cases::{Context, Submission, load_any_case, move_routed, service_of};
use crate::entity::case;
use crate::offers::insert_offer;
use crate::staff_events::tell;
use crate::{StoreError, outbox, staff_load};
use chrono::{DateTime, Utc};
use sansuo_domain::calendar::BusinessCalendar;
use sansuo_domain::offer::OfferStatus;
use sansuo_domain::sla::{SlaMinutes, first_check};
use sansuo_domain::staff_event::StaffEvent;
use sansuo_domain::work::Work;
use sansuo_domain::work_order::RoutingMove;
use sansuo_domain::{Actor, CaseId, OfferId, OrgUnitId, StaffId};
use sansuo_metrics::OfferOutcome;
use sea_orm::sea_query::Expr;
use sea_orm::{ConnectionTrait, UpdateMany};
use uuid::Uuid;

/// Where a routing move leaves the case on its ladder.
#[derive(Debug, Clone, Copy)]
pub struct LadderPlacement<'a> {
    pub workflow: Option<&'a str>,
    pub step: usize,
    pub entered_at: DateTime<Utc>,
    pub priority: i32,
    /// The unit whose queue the case waits in on this step.
    pub unit: Option<OrgUnitId>,
}

pub(crate) fn place_on_ladder(
    update: UpdateMany<case::Entity>,
    case: &case::Model,
    at: LadderPlacement<'_>,
    now: DateTime<Utc>,
) -> UpdateMany<case::Entity> {
    update
        .col_expr(case::Column::Workflow, Expr::value(at.workflow))
        .col_expr(case::Column::LadderStep, Expr::value(at.step as i32))
        .col_expr(case::Column::StepEnteredAt, Expr::value(at.entered_at))
        .col_expr(case::Column::Priority, Expr::value(at.priority))
        .col_expr(
            case::Column::PoolUnitId,
            Expr::value(at.unit.map(|u| u.as_uuid()).or(case.pool_unit_id)),
        )
        .col_expr(
            case::Column::QueuedAt,
            Expr::value(case.queued_at.unwrap_or(now)),
        )
        // The preference is used once: by this placement's decision.
        .col_expr(case::Column::PreferredStaffId, Expr::value(None::<Uuid>))
}

/// A new case's first offer, decided just before the transaction that
/// stores the case (`Routing::first_offer`): the engine's choice on the
/// first step of its ladder with someone free, against staff snapshots read
/// outside that transaction, and the steps it climbed on the way because
/// nobody on them could take it (a tip whose community officer is off
/// duty goes to the station's officer on duty). The transaction takes the
/// person's place as every offer does (`staff_load::take_place`), so a
/// snapshot gone stale — the person filled up meanwhile — only means the
/// router routes the case instead.
#[derive(Debug)]
pub struct FirstOffer {
    pub(crate) to: StaffId,
    pub(crate) expires_at: DateTime<Utc>,
    pub(crate) workflow: String,
    /// Each step climbed to before the offer's, with why (the history's
    /// `escalate` events, as the router writes them).
    pub(crate) climbed: Vec<(Placed, &'static str)>,
    pub(crate) offered_on: Placed,
    /// The workflow's SLA targets and the calendar they count in: the
    /// first check is armed from the case's own creation time.
    pub(crate) sla: SlaMinutes,
    pub(crate) calendar: BusinessCalendar,
    /// Held until the submission is stored (or dropped): one of the
    /// instance's slots for offers at submission.
    pub(crate) _slot: tokio::sync::OwnedSemaphorePermit,
}

/// A step of a workflow's ladder as a case is placed on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Placed {
    pub(crate) step: usize,
    pub(crate) priority: i32,
    /// The unit whose queue the case waits in on this step.
    pub(crate) unit: Option<OrgUnitId>,
}

impl Placed {
    fn at<'a>(&self, workflow: &'a str, now: DateTime<Utc>) -> LadderPlacement<'a> {
        LadderPlacement {
            workflow: Some(workflow),
            step: self.step,
            entered_at: now,
            priority: self.priority,
            unit: self.unit,
        }
    }
}

/// The last write of every new case's transaction (the case, its first
/// event and whatever its service adds are in it already). With a first
/// offer whose person still has room: the climbs and the offer as the
/// router would write them (moves and events), the person told, and
/// through the outbox, due when due, the offer's timer at its expiry and
/// the case's first SLA check at its earliest deadline — what the router
/// arms after its own offers. Otherwise the routing job, as always.
/// Returns whether the case was offered.
pub(crate) async fn route_new<C: ConnectionTrait>(
    conn: &C,
    case_id: CaseId,
    first: Option<&FirstOffer>,
    request_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let Some(first) = first else {
        outbox::append(conn, &Work::RouteCase { case_id }, request_id, now).await?;
        return Ok(false);
    };
    if !staff_load::take_place(conn, first.to.as_uuid(), now).await? {
        outbox::append(conn, &Work::RouteCase { case_id }, request_id, now).await?;
        return Ok(false);
    }
    let ctx = Context {
        actor: Actor::System,
        request_id,
        now,
    };
    let mut case = load_any_case(conn, case_id.as_uuid()).await?;
    for (placed, reason) in &first.climbed {
        let at = placed.at(&first.workflow, now);
        move_routed(conn, &case, RoutingMove::Escalate, Some(reason), ctx, |u| {
            place_on_ladder(u, &case, at, now)
        })
        .await?;
        case = load_any_case(conn, case_id.as_uuid()).await?;
    }
    let at = first.offered_on.at(&first.workflow, now);
    move_routed(conn, &case, RoutingMove::Offer, None, ctx, |u| {
        place_on_ladder(u, &case, at, now)
    })
    .await?;
    let offer_id = OfferId::new();
    insert_offer(
        conn,
        offer_id,
        case.id,
        first.to,
        first.offered_on.step,
        OfferStatus::Pending,
        now,
        first.expires_at,
    )
    .await?;
    let told = StaffEvent::Offer {
        case_id,
        service: service_of(&case)?,
        offer_id,
        expires_at: first.expires_at,
    };
    tell(conn, first.to, &told, now).await?;
    // Due when they are due: the router runs each once, then.
    let timer = Work::OfferTimeout { offer_id };
    outbox::append_due(conn, &timer, request_id, now, Some(first.expires_at)).await?;
    if let Some(at) = first_check(case.created_at, first.sla, &first.calendar) {
        let check = Work::SlaCheck { case_id };
        outbox::append_due(conn, &check, request_id, now, Some(at)).await?;
    }
    Ok(true)
}

/// What a committed new case's transaction answers: offered in it, or
/// left to the router.
pub(crate) fn created(case_id: CaseId, offered: bool) -> Submission {
    if offered {
        sansuo_metrics::offer(OfferOutcome::offered);
        Submission::Offered(case_id)
    } else {
        Submission::Created(case_id)
    }
}
