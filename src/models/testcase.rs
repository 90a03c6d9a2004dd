//! Test cases (wiki page names) and the builds they apply to.

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{build_testcases, testcases};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = testcases)]
pub struct TestCase {
    pub id: i32,
    pub name: String,
}

impl TestCase {
    /// The test case with this name, created if missing.
    pub fn ensure(conn: &mut DbConnection, name: &str) -> QueryResult<TestCase> {
        let existing = testcases::table
            .filter(testcases::name.eq(name))
            .select(TestCase::as_select())
            .first(conn)
            .optional()?;
        match existing {
            Some(testcase) => Ok(testcase),
            None => diesel::insert_into(testcases::table)
                .values(testcases::name.eq(name))
                .returning(testcases::all_columns)
                .get_result(conn),
        }
    }

    /// Links the test case to a build; returns false if it was linked.
    pub fn attach_to_build(
        conn: &mut DbConnection,
        testcase_id: i32,
        build_id: i32,
    ) -> QueryResult<bool> {
        let existing: i64 = build_testcases::table
            .filter(build_testcases::build_id.eq(build_id))
            .filter(build_testcases::testcase_id.eq(testcase_id))
            .count()
            .get_result(conn)?;
        if existing > 0 {
            return Ok(false);
        }
        diesel::insert_into(build_testcases::table)
            .values((
                build_testcases::build_id.eq(build_id),
                build_testcases::testcase_id.eq(testcase_id),
            ))
            .execute(conn)?;
        Ok(true)
    }

    /// The test cases of the given builds as (build id, test case), ordered by name.
    pub fn for_builds(
        conn: &mut DbConnection,
        build_ids: &[i32],
    ) -> QueryResult<Vec<(i32, TestCase)>> {
        build_testcases::table
            .inner_join(testcases::table)
            .filter(build_testcases::build_id.eq_any(build_ids))
            .order(testcases::name.asc())
            .select((build_testcases::build_id, TestCase::as_select()))
            .load(conn)
    }
}
