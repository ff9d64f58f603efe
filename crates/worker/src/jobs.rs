//! The jobs the router understands, and how they are named on the queue.

use sansuo_domain::{CaseId, OfferId, StaffId};
use sansuo_queue::Job;
use sansuo_store::moderation::Subject;

/// One queue carries routing work; jobs are told apart by `kind`.
pub const ROUTING_QUEUE: &str = "routing";

pub mod job_kind {
    pub const ROUTE_CASE: &str = "route_case";
    pub const OFFER_TIMEOUT: &str = "offer_timeout";
    pub const MODERATE: &str = "moderate";
    pub const NOTIFY: &str = "notify";
    /// A case's ladder step ends: decide again (escalate if still waiting).
    pub const STEP_TIMEOUT: &str = "step_timeout";
    /// A case's earliest SLA deadline: record breaches, escalate.
    pub const SLA_CHECK: &str = "sla_check";
    /// Someone can take more work: route what waits in their queues.
    pub const STAFF_AVAILABLE: &str = "staff_available";
}

/// Job ids are derived from what they act on, so publishing the same work
/// twice (relay retry, reconciler) leaves a single job on the queue.
pub fn route_case(case_id: CaseId, request_id: Option<String>) -> Job {
    Job {
        id: format!("{}:{case_id}", job_kind::ROUTE_CASE),
        kind: job_kind::ROUTE_CASE.to_owned(),
        payload: serde_json::json!({ "case_id": case_id }),
        request_id,
    }
}

/// Wake the router when a case's step ends. One id per step, so it never
/// displaces a route job that is due sooner.
pub fn step_timeout(case_id: CaseId, step: usize, request_id: Option<String>) -> Job {
    Job {
        id: format!("{}:{case_id}:{step}", job_kind::STEP_TIMEOUT),
        kind: job_kind::STEP_TIMEOUT.to_owned(),
        payload: serde_json::json!({ "case_id": case_id }),
        request_id,
    }
}

/// One SLA timer per case, re-armed at the next deadline after each check.
pub fn sla_check(case_id: CaseId) -> Job {
    Job {
        id: format!("{}:{case_id}", job_kind::SLA_CHECK),
        kind: job_kind::SLA_CHECK.to_owned(),
        payload: serde_json::json!({ "case_id": case_id }),
        request_id: None,
    }
}

/// Repeated availability of one person merges into one job.
pub fn staff_available(staff_id: StaffId, request_id: Option<String>) -> Job {
    Job {
        id: format!("{}:{staff_id}", job_kind::STAFF_AVAILABLE),
        kind: job_kind::STAFF_AVAILABLE.to_owned(),
        payload: serde_json::json!({ "staff_id": staff_id }),
        request_id,
    }
}

/// Check resident text whose check is still owed.
pub fn moderate(subject: Subject, request_id: Option<String>) -> Job {
    let (kind, id) = match subject {
        Subject::Case(id) => ("case", id),
        Subject::Message(id) => ("message", id),
    };
    Job {
        id: format!("{}:{kind}:{id}", job_kind::MODERATE),
        kind: job_kind::MODERATE.to_owned(),
        payload: serde_json::json!({ "kind": kind, "id": id }),
        request_id,
    }
}

/// Send the subscribe message owed for an event of a case.
pub fn notify(event: &str, case_id: CaseId, request_id: Option<String>) -> Job {
    Job {
        id: format!("{}:{event}:{case_id}", job_kind::NOTIFY),
        kind: job_kind::NOTIFY.to_owned(),
        payload: serde_json::json!({ "event": event, "case_id": case_id }),
        request_id,
    }
}

pub fn offer_timeout(offer_id: OfferId, request_id: Option<String>) -> Job {
    Job {
        id: format!("{}:{offer_id}", job_kind::OFFER_TIMEOUT),
        kind: job_kind::OFFER_TIMEOUT.to_owned(),
        payload: serde_json::json!({ "offer_id": offer_id }),
        request_id,
    }
}

/// The id in `payload[field]`, if it is there and a UUID.
pub fn payload_id<T: From<uuid::Uuid>>(payload: &serde_json::Value, field: &str) -> Option<T> {
    payload
        .get(field)
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse::<uuid::Uuid>().ok())
        .map(T::from)
}
