//! Writing one batch of converted rows into Pipal so that a second import changes nothing:
//! a row is found again by its natural key (a user's name, an update's alias), inserted when
//! it is new, updated when it differs and left alone otherwise. A row keeps its Bodhi id
//! unless that id is taken by a different row. A row the database refuses (a foreign key to a
//! row Bodhi does not have, a unique key another row holds) is skipped with the database's
//! reason; the rest of its batch is written.

use std::collections::{HashMap, HashSet};
use std::fmt::Display;
use std::hash::Hash;

use anyhow::Context as _;
use diesel::{Connection, QueryResult};

use super::ids::{FreshIds, IdMap};
use super::report::Summary;
use crate::db::DbConnection;

/// Rows per INSERT statement: keeps the widest table (updates, 30 columns) under SQLite's
/// 32,766 bound parameters.
const INSERT_CHUNK: usize = 500;

/// A Pipal table the import writes, seen through the rows it stores.
pub trait TargetRow: Sized + Clone {
    /// What identifies the row across databases, whatever its id.
    type Key: Eq + Hash + Clone + Display;
    /// Bodhi's name of the table, used in the summary.
    const TABLE: &'static str;
    /// Pipal's name of the table.
    const PIPAL_TABLE: &'static str;

    fn id(&self) -> i32;
    fn set_id(&mut self, id: i32);
    fn key(&self) -> Self::Key;
    /// Whether `existing` already holds everything the import would write.
    fn unchanged(&self, existing: &Self) -> bool;

    /// The rows of Pipal's table whose key is among those of `rows` (it may return more).
    fn existing(conn: &mut DbConnection, rows: &[Self]) -> QueryResult<Vec<Self>>;
    /// Which of `ids` are in use.
    fn taken_ids(conn: &mut DbConnection, ids: &[i32]) -> QueryResult<Vec<i32>>;
    fn max_id(conn: &mut DbConnection) -> QueryResult<Option<i32>>;
    fn insert(conn: &mut DbConnection, rows: &[Self]) -> QueryResult<usize>;
    fn update(conn: &mut DbConnection, row: &Self) -> QueryResult<usize>;
}

/// A converted row and the id it had in Bodhi.
pub struct Candidate<R> {
    pub bodhi_id: i32,
    pub row: R,
}

/// Where one table's batch writes its bookkeeping.
pub struct Books<'a> {
    pub map: &'a mut IdMap,
    pub fresh: &'a mut FreshIds,
    pub summary: &'a mut Summary,
    /// Bodhi's largest id of the table, the floor for fresh ids.
    pub source_max: Option<i32>,
}

/// Writes one batch. Returns the (Bodhi id, Pipal id) of every row of the batch that is in
/// Pipal now, written or unchanged.
pub fn apply<R: TargetRow>(
    conn: &mut DbConnection,
    batch: Vec<Candidate<R>>,
    books: &mut Books<'_>,
) -> anyhow::Result<Vec<(i32, i32)>> {
    let table = R::TABLE;
    let rows: Vec<R> = batch.iter().map(|c| c.row.clone()).collect();
    let existing: HashMap<R::Key, R> = R::existing(conn, &rows)
        .with_context(|| format!("cannot look up Pipal's {table}"))?
        .into_iter()
        .map(|r| (r.key(), r))
        .collect();
    let unmatched: Vec<i32> = rows
        .iter()
        .filter(|r| !existing.contains_key(&r.key()))
        .map(R::id)
        .collect();
    let taken: HashSet<i32> = R::taken_ids(conn, &unmatched)
        .with_context(|| format!("cannot look up Pipal's {table} ids"))?
        .into_iter()
        .collect();

    let mut present = Vec::with_capacity(batch.len());
    let mut seen: HashMap<R::Key, i32> = HashMap::new();
    let mut inserts: Vec<Candidate<R>> = Vec::new();
    let mut updates: Vec<Candidate<R>> = Vec::new();
    for mut candidate in batch {
        let key = candidate.row.key();
        if let Some(first) = seen.get(&key) {
            let why = format!("duplicate of Bodhi {table} {first} (both are {key})");
            books.map.skip(candidate.bodhi_id, &why);
            books.summary.skip(table, candidate.bodhi_id, why);
            continue;
        }
        seen.insert(key.clone(), candidate.bodhi_id);
        match existing.get(&key) {
            Some(old) if books.map.is_claimed(old.id()) => {
                let why = format!(
                    "duplicate of an earlier Bodhi {table} row (both are {key}), which is \
                     Pipal's {table} {}",
                    old.id()
                );
                books.map.skip(candidate.bodhi_id, &why);
                books.summary.skip(table, candidate.bodhi_id, why);
            }
            Some(old) => {
                if old.id() != candidate.bodhi_id {
                    books.summary.note(format!(
                        "Bodhi {table} {} ({key}) is Pipal's {table} {}: the row was already there",
                        candidate.bodhi_id,
                        old.id()
                    ));
                }
                candidate.row.set_id(old.id());
                if candidate.row.unchanged(old) {
                    books.summary.table(table).unchanged += 1;
                    books.map.record(candidate.bodhi_id, old.id());
                    present.push((candidate.bodhi_id, old.id()));
                } else {
                    updates.push(candidate);
                }
            }
            None => {
                if taken.contains(&candidate.bodhi_id) {
                    let id = books.fresh.next(|| {
                        let pipal = R::max_id(conn)
                            .with_context(|| format!("cannot read Pipal's largest {table} id"))?;
                        Ok(pipal.unwrap_or(0).max(books.source_max.unwrap_or(0)))
                    })?;
                    books.summary.note(format!(
                        "Bodhi {table} {} ({key}) became Pipal's {table} {id}: id {} is another row's",
                        candidate.bodhi_id, candidate.bodhi_id
                    ));
                    candidate.row.set_id(id);
                }
                inserts.push(candidate);
            }
        }
    }

    for chunk in inserts.chunks(INSERT_CHUNK) {
        let rows: Vec<R> = chunk.iter().map(|c| c.row.clone()).collect();
        match conn.transaction(|c| R::insert(c, &rows)) {
            Ok(_) => {
                books.summary.table(table).inserted += chunk.len() as u64;
                for c in chunk {
                    books.map.record(c.bodhi_id, c.row.id());
                    present.push((c.bodhi_id, c.row.id()));
                }
            }
            // One row spoils the statement: find it by inserting the rows one by one.
            Err(_) => {
                for c in chunk {
                    let one = std::slice::from_ref(&c.row);
                    match conn.transaction(|conn| R::insert(conn, one)) {
                        Ok(_) => {
                            books.summary.table(table).inserted += 1;
                            books.map.record(c.bodhi_id, c.row.id());
                            present.push((c.bodhi_id, c.row.id()));
                        }
                        Err(e) => refuse(books, table, c.bodhi_id, &c.row.key(), &e),
                    }
                }
            }
        }
    }
    for c in updates {
        match conn.transaction(|conn| R::update(conn, &c.row)) {
            Ok(_) => books.summary.table(table).updated += 1,
            // The row is still there as it was: the rows that refer to it can use it.
            Err(e) => books.summary.skip(
                table,
                c.bodhi_id,
                format!(
                    "Pipal's database refused the changes to {}: {e}",
                    c.row.key()
                ),
            ),
        }
        books.map.record(c.bodhi_id, c.row.id());
        present.push((c.bodhi_id, c.row.id()));
    }
    Ok(present)
}

fn refuse(
    books: &mut Books<'_>,
    table: &'static str,
    bodhi_id: i32,
    key: &dyn Display,
    error: &diesel::result::Error,
) {
    let why = format!("Pipal's database refused {key}: {error}");
    books.map.skip(bodhi_id, &why);
    books.summary.skip(table, bodhi_id, why);
}

/// A join table that the import keeps equal to Bodhi's, one parent at a time (an update's
/// bugs, a user's groups, a build's test cases).
pub trait LinkTable {
    const TABLE: &'static str;
    /// The (parent, child) pairs Pipal has for these parents.
    fn existing(conn: &mut DbConnection, parents: &[i32]) -> QueryResult<Vec<(i32, i32)>>;
    fn insert(conn: &mut DbConnection, pairs: &[(i32, i32)]) -> QueryResult<usize>;
    fn delete(conn: &mut DbConnection, pair: (i32, i32)) -> QueryResult<usize>;
}

/// Makes Pipal's links of `parents` equal to `wanted`.
pub fn sync_links<L: LinkTable>(
    conn: &mut DbConnection,
    parents: &[i32],
    wanted: Vec<(i32, i32)>,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    let table = L::TABLE;
    let have: HashSet<(i32, i32)> = L::existing(conn, parents)
        .with_context(|| format!("cannot look up Pipal's {table}"))?
        .into_iter()
        .collect();
    let wanted: Vec<(i32, i32)> = {
        let mut unique = HashSet::new();
        wanted.into_iter().filter(|p| unique.insert(*p)).collect()
    };
    let wanted_set: HashSet<(i32, i32)> = wanted.iter().copied().collect();
    let counts = summary.table(table);
    counts.read += wanted.len() as u64;
    let new: Vec<(i32, i32)> = wanted.into_iter().filter(|p| !have.contains(p)).collect();
    counts.unchanged += wanted_set.len() as u64 - new.len() as u64;
    for pair in have.iter().filter(|p| !wanted_set.contains(p)) {
        L::delete(conn, *pair).with_context(|| format!("cannot remove a row of {table}"))?;
        summary.table(table).removed += 1;
    }
    match conn.transaction(|c| L::insert(c, &new)) {
        Ok(_) => summary.table(table).inserted += new.len() as u64,
        Err(_) => {
            for pair in new {
                match conn.transaction(|c| L::insert(c, &[pair])) {
                    Ok(_) => summary.table(table).inserted += 1,
                    Err(e) => summary.skip(
                        table,
                        format!("({}, {})", pair.0, pair.1),
                        format!("Pipal's database refused it: {e}"),
                    ),
                }
            }
        }
    }
    Ok(())
}
