//! The database: one connection type over SQLite and PostgreSQL, the pool, embedded
//! migrations and the transaction helpers. This module tree is the only place with SQL.
//!
//! Query functions take `&mut DbConn` and leave the transaction to the caller.

pub mod accounts;
pub mod api_tokens;
pub mod assessments;
pub mod frames;
pub mod holders;
pub mod inactive;
pub mod outbox;
pub mod people;
pub mod rated;
pub mod retired;
pub mod schema;
pub mod sealed;
pub mod settings;
pub mod tallies;
pub mod units;
pub mod waves;

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

/// Migrations for each backend, compiled into the binary.
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
/// See [`SQLITE_MIGRATIONS`].
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to either backend; all shared queries are written once against it.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    /// PostgreSQL (`postgres://…`).
    Postgresql(PgConnection),
    /// SQLite, the embedded default.
    Sqlite(SqliteConnection),
}

/// A pool of [`DbConn`].
pub type Pool = r2d2::Pool<Manager>;
/// A connection taken from the [`Pool`].
pub type PooledConn = r2d2::PooledConnection<Manager>;

/// Rows per multi-row statement (an `INSERT` of many rows, an `UPDATE … WHERE id IN (…)`):
/// one statement per chunk instead of one per row (a round trip each on PostgreSQL), well
/// below either backend's limit of bound parameters.
pub const INSERT_CHUNK: usize = 1000;

/// Inserts the slice `rows` into `table`, [`INSERT_CHUNK`] rows per statement, returning
/// early with the error of a failed one. diesel's multi-row `INSERT` is written per backend,
/// not for the multi-backend connection, hence the match.
macro_rules! insert_chunks {
    ($conn:expr, $table:expr, $rows:expr) => {
        for chunk in $rows.chunks($crate::db::INSERT_CHUNK) {
            let insert = diesel::insert_into($table).values(chunk);
            match &mut *$conn {
                $crate::db::DbConn::Sqlite(c) => diesel::RunQueryDsl::execute(insert, c)?,
                $crate::db::DbConn::Postgresql(c) => diesel::RunQueryDsl::execute(insert, c)?,
            };
        }
    };
}
pub(crate) use insert_chunks;

/// Where the data lives, decided from `DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbTarget {
    /// A `postgres://` or `postgresql://` URL, passed to libpq as is.
    Postgres(String),
    /// A SQLite file path.
    Sqlite(String),
}

impl DbTarget {
    /// Reads a `DATABASE_URL`: `postgres://…` is PostgreSQL; `sqlite://PATH`, `sqlite:PATH`
    /// or a plain path is a SQLite file; unset or empty is `sanping.db` in the working
    /// directory.
    pub fn parse(url: Option<&str>) -> Self {
        let url = url.map(str::trim).unwrap_or_default();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Self::Postgres(url.to_owned());
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() {
            Self::Sqlite("sanping.db".to_owned())
        } else {
            Self::Sqlite(path.to_owned())
        }
    }

    /// The backend's name, for messages.
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "postgresql",
            Self::Sqlite(_) => "sqlite",
        }
    }
}

/// An r2d2 manager that picks the backend from the URL scheme, so a bad PostgreSQL URL
/// reports libpq's own error instead of silently becoming a SQLite file of that name.
#[derive(Debug)]
pub struct Manager {
    target: DbTarget,
    /// Named prepared statements (off behind pgbouncer in transaction mode).
    statement_cache: bool,
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        match &self.target {
            DbTarget::Postgres(url) => {
                let mut conn =
                    PgConnection::establish(url).map_err(r2d2::Error::ConnectionError)?;
                if !self.statement_cache {
                    // Unnamed statements only: pgbouncer may run the next one on another
                    // server connection, which never saw this one's prepared statement.
                    conn.set_prepared_statement_cache_size(diesel::connection::CacheSize::Disabled);
                }
                Ok(DbConn::Postgresql(conn))
            }
            DbTarget::Sqlite(path) => {
                let mut conn =
                    SqliteConnection::establish(path).map_err(r2d2::Error::ConnectionError)?;
                // Per connection: wait for the writer instead of failing, keep WAL's fast
                // durable mode, and enforce the schema's references.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                )
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        <DbConn as Connection>::TransactionManager::is_broken_transaction_manager(conn)
    }
}

/// Opens the pool. For SQLite the file is switched to WAL once, before any pooled
/// connection exists (doing it per connection races and logs "database is locked").
pub fn pool(
    target: &DbTarget,
    size: u32,
    timeout: Duration,
    pgbouncer: bool,
) -> anyhow::Result<Pool> {
    use anyhow::Context as _;
    if let DbTarget::Sqlite(path) = target {
        let mut conn = SqliteConnection::establish(path)
            .with_context(|| format!("cannot open SQLite file {path}"))?;
        // Another process starting at the same moment may hold the file for an instant.
        let mut tries = 0;
        while let Err(e) =
            conn.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL;")
        {
            tries += 1;
            if tries >= 50 {
                return Err(e).with_context(|| format!("cannot switch {path} to WAL"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let manager = Manager {
        target: target.clone(),
        statement_cache: !pgbouncer,
    };
    r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(1))
        .connection_timeout(timeout)
        .build(manager)
        .with_context(|| format!("cannot connect to the {} database", target.backend()))
}

/// Runs the pending migrations of the connection's backend, all in one transaction that
/// first takes the database's migration lock (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: a
/// transaction-scoped advisory lock, so it also works behind pgbouncer). Several processes
/// starting together on an empty database take turns: the first migrates, the others then
/// find nothing pending.
pub fn migrate(conn: &mut DbConn) -> anyhow::Result<usize> {
    write_tx(conn, |conn| {
        let done = match conn {
            DbConn::Postgresql(c) => {
                diesel::sql_query("SELECT pg_advisory_xact_lock(21328, -1)").execute(c)?;
                c.run_pending_migrations(POSTGRES_MIGRATIONS)
            }
            DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
        }
        .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
        Ok(done.len())
    })
}

/// Reverts every migration (used by the migration guard tests).
pub fn revert_all(conn: &mut DbConn) -> anyhow::Result<usize> {
    let done = match conn {
        DbConn::Postgresql(c) => c.revert_all_migrations(POSTGRES_MIGRATIONS),
        DbConn::Sqlite(c) => c.revert_all_migrations(SQLITE_MIGRATIONS),
    }
    .map_err(|e| anyhow::anyhow!("revert failed: {e}"))?;
    Ok(done.len())
}

/// Runs `f` in a transaction that may read and then write.
///
/// On SQLite it starts with `BEGIN IMMEDIATE`, taking the write lock up front: a deferred
/// transaction that reads first and writes later fails with "database is locked" under
/// concurrency instead of waiting. The closure stays typed on [`DbConn`], and nested
/// `transaction` (or `write_tx`) calls inside it become savepoints as usual.
pub fn write_tx<T, E>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    let DbConn::Sqlite(inner) = conn else {
        return conn.transaction(f);
    };
    // Inside a transaction already (a caller that audits in the same transaction): the
    // write lock is held, so a savepoint is all it takes.
    if <AnsiTransactionManager as TransactionManager<SqliteConnection>>::transaction_manager_status_mut(inner)
        .transaction_depth()?
        .is_some()
    {
        return conn.transaction(f);
    }
    AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
    match f(conn) {
        Ok(value) => {
            <DbConn as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => {
            <DbConn as Connection>::TransactionManager::rollback_transaction(conn)?;
            Err(e)
        }
    }
}

/// Takes a PostgreSQL advisory lock (`function`: `pg_advisory_xact_lock` or its `_shared`
/// form) on the key pair (`space`, `key`) until the transaction ends. Nothing on SQLite,
/// where a writing transaction holds the database's write lock already ([`write_tx`]).
pub(crate) fn advisory_lock(
    conn: &mut DbConn,
    function: &str,
    space: i32,
    key: i32,
) -> QueryResult<()> {
    use diesel::sql_types::Integer;
    let DbConn::Postgresql(pg) = conn else {
        return Ok(());
    };
    diesel::sql_query(format!("SELECT {function}($1, $2)"))
        .bind::<Integer, _>(space)
        .bind::<Integer, _>(key)
        .execute(pg)?;
    Ok(())
}

/// Gives this SQLite connection a page cache of `mib` MiB (`None`: back to SQLite's default
/// of 2 MiB), so that one large transaction — unsealing a million sheets — is not spilled
/// to the log page by page before it commits. Nothing on PostgreSQL.
pub fn cache_size(conn: &mut DbConn, mib: Option<u32>) -> QueryResult<()> {
    if let DbConn::Sqlite(c) = conn {
        // Negative: a size in KiB rather than in pages.
        let kib = mib.map_or(2000, |m| i64::from(m) * 1024);
        c.batch_execute(&format!("PRAGMA cache_size = -{kib}"))?;
    }
    Ok(())
}

/// On SQLite, leaves no old page anywhere: copies the write-ahead log into the file and
/// empties it, rebuilds the file (VACUUM: no free page keeps old content), and empties the
/// log again. Returns `false` when a reader in another process kept the log from being
/// emptied. Nothing to do on PostgreSQL (a dropped table's file is removed).
pub fn scrub(conn: &mut DbConn) -> QueryResult<bool> {
    #[derive(QueryableByName)]
    struct Checkpoint {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        busy: i32,
    }
    let DbConn::Sqlite(c) = conn else {
        return Ok(true);
    };
    let truncate = |c: &mut SqliteConnection| -> QueryResult<bool> {
        let row: Checkpoint = diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)").get_result(c)?;
        Ok(row.busy == 0)
    };
    let first = truncate(c)?;
    // The unsealing has committed by now: a VACUUM that cannot run (another process holds
    // the file) is reported as not scrubbed, not as a failed unsealing.
    if let Err(e) = c.batch_execute("VACUUM") {
        tracing::warn!(error = %e, "VACUUM after unsealing failed; run it again later");
        return Ok(false);
    }
    Ok(truncate(c)? && first)
}

/// `true` when the error is a unique-constraint violation (same on both backends).
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

#[derive(diesel::QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    table_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    column_name: String,
}

/// Every table of the application with its columns, as the database itself reports them
/// (diesel's own bookkeeping table left out). Used by the guard test that both backends
/// end with the same schema, and by audits that scan every table.
pub fn tables_and_columns(
    conn: &mut DbConn,
) -> QueryResult<std::collections::BTreeMap<String, Vec<String>>> {
    let rows: Vec<ColumnRow> = match conn {
        DbConn::Sqlite(c) => diesel::sql_query(
            "SELECT m.name AS table_name, p.name AS column_name \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
             AND m.name <> '__diesel_schema_migrations' ORDER BY m.name, p.cid",
        )
        .load(c)?,
        DbConn::Postgresql(c) => diesel::sql_query(
            "SELECT table_name::text AS table_name, column_name::text AS column_name \
             FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name <> '__diesel_schema_migrations' \
             ORDER BY table_name, ordinal_position",
        )
        .load(c)?,
    };
    let mut out = std::collections::BTreeMap::<String, Vec<String>>::new();
    for row in rows {
        out.entry(row.table_name).or_default().push(row.column_name);
    }
    Ok(out)
}
