//! The signing flow: a build reaching the pending-testing tag is signed, whether the event
//! came from the bus (a tag event job), from the local signer, or from the reconcile job that
//! reads the tags when the event was lost; releases Pipal does not compose go to testing as
//! soon as every build is signed.

use actix_web::test::init_service;
use pipal::worker::Worker;
use pipal::worker::signing::{TagEventPayload, enqueue_tag_event};

use crate::support::amqp::TestQueue;
use crate::support::world::{World, build_signed, show, submit};

fn run_periodic(w: &World, kind: &str) {
    let worker = Worker::with_all_handlers(w.state.clone());
    worker.make_periodic_due(kind).unwrap();
    while worker.run_one().unwrap().is_some() {}
}

fn run_pending_jobs(w: &World) {
    let worker = Worker::with_all_handlers(w.state.clone());
    while worker.run_one().unwrap().is_some() {}
}

#[actix_web::test]
async fn the_local_signer_signs_after_its_delay_and_only_then() {
    let w = World::with_state(|s| s.buildsys.local.autosign_delay_secs = 0);
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
    assert!(
        w.tags("nano-8.2-1.fc44")
            .contains(&"f44-signing-pending".to_owned())
    );
    assert!(!build_signed(&app, "nano-8.2-1.fc44").await);

    run_periodic(&w, "local_signer");

    let tags = w.tags("nano-8.2-1.fc44");
    assert!(
        tags.contains(&"f44-updates-testing-pending".to_owned()),
        "{tags:?}"
    );
    assert!(
        !tags.contains(&"f44-signing-pending".to_owned()),
        "{tags:?}"
    );
    assert!(build_signed(&app, "nano-8.2-1.fc44").await);
    let update = show(&app, &alias).await;
    assert_eq!(
        update["status"], "pending",
        "a composed release waits for the push"
    );
    assert_eq!(update["request"], "testing");

    // With the default delay, a fresh build is left for later.
    let patient = World::new();
    patient.candidate("vim-9.2-1.fc44");
    let app = init_service(pipal::web::app(patient.state.clone())).await;
    submit(&app, &patient, "alice", &["vim-9.2-1.fc44"]).await;
    run_periodic(&patient, "local_signer");
    assert!(
        patient
            .tags("vim-9.2-1.fc44")
            .contains(&"f44-signing-pending".to_owned())
    );
    assert!(!build_signed(&app, "vim-9.2-1.fc44").await);
}

#[actix_web::test]
async fn a_lost_signing_event_is_found_by_the_reconcile_job() {
    let w = World::with_state(|s| s.buildsys.local.autosign = false);
    w.candidate("nano-8.2-1.fc44");
    w.candidate("vim-9.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
    submit(&app, &w, "alice", &["vim-9.2-1.fc44"]).await;
    // The signer moved nano; its message never arrived. vim is still being signed.
    w.state
        .buildsys
        .move_build(
            "f44-signing-pending",
            "f44-updates-testing-pending",
            "nano-8.2-1.fc44",
            "robosignatory",
        )
        .unwrap();
    assert!(!build_signed(&app, "nano-8.2-1.fc44").await);

    run_periodic(&w, "reconcile_signed");

    assert!(build_signed(&app, "nano-8.2-1.fc44").await);
    assert!(!build_signed(&app, "vim-9.2-1.fc44").await);
}

#[actix_web::test]
async fn tag_events_are_stored_once_and_a_non_composed_release_goes_to_testing() {
    let w = World::with_state(|s| s.buildsys.local.autosign = false);
    w.candidate("nano-8.2-1.fc44");
    w.candidate("vim-9.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44", "vim-9.2-1.fc44"]).await;
    {
        use diesel::prelude::*;
        use pipal::db::schema::releases;
        diesel::update(releases::table.filter(releases::name.eq("F44")))
            .set(releases::composed_by_bodhi.eq(false))
            .execute(&mut w.db.conn())
            .unwrap();
    }
    for nvr in ["nano-8.2-1.fc44", "vim-9.2-1.fc44"] {
        w.state
            .buildsys
            .move_build(
                "f44-signing-pending",
                "f44-updates-testing-pending",
                nvr,
                "robosignatory",
            )
            .unwrap();
    }
    let event = |nvr: &str| TagEventPayload {
        tag: "f44-updates-testing-pending".into(),
        nvr: nvr.into(),
    };
    let mut conn = w.db.conn();
    let first = enqueue_tag_event(&mut conn, &event("nano-8.2-1.fc44"), "msg-1").unwrap();
    let again = enqueue_tag_event(&mut conn, &event("nano-8.2-1.fc44"), "msg-1").unwrap();
    assert_eq!(first, again, "a redelivered message is one job");
    drop(conn);
    run_pending_jobs(&w);
    assert!(build_signed(&app, "nano-8.2-1.fc44").await);
    assert_eq!(
        show(&app, &alias).await["status"],
        "pending",
        "vim is not signed yet"
    );

    let mut conn = w.db.conn();
    enqueue_tag_event(&mut conn, &event("vim-9.2-1.fc44"), "msg-2").unwrap();
    // An event for a tag that means nothing to the update changes nothing.
    enqueue_tag_event(
        &mut conn,
        &TagEventPayload {
            tag: "f44-override".into(),
            nvr: "vim-9.2-1.fc44".into(),
        },
        "msg-3",
    )
    .unwrap();
    drop(conn);
    run_pending_jobs(&w);

    let update = show(&app, &alias).await;
    assert_eq!(update["status"], "testing");
    assert_eq!(update["request"], serde_json::Value::Null);
    assert_eq!(update["pushed"], true);
    for nvr in ["nano-8.2-1.fc44", "vim-9.2-1.fc44"] {
        let tags = w.tags(nvr);
        assert!(tags.contains(&"f44-updates-testing".to_owned()), "{tags:?}");
        assert!(
            !tags.contains(&"f44-updates-testing-pending".to_owned()),
            "{tags:?}"
        );
    }
}

/// Koji's messages through the local RabbitMQ: the consumer stores each message once (by its
/// id) before acknowledging it; runs when PIPAL_TEST_AMQP_URL names a broker (CI sets it).
#[actix_web::test]
async fn buildsys_tag_messages_from_rabbitmq_sign_builds_once() {
    use diesel::prelude::*;
    use lapin::BasicProperties;
    use lapin::options::BasicPublishOptions;
    use pipal::db::schema::jobs;

    let Some(queue) = TestQueue::declare().await else {
        return;
    };
    let w = World::with_state(|s| s.buildsys.local.autosign = false);
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
    w.state
        .buildsys
        .move_build(
            "f44-signing-pending",
            "f44-updates-testing-pending",
            "nano-8.2-1.fc44",
            "robosignatory",
        )
        .unwrap();

    let settings = queue.settings.clone();
    let channel = queue.channel.clone();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let consumer = tokio::spawn(pipal::buildsys::events::consume_tag_events(
        w.state.db.clone(),
        settings.clone(),
        stopped,
    ));
    let count_events = || -> i64 {
        jobs::table
            .filter(jobs::kind.eq("buildsys_tag_event"))
            .count()
            .get_result(&mut w.db.conn())
            .unwrap()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let routing_key = settings.routing_key.clone();
    let publish = |id: &'static str, body: String| {
        let channel = channel.clone();
        let routing_key = routing_key.clone();
        async move {
            channel
                .basic_publish(
                    "amq.topic".into(),
                    routing_key.as_str().into(),
                    BasicPublishOptions::default(),
                    body.as_bytes(),
                    BasicProperties::default().with_message_id(id.into()),
                )
                .await
                .unwrap()
                .await
                .unwrap();
        }
    };
    let signed_message = r#"{"build_id": 1, "name": "nano", "version": "8.2", "release": "1.fc44",
        "tag": "f44-updates-testing-pending", "tag_id": 9, "user": "robosignatory",
        "owner": "alice", "instance": "primary"}"#;
    publish("msg-signed", signed_message.into()).await;
    publish("msg-signed", signed_message.into()).await; // redelivered by the broker
    publish("msg-garbage", "{\"tag\": 3}".into()).await;
    publish(
        "msg-last",
        signed_message.replace("f44-updates-testing-pending", "f44-override"),
    )
    .await;
    // FIFO with one consumer: when the last message is stored, the others were handled.
    while count_events() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "messages were not consumed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        count_events(),
        2,
        "one job per message id, none for garbage"
    );

    run_pending_jobs(&w);
    assert!(build_signed(&app, "nano-8.2-1.fc44").await);

    stop.send(true).unwrap();
    consumer.await.unwrap();
    queue.delete().await;
}
