//! The anonymous respondent flow: what a token leads to, and the one transaction that
//! burns it and stores the answers.

use chrono::{NaiveDateTime, Utc};

use crate::db::waves::{self, Invitation, Response, WaveHead};
use crate::db::{self, DbConn};
use crate::domain::answers::Submission;
use crate::domain::survey::{StepKind, Survey};
use crate::domain::token;
use crate::sealing;
use crate::wave::{self, State};

/// Where a token leads.
#[derive(Debug)]
pub enum Lookup {
    /// Not a token of ours.
    Invalid,
    /// A token of ours that a newer link (a reminder, a retried delivery) replaced at this
    /// time (UTC), in a wave that still takes answers.
    Replaced(NaiveDateTime),
    /// Already used.
    Used(WaveHead),
    /// The wave has not opened yet.
    NotOpen(WaveHead),
    /// The wave has closed (or passed its closing time).
    Closed(WaveHead),
    /// The questionnaire may be answered.
    Ready(WaveHead, Invitation),
}

/// Looks a raw token up without changing anything.
pub fn lookup(conn: &mut DbConn, raw_token: &str) -> diesel::QueryResult<Lookup> {
    let Some(token) = token::normalize(raw_token) else {
        return Ok(Lookup::Invalid);
    };
    let hash = token::hash(&token);
    match waves::find_invitation_with_wave(conn, &hash)? {
        Some((invitation, wave)) => Ok(classify(wave, invitation, Utc::now().naive_utc())),
        None => retired(conn, &hash),
    }
}

/// What a token hash no invitation holds leads to: [`Lookup::Replaced`] when a newer link
/// replaced it; the wave's own refusal when the wave no longer takes answers (the newer link
/// would not help); else [`Lookup::Invalid`].
fn retired(conn: &mut DbConn, hash: &str) -> diesel::QueryResult<Lookup> {
    let Some((wave_id, at)) = db::retired::find(conn, hash)? else {
        return Ok(Lookup::Invalid);
    };
    let Some(wave) = waves::find_head(conn, wave_id)? else {
        return Ok(Lookup::Invalid);
    };
    Ok(if wave::accepts_answers(&wave, Utc::now().naive_utc()) {
        Lookup::Replaced(at)
    } else if State::parse(&wave.state) == State::Draft {
        Lookup::NotOpen(wave)
    } else {
        Lookup::Closed(wave)
    })
}

fn classify(wave: WaveHead, invitation: Invitation, at: NaiveDateTime) -> Lookup {
    // A used mass token is spent. A submitted self-assessment stays readable: its page
    // shows the sheet read-only.
    if invitation.used && invitation.step == StepKind::Mass.as_str() {
        Lookup::Used(wave)
    } else if wave::accepts_answers(&wave, at) {
        Lookup::Ready(wave, invitation)
    } else if State::parse(&wave.state) == State::Draft {
        Lookup::NotOpen(wave)
    } else {
        Lookup::Closed(wave)
    }
}

/// The outcome of a submission.
#[derive(Debug)]
pub enum Submitted {
    /// Stored; here is the receipt code.
    Stored(String),
    /// Nothing stored: the token led elsewhere (used meanwhile, closed, …).
    Refused(Box<Lookup>),
}

/// Looks the token up and, when it is ready, [`store`]s the submission (reading the wave's
/// survey for the padded sizes; the web handler passes its cached survey to [`store`]).
pub fn submit(
    conn: &mut DbConn,
    raw_token: &str,
    submission: &Submission,
) -> diesel::QueryResult<Submitted> {
    match lookup(conn, raw_token)? {
        Lookup::Ready(wave, invitation) => {
            let stored = waves::find(conn, wave.id)?.ok_or(diesel::result::Error::NotFound)?;
            let survey = wave::survey_of(&stored)
                .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
            store(conn, &wave, &invitation, &survey, submission)
        }
        refused => Ok(Submitted::Refused(Box::new(refused))),
    }
}

/// Burns the token of `invitation` (as a [`lookup`] found it ready) and stores the answer
/// sheet, in one transaction: either both happen or neither. Of several racing submissions
/// with one token exactly one is stored; the others get `Refused(Used)`.
///
/// The sheet is sealed to the wave's public key before the transaction starts (see
/// [`crate::sealing`]): the transaction that burns the token writes only ciphertext. It
/// re-checks only what may have changed since the lookup — the wave's state and the
/// invitation's use and token — so it holds SQLite's write lock as briefly as possible.
pub fn store(
    conn: &mut DbConn,
    wave: &WaveHead,
    invitation: &Invitation,
    survey: &Survey,
    submission: &Submission,
) -> diesel::QueryResult<Submitted> {
    let refused = |lookup| Ok(Submitted::Refused(Box::new(lookup)));
    let (Some(token_hash), true) = (
        invitation.token_hash.as_deref(),
        invitation.step == StepKind::Mass.as_str(),
    ) else {
        return refused(Lookup::Invalid);
    };
    let sealed = match &wave.public_key {
        Some(key) => Some(
            sealing::seal_sheet(
                wave.id,
                key,
                &sealing::sheet_sizes(survey),
                &invitation.unit,
                submission,
            )
            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?,
        ),
        None => None,
    };
    burn_with(conn, invitation, token_hash, |conn| {
        if let Some((ciphertext, receipt)) = &sealed {
            crate::db::sealed::insert(conn, wave.id, &token::random_id(), ciphertext)?;
            return Ok(receipt.clone());
        }
        // A wave opened before sealing existed keeps storing its sheets as it began.
        let response = Response {
            id: token::random_id(),
            wave_id: wave.id,
            unit: invitation.unit.clone(),
            answers: serde_json::to_string(&submission.answers)
                .expect("a map of strings serializes"),
            comment: submission.comment.clone(),
            is_test: wave.is_test,
        };
        waves::insert_response(conn, &response)?;
        Ok(token::receipt(&response.id, &response.answers))
    })
}

/// The one transaction of a submission: burns the token only while the wave still takes
/// answers and the invitation is unused with this token (one statement, after the wave's
/// shared lock), and lets `write` store the sheet and return the receipt code. Of several
/// racing submissions with one token exactly one writes; the others get `Refused(Used)`.
/// `write` uses the lookup's wave: what it reads of it (id, key, test flag) never changes
/// while the wave is open.
pub(crate) fn burn_with(
    conn: &mut DbConn,
    invitation: &Invitation,
    token_hash: &str,
    write: impl FnOnce(&mut DbConn) -> diesel::QueryResult<String>,
) -> diesel::QueryResult<Submitted> {
    let refused = |lookup| Ok(Submitted::Refused(Box::new(lookup)));
    db::write_tx(conn, |conn| {
        // Before the wave's state is read: a close waits for this submission, or this
        // submission sees the wave closed.
        waves::hold_shared(conn, invitation.wave_id)?;
        let now = Utc::now().naive_utc();
        if waves::burn_token_while_open(conn, &invitation.id, token_hash, now)? == 1 {
            return Ok(Submitted::Stored(write(conn)?));
        }
        // Why not: the wave stopped taking answers, or the link was used meanwhile, or its
        // token was retired by a reminder.
        let Some(wave) = waves::find_head(conn, invitation.wave_id)? else {
            return refused(Lookup::Invalid);
        };
        if !wave::accepts_answers(&wave, now) {
            return refused(classify(wave, invitation.clone(), now));
        }
        match waves::find_invitation(conn, &invitation.id)? {
            Some(i) if i.used => refused(Lookup::Used(wave)),
            _ => refused(retired(conn, token_hash)?),
        }
    })
}

/// Every receipt code of a wave, sorted (so the list carries no order of submission): those
/// stored when it was unsealed, or — for a wave from before sealing — computed from its
/// responses.
pub fn receipts(conn: &mut DbConn, wave_id: i32) -> diesel::QueryResult<Vec<String>> {
    let stored = crate::db::sealed::receipts_of(conn, wave_id)?;
    if !stored.is_empty() {
        return Ok(stored);
    }
    let mut codes: Vec<String> = waves::responses_of(conn, wave_id)?
        .iter()
        .map(|r| token::receipt(&r.id, &r.answers))
        .collect();
    codes.sort();
    Ok(codes)
}
