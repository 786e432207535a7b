//! The wave pages: the list, a wave's state, key holders and live progress per unit, the
//! organizer's actions (open, remind, close, publish, purge, each with a confirmation step)
//! and printed slips. Creating a wave is in [`super::wave_new`], key checks and 开箱 in
//! [`super::keys`].

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web as aw};
use serde::Serialize;

use super::explain::{MAX_REMINDERS, MIN_DAYS, Numbers, explain, min_days_of, numbers, plan_text};
use super::people_wave::{PeoplePlanView, people_plan_view, results_href, secretary_sees};
pub(super) use super::refusal::wave_error;
use super::refusal::wave_msg;
use super::strings::{self, AdminStrings};
use super::{Admin, blocking, render, see_other};
use crate::app::AppState;
use crate::auth::{self, Role};
use crate::db::holders::{self, Holder};
use crate::db::{outbox, waves as db_waves};
use crate::error::{AppError, Msg};
use crate::forecast;
use crate::sealing::KeyReadiness;
use crate::wave::{self, State};
use crate::web::home::lang_of;
use crate::web::respond::local_time;
use crate::web::session::{Session, check_csrf, require};
use crate::web::survey_text::step_name;

#[derive(Serialize)]
struct WaveRow {
    id: i32,
    title: String,
    state: &'static str,
    state_label: &'static str,
    is_test: bool,
    closes: Option<String>,
    results: bool,
    /// The unit dashboard, or a people wave's results page.
    results_href: String,
}

/// `GET /admin`: every wave, with links by role; for a secretary, the people waves with
/// results for their branch.
pub async fn index(req: HttpRequest, state: aw::Data<AppState>) -> Result<HttpResponse, AppError> {
    let session = crate::web::session::require_any(&req, &state).await?;
    let scope = (session.role == Role::Secretary).then(|| session.scope.clone());
    let sight = session.sight();
    let all = blocking(&state, move |conn| {
        let units = crate::db::units::all(conn)?;
        let covers = sight.covering(&units);
        // Only the waves inside the account's scope exist for it.
        let all: Vec<_> = db_waves::all(conn)?
            .into_iter()
            .filter(|w| scope.is_some() || covers(w.scope.as_deref()))
            .collect();
        let Some(scope) = scope else { return Ok(all) };
        let mut seen = Vec::new();
        for w in all {
            if secretary_sees(conn, &w, scope.as_deref())? {
                seen.push(w);
            }
        }
        Ok(seen)
    })
    .await?;
    let lang = lang_of(&req);
    let rows: Vec<WaveRow> = all
        .into_iter()
        .map(|w| {
            let st = State::parse(&w.state);
            WaveRow {
                state_label: strings::state_label(lang, &w.state, w.is_sealed()),
                id: w.id,
                title: w.title.clone(),
                state: st.as_str(),
                is_test: w.is_test,
                closes: w.closes_at.map(local_time),
                results: matches!(st, State::Closed | State::Published) && !w.is_sealed(),
                results_href: results_href(w.id, w.is_people()),
            }
        })
        .collect();
    let admin = Admin::new(&req, &session, strings::strings(lang).waves);
    render(&state, StatusCode::OK, "pages/admin/waves", admin, rows)
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
struct HolderRow {
    name: String,
    confirmed: bool,
}

/// A wave's key holders as its pages show them.
#[derive(Serialize)]
struct KeysView {
    holders: Vec<HolderRow>,
    /// "任意 T 人可开箱".
    threshold_text: String,
    /// When one holder alone (with the database) can read every answer.
    warning: Option<String>,
}

fn keys_view(a: &AdminStrings, holders: &[Holder], threshold: Option<i32>) -> KeysView {
    let t = threshold.unwrap_or(0);
    let warning = match (holders, t) {
        ([only], 1) => Some(strings::fill(
            a.single_holder_warning,
            &[("name", &only.username)],
        )),
        (_, 1) => Some(a.threshold_one_warning.to_owned()),
        _ => None,
    };
    KeysView {
        holders: holders
            .iter()
            .map(|h| HolderRow {
                name: h.username.clone(),
                confirmed: h.confirmed_at.is_some(),
            })
            .collect(),
        threshold_text: strings::fill(a.any_t, &[("t", &t.to_string())]),
        warning,
    }
}

#[derive(Serialize)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "a template context: each flag shows or hides a part of the page"
)]
struct WavePageData {
    id: i32,
    title: String,
    state: &'static str,
    state_label: &'static str,
    /// One line on what this state means (scores hidden while open, sealed, …).
    hint: &'static str,
    /// A draft: whom opening it would invite.
    plan: Option<String>,
    /// A people wave (民主评议): it rates people, not units.
    people: bool,
    /// A people wave's draft: who is rated, the links, the units too small to take part.
    people_plan: Option<PeoplePlanView>,
    /// Where the results are (the unit dashboard, or the people results page).
    results_href: String,
    is_test: bool,
    closes: Option<String>,
    fingerprint: String,
    rows: Vec<ProgressRow>,
    actions: Vec<(&'static str, &'static str)>,
    units: Vec<(String, String)>,
    /// An organizer, a draft or open wave: slips, and moving the closing time later.
    can_slips: bool,
    /// An organizer, a draft: the 编辑 link.
    can_edit: bool,
    results: bool,
    keys: KeysView,
    key_actions: KeyActions,
    /// Roster changes since the wave opened (its frame is frozen): invitations the roster
    /// would add now, and invitations it would no longer make.
    added: Vec<String>,
    gone: Vec<String>,
}

/// What the logged-in user can do with the wave's key.
#[derive(Serialize)]
struct KeyActions {
    /// They hold a share that can still be checked.
    check: bool,
    /// Closed and sealed (待开箱): the 开箱 link.
    unseal: bool,
    /// Why their last key check failed.
    error: Option<String>,
}

fn actions(
    a: &AdminStrings,
    st: State,
    is_test: bool,
    sealed: bool,
) -> Vec<(&'static str, &'static str)> {
    let mut names = match st {
        State::Draft => vec!["open"],
        State::Open => vec!["remind", "invite-added", "close"],
        // Sealed answers cannot be counted, so there is nothing to publish before 开箱.
        State::Closed if sealed => vec![],
        State::Closed => vec!["publish"],
        State::Published => vec![],
    };
    if is_test {
        names.push("purge");
    }
    names
        .into_iter()
        .filter_map(|n| a.actions.iter().find(|(name, _)| *name == n).copied())
        .collect()
}

/// `GET /admin/waves/{id}`: state, key holders, live progress per unit (no scores while
/// open), and the actions the role allows.
pub async fn show(
    req: HttpRequest,
    state: aw::Data<AppState>,
    id: aw::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let session = require(&req, &state, Role::Committee).await?;
    crate::web::guard::wave_async(&state, &session, *id).await?;
    wave_page(
        &req,
        &state,
        &session,
        id.into_inner(),
        StatusCode::OK,
        None,
    )
    .await
}

/// Renders the wave page, with `key_error` when a key check just failed.
pub(super) async fn wave_page(
    req: &HttpRequest,
    state: &aw::Data<AppState>,
    session: &Session,
    id: i32,
    status: StatusCode,
    key_error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(req);
    let (w, progress, mails, all, (holders, changes, plan, people_plan)) =
        blocking(state, move |conn| {
            let w = db_waves::find(conn, id)?.ok_or(AppError::NotFound)?;
            let draft = State::parse(&w.state) == State::Draft;
            let (plan, people_plan) = match (draft, wave::survey_of(&w).map_err(wave_error)?.people)
            {
                (false, _) => (None, None),
                (true, None) => (
                    Some(forecast::open_plan(conn, &w).map_err(wave_error)?),
                    None,
                ),
                (true, Some(spec)) => {
                    let plan = wave::people_plan(conn, &w, &spec).map_err(wave_error)?;
                    (None, Some(people_plan_view(&plan, lang)))
                }
            };
            let progress =
                wave::progress(conn, id).map_err(|e| AppError::Internal(e.to_string()))?;
            // The wave's own frame: frozen when it opened, the live tree for a draft.
            let frame = wave::frame(conn, &w).map_err(|e| AppError::Internal(e.to_string()))?;
            // Who rates whom in a people wave is fixed at opening: nobody added joins it.
            let changes = if w.is_people() {
                wave::RosterChanges::default()
            } else {
                wave::roster_changes(conn, id).map_err(|e| AppError::Internal(e.to_string()))?
            };
            Ok((
                w,
                progress,
                outbox::unit_counts(conn, id)?,
                frame,
                (holders::of_wave(conn, id)?, changes, plan, people_plan),
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
    let organizer = session.role == Role::Organizer;
    let sealed = w.is_sealed();
    let targets = all.clone();
    let a = strings::strings(lang);
    let data = WavePageData {
        id: w.id,
        title: w.title.clone(),
        state: st.as_str(),
        state_label: strings::state_label(lang, &w.state, w.is_sealed()),
        hint: match st {
            State::Draft => a.hint_draft,
            State::Open => a.no_scores_open,
            State::Closed if sealed => a.hint_sealed,
            State::Closed => a.hint_closed,
            State::Published => a.hint_published,
        },
        plan: plan.map(|p| plan_text(a, p)),
        people: w.is_people(),
        people_plan,
        results_href: results_href(w.id, w.is_people()),
        is_test: w.is_test,
        closes: w.closes_at.map(local_time),
        fingerprint: w.fingerprint.clone(),
        rows,
        actions: if organizer {
            actions(a, st, w.is_test, sealed)
        } else {
            Vec::new()
        },
        units: targets.into_iter().map(|u| (u.code, u.name)).collect(),
        can_slips: organizer && matches!(st, State::Draft | State::Open),
        can_edit: organizer && st == State::Draft,
        results: matches!(st, State::Closed | State::Published) && !sealed,
        keys: keys_view(a, &holders, w.threshold),
        key_actions: KeyActions {
            // Once unsealed the shares are erased: there is nothing left to check.
            check: w.unsealed_at.is_none() && holders.iter().any(|h| h.username == session.user),
            unseal: st == State::Closed && sealed,
            error: key_error,
        },
        added: changes
            .added
            .iter()
            .map(|(p, unit, step)| {
                format!(
                    "{} <{}> → {} ({})",
                    p.name,
                    p.email,
                    name(unit),
                    step_name(lang, *step)
                )
            })
            .collect(),
        gone: changes
            .gone
            .iter()
            .map(|(email, unit, step)| {
                format!("{email} → {} ({})", name(unit), step_name(lang, *step))
            })
            .collect(),
    };
    let admin = Admin::new(req, session, w.title);
    render(state, status, "pages/admin/wave", admin, data)
}

#[derive(Serialize)]
struct ConfirmData {
    id: i32,
    title: String,
    action: String,
    label: &'static str,
    error: Option<String>,
    /// Opening: one holder alone could read every answer.
    key_warning: Option<String>,
    /// Opening: fewer holders checked their key than it takes to unseal (names who has not).
    unchecked_warning: Option<String>,
    /// What the action will do, with its numbers.
    summary: Option<String>,
    /// Reasons to think twice (closing early, publishing thin results).
    warnings: Vec<String>,
    /// Reminding: the minimum days since the last mail, editable.
    remind: bool,
    min_days: u32,
}

/// `GET /admin/waves/{id}/{action}`: the confirmation step.
pub async fn confirm(
    req: HttpRequest,
    state: aw::Data<AppState>,
    path: aw::Path<(i32, String)>,
) -> Result<HttpResponse, AppError> {
    let session = require(&req, &state, Role::Organizer).await?;
    crate::web::guard::wave_async(&state, &session, path.0).await?;
    let (id, action) = path.into_inner();
    let min_days = min_days_of(crate::web::query_param(&req, "min_days").as_deref())?;
    let status = StatusCode::OK;
    confirm_page(&req, &state, &session, (id, action, min_days), status, None).await
}

async fn confirm_page(
    req: &HttpRequest,
    state: &aw::Data<AppState>,
    session: &Session,
    (id, action, min_days): (i32, String, u32),
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let act = action.clone();
    let (w, holders, numbers) = blocking(state, move |conn| {
        let w = db_waves::find(conn, id)?.ok_or(AppError::NotFound)?;
        let holders = holders::of_wave(conn, id)?;
        // Only for an action the wave's state allows; anything else is refused below.
        let allowed = actions(
            &strings::ZH,
            State::parse(&w.state),
            w.is_test,
            w.is_sealed(),
        )
        .iter()
        .any(|(a, _)| *a == act);
        let numbers = if allowed {
            numbers(conn, &w, &act, min_days)?
        } else {
            Numbers::None
        };
        let ungraded = if allowed && act == "publish" && w.is_people() {
            super::people::ungraded_with_results(conn, id)?
        } else {
            0
        };
        Ok((w, holders, (numbers, ungraded)))
    })
    .await?;
    let (numbers, ungraded) = numbers;
    let lang = lang_of(req);
    let a = strings::strings(lang);
    let label = actions(a, State::parse(&w.state), w.is_test, w.is_sealed())
        .into_iter()
        .find(|(a, _)| *a == action)
        .map(|(_, l)| l)
        .ok_or_else(|| {
            AppError::BadRequest(Msg::new(
                format!("批次 {id} 当前不能执行此操作。"),
                format!("\"{action}\" is not possible for wave {id} now"),
            ))
        })?;
    let (mut key_warning, mut unchecked_warning) = (None, None);
    if action == "open" {
        key_warning = keys_view(a, &holders, w.threshold).warning;
        let ready = KeyReadiness::of(&holders, w.threshold);
        if ready.short() {
            unchecked_warning = Some(strings::fill(
                a.unchecked_warning,
                &[
                    ("c", &ready.confirmed.len().to_string()),
                    ("t", &ready.threshold.to_string()),
                    ("names", &ready.unconfirmed.join("、")),
                ],
            ));
        }
    }
    let (summary, mut warnings) = explain(a, &w, &action, numbers, min_days);
    if ungraded > 0 {
        warnings.push(strings::fill(
            a.ungraded_warning,
            &[("n", &ungraded.to_string())],
        ));
    }
    let remind = action == "remind";
    let admin = Admin::new(req, session, w.title.clone());
    render(
        state,
        status,
        "pages/admin/confirm",
        admin,
        ConfirmData {
            id,
            title: w.title,
            action,
            label,
            error,
            remind,
            min_days,
            key_warning,
            unchecked_warning,
            summary,
            warnings,
        },
    )
}

/// `POST /admin/waves/{id}/{action}`: carry it out, audit it, back to the wave. Opening a
/// draft whose key holders have not checked enough keys needs `unchecked_ok`, as the CLI
/// needs `--unchecked-keys`.
pub async fn act(
    req: HttpRequest,
    state: aw::Data<AppState>,
    path: aw::Path<(i32, String)>,
    body: aw::Bytes,
) -> Result<HttpResponse, AppError> {
    let session = require(&req, &state, Role::Organizer).await?;
    crate::web::guard::wave_async(&state, &session, path.0).await?;
    let fields = crate::web::form(&body)?;
    check_csrf(&session, &fields)?;
    let (id, action) = path.into_inner();
    let mut note = String::new();
    if action == "open" {
        let (draft, ready) = blocking(&state, move |conn| {
            let w = wave::get(conn, id).map_err(wave_error)?;
            let ready = KeyReadiness::read(conn, id).map_err(wave_error)?;
            Ok((State::parse(&w.state) == State::Draft, ready))
        })
        .await?;
        if draft && ready.short() {
            if crate::web::form_field(&fields, "unchecked_ok") != "on" {
                let a = strings::strings(lang_of(&req));
                let error = Some(a.unchecked_refused.to_owned());
                let status = StatusCode::UNPROCESSABLE_ENTITY;
                let what = (id, action, MIN_DAYS);
                return confirm_page(&req, &state, &session, what, status, error).await;
            }
            note = ready.opening_note();
        }
    }
    let min_days = min_days_of(Some(&crate::web::form_field(&fields, "min_days")))?;
    let user = session.user.clone();
    // The change and its audit entry in one transaction (a nested `write_tx` is a savepoint).
    let done = blocking(&state, move |conn| {
        crate::db::write_tx(conn, |conn| {
            let result = match action.as_str() {
                "open" => wave::open_by_email(conn, id).map(|n| format!("{n} invitations queued")),
                "remind" => wave::remind(conn, id, min_days, MAX_REMINDERS).map(|n| {
                    format!("{n} reminders queued (at least {min_days} days since the last mail)")
                }),
                "invite-added" => wave::invite_added(conn, id)
                    .map(|n| format!("{n} invitations queued for people added since it opened")),
                "close" => wave::close(conn, id).map(|()| String::new()),
                "publish" => wave::publish(conn, id).map(|()| String::new()),
                "purge" => wave::purge_test(conn, id)
                    .map(|(r, i)| format!("{r} responses, {i} invitations deleted")),
                other => {
                    return Err(AppError::BadRequest(Msg::new(
                        format!("未知操作“{other}”。"),
                        format!("unknown action \"{other}\""),
                    )));
                }
            };
            match result {
                Ok(detail) => {
                    auth::record(
                        conn,
                        &user,
                        &format!("wave.{action}"),
                        &format!("wave {id} {detail}{note}"),
                    )?;
                    Ok(Ok(()))
                }
                Err(wave::WaveError::Db(e)) => Err(e.into()),
                Err(wave::WaveError::NotFound(_)) => Err(AppError::NotFound),
                Err(e) => Ok(Err(wave_msg(&e))),
            }
        })
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
    let session = require(&req, &state, Role::Organizer).await?;
    crate::web::guard::wave_async(&state, &session, *id).await?;
    let fields = crate::web::form(&body)?;
    check_csrf(&session, &fields)?;
    let id = id.into_inner();
    let get = |k: &str| crate::web::form_field(&fields, k);
    let unit = get("unit");
    let count: usize = get("count").parse().map_err(|_| {
        AppError::BadRequest(Msg::new("份数须为数字。", "the count must be a number"))
    })?;
    let user = session.user.clone();
    let st = state.clone();
    let html = blocking(&state, move |conn| {
        let (w, u, tokens) = wave::slips(conn, id, &unit, count).map_err(wave_error)?;
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

/// `POST /admin/waves/{id}/extend`: move the closing time later (local "YYYY-MM-DD HH:MM"),
/// audited as `wave.extend`. A time in the past, or not later than the current one, is
/// refused with 400; a wave that is no longer open with 409.
pub async fn extend(
    req: HttpRequest,
    state: aw::Data<AppState>,
    id: aw::Path<i32>,
    body: aw::Bytes,
) -> Result<HttpResponse, AppError> {
    let session = require(&req, &state, Role::Organizer).await?;
    crate::web::guard::wave_async(&state, &session, *id).await?;
    let fields = crate::web::form(&body)?;
    check_csrf(&session, &fields)?;
    let id = id.into_inner();
    let typed = crate::web::form_field(&fields, "closes");
    let closes = crate::cli::wave::parse_local(&typed).map_err(|e| {
        AppError::BadRequest(Msg::new(
            format!("“{typed}”不是有效的时间，请按“YYYY-MM-DD HH:MM”格式填写（本地时间）。"),
            format!("{e:#}"),
        ))
    })?;
    let user = session.user.clone();
    blocking(&state, move |conn| {
        crate::deadline::extend(conn, id, closes, &user).map_err(|e| match e {
            e @ (wave::WaveError::Invalid(_)
            | wave::WaveError::Refused(_)
            | wave::WaveError::Edit(_)) => AppError::BadRequest(wave_msg(&e)),
            other => wave_error(other),
        })
    })
    .await?;
    Ok(see_other(&format!("/admin/waves/{id}")))
}
