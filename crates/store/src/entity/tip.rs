use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "tips")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub datum: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub address_text: Option<String>,
    pub anonymous: bool,
    pub submission_key: Option<String>,
    pub request_hash: Option<String>,
    pub tracking_token_hash: Option<String>,
    pub flagged: bool,
    pub triage_verdict: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub triage_note: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub referred_to: Option<String>,
    pub duplicate_of: Option<Uuid>,
    pub converted_to: Option<Uuid>,
    pub source_case_id: Option<Uuid>,
    #[sea_orm(column_type = "Text", nullable)]
    pub close_note: Option<String>,
    pub supporters: i32,
    pub channel: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
