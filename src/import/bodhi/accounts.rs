//! Bodhi's users and groups, and who belongs to which group. Bodhi's system user `bodhi`
//! becomes Pipal's system user.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable, Text};

use super::sync::{LinkTable, TargetRow};
use super::{Known, SourceRow};
use crate::db::DbConnection;
use crate::db::schema::{groups, user_groups, users};

#[derive(QueryableByName)]
pub struct BodhiGroup {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Text)]
    name: String,
}

impl SourceRow for BodhiGroup {
    fn id(&self) -> i32 {
        self.id
    }
}

pub const GROUPS_SQL: &str =
    "SELECT id, name::text AS name FROM groups WHERE id > $1 ORDER BY id LIMIT $2";

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = groups)]
pub struct GroupRow {
    id: i32,
    name: String,
}

pub fn group(row: BodhiGroup, _: &Known) -> Result<GroupRow, String> {
    Ok(GroupRow {
        id: row.id,
        name: row.name,
    })
}

impl TargetRow for GroupRow {
    type Key = String;
    const TABLE: &'static str = "groups";
    fn id(&self) -> i32 {
        self.id
    }
    fn set_id(&mut self, id: i32) {
        self.id = id;
    }
    fn key(&self) -> String {
        format!("group {}", self.name)
    }
    fn unchanged(&self, _: &Self) -> bool {
        true
    }
    fn existing(conn: &mut DbConnection, rows: &[Self]) -> QueryResult<Vec<Self>> {
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        groups::table
            .filter(groups::name.eq_any(names))
            .select(GroupRow::as_select())
            .load(conn)
    }
    fn update(_: &mut DbConnection, _: &Self) -> QueryResult<usize> {
        Ok(0)
    }
    super::target_table!(groups);
}

#[derive(QueryableByName)]
pub struct BodhiUser {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    email: Option<String>,
}

impl SourceRow for BodhiUser {
    fn id(&self) -> i32 {
        self.id
    }
}

pub const USERS_SQL: &str =
    "SELECT id, name::text AS name, email FROM users WHERE id > $1 ORDER BY id LIMIT $2";

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    id: i32,
    name: String,
    email: Option<String>,
    /// Bodhi does not record when an account appeared: a new user gets the import's time,
    /// and a later import leaves it alone.
    created_at: NaiveDateTime,
}

/// The name Bodhi gives its own account, which writes the system comments.
const BODHI_SYSTEM_USER: &str = "bodhi";

pub fn user(row: BodhiUser, known: &Known) -> Result<UserRow, String> {
    let name = if row.name == BODHI_SYSTEM_USER {
        known.system_user.clone()
    } else {
        row.name
    };
    Ok(UserRow {
        id: row.id,
        name,
        email: row.email,
        created_at: known.started_at,
    })
}

impl TargetRow for UserRow {
    type Key = String;
    const TABLE: &'static str = "users";
    fn id(&self) -> i32 {
        self.id
    }
    fn set_id(&mut self, id: i32) {
        self.id = id;
    }
    fn key(&self) -> String {
        format!("user {}", self.name)
    }
    fn unchanged(&self, existing: &Self) -> bool {
        self.email == existing.email
    }
    fn existing(conn: &mut DbConnection, rows: &[Self]) -> QueryResult<Vec<Self>> {
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        users::table
            .filter(users::name.eq_any(names))
            .select(UserRow::as_select())
            .load(conn)
    }
    fn update(conn: &mut DbConnection, row: &Self) -> QueryResult<usize> {
        diesel::update(users::table.find(row.id))
            .set(users::email.eq(&row.email))
            .execute(conn)
    }
    super::target_table!(users);
}

#[derive(QueryableByName)]
pub struct BodhiLink {
    #[diesel(sql_type = Nullable<Integer>)]
    pub parent: Option<i32>,
    #[diesel(sql_type = Nullable<Integer>)]
    pub child: Option<i32>,
}

pub const MEMBERSHIPS_SQL: &str = "SELECT user_id AS parent, group_id AS child \
     FROM user_group_table WHERE user_id = ANY($1)";

pub struct Memberships;

impl LinkTable for Memberships {
    const TABLE: &'static str = "user_group_table";
    fn existing(conn: &mut DbConnection, parents: &[i32]) -> QueryResult<Vec<(i32, i32)>> {
        user_groups::table
            .filter(user_groups::user_id.eq_any(parents))
            .select((user_groups::user_id, user_groups::group_id))
            .load(conn)
    }
    fn insert(conn: &mut DbConnection, pairs: &[(i32, i32)]) -> QueryResult<usize> {
        let rows: Vec<_> = pairs
            .iter()
            .map(|(u, g)| (user_groups::user_id.eq(*u), user_groups::group_id.eq(*g)))
            .collect();
        crate::per_backend!(conn, |c| diesel::insert_into(user_groups::table)
            .values(&rows)
            .execute(c))
    }
    fn delete(conn: &mut DbConnection, (user, group): (i32, i32)) -> QueryResult<usize> {
        diesel::delete(user_groups::table.find((user, group))).execute(conn)
    }
}
