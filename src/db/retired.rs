//! Retired tokens: the hash of a token that a reminder or a retried delivery replaced, with
//! its wave and when, so the old link can say it was replaced rather than unknown. Never a
//! raw token, never the person or the invitation.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::retired_tokens;

/// Records that the token hashed `token_hash` of wave `wave_id` was replaced at `at`. A hash
/// already recorded keeps its first time.
pub fn insert(
    conn: &mut DbConn,
    token_hash: &str,
    wave_id: i32,
    at: NaiveDateTime,
) -> QueryResult<()> {
    if find(conn, token_hash)?.is_none() {
        diesel::insert_into(retired_tokens::table)
            .values((
                retired_tokens::token_hash.eq(token_hash),
                retired_tokens::wave_id.eq(wave_id),
                retired_tokens::retired_at.eq(at),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The wave of a retired token and when it was replaced.
pub fn find(conn: &mut DbConn, token_hash: &str) -> QueryResult<Option<(i32, NaiveDateTime)>> {
    retired_tokens::table
        .find(token_hash)
        .select((retired_tokens::wave_id, retired_tokens::retired_at))
        .first(conn)
        .optional()
}

/// Forgets a wave's retired tokens (its invitations are being deleted).
pub fn delete_of_wave(conn: &mut DbConn, wave_id: i32) -> QueryResult<usize> {
    diesel::delete(retired_tokens::table.filter(retired_tokens::wave_id.eq(wave_id))).execute(conn)
}
