//! The life of an on-demand compose: creating it, its state transitions (each committed with
//! its `odcs.compose.state-changed` message), renewing, cancelling and expiring it. Callers
//! run these inside one write transaction.

use chrono::{Duration, NaiveDateTime};
use serde_json::json;

use super::error::{OdcsError, OdcsResult};
use super::json::compose_json;
use super::request::{ComposeRequest, RenewRequest, mask};
use super::{FLAGS, RESULTS, state_name};
use crate::config::Settings;
use crate::db::DbConnection;
use crate::models::job::{Job, NewJob};
use crate::models::odcs::{DONE, FAILED, GENERATING, NewOdcsCompose, OdcsCompose, REMOVED, WAIT};

/// The job that generates a compose.
pub const GENERATE_JOB: &str = "odcs_generate";

/// The topic of every state change (Fedora's routing key adds the `org.fedoraproject.prod`
/// prefix).
pub const TOPIC: &str = "odcs.compose.state-changed";

fn joined(words: &[String]) -> String {
    words.join(" ")
}

/// Creates a compose in state wait and queues its generation.
pub fn create(
    conn: &mut DbConnection,
    settings: &Settings,
    request: &ComposeRequest,
    owner: &str,
    now: NaiveDateTime,
) -> OdcsResult<OdcsCompose> {
    let new = NewOdcsCompose {
        owner: owner.to_owned(),
        source_type: request.source_type.number(),
        source: joined(&request.source),
        state: WAIT,
        state_reason: None,
        packages: request.packages.as_deref().map(joined),
        builds: request.builds.as_deref().map(joined),
        sigkeys: joined(&request.sigkeys),
        arches: joined(&request.arches),
        flags: mask(&request.flags, FLAGS),
        results: mask(&request.results, RESULTS),
        label: request.label.clone(),
        compose_type: request.compose_type.clone(),
        respin_of: request.respin_of.clone(),
        time_to_expire: now + Duration::seconds(request.seconds_to_live),
        time_submitted: now,
    };
    let compose = OdcsCompose::insert(conn, &new)?;
    announce(conn, settings, &compose, now)?;
    schedule(conn, &compose, now)?;
    Ok(compose)
}

/// The deduplication key of compose `id`'s generation job.
pub fn generate_job_key(id: i32) -> String {
    format!("odcs-{id}")
}

fn schedule(conn: &mut DbConnection, compose: &OdcsCompose, now: NaiveDateTime) -> OdcsResult<()> {
    let payload = json!({"id": compose.id}).to_string();
    let key = generate_job_key(compose.id);
    Job::enqueue(
        conn,
        &NewJob {
            kind: GENERATE_JOB,
            payload: &payload,
            dedup_key: Some(&key),
            run_after: now,
            max_attempts: 5,
            queue_key: None,
        },
        now,
    )?;
    Ok(())
}

/// Queues the message of the compose's current state.
fn announce(
    conn: &mut DbConnection,
    settings: &Settings,
    compose: &OdcsCompose,
    now: NaiveDateTime,
) -> OdcsResult<()> {
    crate::services::messages::queue(
        conn,
        &format!("odcs:{}:{}", compose.id, state_name(compose.state)),
        TOPIC,
        TOPIC,
        json!({"event": "state-changed", "compose": compose_json(settings, compose)}),
        now,
    )?;
    Ok(())
}

/// ODCS's `Compose.transition`: the new state and reason, the time of the state, expiry
/// re-based on the end of the generation, the message, and the same change for composes
/// waiting on this one's repository.
pub fn transition(
    conn: &mut DbConnection,
    settings: &Settings,
    compose: &mut OdcsCompose,
    state: i32,
    reason: &str,
    now: NaiveDateTime,
) -> OdcsResult<()> {
    compose.state = state;
    compose.state_reason = Some(reason.to_owned());
    match state {
        GENERATING => compose.time_started = Some(now),
        DONE => compose.time_done = Some(now),
        REMOVED => compose.time_removed = Some(now),
        _ => {}
    }
    if matches!(state, DONE | FAILED) {
        let lifetime = compose.time_to_expire - compose.time_submitted;
        compose.time_to_expire = now + lifetime;
    }
    compose.save(conn)?;
    announce(conn, settings, compose, now)?;
    if matches!(state, DONE | FAILED) {
        for mut follower in OdcsCompose::reusing(conn, compose.id)? {
            if follower.state == GENERATING {
                transition(conn, settings, &mut follower, state, reason, now)?;
            }
        }
    }
    Ok(())
}

/// Makes `compose` share the repository of `reused`: the later expiry for both, and done at
/// once when `reused` is (else it follows `reused` when that one ends).
pub fn reuse(
    conn: &mut DbConnection,
    settings: &Settings,
    compose: &mut OdcsCompose,
    reused: &mut OdcsCompose,
    now: NaiveDateTime,
) -> OdcsResult<()> {
    compose.reused_id = Some(reused.id);
    compose.koji_event = reused.koji_event;
    if compose.builds.is_none() {
        compose.builds = reused.builds.clone();
    }
    let expiry = compose.time_to_expire.max(reused.time_to_expire);
    compose.time_to_expire = expiry;
    reused.time_to_expire = expiry;
    reused.save(conn)?;
    if reused.state == DONE {
        let reason = format!("Compose reused from compose {}.", reused.id);
        transition(conn, settings, compose, DONE, &reason, now)
    } else {
        compose.save(conn)?;
        Ok(())
    }
}

/// The result of a `PATCH`: the compose renewed in place, or a new compose that regenerates it.
pub enum Renewed {
    Extended(OdcsCompose),
    Regenerated(OdcsCompose),
}

/// ODCS's `PATCH`: a removed or failed compose, or one asked with other label, sigkeys or
/// builds, is copied into a new compose (`respin_of` the old one) and generated again;
/// otherwise the expiry of the compose, of the one it reuses and of those reusing it moves to
/// `now + seconds_to_live` when that is later.
pub fn renew(
    conn: &mut DbConnection,
    settings: &Settings,
    mut compose: OdcsCompose,
    request: &RenewRequest,
    owner: &str,
    now: NaiveDateTime,
) -> OdcsResult<Renewed> {
    if !matches!(compose.state, DONE | FAILED | REMOVED) {
        return Err(OdcsError::NotFound(format!(
            "No compose with id {} found in state done, failed or removed.",
            compose.id
        )));
    }
    let seconds = request
        .seconds_to_live
        .unwrap_or(settings.odcs.seconds_to_live)
        .min(settings.odcs.max_seconds_to_live);
    let differs = |asked: &Option<String>, has: &Option<String>| {
        asked.is_some() && asked.as_deref() != has.as_deref()
    };
    let sigkeys = request.sigkeys.as_deref().map(joined);
    let builds = request.builds.as_deref().map(joined);
    let regenerate = matches!(compose.state, FAILED | REMOVED)
        || differs(&request.label, &compose.label)
        || differs(&sigkeys, &Some(compose.sigkeys.clone()))
        || differs(&builds, &compose.builds);
    if regenerate {
        let new = NewOdcsCompose {
            owner: owner.to_owned(),
            source_type: compose.source_type,
            source: compose.source.clone(),
            state: WAIT,
            state_reason: None,
            packages: compose.packages.clone(),
            builds: builds.or_else(|| compose.builds.clone()),
            sigkeys: sigkeys.unwrap_or_else(|| compose.sigkeys.clone()),
            arches: compose.arches.clone(),
            flags: compose.flags,
            results: compose.results,
            label: request.label.clone().or_else(|| compose.label.clone()),
            compose_type: compose.compose_type.clone(),
            respin_of: Some(format!("odcs-{}", compose.id)),
            time_to_expire: now + Duration::seconds(seconds),
            time_submitted: now,
        };
        let copy = OdcsCompose::insert(conn, &new)?;
        announce(conn, settings, &copy, now)?;
        schedule(conn, &copy, now)?;
        return Ok(Renewed::Regenerated(copy));
    }
    let expiry = now + Duration::seconds(seconds);
    let mut related = OdcsCompose::reusing(conn, compose.id)?;
    if let Some(reused_id) = compose.reused_id
        && let Some(reused) = OdcsCompose::by_id(conn, reused_id)?
    {
        related.push(reused);
    }
    for mut other in related {
        if other.time_to_expire < expiry {
            other.time_to_expire = expiry;
            other.save(conn)?;
        }
    }
    compose.time_to_expire = compose.time_to_expire.max(expiry);
    compose.save(conn)?;
    Ok(Renewed::Extended(compose))
}

/// ODCS's `DELETE`: a waiting compose is cancelled by its owner or an admin (failed, "Canceled
/// by <user>"); a done or failed one is expired now by an admin, and the cleanup job removes
/// it. Returns the message of the 202 answer.
pub fn delete(
    conn: &mut DbConnection,
    settings: &Settings,
    mut compose: OdcsCompose,
    user: &str,
    admin: bool,
    now: NaiveDateTime,
) -> OdcsResult<String> {
    let id = compose.id;
    if compose.state == WAIT {
        if !(admin || compose.owner == user) {
            return Err(OdcsError::forbidden(format!(
                "Compose (id={id}) can not be canceled, it's owned by someone else."
            )));
        }
        transition(
            conn,
            settings,
            &mut compose,
            FAILED,
            &format!("Canceled by {user}"),
            now,
        )?;
        return Ok(format!("Compose (id={id}) has been canceled"));
    }
    if !admin {
        return Err(OdcsError::forbidden(format!(
            "User {user} is not in role admins."
        )));
    }
    if !matches!(compose.state, DONE | FAILED) {
        return Err(OdcsError::bad(format!(
            "Compose (id={id}) can not be removed, its state need to be in done or failed."
        )));
    }
    compose.time_to_expire = now;
    compose.removed_by = Some(user.to_owned());
    compose.save(conn)?;
    Ok(format!(
        "The delete request for compose (id={id}) has been accepted and will be processed by \
         backend later."
    ))
}

/// Marks an expired compose removed, appending why to its reason; true when the directory
/// it used is now used by no compose (the caller removes it after the commit).
pub fn expire(
    conn: &mut DbConnection,
    settings: &Settings,
    compose: &mut OdcsCompose,
    now: NaiveDateTime,
) -> OdcsResult<bool> {
    let why = match &compose.removed_by {
        Some(user) => format!("Removed by {user}."),
        None => "Compose is expired.".to_owned(),
    };
    let reason = match compose.state_reason.as_deref() {
        Some(reason) if !reason.is_empty() => format!("{reason} {why}"),
        _ => why,
    };
    transition(conn, settings, compose, REMOVED, &reason, now)?;
    let directory = super::json::directory_id(compose);
    Ok(!OdcsCompose::directory_in_use(conn, directory)?)
}
