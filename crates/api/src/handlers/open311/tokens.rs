use super::docs::{Open311ErrorDoc, TokenLookupDoc};
use super::{Open311Failure, OrInternal, State, document, split_segment};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};
use sansuo_open311::{Open311Error, Render, TokenLookup};
use uuid::Uuid;

/// The request id behind a token. Every service is `realtime`: POST
/// `requests` answers with the `service_request_id` at once and never
/// issues a token. For clients that ask anyway, a token equal to an id we
/// issued (a tip filed through Open311) resolves to that id; anything else
/// is a 404.
#[utoipa::path(tag = "open311",
    params(
        ("token" = String, Path),
        ("format" = String, Path, description = "`xml` or `json`"),
    ),
    responses(
        (status = 200, description = "`<service_requests><request>`, one element", content(
            (Vec<TokenLookupDoc> = "application/json"), (String = "text/xml"))),
        (status = 404, description = "Unknown token, or format extension", content(
            (Vec<Open311ErrorDoc> = "application/json"), (String = "text/xml"))),
    ))]
#[get("/v2/tokens/{token}.{format}")]
pub async fn get_token(
    state: State,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Open311Failure> {
    let (token, format) = path.into_inner();
    let segment = format!("{token}.{format}");
    let (token, format) = split_segment(&segment)?;
    let issued = match token.parse::<Uuid>() {
        Ok(id)
            if state
                .store
                .open311()
                .filed_through(id)
                .await
                .or_internal(format)? =>
        {
            id
        }
        _ => {
            return Err(Open311Failure::one(
                format,
                Open311Error::unknown_token(token),
            ));
        }
    };
    let lookup = TokenLookup {
        service_request_id: Some(issued.to_string()),
        token: token.to_owned(),
    };
    Ok(document(
        StatusCode::OK,
        format,
        std::slice::from_ref(&lookup).render(format),
    ))
}
