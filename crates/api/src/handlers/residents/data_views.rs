//! 谁查看了我的信息: a resident asks who among staff was shown their
//! unmasked personal data, when, what, on which of their cases.

use crate::extract::ResidentAuth;
use crate::handlers::admin::personal_data_views::{role_label, what_label};
use crate::pagination::{PageQuery, split_page};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, web};
use chrono::{DateTime, Utc};
use sansuo_store::data_views::DataViewFilter;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// One time a staff member was shown your data.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MyDataViewLine {
    pub viewed_at: DateTime<Utc>,
    /// The staff member's display name.
    pub staff_name: Option<String>,
    /// Their role, in Chinese (律师, 调解员, 社区民警, 协调员, 管理员).
    pub role: String,
    /// The unit they work in.
    pub unit_name: Option<String>,
    /// What was shown, in Chinese.
    pub what: String,
    /// The same as a code: `party_contact`, `case_file_parties`,
    /// `intake_resident`, `resident_phone` or `reporter`.
    pub what_code: String,
    /// Your case it was shown in.
    pub case_id: Uuid,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MyDataViewPage {
    pub items: Vec<MyDataViewLine>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Who has seen your personal data (your name and contact as a party, the
/// case file of your case), newest first.
#[utoipa::path(tag = "residents", security(("bearer" = [])), params(PageQuery), responses(
    (status = 200, body = MyDataViewPage),
    (status = 400, body = ErrorBody, description = "`bad_parameter`: bad cursor or limit"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a resident"),
))]
#[get("/me/data-views")]
pub async fn my_data_views(
    state: web::Data<AppState>,
    auth: ResidentAuth,
    query: web::Query<PageQuery>,
) -> Result<web::Json<MyDataViewPage>, ApiError> {
    let page_request = query.parse::<Uuid>()?;
    let filter = DataViewFilter {
        subject_resident_id: Some(auth.0.as_uuid()),
        ..DataViewFilter::default()
    };
    let rows = state
        .store
        .data_views()
        .list(&filter, page_request.before, page_request.limit + 1)
        .await?;
    let (rows, next_cursor) = split_page(rows, page_request.limit, |r| r.id);
    Ok(web::Json(MyDataViewPage {
        items: rows
            .into_iter()
            .map(|r| MyDataViewLine {
                viewed_at: r.viewed_at,
                staff_name: r.staff_name,
                role: role_label(&r.role),
                unit_name: r.org_unit_name,
                what: what_label(&r.what),
                what_code: r.what,
                case_id: r.case_id,
            })
            .collect(),
        next_cursor,
    }))
}
