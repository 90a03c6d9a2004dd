//! Buildroot overrides: a build tagged into a release's override tag until it expires.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::buildroot_overrides;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = buildroot_overrides)]
pub struct BuildrootOverride {
    pub id: i32,
    pub build_id: i32,
    pub submitter_id: i32,
    pub notes: String,
    pub submission_date: NaiveDateTime,
    pub expiration_date: NaiveDateTime,
    /// When it was expired; `None` while it is active.
    pub expired_date: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = buildroot_overrides)]
pub struct NewBuildrootOverride<'a> {
    pub build_id: i32,
    pub submitter_id: i32,
    pub notes: &'a str,
    pub submission_date: NaiveDateTime,
    pub expiration_date: NaiveDateTime,
    pub expired_date: Option<NaiveDateTime>,
}

impl BuildrootOverride {
    pub fn create(
        conn: &mut DbConnection,
        new: &NewBuildrootOverride<'_>,
    ) -> QueryResult<BuildrootOverride> {
        diesel::insert_into(buildroot_overrides::table)
            .values(new)
            .returning(buildroot_overrides::all_columns)
            .get_result(conn)
    }

    pub fn by_id(conn: &mut DbConnection, id: i32) -> QueryResult<BuildrootOverride> {
        buildroot_overrides::table
            .find(id)
            .select(BuildrootOverride::as_select())
            .first(conn)
    }

    pub fn for_build(
        conn: &mut DbConnection,
        build_id: i32,
    ) -> QueryResult<Option<BuildrootOverride>> {
        buildroot_overrides::table
            .filter(buildroot_overrides::build_id.eq(build_id))
            .select(BuildrootOverride::as_select())
            .first(conn)
            .optional()
    }

    /// Active overrides whose expiration date has passed at `now`.
    pub fn due_for_expiry(
        conn: &mut DbConnection,
        now: NaiveDateTime,
    ) -> QueryResult<Vec<BuildrootOverride>> {
        buildroot_overrides::table
            .filter(buildroot_overrides::expired_date.is_null())
            .filter(buildroot_overrides::expiration_date.lt(now))
            .order(buildroot_overrides::id.asc())
            .select(BuildrootOverride::as_select())
            .load(conn)
    }

    pub fn mark_expired(conn: &mut DbConnection, id: i32, now: NaiveDateTime) -> QueryResult<()> {
        diesel::update(buildroot_overrides::table.find(id))
            .set(buildroot_overrides::expired_date.eq(Some(now)))
            .execute(conn)
            .map(drop)
    }
}
