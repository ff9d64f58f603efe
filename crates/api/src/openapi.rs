use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

/// Document-level parts of the spec; paths and schemas are collected from
/// the routes themselves by utoipa-actix-web.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "sansuo API",
        description = "三所联动 community legal services: residents ask lawyers, book mediations and report tips; \
police station, judicial office and law firms handle them. All times are RFC 3339 UTC; ids are UUIDs; errors are \
`{\"error\": {\"code\", \"message\"}}` with stable codes.",
        version = "1.0.0"
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "auth", description = "WeChat, demo and staff login; token refresh"),
        (name = "communities", description = "What a QR code scene opens"),
        (name = "categories", description = "The category tree"),
        (name = "residents", description = "The calling resident: profile and phone binding"),
        (name = "consultations", description = "法律咨询: a resident's questions to lawyers"),
        (name = "mediations", description = "预约调解: residents book mediations; mediators accept, refuse and book sessions in rooms"),
        (name = "tips", description = "线索举报: residents report tips (named or anonymous, with photos and location); officers triage them"),
        (name = "staff", description = "Lawyers: offers, pool, thread, resolution; staff presence"),
        (name = "wechat", description = "WeChat's message push to this server (signed)"),
        (name = "admin", description = "Coordinators and administrators: organisation tree, staff, duty roster, rooms, calendar, routing statistics"),
        (name = "open311", description = "Open311 GeoReport v2 over tips, outside /api/v1 at the specification's paths: services, service definitions, filing with an api_key (issued by administrators), public reading of tips in public categories. Every response is in the format the extension names (.xml or .json); errors are the specification's list of {code, description} with 400, 403 or 404"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The complete OpenAPI document, generated from the same route table the
/// server runs. `sansuo openapi` prints it; a test compares it with the
/// checked-in `openapi/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, spec) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::routes)
        .split_for_parts();
    spec
}
