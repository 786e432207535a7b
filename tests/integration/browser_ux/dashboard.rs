//! Point 5: the committee's dashboard at 1366 and 360 px.

use fantoccini::Client;
use sanping::auth::{self, Role};

use super::{block_on, desktop, driver, phone, sheet};
use crate::browser::{browser, wait_for};
use crate::browser_people::{js, login, no_sideways_scroll, shot, tables_readable};
use crate::support::{self, Server, TestDb};

/// A unit name that wraps onto two lines of the heatmap, and one cut short with "…".
const WRAPPED: &str = "计算机科学与技术学院人工智能研究院博士研究生第二党支部";
const CUT: &str = "计算机科学与技术学院人工智能研究院与软件工程研究中心联合博士研究生第三党支部";

/// The fixture tree plus two long-named branches; a wave answered from slips in four units
/// (one of them below the 90% bar), closed and unsealed. Returns the wave.
fn answered_wave(state: &sanping::app::AppState) -> i32 {
    support::load_fixtures(state);
    let mut conn = state.pool.get().unwrap();
    let csv = format!("code,name,kind,parent\nCS-L,{WRAPPED},branch,CS\nCS-M,{CUT},branch,CS\n");
    sanping::import::units(&mut conn, csv.as_bytes()).unwrap();
    drop(conn);
    let (wave, _) = support::open_wave(state, "liuhao.toml", None, false);
    let mut conn = state.pool.get().unwrap();
    for (unit, choices) in [
        ("LIB", vec![0; 6]),
        ("CS-T", vec![0, 0, 0, 0, 0, 1]),
        ("CS-L", vec![1, 1, 1, 1, 0, 2]),
        ("CS-M", vec![0; 5]),
    ] {
        let (_, _, tokens) = sanping::wave::slips(&mut conn, wave, unit, choices.len()).unwrap();
        for (t, choice) in tokens.iter().zip(choices) {
            sanping::respond::submit(&mut conn, t, &sheet(choice)).unwrap();
        }
    }
    support::close_and_unseal(&mut conn, wave).unwrap();
    wave
}

/// The summary heads the page (seen without scrolling) and shows the report's figures.
async fn summary_first(c: &Client, report: &sanping::report::WaveReport, height: f64) {
    let t = sanping::report::export::summary_text(report);
    let s = js(
        c,
        r"const f = {};
        for (const e of document.querySelectorAll('#summary [data-figure]')) f[e.dataset.figure] = e.innerText.trim();
        return { f, top: document.getElementById('summary').getBoundingClientRect().top,
                 table: document.getElementById('results').getBoundingClientRect().top,
                 labels: [...document.querySelectorAll('#summary dt')].map(e => e.innerText) };",
    )
    .await;
    let top = s["top"].as_f64().unwrap();
    assert!(
        top < height && top < s["table"].as_f64().unwrap(),
        "the summary is first, on the first screen: {s}"
    );
    let f = &s["f"];
    assert_eq!(f["rate"], t.rate, "{s}");
    assert_eq!(f["interval"], format!("95%区间 {}", t.interval), "{s}");
    assert_eq!(f["index"], t.index, "{s}");
    assert_eq!(f["response_rate"], t.response_rate, "{s}");
    assert_eq!(
        f["responses"],
        format!("{} / {}", t.responses, t.invited),
        "{s}"
    );
    assert_eq!(f["below_bar"], t.below_bar.to_string(), "{s}");
    assert!(t.below_bar >= 1, "CS-L is below the bar: {s}");
    let grades = f["grades"].as_str().unwrap();
    for (grade, n) in &t.grades {
        assert!(grades.contains(&format!("{grade} {n}")), "{grade} {n}: {s}");
    }
    assert!(grades.contains(&format!("未定级 {}", t.ungraded)), "{s}");
    for label in [
        "满意率",
        "满意度指数",
        "参与率",
        "满意率未达90%的单位",
        "各等级单位数",
    ] {
        assert!(
            s["labels"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l.as_str().unwrap().contains(label)),
            "{label}: {s}"
        );
    }
}

/// The legend's paragraphs, and every ranked unit's rank as "n / m".
async fn legend_and_ranks(c: &Client, report: &sanping::report::WaveReport) {
    let legend = js(
        c,
        r"return [...document.querySelectorAll('#legend dt')].map(dt =>
            [dt.innerText, dt.nextElementSibling.tagName, dt.nextElementSibling.innerText.length]);",
    )
    .await;
    for term in [
        "满意率",
        "满意度指数",
        "90%线",
        "等级",
        "样本不足",
        "95%区间",
        "同类排名",
    ] {
        let entry = legend
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e[0] == term)
            .unwrap_or_else(|| panic!("{term} in {legend}"));
        assert!(
            entry[1] == "DD" && entry[2].as_u64().unwrap() > 10,
            "{term} is explained in a paragraph: {legend}"
        );
    }
    let ranks = js(
        c,
        r"const o = {};
        for (const tr of document.querySelectorAll('#results tbody tr'))
          o[tr.dataset.code] = tr.lastElementChild.innerText.trim();
        return o;",
    )
    .await;
    let mut shared = 0;
    for u in &report.units {
        let shown = ranks[&u.code].as_str().unwrap_or_default();
        assert_eq!(
            shown,
            sanping::report::export::rank(u),
            "{}: {ranks}",
            u.code
        );
        if let (Some(k), Some(m)) = (u.rank, u.rank_of) {
            assert_eq!(shown, format!("{k} / {m}"));
            shared += usize::from(m > 1);
        }
    }
    assert!(shared >= 2, "branches share a ranking: {ranks}");
}

/// The heatmap: a row per unit named in full in its `<title>`, long names on two lines
/// (each line wider than tall: never one character per line, and at least 10 px tall — on a
/// phone the chart scrolls sideways in its frame rather than shrink) inside the chart, a cell
/// per dimension coloured by its band, and the bands' key.
async fn heatmap_readable(c: &Client, report: &sanping::report::WaveReport) {
    let h = js(
        c,
        r"const svg = document.querySelector('.chart svg[aria-label=分维度满意度指数热力图]');
        const box = svg.getBoundingClientRect();
        const titled = [...svg.querySelectorAll('g > title')];
        const labels = titled.filter(t => t.nextElementSibling && t.nextElementSibling.tagName === 'text').map(t => {
          const text = t.nextElementSibling; const r = text.getBoundingClientRect();
          return { full: t.textContent, left: r.left, right: r.right,
                   lines: [...text.querySelectorAll('tspan')].map(s => { const b = s.getBoundingClientRect();
                     return { text: s.textContent, w: b.width, h: b.height }; }) }; });
        const cells = titled.filter(t => t.nextElementSibling && t.nextElementSibling.tagName === 'rect')
          .map(t => [t.textContent, t.nextElementSibling.getAttribute('fill')]);
        const bands = [...svg.querySelectorAll('rect > title')].map(t => [t.textContent, t.parentElement.getAttribute('fill')]);
        return { left: box.left, right: box.right, width: box.width, labels, cells, bands };",
    )
    .await;
    let labels = h["labels"].as_array().unwrap();
    let (left, right) = (h["left"].as_f64().unwrap(), h["right"].as_f64().unwrap());
    for l in labels {
        let lines = l["lines"].as_array().unwrap();
        assert!(!lines.is_empty() && lines.len() <= 2, "{l}");
        assert!(
            l["left"].as_f64().unwrap() >= left - 0.5
                && l["right"].as_f64().unwrap() <= right + 0.5,
            "the label stays inside the chart: {l} in [{left}, {right}]"
        );
        for line in lines {
            assert!(
                line["h"].as_f64().unwrap() >= 10.0,
                "a label line is at least 10 px tall, readable on a phone: {l}"
            );
            if line["text"].as_str().unwrap().chars().count() >= 2 {
                assert!(
                    line["w"].as_f64().unwrap() >= 1.5 * line["h"].as_f64().unwrap(),
                    "a label line is wider than tall (not one character per line): {l}"
                );
            }
        }
    }
    let label_of = |name: &str| {
        labels
            .iter()
            .find(|l| l["full"] == name)
            .unwrap_or_else(|| panic!("a row named {name} in {h}"))
    };
    for u in &report.units {
        label_of(&u.name);
        let cells: Vec<_> = h["cells"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| {
                c[0].as_str()
                    .unwrap()
                    .starts_with(&format!("{} · ", u.name))
            })
            .collect();
        assert_eq!(cells.len(), report.dimensions.len(), "{}: {h}", u.name);
    }
    let joined = |name: &str| -> String {
        label_of(name)["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["text"].as_str().unwrap())
            .collect()
    };
    assert_eq!(label_of(WRAPPED)["lines"].as_array().unwrap().len(), 2);
    assert_eq!(joined(WRAPPED), WRAPPED, "wrapped, nothing lost");
    let cut = joined(CUT);
    assert!(
        cut.ends_with('…') && CUT.starts_with(cut.trim_end_matches('…')),
        "cut short, the full name in its title: {cut}"
    );
    cells_follow_their_bands(&h);
}

/// Every figure cell has its band's colour; hidden cells are grey; the key shows distinct
/// colours.
fn cells_follow_their_bands(h: &serde_json::Value) {
    let bands: Vec<(f64, f64, &str)> = h["bands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let (lo, hi) = b[0].as_str().unwrap().split_once('–').unwrap();
            (
                lo.parse().unwrap(),
                hi.parse().unwrap(),
                b[1].as_str().unwrap(),
            )
        })
        .collect();
    assert!(bands.len() >= 3, "{h}");
    let fills: std::collections::HashSet<_> = bands.iter().map(|b| b.2).collect();
    assert_eq!(fills.len(), bands.len(), "distinct colours: {h}");
    let (mut figures, mut hidden) = (0, 0);
    for cell in h["cells"].as_array().unwrap() {
        let (title, fill) = (cell[0].as_str().unwrap(), cell[1].as_str().unwrap());
        if let Ok(v) = title.rsplit(": ").next().unwrap().parse::<f64>() {
            let band = bands
                .iter()
                .filter(|b| v + 1e-9 >= b.0)
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .unwrap();
            assert_eq!(fill, band.2, "{title} is in band {band:?}");
            figures += 1;
        } else {
            assert_eq!(fill, "#e0e0e0", "{title}");
            hidden += 1;
        }
    }
    assert!(figures > 0 && hidden > 0, "{h}");
}

async fn dashboard(c: &Client, server: &Server, wave: i32, name: &str) {
    c.goto(&server.url(&format!("/admin/results/{wave}")))
        .await
        .unwrap();
    wait_for(c, "id=\"legend\"").await;
    shot(c, name).await;
}

#[test]
fn the_committee_dashboard_reads_well_at_1366_and_360_px() {
    let Some((driver, port)) = driver() else {
        return;
    };
    let db = TestDb::new();
    let state = db.state();
    let wave = answered_wave(&state);
    let mut conn = state.pool.get().unwrap();
    auth::add_user(&mut conn, "kp", Role::Committee, "committee-pass").unwrap();
    let report = sanping::report::build(&mut conn, wave, None).unwrap();
    drop(conn);
    let server = Server::start(state);
    block_on(async {
        let c = browser(port, driver.1.path()).await;
        desktop(&c).await;
        login(&c, &server, "kp", "committee-pass").await;
        dashboard(&c, &server, wave, "ux-dashboard-desktop.png").await;
        summary_first(&c, &report, 900.0).await;
        legend_and_ranks(&c, &report).await;
        heatmap_readable(&c, &report).await;
        tables_readable(&c, "table.results", 40.0).await;
        js(&c, "document.querySelector('.chart').scrollIntoView()").await;
        shot(&c, "ux-heatmap-desktop.png").await;

        phone(&c).await;
        dashboard(&c, &server, wave, "ux-dashboard-phone.png").await;
        no_sideways_scroll(&c, "the dashboard").await;
        summary_first(&c, &report, 740.0).await;
        legend_and_ranks(&c, &report).await;
        heatmap_readable(&c, &report).await;
        tables_readable(&c, "table.results", 40.0).await;
        js(&c, "document.querySelector('.chart').scrollIntoView()").await;
        shot(&c, "ux-heatmap-phone.png").await;
        c.close().await.unwrap();
    });
}
