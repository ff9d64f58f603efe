//! Every resident write has a rate limit (issue #13: one resident filed 25
//! consultations and 15 mediation bookings in a row, all 201). For each
//! action of `domain::limits`, one resident does it as often as its
//! policy allows (whatever the handler then says), and once more: 429
//! `rate_limited`, with Retry-After and a message in Chinese. On the
//! production stack (Redis limiter) and the embedded one (in process).

use crate::hygiene::{instance, spec};
use reqwest::StatusCode;
use sansuo_domain::limits::ResidentAction;
use sansuo_tests::{Backend, TestApp, TestOptions};
use serde_json::Value;

/// The route each action is counted on (`ChangeCase` and the others with
/// several routes share one count; one route is enough to show it).
fn route(action: ResidentAction) -> &'static str {
    use ResidentAction as A;
    match action {
        A::AskQuestion => "/api/v1/consultations",
        A::ConsultationMessage => "/api/v1/consultations/{id}/messages",
        A::ChangeCase => "/api/v1/consultations/{id}/withdraw",
        A::RateService => "/api/v1/consultations/{id}/rating",
        A::BookMediation => "/api/v1/mediations",
        A::AnswerMediation => "/api/v1/mediations/{id}/visit-answer",
        A::MediationMessage => "/api/v1/mediations/{id}/messages",
        A::TipFollowUp => "/api/v1/tips/{id}/follow-ups",
        A::TipPhotos => "/api/v1/tips/{id}/photos",
        A::MeToo => "/api/v1/tips/{id}/me-too",
        A::BindPhone => "/api/v1/me/phone",
        A::Subscribe => "/api/v1/me/subscriptions",
        A::Urge => "/api/v1/consultations/{id}/urge",
        A::DeleteAccount => "/api/v1/me",
    }
}

async fn every_action_is_limited(backend: Backend) {
    let app = TestApp::spawn_with(TestOptions {
        backend,
        // The defaults of `domain::limits`, not the harness's allowance.
        env: vec![("SANSUO_RATE_LIMITS", String::new())],
        ..TestOptions::default()
    })
    .await;
    let resident = app.resident_token("eager").await;
    let spec = spec();
    let case = uuid::Uuid::now_v7().to_string();
    for action in ResidentAction::ALL {
        let template = route(*action);
        let path = template.replace("{id}", &case);
        // Deleting the account is the one DELETE; it is sent unconfirmed
        // (422 each time), so the resident survives to be limited.
        let deleting = *action == ResidentAction::DeleteAccount;
        let method = if deleting { "delete" } else { "post" };
        let operation = &spec["paths"][template][method];
        assert!(operation.is_object(), "{template} is in the spec");
        let body: Option<Value> = operation
            .pointer("/requestBody/content/application~1json/schema")
            .map(|schema| {
                let mut body = instance(&spec, schema, usize::MAX, &mut 0);
                if *action == ResidentAction::AskQuestion {
                    body["community_id"] = app.demo.community_a.as_uuid().to_string().into();
                    body["category_code"] = "LJ01".into();
                    body["question"] =
                        "楼上邻居装修噪音每天持续到晚上十点，我可以怎么维权？".into();
                }
                if deleting {
                    body["confirm"] = false.into();
                }
                body
            });
        let send = || {
            let request = if deleting {
                app.http.delete(app.url(&path))
            } else {
                app.http.post(app.url(&path))
            }
            .bearer_auth(&resident);
            match (&body, *action == ResidentAction::TipPhotos) {
                (_, true) => request.multipart(reqwest::multipart::Form::new().text("note", "x")),
                (Some(body), _) => request.json(body),
                (None, _) => request,
            }
            .send()
        };
        let policy = action.default_policy();
        for n in 0..policy.max {
            let response = send().await.unwrap();
            let status = response.status();
            assert!(
                status != StatusCode::TOO_MANY_REQUESTS && !status.is_server_error(),
                "{action} #{n}: {status} {}",
                response.text().await.unwrap()
            );
            if *action == ResidentAction::AskQuestion {
                assert_eq!(status, StatusCode::CREATED, "{action} #{n}");
            }
        }
        let response = send().await.unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "{action}");
        let wait: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            wait >= 1 && wait <= policy.window_seconds,
            "{action}: {wait}"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "rate_limited", "{action}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("操作太频繁"), "{action}: {message}");
    }
    // Per resident: another one may still ask.
    let other = app.resident_token("patient").await;
    app.submit(&other, "物业费涨价前没有开业主大会，合法吗？")
        .await;
}

#[tokio::test]
async fn every_resident_write_is_rate_limited_on_redis() {
    every_action_is_limited(Backend::Production).await;
}

#[tokio::test]
async fn every_resident_write_is_rate_limited_in_process() {
    every_action_is_limited(Backend::Embedded).await;
}
