//! Housekeeping: finished jobs and delivered outbox entries are kept for a week for
//! inspection, then removed so that the tables stay small.

use std::sync::Arc;
use std::time::Duration;

use crate::models::job::{self, Job};
use crate::models::{now, outbox};
use crate::state::AppState;

use super::JobHandler;

/// How long finished jobs and delivered outbox entries are kept.
pub const RETENTION_DAYS: i64 = 7;

pub fn handlers() -> Vec<Arc<dyn JobHandler>> {
    vec![Arc::new(PruneFinished)]
}

pub struct PruneFinished;

impl JobHandler for PruneFinished {
    fn kind(&self) -> &'static str {
        "prune_finished"
    }

    fn every(&self) -> Option<Duration> {
        Some(Duration::from_secs(3600))
    }

    fn run(&self, state: &AppState, _job: &Job) -> anyhow::Result<()> {
        let cutoff = now() - chrono::Duration::days(RETENTION_DAYS);
        let mut conn = state.db.conn()?;
        let jobs = job::delete_finished_before(&mut conn, cutoff)?;
        let entries = outbox::delete_delivered_before(&mut conn, cutoff)?;
        tracing::info!(jobs, outbox_entries = entries, "pruned finished work");
        Ok(())
    }
}
