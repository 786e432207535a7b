//! People waves (民主评议): who is rated (frozen at open), the counts and reasons written by
//! 开箱, the rated people's 个人总结, the committee's final grades, and raters' drafts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{
    person_grades, person_reasons, person_tallies, rating_drafts, summaries, wave_people,
};

/// Someone a people wave rates, as they were when it opened.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = wave_people)]
pub struct Rated {
    /// The wave.
    pub wave_id: i32,
    /// Their address, or `team:<unit>` for a leadership team.
    pub person: String,
    /// Their name (for a team: the unit's name and 领导班子).
    pub name: String,
    /// Their unit's code.
    pub unit: String,
}

/// Freezes who a wave rates (in the transaction that opens it).
pub fn freeze(conn: &mut DbConn, rows: &[Rated]) -> QueryResult<()> {
    super::insert_chunks!(conn, wave_people::table, rows);
    Ok(())
}

/// Everyone a wave rates, by unit and key.
pub fn of_wave(conn: &mut DbConn, wave_id: i32) -> QueryResult<Vec<Rated>> {
    wave_people::table
        .filter(wave_people::wave_id.eq(wave_id))
        .order((wave_people::unit, wave_people::person))
        .select(Rated::as_select())
        .load(conn)
}

/// Everyone a wave rates in one unit.
pub fn of_unit(conn: &mut DbConn, wave_id: i32, unit: &str) -> QueryResult<Vec<Rated>> {
    wave_people::table
        .filter(wave_people::wave_id.eq(wave_id))
        .filter(wave_people::unit.eq(unit))
        .order(wave_people::person)
        .select(Rated::as_select())
        .load(conn)
}

/// One rated person or team of a wave.
pub fn find(conn: &mut DbConn, wave_id: i32, person: &str) -> QueryResult<Option<Rated>> {
    wave_people::table
        .find((wave_id, person))
        .select(Rated::as_select())
        .first(conn)
        .optional()
}

/// A count of ratings: (person, item, option, count).
pub type Count = (String, String, String, i64);

/// Stores the counts of an unsealed wave.
pub fn store_counts(conn: &mut DbConn, wave_id: i32, counts: &[Count]) -> QueryResult<()> {
    #[derive(Insertable)]
    #[diesel(table_name = person_tallies)]
    struct Row<'a> {
        wave_id: i32,
        person: &'a str,
        item: &'a str,
        choice: &'a str,
        count: i64,
    }
    let rows: Vec<Row<'_>> = counts
        .iter()
        .map(|(person, item, choice, count)| Row {
            wave_id,
            person,
            item,
            choice,
            count: *count,
        })
        .collect();
    super::insert_chunks!(conn, person_tallies::table, rows);
    Ok(())
}

/// Every count of a wave, by person, item and option.
pub fn counts_of(conn: &mut DbConn, wave_id: i32) -> QueryResult<Vec<Count>> {
    person_tallies::table
        .filter(person_tallies::wave_id.eq(wave_id))
        .order((
            person_tallies::person,
            person_tallies::item,
            person_tallies::choice,
        ))
        .select((
            person_tallies::person,
            person_tallies::item,
            person_tallies::choice,
            person_tallies::count,
        ))
        .load(conn)
}

/// Stores reasons: (person, random id, reason).
pub fn store_reasons(
    conn: &mut DbConn,
    wave_id: i32,
    reasons: &[(String, String, String)],
) -> QueryResult<()> {
    #[derive(Insertable)]
    #[diesel(table_name = person_reasons)]
    struct Row<'a> {
        wave_id: i32,
        person: &'a str,
        id: &'a str,
        reason: &'a str,
    }
    let rows: Vec<Row<'_>> = reasons
        .iter()
        .map(|(person, id, reason)| Row {
            wave_id,
            person,
            id,
            reason,
        })
        .collect();
    super::insert_chunks!(conn, person_reasons::table, rows);
    Ok(())
}

/// The reasons of a wave by rated person, each list in the order of the random ids.
pub fn reasons_by_person(
    conn: &mut DbConn,
    wave_id: i32,
) -> QueryResult<std::collections::HashMap<String, Vec<String>>> {
    let rows: Vec<(String, String)> = person_reasons::table
        .filter(person_reasons::wave_id.eq(wave_id))
        .order((person_reasons::person, person_reasons::id))
        .select((person_reasons::person, person_reasons::reason))
        .load(conn)?;
    let mut out: std::collections::HashMap<String, Vec<String>> = std::collections::HashMap::new();
    for (person, reason) in rows {
        out.entry(person).or_default().push(reason);
    }
    Ok(out)
}

/// A rated person's 个人总结.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = summaries)]
pub struct Summary {
    /// The wave.
    pub wave_id: i32,
    /// The person's address.
    pub person: String,
    /// What they wrote.
    pub body: String,
    /// Submitted (read-only from then on).
    pub submitted: bool,
    /// Last saved.
    pub updated_at: NaiveDateTime,
}

/// A person's 个人总结, if saved.
pub fn summary_of(conn: &mut DbConn, wave_id: i32, person: &str) -> QueryResult<Option<Summary>> {
    summaries::table
        .find((wave_id, person))
        .select(Summary::as_select())
        .first(conn)
        .optional()
}

/// Every 个人总结 of a wave.
pub fn summaries_of(conn: &mut DbConn, wave_id: i32) -> QueryResult<Vec<Summary>> {
    summaries::table
        .filter(summaries::wave_id.eq(wave_id))
        .select(Summary::as_select())
        .load(conn)
}

/// Saves a 个人总结 unless it was submitted; returns 0 when it was (call inside a
/// transaction holding the wave's lock, so two saves do not both insert).
pub fn save_summary(conn: &mut DbConn, s: &Summary) -> QueryResult<usize> {
    if summary_of(conn, s.wave_id, &s.person)?.is_none() {
        return diesel::insert_into(summaries::table)
            .values(s)
            .execute(conn);
    }
    diesel::update(
        summaries::table
            .find((s.wave_id, &s.person))
            .filter(summaries::submitted.eq(false)),
    )
    .set((
        summaries::body.eq(&s.body),
        summaries::submitted.eq(s.submitted),
        summaries::updated_at.eq(s.updated_at),
    ))
    .execute(conn)
}

/// A final grade (组织评定).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = person_grades)]
pub struct FinalGrade {
    /// The wave.
    pub wave_id: i32,
    /// The person's address.
    pub person: String,
    /// An option id of the overall scale.
    pub grade: String,
    /// Why (may be empty).
    pub reason: String,
    /// Who recorded it (account or CLI actor).
    pub recorded_by: String,
    /// When.
    pub recorded_at: NaiveDateTime,
}

/// Every final grade of a wave.
pub fn grades_of(conn: &mut DbConn, wave_id: i32) -> QueryResult<Vec<FinalGrade>> {
    person_grades::table
        .filter(person_grades::wave_id.eq(wave_id))
        .order(person_grades::person)
        .select(FinalGrade::as_select())
        .load(conn)
}

/// Records a final grade, replacing an earlier one (call holding the wave's lock).
pub fn set_grade(conn: &mut DbConn, g: &FinalGrade) -> QueryResult<()> {
    diesel::delete(person_grades::table.find((g.wave_id, &g.person))).execute(conn)?;
    diesel::insert_into(person_grades::table)
        .values(g)
        .execute(conn)?;
    Ok(())
}

/// A rater's encrypted draft.
pub fn draft_of(conn: &mut DbConn, invitation_id: &str) -> QueryResult<Option<Vec<u8>>> {
    rating_drafts::table
        .find(invitation_id)
        .select(rating_drafts::sealed)
        .first(conn)
        .optional()
}

/// Stores a rater's encrypted draft, replacing the last one.
pub fn save_draft(conn: &mut DbConn, invitation_id: &str, sealed: &[u8]) -> QueryResult<()> {
    delete_draft(conn, invitation_id)?;
    diesel::insert_into(rating_drafts::table)
        .values((
            rating_drafts::invitation_id.eq(invitation_id),
            rating_drafts::sealed.eq(sealed),
        ))
        .execute(conn)?;
    Ok(())
}

/// Forgets a rater's draft (the sheet was sent, or its link replaced).
pub fn delete_draft(conn: &mut DbConn, invitation_id: &str) -> QueryResult<usize> {
    diesel::delete(rating_drafts::table.find(invitation_id)).execute(conn)
}

/// Forgets every draft of a wave's raters: at close nobody can send them any more.
pub fn forget_drafts(conn: &mut DbConn, wave_id: i32) -> QueryResult<usize> {
    let invited = super::schema::invitations::table
        .filter(super::schema::invitations::wave_id.eq(wave_id))
        .select(super::schema::invitations::id);
    diesel::delete(rating_drafts::table.filter(rating_drafts::invitation_id.eq_any(invited)))
        .execute(conn)
}

/// Forgets everything of a people wave but its frame (a rehearsal purged back to draft
/// forgets the frame too, through `thaw`).
pub fn purge(conn: &mut DbConn, wave_id: i32) -> QueryResult<()> {
    forget_drafts(conn, wave_id)?;
    diesel::delete(person_tallies::table.filter(person_tallies::wave_id.eq(wave_id)))
        .execute(conn)?;
    diesel::delete(person_reasons::table.filter(person_reasons::wave_id.eq(wave_id)))
        .execute(conn)?;
    diesel::delete(person_grades::table.filter(person_grades::wave_id.eq(wave_id)))
        .execute(conn)?;
    diesel::delete(summaries::table.filter(summaries::wave_id.eq(wave_id))).execute(conn)?;
    diesel::delete(wave_people::table.filter(wave_people::wave_id.eq(wave_id))).execute(conn)?;
    Ok(())
}
