use super::*;

/// A small survey that uses every feature: three steps, a mass scale with an invalid 不了解
/// option, three grades, a gate, an item that overrides the step's scale and defaults.
/// Error tests derive their input from it with [`edit`] and find the expected line with
/// [`line_with`], so no test depends on line numbers that shift when this text changes.
const VALID: &str = r#"id = "mini"
title = "小测评"
title_en = "Mini evaluation"

[weights]
self = 0.2
mass = 0.5
org = 0.3

[anonymity]
min_responses = 3
min_comments = 5

[[grades]]
label = "好"
label_en = "Good"
min = 90

[[grades]]
label = "一般"
min = 60

[[grades]]
label = "差"
min = 0

[[gates]]
min_satisfaction = 0.8
cap = "一般"

[scales.mass3]
name = "满意度"
name_en = "Satisfaction"

[[scales.mass3.options]]
id = "yes"
label = "满意"
label_en = "Satisfied"
score = 100
satisfied = true

[[scales.mass3.options]]
id = "no"
label = "不满意"
score = 0

[[scales.mass3.options]]
id = "unknown"
label = "不了解"
valid = false

[scales.level]
name = "等次"

[[scales.level.options]]
id = "good"
label = "优秀"
score = 100

[[scales.level.options]]
id = "poor"
label = "较差"
score = 40

[scales.yesno]
name = "是否"

[[scales.yesno.options]]
id = "y"
label = "是"
score = 100
satisfied = true

[[scales.yesno.options]]
id = "n"
label = "否"
score = 0

[steps.self]
scale = "level"

[[steps.self.dimensions]]
id = "banzi"
name = "班子建设好"
name_en = "Strong leadership team"

[[steps.self.dimensions.items]]
id = "s1"
text = "自评一"

[steps.mass]
scale = "mass3"
also_rate_parent = ["student"]

[[steps.mass.dimensions]]
id = "banzi"
name = "班子建设好"

[[steps.mass.dimensions.items]]
id = "m1"
text = "群众一"
text_en = "Mass one"

[[steps.mass.dimensions.items]]
id = "m2"
text = "群众二"
weight = 2.5
required = false
scale = "yesno"

[steps.org]
scale = "level"
trim_extremes = true

[[steps.org.dimensions]]
id = "banzi"
name = "班子建设好"

[[steps.org.dimensions.items]]
id = "o1"
text = "考评一"
"#;

const FILE: &str = "mini.toml";

/// `src` with the single occurrence of `from` replaced by `to`.
fn edit(src: &str, from: &str, to: &str) -> String {
    assert_eq!(
        src.matches(from).count(),
        1,
        "{from:?} must occur exactly once in the survey"
    );
    src.replacen(from, to, 1)
}

/// The 1-based numbers of the lines of `src` containing `needle`.
fn lines_with(src: &str, needle: &str) -> Vec<usize> {
    src.lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .map(|(i, _)| i + 1)
        .collect()
}

/// The 1-based number of the only line of `src` containing `needle`.
fn line_with(src: &str, needle: &str) -> usize {
    let lines = lines_with(src, needle);
    assert_eq!(lines.len(), 1, "{needle:?} must be on exactly one line");
    lines[0]
}

fn parse_ok(src: &str) -> Survey {
    match Survey::parse(FILE, src) {
        Ok(s) => s,
        Err(errors) => panic!("expected a valid survey, got:\n{}", list(&errors)),
    }
}

fn parse_err(src: &str) -> Vec<SurveyError> {
    match Survey::parse(FILE, src) {
        Ok(_) => panic!("expected the survey to be refused"),
        Err(errors) => {
            assert!(!errors.is_empty(), "an Err must carry at least one error");
            for e in &errors {
                assert_eq!(e.file, FILE);
            }
            errors
        }
    }
}

fn list(errors: &[SurveyError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The error whose place is `place` and whose message contains `part`.
fn find<'a>(errors: &'a [SurveyError], place: &str, part: &str) -> &'a SurveyError {
    errors
        .iter()
        .find(|e| e.place == place && e.message.contains(part))
        .unwrap_or_else(|| {
            panic!(
                "no error at {place:?} mentioning {part:?} among:\n{}",
                list(errors)
            )
        })
}

/// The only error, checked to be at `place`, mentioning `part`, on `line`.
fn only_error(src: &str, place: &str, part: &str, line: usize) -> SurveyError {
    let errors = parse_err(src);
    assert_eq!(
        errors.len(),
        1,
        "expected one error, got:\n{}",
        list(&errors)
    );
    let e = find(&errors, place, part).clone();
    assert_eq!(e.line, Some(line), "wrong line for {e}");
    e
}

// ---- the valid survey ----------------------------------------------------------------

#[test]
fn line_helper_counts_from_one() {
    assert_eq!(line_with(VALID, r#"id = "mini""#), 1);
    assert_eq!(line_with(VALID, "[weights]"), 5);
    assert_eq!(lines_with(VALID, r#"id = "banzi""#).len(), 3);
}

#[test]
fn a_valid_survey_parses_with_its_top_level_fields() {
    let s = parse_ok(VALID);
    assert_eq!(s.id, "mini");
    assert_eq!(s.title.zh, "小测评");
    assert_eq!(s.title.en.as_deref(), Some("Mini evaluation"));
    assert_eq!(s.description, None);
    assert_eq!(
        s.weights,
        Weights {
            self_assessment: 0.2,
            mass: 0.5,
            org: 0.3,
        }
    );
    assert_eq!(
        s.anonymity,
        Anonymity {
            min_responses: 3,
            min_comments: 5,
        }
    );
}

#[test]
fn grades_keep_their_order_labels_and_bounds() {
    let s = parse_ok(VALID);
    let grades: Vec<(&str, f64)> = s
        .grades
        .iter()
        .map(|g| (g.label.zh.as_str(), g.min))
        .collect();
    assert_eq!(grades, [("好", 90.0), ("一般", 60.0), ("差", 0.0)]);
    assert_eq!(s.grades[0].label.en.as_deref(), Some("Good"));
    assert_eq!(s.grades[1].label.en, None);
}

#[test]
fn a_gate_cap_becomes_the_index_of_its_grade() {
    let s = parse_ok(VALID);
    assert_eq!(
        s.gates,
        [Gate {
            min_satisfaction: 0.8,
            cap: 1,
        }]
    );
    assert_eq!(s.grades[s.gates[0].cap].label.zh, "一般");
}

#[test]
fn gates_are_optional() {
    let src = edit(
        VALID,
        "[[gates]]\nmin_satisfaction = 0.8\ncap = \"一般\"\n",
        "",
    );
    assert!(parse_ok(&src).gates.is_empty());
}

#[test]
fn scales_are_keyed_by_id_with_options_in_order() {
    let s = parse_ok(VALID);
    assert_eq!(
        s.scales.keys().map(String::as_str).collect::<Vec<_>>(),
        ["level", "mass3", "yesno"]
    );
    let mass = &s.scales["mass3"];
    assert_eq!(mass.id, "mass3");
    assert_eq!(mass.name.zh, "满意度");
    assert_eq!(mass.name.en.as_deref(), Some("Satisfaction"));
    let options: Vec<(&str, &str, Option<f64>, bool, bool)> = mass
        .options
        .iter()
        .map(|o| {
            (
                o.id.as_str(),
                o.label.zh.as_str(),
                o.score,
                o.satisfied,
                o.is_valid(),
            )
        })
        .collect();
    assert_eq!(
        options,
        [
            ("yes", "满意", Some(100.0), true, true),
            ("no", "不满意", Some(0.0), false, true),
            ("unknown", "不了解", None, false, false),
        ]
    );
    assert_eq!(mass.options[0].label.en.as_deref(), Some("Satisfied"));
    assert_eq!(mass.options[1].label.en, None);
}

#[test]
fn scale_option_is_found_by_id() {
    let s = parse_ok(VALID);
    let mass = &s.scales["mass3"];
    assert_eq!(
        mass.option("no").map(|o| o.label.zh.as_str()),
        Some("不满意")
    );
    assert!(!mass.option("unknown").is_some_and(ScaleOption::is_valid));
    assert!(mass.option("unknown").is_some());
    assert_eq!(mass.option("maybe"), None);
    assert_eq!(mass.option("满意"), None, "labels are not ids");
}

#[test]
fn steps_come_in_the_order_self_mass_org_and_step_finds_each() {
    let s = parse_ok(VALID);
    let kinds: Vec<StepKind> = s.steps.iter().map(|st| st.kind).collect();
    assert_eq!(kinds, StepKind::ALL);
    for kind in StepKind::ALL {
        assert_eq!(s.step(kind).kind, kind);
    }
    let ids = |kind| {
        s.step(kind)
            .items()
            .map(|i| i.id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(StepKind::SelfAssessment), ["s1"]);
    assert_eq!(ids(StepKind::Mass), ["m1", "m2"]);
    assert_eq!(ids(StepKind::Org), ["o1"]);
}

#[test]
fn step_kinds_have_their_file_ids() {
    let ids: Vec<&str> = StepKind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(ids, ["self", "mass", "org"]);
}

#[test]
fn dimensions_keep_id_and_bilingual_name() {
    let s = parse_ok(VALID);
    let d = &s.step(StepKind::SelfAssessment).dimensions[0];
    assert_eq!(d.id, "banzi");
    assert_eq!(d.name.zh, "班子建设好");
    assert_eq!(d.name.en.as_deref(), Some("Strong leadership team"));
    assert_eq!(s.step(StepKind::Mass).dimensions[0].name.en, None);
}

#[test]
fn items_default_to_weight_one_required_and_the_step_scale() {
    let s = parse_ok(VALID);
    let m1 = s.step(StepKind::Mass).items().next().expect("m1");
    assert_eq!(m1.id, "m1");
    assert_eq!(m1.text.zh, "群众一");
    assert_eq!(m1.text.en.as_deref(), Some("Mass one"));
    assert!((m1.weight - 1.0).abs() < f64::EPSILON);
    assert!(m1.required);
    assert_eq!(m1.scale, "mass3");
    assert_eq!(s.scale_of(m1).id, "mass3");
}

#[test]
fn an_item_may_override_weight_required_and_scale() {
    let s = parse_ok(VALID);
    let m2 = s.step(StepKind::Mass).items().nth(1).expect("m2");
    assert_eq!(m2.id, "m2");
    assert_eq!(m2.text.en, None);
    assert!((m2.weight - 2.5).abs() < f64::EPSILON);
    assert!(!m2.required);
    assert_eq!(m2.scale, "yesno");
    assert_eq!(s.scale_of(m2).id, "yesno");
}

#[test]
fn only_the_mass_step_has_a_comment_by_default() {
    let s = parse_ok(VALID);
    assert!(!s.step(StepKind::SelfAssessment).comment);
    assert!(s.step(StepKind::Mass).comment);
    assert!(!s.step(StepKind::Org).comment);
}

#[test]
fn the_mass_comment_can_be_switched_off() {
    let src = edit(
        VALID,
        "scale = \"mass3\"\n",
        "scale = \"mass3\"\ncomment = false\n",
    );
    assert!(!parse_ok(&src).step(StepKind::Mass).comment);
}

#[test]
fn trim_extremes_is_read_for_org_and_defaults_to_false() {
    let s = parse_ok(VALID);
    assert!(s.step(StepKind::Org).trim_extremes);
    assert!(!s.step(StepKind::Mass).trim_extremes);
    let src = edit(VALID, "trim_extremes = true\n", "");
    assert!(!parse_ok(&src).step(StepKind::Org).trim_extremes);
}

#[test]
fn rates_parent_matches_listed_categories_only() {
    let s = parse_ok(VALID);
    let mass = s.step(StepKind::Mass);
    assert_eq!(mass.also_rate_parent, ["student"]);
    assert!(mass.rates_parent("student"));
    assert!(!mass.rates_parent("faculty"));
    assert!(!mass.rates_parent(""));
    assert!(!s.step(StepKind::SelfAssessment).rates_parent("student"));
}

#[test]
fn rates_parent_star_means_every_category() {
    let src = edit(VALID, r#"["student"]"#, r#"["*"]"#);
    let s = parse_ok(&src);
    assert!(s.step(StepKind::Mass).rates_parent("student"));
    assert!(s.step(StepKind::Mass).rates_parent("retired"));
}

#[test]
fn the_documented_example_parses() {
    let doc = include_str!("../../../docs/survey-format.md");
    let start = doc
        .find("## Complete minimal example")
        .expect("example section");
    let body = &doc[start..];
    let open = body.find("```toml\n").expect("toml fence") + "```toml\n".len();
    let close = body[open..].find("```").expect("closing fence");
    let s = parse_ok(&body[open..open + close]);
    assert_eq!(s.id, "demo");
    assert_eq!(s.grades.len(), 4);
    assert_eq!(s.gates[0].cap, 2);
}

// ---- shipped files -------------------------------------------------------------------

fn shipped() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("surveys");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("surveys/ is readable")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let src = std::fs::read_to_string(&p).expect("survey file is UTF-8");
            (name, src)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_shipped_survey_parses() {
    let files = shipped();
    assert!(
        files.len() >= 2,
        "expected at least 2 surveys, found {files:?}"
    );
    let mut failures = Vec::new();
    for (name, src) in &files {
        match Survey::parse(name, src) {
            // People surveys have no steps; they are checked in `people`.
            Ok(s) if s.is_people() => assert!(!s.people.unwrap().items.is_empty()),
            Ok(s) => {
                for kind in StepKind::ALL {
                    assert!(
                        s.step(kind).items().count() > 0,
                        "{name}: {kind:?} is empty"
                    );
                }
            }
            Err(errors) => failures.push(list(&errors)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn liuhao_has_18_items_per_step_and_the_standard_mass_scale() {
    let files = shipped();
    let (name, src) = files
        .iter()
        .find(|(n, _)| n == "liuhao.toml")
        .expect("surveys/liuhao.toml");
    let s = Survey::parse(name, src).unwrap_or_else(|e| panic!("{}", list(&e)));
    assert_eq!(s.id, "liuhao");
    for kind in StepKind::ALL {
        assert_eq!(s.step(kind).items().count(), 18, "{kind:?}");
        assert_eq!(s.step(kind).dimensions.len(), 6, "{kind:?}");
    }
    let mass = s.step(StepKind::Mass);
    let scale = &s.scales[&mass.items().next().unwrap().scale];
    assert!(mass.items().all(|i| i.scale == scale.id));
    let satisfied: Vec<&str> = scale
        .options
        .iter()
        .filter(|o| o.satisfied)
        .map(|o| o.label.zh.as_str())
        .collect();
    assert_eq!(satisfied, ["满意", "基本满意"]);
    let scores: Vec<f64> = scale.options.iter().filter_map(|o| o.score).collect();
    assert_eq!(scores, [100.0, 60.0, 0.0]);
    let unknown = scale
        .options
        .iter()
        .find(|o| o.label.zh == "不了解")
        .expect("不了解 option");
    assert!(!unknown.is_valid());
    assert!(!unknown.satisfied);
    assert_eq!(
        s.weights,
        Weights {
            self_assessment: 0.2,
            mass: 0.5,
            org: 0.3,
        }
    );
}

// ---- errors --------------------------------------------------------------------------

#[test]
fn weights_that_do_not_sum_to_one_are_refused_with_their_line() {
    let src = edit(VALID, "org = 0.3", "org = 0.4");
    let e = only_error(&src, "weights", "sum to 1", line_with(&src, "[weights]"));
    assert!(e.message.contains("1.1"), "{e}");
}

#[test]
fn a_weight_outside_zero_to_one_is_refused() {
    let src = edit(
        VALID,
        "self = 0.2\nmass = 0.5\norg = 0.3",
        "self = -0.5\nmass = 1.2\norg = 0.3",
    );
    let errors = parse_err(&src);
    let at = Some(line_with(&src, "[weights]"));
    assert_eq!(find(&errors, "weights.self", "between 0 and 1").line, at);
    assert_eq!(find(&errors, "weights.mass", "between 0 and 1").line, at);
    assert_eq!(errors.len(), 2, "{}", list(&errors));
}

#[test]
fn an_unknown_scale_of_a_step_is_refused_with_its_line() {
    let src = edit(
        VALID,
        "[steps.self]\nscale = \"level\"",
        "[steps.self]\nscale = \"nope\"",
    );
    let errors = parse_err(&src);
    let e = find(&errors, "steps.self", "\"nope\" is not defined");
    assert_eq!(e.line, Some(line_with(&src, r#"scale = "nope""#)));
}

#[test]
fn an_unknown_scale_of_an_item_is_refused_with_its_line() {
    let src = edit(VALID, r#"scale = "yesno""#, r#"scale = "nope""#);
    only_error(
        &src,
        r#"steps.mass item "m2""#,
        "\"nope\" is not defined",
        line_with(&src, r#"scale = "nope""#),
    );
}

#[test]
fn an_item_id_repeated_in_another_step_is_refused_on_the_second_use() {
    let src = edit(VALID, r#"id = "o1""#, r#"id = "m1""#);
    let lines = lines_with(&src, r#"id = "m1""#);
    assert_eq!(lines.len(), 2);
    only_error(&src, r#"steps.org item "m1""#, "used twice", lines[1]);
}

#[test]
fn dimension_ids_may_repeat_across_steps_but_not_within_one() {
    // VALID already uses "banzi" in all three steps.
    parse_ok(VALID);
    let src = edit(
        VALID,
        "[[steps.org.dimensions.items]]\nid = \"o1\"\ntext = \"考评一\"\n",
        "[[steps.org.dimensions.items]]\nid = \"o1\"\ntext = \"考评一\"\n\n\
         [[steps.org.dimensions]]\nid = \"banzi\"\nname = \"again\"\n\n\
         [[steps.org.dimensions.items]]\nid = \"o2\"\ntext = \"考评二\"\n",
    );
    let line = *lines_with(&src, r#"id = "banzi""#).last().unwrap();
    only_error(&src, r#"steps.org dimension "banzi""#, "used twice", line);
}

#[test]
fn a_gate_cap_that_is_not_a_grade_is_refused_with_its_line() {
    let src = edit(VALID, r#"cap = "一般""#, r#"cap = "优秀""#);
    let e = only_error(
        &src,
        "gates[1]",
        "not one of the grades",
        line_with(&src, r#"cap = "优秀""#),
    );
    assert!(e.message.contains("优秀"), "{e}");
}

#[test]
fn a_gate_threshold_outside_zero_to_one_is_refused() {
    let src = edit(VALID, "min_satisfaction = 0.8", "min_satisfaction = 90");
    only_error(
        &src,
        "gates[1]",
        "between 0 and 1",
        line_with(&src, "min_satisfaction = 90"),
    );
}

#[test]
fn grades_that_do_not_strictly_decrease_are_refused_with_their_line() {
    let src = edit(VALID, "min = 60", "min = 90");
    only_error(
        &src,
        r#"grades[2] "一般""#,
        "strictly decreasing",
        line_with(&src, r#"label = "一般""#),
    );
}

#[test]
fn a_last_grade_above_zero_is_refused_with_its_line() {
    let src = edit(VALID, "min = 0", "min = 10");
    only_error(
        &src,
        "grades",
        "min = 0",
        line_with(&src, r#"label = "差""#),
    );
}

#[test]
fn a_grade_label_used_twice_is_refused() {
    let src = edit(VALID, r#"label = "差""#, r#"label = "好""#);
    let line = *lines_with(&src, r#"label = "好""#).last().unwrap();
    let errors = parse_err(&src);
    assert_eq!(
        find(&errors, r#"grades[3] "好""#, "used twice").line,
        Some(line)
    );
}

#[test]
fn a_single_grade_is_refused() {
    let src = edit(
        VALID,
        "[[grades]]\nlabel = \"一般\"\nmin = 60\n\n[[grades]]\nlabel = \"差\"\nmin = 0\n",
        "",
    );
    let src = edit(&src, "min = 90", "min = 0");
    let src = edit(&src, r#"cap = "一般""#, r#"cap = "好""#);
    only_error(
        &src,
        "grades",
        "at least two",
        line_with(&src, "[[grades]]"),
    );
}

#[test]
fn a_valid_option_without_a_score_is_refused_with_its_line() {
    let src = edit(
        VALID,
        "id = \"good\"\nlabel = \"优秀\"\nscore = 100\n",
        "id = \"good\"\nlabel = \"优秀\"\n",
    );
    only_error(
        &src,
        r#"scales.level option "good""#,
        "needs a score",
        line_with(&src, r#"id = "good""#),
    );
}

#[test]
fn an_invalid_option_with_a_score_is_refused_with_its_line() {
    let src = edit(VALID, "valid = false\n", "valid = false\nscore = 0\n");
    only_error(
        &src,
        r#"scales.mass3 option "unknown""#,
        "remove its score",
        line_with(&src, r#"id = "unknown""#),
    );
}

#[test]
fn an_invalid_option_cannot_count_as_satisfied() {
    let src = edit(
        VALID,
        "valid = false\n",
        "valid = false\nsatisfied = true\n",
    );
    only_error(
        &src,
        r#"scales.mass3 option "unknown""#,
        "cannot count as satisfied",
        line_with(&src, r#"id = "unknown""#),
    );
}

#[test]
fn a_score_above_100_is_refused() {
    let src = edit(VALID, "score = 40", "score = 140");
    only_error(
        &src,
        r#"scales.level option "poor""#,
        "between 0 and 100",
        line_with(&src, r#"id = "poor""#),
    );
}

#[test]
fn an_option_id_used_twice_in_a_scale_is_refused() {
    let src = edit(VALID, r#"id = "poor""#, r#"id = "good""#);
    let line = *lines_with(&src, r#"id = "good""#).last().unwrap();
    only_error(&src, r#"scales.level option "good""#, "used twice", line);
}

#[test]
fn a_scale_with_a_single_option_is_refused() {
    let src = edit(
        VALID,
        "[[scales.level.options]]\nid = \"poor\"\nlabel = \"较差\"\nscore = 40\n",
        "",
    );
    only_error(
        &src,
        "scales.level",
        "at least two options",
        line_with(&src, "[scales.level]"),
    );
}

#[test]
fn an_unknown_top_level_key_is_reported_by_toml_with_its_line() {
    let src = edit(VALID, r#"title = "小测评""#, r#"titel = "小测评""#);
    let errors = parse_err(&src);
    assert_eq!(errors.len(), 1, "{}", list(&errors));
    let e = &errors[0];
    assert_eq!(e.line, Some(2));
    assert_eq!(e.line, Some(line_with(&src, "titel")));
    assert!(e.message.contains("titel"), "{e}");
    assert_eq!(e.place, "");
}

#[test]
fn an_unknown_nested_key_is_reported_by_toml_with_its_line() {
    let src = edit(VALID, "required = false", "requierd = false");
    let errors = parse_err(&src);
    assert_eq!(errors.len(), 1, "{}", list(&errors));
    assert_eq!(errors[0].line, Some(line_with(&src, "requierd")));
    assert!(errors[0].message.contains("requierd"), "{}", errors[0]);
}

#[test]
fn invalid_toml_is_reported_with_its_line() {
    let src = edit(VALID, "score = 40", "score = = 40");
    let errors = parse_err(&src);
    assert_eq!(errors.len(), 1, "{}", list(&errors));
    assert_eq!(errors[0].line, Some(line_with(&src, "score = = 40")));
}

#[test]
fn a_missing_step_is_refused() {
    let start = VALID.find("[steps.org]").unwrap();
    let errors = parse_err(&VALID[..start]);
    assert_eq!(errors.len(), 1, "{}", list(&errors));
    assert!(errors[0].message.contains("org"), "{}", errors[0]);
}

#[test]
fn min_comments_below_min_responses_is_refused_with_its_line() {
    let src = edit(VALID, "min_comments = 5", "min_comments = 2");
    only_error(
        &src,
        "anonymity.min_comments",
        "at least min_responses",
        line_with(&src, "[anonymity]"),
    );
}

#[test]
fn min_responses_below_two_is_refused() {
    let src = edit(VALID, "min_responses = 3", "min_responses = 1");
    only_error(
        &src,
        "anonymity.min_responses",
        "at least 2",
        line_with(&src, "[anonymity]"),
    );
}

#[test]
fn a_mass_scale_without_a_satisfied_option_is_refused_with_the_step_line() {
    let src = edit(
        VALID,
        "label_en = \"Satisfied\"\nscore = 100\nsatisfied = true\n",
        "label_en = \"Satisfied\"\nscore = 100\n",
    );
    only_error(
        &src,
        "steps.mass",
        "satisfied = true",
        line_with(&src, "[steps.mass]"),
    );
}

#[test]
fn a_mass_item_overriding_with_an_unsatisfiable_scale_is_refused() {
    // m2 switches to "level", which has no satisfied option.
    let src = edit(VALID, r#"scale = "yesno""#, r#"scale = "level""#);
    only_error(
        &src,
        "steps.mass",
        "satisfied = true",
        line_with(&src, "[steps.mass]"),
    );
}

#[test]
fn non_positive_item_weights_are_refused() {
    let src = edit(VALID, "weight = 2.5", "weight = 0");
    only_error(
        &src,
        r#"steps.mass item "m2""#,
        "greater than 0",
        line_with(&src, r#"id = "m2""#),
    );
}

#[test]
fn an_empty_item_text_is_refused() {
    let src = edit(VALID, r#"text = "考评一""#, r#"text = "  ""#);
    only_error(
        &src,
        r#"steps.org item "o1""#,
        "text is empty",
        line_with(&src, r#"id = "o1""#),
    );
}

#[test]
fn ids_must_be_lowercase_ascii() {
    let src = edit(VALID, r#"id = "mini""#, r#"id = "Mini Survey""#);
    only_error(&src, "id", "lowercase", 1);
    let src = edit(VALID, r#"id = "s1""#, r#"id = "S1""#);
    only_error(
        &src,
        r#"steps.self item "S1""#,
        "lowercase",
        line_with(&src, r#"id = "S1""#),
    );
}

#[test]
fn step_keys_of_other_steps_are_refused() {
    let src = edit(
        VALID,
        "[steps.self]\nscale = \"level\"\n",
        "[steps.self]\nscale = \"level\"\ncomment = true\ntrim_extremes = true\n",
    );
    let errors = parse_err(&src);
    let at = Some(line_with(&src, "[steps.self]"));
    assert_eq!(find(&errors, "steps.self", "mass step only").line, at);
    assert_eq!(find(&errors, "steps.self", "org step only").line, at);
    assert_eq!(errors.len(), 2, "{}", list(&errors));
}

#[test]
fn a_step_without_dimensions_is_refused() {
    let src = edit(
        VALID,
        "[[steps.self.dimensions]]\nid = \"banzi\"\nname = \"班子建设好\"\nname_en = \"Strong leadership team\"\n\n\
         [[steps.self.dimensions.items]]\nid = \"s1\"\ntext = \"自评一\"\n",
        "",
    );
    only_error(
        &src,
        "steps.self",
        "at least one dimension",
        line_with(&src, "[steps.self]"),
    );
}

#[test]
fn several_errors_are_all_reported_at_once() {
    let src = edit(VALID, "org = 0.3", "org = 0.4");
    let src = edit(&src, r#"cap = "一般""#, r#"cap = "优秀""#);
    let src = edit(&src, r#"id = "o1""#, r#"id = "s1""#);
    let src = edit(&src, "min_comments = 5", "min_comments = 2");
    let errors = parse_err(&src);
    assert_eq!(errors.len(), 4, "{}", list(&errors));
    assert_eq!(
        find(&errors, "weights", "sum to 1").line,
        Some(line_with(&src, "[weights]"))
    );
    assert_eq!(
        find(&errors, "gates[1]", "not one of the grades").line,
        Some(line_with(&src, r#"cap = "优秀""#))
    );
    assert_eq!(
        find(&errors, r#"steps.org item "s1""#, "used twice").line,
        lines_with(&src, r#"id = "s1""#).last().copied()
    );
    assert_eq!(
        find(&errors, "anonymity.min_comments", "min_responses").line,
        Some(line_with(&src, "[anonymity]"))
    );
}

#[test]
fn survey_error_displays_as_file_line_place_message() {
    let e = SurveyError {
        file: "a.toml".into(),
        line: Some(7),
        place: "weights".into(),
        message: "must sum to 1".into(),
        zh: "之和必须为 1".into(),
    };
    assert_eq!(e.to_string(), "a.toml:7: weights: must sum to 1");
    let no_line = SurveyError {
        line: None,
        ..e.clone()
    };
    assert_eq!(no_line.to_string(), "a.toml: weights: must sum to 1");
    let no_place = SurveyError {
        place: String::new(),
        ..e
    };
    assert_eq!(no_place.to_string(), "a.toml:7: must sum to 1");
}

#[test]
fn a_parse_error_displays_with_its_real_line() {
    let src = edit(VALID, r#"cap = "一般""#, r#"cap = "优秀""#);
    let errors = parse_err(&src);
    let line = line_with(&src, r#"cap = "优秀""#);
    assert_eq!(
        errors[0].to_string(),
        format!("mini.toml:{line}: gates[1]: cap \"优秀\" is not one of the grades")
    );
}

#[test]
fn fingerprint_is_the_sha256_hex_of_the_content() {
    assert_eq!(
        fingerprint(""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        fingerprint("abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    let fp = fingerprint(VALID);
    assert_eq!(fp, hex::encode(Sha256::digest(VALID.as_bytes())));
    assert_eq!(fp.len(), 64);
    assert!(
        fp.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert_ne!(fp, fingerprint(&edit(VALID, "org = 0.3", "org = 0.30")));
}

mod people;
