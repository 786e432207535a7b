//! Admin sessions in signed cookies (no server-side state, so several server processes can
//! serve one user), role checks and CSRF tokens.
//!
//! The cookie is `HttpOnly`, `SameSite=Lax`, `Secure` when the base URL is https, and signed with
//! a key derived from `SANPING_SECRET` (or the secret kept in the database). It carries the
//! user, role, a random CSRF token and an expiry; every form posts the CSRF token back.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, CookieJar, Key, SameSite};
use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::Role;
use crate::domain::token;
use crate::error::AppError;

/// The session cookie's name.
pub const COOKIE: &str = "sp_session";
/// How long a session lasts.
const HOURS: i64 = 12;

/// A logged-in admin.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    /// Username.
    pub user: String,
    /// Role.
    pub role: Role,
    /// The CSRF token every form must carry.
    pub csrf: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
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
    /// A new session for a user.
    pub fn new(user: String, role: Role) -> Self {
        Self {
            user,
            role,
            csrf: token::random_id(),
            exp: Utc::now().timestamp() + HOURS * 3600,
        }
    }

    /// Reads and checks the session cookie of a request.
    pub fn read(req: &HttpRequest, state: &AppState) -> Option<Self> {
        let raw = req.cookie(COOKIE)?;
        let mut jar = CookieJar::new();
        jar.add_original(raw.into_owned());
        let verified = jar.signed(&key(state)).get(COOKIE)?;
        let session: Self = serde_json::from_str(verified.value()).ok()?;
        (session.exp > Utc::now().timestamp()).then_some(session)
    }

    /// The signed cookie that carries this session.
    pub fn cookie(&self, state: &AppState) -> Cookie<'static> {
        let mut jar = CookieJar::new();
        let value = serde_json::to_string(self).expect("a session serializes");
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

/// The session of a user with at least `role`: no session → redirect to the login page;
/// too small a role → 403.
pub fn require(req: &HttpRequest, state: &AppState, role: Role) -> Result<Session, AppError> {
    let Some(session) = Session::read(req, state) else {
        return Err(AppError::Unauthorized);
    };
    if session.role >= role {
        Ok(session)
    } else {
        Err(AppError::Forbidden)
    }
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
        Err(AppError::BadRequest(
            "the form has expired or its CSRF token is missing; reload the page and try again"
                .into(),
        ))
    }
}
