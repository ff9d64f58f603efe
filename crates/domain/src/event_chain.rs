//! The hash chain over a case's events (issue 18, item 3).
//!
//! Each `case_events` row carries its position in the case's history
//! (`seq`, from 1), the previous row's hash (`prev_hash`; [`GENESIS`] for
//! the first) and its own: `hash = SHA-256(prev_hash || encoding(row))`,
//! lower-case hex. The encoding is [`canonical`]: a version tag, then every
//! field as `byte length ':' bytes`, or `-` when absent, so no two rows
//! encode alike. The database refuses UPDATE and DELETE of events; the chain
//! is what shows an edit made by someone who went around that (a superuser,
//! a restored file edited by hand).
//!
//! Three places compute the same bytes and must stay in step:
//! - [`event_hash`] here (the SQLite append and every verification);
//! - the PostgreSQL function `case_event_hash` (migration
//!   `m20261205_130000_event_chain`), called by the insert trigger;
//! - the SQLite backfill in that migration, which chains rows that existed
//!   before it (the migrations crate knows nothing of the domain).
//!
//! `e2e::integrity` appends on both databases and verifies with this code,
//! so a drift between them fails there.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The `prev_hash` of a case's first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Names the encoding, so a later change of fields is a new version rather
/// than a silent reinterpretation of old hashes.
const TAG: &str = "sansuo-case-event-v1";

/// The hashed fields of one event, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainedEvent {
    pub id: Uuid,
    pub case_id: Uuid,
    pub seq: i64,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub actor_kind: String,
    pub actor_id: Option<Uuid>,
    pub reason: Option<String>,
    pub public: bool,
    pub request_id: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The stored link to the previous event.
    pub prev_hash: String,
    /// The stored hash of this event.
    pub hash: String,
}

fn field(out: &mut Vec<u8>, value: Option<&str>) {
    match value {
        Some(v) => {
            out.extend_from_slice(v.len().to_string().as_bytes());
            out.push(b':');
            out.extend_from_slice(v.as_bytes());
        }
        None => out.push(b'-'),
    }
}

/// The canonical bytes of an event's fields (without the link).
pub fn canonical(event: &ChainedEvent) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(TAG.as_bytes());
    field(&mut out, Some(&event.seq.to_string()));
    field(&mut out, Some(&event.id.to_string()));
    field(&mut out, Some(&event.case_id.to_string()));
    field(&mut out, Some(&event.action));
    field(&mut out, event.from_status.as_deref());
    field(&mut out, Some(&event.to_status));
    field(&mut out, Some(&event.actor_kind));
    field(&mut out, event.actor_id.map(|id| id.to_string()).as_deref());
    field(&mut out, event.reason.as_deref());
    field(&mut out, Some(if event.public { "true" } else { "false" }));
    field(&mut out, event.request_id.as_deref());
    // Microseconds since the epoch: PostgreSQL keeps no finer time.
    field(
        &mut out,
        Some(&event.created_at.timestamp_micros().to_string()),
    );
    out
}

/// `SHA-256(prev_hash || canonical(event))` in lower-case hex.
pub fn event_hash(prev_hash: &str, event: &ChainedEvent) -> String {
    let mut digest = Sha256::new();
    digest.update(prev_hash.as_bytes());
    digest.update(canonical(event));
    hex::encode(digest.finalize())
}

/// What is wrong at the first broken link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub enum BreakKind {
    /// The row's fields no longer hash to its stored hash (it was edited).
    Hash,
    /// The row does not point at the previous row's hash (a row before it
    /// was removed, inserted or its hash rewritten).
    Link,
    /// The row's position is not the next one (a row was removed or added).
    Position,
}

/// The first broken link of a case's chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct BrokenLink {
    pub case_id: Uuid,
    pub event_id: Uuid,
    /// 1-based place of the event in the case's history as read.
    pub position: i64,
    pub kind: BreakKind,
    pub expected: String,
    pub found: String,
}

impl std::fmt::Display for BrokenLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.kind {
            BreakKind::Hash => "hash",
            BreakKind::Link => "prev_hash",
            BreakKind::Position => "seq",
        };
        write!(
            f,
            "case {} event {} at position {}: {what} expected {} found {}",
            self.case_id, self.event_id, self.position, self.expected, self.found
        )
    }
}

/// The outcome of checking some cases: how much was read, and the first
/// broken link if any (cases are checked in id order, each whole).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct ChainReport {
    pub cases: u64,
    pub events: u64,
    pub broken: Option<BrokenLink>,
}

impl ChainReport {
    /// Adds one case's events (in `seq` order); keeps the first break.
    pub fn check_case(&mut self, events: &[ChainedEvent]) {
        self.cases += 1;
        self.events += events.len() as u64;
        if self.broken.is_none() {
            self.broken = verify_case(events).err();
        }
    }
}

/// Checks one case's events, given in `seq` order (ties by id): positions
/// run 1, 2, …; each links to the hash before it; each hash recomputes.
/// Returns the first broken link.
pub fn verify_case(events: &[ChainedEvent]) -> Result<(), BrokenLink> {
    let mut prev = GENESIS.to_owned();
    for (i, event) in events.iter().enumerate() {
        let position = i as i64 + 1;
        let broken = |kind, expected: String, found: String| BrokenLink {
            case_id: event.case_id,
            event_id: event.id,
            position,
            kind,
            expected,
            found,
        };
        if event.seq != position {
            return Err(broken(
                BreakKind::Position,
                position.to_string(),
                event.seq.to_string(),
            ));
        }
        if event.prev_hash != prev {
            return Err(broken(BreakKind::Link, prev, event.prev_hash.clone()));
        }
        let expected = event_hash(&event.prev_hash, event);
        if expected != event.hash {
            return Err(broken(BreakKind::Hash, expected, event.hash.clone()));
        }
        prev.clone_from(&event.hash);
    }
    Ok(())
}

/// Appends `event` after `tip` (`None`: the case's first event): sets its
/// position, link and hash.
pub fn chain_after(tip: Option<(i64, &str)>, event: &mut ChainedEvent) {
    let (seq, prev) = match tip {
        Some((seq, hash)) => (seq + 1, hash.to_owned()),
        None => (1, GENESIS.to_owned()),
    };
    event.seq = seq;
    event.hash = event_hash(&prev, event);
    event.prev_hash = prev;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(case_id: Uuid, action: &str) -> ChainedEvent {
        ChainedEvent {
            id: Uuid::now_v7(),
            case_id,
            seq: 0,
            action: action.to_owned(),
            from_status: None,
            to_status: "submitted".to_owned(),
            actor_kind: "system".to_owned(),
            actor_id: None,
            reason: Some("理由".to_owned()),
            public: true,
            request_id: None,
            created_at: DateTime::from_timestamp_micros(1_796_000_000_123_456).unwrap(),
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    fn chain(n: usize) -> Vec<ChainedEvent> {
        let case_id = Uuid::now_v7();
        let mut out: Vec<ChainedEvent> = Vec::new();
        for i in 0..n {
            let mut e = event(case_id, &format!("a{i}"));
            chain_after(out.last().map(|t| (t.seq, t.hash.as_str())), &mut e);
            out.push(e);
        }
        out
    }

    #[test]
    fn genesis_is_a_hash_of_zeros() {
        assert_eq!(GENESIS.len(), 64);
        assert!(GENESIS.bytes().all(|b| b == b'0'));
    }

    #[test]
    fn a_fresh_chain_verifies() {
        assert_eq!(verify_case(&chain(4)), Ok(()));
        assert_eq!(verify_case(&[]), Ok(()));
    }

    #[test]
    fn an_edited_field_names_its_row() {
        let mut events = chain(4);
        events[2].reason = Some("改过".to_owned());
        let broken = verify_case(&events).unwrap_err();
        assert_eq!((broken.event_id, broken.position), (events[2].id, 3));
        assert_eq!(broken.kind, BreakKind::Hash);
        assert_eq!(broken.found, events[2].hash);
    }

    #[test]
    fn a_removed_row_names_the_one_after_it() {
        let mut events = chain(4);
        let removed = events.remove(1);
        let broken = verify_case(&events).unwrap_err();
        assert_eq!((broken.event_id, broken.position), (events[1].id, 2));
        assert_eq!(broken.kind, BreakKind::Position);
        let _ = removed;
    }

    #[test]
    fn fields_are_length_prefixed_so_shifting_bytes_between_them_shows() {
        let mut a = event(Uuid::nil(), "ab");
        a.reason = Some("c".to_owned());
        let mut b = a.clone();
        b.action = "a".to_owned();
        b.reason = Some("bc".to_owned());
        assert_ne!(canonical(&a), canonical(&b));
        let mut c = a.clone();
        c.reason = None;
        let mut d = a.clone();
        d.reason = Some("-".to_owned());
        assert_ne!(canonical(&c), canonical(&d));
    }
}
