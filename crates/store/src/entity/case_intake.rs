use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_intakes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: Uuid,
    pub channel: String,
    pub filed_by: Uuid,
    #[sea_orm(column_type = "Text")]
    pub name_sealed: String,
    pub name_masked: String,
    #[sea_orm(column_type = "Text")]
    pub phone_sealed: String,
    pub phone_masked: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
