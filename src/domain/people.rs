//! 民主评议: the evaluation of people — who rates whom in a unit, when a person's result may
//! be shown, the suggested grade and the quota on the top grade. Pure rules; the survey file
//! ([`PeopleSpec`], parsed in `survey`) holds every number, nothing is hard-coded here.

use std::collections::BTreeMap;

use super::survey::{Item, Scale};

pub mod sheet;

/// Longest reason a rater may give for a low grade, in characters.
pub const MAX_REASON_CHARS: usize = 200;

/// The `[people]` section of a survey file of `kind = "people"`.
#[derive(Debug, Clone)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "each bool is an independent yes/no key of the file, documented one by one"
)]
pub struct PeopleSpec {
    /// Roster roles whose holders are rated (any of them), e.g. `party`, `secretary`, `cadre`.
    pub rated_roles: Vec<String>,
    /// When not empty, only rated people of these roster categories are rated (e.g. `student`).
    pub rated_categories: Vec<String>,
    /// Who rates the rated people of a unit.
    pub raters: Raters,
    /// With [`Raters::Peers`]: the other people of the unit (群众) rate the rated ones too.
    pub masses: bool,
    /// The unit's leadership team as a whole is rated too (班子测评).
    pub team: bool,
    /// Each rated person writes a 个人总结 through their own link.
    pub summary: bool,
    /// k: a person's result is shown only when at least this many raters rated them.
    pub min_raters: u32,
    /// What is asked about each person, in order (every item required).
    pub items: Vec<Item>,
    /// The id of the item whose options are the grades: counted, suggested and recorded.
    pub overall: String,
    /// The unit's committee records a final grade per person (组织评定).
    pub final_grade: bool,
    /// At most ⌊n × cap⌋ of a unit's n rated people may get the overall scale's first option as
    /// their final grade.
    pub top_cap: Fraction,
    /// The suggested grade (an option id of the overall scale) when no rule matches.
    pub default_grade: String,
    /// Rules for the suggested grade, tried in order.
    pub suggest: Vec<Rule>,
}

/// Who rates the rated people of a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Raters {
    /// The rated people rate each other (党员互评).
    Peers,
    /// Everyone in the unit rates them (班子测评: members and staff).
    Unit,
}

/// A share, kept exact: `num / den`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fraction {
    /// Numerator.
    pub num: u64,
    /// Denominator (> 0).
    pub den: u64,
}

impl Fraction {
    /// ⌊n × self⌋.
    pub fn floor_of(self, n: u64) -> u64 {
        n * self.num / self.den
    }

    /// Whether `count / total ≥ self` (never for an empty total).
    pub fn reached_by(self, count: u64, total: u64) -> bool {
        total > 0
            && u128::from(count) * u128::from(self.den) >= u128::from(self.num) * u128::from(total)
    }
}

impl std::fmt::Display for Fraction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

/// A rule for the suggested grade: when the options `when` together have at least `min_share`
/// of a person's valid ratings, suggest `grade`.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Option id of the overall scale.
    pub grade: String,
    /// Option ids whose share is compared.
    pub when: Vec<String>,
    /// The share needed.
    pub min_share: Fraction,
    /// The rule marks a candidate for the committee to look at (e.g. 不合格候选), not a grade.
    pub flag: bool,
}

/// What the rules suggest for one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// An option id of the overall scale.
    pub grade: String,
    /// Whether a `flag` rule matched: the committee should look at this person.
    pub flagged: bool,
}

/// Someone on the frozen roster of a unit, as the rules need them.
pub trait Rosterable {
    /// Their key (email address).
    fn key(&self) -> &str;
    /// Their roster category.
    fn category(&self) -> &str;
    /// Whether they hold this roster role.
    fn has_role(&self, role: &str) -> bool;
}

impl PeopleSpec {
    /// Whether `p` is rated.
    pub fn is_rated(&self, p: &impl Rosterable) -> bool {
        self.rated_roles.iter().any(|r| p.has_role(r))
            && (self.rated_categories.is_empty()
                || self.rated_categories.iter().any(|c| c == p.category()))
    }

    /// Whether `p`, of a unit with rated people, rates them.
    pub fn is_rater(&self, p: &impl Rosterable) -> bool {
        match self.raters {
            Raters::Unit => true,
            Raters::Peers => self.masses || self.is_rated(p),
        }
    }

    /// The item whose options are the grades (validated to exist).
    pub fn overall_item(&self) -> &Item {
        self.items
            .iter()
            .find(|i| i.id == self.overall)
            .expect("the overall item is validated to exist")
    }

    /// The most people of a unit of `n` rated people who may get the top grade.
    pub fn max_top(&self, n: u64) -> u64 {
        self.top_cap.floor_of(n)
    }

    /// Whether a result over `raters` raters may be shown.
    pub fn disclosed(&self, raters: u64) -> bool {
        raters >= u64::from(self.min_raters)
    }

    /// The suggested grade for a person with `counts` ratings per option of the overall
    /// `scale`. Options that are not valid votes are left out of the shares.
    pub fn suggest(&self, scale: &Scale, counts: &BTreeMap<String, u64>) -> Suggestion {
        let valid: u64 = scale
            .options
            .iter()
            .filter(|o| o.is_valid())
            .map(|o| counts.get(&o.id).copied().unwrap_or(0))
            .sum();
        for rule in &self.suggest {
            let hit: u64 = rule
                .when
                .iter()
                .map(|w| counts.get(w).copied().unwrap_or(0))
                .sum();
            if rule.min_share.reached_by(hit, valid) {
                return Suggestion {
                    grade: rule.grade.clone(),
                    flagged: rule.flag,
                };
            }
        }
        Suggestion {
            grade: self.default_grade.clone(),
            flagged: false,
        }
    }
}

/// The plan of one unit: who is rated, who rates whom, or why it cannot take part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitPlan {
    /// Keys of the rated people, in roster order.
    pub rated: Vec<String>,
    /// Each rater's key and the keys they rate (never their own; [`team_key`] for the team).
    pub raters: Vec<(String, Vec<String>)>,
    /// Why the unit is left out (fewer possible raters than k for someone), if it is.
    pub too_small: Option<TooSmall>,
}

/// The key a unit's leadership team as a whole is rated under (never an email address).
pub fn team_key(unit: &str) -> String {
    format!("team:{unit}")
}

/// Whether a rated key is a leadership team rather than a person.
pub fn is_team(key: &str) -> bool {
    key.starts_with("team:")
}

/// A unit left out of rating: someone in it could never reach k raters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooSmall {
    /// The fewest raters anyone rated in the unit could have.
    pub possible: u64,
    /// k.
    pub needed: u32,
}

/// Who rates whom in a unit whose roster is `people`. Nobody rates themselves. A unit where
/// some rated person could have fewer than k raters takes no part (its `raters` is empty).
pub fn plan_unit<P: Rosterable>(spec: &PeopleSpec, unit: &str, people: &[P]) -> UnitPlan {
    let rated: Vec<String> = people
        .iter()
        .filter(|p| spec.is_rated(*p))
        .map(|p| p.key().to_owned())
        .collect();
    let raters: Vec<&P> = people.iter().filter(|p| spec.is_rater(*p)).collect();
    if rated.is_empty() {
        return UnitPlan {
            rated,
            raters: Vec::new(),
            too_small: None,
        };
    }
    let possible = rated
        .iter()
        .map(|r| raters.iter().filter(|p| p.key() != r).count() as u64)
        .min()
        .unwrap_or(0);
    if possible < u64::from(spec.min_raters) {
        return UnitPlan {
            rated,
            raters: Vec::new(),
            too_small: Some(TooSmall {
                possible,
                needed: spec.min_raters,
            }),
        };
    }
    let raters = raters
        .into_iter()
        .map(|p| {
            let mut targets: Vec<String> = rated
                .iter()
                .filter(|r| r.as_str() != p.key())
                .cloned()
                .collect();
            if spec.team {
                targets.push(team_key(unit));
            }
            (p.key().to_owned(), targets)
        })
        .collect();
    UnitPlan {
        rated,
        raters,
        too_small: None,
    }
}

#[cfg(test)]
mod tests;
