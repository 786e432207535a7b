//! People waves (民主评议) over real HTTP: a rater's one-page sheet (drafts, forged fields,
//! one submission under races) and a rated person's own link (个人总结, then their result).

use std::sync::{Arc, Barrier};

use diesel::prelude::*;
use sanping::db::schema::{audit_log, rating_drafts};
use sanping::domain::survey::StepKind;

use crate::support::{self, Server, TestDb};

/// Branch CS-T: seven Party members (one the secretary) and one colleague who is not a
/// member (a 群众 rater); branch CS-S1: six Party members.
const ROSTER: &str = "email,name,unit,category,role
t1@demo.edu.cn,甲一,CS-T,faculty,member;party;secretary
t2@demo.edu.cn,甲二,CS-T,faculty,member;party
t3@demo.edu.cn,甲三,CS-T,faculty,member;party
t4@demo.edu.cn,甲四,CS-T,faculty,member;party
t5@demo.edu.cn,甲五,CS-T,faculty,member;party
t6@demo.edu.cn,甲六,CS-T,faculty,member;party
t7@demo.edu.cn,甲七,CS-T,faculty,member;party
m1@demo.edu.cn,群众一,CS-T,faculty,member
s1@demo.edu.cn,乙一,CS-S1,student,member;party;secretary
s2@demo.edu.cn,乙二,CS-S1,student,member;party
s3@demo.edu.cn,乙三,CS-S1,student,member;party
s4@demo.edu.cn,乙四,CS-S1,student,member;party
s5@demo.edu.cn,乙五,CS-S1,student,member;party
s6@demo.edu.cn,乙六,CS-S1,student,member;party
";

/// A reason no page, draft or table may show in the clear.
const SECRET_REASON: &str = "理由RZ-7f3a：工作作风有待改进";

struct Fixture {
    db: TestDb,
    server: Server,
    wave: i32,
    links: Vec<sanping::wave::Link>,
}

fn fixture() -> Fixture {
    let db = TestDb::new();
    let state = db.state();
    {
        let mut conn = state.pool.get().expect("conn");
        sanping::import::units(
            &mut conn,
            &std::fs::read(support::fixture("units.csv")).unwrap(),
        )
        .expect("units");
        sanping::import::people(&mut conn, ROSTER.as_bytes()).expect("people");
    }
    let (wave, links) = support::open_wave(&state, "minzhu-pingyi.toml", None, false);
    let server = Server::start(state);
    Fixture {
        db,
        server,
        wave,
        links,
    }
}

impl Fixture {
    fn link(&self, email: &str, step: StepKind) -> String {
        let l = self
            .links
            .iter()
            .find(|l| l.email == email && l.step == step)
            .unwrap_or_else(|| panic!("a {step:?} link for {email}"));
        self.server.url(&support::path_of(&l.url))
    }

    fn sealed(&self) -> i64 {
        let mut conn = self.server.state.pool.get().unwrap();
        sanping::db::sealed::count(&mut conn, self.wave).unwrap()
    }

    fn drafts(&self) -> i64 {
        let mut conn = self.server.state.pool.get().unwrap();
        rating_drafts::table.count().get_result(&mut *conn).unwrap()
    }

    /// Every byte the database keeps on disk (SQLite: the file and its log), or every text
    /// value (PostgreSQL).
    fn stored_bytes(&self) -> Vec<u8> {
        let mut out = support::dump_text(&self.server.state).into_bytes();
        if !self.db.is_postgres() {
            for suffix in ["", "-wal", "-journal"] {
                if let Ok(bytes) = std::fs::read(format!("{}{suffix}", self.db.url())) {
                    out.extend_from_slice(&bytes);
                }
            }
        }
        out
    }
}

/// A complete sheet for a rater of CS-T other than `me`: 合格 for everyone.
fn full_sheet(me: &str) -> Vec<(String, String)> {
    (1..=7)
        .map(|i| format!("t{i}@demo.edu.cn"))
        .filter(|e| e != me)
        .map(|e| (format!("{e}:grade"), "qualified".to_owned()))
        .collect()
}

fn with_action(mut fields: Vec<(String, String)>, action: &str) -> Vec<(String, String)> {
    fields.push(("action".into(), action.into()));
    fields
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn the_rating_page_lists_everyone_of_the_branch_but_the_rater() {
    let f = fixture();
    let (status, html) = support::get(&f.link("t1@demo.edu.cn", StepKind::Mass));
    assert_eq!(status, 200, "{html}");
    for name in ["甲二", "甲三", "甲四", "甲五", "甲六", "甲七"] {
        assert!(html.contains(name), "{name} is listed");
    }
    assert!(!html.contains("甲一"), "the rater is not listed");
    assert!(!html.contains("乙一"), "nobody of another branch is listed");
    assert!(!html.contains("群众一"), "a non-member is not rated");
    assert!(html.contains("请对以下 6 个对象逐一评议"));
    assert!(html.contains(r#"name="t2@demo.edu.cn:grade""#));
    assert!(html.contains(r#"name="t2@demo.edu.cn:reason""#));
    assert!(html.contains("选择基本合格/不合格时可填写理由（选填，200字以内）"));
    assert!(html.contains("保存草稿") && html.contains("提交评议"));
    assert!(html.contains("草稿用本链接加密保存"));
    assert!(!html.contains("<script"));
    // The colleague who is not a member rates the members too.
    let (status, html) = support::get(&f.link("m1@demo.edu.cn", StepKind::Mass));
    assert_eq!(status, 200);
    assert!(html.contains("请对以下 7 个对象逐一评议"));
    // English, one language per page.
    let (_, en) = support::get(&format!(
        "{}?lang=en",
        f.link("t1@demo.edu.cn", StepKind::Mass)
    ));
    assert!(en.contains("Please rate each of the 6 below"));
}

#[test]
fn a_draft_comes_back_on_the_next_visit_and_is_never_stored_in_the_clear() {
    let f = fixture();
    let url = f.link("t1@demo.edu.cn", StepKind::Mass);
    let draft = with_action(
        vec![
            ("t2@demo.edu.cn:grade".into(), "excellent".into()),
            ("t3@demo.edu.cn:grade".into(), "basic".into()),
            ("t3@demo.edu.cn:reason".into(), SECRET_REASON.into()),
        ],
        "draft",
    );
    let (status, html) = support::post_fields(&url, &draft);
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("草稿已保存"));
    assert!(html.contains(SECRET_REASON));
    let (status, html) = support::get(&url);
    assert_eq!(status, 200);
    assert!(
        html.contains(SECRET_REASON),
        "the draft's reason comes back"
    );
    assert!(
        html.contains(
            r#"id="p-1-1-excellent" name="t2@demo.edu.cn:grade" value="excellent" checked"#
        )
    );
    assert!(html.contains(r#"id="p-2-1-basic" name="t3@demo.edu.cn:grade" value="basic" checked"#));
    assert_eq!(f.drafts(), 1);
    assert!(
        !contains(&f.stored_bytes(), SECRET_REASON),
        "the draft's reason is in the database in the clear"
    );
    // A rejected draft (a reason with a high grade) saves nothing and says so.
    let bad = with_action(
        vec![
            ("t2@demo.edu.cn:grade".into(), "excellent".into()),
            ("t2@demo.edu.cn:reason".into(), "不该有理由".into()),
        ],
        "draft",
    );
    let (status, html) = support::post_fields(&url, &bad);
    assert_eq!(status, 422);
    assert!(html.contains("草稿未保存"));
    assert!(html.contains(r##"href="#p-1-reason""##));
    let (_, html) = support::get(&url);
    assert!(html.contains(SECRET_REASON), "the earlier draft is kept");
    // Closing the wave forgets every draft never sent: nobody can send it any more. A save
    // that looked its link up before the close and writes after it stores nothing.
    let mut conn = f.server.state.pool.get().unwrap();
    let token = support::path_of(&url)["/s/".len()..].to_owned();
    let sanping::respond::Lookup::Ready(wave, invitation) =
        sanping::respond::lookup(&mut conn, &token).unwrap()
    else {
        panic!("the link is ready before the close");
    };
    sanping::wave::close(&mut conn, f.wave).unwrap();
    assert_eq!(f.drafts(), 0, "a closed wave keeps no drafts");
    let survey =
        sanping::wave::survey_of(&sanping::wave::get(&mut conn, wave.id).unwrap()).unwrap();
    let targets = sanping::rating::targets(&mut conn, &invitation).unwrap();
    let late = vec![("t2@demo.edu.cn:grade".to_owned(), "excellent".to_owned())];
    sanping::rating::save_draft(&mut conn, &token, &invitation, &survey, &targets, &late)
        .unwrap()
        .unwrap();
    drop(conn);
    assert_eq!(f.drafts(), 0, "no draft is saved into a closed wave");
}

#[test]
fn forged_fields_are_refused_without_burning_the_link_then_one_submit_counts() {
    let f = fixture();
    let url = f.link("t1@demo.edu.cn", StepKind::Mass);
    // Rating oneself.
    let mut forged = full_sheet("t1@demo.edu.cn");
    forged.push(("t1@demo.edu.cn:grade".into(), "excellent".into()));
    let (status, html) = support::post_fields(&url, &with_action(forged, "submit"));
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("表单中有不在您评议名单上的人员，未保存任何内容"));
    assert!(html.contains("您的链接仍然有效"));
    // Rating a member of another branch.
    let mut forged = full_sheet("t1@demo.edu.cn");
    forged.push(("s1@demo.edu.cn:grade".into(), "unqualified".into()));
    let (status, html) = support::post_fields(&url, &with_action(forged, "submit"));
    assert_eq!(status, 422);
    assert!(html.contains("不在您评议名单上"));
    // A forged draft is refused alike.
    let forged = vec![("s1@demo.edu.cn:grade".into(), "unqualified".into())];
    let (status, _) = support::post_fields(&url, &with_action(forged, "draft"));
    assert_eq!(status, 422);
    assert_eq!(f.sealed(), 0);
    assert_eq!(f.drafts(), 0);
    // An incomplete sheet: an error summary linking to each missing answer, answers kept.
    let partial = vec![("t2@demo.edu.cn:grade".into(), "excellent".into())];
    let (status, html) = support::post_fields(&url, &with_action(partial, "submit"));
    assert_eq!(status, 422);
    assert!(html.contains("评议表尚未提交：还有 5 处需要修改"));
    assert!(html.contains(r##"<a href="#p-2-1">甲三：请选择一项</a>"##));
    assert!(html.contains(r#"value="excellent" checked"#));
    // The link still works.
    let (status, _) = support::get(&url);
    assert_eq!(status, 200);
    // A draft, then a valid submission: a receipt, the draft forgotten.
    let (status, _) =
        support::post_fields(&url, &with_action(full_sheet("t1@demo.edu.cn"), "draft"));
    assert_eq!(status, 200);
    assert_eq!(f.drafts(), 1);
    let (status, html) =
        support::post_fields(&url, &with_action(full_sheet("t1@demo.edu.cn"), "submit"));
    assert_eq!(status, 200, "{html}");
    assert!(html.contains(r#"id="receipt""#));
    assert_eq!(f.sealed(), 1);
    assert_eq!(f.drafts(), 0);
    // Once only.
    let (status, html) =
        support::post_fields(&url, &with_action(full_sheet("t1@demo.edu.cn"), "submit"));
    assert_eq!(status, 410);
    assert!(html.contains("已提交"));
    let (status, _) = support::get(&url);
    assert_eq!(status, 410);
    assert_eq!(f.sealed(), 1);
}

#[test]
fn fifty_racing_submits_of_one_raters_sheet_store_one() {
    let f = fixture();
    let url = f.link("t2@demo.edu.cn", StepKind::Mass);
    let sheet = with_action(full_sheet("t2@demo.edu.cn"), "submit");
    let barrier = Arc::new(Barrier::new(50));
    let handles: Vec<_> = (0..50)
        .map(|_| {
            let (url, sheet, barrier) = (url.clone(), sheet.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                support::post_fields(&url, &sheet).0
            })
        })
        .collect();
    let statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 410),
        "{statuses:?}"
    );
    assert_eq!(f.sealed(), 1);
}

#[test]
fn an_oversized_rating_sheet_is_refused_before_it_is_read() {
    let f = fixture();
    let url = f.link("t1@demo.edu.cn", StepKind::Mass);
    let mut sheet = full_sheet("t1@demo.edu.cn");
    sheet.push(("t2@demo.edu.cn:reason".into(), "长".repeat(40_000)));
    let (status, _) = support::post_fields(&url, &with_action(sheet, "submit"));
    assert_eq!(status, 413);
    assert_eq!(f.sealed(), 0);
    assert_eq!(support::get(&url).0, 200);
}

#[test]
fn the_own_link_takes_a_summary_as_a_draft_then_once() {
    let f = fixture();
    let url = f.link("t3@demo.edu.cn", StepKind::SelfAssessment);
    let (status, html) = support::get(&url);
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("个人总结") && html.contains(r#"name="summary""#));
    assert!(html.contains("甲三"));
    let save = |text: &str, action: &str| {
        support::post_form(&url, &[("summary", text), ("action", action)])
    };
    let (status, html) = save("一年来认真学习，积极工作。", "save");
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("草稿已保存"));
    let (_, html) = support::get(&url);
    assert!(html.contains("一年来认真学习，积极工作。"));
    let (status, html) = save(&"字".repeat(3001), "submit");
    assert_eq!(status, 422);
    assert!(html.contains("个人总结不能超过 3000 字（现为 3001 字）"));
    let (status, html) = save("   ", "submit");
    assert_eq!(status, 422);
    assert!(html.contains("提交前请填写个人总结"));
    let (status, html) = save("一年来认真学习，积极工作，按时交纳党费。", "submit");
    assert_eq!(status, 200);
    assert!(html.contains("个人总结已提交"));
    assert!(
        !html.contains(r#"name="summary""#),
        "read-only once submitted"
    );
    let (status, _) = save("改过的总结", "save");
    assert_eq!(status, 200);
    let mut conn = f.server.state.pool.get().unwrap();
    let stored = sanping::db::rated::summary_of(&mut conn, f.wave, "t3@demo.edu.cn")
        .unwrap()
        .expect("a summary");
    assert!(stored.submitted);
    assert_eq!(stored.body, "一年来认真学习，积极工作，按时交纳党费。");
    // Closed: the own link says results come later; a rating link says the wave closed.
    sanping::wave::close(&mut conn, f.wave).unwrap();
    drop(conn);
    let (status, html) = support::get(&url);
    assert_eq!(status, 200);
    assert!(html.contains("评议结果公布后"));
    let (status, _) = support::get(&f.link("t3@demo.edu.cn", StepKind::Mass));
    assert_eq!(status, 403);
}

#[test]
fn a_published_result_is_shown_to_its_person_and_every_view_is_audited() {
    let f = fixture();
    // Five members rate everyone else of the branch: t1 and t7 get five ratings each (k = 5),
    // t2 … t6 only four.
    for rater in ["t2", "t3", "t4", "t5", "t6"] {
        let me = format!("{rater}@demo.edu.cn");
        let (status, html) = support::post_fields(
            &f.link(&me, StepKind::Mass),
            &with_action(full_sheet(&me), "submit"),
        );
        assert_eq!(status, 200, "{html}");
    }
    {
        let mut conn = f.server.state.pool.get().unwrap();
        support::close_and_unseal(&mut conn, f.wave).unwrap();
        sanping::wave::publish(&mut conn, f.wave).unwrap();
    }
    let url = f.link("t7@demo.edu.cn", StepKind::SelfAssessment);
    let (status, html) = support::get(&url);
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("本人评议结果"));
    assert!(html.contains("<dd>5</dd>"), "{html}");
    assert!(!html.contains("样本不足"));
    // Only four raters rated t2 (t2 does not rate themselves): 样本不足.
    let (status, html) = support::get(&f.link("t2@demo.edu.cn", StepKind::SelfAssessment));
    assert_eq!(status, 200);
    assert!(html.contains("样本不足"), "{html}");
    let mut conn = f.server.state.pool.get().unwrap();
    let views: i64 = audit_log::table
        .filter(audit_log::action.eq("people.result.view"))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(views, 2);
}

#[test]
fn people_waves_mail_a_rating_link_and_an_own_link_with_their_own_words() {
    use sanping::mail::{Mailer, worker};
    let smtp = crate::smtp::SmtpServer::start();
    let db = TestDb::new();
    let mut config = db.config();
    config.smtp_url = Some(format!("smtp://127.0.0.1:{}", smtp.port));
    let state = sanping::app::AppState::open(config).expect("state");
    {
        let mut conn = state.pool.get().expect("conn");
        sanping::import::units(
            &mut conn,
            &std::fs::read(support::fixture("units.csv")).unwrap(),
        )
        .expect("units");
        sanping::import::people(&mut conn, ROSTER.as_bytes()).expect("people");
    }
    let server = Server::start(state);
    let wave = support::create_wave(&server.state, "minzhu-pingyi.toml", None, false);
    let mut conn = server.state.pool.get().unwrap();
    // 13 members with two links each, and one colleague who only rates.
    assert_eq!(sanping::wave::open_by_email(&mut conn, wave).unwrap(), 27);
    drop(conn);
    let policy = worker::Policy {
        max_attempts: 5,
        backoff: std::time::Duration::ZERO,
        lease: std::time::Duration::from_mins(5),
        rate: None,
        stop: std::sync::Arc::default(),
    };
    let mailer = Mailer::from_config(&server.state.config).unwrap();
    let stats = worker::deliver_due(&server.state, &mailer, &policy, &mut |_| {}).unwrap();
    assert_eq!(stats.sent, 27);
    let mails = smtp.messages();
    let to_t1: Vec<_> = mails
        .iter()
        .filter(|m| m.to == ["t1@demo.edu.cn"])
        .collect();
    assert_eq!(to_t1.len(), 2);
    let rating = to_t1
        .iter()
        .find(|m| m.subject().contains("请参加"))
        .expect("a rating mail");
    assert!(
        rating.subject().contains("【民主评议】"),
        "{}",
        rating.subject()
    );
    let text = rating.text();
    for needle in [
        "甲一",
        "计算机学院教工党支部",
        "只保存链接的哈希值",
        "密钥保管人共同开箱",
        "任何评议表都不会以明文保存",
        "是否已评议",
    ] {
        assert!(text.contains(needle), "{needle} missing in:\n{text}");
    }
    let (status, html) = support::get(&server.url(&support::path_of(&rating.link())));
    assert_eq!(status, 200);
    assert!(html.contains("请对以下 6 个对象逐一评议"));
    let own = to_t1
        .iter()
        .find(|m| m.subject().contains("个人链接"))
        .expect("an own-link mail");
    assert!(own.text().contains("个人总结"));
    let (status, html) = support::get(&server.url(&support::path_of(&own.link())));
    assert_eq!(status, 200);
    assert!(html.contains(r#"name="summary""#));
    // A reminder speaks of the evaluation, not of a unit's questionnaire.
    let mut conn = server.state.pool.get().unwrap();
    assert!(sanping::wave::remind(&mut conn, wave, 0, 10).unwrap() > 0);
    drop(conn);
    worker::deliver_due(&server.state, &mailer, &policy, &mut |_| {}).unwrap();
    let reminder = smtp
        .messages()
        .into_iter()
        .find(|m| m.subject().starts_with("【提醒】"))
        .expect("a reminder");
    assert!(reminder.subject().contains("民主评议即将结束"));
    assert!(reminder.text().contains("匿名评议链接的草稿随旧链接失效"));
}
