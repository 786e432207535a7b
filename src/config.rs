//! Configuration: environment variables, each overridable by a command-line flag, checked
//! once at start and passed through the application state — never global.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::db::DbTarget;

/// The configuration as given on the command line or in the environment.
#[derive(Debug, Clone, clap::Args)]
pub struct ConfigArgs {
    /// Database: a SQLite file path (or `sqlite://PATH`), or a `postgres://` URL. Unset: `./sanping.db`.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// Address the web server listens on.
    #[arg(
        long,
        env = "SANPING_BIND",
        global = true,
        default_value = "127.0.0.1:8080"
    )]
    pub bind: String,
    /// Public address of the site, put into emailed and printed links.
    #[arg(
        long,
        env = "SANPING_BASE_URL",
        global = true,
        default_value = "http://127.0.0.1:8080"
    )]
    pub base_url: String,
    /// SMTP server (`smtp://user:pass@host:587`, `smtps://…`). Unset: mails are written as `.eml` files.
    #[arg(long, env = "SMTP_URL", global = true, hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Folder for `.eml` files when `SMTP_URL` is unset.
    #[arg(
        long,
        env = "SANPING_MAIL_DIR",
        global = true,
        default_value = "mail-outbox"
    )]
    pub mail_dir: PathBuf,
    /// Sender address of every mail.
    #[arg(
        long,
        env = "SANPING_MAIL_FROM",
        global = true,
        default_value = "三评 sanping <sanping@localhost>"
    )]
    pub mail_from: String,
    /// Largest number of mails sent per second (unset: as fast as the server takes them).
    #[arg(long, env = "SANPING_MAIL_RATE", global = true)]
    pub mail_rate: Option<f64>,
    /// Delivery attempts before a mail is marked failed.
    #[arg(
        long,
        env = "SANPING_MAIL_MAX_ATTEMPTS",
        global = true,
        default_value_t = 8
    )]
    pub mail_max_attempts: i32,
    /// Cookie signing secret (at least 32 characters, not all of one kind). Unset: on SQLite,
    /// generated into a key file next to the database file; required with PostgreSQL.
    #[arg(long, env = "SANPING_SECRET", global = true, hide_env_values = true)]
    pub secret: Option<String>,
    /// Folder of survey files offered in the admin pages.
    #[arg(
        long,
        env = "SANPING_SURVEY_DIR",
        global = true,
        default_value = "surveys"
    )]
    pub survey_dir: PathBuf,
    /// Largest number of pooled database connections.
    #[arg(long, env = "SANPING_DB_POOL", global = true)]
    pub db_pool: Option<u32>,
    /// Seconds a request waits for a database connection before it gets 503.
    #[arg(long, env = "SANPING_DB_TIMEOUT", global = true, default_value_t = 5)]
    pub db_timeout: u64,
    /// PostgreSQL is reached through pgbouncer in transaction mode: use no named prepared
    /// statements (a statement prepared on one server connection is unknown on the next).
    #[arg(long, env = "SANPING_PGBOUNCER", global = true)]
    pub pgbouncer: bool,
    /// Largest number of open client connections (unset: 4096, or half the process's limit
    /// of open files when that is lower); further clients wait in the listen queue.
    #[arg(long, env = "SANPING_MAX_CONNECTIONS", global = true)]
    pub max_connections: Option<usize>,
    /// Largest number of requests one client address may have in progress at once; more get
    /// 429 (0: no limit, e.g. when a reverse proxy limits clients itself).
    #[arg(
        long,
        env = "SANPING_PER_ADDRESS_LIMIT",
        global = true,
        default_value_t = 64
    )]
    pub per_address_limit: usize,
    /// Seconds a request body may go without sending a byte before it is cut with 408.
    #[arg(
        long,
        env = "SANPING_BODY_IDLE_TIMEOUT",
        global = true,
        default_value_t = 10
    )]
    pub body_idle_timeout: u64,
    /// Seconds a request body may take in all before it is cut with 408.
    #[arg(
        long,
        env = "SANPING_BODY_TIMEOUT",
        global = true,
        default_value_t = 120
    )]
    pub body_timeout: u64,
}

/// The checked configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the data lives.
    pub database: DbTarget,
    /// Listen address.
    pub bind: String,
    /// Public base URL without a trailing slash.
    pub base_url: String,
    /// SMTP server URL; `None` writes `.eml` files.
    pub smtp_url: Option<String>,
    /// Folder for `.eml` files.
    pub mail_dir: PathBuf,
    /// Sender address.
    pub mail_from: String,
    /// Mails per second; `None` is unlimited.
    pub mail_rate: Option<f64>,
    /// Attempts before a mail fails.
    pub mail_max_attempts: i32,
    /// Cookie secret from the environment; `None` means the SQLite key file (see `secret`).
    pub secret: Option<String>,
    /// Folder of survey files.
    pub survey_dir: PathBuf,
    /// Pool size.
    pub db_pool: u32,
    /// Pool wait.
    pub db_timeout: Duration,
    /// No prepared statements (PostgreSQL behind pgbouncer in transaction mode).
    pub pgbouncer: bool,
    /// Open client connections at most, over all worker threads.
    pub max_connections: usize,
    /// Requests in progress per client address at most; 0 is no limit.
    pub per_address_limit: usize,
    /// Longest pause inside a request body.
    pub body_idle_timeout: Duration,
    /// Longest time to receive a whole request body.
    pub body_timeout: Duration,
}

impl Config {
    /// Checks the arguments.
    pub fn from_args(args: &ConfigArgs) -> anyhow::Result<Self> {
        let database = DbTarget::parse(args.database_url.as_deref());
        let base_url = args.base_url.trim().trim_end_matches('/').to_owned();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            bail!("SANPING_BASE_URL must start with http:// or https://, not \"{base_url}\"");
        }
        if let Some(url) = &args.smtp_url
            && !(url.starts_with("smtp://") || url.starts_with("smtps://"))
        {
            bail!("SMTP_URL must start with smtp:// or smtps://");
        }
        if let Some(secret) = &args.secret {
            crate::secret::check(secret, "SANPING_SECRET")?;
        }
        args.bind.parse::<std::net::SocketAddr>().with_context(|| {
            format!(
                "SANPING_BIND \"{}\" is not an address like 127.0.0.1:8080",
                args.bind
            )
        })?;
        // SQLite runs in this process and takes one writer at a time: past a few
        // connections, more only queue on its write lock, whose waiters sleep in 1–100 ms
        // steps (measured at C = 64: 4 connections gave 2,650 submissions/s and a p99 of
        // 67 ms, 8 gave 2,450/s and 81 ms). PostgreSQL works in other processes, but on
        // the cores too: more connections than it can run at once only make them take turns
        // (30-person rating sheets over HTTP at C = 16 on 2 cores: 4 connections gave a p99
        // of 40 – 48 ms, 16 gave 47 – 61 ms, at the same throughput; see BENCHMARKS.md).
        let default_pool = match database {
            DbTarget::Sqlite(_) => 4,
            DbTarget::Postgres(_) => postgres_pool(),
        };
        Ok(Self {
            database,
            bind: args.bind.clone(),
            base_url,
            smtp_url: args.smtp_url.clone().filter(|u| !u.trim().is_empty()),
            mail_dir: args.mail_dir.clone(),
            mail_from: args.mail_from.clone(),
            mail_rate: args.mail_rate.filter(|r| *r > 0.0),
            mail_max_attempts: args.mail_max_attempts.max(1),
            secret: args.secret.clone(),
            survey_dir: args.survey_dir.clone(),
            db_pool: args.db_pool.unwrap_or(default_pool).max(1),
            db_timeout: Duration::from_secs(args.db_timeout.max(1)),
            pgbouncer: args.pgbouncer,
            max_connections: args
                .max_connections
                .unwrap_or_else(default_max_connections)
                .max(1),
            per_address_limit: args.per_address_limit,
            body_idle_timeout: Duration::from_secs(args.body_idle_timeout.max(1)),
            body_timeout: Duration::from_secs(args.body_timeout.max(1)),
        })
    }

    /// A configuration for tests and tools: the defaults with this database.
    pub fn for_database(database_url: &str) -> Self {
        Self {
            database: DbTarget::parse(Some(database_url)),
            bind: "127.0.0.1:0".into(),
            base_url: "http://127.0.0.1:8080".into(),
            smtp_url: None,
            mail_dir: PathBuf::from("mail-outbox"),
            mail_from: "sanping <sanping@localhost>".into(),
            mail_rate: None,
            mail_max_attempts: 8,
            secret: None,
            survey_dir: PathBuf::from("surveys"),
            db_pool: 8,
            db_timeout: Duration::from_secs(5),
            pgbouncer: false,
            max_connections: 4096,
            per_address_limit: 64,
            body_idle_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_mins(2),
        }
    }

    /// The effective configuration as `(variable, value)` lines, secrets masked.
    pub fn describe(&self) -> Vec<(&'static str, String)> {
        let database = match &self.database {
            DbTarget::Sqlite(path) => format!("{path} (SQLite)"),
            DbTarget::Postgres(url) => format!("{} (PostgreSQL)", mask_url(url)),
        };
        vec![
            ("DATABASE_URL", database),
            ("SANPING_BIND", self.bind.clone()),
            ("SANPING_BASE_URL", self.base_url.clone()),
            (
                "SMTP_URL",
                self.smtp_url.as_deref().map_or_else(
                    || "(unset: mails are written as .eml files)".to_owned(),
                    mask_url,
                ),
            ),
            ("SANPING_MAIL_DIR", self.mail_dir.display().to_string()),
            ("SANPING_MAIL_FROM", self.mail_from.clone()),
            (
                "SANPING_MAIL_RATE",
                self.mail_rate
                    .map_or_else(|| "(unlimited)".to_owned(), |r| format!("{r} mails/s")),
            ),
            (
                "SANPING_MAIL_MAX_ATTEMPTS",
                self.mail_max_attempts.to_string(),
            ),
            (
                "SANPING_SECRET",
                match (&self.secret, &self.database) {
                    (Some(_), _) => "******** (set)".to_owned(),
                    (None, DbTarget::Sqlite(path)) => format!(
                        "(unset: the key file {})",
                        crate::secret::key_file(path).display()
                    ),
                    (None, DbTarget::Postgres(_)) => {
                        "(unset: required with PostgreSQL, sanping serve refuses to start)"
                            .to_owned()
                    }
                },
            ),
            ("SANPING_SURVEY_DIR", self.survey_dir.display().to_string()),
            ("SANPING_DB_POOL", self.db_pool.to_string()),
            (
                "SANPING_DB_TIMEOUT",
                format!("{}s", self.db_timeout.as_secs()),
            ),
            ("SANPING_MAX_CONNECTIONS", self.max_connections.to_string()),
            (
                "SANPING_PER_ADDRESS_LIMIT",
                if self.per_address_limit == 0 {
                    "(unlimited)".to_owned()
                } else {
                    self.per_address_limit.to_string()
                },
            ),
            (
                "SANPING_BODY_IDLE_TIMEOUT",
                format!("{}s", self.body_idle_timeout.as_secs()),
            ),
            (
                "SANPING_BODY_TIMEOUT",
                format!("{}s", self.body_timeout.as_secs()),
            ),
        ]
    }
}

/// 4096 connections, or half the process's limit of open files when that is lower: the
/// other half stays for database connections, mail, log and survey files. Past the limit
/// the server stops accepting (clients wait in the listen queue) instead of failing
/// `accept` with "too many open files".
fn default_max_connections() -> usize {
    // `/proc/self/limits`: "Max open files   1024   524288   files" (soft, hard).
    let soft = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|limits| {
            limits
                .lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3)?.parse::<usize>().ok())
        });
    soft.map_or(4096, |n| (n / 2).clamp(64, 4096))
}

/// Hides the password of `scheme://user:password@host/…`.
pub fn mask_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest
        .split_once('/')
        .map_or((rest, None), |(a, p)| (a, Some(p)));
    let masked = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:********@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_owned(),
    };
    match path {
        Some(p) => format!("{scheme}://{masked}/{}", mask_query_password(p)),
        None => format!("{scheme}://{masked}"),
    }
}

fn mask_query_password(path: &str) -> String {
    let Some((p, query)) = path.split_once('?') else {
        return path.to_owned();
    };
    let query: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=********"),
            _ => kv.to_owned(),
        })
        .collect();
    format!("{p}?{}", query.join("&"))
}

/// The default PostgreSQL pool: twice this machine's cores, at least 4.
fn postgres_pool() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    u32::try_from(cores * 2).unwrap_or(u32::MAX).max(4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_masked() {
        assert_eq!(
            mask_url("postgres://u:secret@db:5432/x?password=p2&sslmode=require"),
            "postgres://u:********@db:5432/x?password=********&sslmode=require"
        );
        assert_eq!(
            mask_url("smtp://mail.example.edu:25"),
            "smtp://mail.example.edu:25"
        );
        assert_eq!(mask_url("smtps://u@h"), "smtps://u@h");
    }
}
