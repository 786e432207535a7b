//! Self-assessment (基层自评) and committee scoring (组织考评) through their links.

use diesel::prelude::*;
use sanping::db::schema::{assessments, invitations};
use sanping::domain::survey::StepKind;

use crate::support::{self, Server, TestDb};

struct Fixture {
    db: TestDb,
    server: Server,
    wave: i32,
    links: Vec<sanping::wave::Link>,
}

fn fixture() -> Fixture {
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    let (wave, links) = support::open_wave(&state, "liuhao.toml", None, false);
    Fixture {
        server: Server::start(state),
        db,
        wave,
        links,
    }
}

impl Fixture {
    fn link(&self, step: StepKind, unit: &str) -> String {
        let l = self
            .links
            .iter()
            .find(|l| l.step == step && l.unit == unit)
            .expect("a link");
        self.server.url(&support::path_of(&l.url))
    }
}

fn all_items(prefix: &str, n: usize, option: &str) -> Vec<(String, String)> {
    (1..=n)
        .map(|i| (format!("q.{prefix}{i}"), option.to_owned()))
        .collect()
}

#[test]
fn a_self_assessment_is_saved_as_a_draft_then_submitted_once_and_read_only() {
    let f = fixture();
    let url = f.link(StepKind::SelfAssessment, "CS-T");
    let (status, html) = support::get(&url);
    assert_eq!(status, 200);
    assert!(html.contains("基层自评") && html.contains("计算机学院教工党支部"));
    assert_eq!(
        html.matches("<textarea").count(),
        18,
        "an evidence box per item"
    );
    let draft = vec![
        ("q.s1".to_owned(), "good".to_owned()),
        ("e.s1".to_owned(), "每学期组织两次理论学习研讨".to_owned()),
        ("action".to_owned(), "save".to_owned()),
    ];
    let (status, html) = support::post_fields(&url, &draft);
    assert_eq!(status, 200);
    assert!(html.contains("草稿已保存"));
    let (_, again) = support::get(&url);
    assert!(
        again.contains("value=\"good\" checked") && again.contains("每学期组织两次理论学习研讨"),
        "the draft comes back"
    );
    let mut incomplete = draft.clone();
    incomplete.last_mut().unwrap().1 = "submit".into();
    let (status, html) = support::post_fields(&url, &incomplete);
    assert_eq!(status, 422);
    assert!(html.contains("提交前请选择一项"));
    let mut too_long = draft.clone();
    too_long[1].1 = "证".repeat(2001);
    assert_eq!(support::post_fields(&url, &too_long).0, 422);
    let mut complete = all_items("s", 18, "fairly_good");
    complete.push(("action".into(), "submit".into()));
    let (status, html) = support::post_fields(&url, &complete);
    assert_eq!(status, 200);
    assert!(
        html.contains("自评已提交") && !html.contains("<textarea"),
        "read-only after submitting"
    );
    let mut change = all_items("s", 18, "poor");
    change.push(("action".into(), "save".into()));
    let (status, html) = support::post_fields(&url, &change);
    assert_eq!(status, 200);
    assert!(html.contains("自评已提交"));
    let mut conn = f.server.state.pool.get().unwrap();
    let (answers, submitted): (String, bool) = assessments::table
        .filter(assessments::unit.eq("CS-T"))
        .filter(assessments::step.eq("self"))
        .select((assessments::answers, assessments::submitted))
        .first(&mut *conn)
        .unwrap();
    assert!(submitted);
    assert!(
        answers.contains("fairly_good") && !answers.contains("poor"),
        "{answers}"
    );
    let used: bool = invitations::table
        .filter(invitations::step.eq("self"))
        .filter(invitations::unit.eq("CS-T"))
        .select(invitations::used)
        .first(&mut *conn)
        .unwrap();
    assert!(used);
}

#[test]
fn wave_show_lists_the_units_missing_a_self_assessment() {
    let f = fixture();
    let out = support::bin()
        .env("DATABASE_URL", f.db.url())
        .args(["wave", "show", &f.wave.to_string()])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let missing = stdout
        .split("missing self-assessment")
        .nth(1)
        .expect(&stdout);
    assert!(missing.contains("CS 计算机学院党总支"), "{stdout}");
    assert!(!missing.contains("CS-T"), "CS-T has a secretary: {stdout}");
}

#[test]
fn the_committee_sheet_lists_every_unit_shows_its_self_assessment_and_keeps_scores_per_unit() {
    let f = fixture();
    let mut complete = all_items("s", 18, "good");
    complete.push(("action".into(), "submit".into()));
    let (status, _) = support::post_fields(&f.link(StepKind::SelfAssessment, "LIB"), &complete);
    assert_eq!(status, 200);
    let sheet = f.link(StepKind::Org, "U");
    let (status, html) = support::get(&sheet);
    assert_eq!(status, 200);
    for unit in [
        "计算机学院党总支",
        "计算机学院教工党支部",
        "计算机学院本科生第一党支部",
        "图书馆直属党支部",
    ] {
        assert!(html.contains(unit), "{unit} missing from the sheet");
    }
    assert!(
        !html.contains("示范大学党委"),
        "the committee itself is not scored"
    );
    let lib = format!("{sheet}/u/LIB");
    let (status, page) = support::get(&lib);
    assert_eq!(status, 200);
    assert!(
        page.contains("图书馆直属党支部") && page.contains("<td>好</td>"),
        "the self-assessment is shown"
    );
    let (status, saved) = support::post_fields(&lib, &all_items("o", 18, "average"));
    assert_eq!(status, 200);
    assert!(saved.contains("评分已保存"));
    let (status, _) = support::post_fields(&lib, &all_items("o", 18, "fairly_good"));
    assert_eq!(status, 200, "a member can come back and change the scores");
    let (status, _) = support::post_fields(
        &format!("{sheet}/u/CS-T"),
        &[("q.o1".into(), "nonsense".into())],
    );
    assert_eq!(status, 422);
    assert_eq!(support::get(&format!("{sheet}/u/NOPE")).0, 404);
    let mut conn = f.server.state.pool.get().unwrap();
    let rows: Vec<(String, String, String)> = assessments::table
        .filter(assessments::step.eq("org"))
        .select((assessments::unit, assessments::scorer, assessments::answers))
        .load(&mut *conn)
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].0.as_str(), rows[0].1.as_str()),
        ("LIB", "zhou.min@demo.edu.cn")
    );
    assert!(rows[0].2.contains("fairly_good") && !rows[0].2.contains("average"));
    support::close_and_unseal(&mut conn, f.wave).unwrap();
    let (status, html) = support::post_fields(&lib, &all_items("o", 18, "poor"));
    assert_eq!(status, 403, "no more scoring once the wave is closed");
    assert!(html.contains("测评已结束"));
    let (status, _) = support::post_fields(&f.link(StepKind::Mass, "LIB"), &[]);
    assert_eq!(status, 403);
}

#[test]
fn secretaries_and_committee_members_get_their_own_mails() {
    let smtp = crate::smtp::SmtpServer::start();
    let db = TestDb::new();
    let mut config = db.config();
    config.smtp_url = Some(smtp.url());
    let state = sanping::app::AppState::open(config).unwrap();
    support::load_fixtures(&state);
    let wave = support::create_wave(&state, "liuhao.toml", None, false);
    sanping::wave::open_by_email(&mut state.pool.get().unwrap(), wave).unwrap();
    let mailer = sanping::mail::Mailer::from_config(&state.config).unwrap();
    let stats = sanping::mail::worker::deliver_due(
        &state,
        &mailer,
        &sanping::mail::worker::Policy::from_state(&state),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(stats.sent, 9);
    let subjects: Vec<(Vec<String>, String)> = smtp
        .messages()
        .iter()
        .map(|m| (m.to.clone(), m.subject()))
        .collect();
    let of = |to: &str, tag: &str| {
        subjects
            .iter()
            .filter(|(t, s)| t == &[to.to_owned()] && s.contains(tag))
            .count()
    };
    assert_eq!(of("wang.li@demo.edu.cn", "【基层自评】"), 1);
    assert_eq!(of("wang.li@demo.edu.cn", "【群众测评】"), 1);
    assert_eq!(of("zhou.min@demo.edu.cn", "【组织考评】"), 1);
}
