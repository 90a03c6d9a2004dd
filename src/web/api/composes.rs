//! `GET /composes/` and `GET /composes/{release}/{request}`, and `POST /composes/`, which
//! starts a push as `pipal push` does (release engineers and admins only).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Serialize;

use super::to_json;
use crate::db::types::UpdateRequest;
use crate::error::{AppError, AppResult};
use crate::json::composes::ComposeGraph;
use crate::json::objects::ComposeJson;
use crate::models::compose::Compose;
use crate::models::release::Release;
use crate::state::AppState;
use crate::web::respond;

#[derive(Serialize)]
struct ComposeList<'a> {
    composes: Vec<ComposeJson<'a>>,
}

#[derive(Serialize)]
struct OneCompose<'a> {
    compose: ComposeJson<'a>,
}

#[get("/composes/")]
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let app = state.clone();
    let body = state
        .db
        .run(move |conn| {
            let composes = Compose::list(conn)?;
            let graph = ComposeGraph::load(conn, composes)?;
            to_json(&ComposeList {
                composes: graph
                    .composes
                    .iter()
                    .filter_map(|c| graph.json(c, &app.settings.rules))
                    .collect(),
            })
        })
        .await?;
    Ok(respond::raw(&req, StatusCode::OK, body))
}

#[get("/composes/{release_name}/{request}")]
pub async fn get(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let (release_name, request) = path.into_inner();
    let app = state.clone();
    let body = state
        .db
        .run(move |conn| {
            let missing = || AppError::not_found("url", "compose", "No such compose");
            let release = Release::by_name(conn, &release_name)?.ok_or_else(missing)?;
            let request: UpdateRequest = request.parse().map_err(|_| missing())?;
            let compose = Compose::find(conn, release.id, request)?.ok_or_else(missing)?;
            let graph = ComposeGraph::load(conn, vec![compose])?;
            let json = graph
                .json(&graph.composes[0], &app.settings.rules)
                .ok_or_else(|| AppError::Internal("cannot serialise the compose".into()))?;
            to_json(&OneCompose { compose: json })
        })
        .await?;
    Ok(respond::raw(&req, StatusCode::OK, body))
}

#[derive(Serialize)]
struct Started<'a> {
    composes: Vec<ComposeJson<'a>>,
    warnings: Vec<String>,
}

/// Starts composes: `releases`, `request` (default `testing,stable`), `updates` or `builds`
/// as `pipal push` takes them, or `resume: true` to resume the failed composes.
#[actix_web::post("/composes/")]
pub async fn start(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: crate::web::auth::Auth,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    use crate::services::push::{self, PushOptions, PushPlan};
    let params = super::write::body_params(&req, &body)?;
    let user = super::write::authorised(&auth, &params)?;
    super::write::require_any_group(&user, &state.settings.accounts.admin_groups)?;
    let mut v = crate::web::params::Validator::new(&params);
    let mut requests = Vec::new();
    for request in v.list("request") {
        match request.parse::<UpdateRequest>() {
            Ok(r @ (UpdateRequest::Testing | UpdateRequest::Stable)) => requests.push(r),
            _ => v.error("request", format!("{request} is not testing or stable")),
        }
    }
    let options = PushOptions {
        releases: v.list("releases"),
        requests,
        updates: v.list("updates"),
        builds: v.list("builds"),
    };
    let resume = v.body_bool("resume").unwrap_or(false);
    v.finish()?;
    let buildsys = state.buildsys.clone();
    let (started, warnings) = super::write::apply(&state, move |conn, ctx| {
        if resume {
            return Ok((push::resume_failed(conn, ctx.now)?, Vec::new()));
        }
        let plan: PushPlan = push::plan(conn, buildsys.as_ref(), &options)?;
        Ok((push::start(conn, &plan, ctx.now)?, plan.warnings))
    })
    .await?;
    if crate::web::session::wants_html(&req) {
        // The admin push page: on to the composes, to watch them.
        let location = format!("{}composes/", state.settings.base_address());
        return Ok(crate::web::pages::see_other(&location));
    }
    let app = state.clone();
    let body = state
        .db
        .run(move |conn| {
            let ids: Vec<i32> = started.iter().map(|c| c.id).collect();
            let composes: Vec<Compose> = Compose::list(conn)?
                .into_iter()
                .filter(|c| ids.contains(&c.id))
                .collect();
            let graph = ComposeGraph::load(conn, composes)?;
            to_json(&Started {
                composes: graph
                    .composes
                    .iter()
                    .filter_map(|c| graph.json(c, &app.settings.rules))
                    .collect(),
                warnings,
            })
        })
        .await?;
    Ok(respond::raw(&req, StatusCode::OK, body))
}
