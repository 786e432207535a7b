//! A wave's frame is frozen when it opens, and its record is written when its results are
//! final: later imports never move a result, and `wave verify` names any change after it.

use diesel::prelude::*;
use sanping::db::schema::{responses, wave_records, wave_units};

use crate::report::fixed_wave;
use crate::support::{self, TestDb};

fn report_units(state: &sanping::app::AppState, wave: i32) -> serde_json::Value {
    let mut conn = state.pool.get().unwrap();
    let r = sanping::report::build(&mut conn, wave, None).unwrap();
    serde_json::to_value(&r.units).unwrap()
}

fn verify(db: &TestDb, wave: i32) -> (bool, String) {
    let out = support::bin()
        .env("DATABASE_URL", db.url())
        .args(["wave", "verify", &wave.to_string()])
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn later_imports_change_no_result_of_a_wave_that_has_opened() {
    let db = TestDb::new();
    let state = db.state();
    let wave = fixed_wave(&state);
    let before = report_units(&state, wave);
    let mut conn = state.pool.get().unwrap();
    // A new branch under CS, a renamed and re-parented unit, a changed kind.
    sanping::import::units(
        &mut conn,
        "code,name,kind,parent\n\
         CS-S3,计算机学院本科生第三党支部,branch,CS\n\
         CS-T,改名后的教工支部,branch,LIB\n\
         CS-S1,计算机学院本科生第一党支部,general_branch,U\n"
            .as_bytes(),
    )
    .unwrap();
    drop(conn);
    let after = report_units(&state, wave);
    assert_eq!(
        before, after,
        "a closed wave's figures, names, parents and ranks never move"
    );
    let codes: Vec<&str> = after
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["code"].as_str().unwrap())
        .collect();
    assert!(!codes.contains(&"CS-S3"));
    let (ok, out) = verify(&db, wave);
    assert!(ok, "{out}");
}

#[test]
fn people_added_after_opening_are_listed_and_invited_only_when_asked() {
    let db = TestDb::new();
    let state = db.state();
    support::load_members_only(&state);
    let (wave, _) = support::open_wave(&state, "liuhao.toml", None, false);
    let mut conn = state.pool.get().unwrap();
    let invited = support::stored_invitations(&mut conn, wave);
    sanping::import::people(
        &mut conn,
        "email,name,unit,category,role\nnew.one@demo.edu.cn,新来的,CS-T,faculty,member\n"
            .as_bytes(),
    )
    .unwrap();
    assert_eq!(
        support::stored_invitations(&mut conn, wave),
        invited,
        "an import invites nobody to an open wave by itself"
    );
    let changes = sanping::wave::roster_changes(&mut conn, wave).unwrap();
    assert_eq!(changes.added.len(), 1);
    assert_eq!(changes.added[0].0.email, "new.one@demo.edu.cn");
    // The console lists the change and invites only on an explicit, audited action.
    sanping::auth::add_user(
        &mut conn,
        "org",
        sanping::auth::Role::Organizer,
        "organizer-pass",
    )
    .unwrap();
    let server = support::Server::start(state.clone());
    let (_, org) = crate::admin::login(&server, "org", "organizer-pass");
    let org = org.unwrap();
    let (status, page) = crate::admin::get(&server, Some(&org), &format!("/admin/waves/{wave}"));
    assert_eq!(status, 200);
    assert!(
        page.contains("new.one@demo.edu.cn") && page.contains("invite-added"),
        "{page}"
    );
    let out = support::bin()
        .env("DATABASE_URL", db.url())
        .args(["wave", "show", &wave.to_string()])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("new.one@demo.edu.cn"));
    let out = support::bin()
        .env("DATABASE_URL", db.url())
        .args(["wave", "invite-added", &wave.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(support::stored_invitations(&mut conn, wave), invited + 1);
    assert!(
        sanping::wave::roster_changes(&mut conn, wave)
            .unwrap()
            .added
            .is_empty()
    );
    let audited = sanping::db::accounts::audit_entries(&mut conn, 20)
        .unwrap()
        .iter()
        .any(|e| e.action == "wave.invite-added");
    assert!(audited);
}

#[test]
fn records_chain_and_verify_names_any_change_after_the_fact() {
    let db = TestDb::new();
    let state = db.state();
    let first = fixed_wave(&state);
    let second = support::create_wave(&state, "liuhao.toml", None, false);
    let mut conn = state.pool.get().unwrap();
    sanping::wave::open(&mut conn, second, "http://x", |_| Ok(())).unwrap();
    support::close_and_unseal(&mut conn, second).unwrap();
    let record = |conn: &mut sanping::db::DbConn, w: i32| {
        sanping::db::frames::record_of(conn, w).unwrap().unwrap()
    };
    let (a, b) = (record(&mut conn, first), record(&mut conn, second));
    assert_eq!(b.seq, a.seq + 1);
    let body: sanping::record::Body = serde_json::from_str(&b.body).unwrap();
    assert_eq!(body.previous.as_deref(), Some(a.hash.as_str()), "one chain");
    let body_a: sanping::record::Body = serde_json::from_str(&a.body).unwrap();
    assert_eq!(body_a.units["LIB"].answered, 6);
    assert!(!a.body.contains('@'), "a record names no person");
    // The published receipts page shows it.
    sanping::wave::publish(&mut conn, first).unwrap();
    let server = support::Server::start(state.clone());
    let (_, page) = support::get(&server.url(&format!("/w/{first}/receipts")));
    assert!(page.contains(&a.hash), "{page}");
    let (ok, out) = verify(&db, first);
    assert!(ok && out.contains(&format!("record {}", a.hash)), "{out}");

    // An edited frozen tree.
    diesel::update(wave_units::table.find((first, "LIB")))
        .set(wave_units::name.eq("改过的名字"))
        .execute(&mut *conn)
        .unwrap();
    let (ok, out) = verify(&db, first);
    assert!(!ok && out.contains("frame differs"), "{out}");
    diesel::update(wave_units::table.find((first, "LIB")))
        .set(wave_units::name.eq("图书馆直属党支部"))
        .execute(&mut *conn)
        .unwrap();
    assert!(verify(&db, first).0);

    // A deleted answer sheet.
    let one: String = responses::table
        .filter(responses::wave_id.eq(first))
        .filter(responses::unit.eq("LIB"))
        .select(responses::id)
        .first(&mut *conn)
        .unwrap();
    diesel::delete(responses::table.find(&one))
        .execute(&mut *conn)
        .unwrap();
    let (ok, out) = verify(&db, first);
    assert!(
        !ok && out.contains("LIB: recorded 7 invited / 6 answered, now 7 / 5")
            && out.contains("differ from the recorded tallies"),
        "{out}"
    );

    // An edited record.
    diesel::update(wave_records::table.find(second))
        .set(wave_records::body.eq(b.body.replace("\"version\":1", "\"version\":2")))
        .execute(&mut *conn)
        .unwrap();
    let (ok, out) = verify(&db, second);
    assert!(!ok && out.contains("changed after it was written"), "{out}");
}

#[test]
fn two_waves_unsealed_at_once_by_two_processes_keep_one_chain() {
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    let mut waves = Vec::new();
    for _ in 0..2 {
        let (wave, _) = support::open_wave(&state, "liuhao.toml", None, false);
        sanping::wave::close(&mut state.pool.get().unwrap(), wave).unwrap();
        waves.push(wave);
    }
    let password = format!("{}\n", support::HOLDER_PASSWORD);
    let children: Vec<std::process::Child> = waves
        .iter()
        .map(|w| {
            let mut child = support::bin()
                .env("DATABASE_URL", db.url())
                .args([
                    "wave",
                    "unseal",
                    &w.to_string(),
                    "--holder",
                    support::HOLDER,
                ])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            std::io::Write::write_all(&mut child.stdin.take().unwrap(), password.as_bytes())
                .unwrap();
            child
        })
        .collect();
    for c in children {
        assert!(c.wait_with_output().unwrap().status.success());
    }
    let mut conn = state.pool.get().unwrap();
    let mut records: Vec<sanping::db::frames::Record> = waves
        .iter()
        .map(|w| {
            sanping::db::frames::record_of(&mut conn, *w)
                .unwrap()
                .unwrap()
        })
        .collect();
    records.sort_by_key(|r| r.seq);
    assert_eq!((records[0].seq, records[1].seq), (1, 2));
    let second: sanping::record::Body = serde_json::from_str(&records[1].body).unwrap();
    assert_eq!(second.previous.as_deref(), Some(records[0].hash.as_str()));
}
