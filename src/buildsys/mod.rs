//! The build system Pipal drives: the calls Bodhi makes to Koji (spec/koji.md), behind one
//! trait. `local` is the embedded default: tags and builds in Pipal's database, RPM files in a
//! directory laid out like Koji's.

pub mod import;
pub mod local;
pub mod rpmfile;

use chrono::NaiveDateTime;
use serde::Serialize;

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

/// How `list_tagged` reads a tag.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListTaggedOptions<'a> {
    /// Only the most recently tagged build of each package.
    pub latest: bool,
    /// Include the tag's parents, by inheritance priority.
    pub inherit: bool,
    /// Only builds of this package.
    pub package: Option<&'a str>,
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

/// The calls Pipal makes to a build system. Calls block; async code runs them on the blocking
/// pool.
pub trait BuildSystem: Send + Sync {
    fn get_build(&self, nvr: &str) -> BuildsysResult<Option<BuildInfo>>;
    fn get_tag(&self, name: &str) -> BuildsysResult<Option<TagInfo>>;
    /// The tags a build is in.
    fn list_tags(&self, nvr: &str) -> BuildsysResult<Vec<TagInfo>>;
    fn list_tagged(
        &self,
        tag: &str,
        options: &ListTaggedOptions<'_>,
    ) -> BuildsysResult<Vec<TaggedBuild>>;
    fn list_build_rpms(&self, nvr: &str) -> BuildsysResult<Vec<RpmInfo>>;
    fn tag_build(&self, tag: &str, nvr: &str, who: &str) -> BuildsysResult<()>;
    fn untag_build(&self, tag: &str, nvr: &str, who: &str) -> BuildsysResult<()>;
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
