//! The web server: the one route table, request logging, page rendering and handlers.

pub mod home;
pub mod i18n;
pub mod log;
pub mod templates;

use actix_web::web as aw;

/// The central route table: every URL the server answers is listed here.
pub fn routes(cfg: &mut aw::ServiceConfig) {
    cfg.route("/", aw::get().to(home::index))
        .route("/healthz", aw::get().to(home::healthz))
        .route("/admin/login", aw::get().to(home::admin_login))
        .route("/static/{file}", aw::get().to(templates::asset))
        .default_service(aw::to(home::not_found));
}
