//! The wave record: written once, when a wave's results are final (closed and, with sealed
//! answers, unsealed), so that a committee can trust a published result a year later.
//!
//! A record is a canonical JSON summary — the survey's fingerprint, a hash of the frozen
//! frame (units and who was invited), the invited and answered counts per unit, a hash of
//! the tallies, a hash of the receipt list, the previous record's hash (one chain per
//! installation) and the time — and the sha256 of that JSON. `wave verify` recomputes each
//! part from the stored sheets and the frozen frame and names what differs.

use std::collections::BTreeMap;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::db::frames::{self, Record};
use crate::db::{DbConn, sealed, waves};
use crate::tally::Counts;

/// Invited and answered mass invitations of one unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitCount {
    /// Mass invitations issued.
    pub invited: u64,
    /// Answer sheets counted.
    pub answered: u64,
}

/// What a record says. Serialized with sorted keys (structs in field order, maps sorted),
/// so the same content always gives the same bytes and hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Body {
    /// The format of this body.
    pub version: u32,
    /// The wave.
    pub wave: i32,
    /// sha256 of the wave's survey file.
    pub survey: String,
    /// sha256 of the frozen frame: units and invitations.
    pub frame: String,
    /// Per unit code.
    pub units: BTreeMap<String, UnitCount>,
    /// sha256 of the tallies.
    pub tallies: String,
    /// sha256 of the sorted receipt codes.
    pub receipts: String,
    /// The previous record's hash; `None` for the installation's first.
    pub previous: Option<String>,
    /// When it was written (UTC, RFC 3339).
    pub at: String,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The hash of a wave's frame: its frozen units and every invitation (person, unit, step),
/// sorted. Editing the frozen tree, or adding or deleting an invitation, changes it.
pub fn frame_hash(conn: &mut DbConn, wave_id: i32) -> diesel::QueryResult<String> {
    let units: Vec<(String, String, String, Option<String>)> = frames::units_of(conn, wave_id)?
        .into_iter()
        .map(|u| (u.code, u.name, u.kind, u.parent))
        .collect();
    let mut invited = frames::invited(conn, wave_id)?;
    invited.sort();
    let canonical = serde_json::to_vec(&(units, invited)).expect("strings serialize");
    Ok(sha256_hex(&canonical))
}

/// The hash of a wave's counts: every unit's tally and its invitations.
pub fn tallies_hash(counts: &Counts) -> String {
    let invited: BTreeMap<&String, &u64> = counts.invited.iter().collect();
    let canonical = serde_json::to_vec(&(&counts.own, invited)).expect("counts serialize");
    sha256_hex(&canonical)
}

/// Rating links issued and used per unit of a people wave (its sheets are counted, never
/// kept, so the used links are what the counts rest on).
fn people_units(
    conn: &mut DbConn,
    wave_id: i32,
) -> diesel::QueryResult<BTreeMap<String, UnitCount>> {
    let mut out: BTreeMap<String, UnitCount> = BTreeMap::new();
    for (unit, used, n) in waves::invitation_counts(conn, wave_id)? {
        let slot = out.entry(unit).or_insert(UnitCount {
            invited: 0,
            answered: 0,
        });
        let n = u64::try_from(n).unwrap_or(0);
        slot.invited += n;
        if used {
            slot.answered += n;
        }
    }
    Ok(out)
}

/// The hash of a people wave's results: every count per person, item and option, and
/// every final grade with its reason.
fn people_hash(conn: &mut DbConn, wave_id: i32) -> diesel::QueryResult<String> {
    let counts = crate::db::rated::counts_of(conn, wave_id)?;
    let grades: Vec<(String, String, String)> = crate::db::rated::grades_of(conn, wave_id)?
        .into_iter()
        .map(|g| (g.person, g.grade, g.reason))
        .collect();
    let canonical = serde_json::to_vec(&(counts, grades)).expect("counts serialize");
    Ok(sha256_hex(&canonical))
}

/// The hash of a receipt list (sorted codes, one per line).
pub fn receipts_hash(codes: &[String]) -> String {
    let mut sorted = codes.to_vec();
    sorted.sort();
    sha256_hex(sorted.join("\n").as_bytes())
}

fn unit_counts(counts: &Counts) -> BTreeMap<String, UnitCount> {
    let mut out: BTreeMap<String, UnitCount> = BTreeMap::new();
    for (unit, n) in &counts.invited {
        out.entry(unit.clone())
            .or_insert(UnitCount {
                invited: 0,
                answered: 0,
            })
            .invited = *n;
    }
    for (unit, t) in &counts.own {
        out.entry(unit.clone())
            .or_insert(UnitCount {
                invited: 0,
                answered: 0,
            })
            .answered = t.responses;
    }
    out
}

/// Writes the record of a wave whose results just became final, in the caller's
/// transaction (the one that unseals or closes it), chained to the newest record. Test
/// waves get none: a rehearsal is purged, and the chain never loses a link.
pub fn write(
    conn: &mut DbConn,
    wave_id: i32,
    counts: &Counts,
) -> diesel::QueryResult<Option<String>> {
    let Some(wave) = waves::find(conn, wave_id)? else {
        return Err(diesel::result::Error::NotFound);
    };
    if wave.is_test {
        return Ok(None);
    }
    // One writer of the chain at a time: two waves finishing at once must not share a
    // predecessor.
    waves::hold_chain(conn)?;
    let last = frames::last_record(conn)?;
    let body = Body {
        version: 1,
        wave: wave_id,
        survey: wave.fingerprint.clone(),
        frame: frame_hash(conn, wave_id)?,
        units: if wave.is_people() {
            people_units(conn, wave_id)?
        } else {
            unit_counts(counts)
        },
        tallies: if wave.is_people() {
            people_hash(conn, wave_id)?
        } else {
            tallies_hash(counts)
        },
        receipts: receipts_hash(&sealed::receipts_of(conn, wave_id)?),
        previous: last.as_ref().map(|r| r.hash.clone()),
        at: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    };
    let json = serde_json::to_string(&body).expect("a record serializes");
    let hash = sha256_hex(json.as_bytes());
    frames::insert_record(
        conn,
        &Record {
            wave_id,
            seq: last.map_or(1, |r| r.seq + 1),
            body: json,
            hash: hash.clone(),
            created_at: Utc::now().naive_utc(),
        },
    )?;
    Ok(Some(hash))
}

/// The hash of a wave's record, if it has one.
pub fn hash_of(conn: &mut DbConn, wave_id: i32) -> diesel::QueryResult<Option<String>> {
    Ok(frames::record_of(conn, wave_id)?.map(|r| r.hash))
}

/// Checks a wave's record against what is stored now: its own hash, the chain, the survey,
/// the frame, and the counts `recount` (counted afresh from the stored sheets). Returns the
/// record's hash and one line per difference (empty when everything agrees); `None` when
/// the wave has no record.
pub fn check(
    conn: &mut DbConn,
    wave_id: i32,
    recount: &Counts,
) -> diesel::QueryResult<Option<(String, Vec<String>)>> {
    let Some(record) = frames::record_of(conn, wave_id)? else {
        return Ok(None);
    };
    let mut diffs = Vec::new();
    if sha256_hex(record.body.as_bytes()) != record.hash {
        diffs.push("the record's text was changed after it was written (its hash differs)".into());
    }
    let Ok(body) = serde_json::from_str::<Body>(&record.body) else {
        diffs.push("the record's text is not a record".into());
        return Ok(Some((record.hash, diffs)));
    };
    let previous = match record.seq {
        1 => None,
        seq => frames::record_at(conn, seq - 1)?.map(|r| r.hash),
    };
    if body.previous != previous {
        diffs.push("the chain is broken: the previous record differs from the one it names".into());
    }
    if let Some(next) = frames::record_at(conn, record.seq + 1)?
        && serde_json::from_str::<Body>(&next.body)
            .ok()
            .and_then(|b| b.previous)
            != Some(record.hash.clone())
    {
        diffs.push(format!(
            "the chain is broken: the next record (wave {}) does not name this one",
            next.wave_id
        ));
    }
    if let Some(wave) = waves::find(conn, wave_id)?
        && (crate::domain::survey::fingerprint(&wave.survey) != body.survey
            || wave.fingerprint != body.survey)
    {
        diffs.push("the survey differs from the one recorded".into());
    }
    if frame_hash(conn, wave_id)? != body.frame {
        diffs.push(
            "the frame differs: the frozen units (code, name, kind, parent) or the invitations changed"
                .into(),
        );
    }
    let people = waves::find(conn, wave_id)?.is_some_and(|w| w.is_people());
    let now = if people {
        people_units(conn, wave_id)?
    } else {
        unit_counts(recount)
    };
    for (unit, then) in &body.units {
        match now.get(unit) {
            Some(c) if c == then => {}
            Some(c) => diffs.push(format!(
                "{unit}: recorded {} invited / {} answered, now {} / {}",
                then.invited, then.answered, c.invited, c.answered
            )),
            None => diffs.push(format!("{unit}: recorded, now missing")),
        }
    }
    for unit in now.keys().filter(|u| !body.units.contains_key(*u)) {
        diffs.push(format!("{unit}: not in the record"));
    }
    if people && people_hash(conn, wave_id)? != body.tallies {
        diffs.push(
            "the stored ratings per person or the final grades differ from the recorded ones"
                .into(),
        );
    } else if !people && tallies_hash(recount) != body.tallies {
        diffs.push(
            "the answers counted from the stored sheets differ from the recorded tallies".into(),
        );
    }
    if receipts_hash(&sealed::receipts_of(conn, wave_id)?) != body.receipts {
        diffs.push("the receipt list differs from the recorded one".into());
    }
    Ok(Some((record.hash, diffs)))
}
