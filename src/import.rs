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

/// Which file an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum File {
    /// The unit tree: `code,name,kind,parent`.
    Units,
    /// The roster: `email,name,unit,category,role`.
    People,
}

impl File {
    /// The audit action of its import.
    pub fn action(self) -> &'static str {
        match self {
            Self::Units => "units.import",
            Self::People => "people.import",
        }
    }
}

/// Imports `csv` as a `file` inside `scope` ([`units_in`], [`people_in`]) and writes its
/// audit entry (by `actor`, `detail` made from what it did, in the scope) in the same
/// transaction: every import of the console, the API and the CLI.
pub fn audited(
    conn: &mut DbConn,
    (file, csv): (File, &[u8]),
    scope: &Scope,
    actor: &str,
    detail: impl FnOnce(&ImportReport) -> String,
) -> Result<ImportReport, ImportError> {
    db::write_tx(conn, |conn| {
        let report = match file {
            File::Units => units_in(conn, csv, scope)?,
            File::People => people_in(conn, csv, scope)?,
        };
        crate::auth::record_in(conn, actor, file.action(), &detail(&report), scope.root())?;
        Ok(report)
    })
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
        // A scoped import is checked against its subtree (and the unit above it, its
        // root's parent): a parent outside reads as unknown in the same pass as one that
        // does not exist at all.
        let before: Vec<Unit> = stored.values().cloned().collect();
        let inside_before = scope.codes(&before);
        let root_parent = scope
            .root()
            .and_then(|r| stored.get(r))
            .and_then(|u| u.parent.clone());
        let tree: BTreeMap<String, Option<String>> = stored
            .values()
            .filter(|u| inside_before.contains(u.code.as_str()))
            .map(|u| (u.code.clone(), u.parent.clone()))
            .chain(root_parent.map(|p| (p, None)))
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
            // A parent outside the scope reads as a parent that does not exist, so the
            // file learns nothing of the tree beyond the scope. Codes are the installation's
            // keys, though: a code used outside it is refused as taken.
            let outside: Vec<RowError> = rows
                .iter()
                .filter_map(|row| {
                    let old = stored.get(&row.code);
                    let code = &row.code;
                    if old.is_some() && !inside_before.contains(code.as_str()) {
                        Some(RowError::new(
                            row.line,
                            format!("code \"{code}\" is taken by a unit outside your scope; choose another"),
                            format!("代码“{code}”已被您的范围之外的单位使用，请另选代码"),
                        ))
                    } else if *code == *root && old.is_some_and(|o| o.parent != row.parent) {
                        Some(RowError::new(
                            row.line,
                            format!("unit \"{code}\" is the top of your scope ({root}): it stays under its parent"),
                            format!("单位“{code}”是您的范围（{root}）的顶层单位，不能改变其上级"),
                        ))
                    } else if !inside_after.contains(code.as_str()) {
                        let parent = row.parent.as_deref().unwrap_or("");
                        Some(RowError::new(
                            row.line,
                            format!("unit \"{code}\": unknown parent \"{parent}\""),
                            format!("单位“{code}”：上级“{parent}”不存在"),
                        ))
                    } else {
                        None
                    }
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
        // A scoped import knows only its subtree's units: one outside reads as unknown.
        let inside = scope.codes(&all);
        let codes: HashSet<String> = inside.iter().map(|c| (*c).to_owned()).collect();
        let rows = roster::parse_people(csv, &codes).map_err(ImportError::Rows)?;
        let stored: HashMap<String, Person> = people::all(conn)?
            .into_iter()
            .map(|p| (p.email.clone(), p))
            .collect();
        if let Scope::Subtree(root) = scope {
            // Addresses are the installation's keys: one on the roster of a unit outside
            // the scope is refused (not moved in).
            let outside: Vec<RowError> = rows
                .iter()
                .filter(|row| {
                    stored
                        .get(&row.email)
                        .is_some_and(|p| !inside.contains(p.unit.as_str()))
                })
                .map(|row| {
                    let email = &row.email;
                    RowError::new(
                        row.line,
                        format!(
                            "\"{email}\" is on the roster of a unit outside your scope ({root})"
                        ),
                        format!("邮箱“{email}”已在您的范围（{root}）之外的单位名册中"),
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
