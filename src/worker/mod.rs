//! The worker: claims due jobs from the durable jobs table and runs them, renewing its lease
//! while a job runs, retrying failures with backoff, and keeping periodic jobs scheduled.
//! Any number of workers, in any number of processes, can share one database.

pub mod housekeeping;
pub mod periodic;
pub mod signing;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use rand::RngCore;
use tokio::sync::watch;

use crate::models::job::{Job, NewJob};
use crate::models::now;
use crate::state::AppState;

/// One kind of job.
pub trait JobHandler: Send + Sync {
    /// The `kind` column of the jobs it runs.
    fn kind(&self) -> &'static str;

    /// Runs one job, on a blocking thread. An error is recorded and the job retried later.
    fn run(&self, state: &AppState, job: &Job) -> anyhow::Result<()>;

    /// For a periodic job: how long after one run the next is due.
    fn every(&self) -> Option<Duration> {
        None
    }

    /// Attempts before a job of this kind fails for good.
    fn max_attempts(&self) -> i32 {
        5
    }
}

/// What happened to a job the worker ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done {
        id: i32,
        kind: String,
    },
    Failed {
        id: i32,
        kind: String,
        error: String,
    },
}

pub struct Worker {
    state: AppState,
    id: String,
    handlers: Vec<Arc<dyn JobHandler>>,
}

/// How often the worker makes sure every periodic job is scheduled.
const SCHEDULE_CHECK: Duration = Duration::from_secs(60);

impl Worker {
    pub fn new(state: AppState, handlers: Vec<Arc<dyn JobHandler>>) -> Worker {
        Worker {
            state,
            id: worker_id(),
            handlers,
        }
    }

    /// A worker with every job kind Pipal has.
    pub fn with_all_handlers(state: AppState) -> Worker {
        let mut handlers = housekeeping::handlers();
        handlers.extend(crate::services::tagging::handlers());
        handlers.extend(periodic::handlers());
        handlers.extend(signing::handlers());
        handlers.extend(crate::odcs::generate::handlers(&state.settings));
        Worker::new(state, handlers)
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    fn lease(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.state.settings.worker.lease_secs.max(1) as i64)
    }

    fn kinds(&self) -> Vec<&'static str> {
        self.handlers.iter().map(|h| h.kind()).collect()
    }

    fn handler(&self, kind: &str) -> Option<&Arc<dyn JobHandler>> {
        self.handlers.iter().find(|h| h.kind() == kind)
    }

    /// Enqueues the next run of every periodic job that has none queued or running.
    pub fn schedule_periodic(&self) -> anyhow::Result<()> {
        let mut conn = self.state.db.conn()?;
        for handler in self.handlers.iter().filter(|h| h.every().is_some()) {
            enqueue_periodic(&mut conn, handler.as_ref(), now())
                .with_context(|| format!("cannot schedule {}", handler.kind()))?;
        }
        Ok(())
    }

    /// Makes a periodic job due now: its queued run moves up, or a run is queued. The next
    /// [`Worker::run_one`] of any worker runs it.
    pub fn make_periodic_due(&self, kind: &str) -> anyhow::Result<()> {
        let handler = self
            .handler(kind)
            .filter(|h| h.every().is_some())
            .with_context(|| format!("no periodic job named {kind}"))?;
        let mut conn = self.state.db.conn()?;
        Job::make_due(&mut conn, &periodic_key(kind), now())?;
        enqueue_periodic(&mut conn, handler.as_ref(), now())
    }

    /// Claims one due job, if any, and runs it to the end. Blocking.
    pub fn run_one(&self) -> anyhow::Result<Option<Outcome>> {
        let kinds = self.kinds();
        let claimed = {
            let mut conn = self.state.db.conn()?;
            Job::claim_next(&mut conn, &self.id, &kinds, now(), self.lease())?
        };
        let Some(job) = claimed else {
            return Ok(None);
        };
        Ok(Some(self.execute(&job)?))
    }

    /// Runs the given jobs now, in order, if they can be claimed (a job waiting behind an older
    /// one of its queue, or already taken, is left to the worker). Blocking.
    pub fn run_now(&self, ids: &[i32]) -> anyhow::Result<Vec<Outcome>> {
        let mut outcomes = Vec::new();
        for id in ids {
            let claimed = {
                let mut conn = self.state.db.conn()?;
                Job::claim_by_id(&mut conn, *id, &self.id, now(), self.lease())?
            };
            match claimed {
                Some(job) => outcomes.push(self.execute(&job)?),
                None => break,
            }
        }
        Ok(outcomes)
    }

    fn execute(&self, job: &Job) -> anyhow::Result<Outcome> {
        let handler = self
            .handler(&job.kind)
            .with_context(|| format!("no handler for job kind {}", job.kind))?;
        tracing::info!(job = job.id, kind = %job.kind, attempt = job.attempts, "running job");
        let result = handler.run(&self.state, job);
        let mut conn = self.state.db.conn()?;
        match result {
            Ok(()) => {
                if !Job::complete(&mut conn, job.id, &self.id, now())? {
                    tracing::warn!(job = job.id, "lost the lease before finishing");
                }
                if let Some(every) = handler.every() {
                    let next = now() + chrono::Duration::from_std(every)?;
                    enqueue_periodic(&mut conn, handler.as_ref(), next)?;
                }
                Ok(Outcome::Done {
                    id: job.id,
                    kind: job.kind.clone(),
                })
            }
            Err(error) => {
                let message = format!("{error:#}");
                tracing::warn!(job = job.id, kind = %job.kind, error = %message, "job failed");
                Job::fail(
                    &mut conn,
                    job,
                    &self.id,
                    &message,
                    now(),
                    retry_delay(job.attempts),
                )?;
                Ok(Outcome::Failed {
                    id: job.id,
                    kind: job.kind.clone(),
                    error: message,
                })
            }
        }
    }

    /// Runs until `shutdown` turns true: polls for due jobs and runs them one at a time,
    /// renewing the lease of a running job.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(worker = %self.id, kinds = ?self.kinds(), "worker started");
        let poll = Duration::from_millis(self.state.settings.worker.poll_interval_ms.max(10));
        let mut last_schedule: Option<tokio::time::Instant> = None;
        while !*shutdown.borrow() {
            if last_schedule.is_none_or(|t| t.elapsed() >= SCHEDULE_CHECK) {
                let worker = self.clone();
                match tokio::task::spawn_blocking(move || worker.schedule_periodic()).await {
                    Ok(Ok(())) => last_schedule = Some(tokio::time::Instant::now()),
                    Ok(Err(error)) => {
                        tracing::warn!(error = %format!("{error:#}"), "cannot schedule periodic jobs")
                    }
                    Err(error) => tracing::error!(%error, "scheduling task panicked"),
                }
            }
            let ran = self.clone().run_one_with_renewal().await;
            if !ran {
                tokio::select! {
                    _ = tokio::time::sleep(poll) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
        tracing::info!(worker = %self.id, "worker stopped");
    }

    /// Claims and runs one job while a timer renews its lease; false when nothing was due.
    async fn run_one_with_renewal(self: Arc<Self>) -> bool {
        let worker = self.clone();
        let claimed = tokio::task::spawn_blocking(move || -> anyhow::Result<Option<Job>> {
            let mut conn = worker.state.db.conn()?;
            Ok(Job::claim_next(
                &mut conn,
                &worker.id,
                &worker.kinds(),
                now(),
                worker.lease(),
            )?)
        })
        .await;
        let job = match claimed {
            Ok(Ok(Some(job))) => job,
            Ok(Ok(None)) => return false,
            Ok(Err(error)) => {
                tracing::warn!(error = %format!("{error:#}"), "cannot claim a job");
                return false;
            }
            Err(error) => {
                tracing::error!(%error, "claim task panicked");
                return false;
            }
        };
        let worker = self.clone();
        let running_job = job.clone();
        let mut running = tokio::task::spawn_blocking(move || worker.execute(&running_job));
        let renew_every = (self.lease() / 3)
            .to_std()
            .unwrap_or(Duration::from_secs(10));
        loop {
            tokio::select! {
                finished = &mut running => {
                    match finished {
                        Ok(Ok(_)) => {}
                        Ok(Err(error)) => tracing::error!(job = job.id, error = %format!("{error:#}"), "cannot record the job's outcome"),
                        Err(error) => tracing::error!(job = job.id, %error, "job panicked; it will be retried when its lease expires"),
                    }
                    return true;
                }
                _ = tokio::time::sleep(renew_every) => {
                    let worker = self.clone();
                    let id = job.id;
                    let renewed = tokio::task::spawn_blocking(move || -> anyhow::Result<bool> {
                        let mut conn = worker.state.db.conn()?;
                        Ok(Job::renew_lease(&mut conn, id, &worker.id, now(), worker.lease())?)
                    }).await;
                    if !matches!(renewed, Ok(Ok(true))) {
                        tracing::warn!(job = job.id, "could not renew the job's lease");
                    }
                }
            }
        }
    }
}

/// Enqueues a run of a periodic job unless one is queued or running (the dedup key is the
/// kind's).
fn enqueue_periodic(
    conn: &mut crate::db::DbConnection,
    handler: &dyn JobHandler,
    run_after: chrono::NaiveDateTime,
) -> anyhow::Result<()> {
    let key = periodic_key(handler.kind());
    Job::enqueue(
        conn,
        &NewJob {
            kind: handler.kind(),
            payload: "{}",
            dedup_key: Some(&key),
            run_after,
            max_attempts: handler.max_attempts(),
            queue_key: None,
        },
        now(),
    )?;
    Ok(())
}

fn periodic_key(kind: &str) -> String {
    format!("periodic:{kind}")
}

/// Backoff after a failed attempt: 10 s, 20 s, 40 s, ... up to an hour.
pub fn retry_delay(attempts: i32) -> chrono::Duration {
    let exponent = attempts.clamp(1, 16) as u32 - 1;
    chrono::Duration::seconds((10i64 << exponent).min(3600))
}

fn worker_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "localhost".to_owned());
    let mut bytes = [0u8; 3];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{host}-{}-{}", std::process::id(), hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_up_to_an_hour() {
        assert_eq!(retry_delay(1), chrono::Duration::seconds(10));
        assert_eq!(retry_delay(2), chrono::Duration::seconds(20));
        assert_eq!(retry_delay(4), chrono::Duration::seconds(80));
        assert_eq!(retry_delay(30), chrono::Duration::seconds(3600));
    }
}
