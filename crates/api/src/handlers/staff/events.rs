use crate::extract::StaffAuth;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::Utc;

/// The calling staff member's event stream (Server-Sent Events).
///
/// Any staff role. Each event has an `id:` (a number growing per staff member), an
/// `event:` type and a `data:` JSON object of ids and times only:
/// `offer` (`case_id`, `service`, `offer_id`, `expires_at`),
/// `offer_expired` (`case_id`, `service`, `offer_id`), `reassigned`
/// (`case_id`, `service`, `direction`: `given` or `taken`), `follow_up` (a
/// resident wrote on a case you own) and `message` (someone else wrote on
/// it), both with `case_id`, `service`, `message_id`; `urge`, `supervised`,
/// `overdue`, `extension`, `extension_requested` and `conversion_answered`
/// (docs/case-lifecycles.md lists their fields). A comment line every
/// 15 s keeps the connection alive. With `Last-Event-ID: n` every stored
/// event numbered after `n` (kept 7 days) comes first, in order, then new
/// ones; without it, only new ones (a value that is not a number, or
/// beyond your latest event, counts as none). The stream ends after
/// `SANSUO_STAFF_STREAM_MAX_SECS` (600 s by default); reconnect with the
/// last id seen and nothing is lost. It ends within seconds when the
/// account is deactivated or its session ends (password or role changed);
/// reconnecting then answers 401 `session_ended`. An open stream also counts as being
/// reachable: someone who lets an offer lapse while a stream of theirs is
/// connected is set `away`; someone who had none stays available.
#[utoipa::path(tag = "staff", security(("bearer" = [])),
    params(("Last-Event-ID" = Option<String>, Header, description = "The id of the last event received; the events after it are sent first")),
    responses(
        (status = 200, content_type = "text/event-stream", body = String, description = "The event stream"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "`forbidden`: residents have no staff events"),
    ))]
#[get("/staff/events")]
pub async fn staff_events(
    state: web::Data<AppState>,
    auth: StaffAuth,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let store = &state.store;
    let head = store.staff_events().head(auth.id).await?;
    let cursor = req
        .headers()
        .get("Last-Event-ID")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|n| *n >= 0)
        .map_or(head, |n| n.min(head));
    // Connected from now: a lapsed offer from here on sets them away.
    store.staff_events().seen(auth.id, Utc::now()).await?;
    let max_life = state.config.staff_stream_max_life;
    // The epoch the request was authenticated under (read a moment ago,
    // from the same one-second cache): the stream ends when it moves.
    let epoch = store
        .identity()
        .staff_session(auth.id)
        .await?
        .map(|s| s.epoch)
        .ok_or(crate::error::ErrorCode::SessionEnded)?;
    let stream =
        crate::staff_stream::events(state.get_ref().clone(), auth.id, epoch, cursor, max_life);
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        // Proxies such as nginx would otherwise buffer the stream.
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(stream))
}
