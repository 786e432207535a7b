//! Scoring: from raw answers to the figures, scores, grades and ranks of the evaluation.
//!
//! What belongs here: every computation that turns counted answers into numbers a report
//! shows — satisfaction rate (满意率), satisfaction index (满意度指数) and its interval, sheet
//! scores of the self and org steps, the committee's trimmed mean, the composite (综合得分),
//! the grade (分类定级) with its gates, the 90% bar of 六好 item 18, response rates, roll-ups
//! of the unit tree, rankings, the clustered interval of pooled rates ([`moments`]) and
//! the anonymity rule of what may be shown ("样本不足", [`disclosure`]).
//!
//! What does not: reading answers from the database, caching, formatting. Everything here is
//! pure (std, serde and the survey types only) so it is tested in isolation and the CLI, the
//! web pages and the exports compute the same numbers. Every scale value, weight, band and
//! gate comes from the [`Survey`]; none is written in code.
//!
//! Figures are always computed from raw counts ([`Tally`]), never from averages of
//! averages, so a parent's rate is the rate of everyone who answered in its subtree.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::survey::{Scale, StepKind, Survey, Weights};

pub mod disclosure;
pub mod moments;

pub use moments::{MomentPlan, Moments, OVERALL};

/// Tolerance of threshold comparisons (bands, gates, the bar, rank ties). With weights
/// 0.2 / 0.4 / 0.4 and no mass score, self 40 and org 100 make (8 + 40) / 0.6 = 80 exactly,
/// but 79.999… in floating point; without a tolerance float noise would move a unit down a
/// grade or fail it on item 18.
const EPS: f64 = 1e-9;

/// z of a two-sided 95% interval.
const Z95: f64 = 1.96;

/// Bar of 六好 item 18 when a survey has no gate to take it from.
const DEFAULT_BAR: f64 = 0.9;

/// Fewest scorers for which the committee's extremes are dropped (去掉一个最高分和一个最低分).
const TRIM_MIN_SCORERS: usize = 5;

// ---- tallies ---------------------------------------------------------------------------

/// Raw counts of a group's mass answers (a unit, or a pooled subtree).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Tally {
    /// Answer sheets counted.
    pub responses: u64,
    /// item id → option id → count.
    pub items: BTreeMap<String, BTreeMap<String, u64>>,
    /// Per-respondent sums by scope (dimension id, or [`OVERALL`]): what the clustered
    /// interval of a pooled rate needs, since option counts cannot say whose answers they
    /// were. Filled by [`Tally::add_sheet`]; empty for a tally of counts only.
    pub moments: BTreeMap<String, Moments>,
}

impl Tally {
    /// Counts one answer sheet (item id → chosen option id). Nothing is checked against the
    /// survey here: unknown ids are counted and later ignored by [`mass_figures`], so a
    /// tally can be built before (or without) knowing which survey version it belongs to.
    pub fn add_response(&mut self, answers: &BTreeMap<String, String>) {
        self.add_pairs(answers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    }

    /// Counts one answer sheet given as (item id, option id) pairs, allocating only for
    /// an id not seen before: the same as [`Tally::add_response`], for a million sheets.
    pub fn add_pairs<'a>(&mut self, answers: impl IntoIterator<Item = (&'a str, &'a str)>) {
        self.responses += 1;
        for (item, option) in answers {
            let options = match self.items.get_mut(item) {
                Some(o) => o,
                None => self.items.entry(item.to_owned()).or_default(),
            };
            match options.get_mut(option) {
                Some(n) => *n += 1,
                None => {
                    options.insert(option.to_owned(), 1);
                }
            }
        }
    }

    /// Counts one sheet as [`Tally::add_pairs`] does and adds its respondent's sums.
    pub fn add_sheet<'a>(
        &mut self,
        plan: &MomentPlan<'_>,
        answers: impl IntoIterator<Item = (&'a str, &'a str)> + Clone,
    ) {
        self.add_pairs(answers.clone());
        plan.add_sheet(answers, &mut self.moments);
    }

    /// Whether two tallies agree: equal counts, and sums equal up to float rounding.
    pub fn agrees(&self, other: &Tally) -> bool {
        self.responses == other.responses
            && self.items == other.items
            && self.moments.len() == other.moments.len()
            && self
                .moments
                .iter()
                .all(|(k, m)| other.moments.get(k).is_some_and(|o| m.agrees(o)))
    }

    /// Adds another group's raw counts: the pooled tally of both groups.
    pub fn merge(&mut self, other: &Tally) {
        for (scope, m) in &other.moments {
            self.moments.entry(scope.clone()).or_default().merge(m);
        }
        self.responses += other.responses;
        for (item, options) in &other.items {
            let mine = self.items.entry(item.clone()).or_default();
            for (option, n) in options {
                *mine.entry(option.clone()).or_default() += n;
            }
        }
    }
}

// ---- mass figures ----------------------------------------------------------------------

/// Rate, index and interval of a set of answers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Figures {
    /// All answers given (valid and not valid), weighted by item weight.
    pub answers: f64,
    /// Valid votes, weighted by item weight.
    pub valid: f64,
    /// Valid votes on options with `satisfied = true`, weighted by item weight.
    pub satisfied: f64,
    /// Satisfaction rate `satisfied / valid`; `None` when there is no valid vote.
    pub rate: Option<f64>,
    /// Satisfaction index: mean score of the valid votes, 0..=100; `None` without votes.
    pub index: Option<f64>,
    /// 95% interval of the rate; `None` without votes. Of an item: Wilson's score
    /// interval (z = 1.96) with n = `valid`. Of a dimension or all items: clustered by
    /// respondent ([`Moments::interval`]), since one person's answers are not independent;
    /// `None` when the tally has no per-respondent sums. Shown next to rates so a 4-of-5
    /// is not read as a hard 80%.
    pub interval: Option<(f64, f64)>,
}

/// Running sums behind a [`Figures`].
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    answers: f64,
    valid: f64,
    satisfied: f64,
    score: f64,
}

impl Sums {
    /// Adds `n` answers on an option (`None` = not on the scale's valid options).
    fn add(&mut self, weight: f64, n: u64, score: Option<f64>, satisfied: bool) {
        let w = weight * n as f64;
        self.answers += w;
        if let Some(s) = score {
            self.valid += w;
            self.score += w * s;
            if satisfied {
                self.satisfied += w;
            }
        }
    }

    fn add_sums(&mut self, weight: f64, other: &Sums) {
        self.answers += weight * other.answers;
        self.valid += weight * other.valid;
        self.satisfied += weight * other.satisfied;
        self.score += weight * other.score;
    }

    fn figures(&self) -> Figures {
        let known = self.valid > 0.0;
        // Clamps only absorb float noise: the validated scores are within 0..=100.
        let rate = known.then(|| (self.satisfied / self.valid).clamp(0.0, 1.0));
        Figures {
            answers: self.answers,
            valid: self.valid,
            satisfied: self.satisfied,
            rate,
            index: known.then(|| (self.score / self.valid).clamp(0.0, 100.0)),
            interval: rate.map(|p| wilson(p, self.valid)),
        }
    }
}

/// Wilson score interval of rate `p` over `n > 0` votes at z = 1.96, clamped to [0, 1].
fn wilson(p: f64, n: f64) -> (f64, f64) {
    let z2 = Z95 * Z95;
    let denom = 1.0 + z2 / n;
    let center = (p + z2 / (2.0 * n)) / denom;
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    (
        (center - half).clamp(0.0, 1.0),
        (center + half).clamp(0.0, 1.0),
    )
}

/// Figures of one mass item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemFigures {
    /// The item's id.
    pub item: String,
    /// Count of every option of the item's scale, in scale order (zeros included, so a
    /// table has the same columns for every unit).
    pub counts: Vec<(String, u64)>,
    /// The item's own figures. Its weight is not applied here (`answers` and `valid` are
    /// plain counts): a weight only says how much the item counts when items are pooled.
    pub figures: Figures,
}

/// Figures of one dimension of the mass step (e.g. one of the six 好).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DimensionFigures {
    /// The dimension's id.
    pub dimension: String,
    /// Its items' counts pooled, weighted by item weight.
    pub figures: Figures,
}

/// All figures of the mass step of a group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MassFigures {
    /// Answer sheets counted.
    pub responses: u64,
    /// Per item, in survey order.
    pub items: Vec<ItemFigures>,
    /// Per dimension, in survey order.
    pub dimensions: Vec<DimensionFigures>,
    /// All items pooled: the rate checked against the 90% bar and the index that enters
    /// the composite.
    pub overall: Figures,
}

/// Figures of the mass step from raw counts. Dimension and overall figures pool the items'
/// counts weighted by item weight (weights all 1 ⇒ pooled answers). Options and items that
/// are not in the survey's mass step are ignored.
pub fn mass_figures(survey: &Survey, tally: &Tally) -> MassFigures {
    let mut items = Vec::new();
    let mut dimensions = Vec::new();
    let mut overall = Sums::default();
    for dim in &survey.step(StepKind::Mass).dimensions {
        let mut pooled = Sums::default();
        for item in &dim.items {
            let scale = survey.scale_of(item);
            let given = tally.items.get(&item.id);
            let mut own = Sums::default();
            let counts = scale
                .options
                .iter()
                .map(|o| {
                    let n = given.and_then(|g| g.get(&o.id)).copied().unwrap_or(0);
                    own.add(1.0, n, o.score, o.satisfied);
                    (o.id.clone(), n)
                })
                .collect();
            pooled.add_sums(item.weight, &own);
            items.push(ItemFigures {
                item: item.id.clone(),
                counts,
                figures: own.figures(),
            });
        }
        // Summing the items' weighted sums (not the dimensions' figures) keeps the overall
        // figures a pool of raw counts.
        overall.add_sums(1.0, &pooled);
        dimensions.push(DimensionFigures {
            dimension: dim.id.clone(),
            figures: clustered(pooled.figures(), tally.moments.get(&dim.id)),
        });
    }
    MassFigures {
        responses: tally.responses,
        items,
        dimensions,
        overall: clustered(overall.figures(), tally.moments.get(OVERALL)),
    }
}

/// A pooled figure with its interval clustered by respondent (Wilson over pooled answers
/// would treat one person's answers as independent).
fn clustered(mut f: Figures, moments: Option<&Moments>) -> Figures {
    f.interval = f.rate.and(moments.and_then(Moments::interval));
    f
}

// ---- self and org steps ----------------------------------------------------------------

/// The score of a chosen option, when it is a valid vote of the scale.
fn option_score(scale: &Scale, option: &str) -> Option<f64> {
    scale.option(option).and_then(|o| o.score)
}

/// Score 0..=100 of one sheet of a step (the self-assessment or one committee member's):
/// the weighted mean of the chosen options' scores over the answered valid items; `None`
/// when no item has a valid answer. Unanswered items are left out rather than counted as
/// 0, so an optional item does not punish a unit.
pub fn sheet_score(
    survey: &Survey,
    step: StepKind,
    answers: &BTreeMap<String, String>,
) -> Option<f64> {
    let (mut sum, mut weights) = (0.0, 0.0);
    for item in survey.step(step).items() {
        let score = answers
            .get(&item.id)
            .and_then(|a| option_score(survey.scale_of(item), a));
        if let Some(s) = score {
            sum += item.weight * s;
            weights += item.weight;
        }
    }
    (weights > 0.0).then(|| (sum / weights).clamp(0.0, 100.0))
}

/// The committee's figures of a unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrgFigures {
    /// Members whose sheet has a score (sheets without a valid answer are not counted).
    pub scorers: usize,
    /// Each counted member's sheet score, ascending (before trimming).
    pub scores: Vec<f64>,
    /// Whether one highest and one lowest score were dropped.
    pub trimmed: bool,
    /// The committee's score; `None` when no member scored.
    pub score: Option<f64>,
}

/// The committee's score of a unit: the mean of the members' sheet scores, after dropping
/// one highest and one lowest when the org step has `trim_extremes` and there are at least
/// 5 scores. Sheets with no valid answer are left out.
pub fn org_figures(survey: &Survey, sheets: &[BTreeMap<String, String>]) -> OrgFigures {
    let mut scores: Vec<f64> = sheets
        .iter()
        .filter_map(|s| sheet_score(survey, StepKind::Org, s))
        .collect();
    scores.sort_by(f64::total_cmp);
    let trimmed = survey.step(StepKind::Org).trim_extremes && scores.len() >= TRIM_MIN_SCORERS;
    let kept = if trimmed {
        &scores[1..scores.len() - 1]
    } else {
        &scores[..]
    };
    let score = (!kept.is_empty()).then(|| kept.iter().sum::<f64>() / kept.len() as f64);
    OrgFigures {
        scorers: scores.len(),
        scores,
        trimmed,
        score,
    }
}

// ---- composite and grade ---------------------------------------------------------------

/// The composite score (综合得分) of a unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Composite {
    /// The composite, 0..=100; `None` when it rests on nothing.
    pub score: Option<f64>,
    /// The steps it rests on, in step order.
    pub steps: Vec<StepKind>,
    /// The steps without a score, in step order: reports must say the composite lacks them.
    pub missing: Vec<StepKind>,
}

/// Weighted mean of the present step scores, the survey's weights renormalized over the
/// present steps (a missing step is reported in `missing`); `None` when no step is present
/// or the present weights sum to 0. Renormalizing keeps the composite on the 0..=100 scale
/// so it can still be graded; `missing` keeps that visible.
pub fn composite(
    weights: &Weights,
    self_score: Option<f64>,
    mass_index: Option<f64>,
    org_score: Option<f64>,
) -> Composite {
    let parts = [
        (
            StepKind::SelfAssessment,
            weights.self_assessment,
            self_score,
        ),
        (StepKind::Mass, weights.mass, mass_index),
        (StepKind::Org, weights.org, org_score),
    ];
    let (mut sum, mut total) = (0.0, 0.0);
    let (mut steps, mut missing) = (Vec::new(), Vec::new());
    for (kind, w, score) in parts {
        match score {
            Some(s) => {
                sum += w * s;
                total += w;
                steps.push(kind);
            }
            None => missing.push(kind),
        }
    }
    Composite {
        score: (total > 0.0).then(|| (sum / total).clamp(0.0, 100.0)),
        steps,
        missing,
    }
}

/// A unit's grade (分类定级).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GradeResult {
    /// Index into [`Survey::grades`] of the grade given.
    pub grade: usize,
    /// Index of the band the score alone reaches, before gates.
    pub band: usize,
    /// Whether a gate made the grade worse than the band.
    pub capped: bool,
}

/// The grade of a score: the first band whose `min <= score`; then every gate whose
/// `min_satisfaction` is above the known satisfaction rate caps it (grade = max(band, cap)
/// as index — a larger index is worse). An unknown satisfaction applies no gate: a unit
/// is not punished for a survey that could not be run, and reports show the rate missing.
/// `None` when the score is `None`.
pub fn grade(
    survey: &Survey,
    score: Option<f64>,
    satisfaction: Option<f64>,
) -> Option<GradeResult> {
    let score = score?;
    let last = survey.grades.len().saturating_sub(1);
    // The last band has min 0 (validated); a score below it still gets the worst grade.
    let band = survey
        .grades
        .iter()
        .position(|g| score + EPS >= g.min)
        .unwrap_or(last);
    let grade = survey
        .gates
        .iter()
        .filter(|g| satisfaction.is_some_and(|r| r + EPS < g.min_satisfaction))
        .fold(band, |grade, g| grade.max(g.cap));
    Some(GradeResult {
        grade,
        band,
        capped: grade > band,
    })
}

/// The satisfaction bar of the standard (六好 item 18: 90%): the highest gate threshold of
/// the survey, or 0.9 when it has no gate.
pub fn satisfaction_bar(survey: &Survey) -> f64 {
    survey
        .gates
        .iter()
        .map(|g| g.min_satisfaction)
        .reduce(f64::max)
        .unwrap_or(DEFAULT_BAR)
}

/// Whether a known satisfaction rate meets the bar (`rate >= bar`); `None` when unknown.
pub fn bar_met(survey: &Survey, rate: Option<f64>) -> Option<bool> {
    let bar = satisfaction_bar(survey);
    rate.map(|r| r + EPS >= bar)
}

/// Response rate `responses / invited`; `None` when nobody was invited.
pub fn response_rate(responses: u64, invited: u64) -> Option<f64> {
    (invited > 0).then(|| responses as f64 / invited as f64)
}

// ---- the unit tree ---------------------------------------------------------------------

/// A unit of the tree for roll-ups and suppression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The unit's code.
    pub code: String,
    /// Its parent's code; `None` for a root.
    pub parent: Option<String>,
}

/// Each unit's parent, by code (a parent not in the list ends the chain).
fn parents(nodes: &[Node]) -> BTreeMap<&str, Option<&str>> {
    nodes
        .iter()
        .map(|n| (n.code.as_str(), n.parent.as_deref()))
        .collect()
}

/// Each unit's subtree tally: its own tally merged with every descendant's (from raw
/// counts, never averages of averages). A unit with no own tally gets the pooled tally of
/// its descendants (or an empty tally). Returned for every node; tallies of codes that are
/// not nodes are ignored.
pub fn rollup(nodes: &[Node], own: &BTreeMap<String, Tally>) -> BTreeMap<String, Tally> {
    let parent = parents(nodes);
    let mut out: BTreeMap<String, Tally> = parent
        .keys()
        .map(|c| ((*c).to_owned(), Tally::default()))
        .collect();
    // Each unit's counts go to itself and every ancestor once. Walking up (rather than
    // down) needs no child lists, and the `seen` set stops a malformed cycle from looping.
    for (code, tally) in own {
        let mut at = Some(code.as_str());
        let mut seen = BTreeSet::new();
        while let Some(c) = at.filter(|c| seen.insert(*c)) {
            let Some(slot) = out.get_mut(c) else { break };
            slot.merge(tally);
            at = parent.get(c).copied().flatten();
        }
    }
    out
}

/// Competition ranking ("1, 2, 2, 4") by score, highest first, within each group (e.g.
/// unit kind); entries whose score is `None` (or NaN) get no rank. Input: (code, group,
/// score). Output: code → rank. Scores within 1e-9 of the first of a tie share its rank, so
/// float noise does not split equal composites.
pub fn rank(entries: &[(String, String, Option<f64>)]) -> BTreeMap<String, usize> {
    let mut groups: BTreeMap<&str, Vec<(&str, f64)>> = BTreeMap::new();
    for (code, group, score) in entries {
        if let Some(s) = score.filter(|s| !s.is_nan()) {
            groups.entry(group).or_default().push((code, s));
        }
    }
    let mut out = BTreeMap::new();
    for mut list in groups.into_values() {
        list.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let mut tie: Option<(f64, usize)> = None;
        for (i, (code, s)) in list.into_iter().enumerate() {
            let r = match tie {
                Some((lead, r)) if lead - s <= EPS => r,
                _ => {
                    tie = Some((s, i + 1));
                    i + 1
                }
            };
            out.insert(code.to_owned(), r);
        }
    }
    out
}

#[cfg(test)]
mod tests;
