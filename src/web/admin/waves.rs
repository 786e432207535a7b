//! The organizer's wave pages: create, open, remind, close, publish, purge (each with a
//! confirmation step), live progress per unit, and printed slips.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web as aw};
use serde::Serialize;

use super::{Admin, blocking, render, see_other, strings};
use crate::app::AppState;
use crate::auth::{self, Role};
use crate::db::{outbox, units, waves as db_waves};
use crate::error::AppError;
use crate::wave::{self, NewWaveSpec, State};
use crate::web::home::lang_of;
use crate::web::respond::{local_time, parse_form};
use crate::web::session::{check_csrf, require};

#[derive(Serialize)]
struct WaveRow {
    id: i32,
    title: String,
    state: &'static str,
    state_label: &'static str,
    is_test: bool,
    closes: Option<String>,
    results: bool,
}

/// `GET /admin`: every wave, with links by role.
pub async fn index(req: HttpRequest, state: aw::Data<AppState>) -> Result<HttpResponse, AppError> {
    let session = require(&req, &state, Role::Viewer)?;
    let all = blocking(&state, |conn| Ok(db_waves::all(conn)?)).await?;
    let rows: Vec<WaveRow> = all
        .into_iter()
        .map(|w| {
            let st = State::parse(&w.state);
            WaveRow {
                id: w.id,
                title: w.title,
                state: st.as_str(),
                state_label: st.label(),
                is_test: w.is_test,
                closes: w.closes_at.map(local_time),
                results: matches!(st, State::Closed | State::Published),
            }
        })
        .collect();
    let admin = Admin::new(&req, &session, strings::strings(lang_of(&req)).waves);
    render(&state, StatusCode::OK, "pages/admin/waves", admin, rows)
}

#[derive(Serialize)]
struct NewWaveData {
    surveys: Vec<String>,
    units: Vec<(String, String)>,
    error: Option<String>,
}

/// `GET /admin/waves/new`.
pub async fn new_form(
    req: HttpRequest,
    state: aw::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let session = require(&req, &state, Role::Organizer)?;
    new_page(&req, &state, &session, StatusCode::OK, None).await
}

async fn new_page(
    req: &HttpRequest,
    state: &aw::Data<AppState>,
    session: &crate::web::session::Session,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let all = blocking(state, |conn| Ok(units::all(conn)?)).await?;
    let data = NewWaveData {
        surveys: super::survey_files(state)
            .into_iter()
            .map(|(f, _)| f)
            .collect(),
        units: all.into_iter().map(|u| (u.code, u.name)).collect(),
        error,
    };
    let admin = Admin::new(req, session, strings::strings(lang_of(req)).new_wave);
    render(state, status, "pages/admin/wave_new", admin, data)
}

/// `POST /admin/waves`: create a draft wave from a survey file.
pub async fn create(
    req: HttpRequest,
    state: aw::Data<AppState>,
    body: aw::Bytes,
) -> Result<HttpResponse, AppError> {
    let session = require(&req, &state, Role::Organizer)?;
    let fields = parse_form(&body).unwrap_or_default();
    check_csrf(&session, &fields)?;
    let get = |k: &str| crate::web::form_field(&fields, k);
    let file = get("survey");
    let Some((name, src)) = super::survey_files(&state)
        .into_iter()
        .find(|(f, _)| *f == file)
    else {
        return new_page(
            &req,
            &state,
            &session,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(format!("no survey file \"{file}\"")),
        )
        .await;
    };
    let closes = match get("closes").as_str() {
        "" => None,
        s => match crate::cli::wave::parse_local(s) {
            Ok(t) => Some(t),
            Err(e) => {
                return new_page(
                    &req,
                    &state,
                    &session,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(format!("{e:#}")),
                )
                .await;
            }
        },
    };
    let is_test = get("test") == "on";
    let (holders, threshold) = match key_holders(&fields, &session.user, is_test) {
        Ok(keys) => keys,
        Err(msg) => {
            return new_page(
                &req,
                &state,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(msg),
            )
            .await;
        }
    };
    let spec = NewWaveSpec {
        survey_name: name,
        survey_src: src,
        title: get("title"),
        scope: Some(get("scope")).filter(|s| !s.is_empty()),
        closes_at: closes,
        is_test,
        holders,
        threshold,
    };
    let user = session.user.clone();
    let created = blocking(&state, move |conn| match wave::create(conn, &spec) {
        Ok(id) => {
            auth::record(
                conn,
                &user,
                "wave.create",
                &format!("wave {id}: {}", spec.title),
            )?;
            Ok(Ok(id))
        }
        Err(wave::WaveError::Db(e)) => Err(e.into()),
        Err(e) => Ok(Err(e.to_string())),
    })
    .await?;
    match created {
        Ok(id) => Ok(see_other(&format!("/admin/waves/{id}"))),
        Err(msg) => {
            new_page(
                &req,
                &state,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(msg),
            )
            .await
        }
    }
}

/// The key holders checked on the new-wave form and its threshold. One holder must be
/// acknowledged (`single_ok`): that person with the database can read every answer. A test
/// wave with none checked is held by its creator alone.
fn key_holders(
    fields: &[(String, String)],
    user: &str,
    is_test: bool,
) -> Result<(Vec<String>, u8), String> {
    let mut holders: Vec<String> = fields
        .iter()
        .filter(|(k, _)| k == "holder")
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect();
    if holders.is_empty() && is_test {
        holders.push(user.to_owned());
        return Ok((holders, 1));
    }
    let get = |k: &str| crate::web::form_field(fields, k);
    if holders.len() == 1 {
        if get("single_ok") != "on" {
            return Err(format!(
                "只选了一位密钥保管人（{0}）：{0} 与数据库合在一起即可读出全部答卷。请至少选两位，或勾选确认一人保管。",
                holders[0]
            ));
        }
        return Ok((holders, 1));
    }
    let threshold = get("threshold")
        .parse::<u8>()
        .map_err(|_| "开箱所需人数必须是数字 (the threshold must be a number)".to_owned())?;
    Ok((holders, threshold))
}

#[derive(Serialize)]
struct ProgressRow {
    unit: String,
    name: String,
    invited: i64,
    responses: i64,
    rate: String,
    queued: i64,
    sent: i64,
    failed: i64,
}

#[derive(Serialize)]
struct WavePageData {
    id: i32,
    title: String,
    state: &'static str,
    state_label: &'static str,
    is_test: bool,
    closes: Option<String>,
    fingerprint: String,
    rows: Vec<ProgressRow>,
    actions: Vec<(&'static str, &'static str)>,
    units: Vec<(String, String)>,
    can_slips: bool,
    results: bool,
}

fn actions(st: State, is_test: bool) -> Vec<(&'static str, &'static str)> {
    let mut a = match st {
        State::Draft => vec![("open", "开放并发送邀请 Open and send invitations")],
        State::Open => vec![
            ("remind", "发送提醒 Send reminders"),
            ("close", "结束测评 Close"),
        ],
        State::Closed => vec![("publish", "公布结果 Publish")],
        State::Published => vec![],
    };
    if is_test {
        a.push(("purge", "清除演练数据 Purge rehearsal data"));
    }
    a
}

/// `GET /admin/waves/{id}`: state, live progress per unit (no scores while open), actions.
pub async fn show(
    req: HttpRequest,
    state: aw::Data<AppState>,
    id: aw::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let session = require(&req, &state, Role::Organizer)?;
    let id = id.into_inner();
    let (w, progress, mails, all) = blocking(&state, move |conn| {
        let w = db_waves::find(conn, id)?.ok_or(AppError::NotFound)?;
        let progress = wave::progress(conn, id).map_err(|e| AppError::Internal(e.to_string()))?;
        Ok((
            w,
            progress,
            outbox::unit_counts(conn, id)?,
            units::all(conn)?,
        ))
    })
    .await?;
    let name = |code: &str| {
        all.iter()
            .find(|u| u.code == code)
            .map_or_else(|| code.to_owned(), |u| u.name.clone())
    };
    let mail = |unit: &str, st: &str| {
        mails
            .iter()
            .filter(|(u, s, _)| u == unit && s == st)
            .map(|(_, _, n)| n)
            .sum()
    };
    let rows = progress
        .iter()
        .map(|p| ProgressRow {
            name: name(&p.unit),
            invited: p.invited,
            responses: p.responses,
            rate: format!("{:.1}%", p.response_rate() * 100.0),
            queued: mail(&p.unit, "queued") + mail(&p.unit, "sending"),
            sent: mail(&p.unit, "sent"),
            failed: mail(&p.unit, "failed"),
            unit: p.unit.clone(),
        })
        .collect();
    let st = State::parse(&w.state);
    let targets = wave::targets(&all, w.scope.as_deref());
    let data = WavePageData {
        id: w.id,
        title: w.title.clone(),
        state: st.as_str(),
        state_label: st.label(),
        is_test: w.is_test,
        closes: w.closes_at.map(local_time),
        fingerprint: w.fingerprint.clone(),
        rows,
        actions: actions(st, w.is_test),
        units: targets.into_iter().map(|u| (u.code, u.name)).collect(),
        can_slips: matches!(st, State::Draft | State::Open),
        results: matches!(st, State::Closed | State::Published),
    };
    let admin = Admin::new(&req, &session, w.title);
    render(&state, StatusCode::OK, "pages/admin/wave", admin, data)
}

#[derive(Serialize)]
struct ConfirmData {
    id: i32,
    title: String,
    action: String,
    label: &'static str,
}

/// `GET /admin/waves/{id}/{action}`: the confirmation step.
pub async fn confirm(
    req: HttpRequest,
    state: aw::Data<AppState>,
    path: aw::Path<(i32, String)>,
) -> Result<HttpResponse, AppError> {
    let session = require(&req, &state, Role::Organizer)?;
    let (id, action) = path.into_inner();
    let w = blocking(&state, move |conn| {
        db_waves::find(conn, id)?.ok_or(AppError::NotFound)
    })
    .await?;
    let label = actions(State::parse(&w.state), w.is_test)
        .into_iter()
        .find(|(a, _)| *a == action)
        .map(|(_, l)| l)
        .ok_or_else(|| {
            AppError::BadRequest(format!("\"{action}\" is not possible for wave {id} now"))
        })?;
    let admin = Admin::new(&req, &session, w.title.clone());
    render(
        &state,
        StatusCode::OK,
        "pages/admin/confirm",
        admin,
        ConfirmData {
            id,
            title: w.title,
            action,
            label,
        },
    )
}

/// `POST /admin/waves/{id}/{action}`: carry it out, audit it, back to the wave.
pub async fn act(
    req: HttpRequest,
    state: aw::Data<AppState>,
    path: aw::Path<(i32, String)>,
    body: aw::Bytes,
) -> Result<HttpResponse, AppError> {
    let session = require(&req, &state, Role::Organizer)?;
    check_csrf(&session, &parse_form(&body).unwrap_or_default())?;
    let (id, action) = path.into_inner();
    let user = session.user.clone();
    let done = blocking(&state, move |conn| {
        let result = match action.as_str() {
            "open" => wave::open_by_email(conn, id).map(|n| format!("{n} invitations queued")),
            "remind" => wave::remind(conn, id, 0, 2).map(|n| format!("{n} reminders queued")),
            "close" => wave::close(conn, id).map(|()| String::new()),
            "publish" => wave::publish(conn, id).map(|()| String::new()),
            "purge" => wave::purge_test(conn, id)
                .map(|(r, i)| format!("{r} responses, {i} invitations deleted")),
            other => return Err(AppError::BadRequest(format!("unknown action \"{other}\""))),
        };
        match result {
            Ok(detail) => {
                auth::record(
                    conn,
                    &user,
                    &format!("wave.{action}"),
                    &format!("wave {id} {detail}"),
                )?;
                Ok(Ok(()))
            }
            Err(wave::WaveError::Db(e)) => Err(e.into()),
            Err(e) => Ok(Err(e.to_string())),
        }
    })
    .await?;
    match done {
        Ok(()) => Ok(see_other(&format!("/admin/waves/{id}"))),
        Err(msg) => Err(AppError::Conflict(msg)),
    }
}

/// `POST /admin/waves/{id}/slips`: make anonymous slips and download them as a printable page.
pub async fn slips(
    req: HttpRequest,
    state: aw::Data<AppState>,
    id: aw::Path<i32>,
    body: aw::Bytes,
) -> Result<HttpResponse, AppError> {
    let session = require(&req, &state, Role::Organizer)?;
    let fields = parse_form(&body).unwrap_or_default();
    check_csrf(&session, &fields)?;
    let id = id.into_inner();
    let get = |k: &str| crate::web::form_field(&fields, k);
    let unit = get("unit");
    let count: usize = get("count")
        .parse()
        .map_err(|_| AppError::BadRequest("the count must be a number".into()))?;
    let user = session.user.clone();
    let st = state.clone();
    let html = blocking(&state, move |conn| {
        let (w, u, tokens) = wave::slips(conn, id, &unit, count).map_err(|e| match e {
            wave::WaveError::Db(e) => e.into(),
            other => AppError::Conflict(other.to_string()),
        })?;
        auth::record(
            conn,
            &user,
            "wave.slips",
            &format!("wave {id}: {count} slips for {}", u.code),
        )?;
        crate::cli::wave::slips_html(&st, &w.title, &u.name, &tokens)
            .map_err(|e| AppError::Internal(format!("{e:#}")))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"slips-wave{id}.html\""),
        ))
        .insert_header(("Cache-Control", "no-store"))
        .body(html))
}
