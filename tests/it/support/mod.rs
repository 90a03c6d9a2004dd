//! Test support: a fresh database per test (SQLite by default, PostgreSQL when
//! `PIPAL_TEST_DATABASE_URL` is set), the application with its state, and the CLI binary.

#![allow(dead_code)]

pub mod amqp;
pub mod bodhi;
pub mod browser;
pub mod http;
pub mod world;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl};
use pipal::config::Settings;
use pipal::db::Db;
use pipal::state::AppState;
use sha2::{Digest, Sha256};

pub const PG_ENV: &str = "PIPAL_TEST_DATABASE_URL";

/// A migrated database of its own for one test; dropped afterwards (PostgreSQL) or deleted
/// with its directory (SQLite).
pub struct TestDb {
    pub db: Db,
    pub url: String,
    /// A scratch directory for the test (the SQLite file lives here too).
    pub dir: tempfile::TempDir,
    cleanup: Option<PgCleanup>,
}

struct PgCleanup {
    admin_url: String,
    name: String,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl TestDb {
    pub fn new() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        match std::env::var(PG_ENV).ok().filter(|v| !v.is_empty()) {
            Some(admin_url) => {
                let template = ensure_template(&admin_url);
                let name = format!(
                    "pipal_test_{}_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::SeqCst),
                    rand_suffix()
                );
                let mut admin = PgConnection::establish(&admin_url).expect("connect as admin");
                admin
                    .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
                    .expect("create the test database");
                let url = with_database(&admin_url, &name);
                let db = Db::connect(&settings_for(&url).database).expect("connect");
                TestDb {
                    db,
                    url,
                    dir,
                    cleanup: Some(PgCleanup { admin_url, name }),
                }
            }
            None => {
                let url = format!("sqlite://{}", dir.path().join("pipal.db").display());
                let db = Db::connect(&settings_for(&url).database).expect("connect");
                db.migrate().expect("migrate");
                TestDb {
                    db,
                    url,
                    dir,
                    cleanup: None,
                }
            }
        }
    }

    pub fn is_postgres() -> bool {
        std::env::var(PG_ENV).is_ok_and(|v| !v.is_empty())
    }

    /// Settings pointing at this database, with the build system under the scratch directory.
    pub fn settings(&self) -> Settings {
        let mut settings = settings_for(&self.url);
        settings.buildsys.local.root = self.dir.path().join("koji");
        settings.mail.dir = self.dir.path().join("mail");
        settings.masher.compose_dir = self.dir.path().join("composes");
        settings.masher.stage_dir = self.dir.path().join("repos");
        settings.masher.cache_dir = self.dir.path().join("cache");
        settings.odcs.target_dir = self.dir.path().join("odcs");
        settings
    }

    pub fn state(&self) -> AppState {
        AppState::new(self.db.clone(), self.settings()).expect("the application state")
    }

    pub fn conn(&self) -> pipal::db::PooledDb {
        self.db.conn().expect("a connection")
    }

    /// Runs the `pipal` binary against this database, in the scratch directory.
    pub fn pipal(&self, args: &[&str]) -> Output {
        self.pipal_with_stdin(args, None)
    }

    pub fn pipal_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut command = self.pipal_command(args);
        run_with_stdin(&mut command, stdin)
    }

    pub fn pipal_command(&self, args: &[&str]) -> Command {
        let mut command = pipal_command(self.dir.path());
        command
            .env("PIPAL__DATABASE__URL", &self.url)
            .env("PIPAL__BUILDSYS__LOCAL__ROOT", self.dir.path().join("koji"))
            .args(args);
        command
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(cleanup) = self.cleanup.take()
            && let Ok(mut admin) = PgConnection::establish(&cleanup.admin_url)
        {
            // FORCE ends the connections our pool still holds.
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                cleanup.name
            ));
        }
    }
}

/// The `pipal` binary with a clean environment for Pipal settings, run in `dir`.
pub fn pipal_command(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pipal"));
    command.current_dir(dir);
    for (key, _) in std::env::vars() {
        if key.starts_with("PIPAL_") {
            command.env_remove(key);
        }
    }
    command.env("RUST_LOG", "warn");
    command
}

pub fn run_with_stdin(command: &mut Command, stdin: Option<&str>) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("spawn pipal");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("pipal output")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts success and returns stdout.
#[track_caller]
pub fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "pipal failed ({}): {}{}",
        output.status,
        stdout(&output),
        stderr(&output)
    );
    stdout(&output)
}

pub fn settings_for(url: &str) -> Settings {
    let mut settings = Settings::default();
    settings.database.url = url.to_owned();
    settings.database.pool_size = 4;
    settings
}

fn rand_suffix() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 4];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// `postgres://u@h:p/old?x` with the database replaced.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{database}?{q}"),
        None => format!("{host_part}/{database}"),
    }
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The name of a migrated template database for the current migrations, created once.
fn ensure_template(admin_url: &str) -> String {
    let mut hasher = Sha256::new();
    let mut files: Vec<PathBuf> = walk(&manifest_dir().join("migrations/postgres"));
    files.sort();
    for file in files {
        hasher.update(file.to_string_lossy().as_bytes());
        hasher.update(std::fs::read(&file).expect("read migration"));
    }
    let name = format!("pipal_test_tmpl_{}", &hex::encode(hasher.finalize())[..16]);
    template_once(admin_url, &name, 7031, |url| {
        let mut conn = pipal::db::DatabaseTarget::parse(url)
            .expect("url")
            .connect(std::time::Duration::from_secs(5))
            .expect("connect to the template");
        pipal::db::migrate::run_pending(&mut conn).expect("migrate the template");
    });
    name
}

/// Creates the template database `name` unless it exists, filling it with `fill` (given its
/// URL) under the name `<name>_building` and renaming it when done, all under advisory lock
/// `lock`, so that concurrent test processes agree and a half-built one is never used.
pub fn template_once(admin_url: &str, name: &str, lock: i64, fill: impl FnOnce(&str)) {
    let mut admin = PgConnection::establish(admin_url).expect("connect as admin");
    admin
        .batch_execute(&format!("SELECT pg_advisory_lock({lock})"))
        .expect("lock");
    let exists: bool = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
        "EXISTS (SELECT 1 FROM pg_database WHERE datname = '{name}')"
    )))
    .get_result(&mut admin)
    .expect("look for the template");
    if !exists {
        let building = format!("{name}_building");
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
            .expect("drop a half-built template");
        admin
            .batch_execute(&format!("CREATE DATABASE {building}"))
            .expect("create the template");
        fill(&with_database(admin_url, &building));
        admin
            .batch_execute(&format!("ALTER DATABASE {building} RENAME TO {name}"))
            .expect("publish the template");
    }
    admin
        .batch_execute(&format!("SELECT pg_advisory_unlock({lock})"))
        .expect("unlock");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
