use std::collections::BTreeMap;

use super::super::{Tally, mass_figures};
use super::*;

const LIUHAO: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/surveys/liuhao.toml"));

fn survey() -> Survey {
    Survey::parse("liuhao.toml", LIUHAO).unwrap()
}

fn near(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

/// Unit FL-T of the finding: 7 respondents answer all 18 items, 6 satisfied on every item
/// and 1 dissatisfied on every item.
fn fl_t(survey: &Survey) -> Tally {
    let plan = MomentPlan::new(survey);
    let mut t = Tally::default();
    for option in ["satisfied"; 6].into_iter().chain(["dissatisfied"]) {
        let sheet: Vec<(String, &str)> = (1..=18).map(|i| (format!("m{i}"), option)).collect();
        t.add_sheet(&plan, sheet.iter().map(|(i, o)| (i.as_str(), *o)));
    }
    t
}

#[test]
fn seven_respondents_get_an_interval_of_seven_not_of_126_answers() {
    let survey = survey();
    let f = mass_figures(&survey, &fl_t(&survey));
    let rate = f.overall.rate.unwrap();
    assert!(near(rate, 6.0 / 7.0, 1e-12));
    let naive = wilson(rate, 126.0);
    assert!(
        near(naive.0, 0.785, 1e-3) && near(naive.1, 0.908, 1e-3),
        "{naive:?}"
    );
    let (lo, hi) = f.overall.interval.unwrap();
    // Every respondent is all-or-nothing, so the effective sample is the 7 people.
    let per_person = wilson(6.0 / 7.0, 7.0);
    assert!(near(lo, per_person.0, 1e-9) && near(hi, per_person.1, 1e-9));
    assert!(near(lo, 0.49, 0.01) && near(hi, 0.97, 0.01), "({lo}, {hi})");
    for d in &f.dimensions {
        let (dlo, dhi) = d.figures.interval.unwrap();
        assert!(
            near(dlo, lo, 1e-9) && near(dhi, hi, 1e-9),
            "{}",
            d.dimension
        );
    }
    // An item's interval stays Wilson over its own 7 answers.
    let item = f.items[0].figures.interval.unwrap();
    assert!(near(item.0, per_person.0, 1e-9));
}

#[test]
fn a_sheet_adds_once_per_dimension_and_once_overall_without_invalid_votes() {
    let survey = survey();
    let plan = MomentPlan::new(&survey);
    let mut m = BTreeMap::new();
    plan.add_sheet(
        [
            ("m1", "satisfied"),
            ("m2", "unknown"),
            ("m3", "basic"),
            ("m4", "dissatisfied"),
            ("m99", "satisfied"),
            ("m5", "forged"),
        ],
        &mut m,
    );
    let banzi = m["banzi"];
    assert_eq!((banzi.respondents, banzi.y, banzi.x), (1, 2.0, 2.0));
    let duiwu = m["duiwu"];
    assert_eq!((duiwu.y, duiwu.x, duiwu.xy), (0.0, 1.0, 0.0));
    let all = m[OVERALL];
    assert_eq!(
        (all.respondents, all.y, all.x, all.yy, all.xx, all.xy),
        (1, 2.0, 3.0, 4.0, 9.0, 6.0)
    );
    assert_eq!(m.len(), 3, "no dimension without a valid answer");
}

#[test]
fn merged_sums_are_the_sums_of_the_pooled_respondents() {
    let mut a = Moments::default();
    let mut b = Moments::default();
    let mut all = Moments::default();
    for (i, (y, x)) in [(3.0, 5.0), (0.0, 4.0), (2.0, 2.0), (1.0, 0.0), (6.0, 6.0)]
        .into_iter()
        .enumerate()
    {
        if i % 2 == 0 { &mut a } else { &mut b }.add(y, x);
        all.add(y, x);
    }
    a.merge(&b);
    assert!(a.agrees(&all));
    assert_eq!(
        all.respondents, 4,
        "a respondent with no valid answer is left out"
    );
}

/// A small deterministic generator (xorshift), so the test needs no seed handling.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn the_linearization_variance_matches_a_brute_force_bootstrap() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for case in 0..6 {
        // Respondents with their own propensity, answering 5..18 items.
        let people: Vec<(f64, f64)> = (0..20 + 15 * case)
            .map(|_| {
                let x = 5 + rng.below(14);
                let p = rng.below(101);
                let y = (0..x).filter(|_| rng.below(100) < p).count() as f64;
                (y, x as f64)
            })
            .collect();
        let mut m = Moments::default();
        for (y, x) in &people {
            m.add(*y, *x);
        }
        let n = people.len() as u64;
        let draws = 4000;
        let mut rates = Vec::with_capacity(draws);
        for _ in 0..draws {
            let (mut y, mut x) = (0.0, 0.0);
            for _ in 0..n {
                let (py, px) = people[usize::try_from(rng.below(n)).unwrap()];
                y += py;
                x += px;
            }
            rates.push(y / x);
        }
        let mean = rates.iter().sum::<f64>() / draws as f64;
        let boot = rates.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (draws - 1) as f64;
        let v = m.variance().unwrap();
        assert!(
            (v / boot - 1.0).abs() < 0.2,
            "case {case}: linearization {v} vs bootstrap {boot}"
        );
        // The interval covers the bootstrap's middle 95% to within a few points.
        rates.sort_by(f64::total_cmp);
        let (blo, bhi) = (rates[draws / 40], rates[draws - draws / 40]);
        let (lo, hi) = m.interval().unwrap();
        assert!(
            near(lo, blo, 0.04) && near(hi, bhi, 0.04),
            "case {case}: ({lo}, {hi}) vs ({blo}, {bhi})"
        );
    }
}

#[test]
fn unanimous_groups_get_the_interval_of_their_respondents() {
    let mut m = Moments::default();
    for _ in 0..5 {
        m.add(18.0, 18.0);
    }
    assert_eq!(m.interval(), Some(wilson(1.0, 5.0)));
    assert_eq!(Moments::default().interval(), None);
}
