//! The new-wave form: title, survey file, scope, closing time, and the key holders with the
//! threshold it takes to unseal the answers. A refused form comes back with what was typed.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web as aw};
use serde::Serialize;

use super::{Admin, blocking, render, see_other, strings};
use crate::app::AppState;
use crate::auth::{self, Role};
use crate::domain::Lang;
use crate::error::AppError;
use crate::wave::{self, NewWaveSpec};
use crate::web::home::lang_of;

use crate::web::session::{Session, check_csrf, require};

/// One option of a select or one checkbox of a group, and whether it is chosen.
#[derive(Serialize)]
pub struct Choice {
    /// The value posted.
    pub value: String,
    /// What the person sees.
    pub label: String,
    /// Whether it is selected or checked.
    pub selected: bool,
}

/// What was typed into the form (empty on a fresh form). The edit-draft form
/// ([`super::wave_edit`]) shares it.
#[derive(Serialize)]
pub(super) struct WaveForm {
    pub(super) title: String,
    pub(super) survey: String,
    pub(super) scope: String,
    pub(super) closes: String,
    pub(super) test: bool,
    pub(super) holders: Vec<String>,
    pub(super) threshold: String,
    pub(super) single_ok: bool,
}

impl WaveForm {
    fn blank() -> Self {
        Self {
            title: String::new(),
            survey: String::new(),
            scope: String::new(),
            closes: String::new(),
            test: false,
            holders: Vec::new(),
            // Two of several holders is the usual ceremony; the organizer changes it.
            threshold: "2".into(),
            single_ok: false,
        }
    }

    pub(super) fn posted(fields: &[(String, String)]) -> Self {
        let get = |k: &str| crate::web::form_field(fields, k);
        Self {
            title: get("title"),
            survey: get("survey"),
            scope: get("scope"),
            closes: get("closes"),
            test: get("test") == "on",
            holders: fields
                .iter()
                .filter(|(k, _)| k == "holder")
                .map(|(_, v)| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .collect(),
            threshold: get("threshold"),
            single_ok: get("single_ok") == "on",
        }
    }
}

#[derive(Serialize)]
struct NewWaveData {
    form: WaveForm,
    surveys: Vec<Choice>,
    units: Vec<Choice>,
    accounts: Vec<Choice>,
    error: Option<String>,
    /// The wave being edited (the edit-draft form), or `None` for a new wave.
    editing: Option<i32>,
    /// Whether "the whole tree" is offered as the scope: to installation-wide accounts only.
    whole_tree: bool,
}

/// `GET /admin/waves/new`.
pub async fn new_form(
    req: HttpRequest,
    state: aw::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let session = require(&req, &state, Role::Organizer).await?;
    new_page(
        &req,
        &state,
        &session,
        StatusCode::OK,
        WaveForm {
            // A scoped organizer's wave starts as its whole subtree.
            scope: session.scope.clone().unwrap_or_default(),
            ..WaveForm::blank()
        },
        None,
    )
    .await
}

async fn new_page(
    req: &HttpRequest,
    state: &aw::Data<AppState>,
    session: &Session,
    status: StatusCode,
    form: WaveForm,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    form_page(req, state, session, (status, None), form, error).await
}

/// The wave form, new (`editing` `None`) or editing a draft, with what was typed.
pub(super) async fn form_page(
    req: &HttpRequest,
    state: &aw::Data<AppState>,
    session: &Session,
    (status, editing): (StatusCode, Option<i32>),
    form: WaveForm,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let sight = session.sight();
    let whole_tree = sight == crate::scope::Scope::All;
    let (all, names) = blocking(state, move |conn| {
        // Only the units and accounts inside the account's own scope are offered.
        let names = crate::web::guard::accounts_in(conn, &sight)?
            .into_iter()
            .map(|a| a.username)
            .collect::<Vec<_>>();
        Ok((crate::web::guard::units_in(conn, &sight)?, names))
    })
    .await?;
    let surveys = super::survey_files(state)
        .into_iter()
        .filter(|_| editing.is_none())
        .map(|(f, _)| Choice {
            selected: f == form.survey,
            label: f.clone(),
            value: f,
        })
        .collect();
    let units = all
        .into_iter()
        .map(|u| Choice {
            selected: u.code == form.scope,
            value: u.code,
            label: u.name,
        })
        .collect();
    let accounts = names
        .into_iter()
        .map(|n| Choice {
            selected: form.holders.contains(&n),
            label: n.clone(),
            value: n,
        })
        .collect();
    let data = NewWaveData {
        form,
        surveys,
        units,
        accounts,
        error,
        editing,
        whole_tree,
    };
    let a = strings::strings(lang_of(req));
    let (title, page) = if editing.is_some() {
        (a.edit_wave, "pages/admin/wave_edit")
    } else {
        (a.new_wave, "pages/admin/wave_new")
    };
    let admin = Admin::new(req, session, title);
    render(state, status, page, admin, data)
}

/// `POST /admin/waves`: create a draft wave from a survey file.
pub async fn create(
    req: HttpRequest,
    state: aw::Data<AppState>,
    body: aw::Bytes,
) -> Result<HttpResponse, AppError> {
    let session = require(&req, &state, Role::Organizer).await?;
    let fields = crate::web::form(&body)?;
    check_csrf(&session, &fields)?;
    let form = WaveForm::posted(&fields);
    let lang = lang_of(&req);
    let a = strings::strings(lang);
    let refuse = |form: WaveForm, msg: String| {
        let (req, state, session) = (&req, &state, &session);
        async move {
            new_page(
                req,
                state,
                session,
                StatusCode::UNPROCESSABLE_ENTITY,
                form,
                Some(msg),
            )
            .await
        }
    };
    let Some((name, src)) = super::survey_files(&state)
        .into_iter()
        .find(|(f, _)| *f == form.survey)
    else {
        let msg = strings::fill(a.no_survey_file, &[("file", &form.survey)]);
        return refuse(form, msg).await;
    };
    let closes = match form.closes.as_str() {
        "" => None,
        s => {
            let Ok(t) = crate::cli::wave::parse_local(s) else {
                let msg = strings::fill(a.bad_closes, &[("value", s)]);
                return refuse(form, msg).await;
            };
            Some(t)
        }
    };
    let (holders, threshold) = match key_holders(a, &form, &session.user) {
        Ok(keys) => keys,
        Err(msg) => return refuse(form, msg).await,
    };
    let spec = NewWaveSpec {
        survey_name: name,
        survey_src: src,
        title: form.title.clone(),
        scope: Some(form.scope.clone()).filter(|s| !s.is_empty()),
        closes_at: closes,
        is_test: form.test,
        holders,
        threshold,
    };
    let sight = session.sight();
    let (scope, names) = (spec.scope.clone(), spec.holders.clone());
    let misfit = blocking(&state, move |conn| {
        crate::web::guard::wave_misfit(conn, &sight, scope.as_deref(), &names)
    })
    .await?;
    if let Some(msg) = misfit {
        return refuse(form, msg.get(crate::web::home::lang_of(&req)).to_owned()).await;
    }
    let user = session.user.clone();
    let created = blocking(&state, move |conn| match wave::create(conn, &spec) {
        Ok(id) => {
            auth::record(
                conn,
                &user,
                "wave.create",
                &format!(
                    "wave {id}: {}; key holders {} (any {} unseal)",
                    spec.title,
                    spec.holders.join(", "),
                    spec.threshold
                ),
            )?;
            Ok(Ok(id))
        }
        Err(wave::WaveError::Db(e)) => Err(e.into()),
        Err(e) => Ok(Err(create_error(lang, &e))),
    })
    .await?;
    match created {
        Ok(id) => Ok(see_other(&format!("/admin/waves/{id}"))),
        Err(msg) => refuse(form, msg).await,
    }
}

/// Why a wave could not be created, in the page's language: the survey file's mistakes one
/// per line (their places and lines as the file has them), or what the form should say.
fn create_error(lang: Lang, e: &wave::WaveError) -> String {
    match (lang, e) {
        (Lang::Zh, wave::WaveError::Edit(e)) => e.zh(),
        (_, wave::WaveError::Survey(errors)) => {
            let a = strings::strings(lang);
            let file = errors.first().map_or("", |e| e.file.as_str());
            let mut text = strings::fill(
                a.survey_invalid,
                &[("file", file), ("n", &errors.len().to_string())],
            );
            for e in errors {
                text.push('\n');
                text.push_str(&crate::web::survey_text::error(lang, e));
            }
            text
        }
        _ => e.to_string(),
    }
}

/// The key holders checked on the new-wave form and its threshold. One holder must be
/// acknowledged (`single_ok`): that person with the database can read every answer. A test
/// wave with none checked is held by its creator alone.
pub(super) fn key_holders(
    a: &strings::AdminStrings,
    form: &WaveForm,
    user: &str,
) -> Result<(Vec<String>, u8), String> {
    let holders = form.holders.clone();
    if holders.is_empty() && form.test {
        return Ok((vec![user.to_owned()], 1));
    }
    if holders.is_empty() {
        return Err(a.no_holders.to_owned());
    }
    if holders.len() == 1 {
        if !form.single_ok {
            return Err(strings::fill(
                a.single_unconfirmed,
                &[("name", &holders[0])],
            ));
        }
        return Ok((holders, 1));
    }
    let threshold = form
        .threshold
        .parse::<u8>()
        .map_err(|_| a.threshold_nan.to_owned())?;
    Ok((holders, threshold))
}
