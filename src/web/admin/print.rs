//! The dashboard as a printable A4 report: `GET /admin/results/{id}/print`, with
//! `?by=general_branch` for a page per general branch (党总支).
//!
//! A print view rather than a generated PDF: the browser the committee already uses prints
//! it (or saves it as a PDF), so the server needs no PDF library or fonts, the Chinese text
//! is set by the same fonts as the screen, and it shows exactly the figures of the dashboard:
//! the same `report::build` (through the dashboard's loader, so the same access rule and the
//! same `scoring::disclosure`), the same summary text and the same table cells. The page
//! sets its own paper (`@page { size: A4 }` in `static/print.css`: the Content-Security-Policy
//! allows no inline style) and "page / pages" in the bottom margin (a CSS page-margin box,
//! which Chromium prints since version 131); every page of a unit table repeats its head,
//! whose first line names the report and the wave. The table has fixed column widths that add
//! up to the printable width, with unit names wrapped and every other cell kept to its column.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web as aw};
use serde::Serialize;

use super::legend::{self, SummaryView};
use super::{blocking, strings};
use crate::app::AppState;
use crate::auth::Role;
use crate::db::waves as db_waves;
use crate::domain::Lang;
use crate::domain::roster::UnitKind;
use crate::error::AppError;
use crate::report::{UnitReport, WaveReport};
use crate::web::home::lang_of;
use crate::web::query_param as query;
use crate::web::session::require;
use crate::web::templates::page;

/// The print view's own words, Chinese first (the dashboard's two links to it choose their
/// words in `pages/admin/results.hbs`).
#[derive(Debug, Serialize)]
pub struct PrintStrings {
    /// The document's heading.
    pub report: &'static str,
    /// "Wave".
    pub wave: &'static str,
    /// "Survey".
    pub survey: &'static str,
    /// "Printed".
    pub printed: &'static str,
    /// "Wave record".
    pub record: &'static str,
    /// When the wave has no record.
    pub no_record: &'static str,
    /// "Units" (the table's heading).
    pub units: &'static str,
    /// The heading of the units under no general branch.
    pub others: &'static str,
    /// A group's heading: its `{name}` and `{n}` units.
    pub group: &'static str,
    /// The table's column headers, in `export::HEADERS` order, with a line break (`\n`)
    /// where a narrow column's header may wrap.
    pub headers: [&'static str; 15],
}

const ZH: PrintStrings = PrintStrings {
    report: "测评结果报告",
    wave: "测评批次",
    survey: "问卷",
    printed: "打印时间",
    record: "批次记录",
    no_record: "无记录（演练批次或早期批次）",
    units: "各单位结果",
    others: "党委及直属单位",
    group: "{name}（{n} 个单位）",
    headers: [
        "代码",
        "单位",
        "类型",
        "上级",
        "邀请数",
        "答卷数",
        "参与率",
        "满意率",
        "满意度\n指数",
        "自评\n得分",
        "考评\n得分",
        "综合\n得分",
        "等级",
        "90%线",
        "同类\n排名",
    ],
};

const EN: PrintStrings = PrintStrings {
    report: "Evaluation report",
    wave: "Wave",
    survey: "Survey",
    printed: "Printed",
    record: "Wave record",
    no_record: "none (a test wave or an early one)",
    units: "Results by unit",
    others: "The Party committee and units directly under it",
    group: "{name} ({n} units)",
    headers: [
        "Code",
        "Unit",
        "Kind",
        "Parent",
        "Invited",
        "Responses",
        "Response\nrate",
        "Satisfaction\nrate",
        "Satisfaction\nindex",
        "Self",
        "Committee",
        "Composite",
        "Grade",
        "Bar",
        "Rank",
    ],
};

/// The print view's words in `lang`.
pub fn words(lang: Lang) -> &'static PrintStrings {
    match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    }
}

/// Column widths in percent of the printable width, in `export::HEADERS` order: the name
/// gets the most, the grade a column of its own wide enough for four characters.
const WIDTHS: [f32; 15] = [
    6.5, 16.0, 7.0, 5.5, 5.5, 5.5, 6.0, 6.5, 6.5, 5.5, 5.5, 6.0, 6.0, 6.5, 5.5,
];

#[derive(Serialize)]
struct Row {
    code: String,
    cells: Vec<String>,
    suppressed: bool,
    /// Whether the unit is the group's general branch itself (printed in bold).
    head: bool,
}

#[derive(Serialize)]
struct Group {
    /// Empty for the whole table; the general branch's name otherwise.
    title: String,
    rows: Vec<Row>,
}

#[derive(Serialize)]
struct Column {
    label: &'static str,
    width: f32,
    numeric: bool,
}

#[derive(Serialize)]
struct PrintPage {
    lang: &'static str,
    p: &'static PrintStrings,
    a: &'static strings::AdminStrings,
    /// The wave's title.
    title: String,
    wave: i32,
    survey: String,
    printed: String,
    record: Option<String>,
    /// Columns of the unit table (the running head spans them).
    span: usize,
    summary: SummaryView,
    columns: Vec<Column>,
    groups: Vec<Group>,
    /// One page per group.
    paged: bool,
    legend: Vec<(String, String)>,
}

/// The general branch a unit belongs to: itself, or its nearest ancestor of that kind.
fn general_branch<'a>(
    u: &'a UnitReport,
    by_code: &HashMap<&str, &'a UnitReport>,
) -> Option<&'a UnitReport> {
    let mut cur = Some(u);
    // The tree is acyclic (imports refuse cycles); the bound only guards a broken one.
    for _ in 0..64 {
        let unit = cur?;
        if UnitKind::parse(&unit.kind) == Some(UnitKind::GeneralBranch) {
            return Some(unit);
        }
        cur = unit.parent.as_deref().and_then(|p| by_code.get(p).copied());
    }
    None
}

/// The units in groups: one group of every unit, or (`by_branch`) the units under no
/// general branch first and then one group per general branch, each in unit-code order.
fn groups(
    report: &WaveReport,
    by_branch: bool,
    (p, a): (&PrintStrings, &strings::AdminStrings),
) -> Vec<Group> {
    let title =
        |name: &str, n: usize| strings::fill(p.group, &[("name", name), ("n", &n.to_string())]);
    let row = |u: &UnitReport, head: bool| Row {
        code: u.code.clone(),
        cells: legend::cells(a, u, report.satisfaction_bar),
        suppressed: u.suppressed,
        head,
    };
    if !by_branch {
        return vec![Group {
            title: String::new(),
            rows: report.units.iter().map(|u| row(u, false)).collect(),
        }];
    }
    let by_code: HashMap<&str, &UnitReport> =
        report.units.iter().map(|u| (u.code.as_str(), u)).collect();
    let mut others = Vec::new();
    let mut branches: Vec<(&UnitReport, Vec<Row>)> = Vec::new();
    for u in &report.units {
        match general_branch(u, &by_code) {
            None => others.push(row(u, false)),
            Some(g) => {
                let r = row(u, g.code == u.code);
                match branches.iter_mut().find(|(b, _)| b.code == g.code) {
                    Some((_, rows)) => rows.push(r),
                    None => branches.push((g, vec![r])),
                }
            }
        }
    }
    let mut out = Vec::new();
    if !others.is_empty() {
        out.push(Group {
            title: title(p.others, others.len()),
            rows: others,
        });
    }
    for (g, mut rows) in branches {
        // The general branch first, then its units.
        rows.sort_by_key(|r| !r.head);
        out.push(Group {
            title: title(&format!("{} {}", g.name, g.code), rows.len()),
            rows,
        });
    }
    out
}

fn print_page(
    report: &WaveReport,
    survey: String,
    by_branch: bool,
    lang: Lang,
    now: &str,
) -> PrintPage {
    let a = strings::strings(lang);
    let p = words(lang);
    let columns = p
        .headers
        .iter()
        .zip(WIDTHS)
        .enumerate()
        .map(|(i, (label, width))| Column {
            label,
            width,
            numeric: (4..=11).contains(&i) || i == 14,
        })
        .collect();
    PrintPage {
        lang: lang.tag(),
        p,
        a,
        title: report.title.clone(),
        wave: report.wave,
        survey,
        printed: now.to_owned(),
        record: report.record_hash.clone(),
        span: WIDTHS.len(),
        summary: legend::summary(report, a),
        columns,
        groups: groups(report, by_branch, (p, a)),
        paged: by_branch,
        legend: legend::legend(report, a),
    }
}

/// `GET /admin/results/{id}/print[?by=general_branch]`: who may read the dashboard may
/// print it.
pub async fn show(
    req: HttpRequest,
    state: aw::Data<AppState>,
    id: aw::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let session = require(&req, &state, Role::Viewer).await?;
    let id = id.into_inner();
    let lang = lang_of(&req);
    // `load` guards the wave: outside the scope, 404.
    let report = super::results::load(&state, &session, id).await?.report()?;
    let w = blocking(&state, move |conn| {
        db_waves::find(conn, id)?.ok_or(AppError::NotFound)
    })
    .await?;
    let survey = crate::wave::survey_of(&w)
        .map_or_else(|_| report.survey.clone(), |s| s.title.get(lang).to_owned());
    let by_branch = query(&req, "by").as_deref() == Some("general_branch");
    let now = crate::web::respond::local_time(chrono::Utc::now().naive_utc());
    let ctx = print_page(&report, survey, by_branch, lang, &now);
    page(&state.templates, StatusCode::OK, "print/report", &ctx)
}
