//! The report's rows against an attacker: for random unit trees and answer sheets, every
//! figure set the JSON rows carry (what every role and every export reads) is collected,
//! and no combination of them with coefficients −1, 0, +1 may equal the counts of a unit
//! with `0 < n < k` responses.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

const LIUHAO: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/surveys/liuhao.toml"));
const OPTIONS: [&str; 4] = ["satisfied", "basic", "dissatisfied", "unknown"];

fn unit(i: usize, parent: Option<usize>) -> units::Unit {
    units::Unit {
        code: format!("u{i}"),
        name: format!("单位{i}"),
        kind: "branch".into(),
        parent: parent.map(|p| format!("u{p}")),
    }
}

/// Responses, then every option count of every item, in survey and scale order.
fn vector(survey: &Survey, t: &Tally) -> Vec<i64> {
    let f = scoring::mass_figures(survey, t);
    let mut v = vec![i64::try_from(t.responses).unwrap()];
    for item in &f.items {
        v.extend(item.counts.iter().map(|(_, n)| i64::try_from(*n).unwrap()));
    }
    v
}

/// The same vector read back from a JSON figure set.
fn json_vector(m: &serde_json::Value) -> Vec<i64> {
    let mut v = vec![m["responses"].as_i64().unwrap()];
    for item in m["items"].as_array().unwrap() {
        for pair in item["counts"].as_array().unwrap() {
            v.push(pair[1].as_i64().unwrap());
        }
    }
    v
}

fn isolates(sets: &[Vec<i64>], target: &[i64]) -> bool {
    let combos = 3usize.pow(u32::try_from(sets.len()).unwrap());
    (1..combos).any(|mut code| {
        let mut sum = vec![0i64; target.len()];
        for v in sets {
            let c = i64::try_from(code % 3).unwrap() - 1;
            code /= 3;
            for (s, x) in sum.iter_mut().zip(v) {
                *s += c * x;
            }
        }
        sum == target
    })
}

/// A unit's sheets: each answers every item with one option, but one item with another.
fn sheets() -> impl Strategy<Value = Vec<(usize, usize, usize)>> {
    let n = prop_oneof![Just(0usize), 1usize..5, 5usize..9];
    n.prop_flat_map(|n| prop::collection::vec((0usize..4, 1usize..=18, 0usize..4), n))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn no_small_group_can_be_isolated_from_the_rows(
        parents in prop::collection::vec(prop::option::weighted(0.8, any::<prop::sample::Index>()), 1..6),
        sheets in prop::collection::vec(sheets(), 6),
        k in 2u64..7,
    ) {
        let survey = Survey::parse("liuhao.toml", LIUHAO).unwrap();
        let plan = scoring::MomentPlan::new(&survey);
        let targets: Vec<units::Unit> = parents
            .iter()
            .enumerate()
            .map(|(i, p)| unit(i, p.filter(|_| i > 0).map(|p| p.index(i))))
            .collect();
        let mut own = BTreeMap::new();
        for (u, list) in targets.iter().zip(&sheets) {
            for &(option, item, other) in list {
                let answers: Vec<(String, &str)> = (1..=18)
                    .map(|i| (format!("m{i}"), OPTIONS[if i == item { other } else { option }]))
                    .collect();
                own.entry(u.code.clone())
                    .or_insert_with(Tally::default)
                    .add_sheet(&plan, answers.iter().map(|(i, o)| (i.as_str(), *o)));
            }
        }
        let inputs = Inputs::new(&targets, own.clone(), k);
        let rows: Vec<UnitReport> = targets.iter().map(|u| row(&survey, u, &inputs)).collect();
        let json = serde_json::to_value(&rows).unwrap();
        let mut seen: Vec<Vec<i64>> = Vec::new();
        for (r, j) in rows.iter().zip(json.as_array().unwrap()) {
            for key in ["mass", "rollup"] {
                if !j[key].is_null() {
                    let v = json_vector(&j[key]);
                    prop_assert!(v[0] >= i64::try_from(k).unwrap(), "{} {key} rests on {}", r.code, v[0]);
                    if !seen.contains(&v) {
                        seen.push(v);
                    }
                }
            }
            // A unit with k responses keeps its figures, its mass step and its gate; one
            // without them gets nothing computed from them.
            let enough = r.responses >= k;
            prop_assert_eq!(r.mass.is_some(), enough);
            prop_assert_eq!(r.composite.steps.contains(&StepKind::Mass), enough && r.mass.as_ref().is_some_and(|m| m.satisfaction_index.is_some()));
            if !enough {
                prop_assert!(r.bar_met.is_none());
                // The CSV and the dashboard's cells say 样本不足 where the JSON has nothing.
                let cells = export::cells(r, 0.9, false);
                prop_assert_eq!((cells[7].as_str(), cells[8].as_str()), (export::SUPPRESSED, export::SUPPRESSED));
            }
        }
        // The institution-wide summary pools the shown units only: one more figure set
        // for the attacker.
        let summary = summary::summarize(&survey, &inputs, &rows);
        let shown: u64 = rows.iter().filter(|r| r.mass.is_some()).map(|r| r.responses).sum();
        prop_assert_eq!(summary.mass.as_ref().map_or(0, |m| m.responses), shown);
        prop_assert!(summary.left_out.iter().all(|c| rows.iter().any(|r| &r.code == c && r.suppressed)));
        let sj = serde_json::to_value(&summary).unwrap();
        if !sj["mass"].is_null() {
            let v = json_vector(&sj["mass"]);
            prop_assert!(v[0] >= i64::try_from(k).unwrap(), "the summary rests on {}", v[0]);
            if !seen.contains(&v) {
                seen.push(v);
            }
        }
        // Against another wave (here: the same rows), a change exists only where both
        // sides show the figure: a hidden unit's change reveals nothing.
        for r in &rows {
            let c = change(r, r);
            prop_assert_eq!(c.satisfaction_rate.is_some(), r.mass.as_ref().is_some_and(|m| m.satisfaction_rate.is_some()));
            prop_assert_eq!(c.satisfaction_index.is_some(), r.mass.as_ref().is_some_and(|m| m.satisfaction_index.is_some()));
        }
        prop_assume!(seen.len() <= 10);
        for (code, t) in own.iter().filter(|(_, t)| t.responses > 0 && t.responses < k) {
            prop_assert!(!isolates(&seen, &vector(&survey, t)), "{code} isolated from {seen:?}");
        }
    }
}
