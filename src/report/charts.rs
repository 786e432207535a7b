//! Server-rendered SVG charts: no JavaScript, no external assets, and colours as attributes
//! so the strict Content-Security-Policy (no inline styles) holds.

use std::fmt::Write as _;

use unicode_width::UnicodeWidthChar as _;

use crate::domain::Lang;

/// The words the charts draw, in one language.
#[derive(Debug)]
pub struct Words {
    /// The heatmap's accessible name.
    pub heatmap: &'static str,
    /// The bar chart's accessible name.
    pub bars: &'static str,
    /// The heatmap scale's name.
    pub index: &'static str,
    /// A hidden cell.
    pub hidden: &'static str,
    /// The bar line, before its percentage.
    pub bar_line: &'static str,
}

/// 简体中文.
pub static ZH: Words = Words {
    heatmap: "分维度满意度指数热力图",
    bars: "分维度满意率",
    index: "满意度指数",
    hidden: "样本不足",
    bar_line: "满意率",
};

/// English.
pub static EN: Words = Words {
    heatmap: "Heatmap of the satisfaction index by dimension",
    bars: "Satisfaction rate by dimension",
    index: "Index",
    hidden: "too few",
    bar_line: "rate bar",
};

/// The charts' words in a language.
pub fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    }
}

/// Colours of the bands, best first; the last is always the worst band's.
const PALETTE: [&str; 7] = [
    "#004d40", "#2e7d32", "#558b2f", "#827717", "#e65100", "#c62828", "#7f0000",
];

/// One colour band of the 0..100 scale.
#[derive(Debug, Clone, PartialEq)]
struct Band {
    lo: f64,
    hi: f64,
    fill: &'static str,
}

/// A colour scale of 0..100 cut at the survey's grade thresholds, each band above the
/// lowest split in two: most units score 80–100, and ten equal steps paint them all the
/// same green, while bands at the grade thresholds (90, 80, 60) and their midpoints show
/// where a unit stands against the grades.
#[derive(Debug, Clone, PartialEq)]
pub struct Bands(Vec<Band>);

impl Bands {
    /// The scale of a survey's grade minima (any order; 0 is added when missing).
    pub fn at(minima: &[f64]) -> Self {
        let mut cuts: Vec<f64> = minima
            .iter()
            .map(|m| m.clamp(0.0, 100.0))
            .chain([0.0])
            .collect();
        cuts.sort_by(|a, b| b.total_cmp(a));
        cuts.dedup_by(|a, b| (*a - *b).abs() < 1e-9);
        let mut ranges = Vec::new();
        let mut hi = 100.0;
        for lo in cuts {
            if lo >= hi {
                continue;
            }
            if lo > 0.0 {
                let mid = f64::midpoint(lo, hi);
                ranges.push((mid, hi));
                ranges.push((lo, mid));
            } else {
                ranges.push((lo, hi));
            }
            hi = lo;
        }
        let last = ranges.len().saturating_sub(1);
        Self(
            ranges
                .into_iter()
                .enumerate()
                .map(|(i, (lo, hi))| Band {
                    lo,
                    hi,
                    fill: if i == last {
                        PALETTE[PALETTE.len() - 1]
                    } else {
                        PALETTE[i.min(PALETTE.len() - 2)]
                    },
                })
                .collect(),
        )
    }

    /// The colour of a value 0..100.
    pub fn fill(&self, v: f64) -> &'static str {
        self.0
            .iter()
            .find(|b| v + 1e-9 >= b.lo)
            .or(self.0.last())
            .map_or(PALETTE[PALETTE.len() - 1], |b| b.fill)
    }
}

impl Default for Bands {
    /// The default grades' scale: 好 ≥ 90, 较好 ≥ 80, 一般 ≥ 60.
    fn default() -> Self {
        Self::at(&[90.0, 80.0, 60.0, 0.0])
    }
}

fn esc(s: &str) -> String {
    handlebars::html_escape(s)
}

/// Cuts `s` into at most `lines` lines of at most `width` columns (a CJK character takes
/// two); the last line ends in "…" when the text does not fit. The full text goes in a
/// `<title>`, so nothing is lost.
fn wrap(s: &str, width: usize, lines: usize) -> Vec<String> {
    let mut out: Vec<String> = vec![String::new()];
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width {
            if out.len() == lines {
                let last = out.last_mut().expect("one line at least");
                last.pop();
                last.push('…');
                return out;
            }
            out.push(String::new());
            used = 0;
        }
        out.last_mut().expect("one line at least").push(c);
        used += w;
    }
    out
}

/// A text of one or more lines (`<tspan>`s) with its full text as a `<title>`.
fn label(full: &str, lines: &[String], x: f64, y: f64, anchor: &str, step: f64) -> String {
    let mut t = format!(
        "<g><title>{}</title><text x=\"{x}\" y=\"{y}\" text-anchor=\"{anchor}\">",
        esc(full)
    );
    for (i, line) in lines.iter().enumerate() {
        let dy = if i == 0 { 0.0 } else { step };
        let _ = write!(t, "<tspan x=\"{x}\" dy=\"{dy}\">{}</tspan>", esc(line));
    }
    t.push_str("</text></g>");
    t
}

/// A heatmap: one row per unit, one column per dimension, cells coloured by index on
/// `bands`; hidden cells (样本不足) grey. Long names wrap onto two lines; every name and
/// every cell carries its full text in a `<title>` (shown on hover). `rows`: (unit name,
/// per-dimension index or None).
pub fn heatmap(
    columns: &[String],
    rows: &[(String, Vec<Option<f64>>)],
    bands: &Bands,
    words: &Words,
) -> String {
    let (label_w, cell_w, head_h) = (190.0, 74.0, 46.0);
    let names: Vec<Vec<String>> = rows.iter().map(|(n, _)| wrap(n, 28, 2)).collect();
    let cell_h = if names.iter().any(|l| l.len() > 1) {
        36.0
    } else {
        24.0
    };
    let legend_w = 90.0 + 52.0 * bands.0.len() as f64;
    let width = f64::max(label_w + cell_w * columns.len() as f64, legend_w);
    let height = head_h + cell_h * rows.len() as f64 + 44.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"100%\" role=\"img\" aria-label=\"{}\" font-size=\"12\" font-family=\"sans-serif\">",
        words.heatmap
    );
    for (c, name) in columns.iter().enumerate() {
        let x = label_w + cell_w * c as f64 + cell_w / 2.0;
        let lines = wrap(name, 10, 2);
        let y = if lines.len() > 1 {
            head_h - 24.0
        } else {
            head_h - 10.0
        };
        svg.push_str(&label(name, &lines, x, y, "middle", 14.0));
    }
    for (r, ((name, values), lines)) in rows.iter().zip(&names).enumerate() {
        let y = head_h + cell_h * r as f64;
        let ty = y + cell_h / 2.0 + 4.0 - 7.0 * (lines.len() as f64 - 1.0);
        svg.push_str(&label(name, lines, label_w - 8.0, ty, "end", 14.0));
        for (c, v) in values.iter().enumerate() {
            let x = label_w + cell_w * c as f64;
            let (fill, text) = match v {
                Some(v) => (bands.fill(*v), format!("{v:.1}")),
                None => ("#e0e0e0", words.hidden.to_owned()),
            };
            let ink = if v.is_some() { "#fff" } else { "#555" };
            let column = columns.get(c).map_or("", String::as_str);
            let _ = write!(
                svg,
                "<g><title>{} · {}: {text}</title><rect x=\"{x}\" y=\"{y}\" width=\"{}\" height=\"{}\" fill=\"{fill}\"/><text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{ink}\">{text}</text></g>",
                esc(name),
                esc(column),
                cell_w - 2.0,
                cell_h - 2.0,
                x + cell_w / 2.0,
                y + cell_h / 2.0 + 4.0
            );
        }
    }
    let ly = head_h + cell_h * rows.len() as f64 + 14.0;
    let _ = write!(
        svg,
        "<text x=\"0\" y=\"{}\">{}</text>",
        ly + 12.0,
        words.index
    );
    // Worst band on the left, as on a number line.
    for (i, b) in bands.0.iter().rev().enumerate() {
        let x = 80.0 + i as f64 * 52.0;
        let _ = write!(
            svg,
            "<rect x=\"{x}\" y=\"{ly}\" width=\"50\" height=\"14\" fill=\"{}\"><title>{}–{}</title></rect><text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"9\">{}–{}</text>",
            b.fill,
            b.lo,
            b.hi,
            x + 25.0,
            ly + 25.0,
            b.lo,
            b.hi
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A horizontal bar chart of satisfaction rates (0..1, drawn on a 0–100% scale) with the
/// satisfaction bar as a labelled dashed line on the same scale: a bar reaching the line
/// meets the bar. Bars below it are drawn in the warning colour.
pub fn bars(rows: &[(String, Option<f64>)], bar: f64, words: &Words) -> String {
    let (label_w, bar_w, row_h, top) = (150.0, 320.0, 26.0, 18.0);
    let height = top + row_h * rows.len() as f64 + 10.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {height}\" width=\"100%\" role=\"img\" aria-label=\"{}\" font-size=\"12\" font-family=\"sans-serif\">",
        label_w + bar_w + 60.0,
        words.bars
    );
    for (i, (name, v)) in rows.iter().enumerate() {
        let y = top + row_h * i as f64;
        let lines = wrap(name, 22, 1);
        svg.push_str(&label(name, &lines, label_w - 8.0, y + 17.0, "end", 0.0));
        let _ = write!(
            svg,
            "<rect x=\"{label_w}\" y=\"{}\" width=\"{bar_w}\" height=\"18\" fill=\"#eeeeee\"/>",
            y + 4.0
        );
        if let Some(v) = v {
            let w = bar_w * v.clamp(0.0, 1.0);
            let fill = if *v + 1e-9 >= bar {
                "#2e7d32"
            } else {
                "#e65100"
            };
            let _ = write!(
                svg,
                "<rect x=\"{label_w}\" y=\"{}\" width=\"{w}\" height=\"18\" fill=\"{fill}\"><title>{}: {:.1}%</title></rect><text x=\"{}\" y=\"{}\">{:.1}%</text>",
                y + 4.0,
                esc(name),
                v * 100.0,
                label_w + bar_w + 6.0,
                y + 17.0,
                v * 100.0
            );
        }
    }
    let x = label_w + bar_w * bar.clamp(0.0, 1.0);
    let _ = write!(
        svg,
        "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{height}\" stroke=\"#333\" stroke-dasharray=\"4 3\"/><text x=\"{x}\" y=\"12\" text-anchor=\"middle\" font-size=\"11\">{} {:.0}%</text>",
        top - 2.0,
        words.bar_line,
        bar * 100.0
    );
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_separates_units_scoring_80_to_100() {
        let bands = Bands::default();
        let fills: std::collections::BTreeSet<&str> = [82.0, 87.0, 92.0, 98.0]
            .iter()
            .map(|v| bands.fill(*v))
            .collect();
        assert_eq!(fills.len(), 4, "four bands between 80 and 100");
        assert_eq!(bands.fill(0.0), PALETTE[PALETTE.len() - 1]);
        assert_eq!(bands.fill(100.0), PALETTE[0]);
        assert_ne!(
            bands.fill(89.99),
            bands.fill(90.0),
            "a grade threshold is a border"
        );
    }

    #[test]
    fn every_cell_and_name_has_its_full_text_and_long_names_wrap() {
        let long = "计算机科学与技术学院本科生第一党支部（含研究生联合党支部）".to_owned();
        let rows = vec![
            (long.clone(), vec![Some(82.0), None]),
            ("图书馆".to_owned(), vec![Some(97.0), Some(91.0)]),
        ];
        let svg = heatmap(
            &["班子建设好".into(), "服务队伍好".into()],
            &rows,
            &Bands::default(),
            &ZH,
        );
        assert!(
            svg.contains(&format!("<title>{long}</title>")),
            "the full name on hover"
        );
        assert!(svg.contains(&format!("<title>{long} · 服务队伍好: 样本不足</title>")));
        assert!(svg.contains("<title>图书馆 · 班子建设好: 97.0</title>"));
        assert_eq!(svg.matches("<rect").count(), 4 + Bands::default().0.len());
        let first = wrap(&long, 28, 2);
        assert_eq!(first.len(), 2, "a long name takes two lines");
        assert!(first[1].ends_with('…'));
        assert!(svg.contains(&format!("<tspan x=\"182\" dy=\"14\">{}</tspan>", first[1])));
    }

    #[test]
    fn the_bar_line_sits_on_the_rate_scale() {
        let svg = bars(&[("总体".into(), Some(0.914))], 0.9, &ZH);
        // 150 + 320 × 0.9 = 438: the 90% line, labelled as a rate.
        assert!(svg.contains("<line x1=\"438\""));
        assert!(svg.contains(">满意率 90%</text>") && svg.contains("91.4%"));
    }
}
