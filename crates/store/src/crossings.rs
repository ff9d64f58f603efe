//! What crosses services: a tip converted into a mediation, a mediation's
//! public-order flag opening a tip, and a staff member's pending offers of
//! every service with their cases. Here rather than in either service, so
//! consultations, mediations and tips never import each other.

use crate::StoreError;
use crate::cases::{Context, append_event, staff_freed};
use crate::consultations::OfferedCase;
use crate::entity::{case, mediation, offer, tip};
use crate::mediations::{Mediations, NewMediation, insert_mediation, owned_case};
use crate::offers::{MAX_PENDING_OFFERS_SHOWN, Offers};
use crate::records::{MediationDetail, OfferRecord, TipDetail};
use crate::tips::{NewTip, PUBLIC_ORDER_CATEGORY, Tips, channel, insert_tip, load_owned, move_tip};
use chrono::{DateTime, Utc};
use sansuo_domain::catalog::Service;
use sansuo_domain::mediation::MediationStatus;
use sansuo_domain::offer::OfferStatus;
use sansuo_domain::tip::TipAction;
use sansuo_domain::{CaseId, StaffId};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::HashMap;
use uuid::Uuid;

impl Offers<'_> {
    /// Offers waiting for this staff member's answer, with their cases, of
    /// any service (whoever the engine offers cases to lists them here).
    pub async fn pending_for(
        self,
        staff: StaffId,
        now: DateTime<Utc>,
    ) -> Result<Vec<(OfferRecord, OfferedCase)>, StoreError> {
        let offers = offer::Entity::find()
            .filter(offer::Column::StaffId.eq(staff.as_uuid()))
            .filter(offer::Column::Status.eq(OfferStatus::Pending.as_str()))
            .filter(offer::Column::ExpiresAt.gt(now))
            .order_by_asc(offer::Column::ExpiresAt)
            // Offers are answered one by one; the soonest hundred is a full screen.
            .limit(MAX_PENDING_OFFERS_SHOWN)
            .all(self.db())
            .await?;
        let cases = case::Entity::find()
            .filter(case::Column::Id.is_in(offers.iter().map(|o| o.case_id)))
            .all(self.db())
            .await?;
        let (consultations, others): (Vec<case::Model>, Vec<case::Model>) = cases
            .into_iter()
            .partition(|c| c.service == Service::Consultation.as_str());
        let mut offered: HashMap<Uuid, OfferedCase> = self
            .consultations()
            .hydrate(consultations)
            .await?
            .into_iter()
            .map(|r| (r.case.id, OfferedCase::Consultation(Box::new(r))))
            .collect();
        let (mediations, tips): (Vec<case::Model>, Vec<case::Model>) = others
            .into_iter()
            .partition(|c| c.service == Service::Mediation.as_str());
        if !tips.is_empty() {
            let mut details: HashMap<Uuid, tip::Model> = tip::Entity::find()
                .filter(tip::Column::CaseId.is_in(tips.iter().map(|c| c.id)))
                .all(self.db())
                .await?
                .into_iter()
                .map(|d| (d.case_id, d))
                .collect();
            for case in tips {
                if let Some(detail) = details.remove(&case.id) {
                    let id = case.id;
                    let (case, detail) = (
                        Box::new(case.try_into()?),
                        Box::new(TipDetail::try_from(detail)?),
                    );
                    offered.insert(id, OfferedCase::Tip { case, detail });
                }
            }
        }
        if !mediations.is_empty() {
            let mut details: HashMap<Uuid, mediation::Model> = mediation::Entity::find()
                .filter(mediation::Column::CaseId.is_in(mediations.iter().map(|c| c.id)))
                .all(self.db())
                .await?
                .into_iter()
                .map(|d| (d.case_id, d))
                .collect();
            for case in mediations {
                if let Some(detail) = details.remove(&case.id) {
                    offered.insert(
                        case.id,
                        OfferedCase::Mediation {
                            case: Box::new(case.try_into()?),
                            detail: Box::new(MediationDetail::try_from(detail)?),
                        },
                    );
                }
            }
        }
        let mut pending = Vec::with_capacity(offers.len());
        for o in offers {
            if let Some(r) = offered.remove(&o.case_id) {
                pending.push((o.try_into()?, r));
            }
        }
        Ok(pending)
    }
}

impl Mediations<'_> {
    /// A dispute that risks turning into a public-order or criminal matter:
    /// flagged on the case (the officer's linked work order comes with the
    /// tips service).
    pub async fn flag_public_order_risk(
        self,
        id: CaseId,
        mediator: StaffId,
        reason: &str,
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let case = owned_case(&txn, id, mediator).await?;
        let already = mediation::Entity::find_by_id(case.id)
            .one(&txn)
            .await?
            .is_some_and(|m| m.public_order_risk);
        mediation::Entity::update_many()
            .col_expr(mediation::Column::PublicOrderRisk, Expr::value(true))
            .filter(mediation::Column::CaseId.eq(case.id))
            .exec(&txn)
            .await?;
        // The first flag opens a work order for the community officer (a
        // tip the engine routes to the officer on duty), in the same
        // transaction; flagging again only adds to the history.
        if !already {
            let tip = NewTip {
                id: CaseId::new(),
                resident: None,
                anonymous: false,
                submitted_by: ctx.actor,
                community: case.community_id.into(),
                category: PUBLIC_ORDER_CATEGORY.to_owned(),
                description: format!("调解中发现治安风险（由调解员转来）：{reason}"),
                location: None,
                datum: None,
                address: None,
                screening: None,
                submission: None,
                tracking_token_hash: None,
                flagged: false,
                channel: channel::MEDIATION,
                source_case: Some(case.id.into()),
                request_id: ctx.request_id.map(str::to_owned),
            };
            insert_tip(&txn, &tip, ctx.now).await?;
        }
        append_event(
            &txn,
            case.id,
            "flag_public_order_risk",
            Some(&case.status),
            &case.status,
            false,
            Some(reason),
            ctx,
        )
        .await?;
        self.commit_work(txn).await?;
        Ok(())
    }
}

impl Tips<'_> {
    /// Turn a tip into a mediation case (a neighbour quarrel, not a police
    /// matter), in one transaction: the mediation is booked for the named
    /// reporter and routed to mediators; the tip is finished as `converted`
    /// and points to it; each history names the other.
    pub async fn convert_to_mediation(
        self,
        id: CaseId,
        officer: StaffId,
        mediation: NewMediation,
        ctx: Context<'_>,
    ) -> Result<CaseId, StoreError> {
        let txn = self.begin_write().await?;
        let case = load_owned(&txn, id, officer).await?;
        if case.resident_id != Some(mediation.resident.as_uuid()) {
            return Err(StoreError::conflict(
                "only a named reporter's tip becomes their mediation",
            ));
        }
        let mediation_id = insert_mediation(&txn, mediation, ctx.now).await?;
        let note = format!("converted into mediation {mediation_id}");
        move_tip(&txn, &case, TipAction::Convert, Some(&note), ctx, |u| {
            u.col_expr(case::Column::ResolvedAt, Expr::value(ctx.now))
                .col_expr(case::Column::ClosedAt, Expr::value(ctx.now))
        })
        .await?;
        tip::Entity::update_many()
            .col_expr(
                tip::Column::ConvertedTo,
                Expr::value(mediation_id.as_uuid()),
            )
            .filter(tip::Column::CaseId.eq(case.id))
            .exec(&txn)
            .await?;
        let from = format!("converted from tip {}", case.id);
        append_event(
            &txn,
            mediation_id.as_uuid(),
            "convert_from_tip",
            None,
            MediationStatus::Submitted.as_str(),
            true,
            Some(&from),
            ctx,
        )
        .await?;
        staff_freed(&txn, officer, ctx).await?;
        self.commit_work(txn).await?;
        Ok(mediation_id)
    }
}
