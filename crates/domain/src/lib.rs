//! Pure domain rules of sansuo.
//!
//! Everything here is deterministic and free of I/O: ids and value types that
//! are parsed once at the edge ("parse, don't validate"), the consultation
//! state machine, and routing decisions as functions over a snapshot. The
//! store, queue and HTTP crates load data, call into this crate, and save the
//! result; they never re-implement a rule.

pub mod account;
pub mod actor;
pub mod calendar;
pub mod canned_reply;
pub mod catalog;
pub mod consultation;
pub mod data_view;
pub mod dispatch;
pub mod event_chain;
pub mod ids;
pub mod import;
pub mod lang;
pub mod limits;
pub mod mediation;
pub mod moderation;
pub mod notify;
pub mod offer;
pub mod org;
pub mod privacy;
pub mod report;
pub mod retention;
pub mod room_hours;
pub mod rota;
pub mod sla;
pub mod staff_event;
pub mod stats;
pub mod supervision;
pub mod tip;
pub mod urge;
pub mod values;
pub mod work;
pub mod work_order;

pub use actor::{Actor, StaffRole};
pub use consultation::{ConsultationAction, ConsultationStatus, TransitionError};
pub use ids::{
    CaseId, ExtensionId, MessageId, OfferId, OrgUnitId, ResidentId, StaffId, SupervisionId,
};
pub use values::ValidationError;
