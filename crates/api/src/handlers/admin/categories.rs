//! The category catalogue as data an administrator edits: names, whether
//! tips may be anonymous, urgency (a 110 emergency: refused, never
//! queued), Open311 publicity and the workflows it accepts. The catalogue
//! file seeds it; an edited category is left alone by the start-up sync,
//! so an edit outlives restarts. Categories are global: administrators
//! only. The public list's ETag (`GET /categories`) changes with an edit.
use crate::error::ErrorCode;
use crate::extract::{AdminAuth, AdministratorAuth};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, patch, web};
use sansuo_domain::ValidationError;
use sansuo_store::catalog::CategoryEdit;
use sansuo_store::records::CategoryRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A category with everything an administrator may change.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CategoryDetailView {
    #[schema(example = "LJ")]
    pub code: String,
    pub parent_code: Option<String>,
    pub name_zh: String,
    pub name_en: String,
    /// The services its workflows bring: `consultation`, `mediation`, `tip`.
    pub services: Vec<String>,
    pub priority: i32,
    pub anonymous_allowed: bool,
    pub urgent: bool,
    /// Its tips are listed by Open311's public `GET requests`.
    pub open311_public: bool,
    /// The workflows it accepts, one per service.
    pub workflows: Vec<String>,
    pub active: bool,
}

impl From<CategoryRecord> for CategoryDetailView {
    fn from(c: CategoryRecord) -> Self {
        Self {
            services: c.services.iter().map(|s| s.as_str().to_owned()).collect(),
            code: c.code,
            parent_code: c.parent_code,
            name_zh: c.name_zh,
            name_en: c.name_en,
            priority: c.priority,
            anonymous_allowed: c.anonymous_allowed,
            urgent: c.urgent,
            open311_public: c.open311_public,
            workflows: c.workflows,
            active: c.active,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CategoryDetailList {
    pub items: Vec<CategoryDetailView>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCategoryRequest {
    /// 1 to 64 characters.
    pub name_zh: Option<String>,
    /// 1 to 128 characters.
    pub name_en: Option<String>,
    pub anonymous_allowed: Option<bool>,
    /// `true`: a 110 emergency; submissions in it are refused (`emergency_call_110`).
    pub urgent: Option<bool>,
    pub open311_public: Option<bool>,
    /// Workflow names, at most one per service; the category then takes
    /// exactly their services. On a top-level category, sub-items that
    /// inherited the old list (or flag) inherit the new one.
    pub workflows: Option<Vec<String>>,
}

/// Every category, active or not, with its workflows.
#[utoipa::path(tag = "admin", security(("bearer" = [])), responses(
    (status = 200, body = CategoryDetailList),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a coordinator or administrator"),
))]
#[get("/admin/categories")]
pub async fn list_admin_categories(
    state: web::Data<AppState>,
    _admin: AdminAuth,
) -> Result<web::Json<CategoryDetailList>, ApiError> {
    let items = state
        .store
        .catalog()
        .all_categories()
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(web::Json(CategoryDetailList { items }))
}

fn bounded(
    field: &'static str,
    raw: &Option<String>,
    max: usize,
) -> Result<Option<String>, ApiError> {
    raw.as_deref()
        .map(|text| super::name_text(field, text, max))
        .transpose()
}

/// Edit a category (administrators only).
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("code" = String, Path, example = "LJ01")), request_body = UpdateCategoryRequest, responses(
    (status = 200, body = CategoryDetailView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: administrators only"),
    (status = 404, body = ErrorBody, description = "`category_not_found`"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: a bad name; an unknown workflow, none, or two for one service"),
))]
#[patch("/admin/categories/{code}")]
pub async fn update_category(
    state: web::Data<AppState>,
    admin: AdministratorAuth,
    code: web::Path<String>,
    body: web::Json<UpdateCategoryRequest>,
) -> Result<web::Json<CategoryDetailView>, ApiError> {
    let code = code.into_inner().trim().to_uppercase();
    let not_found = || ApiError::from(ErrorCode::CategoryNotFound);
    state
        .store
        .catalog()
        .any_category(&code)
        .await?
        .ok_or_else(not_found)?;
    let name_zh = bounded("name_zh", &body.name_zh, 64)?;
    let name_en = bounded("name_en", &body.name_en, 128)?;
    let mut services: Vec<&'static str> = Vec::new();
    if let Some(names) = &body.workflows {
        if names.is_empty() {
            return Err(ValidationError::new("workflows", "list at least one workflow").into());
        }
        let known = state.store.routing().workflows().await?;
        for name in names {
            let Some((_, service, _)) = known.iter().find(|(n, _, _)| n == name) else {
                return Err(ValidationError::new(
                    "workflows",
                    format!("`{name}` is not a workflow"),
                )
                .into());
            };
            let service: sansuo_domain::catalog::Service = service
                .parse()
                .map_err(|_| ApiError::internal(format!("workflow {name}: service {service}")))?;
            if services.contains(&service.as_str()) {
                return Err(ValidationError::new(
                    "workflows",
                    format!("two workflows for {}", service.as_str()),
                )
                .into());
            }
            services.push(service.as_str());
        }
    }
    state
        .store
        .catalog()
        .edit_category(
            &code,
            CategoryEdit {
                name_zh: name_zh.as_deref(),
                name_en: name_en.as_deref(),
                anonymous_allowed: body.anonymous_allowed,
                urgent: body.urgent,
                open311_public: body.open311_public,
                workflows: body
                    .workflows
                    .as_deref()
                    .map(|names| (names, services.as_slice())),
            },
            chrono::Utc::now(),
        )
        .await
        .map_err(ApiError::store_not_found(ErrorCode::CategoryNotFound))?;
    tracing::info!(admin = %admin.id, category = %code, "category edited");
    let category = state
        .store
        .catalog()
        .any_category(&code)
        .await?
        .ok_or_else(not_found)?;
    Ok(web::Json(category.into()))
}
