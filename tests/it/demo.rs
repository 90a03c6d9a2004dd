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
