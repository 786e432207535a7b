//! Behind pgbouncer in transaction mode (PostgreSQL only): submissions, closing and
//! unsealing, and the mail worker, with `SANPING_PGBOUNCER` set (no named prepared
//! statements: the next statement may run on another server connection).

use std::sync::{Arc, Barrier};

use diesel::connection::SimpleConnection as _;
use diesel::{Connection as _, PgConnection};

use crate::support::{self, Server};

/// A pgbouncer in transaction mode in front of a fresh database, stopped and the database
/// dropped when this goes away.
struct Bouncer {
    child: std::process::Child,
    base: String,
    database: String,
    url: String,
    _dir: tempfile::TempDir,
}

impl Bouncer {
    fn start(base: &str) -> Self {
        let binary = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect("pgbouncer is not installed: `apt-get install pgbouncer` (.ci/run does)");
        let database = format!("bouncer_{}", &sanping::domain::token::random_id()[..12]);
        PgConnection::establish(base)
            .unwrap()
            .batch_execute(&format!("CREATE DATABASE {database}"))
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let port = support::free_port();
        let path = |f: &str| dir.path().join(f).display().to_string();
        std::fs::write(path("users.txt"), "\"postgres\" \"\"\n").unwrap();
        std::fs::write(
            path("pgbouncer.ini"),
            format!(
                "[databases]\n{database} = host=127.0.0.1 port=5432 dbname={database} user=postgres\n\
                 [pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n\
                 auth_type = trust\nauth_file = {}\npool_mode = transaction\n\
                 default_pool_size = 4\nmax_client_conn = 200\n\
                 ignore_startup_parameters = extra_float_digits,options\n\
                 logfile = {}\npidfile = {}\n",
                path("users.txt"),
                path("pgbouncer.log"),
                path("pgbouncer.pid")
            ),
        )
        .unwrap();
        // pgbouncer will not run as root; the folder must be the postgres user's to read.
        std::process::Command::new("chmod")
            .args(["-R", "a+rwx", &dir.path().display().to_string()])
            .status()
            .unwrap();
        let child = std::process::Command::new(binary)
            .args(["-u", "postgres", &path("pgbouncer.ini")])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let url = format!("postgres://postgres@127.0.0.1:{port}/{database}");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Self {
            child,
            base: base.to_owned(),
            database,
            url,
            _dir: dir,
        }
    }
}

impl Drop for Bouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Ok(mut conn) = PgConnection::establish(&self.base) {
            let _ = conn.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.database
            ));
        }
    }
}

#[test]
#[cfg_attr(
    not(sanping_test_pg),
    ignore = "needs SANPING_TEST_PG=postgres://… (PostgreSQL only)"
)]
fn submissions_unsealing_and_mail_work_behind_pgbouncer_in_transaction_mode() {
    let base = std::env::var(support::PG_ENV).unwrap_or_else(|_| {
        panic!(
            "{} was set when this test was built, not now",
            support::PG_ENV
        )
    });
    let bouncer = Bouncer::start(&base);
    let mut config = sanping::config::Config::for_database(&bouncer.url);
    config.pgbouncer = true;
    config.secret = Some(format!(
        "Bouncer-test-{}",
        sanping::domain::token::random_id()
    ));
    let state = sanping::app::AppState::open(config).expect("migrate through pgbouncer");
    support::load_members_only(&state);
    let wave = support::create_wave(&state, "liuhao.toml", None, false);
    let mut conn = state.pool.get().unwrap();
    sanping::wave::open_by_email(&mut conn, wave).unwrap();
    let tokens = sanping::wave::slips(&mut conn, wave, "CS-T", 48).unwrap().2;
    drop(conn);
    let server = Server::start(state.clone());
    let fields = support::answers_for("liuhao.toml", 0);
    let barrier = Arc::new(Barrier::new(8));
    let statuses: Vec<u16> = tokens
        .chunks(6)
        .map(|chunk| {
            let (chunk, fields, barrier) = (chunk.to_vec(), fields.clone(), barrier.clone());
            let base = server.url("");
            std::thread::spawn(move || {
                barrier.wait();
                chunk
                    .iter()
                    .map(|t| support::post_fields(&format!("{base}/s/{t}"), &fields).0)
                    .collect::<Vec<_>>()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let dir = tempfile::tempdir().unwrap();
    let out = support::bin()
        .env("DATABASE_URL", &bouncer.url)
        .env("SANPING_PGBOUNCER", "true")
        .env("SANPING_MAIL_DIR", dir.path())
        .args(["mail", "send"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        std::fs::read_dir(dir.path()).unwrap().count() > 0,
        "mails were written"
    );
    let mut conn = state.pool.get().unwrap();
    support::close_and_unseal(&mut conn, wave).unwrap();
    let audit = sanping::report::verify::audit(&mut conn, wave, None).unwrap();
    assert!(audit.ok(), "{:?}", audit.balances);
    assert_eq!(support::stored_sheets(&mut conn, wave), 48);
}
