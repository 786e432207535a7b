//! `sanping demo`: build a demonstration university with two answered waves in a database
//! of its own, print what was built and serve it.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context as _, bail};

use crate::app::AppState;
use crate::config::{Config, ConfigArgs, mask_url};
use crate::db::DbTarget;
use crate::demo::{self, DemoError, Spec};

/// The SQLite file the demo uses when `DATABASE_URL` is not set.
pub const DEMO_DB: &str = "sanping-demo.db";

/// The `demo` command's arguments.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Seed of every random choice: the same seed builds the same university and answers.
    #[arg(long, default_value_t = demo::DEFAULT_SEED)]
    seed: u64,
    /// Build the data, print the summary and exit instead of serving it.
    #[arg(long)]
    no_serve: bool,
    /// Two universities under one provincial committee: the demo university and a small
    /// second one, each with its own organizer login (and one for the province).
    #[arg(long)]
    province: bool,
}

/// Runs `sanping demo`. Without `DATABASE_URL` (or `--database-url`) it starts over in
/// `./sanping-demo.db`, so the real `sanping.db` is never touched; with one it refuses a
/// database that already holds units.
pub fn run(mut config: Config, args: &ConfigArgs, demo_args: DemoArgs) -> anyhow::Result<()> {
    let given = args
        .database_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty());
    let env_line = match given {
        None => {
            remove_demo_db()?;
            config.database = DbTarget::Sqlite(DEMO_DB.to_owned());
            format!("DATABASE_URL={DEMO_DB}")
        }
        Some(url) => format!("DATABASE_URL={}", mask_url(url)),
    };
    let started = Instant::now();
    let state = AppState::open(config.clone())?;
    let spec = Spec {
        base_url: config.base_url.clone(),
        ..Spec::full(demo_args.seed)
    };
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} {bar:40} {pos}/{len} submissions · {elapsed}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut conn = state
        .pool
        .get()
        .context("cannot get a database connection")?;
    let summary = match demo::build(&mut conn, &spec, &bar) {
        Ok(s) => s,
        Err(DemoError::NotEmpty(n)) => bail!(
            "the database that DATABASE_URL names ({}) already holds {n} unit(s); \
             `sanping demo` fills only an empty database and added nothing. \
             Unset DATABASE_URL to build the demo in a fresh ./{DEMO_DB}, or point it at an empty database.",
            mask_url(given.unwrap_or_default())
        ),
        Err(e) => return Err(e.into()),
    };
    crate::auth::add_user(
        &mut conn,
        DEMO_USER,
        crate::auth::Role::Organizer,
        DEMO_PASSWORD,
    )?;
    if demo_args.province {
        demo::province::add(&mut conn)?;
    }
    drop(conn);
    bar.finish_and_clear();
    print_summary(&summary, &config, &env_line, started);
    if demo_args.province {
        print_province(&config.base_url);
    }
    drop(state);
    if demo_args.no_serve {
        return Ok(());
    }
    super::serve(config)
}

/// The demo's organizer login (a demo database only; never a real one).
const DEMO_USER: &str = "demo";
const DEMO_PASSWORD: &str = "sanping-demo";

/// The province's logins, each seeing its own subtree.
fn print_province(base: &str) {
    use demo::province::{FIRST, LOGINS, ROOT, SECOND};
    println!();
    println!(
        "province: {ROOT} (省委教育工委) over two universities, {FIRST} (the demo university) and {SECOND}:"
    );
    for (name, password, scope) in LOGINS {
        println!(
            "  {base}/admin/login  (user {name}, password {password}) — organizer of {}",
            scope.unwrap_or("the whole province")
        );
    }
}

/// Deletes `./sanping-demo.db` and its WAL files, if they exist.
fn remove_demo_db() -> anyhow::Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{DEMO_DB}{suffix}");
        match std::fs::remove_file(Path::new(&path)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot delete the old {path}")),
        }
    }
    Ok(())
}

fn print_summary(s: &demo::Summary, config: &Config, env_line: &str, started: Instant) {
    println!(
        "三评 demo: {} units ({} evaluated), {} people ({} committee members), {} waves of units and {} of people, built in {:.1} s",
        s.units,
        s.targets,
        s.people,
        s.committee,
        s.waves.len(),
        s.people_waves.len(),
        started.elapsed().as_secs_f64()
    );
    if !s.without_secretary.is_empty() {
        println!(
            "  units without a secretary (no self-assessment): {}",
            s.without_secretary.join(", ")
        );
    }
    println!(
        "  {} has 4 people of whom 3 answer each wave: it shows 样本不足",
        demo::SMALL_UNIT
    );
    for w in &s.waves {
        let rate = if w.invited == 0 {
            0.0
        } else {
            100.0 * w.responses as f64 / w.invited as f64
        };
        println!(
            "  wave {} {}: {} of {} invited answered ({rate:.1}%), {} self-assessments, {} committee sheets; {}",
            w.id,
            w.title,
            w.responses,
            w.invited,
            w.self_sheets,
            w.org_sheets,
            if w.open_links.is_some() {
                "still open"
            } else {
                "published"
            }
        );
    }
    for p in &s.people_waves {
        let teams = if p.teams > 0 {
            format!(" and {} leadership teams", p.teams)
        } else {
            String::new()
        };
        println!(
            "  wave {} {} ({} in {}): {} people{teams} rated in {} units, {} of {} raters sent their sheets, {} 个人总结 submitted; published",
            p.id, p.title, p.kind, p.scope, p.rated, p.units, p.sheets, p.raters, p.summaries
        );
        if p.graded > 0 {
            print!("    组织评定 recorded for {} people", p.graded);
            if let Some((unit, top, n)) = &p.at_cap {
                print!(
                    "; {unit} gave 优秀 to {top} of its {n} members, exactly its quota (⌊{n} × 1/3⌋)"
                );
            }
            println!();
        }
        if !p.too_small.is_empty() {
            println!(
                "    left out, too small for anonymous rating: {}",
                p.too_small.join(", ")
            );
        }
    }
    let holders: Vec<String> = demo::HOLDERS
        .iter()
        .map(|(name, password)| format!("{name} (password {password})"))
        .collect();
    println!(
        "  answers were sealed while each wave was open; key holders {}: any {} of them unseal a wave. \
         The demo unsealed (开箱) each wave with the first {} after closing it.",
        holders.join(", "),
        demo::HOLDER_THRESHOLD,
        demo::HOLDER_THRESHOLD
    );
    let base = &config.base_url;
    let published: Vec<&demo::WaveSummary> =
        s.waves.iter().filter(|w| w.open_links.is_none()).collect();
    let (Some(first), Some(last)) = (published.first(), published.last()) else {
        return;
    };
    if let Some((w, links)) = s
        .waves
        .iter()
        .find_map(|w| w.open_links.as_ref().map(|l| (w, l)))
    {
        println!();
        println!(
            "wave {} is open; answer it as each of the three would (one-time links):",
            w.id
        );
        println!("  a respondent (群众测评):      {}", links.respond);
        println!("  a secretary (基层自评):       {}", links.self_assess);
        println!("  a committee member (组织考评): {}", links.committee);
    }
    println!();
    println!("home page:    {base}/");
    println!("admin:        {base}/admin/login  (user {DEMO_USER}, password {DEMO_PASSWORD})");
    println!("dashboard:    {base}/admin/results/{}", last.id);
    println!("receipts:     {base}/w/{}/receipts", last.id);
    if let Some(code) = &last.sample_receipt {
        println!("one receipt:  {base}/w/{}/receipts?code={code}", last.id);
    }
    println!();
    println!("the results (from a checkout: `cargo run --` instead of `sanping`):");
    println!(
        "  {env_line} sanping report {} --compare {}",
        last.id, first.id
    );
    println!(
        "  {env_line} sanping report {} --format xlsx --out demo-{}.xlsx",
        last.id, last.id
    );
    println!("  {env_line} sanping wave show {}", last.id);
    println!("  {env_line} sanping wave verify {}", last.id);
    if !s.people_waves.is_empty() {
        println!();
        println!("the people waves (民主评议), per person:");
        for p in &s.people_waves {
            println!("  {env_line} sanping report {} --format table", p.id);
            println!("  {base}/admin/waves/{}/people", p.id);
        }
    }
}
