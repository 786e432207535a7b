//! Taking units and people out of use (停用) from the console, and finding people on the
//! roster page. The library does the change ([`crate::deactivate`]); every change is audited.

use actix_web::{HttpRequest, HttpResponse, web as aw};
use serde::Serialize;

use super::{blocking, see_other};
use crate::app::AppState;
use crate::auth::Role;
use crate::db::{self, DbConn};
use crate::deactivate::{self, StatusError};
use crate::error::AppError;
use crate::scope::Scope;
use crate::web::session::{check_csrf, require};

/// A person found by the roster page's search.
#[derive(Debug, Clone, Serialize)]
pub struct PersonRow {
    email: String,
    name: String,
    unit: String,
    category: String,
    roles: String,
    active: bool,
}

/// The most people a search shows.
const MAX_FOUND: usize = 50;

/// People inside `scope` whose name, address or unit code contains `query` (case-insensitive), at most
/// [`MAX_FOUND`]; none for an empty query.
pub fn find(conn: &mut DbConn, scope: &Scope, query: &str) -> Result<Vec<PersonRow>, AppError> {
    let q = query.trim().to_lowercase();
    if q.is_empty() {
        return Ok(Vec::new());
    }
    let out = db::inactive::of_kind(conn, db::inactive::PERSON)?;
    let units = db::units::all(conn)?;
    let inside = scope.codes(&units);
    Ok(db::people::all(conn)?
        .into_iter()
        .filter(|p| {
            p.email.contains(&q) || p.name.to_lowercase().contains(&q) || p.unit.to_lowercase() == q
        })
        .filter(|p| inside.contains(p.unit.as_str()))
        .take(MAX_FOUND)
        .map(|p| PersonRow {
            active: !out.contains(&p.email),
            email: p.email,
            name: p.name,
            unit: p.unit,
            category: p.category,
            roles: p.roles,
        })
        .collect())
}

fn status_error(e: StatusError) -> AppError {
    match e {
        StatusError::NotFound(m) => {
            AppError::Unprocessable(crate::error::Msg::new("名册中没有该单位或人员。", m))
        }
        // Outside a scoped account's subtree, or unknown to it: as if it did not exist.
        StatusError::Outside(_) => AppError::NotFound,
        StatusError::Db(e) => e.into(),
    }
}

fn wants_active(fields: &[(String, String)]) -> Result<bool, AppError> {
    match crate::web::form_field(fields, "active").as_str() {
        "1" => Ok(true),
        "0" => Ok(false),
        other => Err(AppError::BadRequest(crate::error::Msg::new(
            format!("字段 active 须为 1 或 0，而不是“{other}”。"),
            format!("the field active must be 1 or 0, not \"{other}\""),
        ))),
    }
}

/// `POST /admin/units/{code}/status` (`active` = 1 or 0): the unit and its subtree.
pub async fn unit(
    req: HttpRequest,
    state: aw::Data<AppState>,
    code: aw::Path<String>,
    body: aw::Bytes,
) -> Result<HttpResponse, AppError> {
    let session = require(&req, &state, Role::Organizer).await?;
    let fields = crate::web::form(&body)?;
    check_csrf(&session, &fields)?;
    let active = wants_active(&fields)?;
    let code = code.into_inner();
    let c = code.clone();
    let user = session.user.clone();
    let sight = session.sight();
    blocking(&state, move |conn| {
        deactivate::set_unit(conn, &user, &sight, &c, active).map_err(status_error)
    })
    .await?;
    Ok(see_other(&format!("/admin/units#u-{code}")))
}

/// `POST /admin/people/status` (`email`, `active` = 1 or 0).
pub async fn person(
    req: HttpRequest,
    state: aw::Data<AppState>,
    body: aw::Bytes,
) -> Result<HttpResponse, AppError> {
    let session = require(&req, &state, Role::Organizer).await?;
    let fields = crate::web::form(&body)?;
    check_csrf(&session, &fields)?;
    let active = wants_active(&fields)?;
    let email = crate::web::form_field(&fields, "email")
        .trim()
        .to_lowercase();
    let e = email.clone();
    let user = session.user.clone();
    let sight = session.sight();
    blocking(&state, move |conn| {
        deactivate::set_person(conn, &user, &sight, &e, active).map_err(status_error)
    })
    .await?;
    let q: String =
        percent_encoding::utf8_percent_encode(&email, percent_encoding::NON_ALPHANUMERIC).collect();
    Ok(see_other(&format!("/admin/people?q={q}")))
}
