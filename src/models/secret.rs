//! Named secrets kept in the database, so that every node signs cookies with the same key.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::secrets;

/// The secret called `name`, created with `make` if missing. Concurrent first calls on several
/// nodes agree on one value: the loser of the insert reads the winner's.
pub fn get_or_create(
    conn: &mut DbConnection,
    name: &str,
    make: impl FnOnce() -> String,
    now: NaiveDateTime,
) -> QueryResult<String> {
    if let Some(value) = get(conn, name)? {
        return Ok(value);
    }
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(secrets::table)
            .values((
                secrets::name.eq(name),
                secrets::value.eq(make()),
                secrets::created_at.eq(now),
            ))
            .execute(conn)
    });
    match inserted {
        Ok(_) => {}
        Err(e) if super::is_unique_violation(&e) => {}
        Err(e) => return Err(e),
    }
    get(conn, name)?.ok_or(diesel::result::Error::NotFound)
}

fn get(conn: &mut DbConnection, name: &str) -> QueryResult<Option<String>> {
    secrets::table
        .filter(secrets::name.eq(name))
        .select(secrets::value)
        .first(conn)
        .optional()
}
