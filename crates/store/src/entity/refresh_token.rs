use sea_orm::entity::prelude::*;

/// One refresh token of a family (one login and its rotations). No issue
/// or use time: see the `sessions` migration.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refresh_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub token_hash: String,
    pub family_id: Uuid,
    pub subject_kind: String,
    pub subject_id: Uuid,
    pub expires_at: DateTimeUtc,
    pub used: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
