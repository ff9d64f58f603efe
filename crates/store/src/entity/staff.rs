use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub username: String,
    pub password_hash: String,
    pub display_name: String,
    pub role: String,
    pub org_unit_id: Uuid,
    pub law_firm_id: Option<Uuid>,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub capacity: i32,
    pub presence: String,
    pub presence_changed_at: Option<DateTimeUtc>,
    pub last_assigned_at: Option<DateTimeUtc>,
    /// Bumped whenever every token of this account must stop working.
    pub session_epoch: i32,
    /// Seeded by `sansuo seed-demo`: refused unless the server runs `--demo`.
    pub demo: bool,
    /// Owned cases not finished plus pending offers: what counts against
    /// `capacity` (`crate::staff_load`).
    pub load: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
