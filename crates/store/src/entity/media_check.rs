use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "media_checks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub trace_id: String,
    pub subject: String,
    pub status: String,
    pub label: Option<i64>,
    pub created_at: DateTimeUtc,
    pub checked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
