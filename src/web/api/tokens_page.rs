//! The console's page of the logged-in account's API tokens, `/admin/tokens`: the list,
//! a form that makes one (shown once, on the page that answers the form) and revoking.
//! Any account but a secretary's (whose role the API does not serve) has the page.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web as aw};
use serde::Serialize;

use crate::api_token::{self, TokenError};
use crate::app::AppState;
use crate::auth::Role;
use crate::db::api_tokens;
use crate::domain::Lang;
use crate::error::AppError;
use crate::web::admin::{Admin, blocking, render, see_other};
use crate::web::respond::local_time;
use crate::web::session::{Session, check_csrf, require};

/// One token in the list.
#[derive(Serialize)]
struct Row {
    id: String,
    label: String,
    created: String,
    last_used: String,
    per_minute: i32,
    revoked: Option<String>,
}

/// A token just made: the only time its secret is shown.
#[derive(Serialize)]
struct Created {
    id: String,
    secret: String,
}

/// The page's words.
#[derive(Serialize)]
struct Words {
    title: &'static str,
    /// Trusted markup (`<code>`), written here: the template does not escape it.
    intro: &'static str,
    new_token: &'static str,
    copy_now: &'static str,
    label: &'static str,
    per_minute: &'static str,
    per_minute_short: &'static str,
    create: &'static str,
    created: &'static str,
    last_used: &'static str,
    revoked: &'static str,
    revoke: &'static str,
}

fn words(lang: Lang) -> Words {
    if lang == Lang::En {
        Words {
            title: "API tokens",
            intro: "A token acts as your account on <code>/api/v1</code>, with its role and scope; only its hash is stored. See <code>docs/api.md</code>.",
            new_token: "New token",
            copy_now: "Copy it now: it is shown only this once.",
            label: "Label",
            per_minute: "Requests per minute",
            per_minute_short: "Per minute",
            create: "Create a token",
            created: "Created",
            last_used: "Last used",
            revoked: "revoked",
            revoke: "Revoke",
        }
    } else {
        Words {
            title: "API 令牌",
            intro: "令牌代表您的账号调用 <code>/api/v1</code>，权限与范围同账号；只保存其哈希。详见 <code>docs/api.md</code>。",
            new_token: "新令牌",
            copy_now: "请立即复制保存，此令牌只显示这一次。",
            label: "用途",
            per_minute: "每分钟请求上限",
            per_minute_short: "每分钟上限",
            create: "生成令牌",
            created: "创建",
            last_used: "最近使用",
            revoked: "已撤销",
            revoke: "撤销",
        }
    }
}

/// The page's data.
#[derive(Serialize)]
struct TokensPage {
    w: Words,
    /// The account and its role, as the page names them.
    account: String,
    role: String,
    tokens: Vec<Row>,
    created: Option<Created>,
    default_per_minute: i32,
}

fn token_error(e: TokenError) -> AppError {
    match e {
        TokenError::NotFound(_) => AppError::NotFound,
        TokenError::Invalid(m) => AppError::Unprocessable(m),
        TokenError::Db(e) => e.into(),
    }
}

async fn page(
    req: &HttpRequest,
    state: &aw::Data<AppState>,
    session: &Session,
    status: StatusCode,
    created: Option<Created>,
) -> Result<HttpResponse, AppError> {
    let user = session.user.clone();
    let rows = blocking(state, move |conn| Ok(api_tokens::of_user(conn, &user)?)).await?;
    let tokens = rows
        .into_iter()
        .map(|t| Row {
            id: t.id,
            label: t.label,
            created: local_time(t.created_at),
            last_used: t.last_used_at.map_or_else(|| "—".to_owned(), local_time),
            per_minute: t.per_minute,
            revoked: t.revoked_at.map(local_time),
        })
        .collect();
    let lang = crate::web::home::lang_of(req);
    let w = words(lang);
    let admin = Admin::new(req, session, w.title);
    render(
        state,
        status,
        "pages/admin/tokens",
        admin,
        TokensPage {
            w,
            account: session.user.clone(),
            role: crate::web::admin::accounts_page::role_label(session.role.as_str(), lang),
            tokens,
            created,
            default_per_minute: api_token::DEFAULT_PER_MINUTE,
        },
    )
}

/// `GET /admin/tokens`.
pub async fn show(req: HttpRequest, state: aw::Data<AppState>) -> Result<HttpResponse, AppError> {
    let session = require(&req, &state, Role::Viewer).await?;
    page(&req, &state, &session, StatusCode::OK, None).await
}

/// `POST /admin/tokens`: makes a token for the logged-in account, audited as
/// `token.create`; the answer shows it once.
pub async fn create(
    req: HttpRequest,
    state: aw::Data<AppState>,
    body: aw::Bytes,
) -> Result<HttpResponse, AppError> {
    let session = require(&req, &state, Role::Viewer).await?;
    let fields = crate::web::form(&body)?;
    check_csrf(&session, &fields)?;
    let label = crate::web::form_field(&fields, "label");
    let per_minute = match crate::web::form_field(&fields, "per_minute").as_str() {
        "" => api_token::DEFAULT_PER_MINUTE,
        s => s.parse().map_err(|_| {
            AppError::Unprocessable(crate::error::Msg::new(
                "每分钟请求上限须为整数。",
                "the rate limit must be a whole number",
            ))
        })?,
    };
    let user = session.user.clone();
    let (row, secret) = blocking(&state, move |conn| {
        api_token::create(conn, &user, &user, &label, per_minute).map_err(token_error)
    })
    .await?;
    let created = Created { id: row.id, secret };
    page(&req, &state, &session, StatusCode::OK, Some(created)).await
}

/// `POST /admin/tokens/{id}/revoke`: revokes one of the account's own tokens, audited as
/// `token.revoke`; another account's is 404.
pub async fn revoke(
    req: HttpRequest,
    state: aw::Data<AppState>,
    id: aw::Path<String>,
    body: aw::Bytes,
) -> Result<HttpResponse, AppError> {
    let session = require(&req, &state, Role::Viewer).await?;
    let fields = crate::web::form(&body)?;
    check_csrf(&session, &fields)?;
    let user = session.user.clone();
    let id = id.into_inner();
    blocking(&state, move |conn| {
        api_token::revoke(conn, &user, &id, Some(&user)).map_err(token_error)
    })
    .await?;
    Ok(see_other("/admin/tokens"))
}
