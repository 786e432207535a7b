//! Taking units and people out of use (停用): kept for history, left out of new waves, back
//! with one command — from the CLI and the console, audited.

use sanping::auth::{self, Role};
use sanping::domain::survey::StepKind;

use super::admin::{get, login, post};
use super::support::{self, Server, TestDb};

fn sanping(db: &TestDb, args: &[&str]) -> (bool, String) {
    let out = support::bin()
        .env("DATABASE_URL", db.url())
        .args(["--as", "tester"])
        .args(args)
        .output()
        .expect("run sanping");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn units_and_people_out_of_use_are_left_out_of_new_waves_only() {
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    // A wave opened before keeps its frame and its invitations.
    let (before, before_links) = support::open_wave(&state, "liuhao.toml", None, false);
    assert!(before_links.iter().any(|l| l.unit == "CS-T"));

    let (ok, out) = sanping(&db, &["units", "deactivate", "CS"]);
    assert!(ok, "{out}");
    assert!(out.contains("3 unit(s)"), "{out}");
    let (ok, out) = sanping(&db, &["people", "deactivate", "Liu.Yang@demo.edu.cn"]);
    assert!(ok && out.contains("out of use"), "{out}");
    let (ok, out) = sanping(&db, &["units", "list"]);
    assert!(
        ok && out.contains("CS-T 计算机学院教工党支部 [党支部] (停用)"),
        "{out}"
    );
    let (ok, out) = sanping(&db, &["units", "deactivate", "NOPE"]);
    assert!(!ok && out.contains("\"NOPE\" does not exist"), "{out}");

    let (_, links) = support::open_wave(&state, "liuhao.toml", None, false);
    assert!(!links.is_empty());
    assert!(links.iter().all(|l| !l.unit.starts_with("CS")), "{links:?}");
    let mut conn = state.pool.get().expect("conn");
    let frame: Vec<String> = sanping::db::frames::units_of(&mut conn, before)
        .expect("frame")
        .into_iter()
        .map(|u| u.code)
        .collect();
    assert!(
        frame.contains(&"CS-T".to_owned()),
        "the old frame is kept: {frame:?}"
    );
    drop(conn);

    let (ok, out) = sanping(&db, &["units", "activate", "CS"]);
    assert!(ok, "{out}");
    let (_, links) = support::open_wave(&state, "liuhao.toml", None, false);
    assert!(links.iter().any(|l| l.unit == "CS-T"));
    // Liu Yang is still out: no mass link and no self-assessment link for CS-S1.
    assert!(
        !links.iter().any(|l| l.email == "liu.yang@demo.edu.cn"),
        "{links:?}"
    );
    assert!(
        !links
            .iter()
            .any(|l| l.unit == "CS-S1" && l.step == StepKind::SelfAssessment)
    );
    let mut conn = state.pool.get().expect("conn");
    let audit = sanping::db::accounts::audit_entries(&mut conn, 100).expect("audit");
    for action in ["units.deactivate", "units.activate", "people.deactivate"] {
        assert!(
            audit
                .iter()
                .any(|e| e.action == action && e.actor == "cli:tester"),
            "{action} not audited"
        );
    }
}

#[test]
fn the_console_takes_units_and_people_out_of_use_and_back() {
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    {
        let mut conn = state.pool.get().expect("conn");
        auth::add_user(&mut conn, "org", Role::Organizer, "organizer-pass").unwrap();
        auth::add_user(&mut conn, "v", Role::Viewer, "viewer-pass").unwrap();
    }
    let server = Server::start(state.clone());
    let (_, org) = login(&server, "org", "organizer-pass");
    let org = org.expect("organizer session");
    let csrf = org.csrf.clone();
    let status = post(
        &server,
        Some(&org),
        "/admin/units/LIB/status",
        &[("csrf", &csrf), ("active", "0")],
    );
    assert!(status == 303 || status == 200, "{status}");
    let (_, page) = get(&server, Some(&org), "/admin/units");
    let row = page.split("id=\"u-LIB\"").nth(1).expect("LIB row");
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("已停用") && row.contains("启用"), "{row}");
    let status = post(
        &server,
        Some(&org),
        "/admin/people/status",
        &[
            ("csrf", &csrf),
            ("email", "zhao.gang@demo.edu.cn"),
            ("active", "0"),
        ],
    );
    assert!(status == 303 || status == 200, "{status}");
    let (_, page) = get(&server, Some(&org), "/admin/people?q=zhao");
    assert!(
        page.contains("zhao.gang@demo.edu.cn") && page.contains("已停用"),
        "{page}"
    );
    let (_, page) = get(&server, Some(&org), "/admin/people?q=nobody-here");
    assert!(page.contains("没有找到匹配的人员"));
    // A forged value, an unknown unit, a missing CSRF token, a viewer: refused, nothing changed.
    let bad = post(
        &server,
        Some(&org),
        "/admin/units/CS/status",
        &[("csrf", &csrf), ("active", "yes")],
    );
    assert_eq!(bad, 400);
    let unknown = post(
        &server,
        Some(&org),
        "/admin/units/NOPE/status",
        &[("csrf", &csrf), ("active", "0")],
    );
    assert_eq!(unknown, 422);
    let no_csrf = post(
        &server,
        Some(&org),
        "/admin/units/CS/status",
        &[("active", "0")],
    );
    assert_eq!(no_csrf, 400);
    let (_, viewer) = login(&server, "v", "viewer-pass");
    let viewer = viewer.expect("viewer session");
    let v_csrf = viewer.csrf.clone();
    let forbidden = post(
        &server,
        Some(&viewer),
        "/admin/units/CS/status",
        &[("csrf", &v_csrf), ("active", "0")],
    );
    assert_eq!(forbidden, 403);
    let mut conn = state.pool.get().expect("conn");
    let out = sanping::db::inactive::of_kind(&mut conn, sanping::db::inactive::UNIT).unwrap();
    assert_eq!(out.into_iter().collect::<Vec<_>>(), vec!["LIB".to_owned()]);
    drop(conn);
    let back = post(
        &server,
        Some(&org),
        "/admin/units/LIB/status",
        &[("csrf", &csrf), ("active", "1")],
    );
    assert!(back == 303 || back == 200);
    let mut conn = state.pool.get().expect("conn");
    assert!(
        sanping::db::inactive::of_kind(&mut conn, sanping::db::inactive::UNIT)
            .unwrap()
            .is_empty()
    );
    let audit = sanping::db::accounts::audit_entries(&mut conn, 100).expect("audit");
    assert!(
        audit
            .iter()
            .any(|e| e.action == "units.deactivate" && e.actor == "org")
    );
    assert!(
        audit
            .iter()
            .any(|e| e.action == "people.deactivate" && e.actor == "org")
    );
}

/// The progress table of a Chinese wave page names the mail states in Chinese.
#[test]
fn the_progress_table_speaks_one_language() {
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    let (id, _) = support::open_wave(&state, "liuhao.toml", None, false);
    {
        let mut conn = state.pool.get().expect("conn");
        auth::add_user(&mut conn, "org", Role::Organizer, "organizer-pass").unwrap();
    }
    let server = Server::start(state.clone());
    let (_, org) = login(&server, "org", "organizer-pass");
    let (status, page) = get(&server, org.as_ref(), &format!("/admin/waves/{id}"));
    assert_eq!(status, 200);
    let table = page
        .split("id=\"progress\"")
        .nth(1)
        .expect("progress table");
    let head = &table[..table.find("</thead>").expect("head")];
    assert!(
        head.contains("邮件待发") && head.contains("已发送") && head.contains("发送失败"),
        "{head}"
    );
    assert!(
        !head.contains("queued") && !head.contains(">sent<") && !head.contains("failed"),
        "{head}"
    );
}

/// Two processes taking the same unit out of use at once both succeed; it is out once.
#[test]
fn two_processes_deactivating_one_unit_both_succeed() {
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    let children: Vec<_> = (0..2)
        .map(|_| {
            support::bin()
                .env("DATABASE_URL", db.url())
                .args(["units", "deactivate", "CS"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut conn = state.pool.get().expect("conn");
    let out = sanping::db::inactive::of_kind(&mut conn, sanping::db::inactive::UNIT).unwrap();
    assert_eq!(out.len(), 3);
}

/// Opening a wave reads the roster and freezes its frame under the shared roster lock: a
/// roster change in progress (here a transaction holding the roster lock, as an import or
/// 停用 does, that takes a person out of use) makes the opening wait, so the invitations
/// come from the roster after it, not from one half-changed. PostgreSQL (on SQLite the
/// write lock serialises them anyway).
#[test]
fn opening_a_wave_waits_for_a_roster_change_in_progress() {
    let Some(db) = TestDb::postgres() else {
        return;
    };
    let state = db.state();
    support::load_fixtures(&state);
    let id = support::create_wave(&state, "liuhao.toml", None, false);
    let gone = "zhao.gang@demo.edu.cn";
    let mut changer = state.pool.get().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::scope(|s| {
        sanping::db::write_tx(&mut changer, |conn| -> diesel::QueryResult<()> {
            sanping::db::units::hold_roster(conn)?;
            s.spawn(|| {
                let opened =
                    sanping::wave::open(&mut state.pool.get().unwrap(), id, "http://x", |_| Ok(()));
                tx.send(opened.is_ok()).unwrap();
            });
            assert!(
                rx.recv_timeout(std::time::Duration::from_millis(1500))
                    .is_err(),
                "the wave opened while the roster was being changed"
            );
            sanping::db::inactive::set(
                conn,
                sanping::db::inactive::PERSON,
                &[gone.to_owned()],
                chrono::Utc::now().naive_utc(),
            )?;
            Ok(())
        })
        .unwrap();
        assert!(rx.recv().unwrap(), "the wave opens once the change is done");
    });
    let invited = sanping::db::frames::invited(&mut state.pool.get().unwrap(), id).unwrap();
    assert!(!invited.is_empty());
    assert!(
        !invited.iter().any(|(p, _, _)| p == gone),
        "a person taken out of use before the opening is not invited"
    );
}
