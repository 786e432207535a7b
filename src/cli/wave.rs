//! `sanping wave …`: the wave lifecycle from the command line.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use chrono::{Local, NaiveDateTime, TimeZone as _};
use serde::Serialize;

use crate::app::AppState;
use crate::domain::survey::StepKind;
use crate::domain::token;
use crate::wave::{self, Link, NewWaveSpec, State};

/// Wave commands.
#[derive(Debug, clap::Subcommand)]
pub enum WaveCommand {
    /// Create a draft wave from a survey file; prints its id.
    Create {
        /// The survey file (copied into the wave).
        #[arg(long)]
        survey: PathBuf,
        /// The title respondents see.
        #[arg(long)]
        title: String,
        /// Only evaluate this unit's subtree.
        #[arg(long)]
        scope: Option<String>,
        /// Stop taking answers at this local time ("YYYY-MM-DD HH:MM").
        #[arg(long)]
        closes: Option<String>,
        /// A rehearsal wave: its responses are marked test and can be purged.
        #[arg(long)]
        test: bool,
        /// The accounts that hold shares of the wave's key (comma-separated); after the
        /// close, --threshold of them together unseal the answers.
        #[arg(long, value_delimiter = ',', conflicts_with = "single_holder")]
        holders: Vec<String>,
        /// How many key holders it takes to unseal (with --holders).
        #[arg(long, requires = "holders")]
        threshold: Option<u8>,
        /// One account holds the whole key: this one person, together with the database,
        /// can read every answer. Say so explicitly instead of --holders.
        #[arg(long, value_name = "NAME")]
        single_holder: Option<String>,
    },
    /// Edit a draft wave: its title, closing time, scope or key holders (the survey is
    /// fixed: for another survey, create a new wave). Prints what changed.
    Edit(EditArgs),
    /// Open a draft wave: create the invitations and queue one email each (or, with
    /// --links, write the one-time links to a file instead of mailing them).
    Open {
        /// The wave id.
        wave: i32,
        /// Write the links to this file (CSV: email,name,unit,step,link) and send no mail.
        #[arg(long)]
        links: Option<PathBuf>,
        /// Open even though fewer key holders than the threshold have checked their key.
        #[arg(long)]
        unchecked_keys: bool,
    },
    /// A key holder shows that their password unlocks their key (before the wave opens) or
    /// their share of its key (after); the password is read from standard input.
    CheckKey {
        /// The wave id.
        wave: i32,
        /// The key holder's account.
        #[arg(long)]
        holder: String,
    },
    /// 开箱: unseal a closed wave's answers with the passwords of --threshold key holders,
    /// read from standard input one line each, in the order the holders are named.
    Unseal {
        /// The wave id.
        wave: i32,
        /// A key holder taking part (repeat: --holder A --holder B).
        #[arg(long = "holder", required = true)]
        holders: Vec<String>,
    },
    /// Queue a reminder, with a new link, for every invitation not yet answered.
    Remind {
        /// The wave id.
        wave: i32,
        /// Only invitations whose last mail was sent at least this many days ago (as in the
        /// console: a reminder minutes after the invitation would only retire its link).
        #[arg(long, default_value_t = 3)]
        min_days: u32,
        /// At most this many reminders per invitation.
        #[arg(long, default_value_t = 2)]
        max: u32,
    },
    /// Invite, by email, the people added to the roster since an open wave opened (its
    /// units and invitations are frozen; `wave show` lists the changes).
    InviteAdded {
        /// The wave id.
        wave: i32,
    },
    /// Stop taking answers.
    Close {
        /// The wave id.
        wave: i32,
    },
    /// Move an open wave's closing time later; a wave whose closing time has passed but
    /// that is not closed yet takes answers again.
    Extend {
        /// The wave id.
        wave: i32,
        /// The new closing time, local ("YYYY-MM-DD HH:MM"); must lie in the future.
        #[arg(long)]
        closes: String,
    },
    /// Record the final grade (组织评定) of a person in a people wave, after 开箱 and before
    /// publishing. The top grade is refused beyond the unit's quota.
    Grade {
        /// The wave id.
        wave: i32,
        /// The rated person's address.
        #[arg(long)]
        person: String,
        /// The grade: a label of the survey's grade scale (e.g. 优秀) or its option id.
        #[arg(long)]
        grade: String,
        /// Why (shown with the grade).
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Publish the results of a closed wave (receipts become checkable).
    Publish {
        /// The wave id.
        wave: i32,
    },
    /// List the waves.
    List,
    /// Show a wave and its progress per unit.
    Show {
        /// The wave id.
        wave: i32,
    },
    /// Print anonymous one-time slips with QR codes for in-meeting evaluation.
    Slips {
        /// The wave id.
        wave: i32,
        /// The unit the slips evaluate.
        #[arg(long)]
        unit: String,
        /// How many slips.
        #[arg(long)]
        count: usize,
        /// The HTML file to write (print it on A4).
        #[arg(long)]
        out: PathBuf,
    },
    /// Recompute every figure from the raw responses and check invitations used = responses stored.
    Verify {
        /// The wave id.
        wave: i32,
    },
    /// Delete a test wave's responses and invitations and return it to draft.
    PurgeTest {
        /// The wave id.
        wave: i32,
    },
}

/// What `sanping wave edit` changes; what is not given stays.
#[derive(Debug, clap::Args)]
pub struct EditArgs {
    /// The wave id.
    wave: i32,
    /// The new title.
    #[arg(long)]
    title: Option<String>,
    /// The new closing time, local ("YYYY-MM-DD HH:MM"); must lie in the future.
    #[arg(long, conflicts_with = "no_closes")]
    closes: Option<String>,
    /// Remove the closing time.
    #[arg(long)]
    no_closes: bool,
    /// Only evaluate this unit's subtree.
    #[arg(long, conflicts_with = "whole_tree")]
    scope: Option<String>,
    /// Evaluate the whole tree.
    #[arg(long)]
    whole_tree: bool,
    /// The new key holders (comma-separated), replacing the current ones.
    #[arg(long, value_delimiter = ',', conflicts_with = "single_holder")]
    holders: Vec<String>,
    /// How many key holders it takes to unseal.
    #[arg(long)]
    threshold: Option<u8>,
    /// One account holds the whole key (instead of --holders).
    #[arg(long, value_name = "NAME")]
    single_holder: Option<String>,
}

/// Reads "YYYY-MM-DD HH:MM" in local time as UTC.
pub fn parse_local(s: &str) -> anyhow::Result<NaiveDateTime> {
    let naive = NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M")
        .with_context(|| format!("\"{s}\" is not a time like \"2026-12-31 18:00\""))?;
    let local = Local
        .from_local_datetime(&naive)
        .earliest()
        .with_context(|| format!("\"{s}\" does not exist in the local time zone"))?;
    Ok(local.naive_utc())
}

impl WaveCommand {
    /// The wave the command acts on (every command but `create` and `list`).
    fn wave(&self) -> Option<i32> {
        match self {
            Self::Create { .. } | Self::List => None,
            Self::Edit(args) => Some(args.wave),
            Self::Open { wave, .. }
            | Self::CheckKey { wave, .. }
            | Self::Unseal { wave, .. }
            | Self::Remind { wave, .. }
            | Self::InviteAdded { wave }
            | Self::Close { wave }
            | Self::Extend { wave, .. }
            | Self::Grade { wave, .. }
            | Self::Publish { wave }
            | Self::Show { wave }
            | Self::Slips { wave, .. }
            | Self::Verify { wave }
            | Self::PurgeTest { wave } => Some(*wave),
        }
    }

    /// Whether it changes a wave, which takes an organizer (as on the console). Showing,
    /// verifying and a key holder's own key check and unsealing (each with the holder's
    /// password) do not.
    fn changes(&self) -> bool {
        !matches!(
            self,
            Self::List
                | Self::Show { .. }
                | Self::Verify { .. }
                | Self::CheckKey { .. }
                | Self::Unseal { .. }
        )
    }
}

/// Runs a wave command; with `--as` an account (`acting`), only on the waves inside its
/// scope and, for changes, only as an organizer ([`super::reach::Reach`]).
pub fn run(
    state: &AppState,
    cmd: WaveCommand,
    actor: &str,
    acting: Option<&str>,
) -> anyhow::Result<()> {
    let mut conn = state
        .pool
        .get()
        .context("cannot get a database connection")?;
    let reach = super::reach::Reach::of(&mut conn, acting)?;
    if let Some(id) = cmd.wave() {
        reach.wave(&mut conn, id)?;
    }
    if cmd.changes() {
        reach.require(crate::auth::Role::Organizer, "changing a wave")?;
    } else if matches!(
        cmd,
        WaveCommand::Show { .. } | WaveCommand::CheckKey { .. } | WaveCommand::Unseal { .. }
    ) {
        // As the console's wave and key pages.
        reach.require(crate::auth::Role::Committee, "a wave's page and keys")?;
    }
    match cmd {
        WaveCommand::Create {
            survey,
            title,
            scope,
            closes,
            test,
            holders,
            threshold,
            single_holder,
        } => {
            let keys = key_holders(holders, threshold, single_holder)?;
            // A scoped account's wave evaluates its subtree unless it names a part of it.
            let scope = scope.or_else(|| reach.scope().root().map(str::to_owned));
            reach.fits(&mut conn, scope.as_deref(), &keys.0)?;
            create(
                &mut conn,
                actor,
                &survey,
                title,
                scope,
                closes.as_deref(),
                test,
                keys,
            )?;
        }
        WaveCommand::Edit(args) => edit(&mut conn, actor, args, &reach)?,
        WaveCommand::Open {
            wave,
            links,
            unchecked_keys,
        } => {
            let note = require_checked_keys(&mut conn, wave, unchecked_keys)?;
            open(state, &mut conn, (actor, &note), wave, links.as_deref())?;
        }
        WaveCommand::CheckKey { wave, holder } => check_key(&mut conn, actor, wave, &holder)?,
        WaveCommand::Unseal { wave, holders } => unseal(&mut conn, actor, wave, holders)?,
        WaveCommand::Remind {
            wave,
            min_days,
            max,
        } => {
            let n = super::audited(
                &mut conn,
                actor,
                "wave.remind",
                |conn| wave::remind(conn, wave, min_days, max),
                |n| {
                    format!(
                        "wave {wave} {n} reminders queued (at least {min_days} days since the last mail)"
                    )
                },
            )?;
            println!(
                "{n} reminder(s) queued for wave {wave}; each carries a new link and retires the old one"
            );
        }
        WaveCommand::InviteAdded { wave } => {
            let n = super::audited(
                &mut conn,
                actor,
                "wave.invite-added",
                |conn| wave::invite_added(conn, wave),
                |n| format!("wave {wave} {n} invitations queued for people added since it opened"),
            )?;
            println!("{n} invitation mail(s) queued for people added since wave {wave} opened");
        }
        WaveCommand::Close { wave } => {
            super::audited(
                &mut conn,
                actor,
                "wave.close",
                |conn| wave::close(conn, wave),
                |()| format!("wave {wave} "),
            )?;
            println!("wave {wave} is closed");
        }
        WaveCommand::Extend { wave, closes } => {
            let at = parse_local(&closes)?;
            crate::deadline::extend(&mut conn, wave, at, actor)?;
            println!(
                "wave {wave} now closes at {}",
                crate::web::respond::local_time(at)
            );
        }
        WaveCommand::Grade {
            wave,
            person,
            grade,
            reason,
        } => grade_cmd(&mut conn, wave, &person, &grade, &reason, actor)?,
        WaveCommand::Publish { wave } => publish_cmd(state, &mut conn, wave, actor)?,
        WaveCommand::List => list(&mut conn, &reach)?,
        WaveCommand::Show { wave } => show(&mut conn, wave)?,
        WaveCommand::Slips {
            wave,
            unit,
            count,
            out,
        } => {
            let (w, u, tokens) = super::audited(
                &mut conn,
                actor,
                "wave.slips",
                |conn| wave::slips(conn, wave, &unit, count),
                |(_, u, _)| format!("wave {wave}: {count} slips for {}", u.code),
            )?;
            let html = slips_html(state, &w.title, &u.name, &tokens)?;
            write_private(&out, html.as_bytes())?;
            println!(
                "{count} slip(s) for {} written to {}",
                u.name,
                out.display()
            );
        }
        WaveCommand::Verify { wave } => super::report::verify(state, wave)?,
        WaveCommand::PurgeTest { wave } => {
            let (r, i) = super::audited(
                &mut conn,
                actor,
                "wave.purge",
                |conn| wave::purge_test(conn, wave),
                |(r, i)| format!("wave {wave} {r} responses, {i} invitations deleted"),
            )?;
            println!(
                "wave {wave}: {r} test response(s) and {i} invitation(s) deleted; it is a draft again"
            );
        }
    }
    Ok(())
}

/// `wave list`: the waves the command may see.
fn list(conn: &mut crate::db::DbConn, reach: &super::reach::Reach) -> anyhow::Result<()> {
    println!("{:>4}  {:<8} {:<17} title", "id", "state", "closes");
    let units = reach.units(conn)?;
    let sees = reach.scope().covering(&units);
    for w in crate::db::waves::all(conn)? {
        if !sees(w.scope.as_deref()) {
            continue;
        }
        println!(
            "{:>4}  {:<8} {:<17} {}{}",
            w.id,
            w.state,
            w.closes_at
                .map_or_else(|| "-".into(), crate::web::respond::local_time),
            super::printable(&w.title),
            if w.is_test { " [test]" } else { "" }
        );
    }
    Ok(())
}

/// The key holders and threshold a `wave create` names, with the warnings they call for.
fn key_holders(
    holders: Vec<String>,
    threshold: Option<u8>,
    single: Option<String>,
) -> anyhow::Result<(Vec<String>, u8)> {
    if let Some(name) = single {
        eprintln!(
            "warning: {name} alone holds this wave's key: {name} together with the database can read every answer"
        );
        return Ok((vec![name], 1));
    }
    if holders.is_empty() {
        // The library explains what is missing.
        return Ok((holders, 0));
    }
    if holders.len() == 1 {
        bail!(
            "one key holder can read every answer with the database; name at least two with --holders, \
             or say --single-holder {} if that is what you intend",
            holders[0]
        );
    }
    let Some(t) = threshold else {
        bail!(
            "say how many of the {} key holders it takes to unseal: --threshold T",
            holders.len()
        );
    };
    if t == 1 {
        eprintln!(
            "warning: threshold 1: any one of {} together with the database can read every answer",
            holders.join(", ")
        );
    }
    Ok((holders, t))
}

/// Refuses to open a wave whose holders have not shown, T of them, that their keys unlock,
/// unless told to go ahead; then returns what its audit entry adds (as the console's).
fn require_checked_keys(
    conn: &mut crate::db::DbConn,
    id: i32,
    go_ahead: bool,
) -> anyhow::Result<String> {
    let w = wave::get(conn, id)?;
    let ready = crate::sealing::KeyReadiness::read(conn, id)?;
    if State::parse(&w.state) != State::Draft {
        return Ok(String::new());
    }
    if !ready.short() || go_ahead {
        return Ok(ready.opening_note());
    }
    let (confirmed, need) = (ready.confirmed.len(), ready.threshold);
    bail!(
        "only {confirmed} of wave {id}'s key holders have checked their key, and {need} are needed to unseal it; \
         ask each to run `sanping wave check-key {id} --holder NAME`, or open anyway with --unchecked-keys"
    )
}

fn check_key(
    conn: &mut crate::db::DbConn,
    actor: &str,
    wave: i32,
    holder: &str,
) -> anyhow::Result<()> {
    let password = super::admin::read_secret(&format!("password of {holder}: "))?;
    match crate::sealing::check_key(conn, wave, holder, &password, actor)? {
        crate::sealing::KeyCheck::AccountKey => println!(
            "{holder}'s password unlocks their key; wave {wave}'s share will be sealed to it when the wave opens"
        ),
        crate::sealing::KeyCheck::Share => {
            println!("{holder}'s password unlocks their share of wave {wave}'s key");
        }
    }
    Ok(())
}

fn unseal(
    conn: &mut crate::db::DbConn,
    actor: &str,
    id: i32,
    holders: Vec<String>,
) -> anyhow::Result<()> {
    let mut given = Vec::new();
    for name in holders {
        let password = super::admin::read_secret(&format!("password of {name}: "))?;
        given.push(crate::sealing::HolderPassword {
            username: name,
            password,
        });
    }
    let done = crate::sealing::unseal(conn, id, &given, actor)?;
    println!(
        "wave {id} is unsealed: {} answer sheet(s) opened and stored in random order; the sealed copies \
         and the key shares are deleted",
        done.sheets
    );
    if done.rejected > 0 {
        eprintln!(
            "warning: {} sealed sheet(s) did not open or did not fit the survey and were left out; \
             `sanping wave verify {id}` shows the imbalance",
            done.rejected
        );
    }
    if !done.scrubbed {
        eprintln!(
            "warning: another process kept the SQLite log busy; the file was not fully rewritten. \
             Stop the other processes and run `sqlite3 FILE 'PRAGMA wal_checkpoint(TRUNCATE); VACUUM;'`"
        );
    }
    Ok(())
}

#[expect(
    clippy::too_many_arguments,
    reason = "one per flag of `wave create`, plus the connection and the actor"
)]
fn create(
    conn: &mut crate::db::DbConn,
    actor: &str,
    survey: &Path,
    title: String,
    scope: Option<String>,
    closes: Option<&str>,
    test: bool,
    (holders, threshold): (Vec<String>, u8),
) -> anyhow::Result<()> {
    let src = std::fs::read_to_string(survey)
        .with_context(|| format!("cannot read {}", survey.display()))?;
    let spec = NewWaveSpec {
        survey_name: survey.display().to_string(),
        survey_src: src,
        title,
        scope,
        closes_at: closes.map(parse_local).transpose()?,
        is_test: test,
        holders,
        threshold,
    };
    let id = super::audited(
        conn,
        actor,
        "wave.create",
        |conn| wave::create(conn, &spec),
        |id| {
            format!(
                "wave {id}: {}; key holders {} (any {} unseal)",
                spec.title,
                spec.holders.join(", "),
                spec.threshold
            )
        },
    )?;
    println!("{id}");
    eprintln!("wave {id} created as a draft; open it with: sanping wave open {id}");
    Ok(())
}

fn edit(
    conn: &mut crate::db::DbConn,
    actor: &str,
    args: EditArgs,
    reach: &super::reach::Reach,
) -> anyhow::Result<()> {
    let EditArgs {
        wave,
        title,
        closes,
        no_closes,
        scope,
        whole_tree,
        holders,
        threshold,
        single_holder,
    } = args;
    let (holders, threshold) = if holders.is_empty() && single_holder.is_none() {
        (None, threshold)
    } else {
        let (h, t) = key_holders(holders, threshold, single_holder)?;
        (Some(h), Some(t))
    };
    let change = wave::DraftEdit {
        title,
        closes_at: if no_closes {
            Some(None)
        } else {
            closes.as_deref().map(parse_local).transpose()?.map(Some)
        },
        scope: if whole_tree {
            Some(None)
        } else {
            scope.map(Some)
        },
        holders,
        threshold,
    };
    if reach.is_scoped() {
        // What the edit would leave must fit inside the acting account's scope.
        let scope = match &change.scope {
            Some(s) => s.clone(),
            None => wave::get(conn, wave)?.scope,
        };
        reach.fits(
            conn,
            scope.as_deref(),
            change.holders.as_deref().unwrap_or_default(),
        )?;
    }
    let changed = wave::edit::edit(conn, wave, &change, actor)?;
    if changed.is_empty() {
        println!("wave {wave}: nothing changed");
    }
    for line in changed {
        println!("wave {wave} {line}");
    }
    Ok(())
}

fn open(
    state: &AppState,
    conn: &mut crate::db::DbConn,
    (actor, note): (&str, &str),
    id: i32,
    links: Option<&Path>,
) -> anyhow::Result<()> {
    let n = if let Some(links) = links {
        let n = super::audited(
            conn,
            actor,
            "wave.open",
            |conn| wave::open(conn, id, &state.config.base_url, |l| write_links(links, l)),
            |n| {
                format!(
                    "wave {id} {n} invitations, links written to {}{note}",
                    links.display()
                )
            },
        )?;
        println!(
            "wave {id} is open: {n} invitation(s); links written to {}",
            links.display()
        );
        n
    } else {
        let n = super::audited(
            conn,
            actor,
            "wave.open",
            |conn| wave::open_by_email(conn, id),
            |n| format!("wave {id} {n} invitations queued{note}"),
        )?;
        println!(
            "wave {id} is open: {n} invitation mail(s) queued; `sanping serve` delivers them (or run `sanping mail send`)"
        );
        n
    };
    if n == 0 {
        eprintln!(
            "warning: nobody in the roster is evaluating a unit of this wave; import people or print slips"
        );
    }
    Ok(())
}

/// A people wave (民主评议): on a draft, whom opening it rates and the links it sends, and
/// the units too small to take part, with the reason.
fn show_people_plan(
    conn: &mut crate::db::DbConn,
    w: &crate::db::waves::Wave,
    spec: &crate::domain::people::PeopleSpec,
    st: State,
) -> anyhow::Result<()> {
    println!(
        "  kind:        people (民主评议): rated by at least {} raters each, or 样本不足",
        spec.min_raters
    );
    if st != State::Draft {
        return Ok(());
    }
    let plan = wave::people_plan(conn, w, spec)?;
    let rated = plan
        .rated
        .iter()
        .filter(|r| !crate::domain::people::is_team(&r.person))
        .count();
    let step = |k: StepKind| plan.invitees.iter().filter(|(_, _, s)| *s == k).count();
    println!(
        "  opening:     rates {rated} people; {} rating links, {} 个人总结 links",
        step(StepKind::Mass),
        step(StepKind::SelfAssessment)
    );
    for (u, small) in &plan.too_small {
        println!(
            "  left out:    {} {} — 人数不足：互评至少需要 {} 人 (at most {} raters each, {} needed)",
            u.code,
            super::printable(&u.name),
            u64::from(small.needed) + 1,
            small.possible,
            small.needed
        );
    }
    Ok(())
}

fn show(conn: &mut crate::db::DbConn, id: i32) -> anyhow::Result<()> {
    let w = wave::get(conn, id)?;
    let st = State::parse(&w.state);
    println!(
        "wave {}: {}{}",
        w.id,
        super::printable(&w.title),
        if w.is_test { " [test]" } else { "" }
    );
    println!(
        "  state:       {} ({})",
        st.as_str(),
        wave::state_label(&w.state, w.is_sealed())
    );
    println!(
        "  scope:       {}",
        w.scope.as_deref().unwrap_or("whole tree")
    );
    println!("  survey:      sha256 {}", w.fingerprint);
    let holders = crate::db::holders::of_wave(conn, id)?;
    if !holders.is_empty() {
        let names: Vec<String> = holders
            .iter()
            .map(|h| {
                let mark = if h.confirmed_at.is_some() { " ✓" } else { "" };
                format!("{}{mark}", h.username)
            })
            .collect();
        println!(
            "  key holders: {} (any {} unseal; ✓ checked their key)",
            names.join(", "),
            w.threshold.unwrap_or(0)
        );
    }
    if w.is_sealed() && st == State::Closed {
        println!(
            "  待开箱:      the answers are sealed; {} key holders unseal them with `sanping wave unseal {id} --holder NAME …`",
            w.threshold.unwrap_or(0)
        );
    }
    if let Some(c) = w.closes_at {
        println!("  closes:      {}", crate::web::respond::local_time(c));
    }
    if let Some(spec) = wave::survey_of(&w)?.people {
        show_people_plan(conn, &w, &spec, st)?;
    }
    let names: std::collections::HashMap<String, String> = wave::frame(conn, &w)?
        .into_iter()
        .map(|u| (u.code, u.name))
        .collect();
    let progress = wave::progress(conn, id)?;
    if progress.is_empty() {
        println!("  no invitations yet");
        return Ok(());
    }
    println!(
        "  {:<14} {:<24} {:>8} {:>9} {:>8}",
        "unit", "name", "invited", "answered", "rate"
    );
    let (mut inv, mut ans) = (0, 0);
    for p in &progress {
        inv += p.invited;
        ans += p.responses;
        println!(
            "  {:<14} {:<24} {:>8} {:>9} {:>7.1}%",
            p.unit,
            names.get(&p.unit).map_or("?", String::as_str),
            p.invited,
            p.responses,
            p.response_rate() * 100.0
        );
    }
    let rate = if inv == 0 {
        0.0
    } else {
        ans as f64 / inv as f64 * 100.0
    };
    println!(
        "  {:<14} {:<24} {inv:>8} {ans:>9} {rate:>7.1}%",
        "total", ""
    );
    if st == State::Open {
        println!("  (scores are shown only after the wave closes)");
    }
    let mut mails: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
    for (_, mail_state, n) in crate::db::outbox::counts(conn, Some(id))? {
        *mails.entry(mail_state).or_default() += n;
    }
    if !mails.is_empty() {
        let parts: Vec<String> = mails.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!("  mails:       {}", parts.join(" · "));
    }
    let changes = wave::roster_changes(conn, id)?;
    if !changes.added.is_empty() {
        println!(
            "  added to the roster since it opened (not invited; `sanping wave invite-added {id}`):"
        );
        for (p, unit, step) in &changes.added {
            println!("    {} <{}> → {unit} ({})", p.name, p.email, step.as_str());
        }
    }
    if !changes.gone.is_empty() {
        println!("  invited but no longer on the roster (their invitations stay valid):");
        for (email, unit, step) in &changes.gone {
            println!("    {email} → {unit} ({})", step.as_str());
        }
    }
    let missing = wave::missing_secretaries(conn, id)?;
    if !missing.is_empty() {
        println!("  missing self-assessment (no secretary in the roster):");
        for u in missing {
            println!("    {} {}", u.code, u.name);
        }
    }
    Ok(())
}

/// Writes the links CSV, readable by the owner only, flushed to disk before the wave opens.
fn write_links(path: &Path, links: &[Link]) -> Result<(), String> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(["email", "name", "unit", "step", "link"])
        .map_err(|e| e.to_string())?;
    for l in links {
        out.write_record([&l.email, &l.name, &l.unit, l.step.as_str(), &l.url])
            .map_err(|e| e.to_string())?;
    }
    let bytes = out.into_inner().map_err(|e| e.to_string())?;
    write_private(path, &bytes).map_err(|e| format!("{e:#}"))
}

/// Writes a file only its owner can read (it holds live tokens) and syncs it.
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

#[derive(Serialize)]
struct Slip {
    code: String,
    url: String,
    qr_svg: String,
}

#[derive(Serialize)]
struct SlipsPage<'a> {
    wave_title: &'a str,
    unit_name: &'a str,
    base_url: &'a str,
    count: usize,
    slips: Vec<Slip>,
}

/// The printable A4 page of slips.
pub fn slips_html(
    state: &AppState,
    wave_title: &str,
    unit_name: &str,
    tokens: &[String],
) -> anyhow::Result<String> {
    let base = &state.config.base_url;
    let slips = tokens
        .iter()
        .map(|t| {
            let url = format!("{base}/s/{t}");
            let qr = qrcode::QrCode::new(url.as_bytes()).context("QR code")?;
            let qr_svg = qr
                .render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(160, 160)
                .build();
            Ok(Slip {
                code: token::grouped(t),
                url,
                qr_svg,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    if slips.is_empty() {
        bail!("no slips to print");
    }
    let page = SlipsPage {
        wave_title,
        unit_name,
        base_url: base,
        count: slips.len(),
        slips,
    };
    Ok(state.templates.render("print/slips", &page)?)
}

/// `sanping wave grade`: records a final grade (the library audits it).
fn grade_cmd(
    conn: &mut crate::db::DbConn,
    wave: i32,
    person: &str,
    grade: &str,
    reason: &str,
    actor: &str,
) -> anyhow::Result<()> {
    let person = person.trim().to_lowercase();
    let id = wave::people_wave::grade(
        conn,
        &wave::people_wave::GradeSpec {
            wave_id: wave,
            person: &person,
            grade,
            reason,
            actor,
        },
    )?;
    println!("wave {wave}: {person} graded {id}");
    Ok(())
}

/// `sanping wave publish`.
fn publish_cmd(
    state: &AppState,
    conn: &mut crate::db::DbConn,
    wave: i32,
    actor: &str,
) -> anyhow::Result<()> {
    super::audited(
        conn,
        actor,
        "wave.publish",
        |conn| wave::publish(conn, wave),
        |()| format!("wave {wave} "),
    )?;
    println!(
        "wave {wave} is published; receipts: {}/w/{wave}/receipts",
        state.config.base_url
    );
    Ok(())
}
