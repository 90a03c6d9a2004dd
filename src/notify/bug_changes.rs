//! Applies one queued Bugzilla change the way Bodhi's `bugs.Bugzilla` does: the bug is read
//! first; only bugs of `bugzilla.products` change status (a comment is still added to the
//! others when only a comment was asked); a status already reached, or passed, gets the
//! comment alone; parent security bugs of security updates are left alone; closing adds the
//! update's NVR of the bug's component to "Fixed In" while the field stays under 255
//! characters. A bug attached to an update also gets its title and flags recorded, and a
//! security bug makes its update a security update.
//!
//! A missing or private bug is not an error to retry: it is recorded (as Bodhi's titles
//! "Invalid bug number" and "Private bug") and the change is done.

use crate::db::types::UpdateType;
use crate::db::{Db, DbConnection, write_transaction};
use crate::models::bug::Bug;
use crate::models::update::Update;
use crate::services::bugs::{BugAction, BugChange};

use super::bugzilla::{
    BugChanges, BugInfo, BugzillaClient, BugzillaError, FAULT_NO_SUCH_BUG, FAULT_PRIVATE_BUG,
};

/// Bugzilla refuses longer comments.
const MAX_COMMENT_CHARS: usize = 65535;
/// Bodhi keeps "Fixed In" below this length.
const MAX_FIXED_IN: usize = 255;

/// What became of a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    Updated(BugChanges),
    /// Nothing to do; the reason is logged.
    Skipped(String),
}

/// The change can never be made (a comment Bugzilla would refuse).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// Applies `change`; an `Err` is worth retrying unless it is [`Refused`].
pub fn apply(
    db: &Db,
    client: &BugzillaClient,
    products: &[String],
    change: &BugChange,
) -> anyhow::Result<Applied> {
    if change.comment.chars().count() > MAX_COMMENT_CHARS {
        return Err(Refused(format!(
            "the comment for bug {} is longer than {MAX_COMMENT_CHARS} characters",
            change.bug
        ))
        .into());
    }
    let info = match client.get_bug(change.bug) {
        Ok(info) => info,
        Err(error) => return unreadable(db, change, error),
    };
    let mut conn = db.conn()?;
    let (update_security, parent) =
        write_transaction(&mut conn, |conn| record(conn, change, &info))?;
    if update_security && parent && change.action != BugAction::Comment {
        return Ok(Applied::Skipped(format!(
            "bug {} is the parent of a security update's bugs",
            change.bug
        )));
    }
    let Some(changes) = changes_for(change, &info, products) else {
        return Ok(Applied::Skipped(format!(
            "bug {} belongs to {:?}, not to one of bugzilla.products",
            change.bug, info.product
        )));
    };
    client.update_bug(change.bug, &changes)?;
    Ok(Applied::Updated(changes))
}

/// A bug Bugzilla will not show: its title says why, and the change is over. Other errors
/// are retried.
fn unreadable(db: &Db, change: &BugChange, error: BugzillaError) -> anyhow::Result<Applied> {
    let title = match error.fault_code() {
        Some(FAULT_PRIVATE_BUG) => "Private bug",
        Some(FAULT_NO_SUCH_BUG) => "Invalid bug number",
        _ => return Err(error.into()),
    };
    if change.action == BugAction::Submitted {
        let mut conn = db.conn()?;
        if let Some(bug) = Bug::by_bug_id(&mut conn, change.bug)? {
            Bug::set_details(&mut conn, bug.id, Some(title), bug.security, bug.parent)?;
        }
    }
    Ok(Applied::Skipped(format!("bug {}: {error}", change.bug)))
}

/// Records what Bugzilla says of a newly attached bug, and makes its update a security update
/// if the bug is one; returns whether the update is a security update and the bug a parent.
fn record(
    conn: &mut DbConnection,
    change: &BugChange,
    info: &BugInfo,
) -> anyhow::Result<(bool, bool)> {
    let update = Update::by_alias(conn, &change.update)?;
    let stored = Bug::by_bug_id(conn, change.bug)?;
    if change.action != BugAction::Submitted {
        let parent = stored.map_or(info.parent(), |b| b.parent);
        let security = update.is_some_and(|u| u.update_type == UpdateType::Security);
        return Ok((security, parent));
    }
    if let Some(bug) = &stored {
        Bug::set_details(
            conn,
            bug.id,
            Some(&info.summary),
            info.security(),
            info.parent(),
        )?;
    }
    let mut security = false;
    if let Some(mut update) = update {
        if info.security() && update.update_type != UpdateType::Security {
            update.update_type = UpdateType::Security;
            update.save(conn)?;
        }
        security = update.update_type == UpdateType::Security;
    }
    Ok((security, info.parent()))
}

/// The `Bug.update` for `change`, or None when the bug's product is not one we change.
fn changes_for(change: &BugChange, info: &BugInfo, products: &[String]) -> Option<BugChanges> {
    let comment_only = BugChanges {
        comment: Some(change.comment.clone()),
        ..BugChanges::default()
    };
    if change.action == BugAction::Comment {
        return Some(comment_only);
    }
    if !products.contains(&info.product) {
        return None;
    }
    let status = info.status.as_str();
    Some(match change.action {
        BugAction::Submitted if !matches!(status, "MODIFIED" | "VERIFIED" | "CLOSED") => {
            with_status(comment_only, "MODIFIED")
        }
        BugAction::OnQa if !matches!(status, "ON_QA" | "VERIFIED" | "CLOSED") => {
            with_status(comment_only, "ON_QA")
        }
        BugAction::Close => BugChanges {
            resolution: Some("ERRATA".into()),
            fixed_in: fixed_in(info, change),
            ..with_status(comment_only, "CLOSED")
        },
        _ => comment_only,
    })
}

fn with_status(changes: BugChanges, status: &str) -> BugChanges {
    BugChanges {
        status: Some(status.to_owned()),
        ..changes
    }
}

/// "Fixed In" with the NVR of the bug's component added, if that fits.
fn fixed_in(info: &BugInfo, change: &BugChange) -> Option<String> {
    let nvr = change.fixed_in.get(&info.component)?;
    let current: Vec<&str> = info.fixed_in.split_whitespace().collect();
    let joined = current.join(" ");
    if current.contains(&nvr.as_str()) || joined.len() + nvr.len() >= MAX_FIXED_IN {
        return None;
    }
    Some(format!("{joined} {nvr}").trim().to_owned())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn info(status: &str, product: &str) -> BugInfo {
        BugInfo {
            id: 1,
            summary: "crash".into(),
            status: status.into(),
            product: product.into(),
            component: "bash".into(),
            keywords: Vec::new(),
            fixed_in: "bash-5.2-1.fc43".into(),
        }
    }

    fn change(action: BugAction) -> BugChange {
        BugChange {
            bug: 1,
            update: "FEDORA-2026-1".into(),
            action,
            comment: "pushed".into(),
            fixed_in: BTreeMap::from([("bash".to_owned(), "bash-5.3-1.fc43".to_owned())]),
        }
    }

    fn products() -> Vec<String> {
        vec!["Fedora".into()]
    }

    #[test]
    fn a_status_already_reached_gets_the_comment_alone() {
        let changes = changes_for(
            &change(BugAction::OnQa),
            &info("VERIFIED", "Fedora"),
            &products(),
        )
        .expect("a change");
        assert_eq!(changes.status, None);
        assert_eq!(changes.comment.as_deref(), Some("pushed"));
        let changes = changes_for(
            &change(BugAction::Submitted),
            &info("NEW", "Fedora"),
            &products(),
        )
        .expect("a change");
        assert_eq!(changes.status.as_deref(), Some("MODIFIED"));
    }

    #[test]
    fn closing_appends_the_nvr_of_the_bugs_component() {
        let changes = changes_for(
            &change(BugAction::Close),
            &info("ON_QA", "Fedora"),
            &products(),
        )
        .expect("a change");
        assert_eq!(changes.status.as_deref(), Some("CLOSED"));
        assert_eq!(changes.resolution.as_deref(), Some("ERRATA"));
        assert_eq!(
            changes.fixed_in.as_deref(),
            Some("bash-5.2-1.fc43 bash-5.3-1.fc43")
        );
    }

    #[test]
    fn fixed_in_is_left_alone_when_full_or_already_there() {
        let mut full = info("ON_QA", "Fedora");
        full.fixed_in = "x".repeat(250);
        assert_eq!(fixed_in(&full, &change(BugAction::Close)), None);
        let mut there = info("ON_QA", "Fedora");
        there.fixed_in = "bash-5.3-1.fc43".into();
        assert_eq!(fixed_in(&there, &change(BugAction::Close)), None);
    }

    #[test]
    fn other_products_change_no_status_but_still_take_a_plain_comment() {
        let rhel = info("NEW", "Red Hat Enterprise Linux 9");
        assert_eq!(
            changes_for(&change(BugAction::Close), &rhel, &products()),
            None
        );
        assert!(changes_for(&change(BugAction::Comment), &rhel, &products()).is_some());
    }
}
