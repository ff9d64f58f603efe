//! Test data: a realistic district written through the store's own insert
//! paths, and stored cases by the million written by SQL.
//!
//! The district is small (hundreds of rows), so it goes through
//! `sansuo_store::Store` like `sansuo seed-demo` does: whatever invariants
//! those methods keep, the benchmark's data keeps. Cases are another
//! matter: a million of them through HTTP would take longer than the whole
//! benchmark, so `grow_cases` writes them with `INSERT ... SELECT FROM
//! generate_series`, shaped like the server writes them (UUID v7 ids in
//! time order, a `consultations` row per case, `case_events` history,
//! owners, pools, pending offers).

use anyhow::Context;
use chrono::Utc;
use sansuo_domain::rota::{RotaSpec, SlotSpec, shanghai};
use sansuo_domain::{OrgUnitId, StaffId, StaffRole};
use sansuo_store::Store;
use sansuo_store::identity::NewStaff;
use sansuo_store::org::{NewOrgUnit, kind};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Offers and cases a bench lawyer may hold at once.
const BENCH_CAPACITY: i32 = 100_000;

/// Every seeded staff account's password; hashed once, stored 141 times.
pub const BENCH_PASSWORD: &str = "sansuo-bench-password";
/// The QR scene of the probe community: its own signed lawyer, no other
/// traffic, so end-to-end routing probes poll a short offer list.
pub const PROBE_SCENE: &str = "bench-probe";
/// openid prefix of the residents the benchmark logs in.
pub const RESIDENT_OPENID_PREFIX: &str = "bench-resident-";

/// How big a district to build.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Shape {
    pub streets: usize,
    pub stations: usize,
    pub communities: usize,
    pub firms: usize,
    pub lawyers: usize,
    /// People's mediators, each in a community's committee (community
    /// `m % communities`, so every community has one when there are at
    /// least as many mediators as communities).
    pub mediators: usize,
    /// Police officers in the stations: the first `communities` of them
    /// are community officers (社区民警, a member of one community each),
    /// the rest the stations' own; all on their station's duty rota.
    pub officers: usize,
    /// Pending offers seeded per community, so boards have live offers.
    pub offers_per_community: usize,
}

impl Shape {
    /// A mid-sized urban district (about the size of Hongkou).
    pub const DISTRICT: Shape = Shape {
        streets: 8,
        stations: 2,
        communities: 200,
        firms: 11,
        lawyers: 140,
        mediators: 310,
        officers: 230,
        offers_per_community: 5,
    };
    /// The cluster drill's: small enough that the debug binary seeds it
    /// in seconds, with two streets so pools and firms span streets.
    pub const DRILL: Shape = Shape {
        streets: 2,
        stations: 1,
        communities: 8,
        firms: 2,
        lawyers: 8,
        // The drill seeds its own mediators and officers (`drill::staff_beyond_lawyers`).
        mediators: 0,
        officers: 0,
        offers_per_community: 0,
    };
    pub const SMOKE: Shape = Shape {
        streets: 2,
        stations: 1,
        communities: 6,
        firms: 3,
        lawyers: 4,
        mediators: 8,
        officers: 6,
        offers_per_community: 2,
    };
}

#[derive(Debug, Clone)]
pub struct Lawyer {
    pub id: StaffId,
    pub username: String,
}

#[derive(Debug, Clone)]
pub struct District {
    pub communities: Vec<Uuid>,
    pub stations: Vec<OrgUnitId>,
    pub lawyers: Vec<Lawyer>,
    pub mediators: Vec<StaffId>,
    pub officers: Vec<StaffId>,
    pub probe_community: Uuid,
    pub probe_lawyer: Lawyer,
}

/// Build the district through the store. Some firms serve two streets, so
/// their lawyers' pools span two units (as in real signings).
pub async fn district(store: &Store, shape: Shape) -> anyhow::Result<District> {
    let now = Utc::now();
    let district = insert_unit(store, kind::DISTRICT, None, None, "基准区", None).await?;
    let mut stations = Vec::new();
    for s in 0..shape.stations {
        let name = format!("基准派出所{s}");
        stations.push(
            insert_unit(
                store,
                kind::POLICE_STATION,
                Some(district),
                None,
                &name,
                None,
            )
            .await?,
        );
    }
    let mut streets = Vec::new();
    for s in 0..shape.streets {
        let street = insert_unit(
            store,
            kind::STREET,
            Some(district),
            None,
            &format!("基准街道{s}"),
            None,
        )
        .await?;
        let office = format!("基准司法所{s}");
        insert_unit(
            store,
            kind::JUDICIAL_OFFICE,
            Some(street),
            None,
            &office,
            None,
        )
        .await?;
        streets.push(street);
    }
    // Firm f serves street f % streets; the firms past the first round
    // also serve a second street.
    let mut firm_streets: Vec<Vec<OrgUnitId>> = Vec::new();
    let mut firms = Vec::new();
    for f in 0..shape.firms {
        let firm = store
            .org()
            .insert_law_firm(&format!("基准律师事务所{f}"), now)
            .await?;
        let mut served = vec![streets[f % streets.len()]];
        if f >= streets.len() {
            served.push(streets[(f + 3) % streets.len()]);
        }
        for street in &served {
            store.org().sign_firm(firm, *street).await?;
        }
        firms.push(firm);
        firm_streets.push(served);
    }
    let hash = sansuo_api::auth::hash_password(BENCH_PASSWORD).map_err(anyhow::Error::msg)?;
    let mut lawyers = Vec::new();
    let mut lawyers_of_street: HashMap<OrgUnitId, Vec<StaffId>> = HashMap::new();
    for l in 0..shape.lawyers {
        let f = l % firms.len();
        let username = format!("bench.lawyer.{l:03}");
        let id = store
            .identity()
            .insert_staff(
                NewStaff {
                    username: &username,
                    password_hash: &hash,
                    display_name: &format!("律师{l}"),
                    role: StaffRole::Lawyer,
                    org_unit: firm_streets[f][0],
                    law_firm: Some(firms[f]),
                },
                now,
            )
            .await?;
        for street in &firm_streets[f] {
            lawyers_of_street.entry(*street).or_default().push(id);
        }
        lawyers.push(Lawyer { id, username });
    }
    let mut communities = Vec::new();
    for c in 0..shape.communities {
        let street = streets[c % streets.len()];
        let community = insert_unit(
            store,
            kind::COMMUNITY,
            Some(street),
            Some(stations[c % stations.len()]),
            &format!("基准居委{c}"),
            Some(&format!("bench-c{c:03}")),
        )
        .await?;
        // Round-robin over the lawyers serving the street: every lawyer
        // ends up signed to one or two communities.
        let candidates = lawyers_of_street
            .get(&street)
            .context("every street has a firm (shape.firms >= shape.streets)")?;
        let lawyer = candidates[(c / streets.len()) % candidates.len()];
        store.org().sign_lawyer(community, lawyer, now).await?;
        communities.push(community.as_uuid());
    }
    let mediators = mediators(store, shape, &hash, &communities).await?;
    let officers = officers(store, shape, &hash, &communities, &stations).await?;
    let probe_community = insert_unit(
        store,
        kind::COMMUNITY,
        Some(streets[0]),
        Some(stations[0]),
        "基准探针居委",
        Some(PROBE_SCENE),
    )
    .await?;
    let probe_username = "bench.probe".to_owned();
    let probe_id = store
        .identity()
        .insert_staff(
            NewStaff {
                username: &probe_username,
                password_hash: &hash,
                display_name: "探针律师",
                role: StaffRole::Lawyer,
                org_unit: streets[0],
                law_firm: Some(firms[0]),
            },
            now,
        )
        .await?;
    store
        .org()
        .sign_lawyer(probe_community, probe_id, now)
        .await?;
    // The benchmark measures routing to the signed lawyer: with the default
    // capacity (5, pending offers included) the seeded offers would fill
    // every lawyer and each submission would climb to the street's pool.
    for lawyer in lawyers.iter().map(|l: &Lawyer| l.id).chain([probe_id]) {
        store
            .staffing()
            .set_routing(lawyer, None, None, Some(BENCH_CAPACITY))
            .await?;
    }
    Ok(District {
        communities,
        stations,
        lawyers,
        mediators,
        officers,
        probe_community: probe_community.as_uuid(),
        probe_lawyer: Lawyer {
            id: probe_id,
            username: probe_username,
        },
    })
}

/// A staff account with the benchmark's password and room for any load.
async fn insert_staff(
    store: &Store,
    hash: &str,
    username: &str,
    display_name: &str,
    role: StaffRole,
    unit: OrgUnitId,
) -> anyhow::Result<StaffId> {
    let id = store
        .identity()
        .insert_staff(
            NewStaff {
                username,
                password_hash: hash,
                display_name,
                role,
                org_unit: unit,
                law_firm: None,
            },
            Utc::now(),
        )
        .await?;
    Ok(id)
}

/// Mediators in the communities' committees: the first step of
/// `mediation_three_tier`. Room for any load, like the lawyers: the
/// benchmark measures routing to the first step.
async fn mediators(
    store: &Store,
    shape: Shape,
    hash: &str,
    communities: &[Uuid],
) -> anyhow::Result<Vec<StaffId>> {
    let mut out = Vec::new();
    for m in 0..shape.mediators {
        let community = OrgUnitId::from(communities[m % communities.len()]);
        let id = insert_staff(
            store,
            hash,
            &format!("bench.mediator.{m:03}"),
            &format!("调解员{m}"),
            StaffRole::Mediator,
            community,
        )
        .await?;
        store
            .staffing()
            .set_routing(id, None, None, Some(BENCH_CAPACITY))
            .await?;
        out.push(id);
    }
    Ok(out)
}

/// Officers in the stations (community `c` belongs to station
/// `c % stations`, as `district` builds them): officer `o < communities` is
/// community `o`'s community officer (a member of it), the rest serve the
/// station. Each station keeps a duty rota (`store::rotas`) of three
/// eight-hour shifts every day (00–08, 08–16, 16–24 Shanghai time), its
/// officers split over them, starting yesterday and open-ended: someone is
/// on duty at every hour of any run. Tips (`tip_on_duty`) go to the
/// community officer when on duty, else to the station's duty officers.
async fn officers(
    store: &Store,
    shape: Shape,
    hash: &str,
    communities: &[Uuid],
    stations: &[OrgUnitId],
) -> anyhow::Result<Vec<StaffId>> {
    let now = Utc::now();
    let mut out = Vec::new();
    let mut of_station: HashMap<OrgUnitId, Vec<StaffId>> = HashMap::new();
    for o in 0..shape.officers {
        let member = communities.get(o).map(|c| OrgUnitId::from(*c));
        let station = stations[o % stations.len()];
        let id = insert_staff(
            store,
            hash,
            &format!("bench.officer.{o:03}"),
            &format!("民警{o}"),
            StaffRole::Officer,
            station,
        )
        .await?;
        let units: Option<Vec<OrgUnitId>> = member.map(|c| vec![c]);
        store
            .staffing()
            .set_routing(id, units.as_deref(), None, Some(BENCH_CAPACITY))
            .await?;
        of_station.entry(station).or_default().push(id);
        out.push(id);
    }
    let yesterday = now.with_timezone(&shanghai()).date_naive() - chrono::Days::new(1);
    for (station, staff) in of_station {
        let slot = |start: &str, end: &str, staff: Vec<StaffId>| SlotSpec {
            days: "every_day".into(),
            start: start.into(),
            end: end.into(),
            staff,
            rotate: false,
        };
        let slots = if staff.len() < 3 {
            vec![slot("00:00", "24:00", staff)]
        } else {
            let third = |k: usize| staff.iter().skip(k).step_by(3).copied().collect();
            vec![
                slot("00:00", "08:00", third(0)),
                slot("08:00", "16:00", third(1)),
                slot("16:00", "24:00", third(2)),
            ]
        };
        let spec = RotaSpec {
            starts_on: yesterday,
            ends_on: None,
            slots,
            exceptions: Vec::new(),
        };
        store.rotas().put(station, &spec, now).await?;
    }
    Ok(out)
}

async fn insert_unit(
    store: &Store,
    kind: &str,
    parent: Option<OrgUnitId>,
    station: Option<OrgUnitId>,
    name: &str,
    scene: Option<&str>,
) -> anyhow::Result<OrgUnitId> {
    let community = scene.is_some();
    Ok(store
        .org()
        .insert_unit(
            NewOrgUnit {
                kind,
                parent,
                station,
                name,
                scene,
                address: None,
                office_hours: community.then_some("周一至周五 09:00–17:30"),
                services: if community {
                    &["consultation", "mediation", "tip"]
                } else {
                    &[]
                },
            },
            Utc::now(),
        )
        .await?)
}

/// A UUID v7 for a given time, like `Uuid::now_v7()` in the server: ids
/// sort by creation time, which the newest-first pagination relies on.
/// (PostgreSQL 18 has `uuidv7()`; 15 does not.) v4 bits 52/53 turned on
/// make version 7; the variant bits of v4 are already right.
pub const UUIDV7_FN: &str = r#"
CREATE OR REPLACE FUNCTION bench_uuidv7(ts timestamptz) RETURNS uuid
LANGUAGE sql VOLATILE AS $$
  SELECT encode(
    set_bit(set_bit(
      overlay(uuid_send(gen_random_uuid())
              PLACING substring(int8send(floor(extract(epoch FROM ts) * 1000)::bigint) FROM 3)
              FROM 1 FOR 6),
      52, 1), 53, 1),
    'hex')::uuid
$$"#;

/// Numbered lookup tables for the random joins below (joining on a random
/// row number is much faster than indexing into a big array per row).
const LOOKUPS: &str = r#"
CREATE TEMP TABLE bench_res ON COMMIT DROP AS
  SELECT (row_number() OVER (ORDER BY id))::int AS rn, id FROM residents;
CREATE TEMP TABLE bench_com ON COMMIT DROP AS
  SELECT (row_number() OVER (ORDER BY c.id))::int AS rn, c.id, c.parent_id AS street, s.staff_id AS lawyer
  FROM org_units c JOIN lawyer_signings s ON s.community_id = c.id
  WHERE c.kind = 'community' AND c.scene <> 'bench-probe';
CREATE TEMP TABLE bench_cat ON COMMIT DROP AS
  SELECT (row_number() OVER (ORDER BY code))::int AS rn, code FROM categories
  WHERE active AND services LIKE '%consultation%' AND NOT urgent;
"#;

/// `{add}` cases of the past 400 days: 94 % closed, 2 % pooled, 2 %
/// assigned, 1 % answered, 1 % resolved, each with its question, a submit
/// event and the event of its latest move. Owners are the community's
/// signed lawyer, pools the community's street.
const BULK_CASES: &str = r#"
WITH p AS (
  SELECT (SELECT count(*) FROM bench_res) AS nres,
         (SELECT count(*) FROM bench_com) AS ncom,
         (SELECT count(*) FROM bench_cat) AS ncat
), r AS (
  SELECT now() - interval '1 hour' - interval '400 days' * random() AS ts,
         random() AS x,
         1 + floor(random() * p.nres)::int AS res_rn,
         1 + floor(random() * p.ncom)::int AS com_rn,
         1 + floor(random() * p.ncat)::int AS cat_rn
  FROM generate_series(1, {add}) g, p
), shaped AS (
  SELECT bench_uuidv7(r.ts) AS id, r.ts,
         CASE WHEN x < 0.02 THEN 'pooled' WHEN x < 0.04 THEN 'assigned'
              WHEN x < 0.05 THEN 'answered' WHEN x < 0.06 THEN 'resolved'
              ELSE 'closed' END AS status,
         com.id AS community_id, com.street, com.lawyer, cat.code, res.id AS resident_id
  FROM r
  JOIN bench_com com ON com.rn = r.com_rn
  JOIN bench_cat cat ON cat.rn = r.cat_rn
  JOIN bench_res res ON res.rn = r.res_rn
), new_cases AS (
  INSERT INTO cases (id, service, community_id, category_code, resident_id, status,
                     owner_staff_id, pool_unit_id, version, created_at, updated_at,
                     accepted_at, answered_at, resolved_at, closed_at)
  SELECT id, 'consultation', community_id, code, resident_id, status,
         CASE WHEN status = 'pooled' THEN NULL ELSE lawyer END,
         street,
         CASE status WHEN 'pooled' THEN 1 WHEN 'assigned' THEN 2 WHEN 'answered' THEN 3
                     WHEN 'resolved' THEN 4 ELSE 5 END,
         ts, ts + interval '2 hours',
         CASE WHEN status <> 'pooled' THEN ts + interval '20 minutes' END,
         CASE WHEN status IN ('answered', 'resolved', 'closed') THEN ts + interval '1 hour' END,
         CASE WHEN status IN ('resolved', 'closed') THEN ts + interval '90 minutes' END,
         CASE WHEN status = 'closed' THEN ts + interval '2 hours' END
  FROM shaped
  RETURNING id, status, created_at, resident_id, owner_staff_id
), questions AS (
  INSERT INTO consultations (case_id, question, rating_stars, rating_comment, rated_at)
  SELECT id,
         '楼上邻居装修噪音每天持续到晚上十点，物业不管，我可以怎么维权？（基准数据 ' || left(id::text, 8) || '）',
         CASE WHEN status = 'closed' THEN 5 END, NULL,
         CASE WHEN status = 'closed' THEN created_at + interval '2 hours' END
  FROM new_cases
),
-- Triggers are off for the seed (session_replication_role), so the
-- events carry their own hash chain (case_event_hash, as the trigger
-- computes it): `sansuo verify` finds the seeded history whole.
first_events AS (
  SELECT bench_uuidv7(created_at) AS eid, id AS case_id, created_at, resident_id, status,
         owner_staff_id
  FROM new_cases
), first_chained AS (
  SELECT f.*, case_event_hash(repeat('0', 64), 1, f.eid, f.case_id, 'submit', NULL::text,
                              'submitted', 'resident', f.resident_id, NULL::text, true,
                              NULL::text, f.created_at) AS h
  FROM first_events f
), second_events AS (
  SELECT bench_uuidv7(f.created_at + interval '2 hours') AS eid, f.case_id, e.action,
         e.from_status, f.status AS to_status, e.actor_kind,
         CASE e.actor_kind WHEN 'resident' THEN f.resident_id WHEN 'staff' THEN f.owner_staff_id END
           AS actor_id,
         e.action <> 'pool' AS public, f.created_at + interval '2 hours' AS at, f.h AS prev
  FROM first_chained f
  JOIN (VALUES ('pooled', 'pool', 'submitted', 'system'),
               ('assigned', 'accept', 'offered', 'staff'),
               ('answered', 'reply', 'assigned', 'staff'),
               ('resolved', 'resolve', 'answered', 'staff'),
               ('closed', 'rate', 'resolved', 'resident'))
    AS e(reached, action, from_status, actor_kind) ON e.reached = f.status
)
INSERT INTO case_events (id, case_id, action, from_status, to_status, actor_kind, actor_id,
                         reason, public, request_id, created_at, seq, prev_hash, hash)
SELECT eid, case_id, 'submit', NULL, 'submitted', 'resident', resident_id,
       NULL, true, NULL, created_at, 1, repeat('0', 64), h
FROM first_chained
UNION ALL
SELECT eid, case_id, action, from_status, to_status, actor_kind, actor_id, NULL, public, NULL,
       at, 2, prev,
       case_event_hash(prev, 2, eid, case_id, action, from_status, to_status, actor_kind,
                       actor_id, NULL::text, public, NULL::text, at)
FROM second_events
"#;

/// `{per}` cases per community (the probe's excepted) offered to the
/// signed lawyer in the last five minutes, their offers pending for 30
/// minutes: the "offers" half of a lawyer's board.
const PENDING_OFFERS: &str = r#"
WITH p AS (SELECT (SELECT count(*) FROM bench_res) AS nres),
picks AS (
  SELECT com.id AS community_id, com.street, com.lawyer,
         now() - interval '5 minutes' * random() AS ts,
         1 + floor(random() * p.nres)::int AS res_rn,
         (SELECT code FROM bench_cat ORDER BY rn LIMIT 1) AS code
  FROM bench_com com, generate_series(1, {per}) k, p
), new_cases AS (
  INSERT INTO cases (id, service, community_id, category_code, resident_id, status,
                     owner_staff_id, pool_unit_id, version, created_at, updated_at)
  SELECT bench_uuidv7(ts), 'consultation', community_id, code, res.id, 'offered',
         NULL, street, 1, ts, ts
  FROM picks JOIN bench_res res ON res.rn = picks.res_rn
  RETURNING id, community_id, created_at, resident_id
), questions AS (
  INSERT INTO consultations (case_id, question)
  SELECT id, '房东不退押金，合同里没写清楚，我该怎么办？（基准数据 ' || left(id::text, 8) || '）'
  FROM new_cases
), offers AS (
  INSERT INTO offers (id, case_id, staff_id, status, created_at, expires_at)
  SELECT bench_uuidv7(c.created_at), c.id, s.staff_id, 'pending', c.created_at,
         c.created_at + interval '30 minutes'
  FROM new_cases c JOIN lawyer_signings s ON s.community_id = c.community_id
), first_chained AS (
  SELECT e.*, case_event_hash(repeat('0', 64), 1, e.eid, e.case_id, 'submit', NULL::text,
                              'submitted', 'resident', e.resident_id, NULL::text, true,
                              NULL::text, e.created_at) AS h
  FROM (SELECT bench_uuidv7(created_at) AS eid, id AS case_id, created_at, resident_id
        FROM new_cases) e
), offer_events AS (
  SELECT bench_uuidv7(created_at) AS eid, case_id, created_at, h AS prev FROM first_chained
)
INSERT INTO case_events (id, case_id, action, from_status, to_status, actor_kind, actor_id,
                         reason, public, request_id, created_at, seq, prev_hash, hash)
SELECT eid, case_id, 'submit', NULL, 'submitted', 'resident', resident_id,
       NULL, true, NULL, created_at, 1, repeat('0', 64), h
FROM first_chained
UNION ALL
SELECT eid, case_id, 'offer', 'submitted', 'offered', 'system', NULL,
       NULL, false, NULL, created_at, 2, prev,
       case_event_hash(prev, 2, eid, case_id, 'offer', 'submitted', 'offered', 'system',
                       NULL::uuid, NULL::text, false, NULL::text, created_at)
FROM offer_events
"#;

pub async fn count(db: &DatabaseConnection, table: &str) -> anyhow::Result<u64> {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT count(*)::bigint AS n FROM {table}"),
        ))
        .await?
        .context("count(*) returns a row")?;
    Ok(row.try_get::<i64>("", "n")? as u64)
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Growth {
    pub cases_before: u64,
    pub cases_after: u64,
    pub seconds: f64,
}

/// Grow `cases` to `target` rows (plus residents, about one per five
/// cases, so "my consultations" stays a short list as in real life), then
/// VACUUM ANALYZE, which autovacuum would have done long ago on a real
/// database with this many rows, and a CHECKPOINT. With
/// `offers_per_community` > 0, also seed that many live offers per community.
pub async fn grow_cases(
    db: &DatabaseConnection,
    target: u64,
    offers_per_community: usize,
) -> anyhow::Result<Growth> {
    let started = Instant::now();
    let before = count(db, "cases").await?;
    let add = target.saturating_sub(before);
    db.execute_unprepared(UUIDV7_FN).await?;
    let txn = db.begin().await?;
    // The rows reference ids read from the same database: skipping the
    // foreign-key triggers saves a lookup per row and per key.
    txn.execute_unprepared("SET LOCAL session_replication_role = replica")
        .await?;
    let residents = count_in(
        &txn,
        "SELECT count(*)::bigint AS n FROM residents WHERE openid LIKE 'bulk-%'",
    )
    .await?;
    let want = target / 5;
    if want > residents {
        txn.execute_unprepared(&format!(
            "INSERT INTO residents (id, openid, unionid, created_at, last_login_at)
             SELECT bench_uuidv7(now() - interval '400 days'), 'bulk-' || g, NULL, now(), now()
             FROM generate_series({}, {want}) g",
            residents + 1
        ))
        .await?;
    }
    txn.execute_unprepared(LOOKUPS).await?;
    if add > 0 {
        txn.execute_unprepared(&BULK_CASES.replace("{add}", &add.to_string()))
            .await
            .context("bulk insert of cases")?;
    }
    if offers_per_community > 0 {
        txn.execute_unprepared(&PENDING_OFFERS.replace("{per}", &offers_per_community.to_string()))
            .await
            .context("seeding pending offers")?;
    }
    recount_loads(&txn).await?;
    txn.commit().await?;
    db.execute_unprepared("VACUUM (ANALYZE) cases, consultations, case_events, residents, offers")
        .await?;
    // A million rows are about 1.5 GB of WAL: without this, the checkpoints
    // they trigger would run through the next scenarios and be counted
    // against the database size rather than against the bulk load.
    db.execute_unprepared("CHECKPOINT").await?;
    Ok(Growth {
        cases_before: before,
        cases_after: count(db, "cases").await?,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Set every staff member's load counter (`staff.load`, which the server
/// keeps in the transactions of its own writes) to what the rows written
/// here by SQL make it.
async fn recount_loads(conn: &impl ConnectionTrait) -> anyhow::Result<()> {
    let finished = sansuo_domain::work_order::FINISHED_STATUSES
        .map(|s| format!("'{s}'"))
        .join(", ");
    conn.execute_unprepared(&format!(
        "UPDATE staff SET load = \
           (SELECT COUNT(*) FROM cases c WHERE c.owner_staff_id = staff.id \
              AND c.status NOT IN ({finished})) \
         + (SELECT COUNT(*) FROM offers o WHERE o.staff_id = staff.id AND o.status = 'pending')"
    ))
    .await
    .context("recounting staff loads")?;
    Ok(())
}

async fn count_in(conn: &impl ConnectionTrait, sql: &str) -> anyhow::Result<u64> {
    let row = conn
        .query_one_raw(Statement::from_string(DbBackend::Postgres, sql.to_owned()))
        .await?
        .context("count returns a row")?;
    Ok(row.try_get::<i64>("", "n")? as u64)
}

/// Retire the live work that earlier runs left behind (every pending
/// offer, every case still waiting): `grow_cases` then seeds fresh offers,
/// so the boards at the next size hold as many live offers as at the
/// first, and the comparison measures the stored history, not the backlog
/// of offers the intake runs piled up.
pub async fn retire_live_work(db: &DatabaseConnection) -> anyhow::Result<u64> {
    let txn = db.begin().await?;
    txn.execute_unprepared(
        "UPDATE offers SET status = 'cancelled', responded_at = now() WHERE status = 'pending'",
    )
    .await?;
    let moved = txn
        .execute_unprepared(
            "UPDATE cases SET status = 'closed', closed_at = now(), updated_at = now(),
                              version = version + 1
             WHERE status IN ('submitted', 'offered')",
        )
        .await?
        .rows_affected();
    recount_loads(&txn).await?;
    txn.commit().await?;
    Ok(moved)
}

/// Cases the logged-in residents own (for "get my consultation" reads).
pub async fn cases_of_bench_residents(
    db: &DatabaseConnection,
) -> anyhow::Result<HashMap<String, Vec<Uuid>>> {
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            format!(
                "SELECT r.openid, c.id FROM cases c JOIN residents r ON r.id = c.resident_id
                 WHERE r.openid LIKE '{RESIDENT_OPENID_PREFIX}%'"
            ),
        ))
        .await?;
    let mut map: HashMap<String, Vec<Uuid>> = HashMap::new();
    for row in rows {
        map.entry(row.try_get("", "openid")?)
            .or_default()
            .push(row.try_get("", "id")?);
    }
    Ok(map)
}

/// Open cases each lawyer owns (for replies), at most 50 each.
pub async fn open_cases_of_lawyers(
    db: &DatabaseConnection,
) -> anyhow::Result<HashMap<Uuid, Vec<Uuid>>> {
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT owner, id FROM (
               SELECT owner_staff_id AS owner, id,
                      row_number() OVER (PARTITION BY owner_staff_id ORDER BY id DESC) AS n
               FROM cases WHERE status IN ('assigned', 'answered') AND owner_staff_id IS NOT NULL
             ) t WHERE n <= 50"
                .to_owned(),
        ))
        .await?;
    let mut map: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for row in rows {
        map.entry(row.try_get("", "owner")?)
            .or_default()
            .push(row.try_get("", "id")?);
    }
    Ok(map)
}

/// Cluster-wide WAL counters (PostgreSQL 14+).
pub struct WalCounters {
    pub records: i64,
    pub fpi: i64,
    pub bytes: i64,
}

pub async fn wal_counters(db: &DatabaseConnection) -> anyhow::Result<WalCounters> {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT wal_records::bigint AS records, wal_fpi::bigint AS fpi, wal_bytes::bigint AS bytes
             FROM pg_stat_wal"
                .to_owned(),
        ))
        .await?
        .context("pg_stat_wal has a row")?;
    Ok(WalCounters {
        records: row.try_get("", "records")?,
        fpi: row.try_get("", "fpi")?,
        bytes: row.try_get("", "bytes")?,
    })
}

/// Wait until the router has made a decision for every submitted case
/// (none left `submitted`), up to `timeout`; returns how many are left.
pub async fn wait_until_routed(db: &DatabaseConnection, timeout: Duration) -> anyhow::Result<u64> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = count_in(
            db,
            "SELECT count(*)::bigint AS n FROM cases WHERE status = 'submitted'",
        )
        .await?;
        if left == 0 || Instant::now() > deadline {
            return Ok(left);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
