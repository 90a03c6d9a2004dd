//! `/message-schemas/v1/`: the JSON schemas of the bus messages, as Bodhi serves them. The
//! files under `data/message-schemas/v1/` are bodhi-messages 26.4.0's `body_schema`s verbatim
//! (written by `../shared/tools/messages/check_messages.py schemas`). The list gives the
//! messages' topics; `/message-schemas/v1/{name}` answers the schema of entry point
//! `{name}.v1`, as Bodhi looks it up.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};

use crate::error::{AppError, AppResult};
use crate::web::respond;

/// Entry point, its topic, its schema.
const SCHEMAS: &[(&str, &str, &str)] = &[
    (
        "bodhi.buildroot_override.tag.v1",
        "bodhi.buildroot_override.tag",
        include_str!("../../../data/message-schemas/v1/bodhi.buildroot_override.tag.v1.json"),
    ),
    (
        "bodhi.buildroot_override.untag.v1",
        "bodhi.buildroot_override.untag",
        include_str!("../../../data/message-schemas/v1/bodhi.buildroot_override.untag.v1.json"),
    ),
    (
        "bodhi.compose.complete.v1",
        "bodhi.compose.complete",
        include_str!("../../../data/message-schemas/v1/bodhi.compose.complete.v1.json"),
    ),
    (
        "bodhi.compose.composing.v1",
        "bodhi.compose.composing",
        include_str!("../../../data/message-schemas/v1/bodhi.compose.composing.v1.json"),
    ),
    (
        "bodhi.compose.start.v1",
        "bodhi.compose.start",
        include_str!("../../../data/message-schemas/v1/bodhi.compose.start.v1.json"),
    ),
    (
        "bodhi.compose.sync.done.v1",
        "bodhi.compose.sync.done",
        include_str!("../../../data/message-schemas/v1/bodhi.compose.sync.done.v1.json"),
    ),
    (
        "bodhi.compose.sync.wait.v1",
        "bodhi.compose.sync.wait",
        include_str!("../../../data/message-schemas/v1/bodhi.compose.sync.wait.v1.json"),
    ),
    (
        "bodhi.errata.publish.v1",
        "bodhi.errata.publish",
        include_str!("../../../data/message-schemas/v1/bodhi.errata.publish.v1.json"),
    ),
    (
        "bodhi.repo.done.v1",
        "bodhi.repo.done",
        include_str!("../../../data/message-schemas/v1/bodhi.repo.done.v1.json"),
    ),
    (
        "bodhi.update.comment.v1",
        "bodhi.update.comment",
        include_str!("../../../data/message-schemas/v1/bodhi.update.comment.v1.json"),
    ),
    (
        "bodhi.update.complete.stable.v1",
        "bodhi.update.complete.stable",
        include_str!("../../../data/message-schemas/v1/bodhi.update.complete.stable.v1.json"),
    ),
    (
        "bodhi.update.complete.testing.v1",
        "bodhi.update.complete.testing",
        include_str!("../../../data/message-schemas/v1/bodhi.update.complete.testing.v1.json"),
    ),
    (
        "bodhi.update.edit.v1",
        "bodhi.update.edit",
        include_str!("../../../data/message-schemas/v1/bodhi.update.edit.v1.json"),
    ),
    (
        "bodhi.update.edit.v2",
        "bodhi.update.edit",
        include_str!("../../../data/message-schemas/v1/bodhi.update.edit.v2.json"),
    ),
    (
        "bodhi.update.eject.v1",
        "bodhi.update.eject",
        include_str!("../../../data/message-schemas/v1/bodhi.update.eject.v1.json"),
    ),
    (
        "bodhi.update.karma.threshold.v1",
        "bodhi.update.karma.threshold.reach",
        include_str!("../../../data/message-schemas/v1/bodhi.update.karma.threshold.v1.json"),
    ),
    (
        "bodhi.update.request.obsolete.v1",
        "bodhi.update.request.obsolete",
        include_str!("../../../data/message-schemas/v1/bodhi.update.request.obsolete.v1.json"),
    ),
    (
        "bodhi.update.request.revoke.v1",
        "bodhi.update.request.revoke",
        include_str!("../../../data/message-schemas/v1/bodhi.update.request.revoke.v1.json"),
    ),
    (
        "bodhi.update.request.stable.v1",
        "bodhi.update.request.stable",
        include_str!("../../../data/message-schemas/v1/bodhi.update.request.stable.v1.json"),
    ),
    (
        "bodhi.update.request.testing.v1",
        "bodhi.update.request.testing",
        include_str!("../../../data/message-schemas/v1/bodhi.update.request.testing.v1.json"),
    ),
    (
        "bodhi.update.request.unpush.v1",
        "bodhi.update.request.unpush",
        include_str!("../../../data/message-schemas/v1/bodhi.update.request.unpush.v1.json"),
    ),
    (
        "bodhi.update.requirements_met.stable.v1",
        "bodhi.update.requirements_met.stable",
        include_str!(
            "../../../data/message-schemas/v1/bodhi.update.requirements_met.stable.v1.json"
        ),
    ),
    (
        "bodhi.update.status.testing.v1",
        "bodhi.update.status.testing.koji-build-group.build.complete",
        include_str!("../../../data/message-schemas/v1/bodhi.update.status.testing.v1.json"),
    ),
    (
        "bodhi.update.status.testing.v2",
        "bodhi.update.status.testing.koji-build-group.build.complete",
        include_str!("../../../data/message-schemas/v1/bodhi.update.status.testing.v2.json"),
    ),
    (
        "bodhi.update.status.testing.v3",
        "bodhi.update.status.testing.koji-build-group.build.complete",
        include_str!("../../../data/message-schemas/v1/bodhi.update.status.testing.v3.json"),
    ),
];

#[get("/message-schemas/v1/")]
pub async fn list(req: HttpRequest) -> AppResult<HttpResponse> {
    let mut topics: Vec<&str> = SCHEMAS.iter().map(|(_, topic, _)| *topic).collect();
    topics.sort_unstable();
    topics.dedup();
    let body = serde_json::to_string(&topics).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(respond::raw(&req, StatusCode::OK, body))
}

#[get("/message-schemas/v1/{name}")]
pub async fn get(req: HttpRequest, name: web::Path<String>) -> AppResult<HttpResponse> {
    let entry_point = format!("{name}.v1");
    let (_, _, schema) = SCHEMAS
        .iter()
        .find(|(known, _, _)| *known == entry_point)
        .ok_or_else(|| AppError::not_found("url", "topic", "No such message schema"))?;
    Ok(respond::raw(&req, StatusCode::OK, (*schema).to_owned()))
}
