//! Database access: the pooled connection to PostgreSQL or SQLite, migrations, the schema
//! and the enum types. Diesel is synchronous, so async code reaches the database only through
//! [`Db::run`], which moves the work to tokio's blocking pool.

pub mod connection;
pub mod migrate;
pub mod schema;
pub mod types;

use std::time::Duration;

use anyhow::Context;
use diesel::r2d2::{Pool, PooledConnection};

pub use connection::{BackendKind, DatabaseTarget, DbConnection, DbManager, write_transaction};

use crate::config::DatabaseSettings;
use crate::error::{AppError, AppResult};

pub type DbPool = Pool<DbManager>;
pub type PooledDb = PooledConnection<DbManager>;

/// The shared handle on the database: cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: DbPool,
    backend: BackendKind,
}

/// A snapshot of the pool, for /metrics.
#[derive(Debug, Clone, Copy)]
pub struct PoolUsage {
    pub size: u32,
    pub connections: u32,
    pub idle: u32,
}

impl Db {
    /// Opens the pool described by the settings; fails if no connection can be made.
    pub fn connect(settings: &DatabaseSettings) -> anyhow::Result<Db> {
        let target = DatabaseTarget::parse(&settings.url)
            .map_err(|e| anyhow::anyhow!("database.url: {e}"))?;
        let backend = target.kind();
        // One SQLite file takes one writer at a time: a smaller pool queues less on its lock.
        let size = match backend {
            BackendKind::Postgres => settings.pool_size,
            BackendKind::Sqlite => settings.pool_size.min(8),
        };
        let manager = DbManager::new(
            target,
            Duration::from_millis(settings.sqlite_busy_timeout_ms),
        );
        // No idle minimum: r2d2 would otherwise open connections on its background threads,
        // and a connection being opened while the process exits crashes libpq's OpenSSL
        // clean-up. Connections are opened on demand and kept until the idle timeout.
        let pool = Pool::builder()
            .max_size(size.max(1))
            .min_idle(Some(0))
            .connection_timeout(Duration::from_secs(settings.connect_timeout_secs.max(1)))
            .build(manager)
            .with_context(|| {
                format!(
                    "cannot connect to the database {}",
                    crate::config::mask_url(&settings.url)
                )
            })?;
        // Fail now, with the reason, if the database cannot be reached.
        drop(pool.get().with_context(|| {
            format!(
                "cannot connect to the database {}",
                crate::config::mask_url(&settings.url)
            )
        })?);
        Ok(Db { pool, backend })
    }

    pub fn backend(&self) -> BackendKind {
        self.backend
    }

    /// A connection for synchronous code (the CLI, worker steps already on a blocking thread).
    pub fn conn(&self) -> AppResult<PooledDb> {
        self.pool
            .get()
            .map_err(|e| AppError::Unavailable(format!("no database connection: {e}")))
    }

    /// Runs `f` with a connection on the blocking pool.
    pub async fn run<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = db.conn()?;
            f(&mut conn)
        })
        .await
        .map_err(|e| AppError::Internal(format!("database task failed: {e}")))?
    }

    /// Applies pending migrations.
    pub fn migrate(&self) -> anyhow::Result<Vec<String>> {
        let mut conn = self.conn()?;
        migrate::run_pending(&mut conn)
    }

    pub fn usage(&self) -> PoolUsage {
        let state = self.pool.state();
        PoolUsage {
            size: self.pool.max_size(),
            connections: state.connections,
            idle: state.idle_connections,
        }
    }
}
