//! Admin sessions in signed cookies, role checks and CSRF tokens.
//!
//! The cookie is `HttpOnly`, `SameSite=Lax`, `Secure` when the base URL is https, and signed with
//! a key derived from `SANPING_SECRET` or the key file (never from anything in the database).
//! It carries the account, the account's session epoch when it was made, a random CSRF token
//! and an expiry; every form posts the CSRF token back. Each request reads the account: it
//! must exist, not be disabled and still have that epoch, and its role now is what counts.
//! Logout, a new password or role and disabling move the epoch on, so a session ends on
//! every server process at its next request, and every copy of its cookie with it.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, CookieJar, Key, SameSite};
use actix_web::web as aw;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::Role;
use crate::db::accounts;
use crate::domain::token;
use crate::error::AppError;

/// The session cookie's name.
pub const COOKIE: &str = "sp_session";
/// How long a session lasts.
const HOURS: i64 = 12;

/// A logged-in admin, checked against the account.
#[derive(Debug, Clone)]
pub struct Session {
    /// Username.
    pub user: String,
    /// The account's role now (not when the session was made).
    pub role: Role,
    /// The account's scope now: the unit code whose subtree a secretary sees.
    pub scope: Option<String>,
    /// The account's session epoch the cookie was made under.
    pub epoch: i32,
    /// The CSRF token every form must carry.
    pub csrf: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
}

/// What the cookie carries. No role: it is read from the account on every request.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    user: String,
    epoch: i32,
    csrf: String,
    exp: i64,
}

fn key(state: &AppState) -> Key {
    use sha2::Digest as _;
    // Key::derive_from needs 32+ bytes of key material; hashing gives exactly that from any secret.
    Key::derive_from(&sha2::Sha512::digest(state.secret.as_bytes()))
}

fn secure(state: &AppState) -> bool {
    state.config.base_url.starts_with("https://")
}

impl Session {
    /// A new session for an account with this role and session epoch.
    pub fn new(user: String, role: Role, epoch: i32) -> Self {
        Self {
            user,
            role,
            scope: None,
            epoch,
            csrf: token::random_id(),
            exp: Utc::now().timestamp() + HOURS * 3600,
        }
    }

    /// The signed cookie that carries this session.
    pub fn cookie(&self, state: &AppState) -> Cookie<'static> {
        let mut jar = CookieJar::new();
        let claims = Claims {
            user: self.user.clone(),
            epoch: self.epoch,
            csrf: self.csrf.clone(),
            exp: self.exp,
        };
        let value = serde_json::to_string(&claims).expect("a session serializes");
        jar.signed_mut(&key(state)).add(base(COOKIE, value, state));
        jar.get(COOKIE).cloned().expect("just added")
    }

    /// A cookie that ends the session.
    pub fn clear(state: &AppState) -> Cookie<'static> {
        let mut c = base(COOKIE, String::new(), state);
        c.make_removal();
        c
    }
}

fn base(name: &'static str, value: String, state: &AppState) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure(state))
        .finish()
}

/// The signed, unexpired claims of a request's session cookie (not yet checked against the
/// account).
fn claims(req: &HttpRequest, state: &AppState) -> Option<Claims> {
    let raw = req.cookie(COOKIE)?;
    let mut jar = CookieJar::new();
    jar.add_original(raw.into_owned());
    let verified = jar.signed(&key(state)).get(COOKIE)?;
    let claims: Claims = serde_json::from_str(verified.value()).ok()?;
    (claims.exp > Utc::now().timestamp()).then_some(claims)
}

/// The live session of a request, if any: a signed, unexpired cookie of an account that
/// exists, is not disabled and still has the cookie's epoch; the role is the account's now.
pub async fn read(req: &HttpRequest, state: &AppState) -> Result<Option<Session>, AppError> {
    let Some(claims) = claims(req, state) else {
        return Ok(None);
    };
    let pool = state.pool.clone();
    let user = claims.user.clone();
    // One primary-key read per admin request, off the async threads like all database work.
    let account = aw::block(move || -> Result<_, AppError> {
        let mut conn = pool.get()?;
        Ok(accounts::find_session_state(&mut conn, &user)?)
    })
    .await??;
    Ok(account.and_then(|(role, epoch, disabled, scope)| {
        (!disabled && epoch == claims.epoch).then(|| Session {
            role: Role::parse(&role).unwrap_or(Role::Viewer),
            scope,
            user: claims.user,
            epoch: claims.epoch,
            csrf: claims.csrf,
            exp: claims.exp,
        })
    }))
}

/// The session of a user with at least `role`: no live session → 401 (the login page);
/// a secretary → 404 (the console's other pages do not exist for it); too small a role
/// now → 403.
pub async fn require(req: &HttpRequest, state: &AppState, role: Role) -> Result<Session, AppError> {
    let session = require_any(req, state).await?;
    if session.role == Role::Secretary && role != Role::Secretary {
        return Err(AppError::NotFound);
    }
    if session.role >= role {
        Ok(session)
    } else {
        Err(AppError::Forbidden)
    }
}

/// The session of any live account, a secretary's too: no live session → 401. For the
/// pages every account has (logging out, the list of waves, people results), which check
/// what the role may see themselves.
pub async fn require_any(req: &HttpRequest, state: &AppState) -> Result<Session, AppError> {
    read(req, state).await?.ok_or(AppError::Unauthorized)
}

/// Checks the CSRF token posted with a form.
pub fn check_csrf(session: &Session, fields: &[(String, String)]) -> Result<(), AppError> {
    let posted = fields
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str());
    if posted == Some(session.csrf.as_str()) {
        Ok(())
    } else {
        Err(AppError::BadRequest(crate::error::Msg::new(
            "表单已过期或缺少校验码，请刷新页面后重试。",
            "the form has expired or its CSRF token is missing; reload the page and try again",
        )))
    }
}
