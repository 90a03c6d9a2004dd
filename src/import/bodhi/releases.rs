//! Bodhi's releases (tags and settings) and packages.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Date, Integer, Nullable, Text};

use super::convert::{enum_opt, enum_value};
use super::source::Source;
use super::sync::TargetRow;
use super::{Known, SourceRow};
use crate::db::DbConnection;
use crate::db::schema::{packages, releases};
use crate::db::types::{ContentType, PackageManager, ReleaseState};

#[derive(QueryableByName)]
pub struct BodhiRelease {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    long_name: String,
    #[diesel(sql_type = Text)]
    version: String,
    #[diesel(sql_type = Text)]
    id_prefix: String,
    #[diesel(sql_type = Text)]
    branch: String,
    #[diesel(sql_type = Text)]
    dist_tag: String,
    #[diesel(sql_type = Text)]
    stable_tag: String,
    #[diesel(sql_type = Text)]
    testing_tag: String,
    #[diesel(sql_type = Text)]
    candidate_tag: String,
    #[diesel(sql_type = Text)]
    pending_signing_tag: String,
    #[diesel(sql_type = Text)]
    pending_testing_tag: String,
    #[diesel(sql_type = Text)]
    pending_stable_tag: String,
    #[diesel(sql_type = Text)]
    override_tag: String,
    #[diesel(sql_type = Text)]
    mail_template: String,
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = Nullable<Bool>)]
    composed_by_bodhi: Option<bool>,
    #[diesel(sql_type = Nullable<Bool>)]
    create_automatic_updates: Option<bool>,
    #[diesel(sql_type = Nullable<Text>)]
    package_manager: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    testing_repository: Option<String>,
    #[diesel(sql_type = Nullable<Date>)]
    released_on: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Date>)]
    eol: Option<NaiveDate>,
}

impl SourceRow for BodhiRelease {
    fn id(&self) -> i32 {
        self.id
    }
}

/// Columns that older Bodhi versions do not have are read as NULL.
pub fn releases_sql(source: &Source) -> String {
    let optional =
        |column: &str, cast: &str| source.column("releases", &[column], &format!("NULL::{cast}"));
    format!(
        "SELECT id, name::text AS name, long_name::text AS long_name, version::text AS version, \
         id_prefix::text AS id_prefix, branch::text AS branch, dist_tag::text AS dist_tag, \
         stable_tag, testing_tag, candidate_tag, pending_signing_tag, pending_testing_tag, \
         pending_stable_tag, override_tag, mail_template, state::text AS state, \
         {} AS composed_by_bodhi, {} AS create_automatic_updates, \
         {}::text AS package_manager, {} AS testing_repository, {} AS released_on, {} AS eol \
         FROM releases WHERE id > $1 ORDER BY id LIMIT $2",
        optional("composed_by_bodhi", "boolean"),
        optional("create_automatic_updates", "boolean"),
        optional("package_manager", "text"),
        optional("testing_repository", "text"),
        optional("released_on", "date"),
        optional("eol", "date"),
    )
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = releases, treat_none_as_null = true)]
pub struct ReleaseRow {
    id: i32,
    name: String,
    long_name: String,
    version: String,
    id_prefix: String,
    branch: String,
    dist_tag: String,
    stable_tag: String,
    testing_tag: String,
    candidate_tag: String,
    pending_signing_tag: String,
    pending_testing_tag: String,
    pending_stable_tag: String,
    override_tag: String,
    mail_template: String,
    state: ReleaseState,
    composed_by_bodhi: bool,
    create_automatic_updates: bool,
    package_manager: PackageManager,
    testing_repository: Option<String>,
    released_on: Option<NaiveDate>,
    eol: Option<NaiveDate>,
}

/// NULLs become Bodhi's own defaults for these columns.
pub fn release(row: BodhiRelease, _: &Known) -> Result<ReleaseRow, String> {
    Ok(ReleaseRow {
        id: row.id,
        name: row.name,
        long_name: row.long_name,
        version: row.version,
        id_prefix: row.id_prefix,
        branch: row.branch,
        dist_tag: row.dist_tag,
        stable_tag: row.stable_tag,
        testing_tag: row.testing_tag,
        candidate_tag: row.candidate_tag,
        pending_signing_tag: row.pending_signing_tag,
        pending_testing_tag: row.pending_testing_tag,
        pending_stable_tag: row.pending_stable_tag,
        override_tag: row.override_tag,
        mail_template: row.mail_template,
        state: enum_value("state", &row.state)?,
        composed_by_bodhi: row.composed_by_bodhi.unwrap_or(true),
        create_automatic_updates: row.create_automatic_updates.unwrap_or(false),
        package_manager: enum_opt("package_manager", row.package_manager.as_deref())?
            .unwrap_or(PackageManager::Unspecified),
        testing_repository: row.testing_repository,
        released_on: row.released_on,
        eol: row.eol,
    })
}

impl TargetRow for ReleaseRow {
    type Key = String;
    const TABLE: &'static str = "releases";
    fn id(&self) -> i32 {
        self.id
    }
    fn set_id(&mut self, id: i32) {
        self.id = id;
    }
    fn key(&self) -> String {
        format!("release {}", self.name)
    }
    fn unchanged(&self, existing: &Self) -> bool {
        self == existing
    }
    fn existing(conn: &mut DbConnection, rows: &[Self]) -> QueryResult<Vec<Self>> {
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        releases::table
            .filter(releases::name.eq_any(names))
            .select(ReleaseRow::as_select())
            .load(conn)
    }
    fn update(conn: &mut DbConnection, row: &Self) -> QueryResult<usize> {
        diesel::update(releases::table.find(row.id))
            .set(row)
            .execute(conn)
    }
    super::target_table!(releases);
}

#[derive(QueryableByName)]
pub struct BodhiPackage {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    type_: String,
}

impl SourceRow for BodhiPackage {
    fn id(&self) -> i32 {
        self.id
    }
}

pub const PACKAGES_SQL: &str = "SELECT id, name::text AS name, type::text AS type_ \
     FROM packages WHERE id > $1 ORDER BY id LIMIT $2";

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = packages)]
pub struct PackageRow {
    id: i32,
    name: String,
    type_: ContentType,
}

pub fn package(row: BodhiPackage, _: &Known) -> Result<PackageRow, String> {
    Ok(PackageRow {
        id: row.id,
        name: row.name,
        type_: enum_value("type", &row.type_)?,
    })
}

impl TargetRow for PackageRow {
    type Key = String;
    const TABLE: &'static str = "packages";
    fn id(&self) -> i32 {
        self.id
    }
    fn set_id(&mut self, id: i32) {
        self.id = id;
    }
    fn key(&self) -> String {
        format!("{} package {}", self.type_.as_str(), self.name)
    }
    fn unchanged(&self, _: &Self) -> bool {
        true
    }
    fn existing(conn: &mut DbConnection, rows: &[Self]) -> QueryResult<Vec<Self>> {
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        packages::table
            .filter(packages::name.eq_any(names))
            .select(PackageRow::as_select())
            .load(conn)
    }
    fn update(_: &mut DbConnection, _: &Self) -> QueryResult<usize> {
        Ok(0)
    }
    super::target_table!(packages);
}
