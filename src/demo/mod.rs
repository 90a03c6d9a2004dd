//! `pipal demo`: fills the configured database with a usable demo: releases F43 and F44 with
//! their tags, users alice (packager), bob (tester) and carol (release engineer), real RPMs
//! built by Pipal and imported into the local build system, and updates in several states.
//! With `buildsys.kind = "koji"` the same demo is then recreated in the hub (see [`koji`]).
//! Every step checks what exists first, so a second run changes nothing.

pub(crate) mod catalogue;
mod koji;
pub mod rpms;

use std::io::Write;

use anyhow::Context;
use chrono::{Duration, NaiveDateTime};
use rand::Rng;

use crate::buildsys::import::import_build;
use crate::buildsys::koji::KojiBuildSystem;
use crate::buildsys::{BuildSystem, BuildsysError, LocalBuildSystem};
use crate::config::{BuildsysKind, Settings};
use crate::db::types::{
    AclRole, ContentType, PackageManager, ReleaseState, UpdateRequest, UpdateSeverity,
    UpdateStatus, UpdateType,
};
use crate::db::{Db, DbConnection, write_transaction};
use crate::models::bug::Bug;
use crate::models::build::{Build, NewBuild};
use crate::models::comment::{Comment, NewComment};
use crate::models::now;
use crate::models::overrides::{BuildrootOverride, NewBuildrootOverride};
use crate::models::package::{Grantee, Package, PackageAcl};
use crate::models::release::{NewRelease, Release};
use crate::models::update::{NewUpdate, Update, new_alias};
use crate::models::user::User;
use crate::services::accounts::{self, UserSpec};
use crate::services::releases;

/// The owner of the demo's builds and packages.
const PACKAGER: &str = "alice";
/// Bodhi's system user, created by the first migration.
const SYSTEM_USER: &str = "bodhi";

struct DemoUser {
    name: &'static str,
    role: &'static str,
    groups: &'static [&'static str],
}

const USERS: &[DemoUser] = &[
    DemoUser {
        name: "alice",
        role: "packager",
        groups: &["packager"],
    },
    DemoUser {
        name: "bob",
        role: "tester",
        groups: &[],
    },
    DemoUser {
        name: "carol",
        role: "release engineer, admin",
        groups: &["packager", "releng", "bodhiadmin"],
    },
];

/// Runs the demo setup, reporting to `out`.
pub fn run(db: &Db, settings: &Settings, out: &mut dyn Write) -> anyhow::Result<()> {
    let on_koji = settings.buildsys.kind == BuildsysKind::Koji;
    let root = if on_koji {
        settings.buildsys.koji.topdir.clone()
    } else {
        settings.buildsys.local.root.clone()
    };
    let buildsys = LocalBuildSystem::new(db.clone(), root);
    let mut conn = db.conn()?;
    let mut changes = 0;

    changes += create_users(&mut conn, out)?;
    changes += create_releases(&mut conn, &buildsys, out)?;
    changes += build_and_import_rpms(&buildsys, out)?;
    changes += tag_candidates(&buildsys, out)?;
    changes += grant_packages(&mut conn, out)?;
    changes += create_updates(&mut conn, &buildsys, out)?;
    changes += create_override(&mut conn, &buildsys, out)?;
    if on_koji {
        let hub = KojiBuildSystem::from_settings(&settings.buildsys.koji)
            .context("cannot reach the Koji hub of buildsys.koji")?;
        changes += koji::mirror(&buildsys, &hub, &demo_releases(), out)?;
    }

    if changes == 0 {
        writeln!(out, "The demo data is already in place; nothing changed.")?;
    } else {
        writeln!(
            out,
            "\nDemo ready: {changes} change(s). Start Pipal with `pipal serve` and get an API \
             token with `pipal user token alice`."
        )?;
    }
    Ok(())
}

fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..14)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

fn create_users(conn: &mut DbConnection, out: &mut dyn Write) -> anyhow::Result<usize> {
    let mut created = 0;
    for user in USERS {
        if User::by_name(conn, user.name)?.is_some() {
            continue;
        }
        let password = random_password();
        let groups: Vec<String> = user.groups.iter().map(|g| g.to_string()).collect();
        accounts::create_user(
            conn,
            &UserSpec {
                name: user.name,
                email: Some(&format!("{}@example.org", user.name)),
                groups: &groups,
                password: Some(&password),
            },
            now(),
        )?;
        writeln!(
            out,
            "created user {:<6} ({}) with password {password}",
            user.name, user.role
        )?;
        created += 1;
    }
    Ok(created)
}

fn demo_release(
    name: &str,
    version: &str,
    released_on: (i32, u32, u32),
    eol: (i32, u32, u32),
) -> NewRelease {
    let date = |(y, m, d): (i32, u32, u32)| chrono::NaiveDate::from_ymd_opt(y, m, d);
    let mut release =
        releases::fedora_release(name, &format!("Fedora {version}"), &format!("f{version}"));
    release.state = ReleaseState::Current;
    release.package_manager = PackageManager::Dnf;
    release.testing_repository = Some("updates-testing".into());
    release.released_on = date(released_on);
    release.eol = date(eol);
    release.announce_list = Some("package-announce@example.org".into());
    release.test_announce_list = Some("test@example.org".into());
    release
}

fn demo_releases() -> [NewRelease; 2] {
    [
        demo_release("F43", "43", (2025, 10, 28), (2026, 12, 9)),
        demo_release("F44", "44", (2026, 4, 28), (2027, 5, 19)),
    ]
}

fn create_releases(
    conn: &mut DbConnection,
    buildsys: &LocalBuildSystem,
    out: &mut dyn Write,
) -> anyhow::Result<usize> {
    let mut changes = 0;
    for release in demo_releases() {
        for tag in releases::tags_of(&release) {
            let parents: Vec<String> = releases::fedora_tag_parent(&release, &tag)
                .map(str::to_owned)
                .into_iter()
                .collect();
            match buildsys.create_tag(&tag, &parents, Some("x86_64"), &serde_json::json!({})) {
                Ok(_) => changes += 1,
                Err(BuildsysError::TagExists(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if Release::by_name(conn, &release.name)?.is_none() {
            releases::create(conn, &release)?;
            writeln!(out, "created release {} with its tags", release.name)?;
            changes += 1;
        }
    }
    Ok(changes)
}

fn build_and_import_rpms(
    buildsys: &LocalBuildSystem,
    out: &mut dyn Write,
) -> anyhow::Result<usize> {
    let mut written = 0;
    for build in catalogue::BUILDS {
        written += rpms::write_build(buildsys.root(), build)
            .with_context(|| format!("cannot build the RPMs of {}", build.nvr()))?
            .len();
    }
    if written > 0 {
        writeln!(
            out,
            "built {written} RPM files under {}",
            buildsys.root().display()
        )?;
    }
    let (mut imported, mut files) = (0, 0);
    for build in catalogue::BUILDS {
        if let (_, Some(count)) =
            import_build(buildsys, &rpms::build_dir(buildsys.root(), build), PACKAGER)?
        {
            imported += 1;
            files += count;
        }
    }
    if imported > 0 {
        writeln!(
            out,
            "imported {imported} builds ({files} RPM files) into the local build system"
        )?;
    }
    Ok(written + imported)
}

/// The release a demo build belongs to, from its dist tag.
fn release_of(release_field: &str) -> &'static str {
    if release_field.ends_with(".fc44") {
        "F44"
    } else {
        "F43"
    }
}

/// Tags the demo's builds where a fresh build would be: the GA builds in the dist tag, the
/// others in the candidate tag. Builds of demo updates are moved by `create_updates`.
fn tag_candidates(buildsys: &LocalBuildSystem, out: &mut dyn Write) -> anyhow::Result<usize> {
    let mut tagged = 0;
    for build in catalogue::BUILDS {
        let nvr = build.nvr();
        if !buildsys.list_tags(&nvr)?.is_empty() {
            continue;
        }
        let dist = if release_of(build.release) == "F44" {
            "f44"
        } else {
            "f43"
        };
        let tag = if GA_BUILDS.contains(&nvr.as_str()) {
            dist.to_owned()
        } else {
            format!("{dist}-updates-candidate")
        };
        buildsys.tag_build(&tag, &nvr, PACKAGER)?;
        tagged += 1;
    }
    if tagged > 0 {
        writeln!(out, "tagged {tagged} builds")?;
    }
    Ok(tagged)
}

/// Builds that shipped with the release (in its dist tag, in no update).
const GA_BUILDS: &[&str] = &["python-colorful-0.5.6-1.fc43", "libfrob-1.4.0-1.fc43"];

fn grant_packages(conn: &mut DbConnection, out: &mut dyn Write) -> anyhow::Result<usize> {
    let owner = accounts::existing_user(conn, PACKAGER)?;
    let mut granted = 0;
    for source in catalogue::SOURCES {
        let (package, _) = Package::ensure(conn, source.name, ContentType::Rpm)?;
        if PackageAcl::grant(
            conn,
            package.id,
            Grantee::User(owner.id),
            AclRole::Owner,
            now(),
        )? {
            granted += 1;
        }
    }
    if granted > 0 {
        writeln!(out, "made {PACKAGER} owner of {granted} packages")?;
    }
    Ok(granted)
}

/// One comment of a demo update: who, how many days before now, karma, text.
struct DemoComment {
    user: &'static str,
    days_ago: i64,
    karma: i32,
    text: &'static str,
}

struct DemoUpdate {
    nvr: &'static str,
    update_type: UpdateType,
    severity: UpdateSeverity,
    status: UpdateStatus,
    request: Option<UpdateRequest>,
    notes: &'static str,
    submitted_days_ago: i64,
    testing_days_ago: Option<i64>,
    stable_days_ago: Option<i64>,
    /// Tags the build is in once the update is where its status says.
    tags: &'static [&'static str],
    bugs: &'static [(i32, &'static str, bool)],
    comments: &'static [DemoComment],
}

const SUBMITTED: &str = "This update has been submitted for testing by alice. ";

static UPDATES: &[DemoUpdate] = &[
    DemoUpdate {
        nvr: "hello-2.12.1-1.fc43",
        update_type: UpdateType::Enhancement,
        severity: UpdateSeverity::Unspecified,
        status: UpdateStatus::Stable,
        request: None,
        notes: "Update to GNU Hello 2.12.1.",
        submitted_days_ago: 40,
        testing_days_ago: Some(39),
        stable_days_ago: Some(30),
        tags: &["f43-updates"],
        bugs: &[],
        comments: &[
            DemoComment {
                user: SYSTEM_USER,
                days_ago: 40,
                karma: 0,
                text: SUBMITTED,
            },
            DemoComment {
                user: SYSTEM_USER,
                days_ago: 39,
                karma: 0,
                text: "This update has been pushed to testing.",
            },
            DemoComment {
                user: "bob",
                days_ago: 37,
                karma: 1,
                text: "Works for me: `hello` greets as it should.",
            },
            DemoComment {
                user: "carol",
                days_ago: 33,
                karma: 1,
                text: "Looks good.",
            },
            DemoComment {
                user: SYSTEM_USER,
                days_ago: 31,
                karma: 0,
                text: "This update has been submitted for stable by bodhi. ",
            },
            DemoComment {
                user: SYSTEM_USER,
                days_ago: 30,
                karma: 0,
                text: "This update has been pushed to stable.",
            },
        ],
    },
    DemoUpdate {
        nvr: "libfrob-1.4.1-1.fc43",
        update_type: UpdateType::Security,
        severity: UpdateSeverity::High,
        status: UpdateStatus::Testing,
        request: None,
        notes: "Update to 1.4.1, fixing **CVE-2026-0001**: a heap overflow in `frob_parse()`.",
        submitted_days_ago: 3,
        testing_days_ago: Some(2),
        stable_days_ago: None,
        tags: &["f43-updates-testing"],
        bugs: &[(
            2400001,
            "CVE-2026-0001 libfrob: heap overflow in frob_parse()",
            true,
        )],
        comments: &[
            DemoComment {
                user: SYSTEM_USER,
                days_ago: 3,
                karma: 0,
                text: SUBMITTED,
            },
            DemoComment {
                user: SYSTEM_USER,
                days_ago: 2,
                karma: 0,
                text: "This update has been pushed to testing.",
            },
            DemoComment {
                user: "bob",
                days_ago: 1,
                karma: 1,
                text: "The reproducer no longer crashes.",
            },
        ],
    },
    DemoUpdate {
        nvr: "python-colorful-0.6.0-1.fc43",
        update_type: UpdateType::Enhancement,
        severity: UpdateSeverity::Unspecified,
        status: UpdateStatus::Pending,
        request: Some(UpdateRequest::Testing),
        notes: "Update to 0.6.0, with 24-bit colour support.",
        submitted_days_ago: 0,
        testing_days_ago: None,
        stable_days_ago: None,
        tags: &["f43-updates-candidate", "f43-signing-pending"],
        bugs: &[(
            2400123,
            "python-colorful: 24-bit colour escapes are dropped",
            false,
        )],
        comments: &[DemoComment {
            user: SYSTEM_USER,
            days_ago: 0,
            karma: 0,
            text: SUBMITTED,
        }],
    },
    DemoUpdate {
        nvr: "zapper-3.0-1.fc43",
        update_type: UpdateType::Bugfix,
        severity: UpdateSeverity::Low,
        status: UpdateStatus::Unpushed,
        request: None,
        notes: "Update to 3.0.",
        submitted_days_ago: 12,
        testing_days_ago: None,
        stable_days_ago: None,
        tags: &["f43-updates-candidate"],
        bugs: &[],
        comments: &[
            DemoComment {
                user: SYSTEM_USER,
                days_ago: 12,
                karma: 0,
                text: SUBMITTED,
            },
            DemoComment {
                user: "alice",
                days_ago: 11,
                karma: 0,
                text: "Revoked: 3.1 fixes a data loss bug, I will submit that instead.",
            },
        ],
    },
    DemoUpdate {
        nvr: "fortune-lite-1.0-1.fc44",
        update_type: UpdateType::Newpackage,
        severity: UpdateSeverity::Unspecified,
        status: UpdateStatus::Testing,
        request: None,
        notes: "New package: a small collection of fortunes.",
        submitted_days_ago: 6,
        testing_days_ago: Some(5),
        stable_days_ago: None,
        tags: &["f44-updates-testing"],
        bugs: &[],
        comments: &[
            DemoComment {
                user: SYSTEM_USER,
                days_ago: 6,
                karma: 0,
                text: SUBMITTED,
            },
            DemoComment {
                user: SYSTEM_USER,
                days_ago: 5,
                karma: 0,
                text: "This update has been pushed to testing.",
            },
            DemoComment {
                user: "bob",
                days_ago: 4,
                karma: -1,
                text: "Prints the same fortune twice in a row.",
            },
        ],
    },
];

fn create_updates(
    conn: &mut DbConnection,
    buildsys: &LocalBuildSystem,
    out: &mut dyn Write,
) -> anyhow::Result<usize> {
    let mut created = 0;
    for spec in UPDATES {
        if Build::by_nvr(conn, spec.nvr)?.is_some_and(|b| b.update_id.is_some()) {
            continue;
        }
        move_to_tags(buildsys, spec)?;
        let alias = write_transaction(conn, |conn| create_update(conn, spec, now()))?;
        writeln!(
            out,
            "created update {alias} ({}, {})",
            spec.nvr, spec.status
        )?;
        created += 1;
    }
    Ok(created)
}

/// The demo's buildroot override: libfrob's security fix in testing, in F43's buildroot so
/// that packages using libfrob-devel build against it.
const OVERRIDE_NVR: &str = "libfrob-1.4.1-1.fc43";

fn create_override(
    conn: &mut DbConnection,
    buildsys: &LocalBuildSystem,
    out: &mut dyn Write,
) -> anyhow::Result<usize> {
    let build = Build::by_nvr(conn, OVERRIDE_NVR)?
        .with_context(|| format!("build {OVERRIDE_NVR} is missing"))?;
    if BuildrootOverride::for_build(conn, build.id)?.is_some() {
        return Ok(0);
    }
    let owner = accounts::existing_user(conn, PACKAGER)?;
    let submitted = days_ago(now(), 1);
    BuildrootOverride::create(
        conn,
        &NewBuildrootOverride {
            build_id: build.id,
            submitter_id: owner.id,
            notes: "Building libfrob's users against the CVE-2026-0001 fix.",
            submission_date: submitted,
            expiration_date: submitted + Duration::days(7),
            expired_date: None,
        },
    )?;
    match buildsys.tag_build("f43-override", OVERRIDE_NVR, PACKAGER) {
        Ok(()) | Err(BuildsysError::AlreadyTagged { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    writeln!(out, "created a buildroot override for {OVERRIDE_NVR}")?;
    Ok(1)
}

/// Puts the update's build in exactly the tags its status implies (of its release).
fn move_to_tags(buildsys: &LocalBuildSystem, spec: &DemoUpdate) -> anyhow::Result<()> {
    for tag in buildsys.list_tags(spec.nvr)? {
        if !spec.tags.contains(&tag.name.as_str()) {
            buildsys.untag_build(&tag.name, spec.nvr, "bodhi")?;
        }
    }
    for tag in spec.tags {
        match buildsys.tag_build(tag, spec.nvr, "bodhi") {
            Ok(()) | Err(BuildsysError::AlreadyTagged { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

fn days_ago(now: NaiveDateTime, days: i64) -> NaiveDateTime {
    now - Duration::days(days)
}

fn create_update(
    conn: &mut DbConnection,
    spec: &DemoUpdate,
    now: NaiveDateTime,
) -> anyhow::Result<String> {
    let release_name = release_of(spec.nvr);
    let release = Release::by_name(conn, release_name)?
        .with_context(|| format!("release {release_name} is missing"))?;
    let owner = accounts::existing_user(conn, PACKAGER)?;
    let submitted = days_ago(now, spec.submitted_days_ago);
    let mut new = NewUpdate::with_defaults(
        new_alias(&release.id_prefix, submitted),
        release.id,
        Some(owner.id),
        spec.update_type,
        spec.notes.to_owned(),
        submitted,
    );
    new.severity = spec.severity;
    new.status = spec.status;
    new.request = spec.request;
    new.stable_karma = 2;
    new.require_bugs = false;
    new.require_testcases = false;
    new.date_testing = spec.testing_days_ago.map(|d| days_ago(now, d));
    new.date_stable = spec.stable_days_ago.map(|d| days_ago(now, d));
    new.date_modified = Some(submitted);
    new.pushed = new.date_testing.is_some() && spec.status != UpdateStatus::Unpushed;
    let update = Update::create(conn, &new)?;

    let package_name = spec
        .nvr
        .rsplitn(3, '-')
        .nth(2)
        .context("an NVR has a name")?;
    let (package, _) = Package::ensure(conn, package_name, ContentType::Rpm)?;
    Build::create(
        conn,
        &NewBuild {
            nvr: spec.nvr,
            signed: spec.status != UpdateStatus::Pending,
            package_id: package.id,
            release_id: Some(release.id),
            update_id: Some(update.id),
            content_type: ContentType::Rpm,
            epoch: Some(0),
        },
    )?;
    for (bug_id, title, security) in spec.bugs {
        let bug = Bug::ensure(conn, *bug_id)?;
        Bug::set_details(conn, bug.id, Some(title), *security, false)?;
        Update::attach_bug(conn, update.id, bug.id)?;
    }
    for comment in spec.comments {
        let author = accounts::existing_user(conn, comment.user)?;
        Comment::create(
            conn,
            &NewComment {
                karma: comment.karma,
                karma_critpath: 0,
                text: comment.text,
                timestamp: days_ago(now, comment.days_ago),
                update_id: update.id,
                user_id: author.id,
            },
        )?;
    }
    Ok(update.alias)
}
