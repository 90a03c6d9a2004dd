//! Outbox delivery (issue 6): bus messages leave exactly once, in fedora-messaging's format
//! (checked by `check_messages.py`, the real bodhi-messages schemas, when
//! `PIPAL_TEST_MESSAGES_PYTHON` names a Python that has them; CI sets it), and an entry whose
//! transport is down is retried, then given up, then queued again by `pipal outbox retry`,
//! and delivered once.

use std::path::{Path, PathBuf};
use std::process::Command;

use diesel::prelude::*;
use pipal::config::BusTransport;
use pipal::db::schema::outbox;
use pipal::db::types::{OutboxKind, OutboxState, UpdateRequest};
use pipal::models::now;
use pipal::models::outbox::OutboxEntry;
use pipal::notify::{Notifier, Pass};
use pipal::state::AppState;
use serde_json::{Value, json};

use crate::repos::{demo_with, push_request};
use crate::support::{TestDb, ok};

pub(crate) const PREFIX: &str = "org.fedoraproject.prod";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Delivers until nothing is due, or a pass delivers nothing (a transport down, with entries
/// due again at once); the passes' total.
pub(crate) async fn deliver_pending(state: &AppState) -> Pass {
    let notifier = Notifier::new(state.clone()).unwrap();
    let mut total = Pass::default();
    loop {
        let pass = notifier.deliver_due().await.unwrap();
        total.delivered += pass.delivered;
        total.failed += pass.failed;
        if pass.delivered == 0 {
            return total;
        }
    }
}

pub(crate) fn deliver_all(state: &AppState) -> Pass {
    runtime().block_on(deliver_pending(state))
}

pub(crate) fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn entries(state: &AppState) -> Vec<OutboxEntry> {
    let mut conn = state.db.conn().unwrap();
    OutboxEntry::list(
        &mut conn,
        &[
            OutboxState::Pending,
            OutboxState::Failed,
            OutboxState::Delivered,
        ],
        1000,
    )
    .unwrap()
}

/// Runs `check_messages.py file` on a capture when a Python with fedora-messaging and
/// bodhi-messages is configured.
pub(crate) fn check_with_bodhi_messages(capture: &Path, count: usize) {
    let Ok(python) = std::env::var("PIPAL_TEST_MESSAGES_PYTHON") else {
        eprintln!("check_messages.py skipped: PIPAL_TEST_MESSAGES_PYTHON is not set");
        return;
    };
    let shared = std::env::var_os("PIPAL_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let output = Command::new(python)
        .arg(shared.join("tools/messages/check_messages.py"))
        .args(["file", &capture.to_string_lossy(), "--prefix", PREFIX])
        .args(["--expect-count", &count.to_string()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!("{}", stdout.lines().last().unwrap_or_default());
}

#[test]
fn a_testing_push_sends_each_message_once_as_fedora_messaging_does() {
    let capture = tempfile::tempdir().unwrap();
    let file = capture.path().join("messages.jsonl");
    let (_db, state) = demo_with(|s| {
        s.bus.transport = BusTransport::File;
        s.bus.file = file.clone();
        s.bus.topic_prefix = PREFIX.into();
    });
    push_request(&state, UpdateRequest::Testing);
    let queued = entries(&state);
    assert!(queued.len() >= 4, "{queued:?}");

    let messages = queued
        .iter()
        .filter(|e| e.kind == OutboxKind::Message)
        .count();

    let pass = deliver_all(&state);
    assert_eq!(pass.delivered, queued.len());
    assert_eq!(pass.failed, 0);
    let sent = lines(&file);
    assert_eq!(sent.len(), messages);
    // The push's comment is mailed to the submitter.
    let mails: Vec<String> = std::fs::read_dir(&state.settings.mail.dir)
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    assert!(
        mails.iter().any(|m| m.contains("To: alice@example.org")
            && m.contains("This update has been pushed to testing.")),
        "{mails:?}"
    );
    let keys: Vec<&str> = sent
        .iter()
        .map(|m| m["routing_key"].as_str().unwrap())
        .collect();
    for topic in [
        "bodhi.compose.start",
        "bodhi.compose.composing",
        "bodhi.update.complete.testing",
        "bodhi.repo.done",
        "bodhi.compose.complete",
    ] {
        let routing_key = format!("{PREFIX}.{topic}");
        assert!(keys.contains(&routing_key.as_str()), "{topic} in {keys:?}");
    }
    let ids: std::collections::BTreeSet<&str> = sent
        .iter()
        .map(|m| m["properties"]["message_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), sent.len(), "one id per message");
    check_with_bodhi_messages(&file, sent.len());

    assert_eq!(
        deliver_all(&state),
        Pass::default(),
        "nothing is sent twice"
    );
    assert_eq!(lines(&file).len(), sent.len());
    assert!(
        entries(&state)
            .iter()
            .all(|e| e.state == OutboxState::Delivered)
    );
}

fn queue_message(state: &AppState, key: &str) -> OutboxEntry {
    let payload = json!({
        "topic": "bodhi.compose.start", "schema": "bodhi.compose.start.v1",
        "body": {"agent": "carol"}
    });
    let mut conn = state.db.conn().unwrap();
    OutboxEntry::enqueue(
        &mut conn,
        OutboxKind::Message,
        key,
        &payload.to_string(),
        now(),
    )
    .unwrap()
    .0
}

#[test]
fn a_message_whose_transport_is_down_is_retried_given_up_then_retried_by_hand_once() {
    let db = TestDb::new();
    let scratch = tempfile::tempdir().unwrap();
    let blocker = scratch.path().join("not-a-directory");
    std::fs::write(&blocker, "").unwrap();
    let mut settings = db.settings();
    settings.bus.transport = BusTransport::File;
    settings.bus.file = blocker.join("messages.jsonl");
    settings.bus.topic_prefix = PREFIX.into();
    settings.outbox.max_attempts = 2;
    settings.outbox.retry_base_secs = 60;
    let down = AppState::new(db.db.clone(), settings.clone()).unwrap();
    let entry = queue_message(&down, "test:start");

    assert_eq!(deliver_all(&down).failed, 1);
    let [retrying] = &entries(&down)[..] else {
        panic!("one entry")
    };
    assert_eq!(retrying.state, OutboxState::Pending);
    assert_eq!(retrying.attempts, 1);
    assert!(
        retrying
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("not-a-directory")),
        "{retrying:?}"
    );
    assert!(
        retrying.next_attempt_at >= now() + chrono::Duration::seconds(50),
        "backs off"
    );
    assert_eq!(deliver_all(&down), Pass::default(), "not due yet");

    // Due again (as if the minute had passed): the second failure gives up.
    let mut conn = db.conn();
    diesel::update(outbox::table.find(entry.id))
        .set(outbox::next_attempt_at.eq(now()))
        .execute(&mut conn)
        .unwrap();
    assert_eq!(deliver_all(&down).failed, 1);
    let listed = ok(db.pipal(&["outbox", "list"]));
    assert!(
        listed.contains("failed") && listed.contains("test:start"),
        "{listed}"
    );
    assert!(listed.contains("not-a-directory"), "the reason: {listed}");

    // The transport is back; nothing moves until someone retries.
    settings.bus.file = scratch.path().join("messages.jsonl");
    let up = AppState::new(db.db.clone(), settings).unwrap();
    assert_eq!(deliver_all(&up), Pass::default());
    let retried = ok(db.pipal(&["outbox", "retry", "--all-failed"]));
    assert!(retried.contains("queued 1"), "{retried}");
    assert_eq!(deliver_all(&up).delivered, 1);
    assert_eq!(deliver_all(&up), Pass::default());
    assert_eq!(lines(&up.settings.bus.file).len(), 1);
    check_with_bodhi_messages(&up.settings.bus.file, 1);
}

#[actix_web::test]
async fn metrics_count_the_outbox_by_kind_and_state() {
    let db = TestDb::new();
    let state = db.state();
    queue_message(&state, "metrics:1");
    let app = actix_web::test::init_service(pipal::web::app(state)).await;
    let metrics =
        crate::support::http::send(&app, actix_web::test::TestRequest::get().uri("/metrics"))
            .await
            .text();
    assert!(
        metrics.contains("pipal_outbox_entries{kind=\"message\",state=\"pending\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("pipal_outbox_entries{kind=\"mail\",state=\"failed\"} 0"));
}

/// The checker's AMQP consumer, started and bound before anything is published.
struct AmqpChecker {
    child: std::process::Child,
    lines: std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
}

impl AmqpChecker {
    fn start(url: &str, prefix: &str, count: usize) -> Option<AmqpChecker> {
        use std::io::BufRead;
        let python = std::env::var("PIPAL_TEST_MESSAGES_PYTHON").ok()?;
        let shared = std::env::var_os("PIPAL_SHARED_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
        let mut child = Command::new(python)
            .arg(shared.join("tools/messages/check_messages.py"))
            .args(["amqp", "--url", url, "--bind", &format!("{prefix}.#")])
            .args(["--prefix", prefix, "--expect-count", &count.to_string()])
            .args(["--timeout", "60", "--linger", "1"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = lines
            .by_ref()
            .any(|line| line.is_ok_and(|l| l.starts_with("ready")));
        if !ready {
            let status = child.wait();
            panic!("check_messages.py amqp never got ready: {status:?}");
        }
        Some(AmqpChecker { child, lines })
    }

    fn finish(mut self) {
        let output: Vec<String> = self.lines.by_ref().map(Result::unwrap).collect();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{}", output.join("\n"));
        eprintln!("{}", output.last().cloned().unwrap_or_default());
    }
}

#[test]
fn messages_reach_rabbitmq_once_after_the_broker_was_down() {
    use lapin::options::{BasicGetOptions, QueueBindOptions, QueueDeclareOptions};
    let Ok(url) = std::env::var("PIPAL_TEST_AMQP_URL") else {
        eprintln!("skipped: PIPAL_TEST_AMQP_URL is not set");
        return;
    };
    let prefix = format!("org.pipaltest{}", rand::random::<u32>());
    let rt = runtime();
    let (_connection, channel, queue) = rt.block_on(async {
        let connection = lapin::Connection::connect(&url, Default::default())
            .await
            .unwrap();
        let channel = connection.create_channel().await.unwrap();
        let queue = channel
            .queue_declare(
                "".into(),
                QueueDeclareOptions {
                    exclusive: true,
                    auto_delete: true,
                    ..Default::default()
                },
                Default::default(),
            )
            .await
            .unwrap();
        channel
            .queue_bind(
                queue.name().clone(),
                "amq.topic".into(),
                format!("{prefix}.#").as_str().into(),
                QueueBindOptions::default(),
                Default::default(),
            )
            .await
            .unwrap();
        (connection, channel, queue.name().to_string())
    });
    let checker = AmqpChecker::start(&url, &prefix, 2);

    let db = TestDb::new();
    let mut settings = db.settings();
    settings.bus.transport = BusTransport::Amqp;
    settings.bus.topic_prefix = prefix.clone();
    settings.bus.amqp_url = "amqp://guest:guest@127.0.0.1:1/%2f".into();
    let down = AppState::new(db.db.clone(), settings.clone()).unwrap();
    queue_message(&down, "amqp:start");
    queue_message(&down, "amqp:again");
    assert_eq!(deliver_all(&down).failed, 2);
    let mut conn = db.conn();
    diesel::update(outbox::table)
        .set(outbox::next_attempt_at.eq(now()))
        .execute(&mut conn)
        .unwrap();

    settings.bus.amqp_url = url.clone();
    let up = AppState::new(db.db.clone(), settings).unwrap();
    assert_eq!(deliver_all(&up).delivered, 2);
    assert_eq!(deliver_all(&up), Pass::default());

    let received: Vec<lapin::message::BasicGetMessage> = rt.block_on(async {
        let mut got = Vec::new();
        while let Some(message) = channel
            .basic_get(queue.as_str().into(), BasicGetOptions { no_ack: true })
            .await
            .unwrap()
        {
            got.push(message);
        }
        got
    });
    assert_eq!(received.len(), 2, "each message once");
    for message in &received {
        let properties = &message.delivery.properties;
        assert_eq!(
            properties.content_type().as_ref().map(|c| c.as_str()),
            Some("application/json")
        );
        assert_eq!(*properties.delivery_mode(), Some(2));
        assert_eq!(
            message.delivery.routing_key.as_str(),
            format!("{prefix}.bodhi.compose.start")
        );
        let body: Value = serde_json::from_slice(&message.delivery.data).unwrap();
        assert_eq!(body["agent"], "carol");
    }
    if let Some(checker) = checker {
        checker.finish();
    }
}

mod workflow {
    //! The update workflow's messages (spec §7), delivered to a file and checked against
    //! bodhi-messages: comments (not the system's), requests, edits, karma thresholds and
    //! overrides.

    use super::*;
    use crate::support::world::{World, new_update, post_ok, submit};
    use actix_web::test::init_service;

    fn routing_keys(file: &Path) -> Vec<String> {
        lines(file)
            .iter()
            .map(|m| {
                m["routing_key"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches(&format!("{PREFIX}."))
                    .to_owned()
            })
            .collect()
    }

    /// A world whose bus messages are appended to `file`.
    fn world_on_file_bus(file: &Path) -> World {
        let file = file.to_owned();
        World::with_state(|s| {
            s.bus.transport = BusTransport::File;
            s.bus.file = file;
            s.bus.topic_prefix = PREFIX.into();
        })
    }

    #[actix_web::test]
    async fn an_updates_life_is_told_on_the_bus() {
        let capture = tempfile::tempdir().unwrap();
        let file = capture.path().join("messages.jsonl");
        let w = world_on_file_bus(&file);
        w.candidate("nano-8.2-1.fc44");
        w.candidate("vim-9.2-1.fc44");
        let app = init_service(pipal::web::app(w.state.clone())).await;

        let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
        post_ok(
            &app,
            w.token("alice"),
            &format!("/updates/{alias}/request"),
            json!({"request": "revoke"}),
        )
        .await;
        w.push_to_testing(&alias);
        post_ok(
            &app,
            w.token("bob"),
            "/comments/",
            json!({"update": alias, "text": "Works, thanks @alice.", "karma": 1}),
        )
        .await;
        let mut form = new_update(&["nano-8.2-1.fc44"]);
        form["edited"] = json!(alias);
        form["bugs"] = json!([1234]);
        form["notes"] = json!("Fixes a crash when saving. Also bug 1234.");
        post_ok(&app, w.token("alice"), "/updates/", form).await;
        post_ok(
            &app,
            w.token("bob"),
            "/overrides/",
            json!({"nvr": "vim-9.2-1.fc44", "notes": "For the rebuild.",
                   "expiration_date": (now() + chrono::Duration::days(3)).format("%Y-%m-%d %H:%M:%S").to_string()}),
        )
        .await;
        post_ok(
            &app,
            w.token("bob"),
            "/overrides/",
            json!({"nvr": "vim-9.2-1.fc44", "edited": "vim-9.2-1.fc44", "notes": "Done.",
                   "expired": true,
                   "expiration_date": (now() + chrono::Duration::days(3)).format("%Y-%m-%d %H:%M:%S").to_string()}),
        )
        .await;

        post_ok(
            &app,
            w.token("pete"),
            &format!("/updates/{alias}/trigger-tests"),
            json!({}),
        )
        .await;

        let pass = deliver_pending(&w.state).await;
        assert_eq!(pass.failed, 0);
        let keys = routing_keys(&file);
        let ready = "bodhi.update.status.testing.koji-build-group.build.complete";
        assert_eq!(
            keys,
            [
                "bodhi.update.request.testing",
                ready,
                "bodhi.update.request.revoke",
                "bodhi.update.comment",
                "bodhi.update.edit",
                "bodhi.buildroot_override.tag",
                "bodhi.buildroot_override.untag",
                ready,
            ],
            "no message for the system's comments"
        );
        let sent = lines(&file);
        let build_id = w
            .state
            .buildsys
            .get_build("nano-8.2-1.fc44")
            .unwrap()
            .unwrap()
            .id;
        assert_eq!(sent[1]["body"]["agent"], "bodhi");
        assert_eq!(
            sent[1]["body"]["artifact"],
            json!({"type": "koji-build-group", "builds": [
                {"type": "koji-build", "id": build_id, "task_id": null, "nvr": "nano-8.2-1.fc44"}]})
        );
        assert_eq!(sent[1]["body"].get("re-trigger"), None);
        assert_eq!(sent[2]["body"]["update"]["request"], Value::Null);
        assert_eq!(sent[2]["body"]["agent"], "alice");
        assert_eq!(sent[3]["body"]["comment"]["text"], "Works, thanks @alice.");
        assert_eq!(
            sent[3]["body"]["comment"]["update"]["alias"],
            alias.as_str()
        );
        assert_eq!(sent[3]["headers"]["fedora_messaging_user_bob"], true);
        assert_eq!(sent[3]["headers"]["fedora_messaging_rpm_nano"], true);
        assert_eq!(sent[4]["body"]["new_bugs"], json!([1234]));
        assert_eq!(
            sent[6]["body"]["override"]["nvr"], "vim-9.2-1.fc44",
            "{}",
            sent[6]
        );
        assert_eq!(sent[7]["body"]["agent"], "pete");
        assert_eq!(sent[7]["body"]["re-trigger"], true);
        check_with_bodhi_messages(&file, sent.len());
    }

    #[actix_web::test]
    async fn karma_reaching_the_stable_threshold_is_announced() {
        let capture = tempfile::tempdir().unwrap();
        let file = capture.path().join("messages.jsonl");
        let w = world_on_file_bus(&file);
        w.candidate("nano-8.2-1.fc44");
        let app = init_service(pipal::web::app(w.state.clone())).await;
        let mut form = new_update(&["nano-8.2-1.fc44"]);
        form["autokarma"] = json!(true);
        form["stable_karma"] = json!(2);
        let alias = post_ok(&app, w.token("alice"), "/updates/", form).await["alias"]
            .as_str()
            .unwrap()
            .to_owned();
        w.push_to_testing(&alias);
        for tester in ["bob", "pete"] {
            post_ok(
                &app,
                w.token(tester),
                "/comments/",
                json!({"update": alias, "text": "Good.", "karma": 1}),
            )
            .await;
        }
        deliver_pending(&w.state).await;
        let keys = routing_keys(&file);
        assert_eq!(
            keys,
            [
                "bodhi.update.request.testing",
                "bodhi.update.status.testing.koji-build-group.build.complete",
                "bodhi.update.comment",
                "bodhi.update.request.stable",
                "bodhi.update.karma.threshold.reach",
                "bodhi.update.comment",
            ],
            "the stable karma (2, the release's minimum) is reached by the second +1"
        );
        let threshold = &lines(&file)[4];
        assert_eq!(threshold["body"]["status"], "stable");
        assert_eq!(
            threshold["headers"]["fedora_messaging_schema"],
            "bodhi.update.karma.threshold.v1"
        );
        check_with_bodhi_messages(&file, keys.len());
    }
}

mod mail {
    //! Comment notifications (Bodhi 26.4.0's recipients, subject, headers and body), written
    //! as .eml files, and sent to a real SMTP server (aiosmtpd, when
    //! `PIPAL_TEST_SMTP_PYTHON` names a Python that has it; CI sets it) after it was down.

    use super::*;
    use crate::support::world::{World, post_ok, submit};
    use actix_web::test::init_service;
    use pipal::config::MailTransport;

    /// (recipient, the whole message) of every .eml file, in the order they were written.
    fn mails(dir: &Path) -> Vec<(String, String)> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|entries| entries.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "eml"));
        files.sort();
        files
            .iter()
            .map(|path| {
                let text = std::fs::read_to_string(path).unwrap();
                let to = header(&text, "To").unwrap_or_default();
                (to, text)
            })
            .collect()
    }

    fn header(message: &str, name: &str) -> Option<String> {
        message
            .split("\r\n\r\n")
            .next()?
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{name}: ")))
            .map(str::to_owned)
    }

    #[actix_web::test]
    async fn users_choose_their_comment_mail() {
        let maildir = tempfile::tempdir().unwrap();
        let w = World::with_state(|s| {
            s.mail.transport = MailTransport::File;
            s.mail.dir = maildir.path().to_owned();
        });
        w.candidate("nano-8.2-1.fc44");
        let app = init_service(pipal::web::app(w.state.clone())).await;
        let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
        let comment = |who: &'static str, text: &'static str| {
            let (app, w, alias) = (&app, &w, alias.clone());
            async move {
                post_ok(
                    app,
                    w.token(who),
                    "/comments/",
                    json!({"update": alias, "text": text}),
                )
                .await;
            }
        };
        comment("bob", "Works for me.").await;
        comment("tess", "Here too.").await;
        deliver_pending(&w.state).await;
        let before = mails(maildir.path()).len();

        // alice mutes the update, bob turns comment mail off, tess wants her own comments.
        let muted = post_ok(
            &app,
            w.token("alice"),
            &format!("/updates/{alias}/mail"),
            json!({"muted": true}),
        )
        .await;
        assert_eq!(muted, json!({"alias": alias, "muted": true}));
        post_ok(
            &app,
            w.token("bob"),
            "/users/bob/mail",
            json!({"notifications": false}),
        )
        .await;
        let tess = post_ok(
            &app,
            w.token("tess"),
            "/users/tess/mail",
            json!({"own_comments": true}),
        )
        .await;
        assert_eq!(
            tess,
            json!({"name": "tess", "notifications": true, "own_comments": true, "muted_updates": []})
        );
        let refused = crate::support::world::post(
            &app,
            w.token("bob"),
            "/users/alice/mail",
            json!({"notifications": false}),
        )
        .await;
        assert_eq!(refused.status, 403);

        comment("tess", "Still fine a day later.").await;
        deliver_pending(&w.state).await;
        let after: Vec<String> = mails(maildir.path())[before..]
            .iter()
            .map(|(to, _)| to.clone())
            .collect();
        assert_eq!(
            after,
            ["tess@example.org"],
            "only tess, who asked for her own"
        );

        // Unmuted, alice hears of the next comment again.
        post_ok(
            &app,
            w.token("alice"),
            &format!("/updates/{alias}/mail"),
            json!({"muted": false}),
        )
        .await;
        comment("bob", "One more.").await;
        deliver_pending(&w.state).await;
        let last: Vec<String> = mails(maildir.path())[before + 1..]
            .iter()
            .map(|(to, _)| to.clone())
            .collect();
        assert_eq!(last, ["alice@example.org", "tess@example.org"]);
    }

    #[actix_web::test]
    async fn comments_are_mailed_to_the_submitter_and_the_earlier_commenters() {
        let maildir = tempfile::tempdir().unwrap();
        let w = World::with_state(|s| {
            s.mail.transport = MailTransport::File;
            s.mail.dir = maildir.path().to_owned();
            s.mail.from = "updates@example.org".into();
            s.mail.message_id_domain = "example.org".into();
        });
        w.candidate("nano-8.2-1.fc44");
        let app = init_service(pipal::web::app(w.state.clone())).await;
        let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
        for (tester, text) in [
            ("bob", "Works for me."),
            ("tess", "Same here, thanks @bob."),
        ] {
            post_ok(
                &app,
                w.token(tester),
                "/comments/",
                json!({"update": alias, "text": text}),
            )
            .await;
        }
        assert_eq!(deliver_pending(&w.state).await.failed, 0);

        let sent = mails(maildir.path());
        let to: Vec<&str> = sent.iter().map(|(to, _)| to.as_str()).collect();
        assert_eq!(
            to,
            [
                "alice@example.org",
                "alice@example.org",
                "alice@example.org",
                "bob@example.org",
            ],
            "the system's comment to the submitter; bob's to her; tess's to her and bob"
        );
        let (_, last) = &sent[3];
        assert_eq!(
            header(last, "Subject").as_deref(),
            Some("[Fedora Update] [comment] nano-8.2-1.fc44")
        );
        assert_eq!(header(last, "X-Bodhi-Agent").as_deref(), Some("tess"));
        assert_eq!(
            header(last, "X-Bodhi-Update-Submitter").as_deref(),
            Some("alice")
        );
        assert_eq!(
            header(last, "X-Bodhi-Update-Request").as_deref(),
            Some("testing")
        );
        let thread = header(last, "In-Reply-To").unwrap();
        assert!(
            thread.starts_with("<bodhi-update-") && thread.ends_with("-alice-F44@example.org>"),
            "{thread}"
        );
        assert_eq!(header(last, "References"), Some(thread));
        let body = last.split_once("\r\n\r\n").unwrap().1.replace("\r\n", "\n");
        assert!(
            body.starts_with(
                "The following comment has been added to the nano-8.2-1.fc44 update:\n\ntess - "
            ),
            "{body}"
        );
        assert!(
            body.contains("(karma: 0)\nSame here, thanks @bob.\n"),
            "{body}"
        );
        assert!(body.contains(&format!("     {alias}\n")), "{body}");
        assert!(body.contains("   Comments: bodhi - "), "{body}");
        assert!(
            body.trim_end().ends_with(&format!("updates/{alias}")),
            "{body}"
        );
    }

    /// aiosmtpd on a free port, writing what it receives into a Maildir.
    struct SmtpServer {
        child: std::process::Child,
        maildir: tempfile::TempDir,
    }

    impl SmtpServer {
        fn start(python: &str, port: u16) -> SmtpServer {
            let maildir = tempfile::tempdir().unwrap();
            let child = Command::new(python)
                .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
                .args(["-c", "aiosmtpd.handlers.Mailbox"])
                .arg(maildir.path().join("Maildir"))
                .spawn()
                .unwrap();
            // Dropping the server kills and waits for it, whether it got ready or not.
            let server = SmtpServer { child, maildir };
            // Until it listens; a server that cannot start fails the test here.
            for attempt in 0..200 {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return server;
                }
                std::thread::sleep(std::time::Duration::from_millis(25 * attempt.min(4)));
            }
            panic!("aiosmtpd did not listen on {port}");
        }

        fn received(&self) -> Vec<String> {
            let new = self.maildir.path().join("Maildir/new");
            std::fs::read_dir(new)
                .map(|entries| {
                    entries
                        .flatten()
                        .map(|e| std::fs::read_to_string(e.path()).unwrap())
                        .collect()
                })
                .unwrap_or_default()
        }
    }

    impl Drop for SmtpServer {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    #[test]
    fn a_mail_waits_for_the_smtp_server_and_is_sent_once() {
        let Ok(python) = std::env::var("PIPAL_TEST_SMTP_PYTHON") else {
            eprintln!("skipped: PIPAL_TEST_SMTP_PYTHON is not set");
            return;
        };
        let db = TestDb::new();
        let port = free_port();
        let mut settings = db.settings();
        settings.mail.transport = MailTransport::Smtp;
        settings.mail.smtp_host = "127.0.0.1".into();
        settings.mail.smtp_port = port;
        settings.mail.smtp_timeout_secs = 5;
        let state = AppState::new(db.db.clone(), settings).unwrap();
        let mail = pipal::notify::mail::MailPayload {
            from: "updates@example.org".into(),
            to: "alice@example.org".into(),
            subject: "[Fedora Update] [comment] nano-8.2-1.fc44".into(),
            headers: vec![("X-Bodhi-Agent".into(), "bob".into())],
            body: "The following comment has been added to the nano-8.2-1.fc44 update:\n".into(),
        };
        let entry = {
            let mut conn = state.db.conn().unwrap();
            OutboxEntry::enqueue(
                &mut conn,
                OutboxKind::Mail,
                "mail:test",
                &serde_json::to_string(&mail).unwrap(),
                now(),
            )
            .unwrap()
            .0
        };

        assert_eq!(deliver_all(&state).failed, 1, "nothing listens yet");
        let mut conn = db.conn();
        diesel::update(outbox::table.find(entry.id))
            .set(outbox::next_attempt_at.eq(now()))
            .execute(&mut conn)
            .unwrap();
        let server = SmtpServer::start(&python, port);
        assert_eq!(deliver_all(&state).delivered, 1);
        assert_eq!(deliver_all(&state), Pass::default());
        let received = server.received();
        assert_eq!(received.len(), 1, "sent once");
        assert!(received[0].contains("Subject: [Fedora Update] [comment] nano-8.2-1.fc44"));
        assert!(received[0].contains("X-Bodhi-Agent: bob"));
        assert!(received[0].contains("To: alice@example.org"));
    }
}
