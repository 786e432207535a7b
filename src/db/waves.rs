//! Waves, their invitations and their responses.

use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{invitations, responses, waves};

/// A stored wave.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = waves)]
pub struct Wave {
    /// Sequential id (waves are few and typed by people; their order reveals nothing).
    pub id: i32,
    /// Title shown to respondents.
    pub title: String,
    /// The survey file's content, frozen at creation.
    pub survey: String,
    /// sha256 of `survey`.
    pub fingerprint: String,
    /// Code of the unit whose subtree is evaluated; `None` for the whole tree.
    pub scope: Option<String>,
    /// `draft`, `open`, `closed` or `published`.
    pub state: String,
    /// A rehearsal wave: its responses are marked test.
    pub is_test: bool,
    /// When the wave stops taking answers, even if nobody closes it.
    pub closes_at: Option<NaiveDateTime>,
    /// Creation time.
    pub created_at: NaiveDateTime,
    /// When it was opened.
    pub opened_at: Option<NaiveDateTime>,
    /// When it was closed.
    pub closed_at: Option<NaiveDateTime>,
    /// When its results were published.
    pub published_at: Option<NaiveDateTime>,
    /// Key holders needed to unseal; `None` for a wave from before sealing (answers stored
    /// in the clear).
    pub threshold: Option<i32>,
    /// The wave's public key, set when it opens: answer sheets are sealed to it.
    pub public_key: Option<Vec<u8>>,
    /// When its sheets were unsealed.
    pub unsealed_at: Option<NaiveDateTime>,
    /// `units` (the three steps) or `people` (民主评议), from its survey.
    pub kind: String,
}

/// The `kind` of a people wave (民主评议).
pub const PEOPLE: &str = "people";

impl Wave {
    /// Whether a people wave (民主评议).
    pub fn is_people(&self) -> bool {
        self.kind == PEOPLE
    }

    /// Whether its answers are still sealed: opened with a key and not unsealed yet.
    pub fn is_sealed(&self) -> bool {
        self.public_key.is_some() && self.unsealed_at.is_none()
    }
}

/// A wave without its survey text: what the respondent pages and the mail worker read on
/// every request, and what lists of waves and the API show (a province's hundreds of waves
/// read kilobytes, not 29 KB of survey each). The text is read only when the wave's parsed
/// survey is not cached yet.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = waves)]
pub struct WaveHead {
    /// See [`Wave`].
    pub id: i32,
    pub title: String,
    pub fingerprint: String,
    pub scope: Option<String>,
    pub state: String,
    pub is_test: bool,
    pub closes_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub opened_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub published_at: Option<NaiveDateTime>,
    pub threshold: Option<i32>,
    pub public_key: Option<Vec<u8>>,
    pub unsealed_at: Option<NaiveDateTime>,
    pub kind: String,
}

impl WaveHead {
    /// Whether a people wave (民主评议).
    pub fn is_people(&self) -> bool {
        self.kind == PEOPLE
    }

    /// Whether its answers are still sealed: opened with a key and not unsealed yet.
    pub fn is_sealed(&self) -> bool {
        self.public_key.is_some() && self.unsealed_at.is_none()
    }
}

/// A wave to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = waves)]
pub struct NewWave<'a> {
    /// See [`Wave`].
    pub id: i32,
    pub title: &'a str,
    pub survey: &'a str,
    pub fingerprint: &'a str,
    pub scope: Option<&'a str>,
    pub state: &'a str,
    pub is_test: bool,
    pub closes_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub threshold: Option<i32>,
    pub kind: &'a str,
}

/// A stored invitation.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = invitations)]
pub struct Invitation {
    /// Random id.
    pub id: String,
    /// The wave.
    pub wave_id: i32,
    /// The invited person's address; `None` for a printed slip.
    pub person: Option<String>,
    /// The unit being evaluated.
    pub unit: String,
    /// `mass` (later also `self` and `org`).
    pub step: String,
    /// sha256 of the token, once minted.
    pub token_hash: Option<String>,
    /// Whether the token was used (never when, never for which response).
    pub used: bool,
    /// Reminders queued so far.
    pub reminders: i32,
}

/// A stored response.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = responses)]
pub struct Response {
    /// Random id.
    pub id: String,
    /// The wave.
    pub wave_id: i32,
    /// The unit being evaluated.
    pub unit: String,
    /// JSON object item id → option id.
    pub answers: String,
    /// Free-text comment.
    pub comment: Option<String>,
    /// From a rehearsal wave.
    pub is_test: bool,
}

/// The next wave id.
pub fn next_id(conn: &mut DbConn) -> QueryResult<i32> {
    let max: Option<i32> = waves::table
        .select(diesel::dsl::max(waves::id))
        .first(conn)?;
    Ok(max.unwrap_or(0) + 1)
}

/// Inserts a wave.
pub fn insert(conn: &mut DbConn, wave: &NewWave<'_>) -> QueryResult<usize> {
    diesel::insert_into(waves::table).values(wave).execute(conn)
}

/// One wave.
pub fn find(conn: &mut DbConn, id: i32) -> QueryResult<Option<Wave>> {
    waves::table
        .find(id)
        .select(Wave::as_select())
        .first(conn)
        .optional()
}

/// One wave without its survey text.
pub fn find_head(conn: &mut DbConn, id: i32) -> QueryResult<Option<WaveHead>> {
    waves::table
        .find(id)
        .select(WaveHead::as_select())
        .first(conn)
        .optional()
}

/// Open waves whose closing time is at or before `at`.
pub fn overdue(conn: &mut DbConn, at: NaiveDateTime) -> QueryResult<Vec<i32>> {
    waves::table
        .filter(waves::state.eq("open"))
        .filter(waves::closes_at.le(at))
        .select(waves::id)
        .order(waves::id.asc())
        .load(conn)
}

/// Sets a wave's closing time.
pub fn set_closes_at(conn: &mut DbConn, id: i32, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(waves::table.find(id))
        .set(waves::closes_at.eq(at))
        .execute(conn)
}

/// Sets a draft wave's editable fields: title, scope, closing time and threshold. Only a
/// wave still in draft is touched; returns the rows changed (0: not a draft any more).
pub fn update_draft(
    conn: &mut DbConn,
    id: i32,
    title: &str,
    scope: Option<&str>,
    closes_at: Option<NaiveDateTime>,
    threshold: i32,
) -> QueryResult<usize> {
    diesel::update(
        waves::table
            .filter(waves::id.eq(id))
            .filter(waves::state.eq("draft")),
    )
    .set((
        waves::title.eq(title),
        waves::scope.eq(scope),
        waves::closes_at.eq(closes_at),
        waves::threshold.eq(Some(threshold)),
    ))
    .execute(conn)
}

/// Gives every wave of the whole tree (`scope` NULL) the scope `code`: when the tree gains a
/// new root above the old one (the demo's province), the old waves keep evaluating what they
/// did, now named as the subtree they lie in. Returns the rows changed.
pub fn scope_unscoped(conn: &mut DbConn, code: &str) -> QueryResult<usize> {
    diesel::update(waves::table.filter(waves::scope.is_null()))
        .set(waves::scope.eq(Some(code)))
        .execute(conn)
}

/// Every wave without its survey text, newest first.
pub fn all(conn: &mut DbConn) -> QueryResult<Vec<WaveHead>> {
    waves::table
        .select(WaveHead::as_select())
        .order(waves::id.desc())
        .load(conn)
}

/// The newest wave before `id` with the same scope whose results are final (closed or
/// published, and not still sealed): what a dashboard compares with. Only the same scope: in
/// an installation holding a province, the wave before a university's wave by id is mostly
/// another university's, which shares no unit with it (and lies outside a scoped account's
/// view).
pub fn previous_final(conn: &mut DbConn, id: i32, scope: Option<&str>) -> QueryResult<Option<i32>> {
    let query = waves::table
        .filter(waves::id.lt(id))
        .filter(waves::state.eq_any(["closed", "published"]))
        .filter(
            waves::public_key
                .is_null()
                .or(waves::unsealed_at.is_not_null()),
        )
        .select(waves::id)
        .order(waves::id.desc())
        .into_boxed();
    let query = match scope {
        Some(code) => query.filter(waves::scope.eq(code.to_owned())),
        None => query.filter(waves::scope.is_null()),
    };
    query.first(conn).optional()
}

/// Moves a wave from `from` to `to`, stamping `at` into the matching time column. Returns
/// the rows changed: 0 when the wave was no longer in `from` (a concurrent change won).
pub fn transition(
    conn: &mut DbConn,
    id: i32,
    from: &str,
    to: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    let target = waves::table
        .filter(waves::id.eq(id))
        .filter(waves::state.eq(from));
    match to {
        "open" => diesel::update(target)
            .set((waves::state.eq(to), waves::opened_at.eq(at)))
            .execute(conn),
        "closed" => diesel::update(target)
            .set((waves::state.eq(to), waves::closed_at.eq(at)))
            .execute(conn),
        "published" => diesel::update(target)
            .set((waves::state.eq(to), waves::published_at.eq(at)))
            .execute(conn),
        _ => diesel::update(target)
            .set((
                waves::state.eq(to),
                waves::opened_at.eq(None::<NaiveDateTime>),
                waves::closed_at.eq(None::<NaiveDateTime>),
                waves::published_at.eq(None::<NaiveDateTime>),
                waves::public_key.eq(None::<Vec<u8>>),
                waves::unsealed_at.eq(None::<NaiveDateTime>),
            ))
            .execute(conn),
    }
}

/// Stores the public key a wave's sheets are sealed to (when it opens).
pub fn set_public_key(conn: &mut DbConn, id: i32, key: &[u8]) -> QueryResult<usize> {
    diesel::update(waves::table.find(id))
        .set(waves::public_key.eq(key))
        .execute(conn)
}

/// Marks a wave's sheets unsealed.
pub fn set_unsealed(conn: &mut DbConn, id: i32, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(waves::table.find(id).filter(waves::unsealed_at.is_null()))
        .set(waves::unsealed_at.eq(at))
        .execute(conn)
}

/// Inserts responses, many per statement (the opened sheets of a wave, in random order).
pub fn insert_responses(conn: &mut DbConn, rows: &[Response]) -> QueryResult<()> {
    super::insert_chunks!(conn, responses::table, rows);
    Ok(())
}

/// Inserts invitations, many per statement.
pub fn insert_invitations(conn: &mut DbConn, rows: &[Invitation]) -> QueryResult<()> {
    super::insert_chunks!(conn, invitations::table, rows);
    Ok(())
}

/// One invitation.
pub fn find_invitation(conn: &mut DbConn, id: &str) -> QueryResult<Option<Invitation>> {
    invitations::table
        .find(id)
        .select(Invitation::as_select())
        .first(conn)
        .optional()
}

/// The unused mass invitations of people (not slips) in a wave with fewer than `max` reminders.
pub fn unanswered(conn: &mut DbConn, wave_id: i32, max: i32) -> QueryResult<Vec<Invitation>> {
    invitations::table
        .filter(invitations::wave_id.eq(wave_id))
        .filter(invitations::used.eq(false))
        .filter(invitations::person.is_not_null())
        .filter(invitations::step.eq("mass"))
        .filter(invitations::reminders.lt(max))
        .select(Invitation::as_select())
        .load(conn)
}

/// Counts one more reminder for each of these invitations.
pub fn count_reminders(conn: &mut DbConn, ids: &[&str]) -> QueryResult<()> {
    for chunk in ids.chunks(super::INSERT_CHUNK) {
        diesel::update(invitations::table.filter(invitations::id.eq_any(chunk)))
            .set(invitations::reminders.eq(invitations::reminders + 1))
            .execute(conn)?;
    }
    Ok(())
}

/// The invitation holding this token hash.
pub fn find_invitation_by_hash(conn: &mut DbConn, hash: &str) -> QueryResult<Option<Invitation>> {
    invitations::table
        .filter(invitations::token_hash.eq(hash))
        .select(Invitation::as_select())
        .first(conn)
        .optional()
}

/// The invitation holding this token hash and its wave's head, in one query: every page
/// and submission of a link starts here.
pub fn find_invitation_with_wave(
    conn: &mut DbConn,
    hash: &str,
) -> QueryResult<Option<(Invitation, WaveHead)>> {
    invitations::table
        .inner_join(waves::table)
        .filter(invitations::token_hash.eq(hash))
        .select((Invitation::as_select(), WaveHead::as_select()))
        .first(conn)
        .optional()
}

/// Marks an invitation used (a submitted self-assessment).
pub fn burn(conn: &mut DbConn, invitation_id: &str) -> QueryResult<usize> {
    diesel::update(invitations::table.find(invitation_id))
        .set(invitations::used.eq(true))
        .execute(conn)
}

/// Marks an unused invitation used, if its token is still `token_hash` (a reminder retires
/// the old token) and its wave takes answers at `now` (open and before its closing time:
/// `wave::accepts_answers` in SQL), in one statement: a submission's common path needs no
/// read of the wave inside its transaction. Returns 0 when it was already used, its token
/// retired or its wave closed, so of two racing submissions exactly one gets 1.
pub fn burn_token_while_open(
    conn: &mut DbConn,
    invitation_id: &str,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let taking = waves::table
        .filter(waves::id.eq(invitations::wave_id))
        .filter(waves::state.eq("open"))
        .filter(waves::closes_at.is_null().or(waves::closes_at.gt(now)));
    diesel::update(
        invitations::table
            .filter(invitations::id.eq(invitation_id))
            .filter(invitations::token_hash.eq(token_hash))
            .filter(invitations::used.eq(false))
            .filter(diesel::dsl::exists(taking)),
    )
    .set(invitations::used.eq(true))
    .execute(conn)
}

/// Whether an invitation is still unused with this token, taking its row's lock until the
/// transaction ends (an update that changes nothing): a burn of the same link in another
/// process waits for this transaction, or this one sees the link burned.
pub fn hold_unused(conn: &mut DbConn, invitation_id: &str, token_hash: &str) -> QueryResult<bool> {
    let n = diesel::update(
        invitations::table
            .filter(invitations::id.eq(invitation_id))
            .filter(invitations::token_hash.eq(token_hash))
            .filter(invitations::used.eq(false)),
    )
    .set(invitations::used.eq(false))
    .execute(conn)?;
    Ok(n == 1)
}

/// Stores a response.
pub fn insert_response(conn: &mut DbConn, response: &Response) -> QueryResult<usize> {
    diesel::insert_into(responses::table)
        .values(response)
        .execute(conn)
}

/// Per unit: mass invitations issued and used (the response rate's denominator).
pub fn invitation_counts(conn: &mut DbConn, wave_id: i32) -> QueryResult<Vec<(String, bool, i64)>> {
    invitations::table
        .filter(invitations::wave_id.eq(wave_id))
        .filter(invitations::step.eq("mass"))
        .group_by((invitations::unit, invitations::used))
        .select((invitations::unit, invitations::used, count_star()))
        .load(conn)
}

/// Per unit: responses stored.
pub fn response_counts(conn: &mut DbConn, wave_id: i32) -> QueryResult<Vec<(String, i64)>> {
    responses::table
        .filter(responses::wave_id.eq(wave_id))
        .group_by(responses::unit)
        .select((responses::unit, count_star()))
        .load(conn)
}

/// Every response of a wave, in storage order (which carries no meaning).
pub fn responses_of(conn: &mut DbConn, wave_id: i32) -> QueryResult<Vec<Response>> {
    responses::table
        .filter(responses::wave_id.eq(wave_id))
        .select(Response::as_select())
        .load(conn)
}

/// Calls `f(unit, answers)` for every response of a wave, one row at a time (a million
/// responses are never held in memory at once).
pub fn for_each_sheet(
    conn: &mut DbConn,
    wave_id: i32,
    mut f: impl FnMut(&str, &str),
) -> QueryResult<()> {
    let rows = responses::table
        .filter(responses::wave_id.eq(wave_id))
        .select((responses::unit, responses::answers))
        .load_iter::<(String, String), diesel::connection::DefaultLoadingMode>(conn)?;
    for row in rows {
        let (unit, answers) = row?;
        f(&unit, &answers);
    }
    Ok(())
}

/// Every comment of a wave with its unit, through the partial index on comments.
pub fn comments_of(conn: &mut DbConn, wave_id: i32) -> QueryResult<Vec<(String, String)>> {
    responses::table
        .filter(responses::wave_id.eq(wave_id))
        .filter(responses::comment.is_not_null())
        .select((responses::unit, responses::comment.assume_not_null()))
        .load(conn)
}

/// What [`purge`] would delete now: (opened responses, invitations, self-assessment and
/// committee sheets).
pub fn purge_counts(conn: &mut DbConn, wave_id: i32) -> QueryResult<(i64, i64, i64)> {
    use super::schema::assessments;
    let responses = responses::table
        .filter(responses::wave_id.eq(wave_id))
        .select(count_star())
        .first(conn)?;
    let invitations = invitations::table
        .filter(invitations::wave_id.eq(wave_id))
        .select(count_star())
        .first(conn)?;
    let sheets = assessments::table
        .filter(assessments::wave_id.eq(wave_id))
        .select(count_star())
        .first(conn)?;
    Ok((responses, invitations, sheets))
}

/// Deletes a wave's responses and invitations (rehearsal reset). Returns (responses, invitations).
pub fn purge(conn: &mut DbConn, wave_id: i32) -> QueryResult<(usize, usize)> {
    diesel::delete(
        super::schema::assessments::table.filter(super::schema::assessments::wave_id.eq(wave_id)),
    )
    .execute(conn)?;
    diesel::delete(super::schema::outbox::table.filter(super::schema::outbox::wave_id.eq(wave_id)))
        .execute(conn)?;
    super::retired::delete_of_wave(conn, wave_id)?;
    let r =
        diesel::delete(responses::table.filter(responses::wave_id.eq(wave_id))).execute(conn)?;
    let i = diesel::delete(invitations::table.filter(invitations::wave_id.eq(wave_id)))
        .execute(conn)?;
    Ok((r, i))
}

/// The first key of the advisory locks on waves ("SP"), apart from any other application's.
const WAVE_LOCK: i32 = 0x5350;

/// Makes a concurrent close (or purge) of the wave wait until this transaction ends, and
/// this transaction wait for one already running. Taken by a submission before it reads
/// the wave's state, so no response is stored after the close counted the responses.
///
/// On SQLite every writing transaction holds the database's write lock already
/// (`BEGIN IMMEDIATE`), so nothing is done. On PostgreSQL it is a shared advisory lock:
/// submissions do not wait for each other, and no row is written to take it.
pub fn hold_shared(conn: &mut DbConn, wave_id: i32) -> QueryResult<()> {
    advisory_lock(conn, "pg_advisory_xact_lock_shared", wave_id)
}

/// Makes writers of the installation's chain of wave records take turns (PostgreSQL; on
/// SQLite the write lock does it), so two records never name the same predecessor.
pub fn hold_chain(conn: &mut DbConn) -> QueryResult<()> {
    // Wave ids start at 1: key 0 is free for the chain.
    advisory_lock(conn, "pg_advisory_xact_lock", 0)
}

/// The exclusive counterpart of [`hold_shared`], taken by close and purge.
pub fn hold_exclusive(conn: &mut DbConn, wave_id: i32) -> QueryResult<()> {
    advisory_lock(conn, "pg_advisory_xact_lock", wave_id)
}

fn advisory_lock(conn: &mut DbConn, function: &str, wave_id: i32) -> QueryResult<()> {
    super::advisory_lock(conn, function, WAVE_LOCK, wave_id)
}

/// Rewrites a wave's responses in random physical order.
///
/// PostgreSQL stores rows in insertion order, so a dump read without `ORDER BY` could be
/// lined up with a web server's access log of `/s/{token}` requests. On SQLite the table is
/// `WITHOUT ROWID` keyed by a random id, so its order is already random and nothing is done.
pub fn shuffle_responses(conn: &mut DbConn, wave_id: i32) -> QueryResult<()> {
    use diesel::sql_types::Integer;
    let DbConn::Postgresql(pg) = conn else {
        return Ok(());
    };
    diesel::sql_query(
        "CREATE TEMP TABLE shuffled_responses ON COMMIT DROP AS \
         SELECT * FROM responses WHERE wave_id = $1 ORDER BY random()",
    )
    .bind::<Integer, _>(wave_id)
    .execute(pg)?;
    diesel::sql_query("DELETE FROM responses WHERE wave_id = $1")
        .bind::<Integer, _>(wave_id)
        .execute(pg)?;
    diesel::sql_query("INSERT INTO responses SELECT * FROM shuffled_responses").execute(pg)?;
    Ok(())
}
