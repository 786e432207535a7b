use super::*;
use crate::domain::survey::StepKind;

/// Mass step: m1 and m3 required on `mass3`, m2 optional on `yesno`; comments allowed.
const SURVEY: &str = r#"id = "mini"
title = "小测评"

[weights]
self = 0.2
mass = 0.5
org = 0.3

[anonymity]
min_responses = 3
min_comments = 5

[[grades]]
label = "好"
min = 90

[[grades]]
label = "差"
min = 0

[scales.mass3]
name = "满意度"

[[scales.mass3.options]]
id = "yes"
label = "满意"
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
scale = "yesno"

[[steps.self.dimensions]]
id = "banzi"
name = "班子建设好"

[[steps.self.dimensions.items]]
id = "s1"
text = "自评一"

[steps.mass]
scale = "mass3"

[[steps.mass.dimensions]]
id = "banzi"
name = "班子建设好"

[[steps.mass.dimensions.items]]
id = "m1"
text = "群众一"

[[steps.mass.dimensions.items]]
id = "m2"
text = "群众二"
required = false
scale = "yesno"

[[steps.mass.dimensions]]
id = "yeji"
name = "服务业绩好"

[[steps.mass.dimensions.items]]
id = "m3"
text = "群众三"

[steps.org]
scale = "yesno"

[[steps.org.dimensions]]
id = "banzi"
name = "班子建设好"

[[steps.org.dimensions.items]]
id = "o1"
text = "考评一"
"#;

fn survey() -> Survey {
    Survey::parse("mini.toml", SURVEY).unwrap_or_else(|errors| panic!("{errors:?}"))
}

fn form(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn check_mass(fields: &[(&str, &str)]) -> Result<Submission, (Vec<FieldError>, Submission)> {
    let s = survey();
    check(&s, s.step(StepKind::Mass), &form(fields))
}

fn accepted(fields: &[(&str, &str)]) -> Submission {
    check_mass(fields).unwrap_or_else(|(errors, _)| panic!("refused: {errors:?}"))
}

fn refused(fields: &[(&str, &str)]) -> (Vec<FieldError>, Submission) {
    match check_mass(fields) {
        Ok(sub) => panic!("accepted: {sub:?}"),
        Err(refusal) => refusal,
    }
}

fn fields_of(errors: &[FieldError]) -> Vec<&str> {
    errors.iter().map(|e| e.field.as_str()).collect()
}

fn answers(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn item_fields_are_prefixed_with_q() {
    assert_eq!(field_name("m1"), "q.m1");
}

#[test]
fn a_complete_submission_is_accepted() {
    let sub = accepted(&[
        ("q.m1", "yes"),
        ("q.m2", "n"),
        ("q.m3", "unknown"),
        ("comment", "  工作扎实，服务热情。 "),
    ]);
    assert_eq!(
        sub,
        Submission {
            answers: answers(&[("m1", "yes"), ("m2", "n"), ("m3", "unknown")]),
            comment: Some("工作扎实，服务热情。".into()),
        }
    );
}

#[test]
fn field_order_does_not_matter() {
    let sub = accepted(&[("comment", "好"), ("q.m3", "no"), ("q.m1", "yes")]);
    assert_eq!(sub.answers, answers(&[("m1", "yes"), ("m3", "no")]));
}

#[test]
fn a_missing_required_answer_is_refused_under_the_item_id() {
    let (errors, kept) = refused(&[("q.m1", "yes")]);
    assert_eq!(fields_of(&errors), ["m3"]);
    assert_eq!(
        errors[0].message.en.as_deref(),
        Some("please choose an answer")
    );
    assert!(!errors[0].message.zh.is_empty());
    assert_eq!(kept.answers, answers(&[("m1", "yes")]));
}

#[test]
fn an_empty_form_is_refused_for_every_required_item_in_order() {
    let (errors, kept) = refused(&[]);
    assert_eq!(fields_of(&errors), ["m1", "m3"]);
    assert_eq!(kept, Submission::default());
}

#[test]
fn an_empty_value_counts_as_no_answer() {
    let (errors, kept) = refused(&[("q.m1", ""), ("q.m3", "no")]);
    assert_eq!(fields_of(&errors), ["m1"]);
    assert_eq!(kept.answers, answers(&[("m3", "no")]));
}

#[test]
fn an_optional_item_may_be_omitted_or_left_empty() {
    let sub = accepted(&[("q.m1", "yes"), ("q.m3", "no")]);
    assert_eq!(sub.answers, answers(&[("m1", "yes"), ("m3", "no")]));
    let sub = accepted(&[("q.m1", "yes"), ("q.m2", ""), ("q.m3", "no")]);
    assert!(!sub.answers.contains_key("m2"));
}

#[test]
fn an_option_outside_the_scale_is_refused_once_under_the_item_id() {
    let (errors, kept) = refused(&[("q.m1", "maybe"), ("q.m3", "no")]);
    // Not also "please choose": one message per field.
    assert_eq!(fields_of(&errors), ["m1"]);
    assert_eq!(
        errors[0].message.en.as_deref(),
        Some("the answer is not an option of this question")
    );
    assert_eq!(kept.answers, answers(&[("m3", "no")]));
}

#[test]
fn an_option_of_another_scale_is_refused() {
    // "y" belongs to yesno (m2), not to mass3 (m1).
    let (errors, _) = refused(&[("q.m1", "y"), ("q.m2", "yes"), ("q.m3", "no")]);
    assert_eq!(fields_of(&errors), ["m1", "m2"]);
}

#[test]
fn an_option_label_is_not_an_option_id() {
    let (errors, _) = refused(&[("q.m1", "满意"), ("q.m3", "no")]);
    assert_eq!(fields_of(&errors), ["m1"]);
}

#[test]
fn an_unknown_field_is_refused_under_form() {
    let (errors, kept) = refused(&[("q.m1", "yes"), ("q.m3", "no"), ("q.m9", "yes")]);
    assert_eq!(fields_of(&errors), ["form"]);
    let en = errors[0].message.en.as_deref().unwrap_or_default();
    assert!(en.contains("\"q.m9\""), "{en}");
    assert!(errors[0].message.zh.contains("q.m9"));
    assert_eq!(kept.answers, answers(&[("m1", "yes"), ("m3", "no")]));
}

#[test]
fn fields_without_the_q_prefix_or_of_another_step_are_unknown() {
    let (errors, _) = refused(&[
        ("m1", "yes"),
        ("q.m1", "yes"),
        ("q.m3", "no"),
        ("q.s1", "y"),
        ("q.", "yes"),
    ]);
    assert_eq!(fields_of(&errors), ["form", "form", "form"]);
}

#[test]
fn a_long_unknown_field_name_is_cut_short_in_the_message() {
    let name = format!("q.{}", "x".repeat(500));
    let (errors, _) = refused(&[("q.m1", "yes"), ("q.m3", "no"), (&name, "1")]);
    let en = errors[0].message.en.as_deref().unwrap_or_default();
    assert!(en.contains(&format!("{}…", &name[..40])), "{en}");
    assert!(!en.contains(&name[..41]), "{en}");
}

#[test]
fn a_repeated_field_is_refused_and_the_first_value_kept() {
    let (errors, kept) = refused(&[("q.m1", "yes"), ("q.m3", "no"), ("q.m1", "no")]);
    assert_eq!(fields_of(&errors), ["m1"]);
    assert_eq!(
        errors[0].message.en.as_deref(),
        Some("this field was sent more than once")
    );
    assert_eq!(kept.answers, answers(&[("m1", "yes"), ("m3", "no")]));
}

#[test]
fn a_repeated_comment_is_refused() {
    let (errors, kept) = refused(&[
        ("q.m1", "yes"),
        ("q.m3", "no"),
        ("comment", "一"),
        ("comment", "二"),
    ]);
    assert_eq!(fields_of(&errors), ["comment"]);
    assert_eq!(kept.comment.as_deref(), Some("一"));
}

#[test]
fn a_comment_of_2000_chinese_characters_is_accepted() {
    let text = "好".repeat(MAX_COMMENT_CHARS);
    assert_eq!(text.chars().count(), 2000);
    assert!(text.len() > 2000, "the limit counts characters, not bytes");
    let sub = accepted(&[("q.m1", "yes"), ("q.m3", "no"), ("comment", &text)]);
    assert_eq!(sub.comment.as_deref(), Some(text.as_str()));
}

#[test]
fn surrounding_white_space_does_not_count_toward_the_comment_limit() {
    let text = format!("  \n{}\n  ", "好".repeat(MAX_COMMENT_CHARS));
    let sub = accepted(&[("q.m1", "yes"), ("q.m3", "no"), ("comment", &text)]);
    assert_eq!(sub.comment.map(|c| c.chars().count()), Some(2000));
}

#[test]
fn a_comment_of_2001_characters_is_refused_and_kept() {
    let text = "好".repeat(MAX_COMMENT_CHARS + 1);
    let (errors, kept) = refused(&[("q.m1", "yes"), ("q.m3", "no"), ("comment", &text)]);
    assert_eq!(fields_of(&errors), ["comment"]);
    assert!(errors[0].message.zh.contains("2000"));
    assert!(
        errors[0]
            .message
            .en
            .as_deref()
            .is_some_and(|m| m.contains("2000"))
    );
    // The respondent gets the text back to shorten it.
    assert_eq!(kept.comment.as_deref(), Some(text.as_str()));
    assert_eq!(kept.answers, answers(&[("m1", "yes"), ("m3", "no")]));
}

#[test]
fn an_empty_or_blank_comment_becomes_none() {
    for blank in ["", "   ", "\n\t "] {
        let sub = accepted(&[("q.m1", "yes"), ("q.m3", "no"), ("comment", blank)]);
        assert_eq!(sub.comment, None, "{blank:?}");
    }
    let sub = accepted(&[("q.m1", "yes"), ("q.m3", "no")]);
    assert_eq!(sub.comment, None);
}

#[test]
fn a_comment_is_unknown_on_a_step_without_comments() {
    let s = survey();
    let step = s.step(StepKind::SelfAssessment);
    assert!(!step.comment);
    let fields = form(&[("q.s1", "y"), ("comment", "自评意见")]);
    let Err((errors, kept)) = check(&s, step, &fields) else {
        panic!("a comment on the self step must be refused");
    };
    assert_eq!(fields_of(&errors), ["form"]);
    assert_eq!(kept.answers, answers(&[("s1", "y")]));
    assert_eq!(kept.comment, None);
    assert!(check(&s, step, &form(&[("q.s1", "y")])).is_ok());
}

#[test]
fn every_error_is_returned_with_the_answers_that_could_be_kept() {
    let (errors, kept) = refused(&[
        ("q.m1", "yes"),
        ("q.m2", "maybe"),
        ("q.zz", "yes"),
        ("q.m1", "no"),
        ("comment", " 请保留 "),
    ]);
    // Field problems first in form order, then the missing required items.
    assert_eq!(fields_of(&errors), ["m2", "form", "m1", "m3"]);
    assert_eq!(
        kept,
        Submission {
            answers: answers(&[("m1", "yes")]),
            comment: Some("请保留".into()),
        }
    );
}

#[test]
fn a_repeated_unknown_field_is_reported_under_form() {
    let forged = format!("q.{}", "x".repeat(500));
    let (errors, _) = refused(&[
        ("q.m1", "yes"),
        ("q.m3", "no"),
        ("hack", "1"),
        ("hack", "2"),
        (&forged, "1"),
        (&forged, "2"),
    ]);
    assert_eq!(fields_of(&errors), ["form", "form", "form", "form"]);
}

#[test]
fn a_repeated_comment_on_a_step_without_comments_is_reported_under_form() {
    let s = survey();
    let fields = form(&[("q.s1", "y"), ("comment", "一"), ("comment", "二")]);
    let Err((errors, _)) = check(&s, s.step(StepKind::SelfAssessment), &fields) else {
        panic!("refused expected");
    };
    assert_eq!(fields_of(&errors), ["form", "form"]);
}
