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
use crate::models::release::{NewRelease, Release};
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

/// Reads the body of `POST /releases/` into a release (Bodhi's `SaveReleaseSchema`).
fn read_release(params: &Params) -> AppResult<(NewRelease, Option<String>)> {
    use crate::db::types::PackageManager;
    let mut v = Validator::new(params);
    let required = |v: &mut Validator<'_>, name: &str| v.required_string(name).unwrap_or_default();
    let name = required(&mut v, "name");
    let long_name = required(&mut v, "long_name");
    let branch = required(&mut v, "branch");
    let id_prefix = required(&mut v, "id_prefix");
    let dist_tag = required(&mut v, "dist_tag");
    let stable_tag = required(&mut v, "stable_tag");
    let testing_tag = required(&mut v, "testing_tag");
    let candidate_tag = required(&mut v, "candidate_tag");
    let date = |v: &mut Validator<'_>, name: &str| {
        v.string(name)
            .filter(|s| !s.is_empty() && s != "None")
            .and_then(|raw| match crate::web::params::parse_datetime(&raw) {
                Some(t) => Some(t.date()),
                None => {
                    v.error(name, "Invalid date");
                    None
                }
            })
    };
    let eol = date(&mut v, "eol");
    let released_on = date(&mut v, "released_on");
    let optional = |v: &mut Validator<'_>, name: &str| v.string(name).unwrap_or_default();
    let release = NewRelease {
        version: v.string("version").unwrap_or_default(),
        pending_signing_tag: optional(&mut v, "pending_signing_tag"),
        pending_testing_tag: optional(&mut v, "pending_testing_tag"),
        pending_stable_tag: optional(&mut v, "pending_stable_tag"),
        override_tag: optional(&mut v, "override_tag"),
        state: v
            .choice::<ReleaseState>("state")
            .unwrap_or(ReleaseState::Disabled),
        mail_template: v
            .string("mail_template")
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "fedora_errata_template".into()),
        composed_by_bodhi: v.body_bool("composed_by_bodhi").unwrap_or(true),
        create_automatic_updates: v.body_bool("create_automatic_updates").unwrap_or(false),
        package_manager: v
            .choice::<PackageManager>("package_manager")
            .unwrap_or(PackageManager::Unspecified),
        testing_repository: v
            .string("testing_repository")
            .filter(|t| !t.is_empty() && t != "None"),
        eol,
        released_on,
        setting_status: None,
        min_karma: None,
        critpath_min_karma: None,
        mandatory_days_in_testing: None,
        critpath_mandatory_days_in_testing: None,
        announce_list: None,
        test_announce_list: None,
        name,
        long_name,
        branch,
        id_prefix,
        dist_tag,
        stable_tag,
        testing_tag,
        candidate_tag,
    };
    let edited = v.string("edited").filter(|e| !e.is_empty());
    v.finish()?;
    Ok((release, edited))
}

#[actix_web::post("/releases/")]
pub async fn save(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: crate::web::auth::Auth,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    use crate::models::release::ReleaseChanges;
    use crate::services::releases as release_service;
    let params = super::write::body_params(&req, &body)?;
    let user = super::write::authorised(&auth, &params)?;
    super::write::require_any_group(&user, &state.settings.accounts.admin_groups)?;
    let (release, edited) = read_release(&params)?;
    let buildsys = state.buildsys.clone();
    let app = state.clone();
    let saved = super::write::apply(&state, move |conn, ctx| {
        release_service::check_tags_exist(buildsys.as_ref(), &release)?;
        let wrap = |e: AppError| match e {
            AppError::Invalid(_) | AppError::NotFound(_) => e,
            other => AppError::invalid(
                "body",
                "release",
                format!("Unable to create/edit release: {other}"),
            ),
        };
        match edited {
            None => release_service::create(conn, &release).map_err(wrap),
            Some(name) => {
                let changes = ReleaseChanges {
                    name: Some(release.name.clone()),
                    long_name: Some(release.long_name.clone()),
                    version: Some(release.version.clone()),
                    id_prefix: Some(release.id_prefix.clone()),
                    branch: Some(release.branch.clone()),
                    dist_tag: Some(release.dist_tag.clone()),
                    stable_tag: Some(release.stable_tag.clone()),
                    testing_tag: Some(release.testing_tag.clone()),
                    candidate_tag: Some(release.candidate_tag.clone()),
                    pending_signing_tag: Some(release.pending_signing_tag.clone()),
                    pending_testing_tag: Some(release.pending_testing_tag.clone()),
                    pending_stable_tag: Some(release.pending_stable_tag.clone()),
                    override_tag: Some(release.override_tag.clone()),
                    mail_template: Some(release.mail_template.clone()),
                    state: Some(release.state),
                    composed_by_bodhi: Some(release.composed_by_bodhi),
                    create_automatic_updates: Some(release.create_automatic_updates),
                    package_manager: Some(release.package_manager),
                    testing_repository: Some(release.testing_repository.clone()),
                    released_on: Some(release.released_on),
                    eol: Some(release.eol),
                    ..ReleaseChanges::default()
                };
                release_service::edit(conn, ctx, &name, &changes).map_err(wrap)
            }
        }
    })
    .await?;
    let body = to_json(&ReleaseJson::new(&saved, &app.settings.rules))?;
    Ok(respond::raw(&req, StatusCode::OK, body))
}
