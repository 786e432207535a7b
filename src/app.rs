//! The application state: what every request handler and command shares. (The server
//! that serves it is in [`crate::web::server`].)

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use anyhow::Context as _;
use handlebars::Handlebars;

use crate::config::Config;
use crate::db::rated::Rated;
use crate::db::waves::WaveHead;
use crate::db::{self, DbConn, Pool};
use crate::domain::survey::Survey;
use crate::error::AppError;
use crate::wave;
use crate::web;

/// A people wave's frozen frame of one unit: wave id, when it was opened, unit code.
type FrameKey = (i32, Option<chrono::NaiveDateTime>, String);

/// Everything a request may need, built once and shared (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    /// The database pool.
    pub pool: Pool,
    /// The checked configuration.
    pub config: Arc<Config>,
    /// The compiled page templates.
    pub templates: Arc<Handlebars<'static>>,
    /// The secret that signs cookies (from `SANPING_SECRET` or the key file; see `secret`).
    pub secret: Arc<String>,
    /// Parsed surveys by wave id. A wave's survey never changes after creation, so an entry
    /// never goes stale; it saves parsing the TOML on every request.
    surveys: Arc<RwLock<HashMap<i32, Arc<Survey>>>>,
    /// The frozen frame of a people wave's unit (who is rated there), by wave, opening and
    /// unit: a frame never changes while its wave is open, and reopening a purged wave
    /// freezes a new one under a new opening time. Saves a query on every rating sheet.
    frames: Arc<RwLock<HashMap<FrameKey, Arc<[Rated]>>>>,
    /// When this process's mail worker last showed life (unix seconds); 0: no worker here.
    pub mail_beat: Arc<std::sync::atomic::AtomicI64>,
    /// The mass questionnaire of each wave and language, rendered once (see
    /// [`web::form_cache`]).
    pub forms: Arc<web::form_cache::FormCache>,
}

impl AppState {
    /// Loads the cookie secret, opens the database and runs the migrations.
    pub fn open(config: Config) -> anyhow::Result<Self> {
        let secret = crate::secret::load(&config)?;
        let pool = db::pool(
            &config.database,
            config.db_pool,
            config.db_timeout,
            config.pgbouncer,
        )?;
        let mut conn = pool.get().context("cannot get a database connection")?;
        db::migrate(&mut conn)?;
        drop(conn);
        Ok(Self {
            pool,
            config: Arc::new(config),
            templates: Arc::new(web::templates::registry()?),
            secret: Arc::new(secret),
            surveys: Arc::default(),
            frames: Arc::default(),
            mail_beat: Arc::default(),
            forms: Arc::default(),
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

    /// Everyone rated in `unit` of the open people wave `wave` (its frozen frame), read from
    /// the database once per process and opening.
    pub fn frame(
        &self,
        conn: &mut DbConn,
        wave: &WaveHead,
        unit: &str,
    ) -> Result<Arc<[Rated]>, AppError> {
        let key = (wave.id, wave.opened_at, unit.to_owned());
        if let Some(f) = self.frames.read().expect("frame cache lock").get(&key) {
            return Ok(f.clone());
        }
        let frame: Arc<[Rated]> = db::rated::of_unit(conn, wave.id, unit)?.into();
        self.frames
            .write()
            .expect("frame cache lock")
            .insert(key, frame.clone());
        Ok(frame)
    }
}
