//! Liveness, readiness, the API version and the metrics endpoint.

use actix_web::{HttpResponse, get, web};
use diesel::connection::SimpleConnection;
use serde_json::json;

use crate::state::AppState;

/// The Bodhi version whose API Pipal serves; clients compare against it.
pub const BODHI_API_VERSION: &str = "26.4.0";

#[get("/healthz/live")]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json("ok")
}

/// Ready when the database answers.
#[get("/healthz/ready")]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let checked = state
        .db
        .run(|conn| {
            conn.batch_execute("SELECT 1")
                .map_err(crate::error::AppError::from)
        })
        .await;
    match checked {
        Ok(()) => HttpResponse::Ok().json(json!({"db_session": true})),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            HttpResponse::ServiceUnavailable().json(json!({"db_session": false}))
        }
    }
}

#[get("/api_version")]
pub async fn api_version() -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "version": BODHI_API_VERSION,
        "pipal_version": env!("CARGO_PKG_VERSION"),
    }))
}

#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let mut text = state.metrics.render(state.db.usage());
    let db = state.db.clone();
    let counts = web::block(move || -> anyhow::Result<_> {
        let mut conn = db.conn()?;
        Ok(crate::models::outbox::OutboxEntry::counts(&mut conn)?)
    })
    .await;
    match counts {
        Ok(Ok(counts)) => text.push_str(&super::metrics::outbox_gauges(&counts)),
        Ok(Err(error)) => tracing::warn!(error = %format!("{error:#}"), "no outbox metrics"),
        Err(error) => tracing::warn!(%error, "no outbox metrics"),
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text)
}
