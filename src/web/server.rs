//! The HTTP server: binds the routes of [`crate::web`] to an address, serving one
//! [`AppState`].

use std::net::SocketAddr;

use actix_web::{App, HttpServer, web as aw};
use anyhow::Context as _;

use crate::app::AppState;
use crate::web;

/// Binds the web server; the returned server runs when awaited.
pub fn server(state: AppState) -> anyhow::Result<(actix_web::dev::Server, SocketAddr)> {
    let bind = state.config.bind.clone();
    let https = state.config.base_url.starts_with("https://");
    let limits = web::limits::Limits::new(&state.config);
    // actix-web caps connections per worker thread; the setting is for the whole server.
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let per_worker = state.config.max_connections.div_ceil(workers).max(1);
    let data = aw::Data::new(state);
    let server = HttpServer::new(move || {
        let limits = limits.clone();
        App::new()
            .app_data(data.clone())
            .wrap(actix_web::middleware::from_fn(move |req, next| {
                web::limits::guard(limits.clone(), req, next)
            }))
            .wrap(actix_web::middleware::from_fn(crate::error::localize))
            .wrap(actix_web::middleware::from_fn(web::api::json_errors))
            .wrap(web::security_headers(https))
            .wrap(actix_web::middleware::from_fn(web::log::request_log))
            .configure(web::routes)
    })
    .workers(workers)
    .max_connections(per_worker)
    .bind(&bind)
    .with_context(|| format!("cannot listen on {bind}"))?;
    let addr = server
        .addrs()
        .first()
        .copied()
        .context("the server has no address")?;
    Ok((server.run(), addr))
}

/// Starts the server on a thread of its own and returns its address once it listens, with
/// the handle that stops it (used by tests, which drive it over real HTTP and stop it when
/// they end so its pooled connections close).
pub fn spawn(state: AppState) -> anyhow::Result<(SocketAddr, actix_web::dev::ServerHandle)> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            match server(state) {
                Ok((server, addr)) => {
                    let _ = tx.send(Ok((addr, server.handle())));
                    let _ = server.await;
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            }
        });
    });
    rx.recv().context("the server thread died")?
}
