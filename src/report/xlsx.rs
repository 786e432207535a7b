//! The report as an Excel workbook the committee can print as is: 总表 (one row per unit),
//! 分维度 (per dimension), 分题 (per item), 意见建议 (comments of units above the comment
//! threshold, shuffled). Chinese headers, frozen header rows, number formats, column widths;
//! printed, every sheet is A4 landscape, one page wide (as many pages tall as it takes),
//! repeats its header row, and carries the report's title in the page header and "page /
//! pages" with the wave record in the footer. Grades sit centred in a column of their own,
//! apart from the right-aligned composite before them.

use rust_xlsxwriter::{Format, FormatAlign, Workbook, Worksheet, XlsxError};

use super::export::{HEADERS, SUPPRESSED};
use super::{MassView, UnitReport, WaveReport, kind_label};

struct Formats {
    header: Format,
    pct: Format,
    num: Format,
    wrap: Format,
    grade: Format,
    /// "—" and 样本不足: centred, so that they never read as part of the figure to their left.
    center: Format,
}

fn formats() -> Formats {
    Formats {
        header: Format::new()
            .set_bold()
            .set_background_color("#F2DCDB")
            .set_align(FormatAlign::Center)
            .set_text_wrap(),
        pct: Format::new().set_num_format("0.0%"),
        num: Format::new().set_num_format("0.0"),
        wrap: Format::new().set_text_wrap().set_align(FormatAlign::Top),
        grade: Format::new().set_bold().set_align(FormatAlign::Center),
        center: Format::new().set_align(FormatAlign::Center),
    }
}

/// Excel's paper size code of A4.
const A4: u8 = 9;

/// A header/footer text as Excel reads it: `&` doubled (it starts a control code), at most
/// `max` characters (Excel drops a header longer than 255 with its codes).
fn header_text(s: &str, max: usize) -> String {
    let cut: String = if s.chars().count() > max {
        s.chars()
            .take(max - 1)
            .chain(std::iter::once('…'))
            .collect()
    } else {
        s.to_owned()
    };
    cut.replace('&', "&&")
}

/// The print setup every sheet shares: A4 landscape, one page wide, the header row on every
/// page, "title · sheet" at the top and "page / pages" with the record at the bottom.
fn page_setup(ws: &mut Worksheet, report: &WaveReport, name: &str) -> Result<(), XlsxError> {
    print_setup(
        ws,
        report.wave,
        &report.title,
        report.record_hash.as_deref(),
        name,
    )
}

/// [`page_setup`] for any report of wave `wave` (also the people waves' workbook).
pub(super) fn print_setup(
    ws: &mut Worksheet,
    wave: i32,
    title: &str,
    record_hash: Option<&str>,
    name: &str,
) -> Result<(), XlsxError> {
    ws.set_repeat_rows(0, 0)?;
    ws.set_paper_size(A4);
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    ws.set_print_center_horizontally(true);
    ws.set_margins(0.4, 0.4, 0.7, 0.7, 0.3, 0.3);
    ws.set_header(format!(
        "&L{}&C&\"-,Bold\"{}&R{}",
        header_text(&format!("测评批次 {wave}"), 20),
        header_text(title, 80),
        header_text(name, 20),
    ));
    let record = record_hash.map_or_else(|| "—".to_owned(), |h| h.chars().take(16).collect());
    ws.set_footer(format!("&L批次记录 {record}&C&P / &N"));
    Ok(())
}

fn sheet<'a>(
    wb: &'a mut Workbook,
    report: &WaveReport,
    name: &str,
    headers: &[String],
    widths: &[f64],
    f: &Formats,
) -> Result<&'a mut Worksheet, XlsxError> {
    let ws = wb.add_worksheet();
    ws.set_name(name)?;
    for (c, h) in headers.iter().enumerate() {
        let c = u16::try_from(c).unwrap_or(u16::MAX);
        ws.write_string_with_format(0, c, h, &f.header)?;
        ws.set_column_width(c, widths.get(usize::from(c)).copied().unwrap_or(12.0))?;
    }
    // Two lines: a wrapped header ("不了解等无效票") shows whole in every viewer.
    ws.set_row_height(0, 30)?;
    ws.set_freeze_panes(1, 0)?;
    page_setup(ws, report, name)?;
    Ok(ws)
}

fn opt(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    v: Option<f64>,
    fmt: &Format,
) -> Result<(), XlsxError> {
    match v {
        Some(v) => ws.write_number_with_format(row, col, v, fmt).map(|_| ()),
        None => ws
            .write_string_with_format(row, col, "—", &Format::new().set_align(FormatAlign::Center))
            .map(|_| ()),
    }
}

fn summary(wb: &mut Workbook, report: &WaveReport, f: &Formats) -> Result<(), XlsxError> {
    let headers: Vec<String> = HEADERS.iter().map(|h| (*h).to_owned()).collect();
    // The grade (12) gets room and a centred cell of its own, so it never reads as part of
    // the composite before it ("82.4较好").
    let widths = [
        9.0, 28.0, 10.0, 8.0, 7.0, 7.0, 8.0, 9.0, 10.0, 9.0, 9.0, 9.0, 9.0, 8.0, 9.0,
    ];
    let ws = sheet(wb, report, "总表", &headers, &widths, f)?;
    for (i, r) in report.units.iter().enumerate() {
        let row = u32::try_from(i + 1).unwrap_or(u32::MAX);
        ws.write_string(row, 0, &r.code)?;
        ws.write_string(row, 1, &r.name)?;
        ws.write_string(row, 2, kind_label(&r.kind))?;
        ws.write_string(row, 3, r.parent.as_deref().unwrap_or(""))?;
        ws.write_number(row, 4, r.invited as f64)?;
        ws.write_number(row, 5, r.responses as f64)?;
        opt(ws, row, 6, r.response_rate, &f.pct)?;
        if r.suppressed {
            ws.write_string_with_format(row, 7, SUPPRESSED, &f.center)?;
            ws.write_string_with_format(row, 8, SUPPRESSED, &f.center)?;
        } else {
            let m = r.mass.as_ref();
            opt(ws, row, 7, m.and_then(|m| m.satisfaction_rate), &f.pct)?;
            opt(ws, row, 8, m.and_then(|m| m.satisfaction_index), &f.num)?;
        }
        opt(ws, row, 9, r.self_score, &f.num)?;
        opt(ws, row, 10, r.org.score, &f.num)?;
        opt(ws, row, 11, r.composite.score, &f.num)?;
        ws.write_string_with_format(row, 12, r.grade.as_deref().unwrap_or("—"), &f.grade)?;
        ws.write_string_with_format(
            row,
            13,
            match r.bar_met {
                Some(true) => "达到",
                Some(false) => "未达到",
                None => "—",
            },
            &f.center,
        )?;
        opt(ws, row, 14, r.rank.map(|k| k as f64), &Format::new())?;
    }
    // Under the table: the institution-wide summary, then the wave record.
    let footer = u32::try_from(report.units.len() + 2).unwrap_or(u32::MAX);
    ws.write_string(footer, 0, super::export::summary_line(report))?;
    ws.write_string(footer + 1, 0, super::record_line(report))?;
    Ok(())
}

fn per_unit_rows(report: &WaveReport) -> impl Iterator<Item = (&UnitReport, Option<&MassView>)> {
    report.units.iter().map(|r| (r, r.mass.as_ref()))
}

fn dimensions(wb: &mut Workbook, report: &WaveReport, f: &Formats) -> Result<(), XlsxError> {
    let mut headers = vec!["代码".to_owned(), "单位".to_owned()];
    for super::Label { text: name, .. } in &report.dimensions {
        headers.push(format!("{name} 满意率"));
        headers.push(format!("{name} 指数"));
    }
    let mut widths = vec![10.0, 28.0];
    widths.extend(std::iter::repeat_n(11.0, report.dimensions.len() * 2));
    let ws = sheet(wb, report, "分维度", &headers, &widths, f)?;
    for (i, (r, mass)) in per_unit_rows(report).enumerate() {
        let row = u32::try_from(i + 1).unwrap_or(u32::MAX);
        ws.write_string(row, 0, &r.code)?;
        ws.write_string(row, 1, &r.name)?;
        for (d, super::Label { id, .. }) in report.dimensions.iter().enumerate() {
            let col = u16::try_from(2 + d * 2).unwrap_or(u16::MAX);
            match mass.and_then(|m| m.dimensions.iter().find(|x| &x.dimension == id)) {
                None => {
                    ws.write_string_with_format(row, col, SUPPRESSED, &f.center)?;
                    ws.write_string_with_format(row, col + 1, SUPPRESSED, &f.center)?;
                }
                Some(x) => {
                    opt(ws, row, col, x.figures.rate, &f.pct)?;
                    opt(ws, row, col + 1, x.figures.index, &f.num)?;
                }
            }
        }
    }
    Ok(())
}

fn items(wb: &mut Workbook, report: &WaveReport, f: &Formats) -> Result<(), XlsxError> {
    let headers: Vec<String> = [
        "代码",
        "单位",
        "题号",
        "题目",
        "有效票",
        "不了解等无效票",
        "满意率",
        "满意度指数",
    ]
    .iter()
    .map(|h| (*h).to_owned())
    .collect();
    let ws = sheet(
        wb,
        report,
        "分题",
        &headers,
        &[10.0, 24.0, 6.0, 44.0, 8.0, 10.0, 9.0, 11.0],
        f,
    )?;
    let mut row = 1u32;
    for (r, mass) in per_unit_rows(report) {
        let Some(mass) = mass else {
            ws.write_string(row, 0, &r.code)?;
            ws.write_string(row, 1, &r.name)?;
            ws.write_string(row, 3, SUPPRESSED)?;
            row += 1;
            continue;
        };
        for (n, super::Label { id, text }) in report.items.iter().enumerate() {
            let Some(item) = mass.items.iter().find(|x| &x.item == id) else {
                continue;
            };
            ws.write_string(row, 0, &r.code)?;
            ws.write_string(row, 1, &r.name)?;
            ws.write_number_with_format(row, 2, (n + 1) as f64, &f.center)?;
            ws.write_string_with_format(row, 3, text, &f.wrap)?;
            ws.write_number(row, 4, item.figures.valid)?;
            ws.write_number(row, 5, item.figures.answers - item.figures.valid)?;
            opt(ws, row, 6, item.figures.rate, &f.pct)?;
            opt(ws, row, 7, item.figures.index, &f.num)?;
            row += 1;
        }
    }
    Ok(())
}

fn comments(wb: &mut Workbook, report: &WaveReport, f: &Formats) -> Result<(), XlsxError> {
    let headers = vec!["单位".to_owned(), "意见建议".to_owned()];
    let ws = sheet(wb, report, "意见建议", &headers, &[28.0, 90.0], f)?;
    let names: std::collections::HashMap<&str, &str> = report
        .units
        .iter()
        .map(|u| (u.code.as_str(), u.name.as_str()))
        .collect();
    for (i, (code, text)) in report.comments.iter().enumerate() {
        let row = u32::try_from(i + 1).unwrap_or(u32::MAX);
        ws.write_string_with_format(
            row,
            0,
            names.get(code.as_str()).copied().unwrap_or(code),
            &f.wrap,
        )?;
        // Written as a string: a comment starting with "=" must never become a formula.
        ws.write_string_with_format(row, 1, text, &f.wrap)?;
    }
    Ok(())
}

/// The workbook's bytes.
pub fn workbook(report: &WaveReport) -> Result<Vec<u8>, XlsxError> {
    let f = formats();
    let mut wb = Workbook::new();
    summary(&mut wb, report, &f)?;
    dimensions(&mut wb, report, &f)?;
    items(&mut wb, report, &f)?;
    comments(&mut wb, report, &f)?;
    wb.save_to_buffer()
}
