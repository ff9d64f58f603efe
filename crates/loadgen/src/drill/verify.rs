//! After the drain, the database is asked directly what became of the
//! burst: every figure here comes from SQL over the private cluster, not
//! from anything the server says about itself.

use super::burst::Submission;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use std::collections::HashMap;
use std::time::Duration;
use uuid::Uuid;

async fn count(db: &DatabaseConnection, sql: &str) -> anyhow::Result<u64> {
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Postgres, sql.to_owned()))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no row from: {sql}"))?;
    Ok(row.try_get::<i64>("", "n")? as u64)
}

/// Statuses in which a case needs nobody any more (the union of the
/// three machines' finished states, `work_order::FINISHED_STATUSES`).
fn finished_list() -> String {
    sansuo_domain::work_order::FINISHED_STATUSES
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(",")
}

/// What the drill checks, each with the ids of a few offenders.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Findings {
    pub submitted: u64,
    pub acknowledged: u64,
    /// Told "stored" by a 503 `submission_stored` and never answered 2xx.
    pub stored_503_only: u64,
    /// Neither answered nor stored (the client gave up or was refused).
    pub unanswered: u64,
    /// Not acknowledged, but in the database all the same.
    pub stored_unacknowledged: u64,
    pub lost: u64,
    pub doubled: u64,
    pub doubled_by_kind: HashMap<String, u64>,
    pub double_assigned: u64,
    pub stuck: u64,
    pub stuck_detail: Vec<(String, u64)>,
    pub history_gaps: u64,
    pub examples: Vec<String>,
}

pub async fn check(
    db: &DatabaseConnection,
    submissions: &[Submission],
) -> anyhow::Result<Findings> {
    let mut f = Findings {
        submitted: submissions.len() as u64,
        ..Findings::default()
    };
    // Which case carries which submission's marker.
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT c.id,
                    substring(coalesce(q.question, m.facts, t.description) FROM '〔演练([0-9]+)〕') AS seq
             FROM cases c
             LEFT JOIN consultations q ON q.case_id = c.id
             LEFT JOIN mediations m ON m.case_id = c.id
             LEFT JOIN tips t ON t.case_id = c.id"
                .to_owned(),
        ))
        .await?;
    let mut cases_of: HashMap<u64, Vec<Uuid>> = HashMap::new();
    for row in rows {
        let id: Uuid = row.try_get("", "id")?;
        let seq: Option<String> = row.try_get("", "seq")?;
        if let Some(seq) = seq.and_then(|s| s.parse::<u64>().ok()) {
            cases_of.entry(seq).or_default().push(id);
        }
    }
    for s in submissions {
        let stored = cases_of.get(&s.seq).map(Vec::as_slice).unwrap_or(&[]);
        if stored.len() > 1 {
            f.doubled += 1;
            *f.doubled_by_kind
                .entry(s.kind.name().to_owned())
                .or_default() += 1;
            f.examples.push(format!(
                "doubled {} #{}: {:?}",
                s.kind.name(),
                s.seq,
                stored
            ));
        }
        match (s.acknowledged, s.stored_location) {
            (Some(id), _) => {
                f.acknowledged += 1;
                if !stored.contains(&id) {
                    f.lost += 1;
                    f.examples
                        .push(format!("lost {} #{}: {id}", s.kind.name(), s.seq));
                }
            }
            (None, Some(id)) => {
                f.stored_503_only += 1;
                if !stored.contains(&id) {
                    f.lost += 1;
                    f.examples.push(format!(
                        "lost (503 submission_stored) {} #{}: {id}",
                        s.kind.name(),
                        s.seq
                    ));
                }
            }
            (None, None) => {
                f.unanswered += 1;
                if !stored.is_empty() {
                    f.stored_unacknowledged += 1;
                }
            }
        }
    }

    // Owned twice: two live offers, two takings (accept / claim) with no
    // hand-back, reassignment or reopening between them (the drill makes
    // none), or an accepted offer whose person does not own the case.
    f.double_assigned = count(
        db,
        "SELECT count(*)::bigint AS n FROM (
           SELECT case_id FROM offers WHERE status = 'pending' GROUP BY case_id HAVING count(*) > 1
           UNION
           SELECT case_id FROM case_events WHERE action IN ('accept', 'claim')
           GROUP BY case_id HAVING count(*) > 1
           UNION
           SELECT o.case_id FROM offers o JOIN cases c ON c.id = o.case_id
           WHERE o.status = 'accepted' AND c.owner_staff_id IS DISTINCT FROM o.staff_id
         ) t",
    )
    .await?;

    // Stuck: open, and neither offered (with its live offer), nor owned,
    // nor waiting in a queue (pooled on a unit, or in the coordinators'
    // unrouted list).
    let finished = finished_list();
    let stuck_checks = [
        (
            "still submitted",
            "SELECT count(*)::bigint AS n FROM cases WHERE status = 'submitted'".to_owned(),
        ),
        (
            "offered without a live offer",
            "SELECT count(*)::bigint AS n FROM cases c WHERE c.status = 'offered' AND NOT EXISTS
               (SELECT 1 FROM offers o WHERE o.case_id = c.id AND o.status = 'pending')"
                .to_owned(),
        ),
        (
            "live offer on a case not offered",
            "SELECT count(*)::bigint AS n FROM offers o JOIN cases c ON c.id = o.case_id
             WHERE o.status = 'pending' AND c.status <> 'offered'"
                .to_owned(),
        ),
        (
            "live offer past its expiry (+60 s)",
            "SELECT count(*)::bigint AS n FROM offers
             WHERE status = 'pending' AND expires_at < now() - interval '60 seconds'"
                .to_owned(),
        ),
        (
            "pooled in no queue",
            "SELECT count(*)::bigint AS n FROM cases
             WHERE status = 'pooled' AND pool_unit_id IS NULL AND unrouted_at IS NULL"
                .to_owned(),
        ),
        (
            "open, past routing, owned by nobody",
            format!(
                "SELECT count(*)::bigint AS n FROM cases
                 WHERE status NOT IN ('submitted', 'offered', 'pooled', {finished})
                   AND owner_staff_id IS NULL"
            ),
        ),
    ];
    for (name, sql) in stuck_checks {
        let n = count(db, &sql).await?;
        f.stuck += n;
        f.stuck_detail.push((name.to_owned(), n));
    }

    // History gaps: the case's status is not where its last event left it,
    // or an event starts from another status than the one before it ended in.
    const EVENTS: &str = "WITH ev AS (
           SELECT case_id, from_status, to_status,
                  lag(to_status) OVER w AS before,
                  row_number() OVER (PARTITION BY case_id ORDER BY created_at DESC, id DESC) AS from_end
           FROM case_events
           WINDOW w AS (PARTITION BY case_id ORDER BY created_at, id))";
    f.history_gaps = count(
        db,
        &format!(
            "{EVENTS}
             SELECT count(*)::bigint AS n FROM cases c WHERE
               NOT EXISTS (SELECT 1 FROM ev WHERE ev.case_id = c.id AND ev.from_end = 1
                                                AND ev.to_status = c.status)
               OR EXISTS (SELECT 1 FROM ev WHERE ev.case_id = c.id AND ev.before IS NOT NULL
                                             AND ev.from_status IS NOT NULL
                                             AND ev.from_status <> ev.before)"
        ),
    )
    .await?;
    if f.history_gaps > 0 {
        let rows = db
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                format!(
                    "{EVENTS}
                     SELECT c.id::text AS id, c.status,
                            (SELECT string_agg(coalesce(e.from_status, '-') || '>' || e.to_status || ':' || e.action, ' '
                                               ORDER BY e.created_at, e.id)
                             FROM case_events e WHERE e.case_id = c.id) AS history
                     FROM cases c WHERE
                       NOT EXISTS (SELECT 1 FROM ev WHERE ev.case_id = c.id AND ev.from_end = 1
                                                        AND ev.to_status = c.status)
                       OR EXISTS (SELECT 1 FROM ev WHERE ev.case_id = c.id AND ev.before IS NOT NULL
                                                     AND ev.from_status IS NOT NULL
                                                     AND ev.from_status <> ev.before)
                     LIMIT 5"
                ),
            ))
            .await?;
        for row in rows {
            let id: String = row.try_get("", "id")?;
            let status: String = row.try_get("", "status")?;
            let history: Option<String> = row.try_get("", "history")?;
            f.examples.push(format!(
                "history gap {id}: status {status}, events {}",
                history.unwrap_or_default()
            ));
        }
    }
    Ok(f)
}

/// Seconds from `since` (seconds after `epoch`) to the first offer of a
/// case submitted at or after it.
pub async fn first_offer_after(
    db: &DatabaseConnection,
    epoch: chrono::DateTime<chrono::Utc>,
    since: f64,
) -> anyhow::Result<Option<f64>> {
    let at = epoch + chrono::Duration::microseconds((since * 1e6) as i64);
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT extract(epoch FROM min(o.created_at) - $1)::float8 AS s
             FROM offers o JOIN cases c ON c.id = o.case_id
             WHERE c.created_at >= $1",
            [at.into()],
        ))
        .await?;
    Ok(row.and_then(|r| r.try_get::<Option<f64>>("", "s").ok().flatten()))
}

/// Wait until routing settles: nothing left `submitted`, the outbox
/// published, and the count of cases per status unchanged for three
/// seconds in a row. Returns the seconds it took, or `None` at `timeout`.
pub async fn drain(db: &DatabaseConnection, timeout: Duration) -> anyhow::Result<Option<f64>> {
    let started = std::time::Instant::now();
    let mut last = String::new();
    let mut stable = 0;
    while started.elapsed() < timeout {
        let snapshot = async {
            let rows = db
                .query_all_raw(Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT status || '=' || count(*) AS s FROM cases GROUP BY status ORDER BY status"
                        .to_owned(),
                ))
                .await?;
            let statuses: Vec<String> = rows
                .iter()
                .filter_map(|r| r.try_get::<String>("", "s").ok())
                .collect();
            let unpublished = count(
                db,
                "SELECT count(*)::bigint AS n FROM outbox WHERE published_at IS NULL",
            )
            .await?;
            let submitted = count(
                db,
                "SELECT count(*)::bigint AS n FROM cases WHERE status = 'submitted'",
            )
            .await?;
            anyhow::Ok((statuses.join(" "), unpublished + submitted))
        }
        .await;
        match snapshot {
            Ok((s, 0)) if s == last => stable += 1,
            Ok((s, _)) => {
                last = s;
                stable = 0;
            }
            Err(_) => stable = 0,
        }
        if stable >= 3 {
            return Ok(Some(started.elapsed().as_secs_f64()));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Ok(None)
}
