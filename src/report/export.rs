//! The report as a text table, CSV and JSON. Every format says "样本不足" (or
//! `"suppressed": true`) where a group is too small, and carries no figure of it.

use std::fmt::Write as _;

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
        r.rank.map_or_else(|| "—".to_owned(), |k| k.to_string()),
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
