//! The masher (issue 5, first slice): pushes start composes through the API, the masher runs
//! them from the database (tag moves, pending tags, statuses, comments, unlock), ejects what
//! cannot go, records failures and resumes them, and takes over a compose whose worker died.

use actix_web::test::init_service;
use diesel::prelude::*;
use pipal::masher::{Finished, Masher};
use pipal::models::compose::Compose;
use pipal::worker::Worker;
use serde_json::{Value, json};

use crate::support::world::{World, comment_texts, get_json, post, post_ok, show, submit};

/// A world whose local signer signs at once.
fn world() -> World {
    World::with_state(|s| s.buildsys.local.autosign_delay_secs = 0)
}

fn sign_everything(w: &World) {
    let worker = Worker::with_all_handlers(w.state.clone());
    worker.make_periodic_due("local_signer").unwrap();
    while worker.run_one().unwrap().is_some() {}
}

fn run_composes(w: &World) -> Vec<Finished> {
    let masher = Masher::new(w.state.clone());
    let mut finished = Vec::new();
    while let Some(outcome) = masher.run_one().unwrap() {
        finished.push(outcome);
    }
    finished
}

fn live_composes(w: &World) -> Vec<Compose> {
    Compose::list(&mut w.db.conn()).unwrap()
}

async fn push<S, B>(app: &S, w: &World, body: Value) -> Value
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    post_ok(app, w.token("carol"), "/composes/", body).await
}

#[actix_web::test]
async fn a_testing_push_then_a_stable_push_move_the_builds_and_the_updates() {
    let w = world();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
    sign_everything(&w);

    let started = push(&app, &w, json!({"request": "testing"})).await;
    assert_eq!(
        started["composes"].as_array().unwrap().len(),
        1,
        "{started}"
    );
    assert_eq!(started["composes"][0]["release"]["name"], "F44");
    assert_eq!(started["composes"][0]["state"], "requested");
    assert_eq!(show(&app, &alias).await["locked"], true);

    let finished = run_composes(&w);
    assert!(
        matches!(finished[..], [Finished::Success { .. }]),
        "{finished:?}"
    );
    let update = show(&app, &alias).await;
    assert_eq!(update["status"], "testing");
    assert_eq!(update["request"], Value::Null);
    assert_eq!(update["locked"], false);
    assert_eq!(update["pushed"], true);
    assert!(comment_texts(&update).contains(&"This update has been pushed to testing.".to_owned()));
    assert_eq!(w.tags("nano-8.2-1.fc44"), ["f44-updates-testing"]);
    assert!(
        live_composes(&w).is_empty(),
        "a finished compose leaves the table"
    );
    assert_eq!(get_json(&app, "/composes/").await["composes"], json!([]));

    // Two testers' karma meets F44's minimum: stable, and the stable push.
    for tester in ["bob", "tess"] {
        post_ok(
            &app,
            w.token(tester),
            "/comments/",
            json!({"update": alias, "text": "Works.", "karma": 1}),
        )
        .await;
    }
    post_ok(
        &app,
        w.token("alice"),
        &format!("/updates/{alias}/request"),
        json!({"request": "stable"}),
    )
    .await;
    push(&app, &w, json!({"request": "stable"})).await;
    let finished = run_composes(&w);
    assert!(
        matches!(finished[..], [Finished::Success { .. }]),
        "{finished:?}"
    );
    let update = show(&app, &alias).await;
    assert_eq!(update["status"], "stable");
    assert_eq!(update["locked"], false);
    assert!(comment_texts(&update).contains(&"This update has been pushed to stable.".to_owned()));
    assert_eq!(w.tags("nano-8.2-1.fc44"), ["f44-updates"]);
}

#[actix_web::test]
async fn an_update_whose_build_left_its_tag_is_ejected_and_the_rest_is_pushed() {
    let w = world();
    w.candidate("nano-8.2-1.fc44");
    w.candidate("vim-9.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let nano = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
    let vim = submit(&app, &w, "alice", &["vim-9.2-1.fc44"]).await;
    sign_everything(&w);
    w.state
        .buildsys
        .untag_build("f44-updates-candidate", "vim-9.2-1.fc44", "someone")
        .unwrap();

    push(&app, &w, json!({})).await;
    let finished = run_composes(&w);
    assert!(
        matches!(finished[..], [Finished::Success { .. }]),
        "{finished:?}"
    );

    assert_eq!(show(&app, &nano).await["status"], "testing");
    let ejected = show(&app, &vim).await;
    assert_eq!(ejected["status"], "pending");
    assert_eq!(ejected["request"], Value::Null);
    assert_eq!(ejected["locked"], false);
    let comments = comment_texts(&ejected);
    let last = comments.last().unwrap();
    assert!(
        last.starts_with(&format!(
            "{vim} ejected from the push because \"Cannot find relevant tag for vim-9.2-1.fc44."
        )),
        "{last}"
    );
    // The bus hears of it, and of the pushed update only.
    let messages: Vec<Value> = pipal::db::schema::outbox::table
        .select(pipal::db::schema::outbox::payload)
        .load::<String>(&mut w.db.conn())
        .unwrap()
        .iter()
        .map(|p| serde_json::from_str(p).unwrap())
        .collect();
    let of = |topic: &str| -> Vec<&Value> {
        messages
            .iter()
            .filter(|m| m["topic"] == topic)
            .map(|m| &m["body"])
            .collect()
    };
    let ejections = of("bodhi.update.eject");
    assert_eq!(ejections.len(), 1);
    assert_eq!(ejections[0]["update"]["alias"], vim.as_str());
    assert_eq!(ejections[0]["repo"], "f44-updates-testing");
    assert_eq!(ejections[0]["request"], "testing");
    assert!(
        ejections[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("Cannot find relevant tag")
    );
    let completed = of("bodhi.update.complete.testing");
    assert_eq!(completed.len(), 1);
    assert_eq!(completed[0]["update"]["alias"], nano.as_str());
    assert_eq!(completed[0]["update"]["status"], "testing");
    assert_eq!(
        completed[0]["update"]["builds"][0]["nvr"],
        "nano-8.2-1.fc44"
    );
}

#[actix_web::test]
async fn a_failed_compose_keeps_its_updates_locked_blocks_no_other_and_resumes() {
    let w = world();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
    sign_everything(&w);
    // The testing tag is gone from the build system: the tag moves fail.
    {
        use pipal::buildsys::BuildSystem;
        w.local().delete_tag("f44-updates-testing").unwrap();
    }

    push(&app, &w, json!({"request": "testing"})).await;
    let finished = run_composes(&w);
    let [Finished::Failed { error, .. }] = &finished[..] else {
        panic!("{finished:?}");
    };
    assert!(error.starts_with("Failed to move builds: "), "{error}");
    let failed = &live_composes(&w)[0];
    assert_eq!(failed.state.to_string(), "failed");
    assert_eq!(failed.error_message.as_deref(), Some(error.as_str()));
    assert_eq!(show(&app, &alias).await["locked"], true);
    // The failed compose is not run again by itself, and a new push does not start a second
    // F44 testing compose.
    assert!(run_composes(&w).is_empty());
    w.candidate("vim-9.2-1.fc44");
    let vim = submit(&app, &w, "alice", &["vim-9.2-1.fc44"]).await;
    sign_everything(&w);
    let again = push(&app, &w, json!({"request": "testing"})).await;
    assert_eq!(again["composes"], json!([]));
    assert!(
        again["warnings"][0]
            .as_str()
            .unwrap()
            .contains("F44 testing compose is already in flight"),
        "{again}"
    );
    assert_eq!(show(&app, &vim).await["locked"], false);

    // The admin repairs Koji and resumes.
    w.local()
        .create_tag(
            "f44-updates-testing",
            &["f44-updates".to_owned()],
            None,
            &json!({}),
        )
        .unwrap();
    let resumed = push(&app, &w, json!({"resume": true})).await;
    assert_eq!(resumed["composes"].as_array().unwrap().len(), 1);
    let finished = run_composes(&w);
    assert!(
        matches!(finished[..], [Finished::Success { .. }]),
        "{finished:?}"
    );
    assert_eq!(show(&app, &alias).await["status"], "testing");
    assert_eq!(
        show(&app, &vim).await["status"],
        "pending",
        "it waits for the next push"
    );
}

#[actix_web::test]
async fn a_compose_whose_worker_died_is_resumed_once_its_lease_expires() {
    use pipal::db::schema::composes;

    let w = world();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
    sign_everything(&w);
    push(&app, &w, json!({"request": "testing"})).await;

    // A worker claimed it, moved the build, then died (kill -9) before recording the step.
    let now = pipal::models::now();
    let claimed = Compose::claim_next(
        &mut w.db.conn(),
        "dead-worker",
        now,
        chrono::Duration::seconds(60),
        2,
    )
    .unwrap()
    .unwrap();
    w.state
        .buildsys
        .move_build(
            "f44-updates-candidate",
            "f44-updates-testing",
            "nano-8.2-1.fc44",
            "dead-worker",
        )
        .unwrap();
    assert!(
        run_composes(&w).is_empty(),
        "the lease is still held: nobody else runs it"
    );

    diesel::update(composes::table.find(claimed.id))
        .set(composes::lease_expires_at.eq(Some(now - chrono::Duration::seconds(1))))
        .execute(&mut w.db.conn())
        .unwrap();
    let finished = run_composes(&w);
    assert!(
        matches!(finished[..], [Finished::Success { .. }]),
        "{finished:?}"
    );
    let update = show(&app, &alias).await;
    assert_eq!(update["status"], "testing");
    assert_eq!(
        comment_texts(&update)
            .iter()
            .filter(|c| *c == "This update has been pushed to testing.")
            .count(),
        1
    );
    assert_eq!(w.tags("nano-8.2-1.fc44"), ["f44-updates-testing"]);
}

/// Four mashers racing over three composes (PostgreSQL makes it a real race): each compose is
/// run by exactly one of them, once.
#[actix_web::test]
async fn racing_mashers_never_run_the_same_compose_twice() {
    let w = World::with_state(|s| {
        s.buildsys.local.autosign_delay_secs = 0;
        s.masher.max_concurrent_composes = 10;
    });
    let mut aliases = Vec::new();
    let app = init_service(pipal::web::app(w.state.clone())).await;
    for (release, dist) in [("F42", "fc42"), ("F43", "fc43")] {
        let mut new = pipal::services::releases::fedora_release(
            release,
            &format!("Fedora {}", &release[1..]),
            &format!("f{}", &release[1..]),
        );
        new.state = pipal::db::types::ReleaseState::Current;
        w.add_release(&new);
        let nvr = format!("nano-8.2-1.{dist}");
        w.build_in(&nvr, &format!("f{}-updates-candidate", &release[1..]));
        aliases.push(submit(&app, &w, "alice", &[&nvr]).await);
    }
    w.candidate("nano-8.2-1.fc44");
    aliases.push(submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await);
    sign_everything(&w);
    let started = push(&app, &w, json!({"request": "testing"})).await;
    assert_eq!(
        started["composes"].as_array().unwrap().len(),
        3,
        "{started}"
    );

    let barrier = std::sync::Barrier::new(4);
    let finished: Vec<Finished> = std::thread::scope(|scope| {
        let runners: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    let masher = Masher::new(w.state.clone());
                    barrier.wait();
                    let mut mine = Vec::new();
                    while let Some(outcome) = masher.run_one().unwrap() {
                        mine.push(outcome);
                    }
                    mine
                })
            })
            .collect();
        runners
            .into_iter()
            .flat_map(|r| r.join().unwrap())
            .collect()
    });
    let mut ids: Vec<i32> = finished
        .iter()
        .map(|f| match f {
            Finished::Success { compose_id } => *compose_id,
            Finished::Failed { error, .. } => panic!("{error}"),
        })
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!((finished.len(), ids.len()), (3, 3), "{finished:?}");
    for alias in &aliases {
        let update = show(&app, alias).await;
        assert_eq!(update["status"], "testing", "{alias}");
        let pushed = comment_texts(&update)
            .iter()
            .filter(|c| *c == "This update has been pushed to testing.")
            .count();
        assert_eq!(pushed, 1, "{alias}");
    }
    let history: i64 = pipal::db::schema::compose_history::table
        .count()
        .get_result(&mut w.db.conn())
        .unwrap();
    assert_eq!(history, 3);
}

/// A worker whose lease expired and was taken over can no longer write the compose: its
/// checkpoints and its failure are refused, so it never records over the new owner.
#[test]
fn a_worker_that_lost_its_lease_cannot_write_the_compose() {
    use pipal::db::types::{ComposeState, UpdateRequest};
    use pipal::models::compose::LEASE_LOST;

    let w = world();
    let mut conn = w.db.conn();
    let release = pipal::models::release::Release::by_name(&mut conn, "F44")
        .unwrap()
        .unwrap();
    let t0 = pipal::models::now();
    let compose = Compose::create(&mut conn, release.id, UpdateRequest::Testing, t0).unwrap();
    let lease = chrono::Duration::seconds(60);
    let first = Compose::claim_next(&mut conn, "worker-a", t0, lease, 2)
        .unwrap()
        .unwrap();
    assert_eq!(first.id, compose.id);
    Compose::save_checkpoints(&mut conn, compose.id, Some("worker-a"), r#"{"a": true}"#).unwrap();

    // worker-a stalls past its lease; worker-b takes the compose over.
    let later = t0 + chrono::Duration::seconds(61);
    let second = Compose::claim_next(&mut conn, "worker-b", later, lease, 2)
        .unwrap()
        .unwrap();
    assert_eq!(second.lease_owner.as_deref(), Some("worker-b"));

    let refused = Compose::save_checkpoints(&mut conn, compose.id, Some("worker-a"), "{}")
        .unwrap_err()
        .to_string();
    assert!(refused.contains(LEASE_LOST), "{refused}");
    let refused = Compose::set_state(
        &mut conn,
        compose.id,
        Some("worker-a"),
        ComposeState::Punging,
        later,
    );
    assert!(refused.is_err());
    assert!(!Compose::fail(&mut conn, compose.id, Some("worker-a"), "boom", later).unwrap());
    let now_read = Compose::by_id(&mut conn, compose.id).unwrap();
    assert_eq!(now_read.lease_owner.as_deref(), Some("worker-b"));
    assert_eq!(now_read.checkpoints, r#"{"a": true}"#);
    assert_ne!(now_read.state, ComposeState::Failed);
    assert_eq!(now_read.error_message, None);
}

#[actix_web::test]
async fn only_release_engineers_push() {
    let w = world();
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let reply = post(&app, w.token("alice"), "/composes/", json!({})).await;
    assert_eq!(reply.status, 403, "{}", reply.text());
}

/// `pipal push -y --wait` shows the plan, starts the compose and follows it until the masher
/// (here in the test process, as `pipal worker` would) finishes it; `pipal composes` shows it.
#[actix_web::test]
async fn pipal_push_and_pipal_composes_from_the_command_line() {
    let w = world();
    w.candidate("nano-8.2-1.fc44");
    let app = init_service(pipal::web::app(w.state.clone())).await;
    let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
    sign_everything(&w);

    let pushing =
        w.db.pipal_command(&["push", "-y", "--wait", "--request", "testing"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while live_composes(&w).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "pipal push started nothing"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let listed = w.db.pipal(&["composes"]);
    let listed = String::from_utf8_lossy(&listed.stdout).to_string();
    assert!(
        listed.contains("F44") && listed.contains("testing"),
        "{listed}"
    );

    let finished = run_composes(&w);
    assert!(
        matches!(finished[..], [Finished::Success { .. }]),
        "{finished:?}"
    );
    let output = pushing.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("===== F44 testing (rpm) ====="), "{stdout}");
    assert!(
        stdout.contains(&format!("{alias}  nano-8.2-1.fc44")),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 compose(s) finished, 0 failed"),
        "{stdout}"
    );

    let again = w.db.pipal(&["push", "-y"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("Nothing to push."));
    let history = w.db.pipal(&["composes"]);
    let history = String::from_utf8_lossy(&history.stdout).to_string();
    assert!(history.contains("(no compose in flight)"), "{history}");
    assert!(history.contains("success"), "{history}");
}

mod through_koji {
    //! The masher driving fake-koji over HTTP: a worker killed with SIGKILL in the middle of
    //! its tag moves, and a move Koji refuses.

    use super::*;
    use crate::koji_signing::{admin, koji_build, koji_tags, koji_world, sign};
    use pipal::fakekoji::{FaultRule, HubConfig, RunningHub, TaskTiming};
    use pipal::masher::steps::NOT_IN_A_TESTING_PUSH;
    use pipal::xmlrpc::Fault;

    /// The lease of a killed worker's compose runs out (without waiting a minute for it).
    fn expire_lease(w: &World, compose_id: i32) {
        use pipal::db::schema::composes;
        diesel::update(composes::table.find(compose_id))
            .set(composes::lease_expires_at.eq(Some(pipal::models::now())))
            .execute(&mut w.db.conn())
            .unwrap();
    }

    /// nano-8.2-1.fc44 submitted by alice, signed in Koji, its testing push started.
    async fn pushed(hub: &RunningHub) -> (World, String) {
        let w = koji_world(hub);
        koji_build(
            &admin(hub),
            "nano-8.2-1.fc44",
            "kojiadmin",
            "f44-updates-candidate",
        );
        let app = init_service(pipal::web::app(w.state.clone())).await;
        let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
        let worker = Worker::with_all_handlers(w.state.clone());
        while worker.run_one().unwrap().is_some() {}
        sign(
            hub,
            "f44-signing-pending",
            "f44-updates-testing-pending",
            "nano-8.2-1.fc44",
        );
        let started = push(&app, &w, json!({"request": "testing"})).await;
        assert_eq!(
            started["composes"].as_array().unwrap().len(),
            1,
            "{started}"
        );
        (w, alias)
    }

    #[actix_web::test]
    async fn a_worker_killed_during_its_tag_moves_is_taken_over_and_nothing_is_doubled() {
        // Koji's builders take 1.5 s per task: long enough to kill the worker while it waits.
        let hub = RunningHub::start(HubConfig {
            tasks: TaskTiming {
                delay: std::time::Duration::from_millis(1500),
                manual: false,
            },
            ..HubConfig::default()
        })
        .unwrap();
        let (w, alias) = pushed(&hub).await;
        let app = init_service(pipal::web::app(w.state.clone())).await;
        let moves_before = hub
            .hub
            .methods_called()
            .iter()
            .filter(|m| *m == "moveBuild")
            .count();

        let mut worker =
            w.db.pipal_command(&["worker"])
                .env("PIPAL__BUILDSYS__KIND", "koji")
                .env("PIPAL__BUILDSYS__KOJI__URL", hub.url())
                .env("PIPAL__BUILDSYS__KOJI__TASK_POLL_MS", "20")
                .env("PIPAL__MASHER__POLL_INTERVAL_MS", "20")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while hub
            .hub
            .methods_called()
            .iter()
            .filter(|m| *m == "moveBuild")
            .count()
            == moves_before
        {
            assert!(
                std::time::Instant::now() < deadline,
                "the worker never moved the build"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        worker.kill().unwrap(); // SIGKILL
        worker.wait().unwrap();

        let stranded = &live_composes(&w)[0];
        assert_eq!(stranded.state.to_string(), "initializing");
        assert!(stranded.lease_owner.is_some());
        expire_lease(&w, stranded.id);

        let finished = run_composes(&w);
        assert!(
            matches!(finished[..], [Finished::Success { .. }]),
            "{finished:?}"
        );
        let update = show(&app, &alias).await;
        assert_eq!(update["status"], "testing");
        assert_eq!(update["locked"], false);
        assert_eq!(
            comment_texts(&update)
                .iter()
                .filter(|c| *c == "This update has been pushed to testing.")
                .count(),
            1
        );
        let mut tags = koji_tags(&hub, "nano-8.2-1.fc44");
        tags.sort();
        assert_eq!(tags, ["f44-updates-testing"]);
    }

    /// The drill of every step: a `pipal worker` halted before the step is killed with
    /// SIGKILL, its lease runs out, another masher resumes the compose, and fake-koji's call
    /// log shows the build moved once.
    #[actix_web::test]
    async fn a_worker_killed_before_any_step_is_resumed_and_each_move_happens_once() {
        use std::io::{BufRead, BufReader};

        let steps = pipal::masher::steps::STEP_NAMES
            .iter()
            .filter(|s| !NOT_IN_A_TESTING_PUSH.contains(*s));
        for step in steps {
            let hub = RunningHub::start(HubConfig::default()).unwrap();
            let (w, alias) = pushed(&hub).await;
            let app = init_service(pipal::web::app(w.state.clone())).await;
            let masher = &w.state.settings.masher;
            let mut worker =
                w.db.pipal_command(&["worker"])
                    .env(pipal::masher::HALT_BEFORE_ENV, step)
                    .env("PIPAL__BUILDSYS__KIND", "koji")
                    .env("PIPAL__BUILDSYS__KOJI__URL", hub.url())
                    .env("PIPAL__BUILDSYS__KOJI__TASK_POLL_MS", "20")
                    .env("PIPAL__MASHER__POLL_INTERVAL_MS", "20")
                    .env("PIPAL__MASHER__COMPOSE_DIR", &masher.compose_dir)
                    .env("PIPAL__MASHER__STAGE_DIR", &masher.stage_dir)
                    .env("PIPAL__MASHER__CACHE_DIR", &masher.cache_dir)
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap();
            let stderr = BufReader::new(worker.stderr.take().unwrap());
            let halted = stderr
                .lines()
                .map_while(Result::ok)
                .any(|line| line.contains(&format!("masher halted before {step}")));
            assert!(halted, "{step}: the worker never reached the step");
            worker.kill().unwrap(); // SIGKILL
            worker.wait().unwrap();

            let stranded = &live_composes(&w)[0];
            assert!(stranded.lease_owner.is_some(), "{step}");
            expire_lease(&w, stranded.id);
            let finished = run_composes(&w);
            assert!(
                matches!(finished[..], [Finished::Success { .. }]),
                "{step}: {finished:?}"
            );

            let update = show(&app, &alias).await;
            assert_eq!(update["status"], "testing", "{step}");
            assert_eq!(update["locked"], false, "{step}");
            let pushed_comments = comment_texts(&update)
                .iter()
                .filter(|c| *c == "This update has been pushed to testing.")
                .count();
            assert_eq!(pushed_comments, 1, "{step}");
            let moves = hub
                .hub
                .call_log()
                .iter()
                .filter(|c| {
                    c["method"] == "moveBuild"
                        && c["params"][1] == "f44-updates-testing"
                        && c["params"][2] == "nano-8.2-1.fc44"
                })
                .count();
            assert_eq!(moves, 1, "{step}: moved to testing once");
            assert_eq!(
                koji_tags(&hub, "nano-8.2-1.fc44"),
                ["f44-updates-testing"],
                "{step}"
            );
            assert!(
                masher.stage_dir.join("f44-updates-testing").exists(),
                "{step}: the repository is published"
            );
        }
    }

    /// Koji's topdir with real RPMs and their signed copies: the testing repository takes
    /// the copies signed with the configured key.
    #[actix_web::test]
    async fn a_push_through_koji_publishes_the_signed_copies_from_its_topdir() {
        use crate::koji_signing::koji_world_with;
        use pipal::buildsys::koji::KojiCall;
        use pipal::demo::rpms::{BinaryPackage, DemoBuild, Payload, SourcePackage, write_build};
        use std::os::unix::fs::MetadataExt;

        static NANO: SourcePackage = SourcePackage {
            name: "nano",
            summary: "A small editor",
            license: "GPL-3.0-or-later",
            url: "https://www.nano-editor.org",
            binaries: &[BinaryPackage {
                name: "nano",
                arch: "x86_64",
                summary: "A small editor",
                payload: Payload::Command,
            }],
        };
        static NANO_BUILD: DemoBuild = DemoBuild {
            source: &NANO,
            version: "8.2",
            release: "1.fc44",
            changelog: &[],
        };
        let hub = RunningHub::start(HubConfig::default()).unwrap();
        let top = tempfile::tempdir().unwrap();
        let w = koji_world_with(&hub, |s| {
            s.buildsys.koji.topdir = top.path().to_owned();
            s.masher.sigkeys = vec!["B2F5D8A1".into()];
        });
        let koji = admin(&hub);
        koji_build(
            &koji,
            "nano-8.2-1.fc44",
            "kojiadmin",
            "f44-updates-candidate",
        );
        let mut signed_copies = Vec::new();
        for file in write_build(top.path(), &NANO_BUILD).unwrap() {
            let arch_dir = file.parent().unwrap();
            let arch = arch_dir.file_name().unwrap().to_str().unwrap().to_owned();
            let header = pipal::buildsys::rpmfile::RpmHeader::read(&file).unwrap();
            koji.client()
                .call(
                    &KojiCall::new("fake.addBuildRPM", vec![json!("nano-8.2-1.fc44")])
                        .kwarg("arch", arch.as_str())
                        .kwarg("name", header.name.as_str()),
                )
                .unwrap();
            let signed = arch_dir
                .parent()
                .unwrap()
                .join("data/signed/b2f5d8a1")
                .join(&arch);
            std::fs::create_dir_all(&signed).unwrap();
            let copy = signed.join(file.file_name().unwrap());
            std::fs::copy(&file, &copy).unwrap();
            signed_copies.push((arch, copy));
        }
        let app = init_service(pipal::web::app(w.state.clone())).await;
        let alias = submit(&app, &w, "alice", &["nano-8.2-1.fc44"]).await;
        let worker = Worker::with_all_handlers(w.state.clone());
        while worker.run_one().unwrap().is_some() {}
        sign(
            &hub,
            "f44-signing-pending",
            "f44-updates-testing-pending",
            "nano-8.2-1.fc44",
        );
        push(&app, &w, json!({"request": "testing"})).await;
        let finished = run_composes(&w);
        assert!(
            matches!(finished[..], [Finished::Success { .. }]),
            "{finished:?}"
        );
        assert_eq!(show(&app, &alias).await["status"], "testing");

        let compose = std::fs::canonicalize(
            w.state
                .settings
                .masher
                .stage_dir
                .join("f44-updates-testing"),
        )
        .unwrap();
        for (arch, copy) in &signed_copies {
            let repo = if arch == "src" {
                pipal::masher::repos::arch_repo(&compose, "source")
            } else {
                pipal::masher::repos::arch_repo(&compose, arch)
            };
            let published = repo.join("Packages/n").join(copy.file_name().unwrap());
            assert_eq!(
                std::fs::metadata(&published).unwrap().ino(),
                std::fs::metadata(copy).unwrap().ino(),
                "{} is the signed copy, linked",
                published.display()
            );
        }
        crate::repos::validate_with_dnf(&pipal::masher::repos::arch_repo(&compose, "x86_64"), 1);
    }

    #[actix_web::test]
    async fn a_move_koji_refuses_fails_the_compose_with_koji_s_words_until_resumed() {
        let hub = RunningHub::start(HubConfig::default()).unwrap();
        let (w, alias) = pushed(&hub).await;
        let app = init_service(pipal::web::app(w.state.clone())).await;
        hub.hub.inject(FaultRule {
            method: Some("moveBuild".into()),
            nth: None,
            build: None,
            fault: Fault::new(1000, "the hub is in maintenance"),
            remaining: Some(1),
        });

        let finished = run_composes(&w);
        let [Finished::Failed { error, .. }] = &finished[..] else {
            panic!("{finished:?}");
        };
        assert!(error.contains("the hub is in maintenance"), "{error}");
        assert!(error.contains("nano-8.2-1.fc44"), "{error}");
        let composes = get_json(&app, "/composes/").await;
        assert_eq!(composes["composes"][0]["state"], "failed", "{composes}");
        assert_eq!(show(&app, &alias).await["locked"], true);

        push(&app, &w, json!({"resume": true})).await;
        let finished = run_composes(&w);
        assert!(
            matches!(finished[..], [Finished::Success { .. }]),
            "{finished:?}"
        );
        assert_eq!(show(&app, &alias).await["status"], "testing");
        assert_eq!(koji_tags(&hub, "nano-8.2-1.fc44"), ["f44-updates-testing"]);
    }
}
