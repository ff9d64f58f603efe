//! Statistics as files: the summary and the monthly report as CSV and XLSX
//! carry every figure of the JSON, exactly; the month runs in Beijing
//! time; the access rules are the JSON's.

use super::stats::{
    Detail, at, case_in, insert_breach, insert_case, insert_offer, reconciler_settled,
    second_street, seed_case,
};
use calamine::{Data, Reader, Xlsx};
use chrono::{Duration, Utc};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use sansuo_domain::OrgUnitId;
use sansuo_store::entity::{case_conversion, case_intake, tip};
use sansuo_store::sea_orm::sea_query::Expr;
use sansuo_store::sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use sansuo_tests::views::SummaryStatsView;
use sansuo_tests::{TestApp, expect_error, expect_status, read_as};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::io::Cursor;
use uuid::Uuid;

const FROM: &str = "2026-05-01T00:00:00Z";
const TO: &str = "2026-06-01T00:00:00Z";
const BOM: &[u8] = b"\xEF\xBB\xBF";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const HEADINGS: [&str; 4] = ["分类", "统计项", "数值", "字段"];

fn summary_path(unit: OrgUnitId, format: &str) -> String {
    format!(
        "/api/v1/admin/stats/summary?org_unit_id={}&from={FROM}&to={TO}&format={format}",
        unit.as_uuid()
    )
}

fn monthly_path(unit: OrgUnitId, month: &str, format: &str) -> String {
    format!(
        "/api/v1/admin/reports/monthly?org_unit_id={}&month={month}&format={format}",
        unit.as_uuid()
    )
}

/// One row of a file: section, item, value (as JSON: a number, a string or
/// null for an empty cell) and the JSON field it names.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    section: String,
    item: String,
    value: Value,
    field: String,
}

fn number(x: f64) -> Value {
    json!(x)
}

/// A CSV cell as the JSON would hold it: empty is null, a number is a
/// number (compared as `f64`), anything else text.
fn csv_value(cell: &str) -> Value {
    if cell.is_empty() {
        Value::Null
    } else if let Ok(x) = cell.parse::<f64>() {
        number(x)
    } else {
        Value::String(cell.into())
    }
}

fn xlsx_value(cell: &Data) -> Value {
    match cell {
        Data::Empty => Value::Null,
        Data::Float(x) => number(*x),
        Data::Int(n) => number(*n as f64),
        Data::String(s) => Value::String(s.clone()),
        other => panic!("an unexpected cell {other:?}"),
    }
}

fn text(cell: &Data) -> String {
    match cell {
        Data::String(s) => s.clone(),
        Data::Empty => String::new(),
        other => panic!("a text cell, not {other:?}"),
    }
}

struct Download {
    content_type: String,
    disposition: String,
    body: Vec<u8>,
}

async fn download(app: &TestApp, path: &str, token: &str) -> Download {
    let response = app.get(path, token).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let header = |name| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let (content_type, disposition) = (header(CONTENT_TYPE), header(CONTENT_DISPOSITION));
    Download {
        content_type,
        disposition,
        body: response.bytes().await.unwrap().to_vec(),
    }
}

fn csv_rows(file: &Download) -> Vec<Row> {
    assert_eq!(file.content_type, "text/csv; charset=utf-8");
    assert!(
        file.body.starts_with(BOM),
        "a CSV for Excel starts with a BOM"
    );
    let mut reader = csv::Reader::from_reader(&file.body[BOM.len()..]);
    assert_eq!(reader.headers().unwrap(), HEADINGS.as_slice());
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            Row {
                section: r[0].into(),
                item: r[1].into(),
                value: csv_value(&r[2]),
                field: r[3].into(),
            }
        })
        .collect()
}

fn xlsx_rows(file: &Download) -> Vec<Row> {
    assert_eq!(file.content_type, XLSX);
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(file.body.clone())).unwrap();
    let sheet = workbook.worksheet_range("统计报表").unwrap();
    let mut rows = sheet.rows();
    let headings: Vec<String> = rows.next().unwrap().iter().map(text).collect();
    assert_eq!(headings, HEADINGS);
    rows.map(|r| {
        let cell = |i: usize| r.get(i).cloned().unwrap_or(Data::Empty);
        Row {
            section: text(&cell(0)),
            item: text(&cell(1)),
            value: xlsx_value(&cell(2)),
            field: text(&cell(3)),
        }
    })
    .collect()
}

/// The JSON value a file row's field names: dotted steps, an array step
/// naming the element by its key (`by_category.LJ01.cases`).
fn resolve<'a>(json: &'a Value, field: &str) -> &'a Value {
    let mut at = json;
    for step in field.split('.') {
        at = match at {
            Value::Object(map) => map.get(step),
            Value::Array(items) => items.iter().find(|item| {
                item.as_object()
                    .unwrap()
                    .values()
                    .any(|v| v.as_str() == Some(step))
            }),
            _ => None,
        }
        .unwrap_or_else(|| panic!("`{field}` is not in the JSON at `{step}`"));
    }
    at
}

/// The keys that name an array's elements, and the texts that go with them.
const KEYS: [&str; 5] = ["category_code", "channel", "status", "outcome", "staff_id"];
const LABELS: [&str; 3] = ["category_name", "display_name", "service"];

/// Every figure of the JSON as a field path in the files' spelling. Left
/// out: the period (printed in Beijing time) and the top-level `by_status`
/// (the per-service statuses, printed under `by_service`).
fn figures(json: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match json {
        Value::Object(map) => {
            for (key, value) in map {
                if prefix.is_empty() && ["from", "to", "by_status"].contains(&key.as_str()) {
                    continue;
                }
                if KEYS.contains(&key.as_str()) || LABELS.contains(&key.as_str()) {
                    continue;
                }
                figures(value, &format!("{prefix}{key}."), out);
            }
        }
        Value::Array(items) => {
            for item in items {
                let key = KEYS
                    .iter()
                    .find_map(|k| item.get(k))
                    .and_then(Value::as_str)
                    .unwrap();
                figures(item, &format!("{prefix}{key}."), out);
            }
        }
        _ => {
            out.insert(prefix.trim_end_matches('.').to_owned());
        }
    }
}

/// Every row naming a field holds the JSON's figure, and every figure of
/// the JSON has its row.
fn assert_same_figures(rows: &[Row], json: &Value, what: &str) {
    for row in rows.iter().filter(|r| !r.field.is_empty()) {
        let expected = resolve(json, &row.field);
        let same = match (expected, &row.value) {
            (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
            (a, b) => a == b,
        };
        assert!(
            same,
            "{what}: {} {} is {:?}, the JSON's {} is {expected:?}",
            row.section, row.item, row.value, row.field
        );
    }
    let in_file: BTreeSet<String> = rows
        .iter()
        .filter(|r| !r.field.is_empty())
        .map(|r| r.field.clone())
        .collect();
    let mut in_json = BTreeSet::new();
    figures(json, "", &mut in_json);
    assert_eq!(in_file, in_json, "{what}: every figure of the JSON, once");
    assert_eq!(
        in_file.len(),
        rows.iter().filter(|r| !r.field.is_empty()).count(),
        "{what}: no figure twice"
    );
}

fn row<'a>(rows: &'a [Row], section: &str, item: &str) -> &'a Row {
    rows.iter()
        .find(|r| r.section == section && r.item == item)
        .unwrap_or_else(|| panic!("a row {section} / {item} in {rows:#?}"))
}

async fn set_channel(app: &TestApp, tip_id: Uuid, channel: &str) {
    tip::Entity::update_many()
        .col_expr(tip::Column::Channel, Expr::value(channel))
        .filter(tip::Column::CaseId.eq(tip_id))
        .exec(app.app.store.db())
        .await
        .unwrap();
}

async fn filed_in_person(app: &TestApp, case_id: Uuid) {
    case_intake::Entity::insert(case_intake::ActiveModel {
        case_id: Set(case_id),
        channel: Set("in_person".into()),
        filed_by: Set(app.demo.account("mediator.chen").id.as_uuid()),
        name_sealed: Set("sealed".into()),
        name_masked: Set("王**".into()),
        phone_sealed: Set("sealed".into()),
        phone_masked: Set("139****4321".into()),
        created_at: Set(Utc::now()),
    })
    .exec_without_returning(app.app.store.db())
    .await
    .unwrap();
}

async fn converted(app: &TestApp, from: Uuid, to: Uuid, to_service: &str) {
    case_conversion::Entity::insert(case_conversion::ActiveModel {
        id: Set(Uuid::now_v7()),
        from_case_id: Set(from),
        to_service: Set(to_service.into()),
        status: Set("converted".into()),
        proposal: Set("{}".into()),
        proposed_by: Set(app.demo.account("lawyer.li").id.as_uuid()),
        proposed_at: Set(Utc::now()),
        answered_at: Set(Some(Utc::now())),
        to_case_id: Set(Some(to)),
    })
    .exec_without_returning(app.app.store.db())
    .await
    .unwrap();
}

/// May's cases in street A, of every service and every channel: six
/// through the mini-program, two Open311 tips, two filed in person, four
/// opened from another case.
async fn seed_may(app: &TestApp) {
    let demo = &app.demo;
    let (a, b) = (demo.community_a, demo.community_b);
    let t0 = at("2026-05-12T02:00:00Z");
    let consultation = |stars| Detail::Consultation { stars };
    let mediation = |outcome| Detail::Mediation { outcome };
    let tip = |actioned| Detail::Tip {
        anonymous: false,
        actioned,
    };
    // Through the mini-program: three rated consultations (5, 4, 4 stars:
    // an average of 13/3), two that were converted, an unfounded tip.
    let k1 = seed_case(
        app,
        a,
        "closed",
        t0,
        Some("lawyer.zhang"),
        Some(60),
        Some(600),
        consultation(Some(5)),
    )
    .await;
    seed_case(
        app,
        b,
        "closed",
        t0,
        Some("lawyer.li"),
        Some(120),
        Some(300),
        consultation(Some(4)),
    )
    .await;
    seed_case(
        app,
        a,
        "closed",
        t0,
        Some("lawyer.li"),
        Some(90),
        Some(200),
        consultation(Some(4)),
    )
    .await;
    let k_to_tip = seed_case(
        app,
        a,
        "converted",
        t0,
        Some("lawyer.li"),
        Some(45),
        None,
        consultation(None),
    )
    .await;
    let k_to_mediation = seed_case(
        app,
        b,
        "converted",
        t0,
        Some("lawyer.zhang"),
        Some(15),
        None,
        consultation(None),
    )
    .await;
    seed_case(
        app,
        a,
        "unfounded",
        t0,
        Some("officer.liu"),
        Some(30),
        None,
        tip(false),
    )
    .await;
    // In person: an answered consultation and an agreed mediation.
    let k_in_person = seed_case(
        app,
        a,
        "answered",
        t0,
        Some("lawyer.zhang"),
        Some(30),
        Some(900),
        consultation(None),
    )
    .await;
    filed_in_person(app, k_in_person).await;
    let m_in_person = seed_case(
        app,
        b,
        "agreed",
        t0,
        Some("mediator.chen"),
        Some(600),
        None,
        mediation(Some("agreement_written")),
    )
    .await;
    filed_in_person(app, m_in_person).await;
    // Open311: a tip closed after action, one converted into a mediation.
    let t_open311 = seed_case(
        app,
        a,
        "closed",
        t0,
        Some("officer.liu"),
        Some(20),
        None,
        tip(true),
    )
    .await;
    set_channel(app, t_open311, "open311").await;
    let t_to_mediation = seed_case(
        app,
        a,
        "converted",
        t0,
        Some("officer.liu"),
        Some(25),
        None,
        tip(false),
    )
    .await;
    set_channel(app, t_to_mediation, "open311").await;
    // From other cases: the tip and the mediation of the two converted
    // consultations, the Open311 tip's mediation, a mediator's flag.
    let t_from_k = seed_case(
        app,
        a,
        "valid",
        t0,
        Some("officer.liu"),
        Some(10),
        None,
        tip(false),
    )
    .await;
    set_channel(app, t_from_k, "consultation").await;
    converted(app, k_to_tip, t_from_k, "tip").await;
    let m_from_k = seed_case(
        app,
        b,
        "accepted",
        t0,
        Some("mediator.chen"),
        Some(300),
        None,
        mediation(None),
    )
    .await;
    converted(app, k_to_mediation, m_from_k, "mediation").await;
    let m_from_tip = seed_case(app, a, "pooled", t0, None, None, None, mediation(None)).await;
    tip::Entity::update_many()
        .col_expr(tip::Column::ConvertedTo, Expr::value(m_from_tip))
        .filter(tip::Column::CaseId.eq(t_to_mediation))
        .exec(app.app.store.db())
        .await
        .unwrap();
    let t_flag = seed_case(
        app,
        b,
        "acknowledged",
        t0,
        Some("officer.liu"),
        None,
        None,
        tip(false),
    )
    .await;
    set_channel(app, t_flag, "mediation").await;
    // Offers and breaches, for their rows.
    let may = at("2026-05-12T03:00:00Z");
    insert_offer(app, k1, "lawyer.zhang", "accepted", may).await;
    insert_offer(app, k_in_person, "lawyer.li", "declined", may).await;
    insert_breach(app, m_from_tip, "accept", may).await;
    insert_breach(app, k_in_person, "first_response", may).await;
}

#[tokio::test]
async fn csv_and_xlsx_carry_every_figure_of_the_json() {
    files_match_the_json(TestApp::spawn().await).await;
}

#[tokio::test]
async fn csv_and_xlsx_carry_every_figure_of_the_json_on_sqlite() {
    files_match_the_json(TestApp::spawn_embedded().await).await;
}

async fn files_match_the_json(app: TestApp) {
    reconciler_settled(&app).await;
    seed_may(&app).await;
    let demo = app.demo.clone();
    let coordinator = app.staff_token("coordinator.sun").await;

    let body = expect_status(
        app.get(&summary_path(demo.street, "json"), &coordinator)
            .await,
        StatusCode::OK,
    )
    .await;
    let summary: SummaryStatsView = read_as(&body);
    assert_eq!(summary.cases, 14);
    let channels: Vec<(&str, u64)> = summary
        .by_channel
        .iter()
        .map(|c| (c.channel.as_str(), c.cases))
        .collect();
    assert_eq!(
        channels,
        [
            ("app", 6),
            ("open311", 2),
            ("in_person", 2),
            ("converted", 4)
        ]
    );
    // Resolved: the three rated consultations, the answered one, the
    // agreement, the actioned tip.
    assert_eq!(summary.resolved, 6);
    assert_eq!(summary.success_rate, Some(6.0 / 14.0));
    assert_eq!(
        summary.consultation_satisfaction.average_stars,
        Some(13.0 / 3.0)
    );
    assert!(
        summary
            .by_category
            .iter()
            .any(|c| c.category_code == "HY01" && c.category_name == "离婚纠纷" && c.cases == 6),
        "{:?}",
        summary.by_category
    );
    // Omitting the format is JSON too.
    let plain = expect_status(
        app.get(
            &summary_path(demo.street, "json").replace("&format=json", ""),
            &coordinator,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(plain, body);

    let csv_file = download(&app, &summary_path(demo.street, "csv"), &coordinator).await;
    assert!(
        csv_file
            .disposition
            .starts_with("attachment; filename=\"sansuo-stats-20260501-20260601.csv\""),
        "{}",
        csv_file.disposition
    );
    // 统计报表-欧阳路街道-20260501-20260601.csv, RFC 5987.
    assert!(
        csv_file.disposition.contains(
            "filename*=UTF-8''%E7%BB%9F%E8%AE%A1%E6%8A%A5%E8%A1%A8%2D%E6%AC%A7%E9%98%B3%E8%B7%AF%E8%A1%97%E9%81%93%2D20260501%2D20260601.csv"
        ),
        "{}",
        csv_file.disposition
    );
    let csv = csv_rows(&csv_file);
    assert_same_figures(&csv, &body, "CSV");

    let xlsx_file = download(&app, &summary_path(demo.street, "xlsx"), &coordinator).await;
    assert!(
        xlsx_file
            .disposition
            .starts_with("attachment; filename=\"sansuo-stats-20260501-20260601.xlsx\""),
        "{}",
        xlsx_file.disposition
    );
    let xlsx = xlsx_rows(&xlsx_file);
    assert_same_figures(&xlsx, &body, "XLSX");
    assert_eq!(csv, xlsx, "the CSV and the workbook hold the same rows");

    // Chinese labels, Beijing times.
    assert_eq!(row(&csv, "报表信息", "单位").value, json!("欧阳路街道"));
    assert_eq!(
        row(&csv, "报表信息", "起始时间（北京时间）").value,
        json!("2026-05-01 08:00")
    );
    assert_eq!(row(&csv, "按来源渠道", "现场代办").value, json!(2.0));
    assert_eq!(row(&csv, "按来源渠道", "由其他案件转来").value, json!(4.0));
    assert_eq!(row(&csv, "按来源渠道", "Open311 接口").value, json!(2.0));
    assert_eq!(
        row(&csv, "按纠纷类型", "离婚纠纷（HY01）").value,
        json!(6.0)
    );
    assert_eq!(
        row(&csv, "满意度（法律咨询）", "平均星级").value,
        json!(13.0 / 3.0)
    );
    assert_eq!(row(&csv, "线索结果", "转为人民调解").value, json!(1.0));
    assert_eq!(row(&csv, "按服务", "人民调解·成功办结数").value, json!(1.0));

    // A real filing in person counts as in person.
    let chen = app.staff_token("mediator.chen").await;
    expect_status(
        app.post(
            "/api/v1/staff/intake/consultations",
            &chen,
            json!({
                "community_id": demo.community_a.as_uuid(),
                "category_code": "LJ01",
                "question": "老人来居委会问赡养费的事",
                "resident": {"name": "王大爷", "phone": "13912344321"},
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let now = Utc::now();
    let path = format!(
        "/api/v1/admin/stats/summary?org_unit_id={}&from={}&to={}",
        demo.street.as_uuid(),
        (now - Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ"),
        (now + Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ"),
    );
    let today: SummaryStatsView = app.get_as(&path, &coordinator).await;
    let in_person = today.by_channel.iter().find(|c| c.channel == "in_person");
    assert_eq!(
        in_person.map(|c| c.cases),
        Some(1),
        "{:?}",
        today.by_channel
    );
}

#[tokio::test]
async fn a_month_runs_from_beijing_midnight_to_beijing_midnight() {
    let app = TestApp::spawn().await;
    reconciler_settled(&app).await;
    let (street_2, community_c) = second_street(&app).await;
    // 23:30 on 30 November in Beijing (15:30 UTC): November's.
    insert_case(
        &app,
        case_in(community_c, "pooled", at("2026-11-30T23:30:00+08:00")),
    )
    .await;
    // 00:10 on 1 December in Beijing (still 30 November in UTC): December's.
    insert_case(
        &app,
        case_in(community_c, "pooled", at("2026-12-01T00:10:00+08:00")),
    )
    .await;
    let admin = app.staff_token("admin").await;

    let november: SummaryStatsView = app
        .get_as(&monthly_path(street_2, "2026-11", "json"), &admin)
        .await;
    assert_eq!(november.from, at("2026-11-01T00:00:00+08:00"));
    assert_eq!(november.to, at("2026-12-01T00:00:00+08:00"));
    assert_eq!(november.cases, 1);
    let december: SummaryStatsView = app
        .get_as(&monthly_path(street_2, "2026-12", "json"), &admin)
        .await;
    assert_eq!(december.from, at("2026-12-01T00:00:00+08:00"));
    assert_eq!(december.cases, 1);
    // The same figures as the summary over the month's bounds.
    let summary: SummaryStatsView = app
        .get_as(
            &format!(
                "/api/v1/admin/stats/summary?org_unit_id={}&from=2026-10-31T16:00:00Z&to=2026-11-30T16:00:00Z",
                street_2.as_uuid()
            ),
            &admin,
        )
        .await;
    assert_eq!(summary, november);

    let json = expect_status(
        app.get(&monthly_path(street_2, "2026-11", "json"), &admin)
            .await,
        StatusCode::OK,
    )
    .await;
    for format in ["csv", "xlsx"] {
        let file = download(&app, &monthly_path(street_2, "2026-11", format), &admin).await;
        assert!(
            file.disposition.starts_with(&format!(
                "attachment; filename=\"sansuo-monthly-2026-11.{format}\""
            )),
            "{}",
            file.disposition
        );
        // 月度统计-嘉兴路街道-2026-11
        assert!(
            file.disposition.contains(&format!(
                "filename*=UTF-8''%E6%9C%88%E5%BA%A6%E7%BB%9F%E8%AE%A1%2D%E5%98%89%E5%85%B4%E8%B7%AF%E8%A1%97%E9%81%93%2D2026%2D11.{format}"
            )),
            "{}",
            file.disposition
        );
        let rows = if format == "csv" {
            csv_rows(&file)
        } else {
            xlsx_rows(&file)
        };
        assert_same_figures(&rows, &json, format);
        assert_eq!(row(&rows, "总体", "案件总数").value, json!(1.0));
        assert_eq!(
            row(&rows, "报表信息", "起始时间（北京时间）").value,
            json!("2026-11-01 00:00")
        );
        assert_eq!(
            row(&rows, "报表信息", "截止时间（北京时间，不含）").value,
            json!("2026-12-01 00:00")
        );
    }
}

#[tokio::test]
async fn the_files_keep_the_summarys_access_rules_and_a_bad_month_is_named() {
    let app = TestApp::spawn().await;
    let demo = app.demo.clone();
    let (street_2, _) = second_street(&app).await;
    let coordinator = app.staff_token("coordinator.sun").await;
    let lawyer = app.staff_token("lawyer.zhang").await;
    let resident = app.resident_token("stats-files").await;

    let paths = |unit| {
        let mut paths = vec![monthly_path(unit, "2026-11", "json")];
        for format in ["csv", "xlsx"] {
            paths.push(monthly_path(unit, "2026-11", format));
            paths.push(summary_path(unit, format));
        }
        paths
    };
    for path in paths(demo.street) {
        let response = app.http.get(app.url(&path)).send().await.unwrap();
        expect_error(response, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        for token in [&resident, &lawyer] {
            expect_error(
                app.get(&path, token).await,
                StatusCode::FORBIDDEN,
                "forbidden",
            )
            .await;
        }
        assert_eq!(
            app.get(&path, &coordinator).await.status(),
            StatusCode::OK,
            "{path}"
        );
    }
    // Another street's unit reads as absent to this street's coordinator.
    for path in paths(street_2) {
        expect_error(
            app.get(&path, &coordinator).await,
            StatusCode::NOT_FOUND,
            "org_unit_not_found",
        )
        .await;
    }

    for month in ["2026-13", "2026-1", "11-2026", "2026-11-01", "latest"] {
        let error = expect_error(
            app.get(&monthly_path(demo.street, month, "csv"), &coordinator)
                .await,
            StatusCode::BAD_REQUEST,
            "bad_parameter",
        )
        .await;
        assert!(error.error.message.contains(month), "{error:?}");
    }
    for path in [
        monthly_path(demo.street, "2026-11", "pdf"),
        summary_path(demo.street, "pdf"),
        format!(
            "/api/v1/admin/reports/monthly?org_unit_id={}",
            demo.street.as_uuid()
        ),
    ] {
        expect_error(
            app.get(&path, &coordinator).await,
            StatusCode::BAD_REQUEST,
            "bad_parameter",
        )
        .await;
    }
}
