//! How [`Work`] travels on the queue: one job per piece of work, named by
//! `work.job_id()`, its kind and payload as the outbox holds them.

use sansuo_domain::work::{ModerationSubject, Work, WorkError};
use sansuo_queue::Job;
use sansuo_store::moderation::Subject;

/// One queue carries routing work; jobs are told apart by `kind`.
pub const ROUTING_QUEUE: &str = "routing";

/// What a rebuild after Redis lost its data puts back for every open case
/// (a routing decision, an SLA check). Routers take from it only when
/// [`ROUTING_QUEUE`] has nothing due, so new work never waits behind a
/// rebuild of a thousand cases.
pub const REBUILD_QUEUE: &str = "routing.rebuild";

/// The job for `work`. Its id is derived from what the work acts on, so
/// publishing the same work twice (relay retry, reconciler) leaves one job.
pub fn job(work: &Work, request_id: Option<String>) -> Job {
    Job {
        id: work.job_id(),
        kind: work.kind().to_owned(),
        payload: work.encode(),
        request_id,
    }
}

/// The work a queued job stands for.
pub fn work_of(job: &Job) -> Result<Work, WorkError> {
    Work::decode(&job.kind, &job.payload)
}

/// The store's name for text whose check is owed.
pub(crate) fn store_subject(subject: ModerationSubject) -> Subject {
    match subject {
        ModerationSubject::Case(id) => Subject::Case(id.as_uuid()),
        ModerationSubject::Message(id) => Subject::Message(id.as_uuid()),
    }
}

/// The work's name for text the store says is still unchecked.
pub(crate) fn work_subject(subject: Subject) -> ModerationSubject {
    match subject {
        Subject::Case(id) => ModerationSubject::Case(id.into()),
        Subject::Message(id) => ModerationSubject::Message(id.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sansuo_domain::notify::NotificationEvent;
    use uuid::Uuid;

    #[test]
    fn a_job_decodes_to_its_work() {
        let id = Uuid::now_v7();
        for work in [
            Work::RouteCase { case_id: id.into() },
            Work::Notify {
                event: NotificationEvent::ConsultationAccepted,
                case_id: id.into(),
                occurrence: None,
            },
            Work::Notify {
                event: NotificationEvent::MediationSessionBooked,
                case_id: id.into(),
                occurrence: Some(Uuid::now_v7()),
            },
            Work::Moderate(ModerationSubject::Message(id.into())),
            Work::StepTimeout {
                case_id: id.into(),
                step: 3,
            },
        ] {
            let job = job(&work, Some("req".into()));
            assert_eq!(job.id, work.job_id());
            assert_eq!(job.kind, work.kind());
            assert_eq!(job.request_id.as_deref(), Some("req"));
            assert_eq!(work_of(&job), Ok(work));
        }
    }

    #[test]
    fn a_malformed_job_is_an_error() {
        let job = Job {
            id: "route_case:x".into(),
            kind: "route_case".into(),
            payload: serde_json::json!({ "case_id": "x" }),
            request_id: None,
        };
        assert!(matches!(work_of(&job), Err(WorkError::Malformed { .. })));
    }

    #[test]
    fn subjects_convert_both_ways() {
        let id = Uuid::now_v7();
        for subject in [Subject::Case(id), Subject::Message(id)] {
            assert_eq!(store_subject(work_subject(subject)), subject);
        }
    }
}
