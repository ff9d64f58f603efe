use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tip_reporters")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub reporter_key: String,
    pub triaged: i32,
    pub unfounded: i32,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
