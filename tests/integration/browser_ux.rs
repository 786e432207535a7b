//! Issue #16's points 2, 3, 4 and 5 in headless Chromium, with the driver, flags and helpers of
//! [`super::browser`] and [`super::browser_people`]; each test reads what a person sees
//! (boxes, scroll positions, texts, attributes) and leaves screenshots named `ux-*.png` in
//! `target/screenshots/`.
//!
//! - The respondent on a 360 px phone: the item count and the privacy note above the first
//!   question, the fingerprint only in a closed `<details>`, a refused form whose summary names
//!   every problem and whose links bring each item into view, a link retired by a reminder that
//!   says when it was replaced, and the published receipts page: a count and a search box.
//! - The organizer at 1366 px: uploads back on their own page with the counts before and after
//!   (a bad one with its line and the counts unchanged), the new-wave form keeping its fields
//!   after an error, the draft page's plan, the preview, the open, close and publish
//!   confirmations with their numbers and warnings, the state label in each state; the
//!   progress table on a phone.
//! - One language per page: the switch a person clicks turns the questionnaire (360 px) and
//!   the wave page (1366 px) wholly into the other language.
//! - The committee's dashboard at 1366 and 360 px: the summary first, the legend, ranks as
//!   "n / m", the heatmap's bands, full names in `<title>`s and labels wrapped on lines that
//!   are wider than tall.

use std::future::Future;
use std::time::Duration;

use fantoccini::{Client, Locator};

use super::browser::{Driver, chromedriver};
use super::browser_people::js;
use crate::support;

/// chromedriver, or `None` after saying why the test is skipped (never on CI).
pub(crate) fn driver() -> Option<(Driver, u16)> {
    let found = chromedriver();
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the browser test: .ci/run installs chromium-driver"
        );
        eprintln!(
            "skipped: chromedriver is not installed (apt-get install chromium chromium-driver; .ci/run does)"
        );
    }
    found
}

pub(crate) fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

async fn text_of(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

async fn phone(c: &Client) {
    c.set_window_size(360, 740).await.unwrap();
}

async fn desktop(c: &Client) {
    c.set_window_size(1366, 900).await.unwrap();
}

/// `script`'s value once `ok` holds for it (scrolling and navigation settle asynchronously);
/// the last value otherwise.
async fn js_until(
    c: &Client,
    script: &str,
    ok: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let mut v = serde_json::Value::Null;
    for _ in 0..50 {
        v = js(c, script).await;
        if ok(&v) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    v
}

/// A complete mass sheet of liuhao.toml, every item at option `choice`.
fn sheet(choice: usize) -> sanping::domain::answers::Submission {
    sanping::domain::answers::Submission {
        answers: support::answers_for("liuhao.toml", choice)
            .into_iter()
            .map(|(k, v)| (k.trim_start_matches("q.").to_owned(), v))
            .collect(),
        comment: None,
    }
}

mod dashboard;
mod language;
mod organizer;
mod respondent;
