//! On-demand composes, after ODCS 0.9.2 (spec/odcs.md): a temporary repository of a tag, of
//! some builds or of some updates, written by the masher's repository code now instead of at
//! the next push, served under `[odcs] target_dir_url` with a `.repo` file, and removed when
//! it expires.
//!
//! A compose is a row in `odcs_composes` that moves wait → generating → done | failed →
//! removed. Every transition is committed with its `odcs.compose.state-changed` message in the
//! outbox; the generation runs as a durable job, so a compose whose worker died is generated
//! again by another, into a fresh directory.

pub mod error;
pub mod generate;
pub mod json;
pub mod lifecycle;
pub mod permissions;
pub mod request;
pub mod settings;

pub use settings::OdcsSettings;

use crate::models::odcs::{DONE, FAILED, GENERATING, REMOVED, WAIT};

/// What a compose is made of (ODCS's source types, plus Pipal's `update`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceType {
    Tag,
    Module,
    Repo,
    Pulp,
    RawConfig,
    Build,
    PungiCompose,
    /// Pipal's own: the builds of updates, by alias.
    Update,
}

const SOURCE_TYPES: &[(SourceType, i32, &str)] = &[
    (SourceType::Tag, 1, "tag"),
    (SourceType::Module, 2, "module"),
    (SourceType::Repo, 3, "repo"),
    (SourceType::Pulp, 4, "pulp"),
    (SourceType::RawConfig, 5, "raw_config"),
    (SourceType::Build, 6, "build"),
    (SourceType::PungiCompose, 7, "pungi_compose"),
    (SourceType::Update, 8, "update"),
];

impl SourceType {
    pub fn from_name(name: &str) -> Option<SourceType> {
        SOURCE_TYPES
            .iter()
            .find(|(_, _, n)| *n == name)
            .map(|(t, _, _)| *t)
    }

    pub fn from_number(number: i32) -> Option<SourceType> {
        SOURCE_TYPES
            .iter()
            .find(|(_, n, _)| *n == number)
            .map(|(t, _, _)| *t)
    }

    pub fn number(self) -> i32 {
        SOURCE_TYPES
            .iter()
            .find(|(t, _, _)| *t == self)
            .map_or(0, |(_, n, _)| *n)
    }

    pub fn name(self) -> &'static str {
        SOURCE_TYPES
            .iter()
            .find(|(t, _, _)| *t == self)
            .map_or("", |(_, _, n)| n)
    }

    /// The types Pipal can compose.
    pub fn supported(self) -> bool {
        matches!(
            self,
            SourceType::Tag | SourceType::Build | SourceType::Update
        )
    }
}

/// ODCS's state name of a state number.
pub fn state_name(state: i32) -> &'static str {
    match state {
        WAIT => "wait",
        GENERATING => "generating",
        DONE => "done",
        REMOVED => "removed",
        FAILED => "failed",
        _ => "unknown",
    }
}

/// ODCS's state number of a state name.
pub fn state_number(name: &str) -> Option<i32> {
    [WAIT, GENERATING, DONE, REMOVED, FAILED]
        .into_iter()
        .find(|&s| state_name(s) == name)
}

/// ODCS's compose flags, by bit.
pub const FLAGS: &[(&str, i32)] = &[
    ("no_deps", 1),
    ("no_inheritance", 2),
    ("include_unpublished_pulp_repos", 4),
    ("check_deps", 8),
    ("include_done_modules", 16),
    ("ignore_absent_pulp_repos", 32),
    ("no_reuse", 64),
    ("use_only_compatible_arch", 128),
    ("no_label", 256),
];

pub const NO_INHERITANCE: i32 = 2;
pub const NO_REUSE: i32 = 64;

/// ODCS's result kinds, by bit; Pipal makes repositories only.
pub const RESULTS: &[(&str, i32)] = &[
    ("repository", 1),
    ("iso", 2),
    ("ostree", 4),
    ("boot.iso", 8),
];

pub const REPOSITORY: i32 = 1;

/// The names of the bits set in `mask`.
pub fn names_of(mask: i32, table: &[(&'static str, i32)]) -> Vec<&'static str> {
    table
        .iter()
        .filter(|(_, bit)| mask & bit != 0)
        .map(|(name, _)| *name)
        .collect()
}

/// Compose types ODCS knows.
pub const COMPOSE_TYPES: &[&str] = &["test", "nightly", "production", "development", "ci"];
