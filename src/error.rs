//! The error policy at the web edge.
//!
//! - What a person can fix (a bad answer, a used link) is not an error here: handlers render
//!   their own page with the right 4xx status and a message in the page's language.
//! - [`AppError`] covers the rest: `NotFound` 404, `BadRequest` 400, `Unavailable` 503 when no
//!   database connection could be had in time, `TooLarge` 413 for a body or field past its
//!   limit (reading stops there), `Internal` 500 — logged with detail, shown as
//!   a generic page that leaks nothing.
//! - CLI and start-up use `anyhow` with context naming the file, line and field at fault.

use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, ResponseError};

/// An error that ends a request.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The thing asked for does not exist.
    #[error("not found")]
    NotFound,
    /// The request is malformed.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// Not logged in: the response sends the browser to the login page.
    #[error("login required")]
    Unauthorized,
    /// Logged in, but the role does not allow it.
    #[error("forbidden")]
    Forbidden,
    /// The state of the data does not allow the action; the message says why.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Well-formed, but holds what cannot be accepted (e.g. a control character); the
    /// message says what.
    #[error("unprocessable: {0}")]
    Unprocessable(String),
    /// A body or one of its fields is larger than the route accepts; the message says what.
    #[error("too large: {0}")]
    TooLarge(String),
    /// No database connection in time, or the database is down.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        Self::Unavailable(e.to_string())
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::Error as E;
        match e {
            E::NotFound => Self::NotFound,
            // A connection that died under us (e.g. PostgreSQL restarted) is a 503, not a 500:
            // the pool replaces it and the next request succeeds.
            E::DatabaseError(diesel::result::DatabaseErrorKind::ClosedConnection, info) => {
                Self::Unavailable(info.message().to_owned())
            }
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        Self::Internal(e.to_string())
    }
}

impl From<handlebars::RenderError> for AppError {
    fn from(e: handlebars::RenderError) -> Self {
        Self::Internal(format!("template: {e}"))
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if matches!(self, Self::Unauthorized) {
            // 401 with a page that links (and, for browsers, refers) to the login.
            return HttpResponse::Unauthorized()
                .content_type(ContentType::html())
                .body(
                    "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\">\
                     <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
                     <link rel=\"stylesheet\" href=\"/static/style.css\"><title>请先登录</title>\
                     <main class=\"page\"><h1>请先登录</h1><p lang=\"en\">Please log in.</p>\
                     <p><a href=\"/admin/login\">登录 Log in</a></p></main></html>",
                );
        }
        let (zh, en) = match self {
            Self::NotFound => ("页面不存在", "Page not found"),
            Self::BadRequest(_) => ("请求无效", "Bad request"),
            Self::Unauthorized => ("请先登录", "Please log in"),
            Self::Forbidden => ("没有权限", "Your role does not allow this"),
            Self::Conflict(_) => ("无法执行", "This cannot be done now"),
            Self::Unprocessable(_) => ("无法接受的输入", "This input cannot be accepted"),
            Self::TooLarge(_) => ("提交的内容过大", "What was sent is too large"),
            Self::Unavailable(_) => (
                // The database may have gone away just after storing an answer sheet and
                // before saying so: then the link says "already submitted" on the retry.
                "服务暂时繁忙，请稍后再试（仍用同一链接）。若届时提示“已提交”，说明您的答卷已经收到。",
                "The service is busy; please try again shortly with the same link. If it then says the link was already used, your answers did arrive.",
            ),
            Self::Internal(_) => ("服务器内部错误", "Internal server error"),
        };
        match self {
            Self::Unavailable(d) => {
                tracing::warn!(detail = %d, "request failed: database unavailable");
            }
            Self::Internal(d) => tracing::error!(detail = %d, "request failed"),
            _ => {}
        }
        // Our own explanations (never a database's) are shown to the person.
        let detail = match self {
            Self::BadRequest(d)
            | Self::Conflict(d)
            | Self::Unprocessable(d)
            | Self::TooLarge(d) => {
                format!("<p class=\"notice\">{}</p>", handlebars::html_escape(d))
            }
            _ => String::new(),
        };
        let mut res = HttpResponse::build(self.status_code());
        if matches!(self, Self::Unavailable(_)) {
            res.insert_header(("Retry-After", "5"));
        }
        res.content_type(ContentType::html()).body(format!(
            "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
             <link rel=\"stylesheet\" href=\"/static/style.css\">\
             <title>{zh}</title><main class=\"page\"><h1>{zh}</h1><p lang=\"en\">{en}</p>{detail}\
             <p><a href=\"/\">首页 Home</a></p></main></html>"
        ))
    }
}
