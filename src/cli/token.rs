//! `sanping token …`: API tokens for `/api/v1` (see docs/api.md).

use anyhow::Context as _;

use crate::api_token;
use crate::app::AppState;
use crate::db::api_tokens;

/// API token commands.
#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Make an API token for an account and print it, once: only its hash is kept. The
    /// token acts as the account (its role and scope, read on every request).
    Create {
        /// The account's username.
        name: String,
        /// What the token is for (shown in lists).
        #[arg(long, default_value = "")]
        label: String,
        /// Requests per minute the token may make (over it: 429).
        #[arg(long, default_value_t = api_token::DEFAULT_PER_MINUTE)]
        per_minute: i32,
    },
    /// Revoke an API token by its id (see `sanping token list`).
    Revoke {
        /// The token's id.
        id: String,
    },
    /// List an account's API tokens (never the tokens themselves).
    List {
        /// The account's username.
        name: String,
    },
}

/// Runs a token command. With `--as` an account (`acting`), for its own tokens, or as an
/// organizer for the accounts it may act on — inside its scope, at most its role
/// ([`super::reach::Reach::own_or_account`]): a token acts as its account.
pub fn run(
    state: &AppState,
    cmd: TokenCommand,
    actor: &str,
    acting: Option<&str>,
) -> anyhow::Result<()> {
    let mut conn = state
        .pool
        .get()
        .context("cannot get a database connection")?;
    // As the console's tokens page: any role but a branch secretary's.
    let reach_of = |conn: &mut crate::db::DbConn| {
        let reach = super::reach::Reach::of(conn, acting)?;
        reach.require(crate::auth::Role::Viewer, "API tokens")?;
        anyhow::Ok(reach)
    };
    let what = "an API token of another account";
    match cmd {
        TokenCommand::Create {
            name,
            label,
            per_minute,
        } => {
            // The check and the token in one transaction, taking turns with account changes:
            // both accounts are read again under the lock (a role changed meanwhile cannot
            // slip through).
            let (row, secret) = crate::db::write_tx(&mut conn, |conn| {
                crate::db::accounts::hold_accounts(conn)?;
                reach_of(conn)?.own_or_account(conn, &name, what)?;
                anyhow::Ok(api_token::create(conn, actor, &name, &label, per_minute)?)
            })?;
            eprintln!(
                "API token {} for {name} ({per_minute} requests/min). It is shown only now: \
                 store it where your automation reads it.",
                row.id
            );
            println!("{secret}");
        }
        TokenCommand::Revoke { id } => {
            let row = crate::db::write_tx(&mut conn, |conn| {
                crate::db::accounts::hold_accounts(conn)?;
                let reach = reach_of(conn)?;
                // A token of an account outside reads as no token at all (its owner's name
                // is not told).
                if let Some(t) = api_tokens::find(conn, id.trim())?
                    && reach.own_or_account(conn, &t.username, what).is_err()
                {
                    anyhow::bail!("there is no API token \"{id}\"");
                }
                anyhow::Ok(api_token::revoke(conn, actor, &id, None)?)
            })?;
            println!("API token {} of {} is revoked", row.id, row.username);
        }
        TokenCommand::List { name } => {
            reach_of(&mut conn)?.own_or_account(&mut conn, &name, what)?;
            let rows = api_tokens::of_user(&mut conn, &name)?;
            if rows.is_empty() {
                println!("{name} has no API tokens (sanping token create {name})");
            }
            for t in rows {
                println!(
                    "{}  {}  created {}  last used {}  {}/min  {}",
                    t.id,
                    if t.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "live   "
                    },
                    t.created_at.format("%Y-%m-%d %H:%M"),
                    t.last_used_at.map_or_else(
                        || "never".to_owned(),
                        |a| a.format("%Y-%m-%d %H:%M").to_string()
                    ),
                    t.per_minute,
                    super::printable(&t.label)
                );
            }
        }
    }
    Ok(())
}
