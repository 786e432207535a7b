//! Point 3: the organizer at 1366 px, and the progress table on a 360 px phone.

use fantoccini::{Client, Locator};
use sanping::auth::{self, Role};

use super::{block_on, click, desktop, driver, phone, sheet, text_of};
use crate::browser::{browser, wait_for};
use crate::browser_people::{js, login, no_sideways_scroll, shot, tables_readable};
use crate::support::{self, Server, TestDb};

/// The roster's counts as the pages word them.
fn counts(db: &TestDb) -> String {
    let mut conn = db.state().pool.get().unwrap();
    format!(
        "{} 个单位，{} 人",
        sanping::db::units::all(&mut conn).unwrap().len(),
        sanping::db::people::all(&mut conn).unwrap().len()
    )
}

/// Chooses `csv` in the upload form of `page` and sends it; waits for the answer.
async fn upload(c: &Client, server: &Server, page: &str, csv: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("upload.csv");
    std::fs::write(&file, csv).unwrap();
    c.goto(&server.url(page)).await.unwrap();
    wait_for(c, "名册现有").await;
    c.find(Locator::Id("file"))
        .await
        .unwrap()
        .send_keys(&file.display().to_string())
        .await
        .unwrap();
    click(c, "form[enctype='multipart/form-data'] button").await;
    wait_for(c, "导入前").await;
}

/// A good and a bad upload of units, then of people: each back on its own page with the
/// counts before and after; the bad ones list their line and leave the counts alone.
async fn uploads_return_to_their_page(c: &Client, server: &Server, db: &TestDb) {
    let steps = [
        (
            "/admin/units",
            "组织",
            "code,name,kind,parent\nCS-X,计算机学院新支部,branch,CS\n",
            "code,name,kind,parent\nZZ,某,branch,NOPE\n",
            "NOPE",
        ),
        (
            "/admin/people",
            "名册",
            "email,name,unit,category,role\nnew.one@demo.edu.cn,新人,CS-X,faculty,member\n",
            "email,name,unit,category,role\nbad-address,某,CS-T,faculty,member\n",
            "bad-address",
        ),
    ];
    for (page, heading, good, bad, culprit) in steps {
        let before = counts(db);
        upload(c, server, page, good).await;
        let after = counts(db);
        assert_ne!(before, after, "{page}: the good file imported");
        assert_eq!(c.current_url().await.unwrap().path(), page);
        assert_eq!(text_of(c, "h1").await, heading);
        assert_eq!(
            text_of(c, "p.counts").await,
            format!("导入前：{before} → 导入后：{after}")
        );
        assert!(text_of(c, "p.notice").await.starts_with("已导入"));
        let name = page.trim_start_matches("/admin/");
        shot(c, &format!("ux-{name}-uploaded-desktop.png")).await;

        upload(c, server, page, bad).await;
        assert_eq!(counts(db), after, "{page}: the bad file imported nothing");
        assert_eq!(c.current_url().await.unwrap().path(), page);
        assert_eq!(text_of(c, "h1").await, heading);
        let errors = text_of(c, ".errors").await;
        assert!(
            errors.contains("有错误，未导入任何数据") && errors.contains(culprit),
            "{page}: {errors}"
        );
        assert!(errors.contains('2'), "{page}: the bad row's line: {errors}");
        assert_eq!(
            text_of(c, "p.counts").await,
            format!("导入前：{after} → 导入后：{after}")
        );
        shot(c, &format!("ux-{name}-refused-desktop.png")).await;
    }
}

/// The new-wave form refused for want of key holders keeps what was typed; then the wave
/// is made. Returns its id.
async fn new_wave_form_keeps_the_title(c: &Client, server: &Server) -> i32 {
    let title = "2027年度群众测评（浏览器）";
    c.goto(&server.url("/admin/waves/new")).await.unwrap();
    wait_for(c, "id=\"title\"").await;
    c.find(Locator::Id("title"))
        .await
        .unwrap()
        .send_keys(title)
        .await
        .unwrap();
    c.find(Locator::Id("closes"))
        .await
        .unwrap()
        .send_keys("2099-12-31 18:00")
        .await
        .unwrap();
    let survey = js(
        c,
        r"const s = document.getElementById('survey');
        s.value = [...s.options].find(o => o.value.includes('liuhao')).value;
        return s.value;",
    )
    .await;
    click(c, ".submit button").await;
    wait_for(c, "请选择密钥保管人").await;
    shot(c, "ux-new-wave-refused-desktop.png").await;
    let kept = js(
        c,
        r"return [document.getElementById('title').value, document.getElementById('closes').value,
                  document.getElementById('survey').value];",
    )
    .await;
    assert_eq!(
        kept,
        serde_json::json!([title, "2099-12-31 18:00", survey]),
        "the form keeps what was typed"
    );
    click(
        c,
        &format!("input[name=holder][value='{}']", support::HOLDER),
    )
    .await;
    click(c, "#single_ok").await;
    click(c, ".submit button").await;
    wait_for(c, "state-draft").await;
    assert_eq!(text_of(c, "h1").await, title);
    let url = c.current_url().await.unwrap();
    url.path()
        .trim_start_matches("/admin/waves/")
        .parse()
        .unwrap_or_else(|_| panic!("a wave page: {url}"))
}

/// The label of the wave page's state, and its class.
async fn state_label(c: &Client, server: &Server, id: i32) -> (String, String) {
    c.goto(&server.url(&format!("/admin/waves/{id}")))
        .await
        .unwrap();
    wait_for(c, "class=\"state ").await;
    let e = c.find(Locator::Css(".meta .state")).await.unwrap();
    (
        e.text().await.unwrap(),
        e.attr("class").await.unwrap().unwrap_or_default(),
    )
}

/// The draft's page: its label and plan; the preview; the open confirmation with the same
/// plan, confirmed.
async fn draft_preview_and_open(c: &Client, server: &Server, id: i32, plan: &str) {
    assert_eq!(
        state_label(c, server, id).await,
        ("草稿".to_owned(), "state state-draft".to_owned())
    );
    assert_eq!(text_of(c, "p.plan").await, plan, "the draft page's plan");
    shot(c, "ux-wave-draft-desktop.png").await;
    click(c, &format!("a[href='/admin/waves/{id}/preview']")).await;
    wait_for(c, "id=\"preview\"").await;
    shot(c, "ux-wave-preview-desktop.png").await;
    let p = js(
        c,
        r"return { items: document.querySelectorAll('fieldset.item').length,
                   disabled: document.querySelector('.submit button').disabled,
                   notice: document.getElementById('preview').innerText,
                   h1: document.querySelector('h1').innerText };",
    )
    .await;
    assert_eq!(p["items"], 18, "{p}");
    assert_eq!(p["disabled"], true, "a preview cannot be submitted: {p}");
    assert_eq!(p["h1"], "2027年度群众测评（浏览器）", "{p}");
    assert!(!p["notice"].as_str().unwrap().is_empty(), "{p}");

    c.goto(&server.url(&format!("/admin/waves/{id}/open")))
        .await
        .unwrap();
    wait_for(c, "id=\"confirm\"").await;
    assert_eq!(text_of(c, "p.summary").await, plan, "the open confirmation");
    shot(c, "ux-confirm-open-desktop.png").await;
    click(c, "#confirm").await;
    wait_for(c, "state-open").await;
    assert_eq!(text_of(c, ".meta .state").await, "进行中");
}

/// The progress table on a phone shows each unit's invitations and answers.
async fn progress_on_a_phone(c: &Client, server: &Server, id: i32) {
    phone(c).await;
    c.goto(&server.url(&format!("/admin/waves/{id}")))
        .await
        .unwrap();
    wait_for(c, "id=\"progress\"").await;
    js(c, "document.getElementById('progress').scrollIntoView()").await;
    shot(c, "ux-progress-phone.png").await;
    no_sideways_scroll(c, "the progress page").await;
    tables_readable(c, "table.progress", 40.0).await;
    let rows = js(
        c,
        r"return [...document.querySelectorAll('table.progress tbody tr')].map(tr =>
            [...tr.querySelectorAll('td')].map(td => td.innerText.trim()));",
    )
    .await;
    let progress = sanping::wave::progress(&mut server.state.pool.get().unwrap(), id).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), progress.len(), "{rows}");
    for p in &progress {
        let row = rows
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r[0].as_str().unwrap().split_whitespace().last() == Some(p.unit.as_str()))
            .unwrap_or_else(|| panic!("{} in {rows}", p.unit));
        assert_eq!(row[1], p.invited.to_string(), "{row}");
        assert_eq!(row[2], p.responses.to_string(), "{row}");
    }
    desktop(c).await;
}

/// The close and publish confirmations state the numbers and warn; each state's label.
async fn close_and_publish(c: &Client, server: &Server, id: i32) {
    let standing = || {
        let mut conn = server.state.pool.get().unwrap();
        let w = sanping::wave::get(&mut conn, id).unwrap();
        sanping::forecast::standing(&mut conn, &w).unwrap()
    };
    let s = standing();
    let rate = format!("{:.1}%", s.rate() * 100.0);
    c.goto(&server.url(&format!("/admin/waves/{id}/close")))
        .await
        .unwrap();
    wait_for(c, "id=\"confirm\"").await;
    assert_eq!(
        text_of(c, "p.summary").await,
        format!(
            "目前已收到 {} 份答卷，共邀请 {} 人（{rate}）。结束后不再接受答卷。",
            s.responses, s.invited
        )
    );
    assert_eq!(
        text_of(c, "p.warn[role=alert]").await,
        "截止时间 2099-12-31 18:00 尚未到：现在结束，尚未作答的人将无法再作答。"
    );
    shot(c, "ux-confirm-close-desktop.png").await;
    click(c, "#confirm").await;
    wait_for(c, "state-closed").await;
    assert_eq!(text_of(c, ".meta .state").await, "待开箱");

    let mut conn = server.state.pool.get().unwrap();
    sanping::sealing::unseal(&mut conn, id, &support::holder_password(), "test").unwrap();
    drop(conn);
    assert_eq!(
        state_label(c, server, id).await,
        ("已结束".to_owned(), "state state-closed".to_owned())
    );

    let s = standing();
    assert!(s.rate() < 0.3 && s.missing_self > 0, "{s:?}");
    c.goto(&server.url(&format!("/admin/waves/{id}/publish")))
        .await
        .unwrap();
    wait_for(c, "id=\"confirm\"").await;
    assert_eq!(
        text_of(c, "p.summary").await,
        format!(
            "参与率 {}（{} / {}）；{} 个被测评单位。",
            format_args!("{:.1}%", s.rate() * 100.0),
            s.responses,
            s.invited,
            s.units
        )
    );
    let warnings = js(
        c,
        "return [...document.querySelectorAll('p.warn[role=alert]')].map(p => p.innerText);",
    )
    .await;
    assert_eq!(
        warnings,
        serde_json::json!([
            "参与率低于 30%：结果的代表性不足。",
            format!(
                "{} 个单位没有提交自评，{} 个单位没有党委评分：这些单位的综合得分不完整。",
                s.missing_self, s.missing_org
            )
        ])
    );
    shot(c, "ux-confirm-publish-desktop.png").await;
    click(c, "#confirm").await;
    wait_for(c, "state-published").await;
    assert_eq!(
        state_label(c, server, id).await,
        ("已公布".to_owned(), "state state-published".to_owned())
    );
}

#[test]
fn an_organizer_sees_counts_plans_previews_warnings_and_states_in_a_real_browser() {
    let Some((driver, port)) = driver() else {
        return;
    };
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    let mut conn = state.pool.get().unwrap();
    auth::add_user(&mut conn, "org", Role::Organizer, "organizer-pass").unwrap();
    support::ensure_holder(&mut conn);
    drop(conn);
    let server = Server::start(state);
    block_on(async {
        let c = browser(port, driver.1.path()).await;
        desktop(&c).await;
        login(&c, &server, "org", "organizer-pass").await;
        uploads_return_to_their_page(&c, &server, &db).await;
        let id = new_wave_form_keeps_the_title(&c, &server).await;
        let mut conn = server.state.pool.get().unwrap();
        sanping::sealing::check_key(
            &mut conn,
            id,
            support::HOLDER,
            support::HOLDER_PASSWORD,
            "test",
        )
        .unwrap();
        let w = sanping::wave::get(&mut conn, id).unwrap();
        let p = sanping::forecast::open_plan(&mut conn, &w).unwrap();
        drop(conn);
        let plan = format!(
            "开放时将向 {} 人发送 {} 封邀请邮件，涉及 {} 个单位：群众测评 {} 份，自评表 {} 份，党委评分表 {} 份。",
            p.people, p.mails, p.units, p.mass, p.self_assessment, p.org
        );
        draft_preview_and_open(&c, &server, id, &plan).await;
        // Two sheets from slips: a low response.
        let mut conn = server.state.pool.get().unwrap();
        let (_, _, tokens) = sanping::wave::slips(&mut conn, id, "LIB", 2).unwrap();
        for t in &tokens {
            sanping::respond::submit(&mut conn, t, &sheet(0)).unwrap();
        }
        drop(conn);
        progress_on_a_phone(&c, &server, id).await;
        close_and_publish(&c, &server, id).await;
        c.close().await.unwrap();
    });
}
