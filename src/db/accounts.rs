//! Admin accounts, login throttling and the audit log.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{audit_log, login_throttle, users};

/// An admin account.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct User {
    /// Login name.
    pub username: String,
    /// Argon2 PHC string.
    pub password_hash: String,
    /// `organizer`, `committee`, `viewer` or `secretary`.
    pub role: String,
    /// When it was created.
    pub created_at: NaiveDateTime,
    /// The account key's public half (X25519); `None` until it is made (at the next login
    /// of an account from before sealing).
    pub public_key: Option<Vec<u8>>,
    /// The Argon2id salt of the key that encrypts the private half.
    pub key_salt: Option<Vec<u8>>,
    /// The private half, encrypted under the password (nonce + ciphertext).
    pub sealed_key: Option<Vec<u8>>,
    /// Sessions made under another epoch are over; bumped by logout, a new password or role,
    /// and disabling.
    pub session_epoch: i32,
    /// A disabled account cannot log in and has no sessions.
    pub disabled: bool,
    /// The code of the unit whose subtree the account sees (a secretary's branch).
    pub scope: Option<String>,
}

impl User {
    /// The stored, password-encrypted private key, if the account has one.
    pub fn wrapped_key(&self) -> Option<crate::domain::seal::WrappedKey> {
        Some(crate::domain::seal::WrappedKey {
            salt: self.key_salt.clone()?,
            sealed: self.sealed_key.clone()?,
        })
    }
}

/// One user.
pub fn find_user(conn: &mut DbConn, username: &str) -> QueryResult<Option<User>> {
    users::table
        .find(username)
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// Makes transactions that add or reset accounts take turns (PostgreSQL; on SQLite the
/// write lock does it): the granter's check of an existing account and the write happen
/// with no other addition in between. The first key ("SA") is apart from the waves' locks.
pub fn hold_accounts(conn: &mut DbConn) -> QueryResult<()> {
    super::advisory_lock(conn, "pg_advisory_xact_lock", 0x5341, 0)
}

/// Creates an account, or replaces an existing one's password, role and key (in place:
/// waves name their key holders by account) and ends its sessions.
pub fn put_user(conn: &mut DbConn, user: &User) -> QueryResult<usize> {
    let updated = diesel::update(users::table.find(&user.username))
        .set((
            users::password_hash.eq(&user.password_hash),
            users::role.eq(&user.role),
            users::public_key.eq(&user.public_key),
            users::key_salt.eq(&user.key_salt),
            users::sealed_key.eq(&user.sealed_key),
            users::session_epoch.eq(users::session_epoch + 1),
            users::scope.eq(&user.scope),
        ))
        .execute(conn)?;
    if updated > 0 {
        return Ok(updated);
    }
    diesel::insert_into(users::table).values(user).execute(conn)
}

/// Stores an account's key pair (made at login for an account that had none, or
/// re-encrypted under a new password).
pub fn set_key(
    conn: &mut DbConn,
    username: &str,
    public_key: &[u8],
    wrapped: &crate::domain::seal::WrappedKey,
) -> QueryResult<usize> {
    diesel::update(users::table.find(username))
        .set((
            users::public_key.eq(public_key),
            users::key_salt.eq(&wrapped.salt),
            users::sealed_key.eq(&wrapped.sealed),
        ))
        .execute(conn)
}

/// An account's role, session epoch, whether it is disabled, and its scope.
pub type SessionState = (String, i32, bool, Option<String>);

/// What a session check needs of an account: its role, session epoch, whether it is
/// disabled, and its scope.
pub fn find_session_state(conn: &mut DbConn, username: &str) -> QueryResult<Option<SessionState>> {
    users::table
        .find(username)
        .select((
            users::role,
            users::session_epoch,
            users::disabled,
            users::scope,
        ))
        .first(conn)
        .optional()
}

/// Ends every session of an account (logout). Returns the rows changed: 0 for no account.
pub fn end_sessions(conn: &mut DbConn, username: &str) -> QueryResult<usize> {
    diesel::update(users::table.find(username))
        .set(users::session_epoch.eq(users::session_epoch + 1))
        .execute(conn)
}

/// Disables or enables an account; either way its sessions end. Returns the rows changed:
/// 0 for no account.
pub fn set_disabled(conn: &mut DbConn, username: &str, disabled: bool) -> QueryResult<usize> {
    diesel::update(users::table.find(username))
        .set((
            users::disabled.eq(disabled),
            users::session_epoch.eq(users::session_epoch + 1),
        ))
        .execute(conn)
}

/// Every account name, sorted.
pub fn usernames(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    users::table
        .select(users::username)
        .order(users::username)
        .load(conn)
}

/// An account as the accounts page lists it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct AccountRow {
    /// Login name.
    pub username: String,
    /// Role name.
    pub role: String,
    /// The unit code of its subtree; `None`: installation-wide.
    pub scope: Option<String>,
    /// Whether it may not log in.
    pub disabled: bool,
}

/// Every account, by name.
pub fn accounts(conn: &mut DbConn) -> QueryResult<Vec<AccountRow>> {
    users::table
        .select(AccountRow::as_select())
        .order(users::username)
        .load(conn)
}

/// A throttle entry: failures so far and until when logins are refused.
pub fn throttle(conn: &mut DbConn, key: &str) -> QueryResult<Option<(i32, NaiveDateTime)>> {
    login_throttle::table
        .find(key)
        .select((login_throttle::failures, login_throttle::locked_until))
        .first(conn)
        .optional()
}

/// Counts one failure against a throttle key in one atomic statement (an upsert, so two
/// processes counting at once both count) and returns the failures so far.
pub fn count_failure(conn: &mut DbConn, key: &str, at: NaiveDateTime) -> QueryResult<i32> {
    use diesel::sql_types::{Integer, Text, Timestamp};
    #[derive(QueryableByName)]
    struct Failures {
        #[diesel(sql_type = Integer)]
        failures: i32,
    }
    let sql = |p: [&str; 2]| {
        format!(
            "INSERT INTO login_throttle (key, failures, locked_until) VALUES ({}, 1, {}) \
             ON CONFLICT (key) DO UPDATE SET failures = login_throttle.failures + 1 \
             RETURNING failures",
            p[0], p[1]
        )
    };
    let row: Failures = match conn {
        DbConn::Sqlite(c) => diesel::sql_query(sql(["?", "?"]))
            .bind::<Text, _>(key)
            .bind::<Timestamp, _>(at)
            .get_result(c)?,
        DbConn::Postgresql(c) => diesel::sql_query(sql(["$1", "$2"]))
            .bind::<Text, _>(key)
            .bind::<Timestamp, _>(at)
            .get_result(c)?,
    };
    Ok(row.failures)
}

/// Takes back one counted failure (a login counted before its password was checked, which
/// turned out right).
pub fn uncount_failure(conn: &mut DbConn, key: &str) -> QueryResult<usize> {
    diesel::update(
        login_throttle::table
            .find(key)
            .filter(login_throttle::failures.gt(0)),
    )
    .set(login_throttle::failures.eq(login_throttle::failures - 1))
    .execute(conn)
}

/// Refuses logins for a throttle key until `until`.
pub fn lock_until(conn: &mut DbConn, key: &str, until: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(login_throttle::table.find(key))
        .set(login_throttle::locked_until.eq(until))
        .execute(conn)
}

/// Forgets a throttle entry (after a successful login).
pub fn clear_throttle(conn: &mut DbConn, key: &str) -> QueryResult<usize> {
    diesel::delete(login_throttle::table.find(key)).execute(conn)
}

/// An audit entry.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = audit_log)]
pub struct AuditEntry {
    /// Random id.
    pub id: String,
    /// When (UTC).
    pub at: NaiveDateTime,
    /// Who: a username, `cli:NAME` for the command line, `system` for the automatic
    /// close, `anonymous` for a failed login.
    pub actor: String,
    /// What, e.g. `wave.open`.
    pub action: String,
    /// Details, e.g. the wave id.
    pub detail: String,
    /// The unit code of the subtree the entry concerns (a wave's scope, an account's, an
    /// import's); `None` for installation-wide entries.
    pub scope: Option<String>,
}

/// Appends to the audit log.
pub fn audit(conn: &mut DbConn, entry: &AuditEntry) -> QueryResult<usize> {
    diesel::insert_into(audit_log::table)
        .values(entry)
        .execute(conn)
}

/// The newest audit entries.
pub fn audit_entries(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<AuditEntry>> {
    audit_log::table
        .order(audit_log::at.desc())
        .limit(limit)
        .select(AuditEntry::as_select())
        .load(conn)
}

/// The newest audit entries whose scope is one of `codes` (the units of a subtree).
pub fn audit_entries_in(
    conn: &mut DbConn,
    codes: &[String],
    limit: i64,
) -> QueryResult<Vec<AuditEntry>> {
    audit_log::table
        .filter(audit_log::scope.eq_any(codes))
        .order(audit_log::at.desc())
        .limit(limit)
        .select(AuditEntry::as_select())
        .load(conn)
}
