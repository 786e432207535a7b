//! Importing the unit tree and the roster from CSV: all or nothing, in one transaction.
//! Re-importing an updated file updates by key (`code`, `email`) and leaves stored rows that
//! the file does not mention untouched.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use crate::db::people::{self, Person};
use crate::db::units::{self, Unit};
use crate::db::{self, DbConn};
use crate::domain::roster::{self, RowError};
use crate::scope::Scope;

/// Why an import wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file has bad rows: every one of them, with its line.
    #[error("{} bad row(s); nothing was imported", .0.len())]
    Rows(Vec<RowError>),
    /// The database failed.
    #[error("database error: {0}")]
    Db(#[from] diesel::result::Error),
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// Keys of the rows added.
    pub added: Vec<String>,
    /// Keys of the rows whose fields changed.
    pub changed: Vec<String>,
    /// How many stored rows were left as they were (the file matched them or did not
    /// mention them).
    pub unchanged: usize,
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} added, {} changed, {} unchanged",
            self.added.len(),
            self.changed.len(),
            self.unchanged
        )
    }
}

/// Imports a unit file (`code,name,kind,parent`).
pub fn units(conn: &mut DbConn, csv: &[u8]) -> Result<ImportReport, ImportError> {
    units_in(conn, csv, &Scope::All)
}

/// [`units`] limited to `scope`: every row must be a unit inside it, as stored and after the
/// import (no unit taken in from outside, none moved out, the scope's own unit kept under
/// its parent); a row outside is a line error and nothing is imported. The tree is read,
/// checked and written under the roster lock ([`units::hold_roster`]), so another process's
/// import or 停用 cannot come in between. A caller that audits wraps this in its own
/// transaction with the audit entry.
pub fn units_in(conn: &mut DbConn, csv: &[u8], scope: &Scope) -> Result<ImportReport, ImportError> {
    db::write_tx(conn, |conn| {
        units::hold_roster(conn)?;
        let stored: HashMap<String, Unit> = units::all(conn)?
            .into_iter()
            .map(|u| (u.code.clone(), u))
            .collect();
        let tree: BTreeMap<String, Option<String>> = stored
            .values()
            .map(|u| (u.code.clone(), u.parent.clone()))
            .collect();
        let rows = roster::parse_units(csv, &tree).map_err(ImportError::Rows)?;
        let mut after: HashMap<String, Unit> = stored.clone();
        for row in &rows {
            after.insert(
                row.code.clone(),
                Unit {
                    code: row.code.clone(),
                    name: row.name.clone(),
                    kind: row.kind.as_str().to_owned(),
                    parent: row.parent.clone(),
                },
            );
        }
        let after: Vec<Unit> = after.into_values().collect();
        let inside_after = scope.codes(&after);
        if let Scope::Subtree(root) = scope {
            let before: Vec<Unit> = stored.values().cloned().collect();
            let inside_before = scope.codes(&before);
            let outside: Vec<RowError> = rows
                .iter()
                .filter(|row| {
                    let old = stored.get(&row.code);
                    (old.is_some() && !inside_before.contains(row.code.as_str()))
                        || !inside_after.contains(row.code.as_str())
                        || (row.code == *root && old.is_some_and(|o| o.parent != row.parent))
                })
                .map(|row| {
                    RowError::new(
                        row.line,
                        format!(
                            "code \"{}\": the unit must lie inside your scope ({root}), under a parent inside it",
                            row.code
                        ),
                        format!(
                            "代码“{}”：单位须在您的范围（{root}）之内，上级单位也须在其中",
                            row.code
                        ),
                    )
                })
                .collect();
            if !outside.is_empty() {
                return Err(ImportError::Rows(outside));
            }
        }
        let mut report = ImportReport::default();
        for row in rows {
            let unit = Unit {
                code: row.code,
                name: row.name,
                kind: row.kind.as_str().to_owned(),
                parent: row.parent,
            };
            match stored.get(&unit.code) {
                None => {
                    units::insert(conn, &unit)?;
                    report.added.push(unit.code);
                }
                Some(old) if *old == unit => {}
                Some(_) => {
                    units::update(conn, &unit)?;
                    report.changed.push(unit.code);
                }
            }
        }
        // Counted inside the scope only: the whole tree's size is no business of a scoped import.
        let inside = stored
            .keys()
            .filter(|code| inside_after.contains(code.as_str()))
            .count();
        report.unchanged = inside - report.changed.len();
        Ok(report)
    })
}

/// Imports a roster file (`email,name,unit,category,role`).
pub fn people(conn: &mut DbConn, csv: &[u8]) -> Result<ImportReport, ImportError> {
    people_in(conn, csv, &Scope::All)
}

/// [`people`] limited to `scope`: every row's unit must lie inside it, and an address already
/// on the roster must belong to a unit inside it (a person is not moved in from elsewhere);
/// a row outside is a line error and nothing is imported. Under the roster lock, as
/// [`units_in`].
pub fn people_in(
    conn: &mut DbConn,
    csv: &[u8],
    scope: &Scope,
) -> Result<ImportReport, ImportError> {
    db::write_tx(conn, |conn| {
        units::hold_roster(conn)?;
        let all = units::all(conn)?;
        let codes: HashSet<String> = all.iter().map(|u| u.code.clone()).collect();
        let rows = roster::parse_people(csv, &codes).map_err(ImportError::Rows)?;
        let stored: HashMap<String, Person> = people::all(conn)?
            .into_iter()
            .map(|p| (p.email.clone(), p))
            .collect();
        let inside = scope.codes(&all);
        if let Scope::Subtree(root) = scope {
            let outside: Vec<RowError> = rows
                .iter()
                .filter(|row| {
                    !inside.contains(row.unit.as_str())
                        || stored
                            .get(&row.email)
                            .is_some_and(|p| !inside.contains(p.unit.as_str()))
                })
                .map(|row| {
                    RowError::new(
                        row.line,
                        format!(
                            "email \"{}\", unit \"{}\": the person must belong to a unit inside your scope ({root})",
                            row.email, row.unit
                        ),
                        format!(
                            "邮箱“{}”，单位“{}”：人员须属于您的范围（{root}）之内的单位",
                            row.email, row.unit
                        ),
                    )
                })
                .collect();
            if !outside.is_empty() {
                return Err(ImportError::Rows(outside));
            }
        }
        let mut report = ImportReport::default();
        let mut added = Vec::new();
        for row in rows {
            let person = Person {
                email: row.email,
                name: row.name,
                unit: row.unit,
                category: row.category,
                roles: roster::roles_to_string(&row.roles),
            };
            match stored.get(&person.email) {
                None => {
                    report.added.push(person.email.clone());
                    added.push(person);
                }
                Some(old) if *old == person => {}
                Some(_) => {
                    people::update(conn, &person)?;
                    report.changed.push(person.email);
                }
            }
        }
        people::insert(conn, &added)?;
        let unchanged = stored
            .values()
            .filter(|p| inside.contains(p.unit.as_str()))
            .count();
        report.unchanged = unchanged - report.changed.len();
        Ok(report)
    })
}
