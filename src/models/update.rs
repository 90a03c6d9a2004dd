//! Updates: a set of builds for one release, with its request, status, karma settings and
//! dates.

use chrono::{Datelike, NaiveDateTime};
use diesel::prelude::*;
use rand::RngCore;

use crate::db::DbConnection;
use crate::db::schema::{update_bugs, updates};
use crate::db::types::{
    TestGatingStatus, UpdateRequest, UpdateSeverity, UpdateStatus, UpdateSuggestion, UpdateType,
};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable, AsChangeset)]
#[diesel(table_name = updates, treat_none_as_null = true)]
pub struct Update {
    pub id: i32,
    pub alias: String,
    pub autokarma: bool,
    pub autotime: bool,
    pub stable_karma: i32,
    pub stable_days: i32,
    pub unstable_karma: i32,
    pub require_bugs: bool,
    pub require_testcases: bool,
    pub display_name: String,
    pub notes: String,
    #[diesel(column_name = type_)]
    pub update_type: UpdateType,
    pub status: UpdateStatus,
    pub request: Option<UpdateRequest>,
    pub severity: UpdateSeverity,
    pub suggest: UpdateSuggestion,
    pub locked: bool,
    pub pushed: bool,
    pub critpath: bool,
    /// Space-separated critical path group names.
    pub critpath_groups: Option<String>,
    pub close_bugs: bool,
    pub date_submitted: NaiveDateTime,
    pub date_modified: Option<NaiveDateTime>,
    pub date_approved: Option<NaiveDateTime>,
    pub date_testing: Option<NaiveDateTime>,
    pub date_stable: Option<NaiveDateTime>,
    pub release_id: i32,
    pub user_id: Option<i32>,
    pub test_gating_status: Option<TestGatingStatus>,
    /// The Koji side tag the update was created from.
    pub from_tag: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = updates)]
pub struct NewUpdate {
    pub alias: String,
    pub autokarma: bool,
    pub autotime: bool,
    pub stable_karma: i32,
    pub stable_days: i32,
    pub unstable_karma: i32,
    pub require_bugs: bool,
    pub require_testcases: bool,
    pub display_name: String,
    pub notes: String,
    #[diesel(column_name = type_)]
    pub update_type: UpdateType,
    pub status: UpdateStatus,
    pub request: Option<UpdateRequest>,
    pub severity: UpdateSeverity,
    pub suggest: UpdateSuggestion,
    pub locked: bool,
    pub pushed: bool,
    pub critpath: bool,
    pub critpath_groups: Option<String>,
    pub close_bugs: bool,
    pub date_submitted: NaiveDateTime,
    pub date_modified: Option<NaiveDateTime>,
    pub date_approved: Option<NaiveDateTime>,
    pub date_testing: Option<NaiveDateTime>,
    pub date_stable: Option<NaiveDateTime>,
    pub release_id: i32,
    pub user_id: Option<i32>,
    pub test_gating_status: Option<TestGatingStatus>,
    pub from_tag: Option<String>,
}

impl NewUpdate {
    /// An update with Bodhi's API defaults (stable karma 3, unstable karma -3, automatic push
    /// by karma and time, bugs and test cases required), pending with no request.
    pub fn with_defaults(
        alias: String,
        release_id: i32,
        user_id: Option<i32>,
        update_type: UpdateType,
        notes: String,
        now: NaiveDateTime,
    ) -> NewUpdate {
        NewUpdate {
            alias,
            autokarma: true,
            autotime: true,
            stable_karma: 3,
            stable_days: 0,
            unstable_karma: -3,
            require_bugs: true,
            require_testcases: true,
            display_name: String::new(),
            notes,
            update_type,
            status: UpdateStatus::Pending,
            request: None,
            severity: UpdateSeverity::Unspecified,
            suggest: UpdateSuggestion::Unspecified,
            locked: false,
            pushed: false,
            critpath: false,
            critpath_groups: None,
            close_bugs: true,
            date_submitted: now,
            date_modified: None,
            date_approved: None,
            date_testing: None,
            date_stable: None,
            release_id,
            user_id,
            test_gating_status: None,
            from_tag: None,
        }
    }
}

/// A new alias in Bodhi's format: `{id_prefix}-{year}-{10 hex digits}`,
/// e.g. `FEDORA-2026-1a2b3c4d5e`.
pub fn new_alias(id_prefix: &str, now: NaiveDateTime) -> String {
    let mut bytes = [0u8; 5];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{id_prefix}-{}-{}", now.year(), hex::encode(bytes))
}

impl Update {
    /// The aliases of the updates `ids`, by id.
    pub fn aliases(
        conn: &mut DbConnection,
        ids: &[i32],
    ) -> QueryResult<std::collections::HashMap<i32, String>> {
        Ok(updates::table
            .filter(updates::id.eq_any(ids))
            .select((updates::id, updates::alias))
            .load::<(i32, String)>(conn)?
            .into_iter()
            .collect())
    }

    pub fn create(conn: &mut DbConnection, new: &NewUpdate) -> QueryResult<Update> {
        diesel::insert_into(updates::table)
            .values(new)
            .returning(updates::all_columns)
            .get_result(conn)
    }

    pub fn by_alias(conn: &mut DbConnection, alias: &str) -> QueryResult<Option<Update>> {
        updates::table
            .filter(updates::alias.eq(alias))
            .select(Update::as_select())
            .first(conn)
            .optional()
    }

    /// The update, locked until the transaction ends, so that concurrent writers (karma
    /// comments, requests, edits, periodic jobs) change it one after another and each sees the
    /// others' work. PostgreSQL takes a row lock (`FOR UPDATE`); SQLite write transactions are
    /// serialised already (`BEGIN IMMEDIATE`).
    pub fn by_alias_for_update(
        conn: &mut DbConnection,
        alias: &str,
    ) -> QueryResult<Option<Update>> {
        match conn {
            DbConnection::Postgres(pg) => updates::table
                .filter(updates::alias.eq(alias))
                .select(Update::as_select())
                .for_update()
                .first(pg)
                .optional(),
            DbConnection::Sqlite(_) => Self::by_alias(conn, alias),
        }
    }

    /// [`Update::by_alias_for_update`] by row id.
    pub fn by_id_for_update(conn: &mut DbConnection, id: i32) -> QueryResult<Update> {
        match conn {
            DbConnection::Postgres(pg) => updates::table
                .find(id)
                .select(Update::as_select())
                .for_update()
                .first(pg),
            DbConnection::Sqlite(_) => Self::by_id(conn, id),
        }
    }

    pub fn by_id(conn: &mut DbConnection, id: i32) -> QueryResult<Update> {
        updates::table
            .find(id)
            .select(Update::as_select())
            .first(conn)
    }

    /// Attaches a bug (by row id) to the update; returns false if it was attached.
    pub fn attach_bug(
        conn: &mut DbConnection,
        update_id: i32,
        bug_row_id: i32,
    ) -> QueryResult<bool> {
        let existing: i64 = update_bugs::table
            .filter(update_bugs::update_id.eq(update_id))
            .filter(update_bugs::bug_id.eq(bug_row_id))
            .count()
            .get_result(conn)?;
        if existing > 0 {
            return Ok(false);
        }
        diesel::insert_into(update_bugs::table)
            .values((
                update_bugs::update_id.eq(update_id),
                update_bugs::bug_id.eq(bug_row_id),
            ))
            .execute(conn)?;
        Ok(true)
    }

    /// Writes every column of the update back.
    pub fn save(&self, conn: &mut DbConnection) -> QueryResult<()> {
        diesel::update(updates::table.find(self.id))
            .set(self)
            .execute(conn)
            .map(drop)
    }

    pub fn count(conn: &mut DbConnection) -> QueryResult<i64> {
        updates::table.count().get_result(conn)
    }
}
