//! Composes in flight (one per release and request, with state, checkpoints and the lease of
//! the worker running it) and the history of finished composes.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use diesel::IntoSql;

use crate::db::DbConnection;
use crate::db::schema::{compose_history, composes};
use crate::db::types::{ComposeOutcome, ComposeState, ContentType, UpdateRequest};

/// Rows held by `owner`, or held by nobody when `owner` is `None` (a compose being recorded
/// after its failure released the lease).
macro_rules! held_by {
    ($owner:expr) => {{
        let owner: Option<&str> = $owner;
        composes::lease_owner
            .eq(owner.unwrap_or(""))
            .or(composes::lease_owner
                .is_null()
                .and(owner.is_none().into_sql::<diesel::sql_types::Bool>()))
    }};
}

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

    pub fn by_id(conn: &mut DbConnection, id: i32) -> QueryResult<Compose> {
        composes::table
            .find(id)
            .select(Compose::as_select())
            .first(conn)
    }

    /// Claims the next compose a worker may run: not finished or failed, not leased (or its
    /// lease expired: the worker died), while fewer than `max_running` composes hold a live
    /// lease. Stable composes first, then the oldest. Compare-and-set on the lease, so two
    /// workers never take the same compose.
    pub fn claim_next(
        conn: &mut DbConnection,
        owner: &str,
        now: NaiveDateTime,
        lease: chrono::Duration,
        max_running: i64,
    ) -> QueryResult<Option<Compose>> {
        let running: i64 = composes::table
            .filter(composes::lease_expires_at.gt(now))
            .count()
            .get_result(conn)?;
        if running >= max_running {
            return Ok(None);
        }
        let claimable = || {
            composes::state
                .ne_all([ComposeState::Success, ComposeState::Failed])
                .and(
                    composes::lease_expires_at
                        .is_null()
                        .or(composes::lease_expires_at.le(now)),
                )
        };
        let mut candidates: Vec<Compose> = composes::table
            .filter(claimable())
            .select(Compose::as_select())
            .load(conn)?;
        candidates.sort_by_key(|c| (c.request != UpdateRequest::Stable, c.id));
        for candidate in candidates {
            let claimed = diesel::update(
                composes::table
                    .filter(composes::id.eq(candidate.id))
                    .filter(claimable()),
            )
            .set((
                composes::lease_owner.eq(Some(owner)),
                composes::lease_expires_at.eq(Some(now + lease)),
                composes::attempts.eq(composes::attempts + 1),
            ))
            .returning(composes::all_columns)
            .get_result(conn)
            .optional()?;
            if claimed.is_some() {
                return Ok(claimed);
            }
        }
        Ok(None)
    }

    /// Extends the lease; false when `owner` no longer holds it (it expired and another
    /// worker took the compose over), in which case the owner must stop.
    pub fn renew(
        conn: &mut DbConnection,
        id: i32,
        owner: &str,
        until: NaiveDateTime,
    ) -> QueryResult<bool> {
        let renewed = diesel::update(
            composes::table
                .filter(composes::id.eq(id))
                .filter(composes::lease_owner.eq(owner)),
        )
        .set(composes::lease_expires_at.eq(Some(until)))
        .execute(conn)?;
        Ok(renewed == 1)
    }

    /// Records a failure: state `failed` with the message, lease released. The updates stay
    /// locked until the compose is resumed. False when `owner` no longer holds the compose
    /// (another worker took it over and records what happens next).
    pub fn fail(
        conn: &mut DbConnection,
        id: i32,
        owner: Option<&str>,
        message: &str,
        now: NaiveDateTime,
    ) -> QueryResult<bool> {
        let changed = diesel::update(composes::table.find(id).filter(held_by!(owner)))
            .set((
                composes::state.eq(ComposeState::Failed),
                composes::state_date.eq(now),
                composes::error_message.eq(Some(message)),
                composes::lease_owner.eq(None::<String>),
                composes::lease_expires_at.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
        Ok(changed == 1)
    }

    /// Writes the checkpoints, fenced by the lease: a worker that lost the compose to another
    /// one gets [`lease_lost`] and must stop, so it never records a step over the new owner.
    pub fn save_checkpoints(
        conn: &mut DbConnection,
        id: i32,
        owner: Option<&str>,
        checkpoints: &str,
    ) -> QueryResult<()> {
        let changed = diesel::update(composes::table.find(id).filter(held_by!(owner)))
            .set(composes::checkpoints.eq(checkpoints))
            .execute(conn)?;
        if changed == 0 {
            return Err(lease_lost());
        }
        Ok(())
    }

    /// Moves the compose to `state`, recording when; fenced by the lease as
    /// `save_checkpoints`.
    pub fn set_state(
        conn: &mut DbConnection,
        id: i32,
        owner: Option<&str>,
        state: ComposeState,
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        let changed = diesel::update(composes::table.find(id).filter(held_by!(owner)))
            .set((composes::state.eq(state), composes::state_date.eq(now)))
            .execute(conn)?;
        if changed == 0 {
            return Err(lease_lost());
        }
        Ok(())
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

/// The message of the error a fenced write gets when its worker lost the compose.
pub const LEASE_LOST: &str = "the compose's lease was lost to another worker";

/// The error of a fenced write whose worker no longer holds the compose.
pub fn lease_lost() -> diesel::result::Error {
    diesel::result::Error::QueryBuilderError(LEASE_LOST.into())
}
