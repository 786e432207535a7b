//! `sanping mail …`: deliver, inspect and test the outbox.

use anyhow::Context as _;

use crate::app::AppState;
use crate::db::outbox;
use crate::mail::{self, Mailer, worker};

/// Mail commands.
#[derive(Debug, clap::Subcommand)]
pub enum MailCommand {
    /// Deliver every mail that is due now, then exit.
    Send,
    /// Queued / sent / failed counts, and the failed addresses with their reasons.
    Status {
        /// Only this wave.
        wave: Option<i32>,
    },
    /// Send a test mail and print the server's answer.
    Test {
        /// Where to send it.
        address: String,
    },
}

/// Runs a mail command. With `--as` an account scoped below the whole tree (`acting`),
/// `status` shows only the waves inside its scope, and `send` — which delivers the whole
/// installation's outbox — is refused ([`super::reach::Reach`]).
pub fn run(state: &AppState, cmd: MailCommand, acting: Option<&str>) -> anyhow::Result<()> {
    let mailer = Mailer::from_config(&state.config)?;
    let mut conn = state
        .pool
        .get()
        .context("cannot get a database connection")?;
    let reach = super::reach::Reach::of(&mut conn, acting)?;
    drop(conn);
    match cmd {
        MailCommand::Send => {
            if reach.is_scoped() {
                anyhow::bail!(
                    "mail send delivers every wave's mail, not only your scope's: the server's \
                     operator runs it (without --as), or the running server sends by itself"
                );
            }
            let mut conn = state
                .pool
                .get()
                .context("cannot get a database connection")?;
            let due: i64 = outbox::counts(&mut conn, None)?
                .iter()
                .filter(|(_, s, _)| s == "queued" || s == "sending")
                .map(|(_, _, n)| n)
                .sum();
            drop(conn);
            let bar = indicatif::ProgressBar::new(u64::try_from(due).unwrap_or(0));
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} mails · {per_sec} · {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let stats = worker::deliver_due(
                state,
                &mailer,
                &worker::Policy::from_state(state),
                &mut |s| {
                    bar.set_position((s.sent + s.retried + s.failed + s.skipped) as u64);
                    bar.set_message(format!(
                        "{} sent, {} to retry, {} failed",
                        s.sent, s.retried, s.failed
                    ));
                },
            )?;
            bar.finish_and_clear();
            println!(
                "{} sent, {} to retry later, {} failed, {} skipped (already answered or wave closed)",
                stats.sent, stats.retried, stats.failed, stats.skipped
            );
        }
        MailCommand::Status { wave } => {
            let mut conn = state
                .pool
                .get()
                .context("cannot get a database connection")?;
            // As the console's wave page: counts for the committee, failed addresses for
            // organizers.
            reach.require(crate::auth::Role::Committee, "the mail status")?;
            let organizer = reach.at_least(crate::auth::Role::Organizer);
            // The waves to count: the one named, else every wave (`None`), else, for a
            // scoped account, those inside its scope.
            let waves: Vec<Option<i32>> = match wave {
                Some(id) => {
                    reach.wave(&mut conn, id)?;
                    vec![Some(id)]
                }
                None if !reach.is_scoped() => vec![None],
                None => {
                    let units = reach.units(&mut conn)?;
                    let sees = reach.scope().covering(&units);
                    crate::db::waves::all(&mut conn)?
                        .into_iter()
                        .filter(|w| sees(w.scope.as_deref()))
                        .map(|w| Some(w.id))
                        .collect()
                }
            };
            let mut counts: std::collections::BTreeMap<(String, String), i64> =
                std::collections::BTreeMap::new();
            let mut failed = Vec::new();
            for w in waves {
                for (kind, mail_state, n) in outbox::counts(&mut conn, w)? {
                    *counts.entry((kind, mail_state)).or_default() += n;
                }
                if organizer {
                    failed.extend(outbox::failed(&mut conn, w)?);
                }
            }
            let any_failed = counts.keys().any(|(_, mail_state)| mail_state == "failed");
            println!("{:<12} {:<10} {:>8}", "kind", "state", "mails");
            for ((kind, mail_state), n) in counts {
                println!("{kind:<12} {mail_state:<10} {n:>8}");
            }
            if !organizer && any_failed {
                println!("\n(the failed addresses are shown to organizers only)");
            } else if !failed.is_empty() {
                println!("\nfailed:");
                for m in failed {
                    println!(
                        "  {}  ({} attempt(s)): {}",
                        m.recipient,
                        m.attempts,
                        m.last_error.unwrap_or_default()
                    );
                }
            }
        }
        MailCommand::Test { address } => {
            let message = mail::test_message(mailer.from(), &address)?;
            let sent = mailer.send(&message);
            mailer.finish_round();
            match sent {
                Ok(answer) => println!("accepted: {answer}"),
                Err(e) => anyhow::bail!("refused: {}", e.message),
            }
        }
    }
    Ok(())
}
