//! The bus messages of the update workflow (spec §7, spec/messages.md), queued in the outbox in
//! the transaction of the change that causes them; the worker delivers them (`crate::notify`).
//!
//! An outbox message is `{"topic", "schema", "body"}`: the topic without the broker's prefix,
//! the bodhi-messages class (`fedora_messaging_schema`) and the body. Each is queued under a
//! dedup key naming its event, so queuing one twice is a no-op.

use diesel::QueryResult;
use serde_json::{Value, json};

use crate::config::Settings;
use crate::db::DbConnection;
use crate::db::types::{OutboxKind, UpdateRequest};
use crate::json::JsonContext;
use crate::json::graph::UpdateGraph;
use crate::json::overrides::OverrideGraph;
use crate::models::comment::Comment;
use crate::models::outbox::OutboxEntry;
use crate::models::overrides::BuildrootOverride;
use crate::models::update::Update;

use super::updates::Ctx;

/// Queues one message.
pub fn queue(
    conn: &mut DbConnection,
    dedup_key: &str,
    topic: &str,
    schema: &str,
    body: Value,
    now: chrono::NaiveDateTime,
) -> QueryResult<()> {
    let payload = json!({"topic": topic, "schema": schema, "body": body});
    OutboxEntry::enqueue(
        conn,
        OutboxKind::Message,
        dedup_key,
        &payload.to_string(),
        now,
    )
    .map(drop)
}

/// Queues a message whose schema is the topic's first version.
fn queue_v1(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    key: &str,
    topic: &str,
    body: Value,
) -> QueryResult<()> {
    queue(conn, key, topic, &format!("{topic}.v1"), body, ctx.now)
}

fn json_context<'a>(settings: &'a Settings, now: chrono::NaiveDateTime) -> JsonContext<'a> {
    JsonContext {
        settings,
        now,
        with_request: false,
    }
}

/// Bodhi's full update JSON as messages carry it (no request-private fields), as the update
/// is in the database now.
pub fn update_json(
    conn: &mut DbConnection,
    settings: &Settings,
    update: &Update,
    now: chrono::NaiveDateTime,
) -> QueryResult<Value> {
    let fresh = Update::by_id(conn, update.id)?;
    let graph = UpdateGraph::load(conn, vec![fresh])?;
    let ctx = json_context(settings, now);
    Ok(graph
        .updates
        .first()
        .and_then(|u| graph.update_json(u, &ctx))
        .and_then(|json| serde_json::to_value(json).ok())
        .unwrap_or(Value::Null))
}

/// An event of an update, unique per update, event and time.
fn update_key(update: &Update, event: &str, ctx: &Ctx<'_>) -> String {
    format!(
        "update:{}:{event}:{}",
        update.alias,
        ctx.now.and_utc().timestamp_micros()
    )
}

/// `bodhi.update.request.<request>` `{update, agent}`: a request was set (or revoked).
pub fn request(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    update: &Update,
    request: UpdateRequest,
    agent: &str,
) -> QueryResult<()> {
    let topic = format!("bodhi.update.request.{}", request.as_str());
    let body = json!({"update": update_json(conn, ctx.settings, update, ctx.now)?, "agent": agent});
    let key = update_key(update, &format!("request.{}", request.as_str()), ctx);
    queue_v1(conn, ctx, &key, &topic, body)
}

/// `bodhi.update.comment` `{comment, agent}`: a comment by someone other than the system user.
pub fn comment(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    graph: &UpdateGraph,
    comment: &Comment,
    agent: &str,
) -> QueryResult<()> {
    let json_ctx = json_context(ctx.settings, ctx.now);
    let comment_json = graph
        .comment_json(comment, &json_ctx)
        .and_then(|json| serde_json::to_value(json).ok())
        .unwrap_or(Value::Null);
    queue_v1(
        conn,
        ctx,
        &format!("comment:{}", comment.id),
        "bodhi.update.comment",
        json!({"comment": comment_json, "agent": agent}),
    )
}

/// `bodhi.update.karma.threshold.reach` `{update, status}` (`stable` or `unstable`).
pub fn karma_threshold(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    update: &Update,
    status: &str,
) -> QueryResult<()> {
    let body =
        json!({"update": update_json(conn, ctx.settings, update, ctx.now)?, "status": status});
    queue(
        conn,
        &update_key(update, &format!("karma.threshold.{status}"), ctx),
        "bodhi.update.karma.threshold.reach",
        "bodhi.update.karma.threshold.v1",
        body,
        ctx.now,
    )
}

/// `bodhi.update.requirements_met.stable` `{update}`: `approve_testing` found it ready.
pub fn requirements_met(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    update: &Update,
) -> QueryResult<()> {
    let body = json!({"update": update_json(conn, ctx.settings, update, ctx.now)?});
    queue_v1(
        conn,
        ctx,
        &update_key(update, "requirements_met.stable", ctx),
        "bodhi.update.requirements_met.stable",
        body,
    )
}

/// What an edit changed, for `bodhi.update.edit`.
pub struct Edit<'a> {
    pub agent: &'a str,
    pub new_bugs: &'a [i32],
    pub new_builds: &'a [String],
    pub removed_builds: &'a [String],
}

/// `bodhi.update.edit` (v2) `{update, agent, new_bugs, new_builds, removed_builds}`.
pub fn edit(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    update: &Update,
    edit: &Edit<'_>,
) -> QueryResult<()> {
    let body = json!({
        "update": update_json(conn, ctx.settings, update, ctx.now)?,
        "agent": edit.agent,
        "new_bugs": edit.new_bugs,
        "new_builds": edit.new_builds,
        "removed_builds": edit.removed_builds,
    });
    queue(
        conn,
        &update_key(update, "edit", ctx),
        "bodhi.update.edit",
        "bodhi.update.edit.v2",
        body,
        ctx.now,
    )
}

/// A build as the ready-for-testing message names it: Koji's build and task ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KojiBuildRef {
    pub nvr: String,
    pub id: i32,
    pub task_id: Option<i32>,
}

/// `bodhi.update.status.testing.koji-build-group.build.complete` (v3): the update's builds are
/// ready for CI (created, builds changed, or tests re-triggered by `agent`).
pub fn ready_for_testing(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    update: &Update,
    agent: &str,
    builds: &[KojiBuildRef],
    retrigger: bool,
) -> QueryResult<()> {
    let artifact_builds: Vec<Value> = builds
        .iter()
        .map(|b| json!({"type": "koji-build", "id": b.id, "task_id": b.task_id, "nvr": b.nvr}))
        .collect();
    let mut body = json!({
        "agent": agent,
        "artifact": {"type": "koji-build-group", "builds": artifact_builds},
        "update": update_json(conn, ctx.settings, update, ctx.now)?,
    });
    if retrigger {
        body["re-trigger"] = json!(true);
    }
    queue(
        conn,
        &update_key(update, "ready_for_testing", ctx),
        "bodhi.update.status.testing.koji-build-group.build.complete",
        "bodhi.update.status.testing.v3",
        body,
        ctx.now,
    )
}

/// `bodhi.buildroot_override.tag` or `.untag` `{override}`.
pub fn override_changed(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    buildroot_override: &BuildrootOverride,
    tagged: bool,
) -> QueryResult<()> {
    let event = if tagged { "tag" } else { "untag" };
    let fresh = BuildrootOverride::by_id(conn, buildroot_override.id)?;
    let graph = OverrideGraph::load(conn, vec![fresh])?;
    let json_ctx = json_context(ctx.settings, ctx.now);
    let override_json = graph
        .overrides
        .first()
        .and_then(|o| graph.json(o, &json_ctx))
        .and_then(|json| serde_json::to_value(json).ok())
        .unwrap_or(Value::Null);
    queue_v1(
        conn,
        ctx,
        &format!(
            "override:{}:{event}:{}",
            buildroot_override.id,
            ctx.now.and_utc().timestamp_micros()
        ),
        &format!("bodhi.buildroot_override.{event}"),
        json!({"override": override_json}),
    )
}
