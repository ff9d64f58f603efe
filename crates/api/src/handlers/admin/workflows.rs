//! Workflows (SLA targets and escalation ladders) as data an administrator
//! edits. The catalogue file seeds them; an edit here outlives restarts.
use crate::error::ErrorCode;

use crate::extract::{AdminAuth, AdministratorAuth};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, put, web};
use sansuo_domain::ValidationError;
use sansuo_domain::catalog::{Service, SlaTargets, Workflow, validate_workflow};
use sansuo_domain::dispatch::LadderStep;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlaTargetsBody {
    /// Business minutes from submission until someone takes the case.
    #[schema(minimum = 0, maximum = 527040)]
    pub accept_minutes: i64,
    /// Business minutes from taking it until the first public answer.
    #[schema(minimum = 0, maximum = 527040)]
    pub first_response_minutes: i64,
    /// Business minutes from submission until resolved (paused while waiting on the resident).
    #[schema(minimum = 0, maximum = 527040)]
    pub resolution_minutes: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LadderStepBody {
    /// `lawyer`, `mediator`, `officer` or `coordinator`.
    #[schema(example = "lawyer")]
    pub role: String,
    /// `community`, `station`, `street` or `district`.
    #[schema(example = "street")]
    pub level: String,
    /// 0 to 527040 (a year); the step's effective timeout must be positive.
    /// Business minutes: nights, weekends and holidays of the business
    /// calendar do not count.
    #[schema(minimum = 0, maximum = 527040)]
    pub timeout_minutes: i64,
    /// Finer grain for drills: replaces `timeout_minutes` when set, and runs
    /// on the wall clock (a drill runs at any hour).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 31622400)]
    pub timeout_seconds: Option<i64>,
    #[serde(default)]
    pub priority_boost: i32,
    /// Climb straight on when nobody is eligible now.
    #[serde(default)]
    pub skip_when_nobody: bool,
    /// Only staff on the duty roster now.
    #[serde(default)]
    pub on_duty_only: bool,
    /// Only the community's signed lawyer.
    #[serde(default)]
    pub signed_lawyer_only: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WorkflowView {
    #[schema(example = "consultation_lawyer")]
    pub name: String,
    #[schema(example = "consultation")]
    pub service: String,
    pub sla: SlaTargetsBody,
    pub ladder: Vec<LadderStepBody>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WorkflowList {
    pub items: Vec<WorkflowView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWorkflowRequest {
    pub sla: SlaTargetsBody,
    pub ladder: Vec<LadderStepBody>,
}

fn view(name: String, service: String, sla: SlaTargets, ladder: &[LadderStep]) -> WorkflowView {
    WorkflowView {
        name,
        service,
        sla: SlaTargetsBody {
            accept_minutes: sla.accept_minutes,
            first_response_minutes: sla.first_response_minutes,
            resolution_minutes: sla.resolution_minutes,
        },
        ladder: ladder
            .iter()
            .map(|s| {
                // The step serialises with the same field names it is read with.
                serde_json::from_value(serde_json::to_value(s).expect("steps serialise"))
                    .expect("a step reads back as a step body")
            })
            .collect(),
    }
}

fn parse_step(index: usize, body: &LadderStepBody) -> Result<LadderStep, ValidationError> {
    let value = serde_json::to_value(body).expect("bodies serialise");
    serde_json::from_value(value).map_err(|e| {
        ValidationError::new(
            "ladder",
            format!("step {index}: {e} (role: lawyer|mediator|officer|coordinator; level: community|station|street|district)"),
        )
    })
}

/// Every workflow: its SLA targets and escalation ladder.
#[utoipa::path(tag = "admin", security(("bearer" = [])), responses(
    (status = 200, body = WorkflowList),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
))]
#[get("/admin/workflows")]
pub async fn list_workflows(
    state: web::Data<AppState>,
    _admin: AdminAuth,
) -> Result<web::Json<WorkflowList>, ApiError> {
    let items = state
        .store
        .routing()
        .workflows()
        .await?
        .into_iter()
        .map(|(name, service, rules)| view(name, service, rules.sla, &rules.ladder))
        .collect();
    Ok(web::Json(WorkflowList { items }))
}

/// Replace a workflow's SLA targets and ladder (administrators only: a
/// workflow serves the whole district). Cases on it follow the new ladder
/// from their current step; the edit survives restarts.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("name" = String, Path)), request_body = UpdateWorkflowRequest, responses(
    (status = 200, body = WorkflowView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: administrators only"),
    (status = 404, body = ErrorBody, description = "`workflow_not_found`"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: an empty ladder, a bad step, SLA targets out of order"),
))]
#[put("/admin/workflows/{name}")]
pub async fn update_workflow(
    state: web::Data<AppState>,
    _admin: AdministratorAuth,
    name: web::Path<String>,
    body: web::Json<UpdateWorkflowRequest>,
) -> Result<web::Json<WorkflowView>, ApiError> {
    let name = name.into_inner();
    let not_found = || ApiError::new(ErrorCode::WorkflowNotFound, format!("no workflow `{name}`"));
    let (_, service, _) = state
        .store
        .routing()
        .workflows()
        .await?
        .into_iter()
        .find(|(n, _, _)| *n == name)
        .ok_or_else(not_found)?;
    check_bounds(&body)?;
    let ladder = body
        .ladder
        .iter()
        .enumerate()
        .map(|(i, step)| parse_step(i, step))
        .collect::<Result<Vec<_>, _>>()?;
    let sla = SlaTargets {
        accept_minutes: body.sla.accept_minutes,
        first_response_minutes: body.sla.first_response_minutes,
        resolution_minutes: body.sla.resolution_minutes,
    };
    let service_kind: Service = serde_json::from_value(serde_json::Value::String(service.clone()))
        .map_err(|_| {
            ApiError::internal(format!("workflow `{name}` has unknown service {service}"))
        })?;
    let workflow = Workflow {
        service: service_kind,
        sla,
        ladder,
    };
    validate_workflow(&name, &workflow)
        .map_err(|e| ValidationError::new("workflow", e.to_string()))?;
    state
        .store
        .routing()
        .update_workflow(&name, sla, &workflow.ladder, chrono::Utc::now())
        .await?;
    tracing::info!(workflow = %name, "workflow edited");
    Ok(web::Json(view(name, service, sla, &workflow.ladder)))
}

/// A year of minutes: no real target or step is longer, and the bound keeps
/// the duration arithmetic downstream in range (an `i64` of minutes or
/// seconds near its limit overflows a `chrono::Duration`).
const MAX_MINUTES: i64 = 366 * 24 * 60;

fn check_bounds(body: &UpdateWorkflowRequest) -> Result<(), ApiError> {
    let minutes = [
        ("sla.accept_minutes", body.sla.accept_minutes),
        (
            "sla.first_response_minutes",
            body.sla.first_response_minutes,
        ),
        ("sla.resolution_minutes", body.sla.resolution_minutes),
    ]
    .into_iter()
    .chain(
        body.ladder
            .iter()
            .map(|s| ("ladder.timeout_minutes", s.timeout_minutes)),
    );
    for (field, value) in minutes {
        if !(0..=MAX_MINUTES).contains(&value) {
            return Err(ValidationError::new(field, format!("must be 0 to {MAX_MINUTES}")).into());
        }
    }
    for seconds in body.ladder.iter().filter_map(|s| s.timeout_seconds) {
        if !(0..=MAX_MINUTES * 60).contains(&seconds) {
            return Err(ValidationError::new(
                "ladder.timeout_seconds",
                format!("must be 0 to {}", MAX_MINUTES * 60),
            )
            .into());
        }
    }
    Ok(())
}
