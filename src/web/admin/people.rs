//! The results page of a people wave (民主评议): per branch, each person's ratings, shares,
//! suggested grade and final grade (组织评定) with the grading form, and the downloads. Who
//! sees what: an organizer every unit, a secretary the units inside their scope, committee
//! and viewer accounts only the counts per unit. Every view and download that shows a person
//! is audited (`people.result.view`, `people.result.export`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web as aw};
use serde::Serialize;

use super::people_text::{PeopleWords, legend, units_csv, words};
use super::strings::fill;
use super::{Admin, blocking, render, see_other};
use crate::app::AppState;
use crate::auth::{self, Role};
use crate::db::{self, DbConn, frames, rated, waves as db_waves};
use crate::domain::Lang;
use crate::domain::people::{PeopleSpec, is_team};
use crate::error::AppError;
use crate::report::people::{self as people_report, GradeOf, PeopleReport, PersonResult};
use crate::report::{ReportError, people_export};
use crate::wave::people_wave::{GradeSpec, grade as record_grade};
use crate::wave::{State, WaveError};
use crate::web::home::lang_of;
use crate::web::session::{Session, check_csrf, require_any};

/// What an account may see of a people wave.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Sight {
    /// An organizer: every person.
    All,
    /// A secretary: the persons of the units inside this unit's subtree.
    Scope(String),
    /// Committee and viewer: the counts per unit, no person.
    Aggregate,
}

impl Sight {
    fn of(session: &Session) -> Self {
        match session.role {
            Role::Organizer => Self::All,
            // A secretary without a scope (an account edited by hand) sees nothing.
            Role::Secretary => Self::Scope(session.scope.clone().unwrap_or_default()),
            Role::Committee | Role::Viewer => Self::Aggregate,
        }
    }

    fn persons(&self) -> bool {
        *self != Self::Aggregate
    }
}

/// The people wave `id` with its spec, or 404 (no such wave, or a wave of units).
fn people_wave(conn: &mut DbConn, id: i32) -> Result<(db_waves::Wave, PeopleSpec), AppError> {
    let w = db_waves::find(conn, id)?.ok_or(AppError::NotFound)?;
    if !w.is_people() {
        return Err(AppError::NotFound);
    }
    let (_, spec) = people_report::spec_of(&w).map_err(super::waves::wave_error)?;
    Ok((w, spec))
}

/// The unit codes of the wave's frame inside `scope`; 404 when there are none, so that a
/// secretary learns nothing of other branches' waves.
fn scoped_units(conn: &mut DbConn, id: i32, scope: &str) -> Result<Vec<String>, AppError> {
    let frozen = frames::units_of(conn, id)?;
    let codes: Vec<String> = crate::wave::targets(&frozen, Some(scope))
        .into_iter()
        .map(|u| u.code)
        .collect();
    if codes.is_empty() {
        return Err(AppError::NotFound);
    }
    Ok(codes)
}

/// The report as `sight` may see it; without the raters' reasons for a `reader` whose scope
/// is wider than the wave's ([`crate::report::words_readable`]).
fn report_for(
    conn: &mut DbConn,
    w: &db_waves::Wave,
    sight: &Sight,
    reader: &crate::scope::Scope,
) -> Result<PeopleReport, AppError> {
    let id = w.id;
    let scope = match sight {
        Sight::Scope(scope) => Some(scoped_units(conn, id, scope)?),
        _ => None,
    };
    let report = people_report::build(conn, id).map_err(|e| match e {
        ReportError::Open(_) => AppError::Conflict(crate::error::Msg::new(
            "测评尚未结束：结束并开箱后才有评议结果。",
            "The wave is not closed yet: no results.",
        )),
        ReportError::Wave(WaveError::NotFound(_)) => AppError::NotFound,
        ReportError::Wave(
            e @ (WaveError::Invalid(_) | WaveError::Refused(_) | WaveError::Raced(_)),
        ) => AppError::Conflict(super::refusal::wave_msg(&e)),
        other => AppError::Internal(other.to_string()),
    })?;
    let mut report = report;
    if !crate::report::words_readable(conn, reader, w.scope.as_deref())? {
        report.withhold_reasons();
    }
    Ok(match (sight, scope) {
        (Sight::Aggregate, _) => people_report::aggregate_only(report),
        (_, Some(codes)) => PeopleReport {
            people: report
                .people
                .into_iter()
                .filter(|p| codes.contains(&p.unit))
                .collect(),
            units: report
                .units
                .into_iter()
                .filter(|u| codes.contains(&u.unit))
                .collect(),
            ..report
        },
        (_, None) => report,
    })
}

/// The units whose persons a report shows, for the audit log.
fn shown_units(report: &PeopleReport) -> String {
    let mut codes: Vec<&str> = report.people.iter().map(|p| p.unit.as_str()).collect();
    codes.dedup();
    if codes.is_empty() {
        "(none)".to_owned()
    } else {
        codes.join(", ")
    }
}

/// A failed grading, shown again with what was typed.
#[derive(Debug, Clone, Default)]
struct Attempt {
    person: String,
    grade: String,
    reason: String,
    error: String,
    error_en: String,
}

impl Attempt {
    /// Why it failed, in `lang`.
    fn error(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.error,
            Lang::En => &self.error_en,
        }
    }
}

#[derive(Serialize)]
struct GradeForm {
    options: Vec<(String, String, bool)>,
    reason: String,
    error: Option<String>,
}

#[derive(Serialize)]
struct PersonRow {
    anchor: String,
    key: String,
    name: String,
    email: String,
    team: bool,
    raters: u64,
    suppressed: bool,
    counts: Vec<String>,
    share_top: String,
    share_low: String,
    suggested: Option<String>,
    suggested_class: String,
    flagged: bool,
    final_grade: Option<String>,
    final_class: String,
    final_reason: Option<String>,
    reasons: Vec<String>,
    /// "3 条".
    reasons_count: String,
    form: Option<GradeForm>,
}

#[derive(Serialize)]
struct UnitBlock {
    code: String,
    name: String,
    /// How many are rated and how many may get the top grade.
    hint: String,
    rows: Vec<PersonRow>,
}

#[derive(Serialize)]
struct SummaryRow {
    code: String,
    name: String,
    people: u64,
    shown: u64,
    finals: Vec<u64>,
    ungraded: u64,
    max_top: u64,
}

#[derive(Serialize)]
struct PageData {
    id: i32,
    title: String,
    state_label: &'static str,
    persons: bool,
    /// The reasons were left out: this account's scope is wider than the wave's.
    reasons_withheld: bool,
    can_grade: bool,
    grade_labels: Vec<String>,
    top_label: String,
    units: Vec<UnitBlock>,
    summaries: Vec<SummaryRow>,
    legend: Vec<(String, String)>,
    exports: Vec<(&'static str, String)>,
    error: Option<String>,
    /// The page's words, and the headings that name the top grade.
    w: &'static PeopleWords,
    top_quota: String,
    top_share: String,
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_owned(), |v| format!("{:.1}%", v * 100.0))
}

/// The badge class of a grade: its place on the scale (best first), as the dashboard's.
fn grade_class(grades: &[GradeOf], g: Option<&GradeOf>) -> String {
    let index = g
        .and_then(|g| grades.iter().position(|o| o.id == g.id))
        .map_or(9, |i| i.min(3));
    format!("grade-{index}")
}

fn person_row(
    report: &PeopleReport,
    p: &PersonResult,
    (can_grade, lang): (bool, Lang),
    attempt: Option<&Attempt>,
) -> PersonRow {
    let hidden = words(lang).suppressed;
    let attempt = attempt.filter(|a| a.person == p.key);
    let form = (can_grade && !p.team).then(|| {
        let chosen = attempt.map_or_else(
            || {
                p.final_grade
                    .as_ref()
                    .map(|g| g.id.clone())
                    .unwrap_or_default()
            },
            |a| a.grade.clone(),
        );
        GradeForm {
            options: report
                .grades
                .iter()
                .map(|g| {
                    let selected = g.id == chosen || g.label == chosen;
                    (g.id.clone(), g.label.clone(), selected)
                })
                .collect(),
            reason: attempt.map_or_else(
                || p.final_reason.clone().unwrap_or_default(),
                |a| a.reason.clone(),
            ),
            error: attempt.map(|a| a.error(lang).to_owned()),
        }
    });
    PersonRow {
        anchor: format!("p-{}", p.key.replace(['@', '.', ':'], "-")),
        key: p.key.clone(),
        name: p.name.clone(),
        email: p.email.clone().unwrap_or_default(),
        team: p.team,
        raters: p.raters,
        suppressed: p.suppressed,
        counts: p.counts.as_ref().map_or_else(
            || report.grades.iter().map(|_| hidden.to_owned()).collect(),
            |cs| cs.iter().map(|c| c.count.to_string()).collect(),
        ),
        share_top: if p.suppressed {
            hidden.to_owned()
        } else {
            pct(p.share_top)
        },
        share_low: if p.suppressed {
            hidden.to_owned()
        } else {
            pct(p.share_low)
        },
        suggested: p.suggested.as_ref().map(|g| g.label.clone()),
        suggested_class: grade_class(&report.grades, p.suggested.as_ref()),
        flagged: p.flagged,
        final_grade: p.final_grade.as_ref().map(|g| g.label.clone()),
        final_class: grade_class(&report.grades, p.final_grade.as_ref()),
        final_reason: p.final_reason.clone(),
        reasons: p.reasons.clone(),
        reasons_count: fill(
            words(lang).reasons_count,
            &[("n", &p.reasons.len().to_string())],
        ),
        form,
    }
}

fn page_data(
    (w, lang): (&db_waves::Wave, Lang),
    report: &PeopleReport,
    spec: &PeopleSpec,
    sight: &Sight,
    attempt: Option<&Attempt>,
) -> PageData {
    let words = words(lang);
    let top = report
        .grades
        .first()
        .map(|g| g.label.clone())
        .unwrap_or_default();
    let can_grade = sight.persons()
        && spec.final_grade
        && State::parse(&w.state) == State::Closed
        && !w.is_sealed();
    let mut units: Vec<UnitBlock> = Vec::new();
    for p in &report.people {
        if units.last().is_none_or(|u| u.code != p.unit) {
            let summary = report.units.iter().find(|u| u.unit == p.unit);
            units.push(UnitBlock {
                code: p.unit.clone(),
                name: p.unit_name.clone(),
                hint: fill(
                    words.unit_hint,
                    &[
                        ("people", &summary.map_or(0, |s| s.people).to_string()),
                        ("max", &summary.map_or(0, |s| s.max_top).to_string()),
                        ("top", &top),
                    ],
                ),
                rows: Vec::new(),
            });
        }
        if let Some(block) = units.last_mut() {
            block
                .rows
                .push(person_row(report, p, (can_grade, lang), attempt));
        }
    }
    let id = w.id;
    PageData {
        id,
        title: w.title.clone(),
        state_label: super::strings::state_label(lang, &w.state, w.is_sealed()),
        persons: sight.persons(),
        reasons_withheld: report.reasons_withheld && sight.persons(),
        can_grade,
        grade_labels: report.grades.iter().map(|g| g.label.clone()).collect(),
        top_label: report
            .grades
            .first()
            .map(|g| g.label.clone())
            .unwrap_or_default(),
        units,
        summaries: report
            .units
            .iter()
            .map(|u| {
                let graded: u64 = u.final_grades.iter().map(|g| g.count).sum();
                SummaryRow {
                    code: u.unit.clone(),
                    name: u.name.clone(),
                    people: u.people,
                    shown: u.shown,
                    finals: u.final_grades.iter().map(|g| g.count).collect(),
                    ungraded: u.people.saturating_sub(graded),
                    max_top: u.max_top,
                }
            })
            .collect(),
        legend: legend(report, spec, lang),
        exports: vec![
            ("CSV", format!("/admin/waves/{id}/people.csv")),
            ("Excel", format!("/admin/waves/{id}/people.xlsx")),
            ("JSON", format!("/admin/waves/{id}/people.json")),
        ],
        error: attempt.map(|a| a.error(lang).to_owned()),
        w: words,
        top_quota: fill(words.top_quota, &[("top", &top)]),
        top_share: fill(words.top_share, &[("top", &top)]),
    }
}

/// Loads, audits (when persons are shown) and renders the page.
async fn people_page(
    req: &HttpRequest,
    state: &aw::Data<AppState>,
    session: &Session,
    id: i32,
    status: StatusCode,
    attempt: Option<Attempt>,
) -> Result<HttpResponse, AppError> {
    let (sight, reader) = (Sight::of(session), session.sight());
    let user = session.user.clone();
    let (w, spec, report, sight) = blocking(state, move |conn| {
        let (w, spec) = people_wave(conn, id)?;
        let report = report_for(conn, &w, &sight, &reader)?;
        if sight.persons() {
            let detail = format!("wave {id} units {}", shown_units(&report));
            db::write_tx(conn, |conn| {
                auth::record(conn, &user, "people.result.view", &detail)
            })?;
        }
        Ok((w, spec, report, sight))
    })
    .await?;
    let lang = lang_of(req);
    let data = page_data((&w, lang), &report, &spec, &sight, attempt.as_ref());
    let admin = Admin::new(req, session, format!("{} · {}", words(lang).title, w.title));
    render(state, status, "pages/admin/people_results", admin, data)
}

/// `GET /admin/waves/{id}/people`: the results of a people wave, as the account may see them.
pub async fn show(
    req: HttpRequest,
    state: aw::Data<AppState>,
    id: aw::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let session = require_any(&req, &state).await?;
    crate::web::guard::wave_async(&state, &session, *id).await?;
    people_page(
        &req,
        &state,
        &session,
        id.into_inner(),
        StatusCode::OK,
        None,
    )
    .await
}

/// `GET /admin/waves/{id}/people.{csv|xlsx|json}`: the page's results as a download, as the
/// account may see them, audited.
pub async fn export(
    req: HttpRequest,
    state: aw::Data<AppState>,
    path: aw::Path<(i32, String)>,
) -> Result<HttpResponse, AppError> {
    let session = require_any(&req, &state).await?;
    crate::web::guard::wave_async(&state, &session, path.0).await?;
    let (id, format) = path.into_inner();
    if !matches!(format.as_str(), "csv" | "xlsx" | "json") {
        return Err(AppError::NotFound);
    }
    let (sight, reader) = (Sight::of(&session), session.sight());
    let user = session.user.clone();
    let ext = format.clone();
    let report = blocking(&state, move |conn| {
        let (w, _) = people_wave(conn, id)?;
        let report = report_for(conn, &w, &sight, &reader)?;
        let detail = if sight.persons() {
            format!("wave {id} as {ext}, units {}", shown_units(&report))
        } else {
            format!("wave {id} as {ext}, counts per unit only")
        };
        db::write_tx(conn, |conn| {
            auth::record(conn, &user, "people.result.export", &detail)
        })?;
        Ok(report)
    })
    .await?;
    let internal = |e: &dyn std::fmt::Display| AppError::Internal(e.to_string());
    let aggregate = Sight::of(&session) == Sight::Aggregate;
    let (bytes, mime) = match format.as_str() {
        "csv" if aggregate => (
            units_csv(&report).map_err(|e| internal(&e))?,
            "text/csv; charset=utf-8",
        ),
        "csv" => (
            people_export::csv(&report).map_err(|e| internal(&e))?,
            "text/csv; charset=utf-8",
        ),
        "xlsx" => (
            people_export::workbook(&report).map_err(|e| internal(&e))?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        _ => (
            people_export::json(&report)
                .map_err(|e| internal(&e))?
                .into_bytes(),
            "application/json; charset=utf-8",
        ),
    };
    Ok(HttpResponse::Ok()
        .content_type(mime)
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"sanping-wave{id}-people.{format}\""),
        ))
        .body(bytes))
}

/// `POST /admin/waves/{id}/people/grade` (person, grade, reason): records a final grade
/// (组织评定). An organizer for anyone rated, a secretary for the people of their scope
/// (404 for anyone else); a refusal shows the page again with the message and the input.
pub async fn grade(
    req: HttpRequest,
    state: aw::Data<AppState>,
    id: aw::Path<i32>,
    body: aw::Bytes,
) -> Result<HttpResponse, AppError> {
    let session = require_any(&req, &state).await?;
    crate::web::guard::wave_async(&state, &session, *id).await?;
    let fields = crate::web::form(&body)?;
    check_csrf(&session, &fields)?;
    let sight = Sight::of(&session);
    if !sight.persons() {
        return Err(AppError::Forbidden);
    }
    let id = id.into_inner();
    let get = |k: &str| crate::web::form_field(&fields, k);
    let (person, grade, reason) = (get("person"), get("grade"), get("reason"));
    let user = session.user.clone();
    let (p, g, r) = (person.clone(), grade.clone(), reason.clone());
    let outcome = blocking(&state, move |conn| {
        people_wave(conn, id)?;
        let rated_person = rated::find(conn, id, &p)?
            .filter(|r| !is_team(&r.person))
            .ok_or(AppError::NotFound)?;
        if let Sight::Scope(scope) = &sight
            && !scoped_units(conn, id, scope)?.contains(&rated_person.unit)
        {
            return Err(AppError::NotFound);
        }
        let spec_of_grade = GradeSpec {
            wave_id: id,
            person: &p,
            grade: &g,
            reason: &r,
            actor: &user,
        };
        match record_grade(conn, &spec_of_grade) {
            Ok(_) => Ok(Ok(())),
            Err(WaveError::Db(e)) => Err(e.into()),
            Err(WaveError::NotFound(_)) => Err(AppError::NotFound),
            Err(e) => {
                let msg = super::refusal::wave_msg(&e);
                Ok(Err((msg.zh, msg.en)))
            }
        }
    })
    .await?;
    match outcome {
        Ok(()) => Ok(see_other(&format!(
            "/admin/waves/{id}/people#p-{}",
            person.replace(['@', '.', ':'], "-")
        ))),
        Err((error, error_en)) => {
            let attempt = Attempt {
                person,
                grade,
                reason,
                error,
                error_en,
            };
            people_page(
                &req,
                &state,
                &session,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(attempt),
            )
            .await
        }
    }
}

/// How many people with a result shown have no final grade yet (the publish warning).
pub(super) fn ungraded_with_results(conn: &mut DbConn, id: i32) -> Result<usize, AppError> {
    let report = people_report::build(conn, id).map_err(|e| AppError::Internal(e.to_string()))?;
    if !report.final_grade {
        return Ok(0);
    }
    Ok(report
        .people
        .iter()
        .filter(|p| !p.team && !p.suppressed && p.final_grade.is_none())
        .count())
}
