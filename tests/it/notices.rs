//! What a testing push then a stable push of the demo tell the world (issue 6's "done
//! when"): the mails on disk (comment notifications, the updates-testing digest, the stable
//! announcement), the bug changes in the fake Bugzilla's log and the bus messages, every one
//! valid and sent exactly once.

use std::collections::BTreeMap;
use std::path::Path;

use pipal::config::BusTransport;
use pipal::db::types::UpdateRequest;
use pipal::fakebugzilla::{BugzillaConfig, RunningBugzilla};
use serde_json::Value;

use crate::bugzilla::{demo_bugs, request_stable, use_bugzilla};
use crate::notify::{PREFIX, check_with_bodhi_messages, deliver_all, lines};
use crate::repos::{demo_with, push_request};

/// Every mail on disk, by file name.
fn mails(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    (name, std::fs::read_to_string(e.path()).unwrap())
                })
                .collect()
        })
        .unwrap_or_default()
}

fn with_subject<'a>(mails: &'a BTreeMap<String, String>, subject: &str) -> Vec<&'a String> {
    let header = format!("Subject: {subject}\r\n");
    mails.values().filter(|m| m.contains(&header)).collect()
}

/// A mail's body as sent: quoted-printable or 7-bit, with the soft line breaks undone.
fn body(mail: &str) -> String {
    let (_, body) = mail.split_once("\r\n\r\n").unwrap();
    body.replace("=\r\n", "")
        .replace("=3D", "=")
        .replace("\r\n", "\n")
}

#[test]
fn a_testing_then_a_stable_push_of_the_demo_tell_everyone_once() {
    let capture = tempfile::tempdir().unwrap();
    let bus = capture.path().join("messages.jsonl");
    let bug_log = capture.path().join("bugzilla.jsonl");
    let bugzilla = RunningBugzilla::start(BugzillaConfig {
        api_key: Some("bz-api-key".into()),
        bugs: demo_bugs(),
        log: Some(bug_log.clone()),
        ..BugzillaConfig::default()
    })
    .unwrap();
    let (_db, state) = demo_with(|s| {
        use_bugzilla(s, &bugzilla);
        s.bus.transport = BusTransport::File;
        s.bus.file = bus.clone();
        s.bus.topic_prefix = PREFIX.into();
        s.mail
            .test_announce_lists
            .insert("fedora".into(), "qa-list@example.org".into());
    });

    // The demo's releases have their own lists; F43's test list is dropped so that the
    // digest goes to the configured list of its id prefix.
    {
        use diesel::prelude::*;
        use pipal::db::schema::releases;
        let mut conn = state.db.conn().unwrap();
        diesel::update(releases::table.filter(releases::name.eq("F43")))
            .set(releases::test_announce_list.eq(None::<String>))
            .execute(&mut conn)
            .unwrap();
    }
    let libfrob = alias_of(&state, "libfrob-1.4.1-1.fc43");
    push_request(&state, UpdateRequest::Testing);
    let testing = deliver_all(&state);
    assert_eq!(testing.failed, 0);
    request_stable(&state, "libfrob-1.4.1-1.fc43");
    push_request(&state, UpdateRequest::Stable);
    let stable = deliver_all(&state);
    assert_eq!(stable.failed, 0);

    let on_disk = mails(&state.settings.mail.dir);
    let digest = with_subject(&on_disk, "Fedora 43 updates-testing report");
    assert_eq!(digest.len(), 1, "one digest: {:?}", on_disk.keys());
    assert!(digest[0].contains("To: qa-list@example.org\r\n"));
    let digest = body(digest[0]);
    assert!(
        digest.contains(&format!(
            "The following Fedora 43 Security updates need testing:\n Age  URL\n   \
             2  {}updates/{libfrob}   libfrob-1.4.1-1.fc43\n\n\n",
            state.settings.base_address()
        )),
        "{digest}"
    );
    assert!(
        digest.contains(
            "The following builds have been pushed to Fedora 43 updates-testing\n\n    \
             python-colorful-0.6.0-1.fc43\n\nDetails about builds:\n\n\n===="
        ),
        "{digest}"
    );
    assert!(digest.contains("ChangeLog:\n\n* "), "{digest}");
    assert!(
        digest.contains(
            "  [ 1 ] Bug #2400123 - python-colorful: 24-bit colour escapes are dropped\n"
        ),
        "{digest}"
    );

    let subject = "[SECURITY] Fedora 43 Update: libfrob-1.4.1-1.fc43";
    let announcements = with_subject(&on_disk, subject);
    assert_eq!(announcements.len(), 1, "{:?}", on_disk.keys());
    assert!(announcements[0].contains("To: package-announce@example.org\r\n"));
    let announcement = body(announcements[0]);
    assert!(
        announcement.contains(&format!("Fedora Update Notification\n{libfrob}\n")),
        "{announcement}"
    );
    assert!(
        announcement.contains("Name        : libfrob\n"),
        "{announcement}"
    );
    assert!(announcement.contains("Update Information:\n\nUpdate to 1.4.1"));
    assert!(announcement.contains("Bug #2400001 - CVE-2026-0001"));
    assert!(announcement.contains(&format!("upgrade --advisory {libfrob}'")));

    // The bugs: ON_QA when python-colorful reached testing, closed when libfrob went stable.
    let changes = lines(&bug_log);
    let summary: Vec<(i64, Option<&str>)> = changes
        .iter()
        .map(|c| (c["bug"].as_i64().unwrap(), c["status"].as_str()))
        .collect();
    assert_eq!(
        summary,
        [(2400123, Some("ON_QA")), (2400001, Some("CLOSED"))]
    );

    let messages = lines(&bus);
    let topics: Vec<&str> = messages
        .iter()
        .filter_map(|m| m["routing_key"].as_str())
        .collect();
    let errata = format!("{PREFIX}.bodhi.errata.publish");
    assert_eq!(topics.iter().filter(|t| **t == errata).count(), 1);
    let published = messages
        .iter()
        .find(|m| m["routing_key"] == Value::String(errata.clone()))
        .unwrap();
    assert_eq!(published["body"]["subject"], subject);
    check_with_bodhi_messages(&bus, messages.len());

    // Nothing more to send, and nothing sent twice.
    assert_eq!(deliver_all(&state), pipal::notify::Pass::default());
    assert_eq!(mails(&state.settings.mail.dir).len(), on_disk.len());
    assert_eq!(lines(&bug_log).len(), changes.len());
    assert_eq!(lines(&bus).len(), messages.len());
}

fn alias_of(state: &pipal::state::AppState, nvr: &str) -> String {
    let mut conn = state.db.conn().unwrap();
    let build = pipal::models::build::Build::by_nvr(&mut conn, nvr)
        .unwrap()
        .unwrap();
    pipal::models::update::Update::by_id(&mut conn, build.update_id.unwrap())
        .unwrap()
        .alias
}
