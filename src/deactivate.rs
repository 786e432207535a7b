//! Taking units and people out of use (停用) and back (启用). Nothing is deleted: old waves keep
//! their frozen frames, re-imports update them as before, and they come back with one
//! command. New waves leave them out: a unit out of use — with everything below it — is
//! not evaluated, and a person out of use is not invited.

use std::collections::HashSet;

use chrono::Utc;

use crate::db::inactive::{self, PERSON, UNIT};
use crate::db::people::{self, Person};
use crate::db::units::{self, Unit};
use crate::db::{self, DbConn};
use crate::scope::Scope;

/// Why a unit or person could not be taken out of use or back.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    /// No such unit or person (asked installation-wide).
    #[error("{0}")]
    NotFound(String),
    /// No such unit or person inside the caller's scope: outside reads as not existing.
    #[error("{0}")]
    Outside(String),
    /// The database failed.
    #[error("database error: {0}")]
    Db(#[from] diesel::result::Error),
}

/// Takes a unit and its subtree out of use (`active = false`) or back in, for `actor`
/// acting in `scope`; returns how many units changed. The scope check, the change and its
/// audit entry happen in one transaction under the roster lock
/// ([`units::hold_roster`]): an import moving the unit elsewhere cannot come in between.
pub fn set_unit(
    conn: &mut DbConn,
    actor: &str,
    scope: &Scope,
    code: &str,
    active: bool,
) -> Result<usize, StatusError> {
    let code = code.trim();
    db::write_tx(conn, |conn| {
        units::hold_roster(conn)?;
        let all = units::all(conn)?;
        if scope.root().is_some() && !scope.contains(&all, code) {
            return Err(StatusError::Outside(format!(
                "unit \"{code}\" does not exist (inside your scope)"
            )));
        }
        if !all.iter().any(|u| u.code == code) {
            return Err(StatusError::NotFound(format!(
                "unit \"{code}\" does not exist (see `sanping units list`)"
            )));
        }
        let codes: Vec<String> = Scope::of(Some(code))
            .units(&all)
            .into_iter()
            .map(|u| u.code.clone())
            .collect();
        let n = if active {
            inactive::clear(conn, UNIT, &codes)?
        } else {
            inactive::set(conn, UNIT, &codes, Utc::now().naive_utc())?
        };
        crate::auth::record_in(
            conn,
            actor,
            if active {
                "units.activate"
            } else {
                "units.deactivate"
            },
            &format!("{code} and the units below it: {n} changed"),
            Some(code),
        )?;
        Ok(n)
    })
}

/// Takes a person out of use or back in, for `actor` acting in `scope` (the person's unit
/// must lie inside it); returns whether anything changed. One transaction with its audit
/// entry under the roster lock, as [`set_unit`].
pub fn set_person(
    conn: &mut DbConn,
    actor: &str,
    scope: &Scope,
    email: &str,
    active: bool,
) -> Result<bool, StatusError> {
    let email = email.trim().to_lowercase();
    db::write_tx(conn, |conn| {
        units::hold_roster(conn)?;
        let person = people::find(conn, &email)?;
        let tree = match scope {
            Scope::All => Vec::new(),
            Scope::Subtree(_) => units::all(conn)?,
        };
        if scope.root().is_some()
            && !person
                .as_ref()
                .is_some_and(|p| scope.contains(&tree, &p.unit))
        {
            return Err(StatusError::Outside(format!(
                "\"{email}\" is not in the roster (inside your scope)"
            )));
        }
        let Some(person) = person else {
            return Err(StatusError::NotFound(format!(
                "\"{email}\" is not in the roster (see `sanping people list`)"
            )));
        };
        let keys = [email.clone()];
        let changed = if active {
            inactive::clear(conn, PERSON, &keys)?
        } else {
            inactive::set(conn, PERSON, &keys, Utc::now().naive_utc())?
        } == 1;
        crate::auth::record_in(
            conn,
            actor,
            if active {
                "people.activate"
            } else {
                "people.deactivate"
            },
            &format!("{email}: {}", if changed { "changed" } else { "unchanged" }),
            Some(&person.unit),
        )?;
        Ok(changed)
    })
}

/// The units in use, by code.
pub fn active_units(conn: &mut DbConn) -> diesel::QueryResult<Vec<Unit>> {
    let out: HashSet<String> = inactive::of_kind(conn, UNIT)?;
    Ok(units::all(conn)?
        .into_iter()
        .filter(|u| !out.contains(&u.code))
        .collect())
}

/// The people in use, by address (those of units out of use are left out by the units).
pub fn active_people(conn: &mut DbConn) -> diesel::QueryResult<Vec<Person>> {
    let out: HashSet<String> = inactive::of_kind(conn, PERSON)?;
    Ok(people::all(conn)?
        .into_iter()
        .filter(|p| !out.contains(&p.email))
        .collect())
}

/// The people in use a wave over `targets` can invite, by address: with a `scope`, those of
/// the target units and the committee members of the Party committee that runs it
/// ([`crate::scope::running_committee`]: its subtree, wherever they belong inside it; read
/// through [`people::of_units_or_committee`]); without, everyone, as [`active_people`].
/// `units` is the whole tree.
pub fn active_people_for(
    conn: &mut DbConn,
    scope: Option<&str>,
    units: &[Unit],
    targets: &[Unit],
) -> diesel::QueryResult<Vec<Person>> {
    if scope.is_none() {
        return active_people(conn);
    }
    let out: HashSet<String> = inactive::of_kind(conn, PERSON)?;
    let codes: Vec<&str> = targets.iter().map(|u| u.code.as_str()).collect();
    let target: HashSet<&str> = codes.iter().copied().collect();
    let committee = crate::scope::running_committee(units, scope);
    let committee: Option<HashSet<&str>> = committee.root().map(|_| {
        committee
            .units(units)
            .iter()
            .map(|u| u.code.as_str())
            .collect()
    });
    Ok(people::of_units_or_committee(conn, &codes)?
        .into_iter()
        .filter(|p| !out.contains(&p.email))
        .filter(|p| {
            target.contains(p.unit.as_str())
                || committee
                    .as_ref()
                    .is_none_or(|inside| inside.contains(p.unit.as_str()))
        })
        .collect())
}
