//! Point 2: the respondent on a 360 px phone.

use std::time::Duration;

use fantoccini::{Client, Locator};
use sanping::mail::{Mailer, worker};

use super::{block_on, click, driver, js_until, phone, text_of};
use crate::browser::{browser, wait_for};
use crate::browser_people::{js, no_sideways_scroll, shot};
use crate::smtp::SmtpServer;
use crate::support::{self, Server, TestDb};

fn deliver(state: &sanping::app::AppState) {
    let mailer = Mailer::from_config(&state.config).unwrap();
    let policy = worker::Policy {
        max_attempts: 5,
        backoff: Duration::ZERO,
        lease: Duration::from_mins(5),
        rate: None,
        stop: std::sync::Arc::default(),
    };
    worker::deliver_due(state, &mailer, &policy, &mut |_| {}).unwrap();
}

/// The links mailed to `to`, oldest first.
fn links_to(smtp: &SmtpServer, to: &str) -> Vec<String> {
    smtp.messages()
        .iter()
        .filter(|m| m.to == [to])
        .map(crate::smtp::Received::link)
        .collect()
}

/// The form on a phone: the count and the privacy note above the first question, the
/// fingerprint folded away.
async fn count_and_privacy_before_the_first_question(c: &Client, url: &str) {
    phone(c).await;
    c.goto(url).await.unwrap();
    wait_for(c, "id=\"privacy\"").await;
    shot(c, "ux-respondent-form-phone.png").await;
    no_sideways_scroll(c, "the questionnaire").await;
    let l = js(
        c,
        r"const top = e => e.getBoundingClientRect().top;
        const first = document.querySelector('fieldset.item');
        const intro = document.getElementById('intro');
        const privacy = document.querySelector('.privacy-short');
        return { intro: top(intro), privacy: top(privacy), first: top(first), first_id: first.id,
                 intro_text: intro.innerText, privacy_text: privacy.innerText,
                 items: document.querySelectorAll('fieldset.item').length };",
    )
    .await;
    assert_eq!(l["items"], 18, "{l}");
    assert_eq!(l["first_id"], "item-1", "{l}");
    let first = l["first"].as_f64().unwrap();
    assert!(
        l["intro"].as_f64().unwrap() < first && l["privacy"].as_f64().unwrap() < first,
        "the count and the privacy note come before the first question: {l}"
    );
    assert!(
        l["intro_text"].as_str().unwrap().contains("共 18 题"),
        "{l}"
    );
    assert!(
        l["privacy_text"]
            .as_str()
            .unwrap()
            .starts_with("匿名作答：我们不保存您的姓名"),
        "{l}"
    );
    let fp = js(
        c,
        r"const fps = [...document.querySelectorAll('.fingerprint')];
        return { n: fps.length,
                 folded: fps.every(e => { const d = e.closest('details');
                   return d !== null && !d.open && !e.checkVisibility(); }),
                 shown_hash: /[0-9a-f]{64}/i.test(document.body.innerText) };",
    )
    .await;
    assert_eq!(fp["n"], 1, "the fingerprint is on the page: {fp}");
    assert_eq!(fp["folded"], true, "only inside a closed <details>: {fp}");
    assert_eq!(fp["shown_hash"], false, "no hash in the visible text: {fp}");
}

/// Items 3, 9 and 17 left out: the summary at the top names each with a link, and each
/// link brings its item into view. Then the form is completed; returns the receipt.
async fn refused_form_links_every_problem(c: &Client) -> String {
    let missing = [3, 9, 17];
    for i in (1..=18).filter(|i| !missing.contains(i)) {
        click(c, &format!("label[for='q.m{i}.satisfied']")).await;
    }
    click(c, ".submit button").await;
    wait_for(c, "id=\"errors\"").await;
    shot(c, "ux-respondent-refused-phone.png").await;
    no_sideways_scroll(c, "the refused form").await;
    let s = js(
        c,
        r"const e = document.getElementById('errors');
        return { top: e.getBoundingClientRect().top, scroll: window.scrollY,
                 first: document.querySelector('fieldset.item').getBoundingClientRect().top,
                 title: e.querySelector('strong').innerText,
                 links: [...e.querySelectorAll('a')].map(a => [a.getAttribute('href'), a.innerText]),
                 invalid: [...document.querySelectorAll('fieldset.item[aria-invalid=true]')].map(f => f.id) };",
    )
    .await;
    let top = s["top"].as_f64().unwrap();
    assert!(
        (0.0..740.0).contains(&top) && top < s["first"].as_f64().unwrap(),
        "the summary is at the top, above the first question, seen without scrolling: {s}"
    );
    assert!(s["title"].as_str().unwrap().contains("3 处"), "{s}");
    let expected: Vec<serde_json::Value> = missing
        .iter()
        .map(|n| serde_json::json!([format!("#item-{n}"), format!("第 {n} 题：请选择一项")]))
        .collect();
    assert_eq!(s["links"].as_array().unwrap(), &expected, "{s}");
    assert_eq!(
        s["invalid"],
        serde_json::json!(["item-3", "item-9", "item-17"]),
        "{s}"
    );
    for n in missing {
        js(c, "window.scrollTo(0, 0)").await;
        click(c, &format!("#errors a[href='#item-{n}']")).await;
        let script = format!(
            "const r = document.getElementById('item-{n}').getBoundingClientRect();
             const t = document.querySelector(':target');
             return {{ top: r.top, bottom: r.bottom, scroll: window.scrollY, height: window.innerHeight,
                      target: t ? t.id : null }};"
        );
        let at = js_until(c, &script, |v| {
            v["target"] == format!("item-{n}") && v["top"].as_f64().is_some_and(|t| t.abs() < 40.0)
        })
        .await;
        assert_eq!(at["target"], format!("item-{n}"), "{at}");
        let top = at["top"].as_f64().unwrap();
        assert!(
            (-1.0..40.0).contains(&top) && at["scroll"].as_f64().unwrap() > 0.0,
            "item {n} is brought to the top of the screen: {at}"
        );
        click(c, &format!("label[for='q.m{n}.satisfied']")).await;
    }
    shot(c, "ux-respondent-item-17-phone.png").await;
    click(c, ".submit button").await;
    wait_for(c, "id=\"receipt\"").await;
    let receipt = text_of(c, "#receipt").await;
    assert_eq!(receipt.len(), 11, "a receipt code: {receipt}");
    receipt
}

/// A link a reminder replaced: its page says so, and when.
async fn retired_link_says_when(c: &Client, url: &str, when: &str) {
    phone(c).await;
    c.goto(url).await.unwrap();
    wait_for(c, "被新链接取代").await;
    shot(c, "ux-respondent-replaced-phone.png").await;
    no_sideways_scroll(c, "the replaced link's page").await;
    assert_eq!(text_of(c, "h1").await, "此链接已被新链接取代");
    let body = js(c, "return document.body.innerText").await;
    assert!(
        body.as_str().unwrap().contains(&format!(
            "此链接已于 {when} 被新链接取代，请使用最新邮件中的链接"
        )),
        "{body}"
    );
}

/// The published receipts page: a count and a search box, never the list; searching the
/// receipt (typed in lower case) finds it, a made-up code does not.
async fn receipts_are_searched_not_listed(c: &Client, url: &str, receipt: &str) {
    phone(c).await;
    c.goto(url).await.unwrap();
    wait_for(c, "id=\"count\"").await;
    shot(c, "ux-receipts-phone.png").await;
    no_sideways_scroll(c, "the receipts page").await;
    assert_eq!(text_of(c, "#count").await, "1");
    let page = js(
        c,
        r"return { text: document.body.innerText,
                   codes: [...document.querySelectorAll('li, td')].filter(e => /[A-Z0-9]{5}-[A-Z0-9]{5}/.test(e.textContent)).length,
                   inputs: document.querySelectorAll('input[type=text]').length };",
    )
    .await;
    assert!(
        !page["text"].as_str().unwrap().contains(receipt),
        "no code is listed: {page}"
    );
    assert_eq!(page["codes"], 0, "{page}");
    assert_eq!(page["inputs"], 1, "one search box: {page}");
    for (code, expected) in [
        (receipt.to_lowercase(), "已找到"),
        ("AAAAA-AAAAA".to_owned(), "未找到"),
    ] {
        let input = c.find(Locator::Id("code")).await.unwrap();
        input.clear().await.unwrap();
        input.send_keys(&code).await.unwrap();
        click(c, "form.code-form button").await;
        wait_for(c, expected).await;
        let result = text_of(c, "#result").await;
        assert!(result.contains(expected), "{code}: {result}");
        if expected == "已找到" {
            assert!(result.contains(receipt), "{result}");
            shot(c, "ux-receipt-found-phone.png").await;
        }
    }
}

#[test]
fn a_respondent_on_a_phone_is_shown_what_to_fix_which_link_replaced_and_their_receipt() {
    let Some((driver, port)) = driver() else {
        return;
    };
    let smtp = SmtpServer::start();
    let db = TestDb::new();
    let mut config = db.config();
    config.smtp_url = Some(format!("smtp://127.0.0.1:{}", smtp.port));
    let state = sanping::app::AppState::open(config).expect("state");
    support::load_members_only(&state);
    let wave = support::create_wave(&state, "liuhao.toml", None, false);
    let mut conn = state.pool.get().unwrap();
    sanping::wave::open_by_email(&mut conn, wave).unwrap();
    deliver(&state);
    // `wave remind W --min-days 0`: everyone gets a new link, the first ones retire.
    assert_eq!(sanping::wave::remind(&mut conn, wave, 0, 2).unwrap(), 5);
    deliver(&state);
    let links = links_to(&smtp, "wang.li@demo.edu.cn");
    assert_eq!(links.len(), 2, "an invitation and a reminder");
    let old_token = links[0].rsplit('/').next().unwrap();
    let (_, retired_at) =
        sanping::db::retired::find(&mut conn, &sanping::domain::token::hash(old_token))
            .unwrap()
            .expect("the replaced link is remembered");
    drop(conn);
    let when = sanping::web::respond::local_time(retired_at);
    let server = Server::start(state);
    let (old, new) = (
        server.url(&support::path_of(&links[0])),
        server.url(&support::path_of(&links[1])),
    );
    block_on(async {
        let c = browser(port, driver.1.path()).await;
        count_and_privacy_before_the_first_question(&c, &new).await;
        let receipt = refused_form_links_every_problem(&c).await;
        retired_link_says_when(&c, &old, &when).await;
        let mut conn = server.state.pool.get().unwrap();
        support::close_and_unseal(&mut conn, wave).unwrap();
        sanping::wave::publish(&mut conn, wave).unwrap();
        drop(conn);
        let receipts = server.url(&format!("/w/{wave}/receipts"));
        receipts_are_searched_not_listed(&c, &receipts, &receipt).await;
        c.close().await.unwrap();
    });
}
