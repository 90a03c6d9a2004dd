//! Bodhi's `approve_testing` (spec §2.7), run by the worker every three minutes: updates in
//! testing that meet their requirements are approved, and pushed to stable when they push
//! themselves by time.

use diesel::prelude::*;

use crate::buildsys::{BuildSystem, ListTaggedOptions, TagOp};
use crate::db::DbConnection;
use crate::db::schema::updates;
use crate::db::types::{UpdateRequest, UpdateStatus};
use crate::error::AppResult;
use crate::models::update::Update;
use crate::services::requirements::{days_in_testing, meets_requirements_why};

use super::comments::{system_comment, system_comment_with};
use super::requests::{set_request, tag_all, untag_all};
use super::{Ctx, builds_of, karma_of, release_of, system_user};

/// Bodhi's `testing_approval_msg`.
pub const TESTING_APPROVAL: &str =
    "This update can be pushed to stable now if the maintainer wishes";

/// The updates `approve_testing` looks at: in testing, with no request.
pub fn candidates(conn: &mut DbConnection) -> QueryResult<Vec<i32>> {
    updates::table
        .filter(updates::status.eq(UpdateStatus::Testing))
        .filter(updates::request.is_null())
        .order(updates::id.asc())
        .select(updates::id)
        .load(conn)
}

/// Whether the system already said, since the last karma reset, that the update may go to
/// stable.
fn has_stable_comment(conn: &mut DbConnection, ctx: &Ctx<'_>, update: &Update) -> AppResult<bool> {
    let system = system_user(conn, ctx.settings, ctx.now)?;
    let comments = crate::models::comment::Comment::for_updates(conn, &[update.id])?;
    for comment in comments.iter().rev() {
        if comment.user_id == system.id
            && (comment.text.contains("New build") || comment.text.contains("Removed build"))
        {
            return Ok(false);
        }
        if comment.user_id == system.id && comment.text == TESTING_APPROVAL {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Processes one update; returns true when it changed.
pub fn process_update(
    conn: &mut DbConnection,
    ctx: &mut Ctx<'_>,
    buildsys: &dyn BuildSystem,
    update_id: i32,
) -> AppResult<bool> {
    let mut update = Update::by_id_for_update(conn, update_id)?;
    if update.status != UpdateStatus::Testing || update.request.is_some() || update.locked {
        return Ok(false);
    }
    let release = release_of(conn, &update)?;
    let karma = karma_of(conn, update.id, ctx.settings)?;
    let (met, _) =
        meets_requirements_why(&update, &release, karma.total, &ctx.settings.rules, ctx.now);
    if !met {
        return Ok(false);
    }
    if update.date_approved.is_none() {
        update.date_approved = Some(ctx.now);
        update.save(conn)?;
    }
    if update.autotime && days_in_testing(&update, ctx.now) >= i64::from(update.stable_days) {
        let agent = system_user(conn, ctx.settings, ctx.now)?.name;
        if release.composed_by_bodhi {
            set_request(conn, ctx, &mut update, UpdateRequest::Stable, &agent)?;
            return Ok(true);
        }
        push_to_stable_directly(conn, ctx, buildsys, &mut update, &agent)?;
        return Ok(true);
    }
    if !has_stable_comment(conn, ctx, &update)? {
        // Bodhi mails it only for the releases it composes.
        system_comment_with(
            conn,
            ctx,
            &update,
            TESTING_APPROVAL,
            release.composed_by_bodhi,
        )?;
        crate::services::messages::requirements_met(conn, ctx, &update)?;
        return Ok(true);
    }
    Ok(false)
}

/// Releases not composed by Pipal: the update goes to the stable tag here, unless a newer build
/// of one of its packages is already stable.
fn push_to_stable_directly(
    conn: &mut DbConnection,
    ctx: &mut Ctx<'_>,
    buildsys: &dyn BuildSystem,
    update: &mut Update,
    agent: &str,
) -> AppResult<()> {
    let release = release_of(conn, update)?;
    let builds = builds_of(conn, update.id)?;
    let mut conflicting = Vec::new();
    for build in &builds {
        let Some(info) = buildsys.get_build(&build.nvr)? else {
            continue;
        };
        let options = ListTaggedOptions {
            latest: true,
            inherit: true,
            package: Some(&info.package_name),
            prefix: None,
        };
        if let Ok(latest) = buildsys.list_tagged(&release.stable_tag, &options)
            && latest
                .iter()
                .any(|l| l.build.nvr != build.nvr && l.build.creation_time > info.creation_time)
        {
            conflicting.push(build.nvr.clone());
        }
    }
    if !conflicting.is_empty() {
        system_comment(
            conn,
            ctx,
            update,
            &format!(
                "This update cannot be pushed to stable. These builds {} have a more recent \
                 build in koji's {} tag.",
                conflicting.join(", "),
                release.stable_tag
            ),
        )?;
        update.request = None;
        if update.from_tag.is_some() {
            update.status = UpdateStatus::Pending;
        } else {
            update.status = UpdateStatus::Obsolete;
            let mut ops = untag_all(&builds, &release.pending_testing_tag);
            ops.extend(untag_all(&builds, &release.candidate_tag));
            ctx.tag(conn, update, agent, ops)?;
        }
        update.save(conn)?;
        return Ok(());
    }
    let mut ops = tag_all(&builds, &release.stable_tag);
    match update.from_tag.as_deref() {
        // The side tag has done its job: it goes, with its signing and testing tags.
        Some(from_tag) => {
            for tag in [
                format!("{from_tag}-signing-pending"),
                format!("{from_tag}-testing-pending"),
                from_tag.to_owned(),
            ] {
                ops.push(TagOp::DeleteTag { name: tag });
            }
            ops.extend(untag_all(&builds, &release.testing_tag));
        }
        None => {
            for tag in [
                &release.pending_testing_tag,
                &release.pending_stable_tag,
                &release.pending_signing_tag,
                &release.testing_tag,
                &release.candidate_tag,
            ] {
                ops.extend(untag_all(&builds, tag));
            }
        }
    }
    ctx.tag(conn, update, agent, ops)?;
    update.status = UpdateStatus::Stable;
    update.request = None;
    update.pushed = true;
    update.date_stable = Some(ctx.now);
    update.save(conn)?;
    crate::services::bugs::queue_pushed(conn, ctx.settings, update, "stable", ctx.now)?;
    system_comment(
        conn,
        ctx,
        update,
        "This update has been submitted for stable by bodhi",
    )?;
    Ok(())
}
