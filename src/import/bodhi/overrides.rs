//! Bodhi's buildroot overrides (one per build in Pipal) and its composes in flight.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable, Text, Timestamp};

use super::convert::enum_value;
use super::report::Summary;
use super::sync::TargetRow;
use super::{Known, SourceRow};
use crate::db::DbConnection;
use crate::db::schema::{buildroot_overrides, composes};
use crate::db::types::{ComposeState, UpdateRequest};

#[derive(QueryableByName)]
pub struct BodhiOverride {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Text)]
    notes: String,
    #[diesel(sql_type = Timestamp)]
    submission_date: NaiveDateTime,
    #[diesel(sql_type = Timestamp)]
    expiration_date: NaiveDateTime,
    #[diesel(sql_type = Nullable<Timestamp>)]
    expired_date: Option<NaiveDateTime>,
    #[diesel(sql_type = Integer)]
    build_id: i32,
    #[diesel(sql_type = Integer)]
    submitter_id: i32,
}

impl SourceRow for BodhiOverride {
    fn id(&self) -> i32 {
        self.id
    }
}

pub const OVERRIDES_SQL: &str = "SELECT id, notes, submission_date, expiration_date, \
     expired_date, build_id, submitter_id FROM buildroot_overrides \
     WHERE id > $1 ORDER BY id LIMIT $2";

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = buildroot_overrides, treat_none_as_null = true)]
pub struct OverrideRow {
    id: i32,
    build_id: i32,
    submitter_id: i32,
    notes: String,
    submission_date: NaiveDateTime,
    expiration_date: NaiveDateTime,
    expired_date: Option<NaiveDateTime>,
}

pub fn buildroot_override(row: BodhiOverride, known: &Known) -> Result<OverrideRow, String> {
    Ok(OverrideRow {
        id: row.id,
        build_id: known.builds.resolve("build", row.build_id)?,
        submitter_id: known.users.resolve("submitter", row.submitter_id)?,
        notes: row.notes,
        submission_date: row.submission_date,
        expiration_date: row.expiration_date,
        expired_date: row.expired_date,
    })
}

impl TargetRow for OverrideRow {
    type Key = String;
    const TABLE: &'static str = "buildroot_overrides";
    fn id(&self) -> i32 {
        self.id
    }
    fn set_id(&mut self, id: i32) {
        self.id = id;
    }
    /// Pipal keeps one override per build; Bodhi may hold several (a batch of one import
    /// reports the later ones as duplicates, across batches the latest wins and is noted).
    fn key(&self) -> String {
        format!("override of build {}", self.build_id)
    }
    fn unchanged(&self, existing: &Self) -> bool {
        self == existing
    }
    fn existing(conn: &mut DbConnection, rows: &[Self]) -> QueryResult<Vec<Self>> {
        let builds: Vec<i32> = rows.iter().map(|r| r.build_id).collect();
        buildroot_overrides::table
            .filter(buildroot_overrides::build_id.eq_any(builds))
            .select(OverrideRow::as_select())
            .load(conn)
    }
    fn update(conn: &mut DbConnection, row: &Self) -> QueryResult<usize> {
        diesel::update(buildroot_overrides::table.find(row.id))
            .set(row)
            .execute(conn)
    }
    super::target_table!(buildroot_overrides);
}

// Composes ------------------------------------------------------------------------------------

#[derive(QueryableByName)]
pub struct BodhiCompose {
    #[diesel(sql_type = Integer)]
    release_id: i32,
    #[diesel(sql_type = Text)]
    request: String,
    #[diesel(sql_type = Text)]
    checkpoints: String,
    #[diesel(sql_type = Nullable<Text>)]
    error_message: Option<String>,
    #[diesel(sql_type = Timestamp)]
    date_created: NaiveDateTime,
    #[diesel(sql_type = Timestamp)]
    state_date: NaiveDateTime,
    #[diesel(sql_type = Text)]
    state: String,
}

pub const COMPOSES_SQL: &str = "SELECT release_id, request::text AS request, checkpoints, \
     error_message, date_created, state_date, state::text AS state FROM composes \
     ORDER BY release_id, request";

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = composes, treat_none_as_null = true)]
struct ComposeRow {
    release_id: i32,
    request: UpdateRequest,
    state: ComposeState,
    checkpoints: String,
    error_message: Option<String>,
    date_created: NaiveDateTime,
    state_date: NaiveDateTime,
}

fn compose(row: BodhiCompose, known: &Known) -> Result<ComposeRow, String> {
    Ok(ComposeRow {
        release_id: known.releases.resolve("release", row.release_id)?,
        request: enum_value("request", &row.request)?,
        state: enum_value("state", &row.state)?,
        checkpoints: row.checkpoints,
        error_message: row.error_message,
        date_created: row.date_created,
        state_date: row.state_date,
    })
}

const TABLE: &str = "composes";

/// Makes Pipal's composes that no worker holds equal to Bodhi's composes. Bodhi deletes a
/// compose when it succeeds, so a Pipal compose that Bodhi no longer has was finished by Bodhi
/// and is removed (a Pipal worker would otherwise push it again); a compose a Pipal worker
/// holds is never touched.
pub fn sync_composes(
    conn: &mut DbConnection,
    rows: Vec<BodhiCompose>,
    known: &Known,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let existing: Vec<(i32, ComposeRow, Option<String>)> = composes::table
        .select((composes::id, ComposeRow::as_select(), composes::lease_owner))
        .load(conn)
        .context("cannot read Pipal's composes")?;
    let mut imported = Vec::new();
    let mut all_converted = true;
    for row in rows {
        summary.table(TABLE).read += 1;
        let name = format!("({}, {})", row.release_id, row.request);
        let row = match compose(row, known) {
            Ok(row) => row,
            Err(why) => {
                all_converted = false;
                summary.skip(TABLE, name, why);
                continue;
            }
        };
        imported.push((row.release_id, row.request));
        let current = existing
            .iter()
            .find(|(_, c, _)| c.release_id == row.release_id && c.request == row.request);
        let result = match current {
            Some((_, c, _)) if *c == row => {
                summary.table(TABLE).unchanged += 1;
                continue;
            }
            Some((_, _, Some(owner))) => {
                summary.skip(
                    TABLE,
                    name,
                    format!("a Pipal worker ({owner}) holds this compose; it was left as it is"),
                );
                continue;
            }
            Some((id, _, None)) => conn
                .transaction(|c| {
                    diesel::update(composes::table.find(*id))
                        .set(&row)
                        .execute(c)
                })
                .map(|_| summary.table(TABLE).updated += 1),
            None => conn
                .transaction(|c| {
                    crate::per_backend!(c, |c| diesel::insert_into(composes::table)
                        .values(&row)
                        .execute(c))
                })
                .map(|_| summary.table(TABLE).inserted += 1),
        };
        if let Err(e) = result {
            summary.skip(TABLE, name, format!("Pipal's database refused it: {e}"));
        }
    }
    if !all_converted {
        summary.note(
            "a Bodhi compose was skipped, so no Pipal compose was removed: which one it is \
             cannot be told",
        );
    }
    for (id, c, owner) in &existing {
        let in_bodhi = imported
            .iter()
            .any(|(release, request)| *release == c.release_id && *request == c.request);
        if in_bodhi || owner.is_some() || !all_converted {
            continue;
        }
        diesel::delete(composes::table.find(*id))
            .execute(conn)
            .context("cannot remove a compose Bodhi has finished")?;
        summary.table(TABLE).removed += 1;
        summary.note(format!(
            "removed Pipal's compose of release {} ({}, {}): Bodhi no longer has it",
            c.release_id, c.request, c.state
        ));
    }
    if !imported.is_empty() {
        summary.note(
            "composes were imported: a running Pipal worker will start them (import with the \
             worker stopped, before the switch)",
        );
    }
    Ok(())
}
