//! Results of a people wave (民主评议): per rated person the ratings per grade, the shares of
//! the top and the low grades, the suggested grade by the survey's rules and the committee's
//! final grade — shown only for people rated by at least k raters (样本不足 otherwise) —
//! and, for readers who may not see people, counts per unit.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::db::DbConn;
use crate::db::rated::{self, FinalGrade};
use crate::domain::people::{PeopleSpec, is_team};
use crate::domain::survey::{Scale, Survey};
use crate::wave::{self as wave_mod, State, WaveError};

use super::ReportError;

/// One option of the grade scale with its count.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct GradeCount {
    /// The option id.
    pub id: String,
    /// Its label (zh).
    pub label: String,
    /// Ratings (or people) with it.
    pub count: u64,
}

/// One item's ratings of a person (班子测评 asks several).
#[derive(Debug, Clone, Serialize)]
pub struct ItemResult {
    /// The item id.
    pub id: String,
    /// The question.
    pub text: String,
    /// Ratings per option.
    pub counts: Vec<GradeCount>,
    /// Mean score of the valid ratings, 0–100.
    pub index: Option<f64>,
}

/// A suggested or final grade, with its label.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct GradeOf {
    /// Option id of the grade scale.
    pub id: String,
    /// Its label (zh).
    pub label: String,
}

/// One rated person's (or leadership team's) result.
#[derive(Debug, Clone, Serialize)]
pub struct PersonResult {
    /// Address, or `team:<unit>`.
    pub key: String,
    /// Address; `None` for a leadership team.
    pub email: Option<String>,
    /// Name (a team: "<unit>领导班子").
    pub name: String,
    /// Unit code.
    pub unit: String,
    /// Unit name.
    pub unit_name: String,
    /// Whether this is the leadership team as a whole.
    pub team: bool,
    /// How many raters rated them.
    pub raters: u64,
    /// Fewer than k raters: nothing of the ratings is shown.
    pub suppressed: bool,
    /// Ratings per grade of the overall item; `None` when suppressed.
    pub counts: Option<Vec<GradeCount>>,
    /// Share of the top grade among valid ratings.
    pub share_top: Option<f64>,
    /// Share of the low grades (options that take a reason) among valid ratings.
    pub share_low: Option<f64>,
    /// Every item's ratings; empty when suppressed.
    pub items: Vec<ItemResult>,
    /// The suggested grade by the survey's rules; `None` when suppressed.
    pub suggested: Option<GradeOf>,
    /// Whether a flagging rule matched (e.g. 不合格候选).
    pub flagged: bool,
    /// The committee's final grade (组织评定), when recorded.
    pub final_grade: Option<GradeOf>,
    /// Why, as the committee wrote it.
    pub final_reason: Option<String>,
    /// Reasons raters gave with low grades, shuffled; empty when suppressed.
    pub reasons: Vec<String>,
}

/// Counts of one unit for readers who see no individual results.
#[derive(Debug, Clone, Serialize)]
pub struct UnitSummary {
    /// Unit code.
    pub unit: String,
    /// Unit name.
    pub name: String,
    /// People rated (teams not counted).
    pub people: u64,
    /// People with a result shown (at least k raters).
    pub shown: u64,
    /// Final grades per option.
    pub final_grades: Vec<GradeCount>,
    /// Suggested grades per option, over the people shown.
    pub suggested: Vec<GradeCount>,
    /// The most who may get the top grade (⌊n × cap⌋).
    pub max_top: u64,
}

/// The results of a people wave.
#[derive(Debug, Clone, Serialize)]
pub struct PeopleReport {
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
    /// k.
    pub min_raters: u32,
    /// The grade scale's options (id and label), best first.
    pub grades: Vec<GradeOf>,
    /// Whether the committee records final grades.
    pub final_grade: bool,
    /// The cap on the top grade, "a/b".
    pub top_cap: String,
    /// Every rated person and team, by unit and key.
    pub people: Vec<PersonResult>,
    /// Counts per unit.
    pub units: Vec<UnitSummary>,
    /// The raters' reasons were left out for this reader ([`PeopleReport::withhold_reasons`]).
    pub reasons_withheld: bool,
    /// The hash of the wave's record, once published.
    pub record_hash: Option<String>,
}

fn grade_of(scale: &Scale, id: &str) -> GradeOf {
    GradeOf {
        id: id.to_owned(),
        label: scale
            .option(id)
            .map_or_else(|| id.to_owned(), |o| o.label.zh.clone()),
    }
}

fn counts_of(scale: &Scale, counts: &BTreeMap<String, u64>) -> Vec<GradeCount> {
    scale
        .options
        .iter()
        .map(|o| GradeCount {
            id: o.id.clone(),
            label: o.label.zh.clone(),
            count: counts.get(&o.id).copied().unwrap_or(0),
        })
        .collect()
}

fn share(scale: &Scale, counts: &BTreeMap<String, u64>, hit: impl Fn(&str) -> bool) -> Option<f64> {
    let valid: u64 = scale
        .options
        .iter()
        .filter(|o| o.is_valid())
        .map(|o| counts.get(&o.id).copied().unwrap_or(0))
        .sum();
    let n: u64 = scale
        .options
        .iter()
        .filter(|o| o.is_valid() && hit(&o.id))
        .map(|o| counts.get(&o.id).copied().unwrap_or(0))
        .sum();
    #[allow(clippy::cast_precision_loss)]
    (valid > 0).then(|| n as f64 / valid as f64)
}

fn index_of(scale: &Scale, counts: &BTreeMap<String, u64>) -> Option<f64> {
    let (mut sum, mut n) = (0.0, 0u64);
    for o in &scale.options {
        if let Some(score) = o.score {
            let c = counts.get(&o.id).copied().unwrap_or(0);
            #[allow(clippy::cast_precision_loss)]
            {
                sum += score * c as f64;
            }
            n += c;
        }
    }
    #[allow(clippy::cast_precision_loss)]
    (n > 0).then(|| sum / n as f64)
}

/// The people wave's survey and spec, or why there is none.
pub fn spec_of(wave: &crate::db::waves::Wave) -> Result<(Survey, PeopleSpec), WaveError> {
    let survey = wave_mod::survey_of(wave)?;
    let spec = survey.people.clone().ok_or_else(|| {
        WaveError::Invalid(format!(
            "wave {} evaluates units, not people: use `sanping report {}`",
            wave.id, wave.id
        ))
    })?;
    Ok((survey, spec))
}

/// Builds the results of a closed (unsealed) or published people wave.
pub fn build(conn: &mut DbConn, wave_id: i32) -> Result<PeopleReport, ReportError> {
    let wave = wave_mod::get(conn, wave_id)?;
    if matches!(State::parse(&wave.state), State::Draft | State::Open) {
        return Err(ReportError::Open(wave_id));
    }
    wave_mod::require_unsealed(&wave, "a report")?;
    let (survey, spec) = spec_of(&wave)?;
    let overall = survey.scales[&spec.overall_item().scale].clone();
    let mut tallies: HashMap<String, BTreeMap<String, BTreeMap<String, u64>>> = HashMap::new();
    for (person, item, choice, n) in rated::counts_of(conn, wave_id)? {
        *tallies
            .entry(person)
            .or_default()
            .entry(item)
            .or_default()
            .entry(choice)
            .or_default() += u64::try_from(n).unwrap_or(0);
    }
    let grades: HashMap<String, FinalGrade> = rated::grades_of(conn, wave_id)?
        .into_iter()
        .map(|g| (g.person.clone(), g))
        .collect();
    let unit_names: HashMap<String, String> = crate::db::frames::units_of(conn, wave_id)?
        .into_iter()
        .map(|u| (u.code, u.name))
        .collect();
    let mut reasons = rated::reasons_by_person(conn, wave_id)?;
    let empty = BTreeMap::new();
    let mut people = Vec::new();
    for r in rated::of_wave(conn, wave_id)? {
        let per_item = tallies.get(&r.person);
        let counts = per_item
            .and_then(|t| t.get(&spec.overall))
            .unwrap_or(&empty);
        let raters: u64 = counts.values().sum();
        let suppressed = !spec.disclosed(raters);
        let team = is_team(&r.person);
        let final_grade = grades.get(&r.person);
        let suggestion = (!suppressed).then(|| spec.suggest(&overall, counts));
        let items = if suppressed {
            Vec::new()
        } else {
            spec.items
                .iter()
                .map(|item| {
                    let scale = &survey.scales[&item.scale];
                    let c = per_item.and_then(|t| t.get(&item.id)).unwrap_or(&empty);
                    ItemResult {
                        id: item.id.clone(),
                        text: item.text.zh.clone(),
                        counts: counts_of(scale, c),
                        index: index_of(scale, c),
                    }
                })
                .collect()
        };
        let top = overall
            .options
            .first()
            .map(|o| o.id.clone())
            .unwrap_or_default();
        people.push(PersonResult {
            email: (!team).then(|| r.person.clone()),
            unit_name: unit_names
                .get(&r.unit)
                .cloned()
                .unwrap_or_else(|| r.unit.clone()),
            team,
            raters,
            suppressed,
            counts: (!suppressed).then(|| counts_of(&overall, counts)),
            share_top: if suppressed {
                None
            } else {
                share(&overall, counts, |id| id == top)
            },
            share_low: if suppressed {
                None
            } else {
                share(&overall, counts, |id| {
                    overall.option(id).is_some_and(|o| o.reason)
                })
            },
            items,
            flagged: suggestion.as_ref().is_some_and(|s| s.flagged),
            suggested: suggestion.map(|s| grade_of(&overall, &s.grade)),
            final_grade: final_grade.map(|g| grade_of(&overall, &g.grade)),
            final_reason: final_grade
                .map(|g| g.reason.clone())
                .filter(|r| !r.is_empty()),
            reasons: if suppressed {
                Vec::new()
            } else {
                reasons.remove(&r.person).unwrap_or_default()
            },
            key: r.person,
            name: r.name,
            unit: r.unit,
        });
    }
    let units = unit_summaries(&spec, &overall, &people);
    Ok(PeopleReport {
        wave: wave_id,
        title: wave.title.clone(),
        state: State::parse(&wave.state).as_str().to_owned(),
        survey: survey.id.clone(),
        fingerprint: wave.fingerprint.clone(),
        min_raters: spec.min_raters,
        grades: overall
            .options
            .iter()
            .map(|o| grade_of(&overall, &o.id))
            .collect(),
        final_grade: spec.final_grade,
        top_cap: spec.top_cap.to_string(),
        people,
        units,
        reasons_withheld: false,
        record_hash: crate::record::hash_of(conn, wave_id)?,
    })
}

impl PeopleReport {
    /// Leaves out every reason raters gave (figures and grades stay): for a reader outside
    /// the wave's own scope ([`super::words_readable`]), as a unit wave's comments.
    pub fn withhold_reasons(&mut self) {
        for p in &mut self.people {
            p.reasons.clear();
        }
        self.reasons_withheld = true;
    }
}

/// Counts per unit: final grades of everyone, suggested grades of the people shown.
fn unit_summaries(spec: &PeopleSpec, overall: &Scale, people: &[PersonResult]) -> Vec<UnitSummary> {
    let mut by_unit: BTreeMap<&str, Vec<&PersonResult>> = BTreeMap::new();
    for p in people.iter().filter(|p| !p.team) {
        by_unit.entry(p.unit.as_str()).or_default().push(p);
    }
    by_unit
        .into_iter()
        .map(|(unit, list)| {
            let mut finals = BTreeMap::new();
            let mut suggested = BTreeMap::new();
            for p in &list {
                if let Some(g) = &p.final_grade {
                    *finals.entry(g.id.clone()).or_insert(0u64) += 1;
                }
                if let Some(g) = &p.suggested {
                    *suggested.entry(g.id.clone()).or_insert(0u64) += 1;
                }
            }
            let n = list.len() as u64;
            UnitSummary {
                unit: unit.to_owned(),
                name: list[0].unit_name.clone(),
                people: n,
                shown: list.iter().filter(|p| !p.suppressed).count() as u64,
                final_grades: counts_of(overall, &finals),
                suggested: counts_of(overall, &suggested),
                max_top: spec.max_top(n),
            }
        })
        .collect()
}

/// One rated person's own result (for their own link or account), or `None` when they are
/// not rated in the wave.
pub fn result_of(
    conn: &mut DbConn,
    wave_id: i32,
    person: &str,
) -> Result<Option<PersonResult>, ReportError> {
    Ok(build(conn, wave_id)?
        .people
        .into_iter()
        .find(|p| p.key == person))
}

/// The report as readers without the right to see people get it: no person, only the
/// counts per unit.
pub fn aggregate_only(mut report: PeopleReport) -> PeopleReport {
    report.people.clear();
    report
}
