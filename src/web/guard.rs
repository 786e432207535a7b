//! What a console account may see: the one place that turns a session and a wave id, a unit
//! code or a list into what lies inside the account's scope ([`crate::scope::Scope`]), and
//! answers 404 for anything outside it, so that nothing about other scopes leaks (not even
//! that a wave or unit exists).
//!
//! A wave lies inside an account's scope when the account's subtree covers the wave's own
//! scope (`Scope::covers`): an installation-wide wave only for installation-wide accounts.
//! A wave's comments (意见建议) and reasons are read only by accounts whose scope lies inside
//! the wave's (see [`crate::report::words_readable`]): a provincial account sees a
//! university's roll-ups but not its people's words.

use crate::auth::Role;
use crate::db::DbConn;
use crate::db::units::{self, Unit};
use crate::db::waves::{self as db_waves, WaveHead};
use crate::error::AppError;
use crate::scope::Scope;
use crate::web::session::Session;

impl Session {
    /// The account's subtree (the whole tree when it has no scope).
    pub fn sight(&self) -> Scope {
        Scope::of(self.scope.as_deref())
    }
}

/// Wave `id` if it lies inside `scope`; 404 when it does not exist or lies outside.
pub fn wave_in(conn: &mut DbConn, scope: &Scope, id: i32) -> Result<WaveHead, AppError> {
    let w = db_waves::find_head(conn, id)?.ok_or(AppError::NotFound)?;
    if *scope == Scope::All || scope.covers(&units::all(conn)?, w.scope.as_deref()) {
        Ok(w)
    } else {
        Err(AppError::NotFound)
    }
}

/// Wave `id` as `session` may see it, or 404. A secretary's pages (people results of its
/// branch) check their own, narrower sight; for them only existence is checked here.
pub fn wave(conn: &mut DbConn, session: &Session, id: i32) -> Result<WaveHead, AppError> {
    if session.role == Role::Secretary {
        return db_waves::find_head(conn, id)?.ok_or(AppError::NotFound);
    }
    wave_in(conn, &session.sight(), id)
}

/// [`wave`], and whether `session` may read the wave's words (comments, reasons:
/// [`crate::report::words_readable`]), reading the unit tree at most once for both — and not
/// at all for an installation-wide account on a wave of the whole tree.
pub fn wave_and_words(
    conn: &mut DbConn,
    session: &Session,
    id: i32,
) -> Result<(WaveHead, bool), AppError> {
    let w = db_waves::find_head(conn, id)?.ok_or(AppError::NotFound)?;
    let sight = session.sight();
    let checks_scope = session.role != Role::Secretary && sight != Scope::All;
    let units = if checks_scope || w.scope.is_some() {
        units::all(conn)?
    } else {
        Vec::new()
    };
    if checks_scope && !sight.covers(&units, w.scope.as_deref()) {
        return Err(AppError::NotFound);
    }
    let words = w.scope.is_none() || Scope::of(w.scope.as_deref()).includes(&units, &sight);
    Ok((w, words))
}

/// [`wave`] off the async threads: the first thing every wave page does.
pub async fn wave_async(
    state: &actix_web::web::Data<crate::app::AppState>,
    session: &Session,
    id: i32,
) -> Result<WaveHead, AppError> {
    let session = session.clone();
    super::admin::blocking(state, move |conn| wave(conn, &session, id)).await
}

/// The units inside `scope`, in code order.
pub fn units_in(conn: &mut DbConn, scope: &Scope) -> Result<Vec<Unit>, AppError> {
    let all = units::all(conn)?;
    Ok(scope.units(&all).into_iter().cloned().collect())
}

/// The accounts inside `scope` (their own scope lies inside it), by name.
pub fn accounts_in(
    conn: &mut DbConn,
    scope: &Scope,
) -> Result<Vec<crate::db::accounts::AccountRow>, AppError> {
    let units = units::all(conn)?;
    accounts_within(conn, scope, &units)
}

/// [`accounts_in`] with the unit tree already read.
fn accounts_within(
    conn: &mut DbConn,
    scope: &Scope,
    units: &[Unit],
) -> Result<Vec<crate::db::accounts::AccountRow>, AppError> {
    let covers = scope.covering(units);
    Ok(crate::db::accounts::accounts(conn)?
        .into_iter()
        .filter(|a| covers(a.scope.as_deref()))
        .collect())
}

/// Why a wave with `scope` and key `holders` does not fit inside `sight` (the creating or
/// editing account's scope), in both languages; `None` when it fits. A wave lies inside
/// the account's subtree, and its key holders are accounts inside it.
pub fn wave_misfit(
    conn: &mut DbConn,
    sight: &Scope,
    scope: Option<&str>,
    holders: &[String],
) -> Result<Option<crate::error::Msg>, AppError> {
    if *sight == Scope::All {
        return Ok(None);
    }
    let units = units::all(conn)?;
    let root = sight.root().unwrap_or_default();
    if !sight.covers(&units, scope) {
        return Ok(Some(crate::error::Msg::new(
            format!("测评范围须在您的范围（{root}）之内。"),
            format!("The wave's scope must lie inside yours ({root})."),
        )));
    }
    let inside: Vec<String> = accounts_within(conn, sight, &units)?
        .into_iter()
        .map(|a| a.username)
        .collect();
    if let Some(h) = holders.iter().find(|h| !inside.contains(h)) {
        return Ok(Some(crate::error::Msg::new(
            format!("没有账号 “{h}”（在您的范围之内）。"),
            format!("There is no account \"{h}\" inside your scope."),
        )));
    }
    Ok(None)
}
