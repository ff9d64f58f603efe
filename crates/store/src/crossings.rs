//! What crosses services: a consultation converted into a mediation (with
//! the resident's consent) or a tip, a tip converted into a mediation, a
//! mediation's public-order flag opening a tip, and a staff member's pending
//! offers of every service with their cases. Here rather than in either
//! service, so consultations, mediations and tips never import each other.

use crate::StoreError;
use crate::cases::{Cases, Context, append_event, load_any_case, notify_resident, staff_freed};
use crate::consultations::{Consultations, OfferedCase, move_case};
use crate::entity::{case, case_conversion, mediation, offer, tip};
use crate::mediations::{Mediations, NewMediation, NewParty, insert_routed_mediation, owned_case};
use crate::offers::{MAX_PENDING_OFFERS_SHOWN, Offers};
use crate::records::{
    ConversionRecord, ConversionStatus, MediationDetail, OfferRecord, Proposal, ProposedParty,
    TipDetail,
};
use crate::staff_events::tell;
use crate::tips::{NewTip, PUBLIC_ORDER_CATEGORY, Tips, channel, insert_tip, load_owned, move_tip};
use chrono::{DateTime, Utc};
use sansuo_domain::catalog::Service;
use sansuo_domain::mediation::MediationStatus;
use sansuo_domain::mediation::PartyRole;
use sansuo_domain::notify::NotificationEvent;
use sansuo_domain::offer::OfferStatus;
use sansuo_domain::staff_event::StaffEvent;
use sansuo_domain::tip::{TipAction, TipStatus};
use sansuo_domain::{CaseId, ConsultationAction, ResidentId, StaffId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
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
                first_offer: None,
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
        if mediation.resident.is_none()
            || case.resident_id != mediation.resident.map(|r| r.as_uuid())
        {
            return Err(StoreError::conflict(
                "only a named reporter's tip becomes their mediation",
            ));
        }
        let mediation_id = insert_routed_mediation(&txn, mediation, ctx.now).await?;
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

/// What a lawyer proposes a consultation becomes: a mediation in the same
/// community, with the parties sealed as on any mediation.
pub struct MediationProposal {
    pub category: String,
    pub facts: String,
    pub claims: String,
    pub parties: Vec<NewParty>,
}

/// What a consultation becomes as a tip for the community's officer.
pub struct TipProposal {
    pub category: String,
    pub description: String,
}

/// The consultation, if this lawyer owns it; otherwise "not found".
async fn owned_consultation<C: ConnectionTrait>(
    conn: &C,
    id: CaseId,
    lawyer: StaffId,
) -> Result<case::Model, StoreError> {
    let case = load_any_case(conn, id.as_uuid()).await?;
    if case.service != Service::Consultation.as_str()
        || case.owner_staff_id != Some(lawyer.as_uuid())
    {
        return Err(StoreError::NotFound);
    }
    Ok(case)
}

/// The consultation, if this resident filed it; otherwise "not found".
async fn resident_consultation<C: ConnectionTrait>(
    conn: &C,
    id: CaseId,
    resident: ResidentId,
) -> Result<case::Model, StoreError> {
    let case = load_any_case(conn, id.as_uuid()).await?;
    if case.service != Service::Consultation.as_str()
        || case.resident_id != Some(resident.as_uuid())
    {
        return Err(StoreError::NotFound);
    }
    Ok(case)
}

/// A consultation converts once: a proposal waiting for the resident, or a
/// conversion done, refuses another (a refused or withdrawn one does not).
async fn refuse_second_conversion<C: ConnectionTrait>(
    conn: &C,
    case: Uuid,
) -> Result<(), StoreError> {
    let live = case_conversion::Entity::find()
        .filter(case_conversion::Column::FromCaseId.eq(case))
        .filter(case_conversion::Column::Status.is_in([
            ConversionStatus::Proposed.as_str(),
            ConversionStatus::Converted.as_str(),
        ]))
        .one(conn)
        .await?;
    match live {
        Some(_) => Err(StoreError::conflict(
            "the consultation has already been converted, or a conversion waits for the resident",
        )),
        None => Ok(()),
    }
}

/// Insert a conversion row; the partial unique index settles two at once.
async fn insert_conversion<C: ConnectionTrait>(
    conn: &C,
    row: case_conversion::ActiveModel,
) -> Result<(), StoreError> {
    match case_conversion::Entity::insert(row)
        .exec_without_returning(conn)
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if crate::error::is_unique_violation(&e) => Err(StoreError::conflict(
            "the consultation has already been converted, or a conversion waits for the resident",
        )),
        Err(e) => Err(e.into()),
    }
}

/// The lawyer who proposed the conversion hears the resident's answer.
async fn tell_proposer<C: ConnectionTrait>(
    conn: &C,
    proposal: &case_conversion::Model,
    consultation: Uuid,
    mediation: Option<CaseId>,
    ctx: Context<'_>,
) -> Result<(), StoreError> {
    let event = StaffEvent::ConversionAnswered {
        case_id: consultation.into(),
        consent: mediation.is_some(),
        mediation_id: mediation,
    };
    tell(conn, proposal.proposed_by.into(), &event, ctx.now).await
}

fn proposal_json(proposal: &Proposal) -> Result<String, StoreError> {
    serde_json::to_string(proposal)
        .map_err(|e| StoreError::Db(sea_orm::DbErr::Custom(format!("proposal: {e}"))))
}

impl Consultations<'_> {
    /// The owning lawyer proposes that the consultation become a mediation
    /// (三所联动): recorded with what the mediation will hold, a public event
    /// on the consultation; nothing moves until the resident consents
    /// ([`Consultations::answer_conversion`]). 409 while another proposal
    /// waits or once converted; the consultation must be one the lawyer
    /// took (`assigned`, `answered` or `resolved`).
    pub async fn propose_mediation(
        self,
        id: CaseId,
        lawyer: StaffId,
        proposal: MediationProposal,
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let case = owned_consultation(&txn, id, lawyer).await?;
        refuse_second_conversion(&txn, case.id).await?;
        let status: sansuo_domain::ConsultationStatus = case
            .status
            .parse()
            .map_err(|e: String| StoreError::conflict(e))?;
        sansuo_domain::consultation::transition(status, ConsultationAction::Convert)?;
        let stored = Proposal {
            category: proposal.category,
            facts: Some(proposal.facts),
            claims: Some(proposal.claims),
            description: None,
            parties: proposal
                .parties
                .into_iter()
                .map(|p| ProposedParty {
                    role: p.role.to_owned(),
                    name_sealed: p.name_sealed,
                    name_masked: p.name_masked,
                    contact_sealed: p.contact_sealed,
                    contact_masked: p.contact_masked,
                })
                .collect(),
        };
        insert_conversion(
            &txn,
            case_conversion::ActiveModel {
                id: Set(Uuid::now_v7()),
                from_case_id: Set(case.id),
                to_service: Set(Service::Mediation.as_str().to_owned()),
                status: Set(ConversionStatus::Proposed.as_str().to_owned()),
                proposal: Set(proposal_json(&stored)?),
                proposed_by: Set(lawyer.as_uuid()),
                proposed_at: Set(ctx.now),
                answered_at: Set(None),
                to_case_id: Set(None),
            },
        )
        .await?;
        append_event(
            &txn,
            case.id,
            "propose_conversion",
            Some(&case.status),
            &case.status,
            true,
            Some("律师建议转为人民调解，请确认是否同意"),
            ctx,
        )
        .await?;
        // The proposal waits on the resident: they must hear of it.
        notify_resident(
            &txn,
            NotificationEvent::ConsultationConversionProposed,
            &case,
            ctx,
        )
        .await?;
        self.commit_work(txn).await?;
        Ok(())
    }

    /// The resident answers the lawyer's proposal. Consent, in one
    /// transaction: the mediation is created in the consultation's
    /// community for this resident and routed like any new one; the
    /// consultation moves to `converted`; both histories name the other;
    /// the lawyer's capacity is freed. Refusal: recorded, the consultation
    /// stays as it is. 409 without a waiting proposal. Returns the new
    /// mediation on consent.
    pub async fn answer_conversion(
        self,
        id: CaseId,
        resident: ResidentId,
        consent: bool,
        ctx: Context<'_>,
    ) -> Result<Option<CaseId>, StoreError> {
        let txn = self.begin_write().await?;
        let case = resident_consultation(&txn, id, resident).await?;
        let Some(pending) = case_conversion::Entity::find()
            .filter(case_conversion::Column::FromCaseId.eq(case.id))
            .filter(case_conversion::Column::Status.eq(ConversionStatus::Proposed.as_str()))
            .one(&txn)
            .await?
        else {
            return Err(StoreError::conflict(
                "no conversion is waiting for an answer",
            ));
        };
        let answered = case_conversion::Entity::update_many()
            .col_expr(
                case_conversion::Column::Status,
                Expr::value(
                    if consent {
                        ConversionStatus::Converted
                    } else {
                        ConversionStatus::Refused
                    }
                    .as_str(),
                ),
            )
            .col_expr(case_conversion::Column::AnsweredAt, Expr::value(ctx.now))
            .filter(case_conversion::Column::Id.eq(pending.id))
            .filter(case_conversion::Column::Status.eq(ConversionStatus::Proposed.as_str()))
            .exec(&txn)
            .await?;
        if answered.rows_affected != 1 {
            return Err(StoreError::conflict(
                "no conversion is waiting for an answer",
            ));
        }
        if !consent {
            append_event(
                &txn,
                case.id,
                "refuse_conversion",
                Some(&case.status),
                &case.status,
                true,
                Some("居民不同意转为人民调解"),
                ctx,
            )
            .await?;
            tell_proposer(&txn, &pending, case.id, None, ctx).await?;
            self.commit_work(txn).await?;
            return Ok(None);
        }
        let proposal: Proposal = serde_json::from_str(&pending.proposal).map_err(|e| {
            StoreError::Db(sea_orm::DbErr::Custom(format!(
                "case_conversions.proposal: {e}"
            )))
        })?;
        let mut parties = Vec::with_capacity(proposal.parties.len());
        for p in proposal.parties {
            let role: PartyRole = p.role.parse().map_err(|e: String| {
                StoreError::Db(sea_orm::DbErr::Custom(format!(
                    "case_conversions.proposal: {e}"
                )))
            })?;
            parties.push(NewParty {
                role: role.as_str(),
                name_sealed: p.name_sealed,
                name_masked: p.name_masked,
                contact_sealed: p.contact_sealed,
                contact_masked: p.contact_masked,
            });
        }
        let mediation_id = insert_routed_mediation(
            &txn,
            NewMediation {
                resident: Some(resident),
                community: case.community_id.into(),
                category: proposal.category,
                facts: proposal.facts.unwrap_or_default(),
                claims: proposal.claims.unwrap_or_default(),
                preferred_times: "[]".into(),
                private: false,
                attendees: None,
                requested_mediator: None,
                refused_mediators: Vec::new(),
                parties,
                request_id: ctx.request_id.map(str::to_owned),
                intake: None,
                first_offer: None,
            },
            ctx.now,
        )
        .await?;
        case_conversion::Entity::update_many()
            .col_expr(
                case_conversion::Column::ToCaseId,
                Expr::value(mediation_id.as_uuid()),
            )
            .filter(case_conversion::Column::Id.eq(pending.id))
            .exec(&txn)
            .await?;
        let note = format!("已转为人民调解 {mediation_id}");
        move_case(
            &txn,
            &case,
            ConsultationAction::Convert,
            Some(&note),
            ctx,
            |u| u.col_expr(case::Column::ClosedAt, Expr::value(ctx.now)),
        )
        .await?;
        let from = format!("由法律咨询 {} 转来（居民同意）", case.id);
        append_event(
            &txn,
            mediation_id.as_uuid(),
            "convert_from_consultation",
            None,
            MediationStatus::Submitted.as_str(),
            true,
            Some(&from),
            ctx,
        )
        .await?;
        if let Some(owner) = case.owner_staff_id {
            staff_freed(&txn, owner.into(), ctx).await?;
        }
        tell_proposer(&txn, &pending, case.id, Some(mediation_id), ctx).await?;
        self.commit_work(txn).await?;
        Ok(Some(mediation_id))
    }

    /// The owning lawyer turns the consultation into a tip for the officer
    /// on duty of its community's station (no consent needed; the resident
    /// sees it in the consultation's history and view): a named tip of this
    /// resident, routed like any new tip, linked both ways; the consultation
    /// moves to `converted`. 409 once converted or while a proposal waits.
    pub async fn convert_to_tip(
        self,
        id: CaseId,
        lawyer: StaffId,
        proposal: TipProposal,
        ctx: Context<'_>,
    ) -> Result<CaseId, StoreError> {
        let txn = self.begin_write().await?;
        let case = owned_consultation(&txn, id, lawyer).await?;
        refuse_second_conversion(&txn, case.id).await?;
        let tip_id = CaseId::new();
        let note = format!("已转为治安线索 {tip_id}，由社区民警处理");
        move_case(
            &txn,
            &case,
            ConsultationAction::Convert,
            Some(&note),
            ctx,
            |u| u.col_expr(case::Column::ClosedAt, Expr::value(ctx.now)),
        )
        .await?;
        let tip = NewTip {
            id: tip_id,
            resident: case.resident_id.map(Into::into),
            anonymous: false,
            submitted_by: ctx.actor,
            community: case.community_id.into(),
            category: proposal.category.clone(),
            description: proposal.description.clone(),
            location: None,
            datum: None,
            address: None,
            screening: None,
            submission: None,
            tracking_token_hash: None,
            flagged: false,
            channel: channel::CONSULTATION,
            first_offer: None,
            source_case: Some(case.id.into()),
            request_id: ctx.request_id.map(str::to_owned),
        };
        insert_tip(&txn, &tip, ctx.now).await?;
        let stored = Proposal {
            category: proposal.category,
            description: Some(proposal.description),
            ..Proposal::default()
        };
        insert_conversion(
            &txn,
            case_conversion::ActiveModel {
                id: Set(Uuid::now_v7()),
                from_case_id: Set(case.id),
                to_service: Set(Service::Tip.as_str().to_owned()),
                status: Set(ConversionStatus::Converted.as_str().to_owned()),
                proposal: Set(proposal_json(&stored)?),
                proposed_by: Set(lawyer.as_uuid()),
                proposed_at: Set(ctx.now),
                answered_at: Set(Some(ctx.now)),
                to_case_id: Set(Some(tip_id.as_uuid())),
            },
        )
        .await?;
        let from = format!("由法律咨询 {} 转来", case.id);
        append_event(
            &txn,
            tip_id.as_uuid(),
            "convert_from_consultation",
            None,
            TipStatus::Submitted.as_str(),
            true,
            Some(&from),
            ctx,
        )
        .await?;
        staff_freed(&txn, lawyer, ctx).await?;
        notify_resident(
            &txn,
            NotificationEvent::ConsultationConvertedToTip,
            &case,
            ctx,
        )
        .await?;
        self.commit_work(txn).await?;
        Ok(tip_id)
    }

    /// The consultation's latest conversion (proposed, refused or done).
    pub async fn conversion(self, id: CaseId) -> Result<Option<ConversionRecord>, StoreError> {
        case_conversion::Entity::find()
            .filter(case_conversion::Column::FromCaseId.eq(id.as_uuid()))
            .order_by_desc(case_conversion::Column::Id)
            .one(self.db())
            .await?
            .map(|c| c.try_into().map_err(StoreError::from))
            .transpose()
    }
}

impl Cases<'_> {
    /// The case this one was converted from, with its service: a
    /// consultation (through its conversion) or a tip (an officer's
    /// conversion into a mediation).
    pub async fn converted_from(self, id: CaseId) -> Result<Option<(Service, CaseId)>, StoreError> {
        if let Some(c) = case_conversion::Entity::find()
            .filter(case_conversion::Column::ToCaseId.eq(id.as_uuid()))
            .one(self.db())
            .await?
        {
            return Ok(Some((Service::Consultation, c.from_case_id.into())));
        }
        Ok(tip::Entity::find()
            .filter(tip::Column::ConvertedTo.eq(id.as_uuid()))
            .one(self.db())
            .await?
            .map(|t| (Service::Tip, t.case_id.into())))
    }
}
