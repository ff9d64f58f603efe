//! Logging in the way real clients do: residents through (fake) WeChat,
//! staff with username and password. The benchmark then holds one access
//! token per account (tokens live 15 minutes, longer than any run).

use crate::seed::{BENCH_PASSWORD, District, RESIDENT_OPENID_PREFIX};
use anyhow::{Context, bail};
use futures::{StreamExt, TryStreamExt, stream};
use sansuo_wechat_fake::FakeWechat;
use serde_json::{Value, json};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct Resident {
    pub openid: String,
    pub token: String,
}

#[derive(Debug, Clone)]
pub struct LawyerSession {
    pub id: Uuid,
    pub username: String,
    pub token: String,
}

pub struct Accounts {
    pub residents: Vec<Resident>,
    pub lawyers: Vec<LawyerSession>,
    pub probe_resident: Resident,
    pub probe_lawyer: LawyerSession,
}

/// An HTTP client and the server's base URL.
#[derive(Clone)]
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
}

impl Api {
    pub fn new(base: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            // Keep-alive connections, as many as the concurrency needs.
            .pool_max_idle_per_host(usize::MAX)
            // Below actix-web's 5 s keep-alive: a connection the server is
            // closing must not be picked for the next request (that race
            // shows up as a `transport:other` error that is nobody's fault).
            .pool_idle_timeout(std::time::Duration::from_secs(4))
            .tcp_nodelay(true)
            .timeout(std::time::Duration::from_secs(30))
            .build()?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn post_json(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let response = self.http.post(self.url(path)).json(&body).send().await?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            bail!("POST {path}: {status}: {text}");
        }
        Ok(serde_json::from_str(&text)?)
    }

    /// The categories each service takes, as a client reads them
    /// (`GET /categories`): the server's default catalogue
    /// (`data/categories.json`). Urgent categories are left out: they are
    /// refused by design ("call 110 now").
    pub async fn catalog(&self) -> anyhow::Result<Catalog> {
        let body: Value = self
            .http
            .get(self.url("/api/v1/categories"))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let items = body["items"]
            .as_array()
            .context("categories response has items")?
            .clone();
        let takes = |c: &Value, service: &str| {
            c["urgent"] != true
                && c["services"]
                    .as_array()
                    .is_some_and(|s| s.iter().any(|s| s == service))
        };
        let codes = |service: &str| -> Vec<String> {
            items
                .iter()
                .filter(|c| takes(c, service))
                .filter_map(|c| c["code"].as_str().map(str::to_owned))
                .collect()
        };
        let catalog = Catalog {
            consultation: codes("consultation"),
            mediation: codes("mediation"),
            tip: items
                .iter()
                .filter(|c| takes(c, "tip"))
                .filter_map(|c| {
                    Some((
                        c["code"].as_str()?.to_owned(),
                        c["anonymous_allowed"] == true,
                    ))
                })
                .collect(),
        };
        if catalog.consultation.is_empty() || catalog.mediation.is_empty() || catalog.tip.is_empty()
        {
            bail!("the catalogue has no category for one of the services");
        }
        Ok(catalog)
    }
}

/// Category codes per service.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub consultation: Vec<String>,
    pub mediation: Vec<String>,
    /// (code, anonymous allowed)
    pub tip: Vec<(String, bool)>,
}

pub async fn resident_login(
    api: &Api,
    wechat: &FakeWechat,
    openid: String,
) -> anyhow::Result<Resident> {
    let code = format!("code-{}", Uuid::now_v7().simple());
    wechat.accept_code(&code, &openid).await;
    let body = api
        .post_json("/api/v1/auth/wechat", json!({ "code": code }))
        .await?;
    Ok(Resident {
        openid,
        token: body["access_token"]
            .as_str()
            .context("access_token")?
            .to_owned(),
    })
}

pub async fn staff_login(api: &Api, id: Uuid, username: String) -> anyhow::Result<LawyerSession> {
    let body = api
        .post_json(
            "/api/v1/auth/staff",
            json!({ "username": username, "password": BENCH_PASSWORD }),
        )
        .await?;
    Ok(LawyerSession {
        id,
        username,
        token: body["access_token"]
            .as_str()
            .context("access_token")?
            .to_owned(),
    })
}

pub async fn log_in(
    api: &Api,
    wechat: &FakeWechat,
    district: &District,
    residents: usize,
) -> anyhow::Result<Accounts> {
    let residents: Vec<Resident> = stream::iter(0..residents)
        .map(|n| resident_login(api, wechat, format!("{RESIDENT_OPENID_PREFIX}{n:06}")))
        .buffer_unordered(16)
        .try_collect()
        .await
        .context("resident login")?;
    // Argon2 verification is the server's slowest operation by design:
    // a few at a time is all two cores can do anyway.
    let lawyers: Vec<LawyerSession> = stream::iter(district.lawyers.iter())
        .map(|l| staff_login(api, l.id.as_uuid(), l.username.clone()))
        .buffer_unordered(4)
        .try_collect()
        .await
        .context("lawyer login")?;
    let probe_resident = resident_login(api, wechat, "bench-probe-resident".into()).await?;
    let probe_lawyer = staff_login(
        api,
        district.probe_lawyer.id.as_uuid(),
        district.probe_lawyer.username.clone(),
    )
    .await?;
    Ok(Accounts {
        residents,
        lawyers,
        probe_resident,
        probe_lawyer,
    })
}
