use sea_orm::entity::prelude::*;

/// A deleted resident account, kept while a token issued before the
/// deletion could still be presented (`crate::deleted_residents`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "resident_deletions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub resident_id: Uuid,
    pub deleted_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
