use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "qr_codes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub org_unit_id: Uuid,
    pub scene: String,
    #[sea_orm(column_type = "Blob")]
    pub png: Vec<u8>,
    pub source: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
