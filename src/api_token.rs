//! API tokens: made for an account (shown once, stored as sha256, like the survey tokens),
//! revoked, and checked on every `/api/v1` request. A token acts as its account: the role,
//! the scope and whether the account is disabled are read from the account each time, so a
//! disabled account's tokens stop working at once and a changed role or scope applies to
//! the next request. The console, the CLI and the API share these functions and their
//! audit entries (`token.create`, `token.revoke`).

use chrono::{NaiveDateTime, Utc};

use crate::auth::{self, Role};
use crate::db::api_tokens::{self, ApiToken};
use crate::db::{self, DbConn, accounts};
use crate::domain::token;

/// The prefix of every API token: it says what the secret is when it turns up in a log or
/// a repository.
pub const PREFIX: &str = "sp_";
/// Requests per minute a new token may make unless told otherwise.
pub const DEFAULT_PER_MINUTE: i32 = 120;
/// The longest label accepted.
const MAX_LABEL: usize = 100;

/// Why a token could not be made or revoked.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// No such account (or, for a revocation, no such token of the account).
    #[error("{0}")]
    NotFound(String),
    /// Bad input, explained (in both languages: the console shows it).
    #[error("{0}")]
    Invalid(crate::error::Msg),
    /// The database failed.
    #[error("database error: {0}")]
    Db(#[from] diesel::result::Error),
}

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// Makes a token for `username`, audited as `token.create` by `actor`. Returns the stored
/// row and the token itself, which is not kept anywhere: show it once.
pub fn create(
    conn: &mut DbConn,
    actor: &str,
    username: &str,
    label: &str,
    per_minute: i32,
) -> Result<(ApiToken, String), TokenError> {
    let label = label.trim();
    if label.chars().count() > MAX_LABEL || label.chars().any(char::is_control) {
        return Err(TokenError::Invalid(crate::error::Msg::new(
            format!("备注最多 {MAX_LABEL} 个字符，且不能含控制字符。"),
            format!("a label has at most {MAX_LABEL} characters and no control characters"),
        )));
    }
    if !(1..=100_000).contains(&per_minute) {
        return Err(TokenError::Invalid(crate::error::Msg::new(
            "每分钟请求上限须在 1 到 100000 之间。",
            "the rate limit must be between 1 and 100000 requests per minute",
        )));
    }
    let secret = format!("{PREFIX}{}", token::mint());
    let row = ApiToken {
        // 48 random bits: short enough to type in `sanping token revoke`, and the primary
        // key refuses the unlikely repeat.
        id: token::random_id()[..12].to_owned(),
        username: username.to_owned(),
        label: label.to_owned(),
        token_hash: token::hash(&secret),
        created_at: now(),
        last_used_at: None,
        revoked_at: None,
        per_minute,
        window_start: 0,
        window_count: 0,
    };
    db::write_tx(conn, |conn| {
        let Some(owner) = accounts::find_user(conn, username)? else {
            return Err(TokenError::NotFound(format!(
                "there is no account \"{username}\" (see `sanping admin add`)"
            )));
        };
        api_tokens::insert(conn, &row)?;
        // Entered in the owner's scope: its audit log shows its tokens.
        auth::record_in(
            conn,
            actor,
            "token.create",
            &format!(
                "API token {} for {username} ({} requests/min){}",
                row.id,
                per_minute,
                if label.is_empty() {
                    String::new()
                } else {
                    format!(": {label}")
                }
            ),
            owner.scope.as_deref(),
        )?;
        Ok(())
    })?;
    Ok((row, secret))
}

/// Revokes a token, audited as `token.revoke` by `actor`. With `owner`, only that account's
/// token (the console: an account revokes its own); `None` any (the CLI, run by the
/// operator). Revoking a revoked token changes nothing and is no error.
pub fn revoke(
    conn: &mut DbConn,
    actor: &str,
    id: &str,
    owner: Option<&str>,
) -> Result<ApiToken, TokenError> {
    db::write_tx(conn, |conn| {
        let found = api_tokens::find(conn, id.trim())?
            .filter(|t| owner.is_none_or(|o| o == t.username))
            .ok_or_else(|| TokenError::NotFound(format!("there is no API token \"{id}\"")))?;
        if api_tokens::revoke(conn, &found.id, now())? > 0 {
            let scope = accounts::find_user(conn, &found.username)?.and_then(|u| u.scope);
            auth::record_in(
                conn,
                actor,
                "token.revoke",
                &format!("API token {} of {}", found.id, found.username),
                scope.as_deref(),
            )?;
        }
        Ok(api_tokens::find(conn, &found.id)?.unwrap_or(found))
    })
}

/// Who a live token acts as.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's id.
    pub token_id: String,
    /// The account.
    pub username: String,
    /// The account's role now.
    pub role: Role,
    /// The account's scope now.
    pub scope: Option<String>,
    /// The token's requests per minute.
    pub per_minute: i32,
}

/// The account a token acts as: `None` when the token is unknown or revoked or its account
/// is gone or disabled. Anything that cannot be a token never reaches the database.
pub fn authenticate(conn: &mut DbConn, presented: &str) -> diesel::QueryResult<Option<Caller>> {
    let presented = presented.trim();
    let well_formed = presented
        .strip_prefix(PREFIX)
        .is_some_and(|rest| token::normalize(rest).as_deref() == Some(rest));
    if !well_formed {
        return Ok(None);
    }
    let Some(row) = api_tokens::find_by_hash(conn, &token::hash(presented))? else {
        return Ok(None);
    };
    if row.revoked_at.is_some() {
        return Ok(None);
    }
    let Some((role, _, disabled, scope)) = accounts::find_session_state(conn, &row.username)?
    else {
        return Ok(None);
    };
    if disabled {
        return Ok(None);
    }
    Ok(Some(Caller {
        token_id: row.id,
        username: row.username,
        role: Role::parse(&role).unwrap_or(Role::Viewer),
        scope,
        per_minute: row.per_minute,
    }))
}

/// What a request's count says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Within the limit: go ahead.
    Go,
    /// Over the limit: retry after this many seconds.
    Limited(u64),
    /// The token was revoked after [`authenticate`] read it: 401, as for any revoked token.
    Revoked,
}

/// Counts a request of `caller` against its per-minute limit (shared by every process on
/// the database: the count is a row of `api_tokens`), in the statement that also checks
/// the token is still live, so a revocation committed after [`authenticate`] read the token
/// stops this request too.
pub fn take_request(conn: &mut DbConn, caller: &Caller) -> diesel::QueryResult<Admission> {
    let at = now();
    let secs = at.and_utc().timestamp();
    let window = secs - secs.rem_euclid(60);
    let count = db::write_tx(conn, |conn| {
        api_tokens::count_request(conn, &caller.token_id, window, at)
    })?;
    Ok(match count {
        None => Admission::Revoked,
        Some(n) if n <= caller.per_minute => Admission::Go,
        Some(_) => Admission::Limited(u64::try_from(window + 60 - secs).unwrap_or(1).max(1)),
    })
}
