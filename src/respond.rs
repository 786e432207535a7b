//! The anonymous respondent flow: what a token leads to, and the one transaction that
//! burns it and stores the answers.

use chrono::{Local, NaiveDate, NaiveDateTime, Utc};

use crate::db::waves::{self, Invitation, Response, Wave};
use crate::db::{self, DbConn};
use crate::domain::answers::Submission;
use crate::domain::survey::StepKind;
use crate::domain::token;
use crate::wave::{self, State};

/// Where a token leads.
#[derive(Debug)]
pub enum Lookup {
    /// Not a token of ours.
    Invalid,
    /// Already used.
    Used(Wave),
    /// The wave has not opened yet.
    NotOpen(Wave),
    /// The wave has closed (or passed its closing time).
    Closed(Wave),
    /// The questionnaire may be answered.
    Ready(Wave, Invitation),
}

/// Looks a raw token up without changing anything.
pub fn lookup(conn: &mut DbConn, raw_token: &str) -> diesel::QueryResult<Lookup> {
    let Some(invitation) = invitation_of(conn, raw_token)? else {
        return Ok(Lookup::Invalid);
    };
    classify_stored(conn, invitation)
}

fn invitation_of(conn: &mut DbConn, raw_token: &str) -> diesel::QueryResult<Option<Invitation>> {
    let Some(token) = token::normalize(raw_token) else {
        return Ok(None);
    };
    waves::find_invitation_by_hash(conn, &token::hash(&token))
}

fn classify_stored(conn: &mut DbConn, invitation: Invitation) -> diesel::QueryResult<Lookup> {
    let Some(wave) = waves::find(conn, invitation.wave_id)? else {
        return Ok(Lookup::Invalid);
    };
    Ok(classify(wave, invitation, Utc::now().naive_utc()))
}

fn classify(wave: Wave, invitation: Invitation, at: NaiveDateTime) -> Lookup {
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

/// Burns the token and stores the response in one transaction: either both happen or
/// neither. Of several racing submissions with one token exactly one is stored; the others
/// get `Refused(Used)`.
pub fn submit(
    conn: &mut DbConn,
    raw_token: &str,
    submission: &Submission,
) -> diesel::QueryResult<Submitted> {
    let answers = serde_json::to_string(&submission.answers).expect("a map of strings serializes");
    db::write_tx(conn, |conn| {
        let Some(invitation) = invitation_of(conn, raw_token)? else {
            return Ok(Submitted::Refused(Box::new(Lookup::Invalid)));
        };
        // Before reading the wave's state: a close waits for this submission, or this
        // submission sees the wave closed.
        waves::hold_shared(conn, invitation.wave_id)?;
        let found = classify_stored(conn, invitation)?;
        let Lookup::Ready(wave, invitation) = found else {
            return Ok(Submitted::Refused(Box::new(found)));
        };
        if invitation.step != StepKind::Mass.as_str() {
            return Ok(Submitted::Refused(Box::new(Lookup::Invalid)));
        }
        if waves::burn(conn, &invitation.id)? != 1 {
            return Ok(Submitted::Refused(Box::new(Lookup::Used(wave))));
        }
        let response = Response {
            id: token::random_id(),
            wave_id: wave.id,
            unit: invitation.unit,
            day: today(),
            answers,
            comment: submission.comment.clone(),
            is_test: wave.is_test,
        };
        waves::insert_response(conn, &response)?;
        Ok(Submitted::Stored(token::receipt(
            &response.id,
            &response.answers,
        )))
    })
}

/// The local calendar day: the only time a response carries.
fn today() -> NaiveDate {
    Local::now().date_naive()
}

/// Every receipt code of a wave, sorted (so the list carries no order of submission).
pub fn receipts(conn: &mut DbConn, wave_id: i32) -> diesel::QueryResult<Vec<String>> {
    let mut codes: Vec<String> = waves::responses_of(conn, wave_id)?
        .iter()
        .map(|r| token::receipt(&r.id, &r.answers))
        .collect();
    codes.sort();
    Ok(codes)
}
