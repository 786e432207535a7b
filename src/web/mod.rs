//! The web server: the one route table, request logging, page rendering and handlers.

pub mod assess;
pub mod home;
pub mod i18n;
pub mod log;
pub mod respond;
pub mod templates;

use actix_web::web as aw;

/// The central route table: every URL the server answers is listed here.
pub fn routes(cfg: &mut aw::ServiceConfig) {
    cfg.route("/", aw::get().to(home::index))
        .route("/healthz", aw::get().to(home::healthz))
        .route("/admin/login", aw::get().to(home::admin_login))
        .route("/static/{file}", aw::get().to(templates::asset))
        .route("/s", aw::get().to(respond::enter_code))
        .service(
            aw::resource("/s/{token}")
                // A self-assessment holds up to 2000 characters of evidence per item; anything
                // larger is forged and refused before parsing.
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
        .route("/w/{wave}/receipts", aw::get().to(respond::receipts))
        .default_service(aw::to(home::not_found));
}
