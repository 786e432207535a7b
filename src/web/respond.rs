//! The respondent pages: `GET /s/{token}` shows the questionnaire, `POST /s/{token}`
//! submits it. No JavaScript, phone first, every input labelled.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web as aw};
use serde::Serialize;

use super::form_cache::{Cached, Hole, Prerendered};
use super::home::{Layout, lang_of, switch_href};
use super::templates::page;
use crate::app::AppState;
use crate::db::units;
use crate::db::waves::WaveHead;
use crate::domain::answers::{self, FieldError, MAX_COMMENT_CHARS, Submission};
use crate::domain::survey::{StepKind, Survey};
use crate::domain::{Lang, token};
use crate::error::AppError;
use crate::respond::{self, Lookup, Submitted};

/// One option of an item, as rendered (a labelled radio button).
#[derive(Serialize)]
pub struct OptionView {
    id: String,
    input_id: String,
    label: String,
    checked: bool,
}

/// The radio buttons of a scale for the form field `field`, `chosen` checked.
pub fn option_views(
    scale: &crate::domain::survey::Scale,
    field: &str,
    chosen: Option<&String>,
    lang: Lang,
) -> Vec<OptionView> {
    scale
        .options
        .iter()
        .map(|o| OptionView {
            input_id: format!("{field}.{}", o.id),
            id: o.id.clone(),
            label: o.label.get(lang).to_owned(),
            checked: chosen == Some(&o.id),
        })
        .collect()
}

/// One item, as rendered.
#[derive(Serialize)]
struct ItemView {
    number: usize,
    field: String,
    text: String,
    required: bool,
    error: Option<String>,
    options: Vec<OptionView>,
}

/// One dimension, as rendered.
#[derive(Serialize)]
struct DimensionView {
    name: String,
    items: Vec<ItemView>,
}

/// The comment box, as rendered.
#[derive(Serialize)]
struct CommentView {
    value: String,
    max: usize,
    error: Option<String>,
}

/// One line of the error summary at the top of a refused form: what is wrong, and a link
/// to the item's anchor (`#item-7`) when it concerns one field.
#[derive(Serialize)]
struct SummaryLine {
    href: Option<String>,
    text: String,
}

/// The questionnaire page.
#[derive(Serialize)]
struct FormPage {
    layout: Layout,
    action: String,
    wave_title: String,
    unit_name: String,
    closes: Option<String>,
    is_test: bool,
    /// How many items, and about how long they take; shown before the first.
    intro: String,
    /// The number of items, for the "7/18" of each.
    total: usize,
    dimensions: Vec<DimensionView>,
    comment: Option<CommentView>,
    /// Every problem of a refused submission, in the order of the page.
    summary: Vec<SummaryLine>,
    summary_title: String,
    privacy_short: String,
    privacy_threshold: String,
    fingerprint: String,
    /// An organizer's preview: a notice, and nothing to submit.
    preview: bool,
}

/// About how many minutes `items` questions take: six seconds each, at least a minute.
fn minutes_for(items: usize) -> usize {
    (items * 6).div_ceil(60).max(1)
}

/// A page with a title and a message (invalid link, already used, closed …).
#[derive(Serialize)]
struct MessagePage {
    layout: Layout,
    heading: String,
    body: String,
    details: Vec<Detail>,
}

#[derive(Serialize)]
struct Detail {
    label: String,
    value: String,
}

/// The thank-you page.
#[derive(Serialize)]
struct ThanksPage {
    layout: Layout,
    receipt: String,
    receipts_href: String,
}

/// Formats a UTC time in the server's local time, to the minute.
pub fn local_time(t: chrono::NaiveDateTime) -> String {
    t.and_utc()
        .with_timezone(&chrono::Local)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// What a valid token leads to.
#[derive(Clone)]
pub struct Ctx {
    /// The wave's survey.
    pub survey: std::sync::Arc<Survey>,
    /// The wave.
    pub wave: WaveHead,
    /// The invitation the token belongs to.
    pub invitation: crate::db::waves::Invitation,
    /// The name of the invitation's unit.
    pub unit_name: String,
}

fn form_page(
    lang: Lang,
    token: &str,
    ctx: &Ctx,
    errors: &[FieldError],
    kept: &Submission,
) -> FormPage {
    let survey = &ctx.survey;
    let step = survey.step(StepKind::Mass);
    let error_of = |field: &str| {
        errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.get(lang).to_owned())
    };
    let t = super::i18n::strings(lang);
    let mut summary = Vec::new();
    let mut number = 0;
    let dimensions = step
        .dimensions
        .iter()
        .map(|d| DimensionView {
            name: d.name.get(lang).to_owned(),
            items: d
                .items
                .iter()
                .map(|item| {
                    number += 1;
                    let field = answers::field_name(&item.id);
                    let chosen = kept.answers.get(&item.id);
                    let error = error_of(&item.id);
                    if let Some(message) = &error {
                        summary.push(SummaryLine {
                            href: Some(format!("#item-{number}")),
                            text: t
                                .error_item
                                .replace("{number}", &number.to_string())
                                .replace("{message}", message),
                        });
                    }
                    ItemView {
                        number,
                        text: item.text.get(lang).to_owned(),
                        required: item.required,
                        error,
                        options: option_views(survey.scale_of(item), &field, chosen, lang),
                        field,
                    }
                })
                .collect(),
        })
        .collect();
    let comment_error = error_of("comment").filter(|_| step.comment);
    if let Some(message) = &comment_error {
        summary.push(SummaryLine {
            href: Some("#comment".into()),
            text: message.clone(),
        });
    }
    summary.extend(
        super::assess::form_errors(errors, lang)
            .into_iter()
            .map(|text| SummaryLine { href: None, text }),
    );
    let path = format!("/s/{token}");
    let title = if summary.is_empty() {
        ctx.wave.title.clone()
    } else {
        format!("{}{}", t.error_prefix, ctx.wave.title)
    };
    let total = number;
    FormPage {
        action: action_of(lang, &path),
        layout: Layout::new(lang, title, &path),
        wave_title: ctx.wave.title.clone(),
        unit_name: ctx.unit_name.clone(),
        closes: ctx.wave.closes_at.map(local_time),
        is_test: ctx.wave.is_test,
        intro: t
            .form_intro
            .replace("{items}", &total.to_string())
            .replace("{minutes}", &minutes_for(total).to_string()),
        total,
        dimensions,
        comment: step.comment.then(|| CommentView {
            // An overlong comment comes back cut to the limit, never larger than the form.
            value: kept
                .comment
                .as_deref()
                .unwrap_or_default()
                .chars()
                .take(MAX_COMMENT_CHARS)
                .collect(),
            max: MAX_COMMENT_CHARS,
            error: comment_error,
        }),
        summary_title: t
            .errors_summary
            .replace("{count}", &summary.len().to_string()),
        summary,
        privacy_short: t
            .privacy_short
            .replace("{min}", &survey.anonymity.min_responses.to_string()),
        privacy_threshold: t
            .privacy_threshold
            .replace("{min}", &survey.anonymity.min_responses.to_string())
            .replace("{min_comments}", &survey.anonymity.min_comments.to_string()),
        fingerprint: ctx.wave.fingerprint.clone(),
        preview: false,
    }
}

/// Where the questionnaire at `path` in `lang` posts to.
fn action_of(lang: Lang, path: &str) -> String {
    format!("{path}?lang={}", if lang == Lang::En { "en" } else { "zh" })
}

/// The questionnaire for `token`, rendered afresh (as a clean `GET` shows it).
pub fn render_form(
    state: &AppState,
    lang: Lang,
    token: &str,
    ctx: &Ctx,
) -> Result<String, AppError> {
    let form = form_page(lang, token, ctx, &[], &Submission::default());
    Ok(state.templates.render("pages/respond/form", &form)?)
}

/// The questionnaire as a respondent of `ctx`'s unit sees it, for an organizer: marked as a
/// preview, with a button that submits nothing.
pub fn render_preview(state: &AppState, lang: Lang, ctx: &Ctx) -> Result<String, AppError> {
    let mut form = form_page(lang, "preview", ctx, &[], &Submission::default());
    form.preview = true;
    "#".clone_into(&mut form.action);
    Ok(state.templates.render("pages/respond/form", &form)?)
}

/// The questionnaire for `token` as [`render_form`] makes it, from the page kept for the
/// wave and language (rendered on first use): only the unit's name and the two links that
/// carry the token are filled in.
pub fn cached_form(
    state: &AppState,
    lang: Lang,
    token: &str,
    ctx: &Ctx,
) -> Result<String, AppError> {
    let page = match state.forms.get(&ctx.wave, lang) {
        Cached::Page(page) => page,
        Cached::Uncachable => return render_form(state, lang, token, ctx),
        Cached::Missing => {
            let mut form = form_page(lang, "", ctx, &[], &Submission::default());
            Hole::UnitName.marker().clone_into(&mut form.unit_name);
            Hole::Action.marker().clone_into(&mut form.action);
            Hole::SwitchHref
                .marker()
                .clone_into(&mut form.layout.switch_href);
            let rendered = state.templates.render("pages/respond/form", &form)?;
            let page = Prerendered::parse(&rendered).map(Arc::new);
            state.forms.put(&ctx.wave, lang, page.clone());
            match page {
                Some(page) => page,
                None => return render_form(state, lang, token, ctx),
            }
        }
    };
    let escape = state.templates.get_escape_fn();
    let path = format!("/s/{token}");
    let unit_name = escape(&ctx.unit_name);
    let action = escape(&action_of(lang, &path));
    let switch = escape(&switch_href(lang, &path));
    Ok(page.fill(|hole| match hole {
        Hole::UnitName => &unit_name,
        Hole::Action => &action,
        Hole::SwitchHref => &switch,
    }))
}

/// The page for a token that leads nowhere answerable.
pub fn message(
    state: &AppState,
    lang: Lang,
    path: &str,
    refused: &Lookup,
) -> Result<HttpResponse, AppError> {
    let t = super::i18n::strings(lang);
    let wave_details = |w: &WaveHead| {
        let mut d = vec![Detail {
            label: w.title.clone(),
            value: String::new(),
        }];
        if let Some(o) = w.opened_at {
            d.push(Detail {
                label: t.opened_at.into(),
                value: local_time(o),
            });
        }
        d.push(Detail {
            label: t.closes.into(),
            value: w
                .closes_at
                .map_or_else(|| t.no_close.to_owned(), local_time),
        });
        d
    };
    let (status, heading, body, details): (_, _, String, _) = match refused {
        Lookup::Invalid => (
            StatusCode::NOT_FOUND,
            t.invalid_title,
            t.invalid_body.into(),
            vec![],
        ),
        Lookup::Replaced(at) => (
            StatusCode::GONE,
            t.replaced_title,
            t.replaced_body.replace("{at}", &local_time(*at)),
            vec![],
        ),
        Lookup::Used(_) => (StatusCode::GONE, t.used_title, t.used_body.into(), vec![]),
        Lookup::NotOpen(w) => (
            StatusCode::FORBIDDEN,
            t.not_open_title,
            t.not_open_body.into(),
            wave_details(w),
        ),
        Lookup::Closed(w) => (
            StatusCode::FORBIDDEN,
            t.closed_title,
            t.closed_body.into(),
            wave_details(w),
        ),
        Lookup::Ready(..) => {
            return Err(AppError::Internal("a ready token is not a refusal".into()));
        }
    };
    let ctx = MessagePage {
        layout: Layout::new(lang, heading, path),
        heading: heading.into(),
        body,
        details,
    };
    page(&state.templates, status, "pages/respond/message", &ctx)
}

/// Finds the token's wave and unit, or the refusal to show.
pub fn load(
    state: &AppState,
    conn: &mut crate::db::DbConn,
    token: &str,
) -> Result<Result<Ctx, Lookup>, AppError> {
    match respond::lookup(conn, token)? {
        Lookup::Ready(wave, invitation) => Ok(Ok(ready(state, conn, wave, invitation)?)),
        other => Ok(Err(other)),
    }
}

fn ready(
    state: &AppState,
    conn: &mut crate::db::DbConn,
    wave: WaveHead,
    invitation: crate::db::waves::Invitation,
) -> Result<Ctx, AppError> {
    let survey = state.survey(conn, wave.id)?;
    let unit_name =
        units::find(conn, &invitation.unit)?.map_or_else(|| invitation.unit.clone(), |u| u.name);
    Ok(Ctx {
        survey,
        wave,
        invitation,
        unit_name,
    })
}

/// `GET /s/{token}`.
pub async fn show(
    req: HttpRequest,
    state: aw::Data<AppState>,
    raw: aw::Path<String>,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(&req);
    let raw = raw.into_inner();
    let path = format!("/s/{raw}");
    let st = state.clone();
    let token = raw.clone();
    let loaded = aw::block(move || load(&st, &mut *st.pool.get()?, &token)).await??;
    match loaded {
        Ok(ctx) if ctx.wave.is_people() => super::rate::show(&state, lang, &raw, ctx).await,
        Err(refused) if matches!(&refused, Lookup::Closed(w) if w.is_people()) => {
            super::rate::own::show_after(&state, lang, &raw, &refused).await
        }
        Ok(ctx) if ctx.invitation.step == StepKind::SelfAssessment.as_str() => {
            let st = state.clone();
            let (wave_id, unit) = (ctx.wave.id, ctx.invitation.unit.clone());
            let stored = aw::block(move || -> Result<_, AppError> {
                let mut conn = st.pool.get()?;
                Ok(crate::assess::load(
                    &mut conn,
                    wave_id,
                    &unit,
                    StepKind::SelfAssessment,
                    "",
                )?)
            })
            .await??;
            super::assess::self_page(&state, lang, &raw, &ctx, &stored, &[], StatusCode::OK)
        }
        Ok(ctx) if ctx.invitation.step == StepKind::Org.as_str() => {
            super::assess::org_index(&state, lang, &raw, &ctx).await
        }
        Ok(ctx) => Ok(HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(cached_form(&state, lang, &raw, &ctx)?)),
        Err(refused) => message(&state, lang, &path, &refused),
    }
}

/// Decodes an `application/x-www-form-urlencoded` body strictly: invalid percent-encoding
/// or UTF-8, or a control character other than tab and line breaks, is an error rather than
/// silently replaced characters.
pub fn parse_form(body: &[u8]) -> Option<Vec<(String, String)>> {
    let decode = |s: &[u8]| -> Option<String> {
        let plus: Vec<u8> = s
            .iter()
            .map(|&b| if b == b'+' { b' ' } else { b })
            .collect();
        percent_encoding::percent_decode(&plus)
            .decode_utf8()
            .ok()
            .map(std::borrow::Cow::into_owned)
    };
    // No control character but tab and line breaks: a NUL cannot even be stored in
    // PostgreSQL, and none belongs in a name, a title or an answer.
    let acceptable = |s: &str| {
        !s.chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    };
    body.split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let mut it = pair.splitn(2, |&b| b == b'=');
            let name = decode(it.next().unwrap_or_default())?;
            let value = decode(it.next().unwrap_or_default())?;
            (acceptable(&name) && acceptable(&value)).then_some((name, value))
        })
        .collect()
}

/// `POST /s/{token}`.
pub async fn submit(
    req: HttpRequest,
    state: aw::Data<AppState>,
    raw: aw::Path<String>,
    body: aw::Bytes,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(&req);
    let raw = raw.into_inner();
    let path = format!("/s/{raw}");
    let st = state.clone();
    let token = raw.clone();
    let posted = aw::block(move || post(&st, &token, &body)).await??;
    match posted {
        Posted::Refused(refused) => message(&state, lang, &path, &refused),
        Posted::Sheet(ctx, body) if ctx.wave.is_people() => {
            // A people wave's own link (个人总结); its rating sheets were handled in `post`.
            super::rate::own::post(state, lang, raw, *ctx, body).await
        }
        Posted::Sheet(ctx, body) if ctx.invitation.step == StepKind::SelfAssessment.as_str() => {
            super::assess::self_submit(state, lang, raw, *ctx, body).await
        }
        Posted::Sheet(..) => Err(AppError::BadRequest(crate::error::Msg::new(
            "考评表按单位分别保存。",
            "a scoring sheet is saved per unit",
        ))),
        Posted::Invalid(ctx, errors, kept) => {
            let form = form_page(lang, &raw, &ctx, &errors, &kept);
            page(
                &state.templates,
                StatusCode::UNPROCESSABLE_ENTITY,
                "pages/respond/form",
                &form,
            )
        }
        Posted::Stored { receipt, wave_id } => thanks(&state, lang, receipt, wave_id),
        Posted::Rated(wave_id, ctx, done) => {
            super::rate::answer(&state, lang, &raw, wave_id, ctx.as_deref(), done)
        }
    }
}

/// The thank-you page with the receipt code of a stored sheet.
pub fn thanks(
    state: &AppState,
    lang: Lang,
    receipt: String,
    wave_id: i32,
) -> Result<HttpResponse, AppError> {
    let t = super::i18n::strings(lang);
    let receipts_href = format!("/w/{wave_id}/receipts");
    let ctx = ThanksPage {
        layout: Layout::new(lang, t.thanks_title, &receipts_href),
        receipt,
        receipts_href,
    };
    page(
        &state.templates,
        StatusCode::OK,
        "pages/respond/thanks",
        &ctx,
    )
}

/// What a `POST /s/{token}` came to.
enum Posted {
    /// The token leads nowhere answerable (or stopped doing so before the answers were stored).
    Refused(Box<Lookup>),
    /// A self-assessment or committee token: its own page handles the body.
    Sheet(Box<Ctx>, aw::Bytes),
    /// The answers do not fit the survey: the form again, with the errors and what was kept.
    Invalid(Box<Ctx>, Vec<FieldError>, Submission),
    /// Stored.
    Stored { receipt: String, wave_id: i32 },
    /// A people wave's rating sheet, handled by `rate` (with the context when the sheet is
    /// to be shown again).
    Rated(i32, Option<Box<Ctx>>, super::rate::Outcome),
}

/// The largest mass answer sheet accepted: a questionnaire has at most about 100 items
/// (`q.ID=OPTION`, well under 100 bytes each) and a comment of [`MAX_COMMENT_CHARS`]
/// characters (at most 12 bytes each once percent-encoded), so 64 KB leaves room to spare.
/// The route itself takes more, for self-assessments with evidence per item.
const MAX_MASS_BODY: usize = 64 * 1024;

/// Handles a submission on one blocking thread with one connection: look the token up, check
/// the answers against the cached survey, store them. The unit's name is read only when a
/// page needs it.
fn post(state: &AppState, token: &str, body: &aw::Bytes) -> Result<Posted, AppError> {
    let mut conn = state.pool.get()?;
    let (wave, invitation) = match respond::lookup(&mut conn, token)? {
        Lookup::Ready(wave, invitation) => (wave, invitation),
        refused => return Ok(Posted::Refused(Box::new(refused))),
    };
    // A people wave's sheets (rating or 个人总结) are checked and bounded by `rate`; a rating
    // sheet on this same connection.
    if wave.is_people() && invitation.step == StepKind::Mass.as_str() {
        let done = super::rate::rate_post(state, &mut conn, token, &wave, &invitation, body)?;
        let id = wave.id;
        let ctx = match done {
            super::rate::Outcome::Sheet { .. } => {
                Some(Box::new(ready(state, &mut conn, wave, invitation)?))
            }
            _ => None,
        };
        return Ok(Posted::Rated(id, ctx, done));
    }
    if invitation.step != StepKind::Mass.as_str() || wave.is_people() {
        let ctx = ready(state, &mut conn, wave, invitation)?;
        return Ok(Posted::Sheet(Box::new(ctx), body.clone()));
    }
    if body.len() > MAX_MASS_BODY {
        return Err(AppError::TooLarge(crate::error::Msg::new(
            "答卷过大。",
            "The answer sheet is larger than any the questionnaire can produce.",
        )));
    }
    let survey = state.survey(&mut conn, wave.id)?;
    let fields = parse_form(body).unwrap_or_else(|| vec![("\u{fffd}".to_owned(), String::new())]);
    match answers::check(&survey, survey.step(StepKind::Mass), &fields) {
        Ok(submission) => Ok(
            match respond::store(&mut conn, &wave, &invitation, &survey, &submission)? {
                Submitted::Stored(receipt) => Posted::Stored {
                    receipt,
                    wave_id: wave.id,
                },
                Submitted::Refused(refused) => Posted::Refused(refused),
            },
        ),
        Err((errors, kept)) => {
            let ctx = ready(state, &mut conn, wave, invitation)?;
            Ok(Posted::Invalid(Box::new(ctx), errors, kept))
        }
    }
}

/// `GET /s?code=…`: a code typed from a printed slip leads to its questionnaire.
pub async fn enter_code(req: HttpRequest) -> HttpResponse {
    let code = super::query_param(&req, "code").unwrap_or_default();
    let target =
        token::normalize(&code).map_or_else(|| "/s/invalid".to_owned(), |t| format!("/s/{t}"));
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, target))
        .finish()
}
