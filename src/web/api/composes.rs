//! `GET /composes/` and `GET /composes/{release}/{request}` (read only; pushes are started
//! with `pipal push` or `POST /composes/`).

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
