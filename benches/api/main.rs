//! The JSON API benchmark (issue 3): seeds a database with many updates, serves it in-process
//! and measures latency and throughput of Bodhi's busiest calls with concurrent connections.
//!
//!     cargo bench --bench api -- [--updates 100000] [--connections 8] [--seconds 10] [--only TEXT]
//!     PIPAL_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench api
//!
//! SQLite by default (a scratch file); with `PIPAL_BENCH_DATABASE_URL` (a PostgreSQL URL whose
//! user may create databases) a scratch database `pipal_bench_<pid>` is made and dropped. The
//! report is a Markdown table for docs/performance.md. `PIPAL_BENCH_KEEP=1` keeps the
//! PostgreSQL database for inspection.

mod load;
mod seed;

use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use pipal::config::Settings;
use pipal::db::Db;
use pipal::models::now;
use pipal::services::accounts;

/// A named request generator and how many connections drive it.
type Scenario<'a> = (
    &'a str,
    usize,
    Box<dyn Fn(&mut rand::rngs::StdRng) -> Request + Sync + 'a>,
);
use pipal::state::AppState;
use rand::Rng;

use load::Request;

struct Options {
    updates: usize,
    connections: usize,
    seconds: u64,
    /// Only the scenarios whose label contains this.
    only: Option<String>,
}

fn options() -> anyhow::Result<Options> {
    let mut options = Options {
        updates: 100_000,
        connections: 8,
        seconds: 10,
        only: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| -> anyhow::Result<u64> {
            args.next()
                .with_context(|| format!("{name} needs a value"))?
                .parse()
                .with_context(|| format!("{name} needs a number"))
        };
        match arg.as_str() {
            "--updates" => options.updates = value("--updates")? as usize,
            "--connections" => options.connections = value("--connections")?.max(1) as usize,
            "--seconds" => options.seconds = value("--seconds")?.max(1),
            "--only" => options.only = Some(args.next().context("--only needs a value")?),
            // `cargo bench` passes --bench; filters are not used.
            _ => {}
        }
    }
    Ok(options)
}

/// A scratch database: a SQLite file, or a PostgreSQL database dropped at the end.
struct Scratch {
    url: String,
    label: &'static str,
    _dir: tempfile::TempDir,
    drop_with: Option<(String, String)>,
}

impl Scratch {
    fn new() -> anyhow::Result<Scratch> {
        let dir = tempfile::tempdir()?;
        match std::env::var("PIPAL_BENCH_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            Some(admin) => {
                let name = format!("pipal_bench_{}", std::process::id());
                let mut conn = PgConnection::establish(&admin).context("connect to PostgreSQL")?;
                conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
                conn.batch_execute(&format!("CREATE DATABASE {name}"))?;
                Ok(Scratch {
                    url: replace_database(&admin, &name),
                    label: "PostgreSQL",
                    _dir: dir,
                    drop_with: Some((admin, name)),
                })
            }
            None => Ok(Scratch {
                url: format!("sqlite://{}", dir.path().join("bench.db").display()),
                label: "SQLite",
                _dir: dir,
                drop_with: None,
            }),
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::env::var_os("PIPAL_BENCH_KEEP").is_some() {
            eprintln!("kept the database: {}", self.url);
            return;
        }
        if let Some((admin, name)) = &self.drop_with
            && let Ok(mut conn) = PgConnection::establish(admin)
        {
            let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

fn replace_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host}/{database}?{q}"),
        None => format!("{host}/{database}"),
    }
}

/// Serves the application on a free port in a thread of its own.
fn start_server(state: AppState) -> anyhow::Result<(SocketAddr, usize)> {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let result = actix_web::rt::System::new().block_on(async move {
            let server = actix_web::HttpServer::new(move || pipal::web::app(state.clone()))
                .workers(workers)
                .disable_signals()
                .bind("127.0.0.1:0")?;
            let _ = tx.send(server.addrs()[0]);
            server.run().await
        });
        if let Err(error) = result {
            eprintln!("the server stopped: {error}");
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(30))
        .context("the server did not start")?;
    Ok((addr, workers))
}

fn main() -> anyhow::Result<()> {
    let options = options()?;
    let scratch = Scratch::new()?;
    let mut settings = Settings::default();
    settings.database.url = scratch.url.clone();
    let db = Db::connect(&settings.database)?;
    db.migrate()?;

    let seeding = Instant::now();
    let seeded = seed::seed(&mut *db.conn()?, options.updates)?;
    let seed_time = seeding.elapsed();
    // Statistics, as autovacuum (PostgreSQL) or Pipal's housekeeping (SQLite) keep them on a
    // live database: without them the planners guess, badly, after a bulk load.
    let statistics = match db.backend() {
        pipal::db::BackendKind::Postgres => "VACUUM ANALYZE",
        pipal::db::BackendKind::Sqlite => "ANALYZE",
    };
    db.conn()?.batch_execute(statistics)?;
    let tokens: Vec<String> = {
        let mut conn = db.conn()?;
        (0..options.connections)
            .map(|i| {
                accounts::issue_token(&mut conn, &format!("user{i:04}"), "bench", None, now())
                    .map_err(|e| anyhow::anyhow!("{e}"))
            })
            .collect::<anyhow::Result<_>>()?
    };
    let state = AppState::new(db, settings)?;
    let (addr, workers) = start_server(state)?;

    println!(
        "Pipal API benchmark on {}: {} updates, {} builds, {} comments, {} bug links \
         (seeded in {:.1} s); {} connections, {} s per scenario, {} server workers, {} CPUs\n",
        scratch.label,
        seeded.updates,
        seeded.builds,
        seeded.comments,
        seeded.bug_links,
        seed_time.as_secs_f64(),
        options.connections,
        options.seconds,
        workers,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    println!("| request | requests | req/s | p50 ms | p99 ms | KB/response |");
    println!("|---|---:|---:|---:|---:|---:|");
    let duration = Duration::from_secs(options.seconds);
    let aliases = &seeded.aliases;
    let packages = &seeded.packages;
    let big = &seeded.big_alias;
    let scenarios: Vec<Scenario<'_>> = vec![
        (
            "GET /updates/ (default page)",
            options.connections,
            Box::new(|_| Request::get("/updates/".into())),
        ),
        (
            "GET /updates/?rows_per_page=100",
            options.connections,
            Box::new(|_| Request::get("/updates/?rows_per_page=100".into())),
        ),
        (
            "GET /updates/?packages=NAME",
            options.connections,
            Box::new(|rng| {
                let name = &packages[rng.gen_range(0..packages.len())];
                Request::get(format!("/updates/?packages={name}"))
            }),
        ),
        (
            "GET /updates/ALIAS",
            options.connections,
            Box::new(|rng| {
                let alias = &aliases[rng.gen_range(0..aliases.len())];
                Request::get(format!("/updates/{alias}"))
            }),
        ),
        (
            "POST /comments/",
            options.connections,
            Box::new(|rng| {
                let alias = &aliases[rng.gen_range(0..aliases.len())];
                Request {
                    method: "POST",
                    path: "/comments/".into(),
                    token: Some(tokens[rng.gen_range(0..tokens.len())].clone()),
                    body: Some(format!(
                        r#"{{"update": "{alias}", "text": "Benchmark comment."}}"#
                    )),
                    html: false,
                }
            }),
        ),
        (
            "GET /updates/BIG (300 builds)",
            options.connections,
            Box::new(|_| Request::get(format!("/updates/{big}"))),
        ),
        (
            "page /updates/ (default page)",
            options.connections,
            Box::new(|_| Request::page("/updates/".into())),
        ),
        (
            "page /updates/?releases=__current__&status=testing",
            options.connections,
            Box::new(|_| Request::page("/updates/?releases=__current__&status=testing".into())),
        ),
        (
            "page /updates/ALIAS",
            options.connections,
            Box::new(|rng| {
                let alias = &aliases[rng.gen_range(0..aliases.len())];
                Request::page(format!("/updates/{alias}"))
            }),
        ),
        (
            "page /updates/BIG (300 builds)",
            options.connections,
            Box::new(|_| Request::page(format!("/updates/{big}"))),
        ),
        (
            "page / (dashboard)",
            options.connections,
            Box::new(|_| Request::page("/".into())),
        ),
        (
            "GET /updates/?rows_per_page=1000 (1 connection)",
            1,
            Box::new(|_| Request::get("/updates/?rows_per_page=1000".into())),
        ),
    ];
    for (label, connections, next) in &scenarios {
        if options
            .only
            .as_ref()
            .is_some_and(|only| !label.contains(only.as_str()))
        {
            continue;
        }
        let measured = load::run(addr, *connections, duration, 10, next)?;
        println!(
            "| {label} | {} | {:.0} | {:.1} | {:.1} | {:.1} |",
            measured.latencies.len(),
            measured.per_second(),
            measured.percentile(0.50).as_secs_f64() * 1000.0,
            measured.percentile(0.99).as_secs_f64() * 1000.0,
            measured.bytes as f64 / measured.latencies.len().max(1) as f64 / 1024.0,
        );
    }
    Ok(())
}
