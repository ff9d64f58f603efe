use crate::AppState;
use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// `ok` or `unavailable`
    pub database: &'static str,
    /// `ok` or `unavailable`
    pub queue: &'static str,
}

/// The process is up.
#[utoipa::path(tag = "health", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> web::Json<Health> {
    web::Json(Health { status: "ok" })
}

/// The database and the queue answer: send traffic here.
#[utoipa::path(tag = "health", responses(
    (status = 200, body = Readiness),
    (status = 503, body = Readiness, description = "The database or the queue is unreachable"),
))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let (db, queue) = tokio::join!(state.store.ping(), state.queue.ping());
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    let body = Readiness {
        database: word(db.is_ok()),
        queue: word(queue.is_ok()),
    };
    if db.is_ok() && queue.is_ok() {
        HttpResponse::Ok().json(body)
    } else {
        if let Err(e) = &db {
            tracing::warn!(error = %e, "readiness: database unavailable");
        }
        if let Err(e) = &queue {
            tracing::warn!(error = %e, "readiness: queue unavailable");
        }
        HttpResponse::ServiceUnavailable().json(body)
    }
}
