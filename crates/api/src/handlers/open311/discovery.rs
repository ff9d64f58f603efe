use super::docs::{DiscoveryDoc, Open311ErrorDoc};
use super::{CHANGESET, Open311Failure, State, document, format_of};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use sansuo_open311::{
    Discovery, Endpoint, EndpointType, Format, GEOREPORT_V2_SPECIFICATION, Render,
};

/// The service discovery document: where the GeoReport v2 endpoint is,
/// its formats, and how to get an API key.
///
/// The endpoint's `url` is built from the request's scheme and host (behind
/// a proxy, from `Forwarded`/`X-Forwarded-*`). `type` is `test` on a demo
/// server, `production` otherwise.
#[utoipa::path(tag = "open311",
    params(("format" = String, Path, description = "`xml` or `json`")),
    responses(
        (status = 200, description = "`<discovery>`", content(
            (DiscoveryDoc = "application/json"), (String = "text/xml"))),
        (status = 404, description = "Unknown format extension (answered in XML)", content(
            (Vec<Open311ErrorDoc> = "application/json"), (String = "text/xml"))),
    ))]
#[get("/v2/discovery.{format}")]
pub async fn discovery(
    state: State,
    req: HttpRequest,
    format: web::Path<String>,
) -> Result<HttpResponse, Open311Failure> {
    let format = format_of("discovery", &format)?;
    let info = req.connection_info();
    let url = format!("{}://{}/open311/v2", info.scheme(), info.host());
    let endpoint_type = if state.config.demo_login {
        EndpointType::Test
    } else {
        EndpointType::Production
    };
    let doc = Discovery {
        changeset: CHANGESET.into(),
        contact: "三所联动 community legal services: the district administrator (区管理员) of your police station's district".into(),
        key_service: "API keys are issued by the district administrator: POST /api/v1/admin/open311-keys (role admin). The key is shown once; keep it secret.".into(),
        endpoints: vec![Endpoint {
            specification: GEOREPORT_V2_SPECIFICATION.into(),
            url,
            changeset: CHANGESET.into(),
            endpoint_type,
            formats: Format::ALL.to_vec(),
        }],
    };
    Ok(document(StatusCode::OK, format, doc.render(format)))
}
