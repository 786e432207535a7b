//! Key–value settings the instance keeps for itself.

use diesel::prelude::*;

use super::DbConn;
use super::schema::settings;

/// Reads a setting.
pub fn find(conn: &mut DbConn, key: &str) -> QueryResult<Option<String>> {
    settings::table
        .find(key)
        .select(settings::value)
        .first(conn)
        .optional()
}

/// Returns the stored value of `key`, storing `make()` first when there is none. Two
/// processes starting at once agree on one value: the loser of the insert reads the winner's.
pub fn get_or_insert(
    conn: &mut DbConn,
    key: &str,
    make: impl FnOnce() -> String,
) -> QueryResult<String> {
    if let Some(v) = find(conn, key)? {
        return Ok(v);
    }
    let value = make();
    match diesel::insert_into(settings::table)
        .values((settings::key.eq(key), settings::value.eq(&value)))
        .execute(conn)
    {
        Ok(_) => Ok(value),
        Err(e) if super::is_unique_violation(&e) => find(conn, key).map(Option::unwrap_or_default),
        Err(e) => Err(e),
    }
}
