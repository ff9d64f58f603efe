use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "calendar_years")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub year: i32,
    pub source: String,
    pub provisional: bool,
    /// The checked notice as canonical JSON (`domain::calendar::PublishedYear`).
    pub notice: String,
    pub imported_at: DateTimeUtc,
    /// `staff:<id>` for the admin API, `cli` or `start-up`.
    pub imported_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
