//! The application state and the server: what every request handler and command shares.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use actix_web::{App, HttpServer, web as aw};
use anyhow::Context as _;
use handlebars::Handlebars;

use crate::config::Config;
use crate::db::{self, DbConn, Pool};
use crate::domain::survey::Survey;
use crate::error::AppError;
use crate::wave;
use crate::web;

/// Everything a request may need, built once and shared (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    /// The database pool.
    pub pool: Pool,
    /// The checked configuration.
    pub config: Arc<Config>,
    /// The compiled page templates.
    pub templates: Arc<Handlebars<'static>>,
    /// The key that signs cookies (from `SANPING_SECRET` or the database).
    pub secret: Arc<String>,
    /// Parsed surveys by wave id. A wave's survey never changes after creation, so an entry
    /// never goes stale; it saves parsing the TOML on every request.
    surveys: Arc<RwLock<HashMap<i32, Arc<Survey>>>>,
}

impl AppState {
    /// Opens the database, runs the migrations and loads the cookie key.
    pub fn open(config: Config) -> anyhow::Result<Self> {
        let pool = db::pool(
            &config.database,
            config.db_pool,
            config.db_timeout,
            config.pgbouncer,
        )?;
        let mut conn = pool.get().context("cannot get a database connection")?;
        db::migrate(&mut conn)?;
        let secret = match &config.secret {
            Some(s) => s.clone(),
            None => db::settings::get_or_insert(&mut conn, "cookie_secret", || {
                format!(
                    "{}{}",
                    crate::domain::token::random_id(),
                    crate::domain::token::random_id()
                )
            })
            .context("cannot read or store the cookie secret")?,
        };
        drop(conn);
        Ok(Self {
            pool,
            config: Arc::new(config),
            templates: Arc::new(web::templates::registry()?),
            secret: Arc::new(secret),
            surveys: Arc::default(),
        })
    }

    /// The parsed survey of a wave, read from the database only the first time.
    pub fn survey(&self, conn: &mut DbConn, wave_id: i32) -> Result<Arc<Survey>, AppError> {
        if let Some(s) = self
            .surveys
            .read()
            .expect("survey cache lock")
            .get(&wave_id)
        {
            return Ok(s.clone());
        }
        let wave = db::waves::find(conn, wave_id)?.ok_or(AppError::NotFound)?;
        let survey =
            Arc::new(wave::survey_of(&wave).map_err(|e| AppError::Internal(e.to_string()))?);
        self.surveys
            .write()
            .expect("survey cache lock")
            .insert(wave_id, survey.clone());
        Ok(survey)
    }
}

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
