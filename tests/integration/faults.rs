//! Faults: the server killed with SIGKILL under load, database connections dropped, the pool
//! exhausted. Nothing acknowledged is lost, nothing is half-written, nothing hangs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection as _;

use crate::support::{self, Proxy, Server, TestDb};

fn wait_up(base: &str) {
    for _ in 0..150 {
        if support::client()
            .get(&format!("{base}/healthz"))
            .call()
            .is_ok_and(|r| r.status() == 200)
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the server did not come up at {base}");
}

fn spawn_server(db: &TestDb, port: u16) -> std::process::Child {
    support::bin()
        .arg("serve")
        .env("DATABASE_URL", db.url())
        .env("SANPING_BIND", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start sanping serve")
}

#[test]
fn a_server_killed_under_load_loses_no_acknowledged_submission() {
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    let (wave, _) = support::open_wave(&state, "liuhao.toml", None, false);
    let (_, _, tokens) =
        sanping::wave::slips(&mut state.pool.get().unwrap(), wave, "LIB", 400).unwrap();
    let port = support::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = spawn_server(&db, port);
    wait_up(&base);
    let fields = support::answers_for("liuhao.toml", 0);
    let acknowledged = Arc::new(std::sync::Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let chunks: Vec<Vec<String>> = tokens.chunks(100).map(<[String]>::to_vec).collect();
    let workers: Vec<_> = chunks
        .into_iter()
        .map(|chunk| {
            let (base, fields, acknowledged, stop) = (
                base.clone(),
                fields.clone(),
                acknowledged.clone(),
                stop.clone(),
            );
            std::thread::spawn(move || {
                let form: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(a, b)| (a.as_str(), b.as_str()))
                    .collect();
                for t in chunk {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let Ok(mut res) = support::client()
                        .post(&format!("{base}/s/{t}"))
                        .send_form(form.iter().copied())
                    else {
                        continue;
                    };
                    if res.status() == 200 {
                        let body = res.body_mut().read_to_string().unwrap_or_default();
                        if let Some(r) = body.split("id=\"receipt\">").nth(1) {
                            acknowledged.lock().unwrap().push(r[..11].to_owned());
                        }
                    }
                }
            })
        })
        .collect();
    while acknowledged.lock().unwrap().len() < 60 {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let mut again = spawn_server(&db, port);
    wait_up(&base);
    let mut conn = state.pool.get().unwrap();
    if let sanping::db::DbConn::Sqlite(c) = &mut *conn {
        c.batch_execute("PRAGMA integrity_check")
            .expect("the database opens cleanly");
    }
    support::close_and_unseal(&mut conn, wave).unwrap();
    let stored = sanping::respond::receipts(&mut conn, wave).unwrap();
    for r in acknowledged.lock().unwrap().iter() {
        assert!(
            stored.binary_search(r).is_ok(),
            "receipt {r} was acknowledged but is not stored"
        );
    }
    let audit = sanping::report::verify::audit(&mut conn, wave, None).unwrap();
    assert!(
        audit.ok(),
        "used invitations and stored responses must match: {:?}",
        audit.balances
    );
    again.kill().unwrap();
    again.wait().unwrap();
}

#[test]
fn an_exhausted_pool_makes_requests_wait_a_bounded_time_then_503() {
    let db = TestDb::new();
    let mut config = db.config();
    config.db_pool = 1;
    config.db_timeout = Duration::from_secs(1);
    let state = sanping::app::AppState::open(config).unwrap();
    support::load_fixtures(&state);
    let (_, links) = support::open_wave(&state, "liuhao.toml", None, false);
    let server = Server::start(state);
    let url = server.url(&support::path_of(&support::mass_links(links)[0].url));
    let held = server.state.pool.get().unwrap();
    let started = Instant::now();
    let (status, html) = support::get(&url);
    let waited = started.elapsed();
    assert_eq!(status, 503, "{html}");
    assert!(html.contains("稍后再试"), "a clear page: {html}");
    assert!(
        waited < Duration::from_secs(5),
        "bounded wait, took {waited:?}"
    );
    drop(held);
    assert_eq!(
        support::get(&url).0,
        200,
        "served again once a connection is free"
    );
}

#[test]
#[cfg_attr(
    not(sanping_test_pg),
    ignore = "needs SANPING_TEST_PG=postgres://… (PostgreSQL only)"
)]
fn dropped_postgresql_connections_are_replaced_without_a_restart() {
    let Some(db) = TestDb::postgres() else {
        panic!(
            "{} was set when this test was built, not now",
            support::PG_ENV
        );
    };
    let state = db.state();
    support::load_fixtures(&state);
    let (_, links) = support::open_wave(&state, "liuhao.toml", None, false);
    let server = Server::start(state);
    let url = server.url(&support::path_of(&support::mass_links(links)[0].url));
    assert_eq!(support::get(&url).0, 200);
    // Kill every server connection of this test (marked by its application_name), as a
    // PostgreSQL restart would; other tests' connections are left alone.
    let schema = db
        .url()
        .rsplit("application_name=")
        .next()
        .unwrap()
        .to_owned();
    let mut admin = <diesel::PgConnection as diesel::Connection>::establish(
        &std::env::var(support::PG_ENV).unwrap(),
    )
    .unwrap();
    admin
        .batch_execute(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = '{schema}'"
        ))
        .unwrap();
    let mut statuses = Vec::new();
    for _ in 0..10 {
        statuses.push(support::get(&url).0);
    }
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 503),
        "never a 500: {statuses:?}"
    );
    assert_eq!(
        *statuses.last().unwrap(),
        200,
        "recovered without a restart: {statuses:?}"
    );
}

/// The app served over HTTP on `db`'s PostgreSQL through a [`Proxy`], with `pool`
/// connections that a request waits for at most a second.
fn behind_proxy(db: &TestDb, pool: u32) -> (Proxy, Server) {
    let proxy = Proxy::start("127.0.0.1:5432".into());
    let mut config = db.config();
    config.database = sanping::db::DbTarget::Postgres(
        db.url()
            .replace("127.0.0.1:5432", &format!("127.0.0.1:{}", proxy.port)),
    );
    config.db_pool = pool;
    config.db_timeout = Duration::from_secs(1);
    let server = Server::start(sanping::app::AppState::open(config).unwrap());
    (proxy, server)
}

#[test]
#[cfg_attr(
    not(sanping_test_pg),
    ignore = "needs SANPING_TEST_PG=postgres://… (PostgreSQL only)"
)]
fn while_postgresql_is_away_requests_get_503_and_the_server_recovers_when_it_is_back() {
    let Some(db) = TestDb::postgres() else {
        panic!(
            "{} was set when this test was built, not now",
            support::PG_ENV
        );
    };
    let state = db.state();
    support::load_fixtures(&state);
    let (_, links) = support::open_wave(&state, "liuhao.toml", None, false);
    let links = support::mass_links(links);
    let (proxy, server) = behind_proxy(&db, 2);
    let url = server.url(&support::path_of(&links[0].url));
    assert_eq!(support::get(&url).0, 200);
    proxy.cut();
    let started = Instant::now();
    let (status, html) = support::get(&url);
    assert_eq!(status, 503, "{html}");
    assert!(html.contains("稍后再试"));
    let (status, _) = support::post_fields(&url, &support::answers_for("liuhao.toml", 0));
    assert_eq!(status, 503);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "bounded: {:?}",
        started.elapsed()
    );
    proxy.restore();
    let mut recovered = false;
    for _ in 0..20 {
        if support::get(&url).0 == 200 {
            recovered = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(recovered, "the server recovers without a restart");
    let (status, _) = support::post_fields(&url, &support::answers_for("liuhao.toml", 0));
    assert_eq!(
        status, 200,
        "the link still works: nothing was burnt while the database was away"
    );
}

#[test]
#[cfg_attr(
    not(sanping_test_pg),
    ignore = "needs SANPING_TEST_PG=postgres://… (PostgreSQL only)"
)]
fn postgresql_cut_under_load_gives_503s_loses_nothing_and_recovers() {
    let Some(db) = TestDb::postgres() else {
        panic!(
            "{} was set when this test was built, not now",
            support::PG_ENV
        );
    };
    let state = db.state();
    support::load_fixtures(&state);
    let (wave, _) = support::open_wave(&state, "liuhao.toml", None, false);
    let (_, _, tokens) =
        sanping::wave::slips(&mut state.pool.get().unwrap(), wave, "LIB", 240).unwrap();
    let (proxy, server) = behind_proxy(&db, 4);
    let fields = support::answers_for("liuhao.toml", 0);
    // Six clients submit their tokens one after another, each request timed.
    let outcomes = Arc::new(std::sync::Mutex::new(Vec::new()));
    let workers: Vec<_> = tokens
        .chunks(40)
        .map(|chunk| {
            let (chunk, fields, outcomes) = (chunk.to_vec(), fields.clone(), outcomes.clone());
            let urls: Vec<String> = chunk
                .iter()
                .map(|t| server.url(&format!("/s/{t}")))
                .collect();
            std::thread::spawn(move || {
                for (token, url) in chunk.into_iter().zip(urls) {
                    let started = Instant::now();
                    let (status, body) = support::post_fields(&url, &fields);
                    outcomes
                        .lock()
                        .unwrap()
                        .push((token, status, body, started.elapsed()));
                    std::thread::sleep(Duration::from_millis(15));
                }
            })
        })
        .collect();
    while outcomes.lock().unwrap().len() < 40 {
        std::thread::sleep(Duration::from_millis(5));
    }
    proxy.cut();
    std::thread::sleep(Duration::from_millis(1500));
    proxy.restore();
    for w in workers {
        w.join().unwrap();
    }
    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap());
    let count = |code| outcomes.iter().filter(|o| o.1 == code).count();
    assert!(
        outcomes.iter().all(|o| o.1 == 200 || o.1 == 503),
        "only receipts and 503s: {:?}",
        outcomes.iter().map(|o| o.1).collect::<Vec<_>>()
    );
    assert!(
        count(503) > 0,
        "the cut came while the clients were submitting"
    );
    assert!(
        outcomes
            .iter()
            .filter(|o| o.1 == 503)
            .all(|o| o.2.contains("稍后再试") && o.2.contains("已提交")),
        "a 503 says to retry with the same link, and what \"already submitted\" would mean"
    );
    let slowest = outcomes.iter().map(|o| o.3).max().unwrap();
    assert!(
        slowest < Duration::from_secs(10),
        "never hangs: {slowest:?}"
    );
    assert!(
        outcomes.last().is_some_and(|o| o.1 == 200),
        "recovered without a restart"
    );
    // A 503 stored nothing: the same link works now. (A cut between the server's commit
    // and its answer would store it and say 410 here; the audit below still balances.)
    let mut retried_used = 0;
    for (token, status, _, _) in &outcomes {
        if *status == 503 {
            let (again, _) = support::post_fields(&server.url(&format!("/s/{token}")), &fields);
            assert!(again == 200 || again == 410, "{again}");
            retried_used += usize::from(again == 410);
        }
    }
    let mut conn = state.pool.get().unwrap();
    support::close_and_unseal(&mut conn, wave).unwrap();
    let stored = sanping::respond::receipts(&mut conn, wave).unwrap();
    assert_eq!(
        stored.len(),
        tokens.len(),
        "every token ends stored exactly once"
    );
    for (_, status, body, _) in &outcomes {
        if *status == 200 {
            let receipt = &body.split("id=\"receipt\">").nth(1).unwrap()[..11];
            assert!(stored.binary_search(&receipt.to_owned()).is_ok());
        }
    }
    let audit = sanping::report::verify::audit(&mut conn, wave, None).unwrap();
    assert!(
        audit.ok(),
        "used invitations = stored responses: {:?}",
        audit.balances
    );
    eprintln!(
        "{} receipts, {} 503s ({} of them stored before the cut), slowest {slowest:?}",
        count(200),
        count(503),
        retried_used
    );
}
