//! Builds attached to updates (Bodhi's `builds` table): one row per NVR.

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::builds;
use crate::db::types::ContentType;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = builds)]
pub struct Build {
    pub id: i32,
    pub nvr: String,
    pub signed: bool,
    pub package_id: i32,
    pub release_id: Option<i32>,
    pub update_id: Option<i32>,
    #[diesel(column_name = type_)]
    pub content_type: ContentType,
    pub epoch: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = builds)]
pub struct NewBuild<'a> {
    pub nvr: &'a str,
    pub signed: bool,
    pub package_id: i32,
    pub release_id: Option<i32>,
    pub update_id: Option<i32>,
    #[diesel(column_name = type_)]
    pub content_type: ContentType,
    pub epoch: Option<i32>,
}

impl Build {
    /// The NVRs of the builds `ids`, by id.
    pub fn nvrs(
        conn: &mut DbConnection,
        ids: &[i32],
    ) -> QueryResult<std::collections::HashMap<i32, String>> {
        Ok(builds::table
            .filter(builds::id.eq_any(ids))
            .select((builds::id, builds::nvr))
            .load::<(i32, String)>(conn)?
            .into_iter()
            .collect())
    }

    pub fn create(conn: &mut DbConnection, new: &NewBuild<'_>) -> QueryResult<Build> {
        diesel::insert_into(builds::table)
            .values(new)
            .returning(builds::all_columns)
            .get_result(conn)
    }

    pub fn by_nvr(conn: &mut DbConnection, nvr: &str) -> QueryResult<Option<Build>> {
        builds::table
            .filter(builds::nvr.eq(nvr))
            .select(Build::as_select())
            .first(conn)
            .optional()
    }

    /// The builds of the given updates, ordered by NVR (Bodhi's order).
    pub fn for_updates(conn: &mut DbConnection, update_ids: &[i32]) -> QueryResult<Vec<Build>> {
        builds::table
            .filter(builds::update_id.eq_any(update_ids))
            .order(builds::nvr.asc())
            .select(Build::as_select())
            .load(conn)
    }

    pub fn set_signed(conn: &mut DbConnection, id: i32, signed: bool) -> QueryResult<()> {
        diesel::update(builds::table.find(id))
            .set(builds::signed.eq(signed))
            .execute(conn)
            .map(drop)
    }
}
