//! The drill's traffic, through the load balancer: residents submitting
//! consultations, mediations and tips at a fixed rate and retrying the way
//! a client must (a 5xx or a broken connection: the same request again
//! with the same `Idempotency-Key`, with backoff), and every staff member
//! working their board at once (accept or decline offers, answer and
//! resolve, pull the next case, two lawyers racing for one pooled case).
//!
//! Every response is logged with the moment its request was sent, so the
//! report can count 5xx per fault window, by error code.

use crate::accounts::{Api, LawyerSession, Resident};
use rand::Rng;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::task::JoinSet;
use tokio::time::Instant;
use uuid::Uuid;

/// Which service a submission is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Consultation,
    Mediation,
    Tip,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Consultation => "consultation",
            Kind::Mediation => "mediation",
            Kind::Tip => "tip",
        }
    }
}

/// One submission, all its attempts.
#[derive(Debug, Clone)]
pub struct Submission {
    pub seq: u64,
    pub kind: Kind,
    /// Seconds after the burst started, first attempt.
    pub sent_at: f64,
    pub attempts: u32,
    /// The case id of the 2xx answer (acknowledged).
    pub acknowledged: Option<Uuid>,
    /// The Location of a 503 `submission_stored` that was never followed
    /// by a 2xx (the client was told it is stored).
    pub stored_location: Option<Uuid>,
    /// The last answer: a status or a transport failure.
    pub last: String,
}

/// One response (or transport failure) as the client saw it.
#[derive(Debug, Clone)]
pub struct Response {
    /// Seconds after the burst started, when the request was sent.
    pub sent_at: f64,
    /// Seconds the exchange took.
    pub took: f64,
    pub op: &'static str,
    /// `None`: no HTTP answer (connection refused or reset, timeout).
    pub status: Option<u16>,
    /// `error.code` of a JSON error body; `haproxy` for the balancer's
    /// own HTML answers; the transport failure's kind when there was no answer.
    pub code: Option<String>,
}

pub struct Traffic {
    pub api: Api,
    pub started: Instant,
    pub residents: Vec<Resident>,
    pub communities: Vec<Uuid>,
    pub consultation_categories: Vec<String>,
    pub mediation_categories: Vec<String>,
    /// (code, anonymous allowed)
    pub tip_categories: Vec<(String, bool)>,
    pub responses: Mutex<Vec<Response>>,
    pub submissions: Mutex<Vec<Submission>>,
    pub stop_staff: AtomicBool,
    /// How long a client keeps retrying one submission.
    pub retry_for: Duration,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The marker that ties a stored case to the submission that made it.
pub fn marker(seq: u64) -> String {
    format!("〔演练{seq:07}〕")
}

struct Answer {
    status: Option<StatusCode>,
    location: Option<String>,
    body: Option<Value>,
}

impl Traffic {
    pub fn now(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Send, read the whole answer, log it.
    async fn send(&self, op: &'static str, request: reqwest::RequestBuilder) -> Answer {
        let sent_at = self.now();
        let (answer, code) = match request.send().await {
            Err(e) => (
                Answer {
                    status: None,
                    location: None,
                    body: None,
                },
                Some(transport_kind(&e).to_owned()),
            ),
            Ok(response) => {
                let status = response.status();
                let location = response
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                match response.bytes().await {
                    Err(e) => (
                        Answer {
                            status: None,
                            location,
                            body: None,
                        },
                        Some(transport_kind(&e).to_owned()),
                    ),
                    Ok(bytes) => {
                        let body: Option<Value> = serde_json::from_slice(&bytes).ok();
                        let code = if status.is_success() {
                            None
                        } else {
                            Some(
                                body.as_ref()
                                    .and_then(|b| b["error"]["code"].as_str())
                                    .map(str::to_owned)
                                    .unwrap_or_else(|| {
                                        if bytes.starts_with(b"<html>") {
                                            "haproxy".to_owned()
                                        } else {
                                            "-".to_owned()
                                        }
                                    }),
                            )
                        };
                        (
                            Answer {
                                status: Some(status),
                                location,
                                body,
                            },
                            code,
                        )
                    }
                }
            }
        };
        lock(&self.responses).push(Response {
            sent_at,
            took: self.now() - sent_at,
            op,
            status: answer.status.map(|s| s.as_u16()),
            code,
        });
        answer
    }

    /// Submissions at `rate` per second for `duration`, each retried until
    /// it is answered or `retry_for` ran out. Returns when the last is done.
    pub async fn submit_at(self: &Arc<Self>, rate: f64, duration: Duration) {
        let total = (rate * duration.as_secs_f64()).round() as u64;
        let start = Instant::now();
        let mut tasks = JoinSet::new();
        for seq in 0..total {
            tokio::time::sleep_until(start + Duration::from_secs_f64(seq as f64 / rate)).await;
            let traffic = self.clone();
            tasks.spawn(async move { traffic.submit(seq).await });
            while tasks.try_join_next().is_some() {}
        }
        while tasks.join_next().await.is_some() {}
    }

    async fn submit(&self, seq: u64) {
        // Six in ten consultations, two mediations, two tips.
        let kind = match seq % 10 {
            0..=5 => Kind::Consultation,
            6 | 7 => Kind::Mediation,
            _ => Kind::Tip,
        };
        let rng_pick = below;
        let community = self.communities[rng_pick(self.communities.len())];
        // Tips are limited per reporter (5 an hour, not configurable): they
        // go round the residents, the rest to anyone.
        let resident = match kind {
            Kind::Tip => (seq / 5) as usize % self.residents.len(),
            _ => rng_pick(self.residents.len()),
        };
        let token = self.residents[resident].token.clone();
        let mark = marker(seq);
        let (path, op, body) = match kind {
            Kind::Consultation => (
                "/api/v1/consultations",
                "submit_consultation",
                json!({
                    "community_id": community,
                    "category_code": self.consultation_categories[rng_pick(self.consultation_categories.len())],
                    "question": format!("{}{mark}", crate::scenarios::question(seq)),
                }),
            ),
            Kind::Mediation => (
                "/api/v1/mediations",
                "submit_mediation",
                json!({
                    "community_id": community,
                    "category_code": self.mediation_categories[rng_pick(self.mediation_categories.len())],
                    "facts": format!("楼上住户装修漏水，把我家天花板泡坏了，协商两次都没有结果。{mark}"),
                    "claims": "赔偿维修费用三千元",
                    "parties": [
                        {"role": "applicant", "name": "王小明", "contact": "13800001111"},
                        {"role": "respondent", "name": "李大力"},
                    ],
                }),
            ),
            Kind::Tip => {
                let (code, anonymous_allowed) =
                    &self.tip_categories[rng_pick(self.tip_categories.len())];
                (
                    "/api/v1/tips",
                    "submit_tip",
                    json!({
                        "community_id": community,
                        "category_code": code,
                        "description": format!("小区东门消防通道被电动车堵住好几天了。{mark}"),
                        "anonymous": *anonymous_allowed && seq % 20 == 8,
                    }),
                )
            }
        };
        let key = Uuid::now_v7().to_string();
        let mut submission = Submission {
            seq,
            kind,
            sent_at: self.now(),
            attempts: 0,
            acknowledged: None,
            stored_location: None,
            last: String::new(),
        };
        let give_up = Instant::now() + self.retry_for;
        let mut backoff = Duration::from_millis(200);
        loop {
            submission.attempts += 1;
            let request = self
                .api
                .http
                .post(self.api.url(path))
                .bearer_auth(&token)
                .header("Idempotency-Key", &key)
                .json(&body);
            let answer = self.send(op, request).await;
            submission.last = answer
                .status
                .map(|s| s.as_u16().to_string())
                .unwrap_or_else(|| "transport".into());
            match answer.status {
                Some(s) if s.is_success() => {
                    let id = answer
                        .body
                        .as_ref()
                        .and_then(|b| b["id"].as_str().or(b["tip"]["id"].as_str()))
                        .and_then(|s| s.parse().ok())
                        .or_else(|| crate::scenarios::id_from_location(answer.location.as_deref()));
                    submission.acknowledged = id;
                    if id.is_none() {
                        submission.last = format!("{s} without an id");
                    }
                    break;
                }
                Some(s) if s == StatusCode::SERVICE_UNAVAILABLE && answer.location.is_some() => {
                    // `submission_stored`: stored; the same key fetches it.
                    submission.stored_location =
                        crate::scenarios::id_from_location(answer.location.as_deref());
                }
                Some(s) if s.is_server_error() => {}
                None => {}
                // 4xx: the request itself is refused; a client would not
                // send it again unchanged.
                Some(_) => break,
            }
            if Instant::now() + backoff > give_up {
                break;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
        lock(&self.submissions).push(submission);
    }

    /// Every staff member works until `stop_staff`: `think` is the mean
    /// pause between two rounds.
    pub fn spawn_staff(
        self: &Arc<Self>,
        staff: Vec<(LawyerSession, bool)>,
        think: Duration,
    ) -> JoinSet<()> {
        let staff = Arc::new(staff);
        let owned: Arc<Mutex<HashMap<usize, Vec<Uuid>>>> = Arc::default();
        let mut set = JoinSet::new();
        for me in 0..staff.len() {
            let (traffic, staff, owned) = (self.clone(), staff.clone(), owned.clone());
            set.spawn(async move { traffic.staff_loop(me, &staff, &owned, think).await });
        }
        set
    }

    async fn staff_loop(
        &self,
        me: usize,
        staff: &[(LawyerSession, bool)],
        owned: &Mutex<HashMap<usize, Vec<Uuid>>>,
        think: Duration,
    ) {
        let (session, is_lawyer) = &staff[me];
        let token = session.token.as_str();
        let lawyers: Vec<usize> = (0..staff.len()).filter(|&i| staff[i].1).collect();
        // Spread the first rounds out.
        tokio::time::sleep(think.mul_f64(unit())).await;
        while !self.stop_staff.load(Ordering::Relaxed) {
            let offers = self
                .send(
                    "offers",
                    self.api
                        .http
                        .get(self.api.url("/api/v1/staff/offers"))
                        .bearer_auth(token),
                )
                .await;
            let items: Vec<(String, String)> = offers
                .body
                .as_ref()
                .and_then(|b| b["items"].as_array().cloned())
                .unwrap_or_default()
                .iter()
                .filter_map(|o| {
                    Some((
                        o["id"].as_str()?.to_owned(),
                        o["service"].as_str().unwrap_or("").to_owned(),
                    ))
                })
                .take(2)
                .collect();
            for (offer, service) in items {
                if chance(0.1) {
                    self.send(
                        "decline",
                        self.api
                            .http
                            .post(
                                self.api
                                    .url(&format!("/api/v1/staff/offers/{offer}/decline")),
                            )
                            .bearer_auth(token)
                            .json(&json!({"reason": "本周在外地开庭，无法接待"})),
                    )
                    .await;
                } else {
                    let answer = self
                        .send(
                            "accept",
                            self.api
                                .http
                                .post(
                                    self.api
                                        .url(&format!("/api/v1/staff/offers/{offer}/accept")),
                                )
                                .bearer_auth(token),
                        )
                        .await;
                    if service == "consultation" {
                        remember(owned, me, &answer);
                    }
                }
            }
            // Answer and resolve one owned consultation: it frees capacity,
            // which sends the waiting cases of the lawyer's queues their way.
            let next = lock(owned).get_mut(&me).and_then(|cases| cases.pop());
            if let Some(case) = next {
                let reply = self
                    .send(
                        "reply",
                        self.api
                            .http
                            .post(self.api.url(&format!("/api/v1/staff/consultations/{case}/messages")))
                            .bearer_auth(token)
                            .json(&json!({"body": "您好，建议先保留好证据，再与对方协商；协商不成可申请调解或起诉。"})),
                    )
                    .await;
                if reply.status.is_some_and(|s| s.is_success()) {
                    self.send(
                        "resolve",
                        self.api
                            .http
                            .post(
                                self.api
                                    .url(&format!("/api/v1/staff/consultations/{case}/resolve")),
                            )
                            .bearer_auth(token),
                    )
                    .await;
                }
            }
            if chance(0.3) {
                let answer = self
                    .send(
                        "next_case",
                        self.api
                            .http
                            .post(self.api.url("/api/v1/staff/next-case"))
                            .bearer_auth(token),
                    )
                    .await;
                if answer
                    .body
                    .as_ref()
                    .is_some_and(|b| b["service"] == "consultation")
                {
                    remember(owned, me, &answer);
                }
            }
            if *is_lawyer && lawyers.len() > 1 && chance(0.2) {
                self.pool_race(me, staff, owned, &lawyers).await;
            }
            let pause = think.mul_f64(0.5 + unit());
            tokio::time::sleep(pause).await;
        }
    }

    /// Two lawyers claim the first case of one's pool at the same moment:
    /// at most one may win.
    async fn pool_race(
        &self,
        me: usize,
        staff: &[(LawyerSession, bool)],
        owned: &Mutex<HashMap<usize, Vec<Uuid>>>,
        lawyers: &[usize],
    ) {
        let page = self
            .send(
                "pool",
                self.api
                    .http
                    .get(self.api.url("/api/v1/staff/consultations"))
                    .query(&[("view", "pool")])
                    .bearer_auth(&staff[me].0.token),
            )
            .await;
        let Some(case) = page.body.as_ref().and_then(|b| {
            b["items"].as_array()?.first()?["id"]
                .as_str()
                .map(str::to_owned)
        }) else {
            return;
        };
        let other = loop {
            let o = lawyers[below(lawyers.len())];
            if o != me {
                break o;
            }
        };
        let claim = |who: usize| {
            self.send(
                "claim",
                self.api
                    .http
                    .post(
                        self.api
                            .url(&format!("/api/v1/staff/consultations/{case}/claim")),
                    )
                    .bearer_auth(&staff[who].0.token),
            )
        };
        let (a, b) = tokio::join!(claim(me), claim(other));
        remember(owned, me, &a);
        remember(owned, other, &b);
    }
}

fn remember(owned: &Mutex<HashMap<usize, Vec<Uuid>>>, who: usize, answer: &Answer) {
    if answer.status.is_some_and(|s| s.is_success())
        && let Some(id) = answer
            .body
            .as_ref()
            .and_then(|b| b["id"].as_str())
            .and_then(|s| s.parse().ok())
    {
        lock(owned).entry(who).or_default().push(id);
    }
}

fn transport_kind(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_body() || e.is_decode() {
        "body"
    } else {
        "reset"
    }
}

/// Random helpers that hold no generator across an await (it is not `Send`).
fn chance(p: f64) -> bool {
    rand::rng().random_bool(p)
}

fn unit() -> f64 {
    rand::rng().random::<f64>()
}

fn below(n: usize) -> usize {
    rand::rng().random_range(0..n)
}
