//! Users, groups, memberships and API tokens.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{api_tokens, groups, user_groups, users};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i32,
    pub name: String,
    pub email: Option<String>,
    /// An argon2 PHC string; `None` for accounts that cannot log in with a password (the
    /// system user, accounts from an external identity provider).
    pub password_hash: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub name: &'a str,
    pub email: Option<&'a str>,
    pub password_hash: Option<&'a str>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = groups)]
pub struct Group {
    pub id: i32,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = api_tokens)]
pub struct ApiToken {
    pub id: i32,
    pub user_id: i32,
    pub label: String,
    /// SHA-256 of the token, hex; the token itself is never stored.
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub expires_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = api_tokens)]
pub struct NewApiToken<'a> {
    pub user_id: i32,
    pub label: &'a str,
    pub token_hash: &'a str,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
}

impl User {
    /// The names of the users `ids`, by id (for lists that show who).
    pub fn names(conn: &mut DbConnection, ids: &[i32]) -> QueryResult<HashMap<i32, String>> {
        Ok(users::table
            .filter(users::id.eq_any(ids))
            .select((users::id, users::name))
            .load::<(i32, String)>(conn)?
            .into_iter()
            .collect())
    }

    pub fn create(conn: &mut DbConnection, new: &NewUser<'_>) -> QueryResult<User> {
        diesel::insert_into(users::table)
            .values(new)
            .returning(users::all_columns)
            .get_result(conn)
    }

    pub fn by_name(conn: &mut DbConnection, name: &str) -> QueryResult<Option<User>> {
        users::table
            .filter(users::name.eq(name))
            .select(User::as_select())
            .first(conn)
            .optional()
    }

    pub fn by_id(conn: &mut DbConnection, id: i32) -> QueryResult<User> {
        users::table.find(id).select(User::as_select()).first(conn)
    }

    pub fn by_ids(conn: &mut DbConnection, ids: &[i32]) -> QueryResult<Vec<User>> {
        users::table
            .filter(users::id.eq_any(ids))
            .select(User::as_select())
            .load(conn)
    }

    /// Every user, ordered by name.
    pub fn list(conn: &mut DbConnection) -> QueryResult<Vec<User>> {
        users::table
            .order(users::name.asc())
            .select(User::as_select())
            .load(conn)
    }

    pub fn set_password_hash(
        conn: &mut DbConnection,
        id: i32,
        hash: Option<&str>,
    ) -> QueryResult<()> {
        diesel::update(users::table.find(id))
            .set(users::password_hash.eq(hash))
            .execute(conn)
            .map(drop)
    }

    pub fn set_email(conn: &mut DbConnection, id: i32, email: Option<&str>) -> QueryResult<()> {
        diesel::update(users::table.find(id))
            .set(users::email.eq(email))
            .execute(conn)
            .map(drop)
    }

    /// The groups of one user, ordered by name.
    pub fn groups(conn: &mut DbConnection, user_id: i32) -> QueryResult<Vec<Group>> {
        user_groups::table
            .inner_join(groups::table)
            .filter(user_groups::user_id.eq(user_id))
            .order(groups::name.asc())
            .select(Group::as_select())
            .load(conn)
    }

    /// The groups of many users in one query, each list ordered by name.
    pub fn groups_of(
        conn: &mut DbConnection,
        user_ids: &[i32],
    ) -> QueryResult<HashMap<i32, Vec<Group>>> {
        let rows: Vec<(i32, Group)> = user_groups::table
            .inner_join(groups::table)
            .filter(user_groups::user_id.eq_any(user_ids))
            .order((user_groups::user_id, groups::name.asc()))
            .select((user_groups::user_id, Group::as_select()))
            .load(conn)?;
        let mut map: HashMap<i32, Vec<Group>> = HashMap::new();
        for (user_id, group) in rows {
            map.entry(user_id).or_default().push(group);
        }
        Ok(map)
    }
}

impl Group {
    pub fn by_name(conn: &mut DbConnection, name: &str) -> QueryResult<Option<Group>> {
        groups::table
            .filter(groups::name.eq(name))
            .select(Group::as_select())
            .first(conn)
            .optional()
    }

    pub fn create(conn: &mut DbConnection, name: &str) -> QueryResult<Group> {
        diesel::insert_into(groups::table)
            .values(groups::name.eq(name))
            .returning(groups::all_columns)
            .get_result(conn)
    }

    /// The group with this name, created if missing; the flag says whether it was created.
    pub fn ensure(conn: &mut DbConnection, name: &str) -> QueryResult<(Group, bool)> {
        match Group::by_name(conn, name)? {
            Some(group) => Ok((group, false)),
            None => Ok((Group::create(conn, name)?, true)),
        }
    }

    /// Every group with its number of members, ordered by name.
    pub fn list_with_counts(conn: &mut DbConnection) -> QueryResult<Vec<(Group, i64)>> {
        groups::table
            .left_join(user_groups::table)
            .group_by((groups::id, groups::name))
            .order(groups::name.asc())
            .select((
                Group::as_select(),
                diesel::dsl::count(user_groups::user_id.nullable()),
            ))
            .load(conn)
    }

    /// Adds the membership; returns false if it existed.
    pub fn add_member(conn: &mut DbConnection, group_id: i32, user_id: i32) -> QueryResult<bool> {
        let existing: i64 = user_groups::table
            .filter(user_groups::group_id.eq(group_id))
            .filter(user_groups::user_id.eq(user_id))
            .count()
            .get_result(conn)?;
        if existing > 0 {
            return Ok(false);
        }
        diesel::insert_into(user_groups::table)
            .values((
                user_groups::group_id.eq(group_id),
                user_groups::user_id.eq(user_id),
            ))
            .execute(conn)?;
        Ok(true)
    }

    pub fn remove_member(
        conn: &mut DbConnection,
        group_id: i32,
        user_id: i32,
    ) -> QueryResult<bool> {
        let removed = diesel::delete(
            user_groups::table
                .filter(user_groups::group_id.eq(group_id))
                .filter(user_groups::user_id.eq(user_id)),
        )
        .execute(conn)?;
        Ok(removed > 0)
    }

    /// Names of the members, ordered.
    pub fn member_names(conn: &mut DbConnection, group_id: i32) -> QueryResult<Vec<String>> {
        user_groups::table
            .inner_join(users::table)
            .filter(user_groups::group_id.eq(group_id))
            .order(users::name.asc())
            .select(users::name)
            .load(conn)
    }
}

impl ApiToken {
    pub fn create(conn: &mut DbConnection, new: &NewApiToken<'_>) -> QueryResult<ApiToken> {
        diesel::insert_into(api_tokens::table)
            .values(new)
            .returning(api_tokens::all_columns)
            .get_result(conn)
    }

    /// The token with this hash if it is neither revoked nor expired at `now`.
    pub fn find_usable(
        conn: &mut DbConnection,
        token_hash: &str,
        now: NaiveDateTime,
    ) -> QueryResult<Option<ApiToken>> {
        api_tokens::table
            .filter(api_tokens::token_hash.eq(token_hash))
            .filter(api_tokens::revoked_at.is_null())
            .filter(
                api_tokens::expires_at
                    .is_null()
                    .or(api_tokens::expires_at.gt(now)),
            )
            .select(ApiToken::as_select())
            .first(conn)
            .optional()
    }

    pub fn touch(conn: &mut DbConnection, id: i32, now: NaiveDateTime) -> QueryResult<()> {
        diesel::update(api_tokens::table.find(id))
            .set(api_tokens::last_used_at.eq(Some(now)))
            .execute(conn)
            .map(drop)
    }

    /// Revokes a token of the user; returns false if there was no such usable token.
    pub fn revoke(
        conn: &mut DbConnection,
        user_id: i32,
        id: i32,
        now: NaiveDateTime,
    ) -> QueryResult<bool> {
        let changed = diesel::update(
            api_tokens::table
                .filter(api_tokens::id.eq(id))
                .filter(api_tokens::user_id.eq(user_id))
                .filter(api_tokens::revoked_at.is_null()),
        )
        .set(api_tokens::revoked_at.eq(Some(now)))
        .execute(conn)?;
        Ok(changed > 0)
    }

    pub fn list_for_user(conn: &mut DbConnection, user_id: i32) -> QueryResult<Vec<ApiToken>> {
        api_tokens::table
            .filter(api_tokens::user_id.eq(user_id))
            .order(api_tokens::id.asc())
            .select(ApiToken::as_select())
            .load(conn)
    }
}
