//! Test support: an isolated database per test, the app served on a free port, a client.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use diesel::connection::SimpleConnection as _;
use diesel::{Connection as _, PgConnection};
use sanping::app::AppState;
use sanping::config::Config;

/// The environment variable that names the PostgreSQL to test against.
pub const PG_ENV: &str = "SANPING_TEST_PG";

/// One test's own database: a fresh SQLite file, or a fresh schema in PostgreSQL.
pub enum TestDb {
    Sqlite {
        _dir: tempfile::TempDir,
        url: String,
    },
    Postgres {
        base: String,
        schema: String,
        url: String,
    },
}

impl TestDb {
    /// The backend under test: PostgreSQL when `SANPING_TEST_PG` is set, SQLite otherwise.
    pub fn new() -> Self {
        match Self::postgres() {
            Some(db) => db,
            None => Self::sqlite(),
        }
    }

    /// A fresh SQLite file in a temporary folder.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = dir.path().join("test.db").display().to_string();
        Self::Sqlite { _dir: dir, url }
    }

    /// A fresh schema in the PostgreSQL named by `SANPING_TEST_PG`, or `None` (and a note
    /// on stderr) when it is not set.
    pub fn postgres() -> Option<Self> {
        let Ok(base) = std::env::var(PG_ENV) else {
            eprintln!("note: {PG_ENV} is not set; this test runs on SQLite only");
            return None;
        };
        let schema = format!("t_{}", sanping::domain::token::random_id());
        let mut conn = PgConnection::establish(&base).expect("connect to SANPING_TEST_PG");
        conn.batch_execute(&format!("CREATE SCHEMA {schema}"))
            .expect("create test schema");
        let sep = if base.contains('?') { '&' } else { '?' };
        // application_name marks this test's connections (a fault test kills only its own).
        let url =
            format!("{base}{sep}options=-c%20search_path%3D{schema}&application_name={schema}");
        Some(Self::Postgres { base, schema, url })
    }

    /// The `DATABASE_URL` of this database.
    pub fn url(&self) -> &str {
        match self {
            Self::Sqlite { url, .. } | Self::Postgres { url, .. } => url,
        }
    }

    /// Whether this is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres { .. })
    }

    /// The default configuration pointed at this database. PostgreSQL needs a cookie
    /// secret (SQLite makes a key file next to the database): one per test database, so
    /// that every state opened on it signs alike.
    pub fn config(&self) -> Config {
        let mut config = Config::for_database(self.url());
        if let Self::Postgres { schema, .. } = self {
            config.secret = Some(format!("Test-secret-of-{schema}"));
        }
        config
    }

    /// The application state (migrations run).
    pub fn state(&self) -> AppState {
        AppState::open(self.config()).expect("open app state")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Self::Postgres { base, schema, .. } = self
            && let Ok(mut conn) = PgConnection::establish(base)
        {
            let _ = conn.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"));
        }
    }
}

/// The app served over real HTTP on a free port.
pub struct Server {
    pub addr: SocketAddr,
    pub state: AppState,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for Server {
    /// Stops the server, so that its pool and the database connections in it go away with
    /// the test (PostgreSQL refuses clients past `max_connections`).
    fn drop(&mut self) {
        // The stop command is sent when `stop` is called; nobody needs to wait for it.
        drop(self.handle.stop(false));
    }
}

impl Server {
    /// Serves `state`.
    pub fn start(state: AppState) -> Self {
        let mut state = state;
        let mut config = (*state.config).clone();
        let port = free_port();
        config.bind = format!("127.0.0.1:{port}");
        config.base_url = format!("http://127.0.0.1:{port}");
        state.config = std::sync::Arc::new(config);
        let (addr, handle) = sanping::web::server::spawn(state.clone()).expect("start server");
        Self {
            addr,
            state,
            handle,
        }
    }

    /// An absolute URL on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// Something served over HTTP: a [`Server`] in this process or a [`ServeProcess`].
pub trait Served {
    /// An absolute URL on it.
    fn url(&self, path: &str) -> String;
}

impl Served for Server {
    fn url(&self, path: &str) -> String {
        Server::url(self, path)
    }
}

/// A real `sanping serve` process on `db` (mail written under `dir`), up and answering
/// `/healthz`; killed when dropped. Two of them on one database are two production servers.
pub struct ServeProcess {
    child: std::process::Child,
    port: u16,
}

impl ServeProcess {
    pub fn start(db: &TestDb, dir: &std::path::Path) -> Self {
        let port = free_port();
        let child = bin()
            .env("DATABASE_URL", db.url())
            .env("SANPING_BIND", format!("127.0.0.1:{port}"))
            .env("SANPING_MAIL_DIR", dir.join("mail"))
            .env("RUST_LOG", "warn")
            .current_dir(dir)
            .arg("serve")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start sanping serve");
        let server = Self { child, port };
        for _ in 0..300 {
            if client()
                .get(&server.url("/healthz"))
                .call()
                .is_ok_and(|r| r.status() == 200)
            {
                return server;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("sanping serve did not come up on port {port}");
    }
}

impl Served for ServeProcess {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// An HTTP client that returns 4xx/5xx responses instead of failing and follows no
/// redirects (tests look at them).
pub fn client() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

/// GET a URL: status and body.
pub fn get(url: &str) -> (u16, String) {
    let mut res = client().get(url).call().expect("GET");
    let status = res.status().as_u16();
    (status, res.body_mut().read_to_string().expect("body"))
}

/// POST a form: status and body.
pub fn post_form(url: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let mut res = client()
        .post(url)
        .send_form(fields.iter().copied())
        .expect("POST");
    let status = res.status().as_u16();
    (status, res.body_mut().read_to_string().expect("body"))
}

/// POST a raw body with a content type: status and body.
pub fn post_raw(url: &str, content_type: &str, body: &[u8]) -> (u16, String) {
    let mut res = client()
        .post(url)
        .header("content-type", content_type)
        .send(body)
        .expect("POST");
    let status = res.status().as_u16();
    (status, res.body_mut().read_to_string().expect("body"))
}

/// A file under `tests/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A file under `surveys/`.
pub fn survey_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("surveys")
        .join(name)
}

/// The `sanping` binary built for these tests.
pub fn bin() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_sanping"));
    // A server on PostgreSQL needs a cookie key from outside the database; tests that
    // check that refusal remove it again.
    cmd.env(
        "SANPING_SECRET",
        "test-Secret-for-spawned-servers-7Qx2Lm9Pz",
    );
    cmd
}

/// Imports the fixture unit tree and roster.
pub fn load_fixtures(state: &AppState) {
    let mut conn = state.pool.get().expect("conn");
    sanping::import::units(&mut conn, &std::fs::read(fixture("units.csv")).unwrap())
        .expect("units");
    sanping::import::people(&mut conn, &std::fs::read(fixture("people.csv")).unwrap())
        .expect("people");
}

/// Creates a wave from a shipped survey file and opens it; returns its id and links.
pub fn open_wave(
    state: &AppState,
    survey: &str,
    scope: Option<&str>,
    is_test: bool,
) -> (i32, Vec<sanping::wave::Link>) {
    let id = create_wave(state, survey, scope, is_test);
    let mut conn = state.pool.get().expect("conn");
    let mut links = Vec::new();
    sanping::wave::open(&mut conn, id, &state.config.base_url, |l| {
        links = l.to_vec();
        Ok(())
    })
    .expect("open wave");
    (id, links)
}

/// Only the links of the mass questionnaire.
pub fn mass_links(links: Vec<sanping::wave::Link>) -> Vec<sanping::wave::Link> {
    links
        .into_iter()
        .filter(|l| l.step == sanping::domain::survey::StepKind::Mass)
        .collect()
}

/// Imports the fixture unit tree and a roster of members only (no secretaries, no
/// committee): each person gets exactly one mail.
pub fn load_members_only(state: &AppState) {
    let mut conn = state.pool.get().expect("conn");
    sanping::import::units(&mut conn, &std::fs::read(fixture("units.csv")).unwrap())
        .expect("units");
    sanping::import::people(&mut conn, &std::fs::read(fixture("members.csv")).unwrap())
        .expect("people");
}

/// The account that holds the key of the tests' waves, and its password.
pub const HOLDER: &str = "keeper";
/// See [`HOLDER`].
pub const HOLDER_PASSWORD: &str = "keeper-password";

/// Creates the [`HOLDER`] account if it does not exist yet.
pub fn ensure_holder(conn: &mut sanping::db::DbConn) {
    if sanping::db::accounts::find_user(conn, HOLDER)
        .expect("find holder")
        .is_none()
    {
        sanping::auth::add_user(
            conn,
            HOLDER,
            sanping::auth::Role::Committee,
            HOLDER_PASSWORD,
        )
        .expect("add holder");
    }
}

/// The holder's password, as unsealing takes it.
pub fn holder_password() -> Vec<sanping::sealing::HolderPassword> {
    vec![sanping::sealing::HolderPassword {
        username: HOLDER.to_owned(),
        password: zeroize::Zeroizing::new(HOLDER_PASSWORD.to_owned()),
    }]
}

/// Closes a wave and unseals its answers with the [`HOLDER`]'s key.
pub fn close_and_unseal(
    conn: &mut sanping::db::DbConn,
    id: i32,
) -> Result<sanping::sealing::Unsealed, sanping::wave::WaveError> {
    sanping::wave::close(conn, id)?;
    sanping::sealing::unseal(conn, id, &holder_password(), "test")
}

/// Answer sheets stored for a wave: sealed while it is open, opened after it is unsealed.
pub fn stored_sheets(conn: &mut sanping::db::DbConn, id: i32) -> i64 {
    use diesel::prelude::*;
    use sanping::db::schema::responses;
    let opened: i64 = responses::table
        .filter(responses::wave_id.eq(id))
        .count()
        .get_result(conn)
        .expect("count responses");
    opened + sanping::db::sealed::count(conn, id).unwrap_or(0)
}

/// How many invitations a wave has.
pub fn stored_invitations(conn: &mut sanping::db::DbConn, id: i32) -> i64 {
    use diesel::prelude::*;
    use sanping::db::schema::invitations;
    invitations::table
        .filter(invitations::wave_id.eq(id))
        .count()
        .get_result(conn)
        .expect("count invitations")
}

/// Creates a draft wave from a shipped survey file, held by [`HOLDER`] alone.
pub fn create_wave(state: &AppState, survey: &str, scope: Option<&str>, is_test: bool) -> i32 {
    let path = survey_file(survey);
    ensure_holder(&mut state.pool.get().expect("conn"));
    let spec = sanping::wave::NewWaveSpec {
        survey_name: path.display().to_string(),
        survey_src: std::fs::read_to_string(&path).expect("survey"),
        title: "2026年度测评".into(),
        scope: scope.map(str::to_owned),
        closes_at: None,
        is_test,
        holders: vec![HOLDER.to_owned()],
        threshold: 1,
    };
    let mut conn = state.pool.get().expect("conn");
    sanping::wave::create(&mut conn, &spec).expect("create wave")
}

/// The path part (`/s/{token}`) of a link.
pub fn path_of(link: &str) -> String {
    let start = link.find("/s/").expect("a respondent link");
    link[start..].to_owned()
}

/// A complete valid answer sheet for the mass step of a survey file: the option at
/// `choice` (clamped) for every item.
pub fn answers_for(survey: &str, choice: usize) -> Vec<(String, String)> {
    let src = std::fs::read_to_string(survey_file(survey)).expect("survey");
    let s = sanping::domain::survey::Survey::parse(survey, &src).expect("valid survey");
    s.step(sanping::domain::survey::StepKind::Mass)
        .items()
        .map(|i| {
            let opts = &s.scale_of(i).options;
            (
                format!("q.{}", i.id),
                opts[choice.min(opts.len() - 1)].id.clone(),
            )
        })
        .collect()
}

/// Every text value in every table, joined: for scans that must not find a secret.
pub fn dump_text(state: &AppState) -> String {
    use diesel::RunQueryDsl as _;
    #[derive(diesel::QueryableByName)]
    struct V {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        v: Option<String>,
    }
    let mut conn = state.pool.get().expect("conn");
    let tables = sanping::db::tables_and_columns(&mut conn).expect("tables");
    let mut out = String::new();
    for (table, columns) in tables {
        for col in columns {
            // Binary columns as hex (on PostgreSQL a cast of bytea to text is hex already).
            let sql = if state.config.database.backend() == "sqlite" {
                format!(
                    "SELECT CASE WHEN typeof(\"{col}\") = 'blob' THEN hex(\"{col}\") \
                     ELSE CAST(\"{col}\" AS TEXT) END AS v FROM \"{table}\""
                )
            } else {
                format!("SELECT CAST(\"{col}\" AS TEXT) AS v FROM \"{table}\"")
            };
            let rows: Vec<V> = match &mut *conn {
                sanping::db::DbConn::Sqlite(c) => diesel::sql_query(sql).load(c),
                sanping::db::DbConn::Postgresql(c) => diesel::sql_query(sql).load(c),
            }
            .expect("scan");
            for r in rows.into_iter().filter_map(|r| r.v) {
                out.push_str(&r);
                out.push('\n');
            }
        }
    }
    out
}

/// POST owned fields.
pub fn post_fields(url: &str, fields: &[(String, String)]) -> (u16, String) {
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    post_form(url, &borrowed)
}

/// A TCP proxy that a test can cut (every connection through it dies at once, new ones are
/// refused) and restore: a database or mail server that goes away and comes back.
#[derive(Clone)]
pub struct Proxy {
    pub port: u16,
    up: Arc<AtomicBool>,
    streams: Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
}

impl Proxy {
    /// Listens on a free port and forwards each connection to `target`.
    pub fn start(target: String) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let streams = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (up2, streams2) = (up.clone(), streams.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if !up2.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = std::net::TcpStream::connect(&target) else {
                    continue;
                };
                let mut list = streams2.lock().unwrap();
                list.push(client.try_clone().unwrap());
                list.push(server.try_clone().unwrap());
                drop(list);
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        Self { port, up, streams }
    }

    /// Kills every connection and refuses new ones.
    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for s in self.streams.lock().unwrap().drain(..) {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }

    /// Accepts connections again.
    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}
