//! Round trips of every model: what is written is read back unchanged, on the backend under
//! test, with the constraints the schema promises.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use pipal::db::schema;
use pipal::db::types::*;
use pipal::models::bug::Bug;
use pipal::models::build::{Build, NewBuild};
use pipal::models::buildsys::{
    BUILD_STATE_COMPLETE, BuildsysBuild, Event, NewBuildsysBuild, NewRpm, Rpm, Tag, TagListing,
};
use pipal::models::comment::{Comment, NewComment};
use pipal::models::compose::{Compose, ComposeRecord, NewComposeRecord};
use pipal::models::outbox::OutboxEntry;
use pipal::models::overrides::{BuildrootOverride, NewBuildrootOverride};
use pipal::models::package::{AclHolder, Grantee, Package, PackageAcl};
use pipal::models::release::{NewRelease, Release, ReleaseChanges};
use pipal::models::testcase::TestCase;
use pipal::models::update::{NewUpdate, Update, new_alias};
use pipal::models::user::{ApiToken, Group, NewApiToken, NewUser, User};
use pipal::models::{is_unique_violation, now};

use crate::support::TestDb;

/// A time with microseconds, as both backends keep them.
fn at(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").expect("a time")
}

pub fn sample_release(name: &str, version: &str) -> NewRelease {
    let mut release = pipal::services::releases::fedora_release(
        name,
        &format!("Fedora {version}"),
        &format!("f{version}"),
    );
    release.state = ReleaseState::Current;
    release.package_manager = PackageManager::Dnf;
    release.testing_repository = Some("updates-testing".into());
    release.released_on = NaiveDate::from_ymd_opt(2025, 10, 28);
    release.eol = NaiveDate::from_ymd_opt(2026, 12, 9);
    release.setting_status = Some("post_beta".into());
    release.min_karma = Some(3);
    release.mandatory_days_in_testing = Some(7);
    release.announce_list = Some("announce@example.org".into());
    release
}

fn user(conn: &mut pipal::db::DbConnection, name: &str) -> User {
    User::create(
        conn,
        &NewUser {
            name,
            email: Some(&format!("{name}@example.org")),
            password_hash: None,
            created_at: at("2026-01-02 03:04:05.123456"),
        },
    )
    .expect("user")
}

#[test]
fn users_groups_and_tokens() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let alice = user(&mut conn, "alice");
    assert_eq!(
        User::by_name(&mut conn, "alice").unwrap(),
        Some(alice.clone())
    );
    assert_eq!(alice.created_at, at("2026-01-02 03:04:05.123456"));
    assert_eq!(alice.email.as_deref(), Some("alice@example.org"));

    let err = User::create(
        &mut conn,
        &NewUser {
            name: "alice",
            email: None,
            password_hash: None,
            created_at: now(),
        },
    )
    .unwrap_err();
    assert!(is_unique_violation(&err), "{err}");

    let (packager, created) = Group::ensure(&mut conn, "packager").unwrap();
    assert!(created);
    let (again, created) = Group::ensure(&mut conn, "packager").unwrap();
    assert!(!created);
    assert_eq!(again, packager);
    let (qa, _) = Group::ensure(&mut conn, "qa").unwrap();
    assert!(Group::add_member(&mut conn, packager.id, alice.id).unwrap());
    assert!(!Group::add_member(&mut conn, packager.id, alice.id).unwrap());
    Group::add_member(&mut conn, qa.id, alice.id).unwrap();
    let groups = User::groups(&mut conn, alice.id).unwrap();
    assert_eq!(
        groups.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(),
        ["packager", "qa"]
    );
    let bob = user(&mut conn, "bob");
    let of = User::groups_of(&mut conn, &[alice.id, bob.id]).unwrap();
    assert_eq!(of[&alice.id].len(), 2);
    assert!(!of.contains_key(&bob.id));
    let counts = Group::list_with_counts(&mut conn).unwrap();
    assert_eq!(counts, vec![(packager.clone(), 1), (qa.clone(), 1)]);
    assert!(Group::remove_member(&mut conn, qa.id, alice.id).unwrap());
    assert_eq!(
        Group::member_names(&mut conn, qa.id).unwrap(),
        Vec::<String>::new()
    );

    let token = ApiToken::create(
        &mut conn,
        &NewApiToken {
            user_id: alice.id,
            label: "laptop",
            token_hash: "abc123",
            created_at: at("2026-01-02 00:00:00"),
            expires_at: Some(at("2026-02-01 00:00:00")),
        },
    )
    .unwrap();
    assert_eq!(token.label, "laptop");
    let usable = ApiToken::find_usable(&mut conn, "abc123", at("2026-01-15 00:00:00")).unwrap();
    assert_eq!(usable, Some(token.clone()));
    assert_eq!(
        ApiToken::find_usable(&mut conn, "abc123", at("2026-03-01 00:00:00")).unwrap(),
        None,
        "expired tokens are not usable"
    );
    ApiToken::touch(&mut conn, token.id, at("2026-01-15 00:00:00")).unwrap();
    assert!(ApiToken::revoke(&mut conn, alice.id, token.id, now()).unwrap());
    assert!(!ApiToken::revoke(&mut conn, alice.id, token.id, now()).unwrap());
    let listed = ApiToken::list_for_user(&mut conn, alice.id).unwrap();
    assert_eq!(listed[0].last_used_at, Some(at("2026-01-15 00:00:00")));
    assert!(listed[0].revoked_at.is_some());
    assert_eq!(
        ApiToken::find_usable(&mut conn, "abc123", at("2026-01-15 00:00:00")).unwrap(),
        None,
        "revoked tokens are not usable"
    );
}

#[test]
fn releases_round_trip_and_edit() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let new = sample_release("F43", "43");
    let release = Release::create(&mut conn, &new).unwrap();
    assert_eq!(release.name, new.name);
    assert_eq!(release.released_on, new.released_on);
    assert_eq!(release.state, ReleaseState::Current);
    assert_eq!(release.package_manager, PackageManager::Dnf);
    assert_eq!(release.min_karma, Some(3));
    assert_eq!(release.critpath_min_karma, None);
    assert_eq!(
        Release::get(&mut conn, "Fedora 43").unwrap(),
        Some(release.clone())
    );
    assert_eq!(
        Release::get(&mut conn, "f43").unwrap(),
        Some(release.clone())
    );
    assert_eq!(Release::get(&mut conn, "F42").unwrap(), None);
    assert_eq!(release.version_int(), Some(43));
    assert_eq!(release.collection_name(), "Fedora");

    let edited = Release::update(
        &mut conn,
        release.id,
        &ReleaseChanges {
            state: Some(ReleaseState::Archived),
            min_karma: Some(None),
            eol: Some(NaiveDate::from_ymd_opt(2027, 1, 1)),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(edited.state, ReleaseState::Archived);
    assert_eq!(edited.min_karma, None);
    assert_eq!(edited.eol, NaiveDate::from_ymd_opt(2027, 1, 1));
    assert_eq!(edited.long_name, "Fedora 43", "unchanged fields stay");

    let duplicate = Release::create(&mut conn, &new).unwrap_err();
    assert!(is_unique_violation(&duplicate));
}

#[test]
fn the_check_constraints_reject_unknown_enum_values() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let release = Release::create(&mut conn, &sample_release("F43", "43")).unwrap();
    let result = diesel::update(schema::releases::table.find(release.id))
        .set(schema::releases::state.eq("bogus"))
        .execute(&mut *conn);
    assert!(
        result.is_err(),
        "a CHECK constraint must refuse unknown states"
    );
}

#[test]
fn updates_builds_bugs_comments_and_feedback() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let release = Release::create(&mut conn, &sample_release("F43", "43")).unwrap();
    let alice = user(&mut conn, "alice");
    let bob = user(&mut conn, "bob");
    let submitted = at("2026-03-04 05:06:07.000008");

    let mut new = NewUpdate::with_defaults(
        new_alias("FEDORA", submitted),
        release.id,
        Some(alice.id),
        UpdateType::Security,
        "Fixes **CVE-2026-0001**.".into(),
        submitted,
    );
    assert!(new.alias.starts_with("FEDORA-2026-"));
    assert_eq!(new.alias.len(), "FEDORA-2026-".len() + 10);
    new.severity = UpdateSeverity::Urgent;
    new.suggest = UpdateSuggestion::Reboot;
    new.request = Some(UpdateRequest::Testing);
    new.test_gating_status = Some(TestGatingStatus::GreenwaveFailed);
    new.critpath = true;
    new.critpath_groups = Some("core workstation".into());
    new.from_tag = Some("f43-build-side-1".into());
    new.date_testing = Some(at("2026-03-05 00:00:00"));
    let update = Update::create(&mut conn, &new).unwrap();
    let read = Update::by_alias(&mut conn, &new.alias).unwrap().unwrap();
    assert_eq!(read, update);
    assert_eq!(read.update_type, UpdateType::Security);
    assert_eq!(read.severity, UpdateSeverity::Urgent);
    assert_eq!(read.suggest, UpdateSuggestion::Reboot);
    assert_eq!(read.request, Some(UpdateRequest::Testing));
    assert_eq!(read.status, UpdateStatus::Pending);
    assert_eq!(
        read.test_gating_status,
        Some(TestGatingStatus::GreenwaveFailed)
    );
    assert_eq!(read.date_submitted, submitted);
    assert_eq!(read.critpath_groups.as_deref(), Some("core workstation"));
    assert_eq!(read.stable_karma, 3);
    assert_eq!(read.unstable_karma, -3);
    assert_eq!(Update::count(&mut conn).unwrap(), 1);

    let (package, created) = Package::ensure(&mut conn, "libfrob", ContentType::Rpm).unwrap();
    assert!(created);
    let (module, _) = Package::ensure(&mut conn, "libfrob:1.4", ContentType::Module).unwrap();
    assert_ne!(
        module.id, package.id,
        "name and type together identify a package"
    );
    let build = Build::create(
        &mut conn,
        &NewBuild {
            nvr: "libfrob-1.4.1-1.fc43",
            signed: false,
            package_id: package.id,
            release_id: Some(release.id),
            update_id: Some(update.id),
            content_type: ContentType::Rpm,
            epoch: Some(0),
        },
    )
    .unwrap();
    Build::set_signed(&mut conn, build.id, true).unwrap();
    let read_build = Build::by_nvr(&mut conn, "libfrob-1.4.1-1.fc43")
        .unwrap()
        .unwrap();
    assert!(read_build.signed);
    assert_eq!(read_build.content_type, ContentType::Rpm);
    assert_eq!(
        Build::for_updates(&mut conn, &[update.id]).unwrap(),
        vec![read_build.clone()]
    );

    let testcase = TestCase::ensure(&mut conn, "QA:Testcase_libfrob").unwrap();
    assert_eq!(
        TestCase::ensure(&mut conn, "QA:Testcase_libfrob").unwrap(),
        testcase
    );
    assert!(TestCase::attach_to_build(&mut conn, testcase.id, build.id).unwrap());
    assert!(!TestCase::attach_to_build(&mut conn, testcase.id, build.id).unwrap());
    assert_eq!(
        TestCase::for_builds(&mut conn, &[build.id]).unwrap(),
        vec![(build.id, testcase.clone())]
    );

    let bug = Bug::ensure(&mut conn, 2400001).unwrap();
    Bug::set_details(
        &mut conn,
        bug.id,
        Some("CVE-2026-0001 libfrob"),
        true,
        false,
    )
    .unwrap();
    assert!(Update::attach_bug(&mut conn, update.id, bug.id).unwrap());
    assert!(!Update::attach_bug(&mut conn, update.id, bug.id).unwrap());
    let bugs = Bug::for_updates(&mut conn, &[update.id]).unwrap();
    assert_eq!(bugs.len(), 1);
    assert_eq!(bugs[0].1.title.as_deref(), Some("CVE-2026-0001 libfrob"));
    assert!(bugs[0].1.security);

    let comment = Comment::create(
        &mut conn,
        &NewComment {
            karma: 1,
            karma_critpath: 0,
            text: "Works for me.",
            timestamp: at("2026-03-06 01:02:03.456789"),
            update_id: update.id,
            user_id: bob.id,
        },
    )
    .unwrap();
    let bug_feedback = Comment::add_bug_feedback(&mut conn, comment.id, 2400001, 1).unwrap();
    let test_feedback =
        Comment::add_testcase_feedback(&mut conn, comment.id, testcase.id, -1).unwrap();
    assert_eq!(
        Comment::by_id(&mut conn, comment.id).unwrap(),
        Some(comment.clone())
    );
    assert_eq!(
        Comment::for_updates(&mut conn, &[update.id]).unwrap(),
        vec![comment.clone()]
    );
    assert_eq!(
        Comment::bug_feedback_for(&mut conn, &[comment.id]).unwrap(),
        vec![bug_feedback]
    );
    assert_eq!(
        Comment::testcase_feedback_for(&mut conn, &[comment.id]).unwrap(),
        vec![test_feedback]
    );
    let bad_karma = Comment::create(
        &mut conn,
        &NewComment {
            karma: 2,
            karma_critpath: 0,
            text: "too much",
            timestamp: now(),
            update_id: update.id,
            user_id: bob.id,
        },
    );
    assert!(bad_karma.is_err(), "karma is -1, 0 or 1");

    // Deleting an update takes its comments and feedback with it and frees its builds.
    diesel::delete(schema::updates::table.find(update.id))
        .execute(&mut *conn)
        .unwrap();
    assert_eq!(Comment::by_id(&mut conn, comment.id).unwrap(), None);
    assert_eq!(
        Build::by_nvr(&mut conn, "libfrob-1.4.1-1.fc43")
            .unwrap()
            .unwrap()
            .update_id,
        None
    );
}

#[test]
fn package_acls_by_user_and_group() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let alice = user(&mut conn, "alice");
    let bob = user(&mut conn, "bob");
    let carol = user(&mut conn, "carol");
    let (group, _) = Group::ensure(&mut conn, "python-sig").unwrap();
    Group::add_member(&mut conn, group.id, carol.id).unwrap();
    let (package, _) = Package::ensure(&mut conn, "python-colorful", ContentType::Rpm).unwrap();

    assert!(
        PackageAcl::grant(
            &mut conn,
            package.id,
            Grantee::User(alice.id),
            AclRole::Owner,
            now()
        )
        .unwrap()
    );
    assert!(
        !PackageAcl::grant(
            &mut conn,
            package.id,
            Grantee::User(alice.id),
            AclRole::Owner,
            now()
        )
        .unwrap()
    );
    assert!(
        PackageAcl::grant(
            &mut conn,
            package.id,
            Grantee::Group(group.id),
            AclRole::Committer,
            now()
        )
        .unwrap()
    );
    assert_eq!(
        PackageAcl::for_package(&mut conn, package.id).unwrap(),
        vec![
            (AclHolder::User("alice".into()), AclRole::Owner),
            (AclHolder::Group("python-sig".into()), AclRole::Committer),
        ]
    );
    assert!(PackageAcl::user_may_commit(&mut conn, package.id, alice.id).unwrap());
    assert!(PackageAcl::user_may_commit(&mut conn, package.id, carol.id).unwrap());
    assert!(!PackageAcl::user_may_commit(&mut conn, package.id, bob.id).unwrap());
    assert!(PackageAcl::revoke(&mut conn, package.id, Grantee::User(alice.id)).unwrap());
    assert!(!PackageAcl::user_may_commit(&mut conn, package.id, alice.id).unwrap());
}

#[test]
fn overrides_round_trip_and_expire() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let release = Release::create(&mut conn, &sample_release("F43", "43")).unwrap();
    let alice = user(&mut conn, "alice");
    let (package, _) = Package::ensure(&mut conn, "hello", ContentType::Rpm).unwrap();
    let build = Build::create(
        &mut conn,
        &NewBuild {
            nvr: "hello-2.12.1-2.fc43",
            signed: true,
            package_id: package.id,
            release_id: Some(release.id),
            update_id: None,
            content_type: ContentType::Rpm,
            epoch: None,
        },
    )
    .unwrap();
    let new = NewBuildrootOverride {
        build_id: build.id,
        submitter_id: alice.id,
        notes: "Needed to build nanoedit",
        submission_date: at("2026-03-01 00:00:00"),
        expiration_date: at("2026-03-08 00:00:00"),
        expired_date: None,
    };
    let created = BuildrootOverride::create(&mut conn, &new).unwrap();
    assert_eq!(
        BuildrootOverride::for_build(&mut conn, build.id).unwrap(),
        Some(created.clone())
    );
    assert!(
        BuildrootOverride::create(&mut conn, &new).is_err(),
        "one override per build"
    );
    assert!(
        BuildrootOverride::due_for_expiry(&mut conn, at("2026-03-07 00:00:00"))
            .unwrap()
            .is_empty()
    );
    let due = BuildrootOverride::due_for_expiry(&mut conn, at("2026-03-09 00:00:00")).unwrap();
    assert_eq!(due, vec![created.clone()]);
    BuildrootOverride::mark_expired(&mut conn, created.id, at("2026-03-09 00:00:00")).unwrap();
    assert!(
        BuildrootOverride::due_for_expiry(&mut conn, at("2026-03-10 00:00:00"))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn composes_and_their_history() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let release = Release::create(&mut conn, &sample_release("F43", "43")).unwrap();
    let created_at = at("2026-04-01 10:00:00");
    let compose =
        Compose::create(&mut conn, release.id, UpdateRequest::Stable, created_at).unwrap();
    assert_eq!(compose.state, ComposeState::Requested);
    assert_eq!(compose.checkpoints, "{}");
    assert!(
        Compose::create(&mut conn, release.id, UpdateRequest::Stable, created_at).is_err(),
        "one compose per release and request"
    );
    Compose::set_state(
        &mut conn,
        compose.id,
        None,
        ComposeState::Punging,
        at("2026-04-01 10:05:00"),
    )
    .unwrap();
    let read = Compose::find(&mut conn, release.id, UpdateRequest::Stable)
        .unwrap()
        .unwrap();
    assert_eq!(read.state, ComposeState::Punging);
    assert_eq!(read.state_date, at("2026-04-01 10:05:00"));
    assert_eq!(Compose::list(&mut conn).unwrap(), vec![read.clone()]);
    Compose::delete(&mut conn, compose.id).unwrap();
    assert_eq!(
        Compose::find(&mut conn, release.id, UpdateRequest::Stable).unwrap(),
        None
    );

    let record = ComposeRecord::create(
        &mut conn,
        &NewComposeRecord {
            release_id: release.id,
            request: UpdateRequest::Stable,
            content_type: Some(ContentType::Rpm),
            security: true,
            final_state: ComposeOutcome::Success,
            error_message: None,
            date_created: created_at,
            date_finished: at("2026-04-01 10:20:00"),
            timings: r#"{"punging":300.5}"#,
            update_summary: r#"[{"alias":"FEDORA-2026-0123456789","title":"hello"}]"#,
        },
    )
    .unwrap();
    assert_eq!(ComposeRecord::recent(&mut conn, 10).unwrap(), vec![record]);
}

#[test]
fn outbox_entries_are_unique_by_key() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let (entry, created) = OutboxEntry::enqueue(
        &mut conn,
        OutboxKind::Message,
        "bodhi.update.comment:42",
        r#"{"topic":"bodhi.update.comment"}"#,
        at("2026-01-01 00:00:00"),
    )
    .unwrap();
    assert!(created);
    let (again, created) = OutboxEntry::enqueue(
        &mut conn,
        OutboxKind::Message,
        "bodhi.update.comment:42",
        "{}",
        now(),
    )
    .unwrap();
    assert!(!created);
    assert_eq!(again, entry, "the first entry stays as it was");
    let claim = |conn: &mut _, owner: &str, time: &str| {
        OutboxEntry::claim_due(
            conn,
            &[OutboxKind::Message],
            owner,
            at(time),
            chrono::Duration::seconds(60),
            10,
        )
        .unwrap()
    };
    assert_eq!(claim(&mut conn, "a", "2026-01-01 00:00:00").len(), 1);
    assert!(
        claim(&mut conn, "b", "2026-01-01 00:00:30").is_empty(),
        "leased to a"
    );
    assert!(
        OutboxEntry::record_failure(
            &mut conn,
            entry.id,
            "a",
            "connection refused",
            at("2026-01-01 00:01:00"),
            false,
        )
        .unwrap()
    );
    let pending = OutboxEntry::list(&mut conn, &[OutboxState::Pending], 10).unwrap();
    assert_eq!(pending[0].attempts, 1);
    assert_eq!(pending[0].last_error.as_deref(), Some("connection refused"));
    assert!(
        claim(&mut conn, "b", "2026-01-01 00:00:59").is_empty(),
        "not due yet"
    );
    assert_eq!(claim(&mut conn, "b", "2026-01-01 00:01:00").len(), 1);
    assert!(
        !OutboxEntry::mark_delivered(&mut conn, entry.id, "a", at("2026-01-01 00:02:00")).unwrap(),
        "a lost its lease"
    );
    assert!(
        OutboxEntry::mark_delivered(&mut conn, entry.id, "b", at("2026-01-01 00:02:00")).unwrap()
    );
    assert!(
        OutboxEntry::list(&mut conn, &[OutboxState::Pending], 10)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        pipal::models::outbox::delete_delivered_before(&mut conn, at("2026-01-02 00:00:00"))
            .unwrap(),
        1
    );
}

#[test]
fn local_build_system_tables() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let event = Event::create(&mut conn, at("2026-01-01 00:00:00")).unwrap();
    assert_eq!(Event::last(&mut conn).unwrap(), Some(event.clone()));
    let parent = Tag::create(&mut conn, "f43", Some("x86_64"), "{}", event.id).unwrap();
    let child = Tag::create(
        &mut conn,
        "f43-updates",
        None,
        r#"{"sidetag":false}"#,
        event.id,
    )
    .unwrap();
    assert!(Tag::add_parent(&mut conn, child.id, parent.id, 10).unwrap());
    assert!(!Tag::add_parent(&mut conn, child.id, parent.id, 10).unwrap());
    assert_eq!(
        Tag::parents(&mut conn, child.id).unwrap()[0].parent_id,
        parent.id
    );
    assert_eq!(
        Tag::by_name(&mut conn, "f43-updates").unwrap(),
        Some(child.clone())
    );

    let build = BuildsysBuild::create(
        &mut conn,
        &NewBuildsysBuild {
            package_name: "hello",
            version: "2.12.1",
            release: "1.fc43",
            epoch: None,
            nvr: "hello-2.12.1-1.fc43",
            owner_name: "alice",
            state: BUILD_STATE_COMPLETE,
            task_id: Some(77),
            creation_event: event.id,
            creation_time: at("2026-01-01 00:00:00"),
            completion_time: Some(at("2026-01-01 00:10:00")),
            source: Some("git+https://src.example.org/rpms/hello#abc"),
            extra: "{}",
        },
    )
    .unwrap();
    assert_eq!(
        BuildsysBuild::by_nvr(&mut conn, "hello-2.12.1-1.fc43").unwrap(),
        Some(build.clone())
    );
    let rpm = Rpm::create(
        &mut conn,
        &NewRpm {
            build_id: build.id,
            name: "hello",
            version: "2.12.1",
            release: "1.fc43",
            epoch: None,
            arch: "x86_64",
            size: 5_000_000_000,
            payloadhash: "0123abcd",
            buildtime: 1_760_000_000,
            path: "packages/hello/2.12.1/1.fc43/x86_64/hello-2.12.1-1.fc43.x86_64.rpm",
        },
    )
    .unwrap();
    assert_eq!(
        Rpm::for_build(&mut conn, build.id).unwrap(),
        vec![rpm.clone()]
    );
    assert_eq!(rpm.size, 5_000_000_000, "sizes beyond 32 bits survive");
    assert!(Rpm::add_signature(&mut conn, rpm.id, "a15b79cc").unwrap());
    assert!(!Rpm::add_signature(&mut conn, rpm.id, "a15b79cc").unwrap());
    assert_eq!(
        Rpm::signatures(&mut conn, rpm.id).unwrap(),
        vec!["a15b79cc"]
    );

    let tag_event = Event::create(&mut conn, now()).unwrap();
    let listing =
        TagListing::create(&mut conn, child.id, build.id, tag_event.id, Some("alice")).unwrap();
    assert!(
        TagListing::create(&mut conn, child.id, build.id, tag_event.id, None).is_err(),
        "a build is in a tag once at a time"
    );
    assert_eq!(
        TagListing::active(&mut conn, child.id, build.id).unwrap(),
        Some(listing.clone())
    );
    let untag_event = Event::create(&mut conn, now()).unwrap();
    TagListing::revoke(&mut conn, listing.id, untag_event.id, Some("bodhi")).unwrap();
    assert_eq!(
        TagListing::active(&mut conn, child.id, build.id).unwrap(),
        None
    );
    TagListing::create(&mut conn, child.id, build.id, untag_event.id, None)
        .expect("tagging again after an untag is allowed");
    let history = TagListing::history_of_build(&mut conn, build.id).unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].0.revoke_event, Some(untag_event.id));
}
