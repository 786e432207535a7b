//! A people wave's results as a terminal table, CSV, JSON and an Excel workbook. Every format
//! carries the same columns per person; a person rated by fewer than k raters shows 样本不足
//! and no figure.

use std::fmt::Write as _;

use rust_xlsxwriter::{Format, FormatAlign, Workbook, XlsxError};
use serde_json::{Map, Value, json};
use unicode_width::UnicodeWidthStr as _;

use super::export::{SUPPRESSED, neutralize};
use super::people::{PeopleReport, PersonResult};

/// The footer line: the wave record's hash (written when the wave is published).
pub fn record_line(report: &PeopleReport) -> String {
    match &report.record_hash {
        Some(h) => format!("批次记录 record {h}"),
        None => "批次记录 record —（发布后生成）".to_owned(),
    }
}

/// Column headers: unit, name, address, raters, one column per grade, the two shares, the
/// suggested grade, the flag, the final grade and its reason.
pub fn headers(report: &PeopleReport) -> Vec<String> {
    let mut h: Vec<String> = ["支部代码", "支部", "姓名", "邮箱", "评议人数"]
        .map(str::to_owned)
        .to_vec();
    h.extend(report.grades.iter().map(|g| g.label.clone()));
    let top = report.grades.first().map_or("", |g| g.label.as_str());
    h.push(format!("{top}率"));
    h.push("较低等次率".to_owned());
    h.extend(
        ["建议等次", "提示", "组织评定", "评定理由"]
            .map(str::to_owned)
            .to_vec(),
    );
    h
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(String::new, |v| format!("{:.1}%", v * 100.0))
}

/// One person's cells, in the order of [`headers`].
pub fn cells(report: &PeopleReport, p: &PersonResult) -> Vec<String> {
    let mut row = vec![
        p.unit.clone(),
        p.unit_name.clone(),
        p.name.clone(),
        p.email.clone().unwrap_or_default(),
        p.raters.to_string(),
    ];
    match &p.counts {
        Some(counts) => row.extend(counts.iter().map(|c| c.count.to_string())),
        None => row.extend(report.grades.iter().map(|_| SUPPRESSED.to_owned())),
    }
    row.push(pct(p.share_top));
    row.push(pct(p.share_low));
    row.push(p.suggested.as_ref().map_or_else(
        || {
            if p.suppressed {
                SUPPRESSED.to_owned()
            } else {
                String::new()
            }
        },
        |g| g.label.clone(),
    ));
    row.push(if p.flagged {
        "需关注".to_owned()
    } else {
        String::new()
    });
    row.push(
        p.final_grade
            .as_ref()
            .map(|g| g.label.clone())
            .unwrap_or_default(),
    );
    row.push(p.final_reason.clone().unwrap_or_default());
    row
}

/// An aligned text table for the terminal.
pub fn table(report: &PeopleReport) -> String {
    let mut rows = vec![headers(report)];
    rows.extend(report.people.iter().map(|p| cells(report, p)));
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].width()).max().unwrap_or(0))
        .collect();
    let mut out = format!(
        "wave {} · {} · {} · 问卷 {} · 结果至少需 {} 人评议 · 优秀比例上限 {}\n",
        report.wave, report.title, report.state, report.survey, report.min_raters, report.top_cap
    );
    for row in rows {
        for (c, cell) in row.iter().enumerate() {
            let pad = widths[c].saturating_sub(cell.width());
            let _ = write!(out, "{cell}{}  ", " ".repeat(pad));
        }
        out = out.trim_end().to_owned();
        out.push('\n');
    }
    let _ = writeln!(out, "{}", record_line(report));
    out
}

/// CSV with Chinese headers (UTF-8 with BOM), one row per person.
pub fn csv(report: &PeopleReport) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(b"\xEF\xBB\xBF".to_vec());
    w.write_record(headers(report))?;
    for p in &report.people {
        let row: Vec<String> = cells(report, p).iter().map(|c| neutralize(c)).collect();
        w.write_record(row)?;
    }
    w.write_record([record_line(report)])?;
    Ok(w.into_inner()?)
}

/// The JSON document: per person `email`, `name`, `unit`, `raters`, `suppressed`, `counts`
/// keyed by the grade labels (null when suppressed), `suggested` and `final` (labels).
pub fn json(report: &PeopleReport) -> anyhow::Result<String> {
    let people: Vec<Value> = report
        .people
        .iter()
        .map(|p| {
            let counts = p.counts.as_ref().map(|cs| {
                cs.iter()
                    .map(|c| (c.label.clone(), json!(c.count)))
                    .collect::<Map<String, Value>>()
            });
            json!({
                "email": p.email,
                "name": p.name,
                "unit": p.unit,
                "unit_name": p.unit_name,
                "team": p.team,
                "raters": p.raters,
                "suppressed": p.suppressed,
                "counts": counts,
                "share_top": p.share_top,
                "share_low": p.share_low,
                "items": p.items,
                "suggested": p.suggested.as_ref().map(|g| &g.label),
                "flagged": p.flagged,
                "final": p.final_grade.as_ref().map(|g| &g.label),
                "final_reason": p.final_reason,
                "reasons": p.reasons,
            })
        })
        .collect();
    let doc = json!({
        "wave": report.wave,
        "kind": "people",
        "title": report.title,
        "state": report.state,
        "survey": report.survey,
        "fingerprint": report.fingerprint,
        "min_raters": report.min_raters,
        "grades": report.grades,
        "top_cap": report.top_cap,
        "people": people,
        "units": report.units,
        "record_hash": report.record_hash,
        "reasons_withheld": report.reasons_withheld,
    });
    Ok(serde_json::to_string_pretty(&doc)?)
}

/// An Excel workbook: 评议结果 (one row per person), 各支部汇总 (per unit), 理由 (reasons of
/// people shown, shuffled); A4 landscape, one page wide, header row repeated.
pub fn workbook(report: &PeopleReport) -> Result<Vec<u8>, XlsxError> {
    let header = Format::new()
        .set_bold()
        .set_background_color("#F2DCDB")
        .set_align(FormatAlign::Center)
        .set_text_wrap();
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let mut wb = Workbook::new();
    let setup = |ws: &mut rust_xlsxwriter::Worksheet, name: &str| -> Result<(), XlsxError> {
        ws.set_name(name)?;
        ws.set_freeze_panes(1, 0)?;
        super::xlsx::print_setup(
            ws,
            report.wave,
            &report.title,
            report.record_hash.as_deref(),
            name,
        )
    };
    let write_rows = |ws: &mut rust_xlsxwriter::Worksheet,
                      heads: &[String],
                      rows: &[Vec<String>],
                      widths: &[f64]|
     -> Result<(), XlsxError> {
        for (c, h) in heads.iter().enumerate() {
            let c = u16::try_from(c).unwrap_or(u16::MAX);
            ws.write_string_with_format(0, c, h, &header)?;
            ws.set_column_width(c, widths.get(usize::from(c)).copied().unwrap_or(10.0))?;
        }
        for (r, row) in rows.iter().enumerate() {
            let r = u32::try_from(r + 1).unwrap_or(u32::MAX);
            for (c, cell) in row.iter().enumerate() {
                let c = u16::try_from(c).unwrap_or(u16::MAX);
                ws.write_string_with_format(r, c, cell, &wrap)?;
            }
        }
        Ok(())
    };
    let ws = wb.add_worksheet();
    setup(ws, "评议结果")?;
    let rows: Vec<Vec<String>> = report.people.iter().map(|p| cells(report, p)).collect();
    write_rows(ws, &headers(report), &rows, &[10.0, 18.0, 12.0, 24.0, 8.0])?;
    let last = u32::try_from(rows.len() + 2).unwrap_or(u32::MAX);
    ws.write_string(last, 0, record_line(report))?;

    let ws = wb.add_worksheet();
    setup(ws, "各支部汇总")?;
    let mut heads: Vec<String> = ["支部代码", "支部", "评议对象", "结果可显示"]
        .map(str::to_owned)
        .to_vec();
    heads.extend(report.grades.iter().map(|g| format!("评定{}", g.label)));
    heads.push("优秀名额上限".to_owned());
    let rows: Vec<Vec<String>> = report
        .units
        .iter()
        .map(|u| {
            let mut row = vec![
                u.unit.clone(),
                u.name.clone(),
                u.people.to_string(),
                u.shown.to_string(),
            ];
            row.extend(u.final_grades.iter().map(|g| g.count.to_string()));
            row.push(u.max_top.to_string());
            row
        })
        .collect();
    write_rows(ws, &heads, &rows, &[10.0, 20.0])?;

    let ws = wb.add_worksheet();
    setup(ws, "理由")?;
    let rows: Vec<Vec<String>> = report
        .people
        .iter()
        .flat_map(|p| {
            p.reasons
                .iter()
                .map(|r| vec![p.unit_name.clone(), p.name.clone(), r.clone()])
        })
        .collect();
    write_rows(
        ws,
        &[
            "支部".to_owned(),
            "评议对象".to_owned(),
            "理由（随机顺序）".to_owned(),
        ],
        &rows,
        &[20.0, 12.0, 80.0],
    )?;
    wb.save_to_buffer()
}
