use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "org_units")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: String,
    pub parent_id: Option<Uuid>,
    pub station_id: Option<Uuid>,
    pub name: String,
    pub scene: Option<String>,
    pub address: Option<String>,
    pub office_hours: Option<String>,
    pub services: String,
    pub created_at: DateTimeUtc,
    /// False: deactivated (no new work; history kept).
    pub active: bool,
    /// The unit's own case-number pattern (`sansuo_casefile::number`);
    /// NULL: the default.
    pub case_number_pattern: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
