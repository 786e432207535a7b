//! The outbox worker: takes due mails one by one, mints each link's token at send time and
//! records the outcome. Runs inside `sanping serve` and as `sanping mail send`.
//!
//! Promise: the raw token is never at rest. Each attempt mints a fresh token, stores only
//! its hash on the invitation (replacing the previous one) and puts the token only into the
//! message handed to the transport. A mail is leased before it is sent and marked after, so a
//! crash between the two re-sends it once the lease runs out (at least once), and a normal
//! run sends it exactly once.

use std::time::Duration;

use chrono::{NaiveDateTime, Utc};
use lettre::message::Mailbox;

use super::{MailContext, Mailer, SendError, compose};
use crate::app::AppState;
use crate::db::outbox::{self, Mail};
use crate::db::waves::{self, WaveHead};
use crate::db::{self, DbConn};
use crate::domain::token;
use crate::wave;

/// How delivery behaves.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Attempts before a mail is marked failed.
    pub max_attempts: i32,
    /// The first retry waits this long; each further one twice as long (capped at an hour).
    pub backoff: Duration,
    /// How long a taken mail stays taken before another worker may retry it.
    pub lease: Duration,
    /// Mails per second at most, for the whole installation (every process takes its slots
    /// from the database).
    pub rate: Option<f64>,
    /// Set to stop after the mail in hand (a graceful shutdown): checked between mails.
    pub stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Policy {
    /// The policy the configuration asks for.
    pub fn from_state(state: &AppState) -> Self {
        Self {
            max_attempts: state.config.mail_max_attempts,
            backoff: Duration::from_secs(30),
            lease: Duration::from_mins(5),
            rate: state.config.mail_rate,
            stop: std::sync::Arc::default(),
        }
    }

    /// The wait before attempt `attempts + 1`.
    pub fn delay(&self, attempts: i32) -> Duration {
        let factor = 2u32.saturating_pow(u32::try_from(attempts.max(1) - 1).unwrap_or(0).min(16));
        self.backoff
            .saturating_mul(factor)
            .min(Duration::from_hours(1))
    }
}

/// What a round of delivery did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Accepted by the server.
    pub sent: usize,
    /// Failed for now; will be retried.
    pub retried: usize,
    /// Failed for good.
    pub failed: usize,
    /// Not sent because the invitation was used or the wave no longer open.
    pub skipped: usize,
}

enum Job {
    Send(Box<(Mail, Mailbox, MailContext, &'static str)>),
    Done,
}

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

fn later(d: Duration) -> NaiveDateTime {
    now() + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::hours(1))
}

/// Takes the next due mail and mints its token; `None` when nothing is due.
fn take(
    conn: &mut DbConn,
    state: &AppState,
    policy: &Policy,
    stats: &mut Stats,
) -> Result<Option<Job>, diesel::result::Error> {
    db::write_tx(conn, |conn| {
        let Some(mail) = outbox::next_due(conn, now())? else {
            return Ok(None);
        };
        if outbox::lease(conn, &mail, later(policy.lease))? != 1 {
            return Ok(Some(Job::Done));
        }
        let found = outbox::invitation_with_names(conn, &mail.invitation_id)?;
        let wave = waves::find_head(conn, mail.wave_id)?;
        let (Some((invitation, person_name, unit_name)), Some(wave)) = (found, wave) else {
            outbox::finish(
                conn,
                &mail.id,
                "failed",
                now(),
                Some("invitation or wave gone"),
                None,
            )?;
            stats.failed += 1;
            return Ok(Some(Job::Done));
        };
        if let Some(reason) = skip_reason(&wave, invitation.used) {
            outbox::finish(conn, &mail.id, "skipped", now(), Some(reason), None)?;
            stats.skipped += 1;
            return Ok(Some(Job::Done));
        }
        let unit_name = unit_name.unwrap_or_else(|| invitation.unit.clone());
        let name = person_name.unwrap_or_default();
        let Ok(address) = mail.recipient.parse() else {
            outbox::finish(
                conn,
                &mail.id,
                "failed",
                now(),
                Some("not a valid address"),
                None,
            )?;
            stats.failed += 1;
            return Ok(Some(Job::Done));
        };
        let raw = token::mint();
        outbox::set_token_hash(conn, &invitation.id, &token::hash(&raw))?;
        // Names and titles go into headers: a line break from an old import must not
        // break the message (or the worker).
        let name = one_line(&name);
        let ctx = MailContext {
            name: name.clone(),
            unit_name: one_line(&unit_name),
            wave_title: one_line(&wave.title),
            closes: wave.closes_at.map_or_else(
                || "由组织部另行通知".to_owned(),
                crate::web::respond::local_time,
            ),
            link: format!("{}/s/{raw}", state.config.base_url),
            fingerprint: wave.fingerprint.clone(),
        };
        let to = Mailbox::new((!name.is_empty()).then_some(name), address);
        let template = if wave.is_people() {
            match (mail.kind.as_str(), invitation.step.as_str()) {
                ("reminder", _) => "people_reminder",
                (_, "self") => "summary",
                _ => "rating",
            }
        } else {
            match (mail.kind.as_str(), invitation.step.as_str()) {
                ("reminder", _) => "reminder",
                (_, "self") => "self",
                (_, "org") => "org",
                _ => "invitation",
            }
        };
        Ok(Some(Job::Send(Box::new((mail, to, ctx, template)))))
    })
}

/// Text for a mail header: control characters (line breaks above all) become spaces.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

fn skip_reason(wave: &WaveHead, used: bool) -> Option<&'static str> {
    if used {
        Some("already answered")
    } else if !wave::accepts_answers(wave, now()) {
        Some("the wave no longer takes answers")
    } else {
        None
    }
}

fn record(
    conn: &mut DbConn,
    mail: &Mail,
    policy: &Policy,
    outcome: &Result<String, SendError>,
    stats: &mut Stats,
) -> diesel::QueryResult<()> {
    let attempts = mail.attempts + 1;
    match outcome {
        Ok(_) => {
            outbox::finish(conn, &mail.id, "sent", now(), None, Some(now()))?;
            stats.sent += 1;
        }
        Err(e) if e.permanent || attempts >= policy.max_attempts => {
            outbox::finish(conn, &mail.id, "failed", now(), Some(&e.message), None)?;
            stats.failed += 1;
        }
        Err(e) => {
            outbox::finish(
                conn,
                &mail.id,
                "queued",
                later(policy.delay(attempts)),
                Some(&e.message),
                None,
            )?;
            stats.retried += 1;
        }
    }
    Ok(())
}

/// Delivers every mail that is due now, one by one; stops early when the server cannot be
/// reached (the rest stays queued). `progress` is called after each mail.
pub fn deliver_due(
    state: &AppState,
    mailer: &Mailer,
    policy: &Policy,
    progress: &mut dyn FnMut(&Stats),
) -> anyhow::Result<Stats> {
    let mut conn = state.pool.get()?;
    let mut stats = Stats::default();
    let gap = policy.rate.map(|r| Duration::from_secs_f64(1.0 / r));
    while !policy.stop.load(std::sync::atomic::Ordering::SeqCst) {
        let Some(job) = take(&mut conn, state, policy, &mut stats)? else {
            break;
        };
        let Job::Send(job) = job else {
            progress(&stats);
            continue;
        };
        let (mail, to, ctx, template) = *job;
        let stem = format!(
            "wave{}-{template}-{}-{}",
            mail.wave_id,
            mail.recipient,
            &mail.id[..8.min(mail.id.len())]
        );
        if let Some(gap) = gap {
            // The installation's next slot, shared by every process.
            let slot = outbox::take_slot(&mut conn, now(), gap)?;
            std::thread::sleep((slot - now()).to_std().unwrap_or_default());
        }
        // One bad mail must never stop the queue: a panic while building or sending it
        // fails that mail, with its reason, and the rest go on.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            match compose(&state.templates, template, mailer.from(), to, &ctx) {
                Ok(message) => mailer.send_as(&message, &stem),
                Err(e) => Err(SendError {
                    permanent: true,
                    unreachable: false,
                    message: format!("cannot compose the mail: {e:#}"),
                }),
            }
        }))
        .unwrap_or_else(|panic| {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            Err(SendError {
                permanent: true,
                unreachable: false,
                message: format!("the mail could not be built or sent: {why}"),
            })
        });
        drop(ctx);
        // One UPDATE: a transaction of its own, no BEGIN and COMMIT needed around it.
        record(&mut conn, &mail, policy, &outcome, &mut stats)?;
        progress(&stats);
        if let Err(e) = &outcome
            && e.unreachable
        {
            tracing::warn!(error = %e.message, "mail server unreachable; the queue waits for the next round");
            break;
        }
    }
    mailer.finish_round();
    Ok(stats)
}

/// The worker running inside `sanping serve`: stop it to let the mail in hand finish.
pub struct Worker {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Worker {
    /// Stops after the mail in hand and waits for it at most `wait`; returns whether the
    /// worker finished (otherwise its mail stays leased until the lease runs out).
    pub fn stop(self, wait: Duration) -> bool {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let deadline = std::time::Instant::now() + wait;
        while !self.thread.is_finished() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.thread.is_finished()
    }
}

/// Runs delivery rounds on a thread of its own (inside `sanping serve`) until stopped. It
/// marks `state.mail_beat` after every mail and round, which `/healthz` reads.
pub fn spawn(state: AppState, mailer: Mailer) -> Worker {
    let policy = Policy::from_state(&state);
    let stop = policy.stop.clone();
    let beat = state.mail_beat.clone();
    let mark = move || beat.store(Utc::now().timestamp(), std::sync::atomic::Ordering::SeqCst);
    mark();
    let thread = std::thread::Builder::new()
        .name("mail-worker".into())
        .spawn(move || {
            while !policy.stop.load(std::sync::atomic::Ordering::SeqCst) {
                // A round that panics is logged and the next one starts: the worker lives
                // as long as the server.
                let round = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    deliver_due(&state, &mailer, &policy, &mut |_| mark())
                }))
                .unwrap_or_else(|_| Err(anyhow::anyhow!("the delivery round panicked")));
                mark();
                match round {
                    Ok(s) if s != Stats::default() => tracing::info!(
                        sent = s.sent,
                        retried = s.retried,
                        failed = s.failed,
                        skipped = s.skipped,
                        "mail round"
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %format!("{e:#}"), "mail round failed"),
                }
                for _ in 0..20 {
                    if policy.stop.load(std::sync::atomic::Ordering::SeqCst) {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        })
        .expect("spawn the mail worker");
    Worker { stop, thread }
}
