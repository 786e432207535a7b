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
/// returns how many were newly marked. Each row is one `INSERT … ON CONFLICT DO NOTHING`, so
/// two processes marking the same key at once both succeed and it is marked once.
pub fn set(
    conn: &mut DbConn,
    kind: &str,
    keys: &[String],
    at: NaiveDateTime,
) -> QueryResult<usize> {
    use diesel::sql_types::{Text, Timestamp};
    let sql = |p: [&str; 3]| {
        format!(
            "INSERT INTO inactive (kind, key, since) VALUES ({}, {}, {}) \
             ON CONFLICT (kind, key) DO NOTHING",
            p[0], p[1], p[2]
        )
    };
    let mut n = 0;
    for key in keys {
        n += match conn {
            DbConn::Sqlite(c) => diesel::sql_query(sql(["?", "?", "?"]))
                .bind::<Text, _>(kind)
                .bind::<Text, _>(key)
                .bind::<Timestamp, _>(at)
                .execute(c)?,
            DbConn::Postgresql(c) => diesel::sql_query(sql(["$1", "$2", "$3"]))
                .bind::<Text, _>(kind)
                .bind::<Text, _>(key)
                .bind::<Timestamp, _>(at)
                .execute(c)?,
        };
    }
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
