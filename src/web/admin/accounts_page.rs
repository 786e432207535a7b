//! The accounts page: an organizer lists the accounts inside its scope and adds one, with a
//! role at most its own and a scope inside its own (`auth::check_grant`, the same rule as
//! `sanping admin add --as NAME`, checked where the account is written). Adding an existing name inside the scope sets its password,
//! role and scope, as the command does; every addition is audited (`admin.add`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web as aw};
use serde::Serialize;

use super::{Admin, blocking, render, see_other};
use crate::app::AppState;
use crate::auth::{self, Role};
use crate::domain::Lang;
use crate::error::AppError;
use crate::web::home::lang_of;
use crate::web::session::{Session, check_csrf, require};

/// The page's words (kept here, not in the shared strings, as the page is small).
#[derive(Serialize)]
struct Words {
    title: &'static str,
    name: &'static str,
    role: &'static str,
    scope: &'static str,
    whole: &'static str,
    disabled: &'static str,
    add: &'static str,
    password: &'static str,
    hint: &'static str,
}

fn words(lang: Lang) -> Words {
    if lang == Lang::En {
        Words {
            title: "Accounts",
            name: "Username",
            role: "Role",
            scope: "Scope",
            whole: "the whole tree",
            disabled: "disabled",
            add: "Add an account",
            password: "Password (8+ characters)",
            hint: "A new account's role is at most yours and its scope lies inside yours; an existing name inside your scope gets the new password, role and scope, and its sessions end.",
        }
    } else {
        Words {
            title: "账号",
            name: "用户名",
            role: "角色",
            scope: "范围",
            whole: "整个单位树",
            disabled: "已停用",
            add: "添加账号",
            password: "密码（至少 8 位）",
            hint: "新账号的角色不高于您的角色，范围在您的范围之内；若用户名已存在且在您的范围内，则设置其新密码、角色和范围，并结束其会话。",
        }
    }
}

/// A role as the console names it.
pub(crate) fn role_label(role: &str, lang: Lang) -> String {
    let (zh, en) = match Role::parse(role) {
        Some(Role::Organizer) => ("组织工作人员", "Organizer"),
        Some(Role::Committee) => ("考评组成员", "Committee member"),
        Some(Role::Viewer) => ("只读查看", "Viewer"),
        Some(Role::Secretary) => ("支部书记", "Branch secretary"),
        None => return role.to_owned(),
    };
    if lang == Lang::En { en } else { zh }.to_owned()
}

#[derive(Serialize)]
struct Row {
    name: String,
    role: String,
    scope: String,
    disabled: bool,
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
}

#[derive(Serialize)]
struct AccountsData {
    w: Words,
    rows: Vec<Row>,
    roles: Vec<Choice>,
    units: Vec<Choice>,
    /// Whether the account may grant the whole tree.
    whole: bool,
    error: Option<String>,
    added: Option<String>,
}

/// Why the form was refused, in both languages: the page shows the one it speaks.
type Refusal = Option<crate::error::Msg>;

async fn page(
    req: &HttpRequest,
    state: &aw::Data<AppState>,
    session: &Session,
    status: StatusCode,
    error: Refusal,
) -> Result<HttpResponse, AppError> {
    let sight = session.sight();
    let (accounts, units) = blocking(state, move |conn| {
        Ok((
            crate::web::guard::accounts_in(conn, &sight)?,
            crate::web::guard::units_in(conn, &sight)?,
        ))
    })
    .await?;
    let lang = lang_of(req);
    let w = words(lang);
    let roles = [
        Role::Organizer,
        Role::Committee,
        Role::Viewer,
        Role::Secretary,
    ]
    .into_iter()
    .filter(|r| *r <= session.role)
    .map(|r| Choice {
        value: r.as_str().to_owned(),
        label: role_label(r.as_str(), lang),
    })
    .collect();
    let data = AccountsData {
        rows: accounts
            .into_iter()
            .map(|a| Row {
                name: a.username,
                role: role_label(&a.role, lang),
                scope: a.scope.unwrap_or_else(|| w.whole.to_owned()),
                disabled: a.disabled,
            })
            .collect(),
        roles,
        units: units
            .into_iter()
            .map(|u| Choice {
                label: format!("{} {}", u.code, u.name),
                value: u.code,
            })
            .collect(),
        whole: session.scope.is_none(),
        error: error.map(|m| m.get(lang).to_owned()),
        added: crate::web::query_param(req, "added"),
        w,
    };
    let admin = Admin::new(req, session, data.w.title);
    render(state, status, "pages/admin/accounts", admin, data)
}

/// `GET /admin/accounts`: the accounts inside the organizer's scope, and the form to add one.
pub async fn index(req: HttpRequest, state: aw::Data<AppState>) -> Result<HttpResponse, AppError> {
    let session = require(&req, &state, Role::Organizer).await?;
    page(&req, &state, &session, StatusCode::OK, None).await
}

/// `POST /admin/accounts`: adds an account inside the organizer's scope (or refuses, 422).
pub async fn add(
    req: HttpRequest,
    state: aw::Data<AppState>,
    body: aw::Bytes,
) -> Result<HttpResponse, AppError> {
    let session = require(&req, &state, Role::Organizer).await?;
    let fields = crate::web::form(&body)?;
    check_csrf(&session, &fields)?;
    let get = |k: &str| crate::web::form_field(&fields, k);
    let (name, scope) = (get("username"), get("scope"));
    // The password exactly as typed.
    let password = fields
        .iter()
        .find(|(n, _)| n == "password")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let Some(role) = Role::parse(&get("role")) else {
        return page(
            &req,
            &state,
            &session,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(crate::error::Msg::new(
                format!("未知的角色 “{}”。", get("role")),
                format!("Unknown role \"{}\".", get("role")),
            )),
        )
        .await;
    };
    let (granter, within, actor) = (session.role, session.sight(), session.user.clone());
    let n = name.clone();
    let refused = blocking(&state, move |conn| {
        let scope = Some(scope.as_str()).filter(|s| !s.is_empty());
        match auth::add_scoped_user_as(
            conn,
            &actor,
            Some((granter, &within)),
            &n,
            role,
            scope,
            &password,
        ) {
            Ok(()) => Ok(None),
            Err(auth::AddError::Refused(msg)) => Ok(Some(msg)),
            Err(auth::AddError::Failed(e)) => Err(AppError::Internal(format!("{e:#}"))),
        }
    })
    .await?;
    match refused {
        None => {
            let q: String =
                percent_encoding::utf8_percent_encode(&name, percent_encoding::NON_ALPHANUMERIC)
                    .collect();
            Ok(see_other(&format!("/admin/accounts?added={q}")))
        }
        Some(msg) => {
            page(
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
