//! 常用回复 (canned replies): staff keep their own, coordinators and
//! administrators keep shared ones for a unit's subtree; staff read both in
//! one bounded list and insert them into a reply.

pub mod create_own;
pub mod create_shared;
pub mod delete_own;
pub mod delete_shared;
pub mod list;

use crate::ApiError;
use crate::handlers::admin::create_org_unit::ServiceName;
use chrono::{DateTime, Utc};
use sansuo_domain::canned_reply::CannedTitle;
use sansuo_domain::catalog::Service;
use sansuo_domain::values::MessageBody;
use sansuo_store::canned_replies::{CannedReplyRecord, Keeper};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Whose reply it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CannedReplyKind {
    /// The caller's own: they may delete it.
    Own,
    /// Shared by a unit (`org_unit_id`) with its staff and the staff below it.
    Shared,
}

/// A canned reply.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CannedReplyView {
    pub id: Uuid,
    pub kind: CannedReplyKind,
    /// For a shared reply: the unit sharing it.
    pub org_unit_id: Option<Uuid>,
    /// `consultation`, `mediation` or `tip`; null: for any service's threads.
    pub service: Option<String>,
    pub title: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

impl From<CannedReplyRecord> for CannedReplyView {
    fn from(r: CannedReplyRecord) -> Self {
        let (kind, org_unit_id) = match r.keeper {
            Keeper::Own(_) => (CannedReplyKind::Own, None),
            Keeper::Unit(unit) => (CannedReplyKind::Shared, Some(unit.as_uuid())),
        };
        Self {
            id: r.id,
            kind,
            org_unit_id,
            service: r.service.map(|s| s.as_str().to_owned()),
            title: r.title,
            body: r.body,
            created_at: r.created_at,
        }
    }
}

/// The canned replies a staff member may use: their own first, then those
/// shared by their unit and the units over it, nearest first. Bounded (at
/// most 200), so there is no cursor.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CannedReplyList {
    pub items: Vec<CannedReplyView>,
}

/// A new canned reply.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CannedReplyRequest {
    /// 1 to 40 characters: what the picker shows.
    pub title: String,
    /// 1 to 2000 characters, as a message in a thread.
    pub body: String,
    /// Only for this service's threads; absent: for any.
    pub service: Option<ServiceName>,
}

/// A request's values, parsed.
pub(crate) struct ParsedReply {
    pub title: CannedTitle,
    pub body: MessageBody,
    pub service: Option<Service>,
}

impl CannedReplyRequest {
    pub(crate) fn parse(&self) -> Result<ParsedReply, ApiError> {
        Ok(ParsedReply {
            title: CannedTitle::parse(&self.title)?,
            body: MessageBody::parse(&self.body)?,
            service: self.service.map(service_of),
        })
    }
}

pub(crate) fn service_of(name: ServiceName) -> Service {
    match name {
        ServiceName::Consultation => Service::Consultation,
        ServiceName::Mediation => Service::Mediation,
        ServiceName::Tip => Service::Tip,
    }
}
