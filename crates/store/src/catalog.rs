//! The category catalogue and the public-holiday calendar, as stored.

use crate::entity::{calendar_day, category, workflow};
use crate::records::CategoryRecord;
use crate::{Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use sansuo_domain::calendar::{BusinessCalendar, DayOverride, PublishedYear};
use sansuo_domain::catalog::{CatalogError, CatalogFile};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

/// An administrator's change to a category: each `Some` replaces the value.
#[derive(Debug, Default)]
pub struct CategoryEdit<'a> {
    pub name_zh: Option<&'a str>,
    pub name_en: Option<&'a str>,
    pub anonymous_allowed: Option<bool>,
    pub urgent: Option<bool>,
    pub open311_public: Option<bool>,
    /// The workflow names and the services they bring, checked by the caller.
    pub workflows: Option<(&'a [String], &'a [&'a str])>,
}

/// The category catalogue and the business calendar.
///
/// Reached as `store.catalog()`; see [`Store`].
#[derive(Clone, Copy)]
pub struct Catalog<'a>(pub(crate) &'a Store);

impl std::ops::Deref for Catalog<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.0
    }
}

impl Store {
    /// The category catalogue and the business calendar.
    pub fn catalog(&self) -> Catalog<'_> {
        Catalog(self)
    }
}

impl Catalog<'_> {
    /// Bring the catalogue in line with its checked-in file, in one
    /// transaction: workflows and categories are upserted; categories no
    /// longer in the file are deactivated, never deleted (cases point at them).
    pub async fn sync(self, file: &CatalogFile) -> Result<(), StoreError> {
        let categories = file
            .resolve()
            .map_err(|e: CatalogError| StoreError::Conflict(e.to_string()))?;
        let txn = self.begin_write().await?;
        for (name, flow) in &file.workflows {
            let ladder = serde_json::to_string(&flow.ladder).expect("ladders serialise");
            workflow::Entity::insert(workflow::ActiveModel {
                name: Set(name.clone()),
                service: Set(flow.service.as_str().to_owned()),
                sla_accept_minutes: Set(flow.sla.accept_minutes as i32),
                sla_first_response_minutes: Set(flow.sla.first_response_minutes as i32),
                sla_resolution_minutes: Set(flow.sla.resolution_minutes as i32),
                ladder: Set(ladder),
                edited_at: Set(None),
            })
            .on_conflict(
                OnConflict::column(workflow::Column::Name)
                    .update_columns([
                        workflow::Column::Service,
                        workflow::Column::SlaAcceptMinutes,
                        workflow::Column::SlaFirstResponseMinutes,
                        workflow::Column::SlaResolutionMinutes,
                        workflow::Column::Ladder,
                    ])
                    // An administrator's edit outlives restarts.
                    .action_and_where(
                        Expr::col((workflow::Entity, workflow::Column::EditedAt)).is_null(),
                    )
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
        }
        for (order, c) in categories.iter().enumerate() {
            let services: Vec<&str> = file.services_of(c).iter().map(|s| s.as_str()).collect();
            category::Entity::insert(category::ActiveModel {
                code: Set(c.code.clone()),
                parent_code: Set(c.parent.clone()),
                name_zh: Set(c.name_zh.clone()),
                name_en: Set(c.name_en.clone()),
                services: Set(services.join(",")),
                sort_order: Set(order as i32),
                active: Set(true),
                priority: Set(c.priority),
                anonymous_allowed: Set(c.anonymous_allowed),
                urgent: Set(c.urgent),
                open311_public: Set(c.open311_public),
                workflows: Set(c.workflows.join(",")),
                edited_at: Set(None),
            })
            .on_conflict(
                OnConflict::column(category::Column::Code)
                    .update_columns([
                        category::Column::ParentCode,
                        category::Column::NameZh,
                        category::Column::NameEn,
                        category::Column::Services,
                        category::Column::SortOrder,
                        category::Column::Active,
                        category::Column::Priority,
                        category::Column::AnonymousAllowed,
                        category::Column::Urgent,
                        category::Column::Open311Public,
                        category::Column::Workflows,
                    ])
                    // An administrator's edit outlives restarts.
                    .action_and_where(
                        Expr::col((category::Entity, category::Column::EditedAt)).is_null(),
                    )
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
        }
        let codes: Vec<String> = categories.iter().map(|c| c.code.clone()).collect();
        category::Entity::update_many()
            .col_expr(category::Column::Active, false.into())
            .filter(category::Column::Code.is_not_in(codes))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        self.reference().clear();
        Ok(())
    }

    /// An administrator's edit of one category (each `Some` replaces the
    /// value), stamped so the start-up sync leaves it alone. A new
    /// workflow list brings its services (`services`, from the workflows).
    /// Sub-items that inherited the old list or flag (had the parent's
    /// value) inherit the new one; their own names and differing values stay.
    pub async fn edit_category(
        self,
        code: &str,
        edit: CategoryEdit<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        use category::Column;
        let txn = self.begin_write().await?;
        let Some(current) = category::Entity::find_by_id(code.to_owned())
            .one(&txn)
            .await?
        else {
            return Err(StoreError::NotFound);
        };
        let mut update = category::Entity::update_many()
            .col_expr(Column::EditedAt, Expr::value(now))
            .filter(Column::Code.eq(code));
        if let Some(name) = edit.name_zh {
            update = update.col_expr(Column::NameZh, Expr::value(name));
        }
        if let Some(name) = edit.name_en {
            update = update.col_expr(Column::NameEn, Expr::value(name));
        }
        // A flag a sub-item inherited (it had the parent's value) follows
        // the parent's new one; a sub-item's own differing value stays.
        let flags = [
            (
                Column::AnonymousAllowed,
                edit.anonymous_allowed,
                current.anonymous_allowed,
            ),
            (Column::Urgent, edit.urgent, current.urgent),
            (
                Column::Open311Public,
                edit.open311_public,
                current.open311_public,
            ),
        ];
        for (column, new, old) in flags {
            let Some(new) = new else { continue };
            update = update.col_expr(column, Expr::value(new));
            if new != old {
                category::Entity::update_many()
                    .col_expr(column, Expr::value(new))
                    .col_expr(Column::EditedAt, Expr::value(now))
                    .filter(Column::ParentCode.eq(code))
                    .filter(column.eq(old))
                    .exec(&txn)
                    .await?;
            }
        }
        if let Some((workflows, services)) = edit.workflows {
            let (workflows, services) = (workflows.join(","), services.join(","));
            update = update
                .col_expr(Column::Workflows, Expr::value(workflows.clone()))
                .col_expr(Column::Services, Expr::value(services.clone()));
            category::Entity::update_many()
                .col_expr(Column::Workflows, Expr::value(workflows))
                .col_expr(Column::Services, Expr::value(services))
                .col_expr(Column::EditedAt, Expr::value(now))
                .filter(Column::ParentCode.eq(code))
                .filter(Column::Workflows.eq(current.workflows))
                .exec(&txn)
                .await?;
        }
        update.exec(&txn).await?;
        txn.commit().await?;
        self.reference().clear();
        Ok(())
    }

    /// Every category, active or not, in catalogue order (for administrators).
    pub async fn all_categories(self) -> Result<Vec<CategoryRecord>, StoreError> {
        Ok(crate::records::all(
            category::Entity::find()
                .order_by_asc(category::Column::SortOrder)
                .all(self.db())
                .await?,
        )?)
    }

    /// One category, active or not.
    pub async fn any_category(self, code: &str) -> Result<Option<CategoryRecord>, StoreError> {
        Ok(category::Entity::find_by_id(code.to_owned())
            .one(self.db())
            .await?
            .map(CategoryRecord::try_from)
            .transpose()?)
    }

    /// Record a published year's holidays and make-up working days. Dates
    /// already entered (through the admin API, say) are left as they are.
    pub async fn seed_calendar_year(self, year: &PublishedYear) -> Result<(), StoreError> {
        for (day, kind) in year.overrides() {
            calendar_day::Entity::insert(calendar_day::ActiveModel {
                day: Set(day),
                kind: Set(kind_name(&kind).to_owned()),
                source: Set(year.source.clone()),
            })
            .on_conflict_do_nothing()
            .exec_without_returning(self.db())
            .await?;
        }
        self.reference().clear();
        Ok(())
    }

    /// Enter or change one date (a newly published holiday, say).
    pub async fn set_calendar_day(
        self,
        day: NaiveDate,
        kind: DayOverride,
        source: &str,
    ) -> Result<(), StoreError> {
        calendar_day::Entity::insert(calendar_day::ActiveModel {
            day: Set(day),
            kind: Set(kind_name(&kind).to_owned()),
            source: Set(source.to_owned()),
        })
        .on_conflict(
            OnConflict::column(calendar_day::Column::Day)
                .update_columns([calendar_day::Column::Kind, calendar_day::Column::Source])
                .to_owned(),
        )
        .exec_without_returning(self.db())
        .await?;
        self.reference().clear();
        Ok(())
    }

    pub async fn delete_calendar_day(self, day: NaiveDate) -> Result<bool, StoreError> {
        let deleted = calendar_day::Entity::delete_by_id(day)
            .exec(self.db())
            .await?
            .rows_affected
            == 1;
        self.reference().clear();
        Ok(deleted)
    }

    pub async fn calendar_days(
        self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<CalendarDayRecord>, StoreError> {
        calendar_day::Entity::find()
            .filter(calendar_day::Column::Day.between(from, to))
            .order_by_asc(calendar_day::Column::Day)
            .all(self.db())
            .await?
            .into_iter()
            .map(|day| {
                Ok(CalendarDayRecord {
                    kind: day_kind(&day)?,
                    day: day.day,
                    source: day.source,
                })
            })
            .collect()
    }

    /// The business calendar: office hours plus every stored override
    /// (cached per instance for a few seconds, see `cache`).
    pub async fn business_calendar(self) -> Result<BusinessCalendar, StoreError> {
        if let Some(calendar) = self.reference().calendar() {
            return Ok(calendar);
        }
        let calendar = self.read_business_calendar().await?;
        self.reference().put_calendar(calendar.clone());
        Ok(calendar)
    }

    async fn read_business_calendar(self) -> Result<BusinessCalendar, StoreError> {
        let mut calendar = BusinessCalendar::china_office_hours();
        for day in calendar_day::Entity::find().all(self.db()).await? {
            calendar.set_override(day.day, day_kind(&day)?);
        }
        Ok(calendar)
    }
}

fn kind_name(kind: &DayOverride) -> &'static str {
    kind.as_str()
}

fn day_kind(day: &calendar_day::Model) -> Result<DayOverride, StoreError> {
    DayOverride::parse(&day.kind).ok_or_else(|| {
        StoreError::Conflict(format!(
            "calendar day {} has unknown kind {}",
            day.day, day.kind
        ))
    })
}

/// A date overriding its weekday's schedule, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarDayRecord {
    pub day: NaiveDate,
    pub kind: DayOverride,
    /// Where the override came from (a published year, or by hand).
    pub source: String,
}
