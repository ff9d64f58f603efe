//! A second street beside the demo district's, built through the admin API
//! alone: street B with its own police station, one community (served by
//! that station, taking every service), a mediation room, and a
//! coordinator, lawyer, mediator and officer of its own. Scope tests name
//! its ids from street A's accounts (and the other way round).

use crate::{TestApp, expect_json};
use reqwest::StatusCode;
use sansuo_api::views::{DutyShiftView, OrgUnitView, RoomView, StaffProfileView};
use serde_json::{Value, json};
use uuid::Uuid;

/// The password of every street-B account.
pub const STREET_B_PASSWORD: &str = "street-b-password";

#[derive(Debug, Clone)]
pub struct StreetB {
    pub street: Uuid,
    pub station: Uuid,
    pub community: Uuid,
    pub room: Uuid,
    pub shift: Uuid,
    pub coordinator: Uuid,
    pub lawyer: Uuid,
    pub mediator: Uuid,
    pub officer: Uuid,
}

impl StreetB {
    pub const COORDINATOR: &'static str = "coordinator.b";
    pub const LAWYER: &'static str = "lawyer.b";
    pub const MEDIATOR: &'static str = "mediator.b";
    pub const OFFICER: &'static str = "officer.b";

    /// Build it as the district administrator.
    pub async fn build(app: &TestApp) -> Self {
        let admin = app.staff_token("admin").await;
        let district = app.demo.district.as_uuid();
        let unit = |body: Value| {
            let admin = admin.clone();
            async move {
                expect_json::<OrgUnitView>(
                    app.post("/api/v1/admin/org-units", &admin, body).await,
                    StatusCode::CREATED,
                )
                .await
                .id
            }
        };
        let street =
            unit(json!({"kind": "street", "parent_id": district, "name": "嘉兴路街道"})).await;
        let station =
            unit(json!({"kind": "police_station", "parent_id": district, "name": "嘉兴路派出所"}))
                .await;
        let community = unit(json!({
            "kind": "community", "parent_id": street, "station_id": station, "name": "新港居委",
            "scene": "hk-xg", "services": ["consultation", "mediation", "tip"]
        }))
        .await;
        let staff = |username: &'static str, role: &'static str, home: Uuid| {
            let admin = admin.clone();
            async move {
                let body = json!({
                    "username": username, "password": STREET_B_PASSWORD, "display_name": username,
                    "role": role, "org_unit_id": home,
                });
                expect_json::<StaffProfileView>(
                    app.post("/api/v1/admin/staff", &admin, body).await,
                    StatusCode::CREATED,
                )
                .await
                .id
            }
        };
        let coordinator = staff(Self::COORDINATOR, "coordinator", street).await;
        let lawyer = staff(Self::LAWYER, "lawyer", street).await;
        let mediator = staff(Self::MEDIATOR, "mediator", community).await;
        let officer = staff(Self::OFFICER, "officer", station).await;
        let room: RoomView = expect_json(
            app.post(
                "/api/v1/admin/rooms",
                &admin,
                json!({"org_unit_id": community, "name": "新港居委调解室"}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let now = chrono::Utc::now();
        let shift: DutyShiftView = expect_json(
            app.post(
                "/api/v1/admin/duty-shifts",
                &admin,
                json!({"org_unit_id": station, "staff_id": officer,
                       "starts_at": now - chrono::Duration::hours(1),
                       "ends_at": now + chrono::Duration::hours(20)}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        StreetB {
            street,
            station,
            community,
            room: room.id,
            shift: shift.id,
            coordinator,
            lawyer,
            mediator,
            officer,
        }
    }

    /// An access token of one of street B's accounts.
    pub async fn token(app: &TestApp, username: &str) -> String {
        let response = app
            .http
            .post(app.url("/api/v1/auth/staff"))
            .json(&json!({ "username": username, "password": STREET_B_PASSWORD }))
            .send()
            .await
            .unwrap();
        expect_json::<sansuo_api::views::TokenResponse>(response, StatusCode::OK)
            .await
            .access_token
    }
}
