//! Liveness (the process answers) and readiness (its backends answer), for load balancers
//! and orchestrators.

use crate::state::AppState;
use actix_web::{HttpResponse, web};
use serde_json::json;

/// GET /healthz
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// GET /readyz: 200 when the database and the session store both answer, 503 otherwise.
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let db = state.provider.durable.ping().await;
    let sessions = state.provider.ephemeral.ping().await;
    let body = json!({
        "database": if db.is_ok() { "ok" } else { "unavailable" },
        "sessions": if sessions.is_ok() { "ok" } else { "unavailable" },
    });
    if db.is_ok() && sessions.is_ok() {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
