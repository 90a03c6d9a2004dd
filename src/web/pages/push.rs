//! The admin push page (`/admin/push`), which Bodhi does not have: choose releases and
//! requests (or name updates), preview exactly which updates each compose would take and what
//! is left out and why, then start the push and watch it on the composes page. The preview
//! is the same plan `pipal push` and `POST /composes/` start.

use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;

use super::{Chrome, ok, see_other};
use crate::db::types::{ReleaseState, UpdateRequest};
use crate::error::{AppError, AppResult};
use crate::models::compose::Compose;
use crate::models::release::Release;
use crate::services::permissions;
use crate::services::push::{self, PushOptions, PushPlan};
use crate::state::AppState;
use crate::web::api::query;
use crate::web::auth::Auth;
use crate::web::params::split_values;

/// A release the form offers, and whether the query chose it.
pub struct ReleaseChoice {
    pub name: String,
    pub long_name: String,
    pub state: ReleaseState,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "admin/push.html")]
struct PushPage<'a> {
    chrome: &'a Chrome,
    releases: Vec<ReleaseChoice>,
    testing: bool,
    stable: bool,
    updates: String,
    /// The preview, once asked for.
    plan: Option<PushPlan>,
    /// The form fields that start exactly the previewed push.
    start_fields: Vec<(String, String)>,
    /// Composes already in flight: (release, request, state, failed).
    running: Vec<(String, UpdateRequest, String, bool)>,
    /// Whether one of them failed (and may be resumed).
    any_failed: bool,
}

#[get("/admin/push")]
pub async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
) -> AppResult<HttpResponse> {
    let chrome = Chrome::new(&req, &state, &auth);
    let Some(user) = &auth.user else {
        return Ok(see_other(&chrome.login_url()));
    };
    if !permissions::is_admin(user, &state.settings.accounts) {
        return Err(AppError::forbidden(
            "cookies",
            "user",
            format!(
                "{} may not push: pushing is for the groups {}.",
                user.name(),
                state.settings.accounts.admin_groups.join(", ")
            ),
        ));
    }
    let params = query(&req);
    let chosen: Vec<String> = params
        .all("releases")
        .into_iter()
        .map(str::to_owned)
        .collect();
    let requests: Vec<&str> = params.all("request");
    let testing = requests.contains(&"testing");
    let stable = requests.contains(&"stable");
    let updates = params.get("updates").unwrap_or_default().to_owned();
    let preview = params.contains("preview");

    let mut options = PushOptions {
        releases: chosen.clone(),
        updates: split_values([updates.as_str()]),
        ..PushOptions::default()
    };
    if testing {
        options.requests.push(UpdateRequest::Testing);
    }
    if stable {
        options.requests.push(UpdateRequest::Stable);
    }
    let mut start_fields: Vec<(String, String)> = chosen
        .iter()
        .map(|r| ("releases".to_owned(), r.clone()))
        .collect();
    start_fields.extend(
        options
            .requests
            .iter()
            .map(|r| ("request".to_owned(), r.as_str().to_owned())),
    );
    start_fields.extend(
        options
            .updates
            .iter()
            .map(|u| ("updates".to_owned(), u.clone())),
    );

    let app = state.clone();
    let (releases, plan, running) = state
        .db
        .run(move |conn| {
            let releases: Vec<ReleaseChoice> = Release::list(conn)?
                .into_iter()
                .filter(|r| r.composed_by_bodhi && r.state != ReleaseState::Archived)
                .map(|r| ReleaseChoice {
                    checked: chosen.contains(&r.name),
                    name: r.name,
                    long_name: r.long_name,
                    state: r.state,
                })
                .collect();
            let plan = if preview {
                Some(push::plan(conn, app.buildsys.as_ref(), &options)?)
            } else {
                None
            };
            let all = Release::list(conn)?;
            let running: Vec<(String, UpdateRequest, String, bool)> = Compose::list(conn)?
                .into_iter()
                .map(|c| {
                    let name = all
                        .iter()
                        .find(|r| r.id == c.release_id)
                        .map(|r| r.name.clone())
                        .unwrap_or_default();
                    (
                        name,
                        c.request,
                        c.state.description().to_owned(),
                        c.state == crate::db::types::ComposeState::Failed,
                    )
                })
                .collect();
            Ok::<_, AppError>((releases, plan, running))
        })
        .await?;
    Ok(ok(
        &chrome,
        &PushPage {
            chrome: &chrome,
            releases,
            testing,
            stable,
            updates,
            plan,
            start_fields,
            any_failed: running.iter().any(|r| r.3),
            running,
        },
    ))
}
