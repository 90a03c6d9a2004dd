//! `pipal import bodhi`: copies a Bodhi database (26.x, and the 8.x development schema) into
//! Pipal's, table by table in foreign-key order, in batches of one transaction each. Bodhi's
//! ids, aliases, timestamps and karma are kept; rows already imported are found again by their
//! natural key, so a second run writes only what changed and an interrupted run is simply
//! started again. Rows go straight into the tables: an import sends no message, mail or Koji
//! call.

mod accounts;
mod comments;
mod convert;
mod ids;
mod overrides;
mod releases;
pub mod report;
mod source;
mod sync;
mod updates;

use std::time::Instant;

use anyhow::Context as _;
use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::deserialize::QueryableByName;
use diesel::pg::Pg;
use diesel::{Connection, RunQueryDsl};

use crate::db::{DbConnection, write_transaction};
use report::Progress;
pub use report::Summary;
use sync::{Books, Candidate, LinkTable, TargetRow};

/// How to run an import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Bodhi's database, `postgresql://USER@HOST/DB`.
    pub from: String,
    /// Rows per read and per transaction.
    pub batch: u32,
    /// Read and check everything, write nothing.
    pub dry_run: bool,
    /// Pipal's system user, which Bodhi's `bodhi` becomes.
    pub system_user: String,
    /// Draw progress on stderr.
    pub progress: bool,
}

/// What a conversion needs to know: how Bodhi's ids map to Pipal's, table by table.
#[derive(Debug)]
pub struct Known {
    pub system_user: String,
    pub started_at: NaiveDateTime,
    pub users: ids::IdMap,
    pub groups: ids::IdMap,
    pub releases: ids::IdMap,
    pub packages: ids::IdMap,
    pub bugs: ids::IdMap,
    pub testcases: ids::IdMap,
    pub updates: ids::IdMap,
    pub builds: ids::IdMap,
    pub comments: ids::IdMap,
    pub bug_feedback: ids::IdMap,
    pub testcase_feedback: ids::IdMap,
    pub overrides: ids::IdMap,
}

/// A row read from Bodhi, paged by its id.
pub trait SourceRow: QueryableByName<Pg> + 'static {
    fn id(&self) -> i32;
}

/// The parts of [`TargetRow`] that are the same for every table with an `id` column.
macro_rules! target_table {
    ($table:ident) => {
        const PIPAL_TABLE: &'static str = stringify!($table);
        fn taken_ids(
            conn: &mut $crate::db::DbConnection,
            ids: &[i32],
        ) -> diesel::QueryResult<Vec<i32>> {
            use $crate::db::schema::$table;
            $table::table
                .filter($table::id.eq_any(ids))
                .select($table::id)
                .load(conn)
        }
        fn max_id(conn: &mut $crate::db::DbConnection) -> diesel::QueryResult<Option<i32>> {
            use $crate::db::schema::$table;
            $table::table
                .select(diesel::dsl::max($table::id))
                .first(conn)
        }
        fn insert(
            conn: &mut $crate::db::DbConnection,
            rows: &[Self],
        ) -> diesel::QueryResult<usize> {
            use $crate::db::schema::$table;
            $crate::per_backend!(conn, |c| diesel::insert_into($table::table)
                .values(rows)
                .execute(c))
        }
    };
}
use target_table;

/// One table to import: where its rows come from and how they become Pipal's.
struct Step<S, R> {
    table: &'static str,
    sql: String,
    convert: fn(S, &Known) -> Result<R, String>,
    map: fn(&mut Known) -> &mut ids::IdMap,
}

/// A join table kept in step with the parent table it hangs off.
struct Links {
    sql: &'static str,
    parent: &'static str,
    child: &'static str,
    child_map: fn(&Known) -> &ids::IdMap,
}

/// Imports the Bodhi database `options.from` into `target`.
pub fn import(target: &mut DbConnection, options: &ImportOptions) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let mut source = source::Source::connect(&options.from)?;
    let mut run = Run {
        summary: Summary {
            source: crate::config::mask_url(&options.from),
            revision: source.revision.clone(),
            dry_run: options.dry_run,
            ..Summary::default()
        },
        known: Known {
            system_user: options.system_user.clone(),
            started_at: chrono::Utc::now().naive_utc(),
            users: ids::IdMap::default(),
            groups: ids::IdMap::default(),
            releases: ids::IdMap::default(),
            packages: ids::IdMap::default(),
            bugs: ids::IdMap::default(),
            testcases: ids::IdMap::default(),
            updates: ids::IdMap::default(),
            builds: ids::IdMap::default(),
            comments: ids::IdMap::default(),
            bug_feedback: ids::IdMap::default(),
            testcase_feedback: ids::IdMap::default(),
            overrides: ids::IdMap::default(),
        },
        progress: Progress::new(options.progress),
        batch: i64::from(options.batch.clamp(1, 10_000)),
        dry_run: options.dry_run,
    };
    if options.dry_run {
        // Everything in one transaction that is rolled back: later tables still see the
        // rows of earlier ones, so the dry run checks exactly what a real run would write.
        let outcome = target.transaction::<(), anyhow::Error, _>(|conn| {
            run.all_tables(&mut source, conn)?;
            Err(anyhow::Error::new(DryRun))
        });
        match outcome {
            Err(e) if e.is::<DryRun>() => {}
            Err(e) => return Err(e),
            Ok(()) => {}
        }
    } else {
        run.all_tables(&mut source, target)?;
        finish(target)?;
    }
    run.summary.elapsed = started.elapsed();
    Ok(run.summary)
}

/// Ends the dry run's transaction without committing it.
#[derive(Debug, thiserror::Error)]
#[error("dry run")]
struct DryRun;

struct Run {
    summary: Summary,
    known: Known,
    progress: Progress,
    batch: i64,
    dry_run: bool,
}

impl Run {
    /// The tables in foreign-key order.
    fn all_tables(
        &mut self,
        source: &mut source::Source,
        conn: &mut DbConnection,
    ) -> anyhow::Result<()> {
        use accounts as a;
        use comments as c;
        use overrides as o;
        use releases as r;
        use updates as u;
        self.table(
            source,
            conn,
            Step {
                table: "groups",
                sql: a::GROUPS_SQL.into(),
                convert: a::group,
                map: |k| &mut k.groups,
            },
            None,
        )?;
        self.table(
            source,
            conn,
            Step {
                table: "users",
                sql: a::USERS_SQL.into(),
                convert: a::user,
                map: |k| &mut k.users,
            },
            Some((
                Links {
                    sql: a::MEMBERSHIPS_SQL,
                    parent: "user",
                    child: "group",
                    child_map: |k| &k.groups,
                },
                sync_links::<a::Memberships>,
            )),
        )?;
        let releases_sql = r::releases_sql(source);
        self.table(
            source,
            conn,
            Step {
                table: "releases",
                sql: releases_sql,
                convert: r::release,
                map: |k| &mut k.releases,
            },
            None,
        )?;
        self.table(
            source,
            conn,
            Step {
                table: "packages",
                sql: r::PACKAGES_SQL.into(),
                convert: r::package,
                map: |k| &mut k.packages,
            },
            None,
        )?;
        self.table(
            source,
            conn,
            Step {
                table: "bugs",
                sql: u::BUGS_SQL.into(),
                convert: u::bug,
                map: |k| &mut k.bugs,
            },
            None,
        )?;
        self.table(
            source,
            conn,
            Step {
                table: "testcases",
                sql: u::TESTCASES_SQL.into(),
                convert: u::testcase,
                map: |k| &mut k.testcases,
            },
            None,
        )?;
        let updates_sql = u::updates_sql(source);
        self.table(
            source,
            conn,
            Step {
                table: "updates",
                sql: updates_sql,
                convert: u::update,
                map: |k| &mut k.updates,
            },
            Some((
                Links {
                    sql: u::UPDATE_BUGS_SQL,
                    parent: "update",
                    child: "bug",
                    child_map: |k| &k.bugs,
                },
                after_updates,
            )),
        )?;
        let builds_sql = u::builds_sql(source);
        self.table(
            source,
            conn,
            Step {
                table: "builds",
                sql: builds_sql,
                convert: u::build,
                map: |k| &mut k.builds,
            },
            Some((
                Links {
                    sql: u::BUILD_TESTCASES_SQL,
                    parent: "build",
                    child: "test case",
                    child_map: |k| &k.testcases,
                },
                sync_links::<u::BuildTestCases>,
            )),
        )?;
        let comments_sql = c::comments_sql(source);
        self.table(
            source,
            conn,
            Step {
                table: "comments",
                sql: comments_sql,
                convert: c::comment,
                map: |k| &mut k.comments,
            },
            None,
        )?;
        if source.has_table("comment_bug_assoc") {
            let sql = c::bug_feedback_sql(source);
            self.table(
                source,
                conn,
                Step {
                    table: "comment_bug_assoc",
                    sql,
                    convert: c::bug_feedback,
                    map: |k| &mut k.bug_feedback,
                },
                None,
            )?;
        }
        if source.has_table("comment_testcase_assoc") {
            let sql = c::testcase_feedback_sql(source);
            self.table(
                source,
                conn,
                Step {
                    table: "comment_testcase_assoc",
                    sql,
                    convert: c::testcase_feedback,
                    map: |k| &mut k.testcase_feedback,
                },
                None,
            )?;
        }
        if source.has_table("buildroot_overrides") {
            self.table(
                source,
                conn,
                Step {
                    table: "buildroot_overrides",
                    sql: o::OVERRIDES_SQL.into(),
                    convert: o::buildroot_override,
                    map: |k| &mut k.overrides,
                },
                None,
            )?;
        }
        if source.has_table("composes") {
            self.progress.start("composes", source.count("composes")?);
            let rows: Vec<o::BodhiCompose> = source.all(o::COMPOSES_SQL)?;
            let read = rows.len() as u64;
            write_transaction(conn, |conn| {
                o::sync_composes(conn, rows, &self.known, &mut self.summary)
            })?;
            self.progress.advance(read);
            self.progress.finish();
        }
        Ok(())
    }

    /// Imports one table page by page, each page in its own transaction, and keeps its join
    /// table in step.
    fn table<S, R>(
        &mut self,
        source: &mut source::Source,
        conn: &mut DbConnection,
        step: Step<S, R>,
        links: Option<(Links, LinkSync)>,
    ) -> anyhow::Result<()>
    where
        S: SourceRow,
        R: TargetRow,
    {
        let table = step.table;
        self.pages(source, conn, step, links)
            .with_context(|| format!("cannot import Bodhi's {table}"))
    }

    fn pages<S, R>(
        &mut self,
        source: &mut source::Source,
        conn: &mut DbConnection,
        step: Step<S, R>,
        links: Option<(Links, LinkSync)>,
    ) -> anyhow::Result<()>
    where
        S: SourceRow,
        R: TargetRow,
    {
        let total = source.count(step.table)?;
        let source_max = source.max_id(step.table)?;
        self.progress.start(step.table, total);
        self.summary.table(step.table);
        let mut fresh = ids::FreshIds::default();
        let mut after = i32::MIN;
        loop {
            let page: Vec<S> = source.page(&step.sql, after, self.batch)?;
            let Some(last) = page.last() else { break };
            after = last.id();
            let read = page.len() as u64;
            self.summary.table(step.table).read += read;
            let Run {
                summary,
                known,
                dry_run,
                ..
            } = self;
            let dry_run = *dry_run;
            write_transaction(conn, |conn| -> anyhow::Result<()> {
                let mut batch = Vec::with_capacity(page.len());
                for row in page {
                    let bodhi_id = row.id();
                    match (step.convert)(row, &*known) {
                        Ok(row) => batch.push(Candidate { bodhi_id, row }),
                        Err(why) => {
                            (step.map)(known).skip(bodhi_id, &why);
                            summary.skip(step.table, bodhi_id, why);
                        }
                    }
                }
                let present = {
                    let mut books = Books {
                        map: (step.map)(known),
                        fresh: &mut fresh,
                        summary,
                        source_max,
                    };
                    sync::apply(conn, batch, &mut books)?
                };
                if let Some((links, sync)) = &links {
                    sync(conn, source, links, &present, known, summary)?;
                }
                if !dry_run {
                    move_sequence(conn, R::PIPAL_TABLE)?;
                }
                Ok(())
            })?;
            self.progress.advance(read);
        }
        self.progress.finish();
        Ok(())
    }
}

type LinkSync = fn(
    &mut DbConnection,
    &mut source::Source,
    &Links,
    &[(i32, i32)],
    &Known,
    &mut Summary,
) -> anyhow::Result<()>;

/// Reads the join rows of the batch's parents from Bodhi and makes Pipal's equal to them.
fn sync_links<L: LinkTable>(
    conn: &mut DbConnection,
    source: &mut source::Source,
    links: &Links,
    parents: &[(i32, i32)],
    known: &Known,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    if parents.is_empty() {
        return Ok(());
    }
    let bodhi_parents: Vec<i32> = parents.iter().map(|(bodhi, _)| *bodhi).collect();
    let pipal_ids: std::collections::HashMap<i32, i32> = parents.iter().copied().collect();
    let pipal_parent = |bodhi: i32| pipal_ids.get(&bodhi).copied();
    let rows: Vec<accounts::BodhiLink> = source.for_parents(links.sql, &bodhi_parents)?;
    let mut wanted = Vec::with_capacity(rows.len());
    for row in rows {
        let name = format!(
            "({} {}, {} {})",
            links.parent,
            row.parent.map_or("NULL".into(), |id| id.to_string()),
            links.child,
            row.child.map_or("NULL".into(), |id| id.to_string())
        );
        let (Some(parent), Some(child)) = (row.parent, row.child) else {
            summary.skip(L::TABLE, name, "a NULL in a join row");
            continue;
        };
        let Some(parent) = pipal_parent(parent) else {
            continue;
        };
        match (links.child_map)(known).resolve(links.child, child) {
            Ok(child) => wanted.push((parent, child)),
            Err(why) => summary.skip(L::TABLE, name, why),
        }
    }
    let pipal_parents: Vec<i32> = parents.iter().map(|(_, pipal)| *pipal).collect();
    sync::sync_links::<L>(conn, &pipal_parents, wanted, summary)
}

/// On PostgreSQL, moves `table`'s id sequence past the ids the import inserted explicitly,
/// batch by batch, so that Pipal's own inserts never collide with them, even after an
/// interrupted run. (`setval` is not undone by a rollback; the dry run does not call it.)
fn move_sequence(conn: &mut DbConnection, table: &str) -> anyhow::Result<()> {
    if matches!(conn, DbConnection::Postgres(_)) {
        diesel::sql_query(format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
             GREATEST((SELECT max(id) FROM {table}), 1))"
        ))
        .execute(conn)
        .with_context(|| format!("cannot move the id sequence of {table}"))?;
    }
    Ok(())
}

/// After a batch of updates: their bugs, and their builds that Bodhi has deleted.
fn after_updates(
    conn: &mut DbConnection,
    source: &mut source::Source,
    links: &Links,
    parents: &[(i32, i32)],
    known: &Known,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    sync_links::<updates::UpdateBugs>(conn, source, links, parents, known, summary)?;
    updates::detach_deleted_builds(conn, source, parents, summary)
}

/// After a real run: refresh the planner's statistics for the new rows.
fn finish(conn: &mut DbConnection) -> anyhow::Result<()> {
    conn.batch_execute("ANALYZE")
        .context("cannot refresh the database's statistics")
}
