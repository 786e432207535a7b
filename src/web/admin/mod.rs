//! The organizer's console and the committee's dashboard: login, roster and units, survey
//! files, waves, results and the audit log. Every page checks the session's role; every form
//! carries the session's CSRF token; every change or export is written to the audit log.

pub mod accounts_page;
mod explain;
pub mod keys;
pub mod legend;
pub mod people;
mod people_text;
mod people_wave;
pub mod preview;
pub mod print;
mod refusal;
pub mod results;
pub mod roster_status;
pub mod strings;
pub mod wave_edit;
pub mod wave_new;
pub mod waves;

use actix_web::cookie::Cookie;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web as aw};
use futures_util::StreamExt as _;
use serde::Serialize;

use super::home::{Layout, lang_of};

use super::session::{Session, check_csrf, require};
use super::templates::page;
use crate::app::AppState;
use crate::auth::{self, LoginError, Role};
use crate::db::{self, accounts, units};
use crate::domain::Lang;
use crate::error::AppError;
use crate::import::{self, ImportError};
use strings::AdminStrings;

/// What every admin page's layout needs.
#[derive(Serialize)]
pub struct Admin {
    /// The page layout.
    pub layout: Layout,
    /// The admin strings.
    pub a: &'static AdminStrings,
    /// Logged-in user.
    pub user: String,
    /// Role name.
    pub role: &'static str,
    /// Whether organizer links are shown.
    pub organizer: bool,
    /// Whether committee links (wave pages, key checks, 开箱) are shown.
    pub committee: bool,
    /// A branch secretary: only people results of their branch.
    pub secretary: bool,
    /// The CSRF token for the page's forms.
    pub csrf: String,
    /// The accounts page's link text.
    pub accounts_link: &'static str,
}

impl Admin {
    /// The admin context of a page.
    pub fn new(req: &HttpRequest, session: &Session, title: impl Into<String>) -> Self {
        let lang = lang_of(req);
        Self {
            layout: Layout::new(lang, title, req.path()),
            a: strings::strings(lang),
            user: session.user.clone(),
            role: session.role.as_str(),
            organizer: session.role == Role::Organizer,
            committee: session.role >= Role::Committee,
            secretary: session.role == Role::Secretary,
            csrf: session.csrf.clone(),
            accounts_link: if lang == Lang::En {
                "Accounts"
            } else {
                "账号"
            },
        }
    }
}

/// A page with just the admin context and one payload.
#[derive(Serialize)]
pub struct AdminPage<T: Serialize> {
    /// Layout and navigation.
    #[serde(flatten)]
    pub admin: Admin,
    /// The page's own data.
    pub data: T,
}

/// Renders an admin page.
pub fn render<T: Serialize>(
    state: &AppState,
    status: StatusCode,
    name: &str,
    admin: Admin,
    data: T,
) -> Result<HttpResponse, AppError> {
    page(&state.templates, status, name, &AdminPage { admin, data })
}

/// A redirect after a POST.
pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_owned()))
        .finish()
}

/// Runs blocking database work off the async threads.
pub async fn blocking<T: Send + 'static>(
    state: &aw::Data<AppState>,
    f: impl FnOnce(&mut db::DbConn) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let pool = state.pool.clone();
    aw::block(move || {
        let mut conn = pool.get()?;
        f(&mut conn)
    })
    .await?
}

const LOGIN_CSRF: &str = "sp_login_csrf";

#[derive(Serialize)]
struct LoginPage {
    layout: Layout,
    a: &'static AdminStrings,
    csrf: String,
    error: Option<String>,
}

fn login_page(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(req);
    let csrf = crate::domain::token::random_id();
    let a = strings::strings(lang);
    let ctx = LoginPage {
        layout: Layout::new(lang, a.login, "/admin/login"),
        a,
        csrf: csrf.clone(),
        error,
    };
    let mut res = page(&state.templates, status, "pages/admin/login", &ctx)?;
    let cookie = Cookie::build(LOGIN_CSRF, csrf)
        .path("/admin/login")
        .http_only(true)
        .same_site(actix_web::cookie::SameSite::Strict)
        .secure(state.config.base_url.starts_with("https://"))
        .finish();
    res.add_cookie(&cookie)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(res)
}

/// `GET /admin/login`.
pub async fn login_form(
    req: HttpRequest,
    state: aw::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    if super::session::read(&req, &state).await?.is_some() {
        return Ok(see_other("/admin"));
    }
    login_page(&req, &state, StatusCode::OK, None)
}

/// `POST /admin/login`.
pub async fn login(
    req: HttpRequest,
    state: aw::Data<AppState>,
    body: aw::Bytes,
) -> Result<HttpResponse, AppError> {
    let fields = crate::web::form(&body)?;
    let get = |k: &str| super::form_field(&fields, k);
    let expected = req.cookie(LOGIN_CSRF).map(|c| c.value().to_owned());
    if expected.is_none() || expected.as_deref() != Some(get("csrf").as_str()) {
        return Err(AppError::BadRequest(crate::error::Msg::new(
            "登录表单已过期，请刷新页面。",
            "the login form has expired; reload the page",
        )));
    }
    let address = req
        .peer_addr()
        .map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string());
    // The password exactly as typed; only the username is trimmed.
    let password = fields
        .iter()
        .find(|(n, _)| n == "password")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let username = get("username");
    let outcome = blocking(&state, move |conn| {
        match auth::login(conn, username.trim(), &password, &address) {
            Ok(ok) => Ok(Ok(ok)),
            Err(LoginError::Db(e)) => Err(e.into()),
            Err(e) => Ok(Err(e)),
        }
    })
    .await?;
    let a = strings::strings(lang_of(&req));
    match outcome {
        Ok(ok) => {
            let session = Session::new(ok.username, ok.role, ok.epoch);
            let mut res = see_other("/admin");
            res.add_cookie(&session.cookie(&state))
                .map_err(|e| AppError::Internal(e.to_string()))?;
            Ok(res)
        }
        Err(LoginError::Locked(until)) => login_page(
            &req,
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            Some(format!(
                "{} ({})",
                LoginError::Locked(until),
                super::respond::local_time(until)
            )),
        ),
        Err(_) => login_page(
            &req,
            &state,
            StatusCode::UNAUTHORIZED,
            Some(a.wrong_login.to_owned()),
        ),
    }
}

/// `POST /admin/logout`: ends every session of the account, so that no copy of its cookie
/// (another browser, a stolen one) works any longer.
pub async fn logout(
    req: HttpRequest,
    state: aw::Data<AppState>,
    body: aw::Bytes,
) -> Result<HttpResponse, AppError> {
    let session = super::session::require_any(&req, &state).await?;
    check_csrf(&session, &crate::web::form(&body)?)?;
    let user = session.user.clone();
    blocking(&state, move |conn| {
        db::write_tx(conn, |conn| {
            accounts::end_sessions(conn, &user)?;
            auth::record(conn, &user, "logout", "")
        })?;
        Ok(())
    })
    .await?;
    let mut res = see_other("/admin/login");
    res.add_cookie(&Session::clear(&state))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(res)
}

/// Whether `target` is a path on this site: it starts with one `/`, and has no backslash
/// (browsers read `/\\host` as `//host`, another origin) and no control character (a CR or
/// LF would end the Location header).
fn is_local_path(target: &str) -> bool {
    let mut chars = target.chars();
    chars.next() == Some('/')
        && !matches!(chars.next(), Some('/'))
        && !target.chars().any(|c| c == '\\' || c.is_control())
}

/// `GET /lang/{zh|en}?back=…`: remembers the language in a cookie and goes back.
pub async fn set_lang(req: HttpRequest, code: aw::Path<String>) -> HttpResponse {
    let lang = Lang::from_param(Some(&code));
    let back = super::query_param(&req, "back")
        .filter(|b| is_local_path(b))
        .unwrap_or_else(|| "/".to_owned());
    let cookie = Cookie::build(
        super::home::LANG_COOKIE,
        if lang == Lang::En { "en" } else { "zh" },
    )
    .path("/")
    .same_site(actix_web::cookie::SameSite::Lax)
    .max_age(actix_web::cookie::time::Duration::days(365))
    .finish();
    let mut res = see_other(&back);
    let _ = res.add_cookie(&cookie);
    res
}

#[derive(Serialize)]
struct AuditRow {
    at: String,
    actor: String,
    action: String,
    detail: String,
}

/// `GET /admin/audit`.
pub async fn audit(req: HttpRequest, state: aw::Data<AppState>) -> Result<HttpResponse, AppError> {
    let session = require(&req, &state, Role::Organizer).await?;
    let sight = session.sight();
    let entries = blocking(&state, move |conn| {
        // A scoped account sees the entries inside its subtree; installation-wide entries
        // (and other subtrees') only installation-wide accounts see.
        Ok(match sight {
            crate::scope::Scope::All => accounts::audit_entries(conn, 500)?,
            scoped @ crate::scope::Scope::Subtree(_) => {
                let codes: Vec<String> = super::guard::units_in(conn, &scoped)?
                    .into_iter()
                    .map(|u| u.code)
                    .collect();
                accounts::audit_entries_in(conn, &codes, 500)?
            }
        })
    })
    .await?;
    let rows: Vec<AuditRow> = entries
        .into_iter()
        .map(|e| AuditRow {
            at: super::respond::local_time(e.at),
            actor: e.actor,
            action: e.action,
            detail: e.detail,
        })
        .collect();
    let admin = Admin::new(&req, &session, strings::strings(lang_of(&req)).audit);
    render(&state, StatusCode::OK, "pages/admin/audit", admin, rows)
}

#[derive(Serialize)]
struct TreeRow {
    depth: usize,
    indent: String,
    code: String,
    name: String,
    kind: String,
    /// In use (not 停用).
    active: bool,
}

fn walk(
    a: &AdminStrings,
    all: &[units::Unit],
    inactive: &std::collections::HashSet<String>,
    parent: Option<&str>,
    depth: usize,
    out: &mut Vec<TreeRow>,
) {
    for u in all.iter().filter(|u| u.parent.as_deref() == parent) {
        out.push(TreeRow {
            depth,
            indent: "　".repeat(depth * 2),
            code: u.code.clone(),
            name: u.name.clone(),
            kind: legend::kind_label(a, &u.kind).to_owned(),
            active: !inactive.contains(&u.code),
        });
        walk(a, all, inactive, Some(&u.code), depth + 1, out);
    }
}

/// How many units and people the roster holds.
#[derive(Serialize, Clone, Copy, Default)]
struct Counts {
    units: usize,
    people: usize,
}

fn counts(conn: &mut db::DbConn, scope: &crate::scope::Scope) -> Result<Counts, AppError> {
    let all = units::all(conn)?;
    let inside = scope.codes(&all);
    Ok(Counts {
        units: inside.len(),
        people: db::people::all(conn)?
            .iter()
            .filter(|p| inside.contains(p.unit.as_str()))
            .count(),
    })
}

/// The units and people pages: the current counts (always the real ones, also after a
/// refused upload), and after an upload the counts before it and its result or bad rows.
#[derive(Serialize, Default)]
struct RosterData {
    tree: Vec<TreeRow>,
    /// The people page's search and what it found.
    query: String,
    found: Vec<roster_status::PersonRow>,
    searched: bool,
    now: Counts,
    before: Option<Counts>,
    /// `now` and `before` in words.
    now_text: String,
    before_text: Option<String>,
    result: Option<String>,
    errors: Vec<String>,
}

/// The units page (`units`) or the people page with `data`.
fn roster_page(
    req: &HttpRequest,
    state: &AppState,
    session: &Session,
    units_file: bool,
    status: StatusCode,
    mut data: RosterData,
) -> Result<HttpResponse, AppError> {
    let a = strings::strings(lang_of(req));
    data.now_text = counts_text(a, data.now);
    data.before_text = data.before.map(|c| counts_text(a, c));
    let (title, name) = if units_file {
        (a.units, "pages/admin/units")
    } else {
        (a.people, "pages/admin/people")
    };
    render(state, status, name, Admin::new(req, session, title), data)
}

/// "{units} 个单位，{people} 人".
fn counts_text(a: &AdminStrings, c: Counts) -> String {
    strings::fill(
        a.roster_counts,
        &[
            ("units", &c.units.to_string()),
            ("people", &c.people.to_string()),
        ],
    )
}

/// The unit tree inside `scope`, drawn from its top.
fn tree_of(
    lang: Lang,
    all: &[units::Unit],
    inactive: &std::collections::HashSet<String>,
    scope: &crate::scope::Scope,
) -> Vec<TreeRow> {
    let mut rows = Vec::new();
    let inside: Vec<units::Unit> = scope.units(all).into_iter().cloned().collect();
    // Inside the subtree only its top has the top's parent.
    let top = scope
        .root()
        .and_then(|r| all.iter().find(|u| u.code == r))
        .and_then(|u| u.parent.as_deref());
    walk(strings::strings(lang), &inside, inactive, top, 0, &mut rows);
    rows
}

/// `GET /admin/units`: the unit tree.
pub async fn units_page(
    req: HttpRequest,
    state: aw::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let session = require(&req, &state, Role::Organizer).await?;
    let sight = session.sight();
    let scope = sight.clone();
    let (all, inactive, now) = blocking(&state, move |conn| {
        Ok((
            units::all(conn)?,
            db::inactive::of_kind(conn, db::inactive::UNIT)?,
            counts(conn, &scope)?,
        ))
    })
    .await?;
    let data = RosterData {
        tree: tree_of(lang_of(&req), &all, &inactive, &sight),
        now,
        ..RosterData::default()
    };
    roster_page(&req, &state, &session, true, StatusCode::OK, data)
}

/// `GET /admin/people`.
pub async fn people_page(
    req: HttpRequest,
    state: aw::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let session = require(&req, &state, Role::Organizer).await?;
    let query = super::query_param(&req, "q").unwrap_or_default();
    let q = query.clone();
    let sight = session.sight();
    let (now, found) = blocking(&state, move |conn| {
        Ok((
            counts(conn, &sight)?,
            roster_status::find(conn, &sight, &q)?,
        ))
    })
    .await?;
    let data = RosterData {
        now,
        searched: !query.trim().is_empty(),
        query,
        found,
        ..RosterData::default()
    };
    roster_page(&req, &state, &session, false, StatusCode::OK, data)
}

/// Reads a multipart upload: the form's text fields and the bytes of its `file` field.
/// Every field is bounded before it is buffered — the file at 8 MB, any other field at
/// 4 KB (the form sends only its CSRF token), and at most 8 of them: reading stops at the
/// first field past its limit, before the CSRF check would have a chance to refuse it.
async fn read_upload(
    mut payload: actix_multipart::Multipart,
) -> Result<(Vec<(String, String)>, Vec<u8>), AppError> {
    const MAX_FILE: usize = 8 * 1024 * 1024;
    const MAX_FIELD: usize = 4 * 1024;
    const MAX_FIELDS: usize = 8;
    let mut fields = Vec::new();
    let mut file = Vec::new();
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(|e| {
            AppError::BadRequest(crate::error::Msg::new(
                "无法读取上传的内容。",
                format!("cannot read the upload: {e}"),
            ))
        })?;
        let name = field.name().unwrap_or_default().to_owned();
        let is_file = name == "file";
        if !is_file && fields.len() >= MAX_FIELDS {
            return Err(AppError::TooLarge(crate::error::Msg::new(
                "上传的表单字段过多。",
                "the upload has too many form fields",
            )));
        }
        let max = if is_file { MAX_FILE } else { MAX_FIELD };
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| {
                AppError::BadRequest(crate::error::Msg::new(
                    "无法读取上传的内容。",
                    format!("cannot read the upload: {e}"),
                ))
            })?;
            if bytes.len() + chunk.len() > max {
                return Err(AppError::TooLarge(if is_file {
                    crate::error::Msg::new("文件超过 8 MB。", "the file is larger than 8 MB")
                } else {
                    crate::error::Msg::new(
                        "上传表单的某个字段超过 4 KB。",
                        "a form field of the upload is larger than 4 KB",
                    )
                }));
            }
            bytes.extend_from_slice(&chunk);
        }
        if is_file {
            file = bytes;
        } else {
            fields.push((name, String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
    Ok((fields, file))
}

/// What an import did, in the page's language (the audit log keeps the English).
fn import_result(lang: Lang, report: &import::ImportReport) -> String {
    let (added, changed, unchanged) = (report.added.len(), report.changed.len(), report.unchanged);
    match lang {
        Lang::Zh => format!("新增 {added}，修改 {changed}，未变 {unchanged}"),
        Lang::En => report.to_string(),
    }
}

/// `POST /admin/people` (or `/admin/units`): import a CSV; all or nothing.
pub async fn upload(
    req: HttpRequest,
    state: aw::Data<AppState>,
    payload: actix_multipart::Multipart,
) -> Result<HttpResponse, AppError> {
    let session = require(&req, &state, Role::Organizer).await?;
    let (fields, file) = read_upload(payload).await?;
    check_csrf(&session, &fields)?;
    let units_file = req.path().ends_with("/units");
    let user = session.user.clone();
    let sight = session.sight();
    let scope = sight.clone();
    let lang = lang_of(&req);
    let (before, outcome, now, all) = blocking(&state, move |conn| {
        let before = counts(conn, &scope)?;
        // A scoped organizer imports inside its subtree only: a row outside is a line error.
        let kind = if units_file {
            import::File::Units
        } else {
            import::File::People
        };
        let result = import::audited(conn, (kind, &file), &scope, &user, ToString::to_string);
        let outcome = match result {
            Ok(report) => Ok(import_result(lang, &report)),
            Err(ImportError::Rows(rows)) => Err(rows
                .iter()
                .map(|r| match lang {
                    Lang::Zh => format!("第 {} 行：{}", r.line, r.zh),
                    Lang::En => r.to_string(),
                })
                .collect::<Vec<_>>()),
            Err(ImportError::Db(e)) => return Err(e.into()),
        };
        let inactive = db::inactive::of_kind(conn, db::inactive::UNIT)?;
        Ok((
            before,
            outcome,
            counts(conn, &scope)?,
            (units::all(conn)?, inactive),
        ))
    })
    .await?;
    let tree = if units_file {
        tree_of(lang, &all.0, &all.1, &sight)
    } else {
        Vec::new()
    };
    let (status, result, errors) = match outcome {
        Ok(result) => (StatusCode::OK, Some(result), Vec::new()),
        Err(errors) => (StatusCode::UNPROCESSABLE_ENTITY, None, errors),
    };
    let data = RosterData {
        tree,
        now,
        before: Some(before),
        result,
        errors,
        ..RosterData::default()
    };
    roster_page(&req, &state, &session, units_file, status, data)
}

#[derive(Serialize)]
struct SurveyRow {
    file: String,
    ok: bool,
    summary: String,
}

/// The survey files an organizer may start a wave from: `*.toml` in the survey folder.
pub fn survey_files(state: &AppState) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(&state.config.survey_dir)
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "toml"))
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    std::fs::read_to_string(e.path())
                        .ok()
                        .map(|src| (name, src))
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// `GET /admin/surveys`: each survey file with its validation result.
pub async fn surveys_page(
    req: HttpRequest,
    state: aw::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let session = require(&req, &state, Role::Organizer).await?;
    let lang = lang_of(&req);
    let rows: Vec<SurveyRow> = survey_files(&state)
        .into_iter()
        .map(
            |(file, src)| match crate::domain::survey::Survey::parse(&file, &src) {
                Ok(s) => SurveyRow {
                    summary: super::survey_text::summary(lang, &s, &src),
                    file,
                    ok: true,
                },
                Err(errors) => SurveyRow {
                    summary: errors
                        .iter()
                        .map(|e| super::survey_text::error(lang, e))
                        .collect::<Vec<_>>()
                        .join("\n"),
                    file,
                    ok: false,
                },
            },
        )
        .collect();
    let admin = Admin::new(&req, &session, strings::strings(lang).surveys);
    render(&state, StatusCode::OK, "pages/admin/surveys", admin, rows)
}
