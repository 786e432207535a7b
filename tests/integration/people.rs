//! People waves (民主评议) through the library, on a real database: who rates whom, forged
//! fields, racing submissions, sealing, 开箱 that only counts, the hand-computed result,
//! suppression below k in every output, the quota, the record.

use std::collections::BTreeMap;

use diesel::prelude::*;
use sanping::db::schema::person_grades;

use sanping::app::AppState;
use sanping::db::DbConn;
use sanping::rating::{self, Sent};
use sanping::respond::{Lookup, Submitted};
use sanping::wave::Link;

use super::support::{self, TestDb};

const SURVEY: &str = "minzhu-pingyi.toml";

/// The branch CS-T has eight members (the first its secretary) and two non-member
/// colleagues; CS-S1 has three members, too few to rate each other anonymously.
pub const ROSTER: &str = "email,name,unit,category,role
m1@demo.edu.cn,党员一,CS-T,faculty,member;party;secretary
m2@demo.edu.cn,党员二,CS-T,faculty,member;party
m3@demo.edu.cn,党员三,CS-T,faculty,member;party
m4@demo.edu.cn,党员四,CS-T,faculty,member;party
m5@demo.edu.cn,党员五,CS-T,faculty,member;party
m6@demo.edu.cn,党员六,CS-T,faculty,member;party
m7@demo.edu.cn,党员七,CS-T,faculty,member;party
m8@demo.edu.cn,党员八,CS-T,faculty,member;party
q1@demo.edu.cn,群众一,CS-T,faculty,member
q2@demo.edu.cn,群众二,CS-T,faculty,member
s1@demo.edu.cn,学生一,CS-S1,student,member;party;secretary
s2@demo.edu.cn,学生二,CS-S1,student,member;party
s3@demo.edu.cn,学生三,CS-S1,student,member;party
";

/// Imports the fixture unit tree and [`ROSTER`].
pub fn load(state: &AppState) {
    let mut conn = state.pool.get().expect("conn");
    sanping::import::units(
        &mut conn,
        &std::fs::read(support::fixture("units.csv")).unwrap(),
    )
    .expect("units");
    sanping::import::people(&mut conn, ROSTER.as_bytes()).expect("people");
}

fn token_of(link: &Link) -> String {
    support::path_of(&link.url)["/s/".len()..].to_owned()
}

fn rating_link<'a>(links: &'a [Link], email: &str) -> &'a Link {
    links
        .iter()
        .find(|l| l.email == email && l.step == sanping::domain::survey::StepKind::Mass)
        .expect("a rating link")
}

fn ready(
    conn: &mut DbConn,
    link: &Link,
) -> (sanping::db::waves::WaveHead, sanping::db::waves::Invitation) {
    match sanping::respond::lookup(conn, &token_of(link)).expect("lookup") {
        Lookup::Ready(w, i) => (w, i),
        other => panic!("link not ready: {other:?}"),
    }
}

fn survey_of(conn: &mut DbConn, id: i32) -> sanping::domain::survey::Survey {
    let wave = sanping::wave::get(conn, id).expect("wave");
    sanping::wave::survey_of(&wave).expect("survey")
}

/// Sends `rater`'s sheet: `grade(target)` for everyone on it, with `reason(target)`.
fn rate(
    conn: &mut DbConn,
    links: &[Link],
    rater: &str,
    grade: impl Fn(&str) -> &'static str,
    reason: impl Fn(&str) -> Option<String>,
) -> Sent {
    let link = rating_link(links, rater);
    let (wave, invitation) = ready(conn, link);
    let survey = survey_of(conn, wave.id);
    let mut fields = Vec::new();
    let targets = rating::targets(conn, &invitation).expect("targets");
    for t in &targets {
        fields.push((format!("{}:grade", t.person), grade(&t.person).to_owned()));
        if let Some(r) = reason(&t.person) {
            fields.push((format!("{}:reason", t.person), r));
        }
    }
    rating::submit(conn, &wave, &invitation, &survey, &targets, &fields).expect("submit")
}

fn stored(sent: &Sent) -> bool {
    matches!(sent, Sent::Done(Submitted::Stored(_)))
}

fn people_json(conn: &mut DbConn, id: i32) -> serde_json::Value {
    let r = sanping::report::people::build(conn, id).expect("people report");
    serde_json::from_str(&sanping::report::people_export::json(&r).expect("json")).expect("parse")
}

fn person<'a>(doc: &'a serde_json::Value, email: &str) -> &'a serde_json::Value {
    doc["people"]
        .as_array()
        .expect("people")
        .iter()
        .find(|p| p["email"] == email)
        .expect("person in report")
}

#[test]
fn who_rates_whom_comes_from_the_frame() {
    let db = TestDb::new();
    let state = db.state();
    load(&state);
    let (id, links) = support::open_wave(&state, SURVEY, None, false);
    let mut conn = state.pool.get().expect("conn");
    // CS-T: 8 own links (个人总结) and 10 rating links; CS-S1 too small: none.
    let own = links
        .iter()
        .filter(|l| l.step == sanping::domain::survey::StepKind::SelfAssessment)
        .count();
    let rating_links = links.len() - own;
    assert_eq!((own, rating_links), (8, 10), "{links:?}");
    assert!(links.iter().all(|l| l.unit == "CS-T"));
    for l in links
        .iter()
        .filter(|l| l.step == sanping::domain::survey::StepKind::Mass)
    {
        let (_, invitation) = ready(&mut conn, l);
        let targets: Vec<String> = rating::targets(&mut conn, &invitation)
            .expect("targets")
            .into_iter()
            .map(|t| t.person)
            .collect();
        assert!(!targets.contains(&l.email), "{} rates themselves", l.email);
        let expected = if l.email.starts_with('m') { 7 } else { 8 };
        assert_eq!(targets.len(), expected, "{}: {targets:?}", l.email);
        assert!(targets.iter().all(|t| t.starts_with('m')));
    }
    let rated = sanping::db::rated::of_wave(&mut conn, id).expect("frame");
    assert_eq!(rated.len(), 8);
}

#[test]
fn a_wave_whose_branches_are_all_too_small_is_refused_with_the_reason() {
    let db = TestDb::new();
    let state = db.state();
    load(&state);
    let id = support::create_wave(&state, SURVEY, Some("CS-S1"), false);
    let mut conn = state.pool.get().expect("conn");
    let err = sanping::wave::open(&mut conn, id, "http://x", |_| Ok(()))
        .expect_err("too small")
        .to_string();
    assert!(
        err.contains("CS-S1") && err.contains("at most 2 raters") && err.contains("5 needed"),
        "{err}"
    );
    let wave = sanping::wave::get(&mut conn, id).expect("wave");
    assert_eq!(wave.state, "draft");
    assert_eq!(support::stored_invitations(&mut conn, id), 0);
    // The console says why in the page's language (Chinese by default).
    sanping::auth::add_user(
        &mut conn,
        "org",
        sanping::auth::Role::Organizer,
        "organizer-pass",
    )
    .expect("org");
    drop(conn);
    let server = support::Server::start(state.clone());
    let org = crate::admin::login(&server, "org", "organizer-pass")
        .1
        .expect("org");
    let mut res = support::client()
        .post(&server.url(&format!("/admin/waves/{id}/open")))
        .header("cookie", &org.cookie)
        .send_form([("csrf", org.csrf.as_str()), ("unchecked_ok", "on")])
        .expect("POST");
    let status = res.status().as_u16();
    let html = res.body_mut().read_to_string().expect("body");
    assert_eq!(status, 409, "{html}");
    assert!(
        html.contains("CS-S1") && html.contains("需要 5 名") && html.contains("无法匿名评议"),
        "{html}"
    );
    let mut conn = state.pool.get().expect("conn");
    assert_eq!(
        sanping::wave::get(&mut conn, id).expect("wave").state,
        "draft"
    );
}

#[test]
fn forged_fields_are_refused_and_the_link_stays_usable() {
    let db = TestDb::new();
    let state = db.state();
    load(&state);
    let (id, links) = support::open_wave(&state, SURVEY, None, false);
    let mut conn = state.pool.get().expect("conn");
    let link = rating_link(&links, "m2@demo.edu.cn");
    let (wave, invitation) = ready(&mut conn, link);
    let survey = survey_of(&mut conn, id);
    let targets = rating::targets(&mut conn, &invitation).expect("targets");
    let mut fields: Vec<(String, String)> = targets
        .iter()
        .map(|t| (format!("{}:grade", t.person), "qualified".to_owned()))
        .collect();
    for forged in [
        "m2@demo.edu.cn",
        "s1@demo.edu.cn",
        "nobody@demo.edu.cn",
        "team:CS-T",
    ] {
        let mut f = fields.clone();
        f.push((format!("{forged}:grade"), "excellent".to_owned()));
        let sent =
            rating::submit(&mut conn, &wave, &invitation, &survey, &targets, &f).expect("submit");
        assert!(matches!(sent, Sent::Invalid(..)), "{forged}: {sent:?}");
    }
    // A reason with a good grade, an unknown option, a missing answer: refused too.
    let mut f = fields.clone();
    f.push(("m3@demo.edu.cn:reason".into(), "理由".into()));
    assert!(matches!(
        rating::submit(&mut conn, &wave, &invitation, &survey, &targets, &f).expect("submit"),
        Sent::Invalid(..)
    ));
    let mut f = fields.clone();
    f[0].1 = "superb".into();
    assert!(matches!(
        rating::submit(&mut conn, &wave, &invitation, &survey, &targets, &f).expect("submit"),
        Sent::Invalid(..)
    ));
    let f = fields[1..].to_vec();
    assert!(matches!(
        rating::submit(&mut conn, &wave, &invitation, &survey, &targets, &f).expect("submit"),
        Sent::Invalid(..)
    ));
    assert_eq!(support::stored_sheets(&mut conn, id), 0);
    let (_, still) = ready(&mut conn, link);
    assert!(!still.used);
    fields[0].1 = "excellent".into();
    let sent =
        rating::submit(&mut conn, &wave, &invitation, &survey, &targets, &fields).expect("submit");
    assert!(stored(&sent), "{sent:?}");
    assert_eq!(support::stored_sheets(&mut conn, id), 1);
    let again =
        rating::submit(&mut conn, &wave, &invitation, &survey, &targets, &fields).expect("submit");
    assert!(
        matches!(again, Sent::Done(Submitted::Refused(ref l)) if matches!(**l, Lookup::Used(_))),
        "{again:?}"
    );
}

#[test]
fn fifty_racing_submissions_of_one_sheet_store_one() {
    let db = TestDb::new();
    let state = db.state();
    load(&state);
    let (id, links) = support::open_wave(&state, SURVEY, None, false);
    let link = rating_link(&links, "q1@demo.edu.cn").clone();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(50));
    let handles: Vec<_> = (0..50)
        .map(|_| {
            let (state, link, barrier) = (state.clone(), link.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut conn = state.pool.get().expect("conn");
                let (wave, invitation) = ready(&mut conn, &link);
                let survey = survey_of(&mut conn, wave.id);
                let targets = rating::targets(&mut conn, &invitation).expect("targets");
                let fields: Vec<(String, String)> = targets
                    .iter()
                    .map(|t| (format!("{}:grade", t.person), "qualified".to_owned()))
                    .collect();
                // The pool is smaller than 50: nobody may wait at the barrier holding one.
                drop(conn);
                barrier.wait();
                let mut conn = state.pool.get().expect("conn");
                stored(
                    &rating::submit(&mut conn, &wave, &invitation, &survey, &targets, &fields)
                        .expect("submit"),
                )
            })
        })
        .collect();
    let stored_count = handles
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .filter(|s| *s)
        .count();
    assert_eq!(stored_count, 1);
    let mut conn = state.pool.get().expect("conn");
    assert_eq!(support::stored_sheets(&mut conn, id), 1);
}

/// Nine of the ten raters send their sheets: m2 gets 优秀 from six of them, 合格 from two and
/// 不合格 (with a reason) from one — 6 / 2 / 0 / 1, a share of 优秀 of 6/9 = 2/3, suggested
/// 优秀. m3 gets 不合格 from three of eight (≥ 1/3): flagged. While the wave is open the
/// database holds no reason and no choice in the clear; after 开箱 no sheet at all.
#[test]
fn the_result_per_person_equals_a_hand_computed_case() {
    let db = TestDb::new();
    let state = db.state();
    load(&state);
    let (id, links) = support::open_wave(&state, SURVEY, None, false);
    let mut conn = state.pool.get().expect("conn");
    let raters = [
        "m1@demo.edu.cn",
        "m3@demo.edu.cn",
        "m4@demo.edu.cn",
        "m5@demo.edu.cn",
        "m6@demo.edu.cn",
        "m7@demo.edu.cn",
        "q1@demo.edu.cn",
        "q2@demo.edu.cn",
        "m8@demo.edu.cn",
    ];
    for (i, rater) in raters.iter().enumerate() {
        let sent = rate(
            &mut conn,
            &links,
            rater,
            |t| match t {
                "m2@demo.edu.cn" => match i {
                    0..=5 => "excellent",
                    6 | 7 => "qualified",
                    _ => "unqualified",
                },
                "m3@demo.edu.cn" if i < 4 && i != 1 => "unqualified",
                _ => "qualified",
            },
            |t| (t == "m2@demo.edu.cn" && i == 8).then(|| "REASON-MARKER-工作不积极".to_owned()),
        );
        assert!(stored(&sent), "{rater}: {sent:?}");
    }
    // Two lengths only: members rate seven, colleagues eight; a reason changes nothing.
    let mut lengths: Vec<usize> = sanping::db::sealed::all(&mut conn, id)
        .expect("sealed")
        .iter()
        .map(Vec::len)
        .collect();
    lengths.sort_unstable();
    lengths.dedup();
    assert_eq!(lengths.len(), 2, "{lengths:?}");
    let text = support::dump_text(&state);
    assert!(
        !text.contains("REASON-MARKER"),
        "a reason is readable while open"
    );
    if !db.is_postgres() {
        for file in [db.url().to_owned(), format!("{}-wal", db.url())] {
            let bytes = std::fs::read(&file).unwrap_or_default();
            let found = bytes.windows(13).any(|w| w == b"REASON-MARKER");
            assert!(!found, "a reason is in {file} while the wave is open");
        }
    }
    // The survey text names the options; a sheet in the clear would hold `{"grade":"…"}`.
    assert!(
        !text.contains("{\"grade\":\""),
        "a rating is readable while open"
    );
    drop(conn);
    let mut conn = state.pool.get().expect("conn");
    let unsealed = support::close_and_unseal(&mut conn, id).expect("unseal");
    assert_eq!((unsealed.sheets, unsealed.rejected), (9, 0));
    let doc = people_json(&mut conn, id);
    let m2 = person(&doc, "m2@demo.edu.cn");
    assert_eq!(m2["raters"], 9);
    assert_eq!(m2["suppressed"], false);
    let counts: BTreeMap<String, u64> =
        serde_json::from_value(m2["counts"].clone()).expect("counts");
    let expected: BTreeMap<String, u64> =
        [("优秀", 6), ("合格", 2), ("基本合格", 0), ("不合格", 1)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
    assert_eq!(counts, expected);
    assert_eq!(m2["suggested"], "优秀");
    assert!((m2["share_top"].as_f64().unwrap() - 6.0 / 9.0).abs() < 1e-9);
    assert!((m2["share_low"].as_f64().unwrap() - 1.0 / 9.0).abs() < 1e-9);
    assert_eq!(
        m2["reasons"],
        serde_json::json!(["REASON-MARKER-工作不积极"])
    );
    let m3 = person(&doc, "m3@demo.edu.cn");
    assert_eq!(m3["raters"], 8, "m3 does not rate themselves");
    assert_eq!(m3["flagged"], true);
    assert_eq!(m3["suggested"], "不合格");
    let m1 = person(&doc, "m1@demo.edu.cn");
    assert_eq!(m1["suggested"], "合格");
    assert_eq!(m1["final"], serde_json::Value::Null);
    // No rating sheet is kept in the clear, and no sealed one either.
    assert_eq!(support::stored_sheets(&mut conn, id), 0);
    let receipts = sanping::respond::receipts(&mut conn, id).expect("receipts");
    assert_eq!(receipts.len(), 9);
}

/// Only five of CS-T send sheets: m1–m5 each have four raters (样本不足), m6–m8 five. A
/// suppressed person shows no figure in any output, and the reasons given for them are
/// not even stored.
#[test]
fn a_person_below_the_threshold_shows_nothing_anywhere() {
    let db = TestDb::new();
    let state = db.state();
    load(&state);
    let (id, links) = support::open_wave(&state, SURVEY, None, false);
    let mut conn = state.pool.get().expect("conn");
    for rater in ["m1", "m2", "m3", "m4", "m5"] {
        let sent = rate(
            &mut conn,
            &links,
            &format!("{rater}@demo.edu.cn"),
            |t| {
                if t == "m1@demo.edu.cn" {
                    "basic"
                } else {
                    "qualified"
                }
            },
            |t| (t == "m1@demo.edu.cn").then(|| "HIDDEN-REASON".to_owned()),
        );
        assert!(stored(&sent));
    }
    support::close_and_unseal(&mut conn, id).expect("unseal");
    let doc = people_json(&mut conn, id);
    let m1 = person(&doc, "m1@demo.edu.cn");
    assert_eq!(
        (m1["raters"].as_u64(), m1["suppressed"].as_bool()),
        (Some(4), Some(true))
    );
    assert!(m1["counts"].is_null() && m1["suggested"].is_null() && m1["share_top"].is_null());
    assert_eq!(m1["reasons"], serde_json::json!([]));
    let m6 = person(&doc, "m6@demo.edu.cn");
    assert_eq!(
        (m6["raters"].as_u64(), m6["suppressed"].as_bool()),
        (Some(5), Some(false))
    );
    assert!(!support::dump_text(&state).contains("HIDDEN-REASON"));
    let r = sanping::report::people::build(&mut conn, id).expect("report");
    let csv = String::from_utf8(sanping::report::people_export::csv(&r).expect("csv")).unwrap();
    let line = csv
        .lines()
        .find(|l| l.contains("m1@demo.edu.cn"))
        .expect("m1 row");
    assert!(
        line.contains("样本不足") && !line.contains("基本合格"),
        "{line}"
    );
    let table = sanping::report::people_export::table(&r);
    let line = table
        .lines()
        .find(|l| l.contains("m1@demo.edu.cn"))
        .expect("m1 row");
    assert!(line.contains("样本不足") && !line.contains('%'), "{line}");
    let xlsx = sanping::report::people_export::workbook(&r).expect("xlsx");
    let cells = xlsx_strings(&xlsx);
    assert!(!cells.iter().any(|c| c.contains("HIDDEN-REASON")));
    // The per-unit counts rest only on the people shown.
    let unit = &doc["units"][0];
    assert_eq!(
        (unit["people"].as_u64(), unit["shown"].as_u64()),
        (Some(8), Some(3))
    );
    let suggested: u64 = unit["suggested"]
        .as_array()
        .expect("suggested")
        .iter()
        .map(|g| g["count"].as_u64().unwrap())
        .sum();
    assert_eq!(suggested, 3, "the hidden people's ratings are in no count");
}

#[test]
fn the_top_grade_quota_is_enforced_and_grades_freeze_at_publication() {
    let db = TestDb::new();
    let state = db.state();
    load(&state);
    let (id, links) = support::open_wave(&state, SURVEY, None, false);
    let mut conn = state.pool.get().expect("conn");
    for rater in ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "q1", "q2"] {
        let sent = rate(
            &mut conn,
            &links,
            &format!("{rater}@demo.edu.cn"),
            |_| "excellent",
            |_| None,
        );
        assert!(stored(&sent));
    }
    let grade = |conn: &mut DbConn, person: &str, grade: &str| {
        sanping::wave::people_wave::grade(
            conn,
            &sanping::wave::people_wave::GradeSpec {
                wave_id: id,
                person,
                grade,
                reason: "",
                actor: "test",
            },
        )
    };
    let early = grade(&mut conn, "m1@demo.edu.cn", "优秀").expect_err("not before 开箱");
    assert!(early.to_string().contains("after it closes"), "{early}");
    support::close_and_unseal(&mut conn, id).expect("unseal");
    grade(&mut conn, "m1@demo.edu.cn", "优秀").expect("first");
    grade(&mut conn, "m2@demo.edu.cn", "excellent").expect("second");
    let refused = grade(&mut conn, "m3@demo.edu.cn", "优秀").expect_err("quota");
    let msg = refused.to_string();
    assert!(
        msg.contains("at most 2 of the 8") && msg.contains("m1@demo.edu.cn"),
        "{msg}"
    );
    // Re-grading one of the two is fine; the refused grade changed nothing.
    grade(&mut conn, "m1@demo.edu.cn", "优秀").expect("same again");
    grade(&mut conn, "m3@demo.edu.cn", "合格").expect("qualified");
    assert!(grade(&mut conn, "team:CS-T", "合格").is_err());
    assert!(grade(&mut conn, "s1@demo.edu.cn", "合格").is_err());
    assert!(grade(&mut conn, "m4@demo.edu.cn", "很好").is_err());
    let doc = people_json(&mut conn, id);
    assert_eq!(person(&doc, "m1@demo.edu.cn")["final"], "优秀");
    assert_eq!(person(&doc, "m2@demo.edu.cn")["final"], "优秀");
    assert_eq!(person(&doc, "m3@demo.edu.cn")["final"], "合格");
    let audit = sanping::db::accounts::audit_entries(&mut conn, 1000).expect("audit");
    assert_eq!(
        audit.iter().filter(|e| e.action == "people.grade").count(),
        4
    );
    // `sanping report W --format json` of a people wave: the `people` array, audited.
    let out = support::bin()
        .env("DATABASE_URL", db.url())
        .args([
            "--as",
            "reader",
            "report",
            &id.to_string(),
            "--format",
            "json",
        ])
        .output()
        .expect("report");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let m1 = person(&cli, "m1@demo.edu.cn");
    assert_eq!(
        (m1["final"].as_str(), m1["raters"].as_u64()),
        (Some("优秀"), Some(9))
    );
    for key in [
        "email",
        "name",
        "unit",
        "raters",
        "suppressed",
        "counts",
        "suggested",
        "final",
    ] {
        assert!(m1.get(key).is_some(), "{key} missing");
    }
    assert_eq!(m1["counts"]["优秀"], 9);
    let audit = sanping::db::accounts::audit_entries(&mut conn, 1000).expect("audit");
    assert!(
        audit
            .iter()
            .any(|e| e.action == "people.report" && e.actor == "cli:reader")
    );
    sanping::wave::publish(&mut conn, id).expect("publish");
    let after = grade(&mut conn, "m4@demo.edu.cn", "合格").expect_err("published");
    assert!(after.to_string().contains("published"), "{after}");
    let hash = sanping::record::hash_of(&mut conn, id)
        .expect("hash")
        .expect("a record");
    let (checked, diffs) =
        sanping::record::check(&mut conn, id, &sanping::tally::Counts::default())
            .expect("check")
            .expect("record");
    assert_eq!((checked, diffs), (hash, Vec::<String>::new()));
    // Editing a stored final grade afterwards breaks the record.
    diesel::update(person_grades::table.filter(person_grades::person.eq("m3@demo.edu.cn")))
        .set(person_grades::grade.eq("excellent"))
        .execute(&mut conn)
        .expect("tamper");
    let (_, diffs) = sanping::record::check(&mut conn, id, &sanping::tally::Counts::default())
        .expect("check")
        .expect("record");
    assert_eq!(diffs.len(), 1, "{diffs:?}");
}

/// Every cell of every sheet of a workbook, as text.
fn xlsx_strings(bytes: &[u8]) -> Vec<String> {
    use calamine::Reader as _;
    let mut book: calamine::Xlsx<_> =
        calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("a workbook");
    let mut out = Vec::new();
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).expect("sheet");
        out.extend(range.rows().flat_map(|r| r.iter().map(ToString::to_string)));
    }
    out
}

/// Two `sanping wave grade` processes race for the branch's last 优秀 place: exactly one
/// gets it, the other is refused by the quota.
#[test]
fn two_processes_grading_the_last_top_place_give_it_once() {
    let db = TestDb::new();
    let state = db.state();
    load(&state);
    let (id, links) = support::open_wave(&state, SURVEY, None, false);
    let mut conn = state.pool.get().expect("conn");
    for rater in ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "q1", "q2"] {
        let sent = rate(
            &mut conn,
            &links,
            &format!("{rater}@demo.edu.cn"),
            |_| "excellent",
            |_| None,
        );
        assert!(stored(&sent));
    }
    support::close_and_unseal(&mut conn, id).expect("unseal");
    sanping::wave::people_wave::grade(
        &mut conn,
        &sanping::wave::people_wave::GradeSpec {
            wave_id: id,
            person: "m1@demo.edu.cn",
            grade: "优秀",
            reason: "",
            actor: "test",
        },
    )
    .expect("first place");
    drop(conn);
    let children: Vec<_> = ["m2@demo.edu.cn", "m3@demo.edu.cn"]
        .into_iter()
        .map(|person| {
            support::bin()
                .env("DATABASE_URL", db.url())
                .args([
                    "wave",
                    "grade",
                    &id.to_string(),
                    "--person",
                    person,
                    "--grade",
                    "优秀",
                ])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let outcomes: Vec<(bool, String)> = children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().expect("wait");
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        })
        .collect();
    assert_eq!(
        outcomes.iter().filter(|(ok, _)| *ok).count(),
        1,
        "{outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .any(|(ok, err)| !ok && err.contains("quota")),
        "{outcomes:?}"
    );
    let mut conn = state.pool.get().expect("conn");
    let top = sanping::db::rated::grades_of(&mut conn, id)
        .expect("grades")
        .into_iter()
        .filter(|g| g.grade == "excellent")
        .count();
    assert_eq!(top, 2);
}
