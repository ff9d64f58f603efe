//! GET `/requests`: the query arguments.

use chrono::{DateTime, Duration, FixedOffset};

use crate::args::{self, single};
use crate::datetime::parse_w3c;
use crate::error::Open311Error;
use crate::model::RequestStatus;

/// The specification's default and maximum span of a date-filtered query.
pub const MAX_WINDOW_DAYS: i64 = 90;
/// Our pagination extension (the de-facto `page`/`page_size` of Chicago,
/// Boston, Toronto, Bloomington...): page size when none is asked for.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// The largest page, and the most ids one `service_request_id` list may
/// name.
pub const MAX_PAGE_SIZE: u32 = 100;

/// What a GET `/requests` asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestQuery {
    /// `service_request_id=1,2,3`: these requests, whatever else was asked
    /// ("This overrides all other arguments"). Unknown ids are left out of
    /// the answer, not reported.
    ByIds(Vec<String>),
    Search(RequestSearch),
}

/// A filtered, paginated search.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestSearch {
    /// Empty means every service.
    pub service_codes: Vec<String>,
    /// Requests whose `requested_datetime` lies in `[start, end]`, both
    /// inclusive; never more than [`MAX_WINDOW_DAYS`] apart.
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    /// Empty means both.
    pub statuses: Vec<RequestStatus>,
    /// 1-based.
    pub page: u32,
    pub page_size: u32,
}

impl RequestSearch {
    /// How many matching requests to skip (`(page - 1) * page_size`).
    pub fn offset(&self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.page_size)
    }

    pub fn limit(&self) -> u64 {
        u64::from(self.page_size)
    }

    pub fn includes_status(&self, status: RequestStatus) -> bool {
        self.statuses.is_empty() || self.statuses.contains(&status)
    }

    pub fn includes_service(&self, service_code: &str) -> bool {
        self.service_codes.is_empty() || self.service_codes.iter().any(|c| c == service_code)
    }

    pub fn includes_requested(&self, requested: &DateTime<FixedOffset>) -> bool {
        self.start <= *requested && *requested <= self.end
    }
}

/// Reads the query pairs of GET `/requests`, collecting every problem (each
/// a 400). `now` anchors the default window; pass the current time (in
/// [`crate::china_standard_time`] so the echoed bounds read naturally).
///
/// The date window, which the specification leaves to the implementer
/// beyond "defaults to the most recent 90 days" and "may not span more than
/// 90 days":
/// - neither date: `[now - 90 days, now]`;
/// - only `start_date`: `[start, start + 90 days]`;
/// - only `end_date`: `[end - 90 days, end]`;
/// - both: as given; `end_date` before `start_date`, or more than 90 days
///   after it, is a 400.
///
/// Unknown arguments (`jurisdiction_id`, `api_key`, `extensions`...) are
/// ignored.
pub fn parse_request_query(
    pairs: &[(String, String)],
    now: DateTime<FixedOffset>,
) -> Result<RequestQuery, Vec<Open311Error>> {
    let mut errors = Vec::new();

    let ids = args::list(pairs, "service_request_id");
    if !ids.is_empty() {
        if ids.len() > MAX_PAGE_SIZE as usize {
            return Err(vec![Open311Error::bad_request(format!(
                "service_request_id names {} requests; at most {MAX_PAGE_SIZE} at once",
                ids.len()
            ))]);
        }
        return Ok(RequestQuery::ByIds(
            ids.into_iter().map(str::to_owned).collect(),
        ));
    }

    let service_codes = args::list(pairs, "service_code")
        .into_iter()
        .map(str::to_owned)
        .collect();

    let mut statuses = Vec::new();
    for status in args::list(pairs, "status") {
        match RequestStatus::parse(status) {
            Some(status) => statuses.push(status),
            None => errors.push(Open311Error::bad_request(format!(
                "status must be open or closed (comma separated for both); got {status:?}"
            ))),
        }
    }

    let mut date = |name: &'static str| -> Option<DateTime<FixedOffset>> {
        let text = single(pairs, name, &mut errors)?;
        let parsed = parse_w3c(text);
        if parsed.is_none() {
            errors.push(Open311Error::bad_request(format!(
                "{name} must be a W3C datetime with a time zone, e.g. 2010-01-01T00:00:00Z; got {text:?}"
            )));
        }
        parsed
    };
    let start = date("start_date");
    let end = date("end_date");
    let window = Duration::days(MAX_WINDOW_DAYS);
    let (start, end) = match (start, end) {
        (Some(start), Some(end)) => {
            if end < start {
                errors.push(Open311Error::bad_request(
                    "end_date must not be before start_date",
                ));
            } else if end - start > window {
                errors.push(Open311Error::bad_request(format!(
                    "start_date and end_date may not span more than {MAX_WINDOW_DAYS} days"
                )));
            }
            (start, end)
        }
        (Some(start), None) => (start, start + window),
        (None, Some(end)) => (end - window, end),
        (None, None) => (now - window, now),
    };

    let mut number = |name: &'static str, default: u32, max: u32| -> u32 {
        let Some(text) = single(pairs, name, &mut errors) else {
            return default;
        };
        match text.parse::<u32>() {
            Ok(value) if (1..=max).contains(&value) => value,
            _ => {
                errors.push(Open311Error::bad_request(format!(
                    "{name} must be a whole number from 1 to {max}; got {text:?}"
                )));
                default
            }
        }
    };
    let page = number("page", 1, u32::MAX);
    let page_size = number("page_size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);

    if errors.is_empty() {
        Ok(RequestQuery::Search(RequestSearch {
            service_codes,
            start,
            end,
            statuses,
            page,
            page_size,
        }))
    } else {
        Err(errors)
    }
}
