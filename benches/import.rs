//! The Bodhi import benchmark (issue 9): the 26.4.0 fixture grown to N updates, each with a
//! build, a bug and five comments (the fixture has 4.6 per update), imported into a fresh
//! Pipal database, then imported again (nothing changed).
//!
//!     cargo bench --bench import -- [--updates 100000] [--target postgres|sqlite] [--batch 1000]
//!
//! Needs PostgreSQL for Bodhi's side (PIPAL_BENCH_PG_URL, default
//! postgres://postgres@127.0.0.1:5432/postgres), psql to restore the fixture, and the fixture
//! (PIPAL_SHARED_DIR, default ../shared). Prints wall-clock seconds of one run each and the
//! process's peak resident memory after each run.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use pipal::config::Settings;
use pipal::db::Db;
use pipal::import::bodhi::{ImportOptions, import};

const SOURCE_DB: &str = "pipal_bench_bodhi";
const TARGET_DB: &str = "pipal_bench_import";

fn with_database(url: &str, database: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    match url[scheme_end..].find('/') {
        Some(i) => format!("{}/{database}", &url[..scheme_end + i]),
        None => format!("{url}/{database}"),
    }
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn restore_fixture(admin: &mut PgConnection, admin_url: &str) -> anyhow::Result<String> {
    let shared = std::env::var("PIPAL_SHARED_DIR").map_or_else(
        |_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"),
        PathBuf::from,
    );
    let path = shared.join("fixtures/bodhi-26.4.0-300.sql.gz");
    let mut sql = String::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(&path).with_context(|| path.display().to_string())?,
    )
    .read_to_string(&mut sql)?;
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {SOURCE_DB} WITH (FORCE)"))?;
    admin.batch_execute(&format!("CREATE DATABASE {SOURCE_DB}"))?;
    let url = with_database(admin_url, SOURCE_DB);
    let mut psql = Command::new("psql")
        .args(["-q", "-v", "ON_ERROR_STOP=1", "-d", &url])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .context("psql")?;
    psql.stdin
        .take()
        .context("stdin")?
        .write_all(sql.as_bytes())?;
    if !psql.wait()?.success() {
        bail!("psql could not restore the fixture");
    }
    Ok(url)
}

/// Grows the fixture to `n` more updates, with SQL so that generating takes seconds.
fn grow(url: &str, n: u32) -> anyhow::Result<()> {
    let mut conn = PgConnection::establish(url)?;
    conn.batch_execute(&format!(
        "INSERT INTO updates (id, alias, autokarma, autotime, stable_karma, stable_days,
             unstable_karma, require_bugs, require_testcases, display_name, notes, type, status,
             request, severity, suggest, locked, pushed, critpath, critpath_groups, close_bugs,
             date_submitted, date_modified, date_approved, date_testing, date_stable,
             release_id, user_id, test_gating_status, from_tag)
         SELECT 1000 + g, 'FEDORA-BENCH-' || g, true, true, 3, 7, -3, false, false, '',
                'Synthetic update number ' || g || E'.\\n\\nFixes a crash.', 'bugfix', 'stable',
                NULL, 'unspecified', 'unspecified', false, true, false, NULL, true,
                timestamp '2020-01-01' + g * interval '1 minute', NULL, NULL,
                timestamp '2020-01-02' + g * interval '1 minute',
                timestamp '2020-01-09' + g * interval '1 minute',
                1 + g % 5, 2 + g % 299, 'ignored', NULL
           FROM generate_series(1, {n}) g;
         INSERT INTO builds (id, nvr, signed, package_id, release_id, update_id, type, epoch)
         SELECT 1000 + g, 'bench-package-' || g || '-1.0-1.fc42', true,
                (SELECT min(id) FROM packages WHERE type = 'rpm'), 1 + g % 5, 1000 + g, 'rpm', 0
           FROM generate_series(1, {n}) g;
         INSERT INTO bugs (id, bug_id, title, security, parent)
         SELECT 1000 + g, 3000000 + g, 'Crash in synthetic update ' || g, false, false
           FROM generate_series(1, {n}) g;
         INSERT INTO update_bug_table (update_id, bug_id)
         SELECT 1000 + g, 1000 + g FROM generate_series(1, {n}) g;
         INSERT INTO comments (id, karma, karma_critpath, text, timestamp, update_id, user_id)
         SELECT 10000 + g * 5 + k, CASE WHEN k = 3 THEN 1 ELSE 0 END, 0,
                CASE WHEN k = 0 THEN 'This update has been submitted for testing by someone. '
                     ELSE 'Comment ' || k || ' on update ' || g END,
                timestamp '2020-01-01' + g * interval '1 minute' + k * interval '1 hour',
                1000 + g, CASE WHEN k = 0 THEN 1 ELSE 2 + (g + k) % 299 END
           FROM generate_series(1, {n}) g, generate_series(0, 4) k;
         ANALYZE;"
    ))?;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let mut updates = 100_000u32;
    let mut target = "postgres".to_owned();
    let mut batch = 1000u32;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--updates" => updates = args.next().context("--updates N")?.parse()?,
            "--target" => target = args.next().context("--target postgres|sqlite")?,
            "--batch" => batch = args.next().context("--batch N")?.parse()?,
            _ => {}
        }
    }
    let admin_url = std::env::var("PIPAL_BENCH_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut admin = PgConnection::establish(&admin_url)?;

    let started = Instant::now();
    let source = restore_fixture(&mut admin, &admin_url)?;
    grow(&source, updates)?;
    println!(
        "generated a Bodhi database of {} updates, {} comments in {:.1} s",
        updates + 300,
        u64::from(updates) * 5 + 1386,
        started.elapsed().as_secs_f64()
    );

    let dir = tempfile::tempdir()?;
    let mut settings = Settings::default();
    settings.database.url = if target == "sqlite" {
        format!("sqlite://{}", dir.path().join("pipal.db").display())
    } else {
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {TARGET_DB} WITH (FORCE)"))?;
        admin.batch_execute(&format!("CREATE DATABASE {TARGET_DB}"))?;
        with_database(&admin_url, TARGET_DB)
    };
    let db = Db::connect(&settings.database)?;
    db.migrate()?;
    let options = ImportOptions {
        from: source.clone(),
        batch,
        dry_run: false,
        system_user: "bodhi".into(),
        progress: false,
    };
    for run in ["first import", "second import (no changes)"] {
        let mut conn = db.conn()?;
        let started = Instant::now();
        let summary = import(&mut conn, &options)?;
        let seconds = started.elapsed().as_secs_f64();
        let read: u64 = summary.tables.iter().map(|t| t.read).sum();
        println!(
            "{run} into {target}: {seconds:.1} s, {read} rows read ({:.0} rows/s), {} written, {} skipped, peak RSS {:.0} MiB",
            read as f64 / seconds,
            summary.written(),
            summary.skips.len(),
            peak_rss_mib()
        );
    }
    drop(db);
    if target != "sqlite" {
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {TARGET_DB} WITH (FORCE)"))?;
    }
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {SOURCE_DB} WITH (FORCE)"))?;
    Ok(())
}
