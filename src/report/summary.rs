//! The institution-wide summary at the top of a report: the satisfaction rate and index of
//! everyone who answered (with the rate's interval), the response rate, how many units got
//! each grade and how many missed the satisfaction bar.
//!
//! The disclosure rule holds here as everywhere: the pooled mass figures take only the
//! units whose own figures are shown. That pool is a sum of shown figure sets, so it
//! discloses nothing new; a total with the hidden units in it would let anyone subtract the
//! shown units and read the hidden ones. When units are left out the summary says so
//! (`left_out`, "不含样本不足单位"). Response counts, grades and the bar are shown per unit
//! anyway (a hidden unit's grade rests on the other steps), so their totals cover every unit.

use serde::Serialize;

use super::{Inputs, MassView, UnitReport, mass_view};
use crate::domain::scoring::{self, Tally};
use crate::domain::survey::Survey;

/// How many units got one grade.
#[derive(Debug, Clone, Serialize)]
pub struct GradeCount {
    /// The grade's Chinese label.
    pub label: String,
    /// The lowest composite of the band.
    pub min: f64,
    /// Units with this grade.
    pub units: usize,
}

/// The institution-wide summary of a wave.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Units in the report.
    pub units: usize,
    /// Units whose own mass figures are shown (their sheets make `mass`).
    pub pooled_units: usize,
    /// Hidden units with responses, left out of `mass`: "不含样本不足单位".
    pub left_out: Vec<String>,
    /// Mass invitations issued, all units.
    pub invited: u64,
    /// Mass responses stored, all units (each unit's count is shown in its row).
    pub responses: u64,
    /// `responses / invited`.
    pub response_rate: Option<f64>,
    /// The pooled mass figures of the shown units; absent when no unit's are shown.
    pub mass: Option<MassView>,
    /// Units per grade, in the survey's order (best first).
    pub grades: Vec<GradeCount>,
    /// Units without a grade (no step scored).
    pub ungraded: usize,
    /// Units whose rate is below the satisfaction bar.
    pub below_bar: usize,
    /// Units whose rate is known and meets the bar.
    pub bar_met: usize,
    /// Units whose rate is not known (样本不足, or no valid vote): not counted either way.
    pub bar_unknown: usize,
}

/// The summary of the rows of a report, from the same inputs.
pub(super) fn summarize(survey: &Survey, inp: &Inputs, rows: &[UnitReport]) -> Summary {
    let mut pooled = Tally::default();
    let mut pooled_units = 0;
    for r in rows.iter().filter(|r| r.mass.is_some()) {
        if let Some(t) = inp.own.get(&r.code) {
            pooled.merge(t);
        }
        pooled_units += 1;
    }
    let left_out = rows
        .iter()
        .filter(|r| r.suppressed && r.responses > 0)
        .map(|r| r.code.clone())
        .collect();
    let invited = rows.iter().map(|r| r.invited).sum();
    let responses = rows.iter().map(|r| r.responses).sum();
    let grades = survey
        .grades
        .iter()
        .enumerate()
        .map(|(i, g)| GradeCount {
            label: g.label.zh.clone(),
            min: g.min,
            units: rows.iter().filter(|r| r.grade_index == Some(i)).count(),
        })
        .collect();
    let count = |want: Option<bool>| rows.iter().filter(|r| r.bar_met == want).count();
    Summary {
        units: rows.len(),
        pooled_units,
        left_out,
        invited,
        responses,
        response_rate: scoring::response_rate(responses, invited),
        mass: (pooled_units > 0).then(|| mass_view(survey, &pooled)),
        grades,
        ungraded: rows.iter().filter(|r| r.grade_index.is_none()).count(),
        below_bar: count(Some(false)),
        bar_met: count(Some(true)),
        bar_unknown: count(None),
    }
}
