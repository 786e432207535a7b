//! The anonymous respondent flow over real HTTP.

use std::sync::{Arc, Barrier};

use diesel::prelude::*;
use sanping::db::schema::{invitations, responses, waves};

use crate::support::{self, Server, TestDb};

struct Fixture {
    _db: TestDb,
    server: Server,
    wave: i32,
    links: Vec<sanping::wave::Link>,
}

fn fixture(survey: &str, is_test: bool) -> Fixture {
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    let (wave, links) = support::open_wave(&state, survey, None, is_test);
    let links = support::mass_links(links);
    let server = Server::start(state);
    Fixture {
        _db: db,
        server,
        wave,
        links,
    }
}

impl Fixture {
    fn url_of(&self, i: usize) -> String {
        self.server.url(&support::path_of(&self.links[i].url))
    }
    fn count(&self, table: &str) -> i64 {
        let mut conn = self.server.state.pool.get().unwrap();
        match table {
            "responses" => support::stored_sheets(&mut conn, self.wave),
            _ => invitations::table
                .filter(invitations::used.eq(true))
                .count()
                .get_result(&mut *conn)
                .unwrap(),
        }
    }
    fn set_state(&self, state: &str) {
        let mut conn = self.server.state.pool.get().unwrap();
        diesel::update(waves::table.find(self.wave))
            .set(waves::state.eq(state))
            .execute(&mut *conn)
            .unwrap();
    }
}

/// Whether `html` shows a run of 64 hex digits (a SHA-256) outside every `<details>`.
fn shows_a_hash_outside_details(html: &str) -> bool {
    let mut visible = String::new();
    let mut rest = html;
    while let Some(open) = rest.find("<details") {
        visible.push_str(&rest[..open]);
        rest = rest[open..]
            .find("</details>")
            .map_or("", |close| &rest[open + close..]);
    }
    visible.push_str(rest);
    let mut run = 0;
    visible.chars().any(|c| {
        run = if c.is_ascii_hexdigit() { run + 1 } else { 0 };
        run >= 64
    })
}

#[test]
fn the_questionnaire_shows_wave_unit_items_privacy_and_fingerprint() {
    let f = fixture("liuhao.toml", false);
    let (status, html) = support::get(&f.url_of(0));
    assert_eq!(status, 200);
    assert!(html.contains("2026年度测评"));
    assert!(html.contains(&f.links[0].unit) || html.contains("党支部") || html.contains("党总支"));
    assert!(html.contains("班子建设好"), "dimensions are shown");
    assert_eq!(html.matches("type=\"radio\"").count(), 18 * 4);
    assert_eq!(
        html.matches("<label for=").count(),
        18 * 4,
        "every radio has a label"
    );
    assert!(
        html.contains("name=\"comment\"")
            && html.contains("<label class=\"block\" for=\"comment\"")
    );
    assert!(html.contains("隐私说明") && html.contains("不保存"));
    assert!(
        html.contains("只以加密形式保存") && html.contains("不能防范"),
        "the form states what sealing protects and what it does not"
    );
    let fp = sanping::domain::survey::fingerprint(
        &std::fs::read_to_string(support::survey_file("liuhao.toml")).unwrap(),
    );
    assert!(html.contains(&fp), "the fingerprint is still there, folded");
    assert!(
        !shows_a_hash_outside_details(&html),
        "no SHA-256 shown to respondents outside a <details>"
    );
    assert!(html.contains("name=\"viewport\""), "phone first");
    assert!(!html.contains("<script"), "works without JavaScript");
    let (status, en) = support::get(&format!("{}?lang=en", f.url_of(0)));
    assert_eq!(status, 200);
    assert!(en.contains("lang=\"en\"") && en.contains("Privacy") && en.contains("Satisfied"));
    assert!(!shows_a_hash_outside_details(&en));
}

#[test]
fn the_item_count_and_the_privacy_note_come_before_the_first_question() {
    let f = fixture("liuhao.toml", false);
    for (query, count, privacy) in [
        ("", "共 18 题，约 2 分钟", "匿名作答：我们不保存您的姓名"),
        (
            "?lang=en",
            "18 questions, about 2 min",
            "Anonymous: we do not store your name",
        ),
    ] {
        let (status, html) = support::get(&format!("{}{query}", f.url_of(0)));
        assert_eq!(status, 200);
        let first_item = html
            .find("<fieldset class=\"item\"")
            .expect("the first item");
        for shown in [count, privacy, "<a href=\"#privacy\">"] {
            let at = html
                .find(shown)
                .unwrap_or_else(|| panic!("{shown} missing"));
            assert!(at < first_item, "{shown} comes after the first item");
        }
        assert!(
            html.contains("id=\"privacy\""),
            "the full note has its anchor"
        );
        for n in 1..=18 {
            assert!(
                html.contains(&format!("id=\"item-{n}\"")),
                "item {n} has an anchor"
            );
        }
        assert!(
            html.contains("7<span class=\"of\">/18</span>"),
            "progress: 7/18"
        );
    }
}

#[test]
fn a_valid_submission_is_stored_once_and_gets_a_receipt() {
    let f = fixture("liuhao.toml", false);
    let mut fields = support::answers_for("liuhao.toml", 0);
    fields.push(("comment".into(), "希望多组织交流活动".into()));
    let (status, html) = support::post_fields(&f.url_of(0), &fields);
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("提交成功"));
    let receipt = html
        .split("id=\"receipt\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(receipt.len(), 11, "{receipt}");
    assert_eq!((f.count("responses"), f.count("used")), (1, 1));
    let (status, html) = support::get(&f.url_of(0));
    assert_eq!(status, 410);
    assert!(html.contains("已提交，感谢参与"));
    let (status, _) = support::post_fields(&f.url_of(0), &fields);
    assert_eq!(status, 410);
    assert_eq!(f.count("responses"), 1);
    let mut conn = f.server.state.pool.get().unwrap();
    support::close_and_unseal(&mut conn, f.wave).unwrap();
    let stored: Vec<sanping::db::waves::Response> = responses::table
        .select(sanping::db::waves::Response::as_select())
        .load(&mut *conn)
        .unwrap();
    assert_eq!(stored[0].comment.as_deref(), Some("希望多组织交流活动"));
    assert_eq!(stored[0].unit, f.links[0].unit);
    assert_eq!(
        sanping::respond::receipts(&mut conn, f.wave).unwrap(),
        vec![receipt],
        "the receipt is in the wave's list, computed when it was unsealed"
    );
}

#[test]
fn invalid_answers_show_the_form_again_with_answers_kept_and_the_token_unused() {
    let f = fixture("liuhao.toml", false);
    let url = f.url_of(0);
    let mut fields = support::answers_for("liuhao.toml", 1);
    fields.retain(|(k, _)| k != "q.m3");
    fields.iter_mut().find(|(k, _)| k == "q.m5").unwrap().1 = "bogus".into();
    fields.push(("comment".into(), "意".repeat(2001)));
    let (status, html) = support::post_fields(&url, &fields);
    assert_eq!(status, 422);
    assert!(html.contains("请选择一项"), "missing answer marked");
    assert!(html.contains("所选答案不是本题的选项"), "bad option marked");
    assert!(html.contains("2000"), "comment too long marked");
    assert!(html.contains("value=\"basic\" checked"), "answers kept");
    assert_eq!(html.matches("aria-invalid=\"true\"").count(), 2);
    for forged in [
        vec![
            ("q.m1".to_owned(), "satisfied".to_owned()),
            ("evil".into(), "1".into()),
        ],
        vec![
            ("q.m1".to_owned(), "satisfied".to_owned()),
            ("q.m1".into(), "basic".into()),
        ],
    ] {
        let mut all = support::answers_for("liuhao.toml", 0);
        all.retain(|(k, _)| k != "q.m1");
        all.extend(forged);
        let (status, _) = support::post_fields(&url, &all);
        assert_eq!(status, 422);
    }
    let (status, _) = support::post_raw(
        &url,
        "application/x-www-form-urlencoded",
        b"q.m1=%FF%FE&comment=%E4",
    );
    assert_eq!(status, 422, "invalid UTF-8 is refused, not replaced");
    assert_eq!((f.count("responses"), f.count("used")), (0, 0));
    assert_eq!(support::get(&url).0, 200, "the token still works");
    let optional_ok = support::post_fields(&url, &support::answers_for("liuhao.toml", 3));
    assert_eq!(optional_ok.0, 200, "不了解 is a valid answer to give");
}

#[test]
fn an_invalid_submission_lists_every_problem_at_the_top_with_links_to_the_items() {
    let f = fixture("liuhao.toml", false);
    let url = f.url_of(0);
    let all = support::answers_for("liuhao.toml", 0);
    let missing = [3, 7, 12];
    let mut fields: Vec<(String, String)> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| !missing.contains(&(i + 1)))
        .map(|(_, f)| f.clone())
        .collect();
    fields.push(("comment".into(), "意".repeat(2001)));
    let (status, html) = support::post_fields(&url, &fields);
    assert_eq!(status, 422);
    assert!(html.contains("<title>请修改："), "the title says so too");
    let summary_at = html.find("id=\"errors\"").expect("an error summary");
    let first_item = html.find("<fieldset class=\"item").expect("items");
    assert!(summary_at < first_item, "the summary is at the top");
    let summary = &html[summary_at..first_item];
    assert!(summary.contains("还有 4 处需要修改"), "{summary}");
    for n in missing {
        assert!(
            summary.contains(&format!("<a href=\"#item-{n}\">第 {n} 题：请选择一项</a>")),
            "item {n} is named and linked: {summary}"
        );
        assert!(
            html.contains(&format!("id=\"item-{n}\"")),
            "anchor item-{n}"
        );
    }
    assert!(summary.contains("<a href=\"#comment\">意见建议不能超过 2000 字</a>"));
    assert!(html.contains("id=\"comment\""));
    assert_eq!(
        summary.matches("<li>").count(),
        4,
        "every problem once: {summary}"
    );
    // Every link of the summary leads to an anchor of the page.
    for href in summary.split("href=\"#").skip(1) {
        let id = href.split('"').next().unwrap();
        assert!(
            html.contains(&format!("id=\"{id}\"")),
            "#{id} has no target"
        );
    }
    let (status, en) = support::post_fields(&format!("{url}?lang=en"), &[]);
    assert_eq!(status, 422);
    assert!(en.contains("Not submitted yet: 18 to fix"));
    assert!(en.contains("<a href=\"#item-1\">Question 1: please choose an answer</a>"));
    assert!(en.contains("<a href=\"#item-18\">Question 18: please choose an answer</a>"));
    assert!(!en.contains("<script"), "no JavaScript");
    assert_eq!((f.count("responses"), f.count("used")), (0, 0));
}

#[test]
fn unknown_tokens_get_404_and_closed_or_unopened_waves_say_so_with_dates() {
    let f = fixture("liuhao.toml", false);
    for path in [
        "/s/aaaaaaaaaaaaaaaaaaaaaaaaaa",
        "/s/not-a-token",
        "/s/%00%FF",
    ] {
        let (status, html) = support::get(&f.server.url(path));
        assert_eq!(status, 404, "{path}");
        assert!(html.contains("链接无效"));
    }
    let (status, _) = support::post_fields(&f.server.url("/s/aaaaaaaaaaaaaaaaaaaaaaaaaa"), &[]);
    assert_eq!(status, 404);
    f.set_state("closed");
    let (status, html) = support::get(&f.url_of(0));
    assert_eq!(status, 403);
    assert!(html.contains("测评已结束") && html.contains("开放时间"));
    let (status, _) = support::post_fields(&f.url_of(0), &support::answers_for("liuhao.toml", 0));
    assert_eq!(status, 403);
    f.set_state("draft");
    let (status, html) = support::get(&f.url_of(0));
    assert_eq!(status, 403);
    assert!(html.contains("测评尚未开始"));
    assert_eq!(f.count("responses"), 0);
}

#[test]
fn a_wave_past_its_closing_time_refuses_answers_without_being_closed() {
    let f = fixture("liuhao.toml", false);
    let mut conn = f.server.state.pool.get().unwrap();
    let past = chrono::Utc::now().naive_utc() - chrono::Duration::minutes(1);
    diesel::update(waves::table.find(f.wave))
        .set(waves::closes_at.eq(Some(past)))
        .execute(&mut *conn)
        .unwrap();
    let (status, html) =
        support::post_fields(&f.url_of(0), &support::answers_for("liuhao.toml", 0));
    assert_eq!(status, 403);
    assert!(html.contains("测评已结束") && html.contains("截止时间"));
    assert_eq!(f.count("responses"), 0);
}

#[test]
fn fifty_concurrent_submissions_with_one_token_store_exactly_one_response() {
    let f = fixture("liuhao.toml", false);
    let url = f.url_of(0);
    let fields = support::answers_for("liuhao.toml", 0);
    let barrier = Arc::new(Barrier::new(50));
    let handles: Vec<_> = (0..50)
        .map(|_| {
            let (url, fields, barrier) = (url.clone(), fields.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                support::post_fields(&url, &fields)
            })
        })
        .collect();
    let results: Vec<(u16, String)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let ok = results.iter().filter(|(s, _)| *s == 200).count();
    let gone: Vec<_> = results.iter().filter(|(s, _)| *s == 410).collect();
    assert_eq!(
        ok,
        1,
        "{:?}",
        results.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    assert_eq!(gone.len(), 49);
    assert!(
        gone.iter()
            .all(|(_, html)| html.contains("已提交，感谢参与"))
    );
    assert_eq!((f.count("responses"), f.count("used")), (1, 1));
}

#[test]
fn stored_rows_carry_nothing_that_links_a_response_to_a_person() -> anyhow::Result<()> {
    let f = fixture("liuhao.toml", false);
    let mut conn = f.server.state.pool.get()?;
    let tables = sanping::db::tables_and_columns(&mut conn)?;
    assert_eq!(
        tables["responses"],
        ["id", "wave_id", "unit", "answers", "comment", "is_test"],
        "no person, token, invitation, IP, user agent or time of day"
    );
    assert_eq!(
        tables["invitations"],
        [
            "id",
            "wave_id",
            "person",
            "unit",
            "step",
            "token_hash",
            "used",
            "reminders"
        ],
        "an invitation knows only that it was used: no time, no response"
    );
    drop(conn);
    let mut receipts_in_order = Vec::new();
    for i in 0..f.links.len() {
        let (status, html) =
            support::post_fields(&f.url_of(i), &support::answers_for("liuhao.toml", i % 3));
        assert_eq!(status, 200);
        receipts_in_order.push(html.split("id=\"receipt\">").nth(1).unwrap()[..11].to_owned());
    }
    let mut conn = f.server.state.pool.get()?;
    support::close_and_unseal(&mut conn, f.wave)?;
    let stored: Vec<sanping::db::waves::Response> = responses::table
        .select(sanping::db::waves::Response::as_select())
        .load(&mut *conn)?;
    for r in &stored {
        assert_eq!(r.id.len(), 32, "a random 128-bit id, not a sequence");
    }
    let mut ids: Vec<&str> = stored.iter().map(|r| r.id.as_str()).collect();
    ids.dedup();
    assert_eq!(ids.len(), f.links.len());
    if let sanping::db::DbConn::Sqlite(c) = &mut *conn {
        let rowid = diesel::sql_query("SELECT rowid FROM responses").execute(c);
        assert!(
            rowid.is_err(),
            "responses is WITHOUT ROWID: no hidden insertion order"
        );
    }
    Ok(())
}

#[test]
fn request_logs_mask_tokens_and_never_contain_answers() -> anyhow::Result<()> {
    let tdb = TestDb::new();
    let state = tdb.state();
    support::load_fixtures(&state);
    let (_, links) = support::open_wave(&state, "liuhao.toml", None, false);
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut child = support::bin()
        .arg("serve")
        .env("DATABASE_URL", tdb.url())
        .env("SANPING_BIND", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    // Drain the log while the server runs, or a full pipe would block it.
    let mut stderr = child.stderr.take().expect("piped stderr");
    let reader = std::thread::spawn(move || {
        let mut log = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut log).ok();
        log
    });
    let base = format!("http://127.0.0.1:{port}");
    let mut up = false;
    for _ in 0..100 {
        if support::client()
            .get(&format!("{base}/healthz"))
            .call()
            .is_ok()
        {
            up = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(up, "server did not start");
    let path = support::path_of(&links[0].url);
    let token = path.trim_start_matches("/s/").to_owned();
    let mut fields = support::answers_for("liuhao.toml", 0);
    fields.push(("comment".into(), "机密意见ZQXJ".into()));
    assert_eq!(support::get(&format!("{base}{path}")).0, 200);
    assert_eq!(
        support::post_fields(&format!("{base}{path}"), &fields).0,
        200
    );
    assert_eq!(support::get(&format!("{base}/s?code={token}")).0, 303);
    child.kill()?;
    child.wait()?;
    let log = reader.join().expect("log reader");
    assert!(log.contains("/s/***"), "{log}");
    assert!(!log.contains(&token), "a raw token was logged:\n{log}");
    assert!(
        !log.contains("ZQXJ") && !log.contains("q.m1"),
        "answers were logged:\n{log}"
    );
    Ok(())
}

#[test]
fn receipts_are_counted_and_checkable_but_not_listed_only_after_publication() {
    let f = fixture("liuhao.toml", false);
    let (_, html) = support::post_fields(&f.url_of(0), &support::answers_for("liuhao.toml", 0));
    let receipt = html.split("id=\"receipt\">").nth(1).unwrap()[..11].to_owned();
    let page = f.server.url(&format!("/w/{}/receipts", f.wave));
    let (status, before) = support::get(&page);
    assert_eq!(status, 404, "nothing of an unpublished wave is shown");
    assert!(before.contains("结果公布后提供") && !before.contains(&receipt));
    assert!(!before.contains("2026年度测评"), "not even its title");
    let mut conn = f.server.state.pool.get().unwrap();
    support::close_and_unseal(&mut conn, f.wave).unwrap();
    sanping::wave::publish(&mut conn, f.wave).unwrap();
    let (status, after) = support::get(&page);
    assert_eq!(status, 200);
    assert!(
        !after.contains(&receipt) && !after.contains("<ul"),
        "no list of codes: a search box and the count"
    );
    assert!(after.contains("id=\"code\"") && after.contains("<strong id=\"count\">1</strong>"));
    assert!(
        after.contains("id=\"record\""),
        "the record hash line stays"
    );
    let (_, found) = support::get(&format!("{page}?code={}", receipt.to_lowercase()));
    assert!(found.contains("已找到"));
    assert!(found.contains(&format!("<span class=\"code\">{receipt}</span>")));
    let (_, en) = support::get(&format!("{page}?code={receipt}&lang=en"));
    assert!(en.contains("Found: this receipt was counted."));
    let (_, missing) = support::get(&format!("{page}?code=AAAAA-AAAAA"));
    assert!(missing.contains("未找到"));
    assert_eq!(support::get(&f.server.url("/w/999/receipts")).0, 404);
}

#[test]
fn a_printed_slip_code_leads_to_the_questionnaire_and_counts_for_its_unit() -> anyhow::Result<()> {
    let f = fixture("liuhao.toml", false);
    let mut conn = f.server.state.pool.get()?;
    let (_, _, tokens) = sanping::wave::slips(&mut conn, f.wave, "LIB", 1)?;
    drop(conn);
    let typed = sanping::domain::token::grouped(&tokens[0]).to_uppercase();
    let res = support::client()
        .get(&f.server.url(&format!("/s?code={typed}")))
        .call()?;
    assert_eq!(res.status().as_u16(), 303);
    let location = res.headers().get("location").unwrap().to_str()?.to_owned();
    assert_eq!(location, format!("/s/{}", tokens[0]));
    let (status, _) = support::post_fields(
        &f.server.url(&location),
        &support::answers_for("liuhao.toml", 0),
    );
    assert_eq!(status, 200);
    let mut conn = f.server.state.pool.get()?;
    let progress = sanping::wave::progress(&mut conn, f.wave)?;
    let lib = progress.iter().find(|p| p.unit == "LIB").unwrap();
    assert_eq!((lib.invited, lib.used, lib.responses), (2, 1, 1));
    Ok(())
}

#[test]
fn a_test_wave_marks_its_responses_and_purge_removes_them() -> anyhow::Result<()> {
    let f = fixture("liuhao.toml", true);
    let (status, html) =
        support::post_fields(&f.url_of(0), &support::answers_for("liuhao.toml", 0));
    assert_eq!(status, 200);
    let (_, form) = support::get(&f.url_of(1));
    assert!(form.contains("演练批次"), "{html}");
    let mut conn = f.server.state.pool.get()?;
    support::close_and_unseal(&mut conn, f.wave)?;
    let marked: Vec<bool> = responses::table
        .select(responses::is_test)
        .load(&mut *conn)?;
    assert_eq!(marked, vec![true]);
    let (purged, _) = sanping::wave::purge_test(&mut conn, f.wave)?;
    assert_eq!(purged, 1);
    assert_eq!(f.count("responses"), 0);
    Ok(())
}

#[test]
fn stored_responses_keep_no_trace_of_the_order_they_came_in() -> anyhow::Result<()> {
    let f = fixture("liuhao.toml", false);
    let mut conn = f.server.state.pool.get()?;
    let (_, _, tokens) = sanping::wave::slips(&mut conn, f.wave, "CS-T", 30)?;
    drop(conn);
    let mut submitted = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        let mut fields = support::answers_for("liuhao.toml", 0);
        let marker = format!("第{i}份");
        fields.push(("comment".into(), marker.clone()));
        let (status, _) = support::post_fields(&f.server.url(&format!("/s/{t}")), &fields);
        assert_eq!(status, 200);
        submitted.push(marker);
    }
    let mut conn = f.server.state.pool.get()?;
    support::close_and_unseal(&mut conn, f.wave)?;
    // Storage order as a dump or a plain scan sees it: no ORDER BY.
    let scanned: Vec<String> = sanping::db::waves::responses_of(&mut conn, f.wave)?
        .into_iter()
        .filter_map(|r| r.comment)
        .collect();
    let mut sorted = submitted.clone();
    sorted.sort();
    assert_eq!(
        {
            let mut s = scanned.clone();
            s.sort();
            s
        },
        sorted,
        "all 30 are there"
    );
    assert_ne!(
        scanned, submitted,
        "a scan must not replay the order of submission"
    );
    Ok(())
}

#[test]
fn a_token_retired_between_lookup_and_store_stores_nothing_and_says_it_was_replaced() {
    use sanping::respond::{self, Lookup, Submitted};
    let f = fixture("liuhao.toml", false);
    let mut conn = f.server.state.pool.get().unwrap();
    let token = f.links[0].url.rsplit('/').next().unwrap().to_owned();
    let Lookup::Ready(wave, invitation) = respond::lookup(&mut conn, &token).unwrap() else {
        panic!("the link is ready");
    };
    // A reminder mints a new token for the invitation while this submission is under way.
    sanping::db::outbox::set_token_hash(&mut conn, &invitation.id, "0".repeat(64).as_str())
        .unwrap();
    let submission = sanping::domain::answers::Submission {
        answers: support::answers_for("liuhao.toml", 0)
            .into_iter()
            .map(|(k, v)| (k.trim_start_matches("q.").to_owned(), v))
            .collect(),
        comment: None,
    };
    let survey = sanping::wave::survey_of(&sanping::wave::get(&mut conn, f.wave).unwrap()).unwrap();
    let done = respond::store(&mut conn, &wave, &invitation, &survey, &submission).unwrap();
    assert!(
        matches!(done, Submitted::Refused(ref l) if matches!(**l, Lookup::Replaced(_))),
        "{done:?}"
    );
    drop(conn);
    assert_eq!(f.count("responses"), 0);
    assert_eq!(f.count("used"), 0);
}

#[test]
fn the_kept_questionnaire_is_byte_identical_to_a_fresh_render() -> anyhow::Result<()> {
    use sanping::domain::Lang;
    use sanping::web::form_cache::Cached;
    use sanping::web::respond::{load, render_form};

    let f = fixture("liuhao.toml", false);
    let state = &f.server.state;
    let first = &f.links[0];
    let other = f
        .links
        .iter()
        .position(|l| l.unit != first.unit)
        .expect("links to two units");
    // A name that HTML escapes: the filled-in name must be escaped as the template does.
    diesel::update(sanping::db::schema::units::table.find(&first.unit))
        .set(sanping::db::schema::units::name.eq("A&B <\"第一\"> '支部'=`"))
        .execute(&mut *state.pool.get()?)?;
    for i in [0, other] {
        let path = support::path_of(&f.links[i].url);
        let token = path.trim_start_matches("/s/");
        for (lang, query) in [(Lang::Zh, ""), (Lang::En, "?lang=en")] {
            // The first GET renders the page for the cache and fills it; the second only fills.
            let (status, served) = support::get(&format!("{}{query}", f.url_of(i)));
            let (_, again) = support::get(&format!("{}{query}", f.url_of(i)));
            assert_eq!(status, 200);
            let mut conn = state.pool.get()?;
            let ctx = load(state, &mut conn, token)?.expect("a ready token");
            assert!(matches!(state.forms.get(&ctx.wave, lang), Cached::Page(_)));
            let fresh = render_form(state, lang, token, &ctx)?;
            assert!(fresh.contains(&format!("action=\"/s/{token}?lang")));
            assert_eq!(served, fresh, "token {i}, {lang:?}");
            assert_eq!(again, fresh, "token {i}, {lang:?}");
        }
    }
    Ok(())
}
