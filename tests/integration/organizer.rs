//! The organizer's console says what it does: uploads return to their own page with the
//! roster's counts before and after, each wave state has its own one-line hint, and each
//! confirmation (open, remind, invite the people added since, close, publish, purge) says
//! what it will do with its numbers.

use sanping::auth::{self, Role};

use crate::admin::{Browser, get, login};
use crate::support::{self, Server, TestDb};

/// A database with the fixture roster and an organizer; the server and the organizer.
fn setup() -> (TestDb, Server, Browser) {
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    auth::add_user(
        &mut state.pool.get().unwrap(),
        "org",
        Role::Organizer,
        "organizer-pass",
    )
    .unwrap();
    let server = Server::start(state);
    let org = login(&server, "org", "organizer-pass").1.unwrap();
    (db, server, org)
}

/// POSTs `csv` as a multipart upload to `path`: status and page.
pub(crate) fn upload(
    server: &impl support::Served,
    b: &Browser,
    path: &str,
    csv: &str,
) -> (u16, String) {
    let boundary = "XsanpingOrganizerX";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n",
        b.csrf
    );
    let mut res = support::client()
        .post(&server.url(path))
        .header("cookie", &b.cookie)
        .header(
            "content-type",
            &format!("multipart/form-data; boundary={boundary}"),
        )
        .send(body.as_bytes())
        .unwrap();
    (
        res.status().as_u16(),
        res.body_mut().read_to_string().unwrap(),
    )
}

/// The roster's counts as the pages word them.
fn counts(db: &TestDb) -> String {
    let mut conn = db.state().pool.get().unwrap();
    format!(
        "{} 个单位，{} 人",
        sanping::db::units::all(&mut conn).unwrap().len(),
        sanping::db::people::all(&mut conn).unwrap().len()
    )
}

#[test]
fn each_upload_returns_to_its_own_page_with_the_counts_before_and_after() {
    let (db, server, org) = setup();
    let before = counts(&db);
    let (status, page) = get(&server, Some(&org), "/admin/people");
    assert_eq!(status, 200);
    assert!(page.contains(&format!("名册现有：{before}")), "{page}");

    // A good units upload: the units page, with the new unit in the tree.
    let (status, page) = upload(
        &server,
        &org,
        "/admin/units",
        "code,name,kind,parent\nCS-X,计算机学院新支部,branch,CS\n",
    );
    assert_eq!(status, 200, "{page}");
    let after = counts(&db);
    assert_ne!(before, after);
    assert!(page.contains("<h1>组织</h1>"), "the units page: {page}");
    assert!(page.contains("计算机学院新支部"), "{page}");
    assert!(
        page.contains(&format!("导入前：{before} → 导入后：{after}")),
        "{page}"
    );

    // A bad units upload: still the units page, 422, the real counts, unchanged.
    let (status, page) = upload(
        &server,
        &org,
        "/admin/units",
        "code,name,kind,parent\nZZ,某,branch,NOPE\n",
    );
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("<h1>组织</h1>"), "{page}");
    assert!(page.contains("NOPE"), "the bad row is listed: {page}");
    assert!(
        page.contains(&format!("导入前：{after} → 导入后：{after}")),
        "{page}"
    );
    assert!(!page.contains("→ 导入后：0 个单位"), "{page}");

    // A bad people upload: the people page, the counts unchanged (never "0").
    let (status, page) = upload(
        &server,
        &org,
        "/admin/people",
        "email,name,unit,category,role\nbad-address,某,CS-T,faculty,member\n",
    );
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("<h1>名册</h1>"), "{page}");
    assert!(
        page.contains(&format!("导入前：{after} → 导入后：{after}")),
        "{page}"
    );
    assert_eq!(counts(&db), after);

    // A good people upload: the people page with both counts.
    let (status, page) = upload(
        &server,
        &org,
        "/admin/people",
        "email,name,unit,category,role\nnew.one@demo.edu.cn,新人,CS-X,faculty,member\n",
    );
    assert_eq!(status, 200, "{page}");
    let last = counts(&db);
    assert_ne!(last, after);
    assert!(page.contains("<h1>名册</h1>"), "{page}");
    assert!(
        page.contains(&format!("导入前：{after} → 导入后：{last}")),
        "{page}"
    );
}

/// The one-line hint of the wave page.
fn hint(page: &str) -> &str {
    page.split("class=\"hint state-hint\">")
        .nth(1)
        .and_then(|s| s.split("</p>").next())
        .unwrap_or_default()
}

#[test]
fn each_wave_state_has_its_own_hint() {
    let (db, server, org) = setup();
    let state = db.state();
    let id = support::create_wave(&state, "liuhao.toml", None, false);
    let page = |id: i32| get(&server, Some(&org), &format!("/admin/waves/{id}")).1;
    let draft = page(id);
    assert!(hint(&draft).contains("草稿"), "{draft}");
    assert!(!draft.contains("测评进行中"), "{draft}");

    let mut conn = state.pool.get().unwrap();
    sanping::wave::open(&mut conn, id, "http://x", |_| Ok(())).unwrap();
    let open = page(id);
    assert!(hint(&open).contains("测评进行中"), "{open}");

    sanping::wave::close(&mut conn, id).unwrap();
    let sealed = page(id);
    assert!(hint(&sealed).contains("待开箱"), "{sealed}");
    assert!(!sealed.contains("测评进行中"), "{sealed}");

    sanping::sealing::unseal(&mut conn, id, &support::holder_password(), "test").unwrap();
    let closed = page(id);
    assert!(
        hint(&closed).contains("测评已结束，不再接受答卷"),
        "{closed}"
    );

    sanping::wave::publish(&mut conn, id).unwrap();
    let published = page(id);
    assert!(hint(&published).contains("结果已公布"), "{published}");
    assert!(!published.contains("测评进行中"), "{published}");
}

/// The first number right after `prefix` in `page`.
fn number_after(page: &str, prefix: &str) -> usize {
    let rest = page
        .split(prefix)
        .nth(1)
        .unwrap_or_else(|| panic!("no {prefix:?} in {page}"));
    rest.trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

fn outbox_of(db: &TestDb, id: i32, kind: &str) -> i64 {
    use diesel::prelude::*;
    use sanping::db::schema::outbox;
    outbox::table
        .filter(outbox::wave_id.eq(id))
        .filter(outbox::kind.eq(kind))
        .count()
        .get_result(&mut db.state().pool.get().unwrap())
        .unwrap()
}

#[test]
fn the_draft_and_the_open_confirmation_say_how_many_mails_go_to_whom() {
    let (db, server, org) = setup();
    let state = db.state();
    let id = support::create_wave(&state, "liuhao.toml", None, false);
    let plan = sanping::forecast::open_plan(
        &mut state.pool.get().unwrap(),
        &sanping::wave::get(&mut state.pool.get().unwrap(), id).unwrap(),
    )
    .unwrap();
    assert!(
        plan.mass > 0 && plan.self_assessment > 0 && plan.org > 0,
        "{plan:?}"
    );
    let expected = format!(
        "开放时将向 {} 人发送 {} 封邀请邮件，涉及 {} 个单位：群众测评 {} 份，自评表 {} 份，党委评分表 {} 份。",
        plan.people, plan.mails, plan.units, plan.mass, plan.self_assessment, plan.org
    );
    let (_, draft) = get(&server, Some(&org), &format!("/admin/waves/{id}"));
    assert!(draft.contains(&expected), "{draft}");
    let (status, confirm) = get(&server, Some(&org), &format!("/admin/waves/{id}/open"));
    assert_eq!(status, 200);
    assert!(confirm.contains(&expected), "{confirm}");
    let mails = number_after(&confirm, "人发送");
    // Opening does what the page said.
    let status = crate::admin::post(
        &server,
        Some(&org),
        &format!("/admin/waves/{id}/open"),
        &[("csrf", &org.csrf), ("unchecked_ok", "on")],
    );
    assert_eq!(status, 303);
    let stored = support::stored_invitations(&mut state.pool.get().unwrap(), id);
    assert_eq!(usize::try_from(stored).unwrap(), mails);
    assert_eq!(outbox_of(&db, id, "invitation"), stored);
    let (_, open) = get(&server, Some(&org), &format!("/admin/waves/{id}"));
    assert!(!open.contains("开放时将向"), "only on drafts: {open}");
}

#[test]
fn the_console_reminder_keeps_three_days_from_the_last_mail_unless_told_otherwise() {
    use diesel::prelude::*;
    use sanping::db::schema::outbox;
    let (db, server, org) = setup();
    let state = db.state();
    let id = support::create_wave(&state, "liuhao.toml", None, false);
    let mut conn = state.pool.get().unwrap();
    sanping::wave::open_by_email(&mut conn, id).unwrap();
    // Every invitation went out a minute ago.
    let just_now = chrono::Utc::now().naive_utc() - chrono::Duration::minutes(1);
    diesel::update(outbox::table.filter(outbox::wave_id.eq(id)))
        .set((outbox::state.eq("sent"), outbox::sent_at.eq(Some(just_now))))
        .execute(&mut conn)
        .unwrap();
    drop(conn);
    let path = format!("/admin/waves/{id}/remind");

    let (status, page) = get(&server, Some(&org), &path);
    assert_eq!(status, 200);
    assert!(page.contains("现在将排队发送 0 封提醒"), "{page}");
    assert!(page.contains("至少 3 天"), "{page}");
    assert!(page.contains("name=\"min_days\" value=\"3\""), "{page}");
    let status = crate::admin::post(&server, Some(&org), &path, &[("csrf", &org.csrf)]);
    assert_eq!(status, 303);
    assert_eq!(
        outbox_of(&db, id, "reminder"),
        0,
        "the guard holds by default"
    );

    let (_, page) = get(&server, Some(&org), &format!("{path}?min_days=0"));
    let due = number_after(&page, "现在将排队发送");
    assert!(due > 0, "{page}");
    let status = crate::admin::post(
        &server,
        Some(&org),
        &path,
        &[("csrf", &org.csrf), ("min_days", "0")],
    );
    assert_eq!(status, 303);
    assert_eq!(
        usize::try_from(outbox_of(&db, id, "reminder")).unwrap(),
        due
    );
}

#[test]
fn closing_before_the_deadline_warns_and_closing_after_it_does_not() {
    use diesel::prelude::*;
    use sanping::db::schema::waves;
    let (db, server, org) = setup();
    let state = db.state();
    let id = support::create_wave(&state, "liuhao.toml", None, false);
    let mut conn = state.pool.get().unwrap();
    let later = chrono::Utc::now().naive_utc() + chrono::Duration::days(2);
    diesel::update(waves::table.filter(waves::id.eq(id)))
        .set(waves::closes_at.eq(Some(later)))
        .execute(&mut conn)
        .unwrap();
    sanping::wave::open_by_email(&mut conn, id).unwrap();
    let invited = support::stored_invitations(&mut conn, id);
    let progress = sanping::wave::progress(&mut conn, id).unwrap();
    let mass: i64 = progress.iter().map(|p| p.invited).sum();
    assert!(mass > 0 && mass <= invited);
    let path = format!("/admin/waves/{id}/close");
    let (_, page) = get(&server, Some(&org), &path);
    assert!(
        page.contains(&format!("目前已收到 0 份答卷，共邀请 {mass} 人（0.0%）")),
        "{page}"
    );
    assert!(page.contains("尚未到"), "{page}");

    // The closing time has passed: no warning.
    let earlier = chrono::Utc::now().naive_utc() - chrono::Duration::minutes(5);
    diesel::update(waves::table.filter(waves::id.eq(id)))
        .set(waves::closes_at.eq(Some(earlier)))
        .execute(&mut conn)
        .unwrap();
    let (_, page) = get(&server, Some(&org), &path);
    assert!(page.contains("目前已收到 0 份答卷"), "{page}");
    assert!(!page.contains("尚未到"), "{page}");
}

#[test]
fn publishing_thin_results_warns_and_complete_ones_do_not() {
    use sanping::db::assessments::{self, Assessment};
    let db = TestDb::new();
    let state = db.state();
    let id = crate::report::fixed_wave(&state);
    auth::add_user(
        &mut state.pool.get().unwrap(),
        "org",
        Role::Organizer,
        "organizer-pass",
    )
    .unwrap();
    let server = Server::start(state.clone());
    let org = login(&server, "org", "organizer-pass").1.unwrap();
    let mut conn = state.pool.get().unwrap();
    let wave = sanping::wave::get(&mut conn, id).unwrap();
    let standing = sanping::forecast::standing(&mut conn, &wave).unwrap();
    assert!(
        standing.missing_self > 0 && standing.missing_org > 0,
        "{standing:?}"
    );
    let path = format!("/admin/waves/{id}/publish");
    let (status, page) = get(&server, Some(&org), &path);
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!(
            "{} 个单位没有提交自评，{} 个单位没有党委评分",
            standing.missing_self, standing.missing_org
        )),
        "{page}"
    );
    assert!(
        page.contains(&format!(
            "（{} / {}）",
            standing.responses, standing.invited
        )),
        "{page}"
    );
    assert!(standing.rate() >= 0.3, "{standing:?}");
    assert!(!page.contains("参与率低于 30%"), "{page}");

    // Every unit's sheets submitted: no warning about them.
    let units = sanping::wave::targets(
        &sanping::wave::frame(&mut conn, &wave).unwrap(),
        wave.scope.as_deref(),
    );
    for u in &units {
        for (step, scorer) in [("self", ""), ("org", "k9@demo.edu.cn")] {
            let done = assessments::of_wave(&mut conn, id, step)
                .unwrap()
                .iter()
                .any(|a| a.unit == u.code && a.submitted);
            if !done {
                assessments::insert(
                    &mut conn,
                    &Assessment {
                        id: format!("{step}-{}", u.code),
                        wave_id: id,
                        unit: u.code.clone(),
                        step: step.to_owned(),
                        scorer: scorer.to_owned(),
                        answers: "{}".to_owned(),
                        evidence: "{}".to_owned(),
                        submitted: true,
                        updated_at: chrono::Utc::now().naive_utc(),
                    },
                )
                .unwrap();
            }
        }
    }
    let (_, page) = get(&server, Some(&org), &path);
    assert!(!page.contains("没有提交自评"), "{page}");
    assert!(
        !page.contains("role=\"alert\""),
        "no warning at all: {page}"
    );
}

#[test]
fn publishing_with_no_answers_warns_of_the_low_rate() {
    let (db, server, org) = setup();
    let state = db.state();
    let id = support::create_wave(&state, "liuhao.toml", None, false);
    let mut conn = state.pool.get().unwrap();
    sanping::wave::open_by_email(&mut conn, id).unwrap();
    support::close_and_unseal(&mut conn, id).unwrap();
    let (status, page) = get(&server, Some(&org), &format!("/admin/waves/{id}/publish"));
    assert_eq!(status, 200);
    assert!(page.contains("参与率 0.0%"), "{page}");
    assert!(page.contains("参与率低于 30%"), "{page}");
    assert!(page.contains("个单位没有提交自评"), "{page}");
}

#[test]
fn the_invite_added_confirmation_says_how_many_mails_go_to_whom() {
    let (db, server, org) = setup();
    let state = db.state();
    let (id, _) = support::open_wave(&state, "liuhao.toml", None, false);
    // A member (one mass invitation) and a secretary (mass and self-assessment).
    sanping::import::people(
        &mut state.pool.get().unwrap(),
        "email,name,unit,category,role\n\
         new.one@demo.edu.cn,新来的,CS-T,faculty,member\n\
         new.two@demo.edu.cn,新书记,LIB,faculty,member;secretary\n"
            .as_bytes(),
    )
    .unwrap();
    let expected = "将向开放后新增的 2 人发送 3 封邀请邮件，涉及 2 个单位。";
    let path = format!("/admin/waves/{id}/invite-added");
    let (status, confirm) = get(&server, Some(&org), &path);
    assert_eq!(status, 200);
    assert!(confirm.contains(expected), "{confirm}");
    let (_, en) = get(&server, Some(&org), &format!("{path}?lang=en"));
    assert!(
        en.contains(
            "3 invitation mails go to 2 people added since the wave opened, about 2 units."
        ),
        "{en}"
    );
    let (invited, mailed) = (
        support::stored_invitations(&mut state.pool.get().unwrap(), id),
        outbox_of(&db, id, "invitation"),
    );
    let status = crate::admin::post(&server, Some(&org), &path, &[("csrf", &org.csrf)]);
    assert_eq!(status, 303);
    // It does what the page said.
    let mails = i64::try_from(number_after(&confirm, "人发送")).unwrap();
    assert_eq!(
        support::stored_invitations(&mut state.pool.get().unwrap(), id),
        invited + mails
    );
    assert_eq!(outbox_of(&db, id, "invitation"), mailed + mails);
}

#[test]
fn the_purge_confirmation_says_how_many_responses_and_invitations_it_deletes() {
    let (db, server, org) = setup();
    let state = db.state();
    let (id, links) = support::open_wave(&state, "liuhao.toml", None, true);
    let answers = support::answers_for("liuhao.toml", 0);
    for link in support::mass_links(links).iter().take(2) {
        let (status, _) = support::post_fields(&server.url(&support::path_of(&link.url)), &answers);
        assert_eq!(status, 200);
    }
    let invitations = support::stored_invitations(&mut state.pool.get().unwrap(), id);
    assert_eq!(
        support::stored_sheets(&mut state.pool.get().unwrap(), id),
        2
    );
    let path = format!("/admin/waves/{id}/purge");
    let (status, confirm) = get(&server, Some(&org), &path);
    assert_eq!(status, 200);
    let expected = format!(
        "将删除 2 份答卷、{invitations} 个邀请（其链接随之失效）和 0 份自评表与评分表，批次回到草稿。"
    );
    assert!(confirm.contains(&expected), "{confirm}");
    let (_, en) = get(&server, Some(&org), &format!("{path}?lang=en"));
    assert!(
        en.contains(&format!(
            "2 responses, {invitations} invitations (their links stop working)"
        )),
        "{en}"
    );
    let status = crate::admin::post(&server, Some(&org), &path, &[("csrf", &org.csrf)]);
    assert_eq!(status, 303);
    // It deleted what the page said: the audit entry counts the same.
    let mut conn = state.pool.get().unwrap();
    assert_eq!(support::stored_sheets(&mut conn, id), 0);
    assert_eq!(support::stored_invitations(&mut conn, id), 0);
    let audited = sanping::db::accounts::audit_entries(&mut conn, 10)
        .unwrap()
        .into_iter()
        .find(|e| e.action == "wave.purge")
        .expect("audited");
    assert!(
        audited
            .detail
            .contains(&format!("2 responses, {invitations} invitations deleted")),
        "{}",
        audited.detail
    );
}
