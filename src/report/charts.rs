//! Server-rendered SVG charts: no JavaScript, no external assets, and colours as attributes
//! so the strict Content-Security-Policy (no inline styles) holds.

use std::fmt::Write as _;

/// The colour of an index 0..100 on a red → amber → green scale (10 steps).
pub fn colour(index: f64) -> &'static str {
    const SCALE: [&str; 10] = [
        "#b71c1c", "#c62828", "#d84315", "#ef6c00", "#f9a825", "#c0ca33", "#9ccc65", "#66bb6a",
        "#43a047", "#2e7d32",
    ];
    let step = ((index.clamp(0.0, 100.0) / 10.0).floor() as usize).min(9);
    SCALE[step]
}

fn esc(s: &str) -> String {
    handlebars::html_escape(s)
}

/// A heatmap: one row per unit, one column per dimension, cells coloured by index; hidden
/// cells (样本不足) grey. `rows`: (unit name, per-dimension index or None).
pub fn heatmap(columns: &[String], rows: &[(String, Vec<Option<f64>>)]) -> String {
    let (label_w, cell_w, cell_h, head_h) = (190.0, 74.0, 24.0, 46.0);
    let width = label_w + cell_w * columns.len() as f64;
    let height = head_h + cell_h * rows.len() as f64 + 40.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"100%\" role=\"img\" aria-label=\"分维度满意度指数热力图\" font-size=\"12\" font-family=\"sans-serif\">"
    );
    for (c, name) in columns.iter().enumerate() {
        let x = label_w + cell_w * c as f64 + cell_w / 2.0;
        let _ = write!(
            svg,
            "<text x=\"{x}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            head_h - 10.0,
            esc(name)
        );
    }
    for (r, (name, values)) in rows.iter().enumerate() {
        let y = head_h + cell_h * r as f64;
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            label_w - 8.0,
            y + 16.0,
            esc(name)
        );
        for (c, v) in values.iter().enumerate() {
            let x = label_w + cell_w * c as f64;
            let (fill, text) = match v {
                Some(v) => (colour(*v), format!("{v:.1}")),
                None => ("#e0e0e0", "样本不足".to_owned()),
            };
            let ink = if v.is_some() { "#fff" } else { "#555" };
            let _ = write!(
                svg,
                "<rect x=\"{x}\" y=\"{y}\" width=\"{}\" height=\"{}\" fill=\"{fill}\"><title>{}: {}</title></rect><text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{ink}\">{text}</text>",
                cell_w - 2.0,
                cell_h - 2.0,
                esc(name),
                text,
                x + cell_w / 2.0,
                y + 16.0
            );
        }
    }
    let ly = head_h + cell_h * rows.len() as f64 + 14.0;
    let _ = write!(svg, "<text x=\"0\" y=\"{}\">满意度指数</text>", ly + 12.0);
    for i in 0..10 {
        let x = 80.0 + f64::from(i) * 34.0;
        let _ = write!(
            svg,
            "<rect x=\"{x}\" y=\"{ly}\" width=\"32\" height=\"14\" fill=\"{}\"/><text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"9\">{}</text>",
            colour(f64::from(i) * 10.0 + 5.0),
            x + 16.0,
            ly + 25.0,
            i * 10
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A horizontal bar chart of values 0..100 with a marker line at `mark` (e.g. 90).
pub fn bars(rows: &[(String, Option<f64>)], mark: Option<f64>) -> String {
    let (label_w, bar_w, row_h) = (150.0, 320.0, 26.0);
    let height = row_h * rows.len() as f64 + 10.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {height}\" width=\"100%\" role=\"img\" aria-label=\"分维度得分\" font-size=\"12\" font-family=\"sans-serif\">",
        label_w + bar_w + 60.0
    );
    for (i, (name, v)) in rows.iter().enumerate() {
        let y = row_h * i as f64;
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            label_w - 8.0,
            y + 17.0,
            esc(name)
        );
        let _ = write!(
            svg,
            "<rect x=\"{label_w}\" y=\"{}\" width=\"{bar_w}\" height=\"18\" fill=\"#eeeeee\"/>",
            y + 4.0
        );
        if let Some(v) = v {
            let w = bar_w * v.clamp(0.0, 100.0) / 100.0;
            let _ = write!(
                svg,
                "<rect x=\"{label_w}\" y=\"{}\" width=\"{w}\" height=\"18\" fill=\"{}\"/><text x=\"{}\" y=\"{}\">{v:.1}</text>",
                y + 4.0,
                colour(*v),
                label_w + bar_w + 6.0,
                y + 17.0
            );
        }
    }
    if let Some(m) = mark {
        let x = label_w + bar_w * m / 100.0;
        let _ = write!(
            svg,
            "<line x1=\"{x}\" y1=\"0\" x2=\"{x}\" y2=\"{height}\" stroke=\"#333\" stroke-dasharray=\"4 3\"/>"
        );
    }
    svg.push_str("</svg>");
    svg
}
