//! Closing times: a wave past its `closes_at` closes by itself exactly once, whoever gets
//! there first; an organizer can move the closing time later, never into the past.

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use sanping::app::AppState;
use sanping::db::{accounts, schema::waves};

use crate::admin;
use crate::support::{self, Server, TestDb};

/// Sets a wave's closing time `minutes` from now (negative: in the past), behind the
/// library's back, as time passing would.
fn set_closes(state: &AppState, id: i32, minutes: i64) {
    let at = chrono::Utc::now().naive_utc() + chrono::Duration::minutes(minutes);
    let mut conn = state.pool.get().expect("conn");
    diesel::update(waves::table.find(id))
        .set(waves::closes_at.eq(Some(at)))
        .execute(&mut *conn)
        .expect("set closes_at");
}

fn state_of(state: &AppState, id: i32) -> String {
    let mut conn = state.pool.get().expect("conn");
    sanping::wave::get(&mut conn, id).expect("wave").state
}

/// The `wave.close` entries: (actor, detail).
fn closes(state: &AppState) -> Vec<(String, String)> {
    let mut conn = state.pool.get().expect("conn");
    accounts::audit_entries(&mut conn, 1000)
        .expect("audit")
        .into_iter()
        .filter(|e| e.action == "wave.close")
        .map(|e| (e.actor, e.detail))
        .collect()
}

#[test]
fn racing_closers_close_an_overdue_wave_once_with_one_audit_entry() {
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    let (id, _) = support::open_wave(&state, "liuhao.toml", None, false);
    let mut conn = state.pool.get().expect("conn");
    assert!(
        sanping::deadline::close_overdue(&mut conn)
            .unwrap()
            .is_empty()
    );
    drop(conn);
    set_closes(&state, id, 60);
    let mut conn = state.pool.get().expect("conn");
    assert!(
        sanping::deadline::close_overdue(&mut conn)
            .unwrap()
            .is_empty(),
        "not due yet"
    );
    drop(conn);
    set_closes(&state, id, -1);
    let n = 4;
    let barrier = Arc::new(Barrier::new(n));
    let closers: Vec<_> = (0..n)
        .map(|_| {
            let (pool, barrier) = (state.pool.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut conn = pool.get().expect("conn");
                barrier.wait();
                sanping::deadline::close_overdue(&mut conn).expect("no error for any closer")
            })
        })
        .collect();
    let closed: Vec<i32> = closers
        .into_iter()
        .flat_map(|t| t.join().expect("closer thread"))
        .collect();
    assert_eq!(closed, vec![id], "closed exactly once");
    assert_eq!(state_of(&state, id), "closed");
    let entries = closes(&state);
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].0, "system");
    assert!(entries[0].1.contains("closing time passed"), "{entries:?}");
    // A manual close after that finds it closed and changes nothing.
    let mut conn = state.pool.get().expect("conn");
    assert!(sanping::wave::close(&mut conn, id).is_err());
    assert!(
        sanping::deadline::close_overdue(&mut conn)
            .unwrap()
            .is_empty()
    );
    assert_eq!(closes(&state).len(), 1);
}

#[test]
fn two_running_servers_close_an_overdue_wave_by_themselves_once() -> anyhow::Result<()> {
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    let (id, _) = support::open_wave(&state, "liuhao.toml", None, false);
    let dir = tempfile::tempdir()?;
    let _a = support::ServeProcess::start(&db, dir.path());
    let _b = support::ServeProcess::start(&db, dir.path());
    set_closes(&state, id, -1);
    let start = Instant::now();
    while state_of(&state, id) != "closed" {
        assert!(
            start.elapsed() < Duration::from_mins(1),
            "no running server closed wave {id}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Both keep ticking; give the second a few rounds to try.
    std::thread::sleep(sanping::deadline::TICK * 3);
    let entries = closes(&state);
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].0, "system");
    Ok(())
}

#[test]
fn extending_reopens_answers_of_an_overdue_wave_and_a_past_time_is_refused() -> anyhow::Result<()> {
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    let (id, links) = support::open_wave(&state, "liuhao.toml", None, false);
    let links = support::mass_links(links);
    let mut conn = state.pool.get()?;
    sanping::auth::add_user(
        &mut conn,
        "org",
        sanping::auth::Role::Organizer,
        "organizer-pass",
    )?;
    drop(conn);
    set_closes(&state, id, -1);
    let server = Server::start(state.clone());
    let answer = |i: usize| {
        support::post_fields(
            &server.url(&support::path_of(&links[i].url)),
            &support::answers_for("liuhao.toml", 0),
        )
    };
    let (status, html) = answer(0);
    assert_eq!(status, 403);
    assert!(html.contains("测评已结束"));

    let (_, org) = admin::login(&server, "org", "organizer-pass");
    let org = org.expect("organizer logs in");
    let page = admin::get(&server, Some(&org), &format!("/admin/waves/{id}")).1;
    assert!(
        page.contains(&format!("/admin/waves/{id}/extend")),
        "{page}"
    );
    let extend = |closes: &str| {
        support::client()
            .post(&server.url(&format!("/admin/waves/{id}/extend")))
            .header("cookie", &org.cookie)
            .send_form([("csrf", org.csrf.as_str()), ("closes", closes)])
            .expect("POST extend")
            .status()
            .as_u16()
    };
    assert_eq!(extend("2020-01-01 08:00"), 400, "a past time is refused");
    assert_eq!(extend("not a time"), 400);
    let later = (chrono::Local::now() + chrono::Duration::days(7))
        .format("%Y-%m-%d %H:%M")
        .to_string();
    assert_eq!(extend(&later), 303);
    assert_eq!(state_of(&state, id), "open");
    let (status, html) = answer(0);
    assert_eq!(status, 200, "answers are taken again: {html}");

    let mut conn = state.pool.get()?;
    let log = accounts::audit_entries(&mut conn, 100)?;
    let extended: Vec<_> = log.iter().filter(|e| e.action == "wave.extend").collect();
    assert_eq!(extended.len(), 1, "only the accepted extension: {log:?}");
    assert_eq!(extended[0].actor, "org");
    drop(conn);

    // The command line: a past time is refused, a later one taken; a closed wave cannot be
    // extended.
    let cli = |closes: &str| {
        let out = support::bin()
            .env("DATABASE_URL", db.url())
            .args(["wave", "extend", &id.to_string(), "--closes", closes])
            .output()
            .expect("run sanping");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, err) = cli("2020-01-01 08:00");
    assert!(!ok && err.contains("in the past"), "{err}");
    let even_later = (chrono::Local::now() + chrono::Duration::days(8))
        .format("%Y-%m-%d %H:%M")
        .to_string();
    assert!(cli(&even_later).0);
    let mut conn = state.pool.get()?;
    sanping::wave::close(&mut conn, id)?;
    drop(conn);
    let (ok, err) = cli(&even_later);
    assert!(!ok && err.contains("closed"), "{err}");
    assert_eq!(extend(&even_later), 409);
    Ok(())
}

#[test]
fn the_next_cli_command_closes_an_overdue_wave() -> anyhow::Result<()> {
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    let (id, _) = support::open_wave(&state, "liuhao.toml", None, false);
    set_closes(&state, id, -1);
    let out = support::bin()
        .env("DATABASE_URL", db.url())
        .args(["wave", "list"])
        .output()?;
    assert!(out.status.success());
    assert!(String::from_utf8(out.stderr)?.contains(&format!("wave {id} is closed")));
    assert_eq!(state_of(&state, id), "closed");
    assert_eq!(closes(&state).len(), 1);
    Ok(())
}
