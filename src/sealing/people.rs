//! 开箱 of a people wave: the rating sheets are opened in memory and only counted. No sheet
//! is stored in the clear — a sheet lists everyone of a unit but its rater, so it would
//! name them. What is stored: per rated person, item and option, the number of ratings;
//! the reasons given with low grades, shuffled, for people rated by at least k raters only;
//! the receipt codes.

use std::collections::{BTreeMap, HashMap};

use chrono::Utc;
use rand::seq::SliceRandom as _;

use crate::auth;
use crate::db::rated::{self, Count};
use crate::db::waves::{self, Wave};
use crate::db::{self, DbConn, holders, sealed};
use crate::domain::people::PeopleSpec;
use crate::domain::people::sheet;
use crate::domain::seal::{self, SecretKey};
use crate::domain::survey::Survey;
use crate::domain::token;
use crate::rating::{RatingSheet, receipt_of, sheet_info};
use crate::wave::WaveError;

use super::{HolderPassword, Unsealed};

/// What the opened sheets add up to.
#[derive(Debug, Default)]
struct Totals {
    counts: HashMap<(String, String, String), i64>,
    reasons: HashMap<String, Vec<String>>,
    receipts: Vec<String>,
    sheets: usize,
    rejected: usize,
}

/// Opens one sheet and checks it against the frame: a unit of the wave, ratings only of
/// people rated in that unit, everyone of the unit rated but at most one (the rater), and
/// every answer an option of its item.
fn open_one(
    key: &SecretKey,
    info: &[u8],
    survey: &Survey,
    spec: &PeopleSpec,
    by_unit: &HashMap<String, Vec<String>>,
    sealed_sheet: &[u8],
) -> Option<RatingSheet> {
    let padded = seal::open(key, info, sealed_sheet).ok()?;
    let sheet: RatingSheet = serde_json::from_slice(seal::unpad(&padded).ok()?).ok()?;
    let rated = by_unit.get(&sheet.unit)?;
    let keys: Vec<String> = sheet.ratings.ratings.keys().cloned().collect();
    if keys.iter().any(|k| !rated.contains(k)) || keys.len() + 1 < rated.len() {
        return None;
    }
    let mut fields: Vec<(String, String)> = Vec::new();
    for (k, answers) in &sheet.ratings.ratings {
        for (item, choice) in answers {
            fields.push((sheet::field_name(k, item), choice.clone()));
        }
    }
    for (k, reason) in &sheet.ratings.reasons {
        fields.push((sheet::reason_field(k), reason.clone()));
    }
    sheet::check(spec, &survey.scales, &keys, &fields, true).ok()?;
    Some(sheet)
}

fn add(totals: &mut Totals, sheet: RatingSheet) {
    totals.receipts.push(receipt_of(&sheet));
    totals.sheets += 1;
    let RatingSheet { ratings, .. } = sheet;
    for (person, answers) in ratings.ratings {
        for (item, choice) in answers {
            *totals
                .counts
                .entry((person.clone(), item, choice))
                .or_default() += 1;
        }
    }
    for (person, reason) in ratings.reasons {
        totals.reasons.entry(person).or_default().push(reason);
    }
}

/// 开箱 of a people wave with its rebuilt `key`: counts every sheet, stores the counts, the
/// shuffled reasons of people with at least k raters and the receipts in one transaction,
/// drops the ciphertexts and erases the shares.
pub(super) fn unseal(
    conn: &mut DbConn,
    wave: &Wave,
    key: SecretKey,
    given: &[HolderPassword],
    actor: &str,
) -> Result<Unsealed, WaveError> {
    let id = wave.id;
    let survey = crate::wave::survey_of(wave)?;
    let Some(spec) = survey.people.clone() else {
        return Err(WaveError::Invalid(format!(
            "wave {id} does not evaluate people"
        )));
    };
    let mut by_unit: HashMap<String, Vec<String>> = HashMap::new();
    for r in rated::of_wave(conn, id)? {
        by_unit.entry(r.unit).or_default().push(r.person);
    }
    let info = sheet_info(id);
    let mut totals = Totals::default();
    sealed::for_each_batch(conn, id, 4096, |batch| {
        for sealed_sheet in batch {
            match open_one(&key, &info, &survey, &spec, &by_unit, &sealed_sheet) {
                Some(sheet) => add(&mut totals, sheet),
                None => totals.rejected += 1,
            }
        }
    })?;
    drop(key);
    let raters = raters_of(&spec, &totals.counts);
    let mut counts: Vec<Count> = totals
        .counts
        .into_iter()
        .map(|((person, item, choice), n)| (person, item, choice, n))
        .collect();
    counts.sort();
    let mut reasons: Vec<(String, String, String)> = Vec::new();
    for (person, mut list) in totals.reasons {
        if !spec.disclosed(raters.get(&person).copied().unwrap_or(0)) {
            continue;
        }
        list.shuffle(&mut rand::rng());
        reasons.extend(
            list.into_iter()
                .map(|r| (person.clone(), token::random_id(), r)),
        );
    }
    let mut receipts = totals.receipts;
    receipts.sort();
    receipts.dedup();
    let (sheets, rejected) = (totals.sheets, totals.rejected);
    let names: Vec<&str> = given.iter().map(|g| g.username.as_str()).collect();
    db::write_tx(conn, |conn| -> Result<(), WaveError> {
        waves::hold_exclusive(conn, id)?;
        if waves::set_unsealed(conn, id, Utc::now().naive_utc())? != 1 {
            return Err(WaveError::unsealed_meanwhile(id));
        }
        rated::store_counts(conn, id, &counts)?;
        rated::store_reasons(conn, id, &reasons)?;
        sealed::insert_receipts(conn, id, &receipts)?;
        sealed::drop(conn, id)?;
        holders::erase_shares(conn, id)?;
        auth::record(
            conn,
            actor,
            "wave.unseal",
            &format!(
                "wave {id} by {}: {sheets} rating sheet(s) counted, {rejected} rejected",
                names.join(", ")
            ),
        )?;
        Ok(())
    })?;
    let scrubbed = db::scrub(conn)?;
    Ok(Unsealed {
        sheets,
        rejected,
        scrubbed,
    })
}

/// How many raters rated each person: the ratings of the overall item (every item is
/// required, so each rater rated it once).
pub(crate) fn raters_of<'a, I>(spec: &PeopleSpec, counts: I) -> BTreeMap<String, u64>
where
    I: IntoIterator<Item = (&'a (String, String, String), &'a i64)>,
{
    let mut out: BTreeMap<String, u64> = BTreeMap::new();
    for ((person, item, _), n) in counts {
        if *item == spec.overall {
            *out.entry(person.clone()).or_default() += u64::try_from(*n).unwrap_or(0);
        }
    }
    out
}
