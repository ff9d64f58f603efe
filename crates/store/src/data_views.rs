//! The audit of personal data shown unmasked to staff (issue 18, item 5):
//! rows are written before the data leaves, all of one request's rows in
//! one statement, and read back for administrators (their subtree's
//! communities) and for the resident the data belongs to. A row names the
//! kind of data, never the data.

use crate::entity::{org_unit, personal_data_view, staff};
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use sansuo_domain::StaffRole;
use sansuo_domain::data_view::DataKind;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::HashMap;
use uuid::Uuid;

/// One showing, as the API records it.
#[derive(Debug, Clone)]
pub struct NewDataView {
    pub staff_id: Uuid,
    pub role: StaffRole,
    pub org_unit_id: Uuid,
    /// The operation: method and route pattern, e.g. `GET /api/v1/staff/mediations/{id}`.
    pub operation: String,
    pub request_id: String,
    pub case_id: Uuid,
    pub community_id: Uuid,
    pub subject_resident_id: Option<Uuid>,
    pub what: DataKind,
}

/// Which rows to read: always bounded by `communities` (an
/// administrator's subtree) or `subject_resident_id` (a resident's own).
#[derive(Debug, Clone, Default)]
pub struct DataViewFilter {
    pub communities: Option<Vec<Uuid>>,
    pub case_id: Option<Uuid>,
    pub staff_id: Option<Uuid>,
    pub subject_resident_id: Option<Uuid>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// A row with the names a reader needs: the staff member's display name
/// and the name of the unit they acted in.
#[derive(Debug, Clone)]
pub struct DataViewRecord {
    pub id: Uuid,
    pub viewed_at: DateTime<Utc>,
    pub staff_id: Uuid,
    pub staff_name: Option<String>,
    pub role: String,
    pub org_unit_id: Uuid,
    pub org_unit_name: Option<String>,
    pub operation: String,
    pub request_id: String,
    pub case_id: Uuid,
    pub community_id: Uuid,
    pub subject_resident_id: Option<Uuid>,
    pub what: String,
}

/// The audit of personal data. Reached as `store.data_views()`.
#[derive(Clone, Copy)]
pub struct DataViews<'a>(pub(crate) &'a Store);

impl Store {
    pub fn data_views(&self) -> DataViews<'_> {
        DataViews(self)
    }
}

impl DataViews<'_> {
    /// Write the rows, in one statement (nothing for none). An error means
    /// none was written: the caller must not show the data.
    pub async fn record(self, rows: &[NewDataView]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let now = Utc::now();
        let models = rows.iter().map(|r| personal_data_view::ActiveModel {
            id: Set(Uuid::now_v7()),
            viewed_at: Set(now),
            staff_id: Set(r.staff_id),
            role: Set(r.role.as_str().to_owned()),
            org_unit_id: Set(r.org_unit_id),
            operation: Set(r.operation.chars().take(200).collect()),
            request_id: Set(r.request_id.chars().take(64).collect()),
            case_id: Set(r.case_id),
            community_id: Set(r.community_id),
            subject_resident_id: Set(r.subject_resident_id),
            what: Set(r.what.as_str().to_owned()),
        });
        personal_data_view::Entity::insert_many(models)
            .exec_without_returning(self.0.db())
            .await?;
        Ok(())
    }

    /// Newest first, ids below `before`, at most `limit` rows.
    pub async fn list(
        self,
        filter: &DataViewFilter,
        before: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<DataViewRecord>, StoreError> {
        use personal_data_view::Column as C;
        let mut q = personal_data_view::Entity::find();
        if let Some(communities) = &filter.communities {
            q = q.filter(C::CommunityId.is_in(communities.clone()));
        }
        if let Some(id) = filter.case_id {
            q = q.filter(C::CaseId.eq(id));
        }
        if let Some(id) = filter.staff_id {
            q = q.filter(C::StaffId.eq(id));
        }
        if let Some(id) = filter.subject_resident_id {
            q = q.filter(C::SubjectResidentId.eq(id));
        }
        if let Some(from) = filter.from {
            q = q.filter(C::ViewedAt.gte(from));
        }
        if let Some(to) = filter.to {
            q = q.filter(C::ViewedAt.lt(to));
        }
        if let Some(before) = before {
            q = q.filter(C::Id.lt(before));
        }
        let rows = q.order_by_desc(C::Id).limit(limit).all(self.0.db()).await?;
        let staff_ids: Vec<Uuid> = rows.iter().map(|r| r.staff_id).collect();
        let unit_ids: Vec<Uuid> = rows.iter().map(|r| r.org_unit_id).collect();
        let names: HashMap<Uuid, String> = if staff_ids.is_empty() {
            HashMap::new()
        } else {
            staff::Entity::find()
                .select_only()
                .column(staff::Column::Id)
                .column(staff::Column::DisplayName)
                .filter(staff::Column::Id.is_in(staff_ids))
                .into_tuple::<(Uuid, String)>()
                .all(self.0.db())
                .await?
                .into_iter()
                .collect()
        };
        let units: HashMap<Uuid, String> = if unit_ids.is_empty() {
            HashMap::new()
        } else {
            org_unit::Entity::find()
                .select_only()
                .column(org_unit::Column::Id)
                .column(org_unit::Column::Name)
                .filter(org_unit::Column::Id.is_in(unit_ids))
                .into_tuple::<(Uuid, String)>()
                .all(self.0.db())
                .await?
                .into_iter()
                .collect()
        };
        Ok(rows
            .into_iter()
            .map(|r| DataViewRecord {
                id: r.id,
                viewed_at: r.viewed_at,
                staff_id: r.staff_id,
                staff_name: names.get(&r.staff_id).cloned(),
                role: r.role,
                org_unit_id: r.org_unit_id,
                org_unit_name: units.get(&r.org_unit_id).cloned(),
                operation: r.operation,
                request_id: r.request_id,
                case_id: r.case_id,
                community_id: r.community_id,
                subject_resident_id: r.subject_resident_id,
                what: r.what,
            })
            .collect())
    }
}
