//! A wave's frozen frame: the units it evaluates as they were when it opened, and the
//! roster's changes since then, which reach the wave only by an explicit invitation.

use std::collections::HashSet;

use super::{
    State, WaveError, get, new_invitation, now, plan, queued_mail, require, survey_of, targets,
};
use crate::db::people::Person;
use crate::db::units::Unit;
use crate::db::waves::{self, Wave};
use crate::db::{self, DbConn};
use crate::domain::survey::StepKind;

/// The units a wave evaluates: frozen when it opened, so later imports change later waves
/// only. A draft (or a wave opened before frames were kept) reads the live tree.
pub fn frame(conn: &mut DbConn, wave: &Wave) -> Result<Vec<Unit>, WaveError> {
    let frozen = db::frames::units_of(conn, wave.id)?;
    if !frozen.is_empty() {
        return Ok(frozen);
    }
    Ok(targets(
        &crate::deactivate::active_units(conn)?,
        wave.scope.as_deref(),
    ))
}

/// How the roster changed since a wave opened, against the wave's frozen frame.
#[derive(Debug, Clone, Default)]
pub struct RosterChanges {
    /// Invitations the roster would make now that the wave does not have: people added
    /// (or moved) since it opened.
    pub added: Vec<(Person, String, StepKind)>,
    /// Invitations the wave has that the roster would no longer make: (email, unit, step).
    pub gone: Vec<(String, String, StepKind)>,
}

/// The roster's changes since wave `id` opened. Nothing is changed: new people are invited
/// only by [`invite_added`], an explicit (and audited) action.
pub fn roster_changes(conn: &mut DbConn, id: i32) -> Result<RosterChanges, WaveError> {
    let wave = get(conn, id)?;
    if State::parse(&wave.state) == State::Draft {
        return Ok(RosterChanges::default());
    }
    let survey = survey_of(&wave)?;
    let frame = frame(conn, &wave)?;
    let units = db::units::all(conn)?;
    let people = crate::deactivate::active_people_for(conn, wave.scope.as_deref(), &units, &frame)?;
    let planned = plan(&survey, &people, &frame);
    let existing: HashSet<(String, String, String)> = db::frames::invited(conn, id)?
        .into_iter()
        .filter(|(person, _, _)| !person.is_empty())
        .collect();
    let key = |p: &Person, unit: &str, step: StepKind| {
        (p.email.clone(), unit.to_owned(), step.as_str().to_owned())
    };
    let wanted: HashSet<(String, String, String)> =
        planned.iter().map(|(p, u, s)| key(p, u, *s)).collect();
    let mut gone: Vec<(String, String, StepKind)> = existing
        .iter()
        .filter(|k| !wanted.contains(*k))
        .filter_map(|(email, unit, step)| {
            Some((email.clone(), unit.clone(), StepKind::parse(step)?))
        })
        .collect();
    gone.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    Ok(RosterChanges {
        added: planned
            .into_iter()
            .filter(|(p, u, s)| !existing.contains(&key(p, u, *s)))
            .collect(),
        gone,
    })
}

/// Invites, by email, the people the roster added to an open wave since it opened (see
/// [`roster_changes`]), in one transaction. Returns how many invitations were queued.
pub fn invite_added(conn: &mut DbConn, id: i32) -> Result<usize, WaveError> {
    db::write_tx(conn, |conn| {
        waves::hold_exclusive(conn, id)?;
        db::units::hold_roster_shared(conn)?;
        let wave = get(conn, id)?;
        require(&wave, State::Open, super::Action::InvitingAdded)?;
        if wave.is_people() {
            return Err(WaveError::refused(
                format!(
                    "批次 {id} 为人员测评：开启时已确定评价关系，之后新增的人员不能加入（参加下一批次）。"
                ),
                format!(
                    "wave {id} evaluates people: who rates whom was fixed when it opened, so people \
                     added since then cannot join it (they take part in the next wave)"
                ),
            ));
        }
        let at = now();
        let (invitations, mails): (Vec<_>, Vec<_>) = roster_changes(conn, id)?
            .added
            .into_iter()
            .map(|(person, unit, step)| {
                let invitation = new_invitation(id, Some(&person.email), &unit, step, None);
                let mail = queued_mail(&invitation, &person.email, "invitation", at);
                (invitation, mail)
            })
            .unzip();
        waves::insert_invitations(conn, &invitations).map_err(|e| {
            if db::is_unique_violation(&e) {
                WaveError::changed_meanwhile(id)
            } else {
                e.into()
            }
        })?;
        crate::db::outbox::insert(conn, &mails)?;
        Ok(invitations.len())
    })
}
