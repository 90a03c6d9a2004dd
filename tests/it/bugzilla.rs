//! Bugzilla through the outbox, against the fake Bugzilla over XML-RPC: bugs attached to an
//! update are read and marked MODIFIED, pushes move them to ON_QA and CLOSED ERRATA, each
//! change is made once, and a Bugzilla that was down gets every change afterwards.

use actix_web::test::init_service;
use pipal::config::{BugTracker, Settings};
use pipal::db::types::{OutboxKind, OutboxState, UpdateRequest};
use pipal::fakebugzilla::{BugzillaConfig, FakeBug, RecordedUpdate, RunningBugzilla};
use pipal::models::update::Update;
use pipal::notify::Pass;
use pipal::notify::bugzilla::{BugChanges, BugzillaClient};
use pipal::state::AppState;
use serde_json::json;

use crate::notify::{deliver_all, deliver_pending};
use crate::repos::{demo_with, push_request};
use crate::support::world::{World, new_update, post_ok, show};

const API_KEY: &str = "bz-api-key";

fn bug(id: i32, component: &str, summary: &str) -> FakeBug {
    FakeBug {
        id,
        component: component.into(),
        summary: summary.into(),
        ..FakeBug::default()
    }
}

fn start_bugzilla(bugs: Vec<FakeBug>) -> RunningBugzilla {
    RunningBugzilla::start(BugzillaConfig {
        api_key: Some(API_KEY.into()),
        bugs,
        ..BugzillaConfig::default()
    })
    .unwrap()
}

pub(crate) fn use_bugzilla(settings: &mut Settings, bugzilla: &RunningBugzilla) {
    settings.bugzilla.tracker = BugTracker::Bugzilla;
    settings.bugzilla.url = bugzilla.url();
    settings.bugzilla.api_key = API_KEY.into();
    settings.outbox.retry_base_secs = 0;
}

pub(crate) fn changes_to(bugzilla: &RunningBugzilla, id: i32) -> Vec<RecordedUpdate> {
    bugzilla
        .bugzilla
        .updates()
        .into_iter()
        .filter(|u| u.bug == id)
        .collect()
}

#[actix_web::test]
async fn attached_bugs_are_read_and_marked_modified_once() {
    let bugzilla = start_bugzilla(vec![
        bug(5001, "nano", "nano crashes when saving"),
        FakeBug {
            keywords: vec!["Security".into()],
            ..bug(5002, "nano", "CVE-2026-1234 nano: overflow")
        },
        FakeBug {
            private: true,
            ..bug(5003, "nano", "secret")
        },
        FakeBug {
            product: "Red Hat Enterprise Linux 9".into(),
            ..bug(5004, "nano", "nano on RHEL")
        },
        FakeBug {
            status: "VERIFIED".into(),
            ..bug(5005, "nano", "already verified")
        },
    ]);
    let w = World::with_state(|s| use_bugzilla(s, &bugzilla));
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let mut form = new_update(&["nano-8.2-1.fc44"]);
    form["bugs"] = json!([5001, 5002, 5003, 5004, 5005, 5006]);
    let body = post_ok(&app, w.token("alice"), "/updates/", form).await;
    let alias = body["alias"].as_str().unwrap().to_owned();

    let pass = deliver_pending(&w.state).await;
    assert_eq!(pass.failed, 0);

    let comment = format!(
        "{alias} (nano-8.2-1.fc44) has been submitted as an update to Fedora 44.\n\
         {}updates/{alias}",
        w.state.settings.base_address()
    );
    let modified = changes_to(&bugzilla, 5001);
    assert_eq!(modified.len(), 1, "{modified:?}");
    assert_eq!(modified[0].status.as_deref(), Some("MODIFIED"));
    assert_eq!(modified[0].comment.as_deref(), Some(comment.as_str()));
    assert_eq!(modified[0].user, "api-key");
    assert_eq!(
        changes_to(&bugzilla, 5002)[0].status.as_deref(),
        Some("MODIFIED")
    );
    assert!(changes_to(&bugzilla, 5003).is_empty(), "private");
    assert!(changes_to(&bugzilla, 5004).is_empty(), "another product");
    let verified = changes_to(&bugzilla, 5005);
    assert_eq!(verified.len(), 1);
    assert_eq!(
        verified[0].status, None,
        "a verified bug only gets the comment"
    );

    let update = show(&app, &alias).await;
    assert_eq!(
        update["type"], "security",
        "a security bug makes a security update"
    );
    let titles: Vec<(i64, String)> = update["bugs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["bug_id"].as_i64().unwrap(),
                b["title"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert!(titles.contains(&(5001, "nano crashes when saving".into())));
    assert!(titles.contains(&(5003, "Private bug".into())));
    assert!(titles.contains(&(5006, "Invalid bug number".into())));
    let security: Vec<bool> = update["bugs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["bug_id"] == 5002)
        .map(|b| b["security"].as_bool().unwrap())
        .collect();
    assert_eq!(security, [true]);

    assert_eq!(deliver_pending(&w.state).await, Pass::default());
    assert_eq!(bugzilla.bugzilla.updates().len(), 3, "each change once");
}

#[actix_web::test]
async fn without_a_tracker_nothing_is_queued_for_bugzilla() {
    let w = World::new();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let mut form = new_update(&["nano-8.2-1.fc44"]);
    form["bugs"] = json!([5001]);
    post_ok(&app, w.token("alice"), "/updates/", form).await;
    let mut conn = w.db.conn();
    let entries =
        pipal::models::outbox::OutboxEntry::list(&mut conn, &[OutboxState::Pending], 100).unwrap();
    assert!(entries.iter().all(|e| e.kind != OutboxKind::Bug));
}

/// The demo's bugs as the fake Bugzilla knows them.
pub(crate) fn demo_bugs() -> Vec<FakeBug> {
    vec![
        bug(
            2400123,
            "python-colorful",
            "python-colorful: 24-bit colour escapes are dropped",
        ),
        FakeBug {
            keywords: vec!["Security".into()],
            cf_fixed_in: "libfrob-1.4.0-1.fc43".into(),
            status: "ON_QA".into(),
            ..bug(
                2400001,
                "libfrob",
                "CVE-2026-0001 libfrob: heap overflow in frob_parse()",
            )
        },
    ]
}

/// Asks for stable as a maintainer would once the update has been in testing long enough.
pub(crate) fn request_stable(state: &AppState, nvr: &str) -> String {
    let mut conn = state.db.conn().unwrap();
    let build = pipal::models::build::Build::by_nvr(&mut conn, nvr)
        .unwrap()
        .unwrap();
    let mut update = Update::by_id(&mut conn, build.update_id.unwrap()).unwrap();
    update.request = Some(UpdateRequest::Stable);
    // Past the release's days in testing, so that the push does not eject it.
    update.date_testing = Some(pipal::models::now() - chrono::Duration::days(8));
    update.save(&mut conn).unwrap();
    update.alias
}

#[test]
fn pushes_move_bugs_to_on_qa_then_closed_errata_after_bugzilla_was_down() {
    let bugzilla = start_bugzilla(demo_bugs());
    let (_db, state) = demo_with(|s| use_bugzilla(s, &bugzilla));

    push_request(&state, UpdateRequest::Testing);
    bugzilla.bugzilla.set_unavailable(true);
    let down = deliver_all(&state);
    assert!(down.failed >= 1, "{down:?}");
    assert!(bugzilla.bugzilla.updates().is_empty());
    bugzilla.bugzilla.set_unavailable(false);
    deliver_all(&state);
    let on_qa = changes_to(&bugzilla, 2400123);
    assert_eq!(on_qa.len(), 1, "{on_qa:?}");
    assert_eq!(on_qa[0].status.as_deref(), Some("ON_QA"));
    let comment = on_qa[0].comment.clone().unwrap();
    assert!(
        comment.contains("has been pushed to the Fedora 43 testing repository.\n"),
        "{comment}"
    );
    assert!(
        comment.contains("--enablerepo=updates-testing --refresh --advisory=FEDORA-"),
        "{comment}"
    );

    let alias = request_stable(&state, "libfrob-1.4.1-1.fc43");
    push_request(&state, UpdateRequest::Stable);
    deliver_all(&state);
    let closed = changes_to(&bugzilla, 2400001);
    assert_eq!(closed.len(), 1, "{closed:?}");
    assert_eq!(closed[0].status.as_deref(), Some("CLOSED"));
    assert_eq!(closed[0].resolution.as_deref(), Some("ERRATA"));
    assert_eq!(
        closed[0].cf_fixed_in.as_deref(),
        Some("libfrob-1.4.0-1.fc43 libfrob-1.4.1-1.fc43")
    );
    assert!(
        closed[0].comment.as_deref().unwrap().starts_with(&format!(
            "{alias} (libfrob-1.4.1-1.fc43) has been pushed to the Fedora 43 stable repository.\n"
        )),
        "{closed:?}"
    );
    assert_eq!(deliver_all(&state), Pass::default());
    assert_eq!(bugzilla.bugzilla.updates().len(), 2, "each change once");
}

#[test]
fn a_login_token_is_used_and_renewed_when_bugzilla_forgets_it() {
    let bugzilla = RunningBugzilla::start(BugzillaConfig {
        api_key: Some(API_KEY.into()),
        login: Some(("updates@example.org".into(), "pw".into())),
        bugs: vec![bug(7, "nano", "crash")],
        ..BugzillaConfig::default()
    })
    .unwrap();
    let mut settings = Settings::default();
    settings.bugzilla.url = bugzilla.url();
    settings.bugzilla.user = "updates@example.org".into();
    settings.bugzilla.password = "pw".into();
    let client = BugzillaClient::from_settings(&settings.bugzilla).unwrap();
    let comment = |text: &str| BugChanges {
        comment: Some(text.into()),
        ..BugChanges::default()
    };
    client.update_bug(7, &comment("first")).unwrap();
    bugzilla.bugzilla.forget_logins();
    client.update_bug(7, &comment("second")).unwrap();
    let users: Vec<String> = changes_to(&bugzilla, 7)
        .into_iter()
        .map(|u| u.user)
        .collect();
    assert_eq!(users, ["updates@example.org", "updates@example.org"]);

    settings.bugzilla.password = "wrong".into();
    let refused = BugzillaClient::from_settings(&settings.bugzilla)
        .unwrap()
        .update_bug(7, &comment("third"))
        .unwrap_err();
    assert_eq!(refused.fault_code(), Some(300), "{refused}");
}
