//! Units and people taken out of use (停用): kept, but left out of new waves.

use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::inactive;

/// The kind of a unit's row.
pub const UNIT: &str = "unit";
/// The kind of a person's row.
pub const PERSON: &str = "person";

/// Marks `keys` of `kind` out of use since `at` (those already out keep their date);
/// returns how many were newly marked.
pub fn set(
    conn: &mut DbConn,
    kind: &str,
    keys: &[String],
    at: NaiveDateTime,
) -> QueryResult<usize> {
    #[derive(Insertable)]
    #[diesel(table_name = inactive)]
    struct Row<'a> {
        kind: &'a str,
        key: &'a str,
        since: NaiveDateTime,
    }
    let already = of_kind(conn, kind)?;
    let rows: Vec<Row<'_>> = keys
        .iter()
        .filter(|k| !already.contains(*k))
        .map(|k| Row {
            kind,
            key: k,
            since: at,
        })
        .collect();
    let n = rows.len();
    super::insert_chunks!(conn, inactive::table, rows);
    Ok(n)
}

/// Puts `keys` of `kind` back in use; returns how many were out of use.
pub fn clear(conn: &mut DbConn, kind: &str, keys: &[String]) -> QueryResult<usize> {
    diesel::delete(
        inactive::table
            .filter(inactive::kind.eq(kind))
            .filter(inactive::key.eq_any(keys)),
    )
    .execute(conn)
}

/// The keys of `kind` out of use.
pub fn of_kind(conn: &mut DbConn, kind: &str) -> QueryResult<HashSet<String>> {
    Ok(inactive::table
        .filter(inactive::kind.eq(kind))
        .select(inactive::key)
        .load::<String>(conn)?
        .into_iter()
        .collect())
}
