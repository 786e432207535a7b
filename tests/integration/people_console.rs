//! The console of a people wave (民主评议) over real HTTP, on SQLite and (with
//! `SANPING_TEST_PG`) PostgreSQL: the draft page naming the branch too small to take part,
//! the results page per role (organizer: everyone; a branch secretary: their branch, 404
//! elsewhere; committee: counts only), the audit of every view, the grading form and its
//! quota refusal, the downloads.

use sanping::auth::{self, Role};
use sanping::db::DbConn;
use sanping::domain::survey::StepKind;
use sanping::rating::{self, Sent};
use sanping::respond::{Lookup, Submitted};
use sanping::wave::Link;

use super::admin::{Browser, get, login};
use super::people::{ROSTER, load};
use crate::support::{self, Server, TestDb};

const SURVEY: &str = "minzhu-pingyi.toml";

/// The backends to run on: SQLite always, PostgreSQL when `SANPING_TEST_PG` is set.
fn backends() -> Vec<TestDb> {
    [Some(TestDb::sqlite()), TestDb::postgres()]
        .into_iter()
        .flatten()
        .collect()
}

/// Sends `rater`'s rating sheet, `grade(target)` for everyone on it.
fn rate(conn: &mut DbConn, links: &[Link], rater: &str, grade: impl Fn(&str) -> &'static str) {
    let link = links
        .iter()
        .find(|l| l.email == rater && l.step == StepKind::Mass)
        .expect("a rating link");
    let token = support::path_of(&link.url)["/s/".len()..].to_owned();
    let Lookup::Ready(wave, invitation) = sanping::respond::lookup(conn, &token).expect("lookup")
    else {
        panic!("the rating link of {rater} is not ready");
    };
    let w = sanping::wave::get(conn, wave.id).expect("wave");
    let survey = sanping::wave::survey_of(&w).expect("survey");
    let mut fields = Vec::new();
    let targets = rating::targets(conn, &invitation).expect("targets");
    for t in &targets {
        fields.push((format!("{}:grade", t.person), grade(&t.person).to_owned()));
        if grade(&t.person) == "unqualified" {
            fields.push((format!("{}:reason", t.person), "工作不够投入".to_owned()));
        }
    }
    let sent =
        rating::submit(conn, &wave, &invitation, &survey, &targets, &fields).expect("submit");
    assert!(
        matches!(sent, Sent::Done(Submitted::Stored(_))),
        "sheet of {rater} not stored: {sent:?}"
    );
}

fn post(server: &Server, b: &Browser, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let mut all = vec![("csrf", b.csrf.as_str())];
    all.extend_from_slice(fields);
    let mut res = support::client()
        .post(&server.url(path))
        .header("cookie", &b.cookie)
        .send_form(all)
        .expect("POST");
    let status = res.status().as_u16();
    (status, res.body_mut().read_to_string().expect("body"))
}

fn views(conn: &mut DbConn, action: &str) -> Vec<(String, String)> {
    sanping::db::accounts::audit_entries(conn, 10_000)
        .expect("audit")
        .into_iter()
        .filter(|e| e.action == action)
        .map(|e| (e.actor, e.detail))
        .collect()
}

fn final_of(conn: &mut DbConn, id: i32, email: &str) -> Option<String> {
    sanping::report::people::build(conn, id)
        .expect("report")
        .people
        .into_iter()
        .find(|p| p.key == email)
        .expect("rated")
        .final_grade
        .map(|g| g.label)
}

/// CS-T's eight members rate everyone 优秀; q1 and q2 rate m8 不合格 (with a reason) and the
/// others 合格; then the wave closes and is unsealed.
pub(crate) fn rate_and_close(conn: &mut DbConn, id: i32, links: &[Link]) {
    for n in 1..=8 {
        rate(conn, links, &format!("m{n}@demo.edu.cn"), |_| "excellent");
    }
    for q in ["q1", "q2"] {
        rate(conn, links, &format!("{q}@demo.edu.cn"), |t| {
            if t.starts_with("m8") {
                "unqualified"
            } else {
                "qualified"
            }
        });
    }
    support::close_and_unseal(conn, id).expect("close and unseal");
}

/// A closed, unsealed people wave over [`ROSTER`] (CS-T rated by its eight members and two
/// colleagues, CS-S1 too small), a draft people wave and a draft unit wave, and accounts:
/// `org`, `kp` (committee), `sec` (secretary of CS-T), `sec2` (secretary of CS-S1).
pub fn setup(db: &TestDb) -> (Server, i32, i32, i32) {
    let state = db.state();
    load(&state);
    assert!(ROSTER.contains("CS-S1"));
    let draft = support::create_wave(&state, SURVEY, None, false);
    let unit_wave = support::create_wave(&state, "liuhao.toml", None, false);
    let (id, links) = support::open_wave(&state, SURVEY, None, false);
    let mut conn = state.pool.get().expect("conn");
    rate_and_close(&mut conn, id, &links);
    auth::add_user(&mut conn, "org", Role::Organizer, "organizer-pass").unwrap();
    auth::add_user(&mut conn, "kp", Role::Committee, "committee-pass").unwrap();
    for (name, unit) in [("sec", "CS-T"), ("sec2", "CS-S1")] {
        auth::add_scoped_user_as(
            &mut conn,
            "test",
            None,
            name,
            Role::Secretary,
            Some(unit),
            "secretary-pass",
        )
        .unwrap();
    }
    drop(conn);
    (Server::start(state), id, draft, unit_wave)
}

#[test]
fn a_secretary_needs_a_scope_that_is_a_unit() {
    let db = TestDb::new();
    let state = db.state();
    load(&state);
    let mut conn = state.pool.get().unwrap();
    let add = |conn: &mut DbConn, scope: Option<&str>| {
        auth::add_scoped_user_as(
            conn,
            "test",
            None,
            "s",
            Role::Secretary,
            scope,
            "secretary-pass",
        )
    };
    let none = add(&mut conn, None).expect_err("no scope");
    assert!(none.to_string().contains("--scope"), "{none}");
    let bad = add(&mut conn, Some("NOPE")).expect_err("no such unit");
    assert!(bad.to_string().contains("NOPE"), "{bad}");
    add(&mut conn, Some("CS-T")).expect("a branch");
    let user = sanping::db::accounts::find_user(&mut conn, "s")
        .unwrap()
        .unwrap();
    assert_eq!(
        (user.role.as_str(), user.scope.as_deref()),
        ("secretary", Some("CS-T"))
    );
}

#[test]
fn each_role_sees_what_it_may_of_a_people_wave_and_every_view_of_persons_is_audited() {
    for db in backends() {
        let (server, id, draft, unit_wave) = setup(&db);
        let page = format!("/admin/waves/{id}/people");
        let mut conn = server.state.pool.get().unwrap();

        // The draft says which branch is too small, and why.
        let org = login(&server, "org", "organizer-pass").1.expect("org");
        let (status, html) = get(&server, Some(&org), &format!("/admin/waves/{draft}"));
        assert_eq!(status, 200);
        assert!(html.contains("民主评议批次"), "{html}");
        assert!(
            html.contains("CS-S1") && html.contains("人数不足：互评至少需要"),
            "{html}"
        );
        assert!(html.contains("开放后将评议 8 人"), "{html}");

        // The closed wave links its people results, and the unit dashboard is not offered.
        let (_, html) = get(&server, Some(&org), &format!("/admin/waves/{id}"));
        assert!(html.contains(&page), "{html}");
        assert!(!html.contains(&format!("/admin/results/{id}\"")), "{html}");
        assert_eq!(
            get(&server, Some(&org), &format!("/admin/results/{id}")).0,
            303
        );
        for path in [
            format!("/admin/results/{id}/tree"),
            format!("/admin/results/{id}/export/csv"),
            format!("/admin/results/{id}/unit/CS-T"),
        ] {
            assert_eq!(get(&server, Some(&org), &path).0, 404, "{path}");
        }

        // The organizer sees everyone, with the legend.
        let (status, html) = get(&server, Some(&org), &page);
        assert_eq!(status, 200, "{html}");
        for n in ["党员一", "党员三", "党员八", "m5@demo.edu.cn"] {
            assert!(html.contains(n), "{n} missing");
        }
        assert!(
            html.contains("样本不足") && html.contains("⌊n × 1/3⌋"),
            "{html}"
        );
        assert!(html.contains("name=\"grade\""), "no grading form");
        assert_eq!(
            views(&mut conn, "people.result.view"),
            vec![("org".to_owned(), format!("wave {id} units CS-T"))]
        );

        // The secretary of CS-T sees CS-T; nothing else of the console exists for them.
        let sec = login(&server, "sec", "secretary-pass").1.expect("sec");
        let (status, html) = get(&server, Some(&sec), &page);
        assert_eq!(status, 200);
        assert!(html.contains("党员三") && html.contains("name=\"grade\""));
        let (status, html) = get(&server, Some(&sec), "/admin");
        assert_eq!(status, 200);
        assert!(html.contains(&page), "{html}");
        for path in [
            format!("/admin/results/{unit_wave}"),
            format!("/admin/waves/{unit_wave}"),
            format!("/admin/waves/{id}"),
            format!("/admin/waves/{unit_wave}/people"),
            "/admin/audit".to_owned(),
            "/admin/people".to_owned(),
            "/admin/waves/new".to_owned(),
        ] {
            assert_eq!(get(&server, Some(&sec), &path).0, 404, "{path}");
        }

        // The secretary of CS-S1 sees no one of CS-T and may not grade them.
        let sec2 = login(&server, "sec2", "secretary-pass").1.expect("sec2");
        let (status, html) = get(&server, Some(&sec2), &page);
        assert_eq!(status, 200);
        assert!(
            !html.contains("党员") && !html.contains("@demo.edu.cn"),
            "{html}"
        );
        let grade = format!("/admin/waves/{id}/people/grade");
        let m3 = [
            ("person", "m3@demo.edu.cn"),
            ("grade", "qualified"),
            ("reason", ""),
        ];
        assert_eq!(post(&server, &sec2, &grade, &m3).0, 404);
        assert_eq!(final_of(&mut conn, id, "m3@demo.edu.cn"), None);
        // Nor the other way round: s1 of CS-S1 is no one the CS-T secretary grades.
        let s1 = [
            ("person", "s1@demo.edu.cn"),
            ("grade", "qualified"),
            ("reason", ""),
        ];
        assert_eq!(post(&server, &sec, &grade, &s1).0, 404);

        // Committee: counts per branch, no person.
        let kp = login(&server, "kp", "committee-pass").1.expect("kp");
        let (status, html) = get(&server, Some(&kp), &page);
        assert_eq!(status, 200);
        assert!(html.contains("CS-T") && html.contains("各支部汇总"));
        assert!(
            !html.contains("党员") && !html.contains("@demo.edu.cn"),
            "{html}"
        );
        assert!(!html.contains("name=\"grade\""));
        assert_eq!(post(&server, &kp, &grade, &m3).0, 403);

        let seen = views(&mut conn, "people.result.view");
        assert_eq!(seen.len(), 3, "{seen:?}");
        assert!(
            seen.iter()
                .any(|(a, d)| a == "sec" && d.ends_with("units CS-T"))
        );
        assert!(
            seen.iter()
                .any(|(a, d)| a == "sec2" && d.ends_with("units (none)"))
        );
        assert!(!seen.iter().any(|(a, _)| a == "kp"));

        // Downloads, restricted and audited the same way.
        let (status, csv) = get(&server, Some(&org), &format!("{page}.csv"));
        assert_eq!(status, 200);
        assert!(csv.contains("党员一") && csv.contains("组织评定"));
        let (status, json) = get(&server, Some(&sec2), &format!("{page}.json"));
        assert_eq!(status, 200);
        let doc: serde_json::Value = serde_json::from_str(&json).expect("json");
        assert_eq!(doc["people"].as_array().map(Vec::len), Some(0));
        let (status, csv) = get(&server, Some(&kp), &format!("{page}.csv"));
        assert_eq!(status, 200);
        assert!(csv.contains("CS-T") && !csv.contains("党员"), "{csv}");
        let xlsx = support::client()
            .get(&server.url(&format!("{page}.xlsx")))
            .header("cookie", &kp.cookie)
            .call()
            .expect("xlsx");
        assert_eq!(xlsx.status().as_u16(), 200);
        assert_eq!(get(&server, Some(&sec), &format!("{page}.pdf")).0, 404);
        assert_eq!(views(&mut conn, "people.result.export").len(), 4);
    }
}

#[test]
fn grading_over_the_quota_is_refused_in_chinese_and_changes_nothing() {
    for db in backends() {
        let (server, id, _, _) = setup(&db);
        let mut conn = server.state.pool.get().unwrap();
        let grade = format!("/admin/waves/{id}/people/grade");
        let org = login(&server, "org", "organizer-pass").1.expect("org");
        let sec = login(&server, "sec", "secretary-pass").1.expect("sec");
        for (b, who) in [(&org, "m1@demo.edu.cn"), (&sec, "m2@demo.edu.cn")] {
            let (status, _) = post(
                &server,
                b,
                &grade,
                &[
                    ("person", who),
                    ("grade", "优秀"),
                    ("reason", "带头作用突出"),
                ],
            );
            assert_eq!(status, 303, "{who}");
        }
        let (status, html) = post(
            &server,
            &sec,
            &grade,
            &[
                ("person", "m3@demo.edu.cn"),
                ("grade", "excellent"),
                ("reason", "表现很好"),
            ],
        );
        assert_eq!(status, 422, "{html}");
        assert!(
            html.contains("名额已满：本支部 8 人，优秀至多 2 人") && html.contains("已评定 2 人"),
            "{html}"
        );
        assert!(
            html.contains("党员一、党员二") || html.contains("党员二、党员一"),
            "{html}"
        );
        // What was typed is still there.
        assert!(html.contains("value=\"表现很好\""), "{html}");
        assert_eq!(final_of(&mut conn, id, "m3@demo.edu.cn"), None);
        assert_eq!(
            final_of(&mut conn, id, "m1@demo.edu.cn").as_deref(),
            Some("优秀")
        );
        let graded = views(&mut conn, "people.grade");
        assert_eq!(graded.len(), 2, "{graded:?}");
        assert!(graded.iter().any(|(a, _)| a == "sec"));

        // Another grade is fine; publishing warns of the people still without one.
        let (status, _) = post(
            &server,
            &sec,
            &grade,
            &[
                ("person", "m3@demo.edu.cn"),
                ("grade", "qualified"),
                ("reason", ""),
            ],
        );
        assert_eq!(status, 303);
        let (status, html) = get(&server, Some(&org), &format!("/admin/waves/{id}/publish"));
        assert_eq!(status, 200);
        assert!(html.contains("尚未组织评定"), "{html}");
        let (status, html) = post(
            &server,
            &org,
            &grade,
            &[
                ("person", "m4@demo.edu.cn"),
                ("grade", "很好"),
                ("reason", ""),
            ],
        );
        assert_eq!(status, 422);
        assert!(html.contains("不是本问卷的等次"), "{html}");
    }
}

/// A people wave scoped to a college: an account of that college reads the raters' reasons,
/// an installation-wide organizer reads the same results without them (and is told so) —
/// on the console, in its download, through the API and in `sanping report --as`, as a unit
/// wave's comments.
#[test]
fn a_wider_account_reads_a_scoped_people_wave_without_its_reasons() {
    const REASON: &str = "工作不够投入";
    for db in backends() {
        let state = db.state();
        load(&state);
        let (id, links) = support::open_wave(&state, SURVEY, Some("CS"), false);
        let mut conn = state.pool.get().expect("conn");
        rate_and_close(&mut conn, id, &links);
        auth::add_user(&mut conn, "org", Role::Organizer, "organizer-pass").unwrap();
        auth::add_scoped_user_as(
            &mut conn,
            "test",
            None,
            "cs",
            Role::Organizer,
            Some("CS"),
            "cs-organizer-pass",
        )
        .unwrap();
        let token = |conn: &mut DbConn, name: &str| {
            sanping::api_token::create(conn, "test", name, "test", 100)
                .unwrap()
                .1
        };
        let (org_token, cs_token) = (token(&mut conn, "org"), token(&mut conn, "cs"));
        drop(conn);
        let server = Server::start(state.clone());
        let org = login(&server, "org", "organizer-pass").1.expect("org");
        let cs = login(&server, "cs", "cs-organizer-pass").1.expect("cs");
        let page = format!("/admin/waves/{id}/people");
        let (status, own) = get(&server, Some(&cs), &page);
        assert_eq!(status, 200);
        assert!(own.contains(REASON), "{own}");
        assert!(!own.contains("reasons-withheld"), "{own}");
        let (status, wide) = get(&server, Some(&org), &page);
        assert_eq!(status, 200);
        assert!(!wide.contains(REASON), "{wide}");
        assert!(wide.contains("id=\"reasons-withheld\""), "{wide}");
        assert!(wide.contains("党员八"), "{wide}");
        let json = format!("/admin/waves/{id}/people.json");
        assert!(get(&server, Some(&cs), &json).1.contains(REASON));
        let (status, wide) = get(&server, Some(&org), &json);
        assert_eq!(status, 200);
        assert!(!wide.contains(REASON), "{wide}");

        let api = format!("/api/v1/waves/{id}/report");
        let own = crate::api::get(&server, &api, &cs_token);
        assert_eq!(own.status, 200, "{}", own.body);
        assert!(own.body.to_string().contains(REASON));
        let wide = crate::api::get(&server, &api, &org_token);
        assert_eq!(wide.status, 200, "{}", wide.body);
        assert!(!wide.body.to_string().contains(REASON));
        assert_eq!(wide.body["reasons_withheld"], true, "{}", wide.body);

        let wave = id.to_string();
        let report = ["report", wave.as_str(), "--format", "json"];
        let (ok, own) = crate::scope::cli(&db, &[&["--as", "cs"][..], &report].concat());
        assert!(ok && own.contains(REASON), "{own}");
        let (ok, wide) = crate::scope::cli(&db, &[&["--as", "org"][..], &report].concat());
        assert!(ok && !wide.contains(REASON), "{wide}");
        // The operator, without --as, reads everything (it holds the database).
        let (ok, all) = crate::scope::cli(&db, &report);
        assert!(ok && all.contains(REASON), "{all}");
    }
}
