//! The home page, the health check and the placeholder admin login.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web as aw};
use serde::Serialize;

use super::i18n::{Strings, strings};
use super::templates::page;
use crate::app::AppState;
use crate::domain::Lang;
use crate::error::AppError;

/// What the page layout needs.
#[derive(Serialize)]
pub struct Layout {
    /// `<html lang>`.
    pub lang: &'static str,
    /// The page title.
    pub title: String,
    /// The fixed strings in the page's language.
    pub t: &'static Strings,
    /// Link to the same page in the other language.
    pub switch_href: String,
}

impl Layout {
    /// The layout of a page at `path` in `lang`.
    pub fn new(lang: Lang, title: impl Into<String>, path: &str) -> Self {
        Self {
            lang: lang.tag(),
            title: title.into(),
            t: strings(lang),
            switch_href: switch_href(lang, path),
        }
    }
}

/// The link from the page at `path` in `lang` to the same page in the other language.
pub fn switch_href(lang: Lang, path: &str) -> String {
    let other = if lang == Lang::En { "zh" } else { "en" };
    format!(
        "/lang/{other}?back={}",
        percent_encoding::utf8_percent_encode(path, percent_encoding::NON_ALPHANUMERIC)
    )
}

/// The cookie that remembers the chosen language.
pub const LANG_COOKIE: &str = "sp_lang";

/// The page's language: `?lang=` if given, else the remembered choice, else Chinese.
pub fn lang_of(req: &HttpRequest) -> Lang {
    let query = req.query_string();
    let value = query.split('&').find_map(|kv| kv.strip_prefix("lang="));
    match value {
        Some(v) => Lang::from_param(Some(v)),
        None => Lang::from_param(
            req.cookie(LANG_COOKIE)
                .as_ref()
                .map(actix_web::cookie::Cookie::value),
        ),
    }
}

#[derive(Serialize)]
struct HomePage {
    layout: Layout,
}

/// `GET /`.
pub async fn index(req: HttpRequest, state: aw::Data<AppState>) -> Result<HttpResponse, AppError> {
    let lang = lang_of(&req);
    let ctx = HomePage {
        layout: Layout::new(lang, strings(lang).site, "/"),
    };
    page(&state.templates, StatusCode::OK, "pages/home", &ctx)
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    database: &'static str,
}

/// `GET /healthz`: 200 when a database round trip works, 503 otherwise.
pub async fn healthz(state: aw::Data<AppState>) -> HttpResponse {
    let backend = state.config.database.backend();
    let pool = state.pool.clone();
    let ok = aw::block(move || -> Result<(), AppError> {
        use diesel::connection::SimpleConnection as _;
        let mut conn = pool.get()?;
        conn.batch_execute("SELECT 1")?;
        Ok(())
    })
    .await;
    match ok {
        Ok(Ok(())) => HttpResponse::Ok().json(Health {
            status: "ok",
            database: backend,
        }),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "health check failed");
            HttpResponse::ServiceUnavailable().json(Health {
                status: "unavailable",
                database: backend,
            })
        }
        Err(_) => HttpResponse::ServiceUnavailable().json(Health {
            status: "unavailable",
            database: backend,
        }),
    }
}

/// Anything not in the route table.
pub async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}
