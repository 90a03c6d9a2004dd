//! Composes in flight (one per release and request, with state, checkpoints and the lease of
//! the worker running it) and the history of finished composes.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{compose_history, composes};
use crate::db::types::{ComposeOutcome, ComposeState, ContentType, UpdateRequest};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = composes)]
pub struct Compose {
    pub id: i32,
    pub release_id: i32,
    pub request: UpdateRequest,
    pub state: ComposeState,
    /// JSON object of completed steps (`{"determine_and_perform_tag_actions": true, ...}`).
    pub checkpoints: String,
    pub error_message: Option<String>,
    pub date_created: NaiveDateTime,
    /// When `state` last changed.
    pub state_date: NaiveDateTime,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<NaiveDateTime>,
    /// How many times a worker has started or resumed it.
    pub attempts: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = compose_history)]
pub struct ComposeRecord {
    pub id: i32,
    pub release_id: i32,
    pub request: UpdateRequest,
    pub content_type: Option<ContentType>,
    pub security: bool,
    pub final_state: ComposeOutcome,
    pub error_message: Option<String>,
    pub date_created: NaiveDateTime,
    pub date_finished: NaiveDateTime,
    /// JSON object: state name → seconds spent in it.
    pub timings: String,
    /// JSON array of `{"alias", "title"}`.
    pub update_summary: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = compose_history)]
pub struct NewComposeRecord<'a> {
    pub release_id: i32,
    pub request: UpdateRequest,
    pub content_type: Option<ContentType>,
    pub security: bool,
    pub final_state: ComposeOutcome,
    pub error_message: Option<&'a str>,
    pub date_created: NaiveDateTime,
    pub date_finished: NaiveDateTime,
    pub timings: &'a str,
    pub update_summary: &'a str,
}

impl Compose {
    /// A new compose in state `requested`.
    pub fn create(
        conn: &mut DbConnection,
        release_id: i32,
        request: UpdateRequest,
        now: NaiveDateTime,
    ) -> QueryResult<Compose> {
        diesel::insert_into(composes::table)
            .values((
                composes::release_id.eq(release_id),
                composes::request.eq(request),
                composes::state.eq(ComposeState::Requested),
                composes::checkpoints.eq("{}"),
                composes::date_created.eq(now),
                composes::state_date.eq(now),
            ))
            .returning(composes::all_columns)
            .get_result(conn)
    }

    pub fn find(
        conn: &mut DbConnection,
        release_id: i32,
        request: UpdateRequest,
    ) -> QueryResult<Option<Compose>> {
        composes::table
            .filter(composes::release_id.eq(release_id))
            .filter(composes::request.eq(request))
            .select(Compose::as_select())
            .first(conn)
            .optional()
    }

    pub fn list(conn: &mut DbConnection) -> QueryResult<Vec<Compose>> {
        composes::table
            .order(composes::id.asc())
            .select(Compose::as_select())
            .load(conn)
    }

    /// Moves the compose to `state`, recording when.
    pub fn set_state(
        conn: &mut DbConnection,
        id: i32,
        state: ComposeState,
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        diesel::update(composes::table.find(id))
            .set((composes::state.eq(state), composes::state_date.eq(now)))
            .execute(conn)
            .map(drop)
    }

    pub fn delete(conn: &mut DbConnection, id: i32) -> QueryResult<()> {
        diesel::delete(composes::table.find(id))
            .execute(conn)
            .map(drop)
    }
}

impl ComposeRecord {
    pub fn create(
        conn: &mut DbConnection,
        new: &NewComposeRecord<'_>,
    ) -> QueryResult<ComposeRecord> {
        diesel::insert_into(compose_history::table)
            .values(new)
            .returning(compose_history::all_columns)
            .get_result(conn)
    }

    /// The most recent finished composes first.
    pub fn recent(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<ComposeRecord>> {
        compose_history::table
            .order((
                compose_history::date_finished.desc(),
                compose_history::id.desc(),
            ))
            .limit(limit)
            .select(ComposeRecord::as_select())
            .load(conn)
    }
}
