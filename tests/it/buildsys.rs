//! The local build system: tags with inheritance, tagging history, Koji's "latest" rule, and
//! importing RPM files laid out like Koji's.

use pipal::buildsys::import::import_directory;
use pipal::buildsys::rpmfile::RpmHeader;
use pipal::buildsys::{BuildSystem, BuildsysError, ListTaggedOptions, LocalBuildSystem};
use pipal::demo::rpms::{
    BinaryPackage, ChangelogEntry, DemoBuild, Payload, SourcePackage, write_build,
};

use crate::support::TestDb;

static TOOL: SourcePackage = SourcePackage {
    name: "tool",
    summary: "A tool",
    license: "MIT",
    url: "https://example.org/tool",
    binaries: &[
        BinaryPackage {
            name: "tool",
            arch: "x86_64",
            summary: "A tool",
            payload: Payload::Command,
        },
        BinaryPackage {
            name: "tool-doc",
            arch: "noarch",
            summary: "Docs",
            payload: Payload::Docs,
        },
    ],
};

static LIB: SourcePackage = SourcePackage {
    name: "lib",
    summary: "A library",
    license: "MIT",
    url: "https://example.org/lib",
    binaries: &[BinaryPackage {
        name: "lib",
        arch: "x86_64",
        summary: "A library",
        payload: Payload::Library,
    }],
};

const CHANGES: &[ChangelogEntry] = &[ChangelogEntry {
    author: "Tester <t@example.org> - 1",
    time: 1_760_000_000,
    text: "- Build",
}];

fn build(source: &'static SourcePackage, version: &'static str) -> DemoBuild {
    DemoBuild {
        source,
        version,
        release: "1.fc43",
        changelog: CHANGES,
    }
}

fn buildsys(db: &TestDb) -> LocalBuildSystem {
    LocalBuildSystem::new(db.db.clone(), db.dir.path().join("koji"))
}

/// Writes builds to a staging directory (not the build system's) and imports them.
fn import(db: &TestDb, bs: &LocalBuildSystem, builds: &[DemoBuild]) {
    let staging = db.dir.path().join("staging");
    for b in builds {
        write_build(&staging, b).expect("write RPMs");
    }
    import_directory(bs, &staging, "alice").expect("import");
}

fn nvrs(tagged: &[pipal::buildsys::TaggedBuild]) -> Vec<&str> {
    tagged.iter().map(|t| t.build.nvr.as_str()).collect()
}

#[test]
fn import_registers_builds_with_their_rpms_and_copies_files() {
    let db = TestDb::new();
    let bs = buildsys(&db);
    let staging = db.dir.path().join("staging");
    write_build(&staging, &build(&TOOL, "1.0")).unwrap();
    write_build(&staging, &build(&LIB, "2.0")).unwrap();

    let summary = import_directory(&bs, &staging, "alice").unwrap();
    assert_eq!(summary.imported, vec!["lib-2.0-1.fc43", "tool-1.0-1.fc43"]);
    assert_eq!(summary.files, 5);

    let tool = bs
        .get_build("tool-1.0-1.fc43")
        .unwrap()
        .expect("registered");
    assert_eq!(tool.owner_name, "alice");
    assert_eq!(
        (tool.version.as_str(), tool.release.as_str()),
        ("1.0", "1.fc43")
    );
    let rpms = bs.list_build_rpms("tool-1.0-1.fc43").unwrap();
    let files: Vec<(String, String)> = rpms
        .iter()
        .map(|r| (r.name.clone(), r.arch.clone()))
        .collect();
    assert_eq!(
        files,
        [("tool", "src"), ("tool", "x86_64"), ("tool-doc", "noarch")]
            .map(|(n, a)| (n.to_owned(), a.to_owned()))
    );
    let copied = bs
        .root()
        .join("packages/tool/1.0/1.fc43/noarch/tool-doc-1.0-1.fc43.noarch.rpm");
    let header = RpmHeader::read(&copied).expect("the file is in the build system");
    assert_eq!(
        header.source_rpm.as_deref(),
        Some("tool-1.0-1.fc43.src.rpm")
    );
    assert_eq!(header.size, rpms[2].size);

    let again = import_directory(&bs, &staging, "alice").unwrap();
    assert!(again.imported.is_empty());
    assert_eq!(again.unchanged.len(), 2, "a second import changes nothing");
}

#[test]
fn import_refuses_misplaced_or_conflicting_files() {
    let db = TestDb::new();
    let bs = buildsys(&db);
    let staging = db.dir.path().join("staging");
    write_build(&staging, &build(&LIB, "2.0")).unwrap();
    let packages = staging.join("packages/lib/2.0/1.fc43");
    let misplaced_staging = staging.clone();
    std::fs::create_dir_all(packages.join("aarch64")).unwrap();
    std::fs::rename(
        packages.join("x86_64/lib-2.0-1.fc43.x86_64.rpm"),
        packages.join("aarch64/lib-2.0-1.fc43.x86_64.rpm"),
    )
    .unwrap();
    let err = import_directory(&bs, &misplaced_staging, "alice")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("a x86_64 package in the aarch64 directory"),
        "{err}"
    );
    std::fs::remove_dir_all(&misplaced_staging).unwrap();

    // The same NVR built again with other content is not the same build.
    import(&db, &bs, &[build(&TOOL, "1.0")]);
    let rebuilt = db.dir.path().join("rebuilt");
    const OTHER: &[ChangelogEntry] = &[ChangelogEntry {
        author: "Someone Else <s@example.org> - 1",
        time: 1_770_000_000,
        text: "- Rebuild",
    }];
    write_build(
        &rebuilt,
        &DemoBuild {
            source: &TOOL,
            version: "1.0",
            release: "1.fc43",
            changelog: OTHER,
        },
    )
    .unwrap();
    let err = import_directory(&bs, &rebuilt, "alice")
        .unwrap_err()
        .to_string();
    assert!(err.contains("already exists with other content"), "{err}");

    let empty = db.dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let err = import_directory(&bs, &empty, "alice")
        .unwrap_err()
        .to_string();
    assert!(err.contains("no builds found"), "{err}");
}

#[test]
fn tagging_keeps_history_and_refuses_duplicates() {
    let db = TestDb::new();
    let bs = buildsys(&db);
    import(&db, &bs, &[build(&TOOL, "1.0")]);
    bs.create_tag("f43-updates-candidate", &[], None, &serde_json::json!({}))
        .unwrap();
    bs.create_tag("f43-updates-testing", &[], None, &serde_json::json!({}))
        .unwrap();

    bs.tag_build("f43-updates-candidate", "tool-1.0-1.fc43", "alice")
        .unwrap();
    assert!(matches!(
        bs.tag_build("f43-updates-candidate", "tool-1.0-1.fc43", "alice"),
        Err(BuildsysError::AlreadyTagged { .. })
    ));
    bs.tag_build("f43-updates-testing", "tool-1.0-1.fc43", "bodhi")
        .unwrap();
    bs.untag_build("f43-updates-candidate", "tool-1.0-1.fc43", "bodhi")
        .unwrap();
    assert!(matches!(
        bs.untag_build("f43-updates-candidate", "tool-1.0-1.fc43", "bodhi"),
        Err(BuildsysError::NotTagged { .. })
    ));
    let tags: Vec<String> = bs
        .list_tags("tool-1.0-1.fc43")
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(tags, ["f43-updates-testing"]);
    let history = bs.tag_history("tool-1.0-1.fc43").unwrap();
    assert_eq!(history.len(), 2);
    assert!(
        history
            .iter()
            .any(|(tag, _, untagged)| tag == "f43-updates-candidate" && untagged.is_some())
    );

    assert!(matches!(
        bs.tag_build("nope", "tool-1.0-1.fc43", "a"),
        Err(BuildsysError::NoSuchTag(_))
    ));
    assert!(matches!(
        bs.tag_build("f43-updates-testing", "nope-1-1", "a"),
        Err(BuildsysError::NoSuchBuild(_))
    ));
    assert!(matches!(
        bs.create_tag("f43-updates-testing", &[], None, &serde_json::json!({})),
        Err(BuildsysError::TagExists(_))
    ));
}

#[test]
fn latest_means_most_recently_tagged_and_inheritance_follows_priority() {
    let db = TestDb::new();
    let bs = buildsys(&db);
    import(
        &db,
        &bs,
        &[build(&TOOL, "1.0"), build(&TOOL, "2.0"), build(&LIB, "1.0")],
    );
    bs.create_tag("f43", &[], None, &serde_json::json!({}))
        .unwrap();
    bs.create_tag(
        "f43-updates",
        &["f43".to_owned()],
        None,
        &serde_json::json!({}),
    )
    .unwrap();

    bs.tag_build("f43", "lib-1.0-1.fc43", "releng").unwrap();
    bs.tag_build("f43", "tool-1.0-1.fc43", "releng").unwrap();
    bs.tag_build("f43-updates", "tool-2.0-1.fc43", "bodhi")
        .unwrap();

    let own = bs
        .list_tagged("f43-updates", &ListTaggedOptions::default())
        .unwrap();
    assert_eq!(nvrs(&own), ["tool-2.0-1.fc43"]);

    let inherited = bs
        .list_tagged(
            "f43-updates",
            &ListTaggedOptions {
                latest: true,
                inherit: true,
                package: None,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        nvrs(&inherited),
        ["tool-2.0-1.fc43", "lib-1.0-1.fc43"],
        "the child's tool hides the parent's"
    );
    assert_eq!(inherited[1].tag_name, "f43");

    let everything = bs
        .list_tagged(
            "f43-updates",
            &ListTaggedOptions {
                latest: false,
                inherit: true,
                package: Some("tool"),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(nvrs(&everything), ["tool-2.0-1.fc43", "tool-1.0-1.fc43"]);

    // Koji's latest is the most recently tagged build, even if its version is older.
    bs.tag_build("f43", "tool-2.0-1.fc43", "releng").unwrap();
    bs.untag_build("f43", "tool-1.0-1.fc43", "releng").unwrap();
    bs.tag_build("f43", "tool-1.0-1.fc43", "releng").unwrap();
    let latest = bs
        .list_tagged(
            "f43",
            &ListTaggedOptions {
                latest: true,
                inherit: false,
                package: Some("tool"),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(nvrs(&latest), ["tool-1.0-1.fc43"]);
}
