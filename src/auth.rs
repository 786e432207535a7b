//! Admin accounts: argon2 password hashes, roles, login throttling and the audit log.
//!
//! Throttling lives in the database so that every server process sees the same count: after
//! 5 failures for an account or an address, each further failure locks it out for twice as
//! long as the last (30 s, 1 min, … at most 15 min).

use argon2::{Argon2, PasswordHasher as _, PasswordVerifier as _};
use chrono::{NaiveDateTime, Utc};

use crate::db::accounts::{self, AuditEntry, User};
use crate::db::holders;
use crate::db::{self, DbConn};
use crate::domain::{seal, token};

/// The admin roles. A secretary is ordered lowest, but is no "viewer and less": it sees only
/// the people results of its own branch ([`crate::web::session::require`] gives it 404
/// everywhere else).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// 支部书记: the people results (民主评议) of the units inside the account's scope, and
    /// their final grades (组织评定); nothing else.
    Secretary,
    /// Results only.
    Viewer,
    /// Results, scoring sheet, exports.
    Committee,
    /// Everything.
    Organizer,
}

impl Role {
    /// Reads a role name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "organizer" => Some(Self::Organizer),
            "committee" => Some(Self::Committee),
            "viewer" => Some(Self::Viewer),
            "secretary" => Some(Self::Secretary),
            _ => None,
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Organizer => "organizer",
            Self::Committee => "committee",
            Self::Viewer => "viewer",
            Self::Secretary => "secretary",
        }
    }
}

/// Failures allowed before lockouts start.
const FREE_FAILURES: i32 = 5;

/// Why a login failed.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Wrong name or password (never says which).
    #[error("wrong username or password")]
    Wrong,
    /// The password is right but the account is disabled (`sanping admin disable`).
    #[error("this account is disabled")]
    Disabled,
    /// Too many failures: try again after this time.
    #[error("too many failed logins; try again after {0} UTC")]
    Locked(NaiveDateTime),
    /// The database failed.
    #[error("database error: {0}")]
    Db(#[from] diesel::result::Error),
}

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))
}

/// Why an account key could not be unlocked or changed.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// No such account.
    #[error("there is no account \"{0}\" (see `sanping admin add`)")]
    NoAccount(String),
    /// The password is not the account's.
    #[error("the password of {0} is wrong")]
    WrongPassword(String),
    /// A password change would make shares unusable.
    #[error(
        "{name} holds key shares of wave(s) {waves} that are not unsealed yet; a new password set \
         without the old one would make them unusable. Change it with `sanping admin password {name}`, \
         which asks for the old password"
    )]
    LiveShares {
        /// The account.
        name: String,
        /// The waves, e.g. "3, 5".
        waves: String,
    },
    /// Too many wrong passwords for this account (the login throttle, shared).
    #[error("too many wrong passwords for {0}; try again after {1} UTC")]
    Locked(String, NaiveDateTime),
    /// The database failed.
    #[error("database error: {0}")]
    Db(#[from] diesel::result::Error),
}

/// A fresh account key pair, its private half encrypted under `password`.
fn new_account_key(password: &str) -> (Vec<u8>, seal::WrappedKey) {
    let key = seal::SecretKey::generate();
    (key.public_key().to_vec(), seal::wrap(&key, password))
}

/// [`add_user_as`] by `system` (set-up code and tests).
pub fn add_user(
    conn: &mut DbConn,
    username: &str,
    role: Role,
    password: &str,
) -> anyhow::Result<()> {
    add_user_as(conn, "system", username, role, password)
}

/// Creates an account, or sets a new password and role for an existing one, audited as
/// `admin.add` by `actor`; an existing account's sessions end. Every account gets a key pair for sealed waves; a new password
/// without the old one means a new key pair, so it is refused while the account holds
/// shares of a wave not yet unsealed.
pub fn add_user_as(
    conn: &mut DbConn,
    actor: &str,
    username: &str,
    role: Role,
    password: &str,
) -> anyhow::Result<()> {
    Ok(add_scoped_user_as(
        conn, actor, None, username, role, None, password,
    )?)
}

/// Why an account was not added: a refusal a person can fix, said in both languages, or a
/// failure of the machinery.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    /// The name, role, scope or password is not accepted; the message says why.
    #[error("{0}")]
    Refused(crate::error::Msg),
    /// The database or the key machinery failed.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

impl From<diesel::result::Error> for AddError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Failed(e.into())
    }
}

impl From<KeyError> for AddError {
    fn from(e: KeyError) -> Self {
        match e {
            KeyError::LiveShares { name, waves } => refused(
                format!(
                    "{name} 持有测评 {waves} 尚未开箱的密钥份额；不凭旧密码设置新密码会使这些份额无法使用。\
                     请用 `sanping admin password {name}` 修改密码（需输入旧密码）。"
                ),
                KeyError::LiveShares { name, waves }.to_string(),
            ),
            other => Self::Failed(other.into()),
        }
    }
}

fn refused(zh: String, en: String) -> AddError {
    AddError::Refused(crate::error::Msg::new(zh, en))
}

/// Who grants an account: an account's role and scope (the console's accounts page,
/// `sanping admin add --as NAME`), or `None` for the operator (the command line, set-up).
pub type Granter<'a> = Option<(Role, &'a crate::scope::Scope)>;

/// [`add_user_as`] with a scope (the code of the unit whose subtree the account sees; a
/// secretary needs one, its branch) and a granter, whose limits ([`check_grant`]) are
/// checked in the transaction that writes the account, under a lock that makes additions
/// take turns: two processes adding the same name cannot both pass the check on what was
/// there before either wrote.
pub fn add_scoped_user_as(
    conn: &mut DbConn,
    actor: &str,
    granter: Granter<'_>,
    username: &str,
    role: Role,
    scope: Option<&str>,
    password: &str,
) -> Result<(), AddError> {
    let scope = scope.map(str::trim).filter(|s| !s.is_empty());
    let name = username.trim();
    if name.is_empty() || name.chars().any(char::is_whitespace) {
        return Err(refused(
            "用户名不能为空，也不能含空格。".into(),
            "A username must be non-empty and contain no spaces.".into(),
        ));
    }
    match scope {
        None if role == Role::Secretary => {
            return Err(refused(
                "支部书记账号须指定范围：其所在支部。".into(),
                "A secretary account needs a scope (--scope UNIT_CODE): its branch.".into(),
            ));
        }
        Some(code) if crate::db::units::find(conn, code)?.is_none() => {
            return Err(refused(
                format!("没有代码为 “{code}” 的单位；范围须是单位树中的一个单位代码。"),
                format!("There is no unit \"{code}\"; a scope is a unit code of the tree."),
            ));
        }
        _ => {}
    }
    check_password(password)?;
    // The slow part (Argon2 twice) before the transaction, so the lock is held briefly.
    let (public_key, wrapped) = new_account_key(password);
    let user = User {
        username: name.to_owned(),
        password_hash: hash_password(password)?,
        role: role.as_str().to_owned(),
        created_at: now(),
        public_key: Some(public_key),
        key_salt: Some(wrapped.salt),
        sealed_key: Some(wrapped.sealed),
        session_epoch: 0,
        disabled: false,
        scope: scope.map(str::to_owned),
    };
    db::write_tx(conn, |conn| -> Result<(), AddError> {
        accounts::hold_accounts(conn)?;
        if let Some((granter, within)) = granter {
            check_grant(conn, granter, within, name, role, scope)?;
        }
        refuse_live_shares(conn, name)?;
        accounts::put_user(conn, &user)?;
        holders::unconfirm_all(conn, name)?;
        record_in(
            conn,
            actor,
            "admin.add",
            &match scope {
                Some(code) => format!("{name} as {} of {code}", role.as_str()),
                None => format!("{name} as {}", role.as_str()),
            },
            scope,
        )?;
        Ok(())
    })
}

/// Whether an account with role `granter` and scope `within` may create (or reset) account
/// `username` with `role` and `scope`: the new role at most the granter's, the new scope
/// inside the granter's, and an existing account of that name must lie inside the granter's
/// scope with a role at most the granter's (resetting its password would take it over).
///
/// [`add_scoped_user_as`] checks it again where it writes; called alone it only reads (the
/// command line asks before it reads a password).
pub fn check_grant(
    conn: &mut DbConn,
    granter: Role,
    within: &crate::scope::Scope,
    username: &str,
    role: Role,
    scope: Option<&str>,
) -> Result<(), AddError> {
    use crate::scope::Scope;
    let units = crate::db::units::all(conn)?;
    if role > granter {
        return Err(refused(
            format!(
                "只能创建角色不高于您自己（{}）的账号，不能创建 {}。",
                granter.as_str(),
                role.as_str()
            ),
            format!(
                "An account may create accounts of at most its own role ({}), not {}.",
                granter.as_str(),
                role.as_str()
            ),
        ));
    }
    let wanted = Scope::of(scope);
    if !within.includes(&units, &wanted) {
        let (own, asked) = (within.root().unwrap_or("*"), wanted.root().unwrap_or("*"));
        return Err(refused(
            format!("范围须在您自己的范围（{own}）之内：那里没有单位 “{asked}”。"),
            format!(
                "The scope must lie inside your own ({own}): there is no unit \"{asked}\" there."
            ),
        ));
    }
    if let Some(old) = accounts::find_user(conn, username.trim())? {
        let old_role = Role::parse(&old.role).unwrap_or(Role::Organizer);
        if old_role > granter || !within.includes(&units, &Scope::of(old.scope.as_deref())) {
            let name = username.trim();
            return Err(refused(
                format!("用户名 “{name}” 已被占用。"),
                format!("The username \"{name}\" is taken."),
            ));
        }
    }
    Ok(())
}

fn check_password(password: &str) -> Result<(), AddError> {
    if password.chars().count() < 8 {
        return Err(refused(
            "密码至少需要 8 个字符。".into(),
            "The password must have at least 8 characters.".into(),
        ));
    }
    Ok(())
}

fn refuse_live_shares(conn: &mut DbConn, name: &str) -> Result<(), KeyError> {
    let live = holders::live_shares_of(conn, name)?;
    if live.is_empty() {
        return Ok(());
    }
    Err(KeyError::LiveShares {
        name: name.to_owned(),
        waves: live
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// [`change_password_as`] by `system` (set-up code and tests).
pub fn change_password(
    conn: &mut DbConn,
    username: &str,
    old: &str,
    new: &str,
) -> anyhow::Result<()> {
    change_password_as(conn, "system", username, old, new)
}

/// Changes a password, knowing the old one, audited as `admin.password` by `actor`: the
/// account key is re-encrypted under the new password, so the shares it holds stay usable,
/// and the account's sessions end.
pub fn change_password_as(
    conn: &mut DbConn,
    actor: &str,
    username: &str,
    old: &str,
    new: &str,
) -> anyhow::Result<()> {
    check_password(new)?;
    let key = unlock(conn, username, old)?;
    let wrapped = seal::wrap(&key, new);
    let hash = hash_password(new)?;
    db::write_tx(conn, |conn| -> Result<(), KeyError> {
        let mut user = accounts::find_user(conn, username)?
            .ok_or_else(|| KeyError::NoAccount(username.to_owned()))?;
        user.password_hash.clone_from(&hash);
        user.public_key = Some(key.public_key().to_vec());
        user.key_salt = Some(wrapped.salt.clone());
        user.sealed_key = Some(wrapped.sealed.clone());
        accounts::put_user(conn, &user)?;
        record(conn, actor, "admin.password", username)?;
        Ok(())
    })?;
    Ok(())
}

/// Unlocks an account's private key with its password. An account from before sealing has
/// none yet: once the password is verified, its key pair is made and stored here. Wrong
/// passwords count against the account like failed logins (the same throttle), so the
/// 开箱 form is no way around it.
pub fn unlock(
    conn: &mut DbConn,
    username: &str,
    password: &str,
) -> Result<seal::SecretKey, KeyError> {
    let throttle_key = format!("user:{username}");
    if let Some(until) = locked(conn, &throttle_key)? {
        return Err(KeyError::Locked(username.to_owned(), until));
    }
    let user = accounts::find_user(conn, username)?
        .ok_or_else(|| KeyError::NoAccount(username.to_owned()))?;
    let mut wrong = || -> Result<seal::SecretKey, KeyError> {
        db::write_tx(conn, |conn| fail(conn, &throttle_key, FREE_FAILURES))?;
        Err(KeyError::WrongPassword(username.to_owned()))
    };
    if let Some(wrapped) = user.wrapped_key() {
        return seal::unwrap(&wrapped, password).or_else(|_| wrong());
    }
    if Argon2::default()
        .verify_password(password.as_bytes(), user.password_hash.as_str())
        .is_err()
    {
        return wrong();
    }
    let key = seal::SecretKey::generate();
    let wrapped = seal::wrap(&key, password);
    db::write_tx(conn, |conn| {
        accounts::set_key(conn, username, &key.public_key(), &wrapped)
    })?;
    Ok(key)
}

fn locked(conn: &mut DbConn, key: &str) -> diesel::QueryResult<Option<NaiveDateTime>> {
    Ok(accounts::throttle(conn, key)?.and_then(|(_, until)| (until > now()).then_some(until)))
}

/// Counts one failure (or, for a login, one attempt) against `key`, atomically (an upsert:
/// parallel attempts in several processes each count), and once more than `free` have
/// failed locks the key for twice as long as the last time (30 s, 1 min, … at most 15 min).
/// Returns the time until which the key is now locked, if this one went past `free`.
fn fail(conn: &mut DbConn, key: &str, free: i32) -> diesel::QueryResult<Option<NaiveDateTime>> {
    let failures = accounts::count_failure(conn, key, now())?;
    if failures <= free {
        return Ok(None);
    }
    let secs = (30i64 << (failures - free - 1).min(5)).min(900);
    let until = now() + chrono::Duration::seconds(secs);
    accounts::lock_until(conn, key, until)?;
    Ok(Some(until))
}

/// A successful login: what its session cookie carries.
#[derive(Debug, Clone)]
pub struct LoggedIn {
    /// The account.
    pub username: String,
    /// Its role now.
    pub role: Role,
    /// Its session epoch now: the session lasts until the epoch moves on.
    pub epoch: i32,
}

/// Failed attempts a pair (account, address) has before delays start.
const PAIR_FREE: i32 = FREE_FAILURES;
/// Failed attempts an address has, over all accounts, before delays start: a campus NAT
/// holds many people, so this is much higher than a pair's.
const ADDR_FREE: i32 = 50;

/// An argon2 hash of nothing anyone will type: checked for an unknown name, so that a
/// login takes as long whether the name exists or not.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&token::random_id()).expect("argon2 hashes"))
}

/// Checks a login, throttled per (account, address) and, more loosely, per address: a
/// stranger's guesses never lock the owner out from an address that has not failed, and a
/// success clears only its own pair. Each attempt is counted before its password is
/// checked, so of many parallel guesses only the allowed few are ever answered; an unknown
/// name costs the same argon2 work as a known one. A disabled account is refused even with
/// the right password. On success: the name, role and session epoch.
pub fn login(
    conn: &mut DbConn,
    username: &str,
    password: &str,
    address: &str,
) -> Result<LoggedIn, LoginError> {
    let pair_key = format!("pair:{username}|{address}");
    let addr_key = format!("addr:{address}");
    // Ok(Err(..)): refused, with the attempt's count committed.
    let user = db::write_tx(conn, |conn| -> Result<Result<_, LoginError>, LoginError> {
        for key in [&pair_key, &addr_key] {
            if let Some(until) = locked(conn, key)? {
                return Ok(Err(LoginError::Locked(until)));
            }
        }
        let over_pair = fail(conn, &pair_key, PAIR_FREE)?;
        let over_addr = fail(conn, &addr_key, ADDR_FREE)?;
        if let Some(until) = over_pair.or(over_addr) {
            return Ok(Err(LoginError::Locked(until)));
        }
        Ok(Ok(accounts::find_user(conn, username)?))
    })??;
    // Verify outside the transaction: argon2 is slow on purpose and must not hold the lock.
    let hash = user
        .as_ref()
        .map_or(decoy_hash(), |u| u.password_hash.as_str());
    let verified = Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok();
    let ok = user.is_some() && verified;
    // The outcome is recorded in a transaction that commits (an Err would roll it back).
    db::write_tx(
        conn,
        |conn| -> Result<Result<LoggedIn, LoginError>, LoginError> {
            if let (Some(u), true) = (&user, ok)
                && u.disabled
            {
                record(
                    conn,
                    &u.username,
                    "login.refused",
                    &format!("disabled account, from {address}"),
                )?;
                Ok(Err(LoginError::Disabled))
            } else if let (Some(u), true) = (&user, ok) {
                if u.public_key.is_none() {
                    // An account from before sealing gets its key pair now, while the
                    // password is at hand.
                    let (public_key, wrapped) = new_account_key(password);
                    accounts::set_key(conn, &u.username, &public_key, &wrapped)?;
                }
                // The attempt counted up front was no failure.
                accounts::clear_throttle(conn, &pair_key)?;
                accounts::uncount_failure(conn, &addr_key)?;
                record_in(conn, &u.username, "login", address, u.scope.as_deref())?;
                Ok(Ok(LoggedIn {
                    username: u.username.clone(),
                    role: Role::parse(&u.role).unwrap_or(Role::Viewer),
                    epoch: u.session_epoch,
                }))
            } else {
                // The name as typed, cut short: it is whatever a stranger sent.
                let tried: String = username.chars().take(64).collect();
                record(
                    conn,
                    "anonymous",
                    "login.failed",
                    &format!("user \"{tried}\" from {address}"),
                )?;
                Ok(Err(LoginError::Wrong))
            }
        },
    )?
}

/// Appends an entry to the audit log (inside the caller's transaction). An entry about a
/// wave — its detail starts `wave N`, as every wave action's does, from the console, the CLI
/// and the closing clock alike — carries that wave's scope, so that a scoped account's audit
/// log shows it; any other entry is installation-wide unless written with [`record_in`].
pub fn record(
    conn: &mut DbConn,
    actor: &str,
    action: &str,
    detail: &str,
) -> diesel::QueryResult<()> {
    let scope = match wave_named(detail) {
        Some(id) => crate::db::waves::find_head(conn, id)?.and_then(|w| w.scope),
        None => None,
    };
    record_in(conn, actor, action, detail, scope.as_deref())
}

/// The wave an audit detail names: `wave 12`, `wave 12: …`, `wave 12 by …`.
fn wave_named(detail: &str) -> Option<i32> {
    let rest = detail.strip_prefix("wave ")?;
    let digits: &str = &rest[..rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len())];
    digits.parse().ok()
}

/// [`record`] for an entry that concerns the subtree under unit `scope` (`None`: the whole
/// installation): a scoped account's audit log shows the entries inside its subtree.
pub fn record_in(
    conn: &mut DbConn,
    actor: &str,
    action: &str,
    detail: &str,
    scope: Option<&str>,
) -> diesel::QueryResult<()> {
    accounts::audit(
        conn,
        &AuditEntry {
            id: token::random_id(),
            at: now(),
            actor: actor.to_owned(),
            action: action.to_owned(),
            detail: detail.to_owned(),
            scope: scope.map(str::to_owned),
        },
    )
    .map(|_| ())
}

#[cfg(test)]
mod audit_tests {
    #[test]
    fn an_audit_detail_names_its_wave() {
        assert_eq!(super::wave_named("wave 12: closes at"), Some(12));
        assert_eq!(super::wave_named("wave 3"), Some(3));
        assert_eq!(super::wave_named("wave x"), None);
        assert_eq!(super::wave_named("li as organizer"), None);
    }
}
