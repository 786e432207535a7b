//! The committee's dashboard: the results table (sortable, filterable), the heatmap of units
//! × dimensions, a page per unit, and CSV/XLSX downloads — the same figures as
//! `sanping report`, because they are the same `report::build`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web as aw};
use serde::Serialize;

use super::legend::{self, SummaryView};
use super::{Admin, blocking, render, strings};
use crate::app::AppState;
use crate::auth::{self, Role};
use crate::db::waves as db_waves;
use crate::domain::Lang;
use crate::error::AppError;
use crate::report::export::span;
use crate::report::{self, ReportError, UnitReport, WaveReport, charts, export, xlsx};
use crate::web::home::lang_of;
use crate::web::query_param as query;
use crate::web::session::require;

/// What [`load`] found for a wave the account may see.
pub(super) enum Loaded {
    /// The wave's report.
    Report(Box<WaveReport>),
    /// The wave is still open: no scores yet.
    Open,
    /// A people wave: its results are per person (`/admin/waves/{id}/people`).
    People,
}

impl Loaded {
    /// The report, else why there is none: 409 while the wave is open; 404 for a people
    /// wave, whose unit dashboard, pages and downloads do not exist.
    pub(super) fn report(self) -> Result<WaveReport, AppError> {
        match self {
            Self::Report(r) => Ok(*r),
            Self::Open => Err(AppError::Conflict(crate::error::Msg::new(
                "测评尚未结束，还没有得分。",
                "the wave is still open: no scores yet",
            ))),
            Self::People => Err(AppError::NotFound),
        }
    }
}

/// The report the dashboard shows (and its print view prints), as `session` may see it: a
/// wave inside its scope (else 404: the one guard of every result page), compared with the
/// previous wave inside it, and without the comments unless its scope lies inside the
/// wave's ([`report::words_readable`]).
pub(super) async fn load(
    state: &aw::Data<AppState>,
    session: &crate::web::session::Session,
    id: i32,
) -> Result<Loaded, AppError> {
    let session = session.clone();
    blocking(state, move |conn| {
        let (head, comments) = crate::web::guard::wave_and_words(conn, &session, id)?;
        if head.is_people() {
            return Ok(Loaded::People);
        }
        // Compared with the previous closed or published wave of the same scope.
        let prev = db_waves::previous_final(conn, id, head.scope.as_deref())?;
        match report::build(conn, id, prev) {
            Ok(mut r) => {
                if !comments {
                    r.comments.clear();
                }
                Ok(Loaded::Report(Box::new(r)))
            }
            Err(ReportError::Open(_)) => Ok(Loaded::Open),
            Err(ReportError::Wave(crate::wave::WaveError::NotFound(_))) => Err(AppError::NotFound),
            // Still sealed (待开箱): say so, with what to do.
            Err(ReportError::Wave(
                e @ (crate::wave::WaveError::Invalid(_)
                | crate::wave::WaveError::Refused(_)
                | crate::wave::WaveError::Raced(_)),
            )) => Err(AppError::Conflict(super::refusal::wave_msg(&e))),
            Err(e) => Err(AppError::Internal(e.to_string())),
        }
    })
    .await
}

#[derive(Serialize)]
struct Row {
    code: String,
    name: String,
    kind: String,
    parent: String,
    cells: Vec<String>,
    grade: Option<String>,
    grade_class: String,
    suppressed: bool,
    bar: Option<bool>,
    href: String,
}

#[derive(Serialize)]
struct Header {
    label: &'static str,
    href: String,
    sorted: &'static str,
}

#[derive(Serialize)]
struct ResultsData {
    id: i32,
    title: String,
    open: bool,
    headers: Vec<Header>,
    rows: Vec<Row>,
    kinds: Vec<(String, String, bool)>,
    parents: Vec<(String, String, bool)>,
    heatmap: String,
    /// The institution-wide summary (absent while the wave is open).
    summary: Option<SummaryView>,
    /// The legend: (term, paragraph).
    legend: Vec<(String, String)>,
    csv: String,
    xlsx: String,
    can_export: bool,
    compared_with: Option<i32>,
}

/// A sortable key of a row's column.
fn key(r: &UnitReport, col: usize) -> (u8, f64, String) {
    let num = |v: Option<f64>| v.map_or((1, 0.0, String::new()), |v| (0, v, String::new()));
    let text = |s: &str| (0, 0.0, s.to_owned());
    let mass = |f: fn(&report::MassView) -> Option<f64>| num(r.mass.as_ref().and_then(f));
    match col {
        0 => text(&r.code),
        1 => text(&r.name),
        2 => text(&r.kind),
        3 => text(r.parent.as_deref().unwrap_or("")),
        4 => num(Some(r.invited as f64)),
        5 => num(Some(r.responses as f64)),
        6 => num(r.response_rate),
        7 => mass(|m| m.satisfaction_rate),
        8 => mass(|m| m.satisfaction_index),
        9 => num(r.self_score),
        10 => num(r.org.score),
        11 | 12 => num(r.composite.score),
        13 => num(r.bar_met.map(|b| if b { 1.0 } else { 0.0 })),
        _ => num(r.rank.map(|k| k as f64)),
    }
}

/// The filter and order asked for in the query string.
struct View {
    sort: usize,
    desc: bool,
    kind: Option<String>,
    parent: Option<String>,
}

impl View {
    fn of(req: &HttpRequest) -> Self {
        Self {
            sort: query(req, "sort")
                .and_then(|s| s.parse().ok())
                .unwrap_or(11),
            desc: query(req, "dir").as_deref() != Some("asc"),
            kind: query(req, "kind").filter(|k| !k.is_empty()),
            parent: query(req, "parent").filter(|p| !p.is_empty()),
        }
    }
}

fn open_data(id: i32) -> ResultsData {
    ResultsData {
        id,
        title: String::new(),
        open: true,
        headers: vec![],
        rows: vec![],
        kinds: vec![],
        parents: vec![],
        heatmap: String::new(),
        summary: None,
        legend: Vec::new(),
        csv: String::new(),
        xlsx: String::new(),
        can_export: false,
        compared_with: None,
    }
}

/// Which codes with which names appear in a column, and whether one is the chosen filter.
fn choices(
    pairs: impl Iterator<Item = (String, String)>,
    chosen: Option<&String>,
) -> Vec<(String, String, bool)> {
    let mut out: Vec<(String, String, bool)> = pairs
        .map(|(code, name)| {
            let selected = chosen == Some(&code);
            (code, name, selected)
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

fn results_data(report: &WaveReport, view: &View, can_export: bool, lang: Lang) -> ResultsData {
    let a = strings::strings(lang);
    let id = report.wave;
    let mut units: Vec<&UnitReport> = report
        .units
        .iter()
        .filter(|u| view.kind.as_ref().is_none_or(|k| &u.kind == k))
        .filter(|u| {
            view.parent
                .as_ref()
                .is_none_or(|p| u.parent.as_ref() == Some(p))
        })
        .collect();
    units.sort_by(|x, y| {
        let (kx, ky) = (key(x, view.sort), key(y, view.sort));
        // Missing values last, whichever the direction.
        kx.0.cmp(&ky.0).then_with(|| {
            let o = kx.1.total_cmp(&ky.1).then_with(|| kx.2.cmp(&ky.2));
            if view.desc { o.reverse() } else { o }
        })
    });
    let filters = format!(
        "{}{}",
        view.kind
            .as_ref()
            .map(|k| format!("&kind={k}"))
            .unwrap_or_default(),
        view.parent
            .as_ref()
            .map(|p| format!("&parent={p}"))
            .unwrap_or_default()
    );
    let headers = super::print::words(lang)
        .headers
        .iter()
        .enumerate()
        .map(|(i, label)| Header {
            label,
            href: format!(
                "?sort={i}&dir={}{filters}",
                if i == view.sort && view.desc {
                    "asc"
                } else {
                    "desc"
                }
            ),
            sorted: if i != view.sort {
                ""
            } else if view.desc {
                "descending"
            } else {
                "ascending"
            },
        })
        .collect();
    let rows = units
        .iter()
        .map(|u| Row {
            code: u.code.clone(),
            name: u.name.clone(),
            kind: u.kind.clone(),
            parent: u.parent.clone().unwrap_or_default(),
            cells: legend::cells(a, u, report.satisfaction_bar),
            grade: u.grade.clone(),
            grade_class: format!("grade-{}", grade_index(u)),
            suppressed: u.suppressed,
            bar: u.bar_met,
            href: format!("/admin/results/{id}/unit/{}", u.code),
        })
        .collect();
    let name_of = |code: &str| {
        report
            .units
            .iter()
            .find(|u| u.code == code)
            .map_or_else(|| code.to_owned(), |u| u.name.clone())
    };
    let kinds = choices(
        report
            .units
            .iter()
            .map(|u| (u.kind.clone(), legend::kind_label(a, &u.kind).to_owned())),
        view.kind.as_ref(),
    );
    let parents = choices(
        report
            .units
            .iter()
            .filter_map(|u| u.parent.clone())
            .map(|p| {
                let name = name_of(&p);
                (p, name)
            }),
        view.parent.as_ref(),
    );
    let heat_rows: Vec<(String, Vec<Option<f64>>)> = units
        .iter()
        .map(|u| {
            let values = report
                .dimensions
                .iter()
                .map(|d| {
                    u.mass
                        .as_ref()
                        .and_then(|m| m.dimensions.iter().find(|x| x.dimension == d.id))
                        .and_then(|x| x.figures.index)
                })
                .collect();
            (u.name.clone(), values)
        })
        .collect();
    let columns: Vec<String> = report.dimensions.iter().map(|d| d.text.clone()).collect();
    let minima: Vec<f64> = report.summary.grades.iter().map(|g| g.min).collect();
    ResultsData {
        id,
        title: report.title.clone(),
        open: false,
        headers,
        rows,
        kinds,
        parents,
        heatmap: charts::heatmap(
            &columns,
            &heat_rows,
            &charts::Bands::at(&minima),
            charts::words(lang),
        ),
        summary: Some(legend::summary(report, a)),
        legend: legend::legend(report, a),
        csv: format!("/admin/results/{id}/export/csv"),
        xlsx: format!("/admin/results/{id}/export/xlsx"),
        can_export,
        compared_with: report.compared_with,
    }
}

/// `GET /admin/results/{id}?sort=&dir=&kind=&parent=`.
pub async fn show(
    req: HttpRequest,
    state: aw::Data<AppState>,
    id: aw::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let session = require(&req, &state, Role::Viewer).await?;
    let id = id.into_inner();
    let admin = Admin::new(&req, &session, strings::strings(lang_of(&req)).results);
    let report = match load(&state, &session, id).await? {
        Loaded::Report(report) => report,
        Loaded::People => return Ok(super::see_other(&format!("/admin/waves/{id}/people"))),
        Loaded::Open => {
            let data = open_data(id);
            return render(&state, StatusCode::OK, "pages/admin/results", admin, data);
        }
    };
    let data = results_data(
        &report,
        &View::of(&req),
        session.role >= Role::Committee,
        lang_of(&req),
    );
    render(&state, StatusCode::OK, "pages/admin/results", admin, data)
}

/// The badge colour of a grade, by its band in the survey (not by its label).
fn grade_index(u: &UnitReport) -> usize {
    // The survey's bands from best to worst take the four badge colours; a fifth and
    // further band share the last one.
    u.grade_index.map_or(9, |g| g.min(3))
}

#[derive(Serialize)]
struct ItemRow {
    number: usize,
    text: String,
    counts: String,
    valid: String,
    rate: String,
    interval: String,
    index: String,
}

#[derive(Serialize)]
struct UnitData {
    id: i32,
    title: String,
    cells: Vec<(String, String)>,
    suppressed: bool,
    chart: String,
    items: Vec<ItemRow>,
    self_items: Vec<(String, String, String)>,
    org: String,
    comments: Vec<String>,
    comments_shown: bool,
    change: Option<(String, String, String)>,
    /// Rate, index, responses and whether hidden units are left out.
    rollup: Option<(String, String, u64, bool)>,
    /// The overall rate's clustered 95% interval.
    interval: String,
    /// Per dimension: name, rate, its clustered 95% interval and the index.
    dimensions: Vec<DimensionRow>,
    missing: Vec<String>,
    /// The legend: (term, paragraph).
    legend: Vec<(String, String)>,
}

/// The overall rate's interval and each dimension's (name, rate, interval) of a shown unit.
fn intervals(report: &WaveReport, u: &UnitReport) -> (String, Vec<DimensionRow>) {
    let pct = |v: Option<f64>| v.map_or_else(|| "—".to_owned(), |v| format!("{:.1}%", v * 100.0));
    let Some(m) = u.mass.as_ref() else {
        return ("—".to_owned(), Vec::new());
    };
    let dimensions = m
        .dimensions
        .iter()
        .map(|d| {
            let name = report
                .dimensions
                .iter()
                .find(|x| x.id == d.dimension)
                .map_or_else(|| d.dimension.clone(), |x| x.text.clone());
            let index = d
                .figures
                .index
                .map_or_else(|| "—".to_owned(), |v| format!("{v:.1}"));
            (name, pct(d.figures.rate), span(d.figures.interval), index)
        })
        .collect();
    (span(m.satisfaction_interval), dimensions)
}

/// A dimension of a unit: name, rate, the rate's interval and the index.
type DimensionRow = (String, String, String, String);

fn unit_data(
    report: &WaveReport,
    u: &UnitReport,
    self_sheet: &crate::assess::Stored,
    survey: &crate::domain::survey::Survey,
    lang: Lang,
) -> UnitData {
    let a = strings::strings(lang);
    let id = report.wave;
    let pct = |v: Option<f64>| v.map_or_else(|| "—".to_owned(), |v| format!("{:.1}%", v * 100.0));
    let num = |v: Option<f64>| v.map_or_else(|| "—".to_owned(), |v| format!("{v:.1}"));
    let cells: Vec<(String, String)> = super::print::words(lang)
        .headers
        .iter()
        .map(|h| h.replace('\n', " "))
        .zip(legend::cells(a, u, report.satisfaction_bar))
        .collect();
    // Rates, not indices: the bar line drawn with them is a bar on the rate.
    let overall = (
        a.overall.to_owned(),
        u.mass.as_ref().and_then(|m| m.satisfaction_rate),
    );
    let chart_rows: Vec<(String, Option<f64>)> = std::iter::once(overall)
        .chain(report.dimensions.iter().map(|d| {
            let v = u
                .mass
                .as_ref()
                .and_then(|m| m.dimensions.iter().find(|x| x.dimension == d.id))
                .and_then(|x| x.figures.rate);
            (d.text.clone(), v)
        }))
        .collect();
    let items = u
        .mass
        .as_ref()
        .map(|m| {
            m.items
                .iter()
                .enumerate()
                .map(|(n, it)| ItemRow {
                    number: n + 1,
                    text: report
                        .items
                        .iter()
                        .find(|x| x.id == it.item)
                        .map(|x| x.text.clone())
                        .unwrap_or_default(),
                    counts: it
                        .counts
                        .iter()
                        .map(|(o, c)| format!("{o}:{c}"))
                        .collect::<Vec<_>>()
                        .join(" "),
                    valid: format!("{}", it.figures.valid),
                    rate: pct(it.figures.rate),
                    interval: span(it.figures.interval),
                    index: num(it.figures.index),
                })
                .collect()
        })
        .unwrap_or_default();
    let step = survey.step(crate::domain::survey::StepKind::SelfAssessment);
    let self_items = if self_sheet.submitted {
        step.items()
            .map(|i| {
                let chosen = self_sheet
                    .sheet
                    .answers
                    .get(&i.id)
                    .and_then(|o| survey.scale_of(i).option(o))
                    .map_or_else(|| "—".to_owned(), |o| o.label.zh.clone());
                (
                    i.text.zh.clone(),
                    chosen,
                    self_sheet
                        .sheet
                        .evidence
                        .get(&i.id)
                        .cloned()
                        .unwrap_or_default(),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let org = strings::fill(
        if u.org.trimmed {
            a.org_scores_trimmed
        } else {
            a.org_scores
        },
        &[
            ("n", &u.org.scorers.to_string()),
            ("score", &num(u.org.score)),
        ],
    );
    let comments_shown = !u.suppressed && u.responses >= u64::from(report.min_comments);
    let comments = report
        .comments
        .iter()
        .filter(|(c, _)| *c == u.code)
        .map(|(_, t)| t.clone())
        .collect();
    let change = u.change.as_ref().map(|c| {
        let signed = |v: Option<f64>, s: f64, unit: &str| {
            v.map_or_else(|| "—".to_owned(), |v| format!("{:+.1}{unit}", v * s))
        };
        (
            signed(c.satisfaction_rate, 100.0, "pp"),
            signed(c.satisfaction_index, 1.0, ""),
            signed(c.composite, 1.0, ""),
        )
    });
    let rollup = u
        .rollup
        .as_ref()
        .filter(|r| r.responses != u.responses || !u.rollup_left_out.is_empty())
        .map(|r| {
            (
                pct(r.satisfaction_rate),
                num(r.satisfaction_index),
                r.responses,
                !u.rollup_left_out.is_empty(),
            )
        });
    let (interval, dimensions) = intervals(report, u);
    let missing = u
        .composite
        .missing
        .iter()
        .map(|s| match s {
            // Say why: a hidden unit's grade rests on the other steps only.
            crate::domain::survey::StepKind::Mass if u.suppressed => format!(
                "{} ({})",
                crate::web::survey_text::step_name(lang, *s),
                a.suppressed
            ),
            other => crate::web::survey_text::step_name(lang, *other).to_owned(),
        })
        .collect();
    UnitData {
        id,
        title: u.name.clone(),
        cells,
        suppressed: u.suppressed,
        chart: charts::bars(&chart_rows, report.satisfaction_bar, charts::words(lang)),
        items,
        self_items,
        org,
        comments,
        comments_shown,
        change,
        rollup,
        interval,
        dimensions,
        missing,
        legend: legend::legend(report, a),
    }
}

/// `GET /admin/results/{id}/unit/{code}`.
pub async fn unit(
    req: HttpRequest,
    state: aw::Data<AppState>,
    path: aw::Path<(i32, String)>,
) -> Result<HttpResponse, AppError> {
    let session = require(&req, &state, Role::Viewer).await?;
    let (id, code) = path.into_inner();
    let report = load(&state, &session, id).await?.report()?;
    let u = report
        .units
        .iter()
        .find(|u| u.code == code)
        .ok_or(AppError::NotFound)?
        .clone();
    let (wave_id, unit_code) = (id, code.clone());
    let self_sheet = blocking(&state, move |conn| {
        Ok(crate::assess::load(
            conn,
            wave_id,
            &unit_code,
            crate::domain::survey::StepKind::SelfAssessment,
            "",
        )?)
    })
    .await?;
    let w = blocking(&state, move |conn| {
        db_waves::find(conn, id)?.ok_or(AppError::NotFound)
    })
    .await?;
    let survey = crate::wave::survey_of(&w).map_err(|e| AppError::Internal(e.to_string()))?;
    let admin = Admin::new(&req, &session, u.name.clone());
    let data = unit_data(&report, &u, &self_sheet, &survey, lang_of(&req));
    render(&state, StatusCode::OK, "pages/admin/unit", admin, data)
}

/// `GET /admin/results/{id}/export/{csv|xlsx}`: the report as a download (audited).
pub async fn export(
    req: HttpRequest,
    state: aw::Data<AppState>,
    path: aw::Path<(i32, String)>,
) -> Result<HttpResponse, AppError> {
    let session = require(&req, &state, Role::Committee).await?;
    let (id, format) = path.into_inner();
    let report = load(&state, &session, id).await?.report()?;
    let (bytes, mime, ext) = match format.as_str() {
        "csv" => (
            export::csv(&report).map_err(|e| AppError::Internal(e.to_string()))?,
            "text/csv; charset=utf-8",
            "csv",
        ),
        "xlsx" => (
            xlsx::workbook(&report).map_err(|e| AppError::Internal(e.to_string()))?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        _ => return Err(AppError::NotFound),
    };
    let user = session.user.clone();
    blocking(&state, move |conn| {
        Ok(auth::record(
            conn,
            &user,
            "report.export",
            &format!("wave {id} as {ext}"),
        )?)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type(mime)
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"sanping-wave{id}.{ext}\""),
        ))
        .body(bytes))
}

#[derive(Serialize)]
struct TreeRow {
    indent: String,
    code: String,
    name: String,
    href: String,
    responses: u64,
    rate: String,
    index: String,
    rollup_responses: u64,
    rollup_rate: String,
    rollup_index: String,
    rollup_partial: bool,
}

/// The unit tree's rows; `hidden` is what a hidden figure shows (样本不足).
fn tree_rows(report: &WaveReport, hidden: &str) -> Vec<TreeRow> {
    fn walk(
        (report, hidden): (&WaveReport, &str),
        parent: Option<&str>,
        depth: usize,
        out: &mut Vec<TreeRow>,
    ) {
        let codes: std::collections::HashSet<&str> =
            report.units.iter().map(|u| u.code.as_str()).collect();
        for u in report
            .units
            .iter()
            .filter(|u| u.parent.as_deref().filter(|p| codes.contains(p)) == parent)
        {
            let pct = |m: Option<&report::MassView>| {
                m.map_or_else(
                    || hidden.to_owned(),
                    |m| {
                        m.satisfaction_rate
                            .map_or_else(|| "—".into(), |r| format!("{:.1}%", r * 100.0))
                    },
                )
            };
            let idx = |m: Option<&report::MassView>| {
                m.map_or_else(
                    || hidden.to_owned(),
                    |m| {
                        m.satisfaction_index
                            .map_or_else(|| "—".into(), |v| format!("{v:.1}"))
                    },
                )
            };
            out.push(TreeRow {
                indent: "　".repeat(depth * 2),
                code: u.code.clone(),
                name: u.name.clone(),
                href: format!("/admin/results/{}/unit/{}", report.wave, u.code),
                responses: u.responses,
                rate: pct(u.mass.as_ref()),
                index: idx(u.mass.as_ref()),
                // The count the shown roll-up rests on (hidden units left out of it).
                rollup_responses: u
                    .rollup
                    .as_ref()
                    .map_or(u.rollup_responses, |r| r.responses),
                rollup_rate: pct(u.rollup.as_ref()),
                rollup_index: idx(u.rollup.as_ref()),
                rollup_partial: !u.rollup_left_out.is_empty(),
            });
            walk((report, hidden), Some(&u.code), depth + 1, out);
        }
    }
    let mut out = Vec::new();
    walk((report, hidden), None, 0, &mut out);
    out
}

/// `GET /admin/results/{id}/tree`: every figure rolled up along the unit tree.
pub async fn tree(
    req: HttpRequest,
    state: aw::Data<AppState>,
    id: aw::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let session = require(&req, &state, Role::Viewer).await?;
    let id = id.into_inner();
    // `load` guards the wave: outside the scope, 404.
    let report = load(&state, &session, id).await?.report()?;
    let a = strings::strings(lang_of(&req));
    let admin = Admin::new(&req, &session, a.rollup);
    render(
        &state,
        StatusCode::OK,
        "pages/admin/tree",
        admin,
        (id, tree_rows(&report, a.suppressed)),
    )
}
