//! The named scenarios and what they share: the running server, the
//! logged-in accounts, and what the benchmark learned along the way (case
//! ids of residents, offers and cases of lawyers) so later requests can
//! address real objects.

pub mod board;
pub mod burst;
pub mod intake;
pub mod mixed;
pub mod route;
pub mod statements;

use crate::accounts::{Accounts, Api, Catalog};
use crate::load::{Op, Pace, drive};
use crate::seed::{self, District};
use crate::server::{RssProbe, RssReport, ServerUnderTest};
use crate::stats::{OpSummary, Outcome};
use rand::Rng;
use rand::seq::IndexedRandom;
use sea_orm::DatabaseConnection;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

/// Everything a scenario needs.
pub struct Bench {
    pub api: Api,
    pub db: DatabaseConnection,
    pub server: ServerUnderTest,
    pub accounts: Arc<Accounts>,
    pub district: Arc<District>,
    pub categories: Arc<Catalog>,
    pub known: Arc<Known>,
    pub items: Arc<ItemCounts>,
    /// Tips sent so far in the whole run (see `intake::submit`).
    pub tips: Arc<AtomicU64>,
}

impl Bench {
    /// Run one scenario: count what is stored, reset the server's peak
    /// memory, drive the load, summarise.
    pub async fn run(&self, name: &str, pace: Pace, duration: Duration, op: Op) -> ScenarioResult {
        let stored_cases = seed::count(&self.db, "cases").await.unwrap_or(0);
        self.items.reset();
        let wal_before = seed::wal_counters(&self.db).await.ok();
        let probe = RssProbe::start(self.server.pid);
        let result = drive(pace, duration, op).await;
        let rss = probe.finish().await;
        let wal_after = seed::wal_counters(&self.db).await.ok();
        let requests = result.total.latency.len().max(1) as f64;
        let wal = wal_before.zip(wal_after).map(|(a, b)| WalPerRequest {
            bytes: (b.bytes - a.bytes) as f64 / requests,
            full_page_images: (b.fpi - a.fpi) as f64 / requests,
            records: (b.records - a.records) as f64 / requests,
        });
        ScenarioResult {
            name: name.to_owned(),
            pace,
            duration_s: result.elapsed.as_secs_f64(),
            stored_cases,
            summary: result.summary(),
            per_op: result.per_op_summary(),
            avg_items_per_response: self.items.averages(),
            server_rss: rss,
            wal_per_request: wal,
        }
    }
}

/// The shared pieces an operation closure captures (cheap to clone).
#[derive(Clone)]
pub struct Parts {
    pub api: Api,
    pub accounts: Arc<Accounts>,
    pub district: Arc<District>,
    pub categories: Arc<Catalog>,
    pub known: Arc<Known>,
    pub items: Arc<ItemCounts>,
    pub tips: Arc<AtomicU64>,
}

impl Bench {
    pub fn parts(&self) -> Parts {
        Parts {
            api: self.api.clone(),
            accounts: self.accounts.clone(),
            district: self.district.clone(),
            categories: self.categories.clone(),
            known: self.known.clone(),
            items: self.items.clone(),
            tips: self.tips.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    pub name: String,
    pub pace: Pace,
    pub duration_s: f64,
    /// Rows in `cases` when the scenario started.
    pub stored_cases: u64,
    pub summary: OpSummary,
    pub per_op: BTreeMap<String, OpSummary>,
    /// How many items list responses carried, on average (board sizes).
    pub avg_items_per_response: BTreeMap<String, f64>,
    pub server_rss: RssReport,
    /// PostgreSQL's WAL written during the run (`pg_stat_wal`, the whole
    /// cluster: the server's background work included) per request.
    pub wal_per_request: Option<WalPerRequest>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct WalPerRequest {
    pub bytes: f64,
    /// Whole pages logged because they were first touched since a
    /// checkpoint: the price of random index inserts into big tables.
    pub full_page_images: f64,
    pub records: f64,
}

/// Offers to act on, oldest first, and every offer ever queued (so a
/// board read twice does not queue the same offer twice).
type SeenOffers = (VecDeque<Uuid>, HashSet<Uuid>);

/// Ids the benchmark has seen, so that reads and actions hit real objects.
#[derive(Default)]
pub struct Known {
    /// Resident index → their case ids.
    resident_cases: Mutex<HashMap<usize, Vec<Uuid>>>,
    /// Lawyer index → offers seen on their board and not yet acted on.
    lawyer_offers: Mutex<HashMap<usize, SeenOffers>>,
    /// Lawyer index → open cases they own.
    lawyer_cases: Mutex<HashMap<usize, Vec<Uuid>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Known {
    /// Load what the database holds for the benchmark's accounts.
    pub async fn load(&self, db: &DatabaseConnection, accounts: &Accounts) -> anyhow::Result<()> {
        let by_openid = seed::cases_of_bench_residents(db).await?;
        let by_owner = seed::open_cases_of_lawyers(db).await?;
        let mut resident_cases = lock(&self.resident_cases);
        for (i, r) in accounts.residents.iter().enumerate() {
            if let Some(cases) = by_openid.get(&r.openid) {
                resident_cases.insert(i, cases.clone());
            }
        }
        let mut lawyer_cases = lock(&self.lawyer_cases);
        for (i, l) in accounts.lawyers.iter().enumerate() {
            if let Some(cases) = by_owner.get(&l.id) {
                lawyer_cases.insert(i, cases.clone());
            }
        }
        Ok(())
    }

    pub fn add_resident_case(&self, resident: usize, case: Uuid) {
        lock(&self.resident_cases)
            .entry(resident)
            .or_default()
            .push(case);
    }

    pub fn resident_case(&self, resident: usize) -> Option<Uuid> {
        lock(&self.resident_cases)
            .get(&resident)
            .and_then(|cases| cases.choose(&mut rand::rng()).copied())
    }

    pub fn learn_offers(&self, lawyer: usize, offers: impl IntoIterator<Item = Uuid>) {
        let mut map = lock(&self.lawyer_offers);
        let (queue, seen) = map.entry(lawyer).or_default();
        for offer in offers {
            if seen.insert(offer) {
                queue.push_back(offer);
            }
        }
    }

    pub fn take_offer(&self, lawyer: usize) -> Option<Uuid> {
        lock(&self.lawyer_offers)
            .get_mut(&lawyer)
            .and_then(|(queue, _)| queue.pop_front())
    }

    pub fn add_lawyer_case(&self, lawyer: usize, case: Uuid) {
        lock(&self.lawyer_cases)
            .entry(lawyer)
            .or_default()
            .push(case);
    }

    pub fn lawyer_case(&self, lawyer: usize) -> Option<Uuid> {
        lock(&self.lawyer_cases)
            .get(&lawyer)
            .and_then(|cases| cases.choose(&mut rand::rng()).copied())
    }
}

/// Items per list response, per operation.
#[derive(Default)]
pub struct ItemCounts(Mutex<BTreeMap<&'static str, (u64, u64)>>);

impl ItemCounts {
    pub fn add(&self, op: &'static str, items: usize) {
        let mut map = lock(&self.0);
        let entry = map.entry(op).or_default();
        entry.0 += 1;
        entry.1 += items as u64;
    }

    fn reset(&self) {
        lock(&self.0).clear();
    }

    fn averages(&self) -> BTreeMap<String, f64> {
        lock(&self.0)
            .iter()
            .map(|(k, (n, items))| (k.to_string(), *items as f64 / (*n).max(1) as f64))
            .collect()
    }
}

/// A finished exchange: the outcome, the Location header, and the body
/// when asked for. The body is always read to the end: a response is not
/// served until its last byte arrived.
pub struct Reply {
    pub outcome: Outcome,
    pub location: Option<String>,
    pub body: Option<Vec<u8>>,
}

pub async fn exchange(request: reqwest::RequestBuilder, keep_body: bool) -> Reply {
    match request.send().await {
        Err(e) => Reply {
            outcome: Outcome::from(&e),
            location: None,
            body: None,
        },
        Ok(response) => {
            let status = response.status().as_u16();
            let location = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            match response.bytes().await {
                Ok(bytes) => Reply {
                    outcome: Outcome::Status(status),
                    location,
                    body: keep_body.then(|| bytes.to_vec()),
                },
                Err(e) => Reply {
                    outcome: Outcome::from(&e),
                    location,
                    body: None,
                },
            }
        }
    }
}

/// The last path segment of a `Location` header, as a UUID.
pub fn id_from_location(location: Option<&str>) -> Option<Uuid> {
    location?.rsplit('/').next()?.parse().ok()
}

/// Questions of realistic length (30 to 300 characters), all different.
pub fn question(seq: u64) -> String {
    const TOPICS: [&str; 5] = [
        "楼上邻居装修噪音每天持续到晚上十点，物业不管，我可以怎么维权？",
        "房东不退押金，合同里写的是押一付三，现在说墙面有污渍要扣钱，合理吗？",
        "公司拖欠三个月工资，老板说资金周转困难，我应该先去劳动仲裁还是起诉？",
        "父亲去世后留下一套房子，没有遗嘱，兄弟姐妹之间怎么分割？",
        "网购的电器用了一周就坏了，商家不给退只给修，我能要求退货吗？",
    ];
    let topic = TOPICS[(seq % TOPICS.len() as u64) as usize];
    let repeat = 1 + (seq / 7 % 4) as usize;
    format!("{}（编号 {seq}）", topic.repeat(repeat))
}

pub fn pick(n: usize) -> usize {
    rand::rng().random_range(0..n)
}
