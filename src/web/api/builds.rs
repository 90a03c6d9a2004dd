//! `GET /builds/` and `GET /builds/{nvr}`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Serialize;

use super::releases::{resolve_packages, resolve_updates};
use super::updates::resolve_releases;
use super::{PageKeys, query, to_json};
use crate::error::{AppError, AppResult};
use crate::json::UpdateGraph;
use crate::json::objects::BuildJson;
use crate::models::build::Build;
use crate::models::search::BuildFilter;
use crate::state::AppState;
use crate::web::params::Validator;
use crate::web::respond::{self, Page};

#[derive(Serialize)]
struct BuildList<'a> {
    builds: Vec<BuildJson<'a>>,
    #[serde(flatten)]
    keys: PageKeys,
}

#[get("/builds/")]
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let params = query(&req);
    let body = state
        .db
        .run(move |conn| {
            let mut v = Validator::new(&params);
            let page = Page::read(&mut v);
            let filter = BuildFilter {
                nvr: v.string("nvr"),
                update_ids: resolve_updates(conn, &mut v, "updates")?,
                package_ids: resolve_packages(conn, &mut v, "packages")?
                    .map(|rows| rows.into_iter().map(|(id, _)| id).collect()),
                release_ids: resolve_releases(conn, &mut v, "releases")?
                    .map(|releases| releases.into_iter().map(|r| r.id).collect()),
            };
            v.finish()?;
            let total = filter.count(conn)?;
            let builds = filter.page(conn, page.offset(), page.rows_per_page)?;
            to_json(&BuildList {
                builds: builds.iter().map(UpdateGraph::build_json).collect(),
                keys: PageKeys::new(&page, total),
            })
        })
        .await?;
    Ok(respond::raw(&req, StatusCode::OK, body))
}

#[get("/builds/{nvr}")]
pub async fn get(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let nvr = path.into_inner();
    let body = state
        .db
        .run(move |conn| {
            let build = Build::by_nvr(conn, &nvr)?
                .ok_or_else(|| AppError::not_found("body", "nvr", "No such build"))?;
            to_json(&UpdateGraph::build_json(&build))
        })
        .await?;
    Ok(respond::raw(&req, StatusCode::OK, body))
}
