//! The system of record.
//!
//! sea-orm entities and the repositories that read and write them. Every
//! state change of a case is one transaction: a guarded update
//! (`WHERE status = $expected AND version = $v`), an appended event, and,
//! where work follows, an outbox row that the relay moves to the queue.
//! The rules themselves come from `sansuo-domain`; this crate only loads,
//! asks the domain, and saves.

mod cache;
// The case engine: the shared case parts, offers, and what crosses services.
// Private: their public items are re-exported from the paths callers used.
pub mod canned_replies;
pub mod case_numbers;
mod cases;
pub mod catalog;
pub mod consultations;
mod crossings;
pub mod data_views;
mod db;
pub mod entity;
mod error;
pub mod identity;
pub mod imports;
mod ladder;
pub mod mediations;
pub mod moderation;
#[cfg(test)]
mod module_graph;
pub mod notifications;
mod offers;
pub mod open311;
pub mod org;
pub mod outbox;
pub mod photos;
pub mod placement;
mod proposals;
pub mod records;
pub mod retention;
pub mod rotas;
pub mod routing;
mod rows;
pub mod scope;
pub mod staff_events;
mod staff_load;
pub mod staffing;
pub mod stats;
pub mod supervision;
pub mod tips;
pub mod urges;

pub use cases::ChainScope;
pub use crossings::{MediationProposal, TipProposal};
pub use db::{DEFAULT_BUSY_TIMEOUT, Fault, Faults, PoolUse, Store, WorkSignal};
pub use error::{StoreError, is_transient};
pub use sea_orm;
