//! Lawyers opening their boards: `GET /api/v1/staff/offers`, and pages of
//! `GET /api/v1/staff/consultations?view=mine|pool`, following
//! `next_cursor` a third of the time the way a lawyer scrolls.

use super::{Bench, Parts, ScenarioResult, exchange, pick};
use crate::load::{Op, Pace, Sample};
use futures::FutureExt;
use serde::Deserialize;
use serde::de::IgnoredAny;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

#[derive(Deserialize)]
struct Page {
    items: Vec<IgnoredAny>,
    next_cursor: Option<String>,
}

#[derive(Deserialize)]
struct OfferItem {
    id: Uuid,
}

#[derive(Deserialize)]
struct Offers {
    items: Vec<OfferItem>,
}

#[derive(Clone, Copy)]
pub enum View {
    Mine,
    Pool,
}

/// The next page a lawyer would scroll to, per (lawyer, view).
#[derive(Default)]
pub struct Cursors(Mutex<HashMap<(usize, u8), String>>);

/// `GET /staff/offers` as lawyer `lawyer`; the offers seen are remembered
/// so the mixed scenario can accept them.
pub async fn offers(parts: &Parts, lawyer: usize) -> Sample {
    let request = parts
        .api
        .http
        .get(parts.api.url("/api/v1/staff/offers"))
        .bearer_auth(&parts.accounts.lawyers[lawyer].token);
    let reply = exchange(request, true).await;
    if let Some(offers) = reply
        .body
        .as_deref()
        .filter(|_| reply.outcome.is_success())
        .and_then(|b| serde_json::from_slice::<Offers>(b).ok())
    {
        parts.items.add("offers", offers.items.len());
        parts
            .known
            .learn_offers(lawyer, offers.items.into_iter().map(|o| o.id));
    }
    Sample {
        op: "offers",
        outcome: reply.outcome,
    }
}

/// One page of a lawyer's list: the first, or (a third of the time, when
/// there is one) the next page after the last one seen.
pub async fn page(parts: &Parts, cursors: &Cursors, lawyer: usize, view: View) -> Sample {
    let (name, next_name, key) = match view {
        View::Mine => ("mine", "mine_next", 0u8),
        View::Pool => ("pool", "pool_next", 1u8),
    };
    let cursor = if pick(3) == 0 {
        cursors
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(lawyer, key))
            .cloned()
    } else {
        None
    };
    let op = if cursor.is_some() { next_name } else { name };
    let mut query = vec![("view", name.to_owned())];
    if let Some(c) = cursor {
        query.push(("cursor", c));
    }
    let request = parts
        .api
        .http
        .get(parts.api.url("/api/v1/staff/consultations"))
        .query(&query)
        .bearer_auth(&parts.accounts.lawyers[lawyer].token);
    let reply = exchange(request, true).await;
    if let Some(page) = reply
        .body
        .as_deref()
        .filter(|_| reply.outcome.is_success())
        .and_then(|b| serde_json::from_slice::<Page>(b).ok())
    {
        parts.items.add(op, page.items.len());
        let mut cursors = cursors.0.lock().unwrap_or_else(|e| e.into_inner());
        match page.next_cursor {
            Some(next) => cursors.insert((lawyer, key), next),
            None => cursors.remove(&(lawyer, key)),
        };
    }
    Sample {
        op,
        outcome: reply.outcome,
    }
}

/// A random lawyer reads one of the three lists.
pub async fn read(parts: &Parts, cursors: &Cursors) -> Sample {
    let lawyer = pick(parts.accounts.lawyers.len());
    match pick(3) {
        0 => offers(parts, lawyer).await,
        1 => page(parts, cursors, lawyer, View::Mine).await,
        _ => page(parts, cursors, lawyer, View::Pool).await,
    }
}

pub fn op(bench: &Bench) -> Op {
    let parts = bench.parts();
    let cursors = Arc::new(Cursors::default());
    Arc::new(move |_| {
        let (parts, cursors) = (parts.clone(), cursors.clone());
        async move { read(&parts, &cursors).await }.boxed()
    })
}

pub async fn run(bench: &Bench, name: &str, pace: Pace, duration: Duration) -> ScenarioResult {
    bench.run(name, pace, duration, op(bench)).await
}
