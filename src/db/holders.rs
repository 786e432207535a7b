//! The key holders of waves: who they are, their encrypted shares of a wave's private key,
//! and whether they have shown that their password unlocks them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{users, wave_holders, waves};

/// A key holder of a wave, with their account's public key.
#[derive(Debug, Clone, Queryable)]
pub struct Holder {
    /// The account.
    pub username: String,
    /// The account key's public half (`None`: the account has no key yet).
    pub account_key: Option<Vec<u8>>,
    /// Their share, encrypted to the account key (set when the wave opens).
    pub share: Option<Vec<u8>>,
    /// When they last showed that their password unlocks it.
    pub confirmed_at: Option<NaiveDateTime>,
}

/// Names the key holders of a (new) wave.
pub fn insert(conn: &mut DbConn, wave_id: i32, usernames: &[String]) -> QueryResult<()> {
    for name in usernames {
        diesel::insert_into(wave_holders::table)
            .values((
                wave_holders::wave_id.eq(wave_id),
                wave_holders::username.eq(name),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Replaces the key holders of a draft wave (it has no shares yet): those no longer named
/// are removed, the new ones added; those who stay keep their key check.
pub fn replace(conn: &mut DbConn, wave_id: i32, usernames: &[String]) -> QueryResult<()> {
    diesel::delete(
        wave_holders::table
            .filter(wave_holders::wave_id.eq(wave_id))
            .filter(wave_holders::username.ne_all(usernames)),
    )
    .execute(conn)?;
    let kept: Vec<String> = wave_holders::table
        .filter(wave_holders::wave_id.eq(wave_id))
        .select(wave_holders::username)
        .load(conn)?;
    let added: Vec<String> = usernames
        .iter()
        .filter(|n| !kept.contains(n))
        .cloned()
        .collect();
    insert(conn, wave_id, &added)
}

/// The key holders of a wave, by name.
pub fn of_wave(conn: &mut DbConn, wave_id: i32) -> QueryResult<Vec<Holder>> {
    wave_holders::table
        .inner_join(users::table.on(users::username.eq(wave_holders::username)))
        .filter(wave_holders::wave_id.eq(wave_id))
        .order(wave_holders::username)
        .select((
            wave_holders::username,
            users::public_key,
            wave_holders::share,
            wave_holders::confirmed_at,
        ))
        .load(conn)
}

/// Stores a holder's encrypted share (when the wave opens).
pub fn set_share(
    conn: &mut DbConn,
    wave_id: i32,
    username: &str,
    share: &[u8],
) -> QueryResult<usize> {
    diesel::update(wave_holders::table.find((wave_id, username)))
        .set(wave_holders::share.eq(share))
        .execute(conn)
}

/// Notes that a holder showed their password unlocks their key.
pub fn confirm(
    conn: &mut DbConn,
    wave_id: i32,
    username: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(wave_holders::table.find((wave_id, username)))
        .set(wave_holders::confirmed_at.eq(at))
        .execute(conn)
}

/// Forgets every confirmation of a holder (their key changed).
pub fn unconfirm_all(conn: &mut DbConn, username: &str) -> QueryResult<usize> {
    diesel::update(wave_holders::table.filter(wave_holders::username.eq(username)))
        .set(wave_holders::confirmed_at.eq(None::<NaiveDateTime>))
        .execute(conn)
}

/// Erases the shares of a wave (when it is unsealed or its rehearsal is purged): the wave's
/// key can never be rebuilt again.
pub fn erase_shares(conn: &mut DbConn, wave_id: i32) -> QueryResult<usize> {
    diesel::update(wave_holders::table.filter(wave_holders::wave_id.eq(wave_id)))
        .set(wave_holders::share.eq(None::<Vec<u8>>))
        .execute(conn)
}

/// The waves for which `username` holds a share that still opens something: waves not yet
/// unsealed that are open or closed (drafts have no shares yet).
pub fn live_shares_of(conn: &mut DbConn, username: &str) -> QueryResult<Vec<i32>> {
    wave_holders::table
        .inner_join(waves::table.on(waves::id.eq(wave_holders::wave_id)))
        .filter(wave_holders::username.eq(username))
        .filter(wave_holders::share.is_not_null())
        .filter(waves::unsealed_at.is_null())
        .select(waves::id)
        .order(waves::id)
        .load(conn)
}
