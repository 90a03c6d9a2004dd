//! The update lifecycle beyond single requests: approve_testing (spec §2.7), obsoleting older
//! updates (§2.9), and what archiving or freezing a release does to its updates (§2.2), plus
//! `POST /releases/` itself (§3.7).

use actix_web::test::init_service;
use chrono::Duration;
use pipal::models::now;
use pipal::worker::Worker;
use serde_json::{Value, json};

use crate::support::world::{
    World, caveats, comment_texts, errors, get_json, new_update, post, post_ok, show, submit,
};

const TESTING_APPROVAL: &str = "This update can be pushed to stable now if the maintainer wishes";

fn run_approve_testing(w: &World) {
    let worker = Worker::with_all_handlers(w.state.clone());
    worker.make_periodic_due("approve_testing").unwrap();
    while worker.run_one().unwrap().is_some() {}
}

#[actix_web::test]
async fn approve_testing_pushes_updates_that_waited_long_enough() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
    w.push_to_testing(&alias);

    run_approve_testing(&w);
    assert_eq!(
        show(&app, &alias).await["request"],
        Value::Null,
        "only 0 days in testing"
    );

    w.alter_update(&alias, |u| u.date_testing = Some(now() - Duration::days(8)));
    run_approve_testing(&w);
    let update = show(&app, &alias).await;
    assert_eq!(update["request"], "stable");
    assert_ne!(update["date_approved"], Value::Null);
    assert_eq!(
        comment_texts(&update).last().unwrap(),
        "This update has been submitted for stable by bodhi. "
    );
}

#[actix_web::test]
async fn approve_testing_tells_maintainers_of_manual_updates_once() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
    w.push_to_testing(&alias);
    w.alter_update(&alias, |u| {
        u.autotime = false;
        u.date_testing = Some(now() - Duration::days(8));
    });

    run_approve_testing(&w);
    run_approve_testing(&w);
    let update = show(&app, &alias).await;
    assert_eq!(update["request"], Value::Null);
    let approvals = comment_texts(&update)
        .iter()
        .filter(|t| *t == TESTING_APPROVAL)
        .count();
    assert_eq!(approvals, 1);
}

#[actix_web::test]
async fn a_newer_build_obsoletes_the_older_update_and_inherits_its_bugs_and_notes() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    w.candidate("nano-8.3-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let mut old_form = new_update(&["nano-8.2-1.fc44"]);
    old_form["bugs"] = json!([111111]);
    old_form["notes"] = json!("Old notes.");
    let old = post_ok(&app, w.token("alice"), "/updates/", old_form).await;
    let old_alias = old["alias"].as_str().unwrap().to_owned();

    let mut new_form = new_update(&["nano-8.3-1.fc44"]);
    new_form["bugs"] = json!([222222]);
    new_form["notes"] = json!("New notes.");
    let new = post_ok(&app, w.token("alice"), "/updates/", new_form).await;
    let new_alias = new["alias"].as_str().unwrap().to_owned();

    let old = show(&app, &old_alias).await;
    assert_eq!(old["status"], "obsolete");
    assert_eq!(old["request"], Value::Null);
    let base = w.state.settings.base_address();
    assert_eq!(
        comment_texts(&old).last().unwrap(),
        &format!("This update has been obsoleted by [nano-8.3-1.fc44]({base}updates/{new_alias}).")
    );
    let new = show(&app, &new_alias).await;
    assert_eq!(new["notes"], "New notes.\n\n----\n\nOld notes.");
    let mut bugs: Vec<i64> = new["bugs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["bug_id"].as_i64().unwrap())
        .collect();
    bugs.sort();
    assert_eq!(bugs, [111111, 222222]);
    assert_eq!(
        comment_texts(&new).last().unwrap(),
        &format!(
            "This update has obsoleted [nano-8.2-1.fc44]({base}updates/{old_alias}), and has \
             inherited its bugs and notes."
        )
    );
    assert_eq!(w.tags("nano-8.2-1.fc44"), ["f44-signing-pending"]);
}

#[actix_web::test]
async fn an_update_that_obsoletes_a_security_update_becomes_one() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    w.candidate("nano-8.3-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let mut old_form = new_update(&["nano-8.2-1.fc44"]);
    old_form["type"] = json!("security");
    old_form["severity"] = json!("high");
    post_ok(&app, w.token("alice"), "/updates/", old_form).await;

    let new = post_ok(
        &app,
        w.token("alice"),
        "/updates/",
        new_update(&["nano-8.3-1.fc44"]),
    )
    .await;
    assert!(
        caveats(&new).contains(
            &"Adjusting type of this update to security,since it obsoletes another security update"
                .to_owned()
        ),
        "{:?}",
        caveats(&new)
    );
    let new = show(&app, new["alias"].as_str().unwrap()).await;
    assert_eq!(new["type"], "security");
    assert_eq!(new["severity"], "high");
}

fn release_form(state: &str) -> Value {
    json!({
        "name": "F44", "long_name": "Fedora 44", "version": "44", "branch": "f44",
        "id_prefix": "FEDORA", "dist_tag": "f44", "stable_tag": "f44-updates",
        "testing_tag": "f44-updates-testing", "candidate_tag": "f44-updates-candidate",
        "pending_signing_tag": "f44-signing-pending",
        "pending_testing_tag": "f44-updates-testing-pending",
        "pending_stable_tag": "f44-updates-pending", "override_tag": "f44-override",
        "state": state, "edited": "F44",
    })
}

#[actix_web::test]
async fn only_admins_create_releases_and_their_tags_must_exist() {
    let w = World::new();
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let mut form = release_form("pending");
    form["name"] = json!("F45");
    form["long_name"] = json!("Fedora 45");
    form["edited"] = Value::Null;

    let reply = post(&app, w.token("alice"), "/releases/", form.clone()).await;
    assert_eq!(reply.status, 403);

    for key in ["dist_tag", "stable_tag", "testing_tag", "candidate_tag"] {
        let tag = form[key].as_str().unwrap().replace("f44", "f45");
        form[key] = json!(tag);
    }
    let reply = post(&app, w.token("carol"), "/releases/", form.clone()).await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        errors(&reply.json())[0],
        "Invalid tag: f45-updates-candidate"
    );

    for tag in [
        "f45",
        "f45-updates",
        "f45-updates-testing",
        "f45-updates-candidate",
    ] {
        w.local().create_tag(tag, &[], None, &json!({})).unwrap();
    }
    for key in [
        "pending_signing_tag",
        "pending_testing_tag",
        "pending_stable_tag",
        "override_tag",
    ] {
        form[key] = json!("");
    }
    form["eol"] = json!("2150-01-01");
    let reply = post(&app, w.token("carol"), "/releases/", form.clone()).await;
    assert_eq!(
        errors(&reply.json()),
        ["End-of-life date may not be in the right range of years (2000-2100)"]
    );
    form["eol"] = json!("2027-12-01");
    let body = post_ok(&app, w.token("carol"), "/releases/", form).await;
    assert_eq!(body["name"], "F45");
    assert_eq!(body["state"], "pending");
    assert_eq!(body["eol"], "2027-12-01");
    let listed = get_json(&app, "/releases/F45").await;
    assert_eq!(listed["candidate_tag"], "f45-updates-candidate");
}

#[actix_web::test]
async fn archiving_a_release_obsoletes_its_open_updates() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    w.candidate("vim-9.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let open = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
    let stable = submit(&app, &w, "alice", &["vim-9.2-1.fc44"]).await;
    w.alter_update(&stable, |u| {
        u.status = pipal::db::types::UpdateStatus::Stable;
        u.request = None;
    });

    let body = post_ok(
        &app,
        w.token("carol"),
        "/releases/",
        release_form("archived"),
    )
    .await;
    assert_eq!(body["state"], "archived");
    let open = show(&app, &open).await;
    assert_eq!(open["status"], "obsolete");
    assert_eq!(
        comment_texts(&open).last().unwrap(),
        "This update is marked obsolete because the F44 release is archived."
    );
    assert_eq!(show(&app, &stable).await["status"], "stable");
}

#[actix_web::test]
async fn freezing_a_release_tells_updates_waiting_for_stable() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
    w.push_to_testing(&alias);
    w.alter_update(&alias, |u| {
        u.request = Some(pipal::db::types::UpdateRequest::Stable)
    });

    post_ok(&app, w.token("carol"), "/releases/", release_form("frozen")).await;
    let update = show(&app, &alias).await;
    assert_eq!(
        comment_texts(&update).last().unwrap(),
        "There is an ongoing freeze; this will be pushed to stable after the freeze is over."
    );
}

fn run_check_signed_builds(w: &World) {
    let worker = Worker::with_all_handlers(w.state.clone());
    worker.make_periodic_due("check_signed_builds").unwrap();
    while worker.run_one().unwrap().is_some() {}
}

#[actix_web::test]
async fn check_signed_builds_repairs_stuck_pending_updates() {
    let w = World::new();
    for nvr in [
        "nano-8.2-1.fc44",
        "vim-9.2-1.fc44",
        "tool-1.0-1.fc44",
        "gone-1.0-1.fc44",
        "young-1.0-1.fc44",
    ] {
        w.candidate(nvr);
    }
    for package in ["tool", "gone", "young"] {
        w.grant(package, "alice");
    }
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let signed_by_lost_message = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
    let never_sent = submit(&app, &w, "alice", &["vim-9.2-1.fc44"]).await;
    let waiting = submit(&app, &w, "alice", &["tool-1.0-1.fc44"]).await;
    let empty = submit(&app, &w, "alice", &["gone-1.0-1.fc44"]).await;
    let young = submit(&app, &w, "alice", &["young-1.0-1.fc44"]).await;
    for alias in [&signed_by_lost_message, &never_sent, &waiting, &empty] {
        w.alter_update(alias, |u| u.date_submitted = now() - Duration::days(3));
    }
    // The signer moved nano to the pending-testing tag; Pipal missed the message.
    w.state
        .buildsys
        .untag_build("f44-signing-pending", "nano-8.2-1.fc44", "signer")
        .unwrap();
    w.tag("nano-8.2-1.fc44", "f44-updates-testing-pending");
    // vim never reached the signing tag; neither did young, but it is too recent to touch.
    for nvr in ["vim-9.2-1.fc44", "young-1.0-1.fc44"] {
        w.state
            .buildsys
            .untag_build("f44-signing-pending", nvr, "tests")
            .unwrap();
    }
    {
        use diesel::prelude::*;
        use pipal::db::schema::builds;
        diesel::delete(builds::table.filter(builds::nvr.eq("gone-1.0-1.fc44")))
            .execute(&mut w.db.conn())
            .unwrap();
    }
    let signing_events_before = w
        .local()
        .tag_history("tool-1.0-1.fc44")
        .unwrap()
        .iter()
        .filter(|(tag, _, _)| tag == "f44-signing-pending")
        .count();

    run_check_signed_builds(&w);

    let nano = get_json(&app, "/builds/nano-8.2-1.fc44").await;
    assert_eq!(nano["signed"], true, "signed from the tags");
    assert!(
        w.tags("vim-9.2-1.fc44")
            .contains(&"f44-signing-pending".to_owned())
    );
    let history = w.local().tag_history("tool-1.0-1.fc44").unwrap();
    let signing_events = history
        .iter()
        .filter(|(tag, _, _)| tag == "f44-signing-pending")
        .count();
    assert_eq!(
        signing_events,
        signing_events_before + 1,
        "tool was untagged and tagged again: {history:?}"
    );
    assert!(
        w.tags("tool-1.0-1.fc44")
            .contains(&"f44-signing-pending".to_owned())
    );
    assert_eq!(show(&app, &empty).await["status"], "obsolete");
    assert!(
        !w.tags("young-1.0-1.fc44")
            .contains(&"f44-signing-pending".to_owned()),
        "updates younger than the delay are left alone"
    );
    assert_eq!(show(&app, &never_sent).await["status"], "pending");
    assert_eq!(show(&app, &young).await["status"], "pending");
}
