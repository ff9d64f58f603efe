use super::docs::{Open311ErrorDoc, ServiceDefinitionDoc, ServiceDoc};
use super::{Open311Failure, OrInternal, State, document, format_of, split_segment};
use crate::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};
use sansuo_domain::catalog::Service;
use sansuo_open311::{
    Attribute, AttributeValue, Datatype, Format, Open311Error, Render, ServiceDef,
    ServiceDefinition, ServiceType,
};
use sansuo_store::records::CategoryRecord;

/// The attribute naming the community a request belongs to: a tip is
/// handled by its community's police, and we have no boundaries to place
/// a point in a community.
pub const COMMUNITY_ATTRIBUTE: &str = "community";
/// Optional: is it still going on?
pub const ONGOING_ATTRIBUTE: &str = "ongoing";

/// A category as an Open311 service: an active sub-category that takes
/// tips and is not an emergency (those are never queued: call 110).
pub(crate) fn is_service(category: &CategoryRecord) -> bool {
    category.active
        && category.parent_code.is_some()
        && !category.urgent
        && category.takes(Service::Tip)
}

/// The services, in catalogue order, each with its parent's English name.
pub(crate) async fn service_list(
    state: &AppState,
    format: Format,
) -> Result<Vec<ServiceDef>, Open311Failure> {
    let categories = state
        .store
        .org()
        .active_categories()
        .await
        .or_internal(format)?;
    Ok(categories
        .iter()
        .filter(|c| is_service(c))
        .map(|c| ServiceDef {
            service_code: c.code.clone(),
            service_name: c.name_en.clone(),
            description: Some(c.name_zh.clone()),
            metadata: true,
            service_type: ServiceType::Realtime,
            keywords: Vec::new(),
            group: c
                .parent_code
                .as_deref()
                .and_then(|p| categories.iter().find(|parent| parent.code == p))
                .map(|parent| parent.name_en.clone()),
        })
        .collect())
}

/// The definition every service shares: which community, and whether it
/// is still going on.
pub(crate) async fn definition(
    state: &AppState,
    service_code: &str,
    format: Format,
) -> Result<ServiceDefinition, Open311Failure> {
    let communities = state
        .store
        .open311()
        .tip_communities()
        .await
        .or_internal(format)?;
    Ok(ServiceDefinition {
        service_code: service_code.to_owned(),
        attributes: vec![
            Attribute {
                variable: true,
                code: COMMUNITY_ATTRIBUTE.into(),
                datatype: Datatype::Singlevaluelist,
                required: true,
                datatype_description: Some(
                    "The key of the community (居委) where it is: the community's QR code scene"
                        .into(),
                ),
                order: 1,
                description: "Which community is it in? The community's police handle it.".into(),
                values: communities
                    .into_iter()
                    .filter_map(|c| {
                        Some(AttributeValue {
                            key: c.scene?,
                            name: c.name,
                        })
                    })
                    .collect(),
            },
            Attribute {
                variable: true,
                code: ONGOING_ATTRIBUTE.into(),
                datatype: Datatype::Singlevaluelist,
                required: false,
                datatype_description: None,
                order: 2,
                description: "Is it still going on? If anyone is in danger now, call 110 instead."
                    .into(),
                values: vec![
                    AttributeValue {
                        key: "yes".into(),
                        name: "Yes, still going on".into(),
                    },
                    AttributeValue {
                        key: "no".into(),
                        name: "No, it has stopped".into(),
                    },
                ],
            },
        ],
    })
}

/// The category behind a service code, if it is a service.
pub(crate) async fn service_category(
    state: &AppState,
    code: &str,
    format: Format,
) -> Result<Option<CategoryRecord>, Open311Failure> {
    Ok(state
        .store
        .org()
        .category(code)
        .await
        .or_internal(format)?
        .filter(is_service))
}

/// The services: every tip sub-category that is not an emergency.
/// `group` is the parent category's English name, `description` the
/// Chinese name; every service is `realtime` with `metadata` true.
#[utoipa::path(tag = "open311",
    params(("format" = String, Path, description = "`xml` or `json`")),
    responses(
        (status = 200, description = "`<services><service>`", content(
            (Vec<ServiceDoc> = "application/json"), (String = "text/xml"))),
        (status = 404, description = "Unknown format extension (answered in XML)", content(
            (Vec<Open311ErrorDoc> = "application/json"), (String = "text/xml"))),
    ))]
#[get("/v2/services.{format}")]
pub async fn list_services(
    state: State,
    format: web::Path<String>,
) -> Result<HttpResponse, Open311Failure> {
    let format = format_of("services", &format)?;
    let services = service_list(&state, format).await?;
    Ok(document(
        StatusCode::OK,
        format,
        services.as_slice().render(format),
    ))
}

/// A service's definition: a required `community` (singlevaluelist; key =
/// the community's QR scene) and an optional `ongoing` (yes/no).
#[utoipa::path(tag = "open311",
    params(
        ("service_code" = String, Path, description = "e.g. `AQ01`"),
        ("format" = String, Path, description = "`xml` or `json`"),
    ),
    responses(
        (status = 200, description = "`<service_definition>`", content(
            (ServiceDefinitionDoc = "application/json"), (String = "text/xml"))),
        (status = 404, description = "Unknown service_code or format extension", content(
            (Vec<Open311ErrorDoc> = "application/json"), (String = "text/xml"))),
    ))]
#[get("/v2/services/{service_code}.{format}")]
pub async fn get_service_definition(
    state: State,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Open311Failure> {
    let (code, format) = path.into_inner();
    let segment = format!("{code}.{format}");
    let (code, format) = split_segment(&segment)?;
    if service_category(&state, code, format).await?.is_none() {
        return Err(Open311Failure::one(
            format,
            Open311Error::unknown_service_code(code),
        ));
    }
    let definition = definition(&state, code, format).await?;
    Ok(document(StatusCode::OK, format, definition.render(format)))
}
