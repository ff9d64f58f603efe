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
        anyhow::bail!("no case {id}");
    }
    if let Some(broken) = report.broken {
        anyhow::bail!(
            "the event chain is broken at {broken} (read {} cases, {} events)",
            report.cases,
            report.events
        );
    }
    Ok(format!(
        "event chains whole: {} cases, {} events",
        report.cases, report.events
    ))
}
