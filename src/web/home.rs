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
    /// This process's mail worker: `running`, `stalled` (no sign of life for two minutes)
    /// or `off` (none in this process).
    mail_worker: &'static str,
    /// Mails due now and not sent yet, installation-wide.
    mail_due: i64,
    /// How long the oldest of them has been due, in seconds.
    mail_oldest_due_seconds: i64,
}

/// How long a mail worker may show no life before it counts as stalled.
const STALLED_AFTER_SECS: i64 = 120;

/// `GET /healthz`: 200 when a database round trip works and this process's mail worker (if
/// it has one) is alive; 503 otherwise. Also says how long due mails have been waiting.
pub async fn healthz(state: aw::Data<AppState>) -> HttpResponse {
    let backend = state.config.database.backend();
    let beat = state.mail_beat.load(std::sync::atomic::Ordering::SeqCst);
    let now = chrono::Utc::now();
    let mail_worker = match beat {
        0 => "off",
        b if now.timestamp() - b > STALLED_AFTER_SECS => "stalled",
        _ => "running",
    };
    let pool = state.pool.clone();
    let due = aw::block(move || -> Result<_, AppError> {
        let mut conn = pool.get()?;
        Ok(crate::db::outbox::due(&mut conn, now.naive_utc())?)
    })
    .await;
    let (status, (mail_due, oldest)) = match due {
        Ok(Ok(due)) if mail_worker != "stalled" => ("ok", due),
        Ok(Ok(due)) => ("stalled", due),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "health check failed");
            ("unavailable", (0, None))
        }
        Err(_) => ("unavailable", (0, None)),
    };
    let body = Health {
        status,
        database: backend,
        mail_worker,
        mail_due,
        mail_oldest_due_seconds: oldest.map_or(0, |t| (now.naive_utc() - t).num_seconds().max(0)),
    };
    if status == "ok" {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// Anything not in the route table.
pub async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}
