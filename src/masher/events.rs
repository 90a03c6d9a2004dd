//! The bus messages a compose causes (spec §6.2–§6.4, spec/messages.md), written to the outbox
//! in the transaction of the step that causes them; the notifications worker delivers them.
//! Each entry's dedup key names the compose (its release, request and creation time, which a
//! resumed compose keeps), so a step run again after a crash never queues a message twice.
//!
//! An outbox message is `{"topic", "schema", "body"}`: the topic without the broker's prefix,
//! the fedora-messaging schema name (the `fedora_messaging_schema` header), and the body.

use std::collections::BTreeMap;

use diesel::QueryResult;
use serde_json::Value;

use crate::config::Settings;
use crate::db::DbConnection;
use crate::json::JsonContext;
use crate::json::graph::UpdateGraph;
use crate::models::now;
use crate::models::update::Update;

use super::work::Work;

/// The agent of the composer's messages (Bodhi sends its OS login, `composer` in Fedora).
pub const AGENT: &str = "composer";

/// Identifies a compose across resumes (its row id may be reused once it is deleted).
pub fn compose_key(work: &Work) -> String {
    format!(
        "{}-{}-{}",
        work.release.name,
        work.compose.request,
        work.compose.date_created.and_utc().timestamp_micros()
    )
}

/// Queues one message; `key` makes it unique within the compose.
pub fn queue(
    conn: &mut DbConnection,
    work: &Work,
    key: &str,
    topic: &str,
    body: Value,
) -> QueryResult<()> {
    crate::services::messages::queue(
        conn,
        &format!("compose:{}:{key}", compose_key(work)),
        topic,
        &format!("{topic}.v1"),
        body,
        now(),
    )
}

/// The repository name Bodhi's messages carry: the requested tag.
pub fn repo(work: &Work) -> String {
    match work.request() {
        crate::db::types::UpdateRequest::Stable => work.release.stable_tag.clone(),
        _ => work.release.testing_tag.clone(),
    }
}

/// Updates as message bodies carry them: Bodhi's full update JSON, without the request's
/// private fields.
pub fn update_bodies(
    conn: &mut DbConnection,
    settings: &Settings,
    updates: Vec<Update>,
) -> QueryResult<BTreeMap<i32, Value>> {
    let graph = UpdateGraph::load(conn, updates.clone())?;
    let ctx = JsonContext {
        settings,
        now: now(),
        with_request: false,
    };
    Ok(updates
        .iter()
        .filter_map(|update| {
            let json = graph.update_json(update, &ctx)?;
            Some((update.id, serde_json::to_value(json).ok()?))
        })
        .collect())
}
