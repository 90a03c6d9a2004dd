//! Requests on updates (spec §2.5): Bodhi's `set_request` with its checks in their order, and
//! the actions behind it (unpush, revoke, obsolete).

use crate::db::DbConnection;
use crate::db::types::{ReleaseState, UpdateRequest, UpdateStatus};
use crate::error::AppResult;
use crate::models::build::Build;
use crate::models::update::Update;
use crate::services::messages;
use crate::services::requirements::meets_requirements_why;
use crate::services::tagging::TagOp;

use super::comments::system_comment;
use super::{
    Ctx, builds_of, karma_of, known_tags, obsolete::obsolete_older_updates, refused, release_of,
};

/// Bodhi's `not_yet_tested_msg` (and the EPEL variant), before the reason.
pub const NOT_YET_TESTED: &str = "This update has not yet met the minimum testing requirements \
defined in the <a href=\"https://fedoraproject.org/wiki/Package_update_acceptance_criteria\">\
Package Update Acceptance Criteria</a>";
pub const NOT_YET_TESTED_EPEL: &str = "This update has not yet met the minimum testing \
requirements defined in the <a href=\"https://fedoraproject.org/wiki/EPEL_Updates_Policy\">EPEL \
Update Policy</a>";
pub const FREEZE_NOTICE: &str =
    "There is an ongoing freeze; this will be pushed to stable after the freeze is over. ";

fn request_error(message: impl Into<String>) -> crate::error::AppError {
    refused("request", message)
}

/// Bodhi's `set_request(action, username)`, in Bodhi's order of checks.
pub fn set_request(
    conn: &mut DbConnection,
    ctx: &mut Ctx<'_>,
    update: &mut Update,
    action: UpdateRequest,
    username: &str,
) -> AppResult<()> {
    let mut action = action;
    if action.as_str() == update.status.as_str() {
        return Ok(());
    }
    if Some(action) == update.request {
        return Ok(());
    }
    if update.locked {
        return Err(request_error("Can't change the request on a locked update"));
    }
    let release = release_of(conn, update)?;
    // Bodhi blocks only `stable` here (its check reads `action == (stable or testing)`).
    if !release.composed_by_bodhi && action == UpdateRequest::Stable {
        return Err(request_error(
            "Setting a request on an Update for a Release not composed by Bodhi is not allowed",
        ));
    }
    match action {
        UpdateRequest::Unpush => {
            unpush(conn, ctx, update, username)?;
            update.save(conn)?;
            let author = crate::services::accounts::existing_user(conn, username)?;
            super::comments::add_comment(
                conn,
                ctx,
                update,
                super::comments::CommentInput::text(&author, "This update has been unpushed."),
            )?;
            messages::request(conn, ctx, update, action, username)?;
            return Ok(());
        }
        UpdateRequest::Obsolete => {
            obsolete(conn, ctx, update, None, username)?;
            update.save(conn)?;
            messages::request(conn, ctx, update, action, username)?;
            return Ok(());
        }
        UpdateRequest::Revoke => {
            if update.status == UpdateStatus::Pending
                && update.request == Some(UpdateRequest::Testing)
            {
                update.status = UpdateStatus::Unpushed;
            }
            revoke(conn, ctx, update, username)?;
            update.save(conn)?;
            messages::request(conn, ctx, update, action, username)?;
            return Ok(());
        }
        _ => {}
    }
    if action == UpdateRequest::Stable
        && update.status == UpdateStatus::Pending
        && release.state == ReleaseState::Frozen
    {
        return Err(request_error(
            "The release of this update is frozen and the update has not yet been pushed to \
             testing. It is currently not possible to push it to stable.",
        ));
    }
    let mut notes = Vec::new();
    if action == UpdateRequest::Stable {
        let karma = karma_of(conn, update.id, ctx.settings)?;
        let (met, reason) =
            meets_requirements_why(update, &release, karma.total, &ctx.settings.rules, ctx.now);
        if !met {
            let intro = if release.id_prefix == "FEDORA-EPEL" {
                NOT_YET_TESTED_EPEL
            } else {
                NOT_YET_TESTED
            };
            notes.push(format!("{intro}: {reason}"));
            if update.status == UpdateStatus::Testing {
                update.request = None;
                update.save(conn)?;
                return Err(request_error(notes.join(". ")));
            } else if update.request == Some(UpdateRequest::Testing) {
                return Err(request_error(notes.join(". ")));
            }
            action = UpdateRequest::Testing;
        }
    }
    let builds = builds_of(conn, update.id)?;
    let mut ops = Vec::new();
    if action == UpdateRequest::Testing && update.from_tag.is_none() {
        ops.extend(tag_all(&builds, &release.pending_signing_tag));
        // Bodhi adds the candidate tag back when it is missing (after an unpush, #5400);
        // tagging is idempotent, so it is added unconditionally.
        ops.extend(tag_all(&builds, &release.candidate_tag));
    } else if action == UpdateRequest::Stable {
        ops.extend(tag_all(&builds, &release.pending_stable_tag));
        if update.request == Some(UpdateRequest::Testing) {
            ops.extend(untag_all(&builds, &release.pending_testing_tag));
        }
    }
    ctx.tag(conn, update, username, ops)?;
    if matches!(
        update.status,
        UpdateStatus::Obsolete | UpdateStatus::Unpushed
    ) {
        update.status = UpdateStatus::Pending;
    }
    update.request = Some(action);
    update.save(conn)?;
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!("{}.", notes.join(". "))
    };
    let mut text = format!(
        "This update has been submitted for {} by {username}. {notes}",
        action.description()
    );
    if release.state == ReleaseState::Frozen && action == UpdateRequest::Stable {
        text.push_str(&format!("\n\n{FREEZE_NOTICE}"));
    }
    system_comment(conn, ctx, update, &text)?;
    messages::request(conn, ctx, update, action, username)?;
    if action == UpdateRequest::Stable {
        obsolete_older_updates(conn, ctx, update)?;
    }
    Ok(())
}

pub fn tag_all(builds: &[Build], tag: &str) -> Vec<TagOp> {
    builds.iter().map(|b| TagOp::tag(tag, &b.nvr)).collect()
}

pub fn untag_all(builds: &[Build], tag: &str) -> Vec<TagOp> {
    builds.iter().map(|b| TagOp::untag(tag, &b.nvr)).collect()
}

/// Bodhi's `untag`: takes the builds out of every tag Bodhi knows (candidate, testing, stable,
/// override and pending tags of active releases), keeping the override tags if asked.
pub fn untag_known(
    conn: &mut DbConnection,
    ctx: &mut Ctx<'_>,
    update: &mut Update,
    agent: &str,
    preserve_override: bool,
) -> AppResult<()> {
    let release = release_of(conn, update)?;
    let builds = builds_of(conn, update.id)?;
    let mut ops = Vec::new();
    for (tag, _, _) in known_tags(conn)? {
        if preserve_override && tag == release.override_tag {
            continue;
        }
        ops.extend(untag_all(&builds, &tag));
    }
    ctx.tag(conn, update, agent, ops)?;
    update.pushed = false;
    Ok(())
}

/// Bodhi's `unpush`: a testing update goes back to the candidate tag.
pub fn unpush(
    conn: &mut DbConnection,
    ctx: &mut Ctx<'_>,
    update: &mut Update,
    agent: &str,
) -> AppResult<()> {
    if update.status == UpdateStatus::Unpushed {
        return Ok(());
    }
    if update.status != UpdateStatus::Testing {
        return Err(request_error(format!(
            "Can't unpush a {} update",
            update.status.description()
        )));
    }
    untag_known(conn, ctx, update, agent, true)?;
    let release = release_of(conn, update)?;
    let builds = builds_of(conn, update.id)?;
    ctx.tag(
        conn,
        update,
        agent,
        tag_all(&builds, &release.candidate_tag),
    )?;
    update.pushed = false;
    update.status = UpdateStatus::Unpushed;
    update.request = None;
    Ok(())
}

/// Bodhi's `revoke`: drops the request and the tags it added.
pub fn revoke(
    conn: &mut DbConnection,
    ctx: &mut Ctx<'_>,
    update: &mut Update,
    agent: &str,
) -> AppResult<()> {
    let Some(request) = update.request else {
        return Err(request_error(
            "Can only revoke an update with an existing request",
        ));
    };
    if !matches!(
        update.status,
        UpdateStatus::Pending
            | UpdateStatus::Testing
            | UpdateStatus::Obsolete
            | UpdateStatus::Unpushed
    ) {
        return Err(request_error(format!(
            "Can only revoke a pending, testing, unpushed, or obsolete update, not one that is {}",
            update.status.description()
        )));
    }
    let release = release_of(conn, update)?;
    let builds = builds_of(conn, update.id)?;
    let ops = match request {
        UpdateRequest::Testing => {
            let mut ops = untag_all(&builds, &release.pending_signing_tag);
            ops.extend(untag_all(&builds, &release.pending_testing_tag));
            ops
        }
        UpdateRequest::Stable => untag_all(&builds, &release.pending_stable_tag),
        _ => Vec::new(),
    };
    ctx.tag(conn, update, agent, ops)?;
    update.request = None;
    Ok(())
}

/// Bodhi's `obsolete`: untagged from every known tag, status obsolete, with a comment.
pub fn obsolete(
    conn: &mut DbConnection,
    ctx: &mut Ctx<'_>,
    update: &mut Update,
    newer: Option<(&str, &str)>,
    agent: &str,
) -> AppResult<()> {
    untag_known(conn, ctx, update, agent, false)?;
    update.status = UpdateStatus::Obsolete;
    update.request = None;
    update.save(conn)?;
    let text = match newer {
        Some((nvr, url)) => format!("This update has been obsoleted by [{nvr}]({url})."),
        None => "This update has been obsoleted.".to_owned(),
    };
    system_comment(conn, ctx, update, &text)?;
    Ok(())
}
