//! The durable job queue. Workers on any node claim due jobs with a compare-and-set UPDATE
//! that gives them a short lease; a job whose worker died is claimed again once its lease
//! expires. A dedup key keeps at most one queued or running job per key.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::jobs;
use crate::db::types::JobState;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = jobs)]
pub struct Job {
    pub id: i32,
    pub kind: String,
    /// JSON.
    pub payload: String,
    pub dedup_key: Option<String>,
    pub state: JobState,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_after: NaiveDateTime,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
    /// Jobs with the same queue key run one at a time, oldest first.
    pub queue_key: Option<String>,
}

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob<'a> {
    pub kind: &'a str,
    pub payload: &'a str,
    pub dedup_key: Option<&'a str>,
    pub run_after: NaiveDateTime,
    pub max_attempts: i32,
    pub queue_key: Option<&'a str>,
}

/// How many due jobs one claim attempt looks at before giving up to a busier worker.
const CLAIM_CANDIDATES: i64 = 8;

impl Job {
    /// Enqueues the job. With a dedup key that already has a queued or running job, nothing is
    /// added and that job is returned; the flag says whether a new job was created.
    pub fn enqueue(
        conn: &mut DbConnection,
        new: &NewJob<'_>,
        now: NaiveDateTime,
    ) -> QueryResult<(Job, bool)> {
        if let Some(key) = new.dedup_key
            && let Some(existing) = Job::active_with_key(conn, key)?
        {
            return Ok((existing, false));
        }
        // A savepoint, so that losing the race to a concurrent enqueue does not abort an
        // enclosing PostgreSQL transaction.
        let inserted = conn.transaction(|conn| {
            diesel::insert_into(jobs::table)
                .values((
                    jobs::kind.eq(new.kind),
                    jobs::payload.eq(new.payload),
                    jobs::dedup_key.eq(new.dedup_key),
                    jobs::state.eq(JobState::Queued),
                    jobs::max_attempts.eq(new.max_attempts),
                    jobs::run_after.eq(new.run_after),
                    jobs::created_at.eq(now),
                    jobs::updated_at.eq(now),
                    jobs::queue_key.eq(new.queue_key),
                ))
                .returning(jobs::all_columns)
                .get_result(conn)
        });
        match (inserted, new.dedup_key) {
            (Ok(job), _) => Ok((job, true)),
            (Err(e), Some(key)) if super::is_unique_violation(&e) => {
                let existing = Job::active_with_key(conn, key)?.ok_or(e)?;
                Ok((existing, false))
            }
            (Err(e), _) => Err(e),
        }
    }

    fn active_with_key(conn: &mut DbConnection, key: &str) -> QueryResult<Option<Job>> {
        jobs::table
            .filter(jobs::dedup_key.eq(key))
            .filter(jobs::state.eq_any([JobState::Queued, JobState::Running]))
            .select(Job::as_select())
            .first(conn)
            .optional()
    }

    /// Moves the queued job with this deduplication key up to `now`; returns whether there
    /// was one.
    pub fn make_due(
        conn: &mut DbConnection,
        dedup_key: &str,
        now: NaiveDateTime,
    ) -> QueryResult<bool> {
        let changed = diesel::update(
            jobs::table
                .filter(jobs::dedup_key.eq(dedup_key))
                .filter(jobs::state.eq(JobState::Queued))
                .filter(jobs::run_after.gt(now)),
        )
        .set((jobs::run_after.eq(now), jobs::updated_at.eq(now)))
        .execute(conn)?;
        Ok(changed > 0)
    }

    /// Claims the next due job of one of `kinds` for `worker`: a queued job whose time has
    /// come, or a running job whose lease has expired. Returns `None` when there is none.
    pub fn claim_next(
        conn: &mut DbConnection,
        worker: &str,
        kinds: &[&str],
        now: NaiveDateTime,
        lease: Duration,
    ) -> QueryResult<Option<Job>> {
        let candidates: Vec<i32> = jobs::table
            .filter(jobs::kind.eq_any(kinds))
            .filter(claimable(now))
            .order((jobs::run_after.asc(), jobs::id.asc()))
            .limit(CLAIM_CANDIDATES)
            .select(jobs::id)
            .load(conn)?;
        for id in candidates {
            let claimed =
                diesel::update(jobs::table.filter(jobs::id.eq(id)).filter(claimable(now)))
                    .set((
                        jobs::state.eq(JobState::Running),
                        jobs::lease_owner.eq(Some(worker)),
                        jobs::lease_expires_at.eq(Some(now + lease)),
                        jobs::attempts.eq(jobs::attempts + 1),
                        jobs::updated_at.eq(now),
                    ))
                    .returning(jobs::all_columns)
                    .get_result(conn)
                    .optional()?;
            if claimed.is_some() {
                return Ok(claimed);
            }
        }
        Ok(None)
    }

    /// Claims one given job, if it is claimable now (due, not leased, not waiting behind an
    /// older job of its queue).
    pub fn claim_by_id(
        conn: &mut DbConnection,
        id: i32,
        worker: &str,
        now: NaiveDateTime,
        lease: Duration,
    ) -> QueryResult<Option<Job>> {
        diesel::update(jobs::table.filter(jobs::id.eq(id)).filter(claimable(now)))
            .set((
                jobs::state.eq(JobState::Running),
                jobs::lease_owner.eq(Some(worker)),
                jobs::lease_expires_at.eq(Some(now + lease)),
                jobs::attempts.eq(jobs::attempts + 1),
                jobs::updated_at.eq(now),
            ))
            .returning(jobs::all_columns)
            .get_result(conn)
            .optional()
    }

    /// Extends the lease of a job the worker still holds; false if it lost the lease.
    pub fn renew_lease(
        conn: &mut DbConnection,
        id: i32,
        worker: &str,
        now: NaiveDateTime,
        lease: Duration,
    ) -> QueryResult<bool> {
        let changed = diesel::update(Job::held_by(id, worker))
            .set((
                jobs::lease_expires_at.eq(Some(now + lease)),
                jobs::updated_at.eq(now),
            ))
            .execute(conn)?;
        Ok(changed == 1)
    }

    /// Marks a job the worker holds as done; false if it lost the lease.
    pub fn complete(
        conn: &mut DbConnection,
        id: i32,
        worker: &str,
        now: NaiveDateTime,
    ) -> QueryResult<bool> {
        let changed = diesel::update(Job::held_by(id, worker))
            .set((
                jobs::state.eq(JobState::Done),
                jobs::lease_owner.eq(None::<String>),
                jobs::lease_expires_at.eq(None::<NaiveDateTime>),
                jobs::updated_at.eq(now),
                jobs::finished_at.eq(Some(now)),
            ))
            .execute(conn)?;
        Ok(changed == 1)
    }

    /// Records a failed attempt. The job is queued again after `retry_in` unless it has used
    /// all its attempts, in which case it is failed for good. False if the lease was lost.
    pub fn fail(
        conn: &mut DbConnection,
        job: &Job,
        worker: &str,
        error: &str,
        now: NaiveDateTime,
        retry_in: Duration,
    ) -> QueryResult<bool> {
        let exhausted = job.attempts >= job.max_attempts;
        let (state, finished_at) = if exhausted {
            (JobState::Failed, Some(now))
        } else {
            (JobState::Queued, None)
        };
        let changed = diesel::update(Job::held_by(job.id, worker))
            .set((
                jobs::state.eq(state),
                jobs::run_after.eq(now + retry_in),
                jobs::lease_owner.eq(None::<String>),
                jobs::lease_expires_at.eq(None::<NaiveDateTime>),
                jobs::last_error.eq(Some(error)),
                jobs::updated_at.eq(now),
                jobs::finished_at.eq(finished_at),
            ))
            .execute(conn)?;
        Ok(changed == 1)
    }

    /// The job, if it is running under `worker`'s lease.
    #[diesel::dsl::auto_type(no_type_alias)]
    fn held_by<'a>(id: i32, worker: &'a str) -> _ {
        let running: JobState = JobState::Running;
        jobs::table
            .filter(jobs::id.eq(id))
            .filter(jobs::state.eq(running))
            .filter(jobs::lease_owner.eq(worker))
    }

    /// The newest job with this deduplication key, whatever its state.
    pub fn latest_by_dedup_key(conn: &mut DbConnection, key: &str) -> QueryResult<Option<Job>> {
        jobs::table
            .filter(jobs::dedup_key.eq(key))
            .order(jobs::id.desc())
            .select(Job::as_select())
            .first(conn)
            .optional()
    }

    pub fn by_id(conn: &mut DbConnection, id: i32) -> QueryResult<Job> {
        jobs::table.find(id).select(Job::as_select()).first(conn)
    }

    /// Jobs in the given states, newest first.
    pub fn list(conn: &mut DbConnection, states: &[JobState], limit: i64) -> QueryResult<Vec<Job>> {
        jobs::table
            .filter(jobs::state.eq_any(states))
            .order(jobs::id.desc())
            .limit(limit)
            .select(Job::as_select())
            .load(conn)
    }
}

/// A queued job whose time has come, or a running job whose lease has expired; in either
/// case with no older unfinished job in its queue.
fn claimable(
    now: NaiveDateTime,
) -> Box<
    dyn BoxableExpression<
            jobs::table,
            crate::db::connection::MultiBackend,
            SqlType = diesel::sql_types::Nullable<diesel::sql_types::Bool>,
        >,
> {
    let earlier = diesel::alias!(jobs as earlier);
    let due = jobs::state
        .eq(JobState::Queued)
        .and(jobs::run_after.le(now))
        .or(jobs::state
            .eq(JobState::Running)
            .and(jobs::lease_expires_at.lt(now)));
    let blocked = diesel::dsl::exists(
        earlier
            .filter(earlier.field(jobs::queue_key).eq(jobs::queue_key))
            .filter(earlier.field(jobs::id).lt(jobs::id))
            .filter(
                earlier
                    .field(jobs::state)
                    .eq_any([JobState::Queued, JobState::Running]),
            ),
    );
    Box::new(due.and(diesel::dsl::not(blocked)))
}

/// Removes done and failed jobs that finished before `cutoff`; returns how many.
pub fn delete_finished_before(
    conn: &mut DbConnection,
    cutoff: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::delete(
        jobs::table
            .filter(jobs::state.eq_any([JobState::Done, JobState::Failed]))
            .filter(jobs::finished_at.lt(cutoff)),
    )
    .execute(conn)
}
