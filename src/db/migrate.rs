//! Embedded migrations, one tree per backend (`migrations/postgres`, `migrations/sqlite`,
//! with the same migration names).

use diesel::connection::SimpleConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::DbConnection;

pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// A lock id of our own, so that two nodes starting at once do not migrate together.
const MIGRATION_LOCK_ID: i64 = 0x5049_5041_4c4d_4947; // "PIPALMIG"

/// Applies every pending migration and returns the names of those applied.
pub fn run_pending(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    let applied = match conn {
        DbConnection::Postgres(pg) => {
            pg.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_ID})"))?;
            let result = pg.run_pending_migrations(POSTGRES_MIGRATIONS).map(names);
            pg.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_ID})"))?;
            result
        }
        DbConnection::Sqlite(lite) => lite.run_pending_migrations(SQLITE_MIGRATIONS).map(names),
    };
    applied.map_err(|e| anyhow::anyhow!("migration failed: {e}"))
}

/// The names of migrations not yet applied.
pub fn pending(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    let pending = match conn {
        DbConnection::Postgres(pg) => pg
            .pending_migrations(POSTGRES_MIGRATIONS)
            .map(|m| m.iter().map(|m| m.name().to_string()).collect()),
        DbConnection::Sqlite(lite) => lite
            .pending_migrations(SQLITE_MIGRATIONS)
            .map(|m| m.iter().map(|m| m.name().to_string()).collect()),
    };
    pending.map_err(|e| anyhow::anyhow!("cannot read the migration state: {e}"))
}

fn names(versions: Vec<diesel::migration::MigrationVersion<'_>>) -> Vec<String> {
    versions.into_iter().map(|v| v.to_string()).collect()
}
