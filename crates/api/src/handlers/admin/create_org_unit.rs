use super::ensure_within;
use crate::error::ErrorCode;
use crate::extract::AdminAuth;
use crate::views::OrgUnitView;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, post, web};
use sansuo_domain::ValidationError;
use sansuo_domain::org::UnitKind;
use sansuo_domain::values::Scene;
use sansuo_store::org::NewOrgUnit;
use sansuo_store::scope::Station;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrgUnitKind {
    Street,
    PoliceStation,
    JudicialOffice,
    Community,
    Grid,
}

impl OrgUnitKind {
    fn unit(self) -> UnitKind {
        match self {
            OrgUnitKind::Street => UnitKind::Street,
            OrgUnitKind::PoliceStation => UnitKind::PoliceStation,
            OrgUnitKind::JudicialOffice => UnitKind::JudicialOffice,
            OrgUnitKind::Community => UnitKind::Community,
            OrgUnitKind::Grid => UnitKind::Grid,
        }
    }

    fn name(self) -> &'static str {
        self.unit().as_str()
    }

    /// The tree's shape: district → street and police station; street →
    /// judicial office and community; community → grid.
    fn parent_kind(self) -> UnitKind {
        match self {
            OrgUnitKind::Street | OrgUnitKind::PoliceStation => UnitKind::District,
            OrgUnitKind::JudicialOffice | OrgUnitKind::Community => UnitKind::Street,
            OrgUnitKind::Grid => UnitKind::Community,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ServiceName {
    Consultation,
    Mediation,
    Tip,
}

impl ServiceName {
    /// The spelling in `org_units.services`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ServiceName::Consultation => "consultation",
            ServiceName::Mediation => "mediation",
            ServiceName::Tip => "tip",
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrgUnitRequest {
    pub kind: OrgUnitKind,
    pub parent_id: Uuid,
    /// 1 to 128 characters.
    pub name: String,
    /// For a community: the police station responsible for it.
    pub station_id: Option<Uuid>,
    /// For a community: the QR code scene (≤ 32 characters of WeChat's set), unique.
    pub scene: Option<String>,
    pub address: Option<String>,
    pub office_hours: Option<String>,
    /// Services offered (communities).
    #[serde(default)]
    pub services: Vec<ServiceName>,
}

/// Add a unit under one in your subtree (district → street / police station;
/// street → judicial office / community; community → grid).
#[utoipa::path(tag = "admin", security(("bearer" = [])), request_body = CreateOrgUnitRequest, responses(
    (status = 201, body = OrgUnitView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a coordinator or administrator"),
    (status = 404, body = ErrorBody, description = "`org_unit_not_found`: no such parent in your organisation, or no such police station serving it"),
    (status = 409, body = ErrorBody, description = "`scene_taken`"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: wrong parent kind, a deactivated parent, bad scene or name"),
))]
#[post("/admin/org-units")]
pub async fn create_org_unit(
    state: web::Data<AppState>,
    admin: AdminAuth,
    body: web::Json<CreateOrgUnitRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 128 {
        return Err(ValidationError::new("name", "must be 1 to 128 characters").into());
    }
    let scene = body.scene.as_deref().map(Scene::parse).transpose()?;
    if scene.is_some() && !matches!(body.kind, OrgUnitKind::Community) {
        return Err(ValidationError::new("scene", "only communities have QR scenes").into());
    }
    ensure_within(&state, &admin, body.parent_id.into()).await?;
    let parent = state
        .store
        .org()
        .unit(body.parent_id.into())
        .await?
        .expect("checked above");
    if !parent.active {
        return Err(ValidationError::new("parent_id", "that unit is deactivated").into());
    }
    if parent.kind != body.kind.parent_kind() {
        return Err(ValidationError::new(
            "parent_id",
            format!(
                "a {} belongs under a {}",
                body.kind.name(),
                body.kind.parent_kind()
            ),
        )
        .into());
    }
    // A police station within the caller's subtree, or already serving a
    // community of it: another street's station would get this
    // community's tips.
    if let Some(station) = body.station_id {
        crate::scoped::resolve(
            &state,
            admin.scope,
            Station(station.into()),
            ErrorCode::OrgUnitNotFound,
        )
        .await?;
    }
    if let Some(scene) = &scene
        && state.store.org().scene_taken(scene.as_str()).await?
    {
        return Err(ApiError::new(
            ErrorCode::SceneTaken,
            "another community already has this QR scene",
        ));
    }
    let services: Vec<&str> = body.services.iter().map(|s| s.as_str()).collect();
    let id = state
        .store
        .org()
        .insert_unit(
            NewOrgUnit {
                kind: body.kind.name(),
                parent: Some(body.parent_id.into()),
                station: body.station_id.map(Into::into),
                name,
                scene: scene.as_ref().map(|s| s.as_str()),
                address: body.address.as_deref(),
                office_hours: body.office_hours.as_deref(),
                services: &services,
            },
            chrono::Utc::now(),
        )
        .await?;
    tracing::info!(admin = %admin.id, unit = %id, kind = body.kind.name(), "org unit created");
    let unit = state
        .store
        .org()
        .unit(id)
        .await?
        .ok_or_else(|| ApiError::internal("unit vanished"))?;
    Ok(HttpResponse::Created().json(OrgUnitView::from(unit)))
}
