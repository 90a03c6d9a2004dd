//! The Koji client against the fake hub over real HTTP: reads parsed from Koji's structs,
//! tagging through tasks, multicall batches, faults, re-login and retries.

use std::time::Duration;

use pipal::buildsys::koji::{KojiBuildSystem, KojiCall};
use pipal::buildsys::{BuildSystem, BuildsysError, ListTaggedOptions, TagOp};
use pipal::config::{KojiAuthKind, KojiSettings};
use pipal::fakekoji::{FaultRule, HubConfig, RunningHub, TaskTiming};
use pipal::xmlrpc::Fault;
use serde_json::{Value, json};

fn settings(hub: &RunningHub) -> KojiSettings {
    KojiSettings {
        url: hub.url(),
        retry_interval_ms: 5,
        task_poll_ms: 10,
        task_timeout_secs: 20,
        max_retries: 3,
        ..KojiSettings::default()
    }
}

fn hub_with_delay(delay_ms: u64) -> RunningHub {
    RunningHub::start(HubConfig {
        tasks: TaskTiming {
            delay: Duration::from_millis(delay_ms),
            manual: false,
        },
        ..HubConfig::default()
    })
    .unwrap()
}

/// A hub with f43 (dist), f43-updates-candidate and f43-updates-testing inheriting from it,
/// and builds nano-8.2-1.fc43 and nano-8.3-1.fc43, vim-9.1-1.fc43 in the candidate tag.
fn fedora_hub(delay_ms: u64) -> (RunningHub, KojiBuildSystem) {
    let hub = hub_with_delay(delay_ms);
    let koji = KojiBuildSystem::from_settings(&settings(&hub)).unwrap();
    let call = |method: &str, args: Vec<Value>| {
        koji.client()
            .call(&KojiCall::new(method, args))
            .unwrap_or_else(|e| panic!("{method}: {e}"))
    };
    call("createTag", vec![json!("f43")]);
    for tag in [
        "f43-updates-candidate",
        "f43-updates-testing",
        "f43-updates",
    ] {
        koji.client()
            .call(&KojiCall::new("createTag", vec![json!(tag)]).kwarg("parent", "f43"))
            .unwrap();
    }
    for package in ["nano", "vim"] {
        call("packageListAdd", vec![json!("f43"), json!(package)]);
    }
    for (name, version) in [("nano", "8.2"), ("vim", "9.1"), ("nano", "8.3")] {
        call(
            "createEmptyBuild",
            vec![json!(name), json!(version), json!("1.fc43"), Value::Null],
        );
        let nvr = format!("{name}-{version}-1.fc43");
        call(
            "tagBuildBypass",
            vec![json!("f43-updates-candidate"), json!(nvr)],
        );
    }
    (hub, koji)
}

#[test]
fn reads_come_back_as_the_build_system_types() {
    let (hub, koji) = fedora_hub(0);
    let build = koji.get_build("nano-8.3-1.fc43").unwrap().unwrap();
    assert_eq!(
        (build.name.as_str(), build.version.as_str()),
        ("nano", "8.3")
    );
    assert_eq!(build.owner_name, "kojiadmin");
    assert!(koji.get_build("nano-0-0").unwrap().is_none());

    let tag = koji.get_tag("f43-updates-testing").unwrap().unwrap();
    assert_eq!(tag.name, "f43-updates-testing");
    assert!(koji.get_tag("f99").unwrap().is_none());
    assert_eq!(koji.full_inheritance("f43-updates").unwrap(), vec!["f43"]);

    let latest = koji
        .list_tagged(
            "f43-updates-candidate",
            &ListTaggedOptions {
                latest: true,
                ..Default::default()
            },
        )
        .unwrap();
    let nvrs: Vec<&str> = latest.iter().map(|b| b.build.nvr.as_str()).collect();
    assert_eq!(nvrs, ["nano-8.3-1.fc43", "vim-9.1-1.fc43"]);
    assert_eq!(latest[0].tag_name, "f43-updates-candidate");

    let only_vim = koji
        .list_tagged(
            "f43-updates-candidate",
            &ListTaggedOptions {
                package: Some("vim"),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(only_vim.len(), 1);

    let tags = koji.list_tags("vim-9.1-1.fc43").unwrap();
    assert_eq!(tags.len(), 1);
    assert!(matches!(
        koji.list_tags("nope-1-1"),
        Err(BuildsysError::NoSuchBuild(_))
    ));
    assert!(matches!(
        koji.list_tagged("f99", &ListTaggedOptions::default()),
        Err(BuildsysError::NoSuchTag(tag)) if tag == "f99"
    ));

    // Keyword arguments travel as Koji's __starstar struct.
    let log = hub.hub.call_log();
    let list_tagged = log
        .iter()
        .find(|c| c["method"] == "listTagged")
        .expect("listTagged was called");
    assert_eq!(
        list_tagged["params"][1],
        json!({"latest": true, "__starstar": true})
    );
}

#[test]
fn tagging_waits_for_the_task_and_reports_what_is_already_done() {
    let (hub, koji) = fedora_hub(50);
    koji.tag_build("f43-updates-testing", "nano-8.3-1.fc43", "bodhi")
        .unwrap();
    let tags: Vec<String> = koji
        .list_tags("nano-8.3-1.fc43")
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert!(tags.contains(&"f43-updates-testing".to_owned()), "{tags:?}");
    assert!(
        hub.hub
            .methods_called()
            .contains(&"taskFinished".to_owned())
    );

    match koji.tag_build("f43-updates-testing", "nano-8.3-1.fc43", "bodhi") {
        Err(BuildsysError::AlreadyTagged { nvr, tag }) => {
            assert_eq!(
                (nvr.as_str(), tag.as_str()),
                ("nano-8.3-1.fc43", "f43-updates-testing")
            );
        }
        other => panic!("expected AlreadyTagged, got {other:?}"),
    }
    match koji.untag_build("f43-updates", "nano-8.3-1.fc43", "bodhi") {
        Err(BuildsysError::NotTagged { tag, .. }) => assert_eq!(tag, "f43-updates"),
        other => panic!("expected NotTagged, got {other:?}"),
    }
    assert!(matches!(
        koji.tag_build("f43-updates", "nope-1-1", "bodhi"),
        Err(BuildsysError::NoSuchBuild(_))
    ));

    koji.move_build(
        "f43-updates-testing",
        "f43-updates",
        "nano-8.3-1.fc43",
        "bodhi",
    )
    .unwrap();
    let tags: Vec<String> = koji
        .list_tags("nano-8.3-1.fc43")
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert!(tags.contains(&"f43-updates".to_owned()));
    assert!(!tags.contains(&"f43-updates-testing".to_owned()));
}

#[test]
fn a_batch_goes_in_multicalls_and_one_failed_task_names_its_build_and_tag() {
    let (hub, _) = fedora_hub(0);
    let koji = KojiBuildSystem::from_settings(&KojiSettings {
        multicall_batch: 2,
        ..settings(&hub)
    })
    .unwrap();
    hub.hub.inject(FaultRule {
        method: None,
        nth: None,
        build: Some("vim-9.1-1.fc43".into()),
        fault: Fault::new(1003, "policy violation (tag)"),
        remaining: None,
    });
    let before = hub.hub.methods_called().len();
    let ops = vec![
        TagOp::tag("f43-updates-testing", "nano-8.2-1.fc43"),
        TagOp::tag("f43-updates-testing", "vim-9.1-1.fc43"),
        TagOp::Move {
            from: "f43-updates-candidate".into(),
            to: "f43-updates-testing".into(),
            nvr: "nano-8.3-1.fc43".into(),
        },
        TagOp::untag("f43-updates-candidate", "nano-8.2-1.fc43"),
        TagOp::tag("f43-updates", "nano-8.2-1.fc43"),
    ];
    let results = koji.apply_batch(&ops, "bodhi");
    assert_eq!(results.len(), 5);
    for (index, result) in results.iter().enumerate() {
        if index == 1 {
            let message = result.as_ref().unwrap_err().to_string();
            assert!(message.contains("vim-9.1-1.fc43"), "{message}");
            assert!(message.contains("f43-updates-testing"), "{message}");
            assert!(message.contains("policy violation (tag)"), "{message}");
        } else {
            assert!(result.is_ok(), "op {index}: {result:?}");
        }
    }
    let testing: Vec<String> = koji
        .list_tagged("f43-updates-testing", &ListTaggedOptions::default())
        .unwrap()
        .into_iter()
        .map(|b| b.build.nvr)
        .collect();
    assert!(testing.contains(&"nano-8.2-1.fc43".to_owned()));
    assert!(testing.contains(&"nano-8.3-1.fc43".to_owned()));
    assert!(!testing.contains(&"vim-9.1-1.fc43".to_owned()));

    // 1 untag + 4 tasks, two calls per multiCall: one request for the untag, two for the
    // tasks.
    let calls = &hub.hub.call_log()[before..];
    let submitted: Vec<&str> = calls
        .iter()
        .filter_map(|c| c["method"].as_str())
        .filter(|m| matches!(*m, "multiCall" | "tagBuild" | "moveBuild" | "untagBuild"))
        .collect();
    // Then the tasks are polled together, a multiCall of taskFinished per round.
    assert!(
        submitted[8..].iter().all(|m| *m == "multiCall"),
        "{submitted:?}"
    );
    assert_eq!(
        submitted[..8],
        [
            "multiCall",
            "untagBuild",
            "multiCall",
            "tagBuild",
            "tagBuild",
            "multiCall",
            "moveBuild",
            "tagBuild"
        ]
    );
}

#[test]
fn an_expired_session_logs_in_again_and_call_numbers_grow() {
    let (hub, koji) = fedora_hub(0);
    koji.get_tag("f43").unwrap();
    hub.hub.with_state(|state| {
        for session in state.sessions.values_mut() {
            session.expired = true;
        }
    });
    koji.get_tag("f43").unwrap();
    let log = hub.hub.call_log();
    let logins = log.iter().filter(|c| c["method"] == "login").count();
    assert_eq!(logins, 2, "one login, then one after AuthExpired");
    let callnums: Vec<i64> = log
        .iter()
        .filter_map(|c| c["callnum"].as_str()?.parse().ok())
        .collect();
    assert!(callnums.len() > 5);
    assert!(
        callnums.windows(2).all(|w| w[1] > w[0] || w[1] == 0),
        "{callnums:?}"
    );
}

#[test]
fn server_offline_is_retried_and_other_faults_are_not() {
    let (hub, koji) = fedora_hub(0);
    hub.hub.inject(FaultRule {
        method: Some("getTag".into()),
        nth: None,
        build: None,
        fault: Fault::new(1014, "server is offline"),
        remaining: Some(2),
    });
    assert!(koji.get_tag("f43").unwrap().is_some());
    let get_tags = hub
        .hub
        .methods_called()
        .iter()
        .filter(|m| *m == "getTag")
        .count();
    assert_eq!(get_tags, 3, "two offline replies, then the answer");

    hub.hub.inject(FaultRule {
        method: Some("getBuild".into()),
        nth: None,
        build: None,
        fault: Fault::new(1000, "database is on fire"),
        remaining: Some(1),
    });
    let error = koji.get_build("nano-8.2-1.fc43").unwrap_err();
    assert!(error.to_string().contains("database is on fire"), "{error}");
    assert_eq!(
        hub.hub
            .methods_called()
            .iter()
            .filter(|m| *m == "getBuild")
            .count(),
        1
    );
}

#[test]
fn an_unreachable_hub_is_unavailable_after_the_retries() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let koji = KojiBuildSystem::from_settings(&KojiSettings {
        url: format!("http://127.0.0.1:{port}/kojihub"),
        auth: KojiAuthKind::None,
        max_retries: 2,
        retry_interval_ms: 1,
        ..KojiSettings::default()
    })
    .unwrap();
    match koji.get_tag("f43") {
        Err(BuildsysError::Unavailable(message)) => {
            assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[test]
fn side_tags_and_rpms_read_through() {
    let (_hub, koji) = fedora_hub(0);
    let created = koji
        .client()
        .call(&KojiCall::new("createSideTag", vec![json!("f43")]))
        .unwrap();
    koji.client()
        .call(&KojiCall::new(
            "fake.addBuildRPM",
            vec![json!("nano-8.3-1.fc43"), json!("x86_64")],
        ))
        .unwrap();
    let side = koji.list_side_tags(Some("kojiadmin")).unwrap();
    assert_eq!(side.len(), 1);
    assert_eq!(side[0].name, created["name"].as_str().unwrap());
    assert_eq!(side[0].extra["sidetag_user"], "kojiadmin");
    assert!(koji.list_side_tags(None).unwrap().len() == 1);
    let rpms = koji.list_build_rpms("nano-8.3-1.fc43").unwrap();
    assert_eq!(rpms.len(), 1);
    assert_eq!(
        (rpms[0].name.as_str(), rpms[0].arch.as_str()),
        ("nano", "x86_64")
    );
}

/// `pipal koji check` and `pipal release add` against the fake hub, as an admin runs them.
#[test]
fn koji_check_reports_the_hub_and_the_missing_tags_of_each_release() {
    use crate::support::{TestDb, ok, stderr, stdout};

    let (hub, koji) = fedora_hub(0);
    let db = TestDb::new();
    let with_koji = |args: &[&str]| {
        let mut command = db.pipal_command(args);
        command
            .env("PIPAL__BUILDSYS__KIND", "koji")
            .env("PIPAL__BUILDSYS__KOJI__URL", hub.url())
            .env("PIPAL__BUILDSYS__KOJI__MAX_RETRIES", "0");
        command.output().unwrap()
    };
    let release = [
        "release",
        "add",
        "F43",
        "--long-name",
        "Fedora 43",
        "--state",
        "current",
    ];
    let refused = with_koji(&release);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("f43-updates-testing-pending"),
        "Pipal does not create tags in Koji: {}",
        stderr(&refused)
    );
    for tag in [
        "f43-signing-pending",
        "f43-updates-testing-pending",
        "f43-updates-pending",
        "f43-override",
    ] {
        koji.client()
            .call(&KojiCall::new("createTag", vec![json!(tag)]))
            .unwrap();
    }
    ok(with_koji(&release));

    let report = with_koji(&["koji", "check"]);
    let out = stdout(&report);
    assert!(report.status.success(), "{out}{}", stderr(&report));
    assert!(out.contains("Koji 1.35.3"), "{out}");
    assert!(out.contains("logged in as kojiadmin"), "{out}");
    assert!(out.contains("F43: 8 tag(s) present"), "{out}");

    koji.client()
        .call(&KojiCall::new("deleteTag", vec![json!("f43-override")]))
        .unwrap();
    let report = with_koji(&["koji", "check"]);
    assert!(!report.status.success());
    assert!(
        stdout(&report).contains("missing: f43-override"),
        "{}",
        stdout(&report)
    );
}
