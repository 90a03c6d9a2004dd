//! `pipal demo`: a usable demo, and a second run that changes nothing.

use diesel::prelude::*;
use pipal::buildsys::{BuildSystem, ListTaggedOptions, LocalBuildSystem};
use pipal::db::schema::{builds, comments, updates};
use pipal::db::types::UpdateStatus;

use crate::support::{TestDb, ok};

fn rpm_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                found.extend(rpm_files(&path));
            } else if path.extension().is_some_and(|e| e == "rpm") {
                found.push(path);
            }
        }
    }
    found
}

#[test]
fn the_demo_is_complete_and_idempotent() {
    let db = TestDb::new();
    let first = ok(db.pipal(&["demo"]));
    for user in ["alice", "bob", "carol"] {
        let line = first
            .lines()
            .find(|l| l.starts_with(&format!("created user {user}")))
            .unwrap_or_else(|| panic!("{user} is created: {first}"));
        assert!(line.contains("with password "), "{line}");
    }

    let users = ok(db.pipal(&["user", "list"]));
    for user in ["alice", "bob", "carol"] {
        assert!(users.lines().any(|l| l.starts_with(user)), "{users}");
    }
    let releases = ok(db.pipal(&["release", "list"]));
    assert!(
        releases.contains("F43") && releases.contains("F44"),
        "{releases}"
    );

    let root = db.dir.path().join("koji");
    let files = rpm_files(&root.join("packages"));
    assert!(files.len() >= 30, "30+ RPMs, got {}", files.len());
    let doc = files
        .iter()
        .find(|p| p.to_string_lossy().contains("-doc-"))
        .expect("a -doc subpackage");
    let meta = rpm::PackageMetadata::open(doc).unwrap();
    assert!(
        !meta.get_changelog_entries().unwrap().is_empty(),
        "changelogs"
    );
    assert!(
        files
            .iter()
            .any(|p| p.to_string_lossy().ends_with(".src.rpm"))
    );

    let mut conn = db.conn();
    let statuses: Vec<UpdateStatus> = updates::table
        .select(updates::status)
        .load(&mut *conn)
        .unwrap();
    assert!(statuses.len() >= 4, "a few updates");
    for status in [
        UpdateStatus::Pending,
        UpdateStatus::Testing,
        UpdateStatus::Stable,
    ] {
        assert!(statuses.contains(&status), "an update {status}");
    }
    let comment_count: i64 = comments::table.count().get_result(&mut *conn).unwrap();
    assert!(comment_count > 5);

    // Candidate builds in no update let a packager create an update at once.
    let bs = LocalBuildSystem::new(db.db.clone(), root.clone());
    let candidates = bs
        .list_tagged("f43-updates-candidate", &ListTaggedOptions::default())
        .unwrap();
    let in_updates: Vec<String> = builds::table
        .filter(builds::update_id.is_not_null())
        .select(builds::nvr)
        .load(&mut *conn)
        .unwrap();
    assert!(
        candidates
            .iter()
            .any(|c| !in_updates.contains(&c.build.nvr)),
        "a candidate build is free"
    );
    // Builds of updates are in the tags of their status.
    let testing = bs
        .list_tagged("f43-updates-testing", &ListTaggedOptions::default())
        .unwrap();
    assert!(
        testing
            .iter()
            .any(|t| t.build.nvr == "libfrob-1.4.1-1.fc43")
    );
    // A buildroot override, tagged into the override tag.
    let overridden = bs
        .list_tagged("f43-override", &ListTaggedOptions::default())
        .unwrap();
    assert_eq!(nvrs_of(&overridden), ["libfrob-1.4.1-1.fc43"]);
    drop(conn);

    let before = snapshot(&db);
    let second = ok(db.pipal(&["demo"]));
    assert!(second.contains("nothing changed"), "{second}");
    assert_eq!(snapshot(&db), before, "the second run changes nothing");
}

fn nvrs_of(tagged: &[pipal::buildsys::TaggedBuild]) -> Vec<&str> {
    tagged.iter().map(|t| t.build.nvr.as_str()).collect()
}

/// Row counts of the tables the demo fills.
fn snapshot(db: &TestDb) -> Vec<i64> {
    let mut conn = db.conn();
    let tables = [
        "users",
        "groups",
        "releases",
        "packages",
        "package_acls",
        "updates",
        "builds",
        "comments",
        "bugs",
        "buildroot_overrides",
        "buildsys_tags",
        "buildsys_builds",
        "buildsys_rpms",
        "buildsys_tag_listing",
        "buildsys_events",
    ];
    tables
        .iter()
        .map(|table| {
            #[derive(QueryableByName)]
            struct Count {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
                .get_result::<Count>(&mut *conn)
                .unwrap()
                .n
        })
        .collect()
}

mod on_koji {
    //! `pipal demo` with `buildsys.kind = "koji"`: the demo recreated in fake-koji, with what
    //! `koji wait-repo` (run by `bodhi overrides save`) needs, and a second run that changes
    //! nothing.

    use super::*;
    use pipal::buildsys::koji::{KojiBuildSystem, KojiCall};
    use pipal::fakekoji::{HubConfig, RunningHub};
    use serde_json::{Value, json};

    fn demo_on(db: &TestDb, hub: &RunningHub) -> String {
        ok(db
            .pipal_command(&["demo"])
            .env("PIPAL__BUILDSYS__KIND", "koji")
            .env("PIPAL__BUILDSYS__KOJI__URL", hub.url())
            .env("PIPAL__BUILDSYS__KOJI__TOPDIR", db.dir.path().join("koji"))
            .output()
            .unwrap())
    }

    fn call(koji: &KojiBuildSystem, method: &str, args: Vec<Value>) -> Value {
        koji.client()
            .call(&KojiCall::new(method, args))
            .unwrap_or_else(|e| panic!("{method}: {e}"))
    }

    #[test]
    fn the_demo_on_koji_has_fedoras_build_tag_and_target_and_is_idempotent() {
        let db = TestDb::new();
        let hub = RunningHub::start(HubConfig::default()).unwrap();
        let first = demo_on(&db, &hub);
        assert!(first.contains("builds in the Koji hub"), "{first}");
        let koji = KojiBuildSystem::from_settings(&pipal::config::KojiSettings {
            url: hub.url(),
            ..Default::default()
        })
        .unwrap();

        // Every update's build is where its status puts it, in the hub.
        let mut conn = db.conn();
        let testing: Vec<String> = builds::table
            .inner_join(updates::table)
            .filter(updates::status.eq(UpdateStatus::Testing))
            .select(builds::nvr)
            .load(&mut conn)
            .unwrap();
        assert!(!testing.is_empty());
        for nvr in &testing {
            let tags: Vec<String> = koji
                .list_tags(nvr)
                .unwrap()
                .into_iter()
                .map(|t| t.name)
                .collect();
            assert!(
                tags.iter().any(|t| t.ends_with("-updates-testing")),
                "{nvr}: {tags:?}"
            );
        }

        // The target builds in f43-build, which sees the override through inheritance.
        let target = call(&koji, "getBuildTarget", vec![json!("f43-candidate")]);
        assert_eq!(target["build_tag_name"], "f43-build", "{target}");
        assert_eq!(target["dest_tag_name"], "f43-updates-candidate", "{target}");
        let overridden = koji
            .list_tagged("f43-override", &ListTaggedOptions::default())
            .unwrap();
        let [overridden] = &overridden[..] else {
            panic!("one override: {overridden:?}");
        };
        let in_buildroot = koji
            .list_tagged(
                "f43-build",
                &ListTaggedOptions {
                    inherit: true,
                    ..Default::default()
                },
            )
            .unwrap();
        assert!(
            in_buildroot
                .iter()
                .any(|b| b.build.nvr == overridden.build.nvr)
        );

        // A repo request is answered by a repo at least as new as the tag's last change.
        let last = call(&koji, "tagLastChangeEvent", vec![json!("f43-build")]);
        let answer = call(&koji, "repo.request", vec![json!("f43-build")]);
        assert!(
            answer["repo"]["create_event"].as_i64() >= last.as_i64(),
            "{answer} {last}"
        );

        let before = snapshot(&db);
        let tagged_before = koji
            .list_tagged("f43-updates-testing", &ListTaggedOptions::default())
            .unwrap()
            .len();
        let second = demo_on(&db, &hub);
        assert!(second.contains("nothing changed"), "{second}");
        assert_eq!(snapshot(&db), before);
        assert_eq!(
            koji.list_tagged("f43-updates-testing", &ListTaggedOptions::default())
                .unwrap()
                .len(),
            tagged_before
        );
    }
}
