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
//! - Bodies next to a scoped path id: [`Body`] instead of `web::Json`. A
//!   malformed body's 400/415/422 waits for the path id's lookup, and an id
//!   outside the scope answers its 404 instead, however fast the body fails
//!   (extractors run side by side, and the first error would otherwise win).
//!
//! Residents own their cases rather than a subtree: their ids are checked
//! by ownership in the store's queries (`WHERE resident_id = ?`), and the
//! case handlers' (lawyer, mediator, officer) by owner or live offer.

use crate::error::ErrorCode;
use crate::extract::authenticated;
use crate::state::AppState;
use crate::{ApiError, auth::Principal};
use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};
use futures::FutureExt;
use futures::future::{LocalBoxFuture, Shared};
use sansuo_domain::{CaseId, ExtensionId, OrgUnitId, StaffId};
use sansuo_store::scope::{FirmId, InScope, ManagedRoom, RoomId, ShiftId};
use serde::de::DeserializeOwned;
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

impl PathId for ExtensionId {
    const NOT_FOUND: ErrorCode = ErrorCode::ExtensionNotFound;
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

/// A room that takes bookings, near the caller (`scope::RoomId`).
impl PathId for RoomId {
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
        let lookup = async move {
            let scope = scope?;
            let id = id?;
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            resolve(&state, scope, T::from(id), T::NOT_FOUND).await
        }
        .boxed_local()
        .shared();
        // A body extractor that fails asks this lookup first (`Body`).
        req.extensions_mut().insert(PathScope(
            lookup
                .clone()
                .map(|found| found.err())
                .boxed_local()
                .shared(),
        ));
        Box::pin(lookup.map(|found| found.map(Scoped)))
    }
}

/// The outcome of the request's scoped path id lookup, shared with the
/// body extractor: `Some` is the error the lookup answers (404 outside the
/// scope, or the 401/403/400 before it).
#[derive(Clone)]
struct PathScope(Shared<LocalBoxFuture<'static, Option<ApiError>>>);

/// A JSON body (`web::Json`'s reading and errors) for a handler that also
/// takes a [`Scoped`] path id: if the body fails, its error waits for the
/// id's lookup, and the lookup's error (an id outside the caller's scope:
/// 404) is answered instead. A body that reads fine waits for nothing.
pub(crate) struct Body<T>(pub T);

impl<T> Body<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Body<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = web::Json::<T>::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            match json.await {
                Ok(body) => Ok(Body(body.into_inner())),
                Err(body_error) => {
                    // Looked up now, not when the future was made: the
                    // path id's extractor may come after the body's.
                    let scope = req.extensions().get::<PathScope>().cloned();
                    match scope {
                        Some(PathScope(lookup)) => match lookup.await {
                            Some(scope_error) => Err(scope_error.into()),
                            None => Err(body_error),
                        },
                        None => Err(body_error),
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn handler_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("readable handlers") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                handler_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// The arguments of each handler (`pub async fn name(...) ->`) in `text`.
    fn handler_arguments(text: &str) -> Vec<(String, String)> {
        let mut found = Vec::new();
        let mut rest = text;
        while let Some(at) = rest.find("pub async fn ") {
            rest = &rest[at + "pub async fn ".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let args = rest.split(") ->").next().unwrap_or_default();
            found.push((name, args.to_owned()));
        }
        found
    }

    /// A handler with a scoped path id reads its body with `Body`, so the
    /// id's 404 wins over the body's errors; `web::Json` next to `Scoped`
    /// would race it.
    #[test]
    fn handlers_with_a_scoped_path_id_read_their_body_with_body() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/handlers");
        let mut files = Vec::new();
        handler_files(&dir, &mut files);
        let mut racing = Vec::new();
        let mut checked = 0;
        for file in files {
            let text = std::fs::read_to_string(&file).expect("readable source");
            for (name, args) in handler_arguments(&text) {
                if args.contains("Scoped<") {
                    checked += 1;
                    if args.contains("web::Json<") {
                        racing.push(name);
                    }
                }
            }
        }
        assert!(checked > 0, "no handler with a Scoped path id found");
        assert!(
            racing.is_empty(),
            "take the body as `scoped::Body<T>`, not `web::Json<T>`: {racing:?}"
        );
    }
}
