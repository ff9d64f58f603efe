//! `POST /admin/import`: a district's organisation tree, law firms, rooms
//! and staff from one JSON file (issue #14, bulk import), instead of one
//! POST a unit and a person. The file is checked whole first
//! (`domain::import::validate`), then against the database (usernames,
//! QR scenes, streets and stations already there), and only then written,
//! in one transaction: all of it or nothing.
//!
//! Importing the same file twice is refused (409 `import_conflict`, every
//! collision listed) rather than doubled; no Idempotency-Key replay,
//! because the answer holds generated passwords, which are never stored in
//! the clear. An operator whose answer was lost sees the 409 on a retry
//! and resets the passwords they did not read (`POST
//! /admin/staff/{id}/password`).

use crate::auth::{generate_password, hash_generated_password, hash_password};
use crate::error::{ErrorCode, Problem};
use crate::extract::AdminAuth;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpRequest, HttpResponse, post, web};
use futures::StreamExt;
use sansuo_domain::StaffRole;
use sansuo_domain::import::{ImportError, ImportFile, ImportPlan, validate};
use sansuo_domain::org::UnitKind;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Check the file and what it would collide with; write nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// How many of each the file holds (a dry run) or made.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ImportCounts {
    pub units: usize,
    pub firms: usize,
    pub rooms: usize,
    pub staff: usize,
    /// Communities given a signed lawyer.
    pub signings: usize,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ImportedUnitView {
    /// The file's key.
    pub key: String,
    pub id: Uuid,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ImportedStaffView {
    pub username: String,
    pub id: Uuid,
    /// For entries whose password was `generate`: shown in this answer
    /// only, never stored in the clear; hand it over and have it changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated_password: Option<String>,
}

/// What the import checked or made.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ImportReport {
    pub dry_run: bool,
    pub counts: ImportCounts,
    /// Every unit made, in the file's order (empty for a dry run).
    pub units: Vec<ImportedUnitView>,
    /// Every account made, in the file's order (empty for a dry run).
    pub staff: Vec<ImportedStaffView>,
}

fn problems(errors: Vec<ImportError>) -> Vec<Problem> {
    errors
        .into_iter()
        .map(|e| Problem {
            at: e.at,
            message: e.message,
        })
        .collect()
}

fn counts(plan: &ImportPlan) -> ImportCounts {
    ImportCounts {
        units: plan.units.len(),
        firms: plan.firms.len(),
        rooms: plan.rooms.len(),
        staff: plan.staff.len(),
        signings: plan.staff.iter().map(|s| s.signs.len()).sum(),
    }
}

/// The staff's password hashes in the plan's order, and the generated
/// passwords to show once. Argon2 is slow on purpose for chosen passwords
/// (tens of ms a hash): the work is spread over the blocking pool, one
/// batch a core.
async fn hash_all(plan: &ImportPlan) -> Result<(Vec<String>, Vec<Option<String>>), ApiError> {
    // (password, generated?) : generated ones get the cheap hash (see
    // `hash_generated_password`), chosen ones the slow default.
    let passwords: Vec<(String, Option<String>)> = plan
        .staff
        .iter()
        .map(|person| match &person.password {
            Some(given) => (given.expose().to_owned(), None),
            None => {
                let generated = generate_password();
                (generated.clone(), Some(generated))
            }
        })
        .collect();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let batch = passwords.len().div_ceil(cores).max(1);
    let batches: Vec<Vec<(String, bool)>> = passwords
        .chunks(batch)
        .map(|chunk| {
            chunk
                .iter()
                .map(|(p, g)| (p.clone(), g.is_some()))
                .collect()
        })
        .collect();
    let hashed = futures::future::try_join_all(batches.into_iter().map(|batch| {
        web::block(move || {
            batch
                .iter()
                .map(|(password, generated)| match generated {
                    true => hash_generated_password(password),
                    false => hash_password(password),
                })
                .collect::<Result<Vec<String>, String>>()
        })
    }))
    .await
    .map_err(ApiError::internal)?;
    let hashes = hashed
        .into_iter()
        .collect::<Result<Vec<Vec<String>>, String>>()
        .map_err(ApiError::internal)?
        .concat();
    Ok((hashes, passwords.into_iter().map(|(_, g)| g).collect()))
}

/// Import a district's organisation tree, law firms, rooms and staff from
/// one file (administrators of a district; up to 1 MiB). Units name each
/// other by file keys; streets and police stations go under your district.
/// The whole file is checked first and every problem listed (`problems`,
/// each with where it is, up to 100); then what it collides with in the
/// database; then everything is written in one transaction, or nothing.
/// A dry run checks both and writes nothing. Passwords may be given or
/// `generate`d (shown once, in this answer).
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(ImportQuery), request_body = ImportFile, responses(
    (status = 200, body = ImportReport, description = "A dry run: the file would be imported as counted"),
    (status = 201, body = ImportReport, description = "Imported; generated passwords are in this answer only"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not an administrator of a district"),
    (status = 409, body = ErrorBody, description = "`import_conflict`: usernames, QR scenes, or streets and stations the district already has, each listed in `problems`; nothing was written"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: every problem of the file in `problems` (`units[17].parent: unknown key`); nothing was written"),
))]
#[post("/admin/import")]
pub async fn import_district(
    state: web::Data<AppState>,
    admin: AdminAuth,
    query: web::Query<ImportQuery>,
    req: HttpRequest,
    mut payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    if admin.role != StaffRole::Admin {
        return Err(ApiError::forbidden("a district's administrator imports it"));
    }
    let district: sansuo_domain::OrgUnitId = state
        .store
        .org()
        .unit(admin.scope)
        .await?
        .filter(|unit| unit.kind == UnitKind::District)
        .map(|unit| unit.id.into())
        .ok_or_else(|| ApiError::forbidden("a district's administrator imports it"))?;
    let json = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().unwrap_or("").trim() == "application/json");
    if !json {
        return Err(ErrorCode::UnsupportedMediaType.into());
    }
    // Read as the limits allow (`middleware::MAX_IMPORT_BODY` for an
    // administrator here): the ordinary JSON extractor stops at 32 KiB.
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        match chunk {
            Ok(chunk) => body.extend_from_slice(&chunk),
            Err(actix_web::error::PayloadError::Overflow) => {
                return Err(crate::middleware::body_too_large());
            }
            Err(e) => {
                return Err(ApiError::malformed_json(format!(
                    "the body could not be read: {e}"
                )));
            }
        }
    }
    let file: ImportFile =
        serde_json::from_slice(&body).map_err(crate::extract::json_body_error)?;
    let plan = validate(&file)
        .map_err(|errors| ApiError::with_problems(ErrorCode::ValidationFailed, problems(errors)))?;

    // Checked here for the dry run, and before hashing hundreds of
    // passwords for nothing; `write` checks again inside its transaction.
    let imports = state.store.imports();
    let conflicts = imports.conflicts(district, &plan).await?;
    if !conflicts.is_empty() {
        return Err(ApiError::with_problems(
            ErrorCode::ImportConflict,
            problems(conflicts),
        ));
    }
    if query.dry_run {
        return Ok(HttpResponse::Ok().json(ImportReport {
            dry_run: true,
            counts: counts(&plan),
            units: Vec::new(),
            staff: Vec::new(),
        }));
    }
    let (hashes, generated) = hash_all(&plan).await?;
    let made = match imports
        .write(district, &plan, &hashes, chrono::Utc::now())
        .await
    {
        Ok(Ok(made)) => made,
        Ok(Err(conflicts)) => {
            return Err(ApiError::with_problems(
                ErrorCode::ImportConflict,
                problems(conflicts),
            ));
        }
        // Another import wrote the same username or scene meanwhile.
        Err(e) if e.is_unique_violation() => {
            return Err(ApiError::new(
                ErrorCode::ImportConflict,
                "another import wrote the same usernames or scenes meanwhile; nothing was written",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(
        admin = %admin.id,
        district = %district,
        units = made.units.len(),
        staff = made.staff.len(),
        "district imported"
    );
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(ImportReport {
            dry_run: false,
            counts: ImportCounts {
                units: made.units.len(),
                firms: made.firms,
                rooms: made.rooms,
                staff: made.staff.len(),
                signings: made.signings,
            },
            units: made
                .units
                .into_iter()
                .map(|(key, id)| ImportedUnitView {
                    key,
                    id: id.as_uuid(),
                })
                .collect(),
            staff: made
                .staff
                .into_iter()
                .zip(generated)
                .map(|((username, id), generated_password)| ImportedStaffView {
                    username,
                    id,
                    generated_password,
                })
                .collect(),
        }))
}
