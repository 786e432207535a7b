//! Headless Chromium (Debian's `chromium` and `chromium-driver`, installed by `.ci/run`),
//! driven over `WebDriver`: an organizer logs in and opens a wave, a respondent answers on a
//! 360×740 phone, the organizer closes and publishes, the committee reads the dashboard.
//! Screenshots of the phone form, the refused phone form and the dashboard at 1366 and 360 px go to
//! `target/screenshots/`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use sanping::auth::{self, Role};

use crate::support::{self, Server, TestDb};

/// chromedriver, and the browser profile folder whose name marks the browsers it started.
pub struct Driver(Child, pub tempfile::TempDir);

impl Drop for Driver {
    /// Ends chromedriver and every browser started with this test's profile, even when the
    /// test failed half-way and never closed its session.
    fn drop(&mut self) {
        let _ = Command::new("pkill")
            .arg("-9")
            .arg("-f")
            .arg(self.1.path())
            .status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn chromedriver() -> Option<(Driver, u16)> {
    let path = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())?;
    let port = support::free_port();
    let child = Command::new(path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some((Driver(child, tempfile::tempdir().ok()?), port));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

pub async fn browser(port: u16, profile: &std::path::Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--hide-scrollbars", format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a WebDriver session")
}

pub fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    dir
}

/// The page source once it contains `text` (navigation after a click is asynchronous).
pub async fn wait_for(c: &Client, text: &str) -> String {
    let mut html = String::new();
    for _ in 0..100 {
        html = c.source().await.unwrap();
        if html.contains(text) {
            return html;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("\"{text}\" never appeared in:\n{html}");
}

async fn confirm(c: &Client, server: &Server, wave: i32, action: &str) {
    c.goto(&server.url(&format!("/admin/waves/{wave}/{action}")))
        .await
        .unwrap();
    c.find(Locator::Id("confirm"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let expected = match action {
        "open" => "state-open",
        "close" => "state-closed",
        _ => "state-published",
    };
    wait_for(c, expected).await;
}

/// 开箱 on its one form: the holder's row is preselected, their password typed; back on
/// the wave page the results link appears.
async fn unseal(c: &Client, server: &Server, wave: i32) {
    wait_for(c, "待开箱").await;
    c.goto(&server.url(&format!("/admin/waves/{wave}/unseal")))
        .await
        .unwrap();
    c.find(Locator::Id("password_1"))
        .await
        .unwrap()
        .send_keys(support::HOLDER_PASSWORD)
        .await
        .unwrap();
    c.find(Locator::Css("form.unseal button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(c, &format!("/admin/results/{wave}")).await;
}

/// The dashboard at 360 px: a screenshot, and no sideways scrolling (the table scrolls in
/// its box and the charts shrink to the screen); then back to 1366 px.
async fn dashboard_on_a_phone(c: &Client, server: &Server, wave: i32) {
    c.set_window_size(360, 740).await.unwrap();
    c.goto(&server.url(&format!("/admin/results/{wave}")))
        .await
        .unwrap();
    wait_for(c, "id=\"summary\"").await;
    let phone = c.screenshot().await.unwrap();
    std::fs::write(screenshots().join("dashboard-phone.png"), phone).unwrap();
    let width: serde_json::Value = c
        .execute("return document.documentElement.scrollWidth", vec![])
        .await
        .unwrap();
    assert!(
        width.as_f64().unwrap() <= 360.0,
        "the dashboard does not scroll sideways on a phone: {width}"
    );
    c.set_window_size(1366, 900).await.unwrap();
}

/// A respondent on a 360×740 phone: the form, a submission with item 7 left out (the refused
/// page's summary links to it), then the full submission and its receipt.
async fn answer_on_a_phone(c: &Client, server: &Server, token: &str) {
    c.set_window_size(360, 740).await.unwrap();
    c.goto(&server.url(&format!("/s/{token}"))).await.unwrap();
    let form = c.screenshot().await.unwrap();
    std::fs::write(screenshots().join("respondent-phone.png"), form).unwrap();
    let width: serde_json::Value = c
        .execute("return document.documentElement.scrollWidth", vec![])
        .await
        .unwrap();
    assert!(
        width.as_f64().unwrap() <= 360.0,
        "no sideways scrolling on a phone: {width}"
    );
    // Item 7 left out: the page comes back with a summary at the top linking to it.
    for i in (1..=18).filter(|&i| i != 7) {
        let label = c
            .find(Locator::Css(&format!("label[for='q.m{i}.satisfied']")))
            .await
            .unwrap();
        label.click().await.unwrap();
    }
    c.find(Locator::Css(".submit button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(c, "id=\"errors\"").await;
    let invalid = c.screenshot().await.unwrap();
    std::fs::write(screenshots().join("respondent-invalid-phone.png"), invalid).unwrap();
    let width: serde_json::Value = c
        .execute("return document.documentElement.scrollWidth", vec![])
        .await
        .unwrap();
    assert!(
        width.as_f64().unwrap() <= 360.0,
        "no sideways scrolling on the refused form: {width}"
    );
    let summary_top: serde_json::Value = c
        .execute(
            "return document.getElementById('errors').getBoundingClientRect().top",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        summary_top.as_f64().unwrap() < 740.0,
        "the summary is seen without scrolling: {summary_top}"
    );
    let link = c
        .find(Locator::Css("#errors a[href='#item-7']"))
        .await
        .unwrap();
    assert_eq!(link.text().await.unwrap(), "第 7 题：请选择一项");
    link.click().await.unwrap();
    c.find(Locator::Css("label[for='q.m7.satisfied']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Css(".submit button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(c, "id=\"receipt\"").await;
    let thanks = c
        .find(Locator::Id("receipt"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(thanks.len(), 11, "a receipt code: {thanks}");
}

#[test]
fn an_evaluation_from_login_to_dashboard_in_a_real_browser() {
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
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    let wave = support::create_wave(&state, "liuhao.toml", None, false);
    // The key holder has checked their key, so opening asks for no acknowledgement.
    sanping::sealing::check_key(
        &mut state.pool.get().unwrap(),
        wave,
        support::HOLDER,
        support::HOLDER_PASSWORD,
        "test",
    )
    .unwrap();
    auth::add_user(
        &mut state.pool.get().unwrap(),
        "org",
        Role::Organizer,
        "organizer-pass",
    )
    .unwrap();
    let server = Server::start(state);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = browser(port, driver.1.path()).await;
        c.set_window_size(1366, 900).await.unwrap();
        c.goto(&server.url("/admin/login")).await.unwrap();
        c.find(Locator::Id("username"))
            .await
            .unwrap()
            .send_keys("org")
            .await
            .unwrap();
        c.find(Locator::Id("password"))
            .await
            .unwrap()
            .send_keys("organizer-pass")
            .await
            .unwrap();
        c.find(Locator::Css("form.login button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for(&c, "退出 (org)").await;
        confirm(&c, &server, wave, "open").await;
        wait_for(&c, "state-open").await;

        let mut conn = server.state.pool.get().unwrap();
        let (_, _, tokens) = sanping::wave::slips(&mut conn, wave, "LIB", 6).unwrap();
        drop(conn);
        answer_on_a_phone(&c, &server, &tokens[0]).await;
        for t in &tokens[1..] {
            let answers = support::answers_for("liuhao.toml", 0)
                .into_iter()
                .map(|(k, v)| (k.trim_start_matches("q.").to_owned(), v))
                .collect();
            let s = sanping::domain::answers::Submission {
                answers,
                comment: None,
            };
            sanping::respond::submit(&mut server.state.pool.get().unwrap(), t, &s).unwrap();
        }

        c.set_window_size(1366, 900).await.unwrap();
        confirm(&c, &server, wave, "close").await;
        unseal(&c, &server, wave).await;
        confirm(&c, &server, wave, "publish").await;
        c.goto(&server.url(&format!("/admin/results/{wave}")))
            .await
            .unwrap();
        let html = c.source().await.unwrap();
        assert!(
            html.contains("图书馆直属党支部") && html.contains("100.0%"),
            "LIB's results are shown"
        );
        assert!(
            html.contains("样本不足"),
            "units without enough responses are marked"
        );
        assert!(
            html.contains("id=\"summary\"") && html.contains("id=\"legend\""),
            "the summary and the legend are on the dashboard"
        );
        let dashboard = c.screenshot().await.unwrap();
        std::fs::write(screenshots().join("dashboard-desktop.png"), dashboard).unwrap();
        dashboard_on_a_phone(&c, &server, wave).await;
        c.find(Locator::Css("a.lang"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for(&c, "lang=\"en\"").await;
        c.goto(&server.url("/admin")).await.unwrap();
        wait_for(&c, "New wave").await;
        c.close().await.unwrap();
    });
}
