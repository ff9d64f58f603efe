//! Anonymity by construction, tried as an attacker would (docs/anonymity.md).
//!
//! After a mixed workload (several residents; named and anonymous tips,
//! consultations, mediations, token refreshes, "me too", follow-ups and
//! photos through the tracking token, triage), the whole schema is dumped
//! (tables found in `information_schema`, so a new table is covered too) and
//! every anonymous tip is attacked:
//! - rows of the tip, or referencing it, that are themselves tied to a
//!   resident;
//! - equal values: every value of those rows against every value of every
//!   other row, and their SHA-256 against residents' identifiers;
//! - time: for each timestamp of those rows (columns and UUIDv7 ids), the
//!   nearest timestamp of a row tied to one resident; the resident most often
//!   nearest is the guess, and the guesses may not beat chance;
//! - with the server's configuration: every keyed pseudonym the code knows
//!   how to make, recomputed for every resident with the tip key and the JWT
//!   secret. Inside the screening window only the window-scoped rows may
//!   match; once the window has ended, nothing may.

use crate::tips::{jpeg_with_gps, officer_on_duty};
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use sansuo_tests::views::{ResidentView, TipReceipt, TipView, TokenResponse};
use sansuo_tests::{TestApp, TestOptions, eventually, expect_json, expect_status};
use sansuo_vault::Pseudonymiser;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use uuid::Uuid;

const TIP_KEY: &str = "anonymity-test-tip-key-0123456789abcdef";
const JWT_SECRET: &str = "anonymity-test-jwt-secret-0123456789abcdef";
const TRACKING: &str = "X-Tracking-Token";
/// How near in time a resident's row must be to count as a correlation.
const NEAR_SECONDS: f64 = 5.0;

struct Resident {
    name: &'static str,
    id: Uuid,
    access: String,
    refresh: String,
    /// The worst client: it repeats one id as `X-Request-Id` on every call.
    device: String,
}

struct AnonymousTip {
    id: Uuid,
    token: String,
    reporter: Uuid,
}

/// A photo of its own (so equal photo hashes would be a real link, not
/// a shared test fixture).
fn photo(n: u8) -> Vec<u8> {
    let mut bytes = jpeg_with_gps();
    let at = bytes
        .windows(3)
        .position(|w| w == [0x12, 0x34, 0x56])
        .unwrap();
    bytes[at..at + 3].copy_from_slice(&[0x10 + n, 0x20 + n, 0x30 + n]);
    bytes
}

async fn login(app: &TestApp, name: &'static str) -> Resident {
    let code = format!("code-{name}-{}", Uuid::now_v7().simple());
    app.wechat
        .accept_code(&code, &format!("openid-{name}"))
        .await;
    let tokens: TokenResponse = expect_json(
        app.http
            .post(app.url("/api/v1/auth/wechat"))
            .json(&json!({ "code": code }))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let me: ResidentView = app.get_as("/api/v1/me", &tokens.access_token).await;
    Resident {
        name,
        id: me.id,
        access: tokens.access_token,
        refresh: tokens.refresh_token,
        device: format!("device-{name}-{}", Uuid::new_v4().simple()),
    }
}

async fn refresh(app: &TestApp, r: &mut Resident) {
    let tokens: TokenResponse = expect_json(
        app.http
            .post(app.url("/api/v1/auth/refresh"))
            .header("X-Request-Id", &r.device)
            .json(&json!({ "refresh_token": r.refresh }))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    r.access = tokens.access_token;
    r.refresh = tokens.refresh_token;
}

async fn post(app: &TestApp, r: &Resident, path: &str, body: Value) -> Value {
    let response = app
        .http
        .post(app.url(path))
        .bearer_auth(&r.access)
        .header("X-Request-Id", &r.device)
        .header("Idempotency-Key", Uuid::new_v4().to_string())
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    assert!(status.is_success(), "{path}: {status}");
    response.json().await.unwrap()
}

fn tip_body(app: &TestApp, n: u32, anonymous: bool) -> Value {
    json!({
        "community_id": app.demo.community_a.as_uuid(),
        "category_code": "ZP01",
        "description": format!("第{n}号楼消防通道被杂物堵住，情况{n}"),
        "location": {"lat": 31.26 + f64::from(n) * 0.001, "lng": 121.50 + f64::from(n) * 0.001},
        "anonymous": anonymous,
    })
}

async fn named_tip(app: &TestApp, r: &Resident, n: u32) -> Uuid {
    let tip: TipReceipt =
        serde_json::from_value(post(app, r, "/api/v1/tips", tip_body(app, n, false)).await)
            .unwrap();
    tip.tip.id
}

async fn consultation(app: &TestApp, r: &Resident, n: u32) {
    let body = json!({
        "community_id": app.demo.community_a.as_uuid(),
        "category_code": "LJ01",
        "question": format!("房东不退押金怎么办？第{n}次咨询，合同写明退租后七日内退还"),
    });
    post(app, r, "/api/v1/consultations", body).await;
}

async fn mediation(app: &TestApp, r: &Resident, n: u32) {
    let body = json!({
        "community_id": app.demo.community_a.as_uuid(),
        "category_code": "LJ02",
        "facts": format!("楼上{n}室漏水，天花板受损，多次沟通无果"),
        "claims": "请对方修好漏水并赔偿天花板维修费",
        "parties": [
            {"role": "applicant", "name": format!("申请人{n}"), "contact": format!("1381234{:04}", n)},
            {"role": "respondent", "name": format!("被申请人{n}"), "contact": format!("1391234{:04}", n)},
        ],
        "preferred_times": [{"from": "2026-12-01T01:00:00Z", "to": "2026-12-01T04:00:00Z"}],
        "private": true,
    });
    post(app, r, "/api/v1/mediations", body).await;
}

/// An anonymous tip with a photo, in one request, retried once (the
/// retry replays it).
async fn anonymous_tip(app: &TestApp, r: &Resident, n: u32) -> AnonymousTip {
    let key = Uuid::new_v4().to_string();
    let send = || async {
        let form = Form::new()
            .text("tip", tip_body(app, n, true).to_string())
            .part("photo", Part::bytes(photo(n as u8)).file_name("scene.jpg"));
        app.http
            .post(app.url("/api/v1/tips/with-photos"))
            .bearer_auth(&r.access)
            .header("X-Request-Id", &r.device)
            .header("Idempotency-Key", &key)
            .multipart(form)
            .send()
            .await
            .unwrap()
    };
    let receipt: TipReceipt = expect_json(send().await, StatusCode::CREATED).await;
    let again: TipReceipt = expect_json(send().await, StatusCode::CREATED).await;
    assert_eq!(again.tip.id, receipt.tip.id);
    AnonymousTip {
        id: receipt.tip.id,
        token: receipt.tracking_token.unwrap(),
        reporter: r.id,
    }
}

/// The reporter follows up with the token, from the same device.
async fn follow_up(app: &TestApp, r: &Resident, tip: &AnonymousTip, n: u32) {
    let response = app
        .http
        .post(app.url("/api/v1/tips/tracked/follow-ups"))
        .header(TRACKING, &tip.token)
        .header("X-Request-Id", &r.device)
        .json(&json!({"body": format!("补充情况：今晚又堵上了（{n}）")}))
        .send()
        .await
        .unwrap();
    expect_status(response, StatusCode::OK).await;
    let form = Form::new().part(
        "photo",
        Part::bytes(photo(100 + n as u8)).file_name("more.jpg"),
    );
    let response = app
        .http
        .post(app.url("/api/v1/tips/tracked/photos"))
        .header(TRACKING, &tip.token)
        .header("X-Request-Id", &r.device)
        .multipart(form)
        .send()
        .await
        .unwrap();
    expect_status(response, StatusCode::CREATED).await;
}

async fn triage(app: &TestApp, officer: &str, id: Uuid, verdict: &str) {
    let path = format!("/api/v1/staff/tips/{id}");
    eventually("the tip to be offered to the officer", || async {
        (app.get(&path, officer).await.status() == StatusCode::OK).then_some(())
    })
    .await;
    let _: TipView = app
        .post_as(&format!("{path}/acknowledge"), officer, json!({}))
        .await;
    expect_status(
        app.post(
            &format!("{path}/triage"),
            officer,
            json!({"verdict": verdict, "note": format!("已核查 {id}")}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
}

/// The mixed workload; returns the residents and the anonymous tips.
async fn workload(app: &TestApp) -> (Vec<Resident>, Vec<AnonymousTip>) {
    officer_on_duty(app).await;
    let liu = app.demo.account("officer.liu").id;
    app.app
        .store
        .staffing()
        .set_routing(liu, None, None, Some(100))
        .await
        .unwrap();
    let officer = app.staff_token("officer.liu").await;
    let mut residents = Vec::new();
    for name in ["ann", "bo", "cai", "dan", "eve", "fei"] {
        residents.push(login(app, name).await);
    }
    // Everyone's named life: tips, consultations, some mediations.
    let mut named = Vec::new();
    let mut n = 0;
    for (i, r) in residents.iter().enumerate() {
        n += 1;
        named.push(named_tip(app, r, n).await);
        consultation(app, r, n).await;
        if i % 2 == 0 {
            mediation(app, r, n).await;
        }
    }
    // Four of them report anonymously: the app refreshes its token when it
    // opens, then the report goes; someone else was busy just before.
    let mut anonymous = Vec::new();
    for (i, reporter) in [0usize, 2, 3, 5].into_iter().enumerate() {
        let other = (reporter + 1) % residents.len();
        n += 1;
        consultation(app, &residents[other], n).await;
        refresh(app, &mut residents[reporter]).await;
        n += 1;
        anonymous.push(anonymous_tip(app, &residents[reporter], 40 + i as u32).await);
    }
    // "Me too" across tips, named and anonymous.
    for (i, tip) in anonymous.iter().enumerate() {
        let supporter = &residents[(i * 2 + 1) % residents.len()];
        if supporter.id != tip.reporter {
            post(
                app,
                supporter,
                &format!("/api/v1/tips/{}/me-too", tip.id),
                json!({}),
            )
            .await;
        }
    }
    post(
        app,
        &residents[0],
        &format!("/api/v1/tips/{}/me-too", named[1]),
        json!({}),
    )
    .await;
    // Triage: the first anonymous tip is unfounded, the rest valid; one
    // named tip unfounded.
    for (i, tip) in anonymous.iter().enumerate() {
        let verdict = if i == 0 { "unfounded" } else { "valid" };
        triage(app, &officer, tip.id, verdict).await;
    }
    // Named tips of several residents get each verdict too, so a verdict is
    // not itself a rare value.
    for (i, verdict) in [
        (1, "unfounded"),
        (2, "unfounded"),
        (3, "valid"),
        (4, "valid"),
    ] {
        triage(app, &officer, named[i], verdict).await;
    }
    // Follow-ups through the token, with someone else busy in between.
    for (i, tip) in anonymous.iter().enumerate() {
        let reporter = residents.iter().position(|r| r.id == tip.reporter).unwrap();
        let other = (reporter + 2) % residents.len();
        n += 1;
        consultation(app, &residents[other], n).await;
        follow_up(app, &residents[reporter], tip, i as u32).await;
    }
    // Let the worker finish routing and notifying.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    (residents, anonymous)
}

/// One row of the dump: its table and its columns as JSON values.
struct Row {
    table: String,
    cols: Map<String, Value>,
}

/// Every row of every table in the schema (PostgreSQL).
async fn dump(app: &TestApp) -> Vec<Row> {
    let db = app.app.store.db();
    let backend = db.get_database_backend();
    let tables: Vec<String> = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT table_name FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
        ))
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.try_get::<String>("", "table_name").unwrap())
        .collect();
    assert!(tables.len() > 20, "the schema was found: {tables:?}");
    let mut rows = Vec::new();
    for table in tables {
        let sql = format!("SELECT row_to_json(t)::text AS j FROM \"{table}\" t");
        for row in db
            .query_all_raw(Statement::from_string(backend, sql))
            .await
            .unwrap()
        {
            let text: String = row.try_get("", "j").unwrap();
            let Value::Object(cols) = serde_json::from_str(&text).unwrap() else {
                panic!("a row is an object")
            };
            rows.push(Row {
                table: table.clone(),
                cols,
            });
        }
    }
    rows
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Null | Value::Bool(_) | Value::Number(_) => None,
        other => Some(other.to_string()),
    }
}

/// A time a value carries: a timestamp, or the clock inside a UUIDv7.
fn time_of(v: &str) -> Option<f64> {
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Some(t.timestamp_micros() as f64 / 1e6);
    }
    if let Ok(t) = v.replace(' ', "T").parse::<DateTime<Utc>>() {
        return Some(t.timestamp_micros() as f64 / 1e6);
    }
    let id = Uuid::parse_str(v).ok()?;
    if id.get_version_num() != 7 {
        return None;
    }
    let (secs, nanos) = id.get_timestamp()?.to_unix();
    Some(secs as f64 + f64::from(nanos) / 1e9)
}

fn sha256_hex(s: &[u8]) -> String {
    hex::encode(Sha256::digest(s))
}

/// The dump, read as an attacker reads it.
struct Analysis {
    rows: Vec<Row>,
    /// Identifier (resident id, openid, id of a named case) → resident.
    identifiers: HashMap<String, Uuid>,
    /// Per row: the residents it is tied to.
    linked: Vec<BTreeSet<Uuid>>,
    /// Per row: tied to a resident directly (their id or openid), not
    /// through a case of theirs: logins, refreshes, accounts — sessions.
    session: Vec<bool>,
    /// Anonymous tip → the rows holding or naming it.
    anonymous: BTreeMap<Uuid, Vec<usize>>,
    residents: Vec<Uuid>,
}

impl Analysis {
    fn new(rows: Vec<Row>) -> Self {
        let mut identifiers: HashMap<String, Uuid> = HashMap::new();
        let mut residents = Vec::new();
        let mut anonymous_ids = Vec::new();
        let mut case_ids: BTreeSet<String> = BTreeSet::new();
        for row in &rows {
            let get = |c: &str| row.cols.get(c).and_then(Value::as_str);
            if row.table == "residents" {
                let id: Uuid = get("id").unwrap().parse().unwrap();
                residents.push(id);
                identifiers.insert(id.to_string(), id);
                identifiers.insert(get("openid").unwrap().to_owned(), id);
            }
            if row.table == "cases"
                && let Some(resident) = get("resident_id")
            {
                identifiers.insert(get("id").unwrap().to_owned(), resident.parse().unwrap());
                case_ids.insert(get("id").unwrap().to_owned());
            }
            if row.table == "tips" && row.cols["anonymous"] == Value::Bool(true) {
                anonymous_ids.push(get("case_id").unwrap().parse::<Uuid>().unwrap());
            }
        }
        let ids: Vec<(String, Uuid)> = identifiers
            .iter()
            .filter(|(k, _)| k.len() >= 36)
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        let people: BTreeSet<String> = identifiers
            .keys()
            .filter(|k| !case_ids.contains(*k))
            .cloned()
            .collect();
        let (linked, session): (Vec<BTreeSet<Uuid>>, Vec<bool>) = rows
            .iter()
            .map(|row| {
                let mut set = BTreeSet::new();
                let (mut direct, mut via_case) = (false, false);
                for v in row.cols.values().filter_map(text_of) {
                    let mut hit = |k: &str, r: Uuid| {
                        set.insert(r);
                        if people.contains(k) {
                            direct = true;
                        } else {
                            via_case = true;
                        }
                    };
                    if let Some(r) = identifiers.get(&v) {
                        hit(&v, *r);
                    } else if v.len() > 36 {
                        for (k, r) in &ids {
                            if v.contains(k.as_str()) {
                                hit(k, *r);
                            }
                        }
                    }
                }
                (set, direct && !via_case)
            })
            .unzip();
        let anonymous = anonymous_ids
            .iter()
            .map(|tip| {
                let needle = tip.to_string();
                let holding = rows
                    .iter()
                    .enumerate()
                    .filter(|(_, row)| {
                        row.cols
                            .values()
                            .filter_map(text_of)
                            .any(|v| v.contains(&needle))
                    })
                    .map(|(i, _)| i)
                    .collect();
                (*tip, holding)
            })
            .collect();
        Analysis {
            rows,
            identifiers,
            linked,
            session,
            anonymous,
            residents,
        }
    }

    fn in_any_anonymous_set(&self) -> BTreeSet<usize> {
        self.anonymous.values().flatten().copied().collect()
    }

    /// Values that name a non-resident entity (a staff member, a unit, a
    /// category): the `id`/`code` of a row in a table where no row is tied
    /// to a resident. Sharing one is not a link.
    fn entity_names(&self) -> BTreeSet<String> {
        let personal_tables: BTreeSet<&str> = self
            .rows
            .iter()
            .zip(&self.linked)
            .filter(|(_, l)| !l.is_empty())
            .map(|(r, _)| r.table.as_str())
            .collect();
        self.rows
            .iter()
            .filter(|r| !personal_tables.contains(r.table.as_str()))
            .flat_map(|r| ["id", "code"].into_iter().filter_map(|c| r.cols.get(c)))
            .filter_map(text_of)
            .collect()
    }

    /// Every link found without any secret, in words.
    fn links(&self) -> Vec<String> {
        let mut found = Vec::new();
        let anonymous_rows = self.in_any_anonymous_set();
        let entities = self.entity_names();
        // Value → rows outside every anonymous set that hold it.
        let mut holders: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, row) in self.rows.iter().enumerate() {
            if anonymous_rows.contains(&i) {
                continue;
            }
            for v in row.cols.values().filter_map(text_of) {
                holders.entry(v).or_default().push(i);
            }
        }
        let hashed_identifiers: HashMap<String, Uuid> = self
            .identifiers
            .iter()
            .flat_map(|(k, r)| {
                let mut out = vec![(sha256_hex(k.as_bytes()), *r)];
                if let Ok(id) = Uuid::parse_str(k) {
                    out.push((sha256_hex(id.as_bytes()), *r));
                }
                out
            })
            .collect();
        for (tip, rows) in &self.anonymous {
            let needle = tip.to_string();
            for &i in rows {
                let row = &self.rows[i];
                if !self.linked[i].is_empty() {
                    found.push(format!(
                        "tip {tip}: a row of {} is itself tied to {:?}",
                        row.table, self.linked[i]
                    ));
                }
                for (col, v) in &row.cols {
                    let Some(v) = text_of(v) else { continue };
                    if v.len() < 8 || v.contains(&needle) || entities.contains(&v) {
                        continue;
                    }
                    let residents: BTreeSet<Uuid> = holders
                        .get(&v)
                        .into_iter()
                        .flatten()
                        .flat_map(|&j| self.linked[j].iter().copied())
                        .collect();
                    if residents.len() == 1 {
                        let tables: BTreeSet<&str> = holders[&v]
                            .iter()
                            .map(|&j| self.rows[j].table.as_str())
                            .collect();
                        found.push(format!(
                            "tip {tip}: {}.{col} = {v} also in {tables:?}, tied to {residents:?}",
                            row.table
                        ));
                    }
                    if let Some(r) = hashed_identifiers.get(&v) {
                        found.push(format!(
                            "tip {tip}: {}.{col} is the SHA-256 of an identifier of {r}",
                            row.table
                        ));
                    }
                    if let Some(r) = self
                        .identifiers
                        .get(&sha256_hex(v.as_bytes()))
                        .or_else(|| hashed_identifiers.get(&sha256_hex(v.as_bytes())))
                    {
                        found.push(format!(
                            "tip {tip}: SHA-256 of {}.{col} matches an identifier of {r}",
                            row.table
                        ));
                    }
                }
            }
        }
        found
    }

    /// The time attack: for each anonymous tip, each of its times votes for
    /// the resident whose (single-resident) row is nearest within
    /// `NEAR_SECONDS` (with `sessions_only`, among rows of logins,
    /// refreshes and accounts only: the app refreshes its token just before
    /// it reports); the most-voted resident is the guess. Returns (tips
    /// guessed right, tips, details).
    fn time_guesses(
        &self,
        truth: &HashMap<Uuid, Uuid>,
        sessions_only: bool,
    ) -> (usize, usize, Vec<String>) {
        // A staff member's or a unit's id is not a moment of anyone's.
        let entities = self.entity_names();
        let time_of = |v: &str| (!entities.contains(v)).then(|| time_of(v)).flatten();
        let mut resident_times: Vec<(f64, Uuid)> = Vec::new();
        for ((row, linked), session) in self.rows.iter().zip(&self.linked).zip(&self.session) {
            if linked.len() != 1 || (sessions_only && !session) {
                continue;
            }
            let r = *linked.iter().next().unwrap();
            for v in row.cols.values().filter_map(text_of) {
                if let Some(t) = time_of(&v) {
                    resident_times.push((t, r));
                }
            }
        }
        let mut hits = 0;
        let mut details = Vec::new();
        for (tip, rows) in &self.anonymous {
            let mut votes: BTreeMap<Uuid, usize> = BTreeMap::new();
            for &i in rows {
                for v in self.rows[i].cols.values().filter_map(text_of) {
                    let Some(t) = time_of(&v) else { continue };
                    let near: Vec<(f64, Uuid)> = resident_times
                        .iter()
                        .map(|(rt, r)| ((rt - t).abs(), *r))
                        .filter(|(d, _)| *d <= NEAR_SECONDS)
                        .collect();
                    let Some(min) = near.iter().map(|(d, _)| *d).min_by(f64::total_cmp) else {
                        continue;
                    };
                    let nearest: BTreeSet<Uuid> = near
                        .iter()
                        .filter(|(d, _)| *d == min)
                        .map(|(_, r)| *r)
                        .collect();
                    // A tie names nobody.
                    if nearest.len() == 1 {
                        *votes.entry(*nearest.iter().next().unwrap()).or_default() += 1;
                    }
                }
            }
            let best = votes.values().copied().max().unwrap_or(0);
            let leaders: Vec<Uuid> = votes
                .iter()
                .filter(|(_, n)| **n == best && best > 0)
                .map(|(r, _)| *r)
                .collect();
            let right = leaders.len() == 1 && Some(&leaders[0]) == truth.get(tip);
            if right {
                hits += 1;
            }
            details.push(format!(
                "tip {tip}: votes {votes:?}, reporter {:?}, guessed right: {right}",
                truth.get(tip)
            ));
        }
        (hits, self.anonymous.len(), details)
    }
}

fn truth(tips: &[AnonymousTip]) -> HashMap<Uuid, Uuid> {
    tips.iter().map(|t| (t.id, t.reporter)).collect()
}

async fn spawn() -> TestApp {
    TestApp::spawn_with(TestOptions {
        env: vec![
            ("SANSUO_TIP_KEY", TIP_KEY.into()),
            ("SANSUO_JWT_SECRET", JWT_SECRET.into()),
        ],
        ..TestOptions::default()
    })
    .await
}

#[tokio::test]
async fn a_database_dump_links_no_anonymous_tip_to_its_reporter() {
    let app = spawn().await;
    let (residents, tips) = workload(&app).await;
    let analysis = Analysis::new(dump(&app).await);
    assert_eq!(analysis.residents.len(), residents.len());
    assert_eq!(analysis.anonymous.len(), tips.len());
    for (tip, rows) in &analysis.anonymous {
        let tables: BTreeSet<&str> = rows
            .iter()
            .map(|&i| analysis.rows[i].table.as_str())
            .collect();
        for expected in [
            "cases",
            "tips",
            "case_events",
            "case_messages",
            "tip_photos",
            "outbox",
        ] {
            assert!(
                tables.contains(expected),
                "tip {tip}: no {expected} row in {tables:?}"
            );
        }
    }

    let links = analysis.links();
    assert!(links.is_empty(), "links found:\n{}", links.join("\n"));

    // Time: no better than chance (each tip has 1 in |residents| of being
    // guessed right by luck; allow that, rounded up). Against every row
    // tied to one resident, and against their sessions alone.
    for sessions_only in [false, true] {
        let (hits, total, details) = analysis.time_guesses(&truth(&tips), sessions_only);
        let chance = total.div_ceil(residents.len());
        eprintln!(
            "time attack (sessions only: {sessions_only}): {hits} of {total} right (chance {chance})\n{}",
            details.join("\n")
        );
        assert!(
            hits <= chance,
            "the nearest resident-tied time (sessions only: {sessions_only}) names the reporter of {hits} of {total} anonymous tips (chance: {chance}):\n{}",
            details.join("\n")
        );
    }
    // The attack itself works: the named tips it can see are found.
    let named_hits = analysis
        .rows
        .iter()
        .filter(|r| {
            r.table == "cases" && r.cols["service"] == "tip" && !r.cols["resident_id"].is_null()
        })
        .count();
    assert_eq!(named_hits, residents.len());
    let _ = residents.iter().map(|r| r.name).collect::<Vec<_>>();
}

/// Every keyed value the code knows how to make of a resident, with the
/// tip key and with the JWT secret (which once derived it).
fn pseudonyms_of(resident: Uuid, tips: &[Uuid], windows: &[i64]) -> Vec<String> {
    let purposes = [
        "tip-reporter",
        "tip-screening",
        "tip-limit",
        "tip-supporter",
        "tip-submission",
        "tip-tracking",
    ];
    let subject = *resident.as_bytes();
    let mut out = Vec::new();
    for secret in [TIP_KEY, JWT_SECRET] {
        let p = Pseudonymiser::new(secret.as_bytes());
        for purpose in purposes {
            out.push(p.pseudonym(purpose, &subject));
            out.push(p.token(purpose, &subject));
            for &w in windows {
                out.push(p.window_pseudonym(purpose, w, &subject));
                for tip in tips {
                    let pair = [*tip.as_bytes(), subject].concat();
                    out.push(p.window_pseudonym(purpose, w, &pair));
                }
            }
            for tip in tips {
                out.push(p.pseudonym_of_pair(purpose, tip.as_bytes(), &subject));
                out.push(p.pseudonym_of_pair(purpose, &subject, tip.as_bytes()));
            }
        }
    }
    out
}

/// Where any resident's keyed pseudonym sits in the dump: (table, resident).
fn keyed_matches(analysis: &Analysis, tips: &[Uuid], windows: &[i64]) -> Vec<(String, Uuid)> {
    let mut wanted: HashMap<String, Uuid> = HashMap::new();
    for r in &analysis.residents {
        for p in pseudonyms_of(*r, tips, windows) {
            wanted.insert(p, *r);
        }
    }
    let mut found = Vec::new();
    for row in &analysis.rows {
        for v in row.cols.values().filter_map(text_of) {
            if let Some(r) = wanted.get(&v) {
                found.push((row.table.clone(), *r));
            }
        }
    }
    found
}

#[tokio::test]
async fn with_the_server_keys_only_this_windows_screening_links_and_then_nothing() {
    let app = spawn().await;
    let (_residents, tips) = workload(&app).await;
    let ids: Vec<Uuid> = tips.iter().map(|t| t.id).collect();
    let now = Utc::now();
    let window = sansuo_domain::tip::screening_window(now);
    let windows = [window - 1, window, window + 1];

    // Inside the window, the keys recompute this window's pseudonyms: the
    // accepted cost of screening. They may sit only in window-scoped rows
    // (tables with a `screening_window` column), nowhere else.
    let analysis = Analysis::new(dump(&app).await);
    let window_tables: BTreeSet<String> = analysis
        .rows
        .iter()
        .filter(|r| r.cols.contains_key("screening_window"))
        .map(|r| r.table.clone())
        .collect();
    let outside: Vec<_> = keyed_matches(&analysis, &ids, &windows)
        .into_iter()
        .filter(|(table, _)| !window_tables.contains(table))
        .collect();
    assert!(
        outside.is_empty(),
        "keyed pseudonyms of residents outside the window's rows: {outside:?}"
    );

    // The window ends: the worker's sweep (here called directly, as if a
    // week had passed) deletes them.
    let next_week = now + chrono::Duration::seconds(sansuo_domain::tip::SCREENING_WINDOW_SECONDS);
    assert!(
        app.app
            .store
            .tips()
            .end_screening_windows(next_week)
            .await
            .unwrap()
            > 0
    );
    let analysis = Analysis::new(dump(&app).await);
    let left = keyed_matches(&analysis, &ids, &windows);
    assert!(
        left.is_empty(),
        "after the window, the keys still link: {left:?}"
    );
    let links = analysis.links();
    assert!(links.is_empty(), "links found:\n{}", links.join("\n"));
}
