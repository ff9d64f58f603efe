//! The staff event stream (`GET /api/v1/staff/events`, Server-Sent
//! Events): offers reach a person connected to any instance within a
//! second; a reconnect with `Last-Event-ID` replays exactly what was
//! missed; nobody sees another's events; each service's offers reach its
//! role; a lapsed offer sets away only someone who had a stream open; the
//! embedded default streams too. Read with a small SSE parser below.

use crate::tips::officer_on_duty;
use reqwest::StatusCode;
use sansuo_domain::dispatch::Presence;
use sansuo_tests::views::{ConsultationView, OfferList, StaffCaseView};
use sansuo_tests::world::StreetB;
use sansuo_tests::{TestApp, TestOptions, eventually, expect_error, expect_json, expect_status};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// One event as the stream sent it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Event {
    pub(crate) id: i64,
    pub(crate) kind: String,
    pub(crate) data: Value,
}

/// A staff member's open stream, read chunk by chunk.
pub(crate) struct Stream {
    response: reqwest::Response,
    buffer: String,
}

impl Stream {
    /// Connect as `token` to the server at `base` (`last`: `Last-Event-ID`).
    pub(crate) async fn open(base: &str, token: &str, last: Option<i64>) -> Stream {
        let client = reqwest::Client::new();
        let mut request = client
            .get(format!("{base}/api/v1/staff/events"))
            .bearer_auth(token);
        if let Some(last) = last {
            request = request.header("Last-Event-ID", last.to_string());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        let mut stream = Stream {
            response,
            buffer: String::new(),
        };
        // The greeting comes at once: connected (and counted as such) from here.
        let greeting = stream.next_block(Duration::from_secs(5)).await;
        assert!(
            greeting
                .as_deref()
                .is_some_and(|b| b.contains(": connected")),
            "{greeting:?}"
        );
        stream
    }

    /// The next block (up to a blank line), or `None` if none came in time
    /// or the stream ended.
    async fn next_block(&mut self, within: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block = self.buffer[..end].to_owned();
                self.buffer.drain(..end + 2);
                return Some(block);
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .ok()?
                .ok()??;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// The next event (comments skipped), or `None` within `within`.
    pub(crate) async fn next_event(&mut self, within: Duration) -> Option<Event> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let block = self.next_block(left).await?;
            let (mut id, mut kind, mut data) = (None, None, None);
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id: ") {
                    id = Some(v.parse().unwrap());
                } else if let Some(v) = line.strip_prefix("event: ") {
                    kind = Some(v.to_owned());
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data = Some(serde_json::from_str(v).unwrap());
                }
            }
            if let (Some(id), Some(kind), Some(data)) = (id, kind, data) {
                return Some(Event { id, kind, data });
            }
        }
    }

    /// The next event, which must come within `within`.
    pub(crate) async fn expect(&mut self, within: Duration) -> Event {
        self.next_event(within)
            .await
            .unwrap_or_else(|| panic!("no event within {within:?}"))
    }

    /// The next event of this kind, skipping others, within 10 s.
    pub(crate) async fn expect_kind(&mut self, kind: &str) -> Event {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let event = self
                .next_event(left)
                .await
                .unwrap_or_else(|| panic!("no {kind} event"));
            if event.kind == kind {
                return event;
            }
        }
    }

    /// Nothing more arrives for `quiet`.
    pub(crate) async fn expect_quiet(&mut self, quiet: Duration) {
        if let Some(event) = self.next_event(quiet).await {
            panic!("unexpected event {event:?}");
        }
    }
}

/// A server whose streams stay open for a minute (the harness ends them
/// after a second for the tests that call every operation).
pub(crate) async fn spawn_with(options: TestOptions) -> TestApp {
    let mut options = options;
    options
        .env
        .push(("SANSUO_STAFF_STREAM_MAX_SECS", "60".into()));
    TestApp::spawn_with(options).await
}

async fn presence_of(app: &TestApp, username: &str) -> Presence {
    let id = app.demo.account(username).id;
    app.app
        .store
        .identity()
        .staff(id)
        .await
        .unwrap()
        .unwrap()
        .presence
}

pub(crate) fn as_uuid(value: &Value) -> Uuid {
    value.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn an_offer_made_through_one_instance_reaches_a_stream_on_another_within_a_second() {
    let app = spawn_with(TestOptions::default()).await;
    let mut sibling = app.spawn_sibling().await;
    let sibling_url = format!("http://127.0.0.1:{}", sibling.port);
    let zhang = app.staff_token("lawyer.zhang").await;
    let mut stream = Stream::open(&sibling_url, &zhang, None).await;

    let resident = app.resident_token("streamed").await;
    let submitted = Instant::now();
    let case = app.submit(&resident, "房东不退押金怎么办？").await;
    let event = stream.expect(Duration::from_secs(10)).await;
    let received = chrono::Utc::now();
    assert_eq!(event.kind, "offer");
    assert_eq!(as_uuid(&event.data["case_id"]), case.id);
    assert_eq!(event.data["service"], "consultation");
    // Ids and the deadline only: nothing personal, nothing of the question.
    let keys: Vec<&String> = event.data.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["case_id", "expires_at", "offer_id", "service"]);
    assert!(!event.data.to_string().contains("押金"));
    // The offer as the lawyer's list shows it: the same one, and the event
    // arrived within a second of its making (one machine, one clock).
    let offers: OfferList = app.get_as("/api/v1/staff/offers", &zhang).await;
    let offer = offers.items.iter().find(|o| o.case_id == case.id).unwrap();
    assert_eq!(as_uuid(&event.data["offer_id"]), offer.id);
    let expires: chrono::DateTime<chrono::Utc> =
        event.data["expires_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(expires.timestamp(), offer.expires_at.timestamp());
    let lag = received - offer.created_at;
    assert!(
        lag < chrono::Duration::seconds(1),
        "the offer reached the stream {lag} after it was made"
    );
    assert!(submitted.elapsed() < Duration::from_secs(10));
    sibling.stop().await;
}

#[tokio::test]
async fn a_reconnect_with_last_event_id_replays_exactly_the_missed_events_in_order() {
    let app = spawn_with(TestOptions::default()).await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let coordinator = app.staff_token("coordinator.sun").await;
    let resident = app.resident_token("replayed").await;
    let mut stream = Stream::open(&app.base_url, &zhang, None).await;
    let case = app
        .submit(&resident, "邻居装修噪音扰民，每天从早到晚不停，怎么办？")
        .await;
    let offered = stream.expect_kind("offer").await;
    let offer = app.wait_for_offer(&zhang, &case.id).await;
    let _: StaffCaseView = app.accept_offer(&zhang, &offer).await;
    // Accepting and her own note are her own doing: nothing to tell her.
    expect_status(
        app.post(
            &format!("/api/v1/staff/consultations/{}/messages", case.id),
            &zhang,
            json!({"body": "先核实装修时间记录", "visibility": "internal"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    stream.expect_quiet(Duration::from_millis(800)).await;
    let last = offered.id;
    drop(stream);

    // Three events while disconnected: two follow-ups, then the case is
    // given to wang.
    for body in ["每天早上七点就开始施工", "物业也不管，打电话没人接"] {
        let _: ConsultationView = expect_json(
            app.post(
                &format!("/api/v1/consultations/{}/messages", case.id),
                &resident,
                json!({ "body": body }),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
    }
    let wang = app.demo.account("lawyer.wang").id;
    expect_status(
        app.post(
            &format!("/api/v1/admin/cases/{}/reassign", case.id),
            &coordinator,
            json!({"staff_id": wang.as_uuid(), "reason": "王律师更熟悉"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;

    let mut again = Stream::open(&app.base_url, &zhang, Some(last)).await;
    let mut missed = Vec::new();
    for _ in 0..3 {
        missed.push(again.expect(Duration::from_secs(5)).await);
    }
    again.expect_quiet(Duration::from_millis(800)).await;
    let kinds: Vec<&str> = missed.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["follow_up", "follow_up", "reassigned"]);
    let ids: Vec<i64> = missed.iter().map(|e| e.id).collect();
    assert_eq!(
        ids,
        [last + 1, last + 2, last + 3],
        "numbered per person, in order"
    );
    assert_eq!(missed[2].data["direction"], "taken");
    for event in &missed {
        assert_eq!(as_uuid(&event.data["case_id"]), case.id);
        assert!(!event.data.to_string().contains("七点"));
    }
    // Wang was told too, on his own stream: given.
    let wang_token = app.staff_token("lawyer.wang").await;
    let mut wangs = Stream::open(&app.base_url, &wang_token, Some(0)).await;
    let given = wangs.expect_kind("reassigned").await;
    assert_eq!(given.data["direction"], "given");
    assert_eq!(as_uuid(&given.data["case_id"]), case.id);

    // Without Last-Event-ID only what comes; an id from nowhere counts as none.
    let mut fresh = Stream::open(&app.base_url, &zhang, None).await;
    fresh.expect_quiet(Duration::from_millis(800)).await;
    let mut beyond = Stream::open(&app.base_url, &zhang, Some(1_000_000)).await;
    beyond.expect_quiet(Duration::from_millis(800)).await;
}

#[tokio::test]
async fn each_role_is_told_of_its_own_services_offers_and_nobody_of_anothers() {
    let app = spawn_with(TestOptions::default()).await;
    officer_on_duty(&app).await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let liu = app.staff_token("officer.liu").await;
    let chen = app.staff_token("mediator.chen").await;
    let coordinator = app.staff_token("coordinator.sun").await;
    let mut zhangs = Stream::open(&app.base_url, &zhang, None).await;
    let mut lius = Stream::open(&app.base_url, &liu, None).await;
    let mut chens = Stream::open(&app.base_url, &chen, None).await;
    let mut coordinators = Stream::open(&app.base_url, &coordinator, None).await;
    // Street B's people, of every role, hear nothing of street A's cases.
    StreetB::build(&app).await;
    let mut street_b_streams = Vec::new();
    for username in [
        StreetB::COORDINATOR,
        StreetB::LAWYER,
        StreetB::MEDIATOR,
        StreetB::OFFICER,
    ] {
        let token = StreetB::token(&app, username).await;
        street_b_streams.push(Stream::open(&app.base_url, &token, None).await);
    }

    let resident = app.resident_token("three-services").await;
    let consultation = app.submit(&resident, "劳动合同到期不续签有补偿吗").await;
    let tip: Value = expect_status(
        app.post(
            "/api/v1/tips",
            &resident,
            json!({
                "community_id": app.demo.community_a.as_uuid(),
                "category_code": "ZP01",
                "description": "3号楼东侧消防通道被电动车和杂物堵死了",
                "location": {"lat": 31.2646, "lng": 121.5052, "address": "3号楼东侧"},
                "anonymous": true,
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let tip_id = as_uuid(&tip["tip"]["id"]);
    let mediation: Value = expect_status(
        app.post(
            "/api/v1/mediations",
            &resident,
            json!({
                "community_id": app.demo.community_a.as_uuid(),
                "category_code": "LJ02",
                "facts": "楼上漏水，多次协商不成，天花板已经发霉",
                "claims": "请对方修好漏水",
                "parties": [
                    {"role": "applicant", "name": "王小明", "contact": "13812341234"},
                    {"role": "respondent", "name": "赵大力", "contact": "13900001111"},
                ],
                "preferred_times": [{"from": "2026-12-01T01:00:00Z", "to": "2026-12-01T04:00:00Z"}],
                "private": true,
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let mediation_id = as_uuid(&mediation["id"]);

    for (stream, service, case_id) in [
        (&mut zhangs, "consultation", consultation.id),
        (&mut lius, "tip", tip_id),
        (&mut chens, "mediation", mediation_id),
    ] {
        let event = stream.expect(Duration::from_secs(10)).await;
        assert_eq!(event.kind, "offer");
        assert_eq!(event.data["service"], service);
        assert_eq!(as_uuid(&event.data["case_id"]), case_id);
        let wire = event.data.to_string();
        for personal in ["13812341234", "13900001111", "王小明", "赵大力", "消防"] {
            assert!(!wire.contains(personal), "{wire}");
        }
    }
    // Nobody saw another's offer (the coordinator is offered nothing).
    for stream in [&mut zhangs, &mut lius, &mut chens, &mut coordinators] {
        stream.expect_quiet(Duration::from_millis(1000)).await;
    }

    // The officer signs for the tip; its anonymous reporter writes again
    // (with the tracking token only): the officer is told, and of nothing
    // that could point to the reporter.
    expect_status(
        app.post(
            &format!("/api/v1/staff/tips/{tip_id}/acknowledge"),
            &liu,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let token = tip["tracking_token"].as_str().unwrap();
    let followed = app
        .http
        .post(app.url("/api/v1/tips/tracked/follow-ups"))
        .header("X-Tracking-Token", token)
        .json(&json!({"body": "今晚又堵上了，电动车更多了"}))
        .send()
        .await
        .unwrap();
    expect_status(followed, StatusCode::OK).await;
    let event = lius.expect(Duration::from_secs(5)).await;
    assert_eq!(event.kind, "follow_up");
    assert_eq!(as_uuid(&event.data["case_id"]), tip_id);
    assert_eq!(event.data["service"], "tip");
    let keys: Vec<&String> = event.data.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["case_id", "message_id", "service"]);
    assert!(!event.data.to_string().contains(token));
    zhangs.expect_quiet(Duration::from_millis(500)).await;
    for stream in &mut street_b_streams {
        stream.expect_quiet(Duration::from_millis(300)).await;
    }

    // A resident has no stream; no token is refused at once.
    let resident_answer = app.get("/api/v1/staff/events", &resident).await;
    expect_error(resident_answer, StatusCode::FORBIDDEN, "forbidden").await;
    let started = Instant::now();
    let anonymous = app
        .http
        .get(app.url("/api/v1/staff/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let bad = app.get("/api/v1/staff/events", "not-a-token").await;
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_lapsed_offer_sets_away_only_someone_whose_stream_was_connected() {
    let app = spawn_with(TestOptions {
        offer_timeout_secs: 2,
        ..TestOptions::default()
    })
    .await;
    // Nobody else to pass the cases to: they wait in the pool once zhang lapses.
    app.pool_lawyers_away().await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let resident = app.resident_token("lapsed").await;

    // Not connected: never told, so still available after the lapse.
    let untold = app
        .submit(&resident, "未连接时提出的咨询：房东不退押金怎么办？")
        .await;
    let offer = app.wait_for_offer(&zhang, &untold.id).await;
    eventually("the untold offer to lapse", || async {
        let row = app
            .app
            .store
            .offers()
            .get(offer.id.into())
            .await
            .unwrap()
            .unwrap();
        (row.status == sansuo_domain::offer::OfferStatus::Expired).then_some(())
    })
    .await;
    assert_eq!(presence_of(&app, "lawyer.zhang").await, Presence::Available);

    // Connected: told of the offer and of its lapse, and set away.
    let mut stream = Stream::open(&app.base_url, &zhang, None).await;
    let told = app
        .submit(&resident, "连接时提出的咨询：物业不修电梯怎么办？")
        .await;
    // (The untold case may come round to zhang again on its next step.)
    let offered = loop {
        let event = stream.expect_kind("offer").await;
        if as_uuid(&event.data["case_id"]) == told.id {
            break event;
        }
    };
    let lapsed = loop {
        let event = stream.expect_kind("offer_expired").await;
        if event.data["offer_id"] == offered.data["offer_id"] {
            break event;
        }
    };
    assert!(lapsed.id > offered.id);
    eventually("zhang to be set away", || async {
        (presence_of(&app, "lawyer.zhang").await == Presence::Away).then_some(())
    })
    .await;
}

#[tokio::test]
async fn the_embedded_default_streams_offers() {
    let app = spawn_with(TestOptions {
        backend: sansuo_tests::Backend::Embedded,
        ..TestOptions::default()
    })
    .await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let mut stream = Stream::open(&app.base_url, &zhang, None).await;
    let resident = app.resident_token("embedded-stream").await;
    let case = app
        .submit(&resident, "嵌入式部署下的咨询：劳动合同到期怎么办？")
        .await;
    let event = stream.expect(Duration::from_secs(10)).await;
    assert_eq!(event.kind, "offer");
    assert_eq!(as_uuid(&event.data["case_id"]), case.id);
    // And replay from the start.
    drop(stream);
    let mut again = Stream::open(&app.base_url, &zhang, Some(0)).await;
    let replayed = again.expect(Duration::from_secs(5)).await;
    assert_eq!(replayed, event);
}

/// An open stream does not outlive its account: deactivated, the stream
/// ends within seconds (not at its maximum life) and cannot reopen.
#[tokio::test]
async fn a_deactivated_account_loses_its_open_stream() {
    let app = spawn_with(TestOptions::default()).await;
    let zhao = app.staff_token("lawyer.zhao").await;
    let admin = app.staff_token("admin").await;
    let mut stream = Stream::open(&app.base_url, &zhao, None).await;
    let id = app.demo.account("lawyer.zhao").id.as_uuid();
    let response = app
        .http
        .patch(app.url(&format!("/api/v1/admin/staff/{id}")))
        .bearer_auth(&admin)
        .json(&json!({"active": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let started = std::time::Instant::now();
    // Keep-alives and nothing else, then the end (well before 60 s).
    assert!(stream.next_event(Duration::from_secs(20)).await.is_none());
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    let again = reqwest::Client::new()
        .get(format!("{}/api/v1/staff/events", app.base_url))
        .bearer_auth(&zhao)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
}
