//! Point 4 in a browser: the language switch a person clicks (`a.lang`, no script) turns the
//! whole page and the pages after it into the other language — the respondent's questionnaire
//! on a 360 px phone, the organizer's wave page at 1366 px — checked on the page Chromium
//! shows with the same rules and allow-list as the `lang` walk.

use fantoccini::Client;

use super::{block_on, click, desktop, driver, phone};
use crate::browser::browser;
use crate::browser_people::{js, login, shot};
use crate::lang::{Lang, Walk, data};
use crate::support::{self, Server, TestDb};

/// The page as Chromium has it, checked in `lang`, and a screenshot.
async fn check(c: &Client, walk: &mut Walk, what: &str, lang: Lang, name: &str) {
    let html = js(c, "return document.documentElement.outerHTML").await;
    let html = html.as_str().expect("the page's HTML");
    walk.check(&format!("{what} (browser)"), lang, 200, html);
    shot(c, name).await;
}

/// Clicks the page's language switch and waits for the page it leads back to.
async fn switch(c: &Client, to: &str) {
    click(c, "a.lang").await;
    for _ in 0..50 {
        let now = js(c, "return document.documentElement.lang").await;
        if now.as_str().is_some_and(|l| l.starts_with(to)) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the page did not switch to {to}");
}

#[test]
fn the_language_switch_turns_whole_pages_into_one_language() {
    let Some((driver, port)) = driver() else {
        return;
    };
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    let mut conn = state.pool.get().unwrap();
    sanping::auth::add_user(
        &mut conn,
        "org",
        sanping::auth::Role::Organizer,
        "organizer-pass",
    )
    .unwrap();
    drop(conn);
    let (wave, links) = support::open_wave(&state, "liuhao.toml", None, false);
    let link = support::mass_links(links).remove(0);
    let server = Server::start(state);
    let mut walk = Walk::new(data());
    block_on(async {
        let c = browser(port, driver.1.path()).await;
        phone(&c).await;
        c.goto(&server.url(&support::path_of(&link.url)))
            .await
            .unwrap();
        check(
            &c,
            &mut walk,
            "questionnaire",
            Lang::Zh,
            "ux-lang-form-zh.png",
        )
        .await;
        switch(&c, "en").await;
        check(
            &c,
            &mut walk,
            "questionnaire",
            Lang::En,
            "ux-lang-form-en.png",
        )
        .await;
        desktop(&c).await;
        login(&c, &server, "org", "organizer-pass").await;
        c.goto(&server.url(&format!("/admin/waves/{wave}")))
            .await
            .unwrap();
        check(&c, &mut walk, "wave page", Lang::En, "ux-lang-wave-en.png").await;
        switch(&c, "zh").await;
        check(&c, &mut walk, "wave page", Lang::Zh, "ux-lang-wave-zh.png").await;
        c.close().await.unwrap();
    });
    walk.finish();
}
