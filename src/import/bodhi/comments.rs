//! Bodhi's comments with their karma, and the per-bug and per-test-case feedback they carry.
//! Bodhi never edits a comment, so a comment is found again by its update, author and time.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable, Text, Timestamp};

use super::convert::{karma, required};
use super::source::Source;
use super::sync::TargetRow;
use super::{Known, SourceRow};
use crate::db::DbConnection;
use crate::db::schema::{comment_bug_feedback, comment_testcase_feedback, comments};

#[derive(QueryableByName)]
pub struct BodhiComment {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Nullable<Integer>)]
    karma: Option<i32>,
    #[diesel(sql_type = Nullable<Integer>)]
    karma_critpath: Option<i32>,
    #[diesel(sql_type = Text)]
    text: String,
    #[diesel(sql_type = Nullable<Timestamp>)]
    timestamp: Option<NaiveDateTime>,
    #[diesel(sql_type = Integer)]
    update_id: i32,
    #[diesel(sql_type = Integer)]
    user_id: i32,
}

impl SourceRow for BodhiComment {
    fn id(&self) -> i32 {
        self.id
    }
}

/// Bodhi's development branch calls karma "feedback".
pub fn comments_sql(source: &Source) -> String {
    format!(
        "SELECT id, {} AS karma, {} AS karma_critpath, text, \"timestamp\", update_id, user_id \
         FROM comments WHERE id > $1 ORDER BY id LIMIT $2",
        source.column("comments", &["karma", "feedback"], "NULL::integer"),
        source.column(
            "comments",
            &["karma_critpath", "feedback_critpath"],
            "NULL::integer"
        ),
    )
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = comments)]
pub struct CommentRow {
    id: i32,
    karma: i32,
    karma_critpath: i32,
    text: String,
    timestamp: NaiveDateTime,
    update_id: i32,
    user_id: i32,
}

pub fn comment(row: BodhiComment, known: &Known) -> Result<CommentRow, String> {
    Ok(CommentRow {
        id: row.id,
        karma: karma("karma", row.karma)?,
        // Unlike karma, Pipal (like Bodhi) does not bound it: copied as it is.
        karma_critpath: row.karma_critpath.unwrap_or(0),
        text: row.text,
        timestamp: required("timestamp", row.timestamp)?,
        update_id: known.updates.resolve("update", row.update_id)?,
        user_id: known.users.resolve("user", row.user_id)?,
    })
}

impl TargetRow for CommentRow {
    type Key = String;
    const TABLE: &'static str = "comments";
    fn id(&self) -> i32 {
        self.id
    }
    fn set_id(&mut self, id: i32) {
        self.id = id;
    }
    fn key(&self) -> String {
        format!(
            "comment by user {} on update {} at {}",
            self.user_id,
            self.update_id,
            self.timestamp.format("%Y-%m-%d %H:%M:%S%.6f")
        )
    }
    fn unchanged(&self, existing: &Self) -> bool {
        self == existing
    }
    fn existing(conn: &mut DbConnection, rows: &[Self]) -> QueryResult<Vec<Self>> {
        let mut updates: Vec<i32> = rows.iter().map(|r| r.update_id).collect();
        updates.sort_unstable();
        updates.dedup();
        comments::table
            .filter(comments::update_id.eq_any(updates))
            .select(CommentRow::as_select())
            .load(conn)
    }
    fn update(conn: &mut DbConnection, row: &Self) -> QueryResult<usize> {
        diesel::update(comments::table.find(row.id))
            .set(row)
            .execute(conn)
    }
    super::target_table!(comments);
}

// Feedback ------------------------------------------------------------------------------------

/// A row of `comment_bug_assoc` or `comment_testcase_assoc`.
#[derive(QueryableByName)]
pub struct BodhiFeedback {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Nullable<Integer>)]
    karma: Option<i32>,
    #[diesel(sql_type = Nullable<Integer>)]
    comment_id: Option<i32>,
    #[diesel(sql_type = Nullable<Integer>)]
    target: Option<i32>,
}

impl SourceRow for BodhiFeedback {
    fn id(&self) -> i32 {
        self.id
    }
}

pub fn bug_feedback_sql(source: &Source) -> String {
    format!(
        "SELECT id, {} AS karma, comment_id, bug_id AS target FROM comment_bug_assoc \
         WHERE id > $1 ORDER BY id LIMIT $2",
        source.column("comment_bug_assoc", &["karma", "feedback"], "NULL::integer")
    )
}

pub fn testcase_feedback_sql(source: &Source) -> String {
    format!(
        "SELECT id, {} AS karma, comment_id, testcase_id AS target FROM comment_testcase_assoc \
         WHERE id > $1 ORDER BY id LIMIT $2",
        source.column(
            "comment_testcase_assoc",
            &["karma", "feedback"],
            "NULL::integer"
        )
    )
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = comment_bug_feedback)]
pub struct BugFeedbackRow {
    id: i32,
    comment_id: i32,
    /// The Bugzilla number, as in Bodhi.
    bug_id: i32,
    karma: i32,
}

pub fn bug_feedback(row: BodhiFeedback, known: &Known) -> Result<BugFeedbackRow, String> {
    Ok(BugFeedbackRow {
        id: row.id,
        comment_id: known
            .comments
            .resolve("comment", required("comment_id", row.comment_id)?)?,
        bug_id: required("bug_id", row.target)?,
        karma: karma("karma", row.karma)?,
    })
}

impl TargetRow for BugFeedbackRow {
    type Key = String;
    const TABLE: &'static str = "comment_bug_assoc";
    fn id(&self) -> i32 {
        self.id
    }
    fn set_id(&mut self, id: i32) {
        self.id = id;
    }
    fn key(&self) -> String {
        format!(
            "feedback of comment {} on bug {}",
            self.comment_id, self.bug_id
        )
    }
    fn unchanged(&self, existing: &Self) -> bool {
        self == existing
    }
    fn existing(conn: &mut DbConnection, rows: &[Self]) -> QueryResult<Vec<Self>> {
        let ids: Vec<i32> = rows.iter().map(|r| r.comment_id).collect();
        comment_bug_feedback::table
            .filter(comment_bug_feedback::comment_id.eq_any(ids))
            .select(BugFeedbackRow::as_select())
            .load(conn)
    }
    fn update(conn: &mut DbConnection, row: &Self) -> QueryResult<usize> {
        diesel::update(comment_bug_feedback::table.find(row.id))
            .set(row)
            .execute(conn)
    }
    super::target_table!(comment_bug_feedback);
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = comment_testcase_feedback)]
pub struct TestCaseFeedbackRow {
    id: i32,
    comment_id: i32,
    testcase_id: i32,
    karma: i32,
}

pub fn testcase_feedback(row: BodhiFeedback, known: &Known) -> Result<TestCaseFeedbackRow, String> {
    Ok(TestCaseFeedbackRow {
        id: row.id,
        comment_id: known
            .comments
            .resolve("comment", required("comment_id", row.comment_id)?)?,
        testcase_id: known
            .testcases
            .resolve("test case", required("testcase_id", row.target)?)?,
        karma: karma("karma", row.karma)?,
    })
}

impl TargetRow for TestCaseFeedbackRow {
    type Key = String;
    const TABLE: &'static str = "comment_testcase_assoc";
    fn id(&self) -> i32 {
        self.id
    }
    fn set_id(&mut self, id: i32) {
        self.id = id;
    }
    fn key(&self) -> String {
        format!(
            "feedback of comment {} on test case {}",
            self.comment_id, self.testcase_id
        )
    }
    fn unchanged(&self, existing: &Self) -> bool {
        self == existing
    }
    fn existing(conn: &mut DbConnection, rows: &[Self]) -> QueryResult<Vec<Self>> {
        let ids: Vec<i32> = rows.iter().map(|r| r.comment_id).collect();
        comment_testcase_feedback::table
            .filter(comment_testcase_feedback::comment_id.eq_any(ids))
            .select(TestCaseFeedbackRow::as_select())
            .load(conn)
    }
    fn update(conn: &mut DbConnection, row: &Self) -> QueryResult<usize> {
        diesel::update(comment_testcase_feedback::table.find(row.id))
            .set(row)
            .execute(conn)
    }
    super::target_table!(comment_testcase_feedback);
}
