//! Pipal on `buildsys.kind = "koji"` against fake-koji over HTTP: an update goes from pending
//! to signed and ready for its testing push with no manual step, by Koji's bus messages
//! through RabbitMQ and, with messages off, by the reconcile job; a new Rawhide build becomes
//! an automatic update with its changelog and bugs.

use actix_web::test::init_service;
use pipal::buildsys::koji::{KojiBuildSystem, KojiCall};
use pipal::buildsys::{BuildSystem, ListTaggedOptions};
use pipal::config::{BuildsysKind, KojiSettings};
use pipal::db::types::ReleaseState;
use pipal::fakekoji::{BusConfig, HubConfig, RunningHub};
use pipal::models::release::NewRelease;
use pipal::services::releases;
use pipal::worker::Worker;
use pipal::worker::signing::{TagEventPayload, enqueue_tag_event};
use serde_json::{Value, json};

use crate::support::amqp::TestQueue;
use crate::support::world::{World, build_signed, f44, get_json, show, submit};

pub(crate) fn koji_settings(hub: &RunningHub) -> KojiSettings {
    KojiSettings {
        url: hub.url(),
        retry_interval_ms: 5,
        task_poll_ms: 10,
        task_timeout_secs: 20,
        max_retries: 3,
        ..KojiSettings::default()
    }
}

/// The hub's admin, standing in for Koji's users and robosignatory.
pub(crate) fn admin(hub: &RunningHub) -> KojiBuildSystem {
    KojiBuildSystem::from_settings(&koji_settings(hub)).unwrap()
}

pub(crate) fn call(koji: &KojiBuildSystem, call: KojiCall) -> Value {
    koji.client().call(&call).unwrap()
}

/// Creates a release's tags in Koji (Fedora's inheritance), nano, vim and tmux listed.
pub(crate) fn koji_release(koji: &KojiBuildSystem, release: &NewRelease) {
    for tag in releases::tags_of(release) {
        let mut create = KojiCall::new("createTag", vec![json!(tag)]);
        let parent = releases::fedora_tag_parent(release, &tag);
        if let Some(parent) = parent {
            create = create.kwarg("parent", parent);
        }
        call(koji, create);
        // Tags without a parent (dist, signing and pending tags) list the packages.
        if parent.is_none() {
            for package in ["nano", "vim", "tmux"] {
                call(
                    koji,
                    KojiCall::new("packageListAdd", vec![json!(tag), json!(package)])
                        .kwarg("owner", "kojiadmin"),
                );
            }
        }
    }
}

/// A completed build owned by `owner`, tagged into `tag`.
pub(crate) fn koji_build(koji: &KojiBuildSystem, nvr: &str, owner: &str, tag: &str) {
    let mut parts = nvr.rsplitn(3, '-');
    let (release, version, name) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    call(
        koji,
        KojiCall::new(
            "createEmptyBuild",
            vec![json!(name), json!(version), json!(release), Value::Null],
        )
        .kwarg("owner", owner),
    );
    call(
        koji,
        KojiCall::new("tagBuildBypass", vec![json!(tag), json!(nvr)]),
    );
}

/// A Pipal world on the hub: F44 (composed by Pipal) and its tags in Koji.
pub(crate) fn koji_world(hub: &RunningHub) -> World {
    koji_world_with(hub, |_| {})
}

/// `koji_world` with settings `adjust` changes after the Koji ones.
pub(crate) fn koji_world_with(
    hub: &RunningHub,
    adjust: impl FnOnce(&mut pipal::config::Settings),
) -> World {
    let settings = koji_settings(hub);
    let w = World::with_state(|s| {
        s.buildsys.kind = BuildsysKind::Koji;
        s.buildsys.koji = settings;
        adjust(s);
    });
    let koji = admin(hub);
    koji_release(&koji, &f44());
    call(
        &koji,
        KojiCall::new("fake.addUser", vec![json!("pete")]).kwarg("perms", json!([])),
    );
    w
}

pub(crate) fn koji_tags(hub: &RunningHub, nvr: &str) -> Vec<String> {
    admin(hub)
        .list_tags(nvr)
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect()
}

fn run_jobs(w: &World) {
    let worker = Worker::with_all_handlers(w.state.clone());
    while worker.run_one().unwrap().is_some() {}
}

fn run_periodic(w: &World, kind: &str) {
    let worker = Worker::with_all_handlers(w.state.clone());
    worker.make_periodic_due(kind).unwrap();
    while worker.run_one().unwrap().is_some() {}
}

/// robosignatory: signs the build and moves it on, as Koji's admin.
pub(crate) fn sign(hub: &RunningHub, from: &str, to: &str, nvr: &str) {
    admin(hub)
        .move_build(from, to, nvr, "robosignatory")
        .unwrap();
}

#[actix_web::test]
async fn with_messages_off_the_reconcile_job_finds_the_signed_build_in_koji() {
    let hub = RunningHub::start(HubConfig::default()).unwrap();
    let w = koji_world(&hub);
    koji_build(
        &admin(&hub),
        "nano-8.2-1.fc44",
        "kojiadmin",
        "f44-updates-candidate",
    );
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
    run_jobs(&w);
    let tags = koji_tags(&hub, "nano-8.2-1.fc44");
    assert!(tags.contains(&"f44-signing-pending".to_owned()), "{tags:?}");

    sign(
        &hub,
        "f44-signing-pending",
        "f44-updates-testing-pending",
        "nano-8.2-1.fc44",
    );
    run_jobs(&w);
    assert!(
        !build_signed(&app, "nano-8.2-1.fc44").await,
        "no message, no reconcile yet"
    );

    run_periodic(&w, "reconcile_signed");

    assert!(build_signed(&app, "nano-8.2-1.fc44").await);
    let update = show(&app, &alias).await;
    assert_eq!(
        (&update["status"], &update["request"]),
        (&json!("pending"), &json!("testing")),
        "signed and waiting for the testing push"
    );
    assert!(
        hub.hub.methods_called().iter().any(|m| m == "listTagged"),
        "reconcile read the pending-testing tag"
    );
}

/// fake-koji announces its tag changes on RabbitMQ as Fedora's Koji does; Pipal's consumer
/// stores them and the worker signs the build, with no reconcile. Runs when
/// PIPAL_TEST_AMQP_URL names a broker (CI sets it).
#[actix_web::test]
async fn koji_bus_messages_sign_the_build_with_no_reconcile() {
    use diesel::prelude::*;
    use pipal::db::schema::jobs;

    let Some(queue) = TestQueue::declare().await else {
        return;
    };
    let hub = RunningHub::start(HubConfig {
        bus: Some(BusConfig {
            topic_prefix: queue.prefix.clone(),
            ..BusConfig::new(queue.settings.amqp_url.clone())
        }),
        ..HubConfig::default()
    })
    .unwrap();
    let w = koji_world(&hub);
    let settings = queue.settings.clone();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let consumer = tokio::spawn(pipal::buildsys::events::consume_tag_events(
        w.state.db.clone(),
        settings.clone(),
        stopped,
    ));

    koji_build(
        &admin(&hub),
        "nano-8.2-1.fc44",
        "kojiadmin",
        "f44-updates-candidate",
    );
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
    run_jobs(&w);
    sign(
        &hub,
        "f44-signing-pending",
        "f44-updates-testing-pending",
        "nano-8.2-1.fc44",
    );

    // Koji announced: the candidate tagging, the signing-pending tagging, the move.
    let stored_signing_event = || -> bool {
        jobs::table
            .filter(jobs::kind.eq("buildsys_tag_event"))
            .filter(jobs::payload.like("%f44-updates-testing-pending%"))
            .count()
            .get_result::<i64>(&mut w.db.conn())
            .unwrap()
            > 0
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !stored_signing_event() {
        assert!(
            std::time::Instant::now() < deadline,
            "the signing message never arrived"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    run_jobs(&w);

    assert!(build_signed(&app, "nano-8.2-1.fc44").await);
    let update = show(&app, &alias).await;
    assert_eq!(
        (&update["status"], &update["request"]),
        (&json!("pending"), &json!("testing"))
    );
    assert!(
        !hub.hub.methods_called().iter().any(|m| m == "listTagged"),
        "signed by the message alone"
    );

    stop.send(true).unwrap();
    consumer.await.unwrap();
    queue.delete().await;
}

#[actix_web::test]
async fn a_rawhide_build_in_koji_becomes_an_automatic_update_with_its_changelog_and_bugs() {
    let hub = RunningHub::start(HubConfig::default()).unwrap();
    let w = koji_world(&hub);
    let mut rawhide = releases::fedora_release("F45", "Fedora 45", "f45");
    rawhide.state = ReleaseState::Pending;
    rawhide.composed_by_bodhi = false;
    rawhide.create_automatic_updates = true;
    w.add_release(&rawhide);
    let koji = admin(&hub);
    koji_release(&koji, &rawhide);
    // tmux 3.4 is stable; 3.5 adds two changelog entries, one fixing a bug.
    let day = |n: i64| 1_767_225_600 + n * 86_400; // 2026-01-01 + n days
    koji_build(&koji, "tmux-3.4-1.fc45", "pete", "f45-updates");
    koji_build(&koji, "tmux-3.5-1.fc45", "pete", "f45-updates-candidate");
    let headers = |rpm: &str, times: Value, names: Value, texts: Value| {
        call(
            &koji,
            KojiCall::new("fake.setRPMHeaders", vec![json!(rpm)]).kwarg(
                "headers",
                json!({"changelogtime": times, "changelogname": names, "changelogtext": texts}),
            ),
        );
    };
    headers(
        "tmux-3.4-1.fc45.src",
        json!([day(10)]),
        json!(["Pete <pete@example.org> - 3.4-1"]),
        json!(["- Update to 3.4"]),
    );
    headers(
        "tmux-3.5-1.fc45.src",
        json!([day(40), day(20), day(10)]),
        json!([
            "Pete <pete@example.org> - 3.5-1",
            "Pete <pete@example.org> - 3.4-2",
            "Pete <pete@example.org> - 3.4-1"
        ]),
        json!([
            "- Update to 3.5\n- Fixes rhbz#2345678",
            "- Rebuilt",
            "- Update to 3.4"
        ]),
    );
    enqueue_tag_event(
        &mut w.db.conn(),
        &TagEventPayload {
            tag: "f45-updates-candidate".into(),
            nvr: "tmux-3.5-1.fc45".into(),
        },
        "msg-1",
    )
    .unwrap();
    run_jobs(&w);

    let app = init_service(pipal::web::app(w.state.clone())).await;
    let found = get_json(&app, "/updates/?builds=tmux-3.5-1.fc45").await;
    let update = &found["updates"][0];
    assert_eq!(
        update["notes"],
        "Automatic update for tmux-3.5-1.fc45.\n\n##### **Changelog**\n\n```\n\
         * Tue Feb 10 2026 Pete <pete@example.org> - 3.5-1\n- Update to 3.5\n- Fixes rhbz#2345678\n\
         * Wed Jan 21 2026 Pete <pete@example.org> - 3.4-2\n- Rebuilt\n\n```"
    );
    assert_eq!(update["bugs"][0]["bug_id"], 2345678);
    assert_eq!(update["user"]["name"], "pete");
    assert_eq!(update["type"], "newpackage");
    assert!(koji_tags(&hub, "tmux-3.5-1.fc45").contains(&"f45-signing-pending".to_owned()));

    // Signed in Koji, found by reconcile: Rawhide's update goes to testing at once.
    sign(
        &hub,
        "f45-signing-pending",
        "f45-updates-testing-pending",
        "tmux-3.5-1.fc45",
    );
    run_periodic(&w, "reconcile_signed");
    let alias = update["alias"].as_str().unwrap();
    assert_eq!(show(&app, alias).await["status"], "testing");
    let tagged = admin(&hub)
        .list_tagged("f45-updates-testing", &ListTaggedOptions::default())
        .unwrap();
    assert_eq!(tagged[0].build.nvr, "tmux-3.5-1.fc45");
}
