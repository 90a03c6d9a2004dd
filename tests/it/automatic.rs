//! Automatic updates (spec §2.3): a build tagged into the candidate tag of a release with
//! `create_automatic_updates` becomes an update from its tag event, once, and goes on to
//! testing when the signer has signed it.

use actix_web::test::init_service;
use pipal::db::types::ReleaseState;
use pipal::services::releases;
use pipal::worker::Worker;
use pipal::worker::signing::{TagEventPayload, enqueue_tag_event};
use serde_json::Value;

use crate::support::world::{World, comment_texts, get_json};

/// Rawhide as Fedora runs it: not composed by Pipal, automatic updates on.
fn rawhide(w: &World) {
    let mut release = releases::fedora_release("F45", "Fedora 45", "f45");
    release.state = ReleaseState::Pending;
    release.composed_by_bodhi = false;
    release.create_automatic_updates = true;
    w.add_release(&release);
}

fn tagged(w: &World, tag: &str, nvr: &str, message_id: &str) {
    let event = TagEventPayload {
        tag: tag.into(),
        nvr: nvr.into(),
    };
    enqueue_tag_event(&mut w.db.conn(), &event, message_id).unwrap();
    let worker = Worker::with_all_handlers(w.state.clone());
    while worker.run_one().unwrap().is_some() {}
}

async fn updates_of<S, B>(app: &S, nvr: &str) -> Vec<Value>
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    get_json(app, &format!("/updates/?builds={nvr}")).await["updates"]
        .as_array()
        .unwrap()
        .clone()
}

#[actix_web::test]
async fn a_new_candidate_build_becomes_one_update_that_goes_to_testing_once_signed() {
    let w = World::with_state(|s| s.buildsys.local.autosign_delay_secs = 0);
    rawhide(&w);
    w.build_by("tmux-3.5-1.fc45", "f45-updates-candidate", "pete");
    let app = init_service(pipal::web::app(w.state.clone())).await;

    tagged(&w, "f45-updates-candidate", "tmux-3.5-1.fc45", "msg-1");
    // The same tagging announced again, under another message id.
    tagged(&w, "f45-updates-candidate", "tmux-3.5-1.fc45", "msg-2");

    let updates = updates_of(&app, "tmux-3.5-1.fc45").await;
    assert_eq!(updates.len(), 1, "{updates:?}");
    let update = &updates[0];
    assert_eq!(update["notes"], "Automatic update for tmux-3.5-1.fc45.");
    assert_eq!(update["type"], "newpackage", "Pipal had never seen tmux");
    assert_eq!(update["user"]["name"], "pete");
    assert_eq!(update["status"], "pending");
    assert_eq!(update["request"], Value::Null);
    assert_eq!(
        (
            &update["stable_karma"],
            &update["unstable_karma"],
            &update["autokarma"]
        ),
        (&Value::from(3), &Value::from(-3), &Value::from(false))
    );
    assert_eq!(update["autotime"], true);
    assert_eq!(update["stable_days"], 0);
    assert_eq!(
        comment_texts(update),
        vec!["This update was automatically created"]
    );
    assert!(
        w.tags("tmux-3.5-1.fc45")
            .contains(&"f45-signing-pending".to_owned())
    );

    // The signer (here the local one) signs it: the update is in testing at once.
    let worker = Worker::with_all_handlers(w.state.clone());
    worker.make_periodic_due("local_signer").unwrap();
    while worker.run_one().unwrap().is_some() {}
    let alias = update["alias"].as_str().unwrap();
    let update = get_json(&app, &format!("/updates/{alias}")).await["update"].clone();
    assert_eq!(update["status"], "testing");
    assert_eq!(update["pushed"], true);
    let tags = w.tags("tmux-3.5-1.fc45");
    assert!(tags.contains(&"f45-updates-testing".to_owned()), "{tags:?}");
    assert!(
        !tags.contains(&"f45-signing-pending".to_owned()),
        "{tags:?}"
    );
}

#[actix_web::test]
async fn a_newer_build_obsoletes_the_older_automatic_update_of_a_known_package() {
    let w = World::with_state(|s| s.buildsys.local.autosign = false);
    rawhide(&w);
    w.build_in("nano-8.3-1.fc45", "f45-updates-candidate");
    w.build_in("nano-8.4-1.fc45", "f45-updates-candidate");
    let app = init_service(pipal::web::app(w.state.clone())).await;

    tagged(&w, "f45-updates-candidate", "nano-8.3-1.fc45", "msg-1");
    tagged(&w, "f45-updates-candidate", "nano-8.4-1.fc45", "msg-2");

    let older = &updates_of(&app, "nano-8.3-1.fc45").await[0];
    let newer = &updates_of(&app, "nano-8.4-1.fc45").await[0];
    assert_eq!(newer["type"], "unspecified", "nano is a known package");
    assert_eq!(newer["user"]["name"], "alice");
    assert_eq!(older["status"], "obsolete");
    assert_eq!(newer["status"], "pending");
}

#[actix_web::test]
async fn no_automatic_update_for_blacklisted_owners_or_other_tags() {
    let w = World::new();
    rawhide(&w);
    w.build_by("fedora-release-45-0.1", "f45-updates-candidate", "releng");
    w.build_in("vim-9.2-1.fc45", "f45-updates-candidate");
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;

    tagged(
        &w,
        "f45-updates-candidate",
        "fedora-release-45-0.1",
        "msg-1",
    );
    // Not a candidate tag, and a candidate tag of a release without automatic updates.
    tagged(&w, "f45-updates-testing", "vim-9.2-1.fc45", "msg-2");
    tagged(&w, "f44-updates-candidate", "nano-8.2-1.fc44", "msg-3");
    // A build the build system does not know.
    tagged(&w, "f45-updates-candidate", "ghost-1-1.fc45", "msg-4");

    let all = get_json(&app, "/updates/").await;
    assert_eq!(all["total"], 0, "{all}");
}
