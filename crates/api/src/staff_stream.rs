//! The staff event stream's moving parts: the pulse every stream of an
//! instance shares, and the stream itself (Server-Sent Events).
//!
//! **How a stream learns of new events.** Events are rows written in the
//! transaction of the change (`store::staff_events`), on whichever instance
//! made it. Each instance reads one number, the pulse (the sum of every
//! person's latest event number; it grows whenever anyone is told
//! anything), at most every [`PULSE_EVERY`], and only while a stream of
//! its own is waiting; a stream reads its own rows only when the pulse
//! moved. So an event reaches a connected person within about half a
//! second, from any instance, on PostgreSQL and on SQLite alike, with no
//! second channel to keep consistent with the table (a Redis pub/sub would
//! need its own connection per instance, does not exist on the embedded
//! default, and a message lost between commit and publish would still need
//! this read to be found).

use crate::AppState;
use actix_web::web::Bytes;
use chrono::Utc;
use futures::Stream;
use sansuo_domain::StaffId;
use sansuo_store::staff_events::StaffEventRecord;
use sansuo_store::{Store, StoreError};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;
use tracing::debug;

/// How often an instance reads the pulse while a stream waits.
pub const PULSE_EVERY: Duration = Duration::from_millis(250);

/// A comment line this often keeps proxies from closing an idle stream,
/// and renews the person's heartbeat (`staff_streams.seen_at`; see
/// `domain::staff_event::STREAM_SEEN_GRACE_SECONDS`).
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// How often an open stream checks that its account's session still stands
/// (active, same epoch): a deactivated account, or one whose password or
/// role changed, loses its stream within this (plus the one-second session
/// cache), not at the stream's maximum life.
pub const SESSION_CHECK_EVERY: Duration = Duration::from_secs(5);

/// What the `retry:` line asks a client to wait before reconnecting (ms).
const RETRY_MS: u32 = 2000;

/// The instance's pulse: one read shared by all its streams.
pub struct StaffEventPulse {
    store: Store,
    last: Mutex<Option<(Instant, i64)>>,
}

impl StaffEventPulse {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            last: Mutex::new(None),
        }
    }

    /// The pulse, read again if the last read is older than [`PULSE_EVERY`].
    /// Streams asking meanwhile wait for that one read.
    pub async fn current(&self) -> Result<i64, StoreError> {
        let mut last = self.last.lock().await;
        if let Some((at, pulse)) = *last
            && at.elapsed() < PULSE_EVERY
        {
            return Ok(pulse);
        }
        let pulse = self.store.staff_events().pulse().await?;
        *last = Some((Instant::now(), pulse));
        Ok(pulse)
    }
}

/// One open stream.
struct Open {
    state: AppState,
    staff: StaffId,
    /// The number of the last event sent (or of the one to replay after).
    cursor: i64,
    /// The pulse at the last read of this person's rows; `None`: read now.
    pulse_seen: Option<i64>,
    ready: VecDeque<StaffEventRecord>,
    greeted: bool,
    next_keep_alive: Instant,
    ends_at: Instant,
    /// The session epoch the stream was opened under.
    epoch: i32,
    next_session_check: Instant,
}

/// The event stream of `staff`, after event number `cursor`, open for at
/// most `max_life`: what was stored after `cursor` first, then what comes.
pub(crate) fn events(
    state: AppState,
    staff: StaffId,
    epoch: i32,
    cursor: i64,
    max_life: Duration,
) -> impl Stream<Item = Result<Bytes, actix_web::Error>> {
    let now = Instant::now();
    let open = Open {
        state,
        staff,
        cursor,
        pulse_seen: None,
        ready: VecDeque::new(),
        greeted: false,
        next_keep_alive: now + KEEP_ALIVE,
        ends_at: now + max_life,
        epoch,
        next_session_check: now + SESSION_CHECK_EVERY,
    };
    futures::stream::unfold(open, |mut open| async move {
        let chunk = open.next_chunk().await?;
        Some((Ok(chunk), open))
    })
}

impl Open {
    /// The next piece of the stream, or `None` when it ends.
    async fn next_chunk(&mut self) -> Option<Bytes> {
        if !self.greeted {
            // Sent at once, so the client knows it is connected.
            self.greeted = true;
            return Some(Bytes::from(format!("retry: {RETRY_MS}\n: connected\n\n")));
        }
        loop {
            if let Some(event) = self.ready.pop_front() {
                self.cursor = event.seq;
                return Some(Bytes::from(format!(
                    "id: {}\nevent: {}\ndata: {}\n\n",
                    event.seq, event.kind, event.data
                )));
            }
            let now = Instant::now();
            if now >= self.ends_at {
                return None;
            }
            if now >= self.next_session_check {
                self.next_session_check = now + SESSION_CHECK_EVERY;
                if !self.session_stands().await {
                    tracing::info!(staff_id = %self.staff, "stream ended: the session no longer stands");
                    return None;
                }
            }
            if now >= self.next_keep_alive {
                self.next_keep_alive = now + KEEP_ALIVE;
                if let Err(err) = self
                    .state
                    .store
                    .staff_events()
                    .seen(self.staff, Utc::now())
                    .await
                {
                    debug!(error = %err, "stream heartbeat not recorded");
                }
                return Some(Bytes::from_static(b": keep-alive\n\n"));
            }
            if self.pulse_seen.is_some() {
                let wake = (now + PULSE_EVERY)
                    .min(self.next_keep_alive)
                    .min(self.ends_at);
                tokio::time::sleep_until(wake).await;
            }
            self.read_new().await;
        }
    }

    /// Whether the account may still listen: active and on the epoch the
    /// stream opened under. A failed read keeps the stream (the database
    /// blinking should not drop every desk's stream); the next check decides.
    async fn session_stands(&self) -> bool {
        match self.state.store.identity().staff_session(self.staff).await {
            Ok(Some(s)) => s.active && s.epoch == self.epoch,
            Ok(None) => false,
            Err(err) => {
                debug!(error = %err, "stream session not checked");
                true
            }
        }
    }

    /// This person's new events, if the pulse says there may be some. The
    /// pulse is read before the rows: an event that commits after the
    /// rows were read moves a later pulse, so it is read then.
    async fn read_new(&mut self) {
        let pulse = match self.state.staff_pulse.current().await {
            Ok(pulse) => pulse,
            Err(err) => {
                debug!(error = %err, "stream pulse not read");
                return;
            }
        };
        if self.pulse_seen == Some(pulse) {
            return;
        }
        match self
            .state
            .store
            .staff_events()
            .after(self.staff, self.cursor)
            .await
        {
            Ok(events) => {
                let full = events.len() as u64 == sansuo_store::staff_events::EVENTS_PER_READ;
                self.ready.extend(events);
                // A full read may have left more: read again next time.
                self.pulse_seen = if full { None } else { Some(pulse) };
            }
            Err(err) => debug!(error = %err, "stream events not read"),
        }
    }
}
