//! The command line (`sanping …`): parses arguments and calls the library. Every command
//! that changes data prints what it did; every failure names what is wrong and exits non-zero.

mod admin;
mod demo;
mod mail;
mod reach;
mod report;
mod roster;
mod survey;
mod token;
pub use survey::summary as survey_summary;
pub mod wave;

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::app::AppState;
use crate::config::{Config, ConfigArgs};
use crate::db;

/// 三评 sanping — anonymous three-step evaluation of grassroots Party organizations.
#[derive(Debug, Parser)]
#[command(name = "sanping", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    config: ConfigArgs,
    /// Who is acting, for the audit log (recorded as `cli:NAME`); default: the OS user
    /// (`$USER`, else `$LOGNAME`). When NAME is an account, the command acts within its
    /// role and scope (waves, reports, mail, accounts, tokens, imports, the audit log).
    #[arg(long = "as", global = true, value_name = "NAME")]
    actor: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web server (runs pending migrations first).
    Serve,
    /// Run pending database migrations.
    Migrate,
    /// Print the effective configuration (secrets masked).
    Config,
    /// Survey files.
    #[command(subcommand)]
    Survey(survey::SurveyCommand),
    /// The unit tree.
    #[command(subcommand)]
    Units(roster::UnitsCommand),
    /// The roster.
    #[command(subcommand)]
    People(roster::PeopleCommand),
    /// Evaluation waves: create, open, remind, close, publish, slips.
    #[command(subcommand)]
    Wave(wave::WaveCommand),
    /// The mail outbox: send, status, test.
    #[command(subcommand)]
    Mail(mail::MailCommand),
    /// The results of a closed wave, per unit: table, CSV, JSON or Excel.
    Report(report::ReportArgs),
    /// Admin accounts for the web console.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// API tokens for /api/v1: create (printed once), revoke, list.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Show the audit log of admin actions, newest first.
    Audit {
        /// How many entries.
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Only the entries inside this unit's subtree (as an account scoped to it sees them
        /// on the console); default: the `--as` account's scope, else every entry.
        #[arg(long)]
        scope: Option<String>,
    },
    /// Build a demonstration university with two answered waves (in ./sanping-demo.db
    /// unless `DATABASE_URL` is set) and serve it.
    Demo(demo::DemoArgs),
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    quiet_on_closed_pipe();
    init_tracing();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `sanping wave show 1 | head`: Rust ignores SIGPIPE, so `println!` panics once the reader
/// is gone. That is no error of ours: end quietly, as a program killed by SIGPIPE would.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}

/// Text from the database made safe for a terminal: control characters (escape sequences,
/// line breaks) are shown as `\u{…}` instead of being obeyed.
pub fn printable(text: &str) -> String {
    if text.chars().any(char::is_control) {
        text.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_unicode().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect()
    } else {
        text.to_owned()
    }
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// The audit log's actor for this command: `cli:` and the `--as` name or the OS user.
fn actor(name: Option<&str>) -> String {
    let name = name
        .map(str::to_owned)
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("LOGNAME").ok())
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "unknown".to_owned());
    format!("cli:{name}")
}

/// The account `--as NAME` names, if it is one: its role and scope. The command line acts
/// installation-wide as the server's operator; given `--as` an account, every command acts
/// within that account's limits (its role and subtree), as its console pages would
/// ([`reach::Reach`]).
pub(crate) fn acting(
    conn: &mut db::DbConn,
    name: Option<&str>,
) -> anyhow::Result<Option<(crate::auth::Role, crate::scope::Scope)>> {
    let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    let user = db::accounts::find_user(conn, name)?;
    if user.as_ref().is_some_and(|u| u.disabled) {
        // Not the operator's reach either: a disabled account acts as nobody.
        anyhow::bail!(
            "the account {name} is disabled and cannot act (sanping admin enable {name})"
        );
    }
    Ok(user.map(|u| {
        (
            crate::auth::Role::parse(&u.role).unwrap_or(crate::auth::Role::Viewer),
            crate::scope::Scope::of(u.scope.as_deref()),
        )
    }))
}

/// The scope an import acts in: `--scope CODE` (a unit, inside the acting account's scope
/// if `--as` names one), else the acting account's scope, else the whole tree.
pub(crate) fn import_scope(
    conn: &mut db::DbConn,
    acting_name: Option<&str>,
    given: Option<&str>,
) -> anyhow::Result<(crate::scope::Scope, Option<String>)> {
    use crate::scope::Scope;
    let acting = acting(conn, acting_name)?;
    if let Some((role, _)) = &acting
        && *role < crate::auth::Role::Organizer
    {
        anyhow::bail!(
            "only an organizer imports units and people (--as names a {})",
            role.as_str()
        );
    }
    let within = acting.map_or(Scope::All, |(_, s)| s);
    let Some(code) = given.map(str::trim).filter(|c| !c.is_empty()) else {
        let root = within.root().map(str::to_owned);
        return Ok((within, root));
    };
    let units = db::units::all(conn)?;
    if !units.iter().any(|u| u.code == code) || !within.contains(&units, code) {
        anyhow::bail!("there is no unit \"{code}\" (inside your scope); --scope takes a unit code");
    }
    Ok((Scope::of(Some(code)), Some(code.to_owned())))
}

/// Runs `change` and appends its audit entry (`detail` from what it returned) in one
/// transaction: the change is not kept without its entry.
pub(crate) fn audited<T, E: From<diesel::result::Error>>(
    conn: &mut db::DbConn,
    actor: &str,
    action: &str,
    change: impl FnOnce(&mut db::DbConn) -> Result<T, E>,
    detail: impl FnOnce(&T) -> String,
) -> Result<T, E> {
    db::write_tx(conn, |conn| {
        let done = change(conn)?;
        crate::auth::record(conn, actor, action, &detail(&done))?;
        Ok(done)
    })
}

/// Opens the database for a command that touches waves, closing first those whose closing
/// time has passed (as `sanping serve` does by itself).
fn open_waves(config: Config) -> anyhow::Result<AppState> {
    let state = open(config)?;
    let mut conn = state
        .pool
        .get()
        .context("cannot get a database connection")?;
    for id in crate::deadline::close_overdue(&mut conn)? {
        eprintln!("wave {id} is closed: its closing time has passed");
    }
    drop(conn);
    Ok(state)
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::from_args(&cli.config)?;
    let actor = actor(cli.actor.as_deref());
    let actor = actor.as_str();
    match cli.command {
        Command::Serve => serve(config),
        Command::Migrate => {
            let pool = db::pool(&config.database, 1, config.db_timeout, config.pgbouncer)?;
            let mut conn = pool.get().context("cannot get a database connection")?;
            let n = db::migrate(&mut conn)?;
            println!("{n} migration(s) applied ({})", config.database.backend());
            Ok(())
        }
        Command::Config => {
            for (key, value) in config.describe() {
                println!("{key:<20} {value}");
            }
            Ok(())
        }
        Command::Survey(cmd) => survey::run(cmd),
        Command::Units(cmd) => roster::units(&open(config)?, cmd, actor, cli.actor.as_deref()),
        Command::People(cmd) => roster::people(&open(config)?, cmd, actor, cli.actor.as_deref()),
        Command::Wave(cmd) => wave::run(&open_waves(config)?, cmd, actor, cli.actor.as_deref()),
        Command::Mail(cmd) => mail::run(&open(config)?, cmd, cli.actor.as_deref()),
        Command::Report(args) => {
            report::run(&open_waves(config)?, args, actor, cli.actor.as_deref())
        }
        Command::Admin(cmd) => admin::run(&open(config)?, cmd, actor, cli.actor.as_deref()),
        Command::Token(cmd) => token::run(&open(config)?, cmd, actor, cli.actor.as_deref()),
        Command::Audit { limit, scope } => admin::audit(
            &open(config)?,
            limit,
            cli.actor.as_deref(),
            scope.as_deref(),
        ),
        Command::Demo(args) => demo::run(config, &cli.config, args),
    }
}

/// Opens the database (running migrations) for a command. A command signs and reads no
/// session cookies, so with PostgreSQL and no `SANPING_SECRET` it gets a throwaway secret;
/// only `serve` (and `demo`, which serves) needs the real one.
fn open(mut config: Config) -> anyhow::Result<AppState> {
    if config.secret.is_none() && matches!(config.database, db::DbTarget::Postgres(_)) {
        config.secret = Some(format!(
            "{}{}",
            crate::domain::token::random_id(),
            crate::domain::token::random_id()
        ));
    }
    AppState::open(config)
}

pub(crate) fn serve(config: Config) -> anyhow::Result<()> {
    let state = AppState::open(config)?;
    let worker = crate::mail::worker::spawn(
        state.clone(),
        crate::mail::Mailer::from_config(&state.config)?,
    );
    crate::deadline::spawn(state.pool.clone(), crate::deadline::TICK);
    let (server, addr) = crate::web::server::server(state.clone())?;
    tracing::info!(%addr, base_url = %state.config.base_url, database = state.config.database.backend(), "sanping is listening");
    println!("三评 sanping: http://{addr}/");
    let served = actix_web::rt::System::new()
        .block_on(server)
        .context("the web server failed");
    // SIGTERM (or SIGINT) stopped the server gracefully: let the mail in hand finish, so
    // none stays leased for minutes.
    if !worker.stop(std::time::Duration::from_secs(30)) {
        tracing::warn!(
            "the mail worker did not finish within 30 s; its mail stays leased until the lease runs out"
        );
    }
    served
}
