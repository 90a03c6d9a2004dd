//! Bodhi's updates with their bugs, and their builds with their test cases.

use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer, Nullable, Text, Timestamp};

use super::convert::{enum_opt, enum_value, required};
use super::report::Summary;
use super::source::Source;
use super::sync::{LinkTable, TargetRow};
use super::{Known, SourceRow};
use crate::db::DbConnection;
use crate::db::schema::{bugs, build_testcases, builds, testcases, update_bugs, updates};
use crate::db::types::{
    ContentType, TestGatingStatus, UpdateRequest, UpdateSeverity, UpdateStatus, UpdateSuggestion,
    UpdateType,
};

// Bugs ----------------------------------------------------------------------------------------

#[derive(QueryableByName)]
pub struct BodhiBug {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Nullable<Integer>)]
    bug_id: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    title: Option<String>,
    #[diesel(sql_type = Nullable<Bool>)]
    security: Option<bool>,
    #[diesel(sql_type = Nullable<Bool>)]
    parent: Option<bool>,
}

impl SourceRow for BodhiBug {
    fn id(&self) -> i32 {
        self.id
    }
}

pub const BUGS_SQL: &str = "SELECT id, bug_id, title::text AS title, security, parent \
     FROM bugs WHERE id > $1 ORDER BY id LIMIT $2";

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = bugs, treat_none_as_null = true)]
pub struct BugRow {
    id: i32,
    bug_id: i32,
    title: Option<String>,
    security: bool,
    parent: bool,
}

pub fn bug(row: BodhiBug, _: &Known) -> Result<BugRow, String> {
    Ok(BugRow {
        id: row.id,
        bug_id: required("bug_id", row.bug_id)?,
        title: row.title,
        security: row.security.unwrap_or(false),
        parent: row.parent.unwrap_or(false),
    })
}

impl TargetRow for BugRow {
    type Key = String;
    const TABLE: &'static str = "bugs";
    fn id(&self) -> i32 {
        self.id
    }
    fn set_id(&mut self, id: i32) {
        self.id = id;
    }
    fn key(&self) -> String {
        format!("bug {}", self.bug_id)
    }
    fn unchanged(&self, existing: &Self) -> bool {
        self == existing
    }
    fn existing(conn: &mut DbConnection, rows: &[Self]) -> QueryResult<Vec<Self>> {
        let numbers: Vec<i32> = rows.iter().map(|r| r.bug_id).collect();
        bugs::table
            .filter(bugs::bug_id.eq_any(numbers))
            .select(BugRow::as_select())
            .load(conn)
    }
    fn update(conn: &mut DbConnection, row: &Self) -> QueryResult<usize> {
        diesel::update(bugs::table.find(row.id))
            .set(row)
            .execute(conn)
    }
    super::target_table!(bugs);
}

// Test cases ----------------------------------------------------------------------------------

#[derive(QueryableByName)]
pub struct BodhiTestCase {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Text)]
    name: String,
}

impl SourceRow for BodhiTestCase {
    fn id(&self) -> i32 {
        self.id
    }
}

pub const TESTCASES_SQL: &str =
    "SELECT id, name::text AS name FROM testcases WHERE id > $1 ORDER BY id LIMIT $2";

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = testcases)]
pub struct TestCaseRow {
    id: i32,
    name: String,
}

pub fn testcase(row: BodhiTestCase, _: &Known) -> Result<TestCaseRow, String> {
    Ok(TestCaseRow {
        id: row.id,
        name: row.name,
    })
}

impl TargetRow for TestCaseRow {
    type Key = String;
    const TABLE: &'static str = "testcases";
    fn id(&self) -> i32 {
        self.id
    }
    fn set_id(&mut self, id: i32) {
        self.id = id;
    }
    fn key(&self) -> String {
        format!("test case {}", self.name)
    }
    fn unchanged(&self, _: &Self) -> bool {
        true
    }
    fn existing(conn: &mut DbConnection, rows: &[Self]) -> QueryResult<Vec<Self>> {
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        testcases::table
            .filter(testcases::name.eq_any(names))
            .select(TestCaseRow::as_select())
            .load(conn)
    }
    fn update(_: &mut DbConnection, _: &Self) -> QueryResult<usize> {
        Ok(0)
    }
    super::target_table!(testcases);
}

// Updates -------------------------------------------------------------------------------------

#[derive(QueryableByName)]
pub struct BodhiUpdate {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Text)]
    alias: String,
    #[diesel(sql_type = Nullable<Bool>)]
    autokarma: Option<bool>,
    #[diesel(sql_type = Nullable<Bool>)]
    autotime: Option<bool>,
    #[diesel(sql_type = Nullable<Integer>)]
    stable_karma: Option<i32>,
    #[diesel(sql_type = Nullable<Integer>)]
    stable_days: Option<i32>,
    #[diesel(sql_type = Nullable<Integer>)]
    unstable_karma: Option<i32>,
    #[diesel(sql_type = Nullable<Bool>)]
    require_bugs: Option<bool>,
    #[diesel(sql_type = Nullable<Bool>)]
    require_testcases: Option<bool>,
    #[diesel(sql_type = Nullable<Text>)]
    display_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    notes: Option<String>,
    #[diesel(sql_type = Text)]
    type_: String,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Nullable<Text>)]
    request: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    severity: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    suggest: Option<String>,
    #[diesel(sql_type = Nullable<Bool>)]
    locked: Option<bool>,
    #[diesel(sql_type = Nullable<Bool>)]
    pushed: Option<bool>,
    #[diesel(sql_type = Nullable<Bool>)]
    critpath: Option<bool>,
    #[diesel(sql_type = Nullable<Text>)]
    critpath_groups: Option<String>,
    #[diesel(sql_type = Nullable<Bool>)]
    close_bugs: Option<bool>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    date_submitted: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    date_modified: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    date_approved: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    date_testing: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    date_stable: Option<NaiveDateTime>,
    #[diesel(sql_type = Integer)]
    release_id: i32,
    #[diesel(sql_type = Nullable<Integer>)]
    user_id: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    test_gating_status: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    from_tag: Option<String>,
}

impl SourceRow for BodhiUpdate {
    fn id(&self) -> i32 {
        self.id
    }
}

/// Bodhi's development branch renamed karma to "rating" in a few columns; older versions
/// lack some columns, read as NULL.
pub fn updates_sql(source: &Source) -> String {
    let pick =
        |names: &[&str], cast: &str| source.column("updates", names, &format!("NULL::{cast}"));
    format!(
        "SELECT id, alias::text AS alias, {} AS autokarma, {} AS autotime, {} AS stable_karma, \
         {} AS stable_days, {} AS unstable_karma, {} AS require_bugs, \
         {} AS require_testcases, {}::text AS display_name, notes, type::text AS type_, \
         status::text AS status, request::text AS request, {}::text AS severity, \
         {}::text AS suggest, locked, pushed, critpath, {} AS critpath_groups, \
         {} AS close_bugs, date_submitted, {} AS date_modified, {} AS date_approved, \
         {} AS date_testing, {} AS date_stable, release_id, user_id, \
         {}::text AS test_gating_status, {} AS from_tag \
         FROM updates WHERE id > $1 ORDER BY id LIMIT $2",
        pick(&["autokarma", "autorating"], "boolean"),
        pick(&["autotime"], "boolean"),
        pick(&["stable_karma", "stable_rating"], "integer"),
        pick(&["stable_days"], "integer"),
        pick(&["unstable_karma", "unstable_rating"], "integer"),
        pick(&["require_bugs"], "boolean"),
        pick(&["require_testcases"], "boolean"),
        pick(&["display_name"], "text"),
        pick(&["severity"], "text"),
        pick(&["suggest"], "text"),
        pick(&["critpath_groups"], "text"),
        pick(&["close_bugs"], "boolean"),
        pick(&["date_modified"], "timestamp"),
        pick(&["date_approved"], "timestamp"),
        pick(&["date_testing"], "timestamp"),
        pick(&["date_stable"], "timestamp"),
        pick(&["test_gating_status"], "text"),
        pick(&["from_tag"], "text"),
    )
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = updates, treat_none_as_null = true)]
pub struct UpdateRow {
    id: i32,
    alias: String,
    autokarma: bool,
    autotime: bool,
    stable_karma: i32,
    stable_days: i32,
    unstable_karma: i32,
    require_bugs: bool,
    require_testcases: bool,
    display_name: String,
    notes: String,
    type_: UpdateType,
    status: UpdateStatus,
    request: Option<UpdateRequest>,
    severity: UpdateSeverity,
    suggest: UpdateSuggestion,
    locked: bool,
    pushed: bool,
    critpath: bool,
    critpath_groups: Option<String>,
    close_bugs: bool,
    date_submitted: NaiveDateTime,
    date_modified: Option<NaiveDateTime>,
    date_approved: Option<NaiveDateTime>,
    date_testing: Option<NaiveDateTime>,
    date_stable: Option<NaiveDateTime>,
    release_id: i32,
    user_id: Option<i32>,
    test_gating_status: Option<TestGatingStatus>,
    from_tag: Option<String>,
}

/// Bodhi-nullable columns that Pipal needs take Bodhi's defaults; an update without a
/// submission date has no place in any list and is refused.
pub fn update(row: BodhiUpdate, known: &Known) -> Result<UpdateRow, String> {
    Ok(UpdateRow {
        id: row.id,
        alias: row.alias,
        autokarma: required("autokarma", row.autokarma)?,
        autotime: required("autotime", row.autotime)?,
        stable_karma: required("stable_karma", row.stable_karma)?,
        stable_days: row.stable_days.unwrap_or(0),
        unstable_karma: required("unstable_karma", row.unstable_karma)?,
        require_bugs: row.require_bugs.unwrap_or(false),
        require_testcases: row.require_testcases.unwrap_or(false),
        display_name: row.display_name.unwrap_or_default(),
        notes: row.notes.unwrap_or_default(),
        type_: enum_value("type", &row.type_)?,
        status: enum_value("status", &row.status)?,
        request: enum_opt("request", row.request.as_deref())?,
        severity: enum_opt("severity", row.severity.as_deref())?
            .unwrap_or(UpdateSeverity::Unspecified),
        suggest: enum_opt("suggest", row.suggest.as_deref())?
            .unwrap_or(UpdateSuggestion::Unspecified),
        locked: row.locked.unwrap_or(false),
        pushed: row.pushed.unwrap_or(false),
        critpath: row.critpath.unwrap_or(false),
        critpath_groups: row.critpath_groups,
        close_bugs: row.close_bugs.unwrap_or(true),
        date_submitted: required("date_submitted", row.date_submitted)?,
        date_modified: row.date_modified,
        date_approved: row.date_approved,
        date_testing: row.date_testing,
        date_stable: row.date_stable,
        release_id: known.releases.resolve("release", row.release_id)?,
        user_id: known.users.resolve_opt("user", row.user_id)?,
        test_gating_status: enum_opt("test_gating_status", row.test_gating_status.as_deref())?,
        from_tag: row.from_tag,
    })
}

impl TargetRow for UpdateRow {
    type Key = String;
    const TABLE: &'static str = "updates";
    fn id(&self) -> i32 {
        self.id
    }
    fn set_id(&mut self, id: i32) {
        self.id = id;
    }
    fn key(&self) -> String {
        format!("update {}", self.alias)
    }
    fn unchanged(&self, existing: &Self) -> bool {
        self == existing
    }
    fn existing(conn: &mut DbConnection, rows: &[Self]) -> QueryResult<Vec<Self>> {
        let aliases: Vec<&str> = rows.iter().map(|r| r.alias.as_str()).collect();
        updates::table
            .filter(updates::alias.eq_any(aliases))
            .select(UpdateRow::as_select())
            .load(conn)
    }
    fn update(conn: &mut DbConnection, row: &Self) -> QueryResult<usize> {
        diesel::update(updates::table.find(row.id))
            .set(row)
            .execute(conn)
    }
    super::target_table!(updates);
}

pub const UPDATE_BUGS_SQL: &str = "SELECT update_id AS parent, bug_id AS child \
     FROM update_bug_table WHERE update_id = ANY($1)";

pub struct UpdateBugs;

impl LinkTable for UpdateBugs {
    const TABLE: &'static str = "update_bug_table";
    fn existing(conn: &mut DbConnection, parents: &[i32]) -> QueryResult<Vec<(i32, i32)>> {
        update_bugs::table
            .filter(update_bugs::update_id.eq_any(parents))
            .select((update_bugs::update_id, update_bugs::bug_id))
            .load(conn)
    }
    fn insert(conn: &mut DbConnection, pairs: &[(i32, i32)]) -> QueryResult<usize> {
        let rows: Vec<_> = pairs
            .iter()
            .map(|(u, b)| (update_bugs::update_id.eq(*u), update_bugs::bug_id.eq(*b)))
            .collect();
        crate::per_backend!(conn, |c| diesel::insert_into(update_bugs::table)
            .values(&rows)
            .execute(c))
    }
    fn delete(conn: &mut DbConnection, pair: (i32, i32)) -> QueryResult<usize> {
        diesel::delete(update_bugs::table.find(pair)).execute(conn)
    }
}

#[derive(QueryableByName)]
pub struct BodhiNvr {
    #[diesel(sql_type = Text)]
    nvr: String,
}

const UPDATE_BUILDS_SQL: &str = "SELECT nvr::text AS nvr FROM builds WHERE update_id = ANY($1)";
const EXISTING_BUILDS_SQL: &str = "SELECT nvr::text AS nvr FROM builds WHERE nvr = ANY($1)";

/// Bodhi deletes a build's row when an edit takes the build out of its update. Pipal's copy
/// of such a build is detached from the update (kept, with its overrides), so that the update
/// lists Bodhi's builds again. A build that moved to another update is left to the builds
/// step.
pub fn detach_deleted_builds(
    conn: &mut DbConnection,
    source: &mut Source,
    parents: &[(i32, i32)],
    summary: &mut Summary,
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let bodhi_updates: Vec<i32> = parents.iter().map(|(bodhi, _)| *bodhi).collect();
    let pipal_updates: Vec<i32> = parents.iter().map(|(_, pipal)| *pipal).collect();
    let listed: HashSet<String> = source
        .for_parents::<BodhiNvr>(UPDATE_BUILDS_SQL, &bodhi_updates)?
        .into_iter()
        .map(|b| b.nvr)
        .collect();
    let attached: Vec<(i32, String, Option<i32>)> = builds::table
        .filter(builds::update_id.eq_any(&pipal_updates))
        .select((builds::id, builds::nvr, builds::update_id))
        .load(conn)
        .context("cannot read the builds of Pipal's updates")?;
    let unlisted: Vec<String> = attached
        .iter()
        .filter(|(_, nvr, _)| !listed.contains(nvr))
        .map(|(_, nvr, _)| nvr.clone())
        .collect();
    if unlisted.is_empty() {
        return Ok(());
    }
    let still_in_bodhi: HashSet<String> = source
        .for_texts::<BodhiNvr>(EXISTING_BUILDS_SQL, &unlisted)?
        .into_iter()
        .map(|b| b.nvr)
        .collect();
    for (id, nvr, update) in attached {
        if listed.contains(&nvr) || still_in_bodhi.contains(&nvr) {
            continue;
        }
        diesel::update(builds::table.find(id))
            .set(builds::update_id.eq(None::<i32>))
            .execute(conn)
            .with_context(|| format!("cannot detach build {nvr}"))?;
        summary.table("builds").updated += 1;
        summary.note(format!(
            "Bodhi no longer has build {nvr}: it was detached from Pipal's update {}",
            update.unwrap_or_default()
        ));
    }
    Ok(())
}

// Builds --------------------------------------------------------------------------------------

#[derive(QueryableByName)]
pub struct BodhiBuild {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Text)]
    nvr: String,
    #[diesel(sql_type = Nullable<Bool>)]
    signed: Option<bool>,
    #[diesel(sql_type = Integer)]
    package_id: i32,
    #[diesel(sql_type = Nullable<Integer>)]
    release_id: Option<i32>,
    #[diesel(sql_type = Nullable<Integer>)]
    update_id: Option<i32>,
    #[diesel(sql_type = Text)]
    type_: String,
    #[diesel(sql_type = Nullable<Integer>)]
    epoch: Option<i32>,
}

impl SourceRow for BodhiBuild {
    fn id(&self) -> i32 {
        self.id
    }
}

pub fn builds_sql(source: &Source) -> String {
    format!(
        "SELECT id, nvr::text AS nvr, signed, package_id, release_id, update_id, \
         type::text AS type_, {} AS epoch FROM builds WHERE id > $1 ORDER BY id LIMIT $2",
        source.column("builds", &["epoch"], "NULL::integer")
    )
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = builds, treat_none_as_null = true)]
pub struct BuildRow {
    id: i32,
    nvr: String,
    signed: bool,
    package_id: i32,
    release_id: Option<i32>,
    update_id: Option<i32>,
    type_: ContentType,
    /// NULL stays NULL: the build JSON shows `epoch: null`, not 0.
    epoch: Option<i32>,
}

pub fn build(row: BodhiBuild, known: &Known) -> Result<BuildRow, String> {
    Ok(BuildRow {
        id: row.id,
        nvr: row.nvr,
        signed: row.signed.unwrap_or(false),
        package_id: known.packages.resolve("package", row.package_id)?,
        release_id: known.releases.resolve_opt("release", row.release_id)?,
        update_id: known.updates.resolve_opt("update", row.update_id)?,
        type_: enum_value("type", &row.type_)?,
        epoch: row.epoch,
    })
}

impl TargetRow for BuildRow {
    type Key = String;
    const TABLE: &'static str = "builds";
    fn id(&self) -> i32 {
        self.id
    }
    fn set_id(&mut self, id: i32) {
        self.id = id;
    }
    fn key(&self) -> String {
        format!("build {}", self.nvr)
    }
    fn unchanged(&self, existing: &Self) -> bool {
        self == existing
    }
    fn existing(conn: &mut DbConnection, rows: &[Self]) -> QueryResult<Vec<Self>> {
        let nvrs: Vec<&str> = rows.iter().map(|r| r.nvr.as_str()).collect();
        builds::table
            .filter(builds::nvr.eq_any(nvrs))
            .select(BuildRow::as_select())
            .load(conn)
    }
    fn update(conn: &mut DbConnection, row: &Self) -> QueryResult<usize> {
        diesel::update(builds::table.find(row.id))
            .set(row)
            .execute(conn)
    }
    super::target_table!(builds);
}

pub const BUILD_TESTCASES_SQL: &str = "SELECT build_id AS parent, testcase_id AS child \
     FROM build_testcase_table WHERE build_id = ANY($1)";

pub struct BuildTestCases;

impl LinkTable for BuildTestCases {
    const TABLE: &'static str = "build_testcase_table";
    fn existing(conn: &mut DbConnection, parents: &[i32]) -> QueryResult<Vec<(i32, i32)>> {
        build_testcases::table
            .filter(build_testcases::build_id.eq_any(parents))
            .select((build_testcases::build_id, build_testcases::testcase_id))
            .load(conn)
    }
    fn insert(conn: &mut DbConnection, pairs: &[(i32, i32)]) -> QueryResult<usize> {
        let rows: Vec<_> = pairs
            .iter()
            .map(|(b, t)| {
                (
                    build_testcases::build_id.eq(*b),
                    build_testcases::testcase_id.eq(*t),
                )
            })
            .collect();
        crate::per_backend!(conn, |c| diesel::insert_into(build_testcases::table)
            .values(&rows)
            .execute(c))
    }
    fn delete(conn: &mut DbConnection, pair: (i32, i32)) -> QueryResult<usize> {
        diesel::delete(build_testcases::table.find(pair)).execute(conn)
    }
}
