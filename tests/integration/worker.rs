//! The mail worker as a server runs it: `/healthz` tells whether it lives and how long mail
//! has waited, SIGTERM lets the mail in hand finish, and the mail rate holds for the whole
//! installation, not per process.

use std::time::Duration;

use diesel::prelude::*;
use sanping::db::schema::outbox;

use crate::support::{self, TestDb};

fn serve(db: &TestDb, port: u16, env: &[(&str, String)]) -> std::process::Child {
    let mut cmd = support::bin();
    cmd.arg("serve")
        .env("DATABASE_URL", db.url())
        .env("SANPING_BIND", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().expect("start sanping serve")
}

fn health(port: u16) -> Option<serde_json::Value> {
    let mut res = support::client()
        .get(&format!("http://127.0.0.1:{port}/healthz"))
        .call()
        .ok()?;
    serde_json::from_str(&res.body_mut().read_to_string().ok()?).ok()
}

fn wait_health(port: u16) -> serde_json::Value {
    for _ in 0..150 {
        if let Some(h) = health(port) {
            return h;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("no /healthz on port {port}");
}

/// A roster of `n` people in CS-T, a wave opened by email: `n` mails queued.
fn queued(state: &sanping::app::AppState, n: usize) -> i32 {
    let mut conn = state.pool.get().unwrap();
    let mut units = std::fs::read_to_string(support::fixture("units.csv")).unwrap();
    units.truncate(units.trim_end().len());
    sanping::import::units(&mut conn, units.as_bytes()).unwrap();
    let mut people = String::from("email,name,unit,category,role\n");
    for i in 0..n {
        people.push_str(&format!("p{i}@demo.edu.cn,人{i},CS-T,faculty,member\n"));
    }
    sanping::import::people(&mut conn, people.as_bytes()).unwrap();
    drop(conn);
    let wave = support::create_wave(state, "liuhao.toml", None, false);
    let mut conn = state.pool.get().unwrap();
    assert_eq!(sanping::wave::open_by_email(&mut conn, wave).unwrap(), n);
    wave
}

fn count(conn: &mut sanping::db::DbConn, state: &str) -> i64 {
    outbox::table
        .filter(outbox::state.eq(state))
        .count()
        .get_result(conn)
        .unwrap()
}

#[test]
fn healthz_tells_whether_the_mail_worker_lives_and_how_long_mail_has_waited() {
    let db = TestDb::new();
    let state = db.state();
    queued(&state, 3);
    // In a process without a worker (as in these tests' in-process servers).
    let server = support::Server::start(state.clone());
    let (status, body) = support::get(&server.url("/healthz"));
    assert_eq!(status, 200);
    let h: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(h["mail_worker"], "off");
    assert_eq!(h["mail_due"], 3);
    // A real server whose mail relay cannot be reached: the worker runs, the mail waits.
    let port = support::free_port();
    let closed = support::free_port();
    let mut child = serve(
        &db,
        port,
        &[("SMTP_URL", format!("smtp://127.0.0.1:{closed}"))],
    );
    let h = wait_health(port);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(h["status"], "ok", "{h}");
    assert_eq!(h["mail_worker"], "running", "{h}");
    // One attempt may have been made (and put off for a retry): the others still wait.
    assert!(h["mail_due"].as_i64().unwrap() >= 2, "{h}");
    assert!(h["mail_oldest_due_seconds"].as_i64().unwrap() >= 0);
}

#[test]
fn sigterm_lets_the_mail_in_hand_finish_and_leaves_none_leased() {
    let db = TestDb::new();
    let state = db.state();
    queued(&state, 12);
    let dir = tempfile::tempdir().unwrap();
    let port = support::free_port();
    // Five a second: a mail is leased most of the time while it waits for its slot.
    let mut child = serve(
        &db,
        port,
        &[
            ("SANPING_MAIL_DIR", dir.path().display().to_string()),
            ("SANPING_MAIL_RATE", "5".into()),
        ],
    );
    wait_health(port);
    let mut conn = state.pool.get().unwrap();
    for _ in 0..100 {
        if count(&mut conn, "sent") >= 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let term = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let mut exited = None;
    for _ in 0..400 {
        if let Some(s) = child.try_wait().unwrap() {
            exited = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let Some(status) = exited else {
        child.kill().unwrap();
        panic!("serve did not stop after SIGTERM");
    };
    assert!(status.success(), "{status}");
    assert_eq!(count(&mut conn, "sending"), 0, "no mail left leased");
    assert!(
        count(&mut conn, "queued") > 0,
        "it stopped before the queue was empty"
    );
}

#[test]
fn the_mail_rate_holds_for_the_installation_across_processes() {
    let db = TestDb::new();
    let state = db.state();
    queued(&state, 24);
    let dir = tempfile::tempdir().unwrap();
    let children: Vec<std::process::Child> = (0..2)
        .map(|_| {
            support::bin()
                .env("DATABASE_URL", db.url())
                .env("SANPING_MAIL_DIR", dir.path())
                .env("SANPING_MAIL_RATE", "20")
                .args(["mail", "send"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        assert!(c.wait_with_output().unwrap().status.success());
    }
    let mut conn = state.pool.get().unwrap();
    let mut sent: Vec<chrono::NaiveDateTime> = outbox::table
        .filter(outbox::state.eq("sent"))
        .select(outbox::sent_at.assume_not_null())
        .load(&mut *conn)
        .unwrap();
    assert_eq!(sent.len(), 24);
    sent.sort();
    let gaps: Vec<i64> = sent
        .windows(2)
        .map(|w| (w[1] - w[0]).num_milliseconds())
        .collect();
    // 20 a second is one every 50 ms for the two processes together; a little jitter in
    // when each process writes down its send.
    assert!(
        gaps.iter().all(|g| *g >= 30),
        "two processes sent faster than the installation's rate: {gaps:?}"
    );
}

#[test]
fn healthz_says_503_when_the_worker_has_shown_no_life_for_two_minutes() {
    let db = TestDb::new();
    let state = db.state();
    let server = support::Server::start(state.clone());
    // As a worker that hung three minutes ago would have left it.
    state.mail_beat.store(
        chrono::Utc::now().timestamp() - 180,
        std::sync::atomic::Ordering::SeqCst,
    );
    let (status, body) = support::get(&server.url("/healthz"));
    assert_eq!(status, 503, "{body}");
    let h: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (h["status"].as_str(), h["mail_worker"].as_str()),
        (Some("stalled"), Some("stalled"))
    );
    state.mail_beat.store(
        chrono::Utc::now().timestamp(),
        std::sync::atomic::Ordering::SeqCst,
    );
    assert_eq!(support::get(&server.url("/healthz")).0, 200);
}
