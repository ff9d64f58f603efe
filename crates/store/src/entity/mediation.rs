use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mediations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub facts: String,
    #[sea_orm(column_type = "Text")]
    pub claims: String,
    #[sea_orm(column_type = "Text")]
    pub preferred_times: String,
    pub private: bool,
    #[sea_orm(column_type = "Text", nullable)]
    pub attendees: Option<String>,
    pub requested_mediator_id: Option<Uuid>,
    #[sea_orm(column_type = "Text")]
    pub refused_mediator_ids: String,
    pub refusal_ground: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub referral: Option<String>,
    pub outcome: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub agreement_terms: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub performance_method: Option<String>,
    pub perform_by: Option<Date>,
    pub effective_on: Option<Date>,
    #[sea_orm(column_type = "Text", nullable)]
    pub termination_reason: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub other_routes: String,
    pub confirmation_applied_on: Option<Date>,
    #[sea_orm(column_type = "Text", nullable)]
    pub confirmation_court: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub confirmation_ruling: Option<String>,
    pub visit_due: Option<Date>,
    pub visited_at: Option<DateTimeUtc>,
    pub performance_status: Option<String>,
    pub satisfaction: Option<i16>,
    pub public_order_risk: bool,
    pub concluded_at: Option<DateTimeUtc>,
    pub rating_stars: Option<i16>,
    #[sea_orm(column_type = "Text", nullable)]
    pub rating_comment: Option<String>,
    pub rated_at: Option<DateTimeUtc>,
    pub visit_answer_performance: Option<String>,
    pub visit_answer_satisfaction: Option<i16>,
    #[sea_orm(column_type = "Text", nullable)]
    pub visit_answer_comment: Option<String>,
    pub visit_answered_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
