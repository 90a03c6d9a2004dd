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
    // As Fedora configures Rawhide: no karma or days needed.
    release.min_karma = Some(0);
    release.critpath_min_karma = Some(0);
    release.mandatory_days_in_testing = Some(0);
    release.critpath_mandatory_days_in_testing = Some(0);
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

/// A side-tag update of Rawhide (spec §2.4): Pipal creates the side tag's own signing and
/// testing tags, the signer signs there, the update goes to testing and, once approved,
/// to stable, and the side tags are deleted.
#[actix_web::test]
async fn a_rawhide_side_tag_update_is_signed_in_its_own_tags_which_go_when_it_is_stable() {
    use crate::support::world::post_ok;

    let w = World::with_state(|s| s.buildsys.local.autosign_delay_secs = 0);
    rawhide(&w);
    w.local()
        .create_tag(
            "f45-build-side-7",
            &["f45-updates-candidate".to_owned()],
            None,
            &serde_json::json!({"sidetag": true, "sidetag_user": "alice"}),
        )
        .unwrap();
    w.build_in("nano-8.5-1.fc45", "f45-build-side-7");
    w.build_in("vim-9.3-1.fc45", "f45-build-side-7");
    let app = init_service(pipal::web::app(w.state.clone())).await;

    let body = post_ok(
        &app,
        w.token("alice"),
        "/updates/",
        serde_json::json!({"from_tag": "f45-build-side-7", "type": "enhancement",
                           "notes": "nano and vim together."}),
    )
    .await;
    let alias = body["alias"].as_str().unwrap().to_owned();
    let worker = Worker::with_all_handlers(w.state.clone());
    while worker.run_one().unwrap().is_some() {}
    let testing_pending = w
        .state
        .buildsys
        .get_tag("f45-build-side-7-testing-pending")
        .unwrap()
        .expect("the side tag's testing tag was created");
    assert_eq!(testing_pending.perm.as_deref(), Some("autosign"));
    assert_eq!(
        w.state
            .buildsys
            .full_inheritance("f45-build-side-7-signing-pending")
            .unwrap()
            .first()
            .map(String::as_str),
        Some("f45-build-side-7")
    );
    for nvr in ["nano-8.5-1.fc45", "vim-9.3-1.fc45"] {
        assert!(
            w.tags(nvr)
                .contains(&"f45-build-side-7-signing-pending".to_owned())
        );
    }

    // The (local) signer signs both: the update is in testing.
    worker.make_periodic_due("local_signer").unwrap();
    while worker.run_one().unwrap().is_some() {}
    let update = get_json(&app, &format!("/updates/{alias}")).await["update"].clone();
    assert_eq!(update["status"], "testing");

    // Rawhide has no days in testing: approve_testing pushes it to stable at once.
    worker.make_periodic_due("approve_testing").unwrap();
    while worker.run_one().unwrap().is_some() {}
    let update = get_json(&app, &format!("/updates/{alias}")).await["update"].clone();
    assert_eq!(update["status"], "stable");
    for nvr in ["nano-8.5-1.fc45", "vim-9.3-1.fc45"] {
        assert_eq!(w.tags(nvr), ["f45-updates"], "{nvr}");
    }
    for tag in [
        "f45-build-side-7",
        "f45-build-side-7-signing-pending",
        "f45-build-side-7-testing-pending",
    ] {
        assert!(
            w.state.buildsys.get_tag(tag).unwrap().is_none(),
            "{tag} was deleted"
        );
    }
}
