//! The counts of a closed wave (`tallies`, `unit_totals`, `moments`), written once when it
//! closes so a report reads a few thousand rows instead of every answer sheet.

use diesel::prelude::*;

use super::DbConn;
use super::schema::{moments, tallies, unit_totals};

/// How many answer sheets of a unit chose `choice` for `item`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = tallies)]
pub struct TallyRow {
    /// The wave.
    pub wave_id: i32,
    /// The unit.
    pub unit: String,
    /// The item id.
    pub item: String,
    /// The option id.
    pub choice: String,
    /// Sheets with that answer.
    pub count: i64,
}

/// A unit's mass invitations and answer sheets in a closed wave.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = unit_totals)]
pub struct UnitTotal {
    /// The wave.
    pub wave_id: i32,
    /// The unit.
    pub unit: String,
    /// Mass invitations issued.
    pub invited: i64,
    /// Answer sheets stored.
    pub responses: i64,
}

/// A unit's per-respondent sums in one scope (a dimension id, or `""` for all items).
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = moments)]
pub struct MomentRow {
    /// The wave.
    pub wave_id: i32,
    /// The unit.
    pub unit: String,
    /// The dimension id, or `""` for all items.
    pub scope: String,
    /// Respondents with a valid answer in the scope.
    pub respondents: i64,
    /// Σy (satisfied answers, weighted).
    pub sum_y: f64,
    /// Σx (valid answers, weighted).
    pub sum_x: f64,
    /// Σy².
    pub sum_yy: f64,
    /// Σx².
    pub sum_xx: f64,
    /// Σxy.
    pub sum_xy: f64,
}

/// Stores a wave's counts, replacing any it had.
pub fn store(
    conn: &mut DbConn,
    wave_id: i32,
    rows: &[TallyRow],
    totals: &[UnitTotal],
    sums: &[MomentRow],
) -> QueryResult<()> {
    delete(conn, wave_id)?;
    super::insert_chunks!(conn, tallies::table, rows);
    super::insert_chunks!(conn, unit_totals::table, totals);
    super::insert_chunks!(conn, moments::table, sums);
    Ok(())
}

/// A wave's stored per-respondent sums (none for a wave counted before they were kept).
pub fn load_moments(conn: &mut DbConn, wave_id: i32) -> QueryResult<Vec<MomentRow>> {
    moments::table
        .filter(moments::wave_id.eq(wave_id))
        .select(MomentRow::as_select())
        .load(conn)
}

/// A wave's stored counts; `None` when it has none (it closed before counts were kept).
pub fn load(
    conn: &mut DbConn,
    wave_id: i32,
) -> QueryResult<Option<(Vec<TallyRow>, Vec<UnitTotal>)>> {
    let totals: Vec<UnitTotal> = unit_totals::table
        .filter(unit_totals::wave_id.eq(wave_id))
        .select(UnitTotal::as_select())
        .load(conn)?;
    if totals.is_empty() {
        return Ok(None);
    }
    let rows = tallies::table
        .filter(tallies::wave_id.eq(wave_id))
        .select(TallyRow::as_select())
        .load(conn)?;
    Ok(Some((rows, totals)))
}

/// Deletes a wave's counts (it reopens as a rehearsal, or is counted again).
pub fn delete(conn: &mut DbConn, wave_id: i32) -> QueryResult<()> {
    diesel::delete(tallies::table.filter(tallies::wave_id.eq(wave_id))).execute(conn)?;
    diesel::delete(moments::table.filter(moments::wave_id.eq(wave_id))).execute(conn)?;
    diesel::delete(unit_totals::table.filter(unit_totals::wave_id.eq(wave_id))).execute(conn)?;
    Ok(())
}
