//! The one connection type of Pipal: a diesel `MultiConnection` over PostgreSQL and SQLite,
//! chosen by the scheme of the database URL, and the pool manager that opens it.

use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::r2d2::R2D2Connection;
use diesel::{Connection, ConnectionError, PgConnection, SqliteConnection};

/// A connection to either database backend. Queries written with diesel's DSL run on both;
/// backend-specific SQL goes through [`per_backend!`](crate::per_backend).
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

/// Which backend a connection or URL is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Postgres,
    Sqlite,
}

impl BackendKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Postgres => "postgres",
            BackendKind::Sqlite => "sqlite",
        }
    }
}

/// A parsed database URL: `postgres://…`/`postgresql://…`, or `sqlite://PATH` where PATH is
/// relative to the working directory (`sqlite://var/pipal.db`) or absolute
/// (`sqlite:///srv/pipal/pipal.db`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseTarget {
    Postgres(String),
    Sqlite(PathBuf),
}

impl DatabaseTarget {
    pub fn parse(url: &str) -> Result<Self, String> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseTarget::Postgres(url.to_owned()));
        }
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("a sqlite:// URL needs a file path, e.g. sqlite://var/pipal.db".into());
            }
            return Ok(DatabaseTarget::Sqlite(PathBuf::from(path)));
        }
        let scheme = url.split("://").next().unwrap_or(url);
        Err(format!(
            "unsupported database URL scheme `{scheme}`: use postgres://… or sqlite://PATH"
        ))
    }

    pub fn kind(&self) -> BackendKind {
        match self {
            DatabaseTarget::Postgres(_) => BackendKind::Postgres,
            DatabaseTarget::Sqlite(_) => BackendKind::Sqlite,
        }
    }

    /// Opens one connection, configured as every Pipal connection must be.
    pub fn connect(&self, sqlite_busy_timeout: Duration) -> Result<DbConnection, ConnectionError> {
        match self {
            DatabaseTarget::Postgres(url) => {
                let mut conn = PgConnection::establish(url)?;
                conn.batch_execute("SET TIME ZONE 'UTC'")
                    .map_err(ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConnection::Postgres(conn))
            }
            DatabaseTarget::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        ConnectionError::BadConnection(format!(
                            "cannot create directory {}: {e}",
                            dir.display()
                        ))
                    })?;
                }
                let path = path.to_str().ok_or_else(|| {
                    ConnectionError::InvalidConnectionUrl("the SQLite path is not UTF-8".into())
                })?;
                let mut conn = SqliteConnection::establish(path)?;
                // WAL lets readers work while a writer commits; the busy timeout makes a
                // writer wait for another instead of failing at once. LIKE is made
                // case-sensitive, as on PostgreSQL (case-insensitive searches use lower()).
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {};
                     PRAGMA journal_mode = WAL;
                     PRAGMA synchronous = NORMAL;
                     PRAGMA foreign_keys = ON;
                     PRAGMA case_sensitive_like = ON;",
                    sqlite_busy_timeout.as_millis()
                ))
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

impl DbConnection {
    pub fn backend(&self) -> BackendKind {
        match self {
            DbConnection::Postgres(_) => BackendKind::Postgres,
            DbConnection::Sqlite(_) => BackendKind::Sqlite,
        }
    }
}

/// Runs `f` in a transaction that may write. On SQLite it starts with `BEGIN IMMEDIATE`, so
/// that two writers queue on the busy timeout instead of deadlocking when both upgrade a read
/// lock; inside an open transaction it nests as a savepoint.
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let nested =
        <DbConnection as Connection>::TransactionManager::transaction_manager_status_mut(conn)
            .transaction_depth()?
            .is_some();
    match conn {
        DbConnection::Sqlite(inner) if !nested => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?
        }
        _ => <DbConnection as Connection>::TransactionManager::begin_transaction(conn)?,
    }
    match f(conn) {
        Ok(value) => {
            <DbConnection as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(error) => {
            // The original error matters more than a failed rollback, which diesel reports by
            // marking the connection broken so that the pool drops it.
            let _ = <DbConnection as Connection>::TransactionManager::rollback_transaction(conn);
            Err(error)
        }
    }
}

/// The r2d2 manager: opens connections for a [`DatabaseTarget`].
#[derive(Debug)]
pub struct DbManager {
    target: DatabaseTarget,
    sqlite_busy_timeout: Duration,
}

impl DbManager {
    pub fn new(target: DatabaseTarget, sqlite_busy_timeout: Duration) -> Self {
        DbManager {
            target,
            sqlite_busy_timeout,
        }
    }
}

impl diesel::r2d2::ManageConnection for DbManager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        self.target
            .connect(self.sqlite_busy_timeout)
            .map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

/// Runs backend-specific code: `per_backend!(conn, |c| expr)` evaluates `expr` with `c` bound
/// to the inner `PgConnection` or `SqliteConnection`; the two-armed form
/// `per_backend!(conn, postgres |pg| a, sqlite |lite| b)` gives each backend its own code.
#[macro_export]
macro_rules! per_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Postgres($c) => $body,
            $crate::db::DbConnection::Sqlite($c) => $body,
        }
    };
    ($conn:expr, postgres |$pg:ident| $pg_body:expr, sqlite |$lite:ident| $lite_body:expr) => {
        match $conn {
            $crate::db::DbConnection::Postgres($pg) => $pg_body,
            $crate::db::DbConnection::Sqlite($lite) => $lite_body,
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_the_backend() {
        assert_eq!(
            DatabaseTarget::parse("sqlite://var/pipal.db"),
            Ok(DatabaseTarget::Sqlite(PathBuf::from("var/pipal.db")))
        );
        assert_eq!(
            DatabaseTarget::parse("sqlite:///srv/p.db"),
            Ok(DatabaseTarget::Sqlite(PathBuf::from("/srv/p.db")))
        );
        assert_eq!(
            DatabaseTarget::parse("postgresql://u@h/db").map(|t| t.kind()),
            Ok(BackendKind::Postgres)
        );
        let err = DatabaseTarget::parse("mysql://h/db").unwrap_err();
        assert!(err.contains("`mysql`"), "{err}");
        assert!(DatabaseTarget::parse("sqlite://").is_err());
    }
}
