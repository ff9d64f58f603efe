use crate::error::ErrorCode;
use actix_web::http::StatusCode;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, Response};
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

/// The error responses every operation can give by its shape, generated
/// from [`ErrorCode`] so no operation forgets one: 401 and 403 when it needs
/// a token (every secured operation is for one kind of caller), 400 when
/// it reads path, query or header parameters or a body, 413/415/422 when it
/// reads a JSON body (413/422 for multipart), 422 `invalid_text` when it
/// reads any text, 422 when it reads an `Idempotency-Key`. Every error response then gets the `ErrorBody`
/// schema; statuses an operation documents by hand keep their description.
/// Open311 answers in its own format and documents its own errors.
struct ErrorResponses;

/// The codes a status family is documented with when generated.
fn generated(status: StatusCode, codes: &[ErrorCode]) -> Response {
    let list: Vec<String> = codes.iter().map(|c| format!("`{c}`")).collect();
    let mut response = Response::new(list.join(", "));
    response
        .content
        .insert("application/json".into(), RefOr::T(error_content()));
    debug_assert!(codes.iter().all(|c| c.status() == status));
    response
}

fn error_content() -> Content {
    Content::new(Some(Ref::from_schema_name("ErrorBody")))
}

/// The operations of a path item, with their methods.
fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.options.as_mut(),
        item.head.as_mut(),
        item.patch.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// What an operation can be refused for, by its shape: (status, codes).
fn statuses_by_shape(operation: &Operation) -> Vec<(StatusCode, Vec<ErrorCode>)> {
    use ErrorCode::*;
    let params = operation.parameters.as_deref().unwrap_or_default();
    let param_in = |place: ParameterIn| {
        params
            .iter()
            .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == place))
    };
    let header = |name: &str| {
        params.iter().any(
            |p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Header && p.name == name),
        )
    };
    let body_types: Vec<&str> = match &operation.request_body {
        Some(RefOr::T(body)) => body.content.keys().map(String::as_str).collect(),
        _ => Vec::new(),
    };
    let json_body = body_types.contains(&"application/json");
    let multipart = body_types.contains(&"multipart/form-data");
    let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());

    let mut out = Vec::new();
    let mut bad_request = Vec::new();
    if param_in(ParameterIn::Path) || param_in(ParameterIn::Query) {
        bad_request.push(BadParameter);
    }
    if json_body {
        bad_request.push(MalformedJson);
    }
    if multipart {
        bad_request.extend([BadParameter, MalformedJson]);
    }
    bad_request.dedup();
    if !bad_request.is_empty() {
        out.push((StatusCode::BAD_REQUEST, bad_request));
    }
    if secured {
        out.push((
            StatusCode::UNAUTHORIZED,
            vec![Unauthenticated, TokenExpired],
        ));
        out.push((StatusCode::FORBIDDEN, vec![Forbidden]));
    }
    if json_body {
        out.push((StatusCode::PAYLOAD_TOO_LARGE, vec![BodyTooLarge]));
        out.push((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            vec![UnsupportedMediaType],
        ));
    }
    if multipart {
        out.push((
            StatusCode::PAYLOAD_TOO_LARGE,
            vec![BodyTooLarge, PhotoTooLarge, FieldTooLarge],
        ));
    }
    let mut unprocessable = Vec::new();
    if json_body || multipart {
        unprocessable.extend([InvalidBody, ValidationFailed]);
    }
    // `middleware::input_hygiene`: U+0000 or a lone surrogate anywhere.
    if json_body || multipart || param_in(ParameterIn::Path) || param_in(ParameterIn::Query) {
        unprocessable.push(InvalidText);
    }
    if header(crate::extract::IDEMPOTENCY_HEADER) {
        unprocessable.extend([ValidationFailed, IdempotencyKeyReused]);
    }
    unprocessable.sort();
    unprocessable.dedup();
    if !unprocessable.is_empty() {
        out.push((StatusCode::UNPROCESSABLE_ENTITY, unprocessable));
    }
    out
}

/// Every operation of the API reads or writes the database (a token's
/// session at least), so each can answer 503 `database_busy` with
/// `Retry-After`. A 503 the operation documents by hand
/// (`submission_stored`, `wechat_unavailable`) keeps its words and gains
/// this code.
fn document_database_busy(operation: &mut Operation) {
    const BUSY: &str = "`database_busy`: the database is restarting, unreachable or busy for a moment; nothing was done, retry after Retry-After (with the same Idempotency-Key, if any)";
    let responses = &mut operation.responses.responses;
    match responses.get_mut("503") {
        Some(RefOr::T(response)) => {
            if !response.description.contains("`database_busy`") {
                response.description = format!("{}; {BUSY}", response.description);
            }
        }
        Some(RefOr::Ref(_)) => {}
        None => {
            let mut response = Response::new(BUSY);
            response
                .content
                .insert("application/json".into(), RefOr::T(error_content()));
            responses.insert("503".into(), RefOr::T(response));
        }
    }
}

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            if path.starts_with("/open311/") {
                continue;
            }
            for operation in operations_mut(item) {
                for (status, codes) in statuses_by_shape(operation) {
                    operation
                        .responses
                        .responses
                        .entry(status.as_u16().to_string())
                        .or_insert_with(|| RefOr::T(generated(status, &codes)));
                }
                if path.starts_with("/api/v1/") {
                    document_database_busy(operation);
                }
                for (status, response) in operation.responses.responses.iter_mut() {
                    let error = status.starts_with('4') || status.starts_with('5');
                    if let (true, RefOr::T(response)) = (error, response)
                        && response.content.is_empty()
                    {
                        response
                            .content
                            .insert("application/json".into(), RefOr::T(error_content()));
                    }
                }
            }
        }
    }
}

/// The complete OpenAPI document, generated from the same route table the
/// server runs. `sansuo openapi` prints it; a test compares it with the
/// checked-in `openapi/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut spec) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::routes)
        .split_for_parts();
    // After the routes are in: the error responses are derived from them.
    ErrorResponses.modify(&mut spec);
    spec
}
