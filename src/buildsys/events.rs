//! Koji's `buildsys.tag` bus messages, consumed from AMQP (RabbitMQ, fedora-messaging's
//! `amq.topic` exchange). Each message is stored as a `buildsys_tag_event` job keyed by its
//! message id before it is acknowledged, so a message is never lost once RabbitMQ handed it
//! over, and a redelivered one is handled once. The worker then runs the jobs.

use std::time::Duration;

use futures_util::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use crate::config::TagEventSettings;
use crate::db::Db;
use crate::worker::signing::{TagEventPayload, enqueue_tag_event};

/// Reads the tag and the NVR of a `buildsys.tag` message body (Koji's message plugin sends
/// `tag`, `name`, `version`, `release`, plus ids and users).
pub fn parse_tag_message(body: &[u8]) -> Option<TagEventPayload> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let field = |key: &str| value.get(key)?.as_str().filter(|s| !s.is_empty());
    Some(TagEventPayload {
        tag: field("tag")?.to_owned(),
        nvr: format!(
            "{}-{}-{}",
            field("name")?,
            field("version")?,
            field("release")?
        ),
    })
}

/// Consumes until `stop` turns true, reconnecting with backoff when the broker goes away.
pub async fn consume_tag_events(
    db: Db,
    settings: TagEventSettings,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = Duration::from_secs(1);
    loop {
        let outcome = tokio::select! {
            outcome = consume(&db, &settings) => outcome,
            _ = stop.changed() => return,
        };
        match outcome {
            Ok(()) => tracing::warn!("the broker closed the buildsys.tag consumer"),
            Err(error) => {
                tracing::warn!(error = %format!("{error:#}"), retry_in_secs = backoff.as_secs(), "buildsys.tag consumer is down")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = stop.changed() => return,
        }
        backoff = (backoff * 2).min(Duration::from_secs(60));
    }
}

async fn consume(db: &Db, settings: &TagEventSettings) -> anyhow::Result<()> {
    let connection = Connection::connect(
        &settings.amqp_url,
        ConnectionProperties::default().with_connection_name("pipal-buildsys-tag".into()),
    )
    .await?;
    let channel = connection.create_channel().await?;
    channel.basic_qos(64, BasicQosOptions::default()).await?;
    channel
        .queue_declare(
            settings.queue.as_str().into(),
            QueueDeclareOptions::durable(),
            FieldTable::default(),
        )
        .await?;
    channel
        .queue_bind(
            settings.queue.as_str().into(),
            settings.exchange.as_str().into(),
            settings.routing_key.as_str().into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
    let mut consumer = channel
        .basic_consume(
            settings.queue.as_str().into(),
            "pipal".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    tracing::info!(queue = %settings.queue, routing_key = %settings.routing_key, "consuming buildsys.tag messages");
    while let Some(delivery) = consumer.next().await {
        let delivery = delivery?;
        let Some(event) = parse_tag_message(&delivery.data) else {
            tracing::warn!(routing_key = %delivery.routing_key, "ignored a buildsys.tag message without tag, name, version and release");
            delivery.ack(BasicAckOptions::default()).await?;
            continue;
        };
        let key = match delivery.properties.message_id() {
            Some(id) => format!("amqp:{id}"),
            None => format!(
                "amqp-sha256:{}",
                hex::encode(Sha256::digest(&delivery.data))
            ),
        };
        let store_db = db.clone();
        let stored = tokio::task::spawn_blocking(move || -> anyhow::Result<i32> {
            let mut conn = store_db.conn()?;
            enqueue_tag_event(&mut conn, &event, &key)
        })
        .await;
        match stored {
            Ok(Ok(_)) => {
                delivery.ack(BasicAckOptions::default()).await?;
            }
            Ok(Err(error)) => {
                // The database is down: give the message back and slow down.
                tracing::warn!(error = %format!("{error:#}"), "cannot store a buildsys.tag event; requeued");
                delivery
                    .nack(BasicNackOptions {
                        requeue: true,
                        ..BasicNackOptions::default()
                    })
                    .await?;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(error) => anyhow::bail!("storing a buildsys.tag event panicked: {error}"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_koji_tag_message_gives_the_tag_and_the_nvr() {
        let body = br#"{"build_id": 42, "name": "nano", "tag_id": 7, "instance": "primary",
            "tag": "f43-updates-testing-pending", "user": "robosignatory", "version": "8.2",
            "owner": "alice", "release": "1.fc43"}"#;
        assert_eq!(
            parse_tag_message(body),
            Some(TagEventPayload {
                tag: "f43-updates-testing-pending".into(),
                nvr: "nano-8.2-1.fc43".into(),
            })
        );
        assert_eq!(parse_tag_message(b"{\"tag\": \"x\"}"), None);
        assert_eq!(parse_tag_message(b"not json"), None);
    }
}
