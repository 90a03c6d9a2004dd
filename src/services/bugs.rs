//! The Bugzilla changes an update causes (spec §2.8 `work_on_bugs`, §6.3 `modify_bugs`,
//! spec/bugzilla.md), queued in the outbox in the transaction of the change; the worker applies
//! them (`crate::notify::bug_changes`). Nothing is queued unless `bugzilla.tracker` is set.
//!
//! The comment is written when the change is queued, from the update as it is then; whether
//! a bug is skipped (a product outside `bugzilla.products`, a parent security bug, a status
//! already reached) is decided on delivery, from what Bugzilla says then.

use std::collections::BTreeMap;

use diesel::QueryResult;
use serde::{Deserialize, Serialize};

use crate::config::{BugzillaSettings, Settings};
use crate::db::DbConnection;
use crate::db::types::{OutboxKind, PackageManager, UpdateStatus, UpdateType};
use crate::models::bug::Bug;
use crate::models::build::Build;
use crate::models::outbox::OutboxEntry;
use crate::models::release::Release;
use crate::models::update::Update;

/// What is done to a bug.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BugAction {
    /// Attached to an update: read its title and flags (a security bug makes the update a
    /// security update), then MODIFIED with a comment.
    Submitted,
    /// The update reached testing: ON_QA with a comment.
    OnQa,
    /// The update reached stable: CLOSED ERRATA with the update's NVR in "Fixed In".
    Close,
    /// A comment only (a stable update that does not close its bugs).
    Comment,
}

/// One outbox entry of kind `bug`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BugChange {
    pub bug: i32,
    /// The update's alias.
    pub update: String,
    pub action: BugAction,
    pub comment: String,
    /// Package name → NVR of the update's builds, for "Fixed In" when closing.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fixed_in: BTreeMap<String, String>,
}

/// The update as the comments describe it.
struct UpdateFacts<'a> {
    update: &'a Update,
    release: Release,
    /// Sorted by NVR.
    nvrs: Vec<String>,
}

impl<'a> UpdateFacts<'a> {
    fn load(conn: &mut DbConnection, update: &'a Update) -> QueryResult<UpdateFacts<'a>> {
        let release = Release::by_id(conn, update.release_id)?;
        let mut nvrs: Vec<String> = Build::for_updates(conn, &[update.id])?
            .into_iter()
            .map(|b| b.nvr)
            .collect();
        nvrs.sort();
        Ok(UpdateFacts {
            update,
            release,
            nvrs,
        })
    }

    /// Bodhi's `install_command`; empty where Bodhi shows none.
    fn install_command(&self) -> String {
        let (update, release) = (self.update, &self.release);
        let testing = match update.status {
            UpdateStatus::Testing if release.composed_by_bodhi => true,
            UpdateStatus::Stable => false,
            _ => return String::new(),
        };
        let Some(testing_repository) = release.testing_repository.as_deref() else {
            return String::new();
        };
        if release.package_manager == PackageManager::Unspecified {
            return String::new();
        }
        let new_package = update.update_type == UpdateType::Newpackage;
        format!(
            "sudo {} {}{}{} --advisory={}{}",
            release.package_manager.as_str(),
            if new_package { "install" } else { "upgrade" },
            if testing {
                format!(" --enablerepo={testing_repository}")
            } else {
                String::new()
            },
            if release.package_manager == PackageManager::Dnf {
                " --refresh"
            } else {
                ""
            },
            update.alias,
            if new_package { r" \*" } else { "" },
        )
    }

    /// A comment template with Bodhi's placeholders filled in.
    fn render(&self, template: &str, settings: &Settings) -> String {
        let nvrs: Vec<&str> = self.nvrs.iter().map(String::as_str).collect();
        let install = self.install_command();
        let install_instructions = if install.is_empty() {
            String::new()
        } else {
            format!(
                "Soon you'll be able to install the update with the following command:\n`{install}`"
            )
        };
        let values = [
            ("update_alias", self.update.alias.clone()),
            (
                "update_beauty_title",
                super::updates::beautiful_nvr_title(self.update, &nvrs),
            ),
            ("update_title", nvrs.join(", ")),
            ("update_release", self.release.long_name.clone()),
            (
                "update_url",
                format!("{}updates/{}", settings.base_address(), self.update.alias),
            ),
            (
                "repo",
                format!(
                    "{} {}",
                    self.release.long_name,
                    self.update.status.description()
                ),
            ),
            ("install_instructions", install_instructions),
        ];
        fill(template, &values)
    }

    /// Package name → NVR.
    fn fixed_in(&self) -> BTreeMap<String, String> {
        self.nvrs
            .iter()
            .map(|nvr| (package_name(nvr).to_owned(), nvr.clone()))
            .collect()
    }
}

/// Replaces each `{name}` of `values` in `template`; other text is left as it is.
fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let value = after.find('}').and_then(|end| {
            let name = &after[..end];
            values
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, v)| (v, end))
        });
        match value {
            Some((value, end)) => {
                out.push_str(value);
                rest = &after[end + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The name of an NVR: everything before the last two dashes.
fn package_name(nvr: &str) -> &str {
    let mut parts = nvr.rsplitn(3, '-');
    let (_release, _version) = (parts.next(), parts.next());
    parts.next().unwrap_or(nvr)
}

fn queue(
    conn: &mut DbConnection,
    dedup_key: &str,
    change: &BugChange,
    now: chrono::NaiveDateTime,
) -> QueryResult<()> {
    let payload = serde_json::to_string(change)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    OutboxEntry::enqueue(conn, OutboxKind::Bug, dedup_key, &payload, now).map(drop)
}

fn tracker(settings: &Settings) -> Option<&BugzillaSettings> {
    Some(&settings.bugzilla).filter(|b| b.enabled())
}

/// Bodhi's `work_on_bugs`: the bugs `numbers`, newly attached to `update`, are read and
/// marked MODIFIED with the submission comment.
pub fn queue_submitted(
    conn: &mut DbConnection,
    settings: &Settings,
    update: &Update,
    numbers: &[i32],
    now: chrono::NaiveDateTime,
) -> QueryResult<()> {
    let Some(bugzilla) = tracker(settings) else {
        return Ok(());
    };
    if numbers.is_empty() {
        return Ok(());
    }
    let facts = UpdateFacts::load(conn, update)?;
    let comment = facts.render(&bugzilla.initial_bug_msg, settings);
    for &bug in numbers {
        let change = BugChange {
            bug,
            update: update.alias.clone(),
            action: BugAction::Submitted,
            comment: comment.clone(),
            fixed_in: BTreeMap::new(),
        };
        queue(
            conn,
            &format!("bug:{bug}:{}:submitted", update.alias),
            &change,
            now,
        )?;
    }
    Ok(())
}

/// Bodhi's `modify_bugs` for an update that just reached testing or stable: ON_QA, or
/// CLOSED ERRATA (a comment only when the update does not close its bugs). `key` names the
/// push, so that a resumed one queues nothing twice.
pub fn queue_pushed(
    conn: &mut DbConnection,
    settings: &Settings,
    update: &Update,
    key: &str,
    now: chrono::NaiveDateTime,
) -> QueryResult<()> {
    let Some(bugzilla) = tracker(settings) else {
        return Ok(());
    };
    let bugs = Bug::for_updates(conn, &[update.id])?;
    if bugs.is_empty() {
        return Ok(());
    }
    let facts = UpdateFacts::load(conn, update)?;
    let (action, template) = match update.status {
        UpdateStatus::Testing if facts.release.id_prefix == "FEDORA-EPEL" => {
            (BugAction::OnQa, &bugzilla.testing_bug_epel_msg)
        }
        UpdateStatus::Testing => (BugAction::OnQa, &bugzilla.testing_bug_msg),
        UpdateStatus::Stable if update.close_bugs => (BugAction::Close, &bugzilla.stable_bug_msg),
        UpdateStatus::Stable => (BugAction::Comment, &bugzilla.stable_bug_msg),
        _ => return Ok(()),
    };
    let comment = facts.render(template, settings);
    let fixed_in = if action == BugAction::Close {
        facts.fixed_in()
    } else {
        BTreeMap::new()
    };
    for (_, bug) in bugs {
        let change = BugChange {
            bug: bug.bug_id,
            update: update.alias.clone(),
            action,
            comment: comment.clone(),
            fixed_in: fixed_in.clone(),
        };
        queue(
            conn,
            &format!("{key}:bug:{}:{}", bug.bug_id, update.alias),
            &change,
            now,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_and_other_braces_kept() {
        let values = [("update_alias", "FEDORA-2026-1".to_owned())];
        assert_eq!(
            fill("{update_alias} ok {unknown} {", &values),
            "FEDORA-2026-1 ok {unknown} {"
        );
    }

    #[test]
    fn a_package_name_keeps_its_own_dashes() {
        assert_eq!(
            package_name("python-requests-2.31.0-1.fc43"),
            "python-requests"
        );
        assert_eq!(package_name("odd"), "odd");
    }
}
