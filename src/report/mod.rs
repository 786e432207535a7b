//! Reports of a wave: one row per unit with every figure the committee decides with, built
//! from the counts stored when the wave closed and the sheets, by the pure rules in `domain::scoring`, with every
//! group below the anonymity threshold hidden. Exported as a table, CSV, JSON or XLSX.
//!
//! What is shown is decided once, here, by `scoring::disclosure`: every output and every
//! role reads this report, so none can show a figure set the JSON does not.

pub mod charts;
pub mod export;
pub mod people;
pub mod people_export;
pub mod summary;
pub mod verify;
pub mod xlsx;

use std::collections::{BTreeMap, HashMap};

use rand::seq::SliceRandom as _;
use serde::Serialize;

use crate::assess;
use crate::db::waves::{self, Wave};
use crate::db::{DbConn, units};
use crate::domain::roster::UnitKind;
use crate::domain::scoring::disclosure::{self, RollupView};
use crate::domain::scoring::{
    self, Composite, DimensionFigures, ItemFigures, Node, OrgFigures, Tally,
};
use crate::domain::survey::{StepKind, Survey};
use crate::tally;
use crate::wave::{self as wave_mod, State, WaveError};

pub use summary::{GradeCount, Summary};

/// Whether a reader whose scope is `reader` may read the words of a wave scoped to
/// `wave_scope` — a unit wave's comments (意见建议), a people wave's reasons: only when the
/// reader's subtree lies inside the wave's, i.e. the reader belongs to the university (or
/// unit) that ran it. A provincial account reading a university's wave gets the figures
/// and roll-ups without the words; to read them, it gives someone an account scoped to that
/// university. Every output applies it: the console, the API and `report --as`.
pub fn words_readable(
    conn: &mut DbConn,
    reader: &crate::scope::Scope,
    wave_scope: Option<&str>,
) -> diesel::QueryResult<bool> {
    let Some(scope) = wave_scope else {
        // A wave of the whole tree: every account lies inside it.
        return Ok(true);
    };
    Ok(crate::scope::Scope::of(Some(scope)).includes(&units::all(conn)?, reader))
}

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The wave failed to load.
    #[error(transparent)]
    Wave(#[from] WaveError),
    /// Scores are not shown while a wave takes answers.
    #[error(
        "wave {0} is still open: no scores are shown until it closes (see `sanping wave show {0}` for response rates)"
    )]
    Open(i32),
    /// The database failed.
    #[error("database error: {0}")]
    Db(#[from] diesel::result::Error),
}

/// One unit's mass figures, present only when its group is large enough.
#[derive(Debug, Clone, Serialize)]
pub struct MassView {
    /// Answer sheets the figures rest on.
    pub responses: u64,
    /// Satisfaction rate, 0..1.
    pub satisfaction_rate: Option<f64>,
    /// 95% interval of the rate, clustered by respondent (Wilson at the effective sample
    /// size of the ratio estimator's linearization variance; `docs/statistics.md`).
    pub satisfaction_interval: Option<(f64, f64)>,
    /// Satisfaction index, 0..100.
    pub satisfaction_index: Option<f64>,
    /// Per dimension.
    pub dimensions: Vec<DimensionFigures>,
    /// Per item, with counts per option.
    pub items: Vec<ItemFigures>,
}

/// Change against another wave. Each difference is taken only between figures both
/// reports show (a hidden side gives no change), so it reveals no group either wave hides:
/// the two waves' answer sheets are different people, never subtracted from each other.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Change {
    /// Satisfaction rate now minus then.
    pub satisfaction_rate: Option<f64>,
    /// Index now minus then.
    pub satisfaction_index: Option<f64>,
    /// Composite now minus then.
    pub composite: Option<f64>,
}

/// An id with its Chinese text.
#[derive(Debug, Clone, Serialize)]
pub struct Label {
    /// The id in the survey file.
    pub id: String,
    /// The Chinese name or text.
    pub text: String,
}

/// One row of the report.
#[derive(Debug, Clone, Serialize)]
pub struct UnitReport {
    /// Unit code.
    pub code: String,
    /// Unit name.
    pub name: String,
    /// Unit kind id.
    pub kind: String,
    /// Parent's code.
    pub parent: Option<String>,
    /// Mass invitations issued.
    pub invited: u64,
    /// Mass responses stored.
    pub responses: u64,
    /// responses / invited.
    pub response_rate: Option<f64>,
    /// Fewer responses than the threshold: no mass figure of the unit is given, and its
    /// composite and grade rest on the other steps (`composite.missing` says so).
    pub suppressed: bool,
    /// The unit's own mass figures (absent when suppressed).
    pub mass: Option<MassView>,
    /// The unit and everything below it, pooled from raw counts, without the units in
    /// `rollup_left_out` (absent when even that would reveal a small group).
    pub rollup: Option<MassView>,
    /// Hidden units (with responses) left out of the roll-up: "不含样本不足单位".
    pub rollup_left_out: Vec<String>,
    /// Responses in the unit's subtree.
    pub rollup_responses: u64,
    /// Self-assessment score (submitted sheets only).
    pub self_score: Option<f64>,
    /// Committee scores.
    pub org: OrgFigures,
    /// Composite and the steps it rests on.
    pub composite: Composite,
    /// Grade label.
    pub grade: Option<String>,
    /// Position of the grade in the survey's bands (0 = best).
    pub grade_index: Option<usize>,
    /// Whether a gate capped the grade.
    pub grade_capped: bool,
    /// The satisfaction bar (e.g. 90%) met.
    pub bar_met: Option<bool>,
    /// Rank among units of the same kind.
    pub rank: Option<usize>,
    /// How many units of the same kind have a rank: the rank reads "n / m", n = `rank` and m = this.
    pub rank_of: Option<usize>,
    /// Against the compared wave.
    pub change: Option<Change>,
}

/// A wave's report.
#[derive(Debug, Clone, Serialize)]
pub struct WaveReport {
    /// Wave id.
    pub wave: i32,
    /// Title.
    pub title: String,
    /// State.
    pub state: String,
    /// Survey id.
    pub survey: String,
    /// Survey fingerprint.
    pub fingerprint: String,
    /// Figures need this many responses.
    pub min_responses: u32,
    /// Comments need this many responses.
    pub min_comments: u32,
    /// The satisfaction bar.
    pub satisfaction_bar: f64,
    /// The compared wave.
    pub compared_with: Option<i32>,
    /// Dimensions of the mass step, in order.
    pub dimensions: Vec<Label>,
    /// Items of the mass step, in order.
    pub items: Vec<Label>,
    /// The whole wave at a glance, pooling only the units whose figures are shown.
    pub summary: Summary,
    /// One row per target unit, in unit-code order.
    pub units: Vec<UnitReport>,
    /// Comments of units at or above the comment threshold, shuffled: (unit code, text).
    pub comments: Vec<(String, String)>,
    /// The hash of the wave's record (hex sha256), once its results are final; `None` for
    /// a test wave or one finished before records were kept.
    pub record_hash: Option<String>,
}

/// The footer line every export carries: the wave record's hash, which `sanping wave
/// verify` recomputes.
pub fn record_line(report: &WaveReport) -> String {
    match &report.record_hash {
        Some(h) => format!("批次记录 record {h}"),
        None => "批次记录 record —（无记录：演练批次或早期批次）".to_owned(),
    }
}

fn mass_view(survey: &Survey, tally: &Tally) -> MassView {
    let f = scoring::mass_figures(survey, tally);
    MassView {
        responses: tally.responses,
        satisfaction_rate: f.overall.rate,
        satisfaction_interval: f.overall.interval,
        satisfaction_index: f.overall.index,
        dimensions: f.dimensions,
        items: f.items,
    }
}

/// Builds the report of a closed or published wave.
pub fn build(
    conn: &mut DbConn,
    wave_id: i32,
    compare: Option<i32>,
) -> Result<WaveReport, ReportError> {
    let wave = wave_mod::get(conn, wave_id)?;
    if matches!(State::parse(&wave.state), State::Draft | State::Open) {
        return Err(ReportError::Open(wave_id));
    }
    wave_mod::require_unsealed(&wave, "a report")?;
    let survey = wave_mod::survey_of(&wave)?;
    let mut report = compute(conn, &wave, &survey)?;
    if let Some(other) = compare {
        let then = build(conn, other, None)?;
        let by_code: HashMap<&str, &UnitReport> =
            then.units.iter().map(|u| (u.code.as_str(), u)).collect();
        for u in &mut report.units {
            let Some(old) = by_code.get(u.code.as_str()) else {
                continue;
            };
            u.change = Some(change(u, old));
        }
        report.compared_with = Some(other);
    }
    Ok(report)
}

/// A unit's change against its row in another wave: differences of shown figures only.
fn change(now: &UnitReport, then: &UnitReport) -> Change {
    let delta = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| a - b);
    // `mass` is absent wherever the disclosure rule hides it, in either wave.
    let rate = |r: &UnitReport| r.mass.as_ref().and_then(|m| m.satisfaction_rate);
    let index = |r: &UnitReport| r.mass.as_ref().and_then(|m| m.satisfaction_index);
    Change {
        satisfaction_rate: delta(rate(now), rate(then)),
        satisfaction_index: delta(index(now), index(then)),
        composite: delta(now.composite.score, then.composite.score),
    }
}

/// Everything a unit's row is computed from.
struct Inputs {
    own: BTreeMap<String, Tally>,
    rolled: BTreeMap<String, Tally>,
    shown: disclosure::Disclosure,
    nodes: Vec<Node>,
    invited: HashMap<String, u64>,
    selfs: BTreeMap<String, BTreeMap<String, assess::Stored>>,
    orgs: BTreeMap<String, BTreeMap<String, assess::Stored>>,
}

impl Inputs {
    /// The mass side of a report: the tree of target units, their roll-ups and what the
    /// disclosure rule lets it show; no invitations or sheets of the other steps yet.
    fn new(targets: &[units::Unit], own: BTreeMap<String, Tally>, k: u64) -> Self {
        let target_codes: std::collections::HashSet<&str> =
            targets.iter().map(|u| u.code.as_str()).collect();
        // The tree of target units: a parent outside the targets (the committee) is no node.
        let nodes: Vec<Node> = targets
            .iter()
            .map(|u| Node {
                code: u.code.clone(),
                parent: u
                    .parent
                    .clone()
                    .filter(|p| target_codes.contains(p.as_str())),
            })
            .collect();
        let rolled = scoring::rollup(&nodes, &own);
        let counts: BTreeMap<String, u64> = targets
            .iter()
            .map(|u| (u.code.clone(), own.get(&u.code).map_or(0, |t| t.responses)))
            .collect();
        let shown = disclosure::disclose(&nodes, &counts, k);
        Self {
            own,
            rolled,
            shown,
            nodes,
            invited: HashMap::new(),
            selfs: BTreeMap::new(),
            orgs: BTreeMap::new(),
        }
    }
}

fn row(survey: &Survey, u: &units::Unit, inp: &Inputs) -> UnitReport {
    let empty = Tally::default();
    let tally = inp.own.get(&u.code).unwrap_or(&empty);
    let suppressed = inp.shown.hidden.contains(&u.code);
    let mass = (!suppressed).then(|| mass_view(survey, tally));
    let (rollup, rollup_left_out) = match inp.shown.rollups.get(&u.code) {
        Some(RollupView::Full) => (
            Some(mass_view(survey, inp.rolled.get(&u.code).unwrap_or(&empty))),
            Vec::new(),
        ),
        Some(RollupView::Partial { left_out }) => {
            let mut pooled = Tally::default();
            for code in inp.shown.rollup_members(&inp.nodes, &u.code) {
                if let Some(t) = inp.own.get(&code) {
                    pooled.merge(t);
                }
            }
            (Some(mass_view(survey, &pooled)), left_out.clone())
        }
        Some(RollupView::Hidden) | None => (None, Vec::new()),
    };
    let self_score = inp
        .selfs
        .get(&u.code)
        .and_then(|m| m.get(""))
        .filter(|s| s.submitted)
        .and_then(|s| scoring::sheet_score(survey, StepKind::SelfAssessment, &s.sheet.answers));
    let sheets: Vec<BTreeMap<String, String>> = inp
        .orgs
        .get(&u.code)
        .map(|m| m.values().map(|s| s.sheet.answers.clone()).collect())
        .unwrap_or_default();
    let org = scoring::org_figures(survey, &sheets);
    let rate = mass.as_ref().and_then(|m| m.satisfaction_rate);
    let index = mass.as_ref().and_then(|m| m.satisfaction_index);
    let composite = scoring::composite(&survey.weights, self_score, index, org.score);
    let grade = scoring::grade(survey, composite.score, rate);
    let invited = inp.invited.get(&u.code).copied().unwrap_or(0);
    UnitReport {
        code: u.code.clone(),
        name: u.name.clone(),
        kind: u.kind.clone(),
        parent: u.parent.clone(),
        invited,
        responses: tally.responses,
        response_rate: scoring::response_rate(tally.responses, invited),
        suppressed,
        mass,
        rollup,
        rollup_left_out,
        rollup_responses: inp.rolled.get(&u.code).map_or(0, |t| t.responses),
        self_score,
        org,
        grade: grade
            .as_ref()
            .map(|g| survey.grades[g.grade].label.zh.clone()),
        grade_index: grade.as_ref().map(|g| g.grade),
        grade_capped: grade.is_some_and(|g| g.capped),
        composite,
        bar_met: scoring::bar_met(survey, rate),
        rank: None,
        rank_of: None,
        change: None,
    }
}

fn compute(conn: &mut DbConn, wave: &Wave, survey: &Survey) -> Result<WaveReport, ReportError> {
    let targets = wave_mod::frame(conn, wave)?;
    let tally::Counts { own, invited } = tally::load(conn, wave.id)?;
    let mut comments: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (unit, text) in waves::comments_of(conn, wave.id)? {
        comments.entry(unit).or_default().push(text);
    }
    let k = u64::from(survey.anonymity.min_responses);
    let mut inputs = Inputs::new(&targets, own, k);
    inputs.invited = invited;
    inputs.selfs = assess::all(conn, wave.id, StepKind::SelfAssessment)?;
    inputs.orgs = assess::all(conn, wave.id, StepKind::Org)?;
    let mut rows: Vec<UnitReport> = targets.iter().map(|u| row(survey, u, &inputs)).collect();
    let entries: Vec<(String, String, Option<f64>)> = rows
        .iter()
        .map(|r| (r.code.clone(), r.kind.clone(), r.composite.score))
        .collect();
    let ranks = scoring::rank(&entries);
    let mut ranked: HashMap<String, usize> = HashMap::new();
    for r in rows.iter().filter(|r| ranks.contains_key(&r.code)) {
        *ranked.entry(r.kind.clone()).or_default() += 1;
    }
    for r in &mut rows {
        r.rank = ranks.get(&r.code).copied();
        r.rank_of = r.rank.and(ranked.get(&r.kind).copied());
    }
    let summary = summary::summarize(survey, &inputs, &rows);
    let min_comments = u64::from(survey.anonymity.min_comments);
    let mut shown: Vec<(String, String)> = rows
        .iter()
        .filter(|r| !r.suppressed && r.responses >= min_comments)
        .flat_map(|r| {
            comments
                .remove(&r.code)
                .unwrap_or_default()
                .into_iter()
                .map(|c| (r.code.clone(), c))
        })
        .collect();
    shown.shuffle(&mut rand::rng());
    let mass = survey.step(StepKind::Mass);
    let label = |id: &str, text: &str| Label {
        id: id.to_owned(),
        text: text.to_owned(),
    };
    Ok(WaveReport {
        wave: wave.id,
        title: wave.title.clone(),
        state: wave.state.clone(),
        survey: survey.id.clone(),
        fingerprint: wave.fingerprint.clone(),
        min_responses: survey.anonymity.min_responses,
        min_comments: survey.anonymity.min_comments,
        satisfaction_bar: scoring::satisfaction_bar(survey),
        compared_with: None,
        dimensions: mass
            .dimensions
            .iter()
            .map(|d| label(&d.id, &d.name.zh))
            .collect(),
        items: mass.items().map(|i| label(&i.id, &i.text.zh)).collect(),
        summary,
        units: rows,
        comments: shown,
        record_hash: crate::record::hash_of(conn, wave.id)?,
    })
}

/// The Chinese name of a unit kind id.
pub fn kind_label(kind: &str) -> &str {
    UnitKind::parse(kind).map_or(kind, |k| k.label())
}

#[cfg(test)]
mod tests;
