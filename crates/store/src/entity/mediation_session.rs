use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mediation_sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub case_id: Uuid,
    pub room_id: Uuid,
    pub mediator_id: Uuid,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub status: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub attendees: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub minutes: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub cancel_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub attending: Option<bool>,
    #[sea_orm(column_type = "Text", nullable)]
    pub attendance_note: Option<String>,
    pub attendance_answered_at: Option<DateTimeUtc>,
    pub attendance_resident_id: Option<Uuid>,
    pub rescheduled_from: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
