//! A submitted questionnaire: the checks every answer sheet passes before it is stored.
//!
//! Form fields are `q.<item id>` (the chosen option id) and `comment`. Anything else, a
//! repeated field, an option outside the item's scale, a missing required answer or an
//! over-long comment is refused with a message per field; the form is shown again with the
//! answers kept.

use std::collections::{BTreeMap, HashSet};

use super::survey::{Step, Survey};
use super::text::Text;

/// Longest comment accepted, in characters.
pub const MAX_COMMENT_CHARS: usize = 2000;

/// The form field of an item.
pub fn field_name(item_id: &str) -> String {
    format!("q.{item_id}")
}

/// A checked answer sheet.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Submission {
    /// Item id → option id, for the answered items.
    pub answers: BTreeMap<String, String>,
    /// The comment, trimmed; `None` when empty.
    pub comment: Option<String>,
}

/// A problem with one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The item id, `comment`, or `form` for problems not tied to a known field.
    pub field: String,
    /// What is wrong.
    pub message: Text,
}

fn msg(zh: &str, en: &str) -> Text {
    Text {
        zh: zh.to_owned(),
        en: Some(en.to_owned()),
    }
}

/// Checks the submitted fields against the step. On failure returns the errors together
/// with what could be kept of the answers, to fill the form again.
pub fn check(
    survey: &Survey,
    step: &Step,
    fields: &[(String, String)],
) -> Result<Submission, (Vec<FieldError>, Submission)> {
    let mut errors = Vec::new();
    let mut kept = Submission::default();
    let mut seen = HashSet::new();
    for (name, value) in fields {
        if !seen.insert(name.as_str()) {
            // Only a known field is named: a forged name must not become a field id.
            let field = match name.strip_prefix("q.") {
                Some(id) if step.items().any(|i| i.id == id) => id,
                _ if name == "comment" && step.comment => "comment",
                _ => "form",
            };
            errors.push(FieldError {
                field: field.to_owned(),
                message: msg("该项被提交了多次", "this field was sent more than once"),
            });
            continue;
        }
        if name == "comment" && step.comment {
            let trimmed = value.trim();
            if trimmed.chars().count() > MAX_COMMENT_CHARS {
                errors.push(FieldError {
                    field: "comment".into(),
                    message: msg(
                        &format!("意见建议不能超过 {MAX_COMMENT_CHARS} 字"),
                        &format!("the comment may have at most {MAX_COMMENT_CHARS} characters"),
                    ),
                });
            }
            kept.comment = (!trimmed.is_empty()).then(|| trimmed.to_owned());
            continue;
        }
        let item = name
            .strip_prefix("q.")
            .and_then(|id| step.items().find(|i| i.id == id));
        let Some(item) = item else {
            errors.push(unknown_field(name));
            continue;
        };
        if value.is_empty() {
            continue;
        }
        if survey.scale_of(item).option(value).is_some() {
            kept.answers.insert(item.id.clone(), value.clone());
        } else {
            errors.push(FieldError {
                field: item.id.clone(),
                message: msg(
                    "所选答案不是本题的选项",
                    "the answer is not an option of this question",
                ),
            });
        }
    }
    for item in step.items() {
        let flagged = errors.iter().any(|e| e.field == item.id);
        if item.required && !kept.answers.contains_key(&item.id) && !flagged {
            errors.push(FieldError {
                field: item.id.clone(),
                message: msg("请选择一项", "please choose an answer"),
            });
        }
    }
    if errors.is_empty() {
        Ok(kept)
    } else {
        Err((errors, kept))
    }
}

/// The form field of an item's evidence (self step).
pub fn evidence_field(item_id: &str) -> String {
    format!("e.{item_id}")
}

/// A checked self-assessment or committee sheet.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sheet {
    /// Item id → option id.
    pub answers: BTreeMap<String, String>,
    /// Item id → evidence text (non-empty only).
    pub evidence: BTreeMap<String, String>,
}

/// Checks a self-assessment or committee sheet. `action` (save or submit) is the only extra
/// field allowed, evidence fields only where `with_evidence`. A draft (`complete = false`)
/// may leave items open; a submission needs every required item.
pub fn check_sheet(
    survey: &Survey,
    step: &Step,
    fields: &[(String, String)],
    with_evidence: bool,
    complete: bool,
) -> Result<Sheet, (Vec<FieldError>, Sheet)> {
    let mut errors = Vec::new();
    let mut kept = Sheet::default();
    let mut seen = HashSet::new();
    for (name, value) in fields {
        if name == "action" {
            continue;
        }
        let known = name
            .strip_prefix("q.")
            .or_else(|| name.strip_prefix("e.").filter(|_| with_evidence))
            .and_then(|id| step.items().find(|i| i.id == id));
        let Some(item) = known else {
            errors.push(unknown_field(name));
            continue;
        };
        if !seen.insert(name.as_str()) {
            errors.push(FieldError {
                field: item.id.clone(),
                message: msg("该项被提交了多次", "this field was sent more than once"),
            });
            continue;
        }
        if name.starts_with("e.") {
            let text = value.trim();
            if text.chars().count() > MAX_COMMENT_CHARS {
                errors.push(FieldError {
                    field: item.id.clone(),
                    message: msg(
                        &format!("佐证材料不能超过 {MAX_COMMENT_CHARS} 字"),
                        &format!("the evidence may have at most {MAX_COMMENT_CHARS} characters"),
                    ),
                });
            }
            if !text.is_empty() {
                kept.evidence.insert(item.id.clone(), text.to_owned());
            }
        } else if value.is_empty() {
        } else if survey.scale_of(item).option(value).is_some() {
            kept.answers.insert(item.id.clone(), value.clone());
        } else {
            errors.push(FieldError {
                field: item.id.clone(),
                message: msg(
                    "所选答案不是本题的选项",
                    "the answer is not an option of this question",
                ),
            });
        }
    }
    if complete {
        for item in step.items() {
            let flagged = errors.iter().any(|e| e.field == item.id);
            if item.required && !kept.answers.contains_key(&item.id) && !flagged {
                errors.push(FieldError {
                    field: item.id.clone(),
                    message: msg(
                        "提交前请选择一项",
                        "please choose an answer before submitting",
                    ),
                });
            }
        }
    }
    if errors.is_empty() {
        Ok(kept)
    } else {
        Err((errors, kept))
    }
}

/// The error for a field the form does not have (its name cut short).
fn unknown_field(name: &str) -> FieldError {
    FieldError {
        field: "form".into(),
        message: msg(
            &format!("表单中有未知字段“{}”", truncate(name)),
            &format!("unknown field \"{}\" in the form", truncate(name)),
        ),
    }
}

/// Field names echoed in messages are cut short: a forged form must not fill the page.
fn truncate(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if s.chars().count() > 40 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests;
