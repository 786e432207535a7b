//! `sanping units …` and `sanping people …`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::app::AppState;
use crate::db::{people, units};
use crate::domain::roster::UnitKind;
use crate::import::{self, ImportError, ImportReport};

/// Unit tree commands.
#[derive(Debug, clap::Subcommand)]
pub enum UnitsCommand {
    /// Import or update units from a CSV file with columns code,name,kind,parent.
    Import {
        /// The CSV file (UTF-8, with or without BOM).
        file: PathBuf,
    },
    /// Print the unit tree.
    List,
}

/// Roster commands.
#[derive(Debug, clap::Subcommand)]
pub enum PeopleCommand {
    /// Import or update people from a CSV file with columns email,name,unit,category,role.
    Import {
        /// The CSV file (UTF-8, with or without BOM).
        file: PathBuf,
    },
    /// Print the number of people per unit and category.
    List,
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

/// Runs a units command.
pub fn units(state: &AppState, cmd: UnitsCommand, actor: &str) -> anyhow::Result<()> {
    let mut conn = state
        .pool
        .get()
        .context("cannot get a database connection")?;
    match cmd {
        UnitsCommand::Import { file } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let done = super::audited(
                &mut conn,
                actor,
                "units.import",
                |conn| import::units(conn, &bytes),
                |r| format!("{}: {r}", file.display()),
            );
            report(&file, done)
        }
        UnitsCommand::List => {
            let all = units::all(&mut conn)?;
            if all.is_empty() {
                println!("no units yet: sanping units import FILE.csv");
            }
            print!("{}", tree(&all));
            Ok(())
        }
    }
}

/// The tree drawn with indentation, children in code order.
pub fn tree(all: &[units::Unit]) -> String {
    fn walk(all: &[units::Unit], parent: Option<&str>, depth: usize, out: &mut String) {
        for u in all.iter().filter(|u| u.parent.as_deref() == parent) {
            let kind = UnitKind::parse(&u.kind).map_or(u.kind.as_str(), |k| k.label());
            *out += &format!(
                "{}{} {} [{}]\n",
                "  ".repeat(depth),
                super::printable(&u.code),
                super::printable(&u.name),
                kind
            );
            walk(all, Some(&u.code), depth + 1, out);
        }
    }
    let mut out = String::new();
    walk(all, None, 0, &mut out);
    out
}

/// Runs a people command.
pub fn people(state: &AppState, cmd: PeopleCommand, actor: &str) -> anyhow::Result<()> {
    let mut conn = state
        .pool
        .get()
        .context("cannot get a database connection")?;
    match cmd {
        PeopleCommand::Import { file } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let done = super::audited(
                &mut conn,
                actor,
                "people.import",
                |conn| import::people(conn, &bytes),
                |r| format!("{}: {r}", file.display()),
            );
            report(&file, done)
        }
        PeopleCommand::List => {
            let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
            for p in people::all(&mut conn)? {
                *counts.entry((p.unit, p.category)).or_default() += 1;
            }
            println!("{:<16} {:<12} people", "unit", "category");
            for ((unit, category), n) in counts {
                println!("{unit:<16} {category:<12} {n}");
            }
            Ok(())
        }
    }
}
