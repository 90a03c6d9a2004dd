//! The JSON objects of Bodhi's API, with their keys in Bodhi's order. Keys that Bodhi leaves
//! out at some depths (its "seen" rule) are `Option`s skipped when `None`.

use chrono::NaiveDateTime;
use serde::Serialize;

use super::{ReleaseJson, UserJson, datetime, opt_datetime};
use crate::db::types::{
    ComposeState, ContentType, TestGatingStatus, UpdateRequest, UpdateSeverity, UpdateStatus,
    UpdateSuggestion, UpdateType,
};

#[derive(Debug, Clone, Serialize)]
pub struct BuildJson<'a> {
    pub nvr: &'a str,
    pub signed: bool,
    pub release_id: Option<i32>,
    #[serde(rename = "type")]
    pub content_type: ContentType,
    /// Only RPM builds have an epoch key (`Some(None)` is `null`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epoch: Option<Option<i32>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TestCaseJson<'a> {
    pub name: &'a str,
    pub id: i32,
}

#[derive(Debug, Clone, Serialize)]
pub struct PackageJson<'a> {
    pub name: &'a str,
    #[serde(rename = "type")]
    pub content_type: ContentType,
}

#[derive(Debug, Clone, Serialize)]
pub struct BugJson<'a> {
    pub bug_id: i32,
    pub title: Option<&'a str>,
    pub security: bool,
    pub parent: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feedback: Option<Vec<BugFeedbackJson<'a>>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BugFeedbackJson<'a> {
    pub karma: i32,
    pub comment_id: i32,
    pub bug_id: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<Box<CommentJson<'a>>>,
    /// `Some(None)` is `null` (the bug row is missing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bug: Option<Option<BugJson<'a>>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TestCaseFeedbackJson<'a> {
    pub karma: i32,
    pub comment_id: i32,
    pub testcase_id: i32,
    pub testcase: Option<TestCaseJson<'a>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CommentJson<'a> {
    pub karma: i32,
    pub karma_critpath: i32,
    pub text: &'a str,
    #[serde(serialize_with = "datetime")]
    pub timestamp: NaiveDateTime,
    pub update_id: i32,
    pub user_id: i32,
    pub id: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bug_feedback: Option<Vec<BugFeedbackJson<'a>>>,
    pub testcase_feedback: Vec<TestCaseFeedbackJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update: Option<Box<UpdateJson<'a>>>,
    pub user: Option<UserJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_alias: Option<&'a str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UpdateJson<'a> {
    pub autokarma: bool,
    pub autotime: bool,
    pub stable_karma: i32,
    pub stable_days: i32,
    pub unstable_karma: i32,
    pub require_bugs: bool,
    pub require_testcases: bool,
    pub display_name: &'a str,
    pub notes: &'a str,
    #[serde(rename = "type")]
    pub update_type: UpdateType,
    pub status: UpdateStatus,
    pub request: Option<UpdateRequest>,
    pub severity: UpdateSeverity,
    pub suggest: UpdateSuggestion,
    pub locked: bool,
    pub pushed: bool,
    pub critpath: bool,
    pub critpath_groups: Option<&'a str>,
    pub close_bugs: bool,
    #[serde(serialize_with = "datetime")]
    pub date_submitted: NaiveDateTime,
    #[serde(serialize_with = "opt_datetime")]
    pub date_modified: Option<NaiveDateTime>,
    #[serde(serialize_with = "opt_datetime")]
    pub date_approved: Option<NaiveDateTime>,
    #[serde(serialize_with = "opt_datetime")]
    pub date_testing: Option<NaiveDateTime>,
    #[serde(serialize_with = "opt_datetime")]
    pub date_stable: Option<NaiveDateTime>,
    pub alias: &'a str,
    pub test_gating_status: Option<TestGatingStatus>,
    pub from_tag: Option<&'a str>,
    #[serde(serialize_with = "opt_datetime")]
    pub date_pushed: Option<NaiveDateTime>,
    pub meets_testing_requirements: bool,
    pub url: String,
    pub title: String,
    pub version_hash: String,
    pub release: ReleaseJson<'a>,
    pub user: Option<UserJson<'a>>,
    /// Absent when the update is nested in a comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comments: Option<Vec<CommentJson<'a>>>,
    pub builds: Vec<BuildJson<'a>>,
    pub bugs: Vec<BugJson<'a>>,
    /// Only on a top-level update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updateid: Option<&'a str>,
    pub karma: i32,
    /// Only on a top-level update (`Some(None)` is `null`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<Option<ContentType>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_cases: Option<Vec<TestCaseJson<'a>>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OverrideJson<'a> {
    pub notes: &'a str,
    #[serde(serialize_with = "datetime")]
    pub submission_date: NaiveDateTime,
    #[serde(serialize_with = "datetime")]
    pub expiration_date: NaiveDateTime,
    #[serde(serialize_with = "opt_datetime")]
    pub expired_date: Option<NaiveDateTime>,
    pub build_id: i32,
    pub submitter_id: i32,
    pub nvr: &'a str,
    pub build: BuildJson<'a>,
    pub submitter: Option<UserJson<'a>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UpdateSummaryJson {
    pub alias: String,
    pub title: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ComposeJson<'a> {
    pub release_id: i32,
    pub request: UpdateRequest,
    /// A JSON object in a string, as Bodhi stores it.
    pub checkpoints: &'a str,
    pub error_message: Option<&'a str>,
    #[serde(serialize_with = "datetime")]
    pub date_created: NaiveDateTime,
    #[serde(serialize_with = "datetime")]
    pub state_date: NaiveDateTime,
    pub state: ComposeState,
    pub content_type: Option<ContentType>,
    pub security: bool,
    pub update_summary: Vec<UpdateSummaryJson>,
    pub release: ReleaseJson<'a>,
}

/// Bodhi's `title` of an update: its NVRs sorted and joined by spaces, or its alias.
pub fn update_title(alias: &str, nvrs: &[&str]) -> String {
    if nvrs.is_empty() {
        return alias.to_owned();
    }
    let mut sorted = nvrs.to_vec();
    sorted.sort_unstable();
    sorted.join(" ")
}

/// Bodhi's `version_hash`: SHA-1 of the sorted NVRs joined by spaces.
pub fn version_hash(nvrs: &[&str]) -> String {
    use sha1::Digest;
    let mut sorted = nvrs.to_vec();
    sorted.sort_unstable();
    hex::encode(sha1::Sha1::digest(sorted.join(" ").as_bytes()))
}

/// Bodhi's "beautified" title (mails, compose summaries): the display name if set; else the
/// labels (NVRs, or package names) joined: one or two with " and ", more as "a, b, and N more".
pub fn beautiful_title(display_name: &str, alias: &str, labels: &[String], amp: bool) -> String {
    if !display_name.is_empty() {
        return display_name.to_owned();
    }
    match labels {
        [] => alias.to_owned(),
        [one] => one.clone(),
        [a, b] => format!("{a} and {b}"),
        [a, b, rest @ ..] => {
            let and = if amp { "&" } else { "and" };
            format!("{a}, {b}, {and} {} more", rest.len())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_and_hashes_follow_bodhi() {
        assert_eq!(update_title("FEDORA-2026-1", &[]), "FEDORA-2026-1");
        assert_eq!(update_title("A", &["z-1-1", "a-1-1"]), "a-1-1 z-1-1");
        // sha1("") and sha1("a-1-1 z-1-1"), as Python's hashlib computes them.
        assert_eq!(
            version_hash(&[]),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
        assert_eq!(
            version_hash(&["z-1-1", "a-1-1"]),
            version_hash(&["a-1-1", "z-1-1"])
        );
        let labels: Vec<String> = ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect();
        assert_eq!(beautiful_title("", "X", &labels, false), "a, b, and 2 more");
        assert_eq!(beautiful_title("", "X", &labels[..2], false), "a and b");
        assert_eq!(
            beautiful_title("Nice name", "X", &labels, false),
            "Nice name"
        );
    }
}
