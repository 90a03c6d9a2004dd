//! `POST /updates/{id}/request`: Bodhi's `set_request` with its checks in their order
//! (spec §2.5), the testing requirements (§2.6) and the tags each request moves.

use actix_web::test::init_service;
use pipal::db::types::{ReleaseState, UpdateStatus};
use serde_json::{Value, json};

use crate::support::world::{World, comment_texts, errors, post, post_ok, show, submit};

const NOT_YET_TESTED: &str = "This update has not yet met the minimum testing requirements \
defined in the <a href=\"https://fedoraproject.org/wiki/Package_update_acceptance_criteria\">\
Package Update Acceptance Criteria</a>";

fn request(action: &str) -> Value {
    json!({ "request": action })
}

#[actix_web::test]
async fn requests_that_change_nothing_are_silent() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
    let path = format!("/updates/{alias}/request");

    let body = post_ok(&app, w.token("alice"), &path, request("testing")).await;
    assert_eq!(body["update"]["request"], "testing");
    assert_eq!(comment_texts(&body["update"]).len(), 1, "no second comment");

    w.push_to_testing(&alias);
    let body = post_ok(&app, w.token("alice"), &path, request("testing")).await;
    assert_eq!(body["update"]["status"], "testing");
    assert_eq!(body["update"]["request"], Value::Null);
}

#[actix_web::test]
async fn the_request_value_and_the_update_are_checked() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;

    let reply = post(
        &app,
        w.token("alice"),
        &format!("/updates/{alias}/request"),
        request("later"),
    )
    .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        errors(&reply.json()),
        ["\"later\" is not one of testing, obsolete, unpush, revoke, stable"]
    );

    let reply = post(
        &app,
        w.token("alice"),
        "/updates/FEDORA-2026-ffffffffff/request",
        request("testing"),
    )
    .await;
    assert_eq!(reply.status, 404);
    assert_eq!(errors(&reply.json()), ["Invalid update id"]);

    let reply = post(
        &app,
        w.token("bob"),
        &format!("/updates/{alias}/request"),
        request("revoke"),
    )
    .await;
    assert_eq!(reply.status, 403);
    assert_eq!(
        errors(&reply.json()),
        ["bob does not have commit access to nano"]
    );
}

#[actix_web::test]
async fn locked_and_stable_updates_refuse_requests() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
    let path = format!("/updates/{alias}/request");

    w.alter_update(&alias, |u| u.locked = true);
    let reply = post(&app, w.token("alice"), &path, request("revoke")).await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        errors(&reply.json()),
        ["Can't change request on a locked update"]
    );

    w.alter_update(&alias, |u| {
        u.locked = false;
        u.status = UpdateStatus::Stable;
        u.request = None;
    });
    let reply = post(&app, w.token("alice"), &path, request("testing")).await;
    assert_eq!(
        errors(&reply.json()),
        ["Pushing back to testing a stable update is not allowed"]
    );
}

#[actix_web::test]
async fn revoking_a_new_update_unpushes_it_and_clears_its_tags() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;

    let body = post_ok(
        &app,
        w.token("alice"),
        &format!("/updates/{alias}/request"),
        request("revoke"),
    )
    .await;
    assert_eq!(body["update"]["status"], "unpushed");
    assert_eq!(body["update"]["request"], Value::Null);
    assert_eq!(w.tags("nano-8.2-1.fc44"), ["f44-updates-candidate"]);

    // An unpushed update can be asked for testing again: it goes back to pending.
    let body = post_ok(
        &app,
        w.token("alice"),
        &format!("/updates/{alias}/request"),
        request("testing"),
    )
    .await;
    assert_eq!(body["update"]["status"], "pending");
    assert_eq!(body["update"]["request"], "testing");
    assert_eq!(
        w.tags("nano-8.2-1.fc44"),
        ["f44-signing-pending", "f44-updates-candidate"]
    );
}

#[actix_web::test]
async fn unpush_works_only_from_testing() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
    let path = format!("/updates/{alias}/request");

    let reply = post(&app, w.token("alice"), &path, request("unpush")).await;
    assert_eq!(reply.status, 400);
    assert_eq!(errors(&reply.json()), ["Can't unpush a pending update"]);

    w.push_to_testing(&alias);
    let body = post_ok(&app, w.token("alice"), &path, request("unpush")).await;
    let update = &body["update"];
    assert_eq!(update["status"], "unpushed");
    assert_eq!(update["request"], Value::Null);
    let last = update["comments"].as_array().unwrap().last().unwrap();
    assert_eq!(last["text"], "This update has been unpushed.");
    assert_eq!(last["user"]["name"], "alice");
    assert_eq!(w.tags("nano-8.2-1.fc44"), ["f44-updates-candidate"]);
}

#[actix_web::test]
async fn stable_needs_the_testing_requirements() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
    let path = format!("/updates/{alias}/request");
    let reason = format!(
        "{NOT_YET_TESTED}: Test gating is disabled, but update has less than 2 karma and has \
         been in testing less than 7 days."
    );

    // Pending with a testing request: refused, the request stays.
    let reply = post(&app, w.token("alice"), &path, request("stable")).await;
    assert_eq!(reply.status, 400);
    assert_eq!(errors(&reply.json()), std::slice::from_ref(&reason));
    assert_eq!(show(&app, &alias).await["request"], "testing");

    // In testing: refused, and the update has no request.
    w.push_to_testing(&alias);
    let reply = post(&app, w.token("alice"), &path, request("stable")).await;
    assert_eq!(errors(&reply.json()), [reason]);
    assert_eq!(show(&app, &alias).await["request"], Value::Null);

    // Two testers' karma meets the requirements.
    w.alter_update(&alias, |u| u.autokarma = false);
    for tester in ["bob", "carol"] {
        post_ok(
            &app,
            w.token(tester),
            "/comments/",
            json!({"update": alias, "text": "Works for me.", "karma": 1}),
        )
        .await;
    }
    let body = post_ok(&app, w.token("alice"), &path, request("stable")).await;
    assert_eq!(body["update"]["request"], "stable");
    assert_eq!(
        comment_texts(&body["update"]).last().unwrap(),
        "This update has been submitted for stable by alice. "
    );
    assert_eq!(
        w.tags("nano-8.2-1.fc44"),
        [
            "f44-updates-candidate",
            "f44-updates-pending",
            "f44-updates-testing"
        ]
    );
}

#[actix_web::test]
async fn an_update_without_testing_gets_its_stable_request_downgraded() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
    let path = format!("/updates/{alias}/request");
    post_ok(&app, w.token("alice"), &path, request("revoke")).await;

    let body = post_ok(&app, w.token("alice"), &path, request("stable")).await;
    assert_eq!(body["update"]["status"], "pending");
    assert_eq!(body["update"]["request"], "testing");
}

#[actix_web::test]
async fn frozen_and_uncomposed_releases_limit_stable_requests() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
    let path = format!("/updates/{alias}/request");

    w.set_release_state("F44", ReleaseState::Frozen);
    let reply = post(&app, w.token("alice"), &path, request("stable")).await;
    assert_eq!(
        errors(&reply.json()),
        [
            "The release of this update is frozen and the update has not yet been pushed to \
             testing. It is currently not possible to push it to stable."
        ]
    );

    {
        use diesel::prelude::*;
        use pipal::db::schema::releases;
        diesel::update(releases::table)
            .set((
                releases::state.eq(ReleaseState::Current),
                releases::composed_by_bodhi.eq(false),
            ))
            .execute(&mut w.db.conn())
            .unwrap();
    }
    let reply = post(&app, w.token("alice"), &path, request("stable")).await;
    assert_eq!(
        errors(&reply.json()),
        ["Setting a request on an Update for a Release not composed by Bodhi is not allowed"]
    );
}

#[actix_web::test]
async fn a_newer_build_in_the_target_blocks_an_older_one() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    w.candidate("nano-8.1-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let newer = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
    w.push_to_testing(&newer);
    let older = submit(&app, &w, "alice", &["nano-8.1-1.fc44"]).await;
    post_ok(
        &app,
        w.token("alice"),
        &format!("/updates/{older}/request"),
        request("revoke"),
    )
    .await;

    let reply = post(
        &app,
        w.token("alice"),
        &format!("/updates/{older}/request"),
        request("testing"),
    )
    .await;
    assert_eq!(reply.status, 400);
    let body = reply.json();
    assert_eq!(body["errors"][0]["location"], "querystring");
    assert_eq!(body["errors"][0]["name"], "update");
    assert_eq!(
        errors(&body),
        [
            "Cannot submit nano ('0', '8.1', '1.fc44') to testing since it is older than \
             ('0', '8.2', '1.fc44')"
        ]
    );
}

#[actix_web::test]
async fn obsolete_requests_obsolete_the_update() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
    let body = post_ok(
        &app,
        w.token("alice"),
        &format!("/updates/{alias}/request"),
        request("obsolete"),
    )
    .await;
    assert_eq!(body["update"]["status"], "obsolete");
    assert_eq!(body["update"]["request"], Value::Null);
    // Bodhi's `untag` removes the tags of its release map (candidate, testing, stable,
    // override, pending testing and stable); the signing tag is not among them.
    assert_eq!(w.tags("nano-8.2-1.fc44"), ["f44-signing-pending"]);
}
