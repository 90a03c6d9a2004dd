//! A large, deterministic Bodhi database for the benchmark: users, packages, one release and
//! N updates with 1-3 builds, 0-10 comments and 0-3 bugs each, written in multi-row inserts.

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use pipal::db::DbConnection;
use pipal::db::schema::{bugs, builds, comments, packages, update_bugs, updates, users};
use pipal::db::types::{ContentType, UpdateRequest, UpdateStatus, UpdateType};
use pipal::db::write_transaction;
use pipal::models::build::NewBuild;
use pipal::models::comment::NewComment;
use pipal::models::update::NewUpdate;
use pipal::per_backend;
use pipal::services::releases;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub const USERS: usize = 1_000;
pub const PACKAGES: usize = 5_000;
/// Rows per INSERT: below SQLite's 32,766 bound parameters for the widest table. Multi-row
/// INSERTs run on the concrete connection (`per_backend!`): diesel's `MultiConnection` backend
/// cannot express them.
const CHUNK: usize = 500;

/// What was written, for the report and for picking request targets.
pub struct Seeded {
    pub updates: usize,
    pub builds: usize,
    pub comments: usize,
    pub bug_links: usize,
    pub aliases: Vec<String>,
    pub packages: Vec<String>,
    /// An update with [`BIG_UPDATE_BUILDS`] builds (Bodhi's #4051: such a page timed out).
    pub big_alias: String,
}

/// The builds of the one big update, like an R or KDE stack rebuild.
pub const BIG_UPDATE_BUILDS: usize = 300;
/// Its comments and bugs: a busy update.
const BIG_UPDATE_COMMENTS: usize = 60;
const BIG_UPDATE_BUGS: usize = 12;

pub fn package_name(i: usize) -> String {
    format!("pkg{i:05}")
}

fn alias(i: usize) -> String {
    format!("FEDORA-2026-{i:010x}")
}

const TEXTS: &[&str] = &[
    "Works for me.",
    "Tested on **x86_64**: no regressions. Thanks @alice!",
    "Fixes rhbz#2400001 here.",
    "This update has been submitted for testing by bodhi. ",
    "Broke my `dnf upgrade`, see the log.",
];

pub fn seed(conn: &mut DbConnection, updates_wanted: usize) -> anyhow::Result<Seeded> {
    let mut rng = StdRng::seed_from_u64(44);
    let start: NaiveDateTime = chrono::NaiveDate::from_ymd_opt(2024, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .ok_or_else(|| anyhow::anyhow!("bad start date"))?;

    let mut f44 = releases::fedora_release("F44", "Fedora 44", "f44");
    f44.state = pipal::db::types::ReleaseState::Current;
    let release = releases::create(conn, &f44)?;

    write_transaction(conn, |conn| -> anyhow::Result<()> {
        let rows: Vec<_> = (0..USERS)
            .map(|i| {
                (
                    users::name.eq(format!("user{i:04}")),
                    users::email.eq(Some(format!("user{i:04}@example.org"))),
                    users::created_at.eq(start),
                )
            })
            .collect();
        for chunk in rows.chunks(CHUNK) {
            per_backend!(&mut *conn, |c| diesel::insert_into(users::table)
                .values(chunk)
                .execute(c))?;
        }
        let rows: Vec<_> = (0..PACKAGES)
            .map(|i| {
                (
                    packages::name.eq(package_name(i)),
                    packages::type_.eq(ContentType::Rpm),
                )
            })
            .collect();
        for chunk in rows.chunks(CHUNK) {
            per_backend!(&mut *conn, |c| diesel::insert_into(packages::table)
                .values(chunk)
                .execute(c))?;
        }
        Ok(())
    })?;
    let user_ids: Vec<i32> = users::table
        .filter(users::name.like("user%"))
        .order(users::id)
        .select(users::id)
        .load(conn)?;
    let package_ids: Vec<i32> = packages::table
        .order(packages::id)
        .select(packages::id)
        .load(conn)?;

    let mut seeded = Seeded {
        updates: updates_wanted,
        builds: 0,
        comments: 0,
        bug_links: 0,
        aliases: (0..updates_wanted).map(alias).collect(),
        packages: (0..PACKAGES).map(package_name).collect(),
        big_alias: alias(updates_wanted),
    };
    let statuses = [
        (UpdateStatus::Stable, None),
        (UpdateStatus::Testing, None),
        (UpdateStatus::Pending, Some(UpdateRequest::Testing)),
        (UpdateStatus::Obsolete, None),
    ];
    let mut next_bug = 1_000_000;
    for first in (0..updates_wanted).step_by(CHUNK) {
        let last = (first + CHUNK).min(updates_wanted);
        write_transaction(conn, |conn| -> anyhow::Result<()> {
            let new_updates: Vec<NewUpdate> = (first..last)
                .map(|i| {
                    let submitted = start + Duration::minutes(i as i64 * 5);
                    let mut new = NewUpdate::with_defaults(
                        alias(i),
                        release.id,
                        Some(user_ids[rng.gen_range(0..user_ids.len())]),
                        UpdateType::Bugfix,
                        format!("Update {i}: fixes and **improvements**."),
                        submitted,
                    );
                    let (status, request) = statuses[rng.gen_range(0..statuses.len())];
                    new.status = status;
                    new.request = request;
                    new.date_modified = Some(submitted);
                    new
                })
                .collect();
            per_backend!(&mut *conn, |c| diesel::insert_into(updates::table)
                .values(&new_updates)
                .execute(c))?;
            let ids: HashMap<String, i32> = updates::table
                .filter(updates::alias.eq_any((first..last).map(alias)))
                .select((updates::alias, updates::id))
                .load::<(String, i32)>(conn)?
                .into_iter()
                .collect();

            let mut nvrs = Vec::new();
            let mut build_rows = Vec::new();
            let mut comment_rows = Vec::new();
            let mut bug_numbers = Vec::new();
            for i in first..last {
                let update_id = ids[&alias(i)];
                for b in 0..rng.gen_range(1..=3) {
                    let package = rng.gen_range(0..PACKAGES);
                    nvrs.push((
                        format!("{}-{i}.{b}-1.fc44", package_name(package)),
                        package_ids[package],
                        update_id,
                    ));
                }
                for c in 0..rng.gen_range(0..=10) {
                    comment_rows.push((
                        rng.gen_range(-1..=1),
                        TEXTS[rng.gen_range(0..TEXTS.len())],
                        start + Duration::minutes(i as i64 * 5 + c),
                        update_id,
                        user_ids[rng.gen_range(0..user_ids.len())],
                    ));
                }
                for _ in 0..rng.gen_range(0..=3) {
                    next_bug += 1;
                    bug_numbers.push((next_bug, update_id));
                }
            }
            for (nvr, package_id, update_id) in &nvrs {
                build_rows.push(NewBuild {
                    nvr,
                    signed: true,
                    package_id: *package_id,
                    release_id: Some(release.id),
                    update_id: Some(*update_id),
                    content_type: ContentType::Rpm,
                    epoch: Some(0),
                });
            }
            for chunk in build_rows.chunks(CHUNK) {
                per_backend!(&mut *conn, |c| diesel::insert_into(builds::table)
                    .values(chunk)
                    .execute(c))?;
            }
            let comment_structs: Vec<NewComment> = comment_rows
                .iter()
                .map(|(karma, text, timestamp, update_id, user_id)| NewComment {
                    karma: *karma,
                    karma_critpath: 0,
                    text,
                    timestamp: *timestamp,
                    update_id: *update_id,
                    user_id: *user_id,
                })
                .collect();
            for chunk in comment_structs.chunks(CHUNK) {
                per_backend!(&mut *conn, |c| diesel::insert_into(comments::table)
                    .values(chunk)
                    .execute(c))?;
            }
            let bug_rows: Vec<_> = bug_numbers
                .iter()
                .map(|(number, _)| {
                    (
                        bugs::bug_id.eq(*number),
                        bugs::title.eq(Some(format!("Bug {number}"))),
                        bugs::security.eq(false),
                        bugs::parent.eq(false),
                    )
                })
                .collect();
            for chunk in bug_rows.chunks(CHUNK) {
                per_backend!(&mut *conn, |c| diesel::insert_into(bugs::table)
                    .values(chunk)
                    .execute(c))?;
            }
            let bug_ids: HashMap<i32, i32> = bugs::table
                .filter(bugs::bug_id.eq_any(bug_numbers.iter().map(|(n, _)| *n)))
                .select((bugs::bug_id, bugs::id))
                .load::<(i32, i32)>(conn)?
                .into_iter()
                .collect();
            let links: Vec<_> = bug_numbers
                .iter()
                .map(|(number, update_id)| {
                    (
                        update_bugs::update_id.eq(*update_id),
                        update_bugs::bug_id.eq(bug_ids[number]),
                    )
                })
                .collect();
            for chunk in links.chunks(CHUNK) {
                per_backend!(&mut *conn, |c| diesel::insert_into(update_bugs::table)
                    .values(chunk)
                    .execute(c))?;
            }
            seeded.builds += build_rows.len();
            seeded.comments += comment_structs.len();
            seeded.bug_links += links.len();
            Ok(())
        })?;
    }
    seed_big_update(
        conn,
        &mut seeded,
        release.id,
        &user_ids,
        &package_ids,
        start,
        &mut rng,
    )?;
    Ok(seeded)
}

/// The big update: many builds, many comments with karma, bugs with feedback.
fn seed_big_update(
    conn: &mut DbConnection,
    seeded: &mut Seeded,
    release_id: i32,
    user_ids: &[i32],
    package_ids: &[i32],
    start: NaiveDateTime,
    rng: &mut StdRng,
) -> anyhow::Result<()> {
    let alias = seeded.big_alias.clone();
    write_transaction(conn, |conn| -> anyhow::Result<()> {
        let submitted = start + Duration::minutes(seeded.updates as i64 * 5);
        let mut new = NewUpdate::with_defaults(
            alias.clone(),
            release_id,
            Some(user_ids[0]),
            UpdateType::Enhancement,
            "Rebuild of the whole stack for the new **ABI**.".to_owned(),
            submitted,
        );
        new.status = UpdateStatus::Testing;
        new.date_modified = Some(submitted);
        per_backend!(&mut *conn, |c| diesel::insert_into(updates::table)
            .values(&new)
            .execute(c))?;
        let update_id: i32 = updates::table
            .filter(updates::alias.eq(&alias))
            .select(updates::id)
            .first(conn)?;
        let nvrs: Vec<String> = (0..BIG_UPDATE_BUILDS)
            .map(|b| format!("{}-big.{b}-1.fc44", package_name(b)))
            .collect();
        let builds: Vec<NewBuild> = nvrs
            .iter()
            .enumerate()
            .map(|(b, nvr)| NewBuild {
                nvr,
                signed: true,
                package_id: package_ids[b],
                release_id: Some(release_id),
                update_id: Some(update_id),
                content_type: ContentType::Rpm,
                epoch: Some(0),
            })
            .collect();
        for chunk in builds.chunks(CHUNK) {
            per_backend!(&mut *conn, |c| diesel::insert_into(builds::table)
                .values(chunk)
                .execute(c))?;
        }
        let comments: Vec<NewComment> = (0..BIG_UPDATE_COMMENTS)
            .map(|c| NewComment {
                karma: rng.gen_range(-1..=1),
                karma_critpath: 0,
                text: TEXTS[c % TEXTS.len()],
                timestamp: submitted + Duration::minutes(c as i64),
                update_id,
                user_id: user_ids[rng.gen_range(0..user_ids.len())],
            })
            .collect();
        per_backend!(&mut *conn, |c| diesel::insert_into(comments::table)
            .values(&comments)
            .execute(c))?;
        let numbers: Vec<i32> = (0..BIG_UPDATE_BUGS as i32).map(|n| 3_000_000 + n).collect();
        let bug_rows: Vec<_> = numbers
            .iter()
            .map(|n| {
                (
                    bugs::bug_id.eq(*n),
                    bugs::title.eq(Some(format!("Stack bug {n}"))),
                    bugs::security.eq(false),
                    bugs::parent.eq(false),
                )
            })
            .collect();
        per_backend!(&mut *conn, |c| diesel::insert_into(bugs::table)
            .values(&bug_rows)
            .execute(c))?;
        let bug_ids: Vec<i32> = bugs::table
            .filter(bugs::bug_id.eq_any(&numbers))
            .select(bugs::id)
            .load(conn)?;
        let links: Vec<_> = bug_ids
            .iter()
            .map(|id| {
                (
                    update_bugs::update_id.eq(update_id),
                    update_bugs::bug_id.eq(*id),
                )
            })
            .collect();
        per_backend!(&mut *conn, |c| diesel::insert_into(update_bugs::table)
            .values(&links)
            .execute(c))?;
        seeded.builds += builds.len();
        seeded.comments += comments.len();
        seeded.bug_links += links.len();
        Ok(())
    })
}
