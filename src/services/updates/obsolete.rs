//! Obsoleting older updates (spec §2.9): a newer build of the same packages replaces an update
//! still pending or in testing, which hands over its bugs and notes.

use std::sync::LazyLock;

use diesel::prelude::*;
use regex::Regex;

use crate::db::DbConnection;
use crate::db::schema::{builds, packages, updates};
use crate::db::types::{UpdateRequest, UpdateStatus, UpdateType};
use crate::error::AppResult;
use crate::models::bug::Bug;
use crate::models::build::Build;
use crate::models::update::Update;
use crate::models::user::User;

use super::comments::system_comment;
use super::save::set_bugs;
use super::{Caveat, Ctx, builds_of, compare_evr, requests, split_nvr};

/// The changelog block that automatic updates append to their notes.
static CHANGELOG_BLOCK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?s)\n##### \*\*Changelog\*\*\n\n```\n.*\n```").expect("a valid pattern")
});

fn package_names(conn: &mut DbConnection, update_id: i32) -> QueryResult<Vec<String>> {
    builds::table
        .inner_join(packages::table)
        .filter(builds::update_id.eq(update_id))
        .select(packages::name)
        .load(conn)
}

fn url_of(ctx: &Ctx<'_>, alias: &str) -> String {
    format!("{}updates/{alias}", ctx.settings.base_address())
}

/// Bodhi's `obsolete_older_updates` for `update`; returns its caveats.
pub fn obsolete_older_updates(
    conn: &mut DbConnection,
    ctx: &mut Ctx<'_>,
    update: &mut Update,
) -> AppResult<Vec<Caveat>> {
    let mut caveats = Vec::new();
    let own_builds = builds_of(conn, update.id)?;
    let own_packages = package_names(conn, update.id)?;
    let owner = match update.user_id {
        Some(id) => Some(User::by_id(conn, id)?),
        None => None,
    };
    for build in &own_builds {
        let candidates: Vec<(Build, Update)> = builds::table
            .inner_join(updates::table)
            .filter(builds::nvr.ne(&build.nvr))
            .filter(builds::package_id.eq(build.package_id))
            .filter(updates::locked.eq(false))
            .filter(updates::release_id.eq(update.release_id))
            .filter(updates::id.ne(update.id))
            .filter(updates::status.eq_any([UpdateStatus::Testing, UpdateStatus::Pending]))
            .select((Build::as_select(), Update::as_select()))
            .load(conn)?;
        for (old_build, mut old) in candidates {
            // A stable request is only obsoleted by another stable request.
            if old.request == Some(UpdateRequest::Stable)
                && update.request != Some(UpdateRequest::Stable)
            {
                continue;
            }
            let (Some((_, old_v, old_r)), Some((_, new_v, new_r))) =
                (split_nvr(&old_build.nvr), split_nvr(&build.nvr))
            else {
                continue;
            };
            let mut obsoletable =
                compare_evr((old_build.epoch, old_v, old_r), (build.epoch, new_v, new_r)).is_lt();
            let old_packages = package_names(conn, old.id)?;
            if old_packages.iter().any(|p| !own_packages.contains(p)) {
                obsoletable = false;
            }
            let old_builds = builds_of(conn, old.id)?;
            if old_builds.len() != own_builds.len() && old.user_id != update.user_id {
                let old_owner = match old.user_id {
                    Some(id) => User::by_id(conn, id)?.name,
                    None => String::new(),
                };
                caveats.push(Caveat::new(
                    "update",
                    format!(
                        "Please be aware that there is another update in flight owned by \
                         {old_owner}, containing {}. Are you coordinating with them?",
                        old_build.nvr
                    ),
                ));
            }
            if old.update_type == UpdateType::Security && update.update_type != UpdateType::Security
            {
                caveats.push(Caveat::new(
                    "update",
                    "Adjusting type of this update to security,since it obsoletes another \
                     security update",
                ));
                update.update_type = UpdateType::Security;
                update.severity = old.severity;
                update.save(conn)?;
            }
            if !obsoletable {
                continue;
            }
            let mut bug_ids: Vec<i32> = Bug::for_updates(conn, &[update.id])?
                .into_iter()
                .map(|(_, b)| b.bug_id)
                .collect();
            for (_, bug) in Bug::for_updates(conn, &[old.id])? {
                if !bug_ids.contains(&bug.bug_id) {
                    bug_ids.push(bug.bug_id);
                }
            }
            set_bugs(conn, update, &bug_ids)?;
            let old_notes = CHANGELOG_BLOCK.replace_all(&old.notes, "");
            let notes = format!("{}\n\n----\n\n{old_notes}", update.notes);
            if notes.chars().count() <= ctx.settings.rules.update_notes_maxlength {
                update.notes = notes;
            }
            update.save(conn)?;
            let agent = owner
                .as_ref()
                .map_or("bodhi", |o| o.name.as_str())
                .to_owned();
            let new_url = url_of(ctx, &update.alias);
            requests::obsolete(conn, ctx, &mut old, Some((&build.nvr, &new_url)), &agent)?;
            let old_url = url_of(ctx, &old.alias);
            system_comment(
                conn,
                ctx,
                update,
                &format!(
                    "This update has obsoleted [{}]({old_url}), and has inherited its bugs and \
                     notes.",
                    old_build.nvr
                ),
            )?;
            caveats.push(Caveat::new(
                "update",
                format!(
                    "This update has obsoleted {}, and has inherited its bugs and notes.",
                    old_build.nvr
                ),
            ));
        }
    }
    Ok(caveats)
}
