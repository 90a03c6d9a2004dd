//! What composes publish (issue 5): a testing push of the demo publishes a
//! repository per arch and one of the sources, with updateinfo, that dnf reads
//! (`validate_repo.sh`); a compose whose repository cannot be written fails with the reason,
//! keeps the published repository, and resumes.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use pipal::masher::repos::arch_repo;
use pipal::masher::steps::NOT_IN_A_TESTING_PUSH;
use pipal::masher::{Finished, Masher};
use pipal::models::compose::Compose;
use pipal::models::now;
use pipal::services::push::{self, PushOptions};
use pipal::state::AppState;
use pipal::worker::Worker;

use crate::support::{TestDb, ok};

/// The demo's update waiting for testing is F43's.
const TESTING_TAG: &str = "f43-updates-testing";

/// The demo in a fresh database, its pending update signed.
fn demo() -> (TestDb, AppState) {
    demo_with(|_| {})
}

pub(crate) fn demo_with(adjust: impl FnOnce(&mut pipal::config::Settings)) -> (TestDb, AppState) {
    let db = TestDb::new();
    ok(db.pipal(&["demo"]));
    let mut settings = db.settings();
    settings.buildsys.local.autosign_delay_secs = 0;
    adjust(&mut settings);
    let state = AppState::new(db.db.clone(), settings).expect("state");
    let worker = Worker::with_all_handlers(state.clone());
    worker.make_periodic_due("local_signer").unwrap();
    while worker.run_one().unwrap().is_some() {}
    (db, state)
}

fn push_testing(state: &AppState) -> Vec<Finished> {
    push_request(state, pipal::db::types::UpdateRequest::Testing)
}

pub(crate) fn push_request(
    state: &AppState,
    request: pipal::db::types::UpdateRequest,
) -> Vec<Finished> {
    let mut conn = state.db.conn().unwrap();
    let plan = push::plan(
        &mut conn,
        state.buildsys.as_ref(),
        &PushOptions {
            requests: vec![request],
            ..PushOptions::default()
        },
    )
    .unwrap();
    pipal::db::write_transaction(&mut conn, |conn| push::start(conn, &plan, now())).unwrap();
    let masher = Masher::new(state.clone());
    let mut finished = Vec::new();
    while let Some(outcome) = masher.run_one().unwrap() {
        finished.push(outcome);
    }
    finished
}

fn published(state: &AppState, tag: &str) -> PathBuf {
    std::fs::canonicalize(state.settings.masher.stage_dir.join(tag)).expect("a published repo")
}

fn gunzip(path: &Path) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    text
}

/// The open content of the metadata of `kind` in a repository.
fn metadata(repo: &Path, kind: &str) -> String {
    let entry = std::fs::read_dir(repo.join("repodata"))
        .unwrap()
        .flatten()
        .find(|e| {
            e.file_name()
                .to_string_lossy()
                .contains(&format!("-{kind}."))
        })
        .unwrap_or_else(|| panic!("{kind} in {}", repo.display()));
    gunzip(&entry.path())
}

/// Runs `validate_repo.sh` when its tools are installed; CI sets PIPAL_TEST_REPO_TOOLS=1 so
/// that missing tools fail instead of skipping.
pub(crate) fn validate_with_dnf(repo: &Path, count: usize) {
    let shared = std::env::var_os("PIPAL_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let script = shared.join("tools/repo/validate_repo.sh");
    let required = std::env::var("PIPAL_TEST_REPO_TOOLS").is_ok_and(|v| v == "1");
    let available = script.is_file()
        && Command::new("dnf")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
    if !available {
        assert!(!required, "validate_repo.sh or dnf missing");
        eprintln!("validate_repo.sh skipped: dnf or the script is missing");
        return;
    }
    let output = Command::new("bash")
        .arg(&script)
        .arg(repo)
        .arg(count.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("VERDICT: PASS"),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!("{}", stdout.lines().last().unwrap_or_default());
}

#[test]
fn a_testing_push_of_the_demo_publishes_repositories_dnf_reads() {
    let (_db, state) = demo();
    let finished = push_testing(&state);
    assert!(
        matches!(finished[..], [Finished::Success { .. }]),
        "{finished:?}"
    );

    let compose = published(&state, TESTING_TAG);
    assert!(
        compose.starts_with(std::fs::canonicalize(&state.settings.masher.compose_dir).unwrap()),
        "{}",
        compose.display()
    );
    let binary = arch_repo(&compose, "x86_64");
    let source = arch_repo(&compose, "source");
    let primary = metadata(&binary, "primary");
    let updateinfo = metadata(&binary, "updateinfo");

    let tagged = state
        .buildsys
        .list_tagged(
            TESTING_TAG,
            &pipal::buildsys::ListTaggedOptions {
                latest: true,
                ..Default::default()
            },
        )
        .unwrap();
    assert!(tagged.len() >= 2, "{tagged:?}");
    let mut binaries = 0;
    for build in &tagged {
        for rpm in state.buildsys.list_build_rpms(&build.build.nvr).unwrap() {
            let file = format!(
                "{}-{}-{}.{}.rpm",
                rpm.name, rpm.version, rpm.release, rpm.arch
            );
            let letter = &rpm.name[..1];
            if rpm.arch == "src" {
                assert!(source.join("Packages").join(letter).join(&file).is_file());
            } else {
                binaries += 1;
                assert!(
                    primary.contains(&format!("Packages/{letter}/{file}")),
                    "{file} in primary"
                );
            }
        }
        let update =
            pipal::models::build::Build::by_nvr(&mut state.db.conn().unwrap(), &build.build.nvr)
                .unwrap()
                .and_then(|b| b.update_id)
                .expect("every testing build has an update");
        let alias = pipal::models::update::Update::by_id(&mut state.db.conn().unwrap(), update)
            .unwrap()
            .alias;
        assert!(
            updateinfo.contains(&format!("<id>{alias}</id>")),
            "{alias}: {updateinfo}"
        );
    }
    assert!(updateinfo.contains("type=\"security\""), "{updateinfo}");
    assert!(updateinfo.contains("<reference href=\"https://bugzilla.redhat.com/show_bug.cgi?id="));
    assert!(
        !primary.contains("f44-updates-candidate"),
        "only the testing tag's builds"
    );

    // The source repository carries the same updateinfo (as Bodhi's does), but dnf never
    // shows advisories for source packages, so dnf checks the binary one.
    validate_with_dnf(&binary, binaries);
    assert!(metadata(&source, "primary").contains("<arch>src</arch>"));
}

#[test]
fn a_stable_push_of_the_demo_publishes_the_stable_repository_with_its_advisories() {
    use diesel::prelude::*;
    use pipal::db::schema::{builds, updates};
    use pipal::db::types::{UpdateRequest, UpdateStatus};

    let (_db, state) = demo();
    assert!(matches!(
        push_testing(&state)[..],
        [Finished::Success { .. }]
    ));
    // F43's testing updates have waited their days; a release engineer sends them to stable.
    let mut conn = state.db.conn().unwrap();
    let release = pipal::models::release::Release::by_name(&mut conn, "F43")
        .unwrap()
        .unwrap();
    let going: Vec<(String, String)> = updates::table
        .inner_join(builds::table.on(builds::update_id.eq(updates::id.nullable())))
        .filter(updates::release_id.eq(release.id))
        .filter(updates::status.eq(UpdateStatus::Testing))
        .select((updates::alias, builds::nvr))
        .load(&mut conn)
        .unwrap();
    assert!(!going.is_empty());
    diesel::update(
        updates::table
            .filter(updates::release_id.eq(release.id))
            .filter(updates::status.eq(UpdateStatus::Testing)),
    )
    .set((
        updates::request.eq(Some(UpdateRequest::Stable)),
        updates::date_testing.eq(Some(now() - chrono::Duration::days(30))),
    ))
    .execute(&mut conn)
    .unwrap();

    let finished = push_request(&state, UpdateRequest::Stable);
    assert!(
        matches!(finished[..], [Finished::Success { .. }]),
        "{finished:?}"
    );
    let repo = arch_repo(&published(&state, &release.stable_tag), "x86_64");
    let primary = metadata(&repo, "primary");
    let updateinfo = metadata(&repo, "updateinfo");
    for (alias, nvr) in &going {
        assert!(
            primary.contains(&format!("<rpm:sourcerpm>{nvr}.src.rpm</rpm:sourcerpm>")),
            "{nvr} in the stable repository"
        );
        assert!(updateinfo.contains(&format!("<id>{alias}</id>")), "{alias}");
    }
    assert!(updateinfo.contains("status=\"stable\""), "{updateinfo}");
    let binaries = primary.matches("<package type=\"rpm\">").count();
    validate_with_dnf(&repo, binaries);
}

#[test]
fn zstd_compressed_repodata_is_read_by_dnf() {
    let (_db, state) = demo_with(|s| s.masher.compression = pipal::config::Compression::Zstd);
    assert!(matches!(
        push_testing(&state)[..],
        [Finished::Success { .. }]
    ));
    let repo = arch_repo(&published(&state, TESTING_TAG), "x86_64");
    let repomd = std::fs::read_to_string(repo.join("repodata/repomd.xml")).unwrap();
    for kind in ["primary", "filelists", "other", "updateinfo"] {
        assert!(
            repomd.contains(&format!("-{kind}.xml.zst\"")),
            "{kind}: {repomd}"
        );
    }
    let primary = repomd
        .split("href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap();
    let open = zstd::decode_all(std::fs::File::open(repo.join(primary)).unwrap()).unwrap();
    let count = String::from_utf8(open)
        .unwrap()
        .matches("<package type=\"rpm\">")
        .count();
    validate_with_dnf(&repo, count);
}

#[test]
fn a_repository_that_cannot_be_written_fails_the_compose_and_resumes() {
    let (_db, state) = demo();
    // The first push publishes a repository.
    assert!(matches!(
        push_testing(&state)[..],
        [Finished::Success { .. }]
    ));
    let before = published(&state, TESTING_TAG);

    // An update whose RPM is unreadable: the compose fails in punging, the published
    // repository stays, and once the file is back the resumed compose publishes anew.
    let mut conn = state.db.conn().unwrap();
    let tagged = state
        .buildsys
        .list_tagged(TESTING_TAG, &Default::default())
        .unwrap();
    let victim = state
        .buildsys
        .list_build_rpms(&tagged[0].build.nvr)
        .unwrap()
        .into_iter()
        .find(|r| r.arch != "src")
        .unwrap();
    let path = pipal::masher::repos::rpm_path(
        pipal::masher::repos::topdir(&state.settings),
        &tagged[0].build,
        &victim,
        &[],
    )
    .unwrap();
    let original = std::fs::read(&path).unwrap();
    std::fs::write(&path, b"not an rpm").unwrap();

    let alias = {
        use diesel::prelude::*;
        use pipal::db::schema::{builds, updates};
        // The update of the damaged build.
        let alias: String = updates::table
            .inner_join(builds::table)
            .filter(builds::nvr.eq(&tagged[0].build.nvr))
            .select(updates::alias)
            .first(&mut conn)
            .unwrap();
        diesel::update(updates::table.filter(updates::alias.eq(&alias)))
            .set((
                updates::request.eq(Some(pipal::db::types::UpdateRequest::Testing)),
                updates::status.eq(pipal::db::types::UpdateStatus::Pending),
            ))
            .execute(&mut conn)
            .unwrap();
        alias
    };
    let finished = push_testing(&state);
    let [Finished::Failed { error, .. }] = &finished[..] else {
        panic!("{finished:?}")
    };
    assert!(error.contains(&path.display().to_string()), "{error}");
    let failed = Compose::list(&mut conn).unwrap();
    assert_eq!(failed[0].state.to_string(), "failed");
    assert_eq!(published(&state, TESTING_TAG), before, "the old repo stays");

    std::fs::write(&path, original).unwrap();
    let mut conn = state.db.conn().unwrap();
    pipal::db::write_transaction(&mut conn, |conn| push::resume_failed(conn, now())).unwrap();
    let masher = Masher::new(state.clone());
    let resumed = masher.run_one().unwrap();
    assert!(
        matches!(resumed, Some(Finished::Success { .. })),
        "{resumed:?} ({alias})"
    );
    let after = published(&state, TESTING_TAG);
    assert_ne!(after, before);
    assert!(
        arch_repo(&after, "x86_64")
            .join("repodata/repomd.xml")
            .is_file()
    );
}

mod modules {
    //! A module release: the module build's RPMs come from its content tag, and modules.yaml
    //! carries its modulemd document.

    use super::*;
    use diesel::prelude::*;
    use pipal::db::types::{ContentType, ReleaseState, UpdateStatus};
    use pipal::demo::rpms::{
        BinaryPackage, DemoBuild, Payload, SourcePackage, build_dir, write_build,
    };
    use pipal::services::releases;

    use crate::support::world::World;

    static HELLO: SourcePackage = SourcePackage {
        name: "hello",
        summary: "Greets",
        license: "MIT",
        url: "https://example.org/hello",
        binaries: &[
            BinaryPackage {
                name: "hello",
                arch: "x86_64",
                summary: "Greets the world",
                payload: Payload::Command,
            },
            BinaryPackage {
                name: "hello-doc",
                arch: "noarch",
                summary: "Documentation of hello",
                payload: Payload::Docs,
            },
        ],
    };
    static HELLO_BUILD: DemoBuild = DemoBuild {
        source: &HELLO,
        version: "2.12.1",
        release: "1.fc44",
        changelog: &[],
    };
    const MODULE_NVR: &str = "hello-2-4420261202000000.6c81f848";
    const CONTENT_TAG: &str = "module-hello-2-4420261202000000-6c81f848";

    fn modulemd() -> String {
        "---\ndocument: modulemd\nversion: 2\ndata:\n  name: hello\n  stream: \"2\"\n  \
         version: 4420261202000000\n  context: 6c81f848\n  arch: x86_64\n  \
         summary: The hello module\n  description: >-\n    Greetings, modular.\n  \
         license:\n    module:\n    - MIT\n  dependencies:\n  - buildrequires:\n      \
         platform: [f44]\n    requires:\n      platform: [f44]\n  profiles:\n    default:\n      \
         rpms:\n      - hello\n  components:\n    rpms:\n      hello:\n        \
         rationale: The greeter.\n        ref: \"2.12.1\"\n  artifacts:\n    rpms:\n    \
         - hello-0:2.12.1-1.fc44.x86_64\n    - hello-doc-0:2.12.1-1.fc44.noarch\n...\n"
            .to_owned()
    }

    /// F44M with the module build `hello:2` as a signed update requested for testing.
    fn module_world() -> (World, String) {
        let w = World::new();
        let mut release = releases::fedora_release("F44M", "Fedora 44 Modular", "f44m");
        release.state = ReleaseState::Current;
        w.add_release(&release);
        let local = w.local();
        local
            .create_tag(CONTENT_TAG, &[], Some("x86_64"), &serde_json::json!({}))
            .unwrap();
        let staging = w.db.dir.path().join("staging");
        write_build(&staging, &HELLO_BUILD).unwrap();
        let (component, _) = pipal::buildsys::import::import_build(
            &local,
            &build_dir(&staging, &HELLO_BUILD),
            "alice",
        )
        .unwrap();
        w.tag(&component, CONTENT_TAG);

        let extra = serde_json::json!({"typeinfo": {"module": {
            "name": "hello", "stream": "2", "version": "4420261202000000",
            "context": "6c81f848", "content_koji_tag": CONTENT_TAG,
            "modulemd_str": modulemd(),
        }}});
        w.build_with_extra(MODULE_NVR, "f44m-updates-candidate", "alice", &extra);
        let alias = w.requested_update("F44M", MODULE_NVR, ContentType::Module);
        (w, alias)
    }

    #[test]
    fn a_module_push_publishes_modules_yaml_and_the_module_rpms() {
        let (w, alias) = module_world();
        let finished = push_testing(&w.state);
        assert!(
            matches!(finished[..], [Finished::Success { .. }]),
            "{finished:?}"
        );
        assert_eq!(
            w.state
                .buildsys
                .list_tags(MODULE_NVR)
                .unwrap()
                .into_iter()
                .map(|t| t.name)
                .collect::<Vec<_>>(),
            ["f44m-updates-testing"]
        );
        let repo = arch_repo(&published(&w.state, "f44m-updates-testing"), "x86_64");
        let modules = metadata(&repo, "modules");
        assert!(
            modules.contains("name: hello") && modules.ends_with("...\n"),
            "{modules}"
        );
        let primary = metadata(&repo, "primary");
        assert!(primary.contains("Packages/h/hello-2.12.1-1.fc44.x86_64.rpm"));
        assert!(primary.contains("Packages/h/hello-doc-2.12.1-1.fc44.noarch.rpm"));
        let updateinfo = metadata(&repo, "updateinfo");
        assert!(
            updateinfo.contains(&format!("<id>{alias}</id>")),
            "{updateinfo}"
        );
        assert!(
            updateinfo.contains("filename>hello-2.12.1-1.fc44.x86_64.rpm<"),
            "{updateinfo}"
        );
        let status: String = pipal::db::schema::updates::table
            .filter(pipal::db::schema::updates::alias.eq(&alias))
            .select(pipal::db::schema::updates::status)
            .first::<UpdateStatus>(&mut w.db.conn())
            .unwrap()
            .to_string();
        assert_eq!(status, "testing");

        validate_with_dnf(&repo, 2);
    }
}

mod containers {
    //! Container composes copy each image with skopeo (a recording stand-in here).

    use super::*;
    use diesel::prelude::*;
    use pipal::db::types::{ContentType, ReleaseState, UpdateStatus};
    use pipal::services::releases;

    use crate::support::world::World;

    const NVR: &str = "httpd-container-2.4-3.fc44";

    /// A skopeo that appends its arguments to `log`, and fails while `fail` exists.
    fn stand_in(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
        let script = dir.join("skopeo");
        let log = dir.join("skopeo.log");
        let fail = dir.join("skopeo.fail");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nif [ -e '{}' ]; then echo 'registry unavailable' >&2; exit 1; fi\n\
                 echo \"$@\" >> '{}'\n",
                fail.display(),
                log.display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        (script, log, fail)
    }

    #[test]
    fn a_container_push_copies_the_image_to_each_registry_and_tag_and_resumes() {
        let scratch = tempfile::tempdir().unwrap();
        let (script, log, fail) = stand_in(scratch.path());
        let w = World::with_state(|s| {
            s.masher.containers.skopeo_command = script.to_string_lossy().into_owned();
            s.masher.containers.extra_args = vec!["--quiet".into()];
            s.masher.containers.source_registry = "candidate.example.org".into();
            s.masher.containers.destination_registries =
                vec!["registry.example.org".into(), "quay.example.org".into()];
        });
        let mut release = releases::fedora_release("F44C", "Fedora 44 Container", "f44c");
        release.state = ReleaseState::Current;
        w.add_release(&release);

        let extra = serde_json::json!({"typeinfo": {"image": {"index": {"pull": [
            "candidate.example.org/f44/httpd:2.4-3.fc44",
            "candidate.example.org/f44/httpd@sha256:0123abcd",
        ]}}}});
        w.build_with_extra(NVR, "f44c-updates-candidate", "alice", &extra);
        let alias = w.requested_update("F44C", NVR, ContentType::Container);
        let mut conn = w.db.conn();

        // The registry is down: the compose fails with skopeo's words and keeps the update.
        std::fs::write(&fail, b"").unwrap();
        let finished = push_testing(&w.state);
        let [Finished::Failed { error, .. }] = &finished[..] else {
            panic!("{finished:?}")
        };
        assert!(error.contains("registry unavailable"), "{error}");
        assert!(!log.exists());

        std::fs::remove_file(&fail).unwrap();
        pipal::db::write_transaction(&mut conn, |conn| push::resume_failed(conn, now())).unwrap();
        let resumed = Masher::new(w.state.clone()).run_one().unwrap();
        assert!(
            matches!(resumed, Some(Finished::Success { .. })),
            "{resumed:?}"
        );

        let copies: Vec<String> = std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        let source = "docker://candidate.example.org/f44/httpd@sha256:0123abcd";
        let expected: Vec<String> = ["registry.example.org", "quay.example.org"]
            .iter()
            .flat_map(|registry| {
                ["2.4-3.fc44", "2.4", "testing"]
                    .map(|tag| format!("--quiet copy {source} docker://{registry}/f44/httpd:{tag}"))
            })
            .collect();
        assert_eq!(copies, expected);
        let status: UpdateStatus = pipal::db::schema::updates::table
            .filter(pipal::db::schema::updates::alias.eq(&alias))
            .select(pipal::db::schema::updates::status)
            .first(&mut conn)
            .unwrap();
        assert_eq!(status, UpdateStatus::Testing);
        assert!(
            !w.state
                .settings
                .masher
                .stage_dir
                .join("f44c-updates-testing")
                .exists(),
            "no repository for containers"
        );
    }
}

mod failures {
    //! A failure injected before each step of a testing push is recorded with the compose,
    //! and the resumed compose finishes with every effect exactly once.

    use super::*;
    use diesel::prelude::*;
    use pipal::db::schema::{
        builds, buildsys_builds, buildsys_tag_listing, buildsys_tags, comments, updates,
    };
    use pipal::db::types::{ComposeState, UpdateRequest, UpdateStatus};

    /// The demo's update waiting for testing: (update id, build NVR).
    fn pending(state: &AppState) -> (i32, String) {
        let mut conn = state.db.conn().unwrap();
        updates::table
            .inner_join(builds::table.on(builds::update_id.eq(updates::id.nullable())))
            .filter(updates::request.eq(UpdateRequest::Testing))
            .select((updates::id, builds::nvr))
            .first(&mut conn)
            .unwrap()
    }

    #[test]
    fn a_failure_before_any_step_is_recorded_and_the_resumed_compose_does_everything_once() {
        let steps = pipal::masher::steps::STEP_NAMES
            .iter()
            .filter(|s| !NOT_IN_A_TESTING_PUSH.contains(*s));
        for step in steps {
            let (_db, state) = demo();
            let (update, nvr) = pending(&state);
            let mut conn = state.db.conn().unwrap();
            let plan = push::plan(
                &mut conn,
                state.buildsys.as_ref(),
                &PushOptions {
                    requests: vec![UpdateRequest::Testing],
                    ..PushOptions::default()
                },
            )
            .unwrap();
            pipal::db::write_transaction(&mut conn, |conn| push::start(conn, &plan, now()))
                .unwrap();

            let failed = Masher::new(state.clone())
                .failing_before(step)
                .run_one()
                .unwrap();
            let Some(Finished::Failed { error, .. }) = failed else {
                panic!("{step}: {failed:?}")
            };
            assert_eq!(error, format!("injected failure before {step}"));
            let composes = Compose::list(&mut conn).unwrap();
            assert_eq!(composes.len(), 1, "{step}");
            assert_eq!(composes[0].state, ComposeState::Failed, "{step}");
            assert_eq!(composes[0].error_message.as_deref(), Some(error.as_str()));
            let locked: bool = updates::table
                .find(update)
                .select(updates::locked)
                .first(&mut conn)
                .unwrap();
            let after_unlock = matches!(*step, "thresholds_and_obsoleting" | "cleaning");
            assert_eq!(
                locked, !after_unlock,
                "{step}: a failed compose keeps its updates locked until it unlocks them"
            );

            pipal::db::write_transaction(&mut conn, |conn| push::resume_failed(conn, now()))
                .unwrap();
            let resumed = Masher::new(state.clone()).run_one().unwrap();
            assert!(
                matches!(resumed, Some(Finished::Success { .. })),
                "{step}: {resumed:?}"
            );

            let (status, locked): (UpdateStatus, bool) = updates::table
                .find(update)
                .select((updates::status, updates::locked))
                .first(&mut conn)
                .unwrap();
            assert_eq!((status, locked), (UpdateStatus::Testing, false), "{step}");
            let pushed_comments: i64 = comments::table
                .filter(comments::update_id.eq(update))
                .filter(comments::text.eq("This update has been pushed to testing."))
                .count()
                .get_result(&mut conn)
                .unwrap();
            assert_eq!(pushed_comments, 1, "{step}: one comment");
            let taggings: i64 = buildsys_tag_listing::table
                .inner_join(buildsys_tags::table)
                .inner_join(buildsys_builds::table)
                .filter(buildsys_tags::name.eq(TESTING_TAG))
                .filter(buildsys_builds::nvr.eq(&nvr))
                .count()
                .get_result(&mut conn)
                .unwrap();
            assert_eq!(taggings, 1, "{step}: {nvr} tagged into {TESTING_TAG} once");
            let repo = arch_repo(&published(&state, TESTING_TAG), "x86_64");
            assert!(
                metadata(&repo, "primary")
                    .contains(&format!("<rpm:sourcerpm>{nvr}.src.rpm</rpm:sourcerpm>")),
                "{step}"
            );
            // The compose's bus messages, each queued once (the failure's complete too).
            let mut topics: Vec<(String, bool)> = pipal::db::schema::outbox::table
                .filter(pipal::db::schema::outbox::kind.eq(pipal::db::types::OutboxKind::Message))
                .select(pipal::db::schema::outbox::payload)
                .load::<String>(&mut conn)
                .unwrap()
                .iter()
                .map(|p| serde_json::from_str::<serde_json::Value>(p).unwrap())
                .map(|m| {
                    (
                        m["topic"].as_str().unwrap().to_owned(),
                        m["body"]["success"].as_bool().unwrap_or(true),
                    )
                })
                .collect();
            topics.sort();
            let expected: Vec<(String, bool)> = [
                ("bodhi.compose.complete", false),
                ("bodhi.compose.complete", true),
                ("bodhi.compose.composing", true),
                ("bodhi.compose.start", true),
                ("bodhi.repo.done", true),
                ("bodhi.update.complete.testing", true),
            ]
            .map(|(t, s)| (t.to_owned(), s))
            .into();
            assert_eq!(topics, expected, "{step}");
            let compose_dirs = std::fs::read_dir(&state.settings.masher.compose_dir)
                .unwrap()
                .count();
            assert_eq!(
                compose_dirs, 1,
                "{step}: one compose directory, no leftovers"
            );
        }
    }
}

mod waits {
    //! The optional waits: for the repositories' signatures before publishing, and for the
    //! master mirror to serve the new repomd.xml after.

    use super::*;
    use pipal::db::types::ComposeState;
    use std::io::{BufRead, BufReader, Write};
    use std::sync::{Arc, Mutex};

    fn state_of(state: &AppState) -> Option<ComposeState> {
        Compose::list(&mut state.db.conn().unwrap())
            .unwrap()
            .first()
            .map(|c| c.state)
    }

    /// Runs the testing push in a thread and calls `during` once the compose is in `wanted`.
    fn push_through(state: &AppState, wanted: ComposeState, during: impl FnOnce(&Compose)) {
        let mut conn = state.db.conn().unwrap();
        let plan = push::plan(
            &mut conn,
            state.buildsys.as_ref(),
            &PushOptions {
                requests: vec![pipal::db::types::UpdateRequest::Testing],
                ..PushOptions::default()
            },
        )
        .unwrap();
        pipal::db::write_transaction(&mut conn, |conn| push::start(conn, &plan, now())).unwrap();
        std::thread::scope(|scope| {
            let runner = scope.spawn(|| Masher::new(state.clone()).run_one().unwrap());
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            while state_of(state) != Some(wanted) {
                assert!(std::time::Instant::now() < deadline, "never in {wanted}");
                assert!(!runner.is_finished(), "the compose ended before {wanted}");
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            during(&Compose::list(&mut conn).unwrap()[0]);
            let finished = runner.join().unwrap();
            assert!(
                matches!(finished, Some(Finished::Success { .. })),
                "{finished:?}"
            );
        });
    }

    #[test]
    fn a_compose_waits_for_its_repository_signatures_before_publishing() {
        let (_db, state) = demo_with(|s| {
            s.masher.wait_for_repo_signature = true;
            s.masher.wait_poll_ms = 10;
        });
        push_through(&state, ComposeState::SigningRepo, |compose| {
            assert!(
                !state.settings.masher.stage_dir.join(TESTING_TAG).exists(),
                "nothing is published before the signatures"
            );
            let checkpoints: serde_json::Value =
                serde_json::from_str(&compose.checkpoints).unwrap();
            let dir = PathBuf::from(checkpoints["repo_dir"].as_str().unwrap());
            for arch in ["x86_64", "source"] {
                let repodata = arch_repo(&dir, arch).join("repodata");
                std::fs::write(repodata.join("repomd.xml.asc"), b"signature").unwrap();
            }
        });
        let repo = arch_repo(&published(&state, TESTING_TAG), "x86_64");
        assert!(repo.join("repodata/repomd.xml.asc").is_file());
    }

    /// A mirror on loopback serving `content`, counting its requests.
    fn mirror(content: Arc<Mutex<Vec<u8>>>, hits: Arc<Mutex<usize>>) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                *hits.lock().unwrap() += 1;
                let body = content.lock().unwrap().clone();
                let mut stream = stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(&body);
            }
        });
        format!("http://{addr}/updates/testing/{{version}}/Everything/{{arch}}/repodata/repomd.xml")
    }

    #[test]
    fn a_compose_waits_for_the_master_mirror_to_serve_its_repomd() {
        let content = Arc::new(Mutex::new(b"an older repomd.xml".to_vec()));
        let hits = Arc::new(Mutex::new(0));
        let url = mirror(content.clone(), hits.clone());
        let (_db, state) = demo_with(|s| {
            s.masher.testing_repomd_urls.insert("F43".into(), url);
            s.masher.wait_poll_ms = 10;
        });
        push_through(&state, ComposeState::SyncingRepo, |_| {
            // Published already; once the masher has seen the stale copy, the mirror catches up.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            while *hits.lock().unwrap() == 0 {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the mirror is never asked"
                );
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            let repo = arch_repo(&published(&state, TESTING_TAG), "x86_64");
            *content.lock().unwrap() = std::fs::read(repo.join("repodata/repomd.xml")).unwrap();
        });
        assert!(*hits.lock().unwrap() >= 2, "asked until it matched");
    }
}

mod demo_through_koji {
    //! `pipal demo` on fake-koji (its tags, builds and RPMs in the hub, the RPM files under
    //! `buildsys.koji.topdir` in Koji's layout), then a testing and a stable push through
    //! Koji's API.

    use super::*;
    use diesel::prelude::*;
    use pipal::buildsys::BuildSystem;
    use pipal::buildsys::koji::KojiBuildSystem;
    use pipal::config::BuildsysKind;
    use pipal::db::schema::updates;
    use pipal::db::types::{UpdateRequest, UpdateStatus};
    use pipal::fakekoji::{HubConfig, RunningHub};

    #[test]
    fn a_testing_then_a_stable_push_of_the_demo_through_fake_koji() {
        let db = TestDb::new();
        let hub = RunningHub::start(HubConfig::default()).unwrap();
        let topdir = db.dir.path().join("koji");
        ok(db
            .pipal_command(&["demo"])
            .env("PIPAL__BUILDSYS__KIND", "koji")
            .env("PIPAL__BUILDSYS__KOJI__URL", hub.url())
            .env("PIPAL__BUILDSYS__KOJI__TOPDIR", &topdir)
            .output()
            .unwrap());
        let mut settings = db.settings();
        settings.buildsys.kind = BuildsysKind::Koji;
        settings.buildsys.koji = pipal::config::KojiSettings {
            url: hub.url(),
            topdir,
            task_poll_ms: 10,
            ..Default::default()
        };
        let koji = KojiBuildSystem::from_settings(&settings.buildsys.koji).unwrap();
        let state = AppState::new(db.db.clone(), settings).unwrap();

        // Koji's signer signs the update waiting for testing.
        for signing in koji
            .list_tagged("f43-signing-pending", &Default::default())
            .unwrap()
        {
            koji.move_build(
                "f43-signing-pending",
                "f43-updates-testing-pending",
                &signing.build.nvr,
                "robosignatory",
            )
            .unwrap();
        }
        let worker = Worker::with_all_handlers(state.clone());
        worker.make_periodic_due("reconcile_signed").unwrap();
        while worker.run_one().unwrap().is_some() {}

        let finished = push_testing(&state);
        assert!(
            matches!(finished[..], [Finished::Success { .. }]),
            "{finished:?}"
        );
        let testing = arch_repo(&published(&state, TESTING_TAG), "x86_64");
        let count = metadata(&testing, "primary")
            .matches("<package type=\"rpm\">")
            .count();
        assert!(count > 0);
        validate_with_dnf(&testing, count);

        let mut conn = state.db.conn().unwrap();
        let moved = diesel::update(
            updates::table
                .filter(updates::status.eq(UpdateStatus::Testing))
                .filter(updates::alias.like("FEDORA-%")),
        )
        .set((
            updates::request.eq(Some(UpdateRequest::Stable)),
            updates::date_testing.eq(Some(now() - chrono::Duration::days(30))),
        ))
        .execute(&mut conn)
        .unwrap();
        assert!(moved >= 2);
        let finished = push_request(&state, UpdateRequest::Stable);
        assert!(
            finished
                .iter()
                .all(|f| matches!(f, Finished::Success { .. }))
                && finished.len() == 2,
            "{finished:?}"
        );
        for tag in ["f43-updates", "f44-updates"] {
            let stable = arch_repo(&published(&state, tag), "x86_64");
            let count = metadata(&stable, "primary")
                .matches("<package type=\"rpm\">")
                .count();
            validate_with_dnf(&stable, count);
        }
        let left_in_testing: i64 = updates::table
            .filter(updates::status.eq(UpdateStatus::Testing))
            .count()
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(left_in_testing, 0);
    }
}
