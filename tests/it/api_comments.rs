//! Comments and karma (spec §2.7, §3.5): who may give karma, what counts, the thresholds that
//! request stable, obsolete, or stop automatic pushes, and karma under concurrency.

use actix_web::test::{TestRequest, init_service};
use pipal::models::now;
use pipal::services::accounts::{self, UserSpec};
use serde_json::{Value, json};

use crate::support::http::send;
use crate::support::world::{
    World, caveats, comment_texts, errors, get_json, post, post_ok, show, submit,
};

fn karma(alias: &str, karma: i32, text: &str) -> Value {
    json!({"update": alias, "text": text, "karma": karma})
}

const DISABLE_AUTOMATIC_PUSH: &str = "Bodhi is disabling automatic push to stable due to \
negative karma. The maintainer may push manually if they determine that the issue is not severe.";

#[actix_web::test]
async fn a_comment_needs_an_author_an_update_and_something_to_say() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;

    let anonymous = send(
        &app,
        TestRequest::post()
            .uri("/comments/")
            .set_json(karma(&alias, 1, "Works.")),
    )
    .await;
    assert_eq!(anonymous.status, 403);
    assert_eq!(errors(&anonymous.json()), ["You must provide an author"]);

    let reply = post(&app, w.token("bob"), "/comments/", json!({"update": alias})).await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        errors(&reply.json()),
        ["You must provide either some text or feedback"]
    );

    let reply = post(
        &app,
        w.token("bob"),
        "/comments/",
        karma("FEDORA-2026-0000000000", 1, "Works."),
    )
    .await;
    assert_eq!(reply.status, 404);
    assert_eq!(
        errors(&reply.json()),
        ["Invalid update specified: FEDORA-2026-0000000000"]
    );

    let reply = post(
        &app,
        w.token("bob"),
        "/comments/",
        karma(&alias, 2, "Great!"),
    )
    .await;
    assert_eq!(errors(&reply.json()), ["2 is greater than maximum value 1"]);

    let reply = post(
        &app,
        w.token("bob"),
        "/comments/",
        json!({"update": alias, "text": "Fixed?", "bug_feedback": [{"bug_id": 99999, "karma": 1}]}),
    )
    .await;
    assert_eq!(errors(&reply.json()), ["Invalid bug ids specified: 99999"]);
}

#[actix_web::test]
async fn a_comment_answers_with_its_json_and_caveats() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;

    let body = post_ok(
        &app,
        w.token("bob"),
        "/comments/",
        karma(&alias, 1, "Works for **me**."),
    )
    .await;
    let comment = &body["comment"];
    assert_eq!(comment["text"], "Works for **me**.");
    assert_eq!(comment["karma"], 1);
    assert_eq!(comment["user"]["name"], "bob");
    assert_eq!(comment["update"]["alias"], alias.as_str());
    assert_eq!(comment["author"], "bob");
    assert_eq!(comment["update_alias"], alias.as_str());
    assert_eq!(body["caveats"], json!([]));

    let fetched = get_json(&app, &format!("/comments/{}", comment["id"])).await;
    assert_eq!(fetched["comment"]["text"], "Works for **me**.");
}

#[actix_web::test]
async fn authors_cannot_karma_their_own_updates() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;

    let body = post_ok(
        &app,
        w.token("alice"),
        "/comments/",
        karma(&alias, 1, "Mine."),
    )
    .await;
    assert_eq!(
        body["comment"]["karma"], 0,
        "the comment is kept without karma"
    );
    assert_eq!(
        caveats(&body),
        ["You may not give karma to your own updates."]
    );
    assert_eq!(show(&app, &alias).await["karma"], 0);
}

#[actix_web::test]
async fn each_users_latest_nonzero_vote_counts_once() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
    w.alter_update(&alias, |u| u.autokarma = false);

    post_ok(
        &app,
        w.token("bob"),
        "/comments/",
        karma(&alias, 1, "Good."),
    )
    .await;
    post_ok(
        &app,
        w.token("bob"),
        "/comments/",
        karma(&alias, 1, "Still good."),
    )
    .await;
    assert_eq!(show(&app, &alias).await["karma"], 1);

    let body = post_ok(
        &app,
        w.token("bob"),
        "/comments/",
        karma(&alias, -1, "Broke."),
    )
    .await;
    assert_eq!(caveats(&body), ["Your karma standing was reversed."]);
    assert_eq!(show(&app, &alias).await["karma"], -1);

    post_ok(
        &app,
        w.token("bob"),
        "/comments/",
        karma(&alias, 0, "Just a note."),
    )
    .await;
    assert_eq!(
        show(&app, &alias).await["karma"],
        -1,
        "a later comment without karma keeps the vote"
    );

    post_ok(
        &app,
        w.token("carol"),
        "/comments/",
        karma(&alias, 1, "Fine here."),
    )
    .await;
    assert_eq!(show(&app, &alias).await["karma"], 0);
}

#[actix_web::test]
async fn autokarma_requests_stable_at_the_stable_threshold() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
    w.push_to_testing(&alias);

    for tester in ["bob", "carol"] {
        post_ok(
            &app,
            w.token(tester),
            "/comments/",
            karma(&alias, 1, "Good."),
        )
        .await;
    }
    assert_eq!(show(&app, &alias).await["request"], Value::Null);
    post_ok(
        &app,
        w.token("pete"),
        "/comments/",
        karma(&alias, 1, "Good."),
    )
    .await;

    let update = show(&app, &alias).await;
    assert_eq!(update["karma"], 3);
    assert_eq!(update["request"], "stable");
    assert_ne!(update["date_approved"], Value::Null);
    assert_eq!(
        comment_texts(&update).last().unwrap(),
        "This update has been submitted for stable by bodhi. "
    );
    assert!(
        w.tags("nano-8.2-1.fc44")
            .contains(&"f44-updates-pending".to_owned())
    );
}

#[actix_web::test]
async fn negative_karma_stops_automatic_pushes_and_the_unstable_threshold_obsoletes() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
    w.push_to_testing(&alias);
    w.alter_update(&alias, |u| u.unstable_karma = -2);

    post_ok(
        &app,
        w.token("bob"),
        "/comments/",
        karma(&alias, -1, "Crashes."),
    )
    .await;
    let update = show(&app, &alias).await;
    assert_eq!(update["autokarma"], false);
    assert_eq!(update["autotime"], false);
    assert_eq!(
        comment_texts(&update).last().unwrap(),
        DISABLE_AUTOMATIC_PUSH
    );
    assert_eq!(update["status"], "testing");

    post_ok(
        &app,
        w.token("carol"),
        "/comments/",
        karma(&alias, -1, "Same."),
    )
    .await;
    let update = show(&app, &alias).await;
    assert_eq!(update["karma"], -2);
    assert_eq!(update["status"], "obsolete");
    assert_eq!(update["request"], Value::Null);
}

#[actix_web::test]
async fn concurrent_karma_is_counted_exactly_and_requests_stable_once() {
    const TESTERS: usize = 50;
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
    w.push_to_testing(&alias);

    let mut tokens = Vec::new();
    {
        let mut conn = w.db.conn();
        for i in 0..TESTERS {
            let name = format!("tester{i}");
            accounts::create_user(
                &mut conn,
                &UserSpec {
                    name: &name,
                    email: None,
                    groups: &[],
                    password: None,
                },
                now(),
            )
            .unwrap();
            tokens.push(accounts::issue_token(&mut conn, &name, "tests", None, now()).unwrap());
        }
    }
    let requests = tokens.iter().map(|token| {
        send(
            &app,
            TestRequest::post()
                .uri("/comments/")
                .insert_header(("Authorization", format!("Bearer {token}")))
                .set_json(karma(&alias, 1, "Works.")),
        )
    });
    let replies = futures_util::future::join_all(requests).await;
    for reply in &replies {
        assert_eq!(reply.status, 200, "{}", reply.text());
    }

    let update = show(&app, &alias).await;
    assert_eq!(update["karma"], TESTERS as i64);
    assert_eq!(update["request"], "stable");
    let stable_requests = comment_texts(&update)
        .iter()
        .filter(|t| t.starts_with("This update has been submitted for stable"))
        .count();
    assert_eq!(stable_requests, 1);
    let jobs = {
        use diesel::prelude::*;
        use pipal::db::schema::jobs;
        jobs::table
            .filter(jobs::payload.like("%f44-updates-pending%"))
            .count()
            .get_result::<i64>(&mut w.db.conn())
            .unwrap()
    };
    assert_eq!(jobs, 1, "one tag job for the stable request");
}
