//! The audit of personal data, for administrators: who was shown whose
//! unmasked data, when, through which operation, on which case — in the
//! communities of your subtree. JSON pages or a CSV export.

use crate::extract::AdminAuth;
use crate::pagination::{PageQuery, split_page};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use sansuo_domain::StaffRole;
use sansuo_domain::data_view::{DataKind, role_zh};
use sansuo_store::data_views::{DataViewFilter, DataViewRecord};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The most rows one CSV export carries; narrow the filters for more.
pub const CSV_MAX_ROWS: u64 = 10_000;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DataViewsQuery {
    /// Only views of this case.
    pub case_id: Option<Uuid>,
    /// Only views by this staff member.
    pub staff_id: Option<Uuid>,
    /// Only views of this resident's data.
    pub resident_id: Option<Uuid>,
    /// Viewed at or after this time (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Viewed before this time (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// `json` (default, one page) or `csv` (every matching row, newest
    /// first, up to 10000; UTF-8 with BOM, Chinese headers).
    #[param(pattern = "^(json|csv)$")]
    pub format: Option<String>,
    /// `next_cursor` of the previous page; omit for the first page (JSON only).
    #[param(pattern = r"^c1\.[0-9a-fA-F]{32}$")]
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 20; JSON only).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
}

/// One showing of unmasked personal data to a staff member. It names the
/// kind of data, never the data.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DataViewLine {
    pub id: Uuid,
    pub viewed_at: DateTime<Utc>,
    pub staff_id: Uuid,
    /// The staff member's display name (absent if the account is gone).
    pub staff_name: Option<String>,
    /// `lawyer`, `mediator`, `officer`, `coordinator` or `admin`.
    pub role: String,
    /// The role in Chinese.
    pub role_label: String,
    /// The unit the staff member acted in.
    pub org_unit_id: Uuid,
    pub org_unit_name: Option<String>,
    /// Method and route, e.g. `GET /api/v1/staff/mediations/{id}`.
    pub operation: String,
    pub request_id: String,
    pub case_id: Uuid,
    pub community_id: Uuid,
    /// The resident whose data it was, when that person has an account.
    pub resident_id: Option<Uuid>,
    /// `party_contact`, `case_file_parties`, `intake_resident`,
    /// `resident_phone` or `reporter`.
    pub what: String,
    /// `what` in Chinese.
    pub what_label: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DataViewPage {
    pub items: Vec<DataViewLine>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

pub(crate) fn role_label(role: &str) -> String {
    role.parse::<StaffRole>()
        .map(|r| role_zh(r).to_owned())
        .unwrap_or_else(|_| role.to_owned())
}

pub(crate) fn what_label(what: &str) -> String {
    what.parse::<DataKind>()
        .map(|k| k.label_zh().to_owned())
        .unwrap_or_else(|_| what.to_owned())
}

fn line(r: DataViewRecord) -> DataViewLine {
    DataViewLine {
        id: r.id,
        viewed_at: r.viewed_at,
        staff_id: r.staff_id,
        staff_name: r.staff_name,
        role_label: role_label(&r.role),
        role: r.role,
        org_unit_id: r.org_unit_id,
        org_unit_name: r.org_unit_name,
        operation: r.operation,
        request_id: r.request_id,
        case_id: r.case_id,
        community_id: r.community_id,
        resident_id: r.subject_resident_id,
        what_label: what_label(&r.what),
        what: r.what,
    }
}

/// The CSV's header row, in Chinese.
pub const CSV_HEADERS: [&str; 15] = [
    "记录编号",
    "查阅时间（北京时间）",
    "查阅时间（UTC）",
    "工作人员编号",
    "工作人员",
    "角色",
    "所在单位编号",
    "所在单位",
    "操作",
    "请求编号",
    "案件编号",
    "社区编号",
    "居民编号",
    "查阅内容",
    "内容代码",
];

/// A CSV field: quoted when it holds a comma, quote or line break; a
/// leading `=`, `+`, `-` or `@` is prefixed with `'` so a spreadsheet does
/// not run it as a formula.
fn field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

fn render_csv(lines: &[DataViewLine]) -> String {
    let beijing = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    let mut out = String::from("\u{feff}");
    out += &CSV_HEADERS.join(",");
    out += "\r\n";
    for l in lines {
        let cells = [
            l.id.to_string(),
            l.viewed_at
                .with_timezone(&beijing)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string(),
            l.viewed_at
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            l.staff_id.to_string(),
            l.staff_name.clone().unwrap_or_default(),
            l.role_label.clone(),
            l.org_unit_id.to_string(),
            l.org_unit_name.clone().unwrap_or_default(),
            l.operation.clone(),
            l.request_id.clone(),
            l.case_id.to_string(),
            l.community_id.to_string(),
            l.resident_id.map(|r| r.to_string()).unwrap_or_default(),
            l.what_label.clone(),
            l.what.clone(),
        ];
        out += &cells.iter().map(|c| field(c)).collect::<Vec<_>>().join(",");
        out += "\r\n";
    }
    out
}

/// Who was shown unmasked personal data (a party's contact, an in-person
/// resident's phone, a case file with parties) on the cases of your
/// subtree's communities, newest first: JSON pages, or every matching row
/// as CSV (`format=csv`).
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(DataViewsQuery), responses(
    (status = 200, description = "JSON, or `text/csv` (UTF-8 with BOM, Chinese headers) with `format=csv`",
        content(
            (DataViewPage = "application/json"),
            (String = "text/csv"),
        )
    ),
    (status = 400, body = ErrorBody, description = "`bad_parameter`: bad cursor, limit, format, id or time"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a coordinator or administrator"),
))]
#[get("/admin/personal-data-views")]
pub async fn list_personal_data_views(
    state: web::Data<AppState>,
    admin: AdminAuth,
    query: web::Query<DataViewsQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let csv = match query.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::bad_parameter(format!(
                "format `{other}`: use json or csv"
            )));
        }
    };
    let page_request = PageQuery {
        cursor: query.cursor,
        limit: query.limit,
    }
    .parse::<Uuid>()?;
    let filter = DataViewFilter {
        communities: Some(state.store.stats().subtree_units(admin.scope).await?),
        case_id: query.case_id,
        staff_id: query.staff_id,
        subject_resident_id: query.resident_id,
        from: query.from,
        to: query.to,
    };
    if csv {
        let rows = state
            .store
            .data_views()
            .list(&filter, page_request.before, CSV_MAX_ROWS)
            .await?;
        let lines: Vec<DataViewLine> = rows.into_iter().map(line).collect();
        tracing::info!(rows = lines.len(), staff_id = %admin.id, "personal data audit exported");
        return Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                "Content-Disposition",
                "attachment; filename=\"personal-data-views.csv\"",
            ))
            .body(render_csv(&lines)));
    }
    let rows = state
        .store
        .data_views()
        .list(&filter, page_request.before, page_request.limit + 1)
        .await?;
    let (rows, next_cursor) = split_page(rows, page_request.limit, |r| r.id);
    Ok(HttpResponse::Ok().json(DataViewPage {
        items: rows.into_iter().map(line).collect(),
        next_cursor,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=1+1"), "'=1+1");
        assert_eq!(field("调解员"), "调解员");
    }

    #[test]
    fn csv_starts_with_a_bom_and_chinese_headers() {
        let csv = render_csv(&[]);
        assert!(csv.starts_with('\u{feff}'));
        assert!(csv.contains("查阅时间（北京时间）"));
    }
}
