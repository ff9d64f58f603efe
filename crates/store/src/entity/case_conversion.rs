use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_conversions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub from_case_id: Uuid,
    pub to_service: String,
    pub status: String,
    #[sea_orm(column_type = "Text")]
    pub proposal: String,
    pub proposed_by: Uuid,
    pub proposed_at: DateTimeUtc,
    pub answered_at: Option<DateTimeUtc>,
    pub to_case_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
