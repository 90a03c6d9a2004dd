//! The composes for browsers: the list (`/composes/`, composes in flight and the latest
//! finished ones), one compose (`/composes/{release}/{request}`: its state, a timeline of its
//! steps, its updates, its error and, for admins, resume), all read from the database rows
//! the masher keeps, so any web node shows the same live state.

use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;

use super::view::{age, date};
use super::{Chrome, ok};
use crate::db::DbConnection;
use crate::db::types::{ComposeState, UpdateRequest};
use crate::error::{AppError, AppResult};
use crate::json::composes::ComposeGraph;
use crate::masher::work::{state_timings, steps, timings_of};
use crate::models::compose::{Compose, ComposeRecord};
use crate::models::now;
use crate::models::release::Release;
use crate::state::AppState;
use crate::web::auth::Auth;

/// What a step does, in words, by checkpoint name.
fn step_label(step: &str) -> &'static str {
    match step {
        "perform_gating" => "Check test gating, eject failing updates",
        "determine_and_perform_tag_actions" => "Move the builds between tags",
        "remove_pending_tags" => "Remove the pending tags",
        "completed_repo" => "Write the repositories",
        "compose_done" => "Publish the repositories",
        "mark_status_changes" => "Change the updates' statuses",
        "status_comments" => "Comment on the updates",
        "send_notices" => "Send announcements and digests",
        "unlock_updates" => "Unlock the updates",
        "thresholds_and_obsoleting" => "Karma thresholds and obsoleting",
        _ => "Other work",
    }
}

/// An update a compose holds.
pub struct Member {
    pub alias: String,
    pub title: String,
}

/// A compose in flight.
pub struct LiveCompose {
    pub release: String,
    pub request: UpdateRequest,
    pub url: String,
    pub content_type: String,
    pub security: bool,
    pub state: ComposeState,
    pub failed: bool,
    pub age: String,
    pub state_age: String,
    pub created: String,
    pub state_date: String,
    pub steps_done: usize,
    pub steps_total: usize,
    pub error: Option<String>,
    pub attempts: i32,
    pub updates: Vec<Member>,
}

/// A finished compose, from the history.
pub struct FinishedCompose {
    pub release: String,
    pub request: UpdateRequest,
    pub success: bool,
    pub content_type: String,
    pub security: bool,
    pub finished: String,
    pub finished_age: String,
    pub duration: String,
    pub error: Option<String>,
    pub updates: Vec<Member>,
    pub timings: Vec<(&'static str, String)>,
}

/// A step of the timeline.
pub struct Step {
    pub label: &'static str,
    pub done: bool,
    pub current: bool,
}

fn seconds(total: f64) -> String {
    if total < 60.0 {
        format!("{total:.1} s")
    } else {
        format!("{} min {:.0} s", (total / 60.0).floor(), total % 60.0)
    }
}

fn live_composes(conn: &mut DbConnection, state: &AppState) -> AppResult<Vec<LiveCompose>> {
    let composes = Compose::list(conn)?;
    let graph = ComposeGraph::load(conn, composes)?;
    let base = state.settings.base_address();
    let now = now();
    Ok(graph
        .composes
        .iter()
        .filter_map(|c| {
            let json = graph.json(c, &state.settings.rules)?;
            let steps = steps(c);
            Some(LiveCompose {
                release: json.release.name.to_owned(),
                request: c.request,
                url: format!("{base}composes/{}/{}", json.release.name, c.request),
                content_type: json
                    .content_type
                    .map(|t| t.as_str().to_owned())
                    .unwrap_or_default(),
                security: json.security,
                state: c.state,
                failed: c.state == ComposeState::Failed,
                age: age(c.date_created, now),
                state_age: age(c.state_date, now),
                created: date(c.date_created),
                state_date: date(c.state_date),
                steps_done: steps.iter().filter(|(_, done)| *done).count(),
                steps_total: steps.len(),
                error: c.error_message.clone(),
                attempts: c.attempts,
                updates: json
                    .update_summary
                    .into_iter()
                    .map(|u| Member {
                        alias: u.alias,
                        title: u.title,
                    })
                    .collect(),
            })
        })
        .collect())
}

fn members(summary: &str) -> Vec<Member> {
    let Ok(serde_json::Value::Array(items)) = serde_json::from_str(summary) else {
        return Vec::new();
    };
    items
        .iter()
        .map(|item| Member {
            alias: item["alias"].as_str().unwrap_or_default().to_owned(),
            title: item["title"].as_str().unwrap_or_default().to_owned(),
        })
        .collect()
}

fn finished(records: Vec<ComposeRecord>, releases: &[Release]) -> Vec<FinishedCompose> {
    let now = now();
    records
        .into_iter()
        .map(|r| {
            let timings = state_timings(&r.timings);
            let total: f64 = timings.iter().map(|(_, s)| s).sum();
            FinishedCompose {
                release: releases
                    .iter()
                    .find(|rel| rel.id == r.release_id)
                    .map(|rel| rel.name.clone())
                    .unwrap_or_default(),
                request: r.request,
                success: r.final_state == crate::db::types::ComposeOutcome::Success,
                content_type: r
                    .content_type
                    .map(|t| t.as_str().to_owned())
                    .unwrap_or_default(),
                security: r.security,
                finished: date(r.date_finished),
                finished_age: age(r.date_finished, now),
                duration: seconds(total),
                error: r.error_message,
                updates: members(&r.update_summary),
                timings: timings
                    .into_iter()
                    .map(|(state, s)| (state.description(), seconds(s)))
                    .collect(),
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "composes/list.html")]
struct ComposesPage<'a> {
    chrome: &'a Chrome,
    live: Vec<LiveCompose>,
    history: Vec<FinishedCompose>,
}

#[get("/composes/", guard = "super::accepts_html")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
) -> AppResult<HttpResponse> {
    let chrome = Chrome::new(&req, &state, &auth);
    let app = state.clone();
    let (live, history) = state
        .db
        .run(move |conn| {
            let live = live_composes(conn, &app)?;
            let history = finished(ComposeRecord::recent(conn, 20)?, &Release::list(conn)?);
            Ok::<_, AppError>((live, history))
        })
        .await?;
    Ok(ok(
        &chrome,
        &ComposesPage {
            chrome: &chrome,
            live,
            history,
        },
    ))
}

/// One compose: the live row if it is in flight, and the last finished one.
pub struct ComposeView {
    pub release: String,
    pub request: UpdateRequest,
    pub live: Option<LiveCompose>,
    pub steps: Vec<Step>,
    pub timings: Vec<(&'static str, String)>,
    /// The latest finished compose of this release and request.
    pub last: Option<FinishedCompose>,
}

#[derive(Template)]
#[template(path = "composes/show.html")]
struct ComposePage<'a> {
    chrome: &'a Chrome,
    c: ComposeView,
}

fn compose_view(
    conn: &mut DbConnection,
    state: &AppState,
    release_name: &str,
    request: &str,
) -> AppResult<ComposeView> {
    let missing = || {
        AppError::not_found(
            "url",
            "compose",
            format!("There is no compose {release_name} {request}."),
        )
    };
    let release = Release::by_name(conn, release_name)?.ok_or_else(missing)?;
    let request: UpdateRequest = request.parse().map_err(|_| missing())?;
    let (steps, timings) = match Compose::find(conn, release.id, request)? {
        Some(c) => {
            let done = steps(&c);
            let first_open = done.iter().position(|(_, done)| !done);
            let steps = done
                .iter()
                .enumerate()
                .map(|(i, (name, done))| Step {
                    label: step_label(name),
                    done: *done,
                    current: Some(i) == first_open && c.state != ComposeState::Requested,
                })
                .collect();
            let timings = state_timings(&timings_of(&c))
                .into_iter()
                .map(|(s, secs)| (s.description(), seconds(secs)))
                .collect();
            (steps, timings)
        }
        None => (Vec::new(), Vec::new()),
    };
    let live = live_composes(conn, state)?
        .into_iter()
        .find(|l| l.release == release.name && l.request == request);
    let last = finished(
        ComposeRecord::recent(conn, 50)?
            .into_iter()
            .filter(|r| r.release_id == release.id && r.request == request)
            .take(1)
            .collect(),
        std::slice::from_ref(&release),
    )
    .pop();
    if live.is_none() && last.is_none() {
        return Err(missing());
    }
    Ok(ComposeView {
        release: release.name,
        request,
        live,
        steps,
        timings,
        last,
    })
}

#[get("/composes/{release}/{request}", guard = "super::accepts_html")]
pub async fn show(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
    auth: Auth,
) -> AppResult<HttpResponse> {
    let (release_name, request) = path.into_inner();
    let chrome = Chrome::new(&req, &state, &auth);
    let app = state.clone();
    let view = state
        .db
        .run(move |conn| compose_view(conn, &app, &release_name, &request))
        .await?;
    Ok(ok(
        &chrome,
        &ComposePage {
            chrome: &chrome,
            c: view,
        },
    ))
}
