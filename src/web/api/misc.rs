//! The helper endpoints: `/markdown`, `/latest_candidates`, `/latest_builds`,
//! `/latest_builds_in_tag`, `/get_sidetags` and `/get_critpath_components`.

use std::collections::{BTreeMap, HashSet};

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use diesel::prelude::*;
use serde_json::{Value, json};

use super::query;
use crate::buildsys::{BuildSystem, ListTaggedOptions};
use crate::db::schema::{builds, updates};
use crate::db::types::{ReleaseState, UpdateStatus};
use crate::error::{AppError, AppResult};
use crate::models::release::Release;
use crate::services::critpath;
use crate::state::AppState;
use crate::web::params::Params;
use crate::web::respond;

/// Pyramid's `asbool`: true for `true`, `yes`, `on`, `y`, `t`, `1` (any case).
fn asbool(value: Option<&str>) -> bool {
    value.is_some_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "true" | "yes" | "on" | "y" | "t" | "1"
        )
    })
}

#[get("/markdown")]
pub async fn render_markdown(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let params = query(&req);
    let text = params.get("text").unwrap_or_default();
    let html = crate::markdown::render(text, &state.settings.base_address());
    respond::ok(&req, &json!({ "html": html }))
}

/// Runs build system calls on the blocking pool.
pub async fn with_buildsys<T, F>(state: &web::Data<AppState>, f: F) -> AppResult<T>
where
    F: FnOnce(&dyn BuildSystem) -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    let buildsys = state.buildsys.clone();
    tokio::task::spawn_blocking(move || f(buildsys.as_ref()))
        .await
        .map_err(|e| AppError::Internal(format!("build system task failed: {e}")))?
}

#[get("/latest_candidates")]
pub async fn latest_candidates(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let params = query(&req);
    let package = params.get("package").map(str::to_owned);
    let prefix = params.get("prefix").map(str::to_owned);
    let testing = asbool(params.get("testing"));
    let hide_existing = asbool(params.get("hide_existing"));
    let (releases, in_pending_updates) = state
        .db
        .run(move |conn| {
            let releases: Vec<Release> = Release::list(conn)?
                .into_iter()
                .filter(|r| {
                    matches!(
                        r.state,
                        ReleaseState::Pending | ReleaseState::Frozen | ReleaseState::Current
                    )
                })
                .collect();
            // Bodhi hides only builds of pending updates: the candidate tag is gone once an
            // update reaches stable.
            let taken: HashSet<String> = if hide_existing {
                builds::table
                    .inner_join(updates::table)
                    .filter(updates::status.eq(UpdateStatus::Pending))
                    .select(builds::nvr)
                    .load::<String>(conn)?
                    .into_iter()
                    .collect()
            } else {
                HashSet::new()
            };
            Ok((releases, taken))
        })
        .await?;
    let result = with_buildsys(&state, move |bs| {
        let mut release_of_tag = BTreeMap::new();
        let mut tags = Vec::new();
        for release in &releases {
            for tag in [
                &release.candidate_tag,
                &release.testing_tag,
                &release.pending_testing_tag,
                &release.pending_signing_tag,
            ] {
                release_of_tag.insert(tag.clone(), release.long_name.clone());
            }
            tags.push(release.candidate_tag.clone());
            if testing {
                tags.push(release.testing_tag.clone());
                tags.push(release.pending_testing_tag.clone());
                if !release.pending_signing_tag.is_empty() {
                    tags.push(release.pending_signing_tag.clone());
                }
            }
        }
        let options = ListTaggedOptions {
            latest: true,
            inherit: false,
            package: package.as_deref(),
            prefix: if package.is_some() {
                None
            } else {
                prefix.as_deref()
            },
        };
        let mut result: Vec<Value> = Vec::new();
        for tag in tags {
            let tagged = match bs.list_tagged(&tag, &options) {
                Ok(tagged) => tagged,
                Err(error) => {
                    tracing::error!(%tag, %error, "latest_candidates asked about a missing tag");
                    continue;
                }
            };
            for build in tagged {
                if in_pending_updates.contains(&build.build.nvr) {
                    continue;
                }
                let mut item = json!({
                    "nvr": build.build.nvr,
                    "id": build.build.id,
                    "package_name": build.build.package_name,
                    "owner_name": build.build.owner_name,
                });
                if let Some(release) = release_of_tag.get(&build.tag_name) {
                    item["release_name"] = release.clone().into();
                }
                if !result.contains(&item) {
                    result.push(item);
                }
            }
        }
        Ok(result)
    })
    .await?;
    Ok(respond::ok(&req, &result))
}

#[get("/latest_builds")]
pub async fn latest_builds(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let params = query(&req);
    let package = params.get("package").map(str::to_owned);
    let releases = state.db.run(|conn| Ok(Release::list(conn)?)).await?;
    let result = with_buildsys(&state, move |bs| {
        let mut latest: BTreeMap<String, String> = BTreeMap::new();
        for release in releases
            .iter()
            .filter(|r| !matches!(r.state, ReleaseState::Archived | ReleaseState::Disabled))
        {
            for tag in [
                &release.candidate_tag,
                &release.testing_tag,
                &release.stable_tag,
                &release.override_tag,
                &release.pending_testing_tag,
                &release.pending_stable_tag,
            ] {
                if tag.is_empty() {
                    continue;
                }
                let options = ListTaggedOptions {
                    latest: true,
                    inherit: true,
                    package: package.as_deref(),
                    prefix: None,
                };
                // Tags that do not exist (EPEL has no pending tags) are skipped, as in Bodhi.
                if let Ok(tagged) = bs.list_tagged(tag, &options) {
                    for build in tagged {
                        latest.insert(tag.clone(), build.build.nvr.clone());
                    }
                }
            }
        }
        Ok(latest)
    })
    .await?;
    Ok(respond::ok(&req, &result))
}

#[get("/latest_builds_in_tag")]
pub async fn latest_builds_in_tag(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let params = query(&req);
    let Some(tag) = params
        .get("tag")
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
    else {
        return Err(AppError::invalid(
            "querystring",
            "tag",
            "tag parameter is required",
        ));
    };
    let tagged = with_buildsys(&state, move |bs| {
        let options = ListTaggedOptions {
            latest: true,
            ..ListTaggedOptions::default()
        };
        Ok(bs.list_tagged(&tag, &options)?)
    })
    .await?;
    let result: Vec<Value> = tagged.iter().map(|t| t.koji_json()).collect();
    Ok(respond::ok(&req, &result))
}

#[get("/get_sidetags")]
pub async fn get_sidetags(req: HttpRequest, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let params = query(&req);
    let user = params.get("user").map(str::to_owned);
    let contains_builds = asbool(params.get("contains_builds"));
    let result = with_buildsys(&state, move |bs| {
        let mut result = Vec::new();
        for tag in bs.list_side_tags(user.as_deref())? {
            let options = ListTaggedOptions {
                latest: true,
                ..ListTaggedOptions::default()
            };
            let builds: Vec<Value> = bs
                .list_tagged(&tag.name, &options)?
                .iter()
                .map(|t| t.koji_json())
                .collect();
            if contains_builds && builds.is_empty() {
                continue;
            }
            result.push(json!({
                "id": tag.id,
                "name": tag.name,
                "sidetag_user": tag.extra.get("sidetag_user").cloned().unwrap_or(Value::Null),
                "builds": builds,
            }));
        }
        Ok(result)
    })
    .await?;
    Ok(respond::ok(&req, &result))
}

#[get("/get_critpath_components")]
pub async fn get_critpath_components(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let params: Params = query(&req);
    let collection = params.get("collection").unwrap_or("rawhide");
    let component_type = params.get("component_type").unwrap_or("rpm");
    let components: Option<Vec<String>> = params
        .get("components")
        .map(|c| c.split(',').map(str::to_owned).collect());
    let groups = critpath::grouped_components(
        &state.settings.critpath,
        collection,
        component_type,
        components.as_deref(),
    )?;
    Ok(respond::json(&req, StatusCode::OK, &groups))
}
