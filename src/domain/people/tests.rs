use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
use crate::domain::survey::{Scale, ScaleOption};
use crate::domain::text::Text;

fn frac(num: u64, den: u64) -> Fraction {
    Fraction { num, den }
}

// ---- Fraction --------------------------------------------------------------------------

#[test]
fn floor_of_is_exact_where_floats_are_not() {
    let third = frac(1, 3);
    assert_eq!(third.floor_of(8), 2);
    assert_eq!(third.floor_of(9), 3);
    assert_eq!(third.floor_of(2), 0);
    assert_eq!(third.floor_of(0), 0);
    assert_eq!(frac(2, 3).floor_of(3), 2);
    assert_eq!(frac(1, 1).floor_of(7), 7);
    // 0.1 + 0.2 style traps: 3 × 1/3 is exactly 1.
    assert_eq!(third.floor_of(3), 1);
}

#[test]
fn reached_by_compares_exactly_and_never_on_nothing() {
    let third = frac(1, 3);
    assert!(third.reached_by(3, 9));
    assert!(!third.reached_by(2, 7));
    assert!(third.reached_by(1, 3));
    assert!(!third.reached_by(0, 3));
    assert!(!third.reached_by(0, 0));
    assert!(!frac(1, 10_000).reached_by(5, 0));
    let two_thirds = frac(2, 3);
    assert!(two_thirds.reached_by(4, 6));
    assert!(!two_thirds.reached_by(3, 5));
    assert!(two_thirds.reached_by(10, 15));
}

#[test]
fn fractions_display_as_written() {
    assert_eq!(frac(2, 3).to_string(), "2/3");
}

proptest! {
    #[test]
    fn floor_of_is_the_largest_count_within_the_share(
        den in 1u64..1000,
        num_part in 0u64..1000,
        n in 0u64..100_000,
    ) {
        let f = frac(num_part % (den + 1), den);
        let k = f.floor_of(n);
        // k / n ≤ f < (k + 1) / n, in integers.
        prop_assert!(u128::from(k) * u128::from(f.den) <= u128::from(f.num) * u128::from(n));
        prop_assert!(u128::from(k + 1) * u128::from(f.den) > u128::from(f.num) * u128::from(n));
        prop_assert!(k <= n);
    }

    #[test]
    fn reached_by_agrees_with_cross_multiplication_and_is_monotone(
        num in 1u64..50,
        extra in 0u64..50,
        count in 0u64..500,
        more in 0u64..500,
    ) {
        let f = frac(num, num + extra);
        let total = count + more;
        let reached = f.reached_by(count, total);
        prop_assert_eq!(reached, total > 0 && count * f.den >= f.num * total);
        if reached {
            // More of the same options never un-reaches the share.
            prop_assert!(f.reached_by(count + 1, total + 1));
        }
        // All of the ratings reach any share in (0, 1].
        prop_assert_eq!(f.reached_by(total, total), total > 0);
    }
}

// ---- suggest ---------------------------------------------------------------------------

fn option(id: &str, score: Option<f64>) -> ScaleOption {
    ScaleOption {
        id: id.into(),
        label: Text {
            zh: id.into(),
            en: None,
        },
        score,
        satisfied: false,
        reason: false,
    }
}

/// 优秀 / 合格 / 基本合格 / 不合格 and an invalid 不了解.
fn grade_scale() -> Scale {
    Scale {
        id: "grade4".into(),
        name: Text {
            zh: "等次".into(),
            en: None,
        },
        options: vec![
            option("excellent", Some(100.0)),
            option("qualified", Some(80.0)),
            option("basic", Some(60.0)),
            option("unqualified", Some(0.0)),
            option("unknown", None),
        ],
    }
}

fn rule(grade: &str, when: &[&str], num: u64, den: u64, flag: bool) -> Rule {
    Rule {
        grade: grade.into(),
        when: when.iter().map(|w| (*w).to_owned()).collect(),
        min_share: frac(num, den),
        flag,
    }
}

/// The rules of 民主评议党员 as shipped: 优秀 at 2/3, 不合格 flagged at 1/3, 基本合格 when
/// 基本合格 and 不合格 together reach 1/3, else 合格.
fn spec(raters: Raters, masses: bool, team: bool, min_raters: u32) -> PeopleSpec {
    PeopleSpec {
        rated_roles: vec!["party".into(), "secretary".into()],
        rated_categories: Vec::new(),
        raters,
        masses,
        team,
        summary: true,
        min_raters,
        items: Vec::new(),
        overall: "grade".into(),
        final_grade: true,
        top_cap: frac(1, 3),
        default_grade: "qualified".into(),
        suggest: vec![
            rule("excellent", &["excellent"], 2, 3, false),
            rule("unqualified", &["unqualified"], 1, 3, true),
            rule("basic", &["basic", "unqualified"], 1, 3, false),
        ],
    }
}

fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

fn suggested(pairs: &[(&str, u64)]) -> (String, bool) {
    let s = spec(Raters::Peers, false, false, 5).suggest(&grade_scale(), &counts(pairs));
    (s.grade, s.flagged)
}

#[test]
fn two_thirds_excellent_suggests_excellent() {
    // 6 of 9 = 2/3 exactly.
    assert_eq!(
        suggested(&[("excellent", 6), ("qualified", 3)]),
        ("excellent".into(), false)
    );
    // 5 of 8 < 2/3.
    assert_eq!(
        suggested(&[("excellent", 5), ("qualified", 3)]),
        ("qualified".into(), false)
    );
}

#[test]
fn a_third_unqualified_is_flagged() {
    // 3 of 9 = 1/3.
    assert_eq!(
        suggested(&[("qualified", 6), ("unqualified", 3)]),
        ("unqualified".into(), true)
    );
    // 2 of 7 < 1/3 but 基本合格 + 不合格 = 3 of 7 ≥ 1/3.
    assert_eq!(
        suggested(&[("qualified", 4), ("basic", 1), ("unqualified", 2)]),
        ("basic".into(), false)
    );
}

#[test]
fn rules_are_tried_in_order() {
    // 6 of 9 excellent and 3 of 9 unqualified: the first rule wins.
    assert_eq!(
        suggested(&[("excellent", 6), ("unqualified", 3)]),
        ("excellent".into(), false)
    );
}

#[test]
fn invalid_options_are_left_out_of_the_denominator() {
    // 4 excellent of 6 valid (2/3) — the 3 不了解 do not dilute it.
    assert_eq!(
        suggested(&[("excellent", 4), ("qualified", 2), ("unknown", 3)]),
        ("excellent".into(), false)
    );
    // Counted as valid, the 3 不了解 would have made it 4 of 9.
    assert_eq!(
        suggested(&[("excellent", 4), ("qualified", 5)]),
        ("qualified".into(), false)
    );
}

#[test]
fn no_valid_ratings_give_the_default() {
    assert_eq!(suggested(&[]), ("qualified".into(), false));
    assert_eq!(suggested(&[("unknown", 7)]), ("qualified".into(), false));
}

#[test]
fn unknown_ids_in_counts_are_ignored() {
    assert_eq!(
        suggested(&[("qualified", 5), ("nonsense", 50)]),
        ("qualified".into(), false)
    );
}

#[test]
fn max_top_and_disclosed_follow_the_spec() {
    let s = spec(Raters::Peers, false, false, 5);
    assert_eq!(s.max_top(8), 2);
    assert_eq!(s.max_top(9), 3);
    assert!(!s.disclosed(4));
    assert!(s.disclosed(5));
}

// ---- plan_unit -------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct P {
    key: String,
    category: &'static str,
    roles: Vec<&'static str>,
}

impl Rosterable for P {
    fn key(&self) -> &str {
        &self.key
    }
    fn category(&self) -> &str {
        self.category
    }
    fn has_role(&self, role: &str) -> bool {
        self.roles.contains(&role)
    }
}

fn member(key: &str) -> P {
    P {
        key: key.into(),
        category: "faculty",
        roles: vec!["member", "party"],
    }
}

fn staff(key: &str) -> P {
    P {
        key: key.into(),
        category: "faculty",
        roles: vec!["member"],
    }
}

/// Six party members a…f and two staff x, y.
fn unit() -> Vec<P> {
    let mut people: Vec<P> = ["a", "b", "c", "d", "e", "f"].map(member).into();
    people.extend(["x", "y"].map(staff));
    people
}

fn targets<'p>(plan: &'p UnitPlan, rater: &str) -> Option<&'p [String]> {
    plan.raters
        .iter()
        .find(|(r, _)| r == rater)
        .map(|(_, t)| t.as_slice())
}

#[test]
fn peers_rate_each_other_but_never_themselves() {
    let plan = plan_unit(&spec(Raters::Peers, false, false, 5), "b1", &unit());
    assert_eq!(plan.rated, ["a", "b", "c", "d", "e", "f"]);
    assert_eq!(plan.too_small, None);
    assert_eq!(plan.raters.len(), 6, "{plan:?}");
    assert_eq!(targets(&plan, "a").unwrap(), ["b", "c", "d", "e", "f"]);
    assert_eq!(
        targets(&plan, "x"),
        None,
        "staff do not rate without masses"
    );
    for (rater, ts) in &plan.raters {
        assert!(!ts.contains(rater), "{rater} rates themselves");
    }
}

#[test]
fn masses_add_the_rest_of_the_unit_as_raters() {
    let plan = plan_unit(&spec(Raters::Peers, true, false, 5), "b1", &unit());
    assert_eq!(plan.raters.len(), 8);
    assert_eq!(targets(&plan, "x").unwrap(), ["a", "b", "c", "d", "e", "f"]);
    assert_eq!(plan.rated.len(), 6, "staff are not rated");
}

#[test]
fn unit_raters_are_everyone_in_the_unit() {
    let mut s = spec(Raters::Unit, false, false, 5);
    s.rated_roles = vec!["cadre".into()];
    let mut people = unit();
    people[0].roles.push("cadre");
    let plan = plan_unit(&s, "b1", &people);
    assert_eq!(plan.rated, ["a"]);
    assert_eq!(plan.raters.len(), 8);
    assert_eq!(targets(&plan, "a").unwrap(), [] as [String; 0]);
    assert_eq!(targets(&plan, "y").unwrap(), ["a"]);
}

#[test]
fn team_adds_the_team_key_to_every_rater() {
    let plan = plan_unit(&spec(Raters::Peers, false, true, 5), "b1", &unit());
    let team = team_key("b1");
    assert!(is_team(&team));
    assert!(!is_team("a@example.edu"));
    for (rater, ts) in &plan.raters {
        assert_eq!(ts.last(), Some(&team), "{rater}");
        assert_eq!(ts.len(), 6, "five peers and the team");
    }
}

#[test]
fn rated_categories_narrow_who_is_rated() {
    let mut s = spec(Raters::Peers, false, false, 2);
    s.rated_categories = vec!["student".into()];
    let mut people = unit();
    for p in &mut people[..3] {
        p.category = "student";
    }
    let plan = plan_unit(&s, "b1", &people);
    assert_eq!(plan.rated, ["a", "b", "c"]);
    assert_eq!(plan.raters.len(), 3, "only the rated rate as peers");
}

#[test]
fn a_unit_where_someone_cannot_reach_k_takes_no_part() {
    // Six members: each has 5 possible peer raters; k = 6 is out of reach.
    let plan = plan_unit(&spec(Raters::Peers, false, false, 6), "b1", &unit());
    assert_eq!(plan.rated.len(), 6);
    assert!(plan.raters.is_empty());
    assert_eq!(
        plan.too_small,
        Some(TooSmall {
            possible: 5,
            needed: 6
        })
    );
    // The two staff as masses make it 7 possible raters each.
    let plan = plan_unit(&spec(Raters::Peers, true, false, 6), "b1", &unit());
    assert_eq!(plan.too_small, None);
    assert_eq!(plan.raters.len(), 8);
}

#[test]
fn a_unit_without_rated_people_has_no_raters_and_is_not_too_small() {
    let plan = plan_unit(
        &spec(Raters::Peers, true, true, 5),
        "b1",
        &["x", "y"].map(staff),
    );
    assert!(plan.rated.is_empty() && plan.raters.is_empty());
    assert_eq!(plan.too_small, None);
}

proptest! {
    #[test]
    fn plans_never_self_rate_and_respect_k(
        roles in proptest::collection::vec(0u8..4, 0..14),
        masses in any::<bool>(),
        unit_raters in any::<bool>(),
        team in any::<bool>(),
        k in 2u32..8,
    ) {
        let people: Vec<P> = roles
            .iter()
            .enumerate()
            .map(|(i, r)| P {
                key: format!("p{i}"),
                category: if r % 2 == 0 { "faculty" } else { "student" },
                roles: if *r >= 2 { vec!["member", "party"] } else { vec!["member"] },
            })
            .collect();
        let raters = if unit_raters { Raters::Unit } else { Raters::Peers };
        let s = spec(raters, masses && !unit_raters, team, k);
        let plan = plan_unit(&s, "u", &people);
        let rated: Vec<&str> = plan.rated.iter().map(String::as_str).collect();
        for (rater, ts) in &plan.raters {
            prop_assert!(!ts.contains(rater));
            for t in ts {
                prop_assert!(rated.contains(&t.as_str()) || *t == team_key("u"));
            }
        }
        if plan.raters.is_empty() {
            prop_assert!(plan.rated.is_empty() || plan.too_small.is_some());
        } else {
            prop_assert_eq!(plan.too_small, None);
            for r in &plan.rated {
                let n = plan.raters.iter().filter(|(_, ts)| ts.contains(r)).count();
                prop_assert!(n >= k as usize, "{} has {} raters < {}", r, n, k);
            }
        }
    }
}
