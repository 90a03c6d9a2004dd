//! Bodhi's `check_signed_builds` (spec §2.12): repairs pending updates whose signing got stuck,
//! by reading the build system's tags. A build the signer moved to the pending-testing tag is
//! marked signed even if its message was lost; a build waiting in the signing tag is re-tagged
//! there to nudge the signer; a build never sent for signing is sent; an update ejected from a
//! push and left in the testing tag is submitted to testing again; an update without builds
//! is obsoleted.

use chrono::Duration;
use diesel::prelude::*;

use crate::buildsys::BuildSystem;
use crate::db::DbConnection;
use crate::db::schema::{builds, releases, updates};
use crate::db::types::{ReleaseState, UpdateRequest, UpdateStatus};
use crate::error::AppResult;
use crate::models::update::Update;
use crate::services::tagging::TagOp;

use super::requests::{obsolete, set_request};
use super::{Ctx, builds_of, release_of};

/// What one run changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Repairs {
    pub marked_signed: usize,
    pub resent_for_signing: usize,
    pub sent_for_signing: usize,
    pub resubmitted: usize,
    pub obsoleted: usize,
}

/// The pending, unlocked updates of active releases submitted before the delay: the ones
/// `check_signed_builds` looks at.
pub fn candidates(conn: &mut DbConnection, ctx: &Ctx<'_>) -> QueryResult<Vec<i32>> {
    let delay = Duration::days(ctx.settings.rules.check_signed_builds_delay_days);
    updates::table
        .inner_join(releases::table)
        .filter(updates::status.eq(UpdateStatus::Pending))
        .filter(updates::locked.eq(false))
        .filter(releases::state.eq_any([
            ReleaseState::Current,
            ReleaseState::Pending,
            ReleaseState::Frozen,
        ]))
        .filter(updates::date_submitted.lt(ctx.now - delay))
        .order(updates::id.asc())
        .select(updates::id)
        .load(conn)
}

/// Checks one update; adds what it changed to `repairs`.
pub fn check_update(
    conn: &mut DbConnection,
    ctx: &mut Ctx<'_>,
    buildsys: &dyn BuildSystem,
    update_id: i32,
    agent: &str,
    repairs: &mut Repairs,
) -> AppResult<()> {
    let mut update = Update::by_id_for_update(conn, update_id)?;
    if update.status != UpdateStatus::Pending || update.locked {
        return Ok(());
    }
    let release = release_of(conn, &update)?;
    let builds = builds_of(conn, update.id)?;
    if builds.is_empty() {
        obsolete(conn, ctx, &mut update, None, agent)?;
        repairs.obsoleted += 1;
        return Ok(());
    }
    let signing_tag = release.pending_signing_tag.clone();
    let testing_pending_tag = release.pending_testing_tag.clone();
    let mut ops = Vec::new();
    for build in &builds {
        let tags: Vec<String> = buildsys
            .list_tags(&build.nvr)?
            .into_iter()
            .map(|t| t.name)
            .collect();
        let has = |tag: &str| !tag.is_empty() && tags.iter().any(|t| t == tag);
        if build.signed {
            // Ejected from a push and stuck: in the testing tag but no longer a candidate.
            // (Bodhi also resets `signed` on every signed build of a pending update so that its
            // message consumer acts again; Pipal reads the tags instead, so it only does so for
            // the builds it sends back to signing.)
            if has(&release.testing_tag) && !has(&release.candidate_tag) {
                mark_unsigned(conn, &builds)?;
                if update.from_tag.is_some() {
                    for build in &builds {
                        ops.push(TagOp::tag(&signing_tag, &build.nvr));
                        ops.push(TagOp::tag(&release.candidate_tag, &build.nvr));
                    }
                    ctx.tag(conn, &update, agent, std::mem::take(&mut ops))?;
                } else {
                    update.request = None;
                    set_request(conn, ctx, &mut update, UpdateRequest::Testing, agent)?;
                    update.save(conn)?;
                }
                repairs.resubmitted += 1;
                return Ok(());
            }
            continue;
        }
        if !has(&signing_tag) && has(&testing_pending_tag) {
            diesel::update(builds::table.find(build.id))
                .set(builds::signed.eq(true))
                .execute(conn)?;
            repairs.marked_signed += 1;
        } else if has(&signing_tag) && !has(&testing_pending_tag) {
            ops.push(TagOp::untag(&signing_tag, &build.nvr));
            ops.push(TagOp::tag(&signing_tag, &build.nvr));
            repairs.resent_for_signing += 1;
        } else if update.from_tag.is_none()
            && !signing_tag.is_empty()
            && !has(&signing_tag)
            && !has(&testing_pending_tag)
        {
            ops.push(TagOp::tag(&signing_tag, &build.nvr));
            repairs.sent_for_signing += 1;
        }
    }
    if !ops.is_empty() {
        ctx.tag(conn, &update, agent, ops)?;
    }
    Ok(())
}

fn mark_unsigned(
    conn: &mut DbConnection,
    builds: &[crate::models::build::Build],
) -> QueryResult<()> {
    let ids: Vec<i32> = builds.iter().map(|b| b.id).collect();
    diesel::update(builds::table.filter(builds::id.eq_any(ids)))
        .set(builds::signed.eq(false))
        .execute(conn)
        .map(drop)
}
