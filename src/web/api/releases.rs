//! `GET /releases/`, `GET /list_releases/` and `GET /releases/{name}`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use diesel::prelude::*;
use serde::Serialize;

use super::{PageKeys, query, to_json};
use crate::db::DbConnection;
use crate::db::schema::{packages, updates};
use crate::db::types::ReleaseState;
use crate::error::{AppError, AppResult};
use crate::json::ReleaseJson;
use crate::models::release::Release;
use crate::models::search::ReleaseFilter;
use crate::state::AppState;
use crate::web::params::{Params, Validator};
use crate::web::respond::{self, Page};

#[derive(Serialize)]
struct ReleaseList<'a> {
    releases: Vec<ReleaseJson<'a>>,
    #[serde(flatten)]
    keys: PageKeys,
}

/// Update ids for aliases; unknown aliases are reported as Bodhi does.
pub fn resolve_updates(
    conn: &mut DbConnection,
    v: &mut Validator<'_>,
    param: &str,
) -> AppResult<Option<Vec<i32>>> {
    if !v.params().contains(param) {
        return Ok(None);
    }
    let aliases = v.list(param);
    let rows: Vec<(i32, String)> = updates::table
        .filter(updates::alias.eq_any(&aliases))
        .select((updates::id, updates::alias))
        .load(conn)?;
    let bad: Vec<String> = aliases
        .iter()
        .filter(|a| !rows.iter().any(|(_, alias)| alias == *a))
        .cloned()
        .collect();
    if !bad.is_empty() {
        v.error(
            param,
            format!("Invalid updates specified: {}", bad.join(", ")),
        );
    }
    Ok(Some(rows.into_iter().map(|(id, _)| id).collect()))
}

/// Package ids for names; unknown names are reported as Bodhi does.
pub fn resolve_packages(
    conn: &mut DbConnection,
    v: &mut Validator<'_>,
    param: &str,
) -> AppResult<Option<Vec<(i32, String)>>> {
    if !v.params().contains(param) {
        return Ok(None);
    }
    let names = v.list(param);
    let rows: Vec<(i32, String)> = packages::table
        .filter(packages::name.eq_any(&names))
        .select((packages::id, packages::name))
        .load(conn)?;
    let bad: Vec<String> = names
        .iter()
        .filter(|n| !rows.iter().any(|(_, name)| name == *n))
        .cloned()
        .collect();
    if !bad.is_empty() {
        v.error(
            param,
            format!("Invalid packages specified: {}", bad.join(", ")),
        );
    }
    Ok(Some(rows))
}

fn list_releases(
    conn: &mut DbConnection,
    params: &Params,
    rules: &crate::config::RulesSettings,
) -> AppResult<String> {
    let mut v = Validator::new(params);
    let page = Page::read(&mut v);
    let ids = if params.contains("ids") {
        let mut ids = Vec::new();
        for raw in v.list("ids") {
            match raw.parse::<i32>() {
                Ok(id) => ids.push(id),
                Err(_) => v.error("ids", format!("\"{raw}\" is not a number")),
            }
        }
        Some(ids)
    } else {
        None
    };
    let filter = ReleaseFilter {
        ids,
        name: v.string("name"),
        update_ids: resolve_updates(conn, &mut v, "updates")?,
        package_ids: resolve_packages(conn, &mut v, "packages")?
            .map(|rows| rows.into_iter().map(|(id, _)| id).collect()),
        exclude_archived: v.query_bool("exclude_archived").unwrap_or(false),
        states: params
            .contains("state")
            .then(|| v.choices::<ReleaseState>("state")),
    };
    v.finish()?;
    let total = filter.count(conn)?;
    let releases = filter.page(conn, page.offset(), page.rows_per_page)?;
    to_json(&ReleaseList {
        releases: releases
            .iter()
            .map(|r| ReleaseJson::new(r, rules))
            .collect(),
        keys: PageKeys::new(&page, total),
    })
}

async fn releases_json(req: HttpRequest, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let params = query(&req);
    let app = state.clone();
    let body = state
        .db
        .run(move |conn| list_releases(conn, &params, &app.settings.rules))
        .await?;
    Ok(respond::raw(&req, StatusCode::OK, body))
}

#[get("/releases/")]
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    releases_json(req, state).await
}

#[get("/list_releases/")]
pub async fn list_alias(req: HttpRequest, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    releases_json(req, state).await
}

/// A release by name, long name or dist tag; `rawhide` is the pending release of the `FEDORA`
/// prefix on branch `rawhide`.
pub fn lookup(conn: &mut DbConnection, name: &str) -> AppResult<Release> {
    let found = if name.eq_ignore_ascii_case("rawhide") {
        Release::list(conn)?.into_iter().find(|r| {
            r.state == ReleaseState::Pending && r.id_prefix == "FEDORA" && r.branch == "rawhide"
        })
    } else {
        Release::get(conn, name)?
    };
    found.ok_or_else(|| AppError::not_found("body", "name", "No such release"))
}

#[get("/releases/{name}")]
pub async fn get(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let name = path.into_inner();
    let app = state.clone();
    let body = state
        .db
        .run(move |conn| {
            let release = lookup(conn, &name)?;
            to_json(&ReleaseJson::new(&release, &app.settings.rules))
        })
        .await?;
    Ok(respond::raw(&req, StatusCode::OK, body))
}
