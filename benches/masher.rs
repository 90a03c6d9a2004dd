//! The masher benchmark (issue 5): a testing push of N updates (one build each), from
//! `pipal push`'s plan to the finished compose, timed per phase, on the local build system or
//! through fake-koji over HTTP with a latency per Koji call.
//!
//!     cargo bench --bench masher -- [--updates 1000] [--notices]
//!     cargo bench --bench masher -- --koji [--latency-ms 2] [--updates 1000]
//!     PIPAL_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench masher
//!
//! With a PostgreSQL URL (a user that may create databases) a scratch database
//! `pipal_masher_bench_<pid>` is made and dropped; SQLite otherwise. With `--koji` the
//! figures include the Koji calls the push made (multicall entries counted one by one).

use std::time::Instant;

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use pipal::buildsys::koji::KojiCall;
use pipal::buildsys::{BuildSystem, LocalBuildSystem};
use pipal::config::BuildsysKind;
use pipal::config::Settings;
use pipal::db::Db;
use pipal::db::types::{ReleaseState, UpdateRequest, UpdateType};
use pipal::fakekoji::{HubConfig, RunningHub};
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
    let mut koji = false;
    let mut latency_ms = 2u64;
    let mut notices = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--updates" => wanted = args.next().context("--updates needs a value")?.parse()?,
            "--latency-ms" => {
                latency_ms = args.next().context("--latency-ms needs a value")?.parse()?
            }
            "--koji" => koji = true,
            "--notices" => notices = true,
            _ => {}
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
    settings.masher.compose_dir = dir.path().join("composes");
    settings.masher.stage_dir = dir.path().join("repos");
    settings.masher.cache_dir = dir.path().join("cache");
    if notices {
        // The updates-testing digest, with a notice of every build.
        settings
            .mail
            .test_announce_lists
            .insert("fedora".into(), "test@example.org".into());
    }
    let hub = if koji {
        let hub = RunningHub::start(HubConfig::default())?;
        settings.buildsys.kind = BuildsysKind::Koji;
        settings.buildsys.koji.url = hub.url();
        settings.buildsys.koji.task_poll_ms = 10;
        Some(hub)
    } else {
        None
    };
    let result = run(settings, wanted, hub.as_ref(), latency_ms);
    if let Some(admin) = &admin
        && let Ok(mut conn) = PgConnection::establish(admin)
    {
        let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {scratch} WITH (FORCE)"));
    }
    result
}

/// Where the builds live: Pipal's local build system, or fake-koji over HTTP.
enum Builds<'a> {
    Local(LocalBuildSystem),
    Koji(&'a RunningHub, Box<pipal::buildsys::koji::KojiBuildSystem>),
}

impl Builds<'_> {
    fn create_tag(&self, tag: &str, parent: Option<&str>) -> anyhow::Result<()> {
        match self {
            Builds::Local(local) => {
                let parents: Vec<String> = parent.map(str::to_owned).into_iter().collect();
                local.create_tag(tag, &parents, Some("x86_64"), &serde_json::json!({}))?;
            }
            Builds::Koji(_, koji) => {
                let mut args = vec![serde_json::json!(tag)];
                if let Some(parent) = parent {
                    args.push(serde_json::json!(parent));
                }
                koji.client().call(&KojiCall::new("createTag", args))?;
            }
        }
        Ok(())
    }

    fn candidate(
        &self,
        conn: &mut pipal::db::DbConnection,
        name: &str,
        nvr: &str,
    ) -> anyhow::Result<()> {
        match self {
            Builds::Local(local) => {
                let time = now();
                let event = Event::create(conn, time)?;
                BuildsysBuild::create(
                    conn,
                    &NewBuildsysBuild {
                        package_name: name,
                        version: "1.0",
                        release: "1.fc44",
                        epoch: None,
                        nvr,
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
                local.tag_build("f44-updates-candidate", nvr, "bench")?;
            }
            Builds::Koji(_, koji) => {
                let call = |method: &str, args: Vec<serde_json::Value>| {
                    koji.client().call(&KojiCall::new(method, args))
                };
                call(
                    "packageListAdd",
                    vec![serde_json::json!("f44"), serde_json::json!(name)],
                )?;
                call(
                    "createEmptyBuild",
                    vec![
                        serde_json::json!(name),
                        serde_json::json!("1.0"),
                        serde_json::json!("1.fc44"),
                        serde_json::Value::Null,
                    ],
                )?;
                call(
                    "tagBuildBypass",
                    vec![
                        serde_json::json!("f44-updates-candidate"),
                        serde_json::json!(nvr),
                    ],
                )?;
            }
        }
        Ok(())
    }
}

fn run(
    settings: Settings,
    wanted: usize,
    hub: Option<&RunningHub>,
    latency_ms: u64,
) -> anyhow::Result<()> {
    let label = match (settings.database.url.starts_with("sqlite"), hub) {
        (true, None) => "SQLite, local build system".to_owned(),
        (false, None) => "PostgreSQL, local build system".to_owned(),
        (true, Some(_)) => format!("SQLite, fake-koji with {latency_ms} ms per call"),
        (false, Some(_)) => format!("PostgreSQL, fake-koji with {latency_ms} ms per call"),
    };
    let db = Db::connect(&settings.database)?;
    db.migrate()?;
    let builds = match hub {
        None => Builds::Local(LocalBuildSystem::new(
            db.clone(),
            settings.buildsys.local.root.clone(),
        )),
        Some(hub) => Builds::Koji(
            hub,
            Box::new(pipal::buildsys::koji::KojiBuildSystem::from_settings(
                &settings.buildsys.koji,
            )?),
        ),
    };
    let mut release = releases::fedora_release("F44", "Fedora 44", "f44");
    release.state = ReleaseState::Current;
    for tag in releases::tags_of(&release) {
        builds.create_tag(&tag, releases::fedora_tag_parent(&release, &tag))?;
    }
    let mut conn = db.conn()?;
    let release = releases::create(&mut conn, &release)?;
    let started = Instant::now();
    for i in 0..wanted {
        let name = format!("pkg{i:05}");
        let nvr = format!("{name}-1.0-1.fc44");
        let time = now();
        builds.candidate(&mut conn, &name, &nvr)?;
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
    let calls_before = match &builds {
        Builds::Koji(hub, _) => {
            hub.hub
                .set_call_latency(std::time::Duration::from_millis(latency_ms));
            hub.hub.call_log().len()
        }
        Builds::Local(_) => 0,
    };

    let started = Instant::now();
    let mut conn = db.conn()?;
    let plan = push::plan(&mut conn, state.buildsys.as_ref(), &PushOptions::default())?;
    let planned = started.elapsed();
    let started = Instant::now();
    let composes = pipal::db::write_transaction(&mut conn, |conn| push::start(conn, &plan, now()))?;
    let locked = started.elapsed();
    anyhow::ensure!(composes.len() == 1, "expected one compose");

    let started = Instant::now();
    let finished = Masher::new(state.clone()).run_one()?;
    let ran = started.elapsed();
    anyhow::ensure!(
        matches!(finished, Some(Finished::Success { .. })),
        "the compose did not succeed: {finished:?}"
    );
    let tested = state
        .buildsys
        .list_tagged("f44-updates-testing", &Default::default())?;
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
    if let Builds::Koji(hub, _) = &builds {
        let log = hub.hub.call_log();
        let mut by_method = std::collections::BTreeMap::<String, usize>::new();
        for entry in &log[calls_before..] {
            let method = entry["method"].as_str().unwrap_or_default().to_owned();
            *by_method.entry(method).or_default() += 1;
        }
        let requests = log[calls_before..]
            .iter()
            .filter(|e| e["multicall"].is_null())
            .count();
        let multicalls = by_method.get("multiCall").copied().unwrap_or(0);
        let calls: usize = by_method
            .iter()
            .filter(|(m, _)| *m != "multiCall")
            .map(|(_, n)| n)
            .sum();
        println!(
            "Koji: {calls} calls in {requests} HTTP requests ({multicalls} multicalls): {by_method:?}"
        );
    }
    Ok(())
}
