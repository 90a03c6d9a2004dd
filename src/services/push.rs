//! Starting a push (spec §6.1, Bodhi's `bodhi-push`): which updates go, grouped into one
//! compose per release and request, and the compose rows that lock them. [`plan`] only reads;
//! [`start`] writes the composes and locks their updates in one transaction, so two pushes
//! racing each other cannot both take an update, and a (release, request) with a compose in
//! flight gets no second one (Bodhi #2579): its new updates wait for the next push.

use std::collections::BTreeMap;

use diesel::prelude::*;
use serde::Serialize;

use crate::buildsys::BuildSystem;
use crate::db::DbConnection;
use crate::db::schema::{composes, releases, updates};
use crate::db::types::{ContentType, ReleaseState, UpdateRequest, UpdateType};
use crate::error::{AppError, AppResult};
use crate::models::build::Build;
use crate::models::compose::Compose;
use crate::models::release::Release;
use crate::models::update::Update;

/// What to push; empty lists mean Bodhi's defaults.
#[derive(Debug, Clone, Default)]
pub struct PushOptions {
    /// Release names; default: every release Pipal composes that is current, pending or frozen.
    pub releases: Vec<String>,
    /// Default: testing and stable.
    pub requests: Vec<UpdateRequest>,
    /// Only these updates (aliases)...
    pub updates: Vec<String>,
    /// ...or only the updates of these builds (NVRs).
    pub builds: Vec<String>,
}

/// One compose a push would start.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedCompose {
    pub release: String,
    #[serde(skip)]
    pub release_id: i32,
    pub request: UpdateRequest,
    pub content_type: ContentType,
    pub security: bool,
    /// (alias, title) of each update, in alias order.
    pub updates: Vec<(String, String)>,
    #[serde(skip)]
    update_ids: Vec<i32>,
}

/// The composes a push would start, most urgent first, and what it leaves out and why.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PushPlan {
    pub composes: Vec<PlannedCompose>,
    pub warnings: Vec<String>,
}

/// An update a compose takes, with its builds.
type Member = (Update, Vec<Build>);

/// Bodhi's title of an update (its NVRs, sorted).
pub fn title_of(update: &Update, builds: &[Build]) -> String {
    let nvrs: Vec<&str> = builds.iter().map(|b| b.nvr.as_str()).collect();
    crate::json::objects::update_title(&update.alias, &nvrs)
}

fn invalid(name: &str, description: impl Into<String>) -> AppError {
    AppError::invalid("body", name, description)
}

/// Releases the push may take updates of, per request.
fn eligible_releases(
    conn: &mut DbConnection,
    options: &PushOptions,
) -> AppResult<Vec<(Release, Vec<UpdateRequest>)>> {
    let requests = if options.requests.is_empty() {
        vec![UpdateRequest::Testing, UpdateRequest::Stable]
    } else {
        options.requests.clone()
    };
    if let Some(bad) = requests
        .iter()
        .find(|r| !matches!(r, UpdateRequest::Testing | UpdateRequest::Stable))
    {
        return Err(invalid(
            "request",
            format!("Cannot push updates with request {bad}: only testing and stable"),
        ));
    }
    let named = !options.releases.is_empty();
    // Naming the updates or builds says what to push: frozen releases' stable updates too.
    let explicit = named || !options.updates.is_empty() || !options.builds.is_empty();
    let mut chosen = Vec::new();
    let all: Vec<Release> = releases::table
        .filter(releases::composed_by_bodhi.eq(true))
        .order(releases::name.asc())
        .select(Release::as_select())
        .load(conn)?;
    for name in &options.releases {
        if !all.iter().any(|r| r.name.eq_ignore_ascii_case(name)) {
            return Err(invalid(
                "releases",
                format!("Unknown release, or not composed by Pipal: {name}"),
            ));
        }
    }
    for release in all {
        if named
            && !options
                .releases
                .iter()
                .any(|n| n.eq_ignore_ascii_case(&release.name))
        {
            continue;
        }
        let taken: Vec<UpdateRequest> = requests
            .iter()
            .copied()
            .filter(|request| match (release.state, request) {
                (ReleaseState::Current | ReleaseState::Pending, _) => true,
                (ReleaseState::Frozen, UpdateRequest::Testing) => true,
                (ReleaseState::Frozen, _) => explicit,
                _ => false,
            })
            .collect();
        if !taken.is_empty() {
            chosen.push((release, taken));
        }
    }
    Ok(chosen)
}

/// Reads what a push with `options` would do. Signatures the build system already has are
/// recorded first (the pending-testing tag is asked for each unsigned build), so an update
/// signed since the last reconcile is not skipped.
pub fn plan(
    conn: &mut DbConnection,
    buildsys: &dyn BuildSystem,
    options: &PushOptions,
) -> AppResult<PushPlan> {
    if !options.updates.is_empty() && !options.builds.is_empty() {
        return Err(invalid("updates", "Give updates or builds, not both"));
    }
    let mut warnings = Vec::new();
    let eligible = eligible_releases(conn, options)?;
    let mut groups: BTreeMap<(i32, UpdateRequest), Vec<Member>> = BTreeMap::new();
    let release_ids: Vec<i32> = eligible.iter().map(|(r, _)| r.id).collect();
    let mut query = updates::table
        .filter(updates::release_id.eq_any(&release_ids))
        .filter(updates::request.is_not_null())
        .filter(updates::locked.eq(false))
        .into_boxed();
    if !options.updates.is_empty() {
        query = query.filter(updates::alias.eq_any(&options.updates));
    }
    let candidates: Vec<Update> = query
        .order(updates::alias.asc())
        .select(Update::as_select())
        .load(conn)?;
    let builds = Build::for_updates(conn, &candidates.iter().map(|u| u.id).collect::<Vec<_>>())?;
    for update in candidates {
        let Some(request) = update.request else {
            continue;
        };
        let Some((release, requests)) = eligible.iter().find(|(r, _)| r.id == update.release_id)
        else {
            continue;
        };
        if !requests.contains(&request) {
            continue;
        }
        let mut own: Vec<Build> = builds
            .iter()
            .filter(|b| b.update_id == Some(update.id))
            .cloned()
            .collect();
        if !options.builds.is_empty() && !own.iter().any(|b| options.builds.contains(&b.nvr)) {
            continue;
        }
        if own.is_empty() {
            warnings.push(format!(
                "Warning: {} has no builds and has been skipped",
                update.alias
            ));
            continue;
        }
        refresh_signatures(conn, buildsys, release, &mut own);
        if !super::updates::is_signed(release, &update, &own) {
            let title = title_of(&update, &own);
            warnings.push(format!(
                "Warning: {title} has unsigned builds and has been skipped"
            ));
            continue;
        }
        groups
            .entry((release.id, request))
            .or_default()
            .push((update, own));
    }
    let mut composes = Vec::new();
    for ((release_id, request), members) in groups {
        let Some((release, _)) = eligible.iter().find(|(r, _)| r.id == release_id) else {
            continue;
        };
        if let Some(running) = Compose::find(conn, release_id, request)? {
            warnings.push(format!(
                "Warning: a {} {} compose is already in flight ({}); its {} new update(s) wait \
                 for the next push",
                release.name,
                request,
                running.state,
                members.len()
            ));
            continue;
        }
        let mut types: Vec<ContentType> = members
            .iter()
            .flat_map(|(_, builds)| builds.iter().map(|b| b.content_type))
            .collect();
        types.sort_by_key(|t| t.to_string());
        types.dedup();
        let [content_type] = types[..] else {
            return Err(invalid(
                "updates",
                format!(
                    "The {} {} updates mix content types ({}): push them separately",
                    release.name,
                    request,
                    types
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        };
        composes.push(PlannedCompose {
            release: release.name.clone(),
            release_id,
            request,
            content_type,
            security: members
                .iter()
                .any(|(u, _)| u.update_type == UpdateType::Security),
            updates: members
                .iter()
                .map(|(u, builds)| (u.alias.clone(), title_of(u, builds)))
                .collect(),
            update_ids: members.iter().map(|(u, _)| u.id).collect(),
        });
    }
    // Security first, then stable before testing (Bodhi's ComposerHandler order).
    composes.sort_by_key(|c| {
        (
            !c.security,
            c.request != UpdateRequest::Stable,
            c.release.clone(),
        )
    });
    Ok(PushPlan { composes, warnings })
}

/// Marks signed the unsigned builds the build system has in the release's pending-testing tag
/// (or a later one): the signer did its work and the message was lost or is still on its way.
fn refresh_signatures(
    conn: &mut DbConnection,
    buildsys: &dyn BuildSystem,
    release: &Release,
    builds: &mut [Build],
) {
    let signed_tags = [
        &release.pending_testing_tag,
        &release.testing_tag,
        &release.pending_stable_tag,
        &release.stable_tag,
    ];
    for build in builds.iter_mut().filter(|b| !b.signed) {
        let Ok(tags) = buildsys.list_tags(&build.nvr) else {
            continue;
        };
        if tags
            .iter()
            .any(|t| signed_tags.iter().any(|s| !s.is_empty() && **s == t.name))
            && Build::set_signed(conn, build.id, true).is_ok()
        {
            build.signed = true;
        }
    }
}

/// Creates the planned composes and locks their updates, in one transaction (the caller's).
/// An update that changed since the plan (request gone, locked by another push) is left out;
/// a (release, request) that got a compose meanwhile is refused by the unique index.
pub fn start(
    conn: &mut DbConnection,
    plan: &PushPlan,
    now: chrono::NaiveDateTime,
) -> AppResult<Vec<Compose>> {
    let mut started = Vec::new();
    for planned in &plan.composes {
        if Compose::find(conn, planned.release_id, planned.request)?.is_some() {
            continue;
        }
        let locked = diesel::update(
            updates::table
                .filter(updates::id.eq_any(&planned.update_ids))
                .filter(updates::locked.eq(false))
                .filter(updates::request.eq(planned.request)),
        )
        .set(updates::locked.eq(true))
        .execute(conn)?;
        if locked == 0 {
            continue;
        }
        started.push(Compose::create(
            conn,
            planned.release_id,
            planned.request,
            now,
        )?);
    }
    Ok(started)
}

/// `--resume`: failed composes go back to `requested` (their error cleared) for a worker to
/// pick up where they stopped; composes that never started and whose updates are all gone are
/// deleted. A compose that started keeps its updates in its checkpoints, so it resumes even
/// when it failed after unlocking them (its karma checks and cleanup still have to run).
pub fn resume_failed(
    conn: &mut DbConnection,
    now: chrono::NaiveDateTime,
) -> AppResult<Vec<Compose>> {
    let mut resumed = Vec::new();
    for compose in Compose::list(conn)? {
        let started = serde_json::from_str::<serde_json::Value>(&compose.checkpoints)
            .is_ok_and(|checkpoints| checkpoints.get("updates").is_some());
        let members: i64 = updates::table
            .filter(updates::release_id.eq(compose.release_id))
            .filter(updates::request.eq(compose.request))
            .filter(updates::locked.eq(true))
            .count()
            .get_result(conn)?;
        if members == 0 && !started {
            Compose::delete(conn, compose.id)?;
            continue;
        }
        if compose.state == crate::db::types::ComposeState::Failed {
            diesel::update(composes::table.find(compose.id))
                .set((
                    composes::state.eq(crate::db::types::ComposeState::Requested),
                    composes::state_date.eq(now),
                    composes::error_message.eq(None::<String>),
                ))
                .execute(conn)?;
            resumed.push(compose);
        }
    }
    Ok(resumed)
}
