//! Frozen frames and records of waves: the units a wave evaluates as they were when it
//! opened, and the record written when its results are final.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{invitations, wave_records, wave_units};
use super::units::Unit;

/// Freezes the units a wave evaluates (in the transaction that opens it).
pub fn freeze(conn: &mut DbConn, wave_id: i32, units: &[Unit]) -> QueryResult<()> {
    #[derive(Insertable)]
    #[diesel(table_name = wave_units)]
    struct Row<'a> {
        wave_id: i32,
        code: &'a str,
        name: &'a str,
        kind: &'a str,
        parent: Option<&'a str>,
    }
    let rows: Vec<Row<'_>> = units
        .iter()
        .map(|u| Row {
            wave_id,
            code: &u.code,
            name: &u.name,
            kind: &u.kind,
            parent: u.parent.as_deref(),
        })
        .collect();
    super::insert_chunks!(conn, wave_units::table, rows);
    Ok(())
}

/// The frozen units of a wave, by code (empty for a draft, or a wave opened before frames).
pub fn units_of(conn: &mut DbConn, wave_id: i32) -> QueryResult<Vec<Unit>> {
    let rows: Vec<(String, String, String, Option<String>)> = wave_units::table
        .filter(wave_units::wave_id.eq(wave_id))
        .order(wave_units::code)
        .select((
            wave_units::code,
            wave_units::name,
            wave_units::kind,
            wave_units::parent,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(code, name, kind, parent)| Unit {
            code,
            name,
            kind,
            parent,
        })
        .collect())
}

/// Forgets a wave's frame (a rehearsal purged back to draft).
pub fn thaw(conn: &mut DbConn, wave_id: i32) -> QueryResult<usize> {
    diesel::delete(wave_units::table.filter(wave_units::wave_id.eq(wave_id))).execute(conn)
}

/// Who was invited to what: (person or "" for a slip, unit, step) of every invitation.
pub fn invited(conn: &mut DbConn, wave_id: i32) -> QueryResult<Vec<(String, String, String)>> {
    let rows: Vec<(Option<String>, String, String)> = invitations::table
        .filter(invitations::wave_id.eq(wave_id))
        .select((invitations::person, invitations::unit, invitations::step))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(p, u, s)| (p.unwrap_or_default(), u, s))
        .collect())
}

/// A stored wave record.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = wave_records)]
pub struct Record {
    /// The wave.
    pub wave_id: i32,
    /// Its place in the installation's chain (1, 2, …).
    pub seq: i32,
    /// The canonical JSON the hash covers.
    pub body: String,
    /// sha256 of `body`, hex.
    pub hash: String,
    /// When it was written.
    pub created_at: NaiveDateTime,
}

/// Stores a record.
pub fn insert_record(conn: &mut DbConn, record: &Record) -> QueryResult<usize> {
    diesel::insert_into(wave_records::table)
        .values(record)
        .execute(conn)
}

/// The record of a wave.
pub fn record_of(conn: &mut DbConn, wave_id: i32) -> QueryResult<Option<Record>> {
    wave_records::table
        .find(wave_id)
        .select(Record::as_select())
        .first(conn)
        .optional()
}

/// The record at a place of the chain.
pub fn record_at(conn: &mut DbConn, seq: i32) -> QueryResult<Option<Record>> {
    wave_records::table
        .filter(wave_records::seq.eq(seq))
        .select(Record::as_select())
        .first(conn)
        .optional()
}

/// The newest record of the chain.
pub fn last_record(conn: &mut DbConn) -> QueryResult<Option<Record>> {
    wave_records::table
        .order(wave_records::seq.desc())
        .select(Record::as_select())
        .first(conn)
        .optional()
}
