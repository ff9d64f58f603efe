use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "workflows")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    pub service: String,
    pub sla_accept_minutes: i32,
    pub sla_first_response_minutes: i32,
    pub sla_resolution_minutes: i32,
    #[sea_orm(column_type = "Text")]
    pub ladder: String,
    /// Set when an administrator edited it; the catalogue file then leaves it alone.
    pub edited_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
