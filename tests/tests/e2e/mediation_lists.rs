//! Mediation, complete (issue #15 part 4): lists for the applicant, the
//! mediator and the coordinator, with filters and a cursor; the thread of
//! public messages and internal notes; the rooms a mediator may book and
//! their free times; sessions booked only ahead and held only once begun.
//! Every id also tried from another resident and from street B.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Utc, Weekday};
use reqwest::StatusCode;
use sansuo_tests::views::{FreeSlotsView, MediationPage, MediationView, RoomList};
use sansuo_tests::world::StreetB;
use sansuo_tests::{TestApp, eventually, expect_error, expect_json, expect_status};
use serde_json::json;
use std::collections::BTreeSet;
use uuid::Uuid;

async fn apply(app: &TestApp, resident: &str, community: Uuid, facts: &str) -> MediationView {
    let body = json!({
        "community_id": community,
        "category_code": "LJ02",
        "facts": facts,
        "claims": "请对方修好漏水并赔偿天花板维修费",
        "parties": [
            {"role": "applicant", "name": "王小明", "contact": "13812341234"},
            {"role": "respondent", "name": "赵大力", "contact": "13912345678"},
        ],
        "preferred_times": [{"from": "2026-12-01T01:00:00Z", "to": "2026-12-01T04:00:00Z"}],
        "private": true,
    });
    expect_json(
        app.post("/api/v1/mediations", resident, body).await,
        StatusCode::CREATED,
    )
    .await
}

async fn accept(app: &TestApp, mediator: &str, id: &Uuid) -> MediationView {
    let path = format!("/api/v1/staff/mediations/{id}");
    eventually("the mediation to be offered", || async {
        (app.get(&path, mediator).await.status() == StatusCode::OK).then_some(())
    })
    .await;
    app.post_as(&format!("{path}/accept"), mediator, json!({}))
        .await
}

/// Another mediator of the same community, who does not own the case.
async fn second_mediator(app: &TestApp) -> String {
    let admin = app.staff_token("admin").await;
    expect_status(
        app.post(
            "/api/v1/admin/staff",
            &admin,
            json!({
                "username": "mediator.zhou",
                "password": "sansuo-demo",
                "display_name": "周调解员",
                "role": "mediator",
                "org_unit_id": app.demo.community_a.as_uuid(),
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    app.staff_token("mediator.zhou").await
}

fn shanghai() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap()
}

/// A local working weekday at least two days ahead (the demo rooms open
/// Monday to Friday, and a public holiday closes them).
async fn weekday_ahead(app: &TestApp) -> NaiveDate {
    let calendar = app.app.store.catalog().business_calendar().await.unwrap();
    let mut day = (Utc::now() + Duration::days(2))
        .with_timezone(&shanghai())
        .date_naive();
    while matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
        || calendar.intervals_on(day).is_empty()
    {
        day = day.succ_opt().unwrap();
    }
    day
}

/// A Saturday after `day` that is not a make-up working day (调休).
async fn plain_saturday_after(app: &TestApp, day: NaiveDate) -> NaiveDate {
    let calendar = app.app.store.catalog().business_calendar().await.unwrap();
    let mut saturday = day.succ_opt().unwrap();
    while saturday.weekday() != Weekday::Sat || calendar.overrides().contains_key(&saturday) {
        saturday = saturday.succ_opt().unwrap();
    }
    saturday
}

fn local(day: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    shanghai()
        .from_local_datetime(&day.and_hms_opt(hour, minute, 0).unwrap())
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

/// Every id of a list, walking its pages `limit` at a time.
async fn walk(app: &TestApp, path: &str, token: &str, limit: u32) -> Vec<Uuid> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    let join = if path.contains('?') { '&' } else { '?' };
    for _ in 0..50 {
        let url = match &cursor {
            Some(c) => format!("{path}{join}limit={limit}&cursor={c}"),
            None => format!("{path}{join}limit={limit}"),
        };
        let page: MediationPage = expect_json(app.get(&url, token).await, StatusCode::OK).await;
        assert!(page.items.len() <= limit as usize);
        ids.extend(page.items.iter().map(|m| m.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return ids,
        }
    }
    panic!("{path}: the cursor never ended");
}

fn no_duplicates(ids: &[Uuid]) -> BTreeSet<Uuid> {
    let set: BTreeSet<Uuid> = ids.iter().copied().collect();
    assert_eq!(set.len(), ids.len(), "a page repeated an item: {ids:?}");
    set
}

#[tokio::test]
async fn lists_show_each_caller_only_their_own_mediations_page_by_page() {
    let app = TestApp::spawn().await;
    let b = StreetB::build(&app).await;
    let community = app.demo.community_a.as_uuid();
    let resident = app.resident_token("lister").await;
    let neighbour = app.resident_token("neighbour").await;
    let chen = app.staff_token("mediator.chen").await;
    let coordinator = app.staff_token("coordinator.sun").await;
    let mediator_b = StreetB::token(&app, StreetB::MEDIATOR).await;
    let coordinator_b = StreetB::token(&app, StreetB::COORDINATOR).await;

    let first = apply(&app, &resident, community, "楼上漏水，天花板发霉，第一件").await;
    let second = apply(&app, &resident, community, "楼上漏水，墙面起皮，第二件").await;
    let third = apply(&app, &resident, community, "楼道堆物挡住消防通道，第三件").await;
    let theirs = apply(&app, &neighbour, community, "邻居家狗夜里一直叫，别人的").await;
    let in_b = apply(
        &app,
        &neighbour,
        b.community,
        "新港居委的停车纠纷，别的街道",
    )
    .await;
    accept(&app, &chen, &first.id).await;
    accept(&app, &chen, &second.id).await;
    expect_status(
        app.post(
            &format!("/api/v1/mediations/{}/withdraw", third.id),
            &resident,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;

    // The applicant: theirs only, newest first, every page once.
    let mine = walk(&app, "/api/v1/mediations", &resident, 2).await;
    assert_eq!(mine, vec![third.id, second.id, first.id]);
    no_duplicates(&mine);
    let page: MediationPage = app.get_as("/api/v1/mediations", &resident).await;
    let line = page.items.iter().find(|m| m.id == first.id).unwrap();
    assert_eq!(line.status, "accepted");
    assert_eq!(line.mediator.as_deref(), Some("陈调解员"));
    let withdrawn = walk(&app, "/api/v1/mediations?status=withdrawn", &resident, 1).await;
    assert_eq!(withdrawn, vec![third.id]);
    let neighbours = walk(&app, "/api/v1/mediations", &neighbour, 1).await;
    assert_eq!(neighbours, vec![in_b.id, theirs.id]);
    expect_error(
        app.get("/api/v1/mediations?status=pending", &resident)
            .await,
        StatusCode::BAD_REQUEST,
        "bad_parameter",
    )
    .await;
    expect_error(
        app.get("/api/v1/mediations?cursor=c1.nothex", &resident)
            .await,
        StatusCode::BAD_REQUEST,
        "bad_parameter",
    )
    .await;
    // Staff have their own lists; residents theirs.
    expect_status(
        app.get("/api/v1/mediations", &chen).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    expect_status(
        app.get("/api/v1/staff/mediations", &resident).await,
        StatusCode::FORBIDDEN,
    )
    .await;

    // The mediator: the cases they own, nothing merely in their community.
    let owned = walk(&app, "/api/v1/staff/mediations", &chen, 1).await;
    assert_eq!(owned, vec![second.id, first.id]);
    // Street B's mediator holds the offer of street B's case, owns nothing.
    assert!(
        walk(&app, "/api/v1/staff/mediations", &mediator_b, 5)
            .await
            .is_empty()
    );

    // Upcoming sessions: a session booked on one day, looked up by days.
    let day = weekday_ahead(&app).await;
    let rooms: RoomList = app.get_as("/api/v1/staff/rooms", &chen).await;
    let room = rooms
        .items
        .iter()
        .find(|r| r.name == "蒋家桥居委人民调解室")
        .unwrap()
        .id;
    expect_status(
        app.post(
            &format!("/api/v1/staff/mediations/{}/sessions", first.id),
            &chen,
            json!({"room_id": room, "starts_at": local(day, 10, 0), "ends_at": local(day, 11, 0)}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let on_day = walk(
        &app,
        &format!("/api/v1/staff/mediations?session_from={day}&session_to={day}"),
        &chen,
        5,
    )
    .await;
    assert_eq!(on_day, vec![first.id]);
    let next_day = day.succ_opt().unwrap();
    assert!(
        walk(
            &app,
            &format!("/api/v1/staff/mediations?session_from={next_day}"),
            &chen,
            5
        )
        .await
        .is_empty()
    );
    let scheduled = walk(&app, "/api/v1/staff/mediations?status=scheduled", &chen, 5).await;
    assert_eq!(scheduled, vec![first.id]);
    let page: MediationPage = app
        .get_as("/api/v1/staff/mediations?status=scheduled", &chen)
        .await;
    let next = page.items[0].next_session.as_ref().unwrap();
    assert_eq!(next.starts_at, local(day, 10, 0));
    assert_eq!(next.room_id, room);
    // Any day the spec's `date` takes is answered: far ones reach the
    // years sessions can be in, and `to` before `from` is an empty span.
    let far: MediationPage = app
        .get_as(
            "/api/v1/staff/mediations?session_from=0635-06-04&session_to=9999-12-31",
            &chen,
        )
        .await;
    assert!(far.items.iter().any(|m| m.id == first.id));
    let backwards: MediationPage = app
        .get_as(
            &format!("/api/v1/staff/mediations?session_from={next_day}&session_to={day}"),
            &chen,
        )
        .await;
    assert!(backwards.items.is_empty());
    expect_error(
        app.get("/api/v1/staff/mediations?session_to=%2B262143-12-31", &chen)
            .await,
        StatusCode::BAD_REQUEST,
        "bad_parameter",
    )
    .await;

    // The coordinator: every mediation of their street, none of street B's.
    let street_a = no_duplicates(&walk(&app, "/api/v1/admin/mediations", &coordinator, 2).await);
    assert_eq!(
        street_a,
        BTreeSet::from([first.id, second.id, third.id, theirs.id])
    );
    let street_b = walk(&app, "/api/v1/admin/mediations", &coordinator_b, 2).await;
    assert_eq!(street_b, vec![in_b.id]);
    let on_day = walk(
        &app,
        &format!("/api/v1/admin/mediations?session_from={day}&session_to={day}"),
        &coordinator_b,
        5,
    )
    .await;
    assert!(on_day.is_empty());
    expect_status(
        app.get("/api/v1/admin/mediations", &chen).await,
        StatusCode::FORBIDDEN,
    )
    .await;
}

#[tokio::test]
async fn internal_notes_never_reach_the_applicant_and_their_messages_reach_the_mediator() {
    let app = TestApp::spawn().await;
    StreetB::build(&app).await;
    let resident = app.resident_token("talker").await;
    let neighbour = app.resident_token("nosy").await;
    let chen = app.staff_token("mediator.chen").await;
    let mediator_b = StreetB::token(&app, StreetB::MEDIATOR).await;
    let lawyer = app.staff_token("lawyer.zhang").await;
    let case = apply(
        &app,
        &resident,
        app.demo.community_a.as_uuid(),
        "楼上卫生间漏水，我家天花板发霉，多次沟通没有结果",
    )
    .await;
    let id = case.id;
    accept(&app, &chen, &id).await;
    // Another mediator of the community, who does not own it.
    let zhou = second_mediator(&app).await;
    let mine = format!("/api/v1/mediations/{id}/messages");
    let staff = format!("/api/v1/staff/mediations/{id}/messages");

    const ASKED: &str = "对方这周一直不在家，能否改到下周？";
    const REPLIED: &str = "好的，我联系对方后改到下周二上午";
    const NOTE: &str = "内部备注：被申请人此前有过激言行，调解时请社区民警到场";

    let after_ask: MediationView = expect_json(
        app.post(&mine, &resident, json!({"body": ASKED})).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(after_ask.messages.len(), 1);
    assert_eq!(after_ask.messages[0].author, "resident");
    assert_eq!(after_ask.messages[0].body, ASKED);

    // The mediator reads it once it passed the content check.
    let seen = eventually("the applicant's message to reach the mediator", || async {
        let view: MediationView = app
            .get_as(&format!("/api/v1/staff/mediations/{id}"), &chen)
            .await;
        view.messages
            .iter()
            .any(|m| m.body == ASKED)
            .then_some(view)
    })
    .await;
    assert_eq!(seen.messages[0].author, "resident");

    let replied: MediationView = expect_json(
        app.post(&staff, &chen, json!({"body": REPLIED})).await,
        StatusCode::CREATED,
    )
    .await;
    let reply = replied.messages.iter().find(|m| m.body == REPLIED).unwrap();
    assert_eq!(reply.author, "mediator");
    assert_eq!(reply.author_name.as_deref(), Some("陈调解员"));
    assert_eq!(reply.visibility, "public");
    let noted: MediationView = expect_json(
        app.post(&staff, &chen, json!({"body": NOTE, "internal": true}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let note = noted.messages.iter().find(|m| m.body == NOTE).unwrap();
    assert_eq!(note.visibility, "internal");
    assert_eq!(noted.messages.len(), 3);

    // The applicant: their message and the reply, never the note, in any
    // view (the detail, the list, the answer to their own writes).
    let view: MediationView = app
        .get_as(&format!("/api/v1/mediations/{id}"), &resident)
        .await;
    let bodies: Vec<&str> = view.messages.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, vec![ASKED, REPLIED]);
    assert!(view.messages.iter().all(|m| m.visibility == "public"));
    for path in [
        format!("/api/v1/mediations/{id}"),
        "/api/v1/mediations".to_owned(),
    ] {
        let text = app.get(&path, &resident).await.text().await.unwrap();
        assert!(!text.contains("内部备注"), "{path} shows the note: {text}");
    }
    let response = app
        .post(&mine, &resident, json!({"body": "谢谢，下周二可以"}))
        .await;
    let text = response.text().await.unwrap();
    assert!(!text.contains("内部备注"), "{text}");
    // Nobody else writes in it: another resident, another mediator, street
    // B's mediator (404 before anything about the body), a lawyer (403).
    for body in ["我也想说两句", ""] {
        expect_error(
            app.post(&mine, &neighbour, json!({"body": body})).await,
            StatusCode::NOT_FOUND,
            "mediation_not_found",
        )
        .await;
    }
    for token in [&mediator_b, &zhou] {
        for body in ["串门", ""] {
            expect_error(
                app.post(&staff, token, json!({"body": body, "internal": true}))
                    .await,
                StatusCode::NOT_FOUND,
                "mediation_not_found",
            )
            .await;
        }
    }
    expect_status(
        app.post(&staff, &lawyer, json!({"body": "律师插话"})).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    expect_status(
        app.post(&mine, &chen, json!({"body": "走错门了"})).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // Length limits as for consultations.
    for body in ["", &"长".repeat(2001)] {
        expect_error(
            app.post(&mine, &resident, json!({"body": body})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        expect_error(
            app.post(&staff, &chen, json!({"body": body})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
    }

    // Withdrawn: the thread takes no more.
    expect_status(
        app.post(
            &format!("/api/v1/mediations/{id}/withdraw"),
            &resident,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    expect_error(
        app.post(&mine, &resident, json!({"body": "算了不调了"}))
            .await,
        StatusCode::CONFLICT,
        "state_conflict",
    )
    .await;
}

#[tokio::test]
async fn mediators_find_their_rooms_and_the_free_times_in_them() {
    let app = TestApp::spawn().await;
    let b = StreetB::build(&app).await;
    let resident = app.resident_token("booker").await;
    let chen = app.staff_token("mediator.chen").await;
    let mediator_b = StreetB::token(&app, StreetB::MEDIATOR).await;

    // The rooms chen may book: the community's and its police station's,
    // not street B's.
    let rooms: RoomList =
        expect_json(app.get("/api/v1/staff/rooms", &chen).await, StatusCode::OK).await;
    let names: BTreeSet<&str> = rooms.items.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        BTreeSet::from(["蒋家桥居委人民调解室", "欧阳路派出所警民联调室"])
    );
    assert!(rooms.items.iter().all(|r| r.id != b.room));
    let rooms_b: RoomList = app.get_as("/api/v1/staff/rooms", &mediator_b).await;
    assert_eq!(
        rooms_b.items.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![b.room]
    );
    for who in ["coordinator.sun", "lawyer.zhang"] {
        let token = app.staff_token(who).await;
        expect_status(
            app.get("/api/v1/staff/rooms", &token).await,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    expect_status(
        app.get("/api/v1/staff/rooms", &resident).await,
        StatusCode::FORBIDDEN,
    )
    .await;

    let room = rooms
        .items
        .iter()
        .find(|r| r.name == "蒋家桥居委人民调解室")
        .unwrap()
        .id;
    let day = weekday_ahead(&app).await;
    let slots = |day: NaiveDate, minutes: u32| {
        format!("/api/v1/staff/rooms/{room}/free-slots?date={day}&minutes={minutes}")
    };
    // 周一至周五 09:00-12:00, 13:30-17:30: hour-long sessions start 09:00 to
    // 11:00 and 13:30 to 16:30, on the half hour.
    let free: FreeSlotsView =
        expect_json(app.get(&slots(day, 60), &chen).await, StatusCode::OK).await;
    assert_eq!(free.items.len(), 5 + 7, "{free:?}");
    assert_eq!(free.items[0].starts_at, local(day, 9, 0));
    assert_eq!(free.items[4].starts_at, local(day, 11, 0));
    assert_eq!(free.items[5].starts_at, local(day, 13, 30));
    assert_eq!(free.items[11].ends_at, local(day, 17, 30));
    assert_eq!(free.open.len(), 2);
    assert_eq!(free.open[0].starts_at, local(day, 9, 0));
    assert_eq!(free.open[1].ends_at, local(day, 17, 30));

    // A booked hour is gone, with every hour that would touch it.
    let case = apply(
        &app,
        &resident,
        app.demo.community_a.as_uuid(),
        "楼上漏水，要求修好，约个时间",
    )
    .await;
    accept(&app, &chen, &case.id).await;
    expect_status(
        app.post(
            &format!("/api/v1/staff/mediations/{}/sessions", case.id),
            &chen,
            json!({"room_id": room, "starts_at": local(day, 10, 0), "ends_at": local(day, 11, 0)}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let free: FreeSlotsView = app.get_as(&slots(day, 60), &chen).await;
    let starts: Vec<DateTime<Utc>> = free.items.iter().map(|s| s.starts_at).collect();
    assert_eq!(free.items.len(), 12 - 3);
    for taken in [local(day, 9, 30), local(day, 10, 0), local(day, 10, 30)] {
        assert!(!starts.contains(&taken), "{taken} is booked");
    }
    assert!(starts.contains(&local(day, 9, 0)) && starts.contains(&local(day, 11, 0)));
    // The station's room is free then, but chen is not: their own booking counts.
    let station_room = rooms
        .items
        .iter()
        .find(|r| r.name == "欧阳路派出所警民联调室")
        .unwrap()
        .id;
    let elsewhere: FreeSlotsView = app
        .get_as(
            &format!("/api/v1/staff/rooms/{station_room}/free-slots?date={day}&minutes=60"),
            &chen,
        )
        .await;
    assert!(
        elsewhere
            .items
            .iter()
            .all(|s| s.starts_at != local(day, 10, 0))
    );

    // Closed days: the weekend, and a holiday entered in the calendar.
    let saturday = plain_saturday_after(&app, day).await;
    let closed: FreeSlotsView = app.get_as(&slots(saturday, 60), &chen).await;
    assert!(
        closed.items.is_empty() && closed.open.is_empty(),
        "{closed:?}"
    );
    let admin = app.staff_token("admin").await;
    let holiday = saturday + Duration::days(2);
    expect_status(
        app.put(
            &format!("/api/v1/admin/calendar/{holiday}"),
            &admin,
            json!({"kind": "holiday", "source": "测试"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let closed: FreeSlotsView = app.get_as(&slots(holiday, 60), &chen).await;
    assert!(closed.items.is_empty(), "{closed:?}");
    // A day gone by has no free time.
    let past = (Utc::now() - Duration::days(7))
        .with_timezone(&shanghai())
        .date_naive();
    let gone: FreeSlotsView = app.get_as(&slots(past, 30), &chen).await;
    assert!(gone.items.is_empty());

    // Another street's room, or none: 404, whatever the query says.
    for path in [
        format!("/api/v1/staff/rooms/{}/free-slots?date={day}", b.room),
        format!("/api/v1/staff/rooms/{}/free-slots?date=garbage", b.room),
        format!(
            "/api/v1/staff/rooms/{}/free-slots?date={day}",
            Uuid::now_v7()
        ),
    ] {
        expect_error(
            app.get(&path, &chen).await,
            StatusCode::NOT_FOUND,
            "room_not_found",
        )
        .await;
    }
    expect_error(
        app.get(&slots(day, 60), &mediator_b).await,
        StatusCode::NOT_FOUND,
        "room_not_found",
    )
    .await;
    for bad in [
        format!("/api/v1/staff/rooms/{room}/free-slots?date={day}&minutes=45"),
        format!("/api/v1/staff/rooms/{room}/free-slots?date={day}&minutes=600"),
        format!("/api/v1/staff/rooms/{room}/free-slots"),
        format!("/api/v1/staff/rooms/{room}/free-slots?date=2026-13-01"),
        format!("/api/v1/staff/rooms/{room}/free-slots?date=%2B262143-12-31"),
    ] {
        expect_error(
            app.get(&bad, &chen).await,
            StatusCode::BAD_REQUEST,
            "bad_parameter",
        )
        .await;
    }
    // A day no session can be on has nothing open; not a 400 (the spec's
    // `date` takes it).
    for far in ["0635-06-04", "1900-01-01", "9999-12-31"] {
        let slots: FreeSlotsView = app
            .get_as(
                &format!("/api/v1/staff/rooms/{room}/free-slots?date={far}"),
                &chen,
            )
            .await;
        assert!(slots.open.is_empty() && slots.items.is_empty(), "{far}");
    }
}

#[tokio::test]
async fn sessions_are_booked_only_ahead_and_held_only_once_begun() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("punctual").await;
    let chen = app.staff_token("mediator.chen").await;
    let case = apply(
        &app,
        &resident,
        app.demo.community_a.as_uuid(),
        "楼上漏水，约个调解时间",
    )
    .await;
    let id = case.id;
    accept(&app, &chen, &id).await;
    let rooms: RoomList = app.get_as("/api/v1/staff/rooms", &chen).await;
    let room = rooms.items[0].id;
    let base = format!("/api/v1/staff/mediations/{id}");

    // The half hour now running has begun: too late to book.
    let now = Utc::now();
    let this_half_hour =
        DateTime::<Utc>::from_timestamp(now.timestamp() - now.timestamp() % 1800, 0).unwrap();
    for starts in [this_half_hour, this_half_hour - Duration::days(1)] {
        expect_error(
            app.post(
                &format!("{base}/sessions"),
                &chen,
                json!({"room_id": room, "starts_at": starts, "ends_at": starts + Duration::hours(1)}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "session_in_past",
        )
        .await;
    }
    let day = weekday_ahead(&app).await;
    let booked: MediationView = expect_json(
        app.post(
            &format!("{base}/sessions"),
            &chen,
            json!({"room_id": room, "starts_at": local(day, 9, 0), "ends_at": local(day, 10, 0)}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let session = booked.sessions[0].id;
    let held = json!({"attendees": "双方当事人", "minutes": "双方同意加装冷凝水管"});
    expect_error(
        app.post(
            &format!("{base}/sessions/{session}/held"),
            &chen,
            held.clone(),
        )
        .await,
        StatusCode::CONFLICT,
        "session_not_started",
    )
    .await;

    // Moving it into the past is refused, and it stays where it was.
    expect_error(
        app.post(
            &format!("{base}/sessions/{session}/reschedule"),
            &chen,
            json!({"starts_at": this_half_hour, "ends_at": this_half_hour + Duration::hours(1), "reason": "改到现在"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "session_in_past",
    )
    .await;
    let view: MediationView = app.get_as(&base, &chen).await;
    assert_eq!(view.sessions.len(), 1);
    assert_eq!(view.sessions[0].status, "scheduled");
    let moved: MediationView = expect_json(
        app.post(
            &format!("{base}/sessions/{session}/reschedule"),
            &chen,
            json!({"starts_at": local(day, 14, 0), "ends_at": local(day, 15, 0), "reason": "申请人上午要上班"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let new_session = moved
        .sessions
        .iter()
        .find(|s| s.status == "scheduled")
        .unwrap()
        .id;
    expect_error(
        app.post(
            &format!("{base}/sessions/{new_session}/held"),
            &chen,
            held.clone(),
        )
        .await,
        StatusCode::CONFLICT,
        "session_not_started",
    )
    .await;
    let still: MediationView = app.get_as(&base, &chen).await;
    assert_eq!(still.status, "scheduled");

    // Once it has begun, it may be recorded as held.
    app.begin_session(new_session).await;
    let heard: MediationView = expect_json(
        app.post(&format!("{base}/sessions/{new_session}/held"), &chen, held)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(heard.status, "heard");
}

/// The same lookups on the embedded stack (SQLite): the session window of
/// a list, and booked half hours in the free slots.
#[tokio::test]
async fn lists_and_free_slots_work_on_the_embedded_stack_too() {
    let app = TestApp::spawn_embedded().await;
    let resident = app.resident_token("embedded").await;
    let chen = app.staff_token("mediator.chen").await;
    let case = apply(
        &app,
        &resident,
        app.demo.community_a.as_uuid(),
        "楼上漏水，内嵌数据库上约时间",
    )
    .await;
    accept(&app, &chen, &case.id).await;
    let rooms: RoomList = app.get_as("/api/v1/staff/rooms", &chen).await;
    let room = rooms
        .items
        .iter()
        .find(|r| r.name == "蒋家桥居委人民调解室")
        .unwrap()
        .id;
    let day = weekday_ahead(&app).await;
    expect_status(
        app.post(
            &format!("/api/v1/staff/mediations/{}/sessions", case.id),
            &chen,
            json!({"room_id": room, "starts_at": local(day, 10, 0), "ends_at": local(day, 11, 0)}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let free: FreeSlotsView = app
        .get_as(
            &format!("/api/v1/staff/rooms/{room}/free-slots?date={day}&minutes=60"),
            &chen,
        )
        .await;
    assert_eq!(free.items.len(), 12 - 3, "{free:?}");
    let on_day = walk(
        &app,
        &format!("/api/v1/staff/mediations?session_from={day}&session_to={day}"),
        &chen,
        5,
    )
    .await;
    assert_eq!(on_day, vec![case.id]);
    let next_day = day.succ_opt().unwrap();
    assert!(
        walk(
            &app,
            &format!("/api/v1/staff/mediations?session_from={next_day}"),
            &chen,
            5
        )
        .await
        .is_empty()
    );
    let mine = walk(&app, "/api/v1/mediations?status=scheduled", &resident, 1).await;
    assert_eq!(mine, vec![case.id]);
}

/// The mediator's calendar (`GET /staff/me/sessions`): their own booked and
/// held sessions between two days, cancelled ones left out; another
/// mediator of the same community sees none of them; at most 31 days.
#[tokio::test]
async fn a_mediator_lists_only_their_own_sessions_between_two_days() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("calendar").await;
    let chen = app.staff_token("mediator.chen").await;
    let case = apply(
        &app,
        &resident,
        app.demo.community_a.as_uuid(),
        "楼上漏水，约个调解时间",
    )
    .await;
    accept(&app, &chen, &case.id).await;
    let rooms: RoomList = app.get_as("/api/v1/staff/rooms", &chen).await;
    let room = rooms.items[0].id;
    let day = weekday_ahead(&app).await;
    let base = format!("/api/v1/staff/mediations/{}", case.id);
    for hour in [9, 14] {
        expect_status(
            app.post(
                &format!("{base}/sessions"),
                &chen,
                json!({"room_id": room, "starts_at": local(day, hour, 0), "ends_at": local(day, hour + 1, 0)}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
    }
    let view: MediationView = app.get_as(&base, &chen).await;
    let afternoon = view
        .sessions
        .iter()
        .find(|s| s.starts_at == local(day, 14, 0))
        .unwrap()
        .id;
    expect_status(
        app.post(
            &format!("{base}/sessions/{afternoon}/cancel"),
            &chen,
            json!({"reason": "另约时间"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;

    let calendar =
        |from: NaiveDate, to: NaiveDate| format!("/api/v1/staff/me/sessions?from={from}&to={to}");
    let mine: serde_json::Value =
        expect_json(app.get(&calendar(day, day), &chen).await, StatusCode::OK).await;
    let items = mine["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{mine}");
    assert_eq!(items[0]["case_id"], json!(case.id));
    assert_eq!(items[0]["category_code"], "LJ02");
    assert_eq!(items[0]["case_status"], "scheduled");
    assert_eq!(items[0]["status"], "scheduled");
    assert_eq!(items[0]["room_id"], json!(room));
    assert!(items[0]["room_name"].is_string());
    assert_eq!(items[0]["starts_at"], json!(local(day, 9, 0)));
    // A week around it finds the same; the days before it, nothing.
    let week: serde_json::Value = app
        .get_as(
            &calendar(day - Duration::days(3), day + Duration::days(3)),
            &chen,
        )
        .await;
    assert_eq!(week["items"].as_array().unwrap().len(), 1);
    let before: serde_json::Value = app
        .get_as(
            &calendar(day - Duration::days(7), day - Duration::days(1)),
            &chen,
        )
        .await;
    assert!(before["items"].as_array().unwrap().is_empty());

    // Another mediator of the same community: none of chen's sessions.
    let zhou = second_mediator(&app).await;
    let theirs: serde_json::Value = app.get_as(&calendar(day, day), &zhou).await;
    assert!(theirs["items"].as_array().unwrap().is_empty(), "{theirs}");

    // 31 days at most, `to` not before `from`, both required.
    let longest: serde_json::Value = app
        .get_as(&calendar(day - Duration::days(30), day), &chen)
        .await;
    assert_eq!(longest["items"].as_array().unwrap().len(), 1);
    for bad in [
        calendar(day - Duration::days(31), day),
        calendar(day, day - Duration::days(1)),
        format!("/api/v1/staff/me/sessions?from={day}"),
        "/api/v1/staff/me/sessions?from=2026-13-01&to=2026-12-01".to_owned(),
    ] {
        expect_error(
            app.get(&bad, &chen).await,
            StatusCode::BAD_REQUEST,
            "bad_parameter",
        )
        .await;
    }
    // Not a mediator.
    let lawyer = app.staff_token("lawyer.zhang").await;
    expect_status(
        app.get(&calendar(day, day), &lawyer).await,
        StatusCode::FORBIDDEN,
    )
    .await;
}
