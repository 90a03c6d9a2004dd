//! The jobs of the signing flow: a build system tag event (from the bus) handled durably (a
//! new candidate build of a release with automatic updates becomes an update; a build in a
//! pending-testing tag is signed),
//! `reconcile_signed` reading the pending-testing tags every five minutes so that a lost
//! event never leaves an update stuck, and `local_signer`, which plays the signer for the
//! local build system (builds in a signing-pending tag move to the matching testing-pending
//! tag after `buildsys.local.autosign_delay_secs`).

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::buildsys::{BuildSystem, LocalBuildSystem};
use crate::config::BuildsysKind;
use crate::db::types::ReleaseState;
use crate::db::write_transaction;
use crate::models::job::{Job, NewJob};
use crate::models::now;
use crate::models::release::Release;
use crate::services::updates::{Ctx, automatic, signed, system_user};
use crate::state::AppState;

use super::JobHandler;
use super::periodic::run_jobs;

pub const TAG_EVENT: &str = "buildsys_tag_event";

pub fn handlers() -> Vec<Arc<dyn JobHandler>> {
    vec![
        Arc::new(TagEvent),
        Arc::new(ReconcileSigned),
        Arc::new(LocalSigner),
    ]
}

/// "Build `nvr` was tagged into `tag`", as a message announced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagEventPayload {
    pub tag: String,
    pub nvr: String,
}

/// Stores a tag event as a job; the same `dedup_key` (the message id) is stored once.
pub fn enqueue_tag_event(
    conn: &mut crate::db::DbConnection,
    event: &TagEventPayload,
    dedup_key: &str,
) -> anyhow::Result<i32> {
    let payload = serde_json::to_string(event)?;
    let now = now();
    let (job, _) = Job::enqueue(
        conn,
        &NewJob {
            kind: TAG_EVENT,
            payload: &payload,
            dedup_key: Some(dedup_key),
            run_after: now,
            max_attempts: 10,
            queue_key: None,
        },
        now,
    )?;
    Ok(job.id)
}

/// Runs `build_tagged` for each (tag, NVR), one transaction each, then the tag jobs they made.
fn handle_signed(state: &AppState, events: &[(String, String)]) -> usize {
    let Ok(mut conn) = state.db.conn() else {
        return 0;
    };
    let mut ready = 0;
    for (tag, nvr) in events {
        let mut ctx = Ctx::new(&state.settings, now());
        let result = write_transaction(&mut conn, |conn| {
            let agent = system_user(conn, &state.settings, ctx.now)?.name;
            signed::build_tagged(conn, &mut ctx, tag, nvr, &agent)
        });
        match result {
            Ok(signed::Signed::UpdateReady) => ready += 1,
            Ok(_) => {}
            Err(error) => tracing::warn!(tag, nvr, %error, "a signed build was not recorded"),
        }
        run_jobs(state, ctx.jobs);
    }
    ready
}

pub struct TagEvent;

impl JobHandler for TagEvent {
    fn kind(&self) -> &'static str {
        TAG_EVENT
    }

    fn max_attempts(&self) -> i32 {
        10
    }

    fn run(&self, state: &AppState, job: &Job) -> anyhow::Result<()> {
        let event: TagEventPayload = serde_json::from_str(&job.payload)?;
        create_automatic_update(state, &event)?;
        let mut conn = state.db.conn()?;
        let mut ctx = Ctx::new(&state.settings, now());
        write_transaction(&mut conn, |conn| {
            let agent = system_user(conn, &state.settings, ctx.now)?.name;
            signed::build_tagged(conn, &mut ctx, &event.tag, &event.nvr, &agent)
        })?;
        run_jobs(state, ctx.jobs);
        Ok(())
    }
}

/// A build tagged into the candidate tag of a release with automatic updates becomes an
/// update. The build system is read before the transaction; an error there fails the job,
/// which the worker retries (Bodhi requeues the message).
fn create_automatic_update(state: &AppState, event: &TagEventPayload) -> anyhow::Result<()> {
    let mut conn = state.db.conn()?;
    let Some(release) = automatic::release_for_candidate_tag(&mut conn, &event.tag)? else {
        return Ok(());
    };
    let mut ctx = Ctx::new(&state.settings, now());
    let Some(candidate) = automatic::gather(
        &mut conn,
        &ctx,
        state.buildsys.as_ref(),
        release,
        &event.nvr,
    )?
    else {
        return Ok(());
    };
    let created = write_transaction(&mut conn, |conn| {
        let agent = system_user(conn, &state.settings, ctx.now)?.name;
        automatic::create(conn, &mut ctx, &candidate, &agent)
    })?;
    if let Some(update) = created {
        tracing::info!(alias = %update.alias, nvr = %event.nvr, "created an automatic update");
    }
    run_jobs(state, ctx.jobs);
    Ok(())
}

pub struct ReconcileSigned;

impl JobHandler for ReconcileSigned {
    fn kind(&self) -> &'static str {
        "reconcile_signed"
    }

    fn every(&self) -> Option<Duration> {
        Some(Duration::from_secs(300))
    }

    fn run(&self, state: &AppState, _job: &Job) -> anyhow::Result<()> {
        let waiting = {
            let mut conn = state.db.conn()?;
            signed::waiting_for_signature(&mut conn)?
        };
        let mut reconciled = signed::Reconciled::default();
        let found = signed::missed_signatures(state.buildsys.as_ref(), &waiting, &mut reconciled);
        reconciled.signed = found.len();
        let ready = handle_signed(state, &found);
        if reconciled.signed > 0 {
            tracing::info!(
                ?reconciled,
                updates_ready = ready,
                "reconcile_signed found signed builds"
            );
        }
        Ok(())
    }
}

pub struct LocalSigner;

impl JobHandler for LocalSigner {
    fn kind(&self) -> &'static str {
        "local_signer"
    }

    fn every(&self) -> Option<Duration> {
        Some(Duration::from_secs(5))
    }

    fn run(&self, state: &AppState, _job: &Job) -> anyhow::Result<()> {
        let settings = &state.settings.buildsys;
        if settings.kind != BuildsysKind::Local || !settings.local.autosign {
            return Ok(());
        }
        let local = LocalBuildSystem::new(state.db.clone(), settings.local.root.clone());
        let cutoff = now() - chrono::Duration::seconds(settings.local.autosign_delay_secs as i64);
        let moved = sign_pending(&local, &signing_routes(state, &local)?, cutoff);
        if !moved.is_empty() {
            tracing::info!(builds = moved.len(), "local signer signed builds");
            handle_signed(state, &moved);
        }
        Ok(())
    }
}

/// Where each signing-pending tag's builds go once signed: a release's pending-signing tag
/// to its pending-testing tag, a side tag's `X-signing-pending` to `X-testing-pending`.
fn signing_routes(
    state: &AppState,
    local: &LocalBuildSystem,
) -> anyhow::Result<Vec<(String, String)>> {
    let mut conn = state.db.conn()?;
    let mut routes: Vec<(String, String)> = Release::list(&mut conn)?
        .into_iter()
        .filter(|r| r.state != ReleaseState::Archived)
        .filter(|r| !r.pending_signing_tag.is_empty() && !r.pending_testing_tag.is_empty())
        .map(|r| (r.pending_signing_tag, r.pending_testing_tag))
        .collect();
    for tag in local.all_tags()? {
        if let Some(base) = tag.name.strip_suffix("-signing-pending")
            && !routes.iter().any(|(from, _)| *from == tag.name)
        {
            let to = format!("{base}-testing-pending");
            if local.get_tag(&to)?.is_some() {
                routes.push((tag.name.clone(), to));
            }
        }
    }
    Ok(routes)
}

/// Moves builds that waited long enough; returns (testing-pending tag, NVR) of each.
fn sign_pending(
    local: &LocalBuildSystem,
    routes: &[(String, String)],
    cutoff: chrono::NaiveDateTime,
) -> Vec<(String, String)> {
    let mut moved = Vec::new();
    for (from, to) in routes {
        let nvrs = match local.tagged_before(from, cutoff) {
            Ok(nvrs) => nvrs,
            Err(error) => {
                tracing::warn!(tag = from, %error, "local signer cannot read a signing tag");
                continue;
            }
        };
        for nvr in nvrs {
            match local.move_build(from, to, &nvr, "autosign") {
                Ok(()) | Err(crate::buildsys::BuildsysError::AlreadyTagged { .. }) => {
                    let _ = local.untag_build(from, &nvr, "autosign");
                    moved.push((to.clone(), nvr));
                }
                Err(error) => tracing::warn!(nvr, tag = to, %error, "local signer failed"),
            }
        }
    }
    moved
}
