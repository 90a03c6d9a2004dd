//! The on-demand compose benchmark (issue 8): a tag of N builds (one source and one binary RPM
//! each, real files), composed from the request to `done`: the first compose, the same one
//! reused, a second fresh one (headers cached), and the cleanup of expired composes.
//!
//!     cargo bench --bench odcs -- [--builds 300]
//!
//! SQLite in a scratch directory; the figures are wall-clock milliseconds of one run each.

use std::time::Instant;

use anyhow::Context;
use pipal::buildsys::{BuildSystem, LocalBuildSystem};
use pipal::config::Settings;
use pipal::db::{Db, write_transaction};
use pipal::demo::rpms::{BinaryPackage, DemoBuild, Payload, SourcePackage, write_build};
use pipal::models::now;
use pipal::models::odcs::{DONE, OdcsCompose};
use pipal::odcs::request::ComposeRequest;
use pipal::odcs::{generate, lifecycle};
use pipal::state::AppState;
use serde_json::json;

const TAG: &str = "bench-odcs";

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

fn demo_build(i: usize) -> DemoBuild {
    let name = leak(format!("bench{i:05}"));
    let binaries: &'static [BinaryPackage] = Box::leak(Box::new([BinaryPackage {
        name,
        arch: "x86_64",
        summary: "A benchmark package",
        payload: Payload::Command,
    }]));
    let source: &'static SourcePackage = Box::leak(Box::new(SourcePackage {
        name,
        summary: "A benchmark package",
        license: "MIT",
        url: "https://example.org/",
        binaries,
    }));
    DemoBuild {
        source,
        version: "1.0",
        release: "1.fc44",
        changelog: &[],
    }
}

/// Creates one compose of the tag (with `flags`) and generates it; the milliseconds taken.
fn compose(state: &AppState, flags: &[&str]) -> anyhow::Result<(f64, OdcsCompose)> {
    let body = json!({"source": {"type": "tag", "source": TAG}, "flags": flags});
    let request = ComposeRequest::parse(&body, &state.settings.odcs, &[])
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let started = Instant::now();
    let mut conn = state.db.conn()?;
    let created = write_transaction(&mut conn, |conn| {
        lifecycle::create(conn, &state.settings, &request, "bench", now())
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    generate::generate(state, created.id)?;
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    let done = OdcsCompose::by_id(&mut conn, created.id)?.context("the compose")?;
    anyhow::ensure!(done.state == DONE, "not done: {:?}", done.state_reason);
    Ok((elapsed, done))
}

fn main() -> anyhow::Result<()> {
    let mut builds = 300usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--builds" {
            builds = args.next().context("--builds needs a value")?.parse()?;
        }
    }
    let dir = tempfile::tempdir()?;
    let mut settings = Settings::default();
    settings.database.url = format!("sqlite://{}", dir.path().join("pipal.db").display());
    settings.buildsys.local.root = dir.path().join("koji");
    settings.masher.cache_dir = dir.path().join("cache");
    settings.odcs.target_dir = dir.path().join("odcs");
    let db = Db::connect(&settings.database)?;
    db.migrate()?;
    let local = LocalBuildSystem::new(db.clone(), settings.buildsys.local.root.clone());
    local.create_tag(TAG, &[], Some("x86_64"), &json!({}))?;
    let started = Instant::now();
    for i in 0..builds {
        let build = demo_build(i);
        write_build(&settings.buildsys.local.root, &build)?;
        let release_dir = pipal::demo::rpms::build_dir(&settings.buildsys.local.root, &build);
        pipal::buildsys::import::import_build(&local, &release_dir, "bench")?;
        local.tag_build(TAG, &build.nvr(), "bench")?;
    }
    eprintln!(
        "{builds} builds written and tagged in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let state = AppState::new(db, settings)?;

    let (first, _) = compose(&state, &[])?;
    let (reused, reuse) = compose(&state, &[])?;
    anyhow::ensure!(
        reuse.reused_id.is_some(),
        "the second compose was not a reuse"
    );
    let (cached, _) = compose(&state, &["no_reuse"])?;
    let mut conn = state.db.conn()?;
    for id in 1..=3 {
        let mut row = OdcsCompose::by_id(&mut conn, id)?.context("a compose")?;
        row.time_to_expire = now() - chrono::Duration::seconds(1);
        row.save(&mut conn)?;
    }
    let started = Instant::now();
    let removed = generate::cleanup(&state)?;
    let cleanup = started.elapsed().as_secs_f64() * 1000.0;

    println!("| on-demand compose of a tag of {builds} builds (SQLite) | ms |");
    println!("|---|---|");
    println!("| first compose, request to done (headers parsed) | {first:.0} |");
    println!("| identical request, reused | {reused:.1} |");
    println!("| no_reuse, request to done (headers cached) | {cached:.0} |");
    println!("| cleanup of {removed} expired composes (rows and directories) | {cleanup:.0} |");
    Ok(())
}
