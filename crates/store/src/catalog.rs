//! The category catalogue and the public-holiday calendar, as stored.

use crate::entity::{calendar_day, calendar_year, category, workflow};
use crate::records::CategoryRecord;
use crate::{Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use sansuo_domain::calendar::{BusinessCalendar, Coverage, DayOverride, PublishedYear};
use sansuo_domain::catalog::{CatalogError, CatalogFile};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder};

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

/// What an import of a calendar year did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportOutcome {
    /// The year had no import before.
    Imported,
    /// An earlier import of the year was replaced by this one.
    Replaced,
    /// The very same notice was imported before: nothing was written.
    Unchanged,
}

impl ImportOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportOutcome::Imported => "imported",
            ImportOutcome::Replaced => "replaced",
            ImportOutcome::Unchanged => "unchanged",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarImport {
    pub outcome: ImportOutcome,
    /// Days of the notice an administrator had entered by hand
    /// (`set_calendar_day`): left as they were.
    pub kept_by_hand: Vec<NaiveDate>,
}

/// One imported calendar year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarYearRecord {
    pub year: i32,
    pub source: String,
    pub provisional: bool,
    pub imported_at: DateTime<Utc>,
    pub imported_by: String,
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

    /// Bring a checked-in year (`data/calendar/*.json`) into the database at
    /// start: imported when the year has no import yet, or when only a
    /// provisional one is stored and the file is the notice. An import made
    /// since (a corrected notice, say) outlives restarts.
    pub async fn seed_calendar_year(self, year: &PublishedYear) -> Result<(), StoreError> {
        let stored = calendar_year::Entity::find_by_id(year.year)
            .one(self.db())
            .await?;
        if stored.is_some_and(|row| !row.provisional || year.provisional) {
            return Ok(());
        }
        self.import_calendar_year(year, "start-up").await?;
        Ok(())
    }

    /// Import a year's notice, checked whole by the caller
    /// (`PublishedYearText::check`), in one transaction: the year's days
    /// written by an earlier import are replaced by this one's; days an
    /// administrator entered by hand stay as they are (and are reported).
    /// The same notice imported again changes nothing.
    pub async fn import_calendar_year(
        self,
        year: &PublishedYear,
        by: &str,
    ) -> Result<CalendarImport, StoreError> {
        let notice = serde_json::to_string(year).expect("a calendar year serialises");
        let first = NaiveDate::from_ymd_opt(year.year, 1, 1).expect("a checked year");
        let last = NaiveDate::from_ymd_opt(year.year, 12, 31).expect("a checked year");
        let txn = self.begin_write().await?;
        let stored = calendar_year::Entity::find_by_id(year.year)
            .one(&txn)
            .await?;
        let outcome = match &stored {
            Some(row) if row.notice == notice => {
                txn.rollback().await?;
                return Ok(CalendarImport {
                    outcome: ImportOutcome::Unchanged,
                    kept_by_hand: Vec::new(),
                });
            }
            Some(_) => ImportOutcome::Replaced,
            None => ImportOutcome::Imported,
        };
        let mut earlier = Condition::any().add(calendar_day::Column::ImportedYear.eq(year.year));
        if stored.is_none() {
            // Days seeded at start before imports were recorded carry the
            // checked-in file's source and no year: they are this import's.
            earlier = earlier.add(
                Condition::all()
                    .add(calendar_day::Column::ImportedYear.is_null())
                    .add(calendar_day::Column::Day.between(first, last))
                    .add(calendar_day::Column::Source.eq(year.source.as_str())),
            );
        }
        calendar_day::Entity::delete_many()
            .filter(earlier)
            .exec(&txn)
            .await?;
        let by_hand: Vec<NaiveDate> = calendar_day::Entity::find()
            .filter(calendar_day::Column::Day.between(first, last))
            .filter(calendar_day::Column::ImportedYear.is_null())
            .all(&txn)
            .await?
            .into_iter()
            .map(|row| row.day)
            .collect();
        let mut kept_by_hand = Vec::new();
        for (day, kind) in year.overrides() {
            if by_hand.contains(&day) {
                kept_by_hand.push(day);
                continue;
            }
            // Another instance importing the same year at the same moment
            // (a start of several replicas) wrote the same day: keep one.
            calendar_day::Entity::insert(calendar_day::ActiveModel {
                day: Set(day),
                kind: Set(kind_name(&kind).to_owned()),
                source: Set(year.source.clone()),
                imported_year: Set(Some(year.year)),
            })
            .on_conflict_do_nothing()
            .exec_without_returning(&txn)
            .await?;
        }
        calendar_year::Entity::insert(calendar_year::ActiveModel {
            year: Set(year.year),
            source: Set(year.source.clone()),
            provisional: Set(year.provisional),
            notice: Set(notice),
            imported_at: Set(Utc::now()),
            imported_by: Set(by.chars().take(128).collect()),
        })
        .on_conflict(
            OnConflict::column(calendar_year::Column::Year)
                .update_columns([
                    calendar_year::Column::Source,
                    calendar_year::Column::Provisional,
                    calendar_year::Column::Notice,
                    calendar_year::Column::ImportedAt,
                    calendar_year::Column::ImportedBy,
                ])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
        txn.commit().await?;
        self.reference().clear();
        Ok(CalendarImport {
            outcome,
            kept_by_hand,
        })
    }

    /// Every imported year, oldest first.
    pub async fn calendar_years(self) -> Result<Vec<CalendarYearRecord>, StoreError> {
        Ok(calendar_year::Entity::find()
            .order_by_asc(calendar_year::Column::Year)
            .all(self.db())
            .await?
            .into_iter()
            .map(|row| CalendarYearRecord {
                year: row.year,
                source: row.source,
                provisional: row.provisional,
                imported_at: row.imported_at,
                imported_by: row.imported_by,
            })
            .collect())
    }

    /// How far ahead the imported calendar reaches as of `today` (a local
    /// date, see `domain::calendar::china_date`).
    pub async fn calendar_coverage(self, today: NaiveDate) -> Result<Coverage, StoreError> {
        let years: Vec<(i32, bool)> = calendar_year::Entity::find()
            .all(self.db())
            .await?
            .into_iter()
            .map(|row| (row.year, row.provisional))
            .collect();
        Ok(sansuo_domain::calendar::coverage(&years, today))
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
            // Entered by hand: a later import of the year leaves it alone.
            imported_year: Set(None),
        })
        .on_conflict(
            OnConflict::column(calendar_day::Column::Day)
                .update_columns([
                    calendar_day::Column::Kind,
                    calendar_day::Column::Source,
                    calendar_day::Column::ImportedYear,
                ])
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
        let mut calendar = if self.reference().round_the_clock() {
            BusinessCalendar::round_the_clock()
        } else {
            BusinessCalendar::china_office_hours()
        };
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
