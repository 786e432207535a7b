//! The report as a text table, CSV and JSON. Every format says "样本不足" (or
//! `"suppressed": true`) where a group is too small, and carries no figure of it.

use std::fmt::Write as _;

use serde::Serialize;
use unicode_width::UnicodeWidthStr as _;

use super::{UnitReport, WaveReport, kind_label};

/// Column headers (Chinese) in table and CSV order.
pub const HEADERS: [&str; 15] = [
    "代码",
    "单位",
    "类型",
    "上级",
    "邀请数",
    "答卷数",
    "参与率",
    "满意率",
    "满意度指数",
    "自评得分",
    "考评得分",
    "综合得分",
    "等级",
    "90%线",
    "同类排名",
];

/// What the table shows where a group is hidden.
pub const SUPPRESSED: &str = "样本不足";

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_owned(), |v| format!("{:.1}%", v * 100.0))
}

fn num(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_owned(), |v| format!("{v:.1}"))
}

/// An interval of rates as "[a%, b%]".
pub fn span(v: Option<(f64, f64)>) -> String {
    v.map_or_else(
        || "—".to_owned(),
        |(lo, hi)| format!("[{:.1}%, {:.1}%]", lo * 100.0, hi * 100.0),
    )
}

/// A rank as "n / m": n-th of the m units of the same kind that have a rank.
pub fn rank(r: &UnitReport) -> String {
    match (r.rank, r.rank_of) {
        (Some(k), Some(m)) => format!("{k} / {m}"),
        (Some(k), None) => k.to_string(),
        _ => "—".to_owned(),
    }
}

/// The institution-wide summary as text: what the table's head line and the dashboard's
/// summary both show.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryText {
    /// Pooled satisfaction rate of the shown units (or 样本不足).
    pub rate: String,
    /// Its 95% interval.
    pub interval: String,
    /// Pooled satisfaction index.
    pub index: String,
    /// Responses the pooled figures rest on.
    pub pooled_responses: u64,
    /// Units pooled.
    pub pooled_units: usize,
    /// Hidden units with responses left out of the pooled figures.
    pub left_out: usize,
    /// Response rate of every unit.
    pub response_rate: String,
    /// Responses of every unit.
    pub responses: u64,
    /// Invitations of every unit.
    pub invited: u64,
    /// (grade label, units), best first.
    pub grades: Vec<(String, usize)>,
    /// Units without a grade.
    pub ungraded: usize,
    /// Units below the bar.
    pub below_bar: usize,
    /// Units whose rate is unknown.
    pub bar_unknown: usize,
    /// The bar, as "90%".
    pub bar: String,
}

/// The summary of a report as text.
pub fn summary_text(report: &WaveReport) -> SummaryText {
    let s = &report.summary;
    let m = s.mass.as_ref();
    let or_hidden = |v: Option<String>| v.unwrap_or_else(|| SUPPRESSED.to_owned());
    SummaryText {
        rate: or_hidden(m.map(|m| pct(m.satisfaction_rate))),
        interval: span(m.and_then(|m| m.satisfaction_interval)),
        index: or_hidden(m.map(|m| num(m.satisfaction_index))),
        pooled_responses: m.map_or(0, |m| m.responses),
        pooled_units: s.pooled_units,
        left_out: s.left_out.len(),
        response_rate: pct(s.response_rate),
        responses: s.responses,
        invited: s.invited,
        grades: s
            .grades
            .iter()
            .map(|g| (g.label.clone(), g.units))
            .collect(),
        ungraded: s.ungraded,
        below_bar: s.below_bar,
        bar_unknown: s.bar_unknown,
        bar: format!("{:.0}%", report.satisfaction_bar * 100.0),
    }
}

/// The summary as one line of the terminal table.
pub fn summary_line(report: &WaveReport) -> String {
    let t = summary_text(report);
    let grades: Vec<String> = t
        .grades
        .iter()
        .map(|(g, n)| format!("{g} {n}"))
        .chain(std::iter::once(format!("未定级 {}", t.ungraded)))
        .collect();
    let mut line = format!(
        "全校：满意率 {} {} · 满意度指数 {} · 参与率 {}（{}/{}）· 等级 {} · 未达{}线 {} 个单位",
        t.rate,
        t.interval,
        t.index,
        t.response_rate,
        t.responses,
        t.invited,
        grades.join(" / "),
        t.bar,
        t.below_bar
    );
    if t.bar_unknown > 0 {
        let _ = write!(line, "（{} 个单位满意率未知）", t.bar_unknown);
    }
    if t.left_out > 0 {
        let _ = write!(line, " · 满意率和指数不含样本不足单位（{} 个）", t.left_out);
    }
    line
}

fn signed(v: Option<f64>, scale: f64, unit: &str) -> String {
    v.map_or_else(|| "—".to_owned(), |v| format!("{:+.1}{unit}", v * scale))
}

/// The cells of a row, as text, in [`HEADERS`] order (plus the change columns when compared).
pub fn cells(r: &UnitReport, bar: f64, compared: bool) -> Vec<String> {
    let mass = |f: fn(&super::MassView) -> Option<f64>, fmt: fn(Option<f64>) -> String| {
        if r.suppressed {
            SUPPRESSED.to_owned()
        } else {
            fmt(r.mass.as_ref().and_then(f))
        }
    };
    let mut out = vec![
        r.code.clone(),
        r.name.clone(),
        kind_label(&r.kind).to_owned(),
        r.parent.clone().unwrap_or_default(),
        r.invited.to_string(),
        r.responses.to_string(),
        pct(r.response_rate),
        mass(|m| m.satisfaction_rate, pct),
        mass(|m| m.satisfaction_index, num),
        num(r.self_score),
        num(r.org.score),
        num(r.composite.score),
        r.grade.clone().map_or_else(
            || "—".to_owned(),
            |g| if r.grade_capped { format!("{g}↓") } else { g },
        ),
        match r.bar_met {
            Some(true) => format!("✓ ≥{:.0}%", bar * 100.0),
            Some(false) => format!("✗ <{:.0}%", bar * 100.0),
            None => "—".to_owned(),
        },
        rank(r),
    ];
    if compared {
        let c = r.change.clone().unwrap_or_default();
        out.push(signed(c.satisfaction_rate, 100.0, "pp"));
        out.push(signed(c.satisfaction_index, 1.0, ""));
        out.push(signed(c.composite, 1.0, ""));
    }
    out
}

fn headers(compared: bool) -> Vec<&'static str> {
    let mut h = HEADERS.to_vec();
    if compared {
        h.extend(["满意率变化", "指数变化", "综合得分变化"]);
    }
    h
}

/// An aligned text table for the terminal.
pub fn table(report: &WaveReport) -> String {
    let compared = report.compared_with.is_some();
    let mut rows = vec![
        headers(compared)
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>(),
    ];
    rows.extend(
        report
            .units
            .iter()
            .map(|r| cells(r, report.satisfaction_bar, compared)),
    );
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].width()).max().unwrap_or(0))
        .collect();
    let mut out = format!(
        "wave {} · {} · {} · 问卷 {} · 样本不足阈值 {}\n",
        report.wave, report.title, report.state, report.survey, report.min_responses
    );
    let _ = writeln!(out, "{}", summary_line(report));
    for row in rows {
        for (c, cell) in row.iter().enumerate() {
            let pad = widths[c].saturating_sub(cell.width());
            let _ = write!(out, "{cell}{}  ", " ".repeat(pad));
        }
        out = out.trim_end().to_owned();
        out.push('\n');
    }
    if let Some(w) = report.compared_with {
        let _ = writeln!(out, "变化：与测评批次 {w} 相比");
    }
    let _ = writeln!(out, "{}", super::record_line(report));
    out
}

/// CSV with Chinese headers, one row per unit (UTF-8 with BOM so Excel reads Chinese).
pub fn csv(report: &WaveReport) -> anyhow::Result<Vec<u8>> {
    let compared = report.compared_with.is_some();
    // Flexible: the footer line is one cell under rows of many.
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(b"\xEF\xBB\xBF".to_vec());
    w.write_record(headers(compared))?;
    for r in &report.units {
        let mut row = cells(r, report.satisfaction_bar, compared);
        // Code, name and parent come from the organizer's CSV: never a live formula.
        for i in [0, 1, 3] {
            if let Some(cell) = row.get_mut(i) {
                *cell = neutralize(cell);
            }
        }
        w.write_record(row)?;
    }
    w.write_record([super::record_line(report)])?;
    Ok(w.into_inner()?)
}

/// A text cell a spreadsheet will not run: one that begins with `=`, `+`, `-`, `@`, a tab
/// or a carriage return gets a leading `'` (as OWASP recommends against CSV injection).
pub fn neutralize(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

/// The JSON document: every figure per unit, per dimension and per item.
pub fn json(report: &WaveReport) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(report)?)
}
