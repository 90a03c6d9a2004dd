//! Bugs (Bugzilla numbers with the title and flags read from Bugzilla).

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{bugs, update_bugs};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = bugs)]
pub struct Bug {
    pub id: i32,
    /// The Bugzilla bug number.
    pub bug_id: i32,
    pub title: Option<String>,
    pub security: bool,
    /// True for a parent bug of the "Security Response" product.
    pub parent: bool,
}

impl Bug {
    pub fn by_bug_id(conn: &mut DbConnection, bug_id: i32) -> QueryResult<Option<Bug>> {
        bugs::table
            .filter(bugs::bug_id.eq(bug_id))
            .select(Bug::as_select())
            .first(conn)
            .optional()
    }

    /// The bug with this number, created (without details) if missing.
    pub fn ensure(conn: &mut DbConnection, bug_id: i32) -> QueryResult<Bug> {
        if let Some(bug) = Bug::by_bug_id(conn, bug_id)? {
            return Ok(bug);
        }
        diesel::insert_into(bugs::table)
            .values(bugs::bug_id.eq(bug_id))
            .returning(bugs::all_columns)
            .get_result(conn)
    }

    /// Records what Bugzilla says of the bug.
    pub fn set_details(
        conn: &mut DbConnection,
        id: i32,
        title: Option<&str>,
        security: bool,
        parent: bool,
    ) -> QueryResult<()> {
        diesel::update(bugs::table.find(id))
            .set((
                bugs::title.eq(title),
                bugs::security.eq(security),
                bugs::parent.eq(parent),
            ))
            .execute(conn)
            .map(drop)
    }

    /// The bugs of the given updates as (update id, bug), ordered by bug number.
    pub fn for_updates(
        conn: &mut DbConnection,
        update_ids: &[i32],
    ) -> QueryResult<Vec<(i32, Bug)>> {
        update_bugs::table
            .inner_join(bugs::table)
            .filter(update_bugs::update_id.eq_any(update_ids))
            .order(bugs::bug_id.asc())
            .select((update_bugs::update_id, Bug::as_select()))
            .load(conn)
    }
}
