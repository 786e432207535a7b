//! The command line (`sanping …`): parses arguments and calls the library. Every command
//! that changes data prints what it did; every failure names what is wrong and exits non-zero.

mod admin;
mod demo;
mod mail;
mod report;
mod roster;
mod survey;
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
    /// Show the audit log of admin actions, newest first.
    Audit {
        /// How many entries.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Build a demonstration university with two answered waves (in ./sanping-demo.db
    /// unless `DATABASE_URL` is set) and serve it.
    Demo(demo::DemoArgs),
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
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

fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::from_args(&cli.config)?;
    match cli.command {
        Command::Serve => serve(config),
        Command::Migrate => {
            let pool = db::pool(&config.database, 1, config.db_timeout)?;
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
        Command::Units(cmd) => roster::units(&open(config)?, cmd),
        Command::People(cmd) => roster::people(&open(config)?, cmd),
        Command::Wave(cmd) => wave::run(&open(config)?, cmd),
        Command::Mail(cmd) => mail::run(&open(config)?, cmd),
        Command::Report(args) => report::run(&open(config)?, args),
        Command::Admin(cmd) => admin::run(&open(config)?, cmd),
        Command::Audit { limit } => admin::audit(&open(config)?, limit),
        Command::Demo(args) => demo::run(config, &cli.config, args),
    }
}

/// Opens the database (running migrations) for a command.
fn open(config: Config) -> anyhow::Result<AppState> {
    AppState::open(config)
}

pub(crate) fn serve(config: Config) -> anyhow::Result<()> {
    let state = open(config)?;
    crate::mail::worker::spawn(
        state.clone(),
        crate::mail::Mailer::from_config(&state.config)?,
    );
    let (server, addr) = crate::web::server::server(state.clone())?;
    tracing::info!(%addr, base_url = %state.config.base_url, database = state.config.database.backend(), "sanping is listening");
    println!("三评 sanping: http://{addr}/");
    actix_web::rt::System::new()
        .block_on(server)
        .context("the web server failed")
}
