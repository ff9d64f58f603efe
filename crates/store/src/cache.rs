//! Reference data every routing decision reads and that changes rarely —
//! workflows, the business calendar, where a community sits in the tree —
//! kept per instance for a few seconds. The benchmark showed routing
//! spending a third of its statements re-reading them. An edit made
//! through this instance clears the cache at once; other instances see it
//! within the time to live.

use crate::ladder::WorkflowRules;
use sansuo_domain::calendar::BusinessCalendar;
use sansuo_domain::dispatch::CasePlace;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Offers made in submissions' own transactions (`Store::offer_at_submission`).
#[derive(Debug)]
struct FirstOffers {
    timeout: chrono::Duration,
    slots: std::sync::Arc<tokio::sync::Semaphore>,
}

/// How long a cached value is trusted.
pub const REFERENCE_TTL: Duration = Duration::from_secs(10);

#[derive(Debug, Default)]
pub(crate) struct ReferenceCache {
    workflows: Mutex<HashMap<String, (Instant, Option<WorkflowRules>)>>,
    /// The workflow a category's list gives a service, by list and service.
    workflows_for: Mutex<HashMap<String, (Instant, Option<WorkflowRules>)>>,
    calendar: Mutex<Option<(Instant, BusinessCalendar)>>,
    /// The demo's `--round-the-clock`: the calendar's base is every hour,
    /// not office hours (`Store::use_round_the_clock_calendar`).
    round_the_clock: std::sync::atomic::AtomicBool,
    /// Offers made in submissions' own transactions: how long they last,
    /// and how many submissions may make one at once. Unset: none are
    /// (`Store::offer_at_submission`).
    first_offers: std::sync::OnceLock<FirstOffers>,
    places: Mutex<HashMap<Uuid, (Instant, CasePlace)>>,
    /// Units and categories as every submission checks them. Only what
    /// exists is kept: ids that name nothing are asked of the database
    /// each time, so made-up ids cannot grow the map.
    units: Found<Uuid, crate::records::OrgUnitRecord>,
    categories: Found<String, crate::records::CategoryRecord>,
    /// What every staff request checks its token against (`Store::staff_session`).
    sessions: Mutex<HashMap<Uuid, (Instant, Option<StaffSession>)>>,
    /// The resident accounts deleted within [`DELETIONS_KEPT`], as last
    /// read, and when (`Store::resident_session`): a deleted account's
    /// tokens stop working. An async lock, held across the read, so that
    /// the requests of a second wait for one read instead of each reading.
    pub(crate) deleted_residents: tokio::sync::Mutex<Option<(Instant, HashSet<Uuid>)>>,
}

/// How long a resident account's deletion is remembered: the longest an
/// access token issued before it can live (`SANSUO_ACCESS_TOKEN_TTL_SECS`
/// is at most a day; refreshing reads the account), plus an hour for late
/// commits and clocks apart.
pub const DELETIONS_KEPT: chrono::TimeDelta = chrono::TimeDelta::hours(25);

/// A staff account as its tokens are checked against it
/// (`Store::staff_session`, re-exported by `identity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaffSession {
    /// The epoch every valid token of the account carries.
    pub epoch: i32,
    pub active: bool,
    /// A `seed-demo` account: valid only on a server running `--demo`.
    pub demo: bool,
    pub role: sansuo_domain::StaffRole,
    pub scope: sansuo_domain::OrgUnitId,
}

/// How long a staff account's session state is trusted: the most an
/// instance lags behind a deactivation, role change or password change
/// made through another instance.
pub const SESSION_TTL: Duration = Duration::from_secs(1);

fn fresh(at: Instant) -> bool {
    at.elapsed() < REFERENCE_TTL
}

impl ReferenceCache {
    pub(crate) fn workflow(&self, name: &str) -> Option<Option<WorkflowRules>> {
        let map = self.workflows.lock().expect("cache lock");
        map.get(name)
            .filter(|(at, _)| fresh(*at))
            .map(|(_, w)| w.clone())
    }

    pub(crate) fn put_workflow(&self, name: &str, rules: Option<WorkflowRules>) {
        let mut map = self.workflows.lock().expect("cache lock");
        map.insert(name.to_owned(), (Instant::now(), rules));
    }

    pub(crate) fn workflow_for(&self, key: &str) -> Option<Option<WorkflowRules>> {
        let map = self.workflows_for.lock().expect("cache lock");
        map.get(key)
            .filter(|(at, _)| fresh(*at))
            .map(|(_, w)| w.clone())
    }

    pub(crate) fn put_workflow_for(&self, key: &str, rules: Option<WorkflowRules>) {
        let mut map = self.workflows_for.lock().expect("cache lock");
        // Bounded by the distinct workflow lists of the categories (a few dozen).
        map.insert(key.to_owned(), (Instant::now(), rules));
    }

    pub(crate) fn calendar(&self) -> Option<BusinessCalendar> {
        let cached = self.calendar.lock().expect("cache lock");
        cached
            .as_ref()
            .filter(|(at, _)| fresh(*at))
            .map(|(_, c)| c.clone())
    }

    pub(crate) fn round_the_clock(&self) -> bool {
        self.round_the_clock
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn set_round_the_clock(&self) {
        self.round_the_clock
            .store(true, std::sync::atomic::Ordering::Relaxed);
        *self.calendar.lock().expect("cache lock") = None;
    }

    /// The offer timeout and a slot for one submission's first offer, if
    /// offers are made at submission and a slot is free now.
    pub(crate) fn first_offer_slot(
        &self,
    ) -> Option<(chrono::Duration, tokio::sync::OwnedSemaphorePermit)> {
        let offers = self.first_offers.get()?;
        let slot = offers.slots.clone().try_acquire_owned().ok()?;
        Some((offers.timeout, slot))
    }

    /// Set once; a second call changes nothing.
    pub(crate) fn set_first_offers(&self, timeout: chrono::Duration, at_once: usize) {
        let _ = self.first_offers.set(FirstOffers {
            timeout,
            slots: std::sync::Arc::new(tokio::sync::Semaphore::new(at_once)),
        });
    }

    pub(crate) fn put_calendar(&self, calendar: BusinessCalendar) {
        *self.calendar.lock().expect("cache lock") = Some((Instant::now(), calendar));
    }

    pub(crate) fn place(&self, community: Uuid) -> Option<CasePlace> {
        let map = self.places.lock().expect("cache lock");
        map.get(&community)
            .filter(|(at, _)| fresh(*at))
            .map(|(_, p)| *p)
    }

    pub(crate) fn put_place(&self, community: Uuid, place: CasePlace) {
        let mut map = self.places.lock().expect("cache lock");
        // Bounded by the number of communities of a district (a few hundred).
        map.insert(community, (Instant::now(), place));
    }

    pub(crate) fn session(&self, staff: Uuid) -> Option<Option<StaffSession>> {
        let map = self.sessions.lock().expect("cache lock");
        map.get(&staff)
            .filter(|(at, _)| at.elapsed() < SESSION_TTL)
            .map(|(_, s)| *s)
    }

    pub(crate) fn put_session(&self, staff: Uuid, session: Option<StaffSession>) {
        let mut map = self.sessions.lock().expect("cache lock");
        // Ended entries go now and then, so the map stays as small as the
        // staff who were active in the last second.
        if map.len() > 10_000 {
            map.retain(|_, (at, _)| at.elapsed() < SESSION_TTL);
        }
        map.insert(staff, (Instant::now(), session));
    }

    /// A change through this instance is seen by its next request.
    pub(crate) fn forget_session(&self, staff: Uuid) {
        self.sessions.lock().expect("cache lock").remove(&staff);
    }

    /// A deletion through this instance is seen by its next request, even
    /// before the next read.
    pub(crate) async fn note_deleted_resident(&self, resident: Uuid) {
        if let Some((_, deleted)) = self.deleted_residents.lock().await.as_mut() {
            deleted.insert(resident);
        }
    }

    /// Forget everything (an edit through this instance).
    pub(crate) fn unit(&self, id: Uuid) -> Option<crate::records::OrgUnitRecord> {
        self.units.get(&id)
    }

    pub(crate) fn put_unit(&self, unit: &crate::records::OrgUnitRecord) {
        self.units.put(unit.id, unit.clone());
    }

    pub(crate) fn category(&self, code: &str) -> Option<crate::records::CategoryRecord> {
        self.categories.get(code)
    }

    pub(crate) fn put_category(&self, category: &crate::records::CategoryRecord) {
        self.categories.put(category.code.clone(), category.clone());
    }

    pub(crate) fn clear(&self) {
        self.workflows.lock().expect("cache lock").clear();
        self.workflows_for.lock().expect("cache lock").clear();
        *self.calendar.lock().expect("cache lock") = None;
        self.places.lock().expect("cache lock").clear();
        self.units.clear();
        self.categories.clear();
    }
}

/// Rows that exist, by key, each trusted for [`REFERENCE_TTL`].
#[derive(Debug)]
struct Found<K, V>(Mutex<HashMap<K, (Instant, V)>>);

impl<K, V> Default for Found<K, V> {
    fn default() -> Self {
        Self(Mutex::default())
    }
}

impl<K: std::hash::Hash + Eq, V: Clone> Found<K, V> {
    fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        let map = self.0.lock().expect("cache lock");
        map.get(key)
            .filter(|(at, _)| fresh(*at))
            .map(|(_, v)| v.clone())
    }

    fn put(&self, key: K, value: V) {
        // Bounded by the rows that exist (units, categories: hundreds).
        self.0
            .lock()
            .expect("cache lock")
            .insert(key, (Instant::now(), value));
    }

    fn clear(&self) {
        self.0.lock().expect("cache lock").clear();
    }
}
