//! The disclosure rule end to end: an attacker holding every figure the JSON report shows
//! (the source of every other output) tries to isolate a small group by adding and
//! subtracting them; and the clustered interval of a unit's rate, stored at unseal and
//! recounted by `wave verify`.
//!
//! The tree: P (6 own sheets) with children P-A (20), P-B (20), P-C (1, dissatisfied on
//! everything) and P-D (0), k = 5; and T, 7 sheets: 6 satisfied on every item, 1 not.

use std::collections::BTreeMap;

use calamine::{Data, Reader as _};

use sanping::app::AppState;
use sanping::domain::answers::Submission;
use sanping::report;

use crate::support::{self, TestDb};

const UNITS: &str = "code,name,kind,parent\nU,大学党委,committee,\nP,甲党总支,general_branch,U\nP-A,甲一支部,branch,P\nP-B,甲二支部,branch,P\nP-C,甲三支部,branch,P\nP-D,甲四支部,branch,P\nT,乙直属支部,direct_branch,U\n";

fn mass(state: &AppState, wave: i32, unit: &str, options: &[&str]) {
    let mut conn = state.pool.get().unwrap();
    let (_, _, tokens) = sanping::wave::slips(&mut conn, wave, unit, options.len()).unwrap();
    for (token, option) in tokens.iter().zip(options) {
        let s = Submission {
            answers: (1..=18)
                .map(|i| (format!("m{i}"), (*option).to_owned()))
                .collect(),
            comment: None,
        };
        sanping::respond::submit(&mut conn, token, &s).unwrap();
    }
}

fn wave(state: &AppState) -> i32 {
    let mut conn = state.pool.get().unwrap();
    sanping::import::units(&mut conn, UNITS.as_bytes()).unwrap();
    drop(conn);
    let wave = support::create_wave(state, "liuhao.toml", None, false);
    sanping::wave::open(&mut state.pool.get().unwrap(), wave, "http://x", |_| Ok(())).unwrap();
    let cycle = ["satisfied", "basic", "dissatisfied", "unknown"];
    let p: Vec<&str> = cycle.iter().cycle().take(6).copied().collect();
    mass(state, wave, "P", &p);
    let a: Vec<&str> = cycle.iter().cycle().skip(1).take(20).copied().collect();
    mass(state, wave, "P-A", &a);
    mass(state, wave, "P-B", &["satisfied"; 20]);
    mass(state, wave, "P-C", &["dissatisfied"]);
    let mut t = vec!["satisfied"; 6];
    t.push("dissatisfied");
    mass(state, wave, "T", &t);
    support::close_and_unseal(&mut state.pool.get().unwrap(), wave).unwrap();
    wave
}

/// A figure set as the attacker reads it: sheets, then every option count of every item.
fn vector(m: &serde_json::Value) -> Vec<i64> {
    let mut v = vec![m["responses"].as_i64().unwrap()];
    for item in m["items"].as_array().unwrap() {
        for pair in item["counts"].as_array().unwrap() {
            v.push(pair[1].as_i64().unwrap());
        }
    }
    v
}

/// The same vector of a tally.
fn of_tally(report: &serde_json::Value, t: &sanping::domain::scoring::Tally) -> Vec<i64> {
    let options = ["satisfied", "basic", "dissatisfied", "unknown"];
    let mut v = vec![i64::try_from(t.responses).unwrap()];
    for item in report["items"].as_array().unwrap() {
        let id = item["id"].as_str().unwrap();
        for o in options {
            let n = t.items.get(id).and_then(|x| x.get(o)).copied().unwrap_or(0);
            v.push(i64::try_from(n).unwrap());
        }
    }
    v
}

/// Whether some combination of `sets` with coefficients −1, 0, +1 equals `target`.
fn isolates(sets: &[Vec<i64>], target: &[i64]) -> bool {
    let combos = 3usize.pow(u32::try_from(sets.len()).unwrap());
    (1..combos).any(|mut code| {
        let mut sum = vec![0i64; target.len()];
        for v in sets {
            let c = i64::try_from(code % 3).unwrap() - 1;
            code /= 3;
            for (s, x) in sum.iter_mut().zip(v) {
                *s += c * x;
            }
        }
        sum == target
    })
}

#[test]
fn no_small_group_can_be_isolated_from_the_json_report() {
    let db = TestDb::new();
    let state = db.state();
    let wave = wave(&state);
    let out = support::bin()
        .env("DATABASE_URL", db.url())
        .args(["report", &wave.to_string(), "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let units = json["units"].as_array().unwrap();
    let unit = |code: &str| units.iter().find(|u| u["code"] == code).unwrap();
    // Large units keep their figures next to small siblings; P-C is left out of P's roll-up.
    for code in ["P", "P-A", "P-B", "T"] {
        assert!(!unit(code)["mass"].is_null(), "{code} keeps its figures");
    }
    assert!(unit("P-C")["mass"].is_null() && unit("P-C")["rollup"].is_null());
    assert_eq!(unit("P")["rollup_left_out"], serde_json::json!(["P-C"]));
    assert_eq!(unit("P")["rollup"]["responses"], 46);
    assert_eq!(
        unit("P-A")["composite"]["steps"],
        serde_json::json!(["mass"])
    );
    // Everything the report shows, whatever the role: units' and roll-ups' figure sets.
    let mut seen: Vec<Vec<i64>> = Vec::new();
    for u in units {
        for key in ["mass", "rollup"] {
            if !u[key].is_null() {
                let v = vector(&u[key]);
                if !seen.contains(&v) {
                    seen.push(v);
                }
            }
        }
    }
    // The institution-wide summary pools the shown units only: P, P-A, P-B and T.
    let summary = &json["summary"];
    assert_eq!(summary["left_out"], serde_json::json!(["P-C"]));
    assert_eq!(summary["mass"]["responses"], 6 + 20 + 20 + 7);
    assert_eq!(
        summary["responses"],
        6 + 20 + 20 + 1 + 7,
        "counts are shown per row"
    );
    let pooled = vector(&summary["mass"]);
    if !seen.contains(&pooled) {
        seen.push(pooled);
    }
    let k = json["min_responses"].as_u64().unwrap();
    let mut conn = state.pool.get().unwrap();
    let counts = sanping::tally::count(&mut conn, wave).unwrap();
    let small: BTreeMap<&String, &sanping::domain::scoring::Tally> = counts
        .own
        .iter()
        .filter(|(_, t)| t.responses > 0 && t.responses < k)
        .collect();
    assert_eq!(
        small.keys().map(|c| c.as_str()).collect::<Vec<_>>(),
        ["P-C"]
    );
    for (code, t) in &small {
        assert!(
            !isolates(&seen, &of_tally(&json, t)),
            "{code} can be isolated"
        );
    }
    // The attack works: a summary of every unit, P-C included, gives P-C away.
    let mut everyone = counts.own["T"].clone();
    for c in ["P", "P-A", "P-B", "P-C"] {
        everyone.merge(&counts.own[c]);
    }
    let mut with_total = seen.clone();
    with_total.push(of_tally(&json, &everyone));
    assert!(isolates(
        &with_total,
        &of_tally(&json, small[&"P-C".to_owned()])
    ));
    // So does the whole roll-up of P (what used to be shown).
    let mut whole = counts.own["P"].clone();
    for c in ["P-A", "P-B", "P-C"] {
        whole.merge(&counts.own[c]);
    }
    seen.push(of_tally(&json, &whole));
    assert!(isolates(&seen, &of_tally(&json, small[&"P-C".to_owned()])));
    // The CSV says 样本不足 where the JSON has no figure, and shows no more units.
    let csv = support::bin()
        .env("DATABASE_URL", db.url())
        .args(["report", &wave.to_string(), "--format", "csv"])
        .output()
        .unwrap();
    let csv = String::from_utf8(csv.stdout).unwrap();
    let pc = csv.lines().find(|l| l.starts_with("P-C,")).unwrap();
    let cells: Vec<&str> = pc.split(',').collect();
    assert_eq!((cells[7], cells[8]), ("样本不足", "样本不足"), "{pc}");
    assert!(
        cells[9..].iter().all(|c| *c == "—"),
        "no grade from hidden figures: {pc}"
    );
    // Nor does any sheet of the XLSX carry a figure of P-C beyond its response counts.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.xlsx");
    let out = support::bin()
        .env("DATABASE_URL", db.url())
        .args(["report", &wave.to_string(), "--format", "xlsx", "--out"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(&path).unwrap();
    let mut rows = 0;
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).unwrap();
        let first_figure = if name == "总表" { 7 } else { 2 };
        for r in range.rows().filter(|r| r[0] == Data::String("P-C".into())) {
            rows += 1;
            assert!(
                r[first_figure..]
                    .iter()
                    .all(|c| !matches!(c, Data::Float(_) | Data::Int(_))),
                "{name}: {r:?}"
            );
        }
    }
    assert_eq!(rows, 3, "P-C in 总表, 分维度 and 分题");
}

#[test]
fn a_units_interval_counts_respondents_not_answers_and_verify_recounts_the_sums() {
    let db = TestDb::new();
    let state = db.state();
    let wave = wave(&state);
    let mut conn = state.pool.get().unwrap();
    let r = report::build(&mut conn, wave, None).unwrap();
    let t = r.units.iter().find(|u| u.code == "T").unwrap();
    let m = t.mass.as_ref().unwrap();
    let (lo, hi) = m.satisfaction_interval.unwrap();
    assert!((m.satisfaction_rate.unwrap() - 6.0 / 7.0).abs() < 1e-12);
    assert!(
        (lo - 0.487).abs() < 0.005 && (hi - 0.974).abs() < 0.005,
        "7 respondents, not 126 answers: ({lo}, {hi})"
    );
    for d in &m.dimensions {
        let (dlo, _) = d.figures.interval.unwrap();
        assert!((dlo - lo).abs() < 1e-9, "{}", d.dimension);
    }
    let stored = sanping::tally::load(&mut conn, wave).unwrap();
    let recount = sanping::tally::count(&mut conn, wave).unwrap();
    assert_eq!(
        stored, recount,
        "the per-respondent sums are stored at unseal"
    );
    assert_eq!(stored.own["T"].moments[""].respondents, 7);
    let audit = report::verify::audit(&mut conn, wave, Some(&r)).unwrap();
    assert!(audit.ok(), "{:?}", audit.mismatches);
    // A stored sum that does not match the sheets is found.
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "UPDATE moments SET sum_y = sum_y + 1 WHERE wave_id = {wave} AND unit = 'T' AND scope = ''"
        )),
        &mut *conn,
    )
    .unwrap();
    let audit = report::verify::audit(&mut conn, wave, Some(&r)).unwrap();
    assert_eq!(audit.mismatches, vec!["T (stored counts)".to_owned()]);
}
