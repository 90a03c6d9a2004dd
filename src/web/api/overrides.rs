//! `GET /overrides/` and `GET /overrides/{nvr}`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Serialize;

use super::releases::resolve_packages;
use super::updates::{resolve_releases, resolve_users};
use super::{PageKeys, context, query, to_json};
use crate::error::{AppError, AppResult};
use crate::json::objects::OverrideJson;
use crate::json::overrides::OverrideGraph;
use crate::models::build::Build;
use crate::models::overrides::BuildrootOverride;
use crate::models::search::OverrideFilter;
use crate::state::AppState;
use crate::web::params::Validator;
use crate::web::respond::{self, Page};

#[derive(Serialize)]
struct OverrideList<'a> {
    overrides: Vec<OverrideJson<'a>>,
    #[serde(flatten)]
    keys: PageKeys,
    chrome: bool,
    display_user: Option<bool>,
}

#[get("/overrides/")]
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let params = query(&req);
    let app = state.clone();
    let body = state
        .db
        .run(move |conn| {
            let mut v = Validator::new(&params);
            let page = Page::read(&mut v);
            let filter = OverrideFilter {
                expired: v.query_bool("expired"),
                builds: params.contains("builds").then(|| v.list("builds")),
                packages: resolve_packages(conn, &mut v, "packages")?
                    .map(|rows| rows.into_iter().map(|(_, name)| name).collect()),
                release_ids: resolve_releases(conn, &mut v, "releases")?
                    .map(|releases| releases.into_iter().map(|r| r.id).collect()),
                like: v.string("like"),
                search: v.string("search"),
                submitter_ids: resolve_users(conn, &mut v, "user")?,
            };
            let display_user = v.query_bool("display_user");
            v.finish()?;
            let total = filter.count(conn)?;
            let overrides = filter.page(conn, page.offset(), page.rows_per_page)?;
            let graph = OverrideGraph::load(conn, overrides)?;
            let ctx = context(&app);
            to_json(&OverrideList {
                overrides: graph
                    .overrides
                    .iter()
                    .filter_map(|o| graph.json(o, &ctx))
                    .collect(),
                keys: PageKeys::new(&page, total),
                chrome: page.chrome,
                display_user,
            })
        })
        .await?;
    Ok(respond::raw(&req, StatusCode::OK, body))
}

#[derive(Serialize)]
struct OneOverride<'a> {
    #[serde(rename = "override")]
    buildroot_override: OverrideJson<'a>,
}

#[get("/overrides/{nvr}")]
pub async fn get(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let nvr = path.into_inner();
    let app = state.clone();
    let body = state
        .db
        .run(move |conn| {
            let build = Build::by_nvr(conn, &nvr)?
                .ok_or_else(|| AppError::not_found("url", "nvr", "No such build"))?;
            let found = BuildrootOverride::for_build(conn, build.id)?.ok_or_else(|| {
                AppError::not_found("url", "nvr", "No buildroot override for this build")
            })?;
            let graph = OverrideGraph::load(conn, vec![found])?;
            let ctx = context(&app);
            let json = graph
                .json(&graph.overrides[0], &ctx)
                .ok_or_else(|| AppError::Internal("cannot serialise the override".into()))?;
            to_json(&OneOverride {
                buildroot_override: json,
            })
        })
        .await?;
    Ok(respond::raw(&req, StatusCode::OK, body))
}
