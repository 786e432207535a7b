//! The mail outbox.

use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{invitations, outbox, people, units};
use super::waves::Invitation;

/// A queued, sent or failed mail.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox)]
pub struct Mail {
    /// Random id.
    pub id: String,
    /// The wave it belongs to.
    pub wave_id: i32,
    /// The invitation whose link it carries.
    pub invitation_id: String,
    /// `invitation` or `reminder`.
    pub kind: String,
    /// The address.
    pub recipient: String,
    /// `queued`, `sending`, `sent`, `failed` or `skipped`.
    pub state: String,
    /// Delivery attempts so far.
    pub attempts: i32,
    /// When the worker may (re)try it; for `sending`, when the lease runs out.
    pub next_attempt_at: NaiveDateTime,
    /// The last failure.
    pub last_error: Option<String>,
    /// When it was queued.
    pub created_at: NaiveDateTime,
    /// When the server accepted it.
    pub sent_at: Option<NaiveDateTime>,
}

/// Queues mails, many per statement.
pub fn insert(conn: &mut DbConn, mails: &[Mail]) -> QueryResult<()> {
    super::insert_chunks!(conn, outbox::table, mails);
    Ok(())
}

/// The next mail due at `now`: a mail whose lease ran out (`sending`: the worker that took
/// it died) first, else the queued mail due longest.
///
/// Two lookups, each one range of the `(state, next_attempt_at)` index. A single
/// `state IN ('queued', 'sending') … ORDER BY next_attempt_at` made PostgreSQL sort every
/// due mail for each one it sent: 24 ms a mail with 100,000 queued.
pub fn next_due(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<Option<Mail>> {
    match first_due(conn, "sending", now)? {
        Some(mail) => Ok(Some(mail)),
        None => first_due(conn, "queued", now),
    }
}

fn first_due(conn: &mut DbConn, state: &str, now: NaiveDateTime) -> QueryResult<Option<Mail>> {
    outbox::table
        .filter(outbox::state.eq(state))
        .filter(outbox::next_attempt_at.le(now))
        .order(outbox::next_attempt_at)
        .select(Mail::as_select())
        .first(conn)
        .optional()
}

/// Takes a mail for sending if nobody else did meanwhile (the state and attempts must still
/// be what the caller read): returns 1 when the lease is ours. This guard makes concurrent
/// workers — threads, processes, servers — safe on both backends.
pub fn lease(conn: &mut DbConn, mail: &Mail, until: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        outbox::table
            .filter(outbox::id.eq(&mail.id))
            .filter(outbox::state.eq(&mail.state))
            .filter(outbox::attempts.eq(mail.attempts)),
    )
    .set((
        outbox::state.eq("sending"),
        outbox::attempts.eq(mail.attempts + 1),
        outbox::next_attempt_at.eq(until),
    ))
    .execute(conn)
}

/// Records the outcome of an attempt.
pub fn finish(
    conn: &mut DbConn,
    id: &str,
    state: &str,
    next_attempt_at: NaiveDateTime,
    error: Option<&str>,
    sent_at: Option<NaiveDateTime>,
) -> QueryResult<usize> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::state.eq(state),
            outbox::next_attempt_at.eq(next_attempt_at),
            outbox::last_error.eq(error),
            outbox::sent_at.eq(sent_at),
        ))
        .execute(conn)
}

/// An invitation with the person's name (if they are on the roster) and the unit's (if it
/// still exists).
pub type NamedInvitation = (Invitation, Option<String>, Option<String>);

/// A mail's invitation with the names the mail shows: one query instead of three per mail.
pub fn invitation_with_names(
    conn: &mut DbConn,
    invitation_id: &str,
) -> QueryResult<Option<NamedInvitation>> {
    invitations::table
        .left_join(people::table.on(invitations::person.eq(people::email.nullable())))
        .left_join(units::table.on(invitations::unit.eq(units::code)))
        .filter(invitations::id.eq(invitation_id))
        .select((
            Invitation::as_select(),
            people::name.nullable(),
            units::name.nullable(),
        ))
        .first(conn)
        .optional()
}

/// Replaces an invitation's token hash (a fresh token per delivery attempt) and records the
/// hash it replaces as retired, now, so the old link can say when it was replaced. Call it
/// inside the transaction that mints the token: both writes happen or neither.
pub fn set_token_hash(conn: &mut DbConn, invitation_id: &str, hash: &str) -> QueryResult<usize> {
    let current: Option<(i32, Option<String>)> = invitations::table
        .find(invitation_id)
        .select((invitations::wave_id, invitations::token_hash))
        .first(conn)
        .optional()?;
    if let Some((wave_id, Some(old))) = current
        && old != hash
    {
        super::retired::insert(conn, &old, wave_id, chrono::Utc::now().naive_utc())?;
    }
    diesel::update(invitations::table.find(invitation_id))
        .set(invitations::token_hash.eq(hash))
        .execute(conn)
}

/// Counts by (kind, state), for one wave or all.
pub fn counts(conn: &mut DbConn, wave_id: Option<i32>) -> QueryResult<Vec<(String, String, i64)>> {
    let mut q = outbox::table
        .group_by((outbox::kind, outbox::state))
        .select((outbox::kind, outbox::state, count_star()))
        .into_boxed();
    if let Some(w) = wave_id {
        q = q.filter(outbox::wave_id.eq(w));
    }
    q.load(conn)
}

/// Failed mails with their reasons.
pub fn failed(conn: &mut DbConn, wave_id: Option<i32>) -> QueryResult<Vec<Mail>> {
    let mut q = outbox::table
        .filter(outbox::state.eq("failed"))
        .select(Mail::as_select())
        .order(outbox::recipient)
        .into_boxed();
    if let Some(w) = wave_id {
        q = q.filter(outbox::wave_id.eq(w));
    }
    q.load(conn)
}

/// Every mail of a wave as (invitation, state, when sent).
pub fn deliveries(
    conn: &mut DbConn,
    wave_id: i32,
) -> QueryResult<Vec<(String, String, Option<NaiveDateTime>)>> {
    outbox::table
        .filter(outbox::wave_id.eq(wave_id))
        .select((outbox::invitation_id, outbox::state, outbox::sent_at))
        .load(conn)
}

/// Mails per unit of a wave, by state.
pub fn unit_counts(conn: &mut DbConn, wave_id: i32) -> QueryResult<Vec<(String, String, i64)>> {
    outbox::table
        .inner_join(invitations::table.on(invitations::id.eq(outbox::invitation_id)))
        .filter(outbox::wave_id.eq(wave_id))
        // Said of both tables, so that PostgreSQL reads the wave's invitations by their
        // index instead of the whole table: 470 ms → 44 ms for one university's 20,000
        // mails with a province's 2,000,000 invitations present (BENCHMARKS.md).
        .filter(invitations::wave_id.eq(wave_id))
        .group_by((invitations::unit, outbox::state))
        .select((invitations::unit, outbox::state, count_star()))
        .load(conn)
}

/// Takes the installation's next sending slot at least `gap` after the last one taken (by
/// any process) and not before `now`; returns it. One row, read and written under the
/// mail-pace lock (PostgreSQL: an advisory lock; SQLite: the write lock), so two workers
/// never take the same slot.
pub fn take_slot(
    conn: &mut DbConn,
    now: NaiveDateTime,
    gap: std::time::Duration,
) -> QueryResult<NaiveDateTime> {
    use super::schema::mail_pace;
    super::write_tx(conn, |conn| {
        if let DbConn::Postgresql(pg) = conn {
            diesel::sql_query("SELECT pg_advisory_xact_lock(21328, -2)").execute(pg)?;
        }
        let last: Option<NaiveDateTime> = mail_pace::table
            .find(1)
            .select(mail_pace::next_at)
            .first(conn)
            .optional()?;
        let slot = last.map_or(now, |l| l.max(now));
        let next = slot + chrono::Duration::from_std(gap).unwrap_or_default();
        if last.is_some() {
            diesel::update(mail_pace::table.find(1))
                .set(mail_pace::next_at.eq(next))
                .execute(conn)?;
        } else {
            diesel::insert_into(mail_pace::table)
                .values((mail_pace::id.eq(1), mail_pace::next_at.eq(next)))
                .execute(conn)?;
        }
        Ok(slot)
    })
}

/// The mails due now but not sent yet: how many, and the due time of the oldest.
pub fn due(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<(i64, Option<NaiveDateTime>)> {
    outbox::table
        .filter(outbox::state.eq("queued"))
        .filter(outbox::next_attempt_at.le(now))
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::min(outbox::next_attempt_at),
        ))
        .first(conn)
}
