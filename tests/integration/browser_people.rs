//! People waves (民主评议) and the wave's progress page in headless Chromium, with the same
//! driver and flags as [`super::browser`]: a rater's sheet on a 360 px phone (no sideways
//! scrolling, every card and radio button on screen, the privacy note above the first person,
//! a plain form submit to the receipt), the 个人总结 own link on a phone, the console's people
//! results at 1366 and 360 px, and the per-unit progress table of an open wave on a phone.
//! Screenshots go to `target/screenshots/` next to the others.

use fantoccini::{Client, Locator};
use sanping::auth::{self, Role};
use sanping::domain::survey::StepKind;

use super::browser::{browser, chromedriver, screenshots, wait_for};
use crate::support::{self, Server, TestDb};

const PHONE: f64 = 360.0;

pub(crate) async fn js(c: &Client, script: &str) -> serde_json::Value {
    c.execute(script, vec![]).await.expect("script")
}

pub(crate) async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    std::fs::write(screenshots().join(name), png).unwrap();
}

/// The page does not scroll sideways on a phone.
pub(crate) async fn no_sideways_scroll(c: &Client, what: &str) {
    let width = js(c, "return document.documentElement.scrollWidth").await;
    assert!(
        width.as_f64().unwrap() <= PHONE,
        "{what} scrolls sideways on a phone: scrollWidth {width}"
    );
}

/// Every table matching `table` either fits the screen or scrolls inside a wrapper whose own
/// box fits the screen; and no header or cell is narrower than `min` px (about three
/// characters), so no column reads one character per line. Returns the narrowest cell.
pub(crate) async fn tables_readable(c: &Client, table: &str, min: f64) -> f64 {
    let script = format!(
        r"const vw = document.documentElement.clientWidth;
        const out = {{ tables: 0, bad: [], narrowest: 1e9, cell: '' }};
        for (const t of document.querySelectorAll({table:?})) {{
          out.tables += 1;
          const r = t.getBoundingClientRect();
          const box = t.parentElement;
          const scrolls = getComputedStyle(box).overflowX === 'auto' || getComputedStyle(box).overflowX === 'scroll';
          const b = box.getBoundingClientRect();
          if (r.right > vw + 0.5 && !(scrolls && b.right <= vw + 0.5 && b.left >= -0.5)) {{
            out.bad.push('table overflows the screen outside a scroll box: right ' + r.right);
          }}
          for (const e of t.querySelectorAll('th, td')) {{
            if (!e.getClientRects().length) continue;
            const w = e.getBoundingClientRect().width;
            if (w < out.narrowest) {{ out.narrowest = w; out.cell = e.textContent.trim().slice(0, 40); }}
          }}
        }}
        return out;"
    );
    let out = js(c, &script).await;
    assert!(
        out["tables"].as_u64().unwrap() > 0,
        "no table matches {table}"
    );
    assert!(
        out["bad"].as_array().unwrap().is_empty(),
        "{table}: {}",
        out["bad"]
    );
    let narrowest = out["narrowest"].as_f64().unwrap();
    assert!(
        narrowest >= min,
        "{table}: a cell is {narrowest} px wide (< {min}): {}",
        out["cell"]
    );
    narrowest
}

pub(crate) async fn login(c: &Client, server: &Server, user: &str, password: &str) {
    c.goto(&server.url("/admin/login")).await.unwrap();
    c.find(Locator::Id("username"))
        .await
        .unwrap()
        .send_keys(user)
        .await
        .unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(password)
        .await
        .unwrap();
    c.find(Locator::Css("form.login button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(c, &format!("({user})")).await;
}

/// A rater of CS-T on a phone: seven cards, each on screen with its four radio buttons, the
/// privacy note above the first; 合格 for everyone by clicking the radios, the form submitted
/// by its own button (no script on the page), then the receipt.
async fn rating_sheet_on_a_phone(c: &Client, url: &str) {
    c.set_window_size(360, 740).await.unwrap();
    c.goto(url).await.unwrap();
    let html = wait_for(c, "id=\"privacy-short\"").await;
    assert!(!html.contains("<script"), "the sheet needs no JavaScript");
    shot(c, "rating-phone.png").await;
    no_sideways_scroll(c, "the rating sheet").await;
    let layout = js(
        c,
        r"const vw = document.documentElement.clientWidth;
        const cards = [...document.querySelectorAll('fieldset.card.person')];
        const boxes = e => { const r = e.getBoundingClientRect(); return {l: r.left, r: r.right, w: r.width, h: r.height}; };
        return {
          vw,
          privacy: document.getElementById('privacy-short').getBoundingClientRect().bottom,
          first: cards.length ? cards[0].getBoundingClientRect().top : null,
          cards: cards.map(card => ({
            box: boxes(card),
            radios: [...card.querySelectorAll('input[type=radio]')].map(i => {
              const s = getComputedStyle(i);
              return Object.assign(boxes(i), {shown: s.visibility !== 'hidden' && s.display !== 'none' && s.opacity !== '0'});
            }),
          })),
        };",
    )
    .await;
    let vw = layout["vw"].as_f64().unwrap();
    let cards = layout["cards"].as_array().unwrap();
    assert_eq!(cards.len(), 7, "everyone of CS-T but the rater: {layout}");
    assert!(
        layout["privacy"].as_f64().unwrap() <= layout["first"].as_f64().unwrap(),
        "the privacy note is above the first person: {layout}"
    );
    for (n, card) in cards.iter().enumerate() {
        let b = &card["box"];
        assert!(
            b["l"].as_f64().unwrap() >= 0.0 && b["r"].as_f64().unwrap() <= vw,
            "card {n} fits the screen: {b}"
        );
        let radios = card["radios"].as_array().unwrap();
        assert_eq!(radios.len(), 4, "four grades on card {n}");
        for r in radios {
            assert!(
                r["shown"].as_bool().unwrap()
                    && r["w"].as_f64().unwrap() >= 12.0
                    && r["h"].as_f64().unwrap() >= 12.0
                    && r["l"].as_f64().unwrap() >= 0.0
                    && r["r"].as_f64().unwrap() <= vw,
                "a radio button of card {n} is on screen: {r}"
            );
        }
    }
    let radios = c
        .find_all(Locator::Css(
            "fieldset.card.person input[type=radio][value='qualified']",
        ))
        .await
        .unwrap();
    assert_eq!(radios.len(), 7);
    for r in radios {
        r.click().await.unwrap();
    }
    c.find(Locator::Css("button[name='action'][value='submit']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(c, "id=\"receipt\"").await;
    shot(c, "rating-receipt-phone.png").await;
    no_sideways_scroll(c, "the receipt").await;
    let receipt = c
        .find(Locator::Id("receipt"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(receipt.len(), 11, "a receipt code: {receipt}");
}

/// The 个人总结 link on a phone: the textarea fits, a submitted summary reads back.
async fn own_link_on_a_phone(c: &Client, url: &str) {
    c.set_window_size(360, 740).await.unwrap();
    c.goto(url).await.unwrap();
    wait_for(c, "name=\"summary\"").await;
    shot(c, "own-summary-phone.png").await;
    no_sideways_scroll(c, "the 个人总结 page").await;
    let area = js(
        c,
        "const r = document.getElementById('summary').getBoundingClientRect(); \
         return [r.left, r.right, r.width];",
    )
    .await;
    assert!(
        area[0].as_f64().unwrap() >= 0.0
            && area[1].as_f64().unwrap() <= PHONE
            && area[2].as_f64().unwrap() >= 250.0,
        "the summary box uses the phone's width: {area}"
    );
    c.find(Locator::Id("summary"))
        .await
        .unwrap()
        .send_keys("一年来认真学习，积极工作。")
        .await
        .unwrap();
    c.find(Locator::Css("button[name='action'][value='submit']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(c, "个人总结已提交").await;
    shot(c, "own-summary-submitted-phone.png").await;
    no_sideways_scroll(c, "the submitted 个人总结").await;
}

/// The organizer's people results (民主评议结果) at 1366 px and on a phone.
async fn people_results(c: &Client, server: &Server, wave: i32) {
    c.set_window_size(1366, 900).await.unwrap();
    login(c, server, "org", "organizer-pass").await;
    c.goto(&server.url(&format!("/admin/waves/{wave}/people")))
        .await
        .unwrap();
    let html = wait_for(c, "id=\"legend\"").await;
    assert!(html.contains("党员八") && html.contains("name=\"grade\""));
    shot(c, "people-results-desktop.png").await;
    let width = js(c, "return document.documentElement.scrollWidth").await;
    assert!(
        width.as_f64().unwrap() <= 1366.0,
        "no sideways scrolling at 1366 px: {width}"
    );
    tables_readable(c, "table.table", 40.0).await;

    c.set_window_size(360, 740).await.unwrap();
    c.refresh().await.unwrap();
    wait_for(c, "id=\"legend\"").await;
    shot(c, "people-results-phone.png").await;
    no_sideways_scroll(c, "the people results").await;
    tables_readable(c, "table.table", 40.0).await;
    c.set_window_size(1366, 900).await.unwrap();
}

/// An open unit wave's progress per unit on a phone: the table scrolls in its own box, the
/// unit names keep at least 80 px, no column is one character wide.
async fn progress_on_a_phone(c: &Client, server: &Server, wave: i32) {
    c.set_window_size(1366, 900).await.unwrap();
    login(c, server, "org", "organizer-pass").await;
    c.goto(&server.url(&format!("/admin/waves/{wave}")))
        .await
        .unwrap();
    wait_for(c, "id=\"progress\"").await;
    shot(c, "wave-progress-desktop.png").await;
    tables_readable(c, "table.progress", 40.0).await;
    c.set_window_size(360, 740).await.unwrap();
    c.refresh().await.unwrap();
    wait_for(c, "id=\"progress\"").await;
    js(c, "document.getElementById('progress').scrollIntoView()").await;
    shot(c, "wave-progress-phone.png").await;
    no_sideways_scroll(c, "the wave's progress page").await;
    tables_readable(c, "table.progress", 40.0).await;
    let names = js(
        c,
        "const cells = [...document.querySelectorAll('table.progress tbody td:first-child')]; \
         return [cells.length, Math.min(...cells.map(e => e.getBoundingClientRect().width))];",
    )
    .await;
    assert!(names[0].as_u64().unwrap() > 1, "units listed: {names}");
    assert!(
        names[1].as_f64().unwrap() >= 80.0,
        "unit names are at least 80 px wide on a phone: {names}"
    );
    let scroll = js(
        c,
        "const b = document.getElementById('progress'); \
         return [getComputedStyle(b).overflowX, b.getBoundingClientRect().right, b.scrollWidth, b.clientWidth];",
    )
    .await;
    assert_eq!(scroll[0], "auto", "the table scrolls in its box: {scroll}");
    assert!(
        scroll[1].as_f64().unwrap() <= PHONE,
        "the scroll box fits the screen: {scroll}"
    );
    c.set_window_size(1366, 900).await.unwrap();
}

#[test]
fn people_waves_and_the_progress_page_on_a_phone_and_a_desktop() {
    let Some((driver, port)) = chromedriver() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the browser test: .ci/run installs chromium-driver"
        );
        eprintln!(
            "skipped: chromedriver is not installed (apt-get install chromium chromium-driver; .ci/run does)"
        );
        return;
    };
    // An open 民主评议 wave: the rater's sheet and the own link.
    let rating_db = TestDb::new();
    let state = rating_db.state();
    super::people::load(&state);
    let (_, links) = support::open_wave(&state, "minzhu-pingyi.toml", None, false);
    let rating = Server::start(state);
    let link = |email: &str, step: StepKind| {
        let l = links
            .iter()
            .find(|l| l.email == email && l.step == step)
            .unwrap_or_else(|| panic!("a {step:?} link for {email}"));
        rating.url(&support::path_of(&l.url))
    };
    // A closed, unsealed people wave with results (the console's fixture).
    let console_db = TestDb::new();
    let (console, people_wave, _, _) = super::people_console::setup(&console_db);
    // An open unit wave over the fixture tree: the progress page.
    let progress_db = TestDb::new();
    let state = progress_db.state();
    support::load_fixtures(&state);
    let (unit_wave, _) = support::open_wave(&state, "liuhao.toml", None, false);
    auth::add_user(
        &mut state.pool.get().unwrap(),
        "org",
        Role::Organizer,
        "organizer-pass",
    )
    .unwrap();
    let progress = Server::start(state);

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = browser(port, driver.1.path()).await;
        rating_sheet_on_a_phone(&c, &link("m2@demo.edu.cn", StepKind::Mass)).await;
        own_link_on_a_phone(&c, &link("m3@demo.edu.cn", StepKind::SelfAssessment)).await;
        people_results(&c, &console, people_wave).await;
        progress_on_a_phone(&c, &progress, unit_wave).await;
        c.close().await.unwrap();
    });
}
