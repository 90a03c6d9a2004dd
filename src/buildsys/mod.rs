//! The build system Pipal drives: the calls Bodhi makes to Koji (spec/koji.md), behind one
//! trait. `local` is the embedded default: tags and builds in Pipal's database, RPM files in a
//! directory laid out like Koji's.

pub mod events;
pub mod import;
pub mod koji;
pub mod local;
pub mod rpmfile;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

pub use local::LocalBuildSystem;

/// A build as Koji's `getBuild` describes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BuildInfo {
    pub id: i32,
    pub package_name: String,
    pub name: String,
    pub version: String,
    pub release: String,
    pub epoch: Option<i32>,
    pub nvr: String,
    pub owner_name: String,
    pub state: i32,
    pub task_id: Option<i32>,
    pub creation_event_id: i32,
    pub creation_time: NaiveDateTime,
    pub completion_time: Option<NaiveDateTime>,
    pub source: Option<String>,
    pub extra: serde_json::Value,
}

/// A tag as Koji's `getTag` describes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TagInfo {
    pub id: i32,
    pub name: String,
    pub arches: Option<String>,
    pub perm: Option<String>,
    pub locked: bool,
    pub extra: serde_json::Value,
}

/// One entry of Koji's `listTagged`: the build and the tag it was found in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaggedBuild {
    #[serde(flatten)]
    pub build: BuildInfo,
    pub tag_id: i32,
    pub tag_name: String,
    pub create_event: i32,
}

/// One RPM file of a build, as Koji's `listBuildRPMs` describes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RpmInfo {
    pub id: i32,
    pub build_id: i32,
    pub name: String,
    pub version: String,
    pub release: String,
    pub epoch: Option<i32>,
    pub arch: String,
    pub size: i64,
    pub payloadhash: String,
    pub buildtime: i64,
}

/// The header fields of a source RPM that update notices show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceHeader {
    pub summary: String,
    pub description: String,
    pub url: String,
    /// Newest first.
    pub changelog: Vec<ChangelogEntry>,
}

/// One entry of a source RPM's `%changelog`, as RPM stores it (newest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangelogEntry {
    /// Seconds since the epoch (the entry's date, at midnight UTC).
    pub time: i64,
    /// The author line: `Name <email> - version-release`.
    pub author: String,
    pub text: String,
}

/// How `list_tagged` reads a tag.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListTaggedOptions<'a> {
    /// Only the most recently tagged build of each package.
    pub latest: bool,
    /// Include the tag's parents, by inheritance priority.
    pub inherit: bool,
    /// Only builds of this package.
    pub package: Option<&'a str>,
    /// Only builds of packages whose name starts with this.
    pub prefix: Option<&'a str>,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildsysError {
    #[error("No such build: {0}")]
    NoSuchBuild(String),
    #[error("No such tag: {0}")]
    NoSuchTag(String),
    #[error("build {nvr} is already tagged in {tag}")]
    AlreadyTagged { nvr: String, tag: String },
    #[error("build {nvr} is not tagged in {tag}")]
    NotTagged { nvr: String, tag: String },
    #[error("tag {0} already exists")]
    TagExists(String),
    #[error("{0}")]
    Invalid(String),
    #[error("build system database error: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("{0}")]
    Unavailable(String),
}

pub type BuildsysResult<T> = Result<T, BuildsysError>;

/// One change of a build's tags, or of the tags an update brings with it (a side tag's
/// signing and testing tags).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum TagOp {
    Tag {
        tag: String,
        nvr: String,
    },
    Untag {
        tag: String,
        nvr: String,
    },
    /// Koji's `moveBuild`: out of `from`, into `to`.
    Move {
        from: String,
        to: String,
        nvr: String,
    },
    /// A tag inheriting from `parent`.
    CreateTag {
        name: String,
        parent: String,
        perm: Option<String>,
    },
    DeleteTag {
        name: String,
    },
}

impl TagOp {
    pub fn tag(tag: &str, nvr: &str) -> TagOp {
        TagOp::Tag {
            tag: tag.to_owned(),
            nvr: nvr.to_owned(),
        }
    }

    pub fn untag(tag: &str, nvr: &str) -> TagOp {
        TagOp::Untag {
            tag: tag.to_owned(),
            nvr: nvr.to_owned(),
        }
    }

    /// What the operation does, for messages: `tag nano-1-1 into f43-updates`.
    pub fn describe(&self) -> String {
        match self {
            TagOp::Tag { tag, nvr } => format!("tag {nvr} into {tag}"),
            TagOp::Untag { tag, nvr } => format!("untag {nvr} from {tag}"),
            TagOp::Move { from, to, nvr } => format!("move {nvr} from {from} to {to}"),
            TagOp::CreateTag { name, parent, .. } => format!("create tag {name} under {parent}"),
            TagOp::DeleteTag { name } => format!("delete tag {name}"),
        }
    }
}

/// The calls Pipal makes to a build system. Calls block; async code runs them on the blocking
/// pool.
pub trait BuildSystem: Send + Sync {
    fn get_build(&self, nvr: &str) -> BuildsysResult<Option<BuildInfo>>;
    fn get_tag(&self, name: &str) -> BuildsysResult<Option<TagInfo>>;
    /// The names of a tag's ancestors, nearest first (Koji's `getFullInheritance`).
    fn full_inheritance(&self, tag: &str) -> BuildsysResult<Vec<String>>;
    /// The id of the newest event (Koji's `getLastEvent`).
    fn last_event(&self) -> BuildsysResult<i32>;
    /// Whether any of these tags was created, or had a build tagged or untagged, after
    /// `event` (Koji's `tagChangedSinceEvent`, with tag names instead of ids).
    fn tag_changed_since_event(&self, event: i32, tags: &[String]) -> BuildsysResult<bool>;
    /// The tags a build is in.
    fn list_tags(&self, nvr: &str) -> BuildsysResult<Vec<TagInfo>>;
    fn list_tagged(
        &self,
        tag: &str,
        options: &ListTaggedOptions<'_>,
    ) -> BuildsysResult<Vec<TaggedBuild>>;
    fn list_build_rpms(&self, nvr: &str) -> BuildsysResult<Vec<RpmInfo>>;
    /// `list_tags` of several builds, in order (Koji: multicalls).
    fn list_tags_many(&self, nvrs: &[&str]) -> BuildsysResult<Vec<Vec<TagInfo>>> {
        nvrs.iter().map(|nvr| self.list_tags(nvr)).collect()
    }
    /// `list_build_rpms` of several builds, in order (Koji: multicalls).
    fn list_build_rpms_many(&self, nvrs: &[&str]) -> BuildsysResult<Vec<Vec<RpmInfo>>> {
        nvrs.iter().map(|nvr| self.list_build_rpms(nvr)).collect()
    }
    /// The `%changelog` of a build's source RPM, newest first; empty when the build system
    /// has no such file (Koji's `getRPMHeaders` answers `{}`).
    fn changelog(&self, nvr: &str) -> BuildsysResult<Vec<ChangelogEntry>>;
    /// What update notices show of a build's source RPM; empty fields when the build system
    /// has no such file.
    fn source_header(&self, nvr: &str) -> BuildsysResult<SourceHeader>;
    /// Side tags (tags whose extra has `sidetag: true`), optionally of one user, by name.
    fn list_side_tags(&self, user: Option<&str>) -> BuildsysResult<Vec<TagInfo>>;
    fn tag_build(&self, tag: &str, nvr: &str, who: &str) -> BuildsysResult<()>;
    /// Creates `name` inheriting from `parent`, with a permission when given (Koji's
    /// `createTag`, then `editTag2(perm=)`); [`BuildsysError::TagExists`] if it exists.
    fn create_tag_under(&self, name: &str, parent: &str, perm: Option<&str>) -> BuildsysResult<()>;
    /// Deletes a tag (Koji's `deleteTag`); [`BuildsysError::NoSuchTag`] if there is none.
    fn delete_tag(&self, name: &str) -> BuildsysResult<()>;
    fn untag_build(&self, tag: &str, nvr: &str, who: &str) -> BuildsysResult<()>;
    /// Koji's `moveBuild`: into `to`, out of `from`.
    fn move_build(&self, from: &str, to: &str, nvr: &str, who: &str) -> BuildsysResult<()> {
        self.tag_build(to, nvr, who)?;
        self.untag_build(from, nvr, who)
    }
    /// Applies many operations, in order where it matters; one outcome per operation. Koji
    /// sends them in multicall batches and waits for the tasks together.
    fn apply_batch(&self, ops: &[TagOp], who: &str) -> Vec<BuildsysResult<()>> {
        ops.iter()
            .map(|op| match op {
                TagOp::Tag { tag, nvr } => self.tag_build(tag, nvr, who),
                TagOp::Untag { tag, nvr } => self.untag_build(tag, nvr, who),
                TagOp::Move { from, to, nvr } => self.move_build(from, to, nvr, who),
                TagOp::CreateTag { name, parent, perm } => {
                    self.create_tag_under(name, parent, perm.as_deref())
                }
                TagOp::DeleteTag { name } => self.delete_tag(name),
            })
            .collect()
    }
}

/// Koji's time strings: `2026-11-22 01:02:03.123456+00:00`.
fn koji_time(t: &NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.6f+00:00").to_string()
}

fn koji_ts(t: &NaiveDateTime) -> f64 {
    t.and_utc().timestamp_micros() as f64 / 1_000_000.0
}

impl BuildInfo {
    /// The build as Koji's `getBuild` returns it (dates as strings and `*_ts` floats).
    pub fn koji_json(&self) -> serde_json::Value {
        serde_json::json!({
            "build_id": self.id,
            "id": self.id,
            "package_name": self.package_name,
            "name": self.name,
            "version": self.version,
            "release": self.release,
            "epoch": self.epoch,
            "nvr": self.nvr,
            "owner_name": self.owner_name,
            "state": self.state,
            "task_id": self.task_id,
            "creation_event_id": self.creation_event_id,
            "creation_time": koji_time(&self.creation_time),
            "creation_ts": koji_ts(&self.creation_time),
            "completion_time": self.completion_time.as_ref().map(koji_time),
            "completion_ts": self.completion_time.as_ref().map(koji_ts),
            "source": self.source,
            "extra": self.extra,
        })
    }
}

impl TaggedBuild {
    /// The entry as Koji's `listTagged` returns it.
    pub fn koji_json(&self) -> serde_json::Value {
        let mut value = self.build.koji_json();
        if let Some(map) = value.as_object_mut() {
            map.insert("tag_id".into(), self.tag_id.into());
            map.insert("tag_name".into(), self.tag_name.clone().into());
            map.insert("create_event".into(), self.create_event.into());
        }
        value
    }
}

impl From<BuildsysError> for crate::error::AppError {
    fn from(error: BuildsysError) -> Self {
        use crate::error::AppError;
        match error {
            BuildsysError::NoSuchBuild(_) | BuildsysError::NoSuchTag(_) => {
                AppError::not_found("body", "buildsys", error.to_string())
            }
            BuildsysError::AlreadyTagged { .. }
            | BuildsysError::NotTagged { .. }
            | BuildsysError::TagExists(_) => AppError::Conflict(error.to_string()),
            BuildsysError::Invalid(_) => AppError::invalid("body", "buildsys", error.to_string()),
            BuildsysError::Database(_) => AppError::Internal(error.to_string()),
            BuildsysError::Unavailable(_) => AppError::Unavailable(error.to_string()),
        }
    }
}
