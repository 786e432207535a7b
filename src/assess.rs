//! The self-assessment (基层自评) and the committee's scoring (组织考评): sheets that belong
//! to a unit or a committee member, saved as drafts and submitted (self) or saved until the
//! wave closes (org).

use std::collections::BTreeMap;

use chrono::Utc;

use crate::db::assessments::{self, Assessment};
use crate::db::waves::{self, Invitation};
use crate::db::{self, DbConn};
use crate::domain::answers::Sheet;
use crate::domain::survey::StepKind;
use crate::domain::token;
use crate::wave;

/// Why a sheet was not saved.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// The wave does not take answers (not open, closed, or past its closing time).
    #[error("the wave does not take answers now")]
    Closed,
    /// The self-assessment was already submitted; it is read-only.
    #[error("the self-assessment was already submitted")]
    Submitted,
    /// The database failed.
    #[error("database error: {0}")]
    Db(#[from] diesel::result::Error),
}

/// A stored sheet as the pages need it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stored {
    /// The answers and evidence.
    pub sheet: Sheet,
    /// Submitted (self step): read-only.
    pub submitted: bool,
    /// Whether anything was saved yet.
    pub saved: bool,
}

fn decode(a: &Assessment) -> Stored {
    let answers: BTreeMap<String, String> = serde_json::from_str(&a.answers).unwrap_or_default();
    let evidence: BTreeMap<String, String> = serde_json::from_str(&a.evidence).unwrap_or_default();
    Stored {
        sheet: Sheet { answers, evidence },
        submitted: a.submitted,
        saved: true,
    }
}

/// The scorer key: `""` for a unit's self-assessment, the member's address for org sheets.
pub fn scorer_of(step: StepKind, invitation: &Invitation) -> String {
    match step {
        StepKind::Org => invitation.person.clone().unwrap_or_default(),
        _ => String::new(),
    }
}

/// The stored sheet of (wave, unit, step, scorer), or an empty one.
pub fn load(
    conn: &mut DbConn,
    wave_id: i32,
    unit: &str,
    step: StepKind,
    scorer: &str,
) -> diesel::QueryResult<Stored> {
    Ok(
        assessments::find(conn, wave_id, unit, step.as_str(), scorer)?
            .map(|a| decode(&a))
            .unwrap_or_default(),
    )
}

/// Every stored sheet of a step in a wave: unit → scorer → sheet.
pub fn all(
    conn: &mut DbConn,
    wave_id: i32,
    step: StepKind,
) -> diesel::QueryResult<BTreeMap<String, BTreeMap<String, Stored>>> {
    let mut out: BTreeMap<String, BTreeMap<String, Stored>> = BTreeMap::new();
    for a in assessments::of_wave(conn, wave_id, step.as_str())? {
        out.entry(a.unit.clone())
            .or_default()
            .insert(a.scorer.clone(), decode(&a));
    }
    Ok(out)
}

/// Saves a sheet in one transaction; `submit` (self step) makes it final and marks the
/// secretary's invitation used.
pub fn save(
    conn: &mut DbConn,
    invitation: &Invitation,
    unit: &str,
    step: StepKind,
    sheet: &Sheet,
    submit: bool,
) -> Result<(), SaveError> {
    let scorer = scorer_of(step, invitation);
    let answers = serde_json::to_string(&sheet.answers).expect("a map of strings serializes");
    let evidence = serde_json::to_string(&sheet.evidence).expect("a map of strings serializes");
    db::write_tx(conn, |conn| {
        let wave = waves::find_head(conn, invitation.wave_id)?.ok_or(SaveError::Closed)?;
        if !wave::accepts_answers(&wave, Utc::now().naive_utc()) {
            return Err(SaveError::Closed);
        }
        let now = Utc::now().naive_utc();
        let submitted = submit && step == StepKind::SelfAssessment;
        match assessments::find(conn, wave.id, unit, step.as_str(), &scorer)? {
            Some(old) if old.submitted => return Err(SaveError::Submitted),
            Some(old) => {
                let new = Assessment {
                    answers,
                    evidence,
                    submitted,
                    updated_at: now,
                    ..old
                };
                if assessments::update(conn, &new)? != 1 {
                    return Err(SaveError::Submitted);
                }
            }
            None => assessments::insert(
                conn,
                &Assessment {
                    id: token::random_id(),
                    wave_id: wave.id,
                    unit: unit.to_owned(),
                    step: step.as_str().to_owned(),
                    scorer: scorer.clone(),
                    answers,
                    evidence,
                    submitted,
                    updated_at: now,
                },
            )
            .map(|_| ())?,
        }
        if submitted {
            waves::burn(conn, &invitation.id)?;
        }
        Ok(())
    })
}
