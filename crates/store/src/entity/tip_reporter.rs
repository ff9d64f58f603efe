use sea_orm::entity::prelude::*;

/// An anonymous reporter's screening counts in one window, keyed by that
/// window's pseudonym; deleted when the window ends.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tip_reporters")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub reporter_key: String,
    pub screening_window: i64,
    pub triaged: i32,
    pub unfounded: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
