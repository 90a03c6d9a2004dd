//! Where bus messages go (`bus.transport`): the log, a JSON-lines file in the format
//! `check_messages.py file` reads, or an AMQP broker with fedora-messaging's properties.
//! AMQP publishing waits for the broker's confirmation, so a message counts as delivered only
//! once RabbitMQ has it.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::envelope::Envelope;
use crate::config::{BusSettings, BusTransport};

pub enum Bus {
    Log,
    File(PathBuf),
    Amqp(Box<AmqpBus>),
}

impl Bus {
    pub fn from_settings(settings: &BusSettings) -> anyhow::Result<Bus> {
        Ok(match settings.transport {
            BusTransport::Log => Bus::Log,
            BusTransport::File => Bus::File(settings.file.clone()),
            BusTransport::Amqp => {
                if settings.amqp_url.is_empty() {
                    bail!("bus.transport = \"amqp\" needs bus.amqp_url");
                }
                Bus::Amqp(Box::new(AmqpBus {
                    url: settings.amqp_url.clone(),
                    exchange: settings.exchange.clone(),
                    channel: Mutex::new(None),
                }))
            }
        })
    }

    pub async fn publish(&self, message: &Envelope) -> anyhow::Result<()> {
        match self {
            Bus::Log => {
                tracing::info!(
                    target: "pipal::bus",
                    routing_key = %message.routing_key,
                    message_id = %message.message_id,
                    body = %message.body,
                    "bus message"
                );
                Ok(())
            }
            Bus::File(path) => append_line(path, message),
            Bus::Amqp(bus) => bus.publish(message).await,
        }
    }
}

/// One line per message, synced before it counts as delivered.
fn append_line(path: &PathBuf, message: &Envelope) -> anyhow::Result<()> {
    let line = json!({
        "routing_key": message.routing_key,
        "headers": message.headers,
        "properties": {
            "content_type": "application/json",
            "content_encoding": "utf-8",
            "delivery_mode": 2,
            "message_id": message.message_id,
        },
        "body": message.body,
    });
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    file.write_all(format!("{line}\n").as_bytes())
        .and_then(|()| file.sync_data())
        .with_context(|| format!("cannot write {}", path.display()))
}

pub struct AmqpBus {
    url: String,
    exchange: String,
    /// The open connection, made on first use and dropped after an error.
    channel: Mutex<Option<(Connection, Channel)>>,
}

impl AmqpBus {
    async fn publish(&self, message: &Envelope) -> anyhow::Result<()> {
        let mut open = self.channel.lock().await;
        if open.is_none() {
            *open = Some(self.connect().await?);
        }
        let Some((_, channel)) = open.as_ref() else {
            bail!("no AMQP channel");
        };
        let sent = publish_on(channel, &self.exchange, message).await;
        if sent.is_err() {
            *open = None;
        }
        sent
    }

    async fn connect(&self) -> anyhow::Result<(Connection, Channel)> {
        let connection = Connection::connect(
            &self.url,
            ConnectionProperties::default().with_connection_name("pipal".into()),
        )
        .await
        .with_context(|| {
            format!(
                "cannot connect to the broker {}",
                crate::config::mask_url(&self.url)
            )
        })?;
        let channel = connection
            .create_channel()
            .await
            .context("cannot open an AMQP channel")?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .context("the broker refused publisher confirms")?;
        Ok((connection, channel))
    }
}

async fn publish_on(channel: &Channel, exchange: &str, message: &Envelope) -> anyhow::Result<()> {
    let body = message.body.to_string();
    let confirmation = channel
        .basic_publish(
            exchange.into(),
            message.routing_key.as_str().into(),
            BasicPublishOptions::default(),
            body.as_bytes(),
            BasicProperties::default()
                .with_content_type("application/json".into())
                .with_content_encoding("utf-8".into())
                .with_delivery_mode(2)
                .with_message_id(message.message_id.as_str().into())
                .with_headers(headers(message)),
        )
        .await
        .with_context(|| format!("cannot publish {}", message.routing_key))?
        .await
        .with_context(|| format!("no confirmation for {}", message.routing_key))?;
    if confirmation.is_nack() {
        bail!("the broker refused {}", message.routing_key);
    }
    Ok(())
}

fn headers(message: &Envelope) -> FieldTable {
    let mut table = FieldTable::default();
    for (name, value) in &message.headers {
        let value = match value {
            Value::Bool(flag) => AMQPValue::Boolean(*flag),
            Value::Number(n) => AMQPValue::LongLongInt(n.as_i64().unwrap_or_default()),
            Value::String(text) => AMQPValue::LongString(LongString::from(text.as_str())),
            other => AMQPValue::LongString(LongString::from(other.to_string())),
        };
        table.insert(ShortString::from(name.as_str()), value);
    }
    table
}
