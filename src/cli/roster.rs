//! `sanping units …` and `sanping people …`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::app::AppState;
use crate::db::{DbConn, people, units};
use crate::domain::roster::UnitKind;
use crate::import::{self, ImportError, ImportReport};

/// Unit tree commands.
#[derive(Debug, clap::Subcommand)]
pub enum UnitsCommand {
    /// Import or update units from a CSV file with columns code,name,kind,parent.
    Import {
        /// The CSV file (UTF-8, with or without BOM).
        file: PathBuf,
        /// Only units inside this unit's subtree: a row outside it is a line error and
        /// nothing is imported (default: the `--as` account's scope, else the whole tree).
        #[arg(long)]
        scope: Option<String>,
    },
    /// Print the unit tree (units out of use marked 停用).
    List,
    /// Take a unit and every unit below it out of use: kept for history, left out of new waves.
    Deactivate {
        /// The unit's code.
        code: String,
    },
    /// Put a unit and every unit below it back in use.
    Activate {
        /// The unit's code.
        code: String,
    },
}

/// Roster commands.
#[derive(Debug, clap::Subcommand)]
pub enum PeopleCommand {
    /// Import or update people from a CSV file with columns email,name,unit,category,role.
    Import {
        /// The CSV file (UTF-8, with or without BOM).
        file: PathBuf,
        /// Only people of units inside this unit's subtree: a row outside it is a line error
        /// and nothing is imported (default: the `--as` account's scope, else the whole tree).
        #[arg(long)]
        scope: Option<String>,
    },
    /// Print the number of people per unit and category.
    List,
    /// Take a person out of use: kept for history, not invited to new waves.
    Deactivate {
        /// The person's address.
        email: String,
    },
    /// Put a person back in use.
    Activate {
        /// The person's address.
        email: String,
    },
}

fn report(file: &Path, result: Result<ImportReport, ImportError>) -> anyhow::Result<()> {
    match result {
        Ok(r) => {
            println!("{}: {r}", file.display());
            for key in &r.added {
                println!("  + {key}");
            }
            for key in &r.changed {
                println!("  ~ {key}");
            }
            Ok(())
        }
        Err(ImportError::Rows(rows)) => {
            for row in &rows {
                eprintln!("{}:{row}", file.display());
            }
            bail!(
                "{}: {} bad row(s); nothing was imported",
                file.display(),
                rows.len()
            )
        }
        Err(e) => Err(e.into()),
    }
}

/// How a file is imported: [`import::units_in`] or [`import::people_in`].
/// Imports `file` as `kind` ([`import::audited`]): the scope (`--scope`, inside the `--as`
/// account's) is checked under the roster lock in the import's transaction, so no other
/// import moves the scope in between.
fn import_file(
    conn: &mut DbConn,
    (actor, acting): (&str, Option<&str>),
    given: Option<&str>,
    file: &Path,
    kind: import::File,
) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let done = crate::db::write_tx(conn, |conn| -> anyhow::Result<_> {
        units::hold_roster(conn)?;
        let (scope, _) = super::import_scope(conn, acting, given)?;
        Ok(import::audited(conn, (kind, &bytes), &scope, actor, |r| {
            format!("{}: {r}", file.display())
        }))
    })?;
    report(file, done)
}

/// Runs a units command.
pub fn units(
    state: &AppState,
    cmd: UnitsCommand,
    actor: &str,
    acting: Option<&str>,
) -> anyhow::Result<()> {
    let active = matches!(cmd, UnitsCommand::Activate { .. });
    let mut conn = state
        .pool
        .get()
        .context("cannot get a database connection")?;
    match cmd {
        UnitsCommand::Import { file, scope } => import_file(
            &mut conn,
            (actor, acting),
            scope.as_deref(),
            &file,
            import::File::Units,
        ),
        UnitsCommand::List => {
            // With `--as` a scoped account: its subtree, drawn from its root.
            let reach = super::reach::Reach::of(&mut conn, acting)?;
            reach.require(crate::auth::Role::Organizer, "listing units")?;
            let scope = reach.scope();
            let all = units::all(&mut conn)?;
            if all.is_empty() {
                println!("no units yet: sanping units import FILE.csv");
            }
            let out = crate::db::inactive::of_kind(&mut conn, crate::db::inactive::UNIT)?;
            let mut shown: Vec<units::Unit> = scope.units(&all).into_iter().cloned().collect();
            for u in &mut shown {
                if scope.root() == Some(u.code.as_str()) {
                    u.parent = None;
                }
            }
            print!("{}", tree(&shown, &out));
            Ok(())
        }
        UnitsCommand::Deactivate { code } | UnitsCommand::Activate { code } => {
            let reach = super::reach::Reach::of(&mut conn, acting)?;
            reach.require(crate::auth::Role::Organizer, "taking units out of use")?;
            let n = crate::deactivate::set_unit(&mut conn, actor, &reach.scope(), &code, active)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "{code}: {n} unit(s) {}",
                if active {
                    "back in use"
                } else {
                    "out of use (kept for history, left out of new waves)"
                }
            );
            Ok(())
        }
    }
}

/// The tree drawn with indentation, children in code order; units in `inactive` marked.
pub fn tree(all: &[units::Unit], inactive: &std::collections::HashSet<String>) -> String {
    fn walk(
        all: &[units::Unit],
        inactive: &std::collections::HashSet<String>,
        parent: Option<&str>,
        depth: usize,
        out: &mut String,
    ) {
        for u in all.iter().filter(|u| u.parent.as_deref() == parent) {
            let kind = UnitKind::parse(&u.kind).map_or(u.kind.as_str(), |k| k.label());
            *out += &format!(
                "{}{} {} [{}]{}\n",
                "  ".repeat(depth),
                super::printable(&u.code),
                super::printable(&u.name),
                kind,
                if inactive.contains(&u.code) {
                    " (停用)"
                } else {
                    ""
                }
            );
            walk(all, inactive, Some(&u.code), depth + 1, out);
        }
    }
    let mut out = String::new();
    walk(all, inactive, None, 0, &mut out);
    out
}

/// Runs a people command.
pub fn people(
    state: &AppState,
    cmd: PeopleCommand,
    actor: &str,
    acting: Option<&str>,
) -> anyhow::Result<()> {
    let active = matches!(cmd, PeopleCommand::Activate { .. });
    let mut conn = state
        .pool
        .get()
        .context("cannot get a database connection")?;
    match cmd {
        PeopleCommand::Import { file, scope } => import_file(
            &mut conn,
            (actor, acting),
            scope.as_deref(),
            &file,
            import::File::People,
        ),
        PeopleCommand::Deactivate { email } | PeopleCommand::Activate { email } => {
            let reach = super::reach::Reach::of(&mut conn, acting)?;
            reach.require(crate::auth::Role::Organizer, "taking people out of use")?;
            let changed =
                crate::deactivate::set_person(&mut conn, actor, &reach.scope(), &email, active)
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "{email}: {}",
                match (active, changed) {
                    (true, true) => "back in use",
                    (false, true) => "out of use (kept for history, not invited to new waves)",
                    (true, false) => "was in use already",
                    (false, false) => "was out of use already",
                }
            );
            Ok(())
        }
        PeopleCommand::List => {
            // With `--as` a scoped account: the people of its subtree.
            let reach = super::reach::Reach::of(&mut conn, acting)?;
            reach.require(crate::auth::Role::Organizer, "listing people")?;
            let all = reach.units(&mut conn)?;
            let inside = reach.is_scoped().then(|| reach.scope().codes(&all));
            let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
            for p in people::all(&mut conn)? {
                if inside
                    .as_ref()
                    .is_none_or(|codes| codes.contains(p.unit.as_str()))
                {
                    *counts.entry((p.unit, p.category)).or_default() += 1;
                }
            }
            println!("{:<16} {:<12} people", "unit", "category");
            for ((unit, category), n) in counts {
                println!("{unit:<16} {category:<12} {n}");
            }
            Ok(())
        }
    }
}
