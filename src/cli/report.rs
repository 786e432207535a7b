//! `sanping report …` and `sanping wave verify …`.

use std::path::PathBuf;

use anyhow::{Context as _, bail};

use crate::app::AppState;
use crate::report::{self, ReportError, export, verify, xlsx};

/// Output formats of `sanping report`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// An aligned table for the terminal.
    Table,
    /// CSV with Chinese headers (UTF-8 with BOM).
    Csv,
    /// Every figure per unit, dimension and item.
    Json,
    /// An Excel workbook: 总表, 分维度, 分题, 意见建议.
    Xlsx,
}

/// The `report` command's arguments.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The wave id.
    wave: i32,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Write to this file instead of standard output (required for xlsx).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Show the change against this earlier wave.
    #[arg(long)]
    compare: Option<i32>,
}

/// Runs `sanping report`; with `--as` an account (`acting`), only of a wave inside its
/// scope, and without the comments (a people wave's: the reasons) unless its scope lies
/// inside the wave's, as on the console ([`report::words_readable`]). The operator (no
/// `--as`) reads everything: it holds the database.
pub fn run(
    state: &AppState,
    args: ReportArgs,
    actor: &str,
    acting: Option<&str>,
) -> anyhow::Result<()> {
    let mut conn = state
        .pool
        .get()
        .context("cannot get a database connection")?;
    let reach = super::reach::Reach::of(&mut conn, acting)?;
    let head = reach.wave(&mut conn, args.wave)?;
    if let Some(earlier) = args.compare {
        reach.wave(&mut conn, earlier)?;
    }
    let words = reach.reads_words(&mut conn, head.scope.as_deref())?;
    if head.is_people() {
        // Every person's result: committee and up, as the API.
        reach.require(crate::auth::Role::Committee, "a people wave's report")?;
        return people(&mut conn, &args, actor, words);
    }
    reach.require(crate::auth::Role::Viewer, "a report")?;
    let mut r = report::build(&mut conn, args.wave, args.compare)?;
    if !words {
        r.comments.clear();
    }
    let bytes = match args.format {
        Format::Table => export::table(&r).into_bytes(),
        Format::Csv => export::csv(&r)?,
        Format::Json => export::json(&r)?.into_bytes(),
        Format::Xlsx => {
            if args.out.is_none() {
                bail!("--format xlsx needs --out FILE.xlsx");
            }
            xlsx::workbook(&r)?
        }
    };
    match args.out {
        Some(path) => {
            std::fs::write(&path, bytes)
                .with_context(|| format!("cannot write {}", path.display()))?;
            let detail = format!(
                "wave {} as {} to {}",
                args.wave,
                format!("{:?}", args.format).to_lowercase(),
                path.display()
            );
            crate::db::write_tx(&mut conn, |conn| {
                crate::auth::record(conn, actor, "report.export", &detail)
            })?;
            println!("report of wave {} written to {}", args.wave, path.display());
        }
        None => std::io::Write::write_all(&mut std::io::stdout(), &bytes)?,
    }
    Ok(())
}

/// `sanping report` of a people wave: every person's result, each run audited (it shows
/// people's results).
fn people(
    conn: &mut crate::db::DbConn,
    args: &ReportArgs,
    actor: &str,
    words: bool,
) -> anyhow::Result<()> {
    use crate::report::{people, people_export};
    if args.compare.is_some() {
        bail!("--compare is for waves that evaluate units");
    }
    let mut r = people::build(conn, args.wave)?;
    if !words {
        r.withhold_reasons();
    }
    let bytes = match args.format {
        Format::Table => people_export::table(&r).into_bytes(),
        Format::Csv => people_export::csv(&r)?,
        Format::Json => people_export::json(&r)?.into_bytes(),
        Format::Xlsx => {
            if args.out.is_none() {
                bail!("--format xlsx needs --out FILE.xlsx");
            }
            people_export::workbook(&r)?
        }
    };
    let format = format!("{:?}", args.format).to_lowercase();
    let detail = match &args.out {
        Some(path) => format!(
            "wave {} people results as {format} to {}",
            args.wave,
            path.display()
        ),
        None => format!("wave {} people results as {format}", args.wave),
    };
    crate::db::write_tx(conn, |conn| {
        crate::auth::record(conn, actor, "people.report", &detail)
    })?;
    match &args.out {
        Some(path) => {
            std::fs::write(path, bytes)
                .with_context(|| format!("cannot write {}", path.display()))?;
            println!("report of wave {} written to {}", args.wave, path.display());
        }
        None => std::io::Write::write_all(&mut std::io::stdout(), &bytes)?,
    }
    Ok(())
}

/// Runs `sanping wave verify`.
pub fn verify(state: &AppState, wave: i32) -> anyhow::Result<()> {
    let mut conn = state
        .pool
        .get()
        .context("cannot get a database connection")?;
    if crate::wave::get(&mut conn, wave)?.is_people() {
        return verify_people(&mut conn, wave);
    }
    let shown = match report::build(&mut conn, wave, None) {
        Ok(r) => Some(r),
        Err(ReportError::Open(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let audit = verify::audit(&mut conn, wave, shown.as_ref())?;
    println!(
        "{:<14} {:>16} {:>10}  check",
        "unit", "invitations used", "responses"
    );
    for b in &audit.balances {
        println!(
            "{:<14} {:>16} {:>10}  {}",
            b.unit,
            b.used,
            b.responses,
            if b.used == b.responses {
                "✓"
            } else {
                "✗ MISMATCH"
            }
        );
    }
    println!(
        "{} response(s) checked against the survey: {} do not fit",
        audit.checked, audit.bad_responses
    );
    match &shown {
        Some(_) if audit.mismatches.is_empty() => println!(
            "every figure of the report equals a direct recomputation from the raw responses"
        ),
        Some(_) => println!(
            "figures differ from a recomputation for: {}",
            audit.mismatches.join(", ")
        ),
        None => println!("(the wave is open: no figures yet; only the counts were checked)"),
    }
    match &audit.record {
        Some((hash, diffs)) => {
            println!("record {hash}");
            for d in diffs {
                println!("  ✗ {d}");
            }
        }
        None => println!("record — (none: a test wave, or finished before records were kept)"),
    }
    if !audit.ok() {
        bail!("wave {wave} does not verify");
    }
    println!("wave {wave} verifies");
    Ok(())
}

/// `wave verify` of a people wave: its sheets were counted at 开箱 and never kept, so what
/// can be checked is its record — the frame, the rating links used per unit, the counts per
/// person and the final grades, the receipts and the chain.
fn verify_people(conn: &mut crate::db::DbConn, wave: i32) -> anyhow::Result<()> {
    match crate::record::check(conn, wave, &crate::tally::Counts::default())? {
        Some((hash, diffs)) => {
            println!("record {hash}");
            for d in &diffs {
                println!("  ✗ {d}");
            }
            if !diffs.is_empty() {
                bail!("wave {wave} does not verify");
            }
            println!("wave {wave} verifies");
        }
        None => println!(
            "record — (none yet: a people wave's record is written when it is published, or it is a test wave)"
        ),
    }
    Ok(())
}
