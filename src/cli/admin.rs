//! `sanping admin …` and `sanping audit`.

use std::io::{BufRead as _, IsTerminal as _};

use anyhow::{Context as _, bail};

use crate::app::AppState;
use crate::auth::{self, Role};
use crate::db::accounts;

/// Account commands.
#[derive(Debug, clap::Subcommand)]
pub enum AdminCommand {
    /// Create an account, or set a new password and role for an existing one. The password
    /// is read from standard input (or asked for without echo on a terminal).
    Add {
        /// The login name.
        username: String,
        /// organizer (everything), committee (results, scoring sheet, exports), viewer
        /// (results) or secretary (the people results and final grades of one branch).
        #[arg(long)]
        role: String,
        /// The code of the unit whose subtree the account sees and changes (a university, a
        /// college; required for a secretary: their branch); none: installation-wide. With
        /// `--as` an account, the role is at most its own and the scope inside its own.
        #[arg(long)]
        scope: Option<String>,
    },
    /// Change an account's password, knowing the old one, so the key shares it holds stay
    /// usable. Reads the old password, then the new one, from standard input.
    Password {
        /// The login name.
        username: String,
    },
    /// Disable an account: it can no longer log in and its sessions end at once.
    Disable {
        /// The login name.
        username: String,
    },
    /// Enable a disabled account again (it logs in anew; old sessions stay ended).
    Enable {
        /// The login name.
        username: String,
    },
}

/// Reads one secret: asked for without echo on a terminal, else one line of standard input.
pub fn read_secret(prompt: &str) -> anyhow::Result<zeroize::Zeroizing<String>> {
    if std::io::stdin().is_terminal() {
        return Ok(zeroize::Zeroizing::new(rpassword::prompt_password(prompt)?));
    }
    let mut line = zeroize::Zeroizing::new(String::new());
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read a password from standard input")?;
    let trimmed = line.trim_end_matches(['\r', '\n']).len();
    line.truncate(trimmed);
    Ok(line)
}

fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("password: ")?;
        let again = rpassword::prompt_password("again: ")?;
        if first != again {
            bail!("the two passwords differ");
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

/// Runs an admin command.
pub fn run(
    state: &AppState,
    cmd: AdminCommand,
    actor: &str,
    acting: Option<&str>,
) -> anyhow::Result<()> {
    let (username, role, scope) = match cmd {
        AdminCommand::Add {
            username,
            role,
            scope,
        } => (username, role, scope),
        AdminCommand::Password { username } => {
            let mut conn = state
                .pool
                .get()
                .context("cannot get a database connection")?;
            super::reach::Reach::of(&mut conn, acting)?.own_or_account(
                &mut conn,
                &username,
                "the password of another account",
            )?;
            let old = read_secret("old password: ")?;
            let new = read_secret("new password: ")?;
            auth::change_password_as(&mut conn, actor, &username, &old, &new)?;
            println!(
                "the password of {username} is changed; its key is re-encrypted under it and \
                 its sessions are ended"
            );
            return Ok(());
        }
        AdminCommand::Disable { username } => {
            return set_disabled(state, (actor, acting), &username, true);
        }
        AdminCommand::Enable { username } => {
            return set_disabled(state, (actor, acting), &username, false);
        }
    };
    let Some(role) = Role::parse(&role) else {
        bail!("unknown role \"{role}\": use organizer, committee, viewer or secretary");
    };
    if role == Role::Secretary && scope.as_deref().is_none_or(|s| s.trim().is_empty()) {
        bail!(
            "a secretary account needs --scope UNIT_CODE: the branch whose people results it sees"
        );
    }
    let mut conn = state
        .pool
        .get()
        .context("cannot get a database connection")?;
    // `--as` an account: at most its role, inside its scope (as on the console's page);
    // checked before the password is asked for, and again where the account is written.
    super::reach::Reach::of(&mut conn, acting)?.require(Role::Organizer, "adding accounts")?;
    let granter = super::acting(&mut conn, acting)?;
    if let Some((role_of, within)) = &granter {
        auth::check_grant(
            &mut conn,
            *role_of,
            within,
            &username,
            role,
            scope.as_deref(),
        )?;
    }
    let password = read_password()?;
    auth::add_scoped_user_as(
        &mut conn,
        actor,
        granter.as_ref().map(|(r, s)| (*r, s)),
        &username,
        role,
        scope.as_deref(),
        &password,
    )?;
    println!(
        "account {username} ({}) saved; log in at {}/admin/login",
        role.as_str(),
        state.config.base_url
    );
    Ok(())
}

/// `admin disable` / `admin enable`, audited as `admin.disable` / `admin.enable`; with
/// `--as` an account, only of accounts inside its scope and at most its role.
fn set_disabled(
    state: &AppState,
    (actor, acting): (&str, Option<&str>),
    username: &str,
    disabled: bool,
) -> anyhow::Result<()> {
    let mut conn = state
        .pool
        .get()
        .context("cannot get a database connection")?;
    let action = if disabled {
        "admin.disable"
    } else {
        "admin.enable"
    };
    super::audited(
        &mut conn,
        actor,
        action,
        |conn| -> anyhow::Result<()> {
            // Checked where the account is written, taking turns with account changes: both
            // accounts are read again under the lock.
            accounts::hold_accounts(conn)?;
            let reach = super::reach::Reach::of(conn, acting)?;
            reach.require(Role::Organizer, "disabling and enabling accounts")?;
            reach.account(conn, username)?;
            if accounts::set_disabled(conn, username, disabled)? == 0 {
                bail!("there is no account \"{username}\" (see `sanping admin add`)");
            }
            Ok(())
        },
        |()| username.to_owned(),
    )?;
    if disabled {
        println!("account {username} is disabled: it cannot log in and its sessions are ended");
    } else {
        println!("account {username} is enabled again; it can log in");
    }
    Ok(())
}

/// `sanping audit`: the newest entries of the audit log.
pub fn audit(
    state: &AppState,
    limit: i64,
    acting: Option<&str>,
    scope: Option<&str>,
) -> anyhow::Result<()> {
    let mut conn = state
        .pool
        .get()
        .context("cannot get a database connection")?;
    let reach = super::reach::Reach::of(&mut conn, acting)?;
    reach.require(Role::Organizer, "reading the audit log")?;
    let within = reach.scope();
    let entries = match (within, scope) {
        (crate::scope::Scope::All, None) => accounts::audit_entries(&mut conn, limit)?,
        (within, given) => {
            let units = crate::db::units::all(&mut conn)?;
            let sight = match given {
                Some(code) if within.contains(&units, code) => crate::scope::Scope::of(Some(code)),
                Some(code) => bail!("there is no unit \"{code}\" (inside your scope)"),
                None => within,
            };
            let codes: Vec<String> = sight.codes(&units).into_iter().map(str::to_owned).collect();
            accounts::audit_entries_in(&mut conn, &codes, limit)?
        }
    };
    for e in entries {
        println!(
            "{}  {:<12} {:<16} {}",
            crate::web::respond::local_time(e.at),
            e.actor,
            e.action,
            e.detail
        );
    }
    Ok(())
}
