//! The rater's flow in a people wave (民主评议): whom a rating link rates, drafts only the link
//! can read, and the one transaction that burns the link and stores the sealed sheet; and
//! the rated person's own link (个人总结, later their result).

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::db::rated::{self, Rated};
use crate::db::waves::{self, Invitation, WaveHead};
use crate::db::{self, DbConn};
use crate::domain::answers::FieldError;
use crate::domain::people::sheet::{self, Ratings};
use crate::domain::seal::{self, SealError};
use crate::domain::survey::{StepKind, Survey};
use crate::domain::token;
use crate::respond::{Lookup, Submitted};

/// What is sealed for one rater: their unit, their ratings and reasons, and a random nonce
/// that makes the receipt code unguessable. Never stored in the clear (it lists everyone of
/// the unit but its rater, so it would name them).
#[derive(Serialize, Deserialize)]
pub(crate) struct RatingSheet {
    pub(crate) unit: String,
    #[serde(flatten)]
    pub(crate) ratings: Ratings,
    pub(crate) nonce: String,
}

/// What HPKE's `info` says of a rating sheet (apart from a unit wave's answer sheets).
pub(crate) fn sheet_info(wave_id: i32) -> Vec<u8> {
    format!("sanping rating sheet v1 wave {wave_id}").into_bytes()
}

/// The receipt code of a sheet: from its nonce and its ratings.
pub(crate) fn receipt_of(sheet: &RatingSheet) -> String {
    let ratings = serde_json::to_string(&sheet.ratings.ratings).expect("maps of strings serialize");
    token::receipt(&sheet.nonce, &ratings)
}

/// Everyone a rater with this rating invitation rates, in order: the rated people of their
/// unit but themselves, then the unit's leadership team when the survey rates it.
pub fn targets(conn: &mut DbConn, invitation: &Invitation) -> diesel::QueryResult<Vec<Rated>> {
    let in_unit = rated::of_unit(conn, invitation.wave_id, &invitation.unit)?;
    Ok(targets_among(&in_unit, invitation))
}

/// [`targets`] from the frame of the rater's unit, already read (see `AppState::frame`).
pub fn targets_among(in_unit: &[Rated], invitation: &Invitation) -> Vec<Rated> {
    let rater = invitation.person.as_deref().unwrap_or_default();
    crate::wave::people_wave::targets_of(in_unit, rater)
        .into_iter()
        .filter_map(|k| in_unit.iter().find(|r| r.person == k).cloned())
        .collect()
}

/// The keys of [`targets`].
pub fn keys(targets: &[Rated]) -> Vec<String> {
    targets.iter().map(|r| r.person.clone()).collect()
}

/// The outcome of sending a rating sheet.
#[derive(Debug)]
pub enum Sent {
    /// Stored (or refused by the link's state): see [`Submitted`].
    Done(Submitted),
    /// The fields are wrong: nothing stored, the link still works.
    Invalid(Vec<FieldError>, Ratings),
}

/// Checks a rater's fields against their `targets` ([`targets`]) and, when complete, burns
/// the link and stores the sealed sheet in one transaction (deleting their draft in it). A
/// field naming anyone the rater does not rate refuses the whole sheet and leaves the link
/// as it was.
pub fn submit(
    conn: &mut DbConn,
    wave: &WaveHead,
    invitation: &Invitation,
    survey: &Survey,
    targets: &[Rated],
    fields: &[(String, String)],
) -> diesel::QueryResult<Sent> {
    let (Some(spec), Some(token_hash), true) = (
        survey.people.as_ref(),
        invitation.token_hash.as_deref(),
        invitation.step == StepKind::Mass.as_str(),
    ) else {
        return Ok(Sent::Done(Submitted::Refused(Box::new(Lookup::Invalid))));
    };
    let targets = keys(targets);
    let ratings = match sheet::check(spec, &survey.scales, &targets, fields, true) {
        Ok(r) => r,
        Err((errors, kept)) => return Ok(Sent::Invalid(errors, kept)),
    };
    let Some(public_key) = &wave.public_key else {
        return Ok(Sent::Done(Submitted::Refused(Box::new(Lookup::Invalid))));
    };
    let sheet = RatingSheet {
        unit: invitation.unit.clone(),
        ratings,
        nonce: token::random_id(),
    };
    let receipt = receipt_of(&sheet);
    let plain = Zeroizing::new(serde_json::to_vec(&sheet).expect("a sheet serializes"));
    let size = sheet::padded_size(spec, &survey.scales, &targets);
    let padded = seal::pad(&plain, &[size; 3]);
    let ciphertext = seal::seal(public_key, &sheet_info(wave.id), &padded)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    let done = crate::respond::burn_with(conn, invitation, token_hash, |conn| {
        crate::db::sealed::insert(conn, wave.id, &token::random_id(), &ciphertext)?;
        rated::delete_draft(conn, &invitation.id)?;
        Ok(receipt)
    })?;
    Ok(Sent::Done(done))
}

/// Saves a draft of a rater's sheet, encrypted under a key only the raw token gives (see
/// [`seal::lock_draft`]) and padded like a sheet. Answers that do not fit the form are
/// refused as on submission; missing ones are fine.
pub fn save_draft(
    conn: &mut DbConn,
    raw_token: &str,
    invitation: &Invitation,
    survey: &Survey,
    targets: &[Rated],
    fields: &[(String, String)],
) -> diesel::QueryResult<Result<Ratings, (Vec<FieldError>, Ratings)>> {
    let Some(spec) = survey.people.as_ref() else {
        return Ok(Err((Vec::new(), Ratings::default())));
    };
    let targets = keys(targets);
    let ratings = match sheet::check(spec, &survey.scales, &targets, fields, false) {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    let plain = Zeroizing::new(serde_json::to_vec(&ratings).expect("a draft serializes"));
    let padded = seal::pad(
        &plain,
        &[sheet::padded_size(spec, &survey.scales, &targets); 3],
    );
    let locked = seal::lock_draft(raw_token, &padded);
    db::write_tx(conn, |conn| {
        // Only while the wave takes answers (under its shared lock: a close, which forgets
        // every draft, waits for this save or is seen here) and the link still works,
        // holding the link's row so a submission in another process cannot burn it (and
        // delete its draft) between this check and the save. Either way a draft never
        // outlives its link or its wave.
        waves::hold_shared(conn, invitation.wave_id)?;
        let taking = waves::find_head(conn, invitation.wave_id)?
            .is_some_and(|w| crate::wave::accepts_answers(&w, chrono::Utc::now().naive_utc()));
        let token_hash = invitation.token_hash.as_deref().unwrap_or_default();
        if taking && waves::hold_unused(conn, &invitation.id, token_hash)? {
            rated::save_draft(conn, &invitation.id, &locked)?;
        }
        Ok(ratings)
    })
    .map(Ok)
}

/// The rater's saved draft, if there is one this token can open (a replaced link's draft
/// cannot be read with the new link, and is forgotten).
pub fn load_draft(
    conn: &mut DbConn,
    raw_token: &str,
    invitation: &Invitation,
) -> diesel::QueryResult<Option<Ratings>> {
    let Some(locked) = rated::draft_of(conn, &invitation.id)? else {
        return Ok(None);
    };
    let opened: Result<Zeroizing<Vec<u8>>, SealError> = seal::unlock_draft(raw_token, &locked);
    Ok(opened
        .ok()
        .and_then(|padded| serde_json::from_slice(seal::unpad(&padded).ok()?).ok()))
}

/// A rated person's own link of a people wave, in any state of the wave (their 个人总结 while
/// it is open, their own result once it is published): the wave and the invitation.
pub fn own_link(
    conn: &mut DbConn,
    raw_token: &str,
) -> diesel::QueryResult<Option<(WaveHead, Invitation)>> {
    let Some(token) = token::normalize(raw_token) else {
        return Ok(None);
    };
    let Some(invitation) = waves::find_invitation_by_hash(conn, &token::hash(&token))? else {
        return Ok(None);
    };
    if invitation.step != StepKind::SelfAssessment.as_str() {
        return Ok(None);
    }
    let Some(wave) = waves::find_head(conn, invitation.wave_id)? else {
        return Ok(None);
    };
    Ok(wave.is_people().then_some((wave, invitation)))
}

/// How saving a 个人总结 went.
pub enum Saved {
    /// Saved (as a draft or submitted).
    Done,
    /// It was submitted before: nothing changed.
    AlreadySubmitted,
    /// The wave stopped taking answers.
    Closed(Box<WaveHead>),
}

/// Saves a 个人总结 holding the wave's lock, so that it never lands after the wave closed and
/// two saves never both insert.
pub fn save_summary(
    conn: &mut DbConn,
    wave_id: i32,
    person: &str,
    body: &str,
    submit: bool,
) -> diesel::QueryResult<Saved> {
    db::write_tx(conn, |conn| -> Result<Saved, diesel::result::Error> {
        waves::hold_exclusive(conn, wave_id)?;
        let Some(wave) = waves::find_head(conn, wave_id)? else {
            return Err(diesel::result::Error::NotFound);
        };
        let now = chrono::Utc::now().naive_utc();
        if !crate::wave::accepts_answers(&wave, now) {
            return Ok(Saved::Closed(Box::new(wave)));
        }
        let summary = rated::Summary {
            wave_id,
            person: person.to_owned(),
            body: body.to_owned(),
            submitted: submit,
            updated_at: now,
        };
        Ok(if rated::save_summary(conn, &summary)? == 0 {
            Saved::AlreadySubmitted
        } else {
            Saved::Done
        })
    })
}
