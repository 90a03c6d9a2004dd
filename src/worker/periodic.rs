//! The periodic jobs of the update workflow (Bodhi's Celery beat): `approve_testing` every
//! three minutes, `expire_overrides` and `check_signed_builds` every hour.

use std::sync::Arc;
use std::time::Duration;

use crate::db::write_transaction;
use crate::models::job::Job;
use crate::models::now;
use crate::services::updates::{Ctx, approve, signing, system_user};
use crate::state::AppState;

use super::JobHandler;

pub fn handlers() -> Vec<Arc<dyn JobHandler>> {
    vec![
        Arc::new(ApproveTesting),
        Arc::new(ExpireOverrides),
        Arc::new(CheckSignedBuilds),
    ]
}

/// Runs the build system jobs a change enqueued, now that it is committed.
pub(crate) fn run_jobs(state: &AppState, jobs: Vec<i32>) {
    if jobs.is_empty() {
        return;
    }
    if let Err(error) = super::Worker::with_all_handlers(state.clone()).run_now(&jobs) {
        tracing::warn!(error = %format!("{error:#}"), "build system jobs will be retried");
    }
}

pub struct ApproveTesting;

impl JobHandler for ApproveTesting {
    fn kind(&self) -> &'static str {
        "approve_testing"
    }

    fn every(&self) -> Option<Duration> {
        Some(Duration::from_secs(180))
    }

    fn run(&self, state: &AppState, _job: &Job) -> anyhow::Result<()> {
        let mut conn = state.db.conn()?;
        let ids = approve::candidates(&mut conn)?;
        let mut changed = 0;
        for id in ids {
            // One transaction per update: one bad update does not hold back the others.
            let mut ctx = Ctx::new(&state.settings, now());
            let result = write_transaction(&mut conn, |conn| {
                approve::process_update(conn, &mut ctx, state.buildsys.as_ref(), id)
            });
            match result {
                Ok(true) => changed += 1,
                Ok(false) => {}
                Err(error) => {
                    tracing::warn!(update = id, %error, "approve_testing skipped an update")
                }
            }
            run_jobs(state, ctx.jobs);
        }
        tracing::info!(changed, "approve_testing done");
        Ok(())
    }
}

pub struct ExpireOverrides;

impl JobHandler for ExpireOverrides {
    fn kind(&self) -> &'static str {
        "expire_overrides"
    }

    fn every(&self) -> Option<Duration> {
        Some(Duration::from_secs(3600))
    }

    fn run(&self, state: &AppState, _job: &Job) -> anyhow::Result<()> {
        let mut conn = state.db.conn()?;
        let mut ctx = Ctx::new(&state.settings, now());
        let expired = write_transaction(&mut conn, |conn| {
            let agent = system_user(conn, &state.settings, ctx.now)?.name;
            crate::services::overrides::expire_due(conn, &mut ctx, &agent)
        })?;
        run_jobs(state, ctx.jobs);
        tracing::info!(expired, "expire_overrides done");
        Ok(())
    }
}

/// Bodhi runs it daily; hourly costs little (only old pending updates are read) and unsticks
/// updates sooner.
pub struct CheckSignedBuilds;

impl JobHandler for CheckSignedBuilds {
    fn kind(&self) -> &'static str {
        "check_signed_builds"
    }

    fn every(&self) -> Option<Duration> {
        Some(Duration::from_secs(3600))
    }

    fn run(&self, state: &AppState, _job: &Job) -> anyhow::Result<()> {
        let mut conn = state.db.conn()?;
        let ids = signing::candidates(&mut conn, &Ctx::new(&state.settings, now()))?;
        let mut repairs = signing::Repairs::default();
        for id in ids {
            let mut ctx = Ctx::new(&state.settings, now());
            let result = write_transaction(&mut conn, |conn| {
                let agent = system_user(conn, &state.settings, ctx.now)?.name;
                signing::check_update(
                    conn,
                    &mut ctx,
                    state.buildsys.as_ref(),
                    id,
                    &agent,
                    &mut repairs,
                )
            });
            if let Err(error) = result {
                tracing::warn!(update = id, %error, "check_signed_builds skipped an update");
            }
            run_jobs(state, ctx.jobs);
        }
        tracing::info!(?repairs, "check_signed_builds done");
        Ok(())
    }
}
