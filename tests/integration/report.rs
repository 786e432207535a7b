//! Reports of a small fixed wave whose every figure is computed by hand below, in every
//! output format, plus `wave verify`.
//!
//! The wave (liuhao.toml: 满意 100 / 基本满意 60 / 不满意 0 / 不了解 not valid; weights
//! 0.2 / 0.5 / 0.3; k = 5, comments need 10; trim with ≥ 5 scorers; 好 ≥ 90, 较好 ≥ 80,
//! 一般 ≥ 60; below 90% satisfaction caps at 一般), every sheet answering all 18 items alike:
//!
//! - LIB: 7 invited (6 slips and the secretary, who does not answer); 6 sheets — 3 满意, 1 基本满意, 1 不满意, 1 不了解 → valid 5, satisfied 4:
//!   rate 0.8, index (300 + 60 + 0) / 5 = 72. Self all 好 → 100. Committee: 100, 80, 60,
//!   40, 100 → trimmed (drop 40 and one 100) → (60 + 80 + 100) / 3 = 80. Composite
//!   0.2·100 + 0.5·72 + 0.3·80 = 80 → band 较好, capped to 一般 by the 90% gate.
//! - CS: 10 sheets, all 满意, each with a comment → rate 1, index 100; no secretary, no
//!   committee scores → composite rests on mass alone: 100 → 好. Comments shown (10 ≥ 10).
//! - CS-T: 10 sheets (9 满意, 1 基本满意) → rate 1, index 96; CS-S1: 3 sheets, all 基本满意,
//!   below k: hidden. CS-T keeps its figures (a large unit is never hidden to protect a
//!   small one). CS-T self all 较好 → 80; committee all 较好 → 80; composite
//!   0.2·80 + 0.5·96 + 0.3·80 = 88 → 较好, bar met. Its 10 comments are shown.
//! - CS roll-up: the whole (23 sheets) minus CS and CS-T would be CS-S1's 3 sheets, so it
//!   leaves CS-S1 out (不含样本不足单位): 10 + 10 = 20 sheets, all satisfied → rate 1;
//!   index (1000 + 900 + 60) / 20 = 98.

use std::collections::BTreeMap;

use sanping::app::AppState;
use sanping::domain::answers::{Sheet, Submission};
use sanping::domain::survey::StepKind;
use sanping::report;

use crate::support::{self, TestDb};

fn sheet(prefix: &str, option: &str) -> BTreeMap<String, String> {
    (1..=18)
        .map(|i| (format!("{prefix}{i}"), option.to_owned()))
        .collect()
}

pub(crate) fn mass(
    state: &AppState,
    wave: i32,
    unit: &str,
    options: &[&str],
    comment: Option<&str>,
) {
    let mut conn = state.pool.get().unwrap();
    let (_, _, tokens) = sanping::wave::slips(&mut conn, wave, unit, options.len()).unwrap();
    for (token, option) in tokens.iter().zip(options) {
        let s = Submission {
            answers: sheet("m", option),
            comment: comment.map(str::to_owned),
        };
        let done = sanping::respond::submit(&mut conn, token, &s).unwrap();
        assert!(matches!(done, sanping::respond::Submitted::Stored(_)));
    }
}

fn invitation(
    state: &AppState,
    wave: i32,
    step: &str,
    person: &str,
) -> sanping::db::waves::Invitation {
    use diesel::prelude::*;
    use sanping::db::schema::invitations;
    let mut conn = state.pool.get().unwrap();
    invitations::table
        .filter(invitations::wave_id.eq(wave))
        .filter(invitations::step.eq(step))
        .filter(invitations::person.eq(person))
        .select(sanping::db::waves::Invitation::as_select())
        .first(&mut *conn)
        .unwrap()
}

fn score(
    state: &AppState,
    wave: i32,
    step: StepKind,
    person: &str,
    unit: &str,
    prefix: &str,
    option: &str,
) {
    let inv = invitation(state, wave, step.as_str(), person);
    let s = Sheet {
        answers: sheet(prefix, option),
        evidence: BTreeMap::new(),
    };
    let mut conn = state.pool.get().unwrap();
    sanping::assess::save(&mut conn, &inv, unit, step, &s, true).unwrap();
}

/// The wave described at the top, closed.
pub fn fixed_wave(state: &AppState) -> i32 {
    let mut conn = state.pool.get().unwrap();
    sanping::import::units(
        &mut conn,
        &std::fs::read(support::fixture("units.csv")).unwrap(),
    )
    .unwrap();
    sanping::import::people(
        &mut conn,
        &std::fs::read(support::fixture("report_people.csv")).unwrap(),
    )
    .unwrap();
    drop(conn);
    let wave = support::create_wave(state, "liuhao.toml", None, false);
    sanping::wave::open(&mut state.pool.get().unwrap(), wave, "http://x", |_| Ok(())).unwrap();
    mass(
        state,
        wave,
        "LIB",
        &[
            "satisfied",
            "satisfied",
            "satisfied",
            "basic",
            "dissatisfied",
            "unknown",
        ],
        None,
    );
    mass(
        state,
        wave,
        "CS",
        &["satisfied"; 10],
        Some("<script>alert(1)</script> 多开展活动"),
    );
    let mut cst = vec!["satisfied"; 9];
    cst.push("basic");
    mass(state, wave, "CS-T", &cst, Some("教工支部的意见"));
    mass(state, wave, "CS-S1", &["basic"; 3], None);
    score(
        state,
        wave,
        StepKind::SelfAssessment,
        "sun.hao@demo.edu.cn",
        "LIB",
        "s",
        "good",
    );
    score(
        state,
        wave,
        StepKind::SelfAssessment,
        "wang.li@demo.edu.cn",
        "CS-T",
        "s",
        "fairly_good",
    );
    for (k, option) in ["good", "fairly_good", "average", "poor", "good"]
        .iter()
        .enumerate()
    {
        let member = format!("k{}@demo.edu.cn", k + 1);
        score(state, wave, StepKind::Org, &member, "LIB", "o", option);
        score(
            state,
            wave,
            StepKind::Org,
            &member,
            "CS-T",
            "o",
            "fairly_good",
        );
    }
    support::close_and_unseal(&mut state.pool.get().unwrap(), wave).unwrap();
    wave
}

fn close_to(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

#[test]
fn the_report_has_the_hand_computed_figures_and_hides_small_groups() {
    let db = TestDb::new();
    let state = db.state();
    let wave = fixed_wave(&state);
    let r = report::build(&mut state.pool.get().unwrap(), wave, None).unwrap();
    let unit = |code: &str| r.units.iter().find(|u| u.code == code).unwrap();
    let lib = unit("LIB");
    let m = lib.mass.as_ref().unwrap();
    assert!(close_to(m.satisfaction_rate, 0.8) && close_to(m.satisfaction_index, 72.0));
    assert_eq!(
        (lib.responses, lib.invited),
        (6, 7),
        "6 slips + the secretary's own mass link"
    );
    assert!(close_to(lib.response_rate, 6.0 / 7.0));
    assert!(close_to(lib.self_score, 100.0));
    assert_eq!((lib.org.scorers, lib.org.trimmed), (5, true));
    assert!(close_to(lib.org.score, 80.0));
    assert!(close_to(lib.composite.score, 80.0));
    assert_eq!(lib.grade.as_deref(), Some("一般"));
    assert!(lib.grade_capped, "较好 by score, capped by the 90% gate");
    assert_eq!(lib.bar_met, Some(false));
    let item = &m.items[0];
    assert_eq!(
        item.counts,
        vec![
            ("satisfied".into(), 3),
            ("basic".into(), 1),
            ("dissatisfied".into(), 1),
            ("unknown".into(), 1)
        ]
    );
    assert_eq!(
        (item.figures.answers, item.figures.valid),
        (6.0, 5.0),
        "不了解 counted but not valid"
    );
    let cs = unit("CS");
    assert!(close_to(
        cs.mass.as_ref().unwrap().satisfaction_index,
        100.0
    ));
    assert_eq!(cs.composite.steps, vec![StepKind::Mass]);
    assert_eq!(
        cs.composite.missing,
        vec![StepKind::SelfAssessment, StepKind::Org]
    );
    assert_eq!((cs.grade.as_deref(), cs.bar_met), (Some("好"), Some(true)));
    let rollup = cs.rollup.as_ref().unwrap();
    assert!(close_to(rollup.satisfaction_index, 98.0) && close_to(rollup.satisfaction_rate, 1.0));
    assert_eq!(rollup.responses, 20, "CS-S1 left out of the roll-up");
    assert_eq!(cs.rollup_left_out, vec!["CS-S1".to_owned()]);
    assert_eq!(cs.rollup_responses, 23);
    let s1 = unit("CS-S1");
    assert!(s1.suppressed && s1.mass.is_none() && s1.rollup.is_none());
    let cst = unit("CS-T");
    assert!(
        !cst.suppressed,
        "10 responses keep their figures next to a small sibling"
    );
    assert!(close_to(
        cst.mass.as_ref().unwrap().satisfaction_index,
        96.0
    ));
    assert!(close_to(cst.composite.score, 88.0));
    assert!(cst.composite.missing.is_empty());
    assert_eq!(
        (
            cst.grade.as_deref(),
            cst.grade_capped,
            cst.rank,
            cst.bar_met
        ),
        (Some("较好"), false, Some(1), Some(true))
    );
    assert_eq!(
        r.comments.len(),
        20,
        "CS and CS-T have 10 responses each: their comments are shown"
    );
    assert!(
        r.comments
            .iter()
            .all(|(unit, _)| unit == "CS" || unit == "CS-T")
    );
}

#[test]
fn table_csv_json_and_xlsx_carry_the_same_figures() {
    use calamine::{Data, Reader as _};
    let db = TestDb::new();
    let state = db.state();
    let wave = fixed_wave(&state);
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = support::bin()
            .env("DATABASE_URL", db.url())
            .arg("report")
            .arg(wave.to_string())
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let table = run(&[]);
    let lib_line = table.lines().find(|l| l.starts_with("LIB")).unwrap();
    for cell in ["85.7%", "80.0%", "72.0", "100.0", "80.0", "一般↓", "✗ <90%"] {
        assert!(lib_line.contains(cell), "{cell} missing: {lib_line}");
    }
    assert!(
        table
            .lines()
            .find(|l| l.starts_with("CS-S1"))
            .unwrap()
            .contains("样本不足")
    );
    let csv_text = run(&["--format", "csv"]);
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(csv_text.trim_start_matches('\u{feff}').as_bytes());
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    let lib = rows.iter().find(|r| &r[0] == "LIB").unwrap();
    assert_eq!(
        (&lib[7], &lib[8], &lib[11], &lib[12]),
        ("80.0%", "72.0", "80.0", "一般↓")
    );
    let cs1 = rows.iter().find(|r| &r[0] == "CS-S1").unwrap();
    assert_eq!((&cs1[7], &cs1[8]), ("样本不足", "样本不足"));
    let json: serde_json::Value = serde_json::from_str(&run(&["--format", "json"])).unwrap();
    let units = json["units"].as_array().unwrap();
    let j = |code: &str| units.iter().find(|u| u["code"] == code).unwrap().clone();
    assert_eq!(j("LIB")["mass"]["satisfaction_index"], 72.0);
    assert_eq!(j("LIB")["grade"], "一般");
    assert_eq!(j("CS-S1")["suppressed"], true);
    assert!(j("CS-S1")["mass"].is_null() && j("CS-S1")["rollup"].is_null());
    assert_eq!(j("CS")["rollup_left_out"], serde_json::json!(["CS-S1"]));
    assert_eq!(j("LIB")["mass"]["dimensions"].as_array().unwrap().len(), 6);
    assert_eq!(j("LIB")["mass"]["items"].as_array().unwrap().len(), 18);
    // Every export names the wave record.
    let hash = json["record_hash"]
        .as_str()
        .expect("a record hash")
        .to_owned();
    assert_eq!(hash.len(), 64);
    assert_eq!(&rows.last().unwrap()[0], format!("批次记录 record {hash}"));
    assert!(table.contains(&format!("record {hash}")));
    let path = dir.path().join("r.xlsx");
    run(&["--format", "xlsx", "--out", path.to_str().unwrap()]);
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(&path).unwrap();
    assert_eq!(
        book.sheet_names(),
        vec!["总表", "分维度", "分题", "意见建议"]
    );
    let summary = book.worksheet_range("总表").unwrap();
    assert_eq!(summary.get((0, 7)), Some(&Data::String("满意率".into())));
    let lib_row = summary
        .rows()
        .find(|r| r[0] == Data::String("LIB".into()))
        .unwrap();
    assert_eq!(lib_row[7], Data::Float(0.8));
    assert_eq!(lib_row[8], Data::Float(72.0));
    assert_eq!(lib_row[12], Data::String("一般".into()));
    let cs1_row = summary
        .rows()
        .find(|r| r[0] == Data::String("CS-S1".into()))
        .unwrap();
    assert_eq!(cs1_row[7], Data::String("样本不足".into()));
    assert!(
        summary
            .rows()
            .any(|r| r[0] == Data::String(format!("批次记录 record {hash}"))),
        "the XLSX names the record"
    );
    let comments = book.worksheet_range("意见建议").unwrap();
    assert_eq!(comments.rows().count(), 21);
    assert_eq!(
        comments
            .rows()
            .skip(1)
            .filter(|r| r[1] == Data::String("<script>alert(1)</script> 多开展活动".into()))
            .count(),
        10
    );
}

#[test]
fn no_scores_while_the_wave_is_open_and_compare_shows_the_change() {
    let db = TestDb::new();
    let state = db.state();
    let first = fixed_wave(&state);
    let second = support::create_wave(&state, "liuhao.toml", None, false);
    let mut conn = state.pool.get().unwrap();
    sanping::wave::open(&mut conn, second, "http://x", |_| Ok(())).unwrap();
    drop(conn);
    mass(&state, second, "LIB", &["satisfied"; 6], None);
    let err = report::build(&mut state.pool.get().unwrap(), second, None).unwrap_err();
    assert!(matches!(err, report::ReportError::Open(_)), "{err}");
    let out = support::bin()
        .env("DATABASE_URL", db.url())
        .args(["report", &second.to_string()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("still open"));
    support::close_and_unseal(&mut state.pool.get().unwrap(), second).unwrap();
    let r = report::build(&mut state.pool.get().unwrap(), second, Some(first)).unwrap();
    let lib = r.units.iter().find(|u| u.code == "LIB").unwrap();
    let change = lib.change.as_ref().unwrap();
    assert!(
        close_to(change.satisfaction_index, 28.0),
        "100 now, 72 then: {change:?}"
    );
    assert!(close_to(change.satisfaction_rate, 0.2));
}

#[test]
fn wave_verify_balances_used_invitations_against_stored_responses() {
    use diesel::prelude::*;
    let db = TestDb::new();
    let state = db.state();
    let wave = fixed_wave(&state);
    let run = || {
        support::bin()
            .env("DATABASE_URL", db.url())
            .args(["wave", "verify", &wave.to_string()])
            .output()
            .unwrap()
    };
    let ok = run();
    let stdout = String::from_utf8(ok.stdout).unwrap();
    assert!(ok.status.success(), "{stdout}");
    assert!(stdout.contains("LIB") && stdout.contains("verifies"));
    let mut conn = state.pool.get().unwrap();
    let one: String = sanping::db::schema::responses::table
        .filter(sanping::db::schema::responses::unit.eq("LIB"))
        .select(sanping::db::schema::responses::id)
        .first(&mut *conn)
        .unwrap();
    diesel::delete(sanping::db::schema::responses::table.find(one))
        .execute(&mut *conn)
        .unwrap();
    let bad = run();
    assert!(!bad.status.success());
    assert!(String::from_utf8(bad.stdout).unwrap().contains("MISMATCH"));
}

#[test]
fn closing_stores_the_counts_the_report_reads_and_verify_checks() {
    use diesel::prelude::*;
    use sanping::db::schema::tallies;
    let db = TestDb::new();
    let state = db.state();
    let wave = fixed_wave(&state);
    let mut conn = state.pool.get().unwrap();
    // The stored counts equal a recount of the raw responses.
    let stored = sanping::tally::load(&mut conn, wave).unwrap();
    let recount = sanping::tally::count(&mut conn, wave).unwrap();
    assert_eq!(stored, recount);
    assert_eq!(stored.own["CS"].responses, 10);
    assert_eq!(stored.own["CS"].items["m1"]["satisfied"], 10);
    assert_eq!(stored.invited["LIB"], 7);
    // The report reads the stored counts: changing them changes the report ...
    diesel::update(
        tallies::table
            .filter(tallies::wave_id.eq(wave))
            .filter(tallies::unit.eq("CS"))
            .filter(tallies::choice.eq("satisfied")),
    )
    .set(tallies::choice.eq("basic"))
    .execute(&mut *conn)
    .unwrap();
    let r = report::build(&mut conn, wave, None).unwrap();
    let cs = r.units.iter().find(|u| u.code == "CS").unwrap();
    assert!(close_to(cs.mass.as_ref().unwrap().satisfaction_index, 60.0));
    // ... and `wave verify` notices that they no longer match the responses.
    let audit = report::verify::audit(&mut conn, wave, Some(&r)).unwrap();
    assert!(!audit.ok());
    assert!(
        audit
            .mismatches
            .iter()
            .any(|m| m.contains("CS (stored counts)")),
        "{:?}",
        audit.mismatches
    );
}

#[test]
fn verify_flags_answer_sheets_that_do_not_fit_the_survey() {
    use diesel::prelude::*;
    use sanping::db::schema::responses;
    let db = TestDb::new();
    let state = db.state();
    let wave = fixed_wave(&state);
    let mut conn = state.pool.get().unwrap();
    let r = report::build(&mut conn, wave, None).unwrap();
    let clean = report::verify::audit(&mut conn, wave, Some(&r)).unwrap();
    assert!(clean.ok() && clean.bad_responses == 0, "{clean:?}");
    assert_eq!(clean.checked, 29);
    // Three CS-T sheets rewritten behind the platform's back: an unknown item, an unknown
    // option, and no JSON at all.
    let ids: Vec<String> = responses::table
        .filter(responses::unit.eq("CS-T"))
        .select(responses::id)
        .limit(3)
        .load(&mut *conn)
        .unwrap();
    for (id, answers) in ids.iter().zip([
        r#"{"m1":"satisfied","zz":"satisfied"}"#,
        r#"{"m1":"thrilled"}"#,
        "not json",
    ]) {
        diesel::update(responses::table.find(id))
            .set(responses::answers.eq(answers))
            .execute(&mut *conn)
            .unwrap();
    }
    let audit = report::verify::audit(&mut conn, wave, Some(&r)).unwrap();
    assert_eq!(audit.bad_responses, 3, "{audit:?}");
    assert_eq!(audit.checked, 29);
    assert!(!audit.ok());
    assert!(
        audit
            .mismatches
            .iter()
            .any(|m| m.contains("CS-T (stored counts)")),
        "the recount differs from the counts stored at close: {:?}",
        audit.mismatches
    );
}

#[test]
fn purging_a_test_wave_drops_its_counts() {
    use diesel::prelude::*;
    use sanping::db::schema::{tallies, unit_totals};
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    let wave = support::create_wave(&state, "liuhao.toml", None, true);
    let mut conn = state.pool.get().unwrap();
    sanping::wave::open(&mut conn, wave, "http://x", |_| Ok(())).unwrap();
    drop(conn);
    mass(&state, wave, "LIB", &["satisfied"; 6], None);
    let mut conn = state.pool.get().unwrap();
    support::close_and_unseal(&mut conn, wave).unwrap();
    let rows = |conn: &mut sanping::db::DbConn| -> (i64, i64) {
        (
            tallies::table
                .filter(tallies::wave_id.eq(wave))
                .count()
                .get_result(conn)
                .unwrap(),
            unit_totals::table
                .filter(unit_totals::wave_id.eq(wave))
                .count()
                .get_result(conn)
                .unwrap(),
        )
    };
    let (t, u) = rows(&mut conn);
    assert!(t >= 18 && u >= 1, "{t} tallies, {u} unit totals");
    sanping::wave::purge_test(&mut conn, wave).unwrap();
    assert_eq!(rows(&mut conn), (0, 0));
}

/// Submissions racing a close: every response is either counted by the close or refused,
/// never stored after the counts were taken (on PostgreSQL the advisory lock sees to it).
#[test]
fn submissions_racing_the_close_are_counted_or_refused() {
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    let wave = support::create_wave(&state, "liuhao.toml", None, false);
    let mut conn = state.pool.get().unwrap();
    sanping::wave::open(&mut conn, wave, "http://x", |_| Ok(())).unwrap();
    let (_, _, tokens) = sanping::wave::slips(&mut conn, wave, "LIB", 200).unwrap();
    drop(conn);
    let tokens = std::sync::Arc::new(tokens);
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let workers: Vec<_> = (0..6)
        .map(|_| {
            let (state, tokens, next) = (state.clone(), tokens.clone(), next.clone());
            std::thread::spawn(move || {
                let mut conn = state.pool.get().unwrap();
                let s = Submission {
                    answers: sheet("m", "satisfied"),
                    comment: None,
                };
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(token) = tokens.get(i) else { break };
                    sanping::respond::submit(&mut conn, token, &s).unwrap();
                }
            })
        })
        .collect();
    while next.load(std::sync::atomic::Ordering::SeqCst) < 60 {
        std::thread::yield_now();
    }
    support::close_and_unseal(&mut state.pool.get().unwrap(), wave).unwrap();
    for w in workers {
        w.join().unwrap();
    }
    let mut conn = state.pool.get().unwrap();
    let stored = sanping::tally::load(&mut conn, wave).unwrap();
    assert_eq!(stored, sanping::tally::count(&mut conn, wave).unwrap());
    let audit = report::verify::audit(&mut conn, wave, None).unwrap();
    assert!(audit.ok(), "{:?}", audit.balances);
    // 60 tokens were taken before the close and at most one per worker was in flight.
    assert!(stored.own["LIB"].responses >= 54);
}

/// The summary of the fixed wave, by hand (see the module doc): the shown units LIB, CS and
/// CS-T pool 6 + 10 + 10 = 26 sheets; per item 25 valid votes (LIB's 不了解 is not one),
/// 22 满意 + 2 基本满意 + 1 不满意 → rate 24 / 25 = 0.96, index (22·100 + 2·60) / 25 =
/// 92.8. CS-S1 (3 sheets, hidden) is left out. Responses 6 + 10 + 10 + 3 = 29 of every
/// unit (each row shows its count anyway). Grades: CS 好, CS-T 较好, LIB 一般, CS-S1 none;
/// LIB is the one unit below the bar, CS-S1's rate is unknown.
#[test]
fn the_summary_pools_only_shown_units_and_matches_a_hand_computation() {
    let db = TestDb::new();
    let state = db.state();
    let wave = fixed_wave(&state);
    let r = report::build(&mut state.pool.get().unwrap(), wave, None).unwrap();
    let s = &r.summary;
    assert_eq!((s.units, s.pooled_units), (4, 3));
    assert_eq!(s.left_out, vec!["CS-S1".to_owned()]);
    let invited: u64 = r.units.iter().map(|u| u.invited).sum();
    assert_eq!((s.responses, s.invited), (29, invited));
    assert!(close_to(s.response_rate, 29.0 / invited as f64));
    let m = s.mass.as_ref().expect("pooled figures of the shown units");
    assert_eq!(m.responses, 26, "CS-S1's 3 sheets are not in the pool");
    assert!(
        close_to(m.satisfaction_rate, 0.96),
        "{:?}",
        m.satisfaction_rate
    );
    assert!(
        close_to(m.satisfaction_index, 92.8),
        "{:?}",
        m.satisfaction_index
    );
    assert_eq!(
        m.items[0].counts,
        vec![
            ("satisfied".into(), 22),
            ("basic".into(), 2),
            ("dissatisfied".into(), 1),
            ("unknown".into(), 1)
        ]
    );
    let (lo, hi) = m.satisfaction_interval.expect("a clustered interval");
    assert!(lo < 0.96 && 0.96 < hi && hi <= 1.0, "({lo}, {hi})");
    let grades: Vec<(&str, usize)> = s
        .grades
        .iter()
        .map(|g| (g.label.as_str(), g.units))
        .collect();
    assert_eq!(grades, [("好", 1), ("较好", 1), ("一般", 1), ("较差", 0)]);
    assert_eq!(s.ungraded, 1, "CS-S1 rests on no step");
    assert_eq!((s.below_bar, s.bar_met, s.bar_unknown), (1, 2, 1));
    // The rank says out of how many units of the same kind.
    let unit = |code: &str| r.units.iter().find(|u| u.code == code).unwrap();
    assert_eq!(
        (unit("CS-T").rank, unit("CS-T").rank_of),
        (Some(1), Some(1))
    );
    assert_eq!(report::export::rank(unit("CS-T")), "1 / 1");
    assert_eq!(report::export::rank(unit("CS-S1")), "—");
    // `sanping report --format json` carries the same summary, and the table says it.
    let run = |args: &[&str]| {
        let out = support::bin()
            .env("DATABASE_URL", db.url())
            .arg("report")
            .arg(wave.to_string())
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let json: serde_json::Value = serde_json::from_str(&run(&["--format", "json"])).unwrap();
    assert!(
        same_json(&json["summary"], &serde_json::to_value(s).unwrap()),
        "{}",
        json["summary"]
    );
    assert_eq!(json["summary"]["left_out"], serde_json::json!(["CS-S1"]));
    let table = run(&[]);
    let line = report::export::summary_line(&r);
    assert!(table.contains(&line), "{line} not in\n{table}");
    assert!(line.contains("96.0%") && line.contains("92.8") && line.contains("不含样本不足单位"));
    assert!(table.contains("1 / 1"), "ranks read n / m");
}

/// Equal JSON values, numbers within float parsing noise (`serde_json`'s default parser may
/// be one unit in the last place off).
pub fn same_json(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as V;
    match (a, b) {
        (V::Number(x), V::Number(y)) => (x.as_f64().unwrap() - y.as_f64().unwrap()).abs() <= 1e-12,
        (V::Array(x), V::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (V::Object(x), V::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}
