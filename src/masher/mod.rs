//! The masher: runs the composes a push created. Every piece of a compose's state is in its
//! database row (state, checkpoints, the ids of its updates, the lease of the worker running
//! it), so any number of workers in any number of processes share the work: a worker claims a
//! compose with a short lease and renews it between steps; when a worker dies its lease
//! expires and another worker (or the same one, restarted) resumes the compose from its
//! checkpoints. A failed compose keeps its updates locked and waits for `pipal push --resume`;
//! it never blocks the other composes (Bodhi PR #6160).

pub mod containers;
pub mod events;
pub mod notices;
pub mod repo;
pub mod repos;
pub mod steps;
pub mod updateinfo;
pub mod work;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::anyhow;
use rand::RngCore;
use serde_json::json;
use tokio::sync::watch;

use crate::db::types::{ComposeOutcome, ComposeState};
use crate::db::write_transaction;
use crate::models::compose::{Compose, ComposeRecord, LEASE_LOST, NewComposeRecord};
use crate::models::now;
use crate::state::AppState;

use work::Work;

/// How a compose a worker ran ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finished {
    Success { compose_id: i32 },
    Failed { compose_id: i32, error: String },
}

pub struct Masher {
    state: AppState,
    id: String,
    fail_before: Option<String>,
    halt_before: Option<String>,
}

/// Crash drills: a masher started with this set to a step name (one of `steps::STEP_NAMES`)
/// stops before that step, says so on stderr and waits to be killed, so that an operator (or
/// a test) can kill -9 it in a known state and watch another worker resume the compose.
pub const HALT_BEFORE_ENV: &str = "PIPAL_MASHER_HALT_BEFORE";

impl Masher {
    pub fn new(state: AppState) -> Masher {
        let id = format!(
            "masher-{}-{:08x}",
            std::process::id(),
            rand::thread_rng().next_u32()
        );
        Masher {
            state,
            id,
            fail_before: None,
            halt_before: std::env::var(HALT_BEFORE_ENV)
                .ok()
                .filter(|s| !s.is_empty()),
        }
    }

    /// Fault injection, for tests and recovery drills: composes this masher runs fail just
    /// before the step `step` (one of `steps::STEP_NAMES`), as they would if it broke there.
    pub fn failing_before(mut self, step: &str) -> Masher {
        self.fail_before = Some(step.to_owned());
        self
    }

    fn lease(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.state.settings.masher.lease_secs.max(1) as i64)
    }

    /// Claims one compose and runs it to its end; `None` when none is waiting (or the
    /// concurrency limit is reached).
    pub fn run_one(&self) -> anyhow::Result<Option<Finished>> {
        let mut conn = self.state.db.conn()?;
        let claimed = Compose::claim_next(
            &mut conn,
            &self.id,
            now(),
            self.lease(),
            i64::from(self.state.settings.masher.max_concurrent_composes.max(1)),
        )?;
        let Some(compose) = claimed else {
            return Ok(None);
        };
        let compose_id = compose.id;
        if compose.attempts > 1 {
            tracing::info!(compose = compose_id, state = %compose.state, attempt = compose.attempts, "resuming a compose");
        }
        let outcome = self.run_claimed(&mut conn, compose);
        match outcome {
            Ok(()) => Ok(Some(Finished::Success { compose_id })),
            Err(error) => {
                let message = format!("{error:#}");
                if message.contains(LEASE_LOST) {
                    // Another worker owns it now; it records what happens next.
                    return Ok(Some(Finished::Failed {
                        compose_id,
                        error: message,
                    }));
                }
                let recorded = write_transaction(&mut conn, |conn| -> anyhow::Result<bool> {
                    if !Compose::fail(conn, compose_id, Some(&self.id), &message, now())? {
                        return Ok(false);
                    }
                    let compose = Compose::by_id(conn, compose_id)?;
                    let work = Work::load(conn, compose)?;
                    let ctype = self.summary(conn, &work)?.content_type;
                    events::queue(
                        conn,
                        &work,
                        &format!("complete:failed:{}", work.compose.attempts),
                        "bodhi.compose.complete",
                        json!({
                            "success": false,
                            "repo": events::repo(&work),
                            "agent": events::AGENT,
                            "ctype": ctype.map(|c| c.to_string()),
                        }),
                    )?;
                    Ok(true)
                })?;
                if !recorded {
                    // It failed after another worker took it over, which records the rest.
                    return Ok(Some(Finished::Failed {
                        compose_id,
                        error: format!("{LEASE_LOST}: {message}"),
                    }));
                }
                tracing::error!(compose = compose_id, error = %message, "compose failed");
                self.record_history(
                    &mut conn,
                    compose_id,
                    ComposeOutcome::Failed,
                    Some(&message),
                )?;
                Ok(Some(Finished::Failed {
                    compose_id,
                    error: message,
                }))
            }
        }
    }

    fn run_claimed(
        &self,
        conn: &mut crate::db::DbConnection,
        compose: Compose,
    ) -> anyhow::Result<()> {
        let mut work = write_transaction(conn, |conn| {
            let mut work = Work::load(conn, compose)?;
            if work.compose.state == ComposeState::Requested {
                work.set_state(conn, ComposeState::Pending, now())?;
            }
            Ok::<_, diesel::result::Error>(work)
        })?;
        let lease = LeaseKeeper::start(self, work.compose.id);
        let heartbeat = |step: &str| -> anyhow::Result<()> {
            if lease.lost() {
                Err(anyhow!(LEASE_LOST))
            } else if self.fail_before.as_deref() == Some(step) {
                Err(anyhow!("injected failure before {step}"))
            } else if self.halt_before.as_deref() == Some(step) {
                eprintln!("masher halted before {step} ({HALT_BEFORE_ENV})");
                loop {
                    std::thread::park();
                }
            } else {
                Ok(())
            }
        };
        let ran = steps::run(&self.state, conn, &mut work, &heartbeat);
        let lost = lease.lost();
        lease.stop();
        // A step that failed because its worker lost the lease is the new owner's to record.
        if lost {
            return Err(anyhow!(LEASE_LOST));
        }
        ran?;
        let summary = self.summary(conn, &work)?;
        write_transaction(conn, |conn| -> anyhow::Result<()> {
            work.set_state(conn, ComposeState::Success, now())?;
            ComposeRecord::create(
                conn,
                &NewComposeRecord {
                    release_id: work.compose.release_id,
                    request: work.compose.request,
                    content_type: summary.content_type,
                    security: summary.security,
                    final_state: ComposeOutcome::Success,
                    error_message: None,
                    date_created: work.compose.date_created,
                    date_finished: now(),
                    timings: &work.timings().to_string(),
                    update_summary: &summary.updates,
                },
            )?;
            events::queue(
                conn,
                &work,
                "complete:success",
                "bodhi.compose.complete",
                json!({"success": true, "repo": events::repo(&work), "agent": events::AGENT, "ctype": summary.content_type.map(|c| c.to_string())}),
            )?;
            Compose::delete(conn, work.compose.id)?;
            Ok(())
        })?;
        tracing::info!(compose = work.compose.id, release = %work.release.name, request = %work.compose.request, "compose finished");
        Ok(())
    }

    fn summary(&self, conn: &mut crate::db::DbConnection, work: &Work) -> anyhow::Result<Summary> {
        let updates = work.updates(conn)?;
        let builds = work.builds(conn)?;
        let listed: Vec<serde_json::Value> = updates
            .iter()
            .map(|u| {
                let own: Vec<_> = builds
                    .iter()
                    .filter(|b| b.update_id == Some(u.id))
                    .cloned()
                    .collect();
                json!({"alias": u.alias, "title": crate::services::push::title_of(u, &own)})
            })
            .collect();
        Ok(Summary {
            content_type: Work::content_type(&builds),
            security: Work::security(&updates),
            updates: serde_json::Value::Array(listed).to_string(),
        })
    }

    /// A failure is kept in the history too, so the UI shows it after a resume succeeds.
    fn record_history(
        &self,
        conn: &mut crate::db::DbConnection,
        compose_id: i32,
        outcome: ComposeOutcome,
        error: Option<&str>,
    ) -> anyhow::Result<()> {
        let compose = Compose::by_id(conn, compose_id)?;
        let work = Work::load(conn, compose)?;
        let summary = self.summary(conn, &work)?;
        ComposeRecord::create(
            conn,
            &NewComposeRecord {
                release_id: work.compose.release_id,
                request: work.compose.request,
                content_type: summary.content_type,
                security: summary.security,
                final_state: outcome,
                error_message: error,
                date_created: work.compose.date_created,
                date_finished: now(),
                timings: &work.timings().to_string(),
                update_summary: &summary.updates,
            },
        )?;
        Ok(())
    }

    /// Runs composes until `shutdown` turns true, polling for new ones.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let poll = Duration::from_millis(self.state.settings.masher.poll_interval_ms.max(10));
        tracing::info!(masher = %self.id, "masher started");
        while !*shutdown.borrow() {
            let masher = self.clone();
            let ran = tokio::task::spawn_blocking(move || masher.run_one()).await;
            let busy = match ran {
                Ok(Ok(Some(_))) => true,
                Ok(Ok(None)) => false,
                Ok(Err(error)) => {
                    tracing::warn!(error = %format!("{error:#}"), "the masher cannot run composes");
                    false
                }
                Err(error) => {
                    tracing::error!(%error, "a compose panicked; it resumes when its lease expires");
                    false
                }
            };
            if !busy {
                tokio::select! {
                    _ = tokio::time::sleep(poll) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
        tracing::info!(masher = %self.id, "masher stopped");
    }
}

/// Renews a compose's lease from a thread of its own every third of the lease, so long steps
/// (waiting for Koji tasks) keep it; notes when the lease was lost.
struct LeaseKeeper {
    stop: Arc<AtomicBool>,
    lost: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LeaseKeeper {
    fn start(masher: &Masher, compose_id: i32) -> LeaseKeeper {
        let stop = Arc::new(AtomicBool::new(false));
        let lost = Arc::new(AtomicBool::new(false));
        let (db, owner, lease) = (masher.state.db.clone(), masher.id.clone(), masher.lease());
        let every = (lease / 3).to_std().unwrap_or(Duration::from_secs(10));
        let thread = {
            let (stop, lost) = (stop.clone(), lost.clone());
            std::thread::Builder::new()
                .name(format!("lease-{compose_id}"))
                .spawn(move || {
                    let mut last = std::time::Instant::now();
                    while !stop.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(50).min(every));
                        if last.elapsed() < every {
                            continue;
                        }
                        last = std::time::Instant::now();
                        let renewed = db
                            .conn()
                            .map_err(anyhow::Error::from)
                            .and_then(|mut conn| {
                                Ok(Compose::renew(&mut conn, compose_id, &owner, now() + lease)?)
                            });
                        match renewed {
                            Ok(true) => {}
                            Ok(false) => {
                                lost.store(true, Ordering::SeqCst);
                                return;
                            }
                            // The database is away: keep trying until the lease runs out.
                            Err(error) => tracing::warn!(compose = compose_id, error = %format!("{error:#}"), "cannot renew the compose's lease"),
                        }
                    }
                })
                .ok()
        };
        LeaseKeeper { stop, lost, thread }
    }

    fn lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A step that panics still stops the renewals, so the lease runs out and another worker
/// resumes the compose.
impl Drop for LeaseKeeper {
    fn drop(&mut self) {
        self.halt();
    }
}

struct Summary {
    content_type: Option<crate::db::types::ContentType>,
    security: bool,
    updates: String,
}
