//! The key holders' pages: a holder checks that their password unlocks their key, and T
//! holders together unseal (开箱) a closed wave. The passwords are used within the one
//! request that carries them and are wiped after; nothing of a share or a password is kept
//! between requests. Both actions audit themselves in [`crate::sealing`].

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web as aw};
use serde::Serialize;
use zeroize::{Zeroize as _, Zeroizing};

use super::strings;
use super::wave_new::Choice;
use super::waves::{wave_error, wave_page};
use super::{Admin, blocking, render, see_other};
use crate::app::AppState;
use crate::auth::Role;
use crate::db::{holders, waves as db_waves};
use crate::error::{AppError, Msg};
use crate::sealing::{self, HolderPassword};
use crate::wave::{self, State, WaveError};
use crate::web::home::lang_of;

use crate::web::session::{Session, check_csrf, require};

/// A posted field exactly as typed (passwords are not trimmed), wiped from the form after.
fn take_secret(fields: &mut [(String, String)], key: &str) -> Zeroizing<String> {
    fields
        .iter_mut()
        .find(|(k, _)| k == key)
        .map(|(_, v)| Zeroizing::new(std::mem::take(v)))
        .unwrap_or_default()
}

/// Wipes what is left of a posted form.
fn wipe(fields: &mut [(String, String)]) {
    for (_, v) in fields {
        v.zeroize();
    }
}

/// A refusal a person can act on, or an error that ends the request.
fn refusal(e: WaveError) -> Result<Msg, AppError> {
    match e {
        WaveError::Invalid(_)
        | WaveError::Refused(_)
        | WaveError::Raced(_)
        | WaveError::State { .. } => Ok(super::refusal::wave_msg(&e)),
        other => Err(wave_error(other)),
    }
}

/// `POST /admin/waves/{id}/check-key`: the logged-in holder shows that their password
/// unlocks their key (or, once the wave is open, their share of its key).
pub async fn check_key(
    req: HttpRequest,
    state: aw::Data<AppState>,
    id: aw::Path<i32>,
    body: aw::Bytes,
) -> Result<HttpResponse, AppError> {
    let session = require(&req, &state, Role::Committee).await?;
    crate::web::guard::wave_async(&state, &session, *id).await?;
    let mut fields = crate::web::form(&body)?;
    check_csrf(&session, &fields)?;
    let id = id.into_inner();
    let password = take_secret(&mut fields, "password");
    wipe(&mut fields);
    let user = session.user.clone();
    let outcome = blocking(&state, move |conn| {
        match sealing::check_key(conn, id, &user, &password, &user) {
            Ok(_) => Ok(Ok(())),
            Err(e) => refusal(e).map(Err),
        }
    })
    .await?;
    match outcome {
        Ok(()) => Ok(see_other(&format!("/admin/waves/{id}"))),
        Err(msg) => {
            let lang = lang_of(&req);
            let a = strings::strings(lang);
            let error = Some(format!("{} {}", a.check_key_refused, msg.get(lang)));
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            wave_page(&req, &state, &session, id, status, error).await
        }
    }
}

#[derive(Serialize)]
struct UnsealRow {
    /// 1-based: the row's fields are `holder_n` and `password_n`.
    n: usize,
    holders: Vec<Choice>,
}

#[derive(Serialize)]
struct UnsealData {
    id: i32,
    title: String,
    state_label: &'static str,
    /// Closed and sealed: the form is shown.
    sealed: bool,
    hint: String,
    rows: Vec<UnsealRow>,
    error: Option<String>,
}

/// `GET /admin/waves/{id}/unseal`: one form with a row (holder, password) per holder it
/// takes to unseal.
pub async fn unseal_form(
    req: HttpRequest,
    state: aw::Data<AppState>,
    id: aw::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let session = require(&req, &state, Role::Committee).await?;
    crate::web::guard::wave_async(&state, &session, *id).await?;
    unseal_page(
        &req,
        &state,
        &session,
        id.into_inner(),
        StatusCode::OK,
        None,
        None,
    )
    .await
}

async fn unseal_page(
    req: &HttpRequest,
    state: &aw::Data<AppState>,
    session: &Session,
    id: i32,
    status: StatusCode,
    chosen: Option<Vec<String>>,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let (w, names) = blocking(state, move |conn| {
        let w = db_waves::find(conn, id)?.ok_or(AppError::NotFound)?;
        let names: Vec<String> = holders::of_wave(conn, id)?
            .into_iter()
            .map(|h| h.username)
            .collect();
        Ok((w, names))
    })
    .await?;
    let t = usize::try_from(w.threshold.unwrap_or(0)).unwrap_or(0);
    // A fresh form suggests the holders in order; a refused one keeps what was chosen.
    let chosen = chosen.unwrap_or_else(|| names.iter().take(t).cloned().collect());
    let rows = (1..=t)
        .map(|n| UnsealRow {
            n,
            holders: names
                .iter()
                .map(|name| Choice {
                    value: name.clone(),
                    label: name.clone(),
                    selected: chosen.get(n - 1) == Some(name),
                })
                .collect(),
        })
        .collect();
    let a = strings::strings(lang_of(req));
    let data = UnsealData {
        id,
        title: w.title.clone(),
        state_label: strings::state_label(lang_of(req), &w.state, w.is_sealed()),
        sealed: State::parse(&w.state) == State::Closed && w.is_sealed(),
        hint: strings::fill(a.unseal_hint, &[("t", &t.to_string())]),
        rows,
        error,
    };
    let admin = Admin::new(req, session, format!("{} · {}", a.unseal, w.title));
    let mut res = render(state, status, "pages/admin/unseal", admin, data)?;
    // A password form: no copy of the page in any cache.
    res.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

/// `POST /admin/waves/{id}/unseal`: 开箱 with the holders and passwords of the form's rows.
/// Success goes back to the wave page; any refusal shows the form again, nothing changed.
pub async fn unseal(
    req: HttpRequest,
    state: aw::Data<AppState>,
    id: aw::Path<i32>,
    body: aw::Bytes,
) -> Result<HttpResponse, AppError> {
    let session = require(&req, &state, Role::Committee).await?;
    crate::web::guard::wave_async(&state, &session, *id).await?;
    let mut fields = crate::web::form(&body)?;
    check_csrf(&session, &fields)?;
    let id = id.into_inner();
    let threshold = blocking(&state, move |conn| {
        Ok(wave::get(conn, id).map_err(wave_error)?.threshold)
    })
    .await?;
    let t = usize::try_from(threshold.unwrap_or(0)).unwrap_or(0);
    let mut chosen = Vec::new();
    let mut given = Vec::new();
    for n in 1..=t {
        let username = crate::web::form_field(&fields, &format!("holder_{n}"));
        let password = take_secret(&mut fields, &format!("password_{n}"));
        chosen.push(username.clone());
        // A row left empty is simply not a holder taking part; unsealing counts who did.
        if !username.is_empty() {
            given.push(HolderPassword { username, password });
        }
    }
    wipe(&mut fields);
    let user = session.user.clone();
    let outcome = blocking(&state, move |conn| {
        match sealing::unseal(conn, id, &given, &user) {
            Ok(done) => Ok(Ok(done)),
            Err(e) => refusal(e).map(Err),
        }
    })
    .await?;
    match outcome {
        Ok(done) => {
            if done.rejected > 0 || !done.scrubbed {
                tracing::warn!(
                    wave = id,
                    rejected = done.rejected,
                    scrubbed = done.scrubbed,
                    "unsealed with warnings; `sanping wave verify` shows any imbalance"
                );
            }
            Ok(see_other(&format!("/admin/waves/{id}")))
        }
        Err(msg) => {
            let lang = lang_of(&req);
            let a = strings::strings(lang);
            let error = Some(format!("{} {}", a.unseal_refused, msg.get(lang)));
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            unseal_page(&req, &state, &session, id, status, Some(chosen), error).await
        }
    }
}
