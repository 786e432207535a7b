//! `/api/v1/waves…`: list, create, the lifecycle actions, progress, mail status, the
//! report, the record and the receipts. Each calls the library function the console and
//! the CLI call, with the same audit entry (actor: the account; detail: the console's, plus
//! the token).

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web as aw};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{ApiError, ApiResult, Paging, blocking, caller, detail, ok, scope_of, visible_wave};
use crate::app::AppState;
use crate::auth::{self, Role};
use crate::db::{self, DbConn, outbox};
use crate::wave::{self, NewWaveSpec, State};

/// The console's default and the CLI's: no reminder within 3 days of the last mail.
const MIN_DAYS: u32 = 3;
/// At most this many reminders per invitation (as the console and the CLI).
const MAX_REMINDERS: u32 = 2;

fn time(t: Option<NaiveDateTime>) -> Option<String> {
    t.map(|t| t.and_utc().to_rfc3339())
}

/// A wave as the API shows it (UTC times in RFC 3339).
#[derive(Serialize)]
struct WaveOut {
    id: i32,
    title: String,
    kind: String,
    state: String,
    sealed: bool,
    scope: Option<String>,
    test: bool,
    closes_at: Option<String>,
    created_at: Option<String>,
    opened_at: Option<String>,
    closed_at: Option<String>,
    published_at: Option<String>,
    unsealed_at: Option<String>,
    threshold: Option<i32>,
}

impl From<&db::waves::WaveHead> for WaveOut {
    fn from(w: &db::waves::WaveHead) -> Self {
        Self {
            id: w.id,
            title: w.title.clone(),
            kind: w.kind.clone(),
            state: w.state.clone(),
            sealed: w.is_sealed(),
            scope: w.scope.clone(),
            test: w.is_test,
            closes_at: time(w.closes_at),
            created_at: time(Some(w.created_at)),
            opened_at: time(w.opened_at),
            closed_at: time(w.closed_at),
            published_at: time(w.published_at),
            unsealed_at: time(w.unsealed_at),
            threshold: w.threshold,
        }
    }
}

/// Wave `id` as the API shows it (it was just made or changed: it exists).
fn head_of(conn: &mut DbConn, id: i32) -> Result<db::waves::WaveHead, ApiError> {
    db::waves::find_head(conn, id)?.ok_or_else(ApiError::not_found)
}

/// `GET /api/v1/waves[?state=…]`: the waves the account may see, newest first, paginated.
pub async fn list(req: HttpRequest, state: aw::Data<AppState>) -> ApiResult {
    let who = caller(&req, &state, Role::Viewer).await?;
    let paging = Paging::of(&req)?;
    let wanted = crate::web::query_param(&req, "state").filter(|s| !s.is_empty());
    let (all, units) = blocking(&state, |conn| {
        Ok((db::waves::all(conn)?, db::units::all(conn)?))
    })
    .await?;
    let scope = scope_of(&who);
    let covers = scope.covering(&units);
    let mut rows: Vec<WaveOut> = all
        .iter()
        .filter(|w| covers(w.scope.as_deref()))
        .filter(|w| wanted.as_deref().is_none_or(|s| w.state == s))
        .map(WaveOut::from)
        .collect();
    rows.sort_by_key(|w| std::cmp::Reverse(w.id));
    ok(&paging.page(&rows))
}

/// `GET /api/v1/waves/{id}`.
pub async fn show(req: HttpRequest, state: aw::Data<AppState>, id: aw::Path<i32>) -> ApiResult {
    let who = caller(&req, &state, Role::Committee).await?;
    let id = id.into_inner();
    let w = blocking(&state, move |conn| visible_wave(conn, &who, id)).await?;
    ok(&WaveOut::from(&w))
}

/// The body of `POST /api/v1/waves`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewWave {
    /// A survey file of the server's survey folder (as the console offers them).
    survey: String,
    title: String,
    scope: Option<String>,
    /// Local time "YYYY-MM-DD HH:MM", as in the console and the CLI.
    closes: Option<String>,
    #[serde(default)]
    test: bool,
    holders: Vec<String>,
    threshold: u8,
}

/// `POST /api/v1/waves`: a draft wave, audited as `wave.create`. A scoped account must
/// give a scope inside its own.
pub async fn create(req: HttpRequest, state: aw::Data<AppState>, body: aw::Bytes) -> ApiResult {
    let who = caller(&req, &state, Role::Organizer).await?;
    let form: NewWave = super::json_body(&body)?;
    let Some((name, src)) = crate::web::admin::survey_files(&state)
        .into_iter()
        .find(|(f, _)| *f == form.survey)
    else {
        return Err(ApiError::unprocessable(
            "unknown_survey",
            format!("there is no survey file \"{}\" on the server", form.survey),
        ));
    };
    let closes = match form.closes.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(
            crate::cli::wave::parse_local(s)
                .map_err(|e| ApiError::unprocessable("invalid", format!("{e:#}")))?,
        ),
    };
    let spec = NewWaveSpec {
        survey_name: name,
        survey_src: src,
        title: form.title,
        scope: form.scope.filter(|s| !s.trim().is_empty()),
        closes_at: closes,
        is_test: form.test,
        holders: form.holders,
        threshold: form.threshold,
    };
    let id = blocking(&state, move |conn| {
        // A scope inside the account's, key holders inside it too, as on the console and
        // the command line.
        if let Some(why) = crate::web::guard::wave_misfit(
            conn,
            &scope_of(&who),
            spec.scope.as_deref(),
            &spec.holders,
        )? {
            return Err(ApiError::unprocessable("scope_outside", why.en));
        }
        db::write_tx(conn, |conn| {
            let id = wave::create(conn, &spec)?;
            auth::record(
                conn,
                &who.username,
                "wave.create",
                &detail(
                    &who,
                    &format!(
                        "wave {id}: {}; key holders {} (any {} unseal)",
                        spec.title,
                        spec.holders.join(", "),
                        spec.threshold
                    ),
                ),
            )?;
            Ok::<_, ApiError>(id)
        })
    })
    .await?;
    let w = blocking(&state, move |conn| head_of(conn, id)).await?;
    Ok(actix_web::HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/waves/{id}")))
        .json(WaveOut::from(&w)))
}

/// The optional body of a lifecycle action.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ActionBody {
    /// `open`: open although fewer key holders than the threshold have checked their key
    /// (the console's checkbox, the CLI's `--unchecked-keys`).
    #[serde(default)]
    unchecked_keys: bool,
    /// `remind`: only invitations whose last mail is at least this many days old.
    min_days: Option<u32>,
}

/// `POST /api/v1/waves/{id}/open` (`{"unchecked_keys": true}` to open although too few
/// key holders checked their key), audited as `wave.open`.
pub async fn open(
    req: HttpRequest,
    state: aw::Data<AppState>,
    id: aw::Path<i32>,
    body: aw::Bytes,
) -> ApiResult {
    act(req, state, id.into_inner(), "open", body).await
}

/// `POST /api/v1/waves/{id}/remind` (`{"min_days": N}`, default 3), audited as
/// `wave.remind`.
pub async fn remind(
    req: HttpRequest,
    state: aw::Data<AppState>,
    id: aw::Path<i32>,
    body: aw::Bytes,
) -> ApiResult {
    act(req, state, id.into_inner(), "remind", body).await
}

/// `POST /api/v1/waves/{id}/close`, audited as `wave.close`.
pub async fn close(
    req: HttpRequest,
    state: aw::Data<AppState>,
    id: aw::Path<i32>,
    body: aw::Bytes,
) -> ApiResult {
    act(req, state, id.into_inner(), "close", body).await
}

/// `POST /api/v1/waves/{id}/publish`, audited as `wave.publish`.
pub async fn publish(
    req: HttpRequest,
    state: aw::Data<AppState>,
    id: aw::Path<i32>,
    body: aw::Bytes,
) -> ApiResult {
    act(req, state, id.into_inner(), "publish", body).await
}

/// A lifecycle action, as the console's buttons.
async fn act(
    req: HttpRequest,
    state: aw::Data<AppState>,
    id: i32,
    action: &'static str,
    body: aw::Bytes,
) -> ApiResult {
    let who = caller(&req, &state, Role::Organizer).await?;
    let opts: ActionBody = super::json_body(&body)?;
    let min_days = opts.min_days.unwrap_or(MIN_DAYS);
    if min_days > 365 {
        return Err(ApiError::unprocessable(
            "invalid",
            "min_days must be at most 365",
        ));
    }
    let done = blocking(&state, move |conn| {
        let w = visible_wave(conn, &who, id)?;
        let mut note = String::new();
        if action == "open" && State::parse(&w.state) == State::Draft {
            let ready = crate::sealing::KeyReadiness::read(conn, id)?;
            if ready.short() {
                if !opts.unchecked_keys {
                    return Err(ApiError::new(
                        StatusCode::CONFLICT,
                        "keys_unchecked",
                        format!(
                            "only {} of the {} key holders needed have checked their key ({} not); \
                             send {{\"unchecked_keys\": true}} to open anyway",
                            ready.confirmed.len(),
                            ready.threshold,
                            ready.unconfirmed.join(", ")
                        ),
                    ));
                }
                note = ready.opening_note();
            }
        }
        db::write_tx(conn, |conn| {
            let (detail_text, count) = match action {
                "open" => {
                    let n = wave::open_by_email(conn, id)?;
                    (format!("{n} invitations queued"), Some(n))
                }
                "remind" => {
                    let n = wave::remind(conn, id, min_days, MAX_REMINDERS)?;
                    (
                        format!(
                            "{n} reminders queued (at least {min_days} days since the last mail)"
                        ),
                        Some(n),
                    )
                }
                "close" => {
                    wave::close(conn, id)?;
                    (String::new(), None)
                }
                _ => {
                    wave::publish(conn, id)?;
                    (String::new(), None)
                }
            };
            auth::record(
                conn,
                &who.username,
                &format!("wave.{action}"),
                &detail(&who, &format!("wave {id} {detail_text}{note}")),
            )?;
            Ok::<_, ApiError>(count)
        })
    })
    .await?;
    let w = blocking(&state, move |conn| head_of(conn, id)).await?;
    let mut out = serde_json::to_value(WaveOut::from(&w))
        .map_err(|e| ApiError::from(crate::error::AppError::Internal(e.to_string())))?;
    if let Some(n) = done {
        out["queued"] = json!(n);
    }
    ok(&out)
}

/// The body of `POST /api/v1/waves/{id}/extend`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Extend {
    /// Local time "YYYY-MM-DD HH:MM".
    closes: String,
}

/// `POST /api/v1/waves/{id}/extend`: a later closing time, audited as `wave.extend`.
pub async fn extend(
    req: HttpRequest,
    state: aw::Data<AppState>,
    id: aw::Path<i32>,
    body: aw::Bytes,
) -> ApiResult {
    let who = caller(&req, &state, Role::Organizer).await?;
    let id = id.into_inner();
    let form: Extend = super::json_body(&body)?;
    let closes = crate::cli::wave::parse_local(&form.closes)
        .map_err(|e| ApiError::unprocessable("invalid", format!("{e:#}")))?;
    let w = blocking(&state, move |conn| {
        visible_wave(conn, &who, id)?;
        // The library writes the entry; the actor names the account, as the console.
        let actor = who.username.clone();
        crate::deadline::extend(conn, id, closes, &actor)?;
        head_of(conn, id)
    })
    .await?;
    ok(&WaveOut::from(&w))
}

/// `GET /api/v1/waves/{id}/progress`: invited / used / responses per unit (no scores).
pub async fn progress(req: HttpRequest, state: aw::Data<AppState>, id: aw::Path<i32>) -> ApiResult {
    let who = caller(&req, &state, Role::Committee).await?;
    let id = id.into_inner();
    let paging = Paging::of(&req)?;
    let rows = blocking(&state, move |conn| {
        visible_wave(conn, &who, id)?;
        Ok(wave::progress(conn, id)?)
    })
    .await?;
    let (invited, responses) = rows
        .iter()
        .fold((0, 0), |(i, r), p| (i + p.invited, r + p.responses));
    let items: Vec<_> = rows
        .iter()
        .map(|p| {
            json!({
                "unit": p.unit,
                "invited": p.invited,
                "used": p.used,
                "responses": p.responses,
                "response_rate": p.response_rate(),
            })
        })
        .collect();
    let mut out = paging.page(&items);
    out["invited"] = json!(invited);
    out["responses"] = json!(responses);
    ok(&out)
}

/// `GET /api/v1/waves/{id}/mail`: the wave's mails by state and per unit; for an
/// organizer, the failed ones with their reasons (paginated).
pub async fn mail(req: HttpRequest, state: aw::Data<AppState>, id: aw::Path<i32>) -> ApiResult {
    let who = caller(&req, &state, Role::Committee).await?;
    let id = id.into_inner();
    let paging = Paging::of(&req)?;
    let organizer = who.role == Role::Organizer;
    let (counts, units, failed) = blocking(&state, move |conn| {
        visible_wave(conn, &who, id)?;
        Ok((
            outbox::counts(conn, Some(id))?,
            outbox::unit_counts(conn, id)?,
            if organizer {
                outbox::failed(conn, Some(id))?
            } else {
                Vec::new()
            },
        ))
    })
    .await?;
    let mut by_state: BTreeMap<String, i64> = BTreeMap::new();
    let mut by_kind: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for (kind, st, n) in counts {
        *by_state.entry(st.clone()).or_default() += n;
        *by_kind.entry(kind).or_default().entry(st).or_default() += n;
    }
    let mut by_unit: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for (unit, st, n) in units {
        *by_unit.entry(unit).or_default().entry(st).or_default() += n;
    }
    let failed: Vec<_> = failed
        .iter()
        .map(|m| {
            json!({
                "recipient": m.recipient,
                "kind": m.kind,
                "attempts": m.attempts,
                "last_error": m.last_error,
            })
        })
        .collect();
    ok(&json!({
        "by_state": by_state,
        "by_kind": by_kind,
        "by_unit": by_unit,
        "failed": if organizer { paging.page(&failed) } else { serde_json::Value::Null },
    }))
}

/// `GET /api/v1/waves/{id}/report`: the document `sanping report --format json` prints,
/// audited as `report.export` (a people wave's: committee and up, `people.report`, as the
/// CLI). Without the comments for an account whose scope is wider than the wave's, as on the
/// console (`report::words_readable`); a people wave's reasons likewise.
pub async fn report(req: HttpRequest, state: aw::Data<AppState>, id: aw::Path<i32>) -> ApiResult {
    let who = caller(&req, &state, Role::Viewer).await?;
    let id = id.into_inner();
    let json_text = blocking(&state, move |conn| {
        let w = visible_wave(conn, &who, id)?;
        let (text, action, what) = if w.is_people() {
            if who.role < Role::Committee {
                return Err(super::forbidden());
            }
            let mut r = crate::report::people::build(conn, id).map_err(report_error)?;
            if !crate::report::words_readable(conn, &super::scope_of(&who), w.scope.as_deref())? {
                r.withhold_reasons();
            }
            let text = crate::report::people_export::json(&r)
                .map_err(|e| ApiError::from(crate::error::AppError::Internal(e.to_string())))?;
            (
                text,
                "people.report",
                format!("wave {id} people results as json"),
            )
        } else {
            let mut r = crate::report::build(conn, id, None).map_err(report_error)?;
            // As on the console: comments only for accounts of the wave's own subtree.
            if !crate::report::words_readable(conn, &super::scope_of(&who), w.scope.as_deref())? {
                r.comments.clear();
            }
            let text = crate::report::export::json(&r)
                .map_err(|e| ApiError::from(crate::error::AppError::Internal(e.to_string())))?;
            (text, "report.export", format!("wave {id} as json"))
        };
        db::write_tx(conn, |conn| {
            auth::record(conn, &who.username, action, &detail(&who, &what))
        })?;
        Ok(text)
    })
    .await?;
    Ok(actix_web::HttpResponse::Ok()
        .content_type(actix_web::http::header::ContentType::json())
        .body(json_text))
}

fn report_error(e: crate::report::ReportError) -> ApiError {
    use crate::report::ReportError as R;
    match e {
        R::Open(id) => ApiError::new(
            StatusCode::CONFLICT,
            "wave_open",
            format!("wave {id} is still open: no scores are shown until it closes"),
        ),
        R::Wave(e) => e.into(),
        R::Db(e) => e.into(),
    }
}

/// `GET /api/v1/waves/{id}/record`: the wave record (written once its results are final):
/// its hash, its place in the chain and its body.
pub async fn record(req: HttpRequest, state: aw::Data<AppState>, id: aw::Path<i32>) -> ApiResult {
    let who = caller(&req, &state, Role::Viewer).await?;
    let id = id.into_inner();
    let rec = blocking(&state, move |conn| {
        visible_wave(conn, &who, id)?;
        Ok(db::frames::record_of(conn, id)?)
    })
    .await?
    .ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "no_record",
            format!(
                "wave {id} has no record yet: it is written when the results are final \
                 (closed and unsealed; a people wave's when published), never for a test wave"
            ),
        )
    })?;
    let body: serde_json::Value =
        serde_json::from_str(&rec.body).unwrap_or(serde_json::Value::String(rec.body.clone()));
    ok(&json!({
        "wave": rec.wave_id,
        "seq": rec.seq,
        "hash": rec.hash,
        "created_at": time(Some(rec.created_at)),
        "body": body,
    }))
}

/// `GET /api/v1/waves/{id}/receipts[?code=…]`: a published wave's receipt codes, sorted,
/// paginated; with `code`, whether that one is among them.
pub async fn receipts(req: HttpRequest, state: aw::Data<AppState>, id: aw::Path<i32>) -> ApiResult {
    let who = caller(&req, &state, Role::Viewer).await?;
    let id = id.into_inner();
    let paging = Paging::of(&req)?;
    let code = crate::web::query_param(&req, "code");
    let codes = blocking(&state, move |conn| {
        let w = visible_wave(conn, &who, id)?;
        if State::parse(&w.state) != State::Published || w.is_test {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "wave_not_published",
                format!("wave {id} is not published (or is a test wave): no receipts to show"),
            ));
        }
        Ok(crate::respond::receipts(conn, id)?)
    })
    .await?;
    let mut out = paging.page(&codes);
    if let Some(q) = code {
        let normal = crate::domain::token::normalize_receipt(&q);
        out["code"] = json!(normal.clone().unwrap_or(q));
        out["found"] = json!(normal.is_some_and(|c| codes.binary_search(&c).is_ok()));
    }
    ok(&out)
}
