//! Printing: the A4 print view of the dashboard as headless Chromium prints it, and the
//! XLSX as `LibreOffice` prints it. Both are turned into PDFs whose pages are counted and
//! measured; the PDFs go to `target/screenshots/` with the browser test's screenshots.
//!
//! The print view is printed through Chromium's own `Page.printToPDF` with
//! `preferCSSPageSize`, not the `WebDriver` print command: that one sets the paper itself
//! (Letter unless told), so only the former shows that the page's own `@page` rule makes it A4.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use base64::Engine as _;
use fantoccini::{Client, Locator};
use sanping::auth::{self, Role};

use crate::admin;
use crate::browser::{self, wait_for};
use crate::support::{Server, TestDb};

/// A4 in PostScript points (1/72 inch): 595.28 × 841.89.
const A4: (f64, f64) = (595.28, 841.89);

/// The pages of a PDF as (width, height) in points, read from each page object's
/// `/MediaBox` (or its page tree's, when the page has none). Chromium and `LibreOffice` both
/// write the page objects uncompressed, which is all this reader handles.
fn pages(pdf: &[u8]) -> Vec<(f64, f64)> {
    let text = String::from_utf8_lossy(pdf);
    let media_box = |s: &str| -> Option<(f64, f64)> {
        let at = s.find("/MediaBox")?;
        let rest = &s[at + "/MediaBox".len()..];
        let open = rest.find('[')?;
        let close = rest.find(']')?;
        let n: Vec<f64> = rest[open + 1..close]
            .split_whitespace()
            .filter_map(|v| v.parse().ok())
            .collect();
        (n.len() == 4).then(|| (n[2] - n[0], n[3] - n[1]))
    };
    let tree = text
        .split("endobj")
        .find(|o| o.contains("/Type/Pages") || o.contains("/Type /Pages"))
        .and_then(media_box);
    text.split("endobj")
        .filter(|o| {
            ["/Type/Page", "/Type /Page"].iter().any(|t| {
                o.match_indices(t)
                    .any(|(i, _)| !o[i + t.len()..].starts_with('s'))
            })
        })
        .map(|o| media_box(o).or(tree).expect("a page size"))
        .collect()
}

fn is_a4(size: (f64, f64), landscape: bool) -> bool {
    let (w, h) = if landscape { (A4.1, A4.0) } else { A4 };
    (size.0 - w).abs() <= 2.0 && (size.1 - h).abs() <= 2.0
}

/// The print view as Chromium prints it with the page's own paper size (`@page`), no
/// browser header or footer (the page numbers must come from the page itself).
async fn print_to_pdf(c: &Client, driver_port: u16) -> Vec<u8> {
    let session = c.session_id().await.unwrap().expect("a session");
    let url = format!("http://127.0.0.1:{driver_port}/session/{session}/goog/cdp/execute");
    let body = serde_json::json!({
        "cmd": "Page.printToPDF",
        "params": {
            "preferCSSPageSize": true,
            "printBackground": true,
            "displayHeaderFooter": false,
        }
    });
    let reply: serde_json::Value = tokio::task::spawn_blocking(move || {
        let mut res = crate::support::client()
            .post(&url)
            .header("content-type", "application/json")
            .send(body.to_string().as_bytes())
            .expect("printToPDF");
        serde_json::from_str(&res.body_mut().read_to_string().unwrap()).unwrap()
    })
    .await
    .unwrap();
    let data = reply["value"]["data"]
        .as_str()
        .unwrap_or_else(|| panic!("a PDF: {reply}"));
    base64::engine::general_purpose::STANDARD
        .decode(data)
        .unwrap()
}

fn setup() -> (TestDb, Server, i32) {
    let db = TestDb::new();
    let state = db.state();
    let wave = crate::report::fixed_wave(&state);
    let mut conn = state.pool.get().unwrap();
    auth::add_user(&mut conn, "v", Role::Viewer, "viewer-pass").unwrap();
    drop(conn);
    (db, Server::start(state), wave)
}

#[test]
fn the_print_view_shows_title_wave_record_summary_and_every_unit_with_its_grade() {
    let (_db, server, wave) = setup();
    let path = format!("/admin/results/{wave}/print");
    let (status, _) = admin::get(&server, None, &path);
    assert_eq!(status, 401, "no print view without a login");
    let (status, browser) = admin::login(&server, "v", "viewer-pass");
    assert_eq!(status, 303);
    let b = browser.unwrap();
    let (status, dashboard) = admin::get(&server, Some(&b), &format!("/admin/results/{wave}"));
    assert_eq!(status, 200);
    assert!(
        dashboard.contains(&format!("href=\"{path}\"")) && dashboard.contains("打印版 (A4)"),
        "the dashboard links its print view"
    );
    assert!(dashboard.contains(&format!("href=\"{path}?by=general_branch\"")));
    let (status, html) = admin::get(&server, Some(&b), &path);
    assert_eq!(status, 200, "{html}");
    let report = sanping::report::build(&mut server.state.pool.get().unwrap(), wave, None).unwrap();
    let hash = report.record_hash.clone().expect("a record");
    for text in [
        "2026年度测评 · 测评结果报告",
        "打印时间",
        hash.as_str(),
        "全校概况",
        "/static/print.css",
        "怎么读这些数字",
    ] {
        assert!(html.contains(text), "{text} missing");
    }
    // The summary's figures are the report's own text.
    let summary = sanping::report::export::summary_text(&report);
    assert!(html.contains(&summary.rate) && html.contains(&summary.response_rate));
    // Every unit, its grade in a cell of its own, and the hidden unit without figures.
    for u in &report.units {
        assert!(
            html.contains(&format!("data-code=\"{}\"", u.code)),
            "{}",
            u.code
        );
    }
    let row = |code: &str| {
        let at = html.find(&format!("data-code=\"{code}\"")).unwrap();
        html[at..at + html[at..].find("</tr>").unwrap()].to_owned()
    };
    assert!(row("LIB").contains("<td class=\"grade\">一般↓</td>"));
    assert!(row("CS-T").contains("<td class=\"grade\">较好</td>"));
    assert!(row("CS-S1").contains("<td class=\"hidden\">样本不足</td>"));
    // One table, or one per group: the units under no general branch, then CS.
    assert_eq!(html.matches("<table class=\"units\"").count(), 1);
    let (_, paged) = admin::get(&server, Some(&b), &format!("{path}?by=general_branch"));
    assert_eq!(paged.matches("<table class=\"units\"").count(), 2);
    assert!(paged.contains("<body class=\"paged\">"));
    assert!(paged.contains("计算机学院党总支 CS（3 个单位）"));
    let (status, css) = admin::get(&server, None, "/static/print.css");
    assert_eq!(status, 200);
    assert!(
        css.contains("size: A4 portrait") && css.contains("counter(page) \" / \" counter(pages)")
    );
    // English through the same language switch as every page.
    let (_, en) = admin::get(&server, Some(&b), &format!("{path}?lang=en"));
    assert!(en.contains("lang=\"en\"") && en.contains("Evaluation report"));
    assert!(en.contains(">Grade</th>") && !en.contains("打印时间"));
}

#[test]
fn the_print_view_of_an_open_wave_is_refused() {
    let db = TestDb::new();
    let state = db.state();
    crate::support::load_fixtures(&state);
    let wave = crate::support::open_wave(&state, "liuhao.toml", None, false).0;
    auth::add_user(
        &mut state.pool.get().unwrap(),
        "v",
        Role::Viewer,
        "viewer-pass",
    )
    .unwrap();
    let server = Server::start(state);
    let b = admin::login(&server, "v", "viewer-pass").1.unwrap();
    let (status, _) = admin::get(&server, Some(&b), &format!("/admin/results/{wave}/print"));
    assert_eq!(status, 409, "no scores while the wave is open");
}

#[test]
fn chromium_prints_the_print_view_on_a4_pages_with_the_table_inside_the_page() {
    let Some((driver, port)) = browser::chromedriver() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the print test: .ci/run installs chromium-driver"
        );
        eprintln!("skipped: chromedriver is not installed (.ci/run installs it)");
        return;
    };
    let (_db, server, wave) = setup();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = browser::browser(port, driver.1.path()).await;
        c.goto(&server.url("/admin/login")).await.unwrap();
        c.find(Locator::Id("username"))
            .await
            .unwrap()
            .send_keys("v")
            .await
            .unwrap();
        c.find(Locator::Id("password"))
            .await
            .unwrap()
            .send_keys("viewer-pass")
            .await
            .unwrap();
        c.find(Locator::Css("form.login button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for(&c, "退出 (v)").await;
        let dir = browser::screenshots();
        for (query, name, expected) in [
            ("", "print-report.pdf", 1),
            ("?by=general_branch", "print-report-by-branch.pdf", 2),
        ] {
            c.goto(&server.url(&format!("/admin/results/{wave}/print{query}")))
                .await
                .unwrap();
            let html = wait_for(&c, "id=\"legend\"").await;
            std::fs::write(dir.join(name.replace(".pdf", ".html")), &html).unwrap();
            // Laid out at the printable width (190 mm), no cell's text spills out of it
            // and no name is squeezed to a character per line.
            let overflow: serde_json::Value = c
                .execute(
                    "document.body.style.width = '190mm';
                     document.body.style.maxWidth = '190mm';
                     const bad = [];
                     for (const t of document.querySelectorAll('table.units')) {
                       if (t.scrollWidth > t.clientWidth + 1) bad.push('table ' + t.scrollWidth);
                     }
                     for (const td of document.querySelectorAll('table.units td')) {
                       if (td.scrollWidth > td.clientWidth + 1) bad.push(td.textContent);
                     }
                     for (const td of document.querySelectorAll('table.units td:nth-child(2)')) {
                       const line = parseFloat(getComputedStyle(td).lineHeight);
                       if (td.clientHeight > 4 * line) bad.push('tall ' + td.textContent);
                     }
                     document.body.style.width = '';
                     document.body.style.maxWidth = '';
                     return bad;",
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(overflow, serde_json::json!([]), "{query}: cells overflow");
            let pdf = print_to_pdf(&c, port).await;
            std::fs::write(dir.join(name), &pdf).unwrap();
            let sizes = pages(&pdf);
            eprintln!("{name}: {} pages {sizes:?}", sizes.len());
            assert!(
                sizes.iter().all(|&s| is_a4(s, false)),
                "{name}: A4 portrait pages: {sizes:?}"
            );
            assert_eq!(sizes.len(), expected, "{name}: page count");
        }
        let shot = c.screenshot().await.unwrap();
        std::fs::write(dir.join("print-report.png"), shot).unwrap();
        c.close().await.unwrap();
    });
}

/// `soffice`, if installed.
fn soffice() -> Option<&'static str> {
    [
        "/usr/bin/soffice",
        "/usr/bin/libreoffice",
        "/usr/lib/libreoffice/program/soffice",
    ]
    .into_iter()
    .find(|p| Path::new(p).exists())
}

#[test]
fn libreoffice_prints_every_xlsx_sheet_on_a4_landscape_pages_one_page_wide() {
    let Some(soffice) = soffice() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the XLSX print test: .ci/run installs libreoffice-calc-nogui"
        );
        eprintln!("skipped: LibreOffice is not installed (.ci/run installs it)");
        return;
    };
    let db = TestDb::new();
    let state = db.state();
    let wave = crate::report::fixed_wave(&state);
    let report = sanping::report::build(&mut state.pool.get().unwrap(), wave, None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let xlsx = dir.path().join("report.xlsx");
    std::fs::write(&xlsx, sanping::report::xlsx::workbook(&report).unwrap()).unwrap();
    // A profile of its own, so that parallel runs (and a desktop LibreOffice) never meet.
    let profile = format!("-env:UserInstallation=file://{}/lo", dir.path().display());
    let mut child = Command::new(soffice)
        .args([
            &profile,
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
        ])
        .arg(dir.path())
        .arg(&xlsx)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pdf_path = dir.path().join("report.pdf");
    let mut waited = Duration::ZERO;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "soffice failed");
            break;
        }
        assert!(
            waited < Duration::from_mins(3),
            "soffice took over 3 minutes"
        );
        std::thread::sleep(Duration::from_millis(200));
        waited += Duration::from_millis(200);
    }
    let pdf = std::fs::read(&pdf_path).expect("LibreOffice wrote a PDF");
    std::fs::write(browser::screenshots().join("report-xlsx.pdf"), &pdf).unwrap();
    let sizes = pages(&pdf);
    eprintln!("report-xlsx.pdf: {} pages {sizes:?}", sizes.len());
    assert!(
        sizes.iter().all(|&s| is_a4(s, true)),
        "A4 landscape pages: {sizes:?}"
    );
    // Four sheets, each one page wide: 总表, 分维度 and 意见建议 one page each at this size,
    // 分题 (4 units × 18 items + CS-S1's line) a few.
    assert!(
        (4..=8).contains(&sizes.len()),
        "four sheets on a few pages, not one column per page: {} pages",
        sizes.len()
    );
}
