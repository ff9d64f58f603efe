use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "categories")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub parent_code: Option<String>,
    pub name_zh: String,
    pub name_en: String,
    pub services: String,
    pub sort_order: i32,
    pub active: bool,
    pub priority: i32,
    pub anonymous_allowed: bool,
    pub urgent: bool,
    /// Its tips are listed by Open311's public `GET requests`.
    pub open311_public: bool,
    pub workflows: String,
    /// Set by an administrator's edit: the start-up sync leaves the row alone.
    pub edited_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
