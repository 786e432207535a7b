#![expect(
    clippy::float_cmp,
    reason = "figures of integer counts are exact in f64; the tests say so by comparing exactly"
)]

use std::sync::LazyLock;

use proptest::prelude::*;

use super::*;

const LIUHAO: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/surveys/liuhao.toml"));

/// The 六好 survey as shipped: all item weights 1, weights 0.2 / 0.5 / 0.3, gate at 90%.
static SURVEY: LazyLock<Survey> = LazyLock::new(|| parse(LIUHAO));

/// The 六好 survey with mass item m2 weighing 3, so pooling by weight is visible.
static WEIGHTED: LazyLock<Survey> =
    LazyLock::new(|| parse(&edit(LIUHAO, "id = \"m2\"\n", "id = \"m2\"\nweight = 3\n")));

fn parse(src: &str) -> Survey {
    Survey::parse("liuhao.toml", src).expect("the survey is valid")
}

/// `src` with the single occurrence of `from` replaced by `to`.
fn edit(src: &str, from: &str, to: &str) -> String {
    assert_eq!(src.matches(from).count(), 1, "{from:?} must occur once");
    src.replacen(from, to, 1)
}

fn sheet(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(i, o)| ((*i).to_owned(), (*o).to_owned()))
        .collect()
}

/// A tally of one item with these option counts.
fn item_tally(item: &str, counts: &[(&str, u64)]) -> Tally {
    let options = counts.iter().map(|(o, n)| ((*o).to_owned(), *n)).collect();
    Tally {
        responses: counts.iter().map(|(_, n)| n).sum(),
        items: BTreeMap::from([(item.to_owned(), options)]),
        ..Tally::default()
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

fn node(code: &str, parent: Option<&str>) -> Node {
    Node {
        code: code.to_owned(),
        parent: parent.map(str::to_owned),
    }
}

fn codes(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|c| (*c).to_owned()).collect()
}

// ---- tallies -----------------------------------------------------------------------------

#[test]
fn tally_counts_sheets_and_merges_raw_counts() {
    let mut a = Tally::default();
    a.add_response(&sheet(&[("m1", "satisfied"), ("m2", "basic")]));
    a.add_response(&sheet(&[("m1", "satisfied")]));
    assert_eq!(a.responses, 2);
    assert_eq!(a.items["m1"]["satisfied"], 2);
    assert_eq!(a.items["m2"]["basic"], 1);

    let mut b = Tally::default();
    b.add_response(&sheet(&[("m1", "unknown"), ("m2", "basic")]));
    a.merge(&b);
    assert_eq!(a.responses, 3);
    assert_eq!(a.items["m1"]["satisfied"], 2);
    assert_eq!(a.items["m1"]["unknown"], 1);
    assert_eq!(a.items["m2"]["basic"], 2);
}

// ---- mass figures --------------------------------------------------------------------------

#[test]
fn item_figures_leave_unknown_out_of_the_denominators() {
    let tally = item_tally(
        "m1",
        &[
            ("satisfied", 6),
            ("basic", 3),
            ("dissatisfied", 1),
            ("unknown", 2),
        ],
    );
    let m = mass_figures(&SURVEY, &tally);
    assert_eq!(m.responses, 12);
    assert_eq!(m.items.len(), 18);
    let item = &m.items[0];
    assert_eq!(item.item, "m1");
    assert_eq!(
        item.counts,
        vec![
            ("satisfied".to_owned(), 6),
            ("basic".to_owned(), 3),
            ("dissatisfied".to_owned(), 1),
            ("unknown".to_owned(), 2),
        ]
    );
    let f = item.figures;
    assert_eq!(f.answers, 12.0);
    assert_eq!(f.valid, 10.0);
    assert_eq!(f.satisfied, 9.0);
    assert_eq!(f.rate, Some(0.9));
    // (6·100 + 3·60 + 1·0) / 10
    assert_eq!(f.index, Some(78.0));
    // Wilson, p = 0.9, n = 10, z² = 3.8416: denom = 1 + 0.38416 = 1.38416;
    // center = (0.9 + 0.19208) / 1.38416 = 0.788984;
    // half = 1.96 · sqrt(0.009 + 0.009604) / 1.38416 = 1.96 · 0.136396 / 1.38416 = 0.193140;
    // so (0.595844, 0.982124).
    let (lo, hi) = f.interval.unwrap();
    assert!((lo - 0.595_844).abs() < 1e-6, "{lo}");
    assert!((hi - 0.982_124).abs() < 1e-6, "{hi}");

    // Only m1 was answered: its dimension and the overall figures are m1's, but for the
    // interval, which pooled figures take from per-respondent sums (none in this tally).
    let pooled = Figures {
        interval: None,
        ..f
    };
    assert_eq!(m.dimensions[0].dimension, "banzi");
    assert_eq!(m.dimensions[0].figures, pooled);
    assert_eq!(m.overall, pooled);
    assert_eq!(m.dimensions[1].figures.rate, None);
    assert_eq!(m.items[1].counts.iter().map(|c| c.1).sum::<u64>(), 0);
}

#[test]
fn dimensions_and_overall_pool_counts_by_item_weight() {
    // m1 (weight 1): 10 满意; m2 (weight 3): 10 不满意; m4 (duiwu, weight 1): 5 基本满意.
    let mut tally = item_tally("m1", &[("satisfied", 10)]);
    tally.merge(&item_tally("m2", &[("dissatisfied", 10)]));
    tally.merge(&item_tally("m4", &[("basic", 5)]));
    let m = mass_figures(&WEIGHTED, &tally);

    // The item's own figures do not carry its weight.
    let m2 = &m.items[1].figures;
    assert_eq!((m2.valid, m2.rate, m2.index), (10.0, Some(0.0), Some(0.0)));

    // banzi: valid = 10 + 3·10 = 40, satisfied 10, index 1000 / 40.
    let banzi = &m.dimensions[0].figures;
    assert_eq!((banzi.valid, banzi.satisfied), (40.0, 10.0));
    assert_eq!(banzi.rate, Some(0.25));
    assert_eq!(banzi.index, Some(25.0));

    // Overall: valid 45, satisfied 15, index (1000 + 300) / 45 — a pool of counts, not the
    // mean of the two dimensions' indexes (25 and 60).
    let all = &m.overall;
    assert_eq!((all.answers, all.valid, all.satisfied), (45.0, 45.0, 15.0));
    assert!(close(all.rate.unwrap(), 15.0 / 45.0));
    assert!(close(all.index.unwrap(), 1300.0 / 45.0));

    // Weights all 1: the overall figures are those of all answers pooled.
    let m = mass_figures(&SURVEY, &tally);
    assert_eq!((m.overall.valid, m.overall.satisfied), (25.0, 15.0));
    assert!(close(m.overall.index.unwrap(), 1300.0 / 25.0));
}

#[test]
fn options_and_items_outside_the_survey_are_ignored() {
    let mut tally = item_tally("m1", &[("satisfied", 4), ("forged", 7)]);
    tally.merge(&item_tally("s1", &[("good", 3)]));
    tally.merge(&item_tally("nope", &[("satisfied", 9)]));
    let m = mass_figures(&SURVEY, &tally);
    assert_eq!(m.overall.answers, 4.0);
    assert_eq!(m.overall.rate, Some(1.0));
    assert_eq!(m.items[0].counts.len(), 4);
}

#[test]
fn no_valid_vote_means_no_figure() {
    let m = mass_figures(&SURVEY, &item_tally("m1", &[("unknown", 5)]));
    let f = m.overall;
    assert_eq!((f.answers, f.valid), (5.0, 0.0));
    assert_eq!((f.rate, f.index, f.interval), (None, None, None));
    let empty = mass_figures(&SURVEY, &Tally::default());
    assert_eq!(empty.responses, 0);
    assert_eq!(empty.overall.rate, None);
}

// ---- self and org steps --------------------------------------------------------------------

#[test]
fn sheet_score_is_the_mean_over_answered_valid_items() {
    let s = sheet(&[
        ("s1", "good"),
        ("s2", "fairly_good"),
        ("s3", "average"),
        ("s4", "poor"),
    ]);
    // (100 + 80 + 60 + 40) / 4; the 14 unanswered items are left out.
    assert_eq!(
        sheet_score(&SURVEY, StepKind::SelfAssessment, &s),
        Some(70.0)
    );
    // Forged options and items of another step do not count.
    let s = sheet(&[("s1", "good"), ("s2", "excellent"), ("o1", "poor")]);
    assert_eq!(
        sheet_score(&SURVEY, StepKind::SelfAssessment, &s),
        Some(100.0)
    );
    assert_eq!(sheet_score(&SURVEY, StepKind::Org, &s), Some(40.0));
    assert_eq!(
        sheet_score(&SURVEY, StepKind::SelfAssessment, &BTreeMap::new()),
        None
    );
    // The mass scale's 不了解 is not a valid answer.
    let s = sheet(&[("m1", "unknown")]);
    assert_eq!(sheet_score(&SURVEY, StepKind::Mass, &s), None);
}

/// One org sheet per level: every item rated the same.
fn org_sheets(levels: &[&str]) -> Vec<BTreeMap<String, String>> {
    levels
        .iter()
        .map(|l| {
            SURVEY
                .step(StepKind::Org)
                .items()
                .map(|i| (i.id.clone(), (*l).to_owned()))
                .collect()
        })
        .collect()
}

#[test]
fn org_drops_one_highest_and_one_lowest_from_five_scorers() {
    let sheets = org_sheets(&["good", "average", "poor", "fairly_good", "fairly_good"]);
    let o = org_figures(&SURVEY, &sheets);
    assert_eq!(o.scorers, 5);
    assert_eq!(o.scores, vec![40.0, 60.0, 80.0, 80.0, 100.0]);
    assert!(o.trimmed);
    // (60 + 80 + 80) / 3
    assert!(close(o.score.unwrap(), 220.0 / 3.0));
}

#[test]
fn org_keeps_every_score_of_four_scorers() {
    let o = org_figures(
        &SURVEY,
        &org_sheets(&["good", "average", "poor", "fairly_good"]),
    );
    assert_eq!(o.scorers, 4);
    assert!(!o.trimmed);
    // (100 + 60 + 40 + 80) / 4
    assert_eq!(o.score, Some(70.0));

    // A fifth sheet without a valid answer does not make five scorers.
    let mut sheets = org_sheets(&["good", "average", "poor", "fairly_good"]);
    sheets.push(sheet(&[("o1", "forged")]));
    let o = org_figures(&SURVEY, &sheets);
    assert_eq!((o.scorers, o.trimmed, o.score), (4, false, Some(70.0)));

    assert_eq!(org_figures(&SURVEY, &[]).score, None);
}

#[test]
fn org_trims_only_when_the_survey_says_so() {
    let untrimmed = parse(&edit(
        LIUHAO,
        "trim_extremes = true",
        "trim_extremes = false",
    ));
    let sheets = org_sheets(&["good", "average", "poor", "fairly_good", "fairly_good"]);
    let o = org_figures(&untrimmed, &sheets);
    assert!(!o.trimmed);
    // (100 + 60 + 40 + 80 + 80) / 5
    assert_eq!(o.score, Some(72.0));
}

// ---- composite and grade -------------------------------------------------------------------

#[test]
fn composite_of_three_steps_uses_the_survey_weights() {
    let c = composite(&SURVEY.weights, Some(80.0), Some(90.0), Some(70.0));
    // 0.2·80 + 0.5·90 + 0.3·70 = 16 + 45 + 21
    assert!(close(c.score.unwrap(), 82.0));
    assert_eq!(c.steps, StepKind::ALL.to_vec());
    assert!(c.missing.is_empty());
}

#[test]
fn composite_renormalizes_over_present_steps() {
    let c = composite(&SURVEY.weights, Some(80.0), Some(90.0), None);
    // (0.2·80 + 0.5·90) / (0.2 + 0.5) = 61 / 0.7
    assert!(close(c.score.unwrap(), 61.0 / 0.7));
    assert_eq!(c.steps, vec![StepKind::SelfAssessment, StepKind::Mass]);
    assert_eq!(c.missing, vec![StepKind::Org]);

    let none = composite(&SURVEY.weights, None, None, None);
    assert_eq!(none.score, None);
    assert_eq!(none.missing, StepKind::ALL.to_vec());

    // A present step of weight 0 is listed but carries nothing.
    let w = Weights {
        self_assessment: 0.0,
        mass: 1.0,
        org: 0.0,
    };
    let c = composite(&w, Some(50.0), None, None);
    assert_eq!(c.score, None);
    assert_eq!(c.steps, vec![StepKind::SelfAssessment]);
}

fn grade_of(score: f64, satisfaction: Option<f64>) -> GradeResult {
    grade(&SURVEY, Some(score), satisfaction).unwrap()
}

#[test]
fn grade_bands_follow_the_survey() {
    let bands = [
        (100.0, 0),
        (90.0, 0),
        (89.9, 1),
        (80.0, 1),
        (79.0, 2),
        (60.0, 2),
        (59.9, 3),
        (0.0, 3),
    ];
    for (score, band) in bands {
        let g = grade_of(score, Some(0.95));
        assert_eq!((g.grade, g.band, g.capped), (band, band, false), "{score}");
    }
    assert_eq!(grade(&SURVEY, None, Some(0.95)), None);
    // (0.2·40 + 0.4·100) / 0.6 is 80 but 79.999… in floats: still 较好.
    let w = Weights {
        self_assessment: 0.2,
        mass: 0.4,
        org: 0.4,
    };
    let c = composite(&w, Some(40.0), None, Some(100.0));
    assert!(c.score.unwrap() < 80.0, "the example shows float noise");
    assert_eq!(grade(&SURVEY, c.score, Some(1.0)).unwrap().grade, 1);
}

#[test]
fn gate_caps_good_at_average_below_ninety_percent() {
    let g = grade_of(95.0, Some(0.85));
    assert_eq!(SURVEY.grades[g.grade].label.zh, "一般");
    assert_eq!((g.grade, g.band, g.capped), (2, 0, true));
    assert_eq!(grade_of(85.0, Some(0.85)).grade, 2);
    // Already at or below the cap: not capped.
    let g = grade_of(70.0, Some(0.85));
    assert_eq!((g.grade, g.capped), (2, false));
    assert_eq!(grade_of(50.0, Some(0.5)).grade, 3);
    // Exactly 90% passes the gate; unknown satisfaction applies none.
    assert_eq!(grade_of(95.0, Some(0.9)).grade, 0);
    assert_eq!(grade_of(95.0, None).grade, 0);
}

#[test]
fn bar_is_the_highest_gate_or_ninety_percent() {
    assert_eq!(satisfaction_bar(&SURVEY), 0.9);
    assert_eq!(bar_met(&SURVEY, Some(0.9)), Some(true));
    assert_eq!(bar_met(&SURVEY, Some(0.899)), Some(false));
    assert_eq!(bar_met(&SURVEY, None), None);
    // 0.3 · 3 is 0.8999… in floats: float noise does not fail item 18.
    let noisy = std::hint::black_box(0.3) * 3.0;
    assert!(noisy < 0.9);
    assert_eq!(bar_met(&SURVEY, Some(noisy)), Some(true));

    let gateless = parse(&edit(
        LIUHAO,
        "[[gates]]\nmin_satisfaction = 0.9\ncap = \"一般\"\n",
        "",
    ));
    assert_eq!(satisfaction_bar(&gateless), 0.9);
    let two = parse(&edit(
        LIUHAO,
        "[[gates]]\n",
        "[[gates]]\nmin_satisfaction = 0.95\ncap = \"较好\"\n\n[[gates]]\n",
    ));
    assert_eq!(satisfaction_bar(&two), 0.95);
    // Both gates apply below 90%: the worse cap wins.
    assert_eq!(grade(&two, Some(95.0), Some(0.92)).unwrap().grade, 1);
    assert_eq!(grade(&two, Some(95.0), Some(0.85)).unwrap().grade, 2);
}

#[test]
fn response_rate_needs_invitations() {
    assert_eq!(response_rate(30, 40), Some(0.75));
    assert_eq!(response_rate(0, 0), None);
}

// ---- tree ----------------------------------------------------------------------------------

#[test]
fn rank_is_competition_ranking_within_groups() {
    let e = |c: &str, g: &str, s: Option<f64>| (c.to_owned(), g.to_owned(), s);
    let r = rank(&[
        e("a", "branch", Some(90.0)),
        e("b", "branch", Some(85.0)),
        e("c", "branch", Some(85.0)),
        e("d", "branch", Some(70.0)),
        e("e", "branch", None),
        e("x", "general", Some(60.0)),
        e("y", "general", Some(0.1 + 0.2)),
        e("z", "general", Some(0.3)),
    ]);
    let expect = [
        ("a", 1),
        ("b", 2),
        ("c", 2),
        ("d", 4),
        ("x", 1),
        ("y", 2),
        ("z", 2),
    ];
    let expect: BTreeMap<String, usize> =
        expect.iter().map(|(c, r)| ((*c).to_owned(), *r)).collect();
    assert_eq!(r, expect);
}

#[test]
fn rollup_pools_raw_counts_up_the_tree() {
    // u ─┬─ a ── a1
    //    └─ b        (c has neither answers nor children)
    let nodes = [
        node("u", None),
        node("a", Some("u")),
        node("a1", Some("a")),
        node("b", Some("u")),
        node("c", Some("u")),
    ];
    let of_a1 = item_tally("m1", &[("satisfied", 9), ("dissatisfied", 1)]);
    let of_a = item_tally("m1", &[("basic", 2)]);
    let of_b = item_tally("m2", &[("unknown", 3)]);
    let own = BTreeMap::from([
        ("a1".to_owned(), of_a1.clone()),
        ("a".to_owned(), of_a.clone()),
        ("b".to_owned(), of_b.clone()),
        ("stray".to_owned(), of_b.clone()),
    ]);
    let up = rollup(&nodes, &own);
    assert_eq!(
        up.keys().cloned().collect::<BTreeSet<_>>(),
        codes(&["u", "a", "a1", "b", "c"])
    );
    assert_eq!(up["a1"], of_a1);
    assert_eq!(up["b"], of_b);
    assert_eq!(up["c"], Tally::default());
    let mut pooled_a = of_a1.clone();
    pooled_a.merge(&of_a);
    assert_eq!(up["a"], pooled_a);
    let u = &up["u"];
    assert_eq!(u.responses, 15);
    assert_eq!(u.items["m1"]["satisfied"], 9);
    assert_eq!(u.items["m1"]["basic"], 2);
    // u's rate is 11 / 12 of everyone's answers, not the mean of a's and b's rates.
    let f = mass_figures(&SURVEY, u).overall;
    assert!(close(f.rate.unwrap(), 11.0 / 12.0));
    assert_eq!(f.answers, 15.0);
}

#[test]
fn rollup_survives_a_cycle() {
    let nodes = [node("a", Some("b")), node("b", Some("a"))];
    let own = BTreeMap::from([("a".to_owned(), item_tally("m1", &[("basic", 1)]))]);
    let r = rollup(&nodes, &own);
    assert_eq!(r["a"].responses, 1);
    assert_eq!(r["b"].responses, 1);
}

// ---- properties ----------------------------------------------------------------------------

const OPTIONS: [&str; 5] = ["satisfied", "basic", "dissatisfied", "unknown", "forged"];

/// Random counts on the 18 mass items (and a forged item), any option incl. a forged one.
fn tallies() -> impl Strategy<Value = Tally> {
    let item = (0usize..19).prop_map(|i| {
        if i == 18 {
            "m99".to_owned()
        } else {
            format!("m{}", i + 1)
        }
    });
    let options = prop::collection::btree_map(
        prop::sample::select(OPTIONS.to_vec()).prop_map(str::to_owned),
        0u64..40,
        0..5,
    );
    (prop::collection::btree_map(item, options, 0..19), 0u64..100).prop_map(|(items, responses)| {
        Tally {
            responses,
            items,
            ..Tally::default()
        }
    })
}

/// Figures within their ranges; a `pooled` figure of a tally without per-respondent sums
/// has no interval.
fn in_range(f: &Figures, pooled: bool) -> bool {
    let rate_ok = f.rate.is_none_or(|r| (0.0..=1.0).contains(&r));
    let index_ok = f.index.is_none_or(|i| (0.0..=100.0).contains(&i));
    let wilson_ok = match (f.rate, f.interval) {
        (Some(r), Some((lo, hi))) => 0.0 <= lo && lo <= r + 1e-12 && r <= hi + 1e-12 && hi <= 1.0,
        (None, None) => true,
        (Some(_), None) => pooled,
        (None, Some(_)) => false,
    };
    rate_ok && index_ok && wilson_ok && f.satisfied <= f.valid && f.valid <= f.answers
}

/// `after` is no lower than `before` wherever `before` is known.
fn not_lower(before: Option<f64>, after: Option<f64>) -> bool {
    before.is_none_or(|b| after.is_some_and(|a| a >= b))
}

/// Random trees: node i's parent is an earlier node or none.
fn trees() -> impl Strategy<Value = Vec<Node>> {
    prop::collection::vec(
        prop::option::weighted(0.85, any::<prop::sample::Index>()),
        1..14,
    )
    .prop_map(|parents| {
        parents
            .iter()
            .enumerate()
            .map(|(i, p)| Node {
                code: format!("u{i}"),
                parent: p.filter(|_| i > 0).map(|p| format!("u{}", p.index(i))),
            })
            .collect()
    })
}

fn sheets() -> impl Strategy<Value = Vec<BTreeMap<String, String>>> {
    let answer = (1usize..5, prop::sample::select(OPTIONS.to_vec()));
    let one = prop::collection::vec(answer, 0..4).prop_map(|a| {
        a.into_iter()
            .map(|(i, o)| (format!("m{i}"), o.to_owned()))
            .collect()
    });
    prop::collection::vec(one, 0..4)
}

/// Codes of `code` and all its descendants, found by walking down the child lists.
fn subtree(nodes: &[Node], code: &str) -> Vec<String> {
    let mut out = vec![code.to_owned()];
    for n in nodes.iter().filter(|n| n.parent.as_deref() == Some(code)) {
        out.extend(subtree(nodes, &n.code));
    }
    out
}

proptest! {
    #[test]
    fn figures_stay_in_range(tally in tallies()) {
        let m = mass_figures(&WEIGHTED, &tally);
        prop_assert!(in_range(&m.overall, true));
        for d in &m.dimensions {
            prop_assert!(in_range(&d.figures, true));
        }
        for i in &m.items {
            prop_assert!(in_range(&i.figures, false));
        }
    }

    #[test]
    fn one_more_satisfied_never_lowers_a_figure(tally in tallies(), which in 0usize..18) {
        let survey = &*WEIGHTED;
        let best = survey.scales["mass4"]
            .options
            .iter()
            .filter(|o| o.satisfied)
            .max_by(|a, b| a.score.unwrap_or(0.0).total_cmp(&b.score.unwrap_or(0.0)))
            .unwrap();
        let item = format!("m{}", which + 1);
        let before = mass_figures(survey, &tally);
        let mut more = tally.clone();
        more.add_response(&sheet(&[(&item, &best.id)]));
        let after = mass_figures(survey, &more);
        let dim = which / 3;
        let pairs = [
            (before.items[which].figures, after.items[which].figures),
            (before.dimensions[dim].figures, after.dimensions[dim].figures),
            (before.overall, after.overall),
        ];
        for (b, a) in pairs {
            prop_assert!(not_lower(b.rate, a.rate), "{b:?} → {a:?}");
            prop_assert!(not_lower(b.index, a.index), "{b:?} → {a:?}");
        }
    }

    #[test]
    fn composite_is_monotone_in_each_step(
        w in (0.0f64..1.0, 0.0f64..1.0, 0.0f64..1.0),
        scores in prop::array::uniform3(prop::option::of(0.0f64..=100.0)),
        step in 0usize..3,
        bump in 0.0f64..50.0,
    ) {
        let weights = Weights { self_assessment: w.0, mass: w.1, org: w.2 };
        let c = |s: [Option<f64>; 3]| composite(&weights, s[0], s[1], s[2]).score;
        let before = c(scores);
        let mut higher = scores;
        higher[step] = higher[step].map(|s| (s + bump).min(100.0));
        prop_assert!(not_lower(before, c(higher)));
        // The steps reported add up to the three.
        let k = composite(&weights, scores[0], scores[1], scores[2]);
        prop_assert_eq!(k.steps.len() + k.missing.len(), 3);
    }

    #[test]
    fn rollup_equals_figures_of_the_pooled_answers(
        nodes in trees(),
        answers in prop::collection::vec(sheets(), 14),
    ) {
        let own: BTreeMap<String, Tally> = nodes
            .iter()
            .zip(&answers)
            .filter(|(_, a)| !a.is_empty())
            .map(|(n, a)| {
                let mut t = Tally::default();
                for s in a {
                    t.add_response(s);
                }
                (n.code.clone(), t)
            })
            .collect();
        let r = rollup(&nodes, &own);
        prop_assert_eq!(r.len(), nodes.len());
        for n in &nodes {
            let mut pooled = Tally::default();
            for code in subtree(&nodes, &n.code) {
                let i: usize = code[1..].parse().unwrap();
                for s in &answers[i] {
                    pooled.add_response(s);
                }
            }
            prop_assert_eq!(&r[&n.code], &pooled);
            prop_assert_eq!(mass_figures(&SURVEY, &r[&n.code]), mass_figures(&SURVEY, &pooled));
        }
    }
}
