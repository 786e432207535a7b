//! The self-assessment form and the committee's scoring sheet, reached through the same
//! one-time-link machinery as the questionnaire (`/s/{token}`), but not anonymous: the sheet
//! belongs to a unit (self) or a committee member (org).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web as aw};
use serde::Serialize;

use super::home::{Layout, lang_of};
use super::respond::{Ctx, OptionView, load, local_time, message, option_views, parse_form};
use super::templates::page;
use crate::app::AppState;
use crate::assess::{self, SaveError, Stored};
use crate::domain::Lang;
use crate::domain::answers::{self, FieldError};
use crate::domain::survey::{StepKind, Survey};
use crate::error::AppError;
use crate::respond::Lookup;

#[derive(Serialize)]
struct SheetItem {
    number: usize,
    field: String,
    evidence_field: String,
    text: String,
    required: bool,
    error: Option<String>,
    options: Vec<OptionView>,
    chosen_label: Option<String>,
    evidence: String,
}

#[derive(Serialize)]
struct SheetDimension {
    name: String,
    items: Vec<SheetItem>,
}

fn sheet_view(
    survey: &Survey,
    step: StepKind,
    lang: Lang,
    stored: &Stored,
    errors: &[FieldError],
) -> Vec<SheetDimension> {
    let mut number = 0;
    survey
        .step(step)
        .dimensions
        .iter()
        .map(|d| SheetDimension {
            name: d.name.get(lang).to_owned(),
            items: d
                .items
                .iter()
                .map(|item| {
                    number += 1;
                    let field = answers::field_name(&item.id);
                    let chosen = stored.sheet.answers.get(&item.id);
                    let scale = survey.scale_of(item);
                    SheetItem {
                        number,
                        evidence_field: answers::evidence_field(&item.id),
                        text: item.text.get(lang).to_owned(),
                        required: item.required,
                        error: errors
                            .iter()
                            .find(|e| e.field == item.id)
                            .map(|e| e.message.get(lang).to_owned()),
                        options: option_views(scale, &field, chosen, lang),
                        chosen_label: chosen
                            .and_then(|c| scale.option(c))
                            .map(|o| o.label.get(lang).to_owned()),
                        evidence: stored
                            .sheet
                            .evidence
                            .get(&item.id)
                            .cloned()
                            .unwrap_or_default(),
                        field,
                    }
                })
                .collect(),
        })
        .collect()
}

#[derive(Serialize)]
struct SelfPage {
    layout: Layout,
    action: String,
    wave_title: String,
    unit_name: String,
    closes: Option<String>,
    read_only: bool,
    with_evidence: bool,
    notice: Option<&'static str>,
    errors: Vec<String>,
    dimensions: Vec<SheetDimension>,
}

fn lang_param(lang: Lang) -> &'static str {
    if lang == Lang::En { "en" } else { "zh" }
}

/// The messages about the form as a whole, at most [`MAX_FORM_ERRORS`] of them and no
/// repeats: a forged form with thousands of unknown fields must not make a page thousands of
/// lines long.
pub(super) fn form_errors(errors: &[FieldError], lang: Lang) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut more = 0;
    for e in errors.iter().filter(|e| e.field == "form") {
        let message = e.message.get(lang);
        if out.iter().any(|m| m == message) {
        } else if out.len() < MAX_FORM_ERRORS {
            out.push(message.to_owned());
        } else {
            more += 1;
        }
    }
    if more > 0 {
        out.push(if lang == Lang::En {
            format!("… and {more} more")
        } else {
            format!("……另有 {more} 处")
        });
    }
    out
}

/// How many messages about the form as a whole a page lists.
const MAX_FORM_ERRORS: usize = 10;

/// Renders the self-assessment of the token's unit.
pub fn self_page(
    state: &AppState,
    lang: Lang,
    token: &str,
    ctx: &Ctx,
    stored: &Stored,
    errors: &[FieldError],
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let t = super::i18n::strings(lang);
    let path = format!("/s/{token}");
    let notice = if stored.submitted {
        Some(t.self_submitted)
    } else if stored.saved && errors.is_empty() && status == StatusCode::OK {
        Some(t.self_saved)
    } else {
        None
    };
    let ctx_page = SelfPage {
        layout: Layout::new(lang, format!("{} · {}", t.self_title, ctx.unit_name), &path),
        action: format!("{path}?lang={}", lang_param(lang)),
        wave_title: ctx.wave.title.clone(),
        unit_name: ctx.unit_name.clone(),
        closes: ctx.wave.closes_at.map(local_time),
        read_only: stored.submitted,
        with_evidence: true,
        notice,
        errors: form_errors(errors, lang),
        dimensions: sheet_view(&ctx.survey, StepKind::SelfAssessment, lang, stored, errors),
    };
    page(&state.templates, status, "pages/assess/self", &ctx_page)
}

/// Runs database work on the blocking pool, never on the async threads.
async fn on_pool<T: Send + 'static>(
    state: &aw::Data<AppState>,
    f: impl FnOnce(&mut crate::db::DbConn) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    super::admin::blocking(state, f).await
}

/// The stored sheet of `unit` and `step` that the token's holder sees.
async fn stored_of(
    state: &aw::Data<AppState>,
    ctx: &Ctx,
    unit: &str,
    step: StepKind,
) -> Result<Stored, AppError> {
    let (wave, unit, scorer) = (
        ctx.wave.id,
        unit.to_owned(),
        assess::scorer_of(step, &ctx.invitation),
    );
    on_pool(state, move |conn| {
        Ok(assess::load(conn, wave, &unit, step, &scorer)?)
    })
    .await
}

/// `POST /s/{token}` for a self-assessment: save the draft or submit it.
pub async fn self_submit(
    state: aw::Data<AppState>,
    lang: Lang,
    token: String,
    ctx: Ctx,
    body: aw::Bytes,
) -> Result<HttpResponse, AppError> {
    let fields = parse_form(&body).unwrap_or_else(|| vec![("\u{fffd}".to_owned(), String::new())]);
    let submit = fields.iter().any(|(k, v)| k == "action" && v == "submit");
    let step = ctx.survey.step(StepKind::SelfAssessment);
    let unit = ctx.invitation.unit.clone();
    match answers::check_sheet(&ctx.survey, step, &fields, true, submit) {
        Err((errors, sheet)) => {
            let stored = Stored {
                sheet,
                submitted: false,
                saved: false,
            };
            self_page(
                &state,
                lang,
                &token,
                &ctx,
                &stored,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Ok(sheet) => {
            let st = state.clone();
            let invitation = ctx.invitation.clone();
            let result = aw::block(move || -> Result<Result<(), SaveError>, AppError> {
                let mut conn = st.pool.get()?;
                Ok(assess::save(
                    &mut conn,
                    &invitation,
                    &unit,
                    StepKind::SelfAssessment,
                    &sheet,
                    submit,
                ))
            })
            .await??;
            if let Some(refused) = refusal(&state, lang, &token, result, &ctx)? {
                return Ok(refused);
            }
            let stored =
                stored_of(&state, &ctx, &ctx.invitation.unit, StepKind::SelfAssessment).await?;
            self_page(&state, lang, &token, &ctx, &stored, &[], StatusCode::OK)
        }
    }
}

/// `None` when saved (or already submitted, which the page then shows read-only); the page
/// to show instead when the wave stopped taking answers.
fn refusal(
    state: &AppState,
    lang: Lang,
    token: &str,
    result: Result<(), SaveError>,
    ctx: &Ctx,
) -> Result<Option<HttpResponse>, AppError> {
    match result {
        Ok(()) | Err(SaveError::Submitted) => Ok(None),
        Err(SaveError::Closed) => message(
            state,
            lang,
            &format!("/s/{token}"),
            &Lookup::Closed(ctx.wave.clone()),
        )
        .map(Some),
        Err(SaveError::Db(e)) => Err(e.into()),
    }
}

#[derive(Serialize)]
struct OrgRow {
    code: String,
    name: String,
    href: String,
    self_submitted: bool,
    mine: usize,
    total: usize,
}

#[derive(Serialize)]
struct OrgIndexPage {
    layout: Layout,
    wave_title: String,
    closes: Option<String>,
    rows: Vec<OrgRow>,
}

/// Renders a committee member's scoring sheet: every target unit with its status.
pub async fn org_index(
    state: &aw::Data<AppState>,
    lang: Lang,
    token: &str,
    ctx: &Ctx,
) -> Result<HttpResponse, AppError> {
    let t = super::i18n::strings(lang);
    let wave = ctx.wave.id;
    let (targets, selfs, orgs) = on_pool(state, move |conn| {
        let full = crate::wave::get(conn, wave).map_err(|e| AppError::Internal(e.to_string()))?;
        Ok((
            crate::wave::frame(conn, &full).map_err(|e| AppError::Internal(e.to_string()))?,
            assess::all(conn, wave, StepKind::SelfAssessment)?,
            assess::all(conn, wave, StepKind::Org)?,
        ))
    })
    .await?;
    let me = assess::scorer_of(StepKind::Org, &ctx.invitation);
    let total = ctx.survey.step(StepKind::Org).items().count();
    let rows = targets
        .into_iter()
        .map(|u| OrgRow {
            href: format!("/s/{token}/u/{}?lang={}", u.code, lang_param(lang)),
            self_submitted: selfs
                .get(&u.code)
                .and_then(|m| m.get(""))
                .is_some_and(|s| s.submitted),
            mine: orgs
                .get(&u.code)
                .and_then(|m| m.get(&me))
                .map_or(0, |s| s.sheet.answers.len()),
            total,
            code: u.code,
            name: u.name,
        })
        .collect();
    let path = format!("/s/{token}");
    let ctx_page = OrgIndexPage {
        layout: Layout::new(lang, t.org_title, &path),
        wave_title: ctx.wave.title.clone(),
        closes: ctx.wave.closes_at.map(local_time),
        rows,
    };
    page(
        &state.templates,
        StatusCode::OK,
        "pages/assess/org_index",
        &ctx_page,
    )
}

#[derive(Serialize)]
struct OrgUnitPage {
    layout: Layout,
    action: String,
    back: String,
    wave_title: String,
    unit_name: String,
    self_submitted: bool,
    self_items: Vec<SheetDimension>,
    saved: bool,
    errors: Vec<String>,
    dimensions: Vec<SheetDimension>,
}

async fn org_ctx(
    state: &aw::Data<AppState>,
    token: &str,
    code: &str,
) -> Result<Result<(Ctx, String), Lookup>, AppError> {
    let st = state.clone();
    let (tk, code) = (token.to_owned(), code.to_owned());
    aw::block(move || {
        let mut conn = st.pool.get()?;
        let ctx = match load(&st, &mut conn, &tk)? {
            Ok(ctx) if ctx.invitation.step == StepKind::Org.as_str() => ctx,
            Ok(_) => return Ok(Err(Lookup::Invalid)),
            Err(refused) => return Ok(Err(refused)),
        };
        let full = crate::wave::get(&mut conn, ctx.wave.id)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let targets =
            crate::wave::frame(&mut conn, &full).map_err(|e| AppError::Internal(e.to_string()))?;
        let unit = targets
            .into_iter()
            .find(|u| u.code == code)
            .ok_or(AppError::NotFound)?;
        Ok(Ok((ctx, unit.name)))
    })
    .await?
}

fn org_unit_page(
    state: &AppState,
    lang: Lang,
    (token, code): (&str, &str),
    (ctx, unit_name): &(Ctx, String),
    (self_sheet, mine): (&Stored, &Stored),
    errors: &[FieldError],
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let path = format!("/s/{token}/u/{code}");
    let ctx_page = OrgUnitPage {
        layout: Layout::new(lang, unit_name.clone(), &path),
        action: format!("{path}?lang={}", lang_param(lang)),
        back: format!("/s/{token}?lang={}", lang_param(lang)),
        wave_title: ctx.wave.title.clone(),
        unit_name: unit_name.clone(),
        self_submitted: self_sheet.submitted,
        self_items: sheet_view(&ctx.survey, StepKind::SelfAssessment, lang, self_sheet, &[]),
        saved: mine.saved && errors.is_empty() && status == StatusCode::OK,
        errors: form_errors(errors, lang),
        dimensions: sheet_view(&ctx.survey, StepKind::Org, lang, mine, errors),
    };
    page(&state.templates, status, "pages/assess/org_unit", &ctx_page)
}

/// `GET /s/{token}/u/{unit}`: one unit of a committee member's sheet.
pub async fn org_unit_show(
    req: HttpRequest,
    state: aw::Data<AppState>,
    path: aw::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(&req);
    let (token, code) = path.into_inner();
    let found = match org_ctx(&state, &token, &code).await? {
        Ok(found) => found,
        Err(refused) => return message(&state, lang, &format!("/s/{token}"), &refused),
    };
    let self_sheet = stored_of(&state, &found.0, &code, StepKind::SelfAssessment).await?;
    let mut mine = stored_of(&state, &found.0, &code, StepKind::Org).await?;
    mine.saved = false;
    org_unit_page(
        &state,
        lang,
        (&token, &code),
        &found,
        (&self_sheet, &mine),
        &[],
        StatusCode::OK,
    )
}

/// `POST /s/{token}/u/{unit}`: save a committee member's scores of one unit.
pub async fn org_unit_save(
    req: HttpRequest,
    state: aw::Data<AppState>,
    path: aw::Path<(String, String)>,
    body: aw::Bytes,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(&req);
    let (token, code) = path.into_inner();
    let found = match org_ctx(&state, &token, &code).await? {
        Ok(found) => found,
        Err(refused) => return message(&state, lang, &format!("/s/{token}"), &refused),
    };
    let fields = parse_form(&body).unwrap_or_else(|| vec![("\u{fffd}".to_owned(), String::new())]);
    let step = found.0.survey.step(StepKind::Org);
    match answers::check_sheet(&found.0.survey, step, &fields, false, false) {
        Err((errors, sheet)) => {
            let mine = Stored {
                sheet,
                submitted: false,
                saved: false,
            };
            let self_sheet = stored_of(&state, &found.0, &code, StepKind::SelfAssessment).await?;
            org_unit_page(
                &state,
                lang,
                (&token, &code),
                &found,
                (&self_sheet, &mine),
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Ok(sheet) => {
            let st = state.clone();
            let invitation = found.0.invitation.clone();
            let unit = code.clone();
            let result = aw::block(move || -> Result<Result<(), SaveError>, AppError> {
                let mut conn = st.pool.get()?;
                Ok(assess::save(
                    &mut conn,
                    &invitation,
                    &unit,
                    StepKind::Org,
                    &sheet,
                    false,
                ))
            })
            .await??;
            if let Some(refused) = refusal(&state, lang, &token, result, &found.0)? {
                return Ok(refused);
            }
            let self_sheet = stored_of(&state, &found.0, &code, StepKind::SelfAssessment).await?;
            let mine = stored_of(&state, &found.0, &code, StepKind::Org).await?;
            org_unit_page(
                &state,
                lang,
                (&token, &code),
                &found,
                (&self_sheet, &mine),
                &[],
                StatusCode::OK,
            )
        }
    }
}
