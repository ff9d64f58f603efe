//! Cursor pagination. Case ids are UUID v7, so "newest first" is "id
//! descending" and the cursor is simply the last id of the page, encoded so
//! clients treat it as opaque.

use crate::ApiError;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

pub const DEFAULT_LIMIT: u64 = 20;
pub const MAX_LIMIT: u64 = 100;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// `next_cursor` of the previous page; omit for the first page.
    #[param(pattern = r"^c1\.[0-9a-fA-F]{32}$")]
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
}

pub struct PageRequest<T> {
    pub before: Option<T>,
    pub limit: u64,
}

impl PageQuery {
    pub fn parse<T: From<Uuid>>(&self) -> Result<PageRequest<T>, ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::bad_parameter(format!(
                "limit must be between 1 and {MAX_LIMIT}"
            )));
        }
        let before = match &self.cursor {
            None => None,
            Some(c) => Some(
                decode_cursor(c)
                    .ok_or_else(|| ApiError::bad_parameter("cursor is not valid"))?
                    .into(),
            ),
        };
        Ok(PageRequest { before, limit })
    }
}

pub fn encode_cursor(last: Uuid) -> String {
    format!("c1.{}", last.simple())
}

fn decode_cursor(cursor: &str) -> Option<Uuid> {
    cursor
        .strip_prefix("c1.")
        .and_then(|hex| Uuid::try_parse(hex).ok())
}

/// Fetch `limit + 1` rows; if the extra one came back, there is a next page.
pub fn split_page<T>(
    mut rows: Vec<T>,
    limit: u64,
    id_of: impl Fn(&T) -> Uuid,
) -> (Vec<T>, Option<String>) {
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let next = if more {
        rows.last().map(|r| encode_cursor(id_of(r)))
    } else {
        None
    };
    (rows, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let id = Uuid::now_v7();
        assert_eq!(decode_cursor(&encode_cursor(id)), Some(id));
        assert_eq!(decode_cursor("garbage"), None);
        assert_eq!(decode_cursor("c1.zz"), None);
    }

    #[test]
    fn split_page_detects_a_next_page() {
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let (page, next) = split_page(ids.clone(), 2, |u| *u);
        assert_eq!(page.len(), 2);
        assert_eq!(next, Some(encode_cursor(ids[1])));
        let (page, next) = split_page(ids, 3, |u| *u);
        assert_eq!((page.len(), next), (3, None));
    }

    #[test]
    fn limits_are_bounded() {
        let q = PageQuery {
            cursor: None,
            limit: Some(0),
        };
        assert!(q.parse::<Uuid>().is_err());
        let q = PageQuery {
            cursor: None,
            limit: Some(101),
        };
        assert!(q.parse::<Uuid>().is_err());
    }
}
