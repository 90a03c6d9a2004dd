//! Builds the signer moved into a pending-testing tag (Bodhi's Signed consumer, spec §2.3 and
//! §2.4). Each such event marks the build signed. When every build of an update is signed, a
//! side-tag update of a release Pipal composes is submitted to testing, and an update of a
//! release Pipal does not compose goes to testing at once, its builds moved from the
//! pending-testing tag to the testing tag.
//!
//! Events come from the build system's tag messages when a bus is configured, and from
//! [`reconcile`], which reads the pending-testing tags themselves, so a lost message never
//! leaves an update stuck (Bodhi #4032, #5989). Handling an event twice changes nothing.

use std::collections::{BTreeMap, BTreeSet};

use diesel::prelude::*;

use crate::buildsys::{BuildSystem, ListTaggedOptions};
use crate::db::DbConnection;
use crate::db::schema::{builds, releases, updates};
use crate::db::types::{ReleaseState, UpdateRequest, UpdateStatus};
use crate::error::AppResult;
use crate::models::build::Build;
use crate::models::release::Release;
use crate::models::update::Update;
use crate::services::tagging::TagOp;

use super::requests::set_request;
use super::{Ctx, builds_of, release_of};

/// What a tag event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signed {
    /// Not a build of an update, or not its pending-testing tag.
    Ignored,
    /// The build was marked signed (or already was); other builds still wait.
    Marked,
    /// The last build was signed and the update moved on (submitted, or in testing).
    UpdateReady,
}

/// The tag whose arrival means "signed" for this update's builds.
pub fn pending_testing_tag_of(update: &Update, release: &Release) -> Option<String> {
    match &update.from_tag {
        Some(from_tag) if !release.composed_by_bodhi => Some(format!("{from_tag}-testing-pending")),
        _ => Some(release.pending_testing_tag.clone()).filter(|t| !t.is_empty()),
    }
}

/// Handles "build `nvr` was tagged into `tag`".
pub fn build_tagged(
    conn: &mut DbConnection,
    ctx: &mut Ctx<'_>,
    tag: &str,
    nvr: &str,
    agent: &str,
) -> AppResult<Signed> {
    let Some(build) = Build::by_nvr(conn, nvr)? else {
        return Ok(Signed::Ignored);
    };
    let Some(update_id) = build.update_id else {
        return Ok(Signed::Ignored);
    };
    let mut update = Update::by_id_for_update(conn, update_id)?;
    let release = release_of(conn, &update)?;
    if pending_testing_tag_of(&update, &release).as_deref() != Some(tag) {
        return Ok(Signed::Ignored);
    }
    if !build.signed {
        diesel::update(builds::table.find(build.id))
            .set(builds::signed.eq(true))
            .execute(conn)?;
    }
    let builds = builds_of(conn, update.id)?;
    if builds.iter().any(|b| !b.signed) || update.status != UpdateStatus::Pending {
        return Ok(Signed::Marked);
    }
    if !release.composed_by_bodhi {
        update.status = UpdateStatus::Testing;
        update.request = None;
        update.pushed = true;
        update.date_testing = Some(ctx.now);
        let ops = builds
            .iter()
            .map(|b| TagOp::Move {
                from: tag.to_owned(),
                to: release.testing_tag.clone(),
                nvr: b.nvr.clone(),
            })
            .collect();
        update.save(conn)?;
        ctx.tag(conn, &update, agent, ops)?;
        return Ok(Signed::UpdateReady);
    }
    if update.from_tag.is_some() && update.request.is_none() && !update.locked {
        set_request(conn, ctx, &mut update, UpdateRequest::Testing, agent)?;
        update.save(conn)?;
        return Ok(Signed::UpdateReady);
    }
    Ok(Signed::Marked)
}

/// What one reconcile pass found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reconciled {
    /// Pending-testing tags read.
    pub tags_read: usize,
    /// Builds found signed that Pipal had not been told about.
    pub signed: usize,
}

/// The unsigned builds of pending updates in active releases, grouped by the tag whose arrival
/// would mean "signed": (tag, NVRs).
pub fn waiting_for_signature(
    conn: &mut DbConnection,
) -> AppResult<BTreeMap<String, BTreeSet<String>>> {
    let rows: Vec<(String, Option<String>, Release)> = builds::table
        .inner_join(updates::table.inner_join(releases::table))
        .filter(builds::signed.eq(false))
        .filter(updates::status.eq(UpdateStatus::Pending))
        .filter(releases::state.ne(ReleaseState::Archived))
        .select((builds::nvr, updates::from_tag, Release::as_select()))
        .load(conn)?;
    let mut waiting: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (nvr, from_tag, release) in rows {
        let tag = match from_tag {
            Some(from_tag) if !release.composed_by_bodhi => format!("{from_tag}-testing-pending"),
            _ => release.pending_testing_tag.clone(),
        };
        if !tag.is_empty() {
            waiting.entry(tag).or_default().insert(nvr);
        }
    }
    Ok(waiting)
}

/// Reads each pending-testing tag that unsigned builds wait for (one `listTagged` per tag) and
/// returns the (tag, NVR) pairs found there: signed builds whose event Pipal missed.
pub fn missed_signatures(
    buildsys: &dyn BuildSystem,
    waiting: &BTreeMap<String, BTreeSet<String>>,
    reconciled: &mut Reconciled,
) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (tag, nvrs) in waiting {
        reconciled.tags_read += 1;
        match buildsys.list_tagged(tag, &ListTaggedOptions::default()) {
            Ok(tagged) => found.extend(
                tagged
                    .into_iter()
                    .filter(|t| nvrs.contains(&t.build.nvr))
                    .map(|t| (tag.clone(), t.build.nvr)),
            ),
            Err(error) => tracing::warn!(tag, %error, "cannot read a pending-testing tag"),
        }
    }
    found
}
