//! People surveys (`kind = "people"`, 民主评议): the `[people]` section, the unit-only keys it
//! refuses, and the three shipped people surveys. Uses the helpers of the parent test module.

use super::*;
use crate::domain::people::{Fraction, Raters, Rule};

/// A small people survey using every key of `[people]`, with an invalid 不了解 option on the
/// overall scale. Error tests edit it, as the unit tests edit `VALID`.
const PEOPLE: &str = r#"kind = "people"
id = "mini-people"
title = "小评议"
title_en = "Mini people evaluation"

[scales.grade4]
name = "等次"

[[scales.grade4.options]]
id = "excellent"
label = "优秀"
score = 100

[[scales.grade4.options]]
id = "qualified"
label = "合格"
score = 80

[[scales.grade4.options]]
id = "unqualified"
label = "不合格"
label_en = "Unqualified"
score = 0
reason = true

[[scales.grade4.options]]
id = "unknown"
label = "不了解"
valid = false

[scales.good3]
name = "好坏"

[[scales.good3.options]]
id = "good"
label = "好"
score = 100

[[scales.good3.options]]
id = "bad"
label = "差"
score = 0

[people]
rated_roles = ["party", "secretary"]
rated_categories = ["student"]
raters = "peers"
masses = true
team = true
summary = false
min_raters = 4
overall = "grade"
final_grade = false
top_cap = 0.25
default_grade = "qualified"

[[people.suggest]]
grade = "excellent"
when = ["excellent"]
min_share = "2/3"

[[people.suggest]]
grade = "unqualified"
when = ["unqualified"]
min_share = 0.5
flag = true

[[people.items]]
id = "duty"
text = "岗位履职"
text_en = "Duties"
scale = "good3"

[[people.items]]
id = "grade"
text = "总体评价"
scale = "grade4"
"#;

/// The only error of `src`, checked like [`only_error`].
fn only(src: &str, place: &str, part: &str, line: usize) -> SurveyError {
    only_error(src, place, part, line)
}

// ---- a valid people survey -----------------------------------------------------------

#[test]
fn a_people_survey_parses_into_its_spec() {
    let s = parse_ok(PEOPLE);
    assert!(s.is_people());
    let p = s.people.as_ref().expect("people spec");
    assert_eq!(p.rated_roles, ["party", "secretary"]);
    assert_eq!(p.rated_categories, ["student"]);
    assert_eq!(p.raters, Raters::Peers);
    assert!(p.masses && p.team && !p.summary && !p.final_grade);
    assert_eq!(p.min_raters, 4);
    assert_eq!(p.overall, "grade");
    assert_eq!(p.top_cap, Fraction { num: 1, den: 4 });
    assert_eq!(p.default_grade, "qualified");
    assert_eq!(
        p.suggest,
        [
            Rule {
                grade: "excellent".into(),
                when: vec!["excellent".into()],
                min_share: Fraction { num: 2, den: 3 },
                flag: false,
            },
            Rule {
                grade: "unqualified".into(),
                when: vec!["unqualified".into()],
                min_share: Fraction { num: 1, den: 2 },
                flag: true,
            },
        ]
    );
    let items: Vec<(&str, &str, &str, f64, bool)> = p
        .items
        .iter()
        .map(|i| {
            (
                i.id.as_str(),
                i.text.zh.as_str(),
                i.scale.as_str(),
                i.weight,
                i.required,
            )
        })
        .collect();
    assert_eq!(
        items,
        [
            ("duty", "岗位履职", "good3", 1.0, true),
            ("grade", "总体评价", "grade4", 1.0, true),
        ]
    );
    assert_eq!(p.items[0].text.en.as_deref(), Some("Duties"));
    assert_eq!(p.overall_item().id, "grade");
}

#[test]
fn a_people_survey_fills_the_unit_fields_with_neutral_placeholders() {
    let s = parse_ok(PEOPLE);
    assert_eq!(
        s.weights,
        Weights {
            self_assessment: 0.0,
            mass: 1.0,
            org: 0.0,
        }
    );
    assert_eq!(
        s.anonymity,
        Anonymity {
            min_responses: 4,
            min_comments: 4,
        }
    );
    assert!(s.grades.is_empty() && s.gates.is_empty());
    for kind in StepKind::ALL {
        assert_eq!(s.step(kind).kind, kind);
        assert_eq!(s.step(kind).items().count(), 0);
        assert!(!s.step(kind).comment);
    }
}

#[test]
fn unit_surveys_have_no_people_spec_and_options_no_reason() {
    let s = parse_ok(VALID);
    assert!(!s.is_people());
    assert!(
        s.scales
            .values()
            .flat_map(|sc| &sc.options)
            .all(|o| !o.reason)
    );
    let s = parse_ok(&format!("kind = \"units\"\n{VALID}"));
    assert!(!s.is_people());
}

#[test]
fn reason_is_read_per_option() {
    let s = parse_ok(PEOPLE);
    let reasons: Vec<(&str, bool)> = s.scales["grade4"]
        .options
        .iter()
        .map(|o| (o.id.as_str(), o.reason))
        .collect();
    assert_eq!(
        reasons,
        [
            ("excellent", false),
            ("qualified", false),
            ("unqualified", true),
            ("unknown", false),
        ]
    );
}

#[test]
fn optional_people_keys_take_their_defaults() {
    let mut src = PEOPLE.to_owned();
    for line in [
        "rated_categories = [\"student\"]\n",
        "masses = true\n",
        "team = true\n",
        "summary = false\n",
        "min_raters = 4\n",
        "final_grade = false\n",
        "top_cap = 0.25\n",
    ] {
        src = edit(&src, line, "");
    }
    let start = src.find("[[people.suggest]]").unwrap();
    let end = src.find("[[people.items]]").unwrap();
    src.replace_range(start..end, "");
    let s = parse_ok(&src);
    let p = s.people.unwrap();
    assert!(p.rated_categories.is_empty());
    assert!(!p.masses && !p.team && p.summary && p.final_grade);
    assert_eq!(p.min_raters, 5);
    assert_eq!(p.top_cap, Fraction { num: 1, den: 3 });
    assert!(p.suggest.is_empty());
}

#[test]
fn raters_unit_parses() {
    let src = edit(PEOPLE, "masses = true\n", "");
    let src = edit(&src, r#"raters = "peers""#, r#"raters = "unit""#);
    assert_eq!(parse_ok(&src).people.unwrap().raters, Raters::Unit);
}

#[test]
fn shares_are_exact_fractions_or_numbers_with_four_decimals() {
    for (written, num, den) in [
        ("\"1/3\"", 1, 3),
        ("\" 2 / 4 \"", 1, 2),
        ("\"1/1\"", 1, 1),
        ("1", 1, 1),
        ("1.0", 1, 1),
        ("0.5", 1, 2),
        ("0.6667", 6667, 10000),
        ("0.0001", 1, 10000),
    ] {
        let src = edit(PEOPLE, "top_cap = 0.25", &format!("top_cap = {written}"));
        let cap = parse_ok(&src).people.unwrap().top_cap;
        assert_eq!(cap, Fraction { num, den }, "top_cap = {written}");
    }
}

// ---- errors of [people] ----------------------------------------------------------------

#[test]
fn bad_shares_are_refused_with_their_line() {
    for (written, part) in [
        ("\"0/3\"", "not in (0, 1]"),
        ("\"4/3\"", "not in (0, 1]"),
        ("\"1/0\"", "divides by zero"),
        ("\"a third\"", "is not a share"),
        ("\"-1/3\"", "is not a share"),
        ("\"1/30000000\"", "up to 1000000"),
        ("0", "not in (0, 1]"),
        ("2", "not in (0, 1]"),
        ("1.5", "not in (0, 1]"),
        ("-0.5", "not in (0, 1]"),
        ("0.33333", "more than four decimals"),
        ("true", "a string \"a/b\""),
    ] {
        let src = edit(PEOPLE, "top_cap = 0.25", &format!("top_cap = {written}"));
        only(&src, "people.top_cap", part, line_with(&src, "top_cap ="));
    }
}

#[test]
fn a_bad_min_share_names_its_rule() {
    let src = edit(PEOPLE, "min_share = 0.5", "min_share = \"3/2\"");
    only(
        &src,
        "people.suggest[2] min_share",
        "not in (0, 1]",
        line_with(&src, "min_share = \"3/2\""),
    );
}

#[test]
fn an_unknown_rated_role_is_refused_with_its_line() {
    let src = edit(
        PEOPLE,
        r#"["party", "secretary"]"#,
        r#"["party", "leader"]"#,
    );
    only(
        &src,
        "people.rated_roles",
        "\"leader\" is not a roster role",
        line_with(&src, "rated_roles"),
    );
}

#[test]
fn every_roster_role_may_be_rated() {
    let src = edit(
        PEOPLE,
        r#"["party", "secretary"]"#,
        r#"["member", "secretary", "committee", "party", "cadre"]"#,
    );
    assert_eq!(parse_ok(&src).people.unwrap().rated_roles.len(), 5);
}

#[test]
fn empty_rated_roles_are_refused() {
    let src = edit(PEOPLE, r#"["party", "secretary"]"#, "[]");
    only(
        &src,
        "people.rated_roles",
        "at least one",
        line_with(&src, "rated_roles"),
    );
}

#[test]
fn an_empty_rated_category_is_refused() {
    let src = edit(PEOPLE, r#"["student"]"#, r#"["student", " "]"#);
    only(
        &src,
        "people.rated_categories",
        "empty",
        line_with(&src, "rated_categories"),
    );
}

#[test]
fn unknown_raters_are_refused_with_their_line() {
    let src = edit(PEOPLE, r#"raters = "peers""#, r#"raters = "everyone""#);
    only(
        &src,
        "people.raters",
        "\"everyone\" is not a kind of raters",
        line_with(&src, r#"raters = "everyone""#),
    );
}

#[test]
fn masses_with_unit_raters_are_refused() {
    let src = edit(PEOPLE, r#"raters = "peers""#, r#"raters = "unit""#);
    only(
        &src,
        "people.masses",
        "peers",
        line_with(&src, "masses = true"),
    );
}

#[test]
fn masses_false_with_unit_raters_is_fine() {
    let src = edit(PEOPLE, r#"raters = "peers""#, r#"raters = "unit""#);
    let src = edit(&src, "masses = true", "masses = false");
    assert!(!parse_ok(&src).people.unwrap().masses);
}

#[test]
fn min_raters_below_two_is_refused_with_its_line() {
    for k in ["1", "0", "-3"] {
        let src = edit(PEOPLE, "min_raters = 4", &format!("min_raters = {k}"));
        only(
            &src,
            "people.min_raters",
            "at least 2",
            line_with(&src, "min_raters"),
        );
    }
}

#[test]
fn missing_required_people_keys_are_reported_at_the_section() {
    for (line, place) in [
        (
            "rated_roles = [\"party\", \"secretary\"]\n",
            "people.rated_roles",
        ),
        ("raters = \"peers\"\n", "people.raters"),
        ("default_grade = \"qualified\"\n", "people.default_grade"),
    ] {
        let src = edit(PEOPLE, line, "");
        // Without raters, masses = true is still fine: raters default to peers.
        only(&src, place, "missing", line_with(&src, "[people]"));
    }
}

#[test]
fn a_missing_overall_is_reported_at_the_section() {
    let src = edit(PEOPLE, "overall = \"grade\"\n", "");
    only(
        &src,
        "people.overall",
        "missing",
        line_with(&src, "[people]"),
    );
}

#[test]
fn people_without_items_are_refused() {
    let start = PEOPLE.find("[[people.items]]").unwrap();
    let src = &PEOPLE[..start];
    let errors = parse_err(src);
    let e = find(&errors, "people.items", "at least one");
    assert_eq!(e.line, Some(line_with(src, "[people]")));
    // The overall item is then unknown too.
    find(&errors, "people.overall", "is not the id");
}

#[test]
fn an_overall_that_is_not_an_item_is_refused_with_its_line() {
    let src = edit(PEOPLE, r#"overall = "grade""#, r#"overall = "grades""#);
    only(
        &src,
        "people.overall",
        "\"grades\" is not the id",
        line_with(&src, "overall ="),
    );
}

#[test]
fn an_overall_scale_starting_with_an_invalid_option_is_refused() {
    // Move 不了解 to the front of the overall scale.
    let unknown =
        "[[scales.grade4.options]]\nid = \"unknown\"\nlabel = \"不了解\"\nvalid = false\n\n";
    let src = edit(PEOPLE, unknown, "");
    let src = edit(
        &src,
        "[[scales.grade4.options]]\nid = \"excellent\"",
        &format!("{unknown}[[scales.grade4.options]]\nid = \"excellent\""),
    );
    only(
        &src,
        "people.overall",
        "first option",
        line_with(&src, "[people]"),
    );
}

#[test]
fn a_default_grade_outside_the_overall_scale_is_refused_with_its_line() {
    // "good" is an option, but of another scale.
    let src = edit(
        PEOPLE,
        r#"default_grade = "qualified""#,
        r#"default_grade = "good""#,
    );
    only(
        &src,
        "people.default_grade",
        "not an option of the overall item's scale \"grade4\"",
        line_with(&src, "default_grade"),
    );
}

#[test]
fn an_invalid_option_cannot_be_a_grade() {
    let src = edit(
        PEOPLE,
        r#"default_grade = "qualified""#,
        r#"default_grade = "unknown""#,
    );
    only(
        &src,
        "people.default_grade",
        "not a valid vote",
        line_with(&src, "default_grade"),
    );
}

#[test]
fn a_rule_grade_outside_the_overall_scale_is_refused_with_its_line() {
    let src = edit(PEOPLE, r#"grade = "unqualified""#, r#"grade = "failed""#);
    only(
        &src,
        "people.suggest[2]",
        "\"failed\" is not an option",
        line_with(&src, r#"grade = "failed""#),
    );
}

#[test]
fn a_rule_when_outside_the_overall_scale_is_refused_with_its_line() {
    let src = edit(
        PEOPLE,
        r#"when = ["excellent"]"#,
        r#"when = ["excellent", "bad"]"#,
    );
    only(
        &src,
        "people.suggest[1] when",
        "\"bad\" is not an option",
        line_with(&src, r#""bad"]"#),
    );
}

#[test]
fn a_rule_when_on_an_invalid_option_is_refused() {
    let src = edit(PEOPLE, r#"when = ["unqualified"]"#, r#"when = ["unknown"]"#);
    only(
        &src,
        "people.suggest[2] when",
        "not a valid vote",
        line_with(&src, r#"when = ["unknown"]"#),
    );
}

#[test]
fn an_empty_rule_when_is_refused_with_its_line() {
    let src = edit(PEOPLE, r#"when = ["excellent"]"#, "when = []");
    only(
        &src,
        "people.suggest[1]",
        "at least one option",
        line_with(&src, "when = []"),
    );
}

#[test]
fn people_item_errors_name_the_item_and_line() {
    let src = edit(PEOPLE, r#"id = "duty""#, r#"id = "grade""#);
    let e = find(&parse_err(&src), r#"people item "grade""#, "used twice").clone();
    assert_eq!(e.line, Some(lines_with(&src, r#"id = "grade""#)[1]));

    let src = edit(PEOPLE, r#"id = "duty""#, r#"id = "Duty""#);
    only(
        &src,
        r#"people item "Duty""#,
        "lowercase",
        line_with(&src, r#"id = "Duty""#),
    );

    let src = edit(PEOPLE, r#"text = "岗位履职""#, r#"text = " ""#);
    only(
        &src,
        r#"people item "duty""#,
        "text is empty",
        line_with(&src, r#"id = "duty""#),
    );

    let src = edit(PEOPLE, r#"scale = "good3""#, r#"scale = "good5""#);
    only(
        &src,
        r#"people item "duty""#,
        "scale \"good5\" is not defined",
        line_with(&src, r#"scale = "good5""#),
    );
}

#[test]
fn people_items_take_no_weight_or_required() {
    let src = edit(
        PEOPLE,
        r#"scale = "good3""#,
        "scale = \"good3\"\nweight = 2.0",
    );
    let errors = parse_err(&src);
    assert_eq!(errors.len(), 1, "{}", list(&errors));
    assert!(errors[0].message.contains("weight"), "{}", errors[0]);
    assert_eq!(errors[0].line, Some(line_with(&src, "weight = 2.0")));
}

#[test]
fn an_unknown_people_key_is_reported_by_toml_with_its_line() {
    let src = edit(PEOPLE, "team = true", "teams = true");
    let errors = parse_err(&src);
    assert_eq!(errors.len(), 1, "{}", list(&errors));
    assert_eq!(errors[0].line, Some(line_with(&src, "teams = true")));
    assert!(errors[0].message.contains("teams"), "{}", errors[0]);
}

// ---- kind and the keys of the other kind -----------------------------------------------

#[test]
fn an_unknown_kind_is_refused_with_its_line() {
    let src = edit(PEOPLE, r#"kind = "people""#, r#"kind = "persons""#);
    only(&src, "kind", "\"persons\" is not a kind", 1);
}

#[test]
fn a_people_survey_without_a_people_section_is_refused() {
    let start = PEOPLE.find("[people]").unwrap();
    only(&PEOPLE[..start], "people", "needs a [people] section", 1);
}

/// The unit-only sections of `VALID`, each a complete TOML snippet.
fn unit_section(key: &str) -> &'static str {
    match key {
        "weights" => "[weights]\nself = 0.2\nmass = 0.5\norg = 0.3\n\n",
        "anonymity" => "[anonymity]\nmin_responses = 3\nmin_comments = 5\n\n",
        "grades" => {
            "[[grades]]\nlabel = \"好\"\nmin = 90\n\n[[grades]]\nlabel = \"差\"\nmin = 0\n\n"
        }
        "gates" => "[[gates]]\nmin_satisfaction = 0.8\ncap = \"好\"\n\n",
        "steps" => "[steps.self]\nscale = \"good3\"\n\n",
        _ => unreachable!(),
    }
}

#[test]
fn unit_sections_in_a_people_survey_are_refused_by_name_with_their_line() {
    for (key, header, part) in [
        ("weights", "[weights]", "has no weights"),
        ("anonymity", "[anonymity]", "people.min_raters"),
        ("grades", "[[grades]]", "has no grades"),
        ("gates", "[[gates]]", "has no gates"),
        ("steps", "[steps.self]", "has no steps"),
    ] {
        let src = edit(
            PEOPLE,
            "[scales.grade4]\n",
            &format!("{}[scales.grade4]\n", unit_section(key)),
        );
        let errors = parse_err(&src);
        assert_eq!(errors.len(), 1, "{key}: {}", list(&errors));
        let e = find(&errors, key, part);
        assert_eq!(e.line, Some(lines_with(&src, header)[0]), "{key}: {e}");
    }
}

#[test]
fn a_unit_survey_with_a_people_section_is_refused_with_its_line() {
    let people = &PEOPLE[PEOPLE.find("[people]").unwrap()..];
    // The people items' scales exist in VALID too.
    let people = people.replace("good3", "level").replace("grade4", "level");
    let people = people
        .replace("qualified", "good")
        .replace("unqualified", "poor");
    let src = format!("{VALID}\n{people}");
    let errors = parse_err(&src);
    let e = find(&errors, "people", "put kind = \"people\"");
    assert_eq!(e.line, Some(line_with(&src, "[people]")));
    assert_eq!(errors.len(), 1, "{}", list(&errors));
}

#[test]
fn reason_in_a_unit_survey_is_refused_with_its_line() {
    let src = edit(VALID, "id = \"no\"\n", "id = \"no\"\nreason = true\n");
    only(
        &src,
        r#"scales.mass3 option "no""#,
        "only asked in people surveys",
        line_with(&src, r#"id = "no""#),
    );
}

#[test]
fn missing_unit_sections_are_reported_by_name() {
    for (key, place) in [("[weights]", "weights"), ("[anonymity]", "anonymity")] {
        let start = VALID.find(key).unwrap();
        let end = start + VALID[start..].find("\n\n").unwrap() + 2;
        let src = format!("{}{}", &VALID[..start], &VALID[end..]);
        only(&src, place, "missing", 1);
    }
}

#[test]
fn missing_grades_are_reported_and_gates_then_have_no_cap() {
    let start = VALID.find("[[grades]]").unwrap();
    let end = VALID.find("[scales.mass3]").unwrap();
    let src = format!("{}{}", &VALID[..start], &VALID[end..]);
    only(&src, "grades", "missing", 1);
}

#[test]
fn a_unit_survey_without_steps_is_refused_by_name() {
    let start = VALID.find("[steps.self]").unwrap();
    only(&VALID[..start], "steps", "missing", 1);
}

#[test]
fn each_missing_step_is_named() {
    let start = VALID.find("[steps.mass]").unwrap();
    let end = VALID.find("[steps.org]").unwrap();
    let src = format!("{}{}", &VALID[..start], &VALID[end..]);
    let e = only(
        &src,
        "steps.mass",
        "missing",
        line_with(&src, "[steps.self]"),
    );
    assert!(e.message.contains("[steps.mass]"), "{e}");
}

// ---- the documented example and the shipped files ---------------------------------------

#[test]
fn the_documented_people_example_parses() {
    let doc = include_str!("../../../../docs/survey-format.md");
    let start = doc.find("## People surveys").expect("people section");
    let body = &doc[start..];
    let open = body.find("```toml\n").expect("toml fence") + "```toml\n".len();
    let close = body[open..].find("```").expect("closing fence");
    let s = parse_ok(&body[open..open + close]);
    let p = s.people.unwrap();
    assert_eq!(p.suggest.len(), 3);
    assert_eq!(p.top_cap, Fraction { num: 1, den: 3 });
}

const MINZHU: &str = include_str!("../../../../surveys/minzhu-pingyi.toml");
const BANZI: &str = include_str!("../../../../surveys/banzi.toml");
const XUESHENG: &str = include_str!("../../../../surveys/xuesheng-sanping.toml");

fn shipped_people(name: &str, src: &str) -> (Survey, PeopleSpec) {
    let s = match Survey::parse(name, src) {
        Ok(s) => s,
        Err(errors) => panic!("{name}:\n{}", list(&errors)),
    };
    let p = s.people.clone().expect("a people survey");
    (s, p)
}

/// Option ids of the overall scale with their scores and whether they ask for a reason.
fn overall_options(s: &Survey, p: &PeopleSpec) -> Vec<(String, String, Option<f64>, bool)> {
    s.scale_of(p.overall_item())
        .options
        .iter()
        .map(|o| (o.id.clone(), o.label.zh.clone(), o.score, o.reason))
        .collect()
}

fn rules(p: &PeopleSpec) -> Vec<(&str, Vec<&str>, String, bool)> {
    p.suggest
        .iter()
        .map(|r| {
            (
                r.grade.as_str(),
                r.when.iter().map(String::as_str).collect(),
                r.min_share.to_string(),
                r.flag,
            )
        })
        .collect()
}

fn grade4() -> Vec<(String, String, Option<f64>, bool)> {
    [
        ("excellent", "优秀", 100.0, false),
        ("qualified", "合格", 80.0, false),
        ("basic", "基本合格", 60.0, true),
        ("unqualified", "不合格", 0.0, true),
    ]
    .into_iter()
    .map(|(id, l, s, r)| (id.to_owned(), l.to_owned(), Some(s), r))
    .collect()
}

fn member_rules() -> Vec<(&'static str, Vec<&'static str>, String, bool)> {
    vec![
        ("excellent", vec!["excellent"], "2/3".to_owned(), false),
        ("unqualified", vec!["unqualified"], "1/3".to_owned(), true),
        (
            "basic",
            vec!["basic", "unqualified"],
            "1/3".to_owned(),
            false,
        ),
    ]
}

/// Every text of a shipped people survey has its English translation.
fn assert_translated(name: &str, s: &Survey, p: &PeopleSpec) {
    assert!(s.title.en.is_some(), "{name}: title_en");
    for scale in s.scales.values() {
        assert!(
            scale.name.en.is_some(),
            "{name}: scale {} name_en",
            scale.id
        );
        for o in &scale.options {
            assert!(o.label.en.is_some(), "{name}: option {} label_en", o.id);
        }
    }
    for i in &p.items {
        assert!(i.text.en.is_some(), "{name}: item {} text_en", i.id);
    }
}

#[test]
fn minzhu_pingyi_rates_members_by_peers_and_masses() {
    let (s, p) = shipped_people("minzhu-pingyi.toml", MINZHU);
    assert_eq!(s.id, "minzhu-pingyi");
    assert_eq!(p.rated_roles, ["party", "secretary", "cadre"]);
    assert!(p.rated_categories.is_empty());
    assert_eq!(p.raters, Raters::Peers);
    assert!(p.masses && p.summary && p.final_grade && !p.team);
    assert_eq!(p.min_raters, 5);
    assert_eq!(p.top_cap, Fraction { num: 1, den: 3 });
    assert_eq!(p.overall, "grade");
    assert_eq!(p.items.len(), 1);
    assert_eq!(overall_options(&s, &p), grade4());
    assert_eq!(rules(&p), member_rules());
    assert_eq!(p.default_grade, "qualified");
    assert_translated("minzhu-pingyi.toml", &s, &p);
}

#[test]
fn banzi_rates_cadres_and_the_team_by_the_whole_unit() {
    let (s, p) = shipped_people("banzi.toml", BANZI);
    assert_eq!(p.rated_roles, ["secretary", "cadre"]);
    assert_eq!(p.raters, Raters::Unit);
    assert!(p.team && p.summary && !p.final_grade && !p.masses);
    let items: Vec<(&str, &str, &str)> = p
        .items
        .iter()
        .map(|i| {
            (
                i.id.as_str(),
                i.text.zh.split('：').next().unwrap(),
                i.scale.as_str(),
            )
        })
        .collect();
    assert_eq!(
        items,
        [
            ("political", "政治素质", "good4"),
            ("duties", "履职能力", "good4"),
            ("style", "工作作风", "good4"),
            ("integrity", "廉洁自律", "good4"),
            ("overall", "总体评价", "competent4"),
        ]
    );
    let good4: Vec<(&str, Option<f64>)> = s.scales["good4"]
        .options
        .iter()
        .map(|o| (o.label.zh.as_str(), o.score))
        .collect();
    assert_eq!(
        good4,
        [
            ("好", Some(100.0)),
            ("较好", Some(80.0)),
            ("一般", Some(60.0)),
            ("差", Some(0.0)),
        ]
    );
    let overall: Vec<(String, bool)> = overall_options(&s, &p)
        .into_iter()
        .map(|(_, label, _, reason)| (label, reason))
        .collect();
    assert_eq!(
        overall,
        [
            ("优秀".to_owned(), false),
            ("称职".to_owned(), false),
            ("基本称职".to_owned(), true),
            ("不称职".to_owned(), true),
        ]
    );
    assert_eq!(
        rules(&p),
        [
            ("excellent", vec!["excellent"], "2/3".to_owned(), false),
            ("incompetent", vec!["incompetent"], "1/3".to_owned(), true),
        ]
    );
    assert_eq!(p.default_grade, "competent");
    assert_translated("banzi.toml", &s, &p);
}

#[test]
fn xuesheng_sanping_rates_student_members_on_their_posts() {
    let (s, p) = shipped_people("xuesheng-sanping.toml", XUESHENG);
    assert_eq!(p.rated_categories, ["student"]);
    assert_eq!(p.raters, Raters::Peers);
    assert!(!p.masses && p.summary && p.final_grade);
    let ids: Vec<&str> = p.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["duty", "service", "example", "grade"]);
    assert_eq!(p.overall, "grade");
    assert_eq!(overall_options(&s, &p), grade4());
    assert_eq!(rules(&p), member_rules());
    assert_eq!(p.default_grade, "qualified");
    assert_translated("xuesheng-sanping.toml", &s, &p);
}

#[test]
fn the_check_summary_describes_a_people_survey() {
    let (s, _) = shipped_people("minzhu-pingyi.toml", MINZHU);
    let text = crate::cli::survey_summary("minzhu-pingyi.toml", &s, MINZHU);
    for part in [
        "people survey",
        "party or secretary or cadre",
        "the rest of the unit",
        "≥ 5 raters",
        "优秀 100 / 合格 80 / 基本合格 60 (reason) / 不合格 0 (reason)",
        "suggest 1: 优秀 when 优秀 have ≥ 2/3",
        "suggest 2: flag as candidate for 不合格 when 不合格 have ≥ 1/3",
        "suggest 3: 基本合格 when 基本合格 + 不合格 have ≥ 1/3",
        "otherwise suggest: 合格",
        "⌊n × 1/3⌋",
        "fingerprint:",
    ] {
        assert!(text.contains(part), "{part:?} missing from:\n{text}");
    }
}
