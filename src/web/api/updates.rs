//! `GET /updates/` and `GET /updates/{alias}`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, web};
use diesel::prelude::*;
use serde::Serialize;

use super::{PageKeys, context, query, to_json};
use crate::db::DbConnection;
use crate::db::schema::{packages, users};
use crate::db::types::{
    ContentType, TestGatingStatus, UpdateRequest, UpdateSeverity, UpdateStatus, UpdateSuggestion,
    UpdateType,
};
use crate::error::{AppError, AppResult};
use crate::json::UpdateGraph;
use crate::json::objects::UpdateJson;
use crate::models::release::Release;
use crate::models::search::UpdateFilter;
use crate::models::update::Update;
use crate::services::permissions;
use crate::state::AppState;
use crate::web::auth::Auth;
use crate::web::params::Validator;
use crate::web::respond::{self, Page};

#[derive(Serialize)]
struct UpdateList<'a> {
    updates: Vec<UpdateJson<'a>>,
    #[serde(flatten)]
    keys: PageKeys,
    chrome: bool,
    display_user: bool,
    display_request: bool,
    package: Option<String>,
}

/// Python's repr of a list of strings, as Bodhi's messages show it.
pub fn python_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("'{s}'")).collect();
    format!("[{}]", quoted.join(", "))
}

/// Resolves release names the way Bodhi's `validate_releases` does: a name, the upper-cased
/// name or a version; `__current__`, `__pending__` (pending and frozen) and `__archived__`
/// stand for every release in those states. Unknown names are reported together.
pub fn resolve_releases(
    conn: &mut DbConnection,
    v: &mut Validator<'_>,
    param: &str,
) -> AppResult<Option<Vec<Release>>> {
    use crate::db::types::ReleaseState;
    let names = v.list(param);
    if !v.params().contains(param) {
        return Ok(None);
    }
    let all = Release::list(conn)?;
    let mut found = Vec::new();
    let mut bad = Vec::new();
    for name in &names {
        let states: &[ReleaseState] = match name.as_str() {
            "__current__" => &[ReleaseState::Current],
            "__pending__" => &[ReleaseState::Pending, ReleaseState::Frozen],
            "__archived__" => &[ReleaseState::Archived],
            _ => &[],
        };
        if !states.is_empty() {
            found.extend(all.iter().filter(|r| states.contains(&r.state)).cloned());
            continue;
        }
        match find_release(&all, name) {
            Some(release) => found.push(release.clone()),
            None => bad.push(name.clone()),
        }
    }
    if !bad.is_empty() {
        v.error(
            param,
            format!("Invalid releases specified: {}", bad.join(", ")),
        );
    }
    Ok(Some(found))
}

/// A release by name, upper-cased name or version (Bodhi's lookup for query parameters).
pub fn find_release<'a>(all: &'a [Release], name: &str) -> Option<&'a Release> {
    all.iter()
        .find(|r| r.name == name || r.name == name.to_uppercase() || r.version == name)
}

/// User ids for a list of names; unknown names are reported as Bodhi does.
pub fn resolve_users(
    conn: &mut DbConnection,
    v: &mut Validator<'_>,
    param: &str,
) -> AppResult<Option<Vec<i32>>> {
    if !v.params().contains(param) {
        return Ok(None);
    }
    let names = v.list(param);
    let rows: Vec<(i32, String)> = users::table
        .filter(users::name.eq_any(&names))
        .select((users::id, users::name))
        .load(conn)?;
    let bad: Vec<String> = names
        .iter()
        .filter(|n| !rows.iter().any(|(_, name)| name == *n))
        .cloned()
        .collect();
    if !bad.is_empty() {
        v.error(
            param,
            format!("Invalid users specified: {}", bad.join(", ")),
        );
    }
    Ok(Some(rows.into_iter().map(|(id, _)| id).collect()))
}

fn optional_list(v: &mut Validator<'_>, name: &str) -> Option<Vec<String>> {
    v.params().contains(name).then(|| v.list(name))
}

fn optional_choices<T>(v: &mut Validator<'_>, name: &str) -> Option<Vec<T>>
where
    T: std::str::FromStr<Err = crate::db::types::UnknownValue>,
{
    v.params().contains(name).then(|| v.choices(name))
}

/// Reads the filters of `GET /updates/`, checking names against the database.
fn read_filter(conn: &mut DbConnection, v: &mut Validator<'_>) -> AppResult<UpdateFilter> {
    let mut f = UpdateFilter {
        aliases: optional_list(v, "alias"),
        updateids: optional_list(v, "updateid"),
        approved_since: v.datetime("approved_since"),
        approved_before: v.datetime("approved_before"),
        builds: optional_list(v, "builds"),
        critpath: v.query_bool("critpath"),
        from_side_tag: v.query_bool("from_side_tag"),
        from_side_tag_name: v.string("from_side_tag_name"),
        gating: optional_choices::<TestGatingStatus>(v, "gating"),
        like: v.string("like"),
        search: v.string("search"),
        locked: v.query_bool("locked"),
        modified_since: v.datetime("modified_since"),
        modified_before: v.datetime("modified_before"),
        packages: optional_list(v, "packages"),
        pushed: v.query_bool("pushed"),
        pushed_since: v.datetime("pushed_since"),
        pushed_before: v.datetime("pushed_before"),
        request: v.choice::<UpdateRequest>("request"),
        severity: v.choice::<UpdateSeverity>("severity"),
        statuses: optional_choices::<UpdateStatus>(v, "status"),
        submitted_since: v.datetime("submitted_since"),
        submitted_before: v.datetime("submitted_before"),
        suggest: v.choice::<UpdateSuggestion>("suggest"),
        update_type: v.choice::<UpdateType>("type"),
        content_type: v.choice::<ContentType>("content_type"),
        ..UpdateFilter::default()
    };
    if let Some(raw) = optional_list(v, "bugs").filter(|b| !b.is_empty()) {
        match raw
            .iter()
            .map(|b| b.parse::<i32>())
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(numbers) => f.bugs = Some(numbers),
            Err(_) => v.error(
                "bugs",
                format!("Invalid bug ID specified: {}", python_list(&raw)),
            ),
        }
    }
    f.release_ids = resolve_releases(conn, v, "releases")?
        .map(|releases| releases.into_iter().map(|r| r.id).collect());
    if let Some(name) = v.string("release") {
        let all = Release::list(conn)?;
        match find_release(&all, &name) {
            Some(release) => f.release_id = Some(release.id),
            None => v.error("release", format!("Invalid release specified: {name}")),
        }
    }
    f.user_ids = resolve_users(conn, v, "user")?;
    Ok(f)
}

#[get("/updates/")]
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let params = query(&req);
    let app = state.clone();
    let body = state
        .db
        .run(move |conn| {
            let mut v = Validator::new(&params);
            let page = Page::read(&mut v);
            let filter = read_filter(conn, &mut v)?;
            let display_user = v.query_bool("display_user").unwrap_or(false);
            v.finish()?;
            let total = filter.count(conn)?;
            let updates = filter.page(conn, page.offset(), page.rows_per_page)?;
            let graph = UpdateGraph::load(conn, updates)?;
            let ctx = context(&app);
            to_json(&UpdateList {
                updates: graph
                    .updates
                    .iter()
                    .filter_map(|u| graph.update_json(u, &ctx))
                    .collect(),
                keys: PageKeys::new(&page, total),
                chrome: page.chrome,
                display_user,
                display_request: true,
                package: filter.packages.as_ref().and_then(|p| p.first().cloned()),
            })
        })
        .await?;
    Ok(respond::raw(&req, StatusCode::OK, body))
}

#[derive(Serialize)]
struct OneUpdate<'a> {
    update: UpdateJson<'a>,
    can_edit: bool,
    ci_allowed: bool,
}

/// Where `GET /updates/{id}` sends the caller.
enum Found {
    Update(String),
    Package(String),
}

#[get("/updates/{id}")]
pub async fn get(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    auth: Auth,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let app = state.clone();
    let found = state
        .db
        .run(move |conn| {
            let Some(update) = Update::by_alias(conn, &id)? else {
                let package: Option<String> = packages::table
                    .filter(packages::name.eq(&id))
                    .select(packages::name)
                    .first(conn)
                    .optional()?;
                return match package {
                    Some(name) => Ok(Found::Package(name)),
                    None => Err(AppError::not_found("url", "id", "Invalid update id")),
                };
            };
            let graph = UpdateGraph::load(conn, vec![update])?;
            let update = &graph.updates[0];
            let release = graph
                .release_of(update)
                .ok_or_else(|| AppError::Internal("the update's release is missing".into()))?;
            let accounts = &app.settings.accounts;
            let (can_edit, ci_allowed) = match &auth.user {
                Some(user) => (
                    permissions::check_update_acls(conn, user, update, release, accounts).is_ok(),
                    permissions::check_qa_acls(conn, user, update, release, accounts).is_ok(),
                ),
                None => (false, false),
            };
            let ctx = context(&app);
            let json = graph
                .update_json(update, &ctx)
                .ok_or_else(|| AppError::Internal("cannot serialise the update".into()))?;
            Ok(Found::Update(to_json(&OneUpdate {
                update: json,
                can_edit,
                ci_allowed,
            })?))
        })
        .await?;
    Ok(match found {
        Found::Update(body) => respond::raw(&req, StatusCode::OK, body),
        Found::Package(name) => {
            let location = format!(
                "{}updates/?{}",
                state.settings.server.base_address,
                serde_urlencoded::to_string([("packages", name)]).unwrap_or_default()
            );
            HttpResponse::Found()
                .insert_header((header::LOCATION, location))
                .finish()
        }
    })
}
