//! A workflow as the engine uses it: its ladder and SLA targets, read from
//! its row. A module of its own (not `routing`) because the per-instance
//! reference cache holds these, and the cache sits below every module that
//! has `Store` methods.

use crate::StoreError;
use crate::entity::workflow;
use sansuo_domain::catalog::SlaTargets;
use sansuo_domain::dispatch::LadderStep;

/// A workflow as the router uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowRules {
    pub name: String,
    pub ladder: Vec<LadderStep>,
    pub sla: SlaTargets,
}

impl WorkflowRules {
    pub(crate) fn from_row(row: workflow::Model) -> Result<Self, StoreError> {
        let ladder: Vec<LadderStep> = serde_json::from_str(&row.ladder).map_err(|e| {
            StoreError::conflict(format!(
                "workflow `{}` has an unreadable ladder: {e}",
                row.name
            ))
        })?;
        Ok(WorkflowRules {
            name: row.name,
            ladder,
            sla: SlaTargets {
                accept_minutes: row.sla_accept_minutes.into(),
                first_response_minutes: row.sla_first_response_minutes.into(),
                resolution_minutes: row.sla_resolution_minutes.into(),
            },
        })
    }
}
