//! The update lifecycle (spec §2): creating and editing updates, requests and their checks,
//! comments and karma thresholds, obsoleting older updates. Services run inside the caller's
//! transaction; the build system operations they decide are written as jobs ([`Ctx::tag`])
//! that the caller runs after the commit.

pub mod approve;
pub mod automatic;
pub mod comments;
pub mod obsolete;
pub mod requests;
pub mod save;
pub mod signed;
pub mod signing;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::config::Settings;
use crate::db::DbConnection;
use crate::db::schema::{builds, comments as comment_rows, users};
use crate::db::types::ReleaseState;
use crate::error::{AppError, AppResult};
use crate::models::build::Build;
use crate::models::comment::Comment;
use crate::models::release::{Release, TagKind};
use crate::models::update::Update;
use crate::models::user::{NewUser, User};
use crate::services::karma::{self, Karma};
use crate::services::tagging::{self, TagOp};

/// A warning the API returns along with a successful change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Caveat {
    pub name: String,
    pub description: String,
}

impl Caveat {
    pub fn new(name: &str, description: impl Into<String>) -> Caveat {
        Caveat {
            name: name.to_owned(),
            description: description.into(),
        }
    }
}

/// Bodhi's `get_title(nvr=True, beautify=True)`: the display name, or of the NVRs (in the
/// update's order) `A`, `A and B`, `A, B, and N more`.
pub fn beautiful_nvr_title(update: &Update, nvrs: &[&str]) -> String {
    if !update.display_name.is_empty() {
        return update.display_name.clone();
    }
    match nvrs.len() {
        0 => update.alias.clone(),
        1 | 2 => nvrs.join(" and "),
        n => format!("{}, and {} more", nvrs[..2].join(", "), n - 2),
    }
}

/// What a service needs besides the database, and what it leaves to do after the commit.
pub struct Ctx<'a> {
    pub settings: &'a Settings,
    pub now: NaiveDateTime,
    /// Build system jobs enqueued by the change, to run once it is committed.
    pub jobs: Vec<i32>,
}

impl<'a> Ctx<'a> {
    pub fn new(settings: &'a Settings, now: NaiveDateTime) -> Self {
        Ctx {
            settings,
            now,
            jobs: Vec::new(),
        }
    }

    /// Enqueues tag operations for an update's builds (one queue per update).
    pub fn tag(
        &mut self,
        conn: &mut DbConnection,
        update: &Update,
        agent: &str,
        ops: Vec<TagOp>,
    ) -> QueryResult<()> {
        self.tag_in_queue(conn, &format!("update:{}", update.alias), agent, ops)
    }

    /// Enqueues tag operations in a named queue (`override:<nvr>`, ...).
    pub fn tag_in_queue(
        &mut self,
        conn: &mut DbConnection,
        queue: &str,
        agent: &str,
        ops: Vec<TagOp>,
    ) -> QueryResult<()> {
        if let Some(job) = tagging::enqueue(conn, queue, agent, ops, self.now)? {
            self.jobs.push(job);
        }
        Ok(())
    }

    pub fn is_system_user(&self, name: &str) -> bool {
        self.settings
            .accounts
            .system_users
            .iter()
            .any(|s| s == name)
    }
}

/// A problem Bodhi reports from its models as a `BodhiException` (400, under `name`).
pub fn refused(name: &str, description: impl Into<String>) -> AppError {
    AppError::invalid("body", name, description)
}

/// The system user (Bodhi's `bodhi`), created if missing.
pub fn system_user(
    conn: &mut DbConnection,
    settings: &Settings,
    now: NaiveDateTime,
) -> AppResult<User> {
    let name = settings
        .accounts
        .system_users
        .first()
        .map_or("bodhi", String::as_str);
    if let Some(user) = User::by_name(conn, name)? {
        return Ok(user);
    }
    Ok(User::create(
        conn,
        &NewUser {
            name,
            email: None,
            password_hash: None,
            created_at: now,
        },
    )?)
}

/// The update's karma from its comments.
pub fn karma_of(
    conn: &mut DbConnection,
    update_id: i32,
    settings: &Settings,
) -> QueryResult<Karma> {
    let comments: Vec<Comment> = Comment::for_updates(conn, &[update_id])?;
    let system_ids: Vec<i32> = users::table
        .filter(users::name.eq_any(&settings.accounts.system_users))
        .select(users::id)
        .load(conn)?;
    Ok(karma::karma(comments.iter(), |id| system_ids.contains(&id)))
}

pub fn release_of(conn: &mut DbConnection, update: &Update) -> QueryResult<Release> {
    Release::by_id(conn, update.release_id)
}

pub fn builds_of(conn: &mut DbConnection, update_id: i32) -> QueryResult<Vec<Build>> {
    Build::for_updates(conn, &[update_id])
}

/// Bodhi's `Update.signed`: every build signed, unless the release has no signing step and the
/// update does not come from a side tag.
pub fn is_signed(release: &Release, update: &Update, builds: &[Build]) -> bool {
    if release.pending_signing_tag.is_empty() && update.from_tag.is_none() {
        return true;
    }
    builds.iter().all(|b| b.signed)
}

/// Bodhi's `Release.get_tags()`: the candidate, testing, stable, override and pending tags of
/// every release that is neither archived nor disabled (not the signing tags).
pub fn known_tags(conn: &mut DbConnection) -> QueryResult<Vec<(String, TagKind, Release)>> {
    let mut tags = Vec::new();
    for release in Release::list(conn)? {
        if matches!(
            release.state,
            ReleaseState::Archived | ReleaseState::Disabled
        ) {
            continue;
        }
        for (kind, tag) in release.tags() {
            if matches!(
                kind,
                TagKind::Candidate
                    | TagKind::Testing
                    | TagKind::Stable
                    | TagKind::Override
                    | TagKind::PendingTesting
                    | TagKind::PendingStable
            ) {
                tags.push((tag.to_owned(), kind, release.clone()));
            }
        }
    }
    Ok(tags)
}

/// Bodhi's `Release.from_tags`: the first release that owns one of the tags.
pub fn release_from_tags(conn: &mut DbConnection, tags: &[String]) -> QueryResult<Option<Release>> {
    let known = known_tags(conn)?;
    let mut found: Option<Release> = None;
    for (tag, _, release) in known {
        if tags.contains(&tag) && found.as_ref().is_none_or(|f| release.id < f.id) {
            found = Some(release);
        }
    }
    Ok(found)
}

/// The names of the users who commented on an update (for notifications and checks).
pub fn commenter_ids(conn: &mut DbConnection, update_id: i32) -> QueryResult<Vec<i32>> {
    comment_rows::table
        .filter(comment_rows::update_id.eq(update_id))
        .select(comment_rows::user_id)
        .distinct()
        .load(conn)
}

/// Removes an update's build row (when a build leaves the update).
pub fn delete_build(conn: &mut DbConnection, build_id: i32) -> QueryResult<()> {
    diesel::delete(builds::table.find(build_id))
        .execute(conn)
        .map(drop)
}

/// Splits an NVR into (name, version, release).
pub fn split_nvr(nvr: &str) -> Option<(&str, &str, &str)> {
    let mut parts = nvr.rsplitn(3, '-');
    let release = parts.next()?;
    let version = parts.next()?;
    let name = parts.next()?;
    Some((name, version, release))
}

/// RPM's ordering of two NVRs of the same package (`rpm.labelCompare` of their EVRs).
pub fn compare_evr(
    a: (Option<i32>, &str, &str),
    b: (Option<i32>, &str, &str),
) -> std::cmp::Ordering {
    let epoch = |e: Option<i32>| e.unwrap_or(0).to_string();
    let (ea, eb) = (epoch(a.0), epoch(b.0));
    let left = rpm_version::Evr::new(ea.as_str(), a.1, a.2);
    let right = rpm_version::Evr::new(eb.as_str(), b.1, b.2);
    left.cmp(&right)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

    #[test]
    fn nvrs_split_and_compare_like_rpm() {
        assert_eq!(
            split_nvr("python-colorful-0.6.0-1.fc43"),
            Some(("python-colorful", "0.6.0", "1.fc43"))
        );
        assert_eq!(split_nvr("nope"), None);
        assert_eq!(
            compare_evr((None, "1.10", "1"), (None, "1.9", "1")),
            Ordering::Greater
        );
        assert_eq!(
            compare_evr((Some(1), "1.0", "1"), (None, "2.0", "1")),
            Ordering::Greater
        );
        assert_eq!(
            compare_evr((None, "1.0", "1.fc43"), (Some(0), "1.0", "1.fc43")),
            Ordering::Equal
        );
        assert_eq!(
            compare_evr((None, "1.0~rc1", "1"), (None, "1.0", "1")),
            Ordering::Less
        );
    }
}
