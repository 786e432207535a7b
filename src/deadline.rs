//! Closing times: a wave whose `closes_at` has passed is closed by itself (once, by
//! whichever process gets there first: the ticker inside `sanping serve` or the next CLI
//! command that touches waves), and an organizer may move an open wave's closing time later.

use std::time::Duration;

use chrono::{NaiveDateTime, Utc};

use crate::db::{self, DbConn, Pool, waves};
use crate::wave::{self, State, WaveError};

/// The actor of the automatic close in the audit log.
pub const SYSTEM: &str = "system";

/// How often `sanping serve` looks for waves past their closing time.
pub const TICK: Duration = Duration::from_secs(2);

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// Closes every open wave whose closing time has passed, each in one transaction with its
/// `wave.close` audit entry (actor `system`). Safe to run from several processes at once:
/// each wave is re-read under its exclusive lock, so a second closer finds it closed and
/// does nothing. Returns the waves this call closed.
pub fn close_overdue(conn: &mut DbConn) -> Result<Vec<i32>, WaveError> {
    let at = now();
    let mut closed = Vec::new();
    for id in waves::overdue(conn, at)? {
        let done = db::write_tx(conn, |conn| -> Result<bool, WaveError> {
            // The same lock `wave::close` takes (re-entrant): whoever comes second waits,
            // then reads the state the first one left.
            waves::hold_exclusive(conn, id)?;
            let Some(w) = waves::find(conn, id)? else {
                return Ok(false);
            };
            let due = w.closes_at.filter(|c| *c <= at);
            let Some(closes) = due.filter(|_| State::parse(&w.state) == State::Open) else {
                return Ok(false);
            };
            wave::close(conn, id)?;
            crate::auth::record(
                conn,
                SYSTEM,
                "wave.close",
                &format!(
                    "wave {id}: closing time passed ({} UTC)",
                    closes.format("%Y-%m-%d %H:%M")
                ),
            )?;
            Ok(true)
        })?;
        if done {
            tracing::info!(wave = id, "closing time passed: wave closed");
            closed.push(id);
        }
    }
    Ok(closed)
}

/// Moves the closing time of a draft or open wave to `closes_at`, which must lie in the
/// future and after the current closing time (to stop earlier, close the wave). A wave
/// whose closing time passed but that nobody has closed yet takes answers again. Audited
/// as `wave.extend` by `actor` in the same transaction. Returns the previous closing time.
pub fn extend(
    conn: &mut DbConn,
    id: i32,
    closes_at: NaiveDateTime,
    actor: &str,
) -> Result<Option<NaiveDateTime>, WaveError> {
    if closes_at <= now() {
        let at = closes_at.format("%Y-%m-%d %H:%M");
        return Err(WaveError::refused(
            format!("截止时间 {at}（UTC）已过，请选择更晚的时间。"),
            format!("the closing time {at} (UTC) is in the past; choose a later one"),
        ));
    }
    db::write_tx(conn, |conn| {
        // Serialized with the automatic close: extension and close do not cross.
        waves::hold_exclusive(conn, id)?;
        let w = wave::get(conn, id)?;
        let state = State::parse(&w.state);
        if !matches!(state, State::Draft | State::Open) {
            return Err(WaveError::State {
                id,
                state: state.as_str(),
                action: crate::wave::Action::Extending,
                needed: "draft or open",
            });
        }
        if let Some(old) = w.closes_at
            && closes_at <= old
        {
            let old = old.format("%Y-%m-%d %H:%M");
            return Err(WaveError::refused(
                format!(
                    "批次 {id} 的截止时间已是 {old}（UTC），延期须晚于该时间（要提前结束，请关闭批次）。"
                ),
                format!(
                    "wave {id} closes at {old} (UTC) already; an extension must be later (to stop \
                     earlier, close the wave)"
                ),
            ));
        }
        waves::set_closes_at(conn, id, closes_at)?;
        let fmt = |t: NaiveDateTime| t.format("%Y-%m-%d %H:%M").to_string();
        crate::auth::record(
            conn,
            actor,
            "wave.extend",
            &format!(
                "wave {id}: closes at {} UTC (was {})",
                fmt(closes_at),
                w.closes_at.map_or_else(|| "not set".to_owned(), fmt)
            ),
        )?;
        Ok(w.closes_at)
    })
}

/// Runs [`close_overdue`] every `every` on a thread of its own (inside `sanping serve`).
pub fn spawn(pool: Pool, every: Duration) {
    std::thread::Builder::new()
        .name("deadlines".into())
        .spawn(move || {
            loop {
                let result = pool
                    .get()
                    .map_err(|e| WaveError::Invalid(e.to_string()))
                    .and_then(|mut conn| close_overdue(&mut conn));
                if let Err(e) = result {
                    tracing::warn!(error = %e, "closing overdue waves failed");
                }
                std::thread::sleep(every);
            }
        })
        .expect("spawn the deadline ticker");
}
