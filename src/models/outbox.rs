//! The outbox: bus messages, mails and Bugzilla calls written in the same transaction as the
//! change that causes them, delivered later by the worker. The dedup key makes writing the
//! same entry twice (a resumed compose, a retried request) a no-op.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::outbox;
use crate::db::types::{OutboxKind, OutboxState};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = outbox)]
pub struct OutboxEntry {
    pub id: i32,
    pub kind: OutboxKind,
    pub dedup_key: String,
    /// JSON; its shape depends on the kind.
    pub payload: String,
    pub state: OutboxState,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
}

impl OutboxEntry {
    /// Adds an entry unless one with the same dedup key exists; returns the entry and whether
    /// it is new.
    pub fn enqueue(
        conn: &mut DbConnection,
        kind: OutboxKind,
        dedup_key: &str,
        payload: &str,
        now: NaiveDateTime,
    ) -> QueryResult<(OutboxEntry, bool)> {
        if let Some(existing) = OutboxEntry::by_key(conn, dedup_key)? {
            return Ok((existing, false));
        }
        let inserted = conn.transaction(|conn| {
            diesel::insert_into(outbox::table)
                .values((
                    outbox::kind.eq(kind),
                    outbox::dedup_key.eq(dedup_key),
                    outbox::payload.eq(payload),
                    outbox::state.eq(OutboxState::Pending),
                    outbox::next_attempt_at.eq(now),
                    outbox::created_at.eq(now),
                ))
                .returning(outbox::all_columns)
                .get_result(conn)
        });
        match inserted {
            Ok(entry) => Ok((entry, true)),
            Err(e) if super::is_unique_violation(&e) => {
                Ok((OutboxEntry::by_key(conn, dedup_key)?.ok_or(e)?, false))
            }
            Err(e) => Err(e),
        }
    }

    pub fn by_key(conn: &mut DbConnection, dedup_key: &str) -> QueryResult<Option<OutboxEntry>> {
        outbox::table
            .filter(outbox::dedup_key.eq(dedup_key))
            .select(OutboxEntry::as_select())
            .first(conn)
            .optional()
    }

    /// Entries in the given states, oldest first.
    pub fn list(
        conn: &mut DbConnection,
        states: &[OutboxState],
        limit: i64,
    ) -> QueryResult<Vec<OutboxEntry>> {
        outbox::table
            .filter(outbox::state.eq_any(states))
            .order(outbox::id.asc())
            .limit(limit)
            .select(OutboxEntry::as_select())
            .load(conn)
    }

    /// Leases up to `limit` due entries of `kinds` to `owner` for `lease`, oldest first;
    /// returns those it got (another deliverer may take some first).
    pub fn claim_due(
        conn: &mut DbConnection,
        kinds: &[OutboxKind],
        owner: &str,
        now: NaiveDateTime,
        lease: chrono::Duration,
        limit: i64,
    ) -> QueryResult<Vec<OutboxEntry>> {
        let lease_free = outbox::lease_expires_at
            .is_null()
            .or(outbox::lease_expires_at.lt(now));
        let due: Vec<i32> = outbox::table
            .filter(outbox::state.eq(OutboxState::Pending))
            .filter(outbox::kind.eq_any(kinds))
            .filter(outbox::next_attempt_at.le(now))
            .filter(lease_free)
            .order(outbox::id.asc())
            .limit(limit)
            .select(outbox::id)
            .load(conn)?;
        let mut claimed = Vec::with_capacity(due.len());
        for id in due {
            let taken = diesel::update(
                outbox::table
                    .find(id)
                    .filter(outbox::state.eq(OutboxState::Pending))
                    .filter(lease_free),
            )
            .set((
                outbox::lease_owner.eq(owner),
                outbox::lease_expires_at.eq(now + lease),
            ))
            .execute(conn)?;
            if taken == 1 {
                claimed.push(id);
            }
        }
        outbox::table
            .filter(outbox::id.eq_any(&claimed))
            .order(outbox::id.asc())
            .select(OutboxEntry::as_select())
            .load(conn)
    }

    /// Records a delivery by the lease's owner; false when the lease was lost (another
    /// deliverer owns the entry now and records it).
    pub fn mark_delivered(
        conn: &mut DbConnection,
        id: i32,
        owner: &str,
        now: NaiveDateTime,
    ) -> QueryResult<bool> {
        diesel::update(outbox::table.find(id).filter(outbox::lease_owner.eq(owner)))
            .set((
                outbox::state.eq(OutboxState::Delivered),
                outbox::delivered_at.eq(Some(now)),
                outbox::lease_owner.eq(None::<String>),
                outbox::lease_expires_at.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)
            .map(|n| n == 1)
    }

    /// Records a failed delivery by the lease's owner: tried again at `next_attempt_at`, or
    /// failed for good when `give_up` is set.
    pub fn record_failure(
        conn: &mut DbConnection,
        id: i32,
        owner: &str,
        error: &str,
        next_attempt_at: NaiveDateTime,
        give_up: bool,
    ) -> QueryResult<bool> {
        let state = if give_up {
            OutboxState::Failed
        } else {
            OutboxState::Pending
        };
        diesel::update(outbox::table.find(id).filter(outbox::lease_owner.eq(owner)))
            .set((
                outbox::state.eq(state),
                outbox::attempts.eq(outbox::attempts + 1),
                outbox::next_attempt_at.eq(next_attempt_at),
                outbox::last_error.eq(Some(error)),
                outbox::lease_owner.eq(None::<String>),
                outbox::lease_expires_at.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)
            .map(|n| n == 1)
    }

    /// Puts failed entries (the given ones, or every failed one) back in the queue, due now,
    /// with their attempts reset; returns how many.
    pub fn retry(
        conn: &mut DbConnection,
        ids: Option<&[i32]>,
        now: NaiveDateTime,
    ) -> QueryResult<usize> {
        let failed = outbox::table.filter(outbox::state.eq(OutboxState::Failed));
        let changes = (
            outbox::state.eq(OutboxState::Pending),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(now),
        );
        match ids {
            Some(ids) => diesel::update(failed.filter(outbox::id.eq_any(ids)))
                .set(changes)
                .execute(conn),
            None => diesel::update(failed).set(changes).execute(conn),
        }
    }

    /// How many entries there are of each kind and state.
    pub fn counts(conn: &mut DbConnection) -> QueryResult<Vec<(OutboxKind, OutboxState, i64)>> {
        outbox::table
            .group_by((outbox::kind, outbox::state))
            .select((outbox::kind, outbox::state, diesel::dsl::count_star()))
            .order((outbox::kind, outbox::state))
            .load(conn)
    }
}

/// Removes entries delivered before `cutoff`; returns how many.
pub fn delete_delivered_before(
    conn: &mut DbConnection,
    cutoff: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::delete(
        outbox::table
            .filter(outbox::state.eq(OutboxState::Delivered))
            .filter(outbox::delivered_at.lt(cutoff)),
    )
    .execute(conn)
}
