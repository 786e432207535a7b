//! API tokens: their hashes, owners, revocation and the shared per-token request counter.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::api_tokens;

/// A stored API token (never the token itself: only its sha256).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = api_tokens)]
pub struct ApiToken {
    /// Short random id, shown in lists and used to revoke.
    pub id: String,
    /// The account the token acts as.
    pub username: String,
    /// What the owner called it (e.g. "nightly import").
    pub label: String,
    /// sha256 of the token, hex.
    #[serde(skip)]
    pub token_hash: String,
    /// When it was made (UTC).
    pub created_at: NaiveDateTime,
    /// When it last authenticated a request (UTC).
    pub last_used_at: Option<NaiveDateTime>,
    /// When it was revoked (UTC); a revoked token authenticates nothing.
    pub revoked_at: Option<NaiveDateTime>,
    /// Requests allowed per minute.
    pub per_minute: i32,
    /// Start of the current counting window (unix seconds).
    #[serde(skip)]
    pub window_start: i64,
    /// Requests counted in that window.
    #[serde(skip)]
    pub window_count: i32,
}

/// Stores a new token.
pub fn insert(conn: &mut DbConn, token: &ApiToken) -> QueryResult<usize> {
    diesel::insert_into(api_tokens::table)
        .values(token)
        .execute(conn)
}

/// The token with this hash, revoked or not.
pub fn find_by_hash(conn: &mut DbConn, hash: &str) -> QueryResult<Option<ApiToken>> {
    api_tokens::table
        .filter(api_tokens::token_hash.eq(hash))
        .select(ApiToken::as_select())
        .first(conn)
        .optional()
}

/// One token by id.
pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<ApiToken>> {
    api_tokens::table
        .find(id)
        .select(ApiToken::as_select())
        .first(conn)
        .optional()
}

/// The tokens of an account (revoked ones too), newest first.
pub fn of_user(conn: &mut DbConn, username: &str) -> QueryResult<Vec<ApiToken>> {
    api_tokens::table
        .filter(api_tokens::username.eq(username))
        .order((api_tokens::created_at.desc(), api_tokens::id))
        .select(ApiToken::as_select())
        .load(conn)
}

/// Marks a token revoked (once: a revoked token keeps its first revocation time). Returns
/// the rows changed.
pub fn revoke(conn: &mut DbConn, id: &str, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        api_tokens::table
            .find(id)
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(at))
    .execute(conn)
}

/// Counts one request of a token in the window starting at `window` (unix seconds), in one
/// atomic statement: a new window starts the count at 1, the same window adds one. Every
/// process on the database shares the count. Also notes `at` as the token's last use.
/// Returns the requests counted in the window so far, this one included; `None` when the
/// token is revoked (by now: a revocation committed since the token was read counts).
pub fn count_request(
    conn: &mut DbConn,
    id: &str,
    window: i64,
    at: NaiveDateTime,
) -> QueryResult<Option<i32>> {
    use diesel::sql_types::{BigInt, Text, Timestamp};
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        window_count: i32,
    }
    // Every SET expression reads the row as it was, so the CASE sees the old window.
    let sql = |p: [&str; 4]| {
        format!(
            "UPDATE api_tokens SET \
             window_count = CASE WHEN window_start = {w} THEN window_count + 1 ELSE 1 END, \
             window_start = {w2}, last_used_at = {at} \
             WHERE id = {id} AND revoked_at IS NULL RETURNING window_count",
            w = p[0],
            w2 = p[1],
            at = p[2],
            id = p[3]
        )
    };
    let row: Option<Count> = match conn {
        DbConn::Sqlite(c) => diesel::sql_query(sql(["?", "?", "?", "?"]))
            .bind::<BigInt, _>(window)
            .bind::<BigInt, _>(window)
            .bind::<Timestamp, _>(at)
            .bind::<Text, _>(id)
            .get_result(c)
            .optional()?,
        DbConn::Postgresql(c) => diesel::sql_query(sql(["$1", "$2", "$3", "$4"]))
            .bind::<BigInt, _>(window)
            .bind::<BigInt, _>(window)
            .bind::<Timestamp, _>(at)
            .bind::<Text, _>(id)
            .get_result(c)
            .optional()?,
    };
    Ok(row.map(|r| r.window_count))
}
