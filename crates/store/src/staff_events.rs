//! The staff event stream's store: each thing a staff member is told is a
//! `staff_events` row written in the transaction of the change itself (the
//! offer, its lapse, the reassignment, the message), so it is never lost and
//! any instance can serve any person's stream. Events are numbered per
//! person (`seq`, the SSE id) from `staff_streams.last_seq`, bumped under
//! that row's lock: numbers are gapless and commit in order, so a reader
//! that has seen `n` never later finds a smaller one committed (a shared
//! sequence could commit 11 before 10, and a stream past 11 would skip 10).
//! The same row keeps the heartbeat of the person's streams (`seen_at`),
//! which decides whether a lapsed offer sets them away
//! (`domain::staff_event::away_after_lapse`).

use crate::entity::{case, org_unit, staff, staff_event, staff_stream, staff_wechat};
use crate::rows::numbered;
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use sansuo_domain::catalog::Service;
use sansuo_domain::staff_event::{StaffEvent, StaffEventKind};
use sansuo_domain::work::Work;
use sansuo_domain::{Actor, CaseId, MessageId, OrgUnitId, StaffId, StaffRole};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, Statement,
};
use uuid::Uuid;

/// The most events one read hands a stream (it reads again at once when full).
pub const EVENTS_PER_READ: u64 = 200;

/// How long events are kept for a reconnecting stream to replay.
pub const KEEP_EVENTS_DAYS: i64 = 7;

/// One event as a stream sends it: its number, type and `data:` JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffEventRecord {
    pub seq: i64,
    pub kind: StaffEventKind,
    pub data: String,
}

/// Tell `staff` of `event`, in the caller's transaction. Takes the person's
/// `staff_streams` row lock until commit, so call it after the
/// transaction's other locking writes (cases, offers, staff rows): taken
/// last everywhere, it waits on nobody who waits on it. When one
/// transaction tells two people, it tells them in id order (see
/// [`tell_each`]). Someone with WeChat bound is also owed a subscribe
/// message for the events that call for it (`StaffEvent::notice`): its
/// work joins the outbox in the same transaction.
pub(crate) async fn tell<C: ConnectionTrait>(
    conn: &C,
    staff: StaffId,
    event: &StaffEvent,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    // Only someone bound is owed a message (checked again when sending):
    // most staff add no outbox row to a routing decision.
    let notice = event.notice().map(|notice| Work::NotifyStaff {
        event: notice.event,
        staff_id: staff,
        case_id: notice.case_id,
        occurrence: Uuid::now_v7(),
        deadline: notice.deadline,
    });
    if conn.get_database_backend() == DbBackend::Postgres {
        // One round trip (an offer tells someone in every routing decision):
        // the stream's next number, the event and, for someone bound, the
        // message's outbox row.
        return append_event_pg(conn, staff, event, notice.as_ref(), now).await;
    }
    append_event(conn, staff, event, now).await?;
    if let Some(work) = notice {
        let bound = staff_wechat::Entity::find_by_id(staff.as_uuid())
            .one(conn)
            .await?
            .is_some();
        if bound {
            crate::outbox::append(conn, &work, None, now).await?;
        }
    }
    Ok(())
}

/// [`tell`] on PostgreSQL, as one statement.
async fn append_event_pg<C: ConnectionTrait>(
    conn: &C,
    staff: StaffId,
    event: &StaffEvent,
    notice: Option<&Work>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let backend = conn.get_database_backend();
    let event_sql = format!(
        "WITH head AS ({NEXT_SEQ}), \
         told AS (INSERT INTO staff_events (staff_id, seq, kind, payload, created_at) \
                  SELECT $1, head.last_seq, $2, $3, $4 FROM head)"
    );
    let mut values: Vec<sea_orm::Value> = vec![
        staff.as_uuid().into(),
        event.kind().as_str().into(),
        event.data().to_string().into(),
        now.into(),
    ];
    let sql = match notice {
        // `told` runs whether or not the outer statement reads it.
        None => format!("{event_sql} SELECT 1"),
        Some(work) => {
            values.push(work.kind().into());
            values.push(work.encode().to_string().into());
            format!(
                "{event_sql} INSERT INTO outbox (topic, payload, request_id, created_at, published_at, attempts) \
                 SELECT $5, $6, NULL, $4, NULL, 0 \
                 WHERE EXISTS (SELECT 1 FROM staff_wechat w WHERE w.staff_id = $1)"
            )
        }
    };
    conn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    Ok(())
}

/// The stream's next number, under its row's lock.
const NEXT_SEQ: &str = "INSERT INTO staff_streams (staff_id, last_seq) VALUES ($1, 1) \
     ON CONFLICT (staff_id) DO UPDATE SET last_seq = staff_streams.last_seq + 1 \
     RETURNING last_seq";

/// The stream's row of the event, numbered (SQLite: two statements).
async fn append_event<C: ConnectionTrait>(
    conn: &C,
    staff: StaffId,
    event: &StaffEvent,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    #[derive(FromQueryResult)]
    struct Head {
        last_seq: i64,
    }
    let backend = conn.get_database_backend();
    let head = Head::find_by_statement(Statement::from_sql_and_values(
        backend,
        numbered(backend, NEXT_SEQ.to_owned()),
        [staff.as_uuid().into()],
    ))
    .one(conn)
    .await?
    .ok_or_else(|| corrupt("no event number returned".into()))?;
    staff_event::Entity::insert(staff_event::ActiveModel {
        staff_id: sea_orm::ActiveValue::Set(staff.as_uuid()),
        seq: sea_orm::ActiveValue::Set(head.last_seq),
        kind: sea_orm::ActiveValue::Set(event.kind().as_str().to_owned()),
        payload: sea_orm::ActiveValue::Set(event.data().to_string()),
        created_at: sea_orm::ActiveValue::Set(now),
        ..Default::default()
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// Tell several people, each their own event, in staff-id order (two
/// transactions telling the same two people never wait on each other
/// crosswise).
pub(crate) async fn tell_each<C: ConnectionTrait>(
    conn: &C,
    mut events: Vec<(StaffId, StaffEvent)>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    events.sort_by_key(|(staff, _)| staff.as_uuid());
    for (staff, event) in &events {
        tell(conn, *staff, event, now).await?;
    }
    Ok(())
}

/// The active coordinators and administrators homed on `unit` itself.
pub(crate) async fn coordinators_of<C: ConnectionTrait>(
    conn: &C,
    unit: OrgUnitId,
) -> Result<Vec<StaffId>, StoreError> {
    Ok(staff::Entity::find()
        .filter(staff::Column::OrgUnitId.eq(unit.as_uuid()))
        .filter(staff::Column::Active.eq(true))
        .filter(
            staff::Column::Role.is_in([StaffRole::Coordinator.as_str(), StaffRole::Admin.as_str()]),
        )
        .order_by_asc(staff::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(|s| StaffId::from(s.id))
        .collect())
}

/// Every active coordinator or administrator whose subtree holds
/// `community`: homed on it, on a unit above it, or on its police station.
pub(crate) async fn coordinators_over<C: ConnectionTrait>(
    conn: &C,
    community: OrgUnitId,
) -> Result<Vec<StaffId>, StoreError> {
    let mut units = Vec::with_capacity(4);
    let mut station = None;
    let mut next = Some(community.as_uuid());
    while let Some(id) = next {
        if units.len() > 16 {
            return Err(StoreError::conflict("the organisation tree has a cycle"));
        }
        let Some(unit) = org_unit::Entity::find_by_id(id).one(conn).await? else {
            break;
        };
        units.push(unit.id);
        station = station.or(unit.station_id);
        next = unit.parent_id;
    }
    units.extend(station);
    let mut found = Vec::new();
    for unit in units {
        found.extend(coordinators_of(conn, unit.into()).await?);
    }
    found.sort_by_key(|s| s.as_uuid());
    found.dedup();
    Ok(found)
}

/// A message was written on a case: its owner is told, unless they wrote
/// it. A resident's or reporter's message is a `follow_up`, anyone else's
/// a `message`. Never who the writer was.
pub(crate) async fn tell_owner_of_message<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
    author: Actor,
    message_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let Some(case) = case::Entity::find_by_id(case_id).one(conn).await? else {
        return Ok(());
    };
    let Some(owner) = case.owner_staff_id else {
        return Ok(());
    };
    let service: Service = case
        .service
        .parse()
        .map_err(|_| corrupt(format!("unknown service {:?}", case.service)))?;
    let (case_id, message_id) = (CaseId::from(case_id), MessageId::from(message_id));
    let event = match author {
        Actor::Staff { id, .. } if id.as_uuid() == owner => return Ok(()),
        Actor::Resident(_) | Actor::AnonymousReporter => StaffEvent::FollowUp {
            case_id,
            service,
            message_id,
        },
        Actor::Staff { .. } | Actor::System => StaffEvent::Message {
            case_id,
            service,
            message_id,
        },
    };
    tell(conn, owner.into(), &event, now).await
}

/// A reporter's follow-up reopened a finished tip, which no longer has an
/// owner: the officer who had it is told all the same (the reopened tip is
/// offered to them first, but the message is news even if they let the
/// offer pass).
pub(crate) async fn tell_former_owner_of_follow_up<C: ConnectionTrait>(
    conn: &C,
    former_owner: Uuid,
    case_id: Uuid,
    service: Service,
    message_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let event = StaffEvent::FollowUp {
        case_id: case_id.into(),
        service,
        message_id: message_id.into(),
    };
    tell(conn, former_owner.into(), &event, now).await
}

fn corrupt(why: String) -> StoreError {
    sea_orm::DbErr::Type(format!("staff_events: {why}")).into()
}

/// When a stream of this person's was last seen connected, in the
/// caller's transaction (read under the person's `staff` row lock).
pub(crate) async fn stream_seen_at<C: ConnectionTrait>(
    conn: &C,
    staff: Uuid,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(staff_stream::Entity::find_by_id(staff)
        .one(conn)
        .await?
        .and_then(|row| row.seen_at))
}

/// The staff event streams: what each person was told, and their heartbeat.
///
/// Reached as `store.staff_events()`; see [`Store`].
#[derive(Clone, Copy)]
pub struct StaffEvents<'a>(pub(crate) &'a Store);

impl std::ops::Deref for StaffEvents<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.0
    }
}

impl Store {
    /// The staff event streams: what each person was told, and their heartbeat.
    pub fn staff_events(&self) -> StaffEvents<'_> {
        StaffEvents(self)
    }
}

impl StaffEvents<'_> {
    /// This person's events numbered after `after`, oldest first, at most
    /// [`EVENTS_PER_READ`].
    pub async fn after(
        self,
        staff: StaffId,
        after: i64,
    ) -> Result<Vec<StaffEventRecord>, StoreError> {
        staff_event::Entity::find()
            .filter(staff_event::Column::StaffId.eq(staff.as_uuid()))
            .filter(staff_event::Column::Seq.gt(after))
            .order_by_asc(staff_event::Column::Seq)
            .limit(EVENTS_PER_READ)
            .all(self.db())
            .await?
            .into_iter()
            .map(|row| {
                Ok(StaffEventRecord {
                    seq: row.seq,
                    kind: row.kind.parse().map_err(corrupt)?,
                    data: row.payload,
                })
            })
            .collect()
    }

    /// The number of this person's latest event (0: none yet).
    pub async fn head(self, staff: StaffId) -> Result<i64, StoreError> {
        Ok(staff_stream::Entity::find_by_id(staff.as_uuid())
            .one(self.db())
            .await?
            .map_or(0, |row| row.last_seq))
    }

    /// A number that grows whenever anyone is told anything (the sum of
    /// every person's latest number): one cheap read tells an instance
    /// whether any of its streams has something new.
    pub async fn pulse(self) -> Result<i64, StoreError> {
        #[derive(FromQueryResult)]
        struct Pulse {
            pulse: Option<i64>,
        }
        let backend = self.db().get_database_backend();
        let found = Pulse::find_by_statement(Statement::from_string(
            backend,
            "SELECT CAST(SUM(last_seq) AS BIGINT) AS pulse FROM staff_streams",
        ))
        .one(self.db())
        .await?;
        Ok(found.and_then(|p| p.pulse).unwrap_or(0))
    }

    /// A stream of this person's is connected now (on connecting and at
    /// every keep-alive).
    pub async fn seen(self, staff: StaffId, now: DateTime<Utc>) -> Result<(), StoreError> {
        let backend = self.db().get_database_backend();
        let sql = "INSERT INTO staff_streams (staff_id, last_seq, seen_at) VALUES ($1, 0, $2) \
                   ON CONFLICT (staff_id) DO UPDATE SET seen_at = $2";
        self.db()
            .execute_raw(Statement::from_sql_and_values(
                backend,
                numbered(backend, sql.to_owned()),
                [staff.as_uuid().into(), now.into()],
            ))
            .await?;
        Ok(())
    }

    /// Forget events older than [`KEEP_EVENTS_DAYS`]. Returns how many.
    pub async fn purge(self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let before = now - chrono::Duration::days(KEEP_EVENTS_DAYS);
        let gone = staff_event::Entity::delete_many()
            .filter(staff_event::Column::CreatedAt.lt(before))
            .exec(self.db())
            .await?;
        Ok(gone.rows_affected)
    }
}
