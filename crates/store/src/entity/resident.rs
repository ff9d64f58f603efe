use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "residents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub openid: String,
    pub unionid: Option<String>,
    pub created_at: DateTimeUtc,
    pub last_login_at: DateTimeUtc,
    #[sea_orm(column_type = "Text", nullable)]
    pub phone_sealed: Option<String>,
    pub phone_masked: Option<String>,
    pub phone_bound_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
