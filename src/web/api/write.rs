//! What every write endpoint shares: reading the body, requiring a user (and a group),
//! checking CSRF, running the change in one transaction, then the build system jobs it
//! enqueued.

use actix_web::http::header;
use actix_web::{HttpRequest, web};

use crate::db::write_transaction;
use crate::error::{AppError, AppResult};
use crate::services::accounts::CurrentUser;
use crate::services::updates::Ctx;
use crate::state::AppState;
use crate::web::auth::Auth;
use crate::web::params::Params;
use crate::worker::Worker;

/// The body of a POST (JSON, or form-encoded), whatever Content-Type says.
pub fn body_params(req: &HttpRequest, body: &[u8]) -> AppResult<Params> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    Params::from_body(content_type, body)
}

/// The authenticated user with a valid CSRF token (or an API token).
pub fn authorised(auth: &Auth, params: &Params) -> AppResult<CurrentUser> {
    let user = auth.require()?.clone();
    auth.check_csrf(params)?;
    Ok(user)
}

/// Refuses users outside every one of `groups` (Bodhi's ACL factories), with 403.
pub fn require_any_group(user: &CurrentUser, groups: &[String]) -> AppResult<()> {
    if user.in_any(groups) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "cookies",
            "user",
            format!(
                "{} is not in any of the groups that may do this: {}",
                user.name(),
                groups.join(", ")
            ),
        ))
    }
}

/// Runs `change` in one write transaction with a fresh [`Ctx`], then the build system jobs it
/// enqueued (a job that fails stays queued for the worker to retry).
pub async fn apply<T, F>(state: &web::Data<AppState>, change: F) -> AppResult<T>
where
    F: FnOnce(&mut crate::db::DbConnection, &mut Ctx<'_>) -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    let app = state.clone();
    let (value, jobs) = state
        .db
        .run(move |conn| {
            let mut ctx = Ctx::new(&app.settings, crate::models::now());
            let value = write_transaction(conn, |conn| change(conn, &mut ctx))?;
            Ok((value, ctx.jobs))
        })
        .await?;
    run_jobs(state, jobs).await;
    Ok(value)
}

/// Runs enqueued jobs now, on the blocking pool; failures are left to the worker.
pub async fn run_jobs(state: &web::Data<AppState>, jobs: Vec<i32>) {
    if jobs.is_empty() {
        return;
    }
    let app = state.get_ref().clone();
    let result =
        tokio::task::spawn_blocking(move || Worker::with_all_handlers(app).run_now(&jobs)).await;
    match result {
        Ok(Ok(_)) => {}
        Ok(Err(error)) => {
            tracing::warn!(error = %format!("{error:#}"), "a job will be retried by the worker")
        }
        Err(error) => tracing::error!(%error, "a job task failed"),
    }
}
