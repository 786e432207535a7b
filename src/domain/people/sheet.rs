//! A rater's sheet in a people wave: one page listing everyone the rater rates, each with the
//! survey's items and, for a low grade, an optional reason.
//!
//! Form fields are `{key}:{item id}` (the chosen option id) and `{key}:reason`, where `key`
//! is the rated person's address or a team key. A field naming anyone the rater does not
//! rate — themselves, someone of another unit, a made-up key — is refused as a whole: the
//! sheet is not stored and the link is not burned.

use std::collections::{BTreeMap, HashSet};

use super::{MAX_REASON_CHARS, PeopleSpec};
use crate::domain::answers::FieldError;
use crate::domain::survey::Scale;
use crate::domain::text::Text;

/// A checked rating sheet: key → item → option, and key → reason.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Ratings {
    /// Rated key → item id → option id.
    pub ratings: BTreeMap<String, BTreeMap<String, String>>,
    /// Rated key → reason given with a low grade (trimmed, not empty).
    pub reasons: BTreeMap<String, String>,
}

/// The form field of a rated key's item.
pub fn field_name(key: &str, item: &str) -> String {
    format!("{key}:{item}")
}

/// The form field of a rated key's reason.
pub fn reason_field(key: &str) -> String {
    format!("{key}:reason")
}

fn msg(zh: &str, en: &str) -> Text {
    Text {
        zh: zh.to_owned(),
        en: Some(en.to_owned()),
    }
}

/// Whether a reason may go with this key's answers: some chosen option asks for one.
fn reason_allowed(
    spec: &PeopleSpec,
    scales: &BTreeMap<String, Scale>,
    answers: &BTreeMap<String, String>,
) -> bool {
    spec.items.iter().any(|item| {
        answers
            .get(&item.id)
            .and_then(|choice| scales.get(&item.scale)?.option(choice))
            .is_some_and(|o| o.reason)
    })
}

/// Checks a rating sheet's fields against the people the rater rates (`targets`, from the
/// frozen frame). `complete` asks for every item of every target (a submission); a draft may
/// leave answers out. A field naming a key outside `targets` or an unknown item makes the
/// whole sheet invalid. On failure returns the errors (field = the form field) and what
/// could be kept, to fill the form again.
pub fn check(
    spec: &PeopleSpec,
    scales: &BTreeMap<String, Scale>,
    targets: &[String],
    fields: &[(String, String)],
    complete: bool,
) -> Result<Ratings, (Vec<FieldError>, Ratings)> {
    let known: HashSet<&str> = targets.iter().map(String::as_str).collect();
    let mut errors = Vec::new();
    let mut kept = Ratings::default();
    let mut seen = HashSet::new();
    let mut reasons: Vec<(&str, &str)> = Vec::new();
    for (name, value) in fields {
        let Some((key, what)) = name.rsplit_once(':') else {
            errors.push(form_error(msg(
                "表单中有未知的字段",
                "the form has an unknown field",
            )));
            continue;
        };
        if !known.contains(key) {
            errors.push(form_error(msg(
                "表单中有不在您评议名单上的人员，未保存任何内容",
                "the form names someone you are not asked to rate; nothing was saved",
            )));
            continue;
        }
        if !seen.insert(name.as_str()) {
            errors.push(FieldError {
                field: name.clone(),
                message: msg("该项被提交了多次", "this field was sent more than once"),
            });
            continue;
        }
        if what == "reason" {
            reasons.push((key, value));
            continue;
        }
        let Some(item) = spec.items.iter().find(|i| i.id == what) else {
            errors.push(form_error(msg(
                "表单中有未知的字段",
                "the form has an unknown field",
            )));
            continue;
        };
        if value.is_empty() {
            continue;
        }
        if scales
            .get(&item.scale)
            .and_then(|s| s.option(value))
            .is_some()
        {
            kept.ratings
                .entry(key.to_owned())
                .or_default()
                .insert(item.id.clone(), value.clone());
        } else {
            errors.push(FieldError {
                field: name.clone(),
                message: msg(
                    "所选答案不是本题的选项",
                    "the answer is not an option of this question",
                ),
            });
        }
    }
    for (key, value) in reasons {
        let text = value.trim();
        if text.is_empty() {
            continue;
        }
        let field = reason_field(key);
        if text.chars().count() > MAX_REASON_CHARS {
            errors.push(FieldError {
                field,
                message: msg(
                    &format!("理由不能超过 {MAX_REASON_CHARS} 字"),
                    &format!("a reason may have at most {MAX_REASON_CHARS} characters"),
                ),
            });
        } else if text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r')
        {
            errors.push(FieldError {
                field,
                message: msg(
                    "理由中有控制字符",
                    "the reason contains a control character",
                ),
            });
        } else if !reason_allowed(
            spec,
            scales,
            kept.ratings.get(key).unwrap_or(&BTreeMap::new()),
        ) {
            errors.push(FieldError {
                field,
                message: msg(
                    "只有选择较低等次时才填写理由",
                    "a reason goes only with a low grade",
                ),
            });
        } else {
            kept.reasons.insert(
                key.to_owned(),
                text.replace("\r\n", "\n").replace('\r', "\n"),
            );
        }
    }
    if complete {
        for key in targets {
            for item in &spec.items {
                let field = field_name(key, &item.id);
                let answered = kept
                    .ratings
                    .get(key)
                    .is_some_and(|a| a.contains_key(&item.id));
                if !answered && !errors.iter().any(|e| e.field == field) {
                    errors.push(FieldError {
                        field,
                        message: msg("请选择一项", "please choose an answer"),
                    });
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(kept)
    } else {
        Err((errors, kept))
    }
}

fn form_error(message: Text) -> FieldError {
    FieldError {
        field: "form".to_owned(),
        message,
    }
}

/// The bytes a sealed rating sheet of these targets is padded to: every item answered with
/// its longest option and a reason of the longest length for everyone, so the length of a
/// ciphertext tells nothing about what was chosen or written.
pub fn padded_size(
    spec: &PeopleSpec,
    scales: &BTreeMap<String, Scale>,
    targets: &[String],
) -> usize {
    let per_item: usize = spec
        .items
        .iter()
        .map(|i| {
            let longest = scales.get(&i.scale).map_or(0, |s| {
                s.options.iter().map(|o| o.id.len()).max().unwrap_or(0)
            });
            i.id.len() + longest + 8
        })
        .sum();
    // A reason character is at most 4 bytes of UTF-8, or 2 once escaped (\n, \", \\).
    let per_target = |key: &String| 2 * key.len() + 16 + per_item + MAX_REASON_CHARS * 4 + 16;
    // Unit code, receipt nonce and the JSON around them.
    512 + targets.iter().map(per_target).sum::<usize>()
}
