//! The error policy at the web edge.
//!
//! - What a person can fix (a bad answer, a used link) is not an error here: handlers render
//!   their own page with the right 4xx status and a message in the page's language.
//! - [`AppError`] covers the rest: `NotFound` 404, `BadRequest` 400, `Unavailable` 503 when no
//!   database connection could be had in time, `TooLarge` 413 for a body or field past its
//!   limit (reading stops there), `Internal` 500 — logged with detail, shown as
//!   a generic page that leaks nothing.
//! - Each page is in one language, the request's: [`AppError`] carries its explanations in
//!   both ([`Msg`]) and [`localize`] renders the page in the language of the request (the
//!   bare [`ResponseError`] page, without a request, is Chinese).
//! - CLI and start-up use `anyhow` with context naming the file, line and field at fault.

use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, ResponseError};

use crate::domain::Lang;

/// An explanation shown to a person, in Chinese and English; a page shows one of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    /// 中文.
    pub zh: String,
    /// English (also what logs show).
    pub en: String,
}

impl Msg {
    /// The same explanation in both languages.
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            zh: zh.into(),
            en: en.into(),
        }
    }

    /// The text in `lang`.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }
}

impl std::fmt::Display for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.en)
    }
}

/// An error that ends a request.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The thing asked for does not exist.
    #[error("not found")]
    NotFound,
    /// The request is malformed.
    #[error("bad request: {0}")]
    BadRequest(Msg),
    /// Not logged in: the response sends the browser to the login page.
    #[error("login required")]
    Unauthorized,
    /// Logged in, but the role does not allow it.
    #[error("forbidden")]
    Forbidden,
    /// The state of the data does not allow the action; the message says why.
    #[error("conflict: {0}")]
    Conflict(Msg),
    /// Well-formed, but holds what cannot be accepted (e.g. a control character); the
    /// message says what.
    #[error("unprocessable: {0}")]
    Unprocessable(Msg),
    /// A body or one of its fields is larger than the route accepts; the message says what.
    #[error("too large: {0}")]
    TooLarge(Msg),
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
        match self {
            Self::Unavailable(d) => {
                tracing::warn!(detail = %d, "request failed: database unavailable");
            }
            Self::Internal(d) => tracing::error!(detail = %d, "request failed"),
            _ => {}
        }
        let mut res = HttpResponse::build(self.status_code());
        if matches!(self, Self::Unavailable(_)) {
            res.insert_header(("Retry-After", "5"));
        }
        res.content_type(ContentType::html())
            .body(self.page(Lang::Zh))
    }
}

impl AppError {
    /// The error page in `lang`.
    pub fn page(&self, lang: Lang) -> String {
        let zh = lang == Lang::Zh;
        let pick = |z: &'static str, e: &'static str| if zh { z } else { e };
        // 401 links to the login; every other page to the home page.
        let (href, link) = if matches!(self, Self::Unauthorized) {
            ("/admin/login", pick("登录", "Log in"))
        } else {
            ("/", pick("首页", "Home"))
        };
        let (title, lead) = match self {
            Self::NotFound => (
                pick("页面不存在", "Page not found"),
                pick("请检查地址是否正确。", "Please check the address."),
            ),
            Self::BadRequest(_) => (pick("请求无效", "Bad request"), ""),
            Self::Unauthorized => (pick("请先登录", "Please log in"), ""),
            Self::Forbidden => (
                pick("没有权限", "Not allowed"),
                pick("您的角色不能执行此操作。", "Your role does not allow this."),
            ),
            Self::Conflict(_) => (pick("无法执行", "This cannot be done now"), ""),
            Self::Unprocessable(_) => (pick("无法接受的输入", "This input cannot be accepted"), ""),
            Self::TooLarge(_) => (pick("提交的内容过大", "What was sent is too large"), ""),
            Self::Unavailable(_) => (
                pick("服务暂时繁忙", "The service is busy"),
                // The database may have gone away just after storing an answer sheet and
                // before saying so: then the link says "already submitted" on the retry.
                pick(
                    "请稍后再试（仍用同一链接）。若届时提示“已提交”，说明您的答卷已经收到。",
                    "Please try again shortly with the same link. If it then says the link was already used, your answers did arrive.",
                ),
            ),
            Self::Internal(_) => (pick("服务器内部错误", "Internal server error"), ""),
        };
        let lead = if lead.is_empty() {
            String::new()
        } else {
            format!("<p>{lead}</p>")
        };
        // Our own explanations (never a database's) are shown to the person.
        let detail = match self {
            Self::BadRequest(d)
            | Self::Conflict(d)
            | Self::Unprocessable(d)
            | Self::TooLarge(d) => format!(
                "<p class=\"notice\">{}</p>",
                handlebars::html_escape(d.get(lang))
            ),
            _ => String::new(),
        };
        format!(
            "<!doctype html><html lang=\"{}\"><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
             <link rel=\"stylesheet\" href=\"/static/style.css\">\
             <title>{title}</title><main class=\"page\"><h1>{title}</h1>{lead}{detail}\
             <p><a href=\"{href}\">{link}</a></p></main></html>",
            lang.tag()
        )
    }
}

/// Middleware: an [`AppError`] page in the language of the request (cookie `sp_lang` or
/// `?lang=`, as every page), not the Chinese one [`ResponseError`] makes without it.
pub async fn localize(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let lang = crate::web::home::lang_of(req.request());
    let res = next.call(req).await?.map_into_boxed_body();
    let page = match res
        .response()
        .error()
        .and_then(actix_web::Error::as_error::<AppError>)
    {
        Some(e) if lang != Lang::Zh => Some(e.page(lang)),
        _ => None,
    };
    Ok(match page {
        Some(html) => res.map_body(|_, _| actix_web::body::BoxBody::new(html)),
        None => res,
    })
}
