//! Revocable sessions and the cookie key, over real HTTP: logout, a new password or role and
//! disabling an account end its sessions; a cookie for an account that does not exist is
//! nothing; the database holds no cookie key; a weak `SANPING_SECRET` stops the start.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use sanping::auth::{self, Role};
use sanping::db::schema::{settings, users};
use sanping::web::session::Session;

use crate::admin::{Browser, get, login, post};
use crate::support::{self, Server, TestDb};

fn setup() -> (TestDb, Server) {
    let db = TestDb::new();
    let state = db.state();
    let mut conn = state.pool.get().unwrap();
    auth::add_user(&mut conn, "org", Role::Organizer, "organizer-pass").unwrap();
    auth::add_user(&mut conn, "v", Role::Viewer, "viewer-pass").unwrap();
    drop(conn);
    (db, Server::start(state))
}

fn logged_in(server: &Server, user: &str, password: &str) -> Browser {
    let (status, browser) = login(server, user, password);
    assert_eq!(status, 303, "{user} logs in");
    browser.expect("a session cookie")
}

/// Runs the real binary against `db`: success and stdout + stderr.
fn run(db: &TestDb, env: &[(&str, &str)], args: &[&str]) -> (bool, String) {
    let mut cmd = support::bin();
    cmd.env("DATABASE_URL", db.url())
        .env_remove("SANPING_SECRET");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.args(args).output().expect("run sanping");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// Runs `sanping serve` (which must refuse to start) and returns its exit status and
/// stderr; a server that does start is killed after 30 s and fails the test.
fn serve_refused(db_url: &str, secret: Option<&str>) -> String {
    let mut cmd = support::bin();
    cmd.env("DATABASE_URL", db_url)
        .env(
            "SANPING_BIND",
            format!("127.0.0.1:{}", support::free_port()),
        )
        .env_remove("SANPING_SECRET")
        .arg("serve")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    if let Some(s) = secret {
        cmd.env("SANPING_SECRET", s);
    }
    let mut child = cmd.spawn().expect("run sanping serve");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(30) {
            child.kill().expect("kill");
            panic!("sanping serve started with SANPING_SECRET {secret:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = child.wait_with_output().expect("stderr");
    assert!(!status.success(), "serve must exit non-zero");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_cookie_stops_working_after_logout_and_so_does_every_copy_of_it() {
    let (_db, server) = setup();
    let first = logged_in(&server, "org", "organizer-pass");
    let copy = Browser {
        cookie: first.cookie.clone(),
        csrf: first.csrf.clone(),
    };
    let other_browser = logged_in(&server, "org", "organizer-pass");
    assert_eq!(get(&server, Some(&copy), "/admin/audit").0, 200);
    assert_eq!(
        post(
            &server,
            Some(&first),
            "/admin/logout",
            &[("csrf", &first.csrf)]
        ),
        303
    );
    for (b, what) in [
        (&first, "the cookie logged out"),
        (&copy, "a copy of it"),
        (&other_browser, "the account's other session"),
    ] {
        assert_eq!(get(&server, Some(b), "/admin/audit").0, 401, "{what}");
        assert_eq!(get(&server, Some(b), "/admin").0, 401, "{what}");
    }
    assert_eq!(
        get(&server, Some(&copy), "/admin/login").0,
        200,
        "an ended session gets the login form, not a redirect to /admin"
    );
    let again = logged_in(&server, "org", "organizer-pass");
    assert_eq!(get(&server, Some(&again), "/admin/audit").0, 200);
    let mut conn = server.state.pool.get().unwrap();
    let audit = sanping::db::accounts::audit_entries(&mut conn, 10).unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.actor == "org" && e.action == "logout"),
        "{audit:?}"
    );
}

#[test]
fn a_password_change_ends_the_accounts_sessions() {
    let (_db, server) = setup();
    let org = logged_in(&server, "org", "organizer-pass");
    let viewer = logged_in(&server, "v", "viewer-pass");
    let mut conn = server.state.pool.get().unwrap();
    auth::change_password(&mut conn, "org", "organizer-pass", "new-organizer-pass").unwrap();
    drop(conn);
    assert_eq!(get(&server, Some(&org), "/admin/audit").0, 401);
    assert_eq!(
        get(&server, Some(&viewer), "/admin").0,
        200,
        "other accounts keep their sessions"
    );
    assert_eq!(login(&server, "org", "organizer-pass").0, 401);
    let org = logged_in(&server, "org", "new-organizer-pass");
    assert_eq!(get(&server, Some(&org), "/admin/audit").0, 200);
}

#[test]
fn a_demoted_organizer_loses_organizer_rights_at_the_next_request() {
    let (db, server) = setup();
    let org = logged_in(&server, "org", "organizer-pass");
    assert_eq!(get(&server, Some(&org), "/admin/units").0, 200);
    // The role as stored counts, not the one the session started with.
    let mut conn = server.state.pool.get().unwrap();
    diesel::update(users::table.find("org"))
        .set(users::role.eq("viewer"))
        .execute(&mut *conn)
        .unwrap();
    assert_eq!(get(&server, Some(&org), "/admin/units").0, 403);
    assert_eq!(get(&server, Some(&org), "/admin/audit").0, 403);
    assert_eq!(get(&server, Some(&org), "/admin").0, 200, "viewer rights");
    diesel::update(users::table.find("org"))
        .set(users::role.eq("organizer"))
        .execute(&mut *conn)
        .unwrap();
    assert_eq!(get(&server, Some(&org), "/admin/units").0, 200);
    drop(conn);
    // `sanping admin add` with a new role (and password) ends the sessions outright.
    let mut add = support::bin();
    add.env("DATABASE_URL", db.url())
        .args(["admin", "add", "org", "--role", "viewer", "--as", "boss"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = add.spawn().unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"viewer-now-pass\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(get(&server, Some(&org), "/admin/units").0, 401);
    assert_eq!(get(&server, Some(&org), "/admin").0, 401);
    let demoted = logged_in(&server, "org", "viewer-now-pass");
    assert_eq!(get(&server, Some(&demoted), "/admin/units").0, 403);
}

#[test]
fn a_disabled_account_loses_its_sessions_and_cannot_log_in() {
    let (db, server) = setup();
    let org = logged_in(&server, "org", "organizer-pass");
    let (ok, out) = run(&db, &[], &["admin", "disable", "org", "--as", "boss"]);
    assert!(ok, "{out}");
    assert!(out.contains("disabled"), "{out}");
    assert_eq!(get(&server, Some(&org), "/admin").0, 401);
    let (status, browser) = login(&server, "org", "organizer-pass");
    assert_eq!(status, 401, "the right password does not let it in");
    assert!(browser.is_none());
    let (ok, out) = run(&db, &[], &["admin", "disable", "nobody"]);
    assert!(!ok && out.contains("no account \"nobody\""), "{out}");
    let (ok, out) = run(&db, &[], &["admin", "enable", "org", "--as", "boss"]);
    assert!(ok, "{out}");
    assert_eq!(
        get(&server, Some(&org), "/admin").0,
        401,
        "enabling brings no old session back"
    );
    let org = logged_in(&server, "org", "organizer-pass");
    assert_eq!(get(&server, Some(&org), "/admin/audit").0, 200);
    let mut conn = server.state.pool.get().unwrap();
    let audit = sanping::db::accounts::audit_entries(&mut conn, 20).unwrap();
    for action in ["admin.disable", "admin.enable"] {
        assert!(
            audit
                .iter()
                .any(|e| e.actor == "cli:boss" && e.action == action && e.detail == "org"),
            "{action}: {audit:?}"
        );
    }
    assert!(
        audit
            .iter()
            .any(|e| e.actor == "org" && e.action == "login.refused"),
        "{audit:?}"
    );
}

#[test]
fn a_cookie_signed_for_an_account_that_does_not_exist_is_refused() {
    let (_db, server) = setup();
    let ghost = Session::new("ghost".into(), Role::Organizer, 0).cookie(&server.state);
    let ghost = Browser {
        cookie: format!("{}={}", ghost.name(), ghost.value()),
        csrf: String::new(),
    };
    assert_eq!(get(&server, Some(&ghost), "/admin/audit").0, 401);
    assert_eq!(get(&server, Some(&ghost), "/admin").0, 401);
    // A well-signed cookie of a real account but another epoch is no session either.
    let stale = Session::new("org".into(), Role::Organizer, 7).cookie(&server.state);
    let stale = Browser {
        cookie: format!("{}={}", stale.name(), stale.value()),
        csrf: String::new(),
    };
    assert_eq!(get(&server, Some(&stale), "/admin").0, 401);
    // The claimed role is not believed: a viewer's well-signed cookie gets viewer rights.
    let viewer = Session::new("v".into(), Role::Organizer, 0).cookie(&server.state);
    let viewer = Browser {
        cookie: format!("{}={}", viewer.name(), viewer.value()),
        csrf: String::new(),
    };
    assert_eq!(get(&server, Some(&viewer), "/admin").0, 200);
    assert_eq!(get(&server, Some(&viewer), "/admin/audit").0, 403);
}

#[test]
fn the_database_holds_no_cookie_key() {
    let (db, server) = setup();
    let _org = logged_in(&server, "org", "organizer-pass");
    let state = &server.state;
    let mut conn = state.pool.get().unwrap();
    let rows: Vec<(String, String)> = settings::table
        .select((settings::key, settings::value))
        .load(&mut *conn)
        .unwrap();
    for (key, value) in &rows {
        assert!(!key.contains("secret") && !key.contains("cookie"), "{key}");
        assert!(!value.contains(state.secret.as_str()), "{key}");
    }
    drop(conn);
    assert!(
        !support::dump_text(state).contains(state.secret.as_str()),
        "no table holds the secret"
    );
    if let TestDb::Sqlite { .. } = &db {
        let file = sanping::secret::key_file(db.url());
        let kept = std::fs::read_to_string(&file).expect("the key file next to the database");
        assert_eq!(kept.trim(), state.secret.as_str());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        }
    }
}

#[test]
fn an_upgrade_deletes_the_cookie_key_an_older_version_kept_in_the_database() {
    use diesel_migrations::MigrationHarness as _;
    let db = TestDb::new();
    let state = db.state();
    let mut conn = state.pool.get().unwrap();
    // Back to just before this change's migration, as an older version left the database.
    loop {
        let applied = match &mut *conn {
            sanping::db::DbConn::Sqlite(c) => c.applied_migrations().unwrap(),
            sanping::db::DbConn::Postgresql(c) => c.applied_migrations().unwrap(),
        };
        let newest = applied.iter().max().unwrap().to_string().replace('-', "");
        if newest.as_str() < "20261206000005" {
            break;
        }
        match &mut *conn {
            sanping::db::DbConn::Sqlite(c) => c
                .revert_last_migration(sanping::db::SQLITE_MIGRATIONS)
                .unwrap(),
            sanping::db::DbConn::Postgresql(c) => c
                .revert_last_migration(sanping::db::POSTGRES_MIGRATIONS)
                .unwrap(),
        };
    }
    diesel::insert_into(settings::table)
        .values((
            settings::key.eq("cookie_secret"),
            settings::value.eq("an-old-key-in-the-database-0123456789"),
        ))
        .execute(&mut *conn)
        .unwrap();
    drop(conn);
    let state = db.state();
    let mut conn = state.pool.get().unwrap();
    let left: i64 = settings::table
        .filter(settings::key.eq("cookie_secret"))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(left, 0);
}

#[test]
fn a_short_or_regular_sanping_secret_stops_serve_and_migrate() {
    let db = TestDb::new();
    for weak in [
        "short-Secret-1",
        "ssssssssssssssssssssssssssssssssssssssss",
        "abcd1234abcd1234abcd1234abcd1234abcd1234",
        "onlylowercaselettersinthissecretmakeitweak",
    ] {
        let (ok, out) = run(&db, &[("SANPING_SECRET", weak)], &["migrate"]);
        assert!(!ok, "migrate with {weak}: {out}");
        assert!(out.contains("SANPING_SECRET"), "{out}");
        assert!(!out.contains(weak), "the secret is not echoed: {out}");
        let err = serve_refused(db.url(), Some(weak));
        assert!(err.contains("SANPING_SECRET"), "{err}");
    }
    let (ok, out) = run(
        &db,
        &[("SANPING_SECRET", "Kq7-private-cookie-secret-9xYw2-vbnm")],
        &["migrate"],
    );
    assert!(ok, "a good secret passes: {out}");
}

#[test]
#[cfg_attr(
    not(sanping_test_pg),
    ignore = "needs SANPING_TEST_PG=postgres://… (PostgreSQL only)"
)]
fn postgresql_without_sanping_secret_refuses_to_serve() {
    let Some(db) = TestDb::postgres() else {
        panic!(
            "{} was set when this test was built, not now",
            support::PG_ENV
        );
    };
    let err = serve_refused(db.url(), None);
    assert!(err.contains("SANPING_SECRET is not set"), "{err}");
    let mut config = sanping::config::Config::for_database(db.url());
    config.secret = None;
    let refused = sanping::app::AppState::open(config).err().expect("refused");
    assert!(refused.to_string().contains("SANPING_SECRET"), "{refused}");
    // Commands that sign no cookies still work (migrations, the roster, waves …).
    let (ok, out) = run(&db, &[], &["migrate"]);
    assert!(ok, "{out}");
    let (ok, out) = run(&db, &[], &["wave", "list"]);
    assert!(ok, "{out}");
}
