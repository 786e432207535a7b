//! `wave verify`: recompute every figure from the raw responses and check that the books
//! balance — each used invitation has exactly one stored response and vice versa.

use std::collections::{BTreeMap, HashMap};

use super::WaveReport;
use crate::db::DbConn;
use crate::db::waves;
use crate::domain::scoring;
use crate::domain::survey::{Scale, StepKind};
use crate::tally;
use crate::wave::{self, WaveError};

/// Per unit: invitations used and responses stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balance {
    /// Unit code.
    pub unit: String,
    /// Mass invitations marked used.
    pub used: i64,
    /// Responses stored.
    pub responses: i64,
}

/// What the audit found.
#[derive(Debug, Clone, Default)]
pub struct Audit {
    /// Per unit balance.
    pub balances: Vec<Balance>,
    /// Responses whose answers do not fit the wave's survey.
    pub bad_responses: usize,
    /// Figures the report shows that differ from a direct recomputation.
    pub mismatches: Vec<String>,
    /// Responses checked.
    pub checked: usize,
    /// The wave record's hash and what differs from it now (see [`crate::record::check`]);
    /// `None` when the wave has no record.
    pub record: Option<(String, Vec<String>)>,
}

impl Audit {
    /// Whether everything agrees.
    pub fn ok(&self) -> bool {
        self.bad_responses == 0
            && self.mismatches.is_empty()
            && self
                .record
                .as_ref()
                .is_none_or(|(_, diffs)| diffs.is_empty())
            && self.balances.iter().all(|b| b.used == b.responses)
    }
}

fn slot<'m>(m: &'m mut BTreeMap<String, Balance>, unit: &str) -> &'m mut Balance {
    m.entry(unit.to_owned()).or_insert_with(|| Balance {
        unit: unit.to_owned(),
        used: 0,
        responses: 0,
    })
}

/// Audits a wave; `report` (when the wave is closed) is compared with a recomputation.
pub fn audit(
    conn: &mut DbConn,
    wave_id: i32,
    report: Option<&WaveReport>,
) -> Result<Audit, WaveError> {
    let w = wave::get(conn, wave_id)?;
    wave::require_unsealed(&w, "verifying")?;
    let survey = wave::survey_of(&w)?;
    let mut balance: BTreeMap<String, Balance> = BTreeMap::new();
    for (unit, used, n) in waves::invitation_counts(conn, wave_id)? {
        let b = slot(&mut balance, &unit);
        if used {
            b.used += n;
        }
    }
    let mass = survey.step(StepKind::Mass);
    let scales: HashMap<&str, &Scale> = mass
        .items()
        .map(|i| (i.id.as_str(), survey.scale_of(i)))
        .collect();
    let mut audit = Audit::default();
    // One streaming read serves the balance, the fit check and the recount.
    let recount = tally::count_each(conn, wave_id, |unit, answers| {
        slot(&mut balance, unit).responses += 1;
        audit.checked += 1;
        let fits = answers.is_some_and(|a| {
            a.iter().all(|(item, option)| {
                scales
                    .get(item)
                    .is_some_and(|scale| scale.option(option).is_some())
            })
        });
        if !fits {
            audit.bad_responses += 1;
        }
    })?;
    audit.record = crate::record::check(conn, wave_id, &recount)?;
    let own = recount.own;
    audit.balances = balance.into_values().collect();
    if let Some(report) = report {
        // The report reads the counts and per-respondent sums stored at close: they must
        // equal a recount (sums up to float rounding, as the sheets may come in another order).
        let stored = tally::load(conn, wave_id)?.own;
        for (unit, t) in &own {
            if !stored.get(unit).is_some_and(|s| s.agrees(t)) {
                audit.mismatches.push(format!("{unit} (stored counts)"));
            }
        }
        for unit in stored.keys().filter(|u| !own.contains_key(*u)) {
            audit.mismatches.push(format!("{unit} (stored counts)"));
        }
        for u in report.units.iter().filter(|u| !u.suppressed) {
            let direct = scoring::mass_figures(
                &survey,
                own.get(&u.code).unwrap_or(&scoring::Tally::default()),
            );
            let shown = u.mass.as_ref();
            let same = |a: Option<f64>, b: Option<f64>| match (a, b) {
                (Some(a), Some(b)) => (a - b).abs() < 1e-9,
                (None, None) => true,
                _ => false,
            };
            if !same(shown.and_then(|m| m.satisfaction_rate), direct.overall.rate)
                || !same(
                    shown.and_then(|m| m.satisfaction_index),
                    direct.overall.index,
                )
                || !same(
                    shown.and_then(|m| m.satisfaction_interval).map(|i| i.0),
                    direct.overall.interval.map(|i| i.0),
                )
                || !same(
                    shown.and_then(|m| m.satisfaction_interval).map(|i| i.1),
                    direct.overall.interval.map(|i| i.1),
                )
                || u.responses != direct.responses
            {
                audit.mismatches.push(u.code.clone());
            }
        }
    }
    Ok(audit)
}
