//! Editing a draft wave in the console: the new-wave form, prefilled with the wave's title,
//! scope, closing time and key holders. The survey is shown, not editable. A refused edit
//! comes back (422) with the reason in the page's language and everything that was typed.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web as aw};

use super::strings::{self, AdminStrings};
use super::wave_new::{WaveForm, form_page, key_holders};
use super::{blocking, see_other};
use crate::app::AppState;
use crate::auth::Role;
use crate::db::{holders, waves as db_waves};
use crate::domain::Lang;
use crate::error::AppError;
use crate::wave::{self, DraftEdit, EditError, State};
use crate::web::home::lang_of;
use crate::web::respond::local_time;
use crate::web::session::{Session, check_csrf, require};

/// The current values of a draft wave, or the refusal of a wave that is not a draft.
async fn current(state: &aw::Data<AppState>, id: i32) -> Result<WaveForm, AppError> {
    blocking(state, move |conn| {
        let w = db_waves::find(conn, id)?.ok_or(AppError::NotFound)?;
        let st = State::parse(&w.state);
        if st != State::Draft {
            let e = EditError::NotDraft { id, state: st };
            return Err(AppError::Conflict(crate::error::Msg::new(
                e.zh(),
                e.to_string(),
            )));
        }
        let names: Vec<String> = holders::of_wave(conn, id)?
            .into_iter()
            .map(|h| h.username)
            .collect();
        let survey = wave::survey_of(&w).map_or_else(|_| String::new(), |s| s.id);
        Ok(WaveForm {
            title: w.title,
            survey,
            scope: w.scope.unwrap_or_default(),
            closes: w.closes_at.map(local_time).unwrap_or_default(),
            test: w.is_test,
            single_ok: names.len() == 1,
            holders: names,
            threshold: w.threshold.unwrap_or(1).to_string(),
        })
    })
    .await
}

/// `GET /admin/waves/{id}/edit`: the form, prefilled.
pub async fn edit_form(
    req: HttpRequest,
    state: aw::Data<AppState>,
    id: aw::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let session = require(&req, &state, Role::Organizer).await?;
    crate::web::guard::wave_async(&state, &session, *id).await?;
    let id = id.into_inner();
    let form = current(&state, id).await?;
    form_page(
        &req,
        &state,
        &session,
        (StatusCode::OK, Some(id)),
        form,
        None,
    )
    .await
}

/// `POST /admin/waves/{id}/edit`: saves and returns to the wave page.
pub async fn save(
    req: HttpRequest,
    state: aw::Data<AppState>,
    id: aw::Path<i32>,
    body: aw::Bytes,
) -> Result<HttpResponse, AppError> {
    let session = require(&req, &state, Role::Organizer).await?;
    crate::web::guard::wave_async(&state, &session, *id).await?;
    let id = id.into_inner();
    let fields = crate::web::form(&body)?;
    check_csrf(&session, &fields)?;
    let was = current(&state, id).await?;
    let mut form = WaveForm::posted(&fields);
    // Not on the edit form: the survey is shown, the rehearsal flag stays.
    form.survey = was.survey;
    form.test = was.test;
    let lang = lang_of(&req);
    match change_of(strings::strings(lang), &form, &session) {
        Ok(change) => {
            let sight = session.sight();
            let (scope, names) = (
                change.scope.clone().flatten(),
                change.holders.clone().unwrap_or_default(),
            );
            let misfit = blocking(&state, move |conn| {
                crate::web::guard::wave_misfit(conn, &sight, scope.as_deref(), &names)
            })
            .await?;
            if let Some(msg) = misfit {
                let msg = msg.get(crate::web::home::lang_of(&req)).to_owned();
                return refuse(&req, &state, &session, id, form, msg).await;
            }
            let user = session.user.clone();
            let done = blocking(&state, move |conn| {
                match wave::edit::edit(conn, id, &change, &user) {
                    Ok(_) => Ok(Ok(())),
                    Err(EditError::NotFound(_)) => Err(AppError::NotFound),
                    Err(EditError::Db(e)) => Err(e.into()),
                    Err(e) if lang == Lang::Zh => Ok(Err(e.zh())),
                    Err(e) => Ok(Err(e.to_string())),
                }
            })
            .await?;
            match done {
                Ok(()) => Ok(see_other(&format!("/admin/waves/{id}"))),
                Err(msg) => refuse(&req, &state, &session, id, form, msg).await,
            }
        }
        Err(msg) => refuse(&req, &state, &session, id, form, msg).await,
    }
}

async fn refuse(
    req: &HttpRequest,
    state: &aw::Data<AppState>,
    session: &Session,
    id: i32,
    form: WaveForm,
    msg: String,
) -> Result<HttpResponse, AppError> {
    let status = (StatusCode::UNPROCESSABLE_ENTITY, Some(id));
    form_page(req, state, session, status, form, Some(msg)).await
}

/// The edit a posted form asks for, or why it cannot be read (in the page's language).
fn change_of(a: &AdminStrings, form: &WaveForm, session: &Session) -> Result<DraftEdit, String> {
    let closes = match form.closes.as_str() {
        "" => None,
        s => Some(
            crate::cli::wave::parse_local(s)
                .map_err(|_| strings::fill(a.bad_closes, &[("value", s)]))?,
        ),
    };
    let (holders, threshold) = key_holders(a, form, &session.user)?;
    Ok(DraftEdit {
        title: Some(form.title.clone()),
        closes_at: Some(closes),
        scope: Some(Some(form.scope.clone()).filter(|s| !s.is_empty())),
        holders: Some(holders),
        threshold: Some(threshold),
    })
}
