//! Per-respondent sums and the clustered interval of a pooled satisfaction rate.
//!
//! A dimension's or a unit's rate pools many answers of each respondent, and one person's
//! answers move together: Wilson's interval over all pooled answers treats them as
//! independent and is far too narrow (7 respondents × 18 items is not 126 observations).
//! The rate is a ratio estimator `R = Σy / Σx` over respondents, where `y` is a
//! respondent's satisfied (满意 + 基本满意) answers and `x` their valid answers, both
//! weighted by item weight. Its variance by linearization (Taylor series, the ratio
//! estimator's usual variance; the plug-in form, which is what the bootstrap estimates) is
//!
//! `v(R) = Σ (y_i − R x_i)² / (Σx)²`  with  `Σ (y_i − R x_i)² = Σy² − 2R Σxy + R² Σx²`,
//!
//! so it needs only the six sums kept in [`Moments`], which add up over disjoint groups
//! (roll-ups merge them). The interval shown is Wilson's at the *effective* sample size
//! `n_eff = R(1 − R) / v(R)` (Kish's design effect), kept between 1 and `Σx`; when `R` is 0
//! or 1 the variance says nothing and `n_eff` is the number of respondents. Wilson's form
//! keeps the interval inside [0, 1] and sensible near 100%, which the plain `R ± 1.96·√v`
//! is not. See `docs/statistics.md`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::super::survey::{Scale, StepKind, Survey};
use super::wilson;

/// The key of the all-items sums in a unit's moments (dimension ids are never empty).
pub const OVERALL: &str = "";

/// Sums over respondents of one group and one scope (a dimension, or all items).
/// Respondents without a valid answer in the scope are not counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Moments {
    /// Respondents with at least one valid answer in the scope.
    pub respondents: u64,
    /// Σy: satisfied answers, weighted.
    pub y: f64,
    /// Σx: valid answers, weighted.
    pub x: f64,
    /// Σy².
    pub yy: f64,
    /// Σx².
    pub xx: f64,
    /// Σxy.
    pub xy: f64,
}

impl Moments {
    /// Adds one respondent with `y` satisfied of `x` valid (weighted) answers.
    pub fn add(&mut self, y: f64, x: f64) {
        if x <= 0.0 {
            return;
        }
        self.respondents += 1;
        self.y += y;
        self.x += x;
        self.yy += y * y;
        self.xx += x * x;
        self.xy += x * y;
    }

    /// Adds a disjoint group's sums.
    pub fn merge(&mut self, o: &Moments) {
        self.respondents += o.respondents;
        self.y += o.y;
        self.x += o.x;
        self.yy += o.yy;
        self.xx += o.xx;
        self.xy += o.xy;
    }

    /// Whether two sums agree up to float rounding (sums in another order).
    pub fn agrees(&self, o: &Moments) -> bool {
        let near = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
        self.respondents == o.respondents
            && near(self.y, o.y)
            && near(self.x, o.x)
            && near(self.yy, o.yy)
            && near(self.xx, o.xx)
            && near(self.xy, o.xy)
    }

    /// The ratio `Σy / Σx`; `None` without a valid answer.
    pub fn rate(&self) -> Option<f64> {
        (self.x > 0.0).then(|| (self.y / self.x).clamp(0.0, 1.0))
    }

    /// The linearization variance of the rate (see the module doc).
    pub fn variance(&self) -> Option<f64> {
        let r = self.rate()?;
        // Rounding can take the sum of squared residuals a hair below zero.
        let residuals = (self.yy - 2.0 * r * self.xy + r * r * self.xx).max(0.0);
        Some(residuals / (self.x * self.x))
    }

    /// Effective number of independent answers behind the rate.
    pub fn effective_n(&self) -> Option<f64> {
        let r = self.rate()?;
        let v = self.variance()?;
        let spread = r * (1.0 - r);
        let n = if spread <= 0.0 {
            self.respondents as f64
        } else if v <= 0.0 {
            self.x
        } else {
            spread / v
        };
        Some(n.clamp(1.0, self.x.max(1.0)))
    }

    /// The 95% interval of the rate: Wilson's at the effective sample size.
    pub fn interval(&self) -> Option<(f64, f64)> {
        Some(wilson(self.rate()?, self.effective_n()?))
    }
}

/// What one item contributes to a respondent's sums: its dimension, weight and scale.
struct ItemPlan<'s> {
    dimension: &'s str,
    weight: f64,
    scale: &'s Scale,
}

/// The survey's mass items prepared for counting many sheets' moments.
pub struct MomentPlan<'s> {
    items: BTreeMap<&'s str, ItemPlan<'s>>,
}

impl<'s> MomentPlan<'s> {
    /// Prepares the mass step of `survey`.
    pub fn new(survey: &'s Survey) -> Self {
        let mut items = BTreeMap::new();
        for dim in &survey.step(StepKind::Mass).dimensions {
            for item in &dim.items {
                items.insert(
                    item.id.as_str(),
                    ItemPlan {
                        dimension: dim.id.as_str(),
                        weight: item.weight,
                        scale: survey.scale_of(item),
                    },
                );
            }
        }
        Self { items }
    }

    /// Adds one sheet (item id, option id) to `into` (scope → sums): once per dimension it
    /// has a valid answer in, and once to [`OVERALL`]. Unknown items and options, and
    /// answers that are not valid votes, are left out as [`super::mass_figures`] does.
    pub fn add_sheet<'a>(
        &self,
        answers: impl IntoIterator<Item = (&'a str, &'a str)>,
        into: &mut BTreeMap<String, Moments>,
    ) {
        let mut per: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
        for (item, option) in answers {
            let Some(plan) = self.items.get(item) else {
                continue;
            };
            let Some(o) = plan.scale.option(option).filter(|o| o.score.is_some()) else {
                continue;
            };
            for scope in [plan.dimension, OVERALL] {
                let slot = per.entry(scope).or_default();
                slot.1 += plan.weight;
                if o.satisfied {
                    slot.0 += plan.weight;
                }
            }
        }
        for (scope, (y, x)) in per {
            match into.get_mut(scope) {
                Some(m) => m.add(y, x),
                None => into.entry(scope.to_owned()).or_default().add(y, x),
            }
        }
    }
}

#[cfg(test)]
mod tests;
