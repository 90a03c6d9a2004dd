//! `POST /updates/`: creating and editing updates (spec §2.8, §3.4) with Bodhi's validation
//! texts, permissions, caveats, the karma-reset comment and the build system tags that follow.

use actix_web::test::{TestRequest, init_service};
use serde_json::{Value, json};

use crate::support::http::send;
use crate::support::world::{
    World, caveats, comment_texts, errors, get, get_json, new_update, post, post_ok,
};

#[actix_web::test]
async fn a_new_update_is_pending_with_a_testing_request_and_its_builds_tagged() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;

    let body = post_ok(
        &app,
        w.token("alice"),
        "/updates/",
        new_update(&["nano-8.2-1.fc44"]),
    )
    .await;
    let alias = body["alias"].as_str().expect("alias").to_owned();
    assert!(alias.starts_with("FEDORA-20"), "{alias}");
    assert_eq!(body["title"], "nano-8.2-1.fc44");
    assert_eq!(body["status"], "pending");
    assert_eq!(body["request"], "testing");
    assert_eq!(body["user"]["name"], "alice");
    assert_eq!(body["release"]["name"], "F44");
    assert_eq!(body["content_type"], "rpm");
    assert_eq!(body["stable_karma"], 3);
    assert_eq!(body["stable_days"], 7);
    assert_eq!(
        caveats(&body),
        ["The number of stable days required was set to the mandatory release value of 7 days"]
    );
    assert_eq!(
        comment_texts(&body),
        ["This update has been submitted for testing by alice. "]
    );
    assert_eq!(body["comments"][0]["user"]["name"], "bodhi");
    assert_eq!(
        w.tags("nano-8.2-1.fc44"),
        ["f44-signing-pending", "f44-updates-candidate"]
    );

    let shown = get_json(&app, &format!("/updates/{alias}")).await;
    assert_eq!(shown["update"]["alias"], alias.as_str());
    assert_eq!(shown["can_edit"], false, "anonymous users cannot edit");
}

#[actix_web::test]
async fn a_low_stable_karma_is_raised_to_the_release_minimum() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let mut form = new_update(&["nano-8.2-1.fc44"]);
    form["stable_karma"] = json!(1);
    form["stable_days"] = json!(10);
    let body = post_ok(&app, w.token("alice"), "/updates/", form).await;
    assert_eq!(body["stable_karma"], 2);
    assert_eq!(body["stable_days"], 10, "more than the minimum is kept");
    assert_eq!(
        caveats(&body),
        ["The stable karma required was set to the mandatory release value of 2"]
    );
}

#[actix_web::test]
async fn the_form_is_validated_with_bodhis_messages() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alice = w.token("alice");

    let reply = post(
        &app,
        alice,
        "/updates/",
        json!({"builds": ["nano-8.2-1.fc44"]}),
    )
    .await;
    assert_eq!(reply.status, 400);
    let body = reply.json();
    let fields: Vec<(&str, &str)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap(),
                e["description"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(fields.contains(&("type", "Required")), "{fields:?}");
    assert!(
        fields.contains(&("notes", "A description is required for the update.")),
        "{fields:?}"
    );

    let mut security = new_update(&["nano-8.2-1.fc44"]);
    security["type"] = json!("security");
    let reply = post(&app, alice, "/updates/", security).await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        errors(&reply.json()),
        ["Must specify severity for a security update"]
    );

    let mut bad_type = new_update(&["nano-8.2-1.fc44"]);
    bad_type["type"] = json!("feature");
    let reply = post(&app, alice, "/updates/", bad_type).await;
    assert_eq!(
        errors(&reply.json()),
        ["\"feature\" is not one of bugfix, security, newpackage, enhancement, unspecified"]
    );

    let reply = post(
        &app,
        alice,
        "/updates/",
        json!({"type": "bugfix", "notes": "x y"}),
    )
    .await;
    assert_eq!(
        errors(&reply.json()),
        ["You must specify either builds or from_tag."]
    );
    assert_eq!(reply.json()["errors"][0]["name"], "builds,from_tag");

    let mut empty = new_update(&[]);
    empty["builds"] = json!([]);
    let reply = post(&app, alice, "/updates/", empty).await;
    assert_eq!(
        errors(&reply.json()),
        ["You may not specify an empty list of builds."]
    );
}

#[actix_web::test]
async fn builds_are_checked_against_the_build_system() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    w.candidate("nano-8.3-1.fc44");
    w.build_in("vim-9.1-1.fc44", "f44-updates");
    w.candidate("vim-9.2-1.fc44");
    w.build_in("lonely-1.0-1.fc44", "f44-updates-candidate");
    w.grant("lonely", "alice");
    w.local()
        .create_tag("elsewhere", &[], None, &json!({}))
        .unwrap();
    w.build_in("nano-0.1-1.el9", "elsewhere");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alice = w.token("alice");

    let cases: &[(&[&str], &str)] = &[
        (
            &["nano-9.9-1.fc44"],
            "Build does not exist: nano-9.9-1.fc44",
        ),
        (
            &["nano-8.2-1.fc44", "nano-8.2-1.fc44"],
            "Duplicate builds: nano-8.2-1.fc44",
        ),
        (
            &["nano-8.2-1.fc44", "nano-8.3-1.fc44"],
            "Multiple nano builds specified in F44",
        ),
        (
            &["vim-9.1-1.fc44"],
            "Invalid tag: vim-9.1-1.fc44 not tagged with any of the following tags \
             ['f44-updates-candidate']",
        ),
        (
            &["nano-0.1-1.el9"],
            "Cannot find release associated with build: nano-0.1-1.el9, tags: ['elsewhere']",
        ),
    ];
    for (builds, message) in cases {
        let reply = post(&app, alice, "/updates/", new_update(builds)).await;
        assert_eq!(reply.status, 400, "{builds:?}: {}", reply.text());
        assert_eq!(errors(&reply.json()), [*message], "{builds:?}");
        assert_eq!(reply.json()["errors"][0]["name"], "builds");
    }

    post_ok(&app, alice, "/updates/", new_update(&["vim-9.2-1.fc44"])).await;
    let reply = post(&app, alice, "/updates/", new_update(&["vim-9.2-1.fc44"])).await;
    assert_eq!(
        errors(&reply.json()),
        ["Update for vim-9.2-1.fc44 already exists"]
    );
}

#[actix_web::test]
async fn only_packagers_with_commit_access_create_updates() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let form = new_update(&["nano-8.2-1.fc44"]);

    let reply = post(&app, w.token("bob"), "/updates/", form.clone()).await;
    assert_eq!(reply.status, 403);
    assert_eq!(
        errors(&reply.json()),
        ["bob does not have commit access to nano"]
    );

    // Bodhi's route ACL refuses users outside the packager groups before any validation.
    let reply = post(&app, w.token("tess"), "/updates/", form.clone()).await;
    assert_eq!(reply.status, 403);
    assert_eq!(
        errors(&reply.json()),
        ["tess is not in any of the groups that may do this: packager"]
    );

    let anonymous = send(
        &app,
        TestRequest::post().uri("/updates/").set_json(form.clone()),
    )
    .await;
    assert_eq!(anonymous.status, 403);

    let body = post_ok(&app, w.token("pete"), "/updates/", form).await;
    assert_eq!(
        body["user"]["name"], "pete",
        "provenpackagers may update any package"
    );
}

#[actix_web::test]
async fn builds_of_two_releases_make_two_updates() {
    let w = World::new();
    let mut f43 = pipal::services::releases::fedora_release("F43", "Fedora 43", "f43");
    f43.state = pipal::db::types::ReleaseState::Current;
    w.add_release(&f43);
    w.candidate("nano-8.2-1.fc44");
    w.build_in("nano-8.2-1.fc43", "f43-updates-candidate");
    let app = init_service(pipal::web::app(w.state.clone())).await;

    let body = post_ok(
        &app,
        w.token("alice"),
        "/updates/",
        new_update(&["nano-8.2-1.fc44", "nano-8.2-1.fc43"]),
    )
    .await;
    let updates = body["updates"].as_array().expect("one update per release");
    let mut releases: Vec<&str> = updates
        .iter()
        .map(|u| u["release"]["name"].as_str().unwrap())
        .collect();
    releases.sort();
    assert_eq!(releases, ["F43", "F44"]);
    assert_eq!(
        caveats(&body)[0],
        "Your update is being split into 2, one for each release."
    );
}

#[actix_web::test]
async fn form_encoded_bodies_take_lists_as_repeated_keys_or_strings() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    w.candidate("vim-9.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let reply = send(
        &app,
        TestRequest::post()
            .uri("/updates/")
            .insert_header(("Authorization", format!("Bearer {}", w.token("alice"))))
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .set_payload(
                "builds=nano-8.2-1.fc44&builds=vim-9.2-1.fc44&type=enhancement\
                 &notes=Two+builds&bugs=123456,234567&autokarma=False&severity=low",
            ),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["title"], "nano-8.2-1.fc44 vim-9.2-1.fc44");
    assert_eq!(body["autokarma"], false);
    assert_eq!(body["type"], "enhancement");
    let bugs: Vec<i64> = body["bugs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["bug_id"].as_i64().unwrap())
        .collect();
    assert_eq!(bugs, [123456, 234567]);
}

#[actix_web::test]
async fn editing_builds_resets_karma_and_moves_the_tags() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    w.candidate("vim-9.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alice = w.token("alice");
    let created = post_ok(&app, alice, "/updates/", new_update(&["nano-8.2-1.fc44"])).await;
    let alias = created["alias"].as_str().unwrap().to_owned();
    post_ok(
        &app,
        w.token("bob"),
        "/comments/",
        json!({"update": alias, "text": "Works.", "karma": 1}),
    )
    .await;

    let mut form = new_update(&["vim-9.2-1.fc44"]);
    form["edited"] = json!(alias);
    form["notes"] = json!("Now vim instead.");
    let edited = post_ok(&app, alice, "/updates/", form).await;
    let edit_comment = "alice edited this update.\n\nNew build(s):\n\n- vim-9.2-1.fc44\
                        \n\nRemoved build(s):\n\n- nano-8.2-1.fc44\n\nKarma has been reset.";
    assert_eq!(
        caveats(&edited),
        [
            "The number of stable days required was raised to the mandatory release value of 7 days",
            edit_comment
        ]
    );
    assert_eq!(edited["notes"], "Now vim instead.");
    assert_eq!(edited["title"], "vim-9.2-1.fc44");
    assert_eq!(edited["karma"], 0, "bob's +1 came before the reset");
    assert!(comment_texts(&edited).contains(&edit_comment.to_owned()));
    assert_eq!(
        w.tags("nano-8.2-1.fc44"),
        ["f44-updates-candidate"],
        "a removed build leaves the pending tags"
    );
    assert_eq!(
        w.tags("vim-9.2-1.fc44"),
        ["f44-signing-pending", "f44-updates-candidate"]
    );
    let build = get(&app, "/builds/nano-8.2-1.fc44").await;
    assert_eq!(build.status, 404, "a removed build is forgotten");
}

#[actix_web::test]
async fn editing_a_tested_update_sends_it_back_to_testing() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    w.candidate("nano-8.3-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alice = w.token("alice");
    let created = post_ok(&app, alice, "/updates/", new_update(&["nano-8.2-1.fc44"])).await;
    let alias = created["alias"].as_str().unwrap().to_owned();
    w.push_to_testing(&alias);

    let mut form = new_update(&["nano-8.3-1.fc44"]);
    form["edited"] = json!(alias);
    let edited = post_ok(&app, alice, "/updates/", form).await;
    assert!(
        caveats(&edited)
            .contains(&"Builds changed.  Your update is being sent back to testing.".to_owned()),
        "{:?}",
        caveats(&edited)
    );
    assert_eq!(edited["status"], "pending");
    assert_eq!(edited["request"], "testing");
    assert_eq!(edited["date_testing"], Value::Null);
    assert_eq!(w.tags("nano-8.2-1.fc44"), ["f44-updates-candidate"]);
    assert_eq!(
        w.tags("nano-8.3-1.fc44"),
        ["f44-signing-pending", "f44-updates-candidate"]
    );
}

#[actix_web::test]
async fn edits_follow_the_permission_and_state_rules() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    w.candidate("nano-8.3-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let created = post_ok(
        &app,
        w.token("alice"),
        "/updates/",
        new_update(&["nano-8.2-1.fc44"]),
    )
    .await;
    let alias = created["alias"].as_str().unwrap().to_owned();
    let mut form = new_update(&["nano-8.2-1.fc44"]);
    form["edited"] = json!(alias);

    let reply = post(&app, w.token("bob"), "/updates/", form.clone()).await;
    assert_eq!(reply.status, 403);
    assert_eq!(
        errors(&reply.json()),
        ["bob does not have commit access to nano"]
    );

    let mut missing = form.clone();
    missing["edited"] = json!("FEDORA-2026-0000000000");
    let reply = post(&app, w.token("alice"), "/updates/", missing).await;
    assert_eq!(
        errors(&reply.json()),
        ["Cannot find update to edit: FEDORA-2026-0000000000"]
    );

    {
        use pipal::models::update::Update;
        let mut conn = w.db.conn();
        let mut update = Update::by_alias(&mut conn, &alias).unwrap().unwrap();
        update.locked = true;
        update.save(&mut conn).unwrap();
    }
    let mut add = form.clone();
    add["builds"] = json!(["nano-8.3-1.fc44"]);
    let reply = post(&app, w.token("alice"), "/updates/", add).await;
    assert_eq!(
        errors(&reply.json()),
        ["Can't add builds to a locked update"]
    );
    let notes_only = post_ok(&app, w.token("alice"), "/updates/", form.clone()).await;
    assert_eq!(notes_only["comments"].as_array().unwrap().len(), 2);

    {
        use pipal::db::types::UpdateStatus;
        use pipal::models::update::Update;
        let mut conn = w.db.conn();
        let mut update = Update::by_alias(&mut conn, &alias).unwrap().unwrap();
        update.locked = false;
        update.status = UpdateStatus::Stable;
        update.request = None;
        update.save(&mut conn).unwrap();
    }
    let reply = post(&app, w.token("alice"), "/updates/", form.clone()).await;
    assert_eq!(errors(&reply.json()), ["Cannot edit stable updates"]);
    post_ok(&app, w.token("pete"), "/updates/", form).await;
}

#[actix_web::test]
async fn editing_raises_a_low_stable_karma_with_its_own_wording() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let created = post_ok(
        &app,
        w.token("alice"),
        "/updates/",
        new_update(&["nano-8.2-1.fc44"]),
    )
    .await;
    let mut form = new_update(&["nano-8.2-1.fc44"]);
    form["edited"] = created["alias"].clone();
    form["stable_karma"] = json!(1);
    let edited = post_ok(&app, w.token("alice"), "/updates/", form).await;
    let caveats = caveats(&edited);
    assert!(
        caveats.contains(
            &"The number of stable days required was raised to the mandatory release value of 7 days"
                .to_owned()
        ),
        "{caveats:?}"
    );
    assert!(
        caveats.contains(
            &"The stable karma required was raised to the mandatory release value of 2".to_owned()
        ),
        "{caveats:?}"
    );
}

#[actix_web::test]
async fn releases_not_composed_by_pipal_refuse_manual_updates() {
    let w = World::new();
    let mut rawhide = pipal::services::releases::fedora_release("F45", "Fedora 45", "f45");
    rawhide.composed_by_bodhi = false;
    rawhide.state = pipal::db::types::ReleaseState::Pending;
    w.add_release(&rawhide);
    w.build_in("nano-9.0-1.fc45", "f45-updates-candidate");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let reply = post(
        &app,
        w.token("alice"),
        "/updates/",
        new_update(&["nano-9.0-1.fc45"]),
    )
    .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        errors(&reply.json()),
        [
            "Cannot manually create updates for a Release which is not composed by Bodhi.\n\
             Read the 'Automatic updates' page in Bodhi docs about this error."
        ]
    );
}

#[actix_web::test]
async fn side_tag_updates_take_the_tags_builds_and_owner() {
    let w = World::new();
    let local = w.local();
    local
        .create_tag(
            "f44-build-side-1",
            &["f44-updates-candidate".to_owned()],
            None,
            &json!({"sidetag": true, "sidetag_user": "bob"}),
        )
        .unwrap();
    local
        .create_tag("f44-plain", &[], None, &json!({}))
        .unwrap();
    w.build_in("nano-8.4-1.fc44", "f44-build-side-1");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let side = |tag: &str| json!({"from_tag": tag, "type": "bugfix", "notes": "From a side tag."});

    for (tag, message) in [
        ("f44-nope", "The supplied from_tag doesn't exist."),
        ("f44-plain", "The supplied tag is not a side tag."),
    ] {
        let reply = post(&app, w.token("bob"), "/updates/", side(tag)).await;
        assert_eq!(errors(&reply.json()), [message]);
    }

    // bob has no ACL on nano, but he owns the side tag.
    let body = post_ok(&app, w.token("bob"), "/updates/", side("f44-build-side-1")).await;
    assert_eq!(body["from_tag"], "f44-build-side-1");
    assert_eq!(body["title"], "nano-8.4-1.fc44");
    assert_eq!(
        body["request"],
        Value::Null,
        "side-tag updates wait for signing"
    );
    assert_eq!(
        w.tags("nano-8.4-1.fc44"),
        [
            "f44-build-side-1",
            "f44-signing-pending",
            "f44-updates-candidate"
        ]
    );

    let reply = post(&app, w.token("bob"), "/updates/", side("f44-build-side-1")).await;
    assert_eq!(
        errors(&reply.json()),
        ["Update already exists using this side tag"]
    );
}
