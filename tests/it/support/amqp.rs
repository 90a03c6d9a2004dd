//! The local RabbitMQ for the tests of Koji's bus messages (`PIPAL_TEST_AMQP_URL`; CI sets
//! it). Each test gets a queue and topics of its own, since tests share the broker.

use lapin::options::{QueueBindOptions, QueueDeclareOptions, QueueDeleteOptions};
use lapin::types::FieldTable;
use lapin::{Channel, Connection, ConnectionProperties};
use pipal::config::TagEventSettings;

pub struct TestQueue {
    /// Prefix of this test's topics: `<prefix>.buildsys.tag`.
    pub prefix: String,
    /// The consumer's settings for this queue.
    pub settings: TagEventSettings,
    pub channel: Channel,
    _connection: Connection,
}

impl TestQueue {
    /// Declares and binds the queue the consumer will use, so nothing published before the
    /// consumer is up is dropped; `None` (with a note) when no broker is configured.
    pub async fn declare() -> Option<TestQueue> {
        let Ok(amqp_url) = std::env::var("PIPAL_TEST_AMQP_URL") else {
            eprintln!("skipped: PIPAL_TEST_AMQP_URL is not set");
            return None;
        };
        let prefix = format!("org.pipaltest{}", rand::random::<u32>());
        let settings = TagEventSettings {
            amqp_url: amqp_url.clone(),
            queue: format!("{prefix}.pipal"),
            routing_key: format!("{prefix}.buildsys.tag"),
            ..TagEventSettings::default()
        };
        let connection = Connection::connect(&amqp_url, ConnectionProperties::default())
            .await
            .expect("connect to RabbitMQ");
        let channel = connection.create_channel().await.expect("a channel");
        channel
            .queue_declare(
                settings.queue.as_str().into(),
                QueueDeclareOptions::durable(),
                FieldTable::default(),
            )
            .await
            .expect("declare the queue");
        channel
            .queue_bind(
                settings.queue.as_str().into(),
                settings.exchange.as_str().into(),
                settings.routing_key.as_str().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("bind the queue");
        Some(TestQueue {
            prefix,
            settings,
            channel,
            _connection: connection,
        })
    }

    pub async fn delete(self) {
        self.channel
            .queue_delete(
                self.settings.queue.as_str().into(),
                QueueDeleteOptions::default(),
            )
            .await
            .expect("delete the queue");
    }
}
