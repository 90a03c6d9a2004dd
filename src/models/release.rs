//! Releases: their Koji tags, state and the per-release settings that override the rules'
//! defaults.

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::config::RulesSettings;
use crate::db::DbConnection;
use crate::db::schema::releases;
use crate::db::types::{PackageManager, ReleaseState};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = releases)]
pub struct Release {
    pub id: i32,
    pub name: String,
    pub long_name: String,
    pub version: String,
    pub id_prefix: String,
    pub branch: String,
    pub dist_tag: String,
    pub stable_tag: String,
    pub testing_tag: String,
    pub candidate_tag: String,
    pub pending_signing_tag: String,
    pub pending_testing_tag: String,
    pub pending_stable_tag: String,
    pub override_tag: String,
    pub mail_template: String,
    pub state: ReleaseState,
    pub composed_by_bodhi: bool,
    pub create_automatic_updates: bool,
    pub package_manager: PackageManager,
    pub testing_repository: Option<String>,
    pub released_on: Option<NaiveDate>,
    pub eol: Option<NaiveDate>,
    pub setting_status: Option<String>,
    pub min_karma: Option<i32>,
    pub critpath_min_karma: Option<i32>,
    pub mandatory_days_in_testing: Option<i32>,
    pub critpath_mandatory_days_in_testing: Option<i32>,
    pub announce_list: Option<String>,
    pub test_announce_list: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = releases)]
pub struct NewRelease {
    pub name: String,
    pub long_name: String,
    pub version: String,
    pub id_prefix: String,
    pub branch: String,
    pub dist_tag: String,
    pub stable_tag: String,
    pub testing_tag: String,
    pub candidate_tag: String,
    pub pending_signing_tag: String,
    pub pending_testing_tag: String,
    pub pending_stable_tag: String,
    pub override_tag: String,
    pub mail_template: String,
    pub state: ReleaseState,
    pub composed_by_bodhi: bool,
    pub create_automatic_updates: bool,
    pub package_manager: PackageManager,
    pub testing_repository: Option<String>,
    pub released_on: Option<NaiveDate>,
    pub eol: Option<NaiveDate>,
    pub setting_status: Option<String>,
    pub min_karma: Option<i32>,
    pub critpath_min_karma: Option<i32>,
    pub mandatory_days_in_testing: Option<i32>,
    pub critpath_mandatory_days_in_testing: Option<i32>,
    pub announce_list: Option<String>,
    pub test_announce_list: Option<String>,
}

/// A partial edit: `None` leaves a column as it is; for nullable columns `Some(None)` clears.
#[derive(Debug, Clone, Default, PartialEq, Eq, AsChangeset)]
#[diesel(table_name = releases)]
pub struct ReleaseChanges {
    pub name: Option<String>,
    pub long_name: Option<String>,
    pub version: Option<String>,
    pub id_prefix: Option<String>,
    pub branch: Option<String>,
    pub dist_tag: Option<String>,
    pub stable_tag: Option<String>,
    pub testing_tag: Option<String>,
    pub candidate_tag: Option<String>,
    pub pending_signing_tag: Option<String>,
    pub pending_testing_tag: Option<String>,
    pub pending_stable_tag: Option<String>,
    pub override_tag: Option<String>,
    pub mail_template: Option<String>,
    pub state: Option<ReleaseState>,
    pub composed_by_bodhi: Option<bool>,
    pub create_automatic_updates: Option<bool>,
    pub package_manager: Option<PackageManager>,
    pub testing_repository: Option<Option<String>>,
    pub released_on: Option<Option<NaiveDate>>,
    pub eol: Option<Option<NaiveDate>>,
    pub setting_status: Option<Option<String>>,
    pub min_karma: Option<Option<i32>>,
    pub critpath_min_karma: Option<Option<i32>>,
    pub mandatory_days_in_testing: Option<Option<i32>>,
    pub critpath_mandatory_days_in_testing: Option<Option<i32>>,
    pub announce_list: Option<Option<String>>,
    pub test_announce_list: Option<Option<String>>,
}

impl ReleaseChanges {
    pub fn is_empty(&self) -> bool {
        self == &ReleaseChanges::default()
    }
}

/// The kinds of tag a release owns, in Bodhi's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagKind {
    Dist,
    Candidate,
    Testing,
    Stable,
    PendingSigning,
    PendingTesting,
    PendingStable,
    Override,
}

impl Release {
    pub fn create(conn: &mut DbConnection, new: &NewRelease) -> QueryResult<Release> {
        diesel::insert_into(releases::table)
            .values(new)
            .returning(releases::all_columns)
            .get_result(conn)
    }

    pub fn update(
        conn: &mut DbConnection,
        id: i32,
        changes: &ReleaseChanges,
    ) -> QueryResult<Release> {
        if changes.is_empty() {
            return releases::table
                .find(id)
                .select(Release::as_select())
                .first(conn);
        }
        diesel::update(releases::table.find(id))
            .set(changes)
            .returning(releases::all_columns)
            .get_result(conn)
    }

    pub fn by_id(conn: &mut DbConnection, id: i32) -> QueryResult<Release> {
        releases::table
            .find(id)
            .select(Release::as_select())
            .first(conn)
    }

    pub fn by_name(conn: &mut DbConnection, name: &str) -> QueryResult<Option<Release>> {
        releases::table
            .filter(releases::name.eq(name))
            .select(Release::as_select())
            .first(conn)
            .optional()
    }

    /// Bodhi's `Release.get`: the release whose name, long name or dist tag is `key`.
    pub fn get(conn: &mut DbConnection, key: &str) -> QueryResult<Option<Release>> {
        releases::table
            .filter(
                releases::name
                    .eq(key)
                    .or(releases::long_name.eq(key))
                    .or(releases::dist_tag.eq(key)),
            )
            .order(releases::id.asc())
            .select(Release::as_select())
            .first(conn)
            .optional()
    }

    /// Every release, ordered by name.
    pub fn list(conn: &mut DbConnection) -> QueryResult<Vec<Release>> {
        releases::table
            .order(releases::name.asc())
            .select(Release::as_select())
            .load(conn)
    }

    /// The release's tags by kind; empty tags (an unset pending tag) are left out.
    pub fn tags(&self) -> Vec<(TagKind, &str)> {
        [
            (TagKind::Dist, self.dist_tag.as_str()),
            (TagKind::Candidate, &self.candidate_tag),
            (TagKind::Testing, &self.testing_tag),
            (TagKind::Stable, &self.stable_tag),
            (TagKind::PendingSigning, &self.pending_signing_tag),
            (TagKind::PendingTesting, &self.pending_testing_tag),
            (TagKind::PendingStable, &self.pending_stable_tag),
            (TagKind::Override, &self.override_tag),
        ]
        .into_iter()
        .filter(|(_, tag)| !tag.is_empty())
        .collect()
    }

    /// Bodhi's `version_int`: the number in the name (`F40` → 40, `EPEL-9N` → 9).
    pub fn version_int(&self) -> Option<u32> {
        let name = self.name.trim_end_matches(['C', 'M', 'F', 'N']);
        let digits: String = name
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_digit())
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        digits.parse().ok()
    }

    /// Bodhi's `collection_name`: the long name without its last word (`Fedora 40` → `Fedora`).
    pub fn collection_name(&self) -> &str {
        match self.long_name.rsplit_once(' ') {
            Some((head, _)) => head,
            None => &self.long_name,
        }
    }

    pub fn is_active(&self) -> bool {
        matches!(
            self.state,
            ReleaseState::Pending | ReleaseState::Frozen | ReleaseState::Current
        )
    }

    pub fn effective_min_karma(&self, rules: &RulesSettings) -> i32 {
        self.min_karma.unwrap_or(rules.min_karma)
    }

    pub fn effective_critpath_min_karma(&self, rules: &RulesSettings) -> i32 {
        self.critpath_min_karma.unwrap_or(rules.critpath_min_karma)
    }

    pub fn effective_mandatory_days_in_testing(&self, rules: &RulesSettings) -> i32 {
        self.mandatory_days_in_testing
            .unwrap_or(rules.mandatory_days_in_testing)
    }

    pub fn effective_critpath_mandatory_days_in_testing(&self, rules: &RulesSettings) -> i32 {
        self.critpath_mandatory_days_in_testing
            .unwrap_or(rules.critpath_mandatory_days_in_testing)
    }
}
