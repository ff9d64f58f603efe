//! `sansuo verify [--case ID]`: the case events' hash chains, recomputed by
//! the same code as `GET /api/v1/admin/integrity`
//! (`sansuo_domain::event_chain`).

use sansuo_store::{ChainScope, Store};
use uuid::Uuid;

/// The line to print when every chain read is whole; an error naming the
/// first broken link (case, event, position, expected and found) otherwise.
pub async fn verify(store: &Store, case: Option<Uuid>) -> anyhow::Result<String> {
    let scope = match case {
        Some(id) => ChainScope::Case(id.into()),
        None => ChainScope::All,
    };
    let report = store.cases().verify_chains(scope).await?;
    if let Some(id) = case
        && report.cases == 0
    {
        // A case deleted by a retention purge went on purpose, events and
        // all, through `case_event_purges` (docs/retention.md).
        if let Some(at) = store.retention().purged_at(id).await? {
            return Ok(format!(
                "case {id} was purged by retention at {}: its events were deleted on purpose",
                at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ));
        }
        anyhow::bail!("no case {id}");
    }
    if let Some(broken) = report.broken {
        anyhow::bail!(
            "the event chain is broken at {broken} (read {} cases, {} events)",
            report.cases,
            report.events
        );
    }
    let purged = if case.is_none() {
        store.retention().purged_count().await?
    } else {
        0
    };
    Ok(if purged > 0 {
        format!(
            "event chains whole: {} cases, {} events ({purged} cases purged by retention)",
            report.cases, report.events
        )
    } else {
        format!(
            "event chains whole: {} cases, {} events",
            report.cases, report.events
        )
    })
}
