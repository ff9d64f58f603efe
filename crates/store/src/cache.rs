//! Reference data every routing decision reads and that changes rarely —
//! workflows, the business calendar, where a community sits in the tree —
//! kept per instance for a few seconds. The benchmark showed routing
//! spending a third of its statements re-reading them. An edit made
//! through this instance clears the cache at once; other instances see it
//! within the time to live.

use crate::ladder::WorkflowRules;
use sansuo_domain::calendar::BusinessCalendar;
use sansuo_domain::dispatch::CasePlace;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// How long a cached value is trusted.
pub const REFERENCE_TTL: Duration = Duration::from_secs(10);

#[derive(Debug, Default)]
pub(crate) struct ReferenceCache {
    workflows: Mutex<HashMap<String, (Instant, Option<WorkflowRules>)>>,
    /// The workflow a category's list gives a service, by list and service.
    workflows_for: Mutex<HashMap<String, (Instant, Option<WorkflowRules>)>>,
    calendar: Mutex<Option<(Instant, BusinessCalendar)>>,
    places: Mutex<HashMap<Uuid, (Instant, CasePlace)>>,
}

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

    /// Forget everything (an edit through this instance).
    pub(crate) fn clear(&self) {
        self.workflows.lock().expect("cache lock").clear();
        self.workflows_for.lock().expect("cache lock").clear();
        *self.calendar.lock().expect("cache lock") = None;
        self.places.lock().expect("cache lock").clear();
    }
}
