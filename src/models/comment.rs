//! Comments on updates, with their karma and the per-bug and per-test-case feedback.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{comment_bug_feedback, comment_testcase_feedback, comments};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = comments)]
pub struct Comment {
    pub id: i32,
    /// -1, 0 or +1.
    pub karma: i32,
    /// Deprecated in Bodhi 26: stored and serialised, never set.
    pub karma_critpath: i32,
    pub text: String,
    pub timestamp: NaiveDateTime,
    pub update_id: i32,
    pub user_id: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = comments)]
pub struct NewComment<'a> {
    pub karma: i32,
    pub karma_critpath: i32,
    pub text: &'a str,
    pub timestamp: NaiveDateTime,
    pub update_id: i32,
    pub user_id: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = comment_bug_feedback)]
pub struct BugFeedback {
    pub id: i32,
    pub comment_id: i32,
    /// The Bugzilla bug number.
    pub bug_id: i32,
    pub karma: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = comment_testcase_feedback)]
pub struct TestCaseFeedback {
    pub id: i32,
    pub comment_id: i32,
    pub testcase_id: i32,
    pub karma: i32,
}

impl Comment {
    pub fn create(conn: &mut DbConnection, new: &NewComment<'_>) -> QueryResult<Comment> {
        diesel::insert_into(comments::table)
            .values(new)
            .returning(comments::all_columns)
            .get_result(conn)
    }

    pub fn by_id(conn: &mut DbConnection, id: i32) -> QueryResult<Option<Comment>> {
        comments::table
            .find(id)
            .select(Comment::as_select())
            .first(conn)
            .optional()
    }

    /// The comments of the given updates, oldest first (Bodhi's order), ties by id.
    pub fn for_updates(conn: &mut DbConnection, update_ids: &[i32]) -> QueryResult<Vec<Comment>> {
        comments::table
            .filter(comments::update_id.eq_any(update_ids))
            .order((comments::timestamp.asc(), comments::id.asc()))
            .select(Comment::as_select())
            .load(conn)
    }

    pub fn add_bug_feedback(
        conn: &mut DbConnection,
        comment_id: i32,
        bug_id: i32,
        karma: i32,
    ) -> QueryResult<BugFeedback> {
        diesel::insert_into(comment_bug_feedback::table)
            .values((
                comment_bug_feedback::comment_id.eq(comment_id),
                comment_bug_feedback::bug_id.eq(bug_id),
                comment_bug_feedback::karma.eq(karma),
            ))
            .returning(comment_bug_feedback::all_columns)
            .get_result(conn)
    }

    pub fn add_testcase_feedback(
        conn: &mut DbConnection,
        comment_id: i32,
        testcase_id: i32,
        karma: i32,
    ) -> QueryResult<TestCaseFeedback> {
        diesel::insert_into(comment_testcase_feedback::table)
            .values((
                comment_testcase_feedback::comment_id.eq(comment_id),
                comment_testcase_feedback::testcase_id.eq(testcase_id),
                comment_testcase_feedback::karma.eq(karma),
            ))
            .returning(comment_testcase_feedback::all_columns)
            .get_result(conn)
    }

    pub fn bug_feedback_for(
        conn: &mut DbConnection,
        comment_ids: &[i32],
    ) -> QueryResult<Vec<BugFeedback>> {
        comment_bug_feedback::table
            .filter(comment_bug_feedback::comment_id.eq_any(comment_ids))
            .order(comment_bug_feedback::id.asc())
            .select(BugFeedback::as_select())
            .load(conn)
    }

    pub fn testcase_feedback_for(
        conn: &mut DbConnection,
        comment_ids: &[i32],
    ) -> QueryResult<Vec<TestCaseFeedback>> {
        comment_testcase_feedback::table
            .filter(comment_testcase_feedback::comment_id.eq_any(comment_ids))
            .order(comment_testcase_feedback::id.asc())
            .select(TestCaseFeedback::as_select())
            .load(conn)
    }
}
