//! People waves (民主评议) at `/s/{token}`: a rater's one-page sheet — everyone they rate, each
//! with the survey's items and an optional reason for a low grade, a draft only the link can
//! read, then one submission that burns the link — and, in [`own`], a rated person's own
//! link. `respond` hands people waves over here; the rules live in `crate::rating`.

pub mod own;

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web as aw};
use serde::Serialize;

use super::home::Layout;
use super::i18n::{RateStrings, rate_strings};
use super::respond::{Ctx, local_time, message, parse_form};
use super::templates::page;
use crate::app::AppState;
use crate::db::rated::Rated;
use crate::db::waves::{Invitation, WaveHead};
use crate::domain::Lang;
use crate::domain::answers::FieldError;
use crate::domain::people::sheet::{Ratings, field_name, reason_field};
use crate::domain::people::{MAX_REASON_CHARS, PeopleSpec};
use crate::domain::survey::{StepKind, Survey};
use crate::error::AppError;
use crate::rating::{self, Sent};
use crate::respond::Submitted;

/// One option of an item for one person, as a labelled radio button.
#[derive(Serialize)]
struct Radio {
    input_id: String,
    value: String,
    label: String,
    checked: bool,
}

/// One item of one person's card.
#[derive(Serialize)]
struct CardItem {
    anchor: String,
    number: usize,
    /// The question, when the survey asks more than one (one question is said once at the
    /// top of the page).
    text: Option<String>,
    field: String,
    error: Option<String>,
    options: Vec<Radio>,
}

/// The optional reason of one person's card.
#[derive(Serialize)]
struct ReasonView {
    anchor: String,
    field: String,
    value: String,
    max: usize,
    error: Option<String>,
}

/// One person (or leadership team) to rate.
#[derive(Serialize)]
struct Card {
    anchor: String,
    number: usize,
    name: String,
    invalid: bool,
    items: Vec<CardItem>,
    reason: Option<ReasonView>,
}

/// One line of the error summary: what is wrong, linking to where when it is one field.
#[derive(Serialize)]
struct SummaryLine {
    href: Option<String>,
    text: String,
}

/// The rating sheet.
#[derive(Serialize)]
struct SheetPage {
    layout: Layout,
    r: &'static RateStrings,
    action: String,
    wave_title: String,
    unit_name: String,
    closes: Option<String>,
    is_test: bool,
    /// "请对以下 N 个对象逐一评议"; the count of cards.
    count: String,
    total: usize,
    /// The one question asked of everyone, when the survey has one item.
    question: Option<String>,
    reason_hint: String,
    cards: Vec<Card>,
    notice: Option<&'static str>,
    summary: Vec<SummaryLine>,
    summary_title: String,
    still_valid: bool,
    privacy_short: String,
    privacy_threshold: String,
    fingerprint: String,
}

/// What a sheet is rendered from: the answers (and reasons) to show, and any errors.
struct Filled<'a> {
    ratings: &'a Ratings,
    /// Reasons as typed, shown again on a refused sheet (even a too-long one, cut to size).
    typed_reasons: Option<&'a HashMap<String, String>>,
    errors: &'a [FieldError],
    draft: bool,
    saved: bool,
}

fn lang_param(lang: Lang) -> &'static str {
    if lang == Lang::En { "en" } else { "zh" }
}

/// "基本合格/不合格": the labels of the options that take a reason, in scale order.
fn reason_labels(spec: &PeopleSpec, survey: &Survey, lang: Lang) -> Vec<String> {
    let mut labels: Vec<String> = Vec::new();
    for item in &spec.items {
        let Some(scale) = survey.scales.get(&item.scale) else {
            continue;
        };
        for o in scale.options.iter().filter(|o| o.reason) {
            let label = o.label.get(lang).to_owned();
            if !labels.contains(&label) {
                labels.push(label);
            }
        }
    }
    labels
}

/// What every card of a sheet is built with.
struct CardCtx<'a> {
    lang: Lang,
    survey: &'a Survey,
    spec: &'a PeopleSpec,
    single: bool,
    with_reason: bool,
}

/// The card of the `number`th person, adding its errors to `summary`.
fn card(
    c: &CardCtx,
    number: usize,
    target: &Rated,
    f: &Filled,
    summary: &mut Vec<SummaryLine>,
) -> Card {
    let r = rate_strings(c.lang);
    let error_of = |field: &str| {
        f.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.get(c.lang).to_owned())
    };
    let chosen = f.ratings.ratings.get(&target.person);
    let items: Vec<CardItem> = c
        .spec
        .items
        .iter()
        .enumerate()
        .map(|(j, item)| {
            let field = field_name(&target.person, &item.id);
            let error = error_of(&field);
            let anchor = format!("p-{number}-{}", j + 1);
            if let Some(message) = &error {
                let text = if c.single {
                    r.error_line
                } else {
                    r.error_line_item
                };
                summary.push(SummaryLine {
                    href: Some(format!("#{anchor}")),
                    text: text
                        .replace("{name}", &target.name)
                        .replace("{item}", &(j + 1).to_string())
                        .replace("{message}", message),
                });
            }
            let pick = chosen.and_then(|a| a.get(&item.id));
            let options = c
                .survey
                .scales
                .get(&item.scale)
                .map(|s| {
                    s.options
                        .iter()
                        .map(|o| Radio {
                            input_id: format!("{anchor}-{}", o.id),
                            value: o.id.clone(),
                            label: o.label.get(c.lang).to_owned(),
                            checked: pick == Some(&o.id),
                        })
                        .collect()
                })
                .unwrap_or_default();
            CardItem {
                anchor,
                number: j + 1,
                text: (!c.single).then(|| item.text.get(c.lang).to_owned()),
                field,
                error,
                options,
            }
        })
        .collect();
    let reason = c.with_reason.then(|| {
        let field = reason_field(&target.person);
        let error = error_of(&field);
        let anchor = format!("p-{number}-reason");
        if let Some(message) = &error {
            summary.push(SummaryLine {
                href: Some(format!("#{anchor}")),
                text: r
                    .error_line
                    .replace("{name}", &format!("{}（{}）", target.name, r.reason_label))
                    .replace("{message}", message),
            });
        }
        let value = f
            .typed_reasons
            .and_then(|typed| typed.get(&target.person))
            .or_else(|| f.ratings.reasons.get(&target.person))
            .map(|v| v.chars().take(MAX_REASON_CHARS).collect())
            .unwrap_or_default();
        ReasonView {
            anchor,
            field,
            value,
            max: MAX_REASON_CHARS,
            error,
        }
    });
    let invalid = items.iter().any(|i| i.error.is_some())
        || reason.as_ref().is_some_and(|r| r.error.is_some());
    Card {
        anchor: format!("p-{number}"),
        number,
        name: target.name.clone(),
        invalid,
        items,
        reason,
    }
}

/// The survey's people section (a people wave's survey always has one).
fn spec_of(ctx: &Ctx) -> Result<&PeopleSpec, AppError> {
    ctx.survey
        .people
        .as_ref()
        .ok_or_else(|| AppError::Internal("a people wave without a people section".into()))
}

fn sheet_page(
    lang: Lang,
    token: &str,
    ctx: &Ctx,
    targets: &[Rated],
    f: &Filled,
) -> Result<SheetPage, AppError> {
    let t = super::i18n::strings(lang);
    let r = rate_strings(lang);
    let survey = &ctx.survey;
    let spec = spec_of(ctx)?;
    let single = spec.items.len() == 1;
    let labels = reason_labels(spec, survey, lang);
    let mut summary = Vec::new();
    let cards: Vec<Card> = targets
        .iter()
        .enumerate()
        .map(|(i, target)| {
            card(
                &CardCtx {
                    lang,
                    survey,
                    spec,
                    single,
                    with_reason: !labels.is_empty(),
                },
                i + 1,
                target,
                f,
                &mut summary,
            )
        })
        .collect();
    summary.extend(
        super::assess::form_errors(f.errors, lang)
            .into_iter()
            .map(|text| SummaryLine { href: None, text }),
    );
    // Errors of fields no card shows (a forged field of a known person, say) still say so.
    if summary.is_empty() && !f.errors.is_empty() {
        summary.extend(f.errors.iter().map(|e| SummaryLine {
            href: None,
            text: e.message.get(lang).to_owned(),
        }));
    }
    let path = format!("/s/{token}");
    let title = if summary.is_empty() {
        format!("{} · {}", r.title, ctx.wave.title)
    } else {
        format!("{}{} · {}", t.error_prefix, r.title, ctx.wave.title)
    };
    let min = spec.min_raters.to_string();
    let joiner = if lang == Lang::En { " or " } else { "/" };
    Ok(SheetPage {
        layout: Layout::new(lang, title, &path),
        r,
        action: format!("{path}?lang={}", lang_param(lang)),
        wave_title: ctx.wave.title.clone(),
        unit_name: ctx.unit_name.clone(),
        closes: ctx.wave.closes_at.map(local_time),
        is_test: ctx.wave.is_test,
        count: r.count.replace("{count}", &targets.len().to_string()),
        total: targets.len(),
        question: single.then(|| spec.items[0].text.get(lang).to_owned()),
        reason_hint: r
            .reason_hint
            .replace("{labels}", &labels.join(joiner))
            .replace("{max}", &MAX_REASON_CHARS.to_string()),
        cards,
        notice: (f.saved && f.errors.is_empty()).then_some(r.draft_saved),
        summary_title: if f.draft {
            r.draft_errors_summary
        } else {
            r.errors_summary
        }
        .replace("{count}", &summary.len().to_string()),
        still_valid: !summary.is_empty(),
        summary,
        privacy_short: r.privacy_short.replace("{min}", &min),
        privacy_threshold: r.privacy_threshold.replace("{min}", &min),
        fingerprint: ctx.wave.fingerprint.clone(),
    })
}

/// `GET /s/{token}` of a people wave that takes answers: the rater's sheet (with their
/// draft), or the rated person's own page.
pub async fn show(
    state: &aw::Data<AppState>,
    lang: Lang,
    token: &str,
    ctx: Ctx,
) -> Result<HttpResponse, AppError> {
    if ctx.invitation.step == StepKind::SelfAssessment.as_str() {
        return own::show_open(state, lang, token, ctx).await;
    }
    if ctx.invitation.step != StepKind::Mass.as_str() {
        return Err(AppError::NotFound);
    }
    let (st, wave, invitation, raw) = (
        state.clone(),
        ctx.wave.clone(),
        ctx.invitation.clone(),
        token.to_owned(),
    );
    let (targets, draft) = super::admin::blocking(state, move |conn| {
        let in_unit = st.frame(conn, &wave, &invitation.unit)?;
        Ok((
            rating::targets_among(&in_unit, &invitation),
            rating::load_draft(conn, &raw, &invitation)?,
        ))
    })
    .await?;
    let ratings = draft.unwrap_or_default();
    let filled = Filled {
        ratings: &ratings,
        typed_reasons: None,
        errors: &[],
        draft: false,
        saved: false,
    };
    let sheet = sheet_page(lang, token, &ctx, &targets, &filled)?;
    page(&state.templates, StatusCode::OK, "pages/rate/sheet", &sheet)
}

/// The largest rating sheet a rater of `targets` people can send: per person, each item's
/// field (`{address}:{item}` percent-encoded, an address is at most 254 bytes) and option,
/// and a reason of [`MAX_REASON_CHARS`] characters of up to 12 bytes once percent-encoded;
/// plus the `action` field. 60 people with reasons come to about 110 KB in practice; this
/// bound is roughly twice that, and anything larger is forged.
fn max_body(targets: usize, items: usize) -> usize {
    4 * 1024 + targets * (items * 640 + MAX_REASON_CHARS * 12 + 640)
}

/// What a rating `POST` came to.
pub(super) enum Outcome {
    /// The sheet again: the targets, what to show, errors, whether a draft was asked for
    /// and whether it was saved.
    Sheet {
        targets: Vec<Rated>,
        ratings: Ratings,
        typed: HashMap<String, String>,
        errors: Vec<FieldError>,
        draft: bool,
    },
    /// Stored.
    Stored(String),
    /// The link stopped working meanwhile.
    Refused(Box<crate::respond::Lookup>),
}

/// The page a rating `POST` leads to: thanks, the link's refusal, or the sheet again (with
/// `ctx`, which is there exactly for sheets).
pub(super) fn answer(
    state: &AppState,
    lang: Lang,
    token: &str,
    wave_id: i32,
    ctx: Option<&Ctx>,
    done: Outcome,
) -> Result<HttpResponse, AppError> {
    let path = format!("/s/{token}");
    match (done, ctx) {
        (Outcome::Refused(refused), _) => message(state, lang, &path, &refused),
        (Outcome::Stored(receipt), _) => super::respond::thanks(state, lang, receipt, wave_id),
        (
            Outcome::Sheet {
                targets,
                ratings,
                typed,
                errors,
                draft,
            },
            Some(ctx),
        ) => {
            let filled = Filled {
                ratings: &ratings,
                typed_reasons: (!errors.is_empty()).then_some(&typed),
                errors: &errors,
                draft,
                saved: draft && errors.is_empty(),
            };
            let sheet = sheet_page(lang, token, ctx, &targets, &filled)?;
            let status = if errors.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            page(&state.templates, status, "pages/rate/sheet", &sheet)
        }
        (Outcome::Sheet { .. }, None) => Err(AppError::Internal(
            "a rating sheet to show again without its context".into(),
        )),
    }
}

/// Handles a rater's sheet on the connection its link was looked up with: the targets from
/// the cached frame, the size bound, then a draft saved or the sheet submitted.
pub(super) fn rate_post(
    state: &AppState,
    conn: &mut crate::db::DbConn,
    token: &str,
    wave: &WaveHead,
    invitation: &Invitation,
    body: &[u8],
) -> Result<Outcome, AppError> {
    let survey = state.survey(conn, wave.id)?;
    let spec = survey
        .people
        .as_ref()
        .ok_or_else(|| AppError::Internal("a people wave without a people section".into()))?;
    let in_unit = state.frame(conn, wave, &invitation.unit)?;
    let targets = rating::targets_among(&in_unit, invitation);
    if body.len() > max_body(targets.len(), spec.items.len()) {
        return Err(AppError::TooLarge(crate::error::Msg::new(
            "评议表过大。",
            "The rating sheet is larger than any this page can produce.",
        )));
    }
    let mut fields =
        parse_form(body).unwrap_or_else(|| vec![("\u{fffd}".to_owned(), String::new())]);
    let draft = fields.iter().any(|(k, v)| k == "action" && v == "draft");
    // The buttons' field is no rating: the sheet's check would refuse it as unknown.
    fields.retain(|(k, _)| k != "action");
    let known: std::collections::HashSet<&str> =
        targets.iter().map(|t| t.person.as_str()).collect();
    let typed: HashMap<String, String> = fields
        .iter()
        .filter_map(|(k, v)| {
            let key = k.strip_suffix(":reason")?;
            known.contains(key).then(|| (key.to_owned(), v.clone()))
        })
        .collect();
    let sheet = |ratings, errors| Outcome::Sheet {
        targets: targets.clone(),
        ratings,
        typed: typed.clone(),
        errors,
        draft,
    };
    if draft {
        return Ok(
            match rating::save_draft(conn, token, invitation, &survey, &targets, &fields)? {
                Ok(ratings) => sheet(ratings, Vec::new()),
                Err((errors, kept)) => sheet(kept, errors),
            },
        );
    }
    Ok(
        match rating::submit(conn, wave, invitation, &survey, &targets, &fields)? {
            Sent::Invalid(errors, kept) => sheet(kept, errors),
            Sent::Done(Submitted::Stored(receipt)) => Outcome::Stored(receipt),
            Sent::Done(Submitted::Refused(refused)) => Outcome::Refused(refused),
        },
    )
}

#[cfg(test)]
mod tests;
