//! Automatic updates (spec §2.3, Bodhi's AutomaticUpdateHandler): a build tagged into the
//! candidate tag of a release with `create_automatic_updates` becomes an update of its own,
//! owned by the build's owner, with the changelog since the last stable build as its notes and
//! the bugs that changelog closes. Its builds then wait for the signer like any update's.
//!
//! [`gather`] asks the build system what it needs before the transaction; [`create`] writes
//! the update inside it. Both are safe to run again: a build that already has an update is
//! left alone, so a redelivered message creates nothing twice.

use chrono::DateTime;
use diesel::prelude::*;
use regex::RegexBuilder;

use crate::buildsys::{BuildInfo, BuildSystem, ChangelogEntry, ListTaggedOptions};
use crate::db::DbConnection;
use crate::db::schema::{builds, releases};
use crate::db::types::{ContentType, ReleaseState, TestGatingStatus, UpdateStatus, UpdateType};
use crate::error::AppResult;
use crate::models::build::{Build, NewBuild};
use crate::models::package::Package;
use crate::models::release::Release;
use crate::models::update::{NewUpdate, Update, new_alias};
use crate::models::user::{NewUser, User};
use crate::services::critpath;

use super::comments::system_comment;
use super::save::{infer_content_type, set_bugs};
use super::{Ctx, obsolete, requests::tag_all};

/// Bodhi skips NVRs longer than its `Build.nvr` column holds.
const MAX_NVR_LENGTH: usize = 100;

/// What stands in for a changelog that would not fit in the notes.
const CHANGELOG_TOO_LONG: &str = "[CHANGELOG OMITTED BECAUSE TOO LONG]";

/// A candidate build the build system described, ready to become an update.
#[derive(Debug, Clone)]
pub struct CandidateBuild {
    pub release: Release,
    pub info: BuildInfo,
    /// The changelog entries since the last stable build, formatted as Bodhi does.
    pub changelog: String,
}

/// The release whose candidate tag is `tag`, if it takes automatic updates.
pub fn release_for_candidate_tag(
    conn: &mut DbConnection,
    tag: &str,
) -> QueryResult<Option<Release>> {
    releases::table
        .filter(releases::candidate_tag.eq(tag))
        .filter(releases::create_automatic_updates.eq(true))
        .filter(releases::state.ne(ReleaseState::Archived))
        .select(Release::as_select())
        .first(conn)
        .optional()
}

/// Reads the build and its changelog; `None` (with the reason logged) when no update is due.
pub fn gather(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    buildsys: &dyn BuildSystem,
    release: Release,
    nvr: &str,
) -> AppResult<Option<CandidateBuild>> {
    if nvr.len() > MAX_NVR_LENGTH {
        tracing::info!(
            nvr,
            "no automatic update: the NVR is longer than 100 characters"
        );
        return Ok(None);
    }
    if has_update(conn, nvr)? {
        return Ok(None);
    }
    let Some(info) = buildsys.get_build(nvr)? else {
        tracing::info!(
            nvr,
            "no automatic update: the build system does not know the build"
        );
        return Ok(None);
    };
    if ctx
        .settings
        .rules
        .automatic_updates_blacklist
        .contains(&info.owner_name)
    {
        tracing::info!(nvr, owner = %info.owner_name, "no automatic update: owner is in automatic_updates_blacklist");
        return Ok(None);
    }
    let since = last_stable_changelog_time(buildsys, &release, &info)?;
    let entries = buildsys.changelog(nvr)?;
    let changelog = format_changelog(&entries, since);
    Ok(Some(CandidateBuild {
        release,
        info,
        changelog,
    }))
}

fn has_update(conn: &mut DbConnection, nvr: &str) -> QueryResult<bool> {
    Ok(Build::by_nvr(conn, nvr)?.is_some_and(|b| b.update_id.is_some()))
}

/// The time of the newest changelog entry of the package's latest stable build (other than
/// this one): entries after it are what this build brings.
fn last_stable_changelog_time(
    buildsys: &dyn BuildSystem,
    release: &Release,
    build: &BuildInfo,
) -> AppResult<i64> {
    if release.stable_tag.is_empty() {
        return Ok(0);
    }
    let latest = buildsys.list_tagged(
        &release.stable_tag,
        &ListTaggedOptions {
            latest: true,
            inherit: true,
            package: Some(&build.package_name),
            prefix: None,
        },
    )?;
    let Some(stable) = latest.into_iter().find(|t| t.build.nvr != build.nvr) else {
        return Ok(0);
    };
    Ok(buildsys
        .changelog(&stable.build.nvr)?
        .first()
        .map_or(0, |entry| entry.time))
}

/// Bodhi's `Build.get_changelog(timelimit)`: `* {date} {author}\n{text}\n` for each entry
/// newer than `since`, newest first, stopping at the first older one.
pub fn format_changelog(entries: &[ChangelogEntry], since: i64) -> String {
    entries
        .iter()
        .take_while(|entry| entry.time > since)
        .map(|entry| {
            let date = DateTime::from_timestamp(entry.time, 0)
                .map(|d| d.format("%a %b %e %Y").to_string())
                .unwrap_or_default();
            format!("* {date} {}\n{}\n", entry.author, entry.text)
        })
        .collect()
}

/// The notes of an automatic update, the changelog left out when it would not fit.
fn notes_of(nvr: &str, changelog: &str, max_length: usize) -> String {
    let header = format!("Automatic update for {nvr}.");
    if changelog.is_empty() {
        return header;
    }
    let block = |text: &str| format!("{header}\n\n##### **Changelog**\n\n```\n{text}\n```");
    let notes = block(changelog);
    if notes.chars().count() <= max_length {
        notes
    } else {
        block(CHANGELOG_TOO_LONG)
    }
}

/// The bugs the changelog says the build fixes, in order of appearance.
fn bugs_in(changelog: &str, pattern: &str) -> Vec<i32> {
    let Ok(regex) = RegexBuilder::new(pattern).case_insensitive(true).build() else {
        return Vec::new();
    };
    let mut bugs = Vec::new();
    for captures in regex.captures_iter(changelog) {
        if let Some(bug) = captures.get(1).and_then(|m| m.as_str().parse::<i32>().ok())
            && !bugs.contains(&bug)
        {
            bugs.push(bug);
        }
    }
    bugs
}

/// Creates the automatic update of `candidate`; `None` when the build got an update meanwhile.
pub fn create(
    conn: &mut DbConnection,
    ctx: &mut Ctx<'_>,
    candidate: &CandidateBuild,
    agent: &str,
) -> AppResult<Option<Update>> {
    let CandidateBuild {
        release,
        info,
        changelog,
    } = candidate;
    if has_update(conn, &info.nvr)? {
        return Ok(None);
    }
    let content_type = match infer_content_type(&info.nvr, &info.extra) {
        Ok(content_type) => content_type,
        Err(error) => {
            tracing::info!(nvr = %info.nvr, %error, "no automatic update");
            return Ok(None);
        }
    };
    let update_type = if Package::by_name(conn, &info.package_name, content_type)?.is_some() {
        UpdateType::Unspecified
    } else {
        UpdateType::Newpackage
    };
    let (package, _) = Package::ensure(conn, &info.package_name, content_type)?;
    let owner = match User::by_name(conn, &info.owner_name)? {
        Some(user) => user,
        // Email and groups come when the owner first logs in.
        None => User::create(
            conn,
            &NewUser {
                name: &info.owner_name,
                email: None,
                password_hash: None,
                created_at: ctx.now,
            },
        )?,
    };
    let notes = notes_of(
        &info.nvr,
        changelog,
        ctx.settings.rules.update_notes_maxlength,
    );
    let (is_critpath, critpath_groups) = critpath::classify(
        &ctx.settings.critpath,
        &release.branch,
        content_type,
        std::slice::from_ref(&info.package_name),
    )?;
    let mut new = NewUpdate::with_defaults(
        new_alias(&release.id_prefix, ctx.now),
        release.id,
        Some(owner.id),
        update_type,
        notes,
        ctx.now,
    );
    new.status = UpdateStatus::Pending;
    new.stable_karma = 3;
    new.unstable_karma = -3;
    new.autokarma = false;
    new.autotime = true;
    new.stable_days = 0;
    new.critpath = is_critpath;
    new.critpath_groups = critpath_groups;
    let mut update = Update::create(conn, &new)?;
    let signed = release.pending_signing_tag.is_empty();
    let build = match Build::by_nvr(conn, &info.nvr)? {
        // A build row left by an update that let it go (unpushed, edited out).
        Some(existing) => {
            diesel::update(builds::table.find(existing.id))
                .set((
                    builds::update_id.eq(Some(update.id)),
                    builds::release_id.eq(Some(release.id)),
                    builds::package_id.eq(package.id),
                ))
                .execute(conn)?;
            existing
        }
        None => Build::create(
            conn,
            &NewBuild {
                nvr: &info.nvr,
                signed,
                package_id: package.id,
                release_id: Some(release.id),
                update_id: Some(update.id),
                content_type,
                epoch: info.epoch.filter(|_| content_type == ContentType::Rpm),
            },
        )?,
    };
    let bugs = if ctx.settings.rules.bz_exclude_rels.contains(&release.name) {
        Vec::new()
    } else {
        set_bugs(
            conn,
            &mut update,
            &bugs_in(changelog, &ctx.settings.rules.bz_regex),
        )?
    };
    if ctx.settings.rules.test_gating_required {
        update.test_gating_status = Some(TestGatingStatus::Waiting);
    }
    update.save(conn)?;
    crate::services::bugs::queue_submitted(conn, ctx.settings, &update, &bugs, ctx.now)?;
    system_comment(conn, ctx, &update, "This update was automatically created")?;
    if content_type == ContentType::Rpm {
        let build = crate::services::messages::KojiBuildRef {
            nvr: info.nvr.clone(),
            id: info.id,
            task_id: info.task_id,
        };
        crate::services::messages::ready_for_testing(conn, ctx, &update, "bodhi", &[build], false)?;
    }
    if !signed {
        let ops = tag_all(std::slice::from_ref(&build), &release.pending_signing_tag);
        ctx.tag(conn, &update, agent, ops)?;
    }
    if let Err(error) = obsolete::obsolete_older_updates(conn, ctx, &mut update) {
        tracing::error!(alias = %update.alias, %error, "problem obsoleting older updates");
    }
    Ok(Some(update))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(day: i64, author: &str, text: &str) -> ChangelogEntry {
        ChangelogEntry {
            time: 1_700_006_400 + day * 86_400,
            author: author.to_owned(),
            text: text.to_owned(),
        }
    }

    #[test]
    fn the_changelog_stops_at_the_last_stable_entry() {
        let entries = [
            entry(2, "Alice <a@example.org> - 8.3-1", "- Update to 8.3"),
            entry(1, "Alice <a@example.org> - 8.2-2", "- Fix crash"),
            entry(0, "Bob <b@example.org> - 8.2-1", "- Initial"),
        ];
        assert_eq!(
            format_changelog(&entries, entries[1].time),
            "* Fri Nov 17 2023 Alice <a@example.org> - 8.3-1\n- Update to 8.3\n"
        );
        assert_eq!(format_changelog(&entries, 0).matches("\n* ").count(), 2);
        assert_eq!(format_changelog(&entries, entries[0].time), "");
    }

    #[test]
    fn notes_carry_the_changelog_unless_it_is_too_long() {
        assert_eq!(
            notes_of("nano-8.3-1.fc45", "", 100),
            "Automatic update for nano-8.3-1.fc45."
        );
        assert_eq!(
            notes_of("nano-8.3-1.fc45", "* x\n- y\n", 200),
            "Automatic update for nano-8.3-1.fc45.\n\n##### **Changelog**\n\n```\n* x\n- y\n\n```"
        );
        assert!(notes_of("nano-8.3-1.fc45", &"x".repeat(500), 200).contains(CHANGELOG_TOO_LONG));
    }

    #[test]
    fn bugs_come_from_the_changelog_once_each() {
        let pattern = crate::config::RulesSettings::default().bz_regex;
        let changelog = "- Fixes rhbz#123456 and closes: fedora#234567\n- resolves RHBZ#123456\n\
                         - mentions rhbz#99 and bug 345678";
        assert_eq!(bugs_in(changelog, &pattern), vec![123456, 234567]);
    }
}
