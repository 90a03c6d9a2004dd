//! A scratch copy of the Bodhi 26.4.0 fixture database (../shared/fixtures), for the import
//! tests. The fixture is restored once into a template database; each test gets its own copy.
//! It needs a PostgreSQL server: PIPAL_TEST_BODHI_URL (or PIPAL_TEST_DATABASE_URL) names it.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl};
use sha2::{Digest, Sha256};

use super::{PG_ENV, template_once, with_database};

const BODHI_ENV: &str = "PIPAL_TEST_BODHI_URL";
const FIXTURE: &str = "fixtures/bodhi-26.4.0-300.sql.gz";

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A Bodhi database of one test's own, dropped afterwards.
pub struct BodhiDb {
    pub url: String,
    admin_url: String,
    name: String,
}

impl BodhiDb {
    /// A fresh copy of the fixture, or None (with a note on stderr) when no PostgreSQL server
    /// is configured for these tests.
    pub fn fixture() -> Option<BodhiDb> {
        let admin_url = [BODHI_ENV, PG_ENV]
            .iter()
            .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()));
        let Some(admin_url) = admin_url else {
            eprintln!("SKIPPED: set {BODHI_ENV} to a PostgreSQL server to test the Bodhi import");
            return None;
        };
        let template = ensure_template(&admin_url);
        let name = format!(
            "bodhi_src_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let mut admin = PgConnection::establish(&admin_url).expect("connect as admin");
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .expect("drop a stale copy of the Bodhi fixture");
        admin
            .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .expect("copy the Bodhi fixture");
        Some(BodhiDb {
            url: with_database(&admin_url, &name),
            admin_url,
            name,
        })
    }

    /// Runs SQL on the Bodhi database (to change it between imports).
    pub fn execute(&self, sql: &str) {
        let mut conn = PgConnection::establish(&self.url).expect("connect to the Bodhi copy");
        conn.batch_execute(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// One integer from the Bodhi database.
    pub fn integer(&self, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Value {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            value: i64,
        }
        let mut conn = PgConnection::establish(&self.url).expect("connect to the Bodhi copy");
        let value: Value = diesel::sql_query(sql)
            .get_result(&mut conn)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        value.value
    }

    /// A JSON value computed by the Bodhi database (`SELECT json_agg(…)`).
    pub fn json(&self, sql: &str) -> serde_json::Value {
        #[derive(diesel::QueryableByName)]
        struct Json {
            #[diesel(sql_type = diesel::sql_types::Text)]
            value: String,
        }
        let mut conn = PgConnection::establish(&self.url).expect("connect to the Bodhi copy");
        let row: Json = diesel::sql_query(format!("SELECT ({sql})::text AS value"))
            .get_result(&mut conn)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        serde_json::from_str(&row.value).expect("JSON from PostgreSQL")
    }
}

impl Drop for BodhiDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&self.admin_url) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

fn fixture_path() -> PathBuf {
    let shared = std::env::var("PIPAL_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let path = shared.join(FIXTURE);
    assert!(
        path.is_file(),
        "the Bodhi fixture {} is missing (set PIPAL_SHARED_DIR)",
        path.display()
    );
    path
}

/// Restores the fixture into a template database once per fixture version.
fn ensure_template(admin_url: &str) -> String {
    let gz = std::fs::read(fixture_path()).expect("read the Bodhi fixture");
    let name = format!("bodhi_fixture_{}", &hex::encode(Sha256::digest(&gz))[..16]);
    template_once(admin_url, &name, 7032, |url| {
        let mut sql = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut sql)
            .expect("decompress the Bodhi fixture");
        let mut psql = Command::new("psql")
            .args(["-q", "-v", "ON_ERROR_STOP=1", "-d", url])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("run psql (postgresql-client) to restore the Bodhi fixture");
        psql.stdin
            .take()
            .expect("psql's stdin")
            .write_all(sql.as_bytes())
            .expect("feed psql");
        assert!(
            psql.wait().expect("psql").success(),
            "psql could not restore the Bodhi fixture"
        );
    });
    name
}
