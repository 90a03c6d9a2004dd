//! `GET /updates/` and `GET /updates/{alias}`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use diesel::prelude::*;
use serde::Serialize;

use super::write::{apply, authorised, body_params, require_any_group};
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
use crate::services::messages::KojiBuildRef;
use crate::services::permissions;
use crate::services::updates::save::{self as save_service, UpdateForm};
use crate::services::updates::{Caveat, compare_evr, requests, split_nvr};
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

use crate::services::updates::save::python_list;

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
pub fn read_filter(conn: &mut DbConnection, v: &mut Validator<'_>) -> AppResult<UpdateFilter> {
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
                state.settings.base_address(),
                serde_urlencoded::to_string([("packages", name)]).unwrap_or_default()
            );
            HttpResponse::Found()
                .insert_header((header::LOCATION, location))
                .finish()
        }
    })
}

/// Creates the update of `form`, or edits the one it names, as `user` (a packager).
pub async fn save_update(
    state: &web::Data<AppState>,
    user: crate::services::accounts::CurrentUser,
    form: UpdateForm,
) -> AppResult<save_service::Saved> {
    require_any_group(&user, &state.settings.accounts.mandatory_packager_groups)?;
    let buildsys = state.buildsys.clone();
    apply(state, move |conn, ctx| match form.edited.clone() {
        Some(alias) => save_service::edit(conn, ctx, buildsys.as_ref(), &user, &alias, &form),
        None => save_service::create(conn, ctx, buildsys.as_ref(), &user, &form),
    })
    .await
}

/// Reads the body of `POST /updates/` (spec §3.4).
pub fn read_update_form(params: &crate::web::params::Params) -> AppResult<UpdateForm> {
    let mut v = Validator::new(params);
    let builds = params.contains("builds").then(|| v.list("builds"));
    let from_tag = v.string("from_tag");
    match (&builds, &from_tag) {
        (None, None) => v.error(
            "builds,from_tag",
            "You must specify either builds or from_tag.",
        ),
        (Some(b), _) if b.is_empty() && from_tag.is_none() => {
            v.error("builds", "You may not specify an empty list of builds.")
        }
        (_, Some(tag)) if tag.is_empty() => {
            v.error("from_tag", "You may not specify an empty from_tag.")
        }
        _ => {}
    }
    let mut bugs = Vec::new();
    for raw in v.list("bugs") {
        match raw.parse::<i32>() {
            Ok(number) => bugs.push(number),
            Err(_) => v.error("bugs", format!("\"{raw}\" is not a number")),
        }
    }
    let update_type = v.choice::<UpdateType>("type");
    if !params.contains("type") {
        v.error("type", "Required");
    }
    let notes = v.string("notes").unwrap_or_default();
    if notes.is_empty() {
        // Colander reports it with the type error; the service checks lengths.
        v.error("notes", "A description is required for the update.");
    }
    let form = UpdateForm {
        builds: builds.unwrap_or_default(),
        from_tag: from_tag.filter(|t| !t.is_empty()),
        bugs,
        display_name: v.string("display_name").unwrap_or_default(),
        close_bugs: v.body_bool("close_bugs").unwrap_or(true),
        update_type: update_type.unwrap_or(UpdateType::Unspecified),
        severity: v
            .choice::<UpdateSeverity>("severity")
            .unwrap_or(UpdateSeverity::Unspecified),
        notes,
        autokarma: v.body_bool("autokarma").unwrap_or(true),
        stable_karma: v.int("stable_karma", Some(1), None).unwrap_or(3) as i32,
        unstable_karma: v.int("unstable_karma", None, Some(-1)).unwrap_or(-3) as i32,
        suggest: v
            .choice::<UpdateSuggestion>("suggest")
            .unwrap_or(UpdateSuggestion::Unspecified),
        edited: v.string("edited").filter(|e| !e.is_empty()),
        require_bugs: v.body_bool("require_bugs").unwrap_or(true),
        require_testcases: v.body_bool("require_testcases").unwrap_or(true),
        autotime: v.body_bool("autotime").unwrap_or(true),
        stable_days: v.int("stable_days", Some(0), None).unwrap_or(0) as i32,
    };
    v.finish()?;
    Ok(form)
}

/// Serialises updates the way a write answers: one update is its JSON (rendered as Bodhi
/// does without a request, so avatars are null) with `caveats` appended; several are
/// `{"updates": [...], "caveats": [...]}`.
fn saved_json(
    conn: &mut DbConnection,
    app: &AppState,
    updates: Vec<Update>,
    caveats: &[Caveat],
) -> AppResult<String> {
    let single = updates.len() == 1;
    let graph = UpdateGraph::load(conn, updates)?;
    let mut ctx = context(app);
    ctx.with_request = !single;
    let items: Vec<UpdateJson<'_>> = graph
        .updates
        .iter()
        .filter_map(|u| graph.update_json(u, &ctx))
        .collect();
    let mut value = if single {
        serde_json::to_value(&items[0])
    } else {
        serde_json::to_value(serde_json::json!({ "updates": items }))
    }
    .map_err(|e| AppError::Internal(format!("cannot serialise: {e}")))?;
    if let Some(map) = value.as_object_mut() {
        map.insert(
            "caveats".into(),
            serde_json::to_value(caveats).unwrap_or_default(),
        );
    }
    to_json(&value)
}

#[post("/updates/")]
pub async fn save(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let params = body_params(&req, &body)?;
    let user = authorised(&auth, &params)?;
    let form = read_update_form(&params)?;
    let saved = save_update(&state, user, form).await?;
    let app = state.clone();
    let body = state
        .db
        .run(move |conn| {
            let ids: Vec<i32> = saved.updates.iter().map(|u| u.id).collect();
            let fresh: Vec<Update> = crate::db::schema::updates::table
                .filter(crate::db::schema::updates::id.eq_any(ids))
                .select(Update::as_select())
                .load(conn)?;
            saved_json(conn, &app, fresh, &saved.caveats)
        })
        .await?;
    Ok(respond::raw(&req, StatusCode::OK, body))
}

/// Bodhi's `validate_request`: a build may not go to testing or stable when the same package
/// already has a newer build there in this release.
fn check_newer_builds(
    conn: &mut DbConnection,
    update: &Update,
    action: UpdateRequest,
) -> AppResult<()> {
    use crate::db::schema::{builds, updates};
    let target = match action {
        UpdateRequest::Stable => UpdateStatus::Stable,
        UpdateRequest::Testing => UpdateStatus::Testing,
        _ => return Ok(()),
    };
    for build in crate::models::build::Build::for_updates(conn, &[update.id])? {
        let others: Vec<crate::models::build::Build> = builds::table
            .inner_join(updates::table)
            .filter(builds::package_id.eq(build.package_id))
            .filter(builds::nvr.ne(&build.nvr))
            .filter(builds::type_.eq(ContentType::Rpm))
            .filter(updates::status.eq(target))
            .filter(updates::release_id.eq(update.release_id))
            .select(crate::models::build::Build::as_select())
            .load(conn)?;
        let Some((name, version, release)) = split_nvr(&build.nvr) else {
            continue;
        };
        for other in others {
            let Some((_, other_version, other_release)) = split_nvr(&other.nvr) else {
                continue;
            };
            if compare_evr(
                (other.epoch, other_version, other_release),
                (build.epoch, version, release),
            )
            .is_gt()
            {
                let evr = |epoch: Option<i32>, v: &str, r: &str| {
                    format!("('{}', '{v}', '{r}')", epoch.unwrap_or(0))
                };
                return Err(AppError::invalid(
                    "querystring",
                    "update",
                    format!(
                        "Cannot submit {name} {} to {} since it is older than {}",
                        evr(build.epoch, version, release),
                        target.description(),
                        evr(other.epoch, other_version, other_release)
                    ),
                ));
            }
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct UpdateOnly<'a> {
    update: UpdateJson<'a>,
}

fn update_only_json(conn: &mut DbConnection, app: &AppState, alias: &str) -> AppResult<String> {
    let update = Update::by_alias(conn, alias)?
        .ok_or_else(|| AppError::not_found("url", "id", "Invalid update id"))?;
    let graph = UpdateGraph::load(conn, vec![update])?;
    let ctx = context(app);
    let json = graph
        .update_json(&graph.updates[0], &ctx)
        .ok_or_else(|| AppError::Internal("cannot serialise the update".into()))?;
    to_json(&UpdateOnly { update: json })
}

#[post("/updates/{id}/request")]
pub async fn request(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    auth: Auth,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let alias = path.into_inner();
    let params = body_params(&req, &body)?;
    let user = authorised(&auth, &params)?;
    require_any_group(&user, &state.settings.accounts.mandatory_packager_groups)?;
    let mut v = Validator::new(&params);
    let action = v.choice::<UpdateRequest>("request");
    if !params.contains("request") {
        v.error("request", "Required");
    }
    v.finish()?;
    let action = action.ok_or_else(|| AppError::invalid("body", "request", "Required"))?;
    let accounts = state.settings.accounts.clone();
    let target = alias.clone();
    let refusal = apply(&state, move |conn, ctx| {
        let mut update = Update::by_alias_for_update(conn, &target)?
            .ok_or_else(|| AppError::not_found("url", "id", "Invalid update id"))?;
        let release = crate::models::release::Release::by_id(conn, update.release_id)?;
        permissions::check_update_acls(conn, &user, &update, &release, &accounts)?;
        check_newer_builds(conn, &update, action)?;
        if update.locked {
            return Err(AppError::invalid(
                "body",
                "request",
                "Can't change request on a locked update",
            ));
        }
        if update.status == UpdateStatus::Stable && action == UpdateRequest::Testing {
            return Err(AppError::invalid(
                "body",
                "request",
                "Pushing back to testing a stable update is not allowed",
            ));
        }
        // As in Bodhi, a refused request still keeps what it changed (a testing update that
        // does not meet the requirements loses its stable request).
        match requests::set_request(conn, ctx, &mut update, action, user.name()) {
            Ok(()) => Ok(None),
            Err(AppError::Invalid(errors)) => Ok(Some(errors)),
            Err(other) => Err(other),
        }
    })
    .await?;
    if let Some(errors) = refusal {
        return Err(AppError::Invalid(errors));
    }
    if crate::web::session::wants_html(&req) {
        // The update page's action buttons: back to the page, which shows the new request.
        let location = format!("{}updates/{alias}", state.settings.base_address());
        return Ok(crate::web::pages::see_other(&location));
    }
    let app = state.clone();
    let body = state
        .db
        .run(move |conn| update_only_json(conn, &app, &alias))
        .await?;
    Ok(respond::raw(&req, StatusCode::OK, body))
}

#[post("/updates/{id}/waive-test-results")]
pub async fn waive_test_results(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    auth: Auth,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let alias = path.into_inner();
    let params = body_params(&req, &body)?;
    let user = authorised(&auth, &params)?;
    let accounts = state.settings.accounts.clone();
    let mut groups = accounts.mandatory_packager_groups.clone();
    groups.extend(accounts.qa_groups.iter().cloned());
    require_any_group(&user, &groups)?;
    let gating = state.settings.rules.test_gating_required;
    state
        .db
        .run(move |conn| -> AppResult<()> {
            let update = Update::by_alias(conn, &alias)?
                .ok_or_else(|| AppError::not_found("url", "id", "Invalid update id"))?;
            let release = crate::models::release::Release::by_id(conn, update.release_id)?;
            permissions::check_qa_acls(conn, &user, &update, &release, &accounts)?;
            if update.locked {
                return Err(AppError::invalid(
                    "body",
                    "request",
                    "Can't waive test results on a locked update",
                ));
            }
            if !gating {
                return Err(AppError::invalid(
                    "body",
                    "request",
                    "Test gating is not enabled",
                ));
            }
            Ok(())
        })
        .await?;
    Err(AppError::Unavailable(
        "No waiverdb_api_url specified: waivers need a WaiverDB".into(),
    ))
}

#[get("/updates/{id}/get-test-results")]
pub async fn get_test_results(
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let alias = path.into_inner();
    state
        .db
        .run(move |conn| {
            Update::by_alias(conn, &alias)?
                .ok_or_else(|| AppError::not_found("url", "id", "Invalid update id"))?;
            Ok(())
        })
        .await?;
    // Bodhi answers 501 when no Greenwave is configured; clients show no CI status then.
    Ok(crate::web::error::envelope(
        StatusCode::NOT_IMPLEMENTED,
        &[crate::error::FieldError::new(
            "body",
            "request",
            "No greenwave_api_url specified",
        )],
    ))
}

#[post("/updates/{id}/trigger-tests")]
pub async fn trigger_tests(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    auth: Auth,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let alias = path.into_inner();
    let params = body_params(&req, &body)?;
    let user = authorised(&auth, &params)?;
    let accounts = state.settings.accounts.clone();
    let mut groups = accounts.mandatory_packager_groups.clone();
    groups.extend(accounts.qa_groups.iter().cloned());
    require_any_group(&user, &groups)?;
    let requester = user.name().to_owned();
    let checked_alias = alias.clone();
    let builds = state
        .db
        .run(move |conn| {
            let update = Update::by_alias(conn, &checked_alias)?
                .ok_or_else(|| AppError::not_found("url", "id", "Invalid update id"))?;
            let release = crate::models::release::Release::by_id(conn, update.release_id)?;
            permissions::check_qa_acls(conn, &user, &update, &release, &accounts)?;
            if update.status != UpdateStatus::Testing {
                return Err(AppError::invalid(
                    "body",
                    "request",
                    "Update is not in testing status",
                ));
            }
            Ok(crate::models::build::Build::for_updates(
                conn,
                &[update.id],
            )?)
        })
        .await?;
    // Bodhi re-publishes the ready-for-testing message for RPM updates only.
    if builds.iter().all(|b| b.content_type == ContentType::Rpm) {
        let app = state.clone();
        let refs = web::block(move || -> AppResult<Vec<KojiBuildRef>> {
            builds
                .iter()
                .map(|b| {
                    let info = app.buildsys.get_build(&b.nvr)?.ok_or_else(|| {
                        AppError::invalid("body", "builds", format!("Unknown build: {}", b.nvr))
                    })?;
                    Ok(KojiBuildRef {
                        nvr: b.nvr.clone(),
                        id: info.id,
                        task_id: info.task_id,
                    })
                })
                .collect()
        })
        .await
        .map_err(|e| AppError::Unavailable(format!("the build system call stopped: {e}")))??;
        let target = alias.clone();
        apply(&state, move |conn, ctx| {
            let update = Update::by_alias(conn, &target)?
                .ok_or_else(|| AppError::not_found("url", "id", "Invalid update id"))?;
            crate::services::messages::ready_for_testing(
                conn, ctx, &update, &requester, &refs, true,
            )?;
            Ok(())
        })
        .await?;
    }
    let app = state.clone();
    let body = state
        .db
        .run(move |conn| update_only_json(conn, &app, &alias))
        .await?;
    Ok(respond::raw(&req, StatusCode::OK, body))
}
