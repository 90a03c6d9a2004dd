//! `GET /overrides/` and `GET /overrides/{nvr}`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Serialize;

use super::releases::resolve_packages;
use super::updates::{resolve_releases, resolve_users};
use super::{PageKeys, context, query, to_json};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::json::objects::OverrideJson;
use crate::json::overrides::OverrideGraph;
use crate::models::build::Build;
use crate::models::overrides::BuildrootOverride;
use crate::models::search::OverrideFilter;
use crate::services::accounts::CurrentUser;
use crate::services::overrides::{self, OverrideForm};
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

/// Reads the filters of `GET /overrides/`, checking names against the database.
pub fn read_filter(conn: &mut DbConnection, v: &mut Validator<'_>) -> AppResult<OverrideFilter> {
    let params = v.params();
    Ok(OverrideFilter {
        expired: v.query_bool("expired"),
        builds: params.contains("builds").then(|| v.list("builds")),
        packages: resolve_packages(conn, v, "packages")?
            .map(|rows| rows.into_iter().map(|(_, name)| name).collect()),
        release_ids: resolve_releases(conn, v, "releases")?
            .map(|releases| releases.into_iter().map(|r| r.id).collect()),
        like: v.string("like"),
        search: v.string("search"),
        submitter_ids: resolve_users(conn, v, "user")?,
    })
}

/// Reads the body of `POST /overrides/` (spec §3.6).
pub fn read_override_form(params: &crate::web::params::Params) -> AppResult<OverrideForm> {
    let mut v = Validator::new(params);
    let nvr = v.required_string("nvr");
    let notes = v.string("notes").unwrap_or_default();
    if notes.chars().count() < 2 {
        v.error("notes", "Shorter than minimum length 2");
    }
    let expiration_date = v.datetime("expiration_date");
    if !params.contains("expiration_date") {
        v.error("expiration_date", "Required");
    }
    let expired = v.body_bool("expired").unwrap_or(false);
    let edited = v.string("edited").filter(|e| !e.is_empty());
    v.finish()?;
    Ok(OverrideForm {
        nvrs: crate::web::params::split_values(nvr.as_deref()),
        notes,
        expiration_date: expiration_date.unwrap_or_default(),
        expired,
        edited,
    })
}

/// Saves the overrides of `form` as `user` (a packager).
pub async fn save_override(
    state: &web::Data<AppState>,
    user: CurrentUser,
    form: OverrideForm,
) -> AppResult<overrides::SavedOverrides> {
    super::write::require_any_group(&user, &state.settings.accounts.mandatory_packager_groups)?;
    let buildsys = state.buildsys.clone();
    super::write::apply(state, move |conn, ctx| {
        overrides::save(conn, ctx, buildsys.as_ref(), &user, &form)
    })
    .await
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
            let filter = read_filter(conn, &mut v)?;
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

#[actix_web::post("/overrides/")]
pub async fn save(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: crate::web::auth::Auth,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let params = super::write::body_params(&req, &body)?;
    let user = super::write::authorised(&auth, &params)?;
    let form = read_override_form(&params)?;
    let saved = save_override(&state, user, form).await?;
    let saved = (saved.overrides, saved.caveats);
    let app = state.clone();
    let body = state
        .db
        .run(move |conn| {
            let (rows, caveats) = saved;
            let single = rows.len() == 1;
            let graph = OverrideGraph::load(conn, rows)?;
            let mut ctx = context(&app);
            ctx.with_request = !single;
            let items: Vec<OverrideJson<'_>> = graph
                .overrides
                .iter()
                .filter_map(|o| graph.json(o, &ctx))
                .collect();
            let mut value = if single {
                serde_json::to_value(&items[0])
            } else {
                serde_json::to_value(serde_json::json!({ "overrides": items }))
            }
            .map_err(|e| AppError::Internal(format!("cannot serialise: {e}")))?;
            if let Some(map) = value.as_object_mut() {
                map.insert(
                    "caveats".into(),
                    serde_json::to_value(&caveats).unwrap_or_default(),
                );
            }
            to_json(&value)
        })
        .await?;
    Ok(respond::raw(&req, StatusCode::OK, body))
}
