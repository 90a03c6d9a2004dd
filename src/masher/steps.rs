//! The steps of a compose, in Bodhi's order (spec §6.3). Each step either is recorded as done
//! in the compose's checkpoints in the same transaction as its database changes, or is
//! idempotent against the build system (a build already in its target tag is not moved
//! again), so a compose resumed after a crash at any point finishes without losing or doubling
//! work. RPM composes write their repositories between the tag moves and the status changes
//! (`repos`); container and flatpak composes copy their images with skopeo instead
//! (`containers`).

use std::collections::BTreeMap;

use anyhow::{Context, anyhow};
use serde_json::json;

use crate::buildsys::{BuildsysError, TagOp};
use crate::db::types::{ComposeState, ContentType, ReleaseState, UpdateRequest, UpdateStatus};
use crate::db::{DbConnection, write_transaction};
use crate::error::AppResult;
use crate::models::build::Build;
use crate::models::now;
use crate::models::release::TagKind;
use crate::models::update::Update;
use crate::services::requirements::meets_requirements_why;
use crate::services::updates::comments::{check_karma_thresholds, system_comment};
use crate::services::updates::obsolete::obsolete_older_updates;
use crate::services::updates::save::python_list;
use crate::services::updates::{Ctx, compare_evr, karma_of, known_tags, split_nvr, system_user};
use crate::state::AppState;

use super::events;
use super::notices;
use super::work::Work;

/// Called before each step with its name (the name of its checkpoint): renews nothing itself
/// but fails when the worker lost its lease (another worker has taken the compose over), or
/// when a fault is injected there.
pub type Heartbeat<'a> = &'a dyn Fn(&str) -> anyhow::Result<()>;

/// The checkpoint names of the steps, in the order they run; each is the `heartbeat`'s
/// argument before it runs.
pub const STEP_NAMES: &[&str] = &[
    "perform_gating",
    "determine_and_perform_tag_actions",
    "remove_pending_tags",
    "completed_repo",
    "signing_repo",
    "compose_done",
    "syncing_repo",
    "skopeo_copies",
    "mark_status_changes",
    "status_comments",
    "send_notices",
    "unlock_updates",
    "thresholds_and_obsoleting",
    "cleaning",
];

/// The steps a testing push of RPMs with the default settings does not take: gating is for
/// stable pushes, skopeo for containers, the waits only when configured.
pub const NOT_IN_A_TESTING_PUSH: &[&str] = &[
    "perform_gating",
    "signing_repo",
    "syncing_repo",
    "skopeo_copies",
];

/// Runs the compose's remaining steps.
pub fn run(
    state: &AppState,
    conn: &mut DbConnection,
    work: &mut Work,
    heartbeat: Heartbeat<'_>,
) -> anyhow::Result<()> {
    let builds = work.builds(conn)?;
    let titles: Vec<String> = work
        .updates(conn)?
        .iter()
        .map(|u| {
            let nvrs: Vec<&str> = builds
                .iter()
                .filter(|b| b.update_id == Some(u.id))
                .map(|b| b.nvr.as_str())
                .collect();
            nvrs.join(" ")
        })
        .collect();
    let ctype = Work::content_type(&builds).map(|c| c.to_string());
    write_transaction(conn, |conn| -> anyhow::Result<()> {
        work.set_state(conn, ComposeState::Initializing, now())?;
        events::queue(
            conn,
            work,
            "start",
            "bodhi.compose.start",
            json!({"agent": events::AGENT}),
        )?;
        events::queue(
            conn,
            work,
            "composing",
            "bodhi.compose.composing",
            json!({"repo": events::repo(work), "updates": titles, "agent": events::AGENT, "ctype": ctype}),
        )?;
        Ok(())
    })?;
    if work.request() == UpdateRequest::Stable && !work.done("perform_gating") {
        heartbeat("perform_gating")?;
        perform_gating(state, conn, work)?;
    }
    if !work.done("determine_and_perform_tag_actions") {
        heartbeat("determine_and_perform_tag_actions")?;
        tag_actions(state, conn, work)?;
    }
    if !work.done("remove_pending_tags") {
        heartbeat("remove_pending_tags")?;
        remove_pending_tags(state, conn, work)?;
    }
    let content_type = Work::content_type(&work.builds(conn)?);
    let repositories = writes_repositories(work, content_type);
    if repositories {
        super::repos::compose_repositories(state, conn, work, &requested_tag(work), heartbeat)?;
    }
    if matches!(
        content_type,
        Some(ContentType::Container | ContentType::Flatpak)
    ) && !work.done("skopeo_copies")
    {
        heartbeat("skopeo_copies")?;
        copy_images(state, conn, work)?;
    }
    if !work.done("mark_status_changes") {
        heartbeat("mark_status_changes")?;
        mark_status_changes(state, conn, work)?;
    }
    write_transaction(conn, |conn| {
        work.set_state(conn, ComposeState::Notifying, now())
    })?;
    if !work.done("status_comments") {
        heartbeat("status_comments")?;
        status_comments(state, conn, work)?;
    }
    if !work.done("send_notices") {
        heartbeat("send_notices")?;
        send_notices(state, conn, work, content_type)?;
    }
    if !work.done("unlock_updates") {
        heartbeat("unlock_updates")?;
        unlock_updates(conn, work)?;
    }
    if !work.done("thresholds_and_obsoleting") {
        heartbeat("thresholds_and_obsoleting")?;
        thresholds_and_obsoleting(state, conn, work)?;
    }
    if repositories {
        heartbeat("cleaning")?;
        write_transaction(conn, |conn| {
            work.set_state(conn, ComposeState::Cleaning, now())
        })?;
        let removed = super::repos::remove_old_composes(&state.settings, &requested_tag(work))?;
        tracing::info!(compose = work.compose.id, removed, "removed old composes");
    }
    Ok(())
}

/// Whether the compose writes repositories: RPM and module composes do, except Bodhi's
/// skip_compose (stable updates of a pending or frozen release are tagged only).
fn writes_repositories(work: &Work, content_type: Option<ContentType>) -> bool {
    let skip_compose = work.request() == UpdateRequest::Stable
        && matches!(
            work.release.state,
            ReleaseState::Pending | ReleaseState::Frozen
        );
    // No builds left (every update ejected): the tag is as it was, and the release's kind
    // is unknown, so nothing is written.
    !skip_compose && matches!(content_type, Some(ContentType::Rpm | ContentType::Module))
}

/// Container and flatpak composes copy each build's image to the destination registries.
fn copy_images(state: &AppState, conn: &mut DbConnection, work: &mut Work) -> anyhow::Result<()> {
    let settings = &state.settings.masher.containers;
    for build in work.builds(conn)? {
        let copies = super::containers::copies_for(
            state.buildsys.as_ref(),
            settings,
            &build.nvr,
            work.request(),
        )?;
        for copy in &copies {
            super::containers::run_copy(settings, copy)?;
        }
    }
    work.mark_done("skopeo_copies");
    write_transaction(conn, |conn| work.save(conn))?;
    Ok(())
}

/// Python's repr of a string, as Bodhi's ejection comment shows the reason.
fn py_repr(text: &str) -> String {
    if text.contains('\'') && !text.contains('"') {
        format!("\"{}\"", text.replace('\\', "\\\\"))
    } else {
        format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

/// Bodhi's `eject_from_compose`: the update leaves the push with a comment saying why, its
/// request dropped and its pending tag removed; the compose goes on without it.
fn eject(
    state: &AppState,
    conn: &mut DbConnection,
    work: &mut Work,
    update: &mut Update,
    reason: &str,
) -> AppResult<()> {
    let mut ctx = Ctx::new(&state.settings, now());
    let builds = Build::for_updates(conn, &[update.id])?;
    let pending = match work.request() {
        UpdateRequest::Stable => work.release.pending_stable_tag.clone(),
        _ => work.release.pending_testing_tag.clone(),
    };
    let request = update.request.map(|r| r.to_string());
    write_transaction(conn, |conn| -> AppResult<()> {
        update.locked = false;
        update.request = None;
        update.save(conn)?;
        let body = events::update_bodies(conn, &state.settings, vec![update.clone()])?
            .remove(&update.id)
            .unwrap_or(serde_json::Value::Null);
        events::queue(
            conn,
            work,
            &format!("eject:{}", update.alias),
            "bodhi.update.eject",
            json!({
                "repo": events::repo(work),
                "update": body,
                "reason": reason,
                "request": request,
                "release": body["release"].clone(),
                "agent": events::AGENT,
            }),
        )?;
        system_comment(
            conn,
            &mut ctx,
            update,
            &format!(
                "{} ejected from the push because {}",
                update.alias,
                py_repr(reason)
            ),
        )?;
        let agent = system_user(conn, &state.settings, ctx.now)?.name;
        let ops = builds
            .iter()
            .map(|b| TagOp::untag(&pending, &b.nvr))
            .collect();
        ctx.tag(conn, update, &agent, ops)?;
        work.forget(update.id);
        work.save(conn)?;
        Ok(())
    })?;
    crate::worker::periodic::run_jobs(state, ctx.jobs);
    tracing::info!(alias = %update.alias, reason, "ejected from the push");
    Ok(())
}

/// Stable pushes: updates that no longer meet their requirements leave the push.
fn perform_gating(
    state: &AppState,
    conn: &mut DbConnection,
    work: &mut Work,
) -> anyhow::Result<()> {
    let now = now();
    for mut update in work.updates(conn)? {
        let karma = karma_of(conn, update.id, &state.settings)?;
        let (met, reason) = meets_requirements_why(
            &update,
            &work.release,
            karma.total,
            &state.settings.rules,
            now,
        );
        if !met {
            eject(state, conn, work, &mut update, &reason)?;
        }
    }
    write_transaction(conn, |conn| {
        work.mark_done("perform_gating");
        work.save(conn)
    })?;
    Ok(())
}

/// The tag a request puts builds in (spec §2.1): the testing tag, or the stable tag (the dist
/// tag of a pending release).
fn requested_tag(work: &Work) -> String {
    match work.request() {
        UpdateRequest::Stable if work.release.state == ReleaseState::Pending => {
            work.release.dist_tag.clone()
        }
        UpdateRequest::Stable => work.release.stable_tag.clone(),
        _ => work.release.testing_tag.clone(),
    }
}

/// Moves every build from its candidate (or testing) tag to the requested tag: packages with
/// several updates in this push one build at a time, oldest first, so the newest is tagged
/// last; the rest in multicall batches. A build whose source tag cannot be found is ejected
/// with its update; a build already in the target tag is done (a resumed compose).
fn tag_actions(state: &AppState, conn: &mut DbConnection, work: &mut Work) -> anyhow::Result<()> {
    let target = requested_tag(work);
    // Bodhi's skip_compose: stable updates of a pending or frozen release are tagged, not moved.
    let tag_only = work.request() == UpdateRequest::Stable
        && matches!(
            work.release.state,
            ReleaseState::Pending | ReleaseState::Frozen
        );
    let known = known_tags(conn)?;
    let tags_of_kind = |kind: TagKind| -> Vec<String> {
        known
            .iter()
            .filter(|(_, k, _)| *k == kind)
            .map(|(tag, _, _)| tag.clone())
            .collect()
    };
    let (testing_tags, candidate_tags) = (
        tags_of_kind(TagKind::Testing),
        tags_of_kind(TagKind::Candidate),
    );
    let buildsys = state.buildsys.as_ref();
    let mut planned: Vec<(String, Option<i32>, String, String, TagOp)> = Vec::new();
    let builds = work.builds(conn)?;
    let nvrs: Vec<&str> = builds.iter().map(|b| b.nvr.as_str()).collect();
    let tags_by_build: BTreeMap<&str, Vec<String>> = nvrs
        .iter()
        .copied()
        .zip(
            buildsys
                .list_tags_many(&nvrs)
                .context("reading the tags of the compose's builds")?,
        )
        .map(|(nvr, tags)| (nvr, tags.into_iter().map(|t| t.name).collect()))
        .collect();
    for mut update in work.updates(conn)? {
        let valid = if update.status == UpdateStatus::Testing {
            &testing_tags
        } else {
            &candidate_tags
        };
        let mut ops = Vec::new();
        let mut missing = None;
        for build in builds.iter().filter(|b| b.update_id == Some(update.id)) {
            let tags = tags_by_build
                .get(build.nvr.as_str())
                .cloned()
                .unwrap_or_default();
            if tags.contains(&target) {
                continue;
            }
            let Some(from) = tags.iter().find(|t| valid.contains(t)) else {
                missing = Some(format!(
                    "Cannot find relevant tag for {}.  None of {} are in {}.",
                    build.nvr,
                    python_list(&tags),
                    python_list(valid)
                ));
                break;
            };
            let op = if tag_only {
                TagOp::tag(&target, &build.nvr)
            } else {
                TagOp::Move {
                    from: from.clone(),
                    to: target.clone(),
                    nvr: build.nvr.clone(),
                }
            };
            let (name, version, release) = split_nvr(&build.nvr).unwrap_or((&build.nvr, "", ""));
            ops.push((
                name.to_owned(),
                build.epoch,
                version.to_owned(),
                release.to_owned(),
                op,
            ));
        }
        match missing {
            Some(reason) => eject(state, conn, work, &mut update, &reason)?,
            None => planned.extend(ops),
        }
    }
    let mut per_package: BTreeMap<String, usize> = BTreeMap::new();
    for (name, ..) in &planned {
        *per_package.entry(name.clone()).or_default() += 1;
    }
    let (mut one_by_one, batch): (Vec<_>, Vec<_>) = planned
        .into_iter()
        .partition(|(name, ..)| per_package[name] > 1);
    one_by_one.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| compare_evr((a.1, &a.2, &a.3), (b.1, &b.2, &b.3)))
    });
    let agent = "bodhi";
    let mut failed: Vec<(TagOp, BuildsysError)> = Vec::new();
    for (.., op) in one_by_one {
        if let Some(Err(error)) = buildsys.apply_batch(std::slice::from_ref(&op), agent).pop() {
            failed.push((op, error));
        }
    }
    let batch_ops: Vec<TagOp> = batch.into_iter().map(|(.., op)| op).collect();
    for (op, result) in batch_ops
        .iter()
        .zip(buildsys.apply_batch(&batch_ops, agent))
    {
        if let Err(error) = result {
            failed.push((op.clone(), error));
        }
    }
    // A move that a dead worker's task finished meanwhile fails now ("not in tag"): what
    // counts is that the build is where it should be.
    let mut failures = Vec::new();
    for (op, error) in failed {
        let nvr = match &op {
            TagOp::Tag { nvr, .. } | TagOp::Move { nvr, .. } => nvr.as_str(),
            _ => "",
        };
        let arrived = buildsys
            .list_tags(nvr)
            .is_ok_and(|tags| tags.iter().any(|t| t.name == target));
        if !arrived {
            failures.push(format!("{}: {error}", op.describe()));
        }
    }
    if !failures.is_empty() {
        return Err(anyhow!("Failed to move builds: {}", python_list(&failures)));
    }
    write_transaction(conn, |conn| {
        work.mark_done("determine_and_perform_tag_actions");
        work.save(conn)
    })?;
    Ok(())
}

/// Out of the pending tags: stable pushes leave the pending-stable tag (and the side tag),
/// testing pushes the signing and pending-testing tags.
fn remove_pending_tags(
    state: &AppState,
    conn: &mut DbConnection,
    work: &mut Work,
) -> anyhow::Result<()> {
    let mut ops = Vec::new();
    let builds = work.builds(conn)?;
    for update in work.updates(conn)? {
        for build in builds.iter().filter(|b| b.update_id == Some(update.id)) {
            let mut tags = match work.request() {
                UpdateRequest::Stable => vec![work.release.pending_stable_tag.clone()],
                _ => vec![
                    work.release.pending_signing_tag.clone(),
                    work.release.pending_testing_tag.clone(),
                ],
            };
            if work.request() == UpdateRequest::Stable
                && let Some(from_tag) = &update.from_tag
            {
                tags.push(from_tag.clone());
            }
            ops.extend(
                tags.iter()
                    .filter(|t| !t.is_empty())
                    .map(|t| TagOp::untag(t, &build.nvr)),
            );
        }
    }
    let mut failures = Vec::new();
    for (op, result) in ops.iter().zip(state.buildsys.apply_batch(&ops, "bodhi")) {
        match result {
            Ok(()) | Err(BuildsysError::NotTagged { .. } | BuildsysError::NoSuchTag(_)) => {}
            Err(error) => failures.push(format!("{}: {error}", op.describe())),
        }
    }
    if !failures.is_empty() {
        return Err(anyhow!(
            "Failed to remove pending tags: {}",
            python_list(&failures)
        ));
    }
    write_transaction(conn, |conn| {
        work.mark_done("remove_pending_tags");
        work.save(conn)
    })?;
    Ok(())
}

/// Testing or stable, with the date, and pushed; the side tags of stable updates are deleted.
fn mark_status_changes(
    state: &AppState,
    conn: &mut DbConnection,
    work: &mut Work,
) -> anyhow::Result<()> {
    let now = now();
    let mut side_tags = Vec::new();
    write_transaction(conn, |conn| -> AppResult<()> {
        for mut update in work.updates(conn)? {
            match work.request() {
                UpdateRequest::Stable => {
                    update.status = UpdateStatus::Stable;
                    update.date_stable = Some(now);
                    side_tags.extend(update.from_tag.clone());
                }
                _ => {
                    update.status = UpdateStatus::Testing;
                    update.date_testing = Some(now);
                }
            }
            update.pushed = true;
            update.save(conn)?;
        }
        work.mark_done("mark_status_changes");
        work.save(conn)?;
        Ok(())
    })?;
    for tag in side_tags {
        match state.buildsys.delete_tag(&tag) {
            Ok(()) | Err(BuildsysError::NoSuchTag(_)) => {}
            Err(error) => tracing::warn!(tag, %error, "the side tag was not deleted"),
        }
    }
    Ok(())
}

fn status_comments(
    state: &AppState,
    conn: &mut DbConnection,
    work: &mut Work,
) -> anyhow::Result<()> {
    let text = match work.request() {
        UpdateRequest::Stable => "This update has been pushed to stable.",
        _ => "This update has been pushed to testing.",
    };
    let topic = match work.request() {
        UpdateRequest::Stable => "bodhi.update.complete.stable",
        _ => "bodhi.update.complete.testing",
    };
    let mut ctx = Ctx::new(&state.settings, now());
    write_transaction(conn, |conn| -> AppResult<()> {
        let updates = work.updates(conn)?;
        for update in &updates {
            system_comment(conn, &mut ctx, update, text)?;
        }
        // Bodhi's modify_bugs: ON_QA, or closed (commented only) for stable updates.
        let key = format!("compose:{}", events::compose_key(work));
        for update in &updates {
            crate::services::bugs::queue_pushed(conn, &state.settings, update, &key, ctx.now)?;
        }
        // Bodhi's send_notifications: one message per update, after the status change.
        let bodies = events::update_bodies(conn, &state.settings, updates.clone())?;
        for update in &updates {
            events::queue(
                conn,
                work,
                &format!("complete:{}", update.alias),
                topic,
                json!({"update": bodies.get(&update.id), "agent": events::AGENT}),
            )?;
        }
        work.mark_done("status_comments");
        work.save(conn)?;
        Ok(())
    })?;
    Ok(())
}

/// Bodhi's `send_stable_announcements` and, for RPM testing pushes, `send_testing_digest`.
fn send_notices(
    state: &AppState,
    conn: &mut DbConnection,
    work: &mut Work,
    content_type: Option<ContentType>,
) -> anyhow::Result<()> {
    let digest = work.request() != UpdateRequest::Stable && content_type == Some(ContentType::Rpm);
    let wanted = (work.request() == UpdateRequest::Stable || digest)
        && notices::mailing_list(&state.settings, &work.release, work.request()).is_some();
    let facts = if wanted {
        let nvrs: Vec<String> = work.builds(conn)?.into_iter().map(|b| b.nvr).collect();
        notices::gather(state.buildsys.as_ref(), &work.release, &nvrs)?
    } else {
        Default::default()
    };
    write_transaction(conn, |conn| -> anyhow::Result<()> {
        if wanted && work.request() == UpdateRequest::Stable {
            notices::queue_announcements(conn, &state.settings, work, &facts)?;
        } else if wanted {
            notices::queue_testing_digest(conn, &state.settings, work, &facts)?;
        }
        work.mark_done("send_notices");
        work.save(conn)?;
        Ok(())
    })
}

fn unlock_updates(conn: &mut DbConnection, work: &mut Work) -> anyhow::Result<()> {
    write_transaction(conn, |conn| -> AppResult<()> {
        for mut update in work.updates(conn)? {
            update.request = None;
            update.locked = false;
            update.save(conn)?;
        }
        work.mark_done("unlock_updates");
        work.save(conn)?;
        Ok(())
    })?;
    Ok(())
}

/// Testing pushes check the karma thresholds again (karma that came while the update was
/// locked); every push obsoletes older updates of the same packages.
fn thresholds_and_obsoleting(
    state: &AppState,
    conn: &mut DbConnection,
    work: &mut Work,
) -> anyhow::Result<()> {
    let mut ctx = Ctx::new(&state.settings, now());
    write_transaction(conn, |conn| -> AppResult<()> {
        let agent = system_user(conn, &state.settings, ctx.now)?.name;
        for mut update in work.updates(conn)? {
            if work.request() == UpdateRequest::Testing
                && let Err(error) = check_karma_thresholds(conn, &mut ctx, &mut update, &agent)
            {
                tracing::warn!(alias = %update.alias, ?error, "karma thresholds not applied");
            }
            if let Err(error) = obsolete_older_updates(conn, &mut ctx, &mut update) {
                tracing::warn!(alias = %update.alias, %error, "problem obsoleting older updates");
            }
        }
        work.mark_done("thresholds_and_obsoleting");
        work.save(conn)?;
        Ok(())
    })?;
    crate::worker::periodic::run_jobs(state, ctx.jobs);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::py_repr;

    #[test]
    fn reasons_are_quoted_as_python_does() {
        assert_eq!(py_repr("Not enough karma"), "'Not enough karma'");
        assert_eq!(py_repr("it's late"), "\"it's late\"");
    }
}
