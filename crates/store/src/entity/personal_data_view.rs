use sea_orm::entity::prelude::*;

/// One showing of a person's unmasked data to a staff member: who, when,
/// through what, on which case, whose and what kind. Never the data itself.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "personal_data_views")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub viewed_at: DateTimeUtc,
    pub staff_id: Uuid,
    pub role: String,
    pub org_unit_id: Uuid,
    pub operation: String,
    pub request_id: String,
    pub case_id: Uuid,
    pub community_id: Uuid,
    pub subject_resident_id: Option<Uuid>,
    pub what: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
