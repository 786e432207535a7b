//! Counting a wave's answer sheets: once when it closes (stored, so a report of a million
//! responses reads a few thousand counts), and again by `wave verify` to check the stored
//! counts against the raw responses. With the option counts go each unit's per-respondent
//! sums ([`Moments`]), which the clustered interval of a pooled rate needs.

use std::collections::{BTreeMap, HashMap};

use crate::db::tallies::{self, MomentRow, TallyRow, UnitTotal};
use crate::db::{DbConn, waves};
use crate::domain::scoring::{MomentPlan, Moments, Tally};
use crate::domain::survey::Survey;

/// A wave's counts per unit.
#[derive(Debug, Default, PartialEq)]
pub struct Counts {
    /// Each unit's own tally of answer sheets.
    pub own: BTreeMap<String, Tally>,
    /// Each unit's mass invitations.
    pub invited: HashMap<String, u64>,
}

/// Counts the raw responses and invitations of a wave, streaming the rows.
pub fn count(conn: &mut DbConn, wave_id: i32) -> diesel::QueryResult<Counts> {
    count_each(conn, wave_id, |_, _| {})
}

/// [`count`], also showing `each` every sheet's unit and answers (`None` when the sheet
/// does not parse), so an audit needs no second read of a million rows.
pub fn count_each(
    conn: &mut DbConn,
    wave_id: i32,
    mut each: impl FnMut(&str, Option<&BTreeMap<&str, &str>>),
) -> diesel::QueryResult<Counts> {
    let survey = survey_of(conn, wave_id)?;
    let plan = survey.as_ref().map(MomentPlan::new);
    let mut counts = Counts::default();
    waves::for_each_sheet(conn, wave_id, |unit, answers| {
        add_sheet(&mut counts, plan.as_ref(), unit, answers, &mut each);
    })?;
    count_invited(conn, wave_id, &mut counts)?;
    Ok(counts)
}

/// The per-respondent sums need the survey's dimensions, weights and scales; a wave whose
/// survey no longer parses still gets its option counts.
fn survey_of(conn: &mut DbConn, wave_id: i32) -> diesel::QueryResult<Option<Survey>> {
    Ok(waves::find(conn, wave_id)?.and_then(|w| crate::wave::survey_of(&w).ok()))
}

/// Counts one sheet (its unit and its answers as stored, a JSON object), with its
/// per-respondent sums when the survey's `plan` is known.
fn add_sheet(
    counts: &mut Counts,
    plan: Option<&MomentPlan<'_>>,
    unit: &str,
    answers: &str,
    each: &mut impl FnMut(&str, Option<&BTreeMap<&str, &str>>),
) {
    let tally = match counts.own.get_mut(unit) {
        Some(t) => t,
        None => counts.own.entry(unit.to_owned()).or_default(),
    };
    // Ids are plain words, so the answers borrow from the row; a sheet that does not
    // parse counts as a sheet without answers (`wave verify` reports it).
    let owned;
    let parsed = match serde_json::from_str::<BTreeMap<&str, &str>>(answers) {
        Ok(a) => Some(a),
        Err(_) => match serde_json::from_str::<BTreeMap<String, String>>(answers) {
            Ok(a) => {
                owned = a;
                Some(
                    owned
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_str()))
                        .collect(),
                )
            }
            Err(_) => None,
        },
    };
    each(unit, parsed.as_ref());
    let parsed = parsed.unwrap_or_default();
    match plan {
        Some(plan) => tally.add_sheet(plan, parsed.iter().map(|(k, v)| (*k, *v))),
        None => tally.add_pairs(parsed),
    }
}

fn count_invited(conn: &mut DbConn, wave_id: i32, counts: &mut Counts) -> diesel::QueryResult<()> {
    for (unit, _, n) in waves::invitation_counts(conn, wave_id)? {
        *counts.invited.entry(unit).or_default() += u64::try_from(n).unwrap_or(0);
    }
    Ok(())
}

/// Counts a wave and stores the counts (in the caller's transaction: the one that closes it).
pub fn store(conn: &mut DbConn, wave_id: i32) -> diesel::QueryResult<Counts> {
    let counts = count(conn, wave_id)?;
    write(conn, wave_id, &counts)?;
    Ok(counts)
}

/// What [`store`] does, for a wave whose sheets are all in hand as (unit, answers) — every
/// response of the wave, as unsealing has just written them — so they are not read back.
pub fn store_sheets<'a>(
    conn: &mut DbConn,
    wave_id: i32,
    survey: &Survey,
    sheets: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> diesel::QueryResult<Counts> {
    let plan = MomentPlan::new(survey);
    let mut counts = Counts::default();
    for (unit, answers) in sheets {
        add_sheet(&mut counts, Some(&plan), unit, answers, &mut |_, _| {});
    }
    count_invited(conn, wave_id, &mut counts)?;
    write(conn, wave_id, &counts)?;
    Ok(counts)
}

/// Replaces a wave's stored counts with `counts`.
fn write(conn: &mut DbConn, wave_id: i32, counts: &Counts) -> diesel::QueryResult<()> {
    let rows: Vec<TallyRow> = counts
        .own
        .iter()
        .flat_map(|(unit, tally)| {
            tally.items.iter().flat_map(move |(item, options)| {
                options.iter().map(move |(choice, n)| TallyRow {
                    wave_id,
                    unit: unit.clone(),
                    item: item.clone(),
                    choice: choice.clone(),
                    count: i64::try_from(*n).unwrap_or(i64::MAX),
                })
            })
        })
        .collect();
    let mut units: Vec<&String> = counts.own.keys().chain(counts.invited.keys()).collect();
    units.sort();
    units.dedup();
    let totals: Vec<UnitTotal> = units
        .into_iter()
        .map(|unit| UnitTotal {
            wave_id,
            unit: unit.clone(),
            invited: counts
                .invited
                .get(unit)
                .map_or(0, |&n| i64::try_from(n).unwrap_or(0)),
            responses: counts
                .own
                .get(unit)
                .map_or(0, |t| i64::try_from(t.responses).unwrap_or(i64::MAX)),
        })
        .collect();
    let sums: Vec<MomentRow> = counts
        .own
        .iter()
        .flat_map(|(unit, tally)| {
            tally.moments.iter().map(move |(scope, m)| MomentRow {
                wave_id,
                unit: unit.clone(),
                scope: scope.clone(),
                respondents: i64::try_from(m.respondents).unwrap_or(i64::MAX),
                sum_y: m.y,
                sum_x: m.x,
                sum_yy: m.yy,
                sum_xx: m.xx,
                sum_xy: m.xy,
            })
        })
        .collect();
    tallies::store(conn, wave_id, &rows, &totals, &sums)
}

/// The stored counts of a closed wave; counted from the raw rows when none are stored (a
/// wave closed before counts were kept, or one with nobody invited) or when responses are
/// stored without per-respondent sums (counted before those were kept).
pub fn load(conn: &mut DbConn, wave_id: i32) -> diesel::QueryResult<Counts> {
    let Some((rows, totals)) = tallies::load(conn, wave_id)? else {
        return count(conn, wave_id);
    };
    let sums = tallies::load_moments(conn, wave_id)?;
    if sums.is_empty() && totals.iter().any(|t| t.responses > 0) {
        return count(conn, wave_id);
    }
    let mut counts = Counts::default();
    for t in totals {
        counts
            .invited
            .insert(t.unit.clone(), u64::try_from(t.invited).unwrap_or(0));
        if t.responses > 0 {
            counts.own.entry(t.unit).or_default().responses =
                u64::try_from(t.responses).unwrap_or(0);
        }
    }
    for r in rows {
        *counts
            .own
            .entry(r.unit)
            .or_default()
            .items
            .entry(r.item)
            .or_default()
            .entry(r.choice)
            .or_default() = u64::try_from(r.count).unwrap_or(0);
    }
    for m in sums {
        counts.own.entry(m.unit).or_default().moments.insert(
            m.scope,
            Moments {
                respondents: u64::try_from(m.respondents).unwrap_or(0),
                y: m.sum_y,
                x: m.sum_x,
                yy: m.sum_yy,
                xx: m.sum_xx,
                xy: m.sum_xy,
            },
        );
    }
    Ok(counts)
}
