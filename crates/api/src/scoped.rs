//! Scope as structure, on the HTTP side. Every id a staff caller names
//! resolves through `store::scope` (one lookup per kind of id, see its
//! table) to an `InScope` value, or answers 404 with the id kind's code:
//! "outside your street" and "does not exist" are one answer.
//!
//! - Path ids: the [`Scoped`] extractor, `Scoped<CaseId>` in the handler's
//!   arguments, resolved within the caller's scope before the handler runs,
//!   so a handler cannot forget.
//! - Body and query ids: [`resolve`], with the scope they must lie in (the
//!   caller's, or a narrower one: a shift's officer within the shift's
//!   station, a session's room near the case's community).
//!
//! Residents own their cases rather than a subtree: their ids are checked
//! by ownership in the store's queries (`WHERE resident_id = ?`), and the
//! case handlers' (lawyer, mediator, officer) by owner or live offer.

use crate::error::ErrorCode;
use crate::extract::authenticated;
use crate::state::AppState;
use crate::{ApiError, auth::Principal};
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use futures::future::LocalBoxFuture;
use sansuo_domain::{CaseId, OrgUnitId, StaffId};
use sansuo_store::scope::{FirmId, InScope, ManagedRoom, ShiftId};
use std::ops::Deref;
use uuid::Uuid;

/// `id`, resolved within `scope`, or 404 `not_found`.
pub(crate) async fn resolve<T: sansuo_store::scope::Scoped>(
    state: &AppState,
    scope: OrgUnitId,
    id: T,
    not_found: ErrorCode,
) -> Result<InScope<T>, ApiError> {
    state
        .store
        .org()
        .resolve_in_scope(scope, id)
        .await
        .map_err(ApiError::store_not_found(not_found))
}

/// A kind of id named in a path as `{id}`, with its 404 code.
pub(crate) trait PathId: sansuo_store::scope::Scoped + From<Uuid> + 'static {
    const NOT_FOUND: ErrorCode;
}

impl PathId for CaseId {
    const NOT_FOUND: ErrorCode = ErrorCode::CaseNotFound;
}

impl PathId for OrgUnitId {
    const NOT_FOUND: ErrorCode = ErrorCode::OrgUnitNotFound;
}

impl PathId for StaffId {
    const NOT_FOUND: ErrorCode = ErrorCode::StaffNotFound;
}

impl PathId for ManagedRoom {
    const NOT_FOUND: ErrorCode = ErrorCode::RoomNotFound;
}

impl PathId for FirmId {
    const NOT_FOUND: ErrorCode = ErrorCode::LawFirmNotFound;
}

impl PathId for ShiftId {
    const NOT_FOUND: ErrorCode = ErrorCode::ShiftNotFound;
}

/// The path's `{id}`, resolved within the calling staff member's scope:
/// 404 (the id kind's code) outside it or when absent, 403 for residents,
/// 401 without a token, 400 when it is not an id.
pub(crate) struct Scoped<T>(pub InScope<T>);

impl<T: Copy> Scoped<T> {
    pub fn id(&self) -> T {
        self.0.id()
    }
}

impl<T> Deref for Scoped<T> {
    type Target = InScope<T>;
    fn deref(&self) -> &InScope<T> {
        &self.0
    }
}

impl<T: PathId> FromRequest for Scoped<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // The session was checked by `middleware::authenticate` (a
        // deactivated account's token ends there), before any id is looked up.
        let scope = authenticated(req, |p| match p {
            Principal::Staff { scope, .. } => Ok(scope),
            Principal::Resident(_) => Err(ApiError::forbidden("this endpoint is for staff")),
        });
        let id = req
            .match_info()
            .get("id")
            .unwrap_or_default()
            .parse::<Uuid>()
            .map_err(|e| ApiError::bad_parameter(format!("bad path parameter: {e}")));
        let state = req.app_data::<web::Data<AppState>>().cloned();
        // A wrong role or no session is answered on the first poll; only
        // the lookup waits.
        Box::pin(async move {
            let scope = scope?;
            let id = id?;
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            resolve(&state, scope, T::from(id), T::NOT_FOUND)
                .await
                .map(Scoped)
        })
    }
}
