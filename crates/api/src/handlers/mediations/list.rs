//! Lists of mediations: the applicant's own, the mediator's, a
//! coordinator's subtree. Newest first, cursor pagination, filters.
use crate::extract::ResidentAuth;
use crate::pagination::{PageQuery, split_page};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, web};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sansuo_domain::mediation::MediationStatus;
use sansuo_store::mediations::{MediationFilter, MediationSummaryRecord};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A booked session, as a list line shows it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BookedSessionView {
    pub id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub room_id: Uuid,
}

/// A line in a list of mediations.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MediationLine {
    pub id: Uuid,
    pub community_id: Uuid,
    pub category_code: String,
    /// `submitted`, `offered`, `pooled`, `accepted`, `scheduled`, `heard`,
    /// `agreed`, `terminated`, `closed`, `refused`, `withdrawn`.
    pub status: String,
    /// The mediator's display name, once someone accepted it.
    pub mediator: Option<String>,
    /// The earliest session still booked (not held, not cancelled).
    pub next_session: Option<BookedSessionView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MediationPage {
    pub items: Vec<MediationLine>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

pub(crate) fn summary(r: &MediationSummaryRecord) -> MediationLine {
    MediationLine {
        id: r.case.id,
        community_id: r.case.community_id,
        category_code: r.case.category_code.clone(),
        status: r.case.status.to_string(),
        mediator: r.owner.as_ref().map(|o| o.display_name.clone()),
        next_session: r.scheduled.first().map(|s| BookedSessionView {
            id: s.id,
            starts_at: s.starts_at,
            ends_at: s.ends_at,
            room_id: s.room_id,
        }),
        created_at: r.case.created_at,
        updated_at: r.case.updated_at,
    }
}

pub(crate) fn page(rows: Vec<MediationSummaryRecord>, limit: u64) -> web::Json<MediationPage> {
    let (rows, next_cursor) = split_page(rows, limit, |r| r.case.id);
    web::Json(MediationPage {
        items: rows.iter().map(summary).collect(),
        next_cursor,
    })
}

/// A `status` filter: one of the mediation statuses, or 400.
pub(crate) fn status_filter(status: Option<&str>) -> Result<Option<MediationStatus>, ApiError> {
    status
        .map(|s| {
            s.parse::<MediationStatus>()
                .map_err(ApiError::bad_parameter)
        })
        .transpose()
}

/// Whether sessions can be on this day at all (years 2000 to 2999). The
/// spec's dates take any day, so a far one is not refused: it has no
/// sessions (and far years would overflow the instants computed from them).
pub(crate) fn plausible_day(day: NaiveDate) -> bool {
    (2000..=2999).contains(&day.year())
}

/// A `YYYY-MM-DD` day as the spec's `date` format has it (a four-digit
/// year), or 400: chrono also reads `+262143-12-31`.
pub(crate) fn four_digit_year(day: NaiveDate) -> Result<NaiveDate, ApiError> {
    if (0..=9999).contains(&day.year()) {
        Ok(day)
    } else {
        Err(ApiError::bad_parameter("dates are YYYY-MM-DD"))
    }
}

/// The UTC instants `[from, to)` a booked session must start in.
type Window = (DateTime<Utc>, DateTime<Utc>);

/// `session_from` / `session_to` (local dates, both included) as a window.
pub(crate) fn session_window(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Option<Window>, ApiError> {
    use sansuo_domain::room_hours::local_day_bounds;
    if from.is_none() && to.is_none() {
        return Ok(None);
    }
    // Far days are brought to the years sessions can be in (the same
    // sessions match), and `to` before `from` is an empty span, not a 400:
    // the spec cannot say one date must follow the other.
    let first = NaiveDate::from_ymd_opt(2000, 1, 1).expect("a date");
    let last = NaiveDate::from_ymd_opt(2999, 12, 31).expect("a date");
    for day in [from, to].into_iter().flatten() {
        four_digit_year(day)?;
    }
    let from = from.map_or(first, |d| d.clamp(first, last));
    let to = to.map_or(last, |d| d.clamp(first, last));
    if to < from {
        let nothing = local_day_bounds(from).0;
        return Ok(Some((nothing, nothing)));
    }
    Ok(Some((local_day_bounds(from).0, local_day_bounds(to).1)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MyMediationsQuery {
    /// Only mediations in this status (`submitted`, `offered`, `pooled`,
    /// `accepted`, `scheduled`, `heard`, `agreed`, `terminated`, `closed`,
    /// `refused`, `withdrawn`).
    #[param(
        pattern = r"^(submitted|offered|pooled|accepted|scheduled|heard|agreed|terminated|closed|refused|withdrawn)$"
    )]
    pub status: Option<String>,
    /// `next_cursor` of the previous page; omit for the first page.
    #[param(pattern = r"^c1\.[0-9a-fA-F]{32}$")]
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
}

/// Your mediations, newest first: status, mediator, the next booked session.
#[utoipa::path(tag = "mediations", security(("bearer" = [])), params(MyMediationsQuery), responses(
    (status = 200, body = MediationPage),
    (status = 400, body = ErrorBody, description = "`bad_parameter`: bad cursor, limit or status"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a resident"),
))]
#[get("/mediations")]
pub async fn list_my_mediations(
    state: web::Data<AppState>,
    auth: ResidentAuth,
    query: web::Query<MyMediationsQuery>,
) -> Result<web::Json<MediationPage>, ApiError> {
    let query = query.into_inner();
    let filter = MediationFilter {
        status: status_filter(query.status.as_deref())?,
        sessions_between: None,
    };
    let page_request = PageQuery {
        cursor: query.cursor,
        limit: query.limit,
    }
    .parse()?;
    let rows = state
        .store
        .mediations()
        .of_resident(auth.0, filter, page_request.before, page_request.limit + 1)
        .await?;
    Ok(page(rows, page_request.limit))
}
