//! Audit of personal data shown unmasked to staff (issue 18, item 5).
//!
//! Every place that opens sealed personal data for a staff member calls
//! [`record`] (or [`record_here`]) *before* the data is opened: one row per
//! case and kind, all rows of the call in one statement. If the rows cannot
//! be written the call fails with 503 `audit_unavailable` and the caller
//! answers that error instead of the data (fail closed).
//!
//! Who and through what come from the request: [`crate::middleware::authenticate`]
//! opens a task-local slot for every `/api/v1` request, and the role
//! extractors fill it with the staff member, their role and unit, the
//! operation (method and route pattern) and the request id when the
//! handler's authentication is read ([`note_request`]). A helper that has
//! no request (a job) passes a [`Viewer`] to [`record`] itself.
//!
//! A new place that opens personal data calls
//! `crate::audit::record_here(&state, &[Shown { .. }])` before opening it
//! (the case files are audited through the views they are built from).

use crate::auth::Principal;
use crate::error::ErrorCode;
use crate::middleware::RequestId;
use crate::{ApiError, AppState};
use actix_web::{HttpMessage, HttpRequest};
use sansuo_domain::StaffRole;
use sansuo_domain::data_view::DataKind;
use sansuo_store::data_views::NewDataView;
use std::cell::RefCell;
use std::future::Future;
use uuid::Uuid;

/// The staff member seeing the data, and through which request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub staff_id: Uuid,
    pub role: StaffRole,
    pub org_unit_id: Uuid,
    /// Method and route pattern, e.g. `GET /api/v1/staff/mediations/{id}`.
    pub operation: String,
    pub request_id: String,
}

/// One kind of personal data of one case, about to be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shown {
    pub case_id: Uuid,
    /// The case's community: what an administrator's subtree is checked on.
    pub community_id: Uuid,
    /// The resident whose data it is, when the person is one (a mediation's
    /// other parties and a case filed in person name nobody with an account).
    pub subject_resident_id: Option<Uuid>,
    pub what: DataKind,
}

tokio::task_local! {
    static VIEWER: RefCell<Option<Viewer>>;
}

/// Run a request's handling with a slot for its viewer (the middleware).
pub(crate) async fn in_request<F: Future>(f: F) -> F::Output {
    VIEWER.scope(RefCell::new(None), f).await
}

/// Note who is asking, for a staff principal (the role extractors call this
/// once the handler's route is matched, so the pattern is known).
pub(crate) fn note_request(req: &HttpRequest, principal: &Principal) {
    let Principal::Staff { id, role, scope } = *principal else {
        return;
    };
    let operation = format!(
        "{} {}",
        req.method(),
        req.match_pattern().unwrap_or_else(|| req.path().to_owned())
    );
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let viewer = Viewer {
        staff_id: id.as_uuid(),
        role,
        org_unit_id: scope.as_uuid(),
        operation,
        request_id,
    };
    // Outside a request (unit tests of extractors) there is no slot: nothing
    // to note, and `record_here` will refuse.
    let _ = VIEWER.try_with(|slot| *slot.borrow_mut() = Some(viewer));
}

/// The staff member of the request being handled, if any.
pub fn current_viewer() -> Option<Viewer> {
    VIEWER.try_with(|slot| slot.borrow().clone()).ok().flatten()
}

fn unavailable() -> ApiError {
    ErrorCode::AuditUnavailable.into()
}

/// Record that `viewer` is being shown `shown` (one statement). Fails
/// closed: 503 `audit_unavailable` if the rows cannot be written, and the
/// caller must then not send the data.
pub async fn record(state: &AppState, viewer: &Viewer, shown: &[Shown]) -> Result<(), ApiError> {
    let rows: Vec<NewDataView> = shown
        .iter()
        .map(|s| NewDataView {
            staff_id: viewer.staff_id,
            role: viewer.role,
            org_unit_id: viewer.org_unit_id,
            operation: viewer.operation.clone(),
            request_id: viewer.request_id.clone(),
            case_id: s.case_id,
            community_id: s.community_id,
            subject_resident_id: s.subject_resident_id,
            what: s.what,
        })
        .collect();
    state.store.data_views().record(&rows).await.map_err(|e| {
        // The cause names tables and columns, never the personal data.
        tracing::error!(error = %e, "personal data audit could not be written: data withheld");
        unavailable()
    })
}

/// [`record`] for the staff member of the request being handled. No staff
/// member noted for this request: 503 as well (never show unaudited data).
pub async fn record_here(state: &AppState, shown: &[Shown]) -> Result<(), ApiError> {
    if shown.is_empty() {
        return Ok(());
    }
    let Some(viewer) = current_viewer() else {
        tracing::error!("personal data opened outside an authenticated staff request: withheld");
        return Err(unavailable());
    };
    record(state, &viewer, shown).await
}
