//! Buildroot overrides (spec §2.10, §3.6): validation, the override tag in the build system,
//! replacing and merging overrides, editing, expiring, and the hourly expiry job.

use actix_web::test::init_service;
use chrono::{Duration, NaiveDateTime};
use pipal::models::now;
use pipal::worker::Worker;
use serde_json::{Value, json};

use crate::support::world::{World, caveats, errors, get, get_json, post, post_ok};

fn in_days(days: i64) -> String {
    (now() + Duration::days(days))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

fn override_form(nvr: &str, days: i64, notes: &str) -> Value {
    json!({"nvr": nvr, "notes": notes, "expiration_date": in_days(days)})
}

#[actix_web::test]
async fn an_override_tags_the_build_into_the_override_tag() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;

    let body = post_ok(
        &app,
        w.token("bob"),
        "/overrides/",
        override_form("nano-8.2-1.fc44", 7, "Needed to build vim."),
    )
    .await;
    assert_eq!(body["nvr"], "nano-8.2-1.fc44");
    assert_eq!(body["notes"], "Needed to build vim.");
    assert_eq!(body["submitter"]["name"], "bob");
    assert_eq!(body["expired_date"], Value::Null);
    assert!(body["build"]["release_id"].is_number());
    assert_eq!(body["caveats"], json!([]));
    assert_eq!(
        w.tags("nano-8.2-1.fc44"),
        ["f44-override", "f44-updates-candidate"]
    );

    let shown = get_json(&app, "/overrides/nano-8.2-1.fc44").await;
    assert_eq!(shown["override"]["notes"], "Needed to build vim.");
    let listed = get_json(&app, "/overrides/?builds=nano-8.2-1.fc44").await;
    assert_eq!(listed["total"], 1);
}

#[actix_web::test]
async fn override_forms_are_validated() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    w.build_in("vim-9.1-1.fc44", "f44-updates");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let bob = w.token("bob");

    let cases = [
        (
            override_form("nano-8.2-1.fc44", -1, "Too late."),
            "Expiration date in the past",
        ),
        (
            override_form("nano-8.2-1.fc44", 40, "Too long."),
            "Expiration date may not be longer than 31",
        ),
        (
            override_form("nano-8.2-1.fc44", 3, &"x".repeat(2001)),
            "Notes may not contain more than 2000 chars",
        ),
        (
            override_form("vim-9.1-1.fc44", 3, "Stable build."),
            "Invalid build",
        ),
        (
            override_form("nope-1-1.fc44", 3, "Unknown."),
            "Couldn't determine koji tags for nope-1-1.fc44, 'No such build: nope-1-1.fc44'",
        ),
    ];
    for (form, message) in cases {
        let reply = post(&app, bob, "/overrides/", form.clone()).await;
        assert_eq!(reply.status, 400, "{form}: {}", reply.text());
        assert_eq!(errors(&reply.json()), [message], "{form}");
    }

    let reply = post(
        &app,
        bob,
        "/overrides/",
        json!({"nvr": "nano-8.2-1.fc44", "notes": "No date."}),
    )
    .await;
    assert_eq!(errors(&reply.json()), ["Required"]);
    assert_eq!(reply.json()["errors"][0]["name"], "expiration_date");

    let reply = post(
        &app,
        w.token("tess"),
        "/overrides/",
        override_form("nano-8.2-1.fc44", 3, "Hi."),
    )
    .await;
    assert_eq!(reply.status, 403, "overrides are for packagers");

    let mut edit_many = override_form("nano-8.2-1.fc44 vim-9.1-1.fc44", 3, "Both.");
    edit_many["edited"] = json!("nano-8.2-1.fc44");
    let reply = post(&app, bob, "/overrides/", edit_many).await;
    assert_eq!(
        errors(&reply.json()),
        ["Cannot combine multiple NVRs with editing a buildroot override."]
    );
}

#[actix_web::test]
async fn several_nvrs_make_several_overrides() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    w.candidate("vim-9.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let body = post_ok(
        &app,
        w.token("bob"),
        "/overrides/",
        override_form("nano-8.2-1.fc44,vim-9.2-1.fc44", 3, "Both."),
    )
    .await;
    assert_eq!(body["overrides"].as_array().unwrap().len(), 2);
    assert_eq!(
        caveats(&body),
        ["Your override submission was split into 2."]
    );
    assert!(
        w.tags("vim-9.2-1.fc44")
            .contains(&"f44-override".to_owned())
    );
}

#[actix_web::test]
async fn a_newer_override_of_a_package_replaces_the_older_one() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    w.candidate("nano-8.3-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    post_ok(
        &app,
        w.token("bob"),
        "/overrides/",
        override_form("nano-8.2-1.fc44", 3, "First."),
    )
    .await;
    post_ok(
        &app,
        w.token("bob"),
        "/overrides/",
        override_form("nano-8.3-1.fc44", 3, "Second."),
    )
    .await;
    let old = get_json(&app, "/overrides/nano-8.2-1.fc44").await;
    assert_ne!(old["override"]["expired_date"], Value::Null);
    assert_eq!(w.tags("nano-8.2-1.fc44"), ["f44-updates-candidate"]);
    assert_eq!(
        w.tags("nano-8.3-1.fc44"),
        ["f44-override", "f44-updates-candidate"]
    );
}

#[actix_web::test]
async fn a_second_override_of_a_build_merges_notes_and_keeps_the_later_expiry() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let first = post_ok(
        &app,
        w.token("bob"),
        "/overrides/",
        override_form("nano-8.2-1.fc44", 10, "First."),
    )
    .await;
    let second = post_ok(
        &app,
        w.token("alice"),
        "/overrides/",
        override_form("nano-8.2-1.fc44", 2, "Second."),
    )
    .await;
    let day = NaiveDateTime::parse_from_str(
        first["submission_date"].as_str().unwrap(),
        "%Y-%m-%d %H:%M:%S",
    )
    .unwrap()
    .format("%b %d, %Y");
    assert_eq!(
        second["notes"],
        format!("Second.\n_____________\n_@bob ({day})_\nFirst.")
    );
    assert_eq!(second["submitter"]["name"], "alice");
    assert_eq!(second["expiration_date"], first["expiration_date"]);
}

#[actix_web::test]
async fn edits_expire_and_reenable_overrides() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    post_ok(
        &app,
        w.token("bob"),
        "/overrides/",
        override_form("nano-8.2-1.fc44", 3, "Needed."),
    )
    .await;

    let mut expire = override_form("nano-8.2-1.fc44", 3, "Done.");
    expire["edited"] = json!("nano-8.2-1.fc44");
    expire["expired"] = json!(true);
    let body = post_ok(&app, w.token("bob"), "/overrides/", expire).await;
    assert_ne!(body["expired_date"], Value::Null);
    assert_eq!(body["notes"], "Done.");
    assert_eq!(w.tags("nano-8.2-1.fc44"), ["f44-updates-candidate"]);

    let mut again = override_form("nano-8.2-1.fc44", 5, "Needed again.");
    again["edited"] = json!("nano-8.2-1.fc44");
    let body = post_ok(&app, w.token("bob"), "/overrides/", again).await;
    assert_eq!(body["expired_date"], Value::Null);
    assert_eq!(
        w.tags("nano-8.2-1.fc44"),
        ["f44-override", "f44-updates-candidate"]
    );

    let mut unknown = override_form("vim-1-1.fc44", 5, "Missing.");
    unknown["edited"] = json!("vim-1-1.fc44");
    w.candidate("vim-1-1.fc44");
    let reply = post(&app, w.token("bob"), "/overrides/", unknown).await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        errors(&reply.json()),
        ["No buildroot override for this build"]
    );

    let missing = get(&app, "/overrides/vim-1-1.fc44").await;
    assert_eq!(missing.status, 404);
}

#[actix_web::test]
async fn the_hourly_job_expires_overrides_past_their_date() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    w.candidate("vim-9.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    for nvr in ["nano-8.2-1.fc44", "vim-9.2-1.fc44"] {
        post_ok(
            &app,
            w.token("bob"),
            "/overrides/",
            override_form(nvr, 3, "Needed."),
        )
        .await;
    }
    {
        use diesel::prelude::*;
        use pipal::db::schema::{buildroot_overrides, builds};
        let nano: i32 = builds::table
            .filter(builds::nvr.eq("nano-8.2-1.fc44"))
            .select(builds::id)
            .first(&mut w.db.conn())
            .unwrap();
        diesel::update(buildroot_overrides::table.filter(buildroot_overrides::build_id.eq(nano)))
            .set(buildroot_overrides::expiration_date.eq(now() - Duration::hours(1)))
            .execute(&mut w.db.conn())
            .unwrap();
    }

    let worker = Worker::with_all_handlers(w.state.clone());
    worker.schedule_periodic().unwrap();
    while worker.run_one().unwrap().is_some() {}

    let nano = get_json(&app, "/overrides/nano-8.2-1.fc44").await;
    assert_ne!(nano["override"]["expired_date"], Value::Null);
    assert_eq!(w.tags("nano-8.2-1.fc44"), ["f44-updates-candidate"]);
    let vim = get_json(&app, "/overrides/vim-9.2-1.fc44").await;
    assert_eq!(vim["override"]["expired_date"], Value::Null);
    assert!(
        w.tags("vim-9.2-1.fc44")
            .contains(&"f44-override".to_owned())
    );
}
