//! The masher benchmark (issue 5): a testing push of N updates (one build each) on the local
//! build system, from `pipal push`'s plan to the finished compose, timed per phase.
//!
//!     cargo bench --bench masher -- [--updates 1000]
//!     PIPAL_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench masher
//!
//! With a PostgreSQL URL (a user that may create databases) a scratch database
//! `pipal_masher_bench_<pid>` is made and dropped; SQLite otherwise.

use std::time::Instant;

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use pipal::buildsys::{BuildSystem, LocalBuildSystem};
use pipal::config::Settings;
use pipal::db::Db;
use pipal::db::types::{ReleaseState, UpdateRequest, UpdateType};
use pipal::masher::{Finished, Masher};
use pipal::models::build::{Build, NewBuild};
use pipal::models::buildsys::{BuildsysBuild, Event, NewBuildsysBuild};
use pipal::models::now;
use pipal::models::package::Package;
use pipal::models::update::{NewUpdate, Update};
use pipal::services::push::{self, PushOptions};
use pipal::services::releases;
use pipal::state::AppState;

fn main() -> anyhow::Result<()> {
    let mut wanted = 1000usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--updates" {
            wanted = args.next().context("--updates needs a value")?.parse()?;
        }
    }
    let dir = tempfile::tempdir()?;
    let admin = std::env::var("PIPAL_BENCH_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty());
    let scratch = format!("pipal_masher_bench_{}", std::process::id());
    let mut settings = Settings::default();
    settings.database.url = match &admin {
        Some(admin) => {
            let mut conn = PgConnection::establish(admin).context("connect to PostgreSQL")?;
            conn.batch_execute(&format!("CREATE DATABASE {scratch}"))?;
            let (base, _) = admin.rsplit_once('/').context("a database URL")?;
            format!("{base}/{scratch}")
        }
        None => format!("sqlite://{}", dir.path().join("bench.db").display()),
    };
    settings.buildsys.local.root = dir.path().join("koji");
    let result = run(settings, wanted);
    if let Some(admin) = &admin
        && let Ok(mut conn) = PgConnection::establish(admin)
    {
        let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {scratch} WITH (FORCE)"));
    }
    result
}

fn run(settings: Settings, wanted: usize) -> anyhow::Result<()> {
    let label = if settings.database.url.starts_with("sqlite") {
        "SQLite"
    } else {
        "PostgreSQL"
    };
    let db = Db::connect(&settings.database)?;
    db.migrate()?;
    let local = LocalBuildSystem::new(db.clone(), settings.buildsys.local.root.clone());
    let mut release = releases::fedora_release("F44", "Fedora 44", "f44");
    release.state = ReleaseState::Current;
    for tag in releases::tags_of(&release) {
        let parents: Vec<String> = releases::fedora_tag_parent(&release, &tag)
            .map(str::to_owned)
            .into_iter()
            .collect();
        local.create_tag(&tag, &parents, Some("x86_64"), &serde_json::json!({}))?;
    }
    let mut conn = db.conn()?;
    let release = releases::create(&mut conn, &release)?;
    let started = Instant::now();
    for i in 0..wanted {
        let name = format!("pkg{i:05}");
        let nvr = format!("{name}-1.0-1.fc44");
        let time = now();
        let event = Event::create(&mut conn, time)?;
        BuildsysBuild::create(
            &mut conn,
            &NewBuildsysBuild {
                package_name: &name,
                version: "1.0",
                release: "1.fc44",
                epoch: None,
                nvr: &nvr,
                owner_name: "packager",
                state: 1,
                task_id: None,
                creation_event: event.id,
                creation_time: time,
                completion_time: Some(time),
                source: None,
                extra: "{}",
            },
        )?;
        local.tag_build("f44-updates-candidate", &nvr, "bench")?;
        let (package, _) = Package::ensure(&mut conn, &name, pipal::db::types::ContentType::Rpm)?;
        let mut new = NewUpdate::with_defaults(
            format!("FEDORA-2026-{i:010x}"),
            release.id,
            None,
            UpdateType::Bugfix,
            "Benchmark.".into(),
            time,
        );
        new.request = Some(UpdateRequest::Testing);
        let update = Update::create(&mut conn, &new)?;
        Build::create(
            &mut conn,
            &NewBuild {
                nvr: &nvr,
                signed: true,
                package_id: package.id,
                release_id: Some(release.id),
                update_id: Some(update.id),
                content_type: pipal::db::types::ContentType::Rpm,
                epoch: None,
            },
        )?;
    }
    let seeded = started.elapsed();
    drop(conn);
    let state = AppState::new(db.clone(), settings)?;

    let started = Instant::now();
    let mut conn = db.conn()?;
    let plan = push::plan(&mut conn, state.buildsys.as_ref(), &PushOptions::default())?;
    let planned = started.elapsed();
    let started = Instant::now();
    let composes = pipal::db::write_transaction(&mut conn, |conn| push::start(conn, &plan, now()))?;
    let locked = started.elapsed();
    anyhow::ensure!(composes.len() == 1, "expected one compose");

    let started = Instant::now();
    let finished = Masher::new(state).run_one()?;
    let ran = started.elapsed();
    anyhow::ensure!(
        matches!(finished, Some(Finished::Success { .. })),
        "the compose did not succeed: {finished:?}"
    );
    let tested = local.list_tagged("f44-updates-testing", &Default::default())?;
    anyhow::ensure!(tested.len() == wanted, "{} builds in testing", tested.len());

    println!(
        "{label}: a testing push of {wanted} updates (seeded in {:.1} s)",
        seeded.as_secs_f64()
    );
    println!("| phase | time | per update |");
    println!("|---|---:|---:|");
    for (phase, took) in [
        ("plan (select, check signatures)", planned),
        ("start (compose row, lock)", locked),
        (
            "run the compose (tag moves, statuses, comments, unlock, obsoleting)",
            ran,
        ),
    ] {
        println!(
            "| {phase} | {:.2} s | {:.2} ms |",
            took.as_secs_f64(),
            took.as_secs_f64() * 1000.0 / wanted as f64
        );
    }
    Ok(())
}
