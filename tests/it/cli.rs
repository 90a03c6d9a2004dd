//! The `pipal` command line, run as a user would run it.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use pipal::models::now;
use pipal::services::accounts;

use crate::support::{TestDb, ok, pipal_command, stderr, stdout};

#[track_caller]
fn fails_with(output: std::process::Output, expected: &str) -> String {
    assert!(
        !output.status.success(),
        "expected a failure: {}",
        stdout(&output)
    );
    let err = stderr(&output);
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(expected), "expected {expected:?} in {err}");
    err
}

#[test]
fn every_subcommand_has_help_and_bad_usage_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let help = pipal_command(dir.path()).arg("--help").output().unwrap();
    assert!(help.status.success());
    let text = stdout(&help);
    for command in [
        "serve",
        "worker",
        "migrate",
        "check-config",
        "user",
        "group",
        "release",
        "package",
        "buildsys",
        "demo",
    ] {
        assert!(text.contains(command), "--help lists {command}: {text}");
        let sub = pipal_command(dir.path())
            .args([command, "--help"])
            .output()
            .unwrap();
        assert!(sub.status.success(), "{command} --help");
    }
    for nested in [
        vec!["user", "add", "--help"],
        vec!["release", "add", "--help"],
        vec!["buildsys", "import", "--help"],
        vec!["package", "owner", "add", "--help"],
    ] {
        let sub = pipal_command(dir.path()).args(&nested).output().unwrap();
        assert!(sub.status.success(), "{nested:?}");
    }

    let bogus = pipal_command(dir.path())
        .arg("frobnicate")
        .output()
        .unwrap();
    assert_eq!(bogus.status.code(), Some(2));
    fails_with(bogus, "frobnicate");
}

#[test]
fn check_config_masks_secrets_and_names_bad_keys() {
    let dir = tempfile::tempdir().unwrap();
    let output = pipal_command(dir.path())
        .arg("check-config")
        .env(
            "PIPAL__DATABASE__URL",
            "postgres://pipal:s3cret@db.example.org/pipal",
        )
        .output()
        .unwrap();
    let text = ok(output);
    assert!(
        text.contains("postgres://pipal:********@db.example.org/pipal"),
        "{text}"
    );
    assert!(!text.contains("s3cret"));
    assert!(text.contains("listen = \"127.0.0.1:8080\""));

    let config = dir.path().join("pipal.toml");
    std::fs::write(
        &config,
        "[server]\nlisten = \"127.0.0.1:8080\"\nlisen = \"oops\"\n",
    )
    .unwrap();
    let output = pipal_command(dir.path())
        .args(["check-config", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    fails_with(output, "server.lisen");

    let output = pipal_command(dir.path())
        .arg("check-config")
        .env("PIPAL__DATABASE__URL", "mysql://db/pipal")
        .output()
        .unwrap();
    fails_with(output, "database.url");

    let output = pipal_command(dir.path())
        .args(["check-config", "--config", "/nonexistent/pipal.toml"])
        .output()
        .unwrap();
    fails_with(output, "/nonexistent/pipal.toml");
}

#[test]
fn users_groups_and_tokens() {
    let db = TestDb::new();
    let out = ok(db.pipal_with_stdin(
        &[
            "user",
            "add",
            "alice",
            "--email",
            "alice@example.org",
            "--groups",
            "packager,qa",
            "--password-stdin",
        ],
        Some("correct horse battery\n"),
    ));
    assert!(out.contains("created user alice"));
    ok(db.pipal(&["user", "add", "bob", "--email", "bob@example.org"]));
    fails_with(
        db.pipal(&["user", "add", "alice", "--email", "a@example.org"]),
        "user `alice` already exists",
    );
    fails_with(
        db.pipal(&["user", "add", "eve", "--email", "not-an-address"]),
        "not-an-address",
    );
    fails_with(
        db.pipal_with_stdin(
            &[
                "user",
                "add",
                "eve",
                "--email",
                "e@example.org",
                "--password-stdin",
            ],
            Some("short\n"),
        ),
        "at least 8 characters",
    );

    let list = ok(db.pipal(&["user", "list"]));
    let alice_line = list
        .lines()
        .find(|l| l.starts_with("alice"))
        .expect("alice listed");
    assert!(alice_line.contains("packager,qa"), "{alice_line}");
    assert!(list.lines().any(|l| l.starts_with("bob")));
    assert!(
        list.lines().any(|l| l.starts_with("bodhi")),
        "the system user exists"
    );

    let mut conn = db.conn();
    assert!(
        accounts::check_password(&mut conn, "alice", "correct horse battery")
            .unwrap()
            .is_some()
    );
    assert!(
        accounts::check_password(&mut conn, "alice", "wrong")
            .unwrap()
            .is_none()
    );

    let token_out = ok(db.pipal(&["user", "token", "alice", "--label", "laptop"]));
    let token = token_out.trim();
    assert_eq!(token_out.lines().count(), 1, "only the token is printed");
    assert!(token.starts_with("pipal_"));
    let user = accounts::user_for_token(&mut conn, token, now())
        .unwrap()
        .expect("the token works");
    assert_eq!(user.name, "alice");
    let tokens = ok(db.pipal(&["user", "tokens", "alice"]));
    assert!(
        tokens.contains("laptop") && tokens.contains("active"),
        "{tokens}"
    );
    assert!(!tokens.contains("never"), "last use is recorded: {tokens}");
    let id = tokens
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    ok(db.pipal(&["user", "revoke-token", "alice", &id]));
    assert!(
        accounts::user_for_token(&mut conn, token, now())
            .unwrap()
            .is_none()
    );
    fails_with(
        db.pipal(&["user", "token", "nobody"]),
        "No such user: nobody",
    );

    ok(db.pipal(&["group", "add", "releng"]));
    fails_with(db.pipal(&["group", "add", "releng"]), "already exists");
    ok(db.pipal(&["group", "add-member", "releng", "bob"]));
    let groups = ok(db.pipal(&["group", "list"]));
    assert!(
        groups
            .lines()
            .any(|l| l.starts_with("releng") && l.trim_end().ends_with('1')),
        "{groups}"
    );
    assert_eq!(ok(db.pipal(&["group", "members", "releng"])).trim(), "bob");
    ok(db.pipal(&["group", "remove-member", "releng", "bob"]));
    fails_with(
        db.pipal(&["group", "remove-member", "releng", "bob"]),
        "bob is not in releng",
    );
}

#[test]
fn releases_are_added_edited_and_listed() {
    let db = TestDb::new();
    let out = ok(db.pipal(&[
        "release",
        "add",
        "F43",
        "--long-name",
        "Fedora 43",
        "--state",
        "current",
        "--package-manager",
        "dnf",
        "--testing-repository",
        "updates-testing",
        "--eol",
        "2026-12-09",
        "--min-karma",
        "3",
    ]));
    assert!(out.contains("created release F43"));
    assert!(out.contains("created tag f43-updates-candidate"), "{out}");
    let tags = ok(db.pipal(&["buildsys", "list-tags"]));
    assert_eq!(tags.lines().count(), 8, "{tags}");

    let json: serde_json::Value =
        serde_json::from_str(&ok(db.pipal(&["release", "show", "F43"]))).unwrap();
    assert_eq!(json["name"], "F43");
    assert_eq!(json["long_name"], "Fedora 43");
    assert_eq!(json["version"], "43");
    assert_eq!(json["dist_tag"], "f43");
    assert_eq!(json["stable_tag"], "f43-updates");
    assert_eq!(json["pending_signing_tag"], "f43-signing-pending");
    assert_eq!(json["state"], "current");
    assert_eq!(json["eol"], "2026-12-09");
    assert_eq!(json["released_on"], serde_json::Value::Null);
    assert_eq!(json["min_karma"], 3);
    assert_eq!(json["critpath_min_karma"], 2, "the global default");
    assert_eq!(json["mandatory_days_in_testing"], 7);

    ok(db.pipal(&[
        "release",
        "edit",
        "F43",
        "--state",
        "frozen",
        "--unset",
        "min-karma",
        "--mandatory-days-in-testing",
        "14",
    ]));
    let json: serde_json::Value =
        serde_json::from_str(&ok(db.pipal(&["release", "show", "f43"]))).unwrap();
    assert_eq!(json["state"], "frozen");
    assert_eq!(json["min_karma"], 2);
    assert_eq!(json["mandatory_days_in_testing"], 14);

    fails_with(
        db.pipal(&["release", "add", "F43", "--long-name", "Fedora 43"]),
        "already used by F43",
    );
    fails_with(
        db.pipal(&["release", "add", "F44-TOO-LONG", "--long-name", "Fedora 44"]),
        "Longer than maximum length 10",
    );
    fails_with(
        db.pipal(&[
            "release",
            "add",
            "F45",
            "--long-name",
            "Fedora 45",
            "--eol",
            "2200-01-01",
        ]),
        "End-of-life date may not be in the right range of years (2000-2100)",
    );
    fails_with(
        db.pipal(&["release", "add", "F46"]),
        "--long-name is required",
    );
    fails_with(
        db.pipal(&["release", "edit", "F99", "--state", "current"]),
        "No such release",
    );
    fails_with(
        db.pipal(&[
            "release",
            "add",
            "F47",
            "--long-name",
            "Fedora 47",
            "--state",
            "bogus",
        ]),
        "bogus",
    );

    let table = ok(db.pipal(&["release", "list"]));
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("F43") && l.contains("frozen")),
        "{table}"
    );
    let list: serde_json::Value =
        serde_json::from_str(&ok(db.pipal(&["release", "list", "--json"]))).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[test]
fn buildsys_and_package_owners_from_the_command_line() {
    let db = TestDb::new();
    ok(db.pipal(&["release", "add", "F43", "--long-name", "Fedora 43"]));
    let staging = db.dir.path().join("staging");
    for build in pipal_demo_builds() {
        pipal::demo::rpms::write_build(&staging, build).unwrap();
    }
    let out = ok(db.pipal(&[
        "buildsys",
        "import",
        staging.to_str().unwrap(),
        "--owner",
        "alice",
    ]));
    assert!(out.contains("imported hello-2.12.1-1.fc43"), "{out}");
    let again = ok(db.pipal(&["buildsys", "import", staging.to_str().unwrap()]));
    assert!(again.contains("0 build(s) imported"), "{again}");

    ok(db.pipal(&[
        "buildsys",
        "tag",
        "f43-updates-candidate",
        "hello-2.12.1-1.fc43",
    ]));
    let repeat = ok(db.pipal(&[
        "buildsys",
        "tag",
        "f43-updates-candidate",
        "hello-2.12.1-1.fc43",
    ]));
    assert!(repeat.contains("already in"), "{repeat}");
    let listed = ok(db.pipal(&["buildsys", "list-tagged", "f43-updates-candidate"]));
    assert!(listed.contains("hello-2.12.1-1.fc43"), "{listed}");
    let inherited = ok(db.pipal(&[
        "buildsys",
        "list-tagged",
        "f43-updates-candidate",
        "--inherit",
        "--latest",
    ]));
    assert!(inherited.contains("hello-2.12.1-1.fc43"));
    ok(db.pipal(&[
        "buildsys",
        "untag",
        "f43-updates-candidate",
        "hello-2.12.1-1.fc43",
    ]));
    let listed = ok(db.pipal(&["buildsys", "list-tagged", "f43-updates-candidate"]));
    assert!(!listed.contains("hello-2.12.1-1.fc43"));
    fails_with(
        db.pipal(&[
            "buildsys",
            "untag",
            "f43-updates-candidate",
            "hello-2.12.1-1.fc43",
        ]),
        "is not tagged in",
    );
    fails_with(
        db.pipal(&["buildsys", "tag", "no-such-tag", "hello-2.12.1-1.fc43"]),
        "No such tag: no-such-tag",
    );
    fails_with(
        db.pipal(&["buildsys", "import", "/nonexistent"]),
        "/nonexistent",
    );
    let show = ok(db.pipal(&["buildsys", "show", "hello-2.12.1-1.fc43"]));
    assert!(
        show.contains("hello-doc-2.12.1-1.fc43.noarch.rpm"),
        "{show}"
    );
    assert!(show.contains("untagged at event"), "{show}");

    ok(db.pipal(&["user", "add", "alice", "--email", "alice@example.org"]));
    let out = ok(db.pipal(&["package", "owner", "add", "hello", "alice"]));
    assert!(out.contains("alice is now owner of hello"), "{out}");
    ok(db.pipal(&["group", "add", "python-sig"]));
    ok(db.pipal(&[
        "package",
        "owner",
        "add",
        "hello",
        "python-sig",
        "--group",
        "--role",
        "committer",
    ]));
    let owners = ok(db.pipal(&["package", "owner", "list", "hello"]));
    assert!(
        owners.contains("alice") && owners.contains("owner"),
        "{owners}"
    );
    assert!(
        owners.contains("@python-sig") && owners.contains("committer"),
        "{owners}"
    );
    fails_with(
        db.pipal(&["package", "owner", "add", "hello", "nobody"]),
        "No such user: nobody",
    );
}

fn pipal_demo_builds() -> Vec<&'static pipal::demo::rpms::DemoBuild> {
    static HELLO: pipal::demo::rpms::SourcePackage = pipal::demo::rpms::SourcePackage {
        name: "hello",
        summary: "Greets",
        license: "MIT",
        url: "https://example.org",
        binaries: &[
            pipal::demo::rpms::BinaryPackage {
                name: "hello",
                arch: "x86_64",
                summary: "Greets",
                payload: pipal::demo::rpms::Payload::Command,
            },
            pipal::demo::rpms::BinaryPackage {
                name: "hello-doc",
                arch: "noarch",
                summary: "Docs",
                payload: pipal::demo::rpms::Payload::Docs,
            },
        ],
    };
    static BUILD: pipal::demo::rpms::DemoBuild = pipal::demo::rpms::DemoBuild {
        source: &HELLO,
        version: "2.12.1",
        release: "1.fc43",
        changelog: &[],
    };
    vec![&BUILD]
}

#[test]
fn migrate_reports_what_it_did() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("fresh.db").display());
    let first = ok(pipal_command(dir.path())
        .arg("migrate")
        .env("PIPAL__DATABASE__URL", &url)
        .output()
        .unwrap());
    assert!(first.contains("applied"), "{first}");
    let second = ok(pipal_command(dir.path())
        .arg("migrate")
        .env("PIPAL__DATABASE__URL", &url)
        .output()
        .unwrap());
    assert!(second.contains("up to date"), "{second}");

    let other = format!("sqlite://{}", dir.path().join("other.db").display());
    let refused = pipal_command(dir.path())
        .args(["user", "list"])
        .env("PIPAL__DATABASE__URL", &other)
        .env("PIPAL__DATABASE__MIGRATE_ON_START", "false")
        .output()
        .unwrap();
    fails_with(refused, "run `pipal migrate`");
}

#[test]
fn serve_answers_and_stops_cleanly_on_sigterm() {
    let db = TestDb::new();
    let mut child = db
        .pipal_command(&["serve", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr_pipe = child.stderr.take().unwrap();
    let (lines_tx, lines_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr_pipe).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut log = Vec::new();
    let port = loop {
        let line = lines_rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("pipal serve did not start: {log:?}"));
        if let Some(rest) = line.split("listening on http://127.0.0.1:").nth(1) {
            break rest.trim_end_matches('/').parse::<u16>().expect("a port");
        }
        log.push(line);
    };

    let (status, body) = crate::support::http::get(port, "/healthz/ready");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""db_session":true"#), "{body}");

    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "a clean shutdown exits with 0: {exit}");
    let rest: Vec<String> = lines_rx.iter().collect();
    assert!(rest.iter().any(|l| l.contains("stopped")), "{rest:?}");
}

#[test]
fn a_users_mail_choices_are_shown_and_changed() {
    let db = TestDb::new();
    ok(db.pipal(&["demo"]));
    let shown = ok(db.pipal(&["user", "mail", "bob"]));
    assert!(shown.contains("notifications: on\n"), "{shown}");
    assert!(shown.contains("own comments:  off\n"), "{shown}");
    let mut conn = db.conn();
    let alias = pipal::models::update::Update::by_id(&mut conn, 1)
        .unwrap()
        .alias;
    let changed = ok(db.pipal(&[
        "user",
        "mail",
        "bob",
        "--notifications",
        "off",
        "--mute",
        &alias,
    ]));
    assert!(changed.contains("notifications: off\n"), "{changed}");
    assert!(
        changed.contains(&format!("muted:         {alias}\n")),
        "{changed}"
    );
    let refused = db.pipal(&["user", "mail", "bob", "--mute", "FEDORA-2026-nope"]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("no update FEDORA-2026-nope"),
        "{}",
        stderr(&refused)
    );
    let bad = db.pipal(&["user", "mail", "bob", "--own-comments", "maybe"]);
    assert!(!bad.status.success());
}
