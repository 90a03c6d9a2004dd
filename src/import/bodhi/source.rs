//! The Bodhi database being imported: one PostgreSQL connection inside a read-only,
//! repeatable-read transaction (so every table is read from the same snapshot), the columns
//! its schema version has, and keyset-paged reads.

use std::collections::HashSet;

use anyhow::{Context as _, bail};
use diesel::connection::SimpleConnection;
use diesel::deserialize::QueryableByName;
use diesel::pg::Pg;
use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text};
use diesel::{Connection, PgConnection, RunQueryDsl};

use crate::config::mask_url;

/// The tables a Bodhi database must have for Pipal to import it.
const REQUIRED_TABLES: &[&str] = &[
    "users", "groups", "releases", "packages", "updates", "builds", "comments",
];

pub struct Source {
    conn: PgConnection,
    columns: HashSet<(String, String)>,
    /// Bodhi's alembic revision, when the database has one.
    pub revision: Option<String>,
}

#[derive(QueryableByName)]
struct ColumnName {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

#[derive(QueryableByName)]
struct Revision {
    #[diesel(sql_type = Text)]
    version_num: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct MaxId {
    #[diesel(sql_type = Nullable<Integer>)]
    max: Option<i32>,
}

impl Source {
    /// Connects and opens the snapshot. The URL's password never appears in errors.
    pub fn connect(url: &str) -> anyhow::Result<Source> {
        let shown = mask_url(url);
        let mut conn = PgConnection::establish(url)
            .with_context(|| format!("cannot connect to the Bodhi database {shown}"))?;
        conn.batch_execute("SET TIME ZONE 'UTC'; BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .context("cannot open a read-only snapshot of the Bodhi database")?;
        let columns: Vec<ColumnName> = diesel::sql_query(
            "SELECT table_name::text AS table_name, column_name::text AS column_name \
             FROM information_schema.columns WHERE table_schema = current_schema()",
        )
        .load(&mut conn)
        .context("cannot read the Bodhi database's schema")?;
        let columns: HashSet<(String, String)> = columns
            .into_iter()
            .map(|c| (c.table_name, c.column_name))
            .collect();
        let missing: Vec<&str> = REQUIRED_TABLES
            .iter()
            .copied()
            .filter(|t| !columns.iter().any(|(table, _)| table == t))
            .collect();
        if !missing.is_empty() {
            bail!(
                "{shown} is not a Bodhi database: it has no table {}",
                missing.join(", ")
            );
        }
        let mut source = Source {
            conn,
            columns,
            revision: None,
        };
        if source.has_table("alembic_version") {
            let revisions: Vec<Revision> =
                diesel::sql_query("SELECT version_num::text AS version_num FROM alembic_version")
                    .load(&mut source.conn)
                    .context("cannot read Bodhi's alembic revision")?;
            source.revision = revisions.into_iter().next().map(|r| r.version_num);
        }
        Ok(source)
    }

    pub fn has_table(&self, table: &str) -> bool {
        self.columns.iter().any(|(t, _)| t == table)
    }

    pub fn has(&self, table: &str, column: &str) -> bool {
        self.columns
            .contains(&(table.to_owned(), column.to_owned()))
    }

    /// The first of `names` that `table` has (Bodhi renamed some columns between versions),
    /// or `fallback` (an SQL expression such as `NULL::date`) when it has none of them.
    pub fn column(&self, table: &str, names: &[&str], fallback: &str) -> String {
        names
            .iter()
            .find(|name| self.has(table, name))
            .map_or_else(|| fallback.to_owned(), |name| format!("\"{name}\""))
    }

    pub fn count(&mut self, table: &str) -> anyhow::Result<u64> {
        if !self.has_table(table) {
            return Ok(0);
        }
        let count: Count = diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
            .get_result(&mut self.conn)
            .with_context(|| format!("cannot count Bodhi's {table}"))?;
        Ok(u64::try_from(count.n).unwrap_or(0))
    }

    pub fn max_id(&mut self, table: &str) -> anyhow::Result<Option<i32>> {
        let max: MaxId = diesel::sql_query(format!("SELECT max(id) AS max FROM {table}"))
            .get_result(&mut self.conn)
            .with_context(|| format!("cannot read Bodhi's largest {table} id"))?;
        Ok(max.max)
    }

    /// One page of `sql`, whose `$1` is the last id of the previous page and `$2` the page
    /// size (`… WHERE id > $1 ORDER BY id LIMIT $2`).
    pub fn page<T>(&mut self, sql: &str, after: i32, limit: i64) -> anyhow::Result<Vec<T>>
    where
        T: QueryableByName<Pg> + 'static,
    {
        diesel::sql_query(sql)
            .bind::<Integer, _>(after)
            .bind::<BigInt, _>(limit)
            .load(&mut self.conn)
            .with_context(|| format!("cannot read from the Bodhi database: {sql}"))
    }

    /// The rows of `sql` for the given parent ids (`… WHERE parent_id = ANY($1)`).
    pub fn for_parents<T>(&mut self, sql: &str, parents: &[i32]) -> anyhow::Result<Vec<T>>
    where
        T: QueryableByName<Pg> + 'static,
    {
        diesel::sql_query(sql)
            .bind::<Array<Integer>, _>(parents)
            .load(&mut self.conn)
            .with_context(|| format!("cannot read from the Bodhi database: {sql}"))
    }

    /// The rows of `sql` for the given texts (`… WHERE nvr = ANY($1)`).
    pub fn for_texts<T>(&mut self, sql: &str, texts: &[String]) -> anyhow::Result<Vec<T>>
    where
        T: QueryableByName<Pg> + 'static,
    {
        diesel::sql_query(sql)
            .bind::<Array<Text>, _>(texts)
            .load(&mut self.conn)
            .with_context(|| format!("cannot read from the Bodhi database: {sql}"))
    }

    /// Every row of `sql` (for the small tables read whole).
    pub fn all<T>(&mut self, sql: &str) -> anyhow::Result<Vec<T>>
    where
        T: QueryableByName<Pg> + 'static,
    {
        diesel::sql_query(sql)
            .load(&mut self.conn)
            .with_context(|| format!("cannot read from the Bodhi database: {sql}"))
    }
}
