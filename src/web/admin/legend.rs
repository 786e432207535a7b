//! The dashboard's head: the institution-wide summary of the report (the same text as the
//! head line of `sanping report`) and the legend that says what 满意率, 满意度指数, the bar,
//! grades, 样本不足, the interval and the rank mean, in the reader's language.

use serde::Serialize;

use super::strings::{AdminStrings, fill};
use crate::domain::roster::UnitKind;
use crate::report::export::{self, SummaryText};
use crate::report::{UnitReport, WaveReport};

/// The summary as the dashboard shows it.
#[derive(Debug, Serialize)]
pub struct SummaryView {
    /// The figures, as text.
    pub text: SummaryText,
    /// "Units below the 90% bar".
    pub below_bar_label: String,
    /// "n more units have no known rate" (empty when none).
    pub bar_unknown: String,
    /// What the pooled rate and index rest on.
    pub pooled: String,
    /// Whether hidden units were left out of the pooled figures (不含样本不足单位).
    pub partial: bool,
    /// Whether any unit's figures are pooled.
    pub shown: bool,
}

/// A unit kind's name in the reader's language.
pub fn kind_label<'a>(a: &'a AdminStrings, kind: &'a str) -> &'a str {
    match UnitKind::parse(kind) {
        Some(UnitKind::Committee) => a.kinds[0],
        Some(UnitKind::GeneralBranch) => a.kinds[1],
        Some(UnitKind::DirectBranch) => a.kinds[2],
        Some(UnitKind::Branch) => a.kinds[3],
        None => kind,
    }
}

/// A unit's row of the results table in the reader's language: the export's cells (the
/// XLSX and CSV keep Chinese), with the kind and 样本不足 translated.
pub fn cells(a: &AdminStrings, u: &UnitReport, bar: f64) -> Vec<String> {
    let mut cells = export::cells(u, bar, false);
    kind_label(a, &u.kind).clone_into(&mut cells[2]);
    for c in &mut cells {
        if c == export::SUPPRESSED {
            a.suppressed.clone_into(c);
        }
    }
    cells
}

/// The summary of a report in the reader's language.
pub fn summary(report: &WaveReport, a: &AdminStrings) -> SummaryView {
    let text = export::summary_text(report);
    let below_bar_label = fill(a.summary_below_bar, &[("bar", &text.bar)]);
    let bar_unknown = if text.bar_unknown > 0 {
        fill(
            a.summary_bar_unknown,
            &[("n", &text.bar_unknown.to_string())],
        )
    } else {
        String::new()
    };
    let pooled = fill(
        a.summary_pooled,
        &[
            ("units", &text.pooled_units.to_string()),
            ("responses", &text.pooled_responses.to_string()),
        ],
    );
    SummaryView {
        below_bar_label,
        bar_unknown,
        pooled,
        partial: text.left_out > 0,
        shown: report.summary.mass.is_some(),
        text,
    }
}

/// The legend's (term, paragraph) pairs with the wave's bar, threshold and grade bands.
pub fn legend(report: &WaveReport, a: &AdminStrings) -> Vec<(String, String)> {
    let bar = format!("{:.0}%", report.satisfaction_bar * 100.0);
    let k = report.min_responses.to_string();
    let bands = &report.summary.grades;
    let grades: Vec<String> = bands
        .iter()
        .enumerate()
        .map(|(i, g)| {
            // The last band is everything below the one before it.
            match (
                i + 1 == bands.len(),
                i.checked_sub(1).and_then(|p| bands.get(p)),
            ) {
                (true, Some(prev)) => format!("{} < {}", g.label, prev.min),
                _ => format!("{} ≥ {}", g.label, g.min),
            }
        })
        .collect();
    let grades = grades.join(" · ");
    let args = [
        ("bar", bar.as_str()),
        ("k", k.as_str()),
        ("grades", grades.as_str()),
    ];
    a.legend
        .iter()
        .map(|(term, text)| (fill(term, &args), fill(text, &args)))
        .collect()
}
