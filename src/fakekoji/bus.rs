//! The fake hub's message bus: `buildsys.tag` and `buildsys.untag` messages published to AMQP
//! (RabbitMQ) after each change, as Fedora's Koji does, so that a consumer's flow can be tested
//! end to end. Messages are sent in order from a thread of their own; a broker that is down
//! delays them (retried with backoff) and, after a few attempts, drops them with a warning, as
//! a real bus can lose a message.

use std::time::Duration;

use lapin::options::BasicPublishOptions;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};
use rand::Rng;
use tokio::sync::mpsc;

use super::state::Announcement;

/// Where the messages go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusConfig {
    pub amqp_url: String,
    pub exchange: String,
    /// Prepended to each topic: `org.fedoraproject.dev` gives
    /// `org.fedoraproject.dev.buildsys.tag`.
    pub topic_prefix: String,
}

impl BusConfig {
    pub fn new(amqp_url: impl Into<String>) -> Self {
        BusConfig {
            amqp_url: amqp_url.into(),
            exchange: "amq.topic".into(),
            topic_prefix: "org.fedoraproject.dev".into(),
        }
    }
}

const ATTEMPTS: u32 = 5;

/// Hands messages to the publishing thread.
pub struct Publisher {
    sender: mpsc::UnboundedSender<Announcement>,
}

impl Publisher {
    pub fn start(config: BusConfig) -> Publisher {
        let (sender, receiver) = mpsc::unbounded_channel();
        let spawned = std::thread::Builder::new()
            .name("fake-koji-bus".into())
            .spawn(move || publish_all(config, receiver));
        if let Err(error) = spawned {
            tracing::error!(%error, "cannot start the bus thread: no messages will be sent");
        }
        Publisher { sender }
    }

    pub fn send(&self, announcement: Announcement) {
        if self.sender.send(announcement).is_err() {
            tracing::warn!("the bus thread is gone: a message was not sent");
        }
    }
}

fn publish_all(config: BusConfig, mut receiver: mpsc::UnboundedReceiver<Announcement>) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "cannot start the bus runtime");
            return;
        }
    };
    runtime.block_on(async move {
        let mut channel: Option<(Connection, Channel)> = None;
        while let Some(announcement) = receiver.recv().await {
            let mut delay = Duration::from_millis(100);
            for attempt in 1..=ATTEMPTS {
                match publish(&config, &mut channel, &announcement).await {
                    Ok(()) => break,
                    Err(error) => {
                        channel = None;
                        if attempt == ATTEMPTS {
                            tracing::warn!(topic = announcement.topic, %error, "dropped a bus message");
                        } else {
                            tokio::time::sleep(delay).await;
                            delay *= 2;
                        }
                    }
                }
            }
        }
    });
}

async fn publish(
    config: &BusConfig,
    channel: &mut Option<(Connection, Channel)>,
    announcement: &Announcement,
) -> Result<(), lapin::Error> {
    if channel.is_none() {
        let connection = Connection::connect(
            &config.amqp_url,
            ConnectionProperties::default().with_connection_name("fake-koji".into()),
        )
        .await?;
        let opened = connection.create_channel().await?;
        *channel = Some((connection, opened));
    }
    let Some((_, open)) = channel.as_ref() else {
        return Ok(());
    };
    let routing_key = format!("{}.{}", config.topic_prefix, announcement.topic);
    let body = announcement.body.to_string();
    let id: u128 = rand::thread_rng().r#gen();
    open.basic_publish(
        config.exchange.as_str().into(),
        routing_key.as_str().into(),
        BasicPublishOptions::default(),
        body.as_bytes(),
        BasicProperties::default()
            .with_message_id(format!("{id:032x}").into())
            .with_content_type("application/json".into())
            .with_delivery_mode(2),
    )
    .await?
    .await?;
    Ok(())
}
