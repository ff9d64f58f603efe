//! sea-orm entities, one per table. Relations are expressed in queries
//! rather than derived, to keep each entity a plain mirror of its table.

pub mod booking_slot;
pub mod calendar_day;
pub mod case;
pub mod case_event;
pub mod case_message;
pub mod category;
pub mod consultation;
pub mod duty_shift;
pub mod firm_signing;
pub mod idempotency_key;
pub mod law_firm;
pub mod lawyer_signing;
pub mod media_check;
pub mod mediation;
pub mod mediation_party;
pub mod mediation_room;
pub mod mediation_session;
pub mod notification;
pub mod offer;
pub mod org_unit;
pub mod outbox;
pub mod qr_code;
pub mod refresh_token;
pub mod resident;
pub mod sla_breach;
pub mod staff;
pub mod staff_skill;
pub mod staff_unit;
pub mod subscription_credit;
pub mod workflow;
