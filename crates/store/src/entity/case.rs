use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cases")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub service: String,
    pub community_id: Uuid,
    pub category_code: String,
    pub resident_id: Option<Uuid>,
    pub status: String,
    pub owner_staff_id: Option<Uuid>,
    pub pool_unit_id: Option<Uuid>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub accepted_at: Option<DateTimeUtc>,
    pub answered_at: Option<DateTimeUtc>,
    pub resolved_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub moderation: String,
    pub workflow: Option<String>,
    pub ladder_step: i32,
    pub step_entered_at: Option<DateTimeUtc>,
    pub priority: i32,
    pub queued_at: Option<DateTimeUtc>,
    pub unrouted_at: Option<DateTimeUtc>,
    /// A reopened case's previous owner, offered it first if still eligible.
    pub preferred_staff_id: Option<Uuid>,
    /// How often the case was urged (催办), and when last.
    pub urge_count: i32,
    pub last_urged_at: Option<DateTimeUtc>,
    /// Business minutes granted by 延期 (extensions), added to the
    /// resolution target.
    pub sla_extension_minutes: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
