//! A bus message as fedora-messaging 3.9.1 puts it on the wire (spec/messages.md): the routing
//! key `<prefix>.<topic>`, the headers `Message._build_properties` sends (schema, package,
//! `sent-at`, severity, priority and the filter headers bodhi-messages derives from the body),
//! and a message id. The id is a UUID derived from the outbox entry's dedup key, so a message
//! redelivered after a crash carries the id it had, and consumers can drop the copy.

use std::collections::BTreeSet;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha1::{Digest, Sha1};

/// What the outbox holds for a message: the topic without the prefix, the schema name (the
/// `fedora_messaging_schema` header) and the body.
#[derive(Debug, Clone, Deserialize)]
pub struct Payload {
    pub topic: String,
    pub schema: String,
    pub body: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    pub routing_key: String,
    pub schema: String,
    /// Header name to value, in the order fedora-messaging sends them.
    pub headers: Map<String, Value>,
    pub message_id: String,
    pub body: Value,
}

impl Envelope {
    /// The envelope of an outbox payload, sent at `sent_at`.
    pub fn new(
        payload: &str,
        dedup_key: &str,
        topic_prefix: &str,
        sent_at: DateTime<Utc>,
    ) -> anyhow::Result<Envelope> {
        let payload: Payload =
            serde_json::from_str(payload).context("the outbox entry is not a bus message")?;
        if !payload.body.is_object() {
            bail!("the body of {} is not a JSON object", payload.schema);
        }
        let mut headers = Map::new();
        headers.insert("fedora_messaging_schema".into(), json!(payload.schema));
        headers.insert(
            "fedora_messaging_schema_package".into(),
            json!("bodhi_messages"),
        );
        for user in usernames(&payload.schema, &payload.body) {
            headers.insert(format!("fedora_messaging_user_{user}"), json!(true));
        }
        for package in packages(&payload.schema, &payload.body) {
            headers.insert(format!("fedora_messaging_rpm_{package}"), json!(true));
        }
        headers.insert(
            "sent-at".into(),
            json!(sent_at.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()),
        );
        headers.insert(
            "fedora_messaging_severity".into(),
            json!(severity(&payload.schema)),
        );
        headers.insert("priority".into(), json!(0));
        let routing_key = if topic_prefix.is_empty() {
            payload.topic.clone()
        } else {
            format!("{topic_prefix}.{}", payload.topic)
        };
        Ok(Envelope {
            routing_key,
            schema: payload.schema,
            headers,
            message_id: message_id(dedup_key),
            body: payload.body,
        })
    }
}

/// bodhi-messages' severities: DEBUG for the "ready for testing" classes, INFO otherwise.
fn severity(schema: &str) -> i64 {
    if schema.starts_with("bodhi.update.status.testing.") {
        10
    } else {
        20
    }
}

fn text<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(value, |value, key| value.get(key))
        .and_then(Value::as_str)
}

/// The update a message is about: under `comment` for comments, at the top otherwise.
fn update_of<'a>(schema: &str, body: &'a Value) -> Option<&'a Value> {
    if schema.starts_with("bodhi.update.comment.") {
        body.get("comment")?.get("update")
    } else {
        body.get("update")
    }
}

/// bodhi-messages' `usernames`: the agent, the users @mentioned in a comment, and for
/// update messages the update's submitter; an override's submitter; the artifact's issuers
/// for the old "ready for testing" classes.
fn usernames(schema: &str, body: &Value) -> BTreeSet<String> {
    let mut users = BTreeSet::new();
    if schema.starts_with("bodhi.buildroot_override.") {
        users.extend(text(body, &["override", "submitter", "name"]).map(str::to_owned));
        return users;
    }
    let legacy_ready = matches!(
        schema,
        "bodhi.update.status.testing.v1" | "bodhi.update.status.testing.v2"
    );
    if legacy_ready {
        let builds = body["artifact"]["builds"].as_array();
        users.extend(
            builds
                .into_iter()
                .flatten()
                .filter_map(|b| b["issuer"].as_str().map(str::to_owned)),
        );
        users.extend(text(body, &["agent"]).map(str::to_owned));
        return users;
    }
    let agent = if schema.starts_with("bodhi.update.comment.") {
        text(body, &["comment", "user", "name"])
    } else if schema.starts_with("bodhi.errata.publish.") {
        text(body, &["update", "user", "name"])
    } else {
        text(body, &["agent"])
    };
    users.extend(agent.map(str::to_owned));
    if let Some(comment) = text(body, &["comment", "text"]) {
        users.extend(mentions(comment));
    }
    let is_update_message = schema.starts_with("bodhi.update.");
    if is_update_message {
        users.extend(
            update_of(schema, body)
                .and_then(|u| text(u, &["user", "name"]))
                .map(str::to_owned),
        );
    }
    users
}

/// `@name` where the `@` starts the text or follows whitespace (bodhi's
/// `(?<!\S)(@\w+)`).
fn mentions(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut previous: Option<char> = None;
    for (at, c) in text.char_indices() {
        if c == '@' && previous.is_none_or(char::is_whitespace) {
            let rest = &text[at + 1..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.push(name);
            }
        }
        previous = Some(c);
    }
    found
}

/// bodhi-messages' `packages`: each update build's name (the NVR less its last two parts);
/// an override's package; the artifact's components for the old "ready for testing" classes.
fn packages(schema: &str, body: &Value) -> BTreeSet<String> {
    let package = |nvr: &str| nvr.rsplitn(3, '-').last().unwrap_or(nvr).to_owned();
    if schema.starts_with("bodhi.buildroot_override.") {
        return text(body, &["override", "nvr"])
            .map(package)
            .into_iter()
            .collect();
    }
    if matches!(
        schema,
        "bodhi.update.status.testing.v1" | "bodhi.update.status.testing.v2"
    ) {
        let builds = body["artifact"]["builds"].as_array();
        return builds
            .into_iter()
            .flatten()
            .filter_map(|b| b["component"].as_str().map(str::to_owned))
            .collect();
    }
    if !(schema.starts_with("bodhi.update.") || schema.starts_with("bodhi.errata.")) {
        return BTreeSet::new();
    }
    update_of(schema, body)
        .and_then(|u| u["builds"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|b| b["nvr"].as_str().map(package))
        .collect()
}

/// A name-based (version 5) UUID of the dedup key.
fn message_id(dedup_key: &str) -> String {
    /// A namespace of Pipal's own (a random v4 UUID, fixed).
    const NAMESPACE: [u8; 16] = [
        0x5d, 0x0c, 0x8e, 0x2a, 0x91, 0x4b, 0x4f, 0x6e, 0xa3, 0x27, 0x1b, 0x58, 0xc4, 0x90, 0x7e,
        0x13,
    ];
    let digest = Sha1::new()
        .chain_update(NAMESPACE)
        .chain_update(dedup_key.as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(payload: Value) -> Envelope {
        let sent = DateTime::parse_from_rfc3339("2026-11-22T00:24:15.123Z")
            .unwrap()
            .with_timezone(&Utc);
        Envelope::new(&payload.to_string(), "key", "org.fedoraproject.prod", sent).unwrap()
    }

    #[test]
    fn a_comment_names_its_author_the_mentioned_and_the_submitter() {
        let message = envelope(json!({
            "topic": "bodhi.update.comment", "schema": "bodhi.update.comment.v1",
            "body": {"comment": {"karma": 1, "text": "Works, thanks @bob! mail@host @carol_2",
                "timestamp": "2026-11-22 00:24:14", "user": {"name": "alice"},
                "update": {"alias": "FEDORA-2026-1a2b3c4d5e", "user": {"name": "dave"},
                    "builds": [{"nvr": "python-foo-1.2.3-1.fc41"}]}}}
        }));
        assert_eq!(
            message.routing_key,
            "org.fedoraproject.prod.bodhi.update.comment"
        );
        let names: Vec<&str> = message.headers.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "fedora_messaging_schema",
                "fedora_messaging_schema_package",
                "fedora_messaging_user_alice",
                "fedora_messaging_user_bob",
                "fedora_messaging_user_carol_2",
                "fedora_messaging_user_dave",
                "fedora_messaging_rpm_python-foo",
                "sent-at",
                "fedora_messaging_severity",
                "priority",
            ]
        );
        assert_eq!(message.headers["sent-at"], "2026-11-22T00:24:15+00:00");
        assert_eq!(message.headers["fedora_messaging_severity"], 20);
    }

    #[test]
    fn overrides_name_their_submitter_and_package_and_composes_their_agent() {
        let tag = envelope(json!({
            "topic": "bodhi.buildroot_override.tag", "schema": "bodhi.buildroot_override.tag.v1",
            "body": {"override": {"nvr": "nano-8.3-1.fc44", "submitter": {"name": "alice"}}}
        }));
        assert!(tag.headers.contains_key("fedora_messaging_user_alice"));
        assert!(tag.headers.contains_key("fedora_messaging_rpm_nano"));
        let compose = envelope(json!({
            "topic": "bodhi.compose.complete", "schema": "bodhi.compose.complete.v1",
            "body": {"agent": "composer", "repo": "f44-updates", "success": true}
        }));
        let filters: Vec<&String> = compose
            .headers
            .keys()
            .filter(|k| k.starts_with("fedora_messaging_user_") || k.contains("_rpm_"))
            .collect();
        assert_eq!(filters, ["fedora_messaging_user_composer"]);
    }

    #[test]
    fn ready_for_testing_is_a_debug_message() {
        let ready = envelope(json!({
            "topic": "bodhi.update.status.testing.koji-build-group.build.complete",
            "schema": "bodhi.update.status.testing.v3",
            "body": {"agent": "bodhi", "artifact": {"type": "koji-build-group", "builds": []},
                     "update": {"user": {"name": "alice"}, "builds": [{"nvr": "a-1-1"}]}}
        }));
        assert_eq!(ready.headers["fedora_messaging_severity"], 10);
        assert!(ready.headers.contains_key("fedora_messaging_rpm_a"));
    }

    #[test]
    fn the_message_id_is_a_uuid_fixed_by_the_dedup_key() {
        let id = message_id("compose:F43-testing-1:start");
        assert_eq!(id, message_id("compose:F43-testing-1:start"));
        assert_ne!(id, message_id("compose:F43-testing-1:complete"));
        let parts: Vec<usize> = id.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12]);
        assert_eq!(&id[14..15], "5", "version 5");
    }

    #[test]
    fn a_payload_that_is_not_a_message_is_an_error() {
        let sent = Utc::now();
        assert!(Envelope::new("{}", "k", "", sent).is_err());
        let bare = json!({"topic": "bodhi.compose.start", "schema": "bodhi.compose.start.v1",
                          "body": {"agent": "composer"}});
        let unprefixed = Envelope::new(&bare.to_string(), "k", "", sent).unwrap();
        assert_eq!(unprefixed.routing_key, "bodhi.compose.start");
    }
}
