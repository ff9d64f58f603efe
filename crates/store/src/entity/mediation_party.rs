use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mediation_parties")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub case_id: Uuid,
    pub role: String,
    /// Sealed with sansuo-vault; never logged, never returned unmasked to
    /// a role that does not need it.
    #[sea_orm(column_type = "Text")]
    pub name_sealed: String,
    pub name_masked: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub contact_sealed: Option<String>,
    pub contact_masked: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
