//! A wave's sealed answer sheets, in a table of the wave's own (`sealed_<id>`): made when
//! the wave opens, dropped when it is unsealed. Dropping the table (rather than deleting its
//! rows) leaves no dead tuple of a ciphertext in PostgreSQL's heap, and on SQLite frees its
//! pages at once. Also the receipt codes of unsealed waves.

use diesel::prelude::*;
use diesel::sql_types::{Binary, Text};

use super::DbConn;
use super::schema::receipts;

fn table(wave_id: i32) -> String {
    format!("sealed_{wave_id}")
}

/// Makes the wave's table of sealed sheets, keyed by a random id. On SQLite it is an
/// ordinary (rowid) table: a padded sheet of 2 KiB fits in its page there, where a `WITHOUT
/// ROWID` table would move it to an overflow page of its own (twice the file for a million
/// sheets). Its rows are in submission order, as PostgreSQL's are; they are ciphertexts,
/// and the table is dropped when the wave is unsealed.
pub fn create(conn: &mut DbConn, wave_id: i32) -> QueryResult<()> {
    let t = table(wave_id);
    let sql = match conn {
        DbConn::Sqlite(_) => {
            format!("CREATE TABLE {t} (id TEXT PRIMARY KEY NOT NULL, sheet BLOB NOT NULL)")
        }
        DbConn::Postgresql(_) => {
            format!("CREATE TABLE {t} (id TEXT PRIMARY KEY NOT NULL, sheet BYTEA NOT NULL)")
        }
    };
    diesel::sql_query(sql).execute(conn)?;
    Ok(())
}

/// Drops the wave's table, if it exists.
pub fn drop(conn: &mut DbConn, wave_id: i32) -> QueryResult<()> {
    diesel::sql_query(format!("DROP TABLE IF EXISTS {}", table(wave_id))).execute(conn)?;
    Ok(())
}

/// Stores one sealed sheet under a random id.
pub fn insert(conn: &mut DbConn, wave_id: i32, id: &str, sheet: &[u8]) -> QueryResult<()> {
    let t = table(wave_id);
    let sql = match conn {
        DbConn::Sqlite(_) => format!("INSERT INTO {t} (id, sheet) VALUES (?, ?)"),
        DbConn::Postgresql(_) => format!("INSERT INTO {t} (id, sheet) VALUES ($1, $2)"),
    };
    diesel::sql_query(sql)
        .bind::<Text, _>(id)
        .bind::<Binary, _>(sheet)
        .execute(conn)?;
    Ok(())
}

#[derive(QueryableByName)]
struct Sheet {
    #[diesel(sql_type = Binary)]
    sheet: Vec<u8>,
}

/// Calls `f` with every sealed sheet of a wave, a batch at a time (a million sheets are
/// never all in memory at once).
pub fn for_each_batch(
    conn: &mut DbConn,
    wave_id: i32,
    batch: usize,
    mut f: impl FnMut(Vec<Vec<u8>>),
) -> QueryResult<()> {
    let t = table(wave_id);
    let mut after = String::new();
    loop {
        let sql = match conn {
            DbConn::Sqlite(_) => {
                format!("SELECT id, sheet FROM {t} WHERE id > ? ORDER BY id LIMIT {batch}")
            }
            DbConn::Postgresql(_) => {
                format!("SELECT id, sheet FROM {t} WHERE id > $1 ORDER BY id LIMIT {batch}")
            }
        };
        let rows: Vec<(String, Vec<u8>)> = diesel::sql_query(sql)
            .bind::<Text, _>(&after)
            .load::<IdSheet>(conn)?
            .into_iter()
            .map(|r| (r.id, r.sheet))
            .collect();
        let Some((last, _)) = rows.last() else {
            return Ok(());
        };
        after.clone_from(last);
        let done = rows.len() < batch;
        f(rows.into_iter().map(|(_, s)| s).collect());
        if done {
            return Ok(());
        }
    }
}

#[derive(QueryableByName)]
struct IdSheet {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Binary)]
    sheet: Vec<u8>,
}

/// How many sealed sheets a wave has.
pub fn count(conn: &mut DbConn, wave_id: i32) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let row: N = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {}", table(wave_id)))
        .get_result(conn)?;
    Ok(row.n)
}

/// Every sealed sheet of a wave (for tests and small waves).
pub fn all(conn: &mut DbConn, wave_id: i32) -> QueryResult<Vec<Vec<u8>>> {
    let rows: Vec<Sheet> =
        diesel::sql_query(format!("SELECT sheet FROM {}", table(wave_id))).load(conn)?;
    Ok(rows.into_iter().map(|r| r.sheet).collect())
}

/// Stores the receipt codes of an unsealed wave (sorted and without repeats).
pub fn insert_receipts(conn: &mut DbConn, wave_id: i32, codes: &[String]) -> QueryResult<()> {
    #[derive(Insertable)]
    #[diesel(table_name = receipts)]
    struct Row<'a> {
        wave_id: i32,
        code: &'a str,
    }
    let rows: Vec<Row<'_>> = codes.iter().map(|code| Row { wave_id, code }).collect();
    super::insert_chunks!(conn, receipts::table, rows);
    Ok(())
}

/// The receipt codes of a wave, sorted.
pub fn receipts_of(conn: &mut DbConn, wave_id: i32) -> QueryResult<Vec<String>> {
    receipts::table
        .filter(receipts::wave_id.eq(wave_id))
        .select(receipts::code)
        .order(receipts::code)
        .load(conn)
}

/// Deletes a wave's receipt codes (a rehearsal purged).
pub fn delete_receipts(conn: &mut DbConn, wave_id: i32) -> QueryResult<usize> {
    diesel::delete(receipts::table.filter(receipts::wave_id.eq(wave_id))).execute(conn)
}
