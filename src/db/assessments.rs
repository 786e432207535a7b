//! Self-assessments and committee scores.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::assessments;

/// A stored sheet of the self or org step.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = assessments)]
pub struct Assessment {
    /// Random id.
    pub id: String,
    /// The wave.
    pub wave_id: i32,
    /// The unit assessed.
    pub unit: String,
    /// `self` or `org`.
    pub step: String,
    /// `""` for the unit's own self-assessment; the committee member's address for `org`.
    pub scorer: String,
    /// JSON item id → option id.
    pub answers: String,
    /// JSON item id → evidence text (self step).
    pub evidence: String,
    /// Submitted (read-only from then on).
    pub submitted: bool,
    /// Last saved.
    pub updated_at: NaiveDateTime,
}

/// The sheet of (wave, unit, step, scorer), if saved.
pub fn find(
    conn: &mut DbConn,
    wave_id: i32,
    unit: &str,
    step: &str,
    scorer: &str,
) -> QueryResult<Option<Assessment>> {
    assessments::table
        .filter(assessments::wave_id.eq(wave_id))
        .filter(assessments::unit.eq(unit))
        .filter(assessments::step.eq(step))
        .filter(assessments::scorer.eq(scorer))
        .select(Assessment::as_select())
        .first(conn)
        .optional()
}

/// Every sheet of a step in a wave.
pub fn of_wave(conn: &mut DbConn, wave_id: i32, step: &str) -> QueryResult<Vec<Assessment>> {
    assessments::table
        .filter(assessments::wave_id.eq(wave_id))
        .filter(assessments::step.eq(step))
        .select(Assessment::as_select())
        .load(conn)
}

/// Stores a new sheet.
pub fn insert(conn: &mut DbConn, a: &Assessment) -> QueryResult<usize> {
    diesel::insert_into(assessments::table)
        .values(a)
        .execute(conn)
}

/// Overwrites a sheet that is not yet submitted; returns 0 if it was submitted meanwhile.
pub fn update(conn: &mut DbConn, a: &Assessment) -> QueryResult<usize> {
    diesel::update(
        assessments::table
            .filter(assessments::id.eq(&a.id))
            .filter(assessments::submitted.eq(false)),
    )
    .set((
        assessments::answers.eq(&a.answers),
        assessments::evidence.eq(&a.evidence),
        assessments::submitted.eq(a.submitted),
        assessments::updated_at.eq(a.updated_at),
    ))
    .execute(conn)
}
