//! Editing a draft wave — title, closing time, scope, key holders — from the command line
//! and the console; the wave then opens with what was edited. An open wave is not edited,
//! and a refused console form keeps what was typed.

use sanping::auth::{self, Role};
use sanping::db::{accounts, holders, waves};

use crate::admin::{Browser, get, login, post};
use crate::support::{self, HOLDER, Server, TestDb};

/// The second key holder of these tests.
const SECOND: &str = "kp2";

/// A database with the fixture roster, the two key holders and a draft wave (whole tree,
/// held by [`HOLDER`] alone).
fn setup() -> (TestDb, i32) {
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    let id = support::create_wave(&state, "liuhao.toml", None, false);
    auth::add_user(
        &mut state.pool.get().unwrap(),
        SECOND,
        Role::Committee,
        "second-holder-pass",
    )
    .unwrap();
    (db, id)
}

fn wave_of(db: &TestDb, id: i32) -> waves::Wave {
    waves::find(&mut db.state().pool.get().unwrap(), id)
        .unwrap()
        .unwrap()
}

fn holder_names(db: &TestDb, id: i32) -> Vec<String> {
    holders::of_wave(&mut db.state().pool.get().unwrap(), id)
        .unwrap()
        .into_iter()
        .map(|h| h.username)
        .collect()
}

/// The `wave.edit` audit details, oldest first.
fn edits(db: &TestDb) -> Vec<(String, String)> {
    let mut all = accounts::audit_entries(&mut db.state().pool.get().unwrap(), 1000).unwrap();
    all.reverse();
    all.into_iter()
        .filter(|e| e.action == "wave.edit")
        .map(|e| (e.actor, e.detail))
        .collect()
}

/// Opens the wave; returns the units its invitations go to, sorted and deduplicated.
fn open_units(db: &TestDb, id: i32) -> Vec<String> {
    let state = db.state();
    let mut conn = state.pool.get().unwrap();
    let mut links = Vec::new();
    sanping::wave::open(&mut conn, id, "https://pj.example.edu", |l| {
        links = l.to_vec();
        Ok(())
    })
    .expect("open the edited wave");
    let mut units: Vec<String> = links.into_iter().map(|l| l.unit).collect();
    units.sort();
    units.dedup();
    units
}

fn later() -> String {
    (chrono::Local::now() + chrono::Duration::days(30))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

#[test]
fn cli_edits_a_draft_which_then_opens_with_the_new_scope_and_holders() {
    let (db, id) = setup();
    let run = |args: &[&str]| {
        let out = support::bin()
            .env("DATABASE_URL", db.url())
            .args(args)
            .output()
            .expect("run sanping");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let wave = id.to_string();
    let closes = later();
    let (ok, stdout, stderr) = run(&[
        "wave",
        "edit",
        &wave,
        "--title",
        "2026年度测评（计算机学院）",
        "--closes",
        &closes,
        "--scope",
        "CS",
        "--holders",
        &format!("{HOLDER},{SECOND}"),
        "--threshold",
        "2",
    ]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("title: 2026年度测评 → 2026年度测评（计算机学院）"),
        "{stdout}"
    );
    assert!(stdout.contains("scope: whole tree → CS"), "{stdout}");
    assert!(stdout.contains("closes: not set → "), "{stdout}");
    assert!(
        stdout.contains(&format!("key holders: {HOLDER} → {HOLDER}, {SECOND}")),
        "{stdout}"
    );
    assert!(stdout.contains("threshold: 1 → 2"), "{stdout}");
    let w = wave_of(&db, id);
    assert_eq!(w.title, "2026年度测评（计算机学院）");
    assert_eq!(w.scope.as_deref(), Some("CS"));
    assert!(w.closes_at.is_some());
    assert_eq!(w.threshold, Some(2));
    assert_eq!(holder_names(&db, id), [HOLDER, SECOND]);

    // The same again: nothing changes, and no entry is written.
    let (ok, stdout, _) = run(&["wave", "edit", &wave, "--scope", "CS"]);
    assert!(ok);
    assert!(stdout.contains("nothing changed"), "{stdout}");
    let audit = edits(&db);
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert!(
        audit[0].1.contains(&format!("wave {id}: title: ")),
        "{audit:?}"
    );
    assert!(audit[0].1.contains("scope: whole tree → CS"), "{audit:?}");

    // Bad edits are refused, naming the problem.
    let (ok, _, stderr) = run(&["wave", "edit", &wave, "--scope", "NOPE"]);
    assert!(
        !ok && stderr.contains("scope \"NOPE\" is not a unit"),
        "{stderr}"
    );
    let (ok, _, stderr) = run(&["wave", "edit", &wave, "--threshold", "3"]);
    assert!(
        !ok && stderr.contains("between 1 and the number of key holders (2)"),
        "{stderr}"
    );
    let (ok, _, stderr) = run(&["wave", "edit", &wave, "--closes", "2020-01-01 08:00"]);
    assert!(!ok && stderr.contains("in the past"), "{stderr}");
    assert_eq!(wave_of(&db, id).scope.as_deref(), Some("CS"));

    // It opens with the new scope — LIB left out; U is the committee member's own unit,
    // carried by their scoring-sheet invitation — and both holders hold a share.
    assert_eq!(open_units(&db, id), ["CS-S1", "CS-T", "U"]);
    let shares = holders::of_wave(&mut db.state().pool.get().unwrap(), id).unwrap();
    assert!(shares.iter().all(|h| h.share.is_some()), "{shares:?}");

    // An open wave is not edited.
    let (ok, _, stderr) = run(&["wave", "edit", &wave, "--title", "改了"]);
    assert!(!ok, "editing an open wave must fail");
    assert!(
        stderr.contains("is open; only a draft wave can be edited"),
        "{stderr}"
    );
    assert_eq!(wave_of(&db, id).title, "2026年度测评（计算机学院）");
    assert_eq!(edits(&db).len(), 1);
}

/// POSTs a form as `b`: status and page.
fn post_page(server: &Server, b: &Browser, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let mut res = support::client()
        .post(&server.url(path))
        .header("cookie", &b.cookie)
        .send_form(fields.iter().copied())
        .unwrap();
    (
        res.status().as_u16(),
        res.body_mut().read_to_string().unwrap(),
    )
}

#[test]
fn console_edits_a_draft_keeps_input_after_an_error_and_refuses_an_open_wave() {
    let (db, id) = setup();
    let state = db.state();
    auth::add_user(
        &mut state.pool.get().unwrap(),
        "org",
        Role::Organizer,
        "organizer-pass",
    )
    .unwrap();
    let server = Server::start(state);
    let org = login(&server, "org", "organizer-pass").1.unwrap();
    let page_path = format!("/admin/waves/{id}");
    let edit_path = format!("/admin/waves/{id}/edit");

    let (status, page) = get(&server, Some(&org), &page_path);
    assert_eq!(status, 200);
    assert!(page.contains(&format!("href=\"{edit_path}\"")), "{page}");
    let (status, form) = get(&server, Some(&org), &edit_path);
    assert_eq!(status, 200, "{form}");
    assert!(form.contains("value=\"2026年度测评\""), "prefilled: {form}");
    assert!(form.contains("新建一个批次"), "the survey is fixed: {form}");
    // Only an organizer edits.
    let kp = login(&server, SECOND, "second-holder-pass").1.unwrap();
    assert_ne!(get(&server, Some(&kp), &edit_path).0, 200);

    // A bad closing time: 422, the reason in Chinese, everything typed kept.
    let (status, page) = post_page(
        &server,
        &org,
        &edit_path,
        &[
            ("csrf", &org.csrf),
            ("title", "改过的标题"),
            ("scope", "CS-T"),
            ("closes", "2020-01-01 08:00"),
            ("holder", HOLDER),
            ("holder", SECOND),
            ("threshold", "2"),
        ],
    );
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("已经过去"), "{page}");
    assert!(page.contains("value=\"改过的标题\""), "title kept: {page}");
    assert!(page.contains("value=\"2020-01-01 08:00\""), "{page}");
    assert!(page.contains("<option value=\"CS-T\" selected>"), "{page}");
    assert!(
        page.contains(&format!("value=\"{SECOND}\" checked")),
        "{page}"
    );
    let (status, page) = post_page(
        &server,
        &org,
        &edit_path,
        &[
            ("csrf", &org.csrf),
            ("title", "改过的标题"),
            ("closes", "明天"),
            ("holder", HOLDER),
            ("single_ok", "on"),
        ],
    );
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains("无法识别") && page.contains("value=\"改过的标题\""),
        "{page}"
    );
    assert_eq!(wave_of(&db, id).title, "2026年度测评", "nothing saved");
    // Without the CSRF token nothing happens.
    let status = post(&server, Some(&org), &edit_path, &[("title", "x")]);
    assert_ne!(status, 303);

    // A good edit: back to the wave page, saved, audited.
    let closes = later();
    let status = post(
        &server,
        Some(&org),
        &edit_path,
        &[
            ("csrf", &org.csrf),
            ("title", "改过的标题"),
            ("scope", "CS-T"),
            ("closes", &closes),
            ("holder", HOLDER),
            ("holder", SECOND),
            ("threshold", "2"),
        ],
    );
    assert_eq!(status, 303);
    let w = wave_of(&db, id);
    assert_eq!(w.title, "改过的标题");
    assert_eq!(w.scope.as_deref(), Some("CS-T"));
    assert_eq!(
        w.closes_at.map(sanping::web::respond::local_time),
        Some(closes)
    );
    assert_eq!(w.threshold, Some(2));
    assert_eq!(holder_names(&db, id), [HOLDER, SECOND]);
    let audit = edits(&db);
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0].0, "org");
    assert!(
        audit[0].1.contains("title: 2026年度测评 → 改过的标题"),
        "{audit:?}"
    );
    let (_, page) = get(&server, Some(&org), &page_path);
    assert!(page.contains("改过的标题"), "{page}");

    // It opens with the new scope; then the console refuses to edit it.
    assert_eq!(open_units(&db, id), ["CS-T", "U"]);
    let (_, page) = get(&server, Some(&org), &page_path);
    assert!(!page.contains(&format!("href=\"{edit_path}\"")), "{page}");
    let (status, page) = get(&server, Some(&org), &edit_path);
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("只有草稿批次可以编辑"), "{page}");
    let (status, _) = post_page(
        &server,
        &org,
        &edit_path,
        &[
            ("csrf", &org.csrf),
            ("title", "开放后改"),
            ("holder", HOLDER),
            ("single_ok", "on"),
        ],
    );
    assert_eq!(status, 409);
    assert_eq!(wave_of(&db, id).title, "改过的标题");
    assert_eq!(edits(&db).len(), 1);
}
