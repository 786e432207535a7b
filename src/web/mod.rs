//! The web server: the one route table, request logging, page rendering and handlers.

pub mod admin;
pub mod api;
pub mod assess;
pub mod form_cache;
pub mod guard;
pub mod home;
pub mod i18n;
pub mod limits;
pub mod log;
pub mod rate;
pub mod receipts;
pub mod respond;
pub mod server;
pub mod session;
pub mod survey_text;
pub mod templates;

use actix_web::web as aw;

use crate::error::AppError;

/// The central route table: every URL the server answers is listed here.
pub fn routes(cfg: &mut aw::ServiceConfig) {
    // A path that does not parse (`/admin/waves/abc`) names nothing: our 404 page, in the
    // page's language, not actix's English plain text.
    cfg.app_data(aw::PathConfig::default().error_handler(|_, _| AppError::NotFound.into()));
    cfg.route("/", aw::get().to(home::index))
        .route("/healthz", aw::get().to(home::healthz))
        .route("/lang/{code}", aw::get().to(admin::set_lang))
        .route("/admin/login", aw::get().to(admin::login_form))
        .route("/admin/login", aw::post().to(admin::login))
        .route("/admin/logout", aw::post().to(admin::logout))
        .route("/admin", aw::get().to(admin::waves::index))
        .route("/admin/audit", aw::get().to(admin::audit))
        .route("/admin/accounts", aw::get().to(admin::accounts_page::index))
        .route("/admin/accounts", aw::post().to(admin::accounts_page::add))
        .route("/admin/units", aw::get().to(admin::units_page))
        .route("/admin/units", aw::post().to(admin::upload))
        .route("/admin/people", aw::get().to(admin::people_page))
        .route("/admin/people", aw::post().to(admin::upload))
        .route(
            "/admin/people/status",
            aw::post().to(admin::roster_status::person),
        )
        .route(
            "/admin/units/{code}/status",
            aw::post().to(admin::roster_status::unit),
        )
        .route("/admin/surveys", aw::get().to(admin::surveys_page))
        .route("/admin/waves/new", aw::get().to(admin::wave_new::new_form))
        .route("/admin/waves", aw::post().to(admin::wave_new::create))
        .route("/admin/waves/{id}", aw::get().to(admin::waves::show))
        .route(
            "/admin/waves/{id}/slips",
            aw::post().to(admin::waves::slips),
        )
        .route(
            "/admin/waves/{id}/extend",
            aw::post().to(admin::waves::extend),
        )
        .route(
            "/admin/waves/{id}/check-key",
            aw::post().to(admin::keys::check_key),
        )
        .route(
            "/admin/waves/{id}/unseal",
            aw::get().to(admin::keys::unseal_form),
        )
        .route(
            "/admin/waves/{id}/unseal",
            aw::post().to(admin::keys::unseal),
        )
        .route(
            "/admin/waves/{id}/people",
            aw::get().to(admin::people::show),
        )
        .route(
            "/admin/waves/{id}/people.{format}",
            aw::get().to(admin::people::export),
        )
        .route(
            "/admin/waves/{id}/people/grade",
            aw::post().to(admin::people::grade),
        )
        .route(
            "/admin/waves/{id}/edit",
            aw::get().to(admin::wave_edit::edit_form),
        )
        .route(
            "/admin/waves/{id}/edit",
            aw::post().to(admin::wave_edit::save),
        )
        .route(
            "/admin/waves/{id}/preview",
            aw::get().to(admin::preview::show),
        )
        .route(
            "/admin/waves/{id}/{action}",
            aw::get().to(admin::waves::confirm),
        )
        .route(
            "/admin/waves/{id}/{action}",
            aw::post().to(admin::waves::act),
        )
        .route("/admin/results/{id}", aw::get().to(admin::results::show))
        .route(
            "/admin/results/{id}/unit/{code}",
            aw::get().to(admin::results::unit),
        )
        .route(
            "/admin/results/{id}/print",
            aw::get().to(admin::print::show),
        )
        .route(
            "/admin/results/{id}/tree",
            aw::get().to(admin::results::tree),
        )
        .route(
            "/admin/results/{id}/export/{format}",
            aw::get().to(admin::results::export),
        )
        .route("/admin/tokens", aw::get().to(api::tokens_page::show))
        .route("/admin/tokens", aw::post().to(api::tokens_page::create))
        .route(
            "/admin/tokens/{id}/revoke",
            aw::post().to(api::tokens_page::revoke),
        )
        .configure(api_routes)
        .route("/static/{file}", aw::get().to(templates::asset))
        .route("/s", aw::get().to(respond::enter_code))
        .service(
            aw::resource("/s/{token}")
                // A self-assessment holds up to 2000 characters of evidence per item; anything
                // larger is forged and refused before parsing. A people wave's rating sheet has
                // a tighter bound per rater (`rate::max_body`).
                .app_data(aw::PayloadConfig::new(512 * 1024))
                .route(aw::get().to(respond::show))
                .route(aw::post().to(respond::submit)),
        )
        .service(
            aw::resource("/s/{token}/u/{unit}")
                .app_data(aw::PayloadConfig::new(64 * 1024))
                .route(aw::get().to(assess::org_unit_show))
                .route(aw::post().to(assess::org_unit_save)),
        )
        .route("/w/{wave}/receipts", aw::get().to(receipts::receipts))
        .default_service(aw::to(home::not_found));
}

/// The JSON API's routes (docs/api.md), part of the route table above. The OpenAPI document
/// (`web/api/openapi.json`) must list exactly these: a test reads them from this file.
fn api_routes(cfg: &mut aw::ServiceConfig) {
    cfg.route("/api/v1/openapi.json", aw::get().to(api::openapi::document))
        .route("/api/v1/units", aw::get().to(api::roster::list))
        .service(
            aw::resource("/api/v1/units/import")
                .app_data(aw::PayloadConfig::new(8 * 1024 * 1024))
                .route(aw::post().to(api::roster::import_units)),
        )
        .service(
            aw::resource("/api/v1/people/import")
                .app_data(aw::PayloadConfig::new(8 * 1024 * 1024))
                .route(aw::post().to(api::roster::import_people)),
        )
        .route("/api/v1/waves", aw::get().to(api::waves::list))
        .route("/api/v1/waves", aw::post().to(api::waves::create))
        .route("/api/v1/waves/{id}", aw::get().to(api::waves::show))
        .route("/api/v1/waves/{id}/open", aw::post().to(api::waves::open))
        .route(
            "/api/v1/waves/{id}/remind",
            aw::post().to(api::waves::remind),
        )
        .route("/api/v1/waves/{id}/close", aw::post().to(api::waves::close))
        .route(
            "/api/v1/waves/{id}/publish",
            aw::post().to(api::waves::publish),
        )
        .route(
            "/api/v1/waves/{id}/extend",
            aw::post().to(api::waves::extend),
        )
        .route(
            "/api/v1/waves/{id}/progress",
            aw::get().to(api::waves::progress),
        )
        .route("/api/v1/waves/{id}/mail", aw::get().to(api::waves::mail))
        .route(
            "/api/v1/waves/{id}/report",
            aw::get().to(api::waves::report),
        )
        .route(
            "/api/v1/waves/{id}/record",
            aw::get().to(api::waves::record),
        )
        .route(
            "/api/v1/waves/{id}/receipts",
            aw::get().to(api::waves::receipts),
        )
        .route("/api/v1/{tail:.*}", aw::to(api::not_found));
}

/// The usual security headers on every response: a strict Content-Security-Policy (no
/// scripts, no inline styles, nothing from elsewhere), no framing, no MIME sniffing, and no
/// Referer — a respondent's URL carries their token and must not leak to another site.
/// Nothing is cached (pages carry tokens, results and personal data; static files say
/// otherwise for themselves), and with an https base URL browsers are told to stay on https.
pub fn security_headers(https: bool) -> actix_web::middleware::DefaultHeaders {
    let headers = actix_web::middleware::DefaultHeaders::new()
        .add((
            "Content-Security-Policy",
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "no-referrer"))
        .add(("Permissions-Policy", "camera=(), microphone=(), geolocation=()"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
        .add(("Cache-Control", "no-store"));
    if https {
        headers.add(("Strict-Transport-Security", "max-age=31536000"))
    } else {
        headers
    }
}

/// A query-string parameter, percent-decoded (`+` as space).
pub fn query_param(req: &actix_web::HttpRequest, key: &str) -> Option<String> {
    req.query_string().split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| {
            percent_encoding::percent_decode_str(&v.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

/// A posted form, or a 422 that says why it cannot be read (see [`respond::parse_form`]).
pub fn form(body: &[u8]) -> Result<Vec<(String, String)>, crate::error::AppError> {
    respond::parse_form(body).ok_or_else(|| {
        crate::error::AppError::Unprocessable(crate::error::Msg::new(
            "表单含有无法接受的字符（如 NUL 等控制字符）或无效的编码。",
            "The form holds a control character (such as NUL) or invalid encoding.",
        ))
    })
}

/// A posted form field's value, trimmed; empty when absent.
pub fn form_field(fields: &[(String, String)], key: &str) -> String {
    fields
        .iter()
        .find(|(n, _)| n == key)
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default()
}
