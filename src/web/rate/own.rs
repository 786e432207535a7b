//! A rated person's own link of a people wave (`/s/{token}` of a `self` invitation): their
//! 个人总结 while the wave is open (draft, then submit once), a word while it is closed, and
//! their own result once it is published — every view of which is audited.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web as aw};
use serde::Serialize;

use super::super::home::Layout;
use super::super::i18n::{RateStrings, rate_strings};
use super::super::respond::{Ctx, local_time, message};
use super::super::templates::page;
use super::lang_param;
use crate::app::AppState;
use crate::db::rated::{self, Summary};
use crate::db::waves::WaveHead;
use crate::db::{self, DbConn};
use crate::domain::Lang;
use crate::error::AppError;
use crate::respond::Lookup;
use crate::wave::State;

/// The longest 个人总结, in characters.
pub const MAX_SUMMARY_CHARS: usize = 3000;

/// The 个人总结 box.
#[derive(Serialize)]
struct SummaryView {
    value: String,
    max: usize,
    read_only: bool,
    error: Option<String>,
}

/// One grade and its count.
#[derive(Serialize)]
struct CountView {
    label: String,
    count: u64,
}

/// The person's own result.
#[derive(Serialize)]
struct ResultView {
    raters: u64,
    suppressed: Option<String>,
    counts: Vec<CountView>,
    suggested: Option<String>,
    final_grade: Option<String>,
    final_reason: Option<String>,
    reasons: Vec<String>,
}

/// The own page, in whichever state the wave is.
#[derive(Serialize)]
struct OwnPage {
    layout: Layout,
    r: &'static RateStrings,
    action: String,
    wave_title: String,
    name: String,
    unit_name: String,
    closes: Option<String>,
    intro: Option<String>,
    notice: Option<&'static str>,
    /// A closing word (no summary asked, closed, results to come).
    note: Option<&'static str>,
    summary: Option<SummaryView>,
    /// After publication: their result, or `None` with [`RateStrings::result_missing`].
    published: bool,
    result: Option<ResultView>,
}

impl OwnPage {
    fn new(lang: Lang, token: &str, wave: &WaveHead, name: String, unit_name: String) -> Self {
        let r = rate_strings(lang);
        let path = format!("/s/{token}");
        Self {
            layout: Layout::new(lang, format!("{} · {}", r.title, wave.title), &path),
            r,
            action: format!("{path}?lang={}", lang_param(lang)),
            wave_title: wave.title.clone(),
            name,
            unit_name,
            closes: wave.closes_at.map(local_time),
            intro: None,
            notice: None,
            note: None,
            summary: None,
            published: false,
            result: None,
        }
    }
}

/// The person's name as frozen in the wave, or their address.
fn name_of(conn: &mut DbConn, wave_id: i32, email: &str) -> Result<String, AppError> {
    Ok(rated::find(conn, wave_id, email)?.map_or_else(|| email.to_owned(), |r| r.name))
}

/// The page of an open wave: the 个人总结 form (or, read-only, what was submitted).
fn open_page(
    lang: Lang,
    token: &str,
    ctx: &Ctx,
    name: String,
    stored: Option<&Summary>,
    refused: Option<(&str, String)>,
    notice: Option<&'static str>,
) -> OwnPage {
    let r = rate_strings(lang);
    let mut p = OwnPage::new(lang, token, &ctx.wave, name, ctx.unit_name.clone());
    let asks = ctx.survey.people.as_ref().is_some_and(|s| s.summary);
    if asks {
        let read_only = stored.is_some_and(|s| s.submitted);
        p.intro =
            (!read_only).then(|| r.own_intro.replace("{max}", &MAX_SUMMARY_CHARS.to_string()));
        p.notice = if read_only {
            Some(r.own_submitted)
        } else {
            notice
        };
        p.summary = Some(SummaryView {
            value: refused
                .as_ref()
                .filter(|_| !read_only)
                .map(|(text, _)| *text)
                .or(stored.map(|s| s.body.as_str()))
                .unwrap_or_default()
                .chars()
                .take(MAX_SUMMARY_CHARS)
                .collect(),
            max: MAX_SUMMARY_CHARS,
            read_only,
            error: refused.map(|(_, e)| e),
        });
        p.note = Some(r.own_after);
    } else {
        p.intro = Some(r.own_no_summary.to_owned());
        p.note = Some(r.own_after);
    }
    p
}

/// `GET /s/{token}` of a rated person's own link while the wave takes answers.
pub async fn show_open(
    state: &aw::Data<AppState>,
    lang: Lang,
    token: &str,
    ctx: Ctx,
) -> Result<HttpResponse, AppError> {
    let (wave_id, email) = (
        ctx.wave.id,
        ctx.invitation.person.clone().unwrap_or_default(),
    );
    let (name, stored) = super::super::admin::blocking(state, move |conn| {
        Ok((
            name_of(conn, wave_id, &email)?,
            rated::summary_of(conn, wave_id, &email)?,
        ))
    })
    .await?;
    let p = open_page(lang, token, &ctx, name, stored.as_ref(), None, None);
    page(&state.templates, StatusCode::OK, "pages/rate/own", &p)
}

/// `POST /s/{token}` of a rated person's own link: save the 个人总结 as a draft or submit it.
pub async fn post(
    state: aw::Data<AppState>,
    lang: Lang,
    token: String,
    ctx: Ctx,
    body: aw::Bytes,
) -> Result<HttpResponse, AppError> {
    let r = rate_strings(lang);
    if !ctx.survey.people.as_ref().is_some_and(|s| s.summary) {
        return Err(AppError::BadRequest(crate::error::Msg::new(
            "本次评议不需要填写个人总结。",
            "This evaluation asks for no personal summary.",
        )));
    }
    let fields = super::super::form(&body)?;
    let submit = fields.iter().any(|(k, v)| k == "action" && v == "submit");
    let text = fields
        .iter()
        .find(|(k, _)| k == "summary")
        .map(|(_, v)| v.replace("\r\n", "\n").replace('\r', "\n"))
        .unwrap_or_default();
    let count = text.chars().count();
    let error = if count > MAX_SUMMARY_CHARS {
        Some(
            r.own_too_long
                .replace("{max}", &MAX_SUMMARY_CHARS.to_string())
                .replace("{count}", &count.to_string()),
        )
    } else if submit && text.trim().is_empty() {
        Some(r.own_empty.to_owned())
    } else {
        None
    };
    let (wave_id, email) = (
        ctx.wave.id,
        ctx.invitation.person.clone().unwrap_or_default(),
    );
    if let Some(error) = error {
        let (name, stored) = super::super::admin::blocking(&state, move |conn| {
            Ok((
                name_of(conn, wave_id, &email)?,
                rated::summary_of(conn, wave_id, &email)?,
            ))
        })
        .await?;
        let refused = Some((text.as_str(), error));
        let p = open_page(lang, &token, &ctx, name, stored.as_ref(), refused, None);
        return page(
            &state.templates,
            StatusCode::UNPROCESSABLE_ENTITY,
            "pages/rate/own",
            &p,
        );
    }
    let (saved, name, stored) = super::super::admin::blocking(&state, move |conn| {
        let saved = crate::rating::save_summary(conn, wave_id, &email, &text, submit)?;
        Ok((
            saved,
            name_of(conn, wave_id, &email)?,
            rated::summary_of(conn, wave_id, &email)?,
        ))
    })
    .await?;
    let notice = match saved {
        crate::rating::Saved::Closed(wave) => {
            return message(&state, lang, &format!("/s/{token}"), &Lookup::Closed(*wave));
        }
        crate::rating::Saved::Done if !submit => Some(r.own_saved),
        crate::rating::Saved::Done | crate::rating::Saved::AlreadySubmitted => None,
    };
    let p = open_page(lang, &token, &ctx, name, stored.as_ref(), None, notice);
    page(&state.templates, StatusCode::OK, "pages/rate/own", &p)
}

/// `GET /s/{token}` of a link into a people wave that no longer takes answers: a rated
/// person's own link says results come after publication, or shows their result once
/// published; any other link gets `refused`'s page.
pub async fn show_after(
    state: &aw::Data<AppState>,
    lang: Lang,
    token: &str,
    refused: &Lookup,
) -> Result<HttpResponse, AppError> {
    let raw = token.to_owned();
    let st = state.clone();
    let found = super::super::admin::blocking(state, move |conn| {
        let Some((wave, invitation)) = crate::rating::own_link(conn, &raw)? else {
            return Ok(None);
        };
        let email = invitation.person.clone().unwrap_or_default();
        let survey = st.survey(conn, wave.id)?;
        let unit_name = crate::db::units::find(conn, &invitation.unit)?
            .map_or_else(|| invitation.unit.clone(), |u| u.name);
        let name = name_of(conn, wave.id, &email)?;
        let result = if State::parse(&wave.state) == State::Published {
            Some(own_result(conn, &wave, &survey, &email, lang)?)
        } else {
            None
        };
        Ok(Some((wave, name, unit_name, result)))
    })
    .await?;
    let Some((wave, name, unit_name, result)) = found else {
        return message(state, lang, &format!("/s/{token}"), refused);
    };
    let r = rate_strings(lang);
    let mut p = OwnPage::new(lang, token, &wave, name, unit_name);
    match result {
        Some(result) => {
            p.published = true;
            p.result = result;
            p.layout.title = format!("{} · {}", r.result_title, wave.title);
        }
        None => p.note = Some(r.own_closed),
    }
    page(&state.templates, StatusCode::OK, "pages/rate/own", &p)
}

/// The person's own result (audited in the same transaction that reads it).
fn own_result(
    conn: &mut DbConn,
    wave: &WaveHead,
    survey: &crate::domain::survey::Survey,
    email: &str,
    lang: Lang,
) -> Result<Option<ResultView>, AppError> {
    let r = rate_strings(lang);
    let found = db::write_tx(conn, |conn| -> Result<_, AppError> {
        crate::auth::record(
            conn,
            &format!("person:{email}"),
            "people.result.view",
            &format!("wave {} own result", wave.id),
        )?;
        crate::report::people::result_of(conn, wave.id, email)
            .map_err(|e| AppError::Internal(e.to_string()))
    })?;
    let Some(found) = found else {
        return Ok(None);
    };
    let spec = survey.people.as_ref();
    // Labels in the page's language, from the survey (the report carries Chinese ones).
    let label = |id: &str, fallback: &str| -> String {
        spec.and_then(|s| survey.scales.get(&s.overall_item().scale))
            .and_then(|scale| scale.option(id))
            .map_or_else(|| fallback.to_owned(), |o| o.label.get(lang).to_owned())
    };
    let min = spec.map_or(0, |s| s.min_raters);
    Ok(Some(ResultView {
        raters: found.raters,
        suppressed: found
            .suppressed
            .then(|| r.result_suppressed.replace("{min}", &min.to_string())),
        counts: found
            .counts
            .unwrap_or_default()
            .iter()
            .map(|c| CountView {
                label: label(&c.id, &c.label),
                count: c.count,
            })
            .collect(),
        suggested: found.suggested.map(|g| label(&g.id, &g.label)),
        final_grade: found.final_grade.map(|g| label(&g.id, &g.label)),
        final_reason: found.final_reason.filter(|s| !s.trim().is_empty()),
        reasons: found.reasons,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_own_pages_render_in_every_state() {
        let hb = crate::web::templates::registry().expect("templates");
        let wave = crate::db::waves::WaveHead {
            id: 7,
            title: "2026年度民主评议".into(),
            fingerprint: String::new(),
            scope: None,
            state: "published".into(),
            is_test: false,
            closes_at: None,
            created_at: chrono::NaiveDateTime::default(),
            opened_at: None,
            closed_at: None,
            published_at: None,
            threshold: None,
            public_key: None,
            unsealed_at: None,
            kind: "people".into(),
        };
        for lang in [Lang::Zh, Lang::En] {
            let r = rate_strings(lang);
            let mut p = OwnPage::new(lang, "T", &wave, "甲".into(), "某支部".into());
            p.note = Some(r.own_closed);
            let html = hb.render("pages/rate/own", &p).expect("closed");
            assert!(html.contains(r.own_closed));
            p.published = true;
            let html = hb.render("pages/rate/own", &p).expect("missing");
            assert!(html.contains(r.result_missing));
            p.result = Some(ResultView {
                raters: 3,
                suppressed: Some(r.result_suppressed.replace("{min}", "5")),
                counts: Vec::new(),
                suggested: None,
                final_grade: None,
                final_reason: None,
                reasons: Vec::new(),
            });
            let html = hb.render("pages/rate/own", &p).expect("suppressed");
            assert!(html.contains(&r.result_suppressed.replace("{min}", "5")));
            p.result = Some(ResultView {
                raters: 6,
                suppressed: None,
                counts: vec![CountView {
                    label: "优秀".into(),
                    count: 4,
                }],
                suggested: Some("优秀".into()),
                final_grade: Some("合格".into()),
                final_reason: Some("名额所限".into()),
                reasons: vec!["理由一".into()],
            });
            let html = hb.render("pages/rate/own", &p).expect("shown");
            assert!(html.contains("<dt>优秀</dt><dd>4</dd>") && html.contains("名额所限"));
            assert!(html.contains("理由一") && html.contains(r.result_audited));
        }
    }
}
