//! The JSON API, `/api/v1/…`, for what organizers automate (docs/api.md; the OpenAPI
//! document is `api/openapi.json`, served at `/api/v1/openapi.json`).
//!
//! Every request but the OpenAPI document carries `Authorization: Bearer TOKEN`. The token
//! acts as its account ([`crate::api_token`]): a missing, unknown or revoked token, or one
//! of a disabled account, is 401; past the token's requests per minute, 429 with
//! `Retry-After`; a role too small for the action 403, a secretary 404 (as in the console);
//! anything outside the account's scope 404. Errors are JSON with stable codes:
//! `{"error":{"code":"wave_not_open","message":"…"}}`. No CORS headers are sent: browsers on
//! other sites cannot call the API. Handlers call the same library functions as the console
//! and the CLI, with the same audit entries (the actor is the account; the detail names the
//! token).

pub mod openapi;
pub mod roster;
pub mod tokens_page;
pub mod waves;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web as aw};
use serde::Serialize;
use serde_json::{Value, json};

use crate::api_token::{self, Admission, Caller};
use crate::app::AppState;
use crate::auth::Role;
use crate::db::{self, DbConn};
use crate::error::AppError;
use crate::scope::Scope;
use crate::wave::WaveError;

/// An API error: a status, a stable code, a message and, for some, details (the bad rows of
/// an import).
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    details: Option<Value>,
    retry_after: Option<u64>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl ApiError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: None,
            retry_after: None,
        }
    }

    /// 404 `not_found`: what does not exist and what lies outside the account's scope alike.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such resource")
    }

    /// 400 `bad_request`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 422 with a code.
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    /// The same error with details.
    #[must_use]
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        if self.status.is_server_error() {
            tracing::error!(code = self.code, detail = %self.message, "API request failed");
        }
        let mut res = HttpResponse::build(self.status);
        if let Some(secs) = self.retry_after {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            res.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"sanping\""));
        }
        res.content_type(ContentType::json()).body(self.body())
    }
}

impl ApiError {
    /// The JSON body: `{"error":{"code","message"[,"details"]}}`.
    fn body(&self) -> String {
        let mut body = json!({"code": self.code, "message": self.message});
        if let Some(d) = &self.details {
            body["details"] = d.clone();
        }
        json!({ "error": body }).to_string()
    }

    /// The error answered with `status` before any handler ran (see [`json_errors`]).
    fn of_status(status: StatusCode) -> Self {
        let (code, message) = match status.as_u16() {
            401 => return unauthorized(),
            403 => return forbidden(),
            404 => return Self::not_found(),
            400 => ("bad_request", "the request could not be read"),
            405 => (
                "method_not_allowed",
                "this resource does not take that method",
            ),
            408 => (
                "timeout",
                "the request took too long to arrive; send it again",
            ),
            413 => (
                "too_large",
                "the request body is larger than this endpoint takes",
            ),
            415 => ("unsupported_media_type", "unsupported content type"),
            429 => ("rate_limited", "too many requests; try again later"),
            503 => ("unavailable", "the server is busy; try again shortly"),
            _ if status.is_server_error() => ("internal", "internal error"),
            _ => ("bad_request", "the request was refused"),
        };
        Self::new(status, code, message)
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound => Self::not_found(),
            AppError::BadRequest(m) => Self::bad_request(m.en),
            AppError::Unauthorized => unauthorized(),
            AppError::Forbidden => forbidden(),
            AppError::Conflict(m) => Self::new(StatusCode::CONFLICT, "conflict", m.en),
            AppError::Unprocessable(m) => Self::unprocessable("unprocessable", m.en),
            AppError::TooLarge(m) => Self::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", m.en),
            AppError::Unavailable(m) => {
                let mut e = Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", m);
                e.retry_after = Some(5);
                e
            }
            AppError::Internal(m) => internal(m),
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        AppError::from(e).into()
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        AppError::from(e).into()
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        internal(e.to_string())
    }
}

impl From<WaveError> for ApiError {
    fn from(e: WaveError) -> Self {
        let message = e.to_string();
        match e {
            WaveError::NotFound(_) => Self::not_found(),
            WaveError::State { needed, .. } => Self::new(
                StatusCode::CONFLICT,
                match needed {
                    "draft" => "wave_not_draft",
                    "open" => "wave_not_open",
                    "closed" => "wave_not_closed",
                    "published" => "wave_not_published",
                    "draft or open" => "wave_not_draft_or_open",
                    _ => "wave_state",
                },
                message,
            ),
            WaveError::Invalid(m) if m.contains("still sealed") => {
                Self::new(StatusCode::CONFLICT, "wave_sealed", m)
            }
            WaveError::Invalid(m) => Self::unprocessable("invalid", m),
            WaveError::Refused(m) if m.en.contains("still sealed") => {
                Self::new(StatusCode::CONFLICT, "wave_sealed", m.en)
            }
            WaveError::Refused(m) => Self::unprocessable("invalid", m.en),
            // Another process came first: nothing done, try again.
            WaveError::Raced(m) => Self::new(StatusCode::CONFLICT, "conflict", m.en),
            WaveError::Survey(_) => Self::unprocessable("invalid_survey", message),
            WaveError::Edit(_) => Self::unprocessable("invalid", message),
            WaveError::Db(e) => e.into(),
            WaveError::Delivery(m) => internal(m),
        }
    }
}

/// 500 `internal`: the detail is logged, never shown.
fn internal(detail: String) -> ApiError {
    tracing::error!(%detail, "API request failed");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "internal error",
    )
}

fn unauthorized() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "a valid API token is needed: Authorization: Bearer TOKEN",
    )
}

fn forbidden() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        "the account's role does not allow this",
    )
}

/// The result of an API handler.
pub type ApiResult = Result<HttpResponse, ApiError>;

/// A JSON response with status 200.
pub fn ok<T: Serialize>(value: &T) -> ApiResult {
    Ok(HttpResponse::Ok().json(value))
}

/// Runs blocking database work off the async threads.
pub async fn blocking<T: Send + 'static>(
    state: &aw::Data<AppState>,
    f: impl FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let pool = state.pool.clone();
    aw::block(move || {
        let mut conn = pool.get()?;
        f(&mut conn)
    })
    .await?
}

/// Middleware: every error answered under `/api/` is JSON with a stable code — also those
/// made before a handler runs, which would otherwise be the console's HTML page or
/// actix-web's plain text: an id in the path that is no number (404 `not_found`), a body
/// over the endpoint's limit (413 `too_large`), an unknown route (404), the server's own
/// limits (408 `timeout`, 429, 503). Headers set inside (`Retry-After`, security headers) are kept.
pub async fn json_errors(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    // The path as the router reads it (percent-decoded where safe), so `/%61pi/…` counts.
    let api = req.match_info().as_str().starts_with("/api/");
    let res = match next.call(req).await {
        Ok(res) => res.map_into_boxed_body(),
        // An error raised as such by a middleware inside (the limits' timeout): raised on
        // as an API error, which answers in JSON.
        Err(e) if api => {
            return Err(ApiError::of_status(e.as_response_error().status_code()).into());
        }
        Err(e) => return Err(e),
    };
    let status = res.status();
    let json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !api || json || !(status.is_client_error() || status.is_server_error()) {
        return Ok(res);
    }
    let body = ApiError::of_status(status).body();
    Ok(res.map_body(|head, _| {
        head.headers.insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/json"),
        );
        actix_web::body::BoxBody::new(body)
    }))
}

/// The caller of a request, checked: a live token of an enabled account (else 401), within
/// its rate limit (else 429), with at least `role` (a secretary: 404; else 403).
pub async fn caller(
    req: &HttpRequest,
    state: &aw::Data<AppState>,
    role: Role,
) -> Result<Caller, ApiError> {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| rest.to_owned())
        })
        .ok_or_else(unauthorized)?;
    let (caller, admission) = blocking(state, move |conn| {
        let Some(caller) = api_token::authenticate(conn, &presented)? else {
            return Ok((None, Admission::Revoked));
        };
        let admission = api_token::take_request(conn, &caller)?;
        Ok((Some(caller), admission))
    })
    .await?;
    let caller = caller
        .filter(|_| admission != Admission::Revoked)
        .ok_or_else(unauthorized)?;
    if let Admission::Limited(secs) = admission {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "this token may make {} requests per minute; try again in {secs} s",
                caller.per_minute
            ),
        );
        e.retry_after = Some(secs);
        return Err(e);
    }
    if caller.role == Role::Secretary && role != Role::Secretary {
        return Err(ApiError::not_found());
    }
    if caller.role < role {
        return Err(forbidden());
    }
    Ok(caller)
}

/// The caller's scope.
pub fn scope_of(caller: &Caller) -> Scope {
    Scope::of(caller.scope.as_deref())
}

/// The audit detail of an API action: the console's detail and the token it came through.
pub fn detail(caller: &Caller, detail: &str) -> String {
    format!("{detail} [API token {}]", caller.token_id)
}

/// Loads a wave (without its survey text) the caller may see: one whose scope its scope
/// covers; else 404.
pub fn visible_wave(
    conn: &mut DbConn,
    caller: &Caller,
    id: i32,
) -> Result<db::waves::WaveHead, ApiError> {
    let wave = db::waves::find_head(conn, id)?.ok_or_else(ApiError::not_found)?;
    let scope = scope_of(caller);
    // An installation-wide token sees every wave: no need to read the unit tree.
    if scope == crate::scope::Scope::All
        || scope.covers(&db::units::all(conn)?, wave.scope.as_deref())
    {
        Ok(wave)
    } else {
        Err(ApiError::not_found())
    }
}

/// `?page=&per_page=`: 1-based page, 1–200 per page (default 50).
#[derive(Debug, Clone, Copy)]
pub struct Paging {
    /// The page, from 1.
    pub page: usize,
    /// Items per page.
    pub per_page: usize,
}

/// The largest page.
pub const MAX_PER_PAGE: usize = 200;

impl Paging {
    /// Reads the query string; a bad value is a 400 `bad_pagination`.
    pub fn of(req: &HttpRequest) -> Result<Self, ApiError> {
        let read = |key: &str, default: usize, max: usize| -> Result<usize, ApiError> {
            match super::query_param(req, key) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .ok_or_else(|| {
                        ApiError::new(
                            StatusCode::BAD_REQUEST,
                            "bad_pagination",
                            format!("{key} must be a whole number from 1 to {max}"),
                        )
                    }),
            }
        };
        Ok(Self {
            page: read("page", 1, 1_000_000)?,
            per_page: read("per_page", 50, MAX_PER_PAGE)?,
        })
    }

    /// One page of `items` with the totals: `{items, page, per_page, total, pages}`.
    pub fn page<T: Serialize>(self, items: &[T]) -> Value {
        let total = items.len();
        let start = (self.page - 1).saturating_mul(self.per_page).min(total);
        let end = start.saturating_add(self.per_page).min(total);
        json!({
            "items": &items[start..end],
            "page": self.page,
            "per_page": self.per_page,
            "total": total,
            "pages": total.div_ceil(self.per_page),
        })
    }
}

/// Parses a JSON body into `T`; a bad body is 400 `bad_json` saying why.
pub fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_json",
            format!("the body is not the JSON this endpoint takes: {e}"),
        )
    })
}

/// Any other `/api/v1/…` URL: a JSON 404.
pub async fn not_found() -> ApiResult {
    Err(ApiError::not_found())
}

#[cfg(test)]
mod tests {
    use super::ApiError;
    use crate::wave::WaveError;

    /// A race lost to another request is 409 `conflict` (try again); a refusal of what was
    /// asked is 422.
    #[test]
    fn a_race_is_a_conflict_and_a_refusal_is_unprocessable() {
        for e in [
            WaveError::changed_meanwhile(3),
            WaveError::unsealed_meanwhile(3),
        ] {
            let e = ApiError::from(e);
            assert_eq!((e.status.as_u16(), e.code), (409, "conflict"), "{e}");
        }
        let e = ApiError::from(WaveError::refused("不行", "no"));
        assert_eq!((e.status.as_u16(), e.code), (422, "invalid"));
    }
}
