//! What an organizer's action would do, counted before it is done, reading only: whom
//! opening a draft invites, whom inviting the people added since an open wave opened
//! invites, what purging a rehearsal deletes, and how a wave stands before it is closed or
//! published.

use std::collections::HashSet;

use crate::db::people::Person;
use crate::db::waves::Wave;
use crate::db::{DbConn, assessments};
use crate::domain::survey::StepKind;
use crate::wave::{self, WaveError};

/// Whom opening a draft now would invite, by the plan opening uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenPlan {
    /// Invitations, one mail each.
    pub mails: usize,
    /// Distinct people.
    pub people: usize,
    /// Distinct units evaluated (mass evaluation or self-assessment).
    pub units: usize,
    /// Mass evaluation invitations.
    pub mass: usize,
    /// Self-assessment sheets (a unit's secretaries).
    pub self_assessment: usize,
    /// Committee scoring sheets.
    pub org: usize,
}

/// Counts whom opening `wave` would invite now.
pub fn open_plan(conn: &mut DbConn, wave: &Wave) -> Result<OpenPlan, WaveError> {
    Ok(plan_of(&wave::planned(conn, wave)?))
}

/// Counts whom inviting the people added to the roster since open `wave` opened would
/// invite now (`wave invite-added`): one mail per invitation, as opening sends.
pub fn added_plan(conn: &mut DbConn, wave: &Wave) -> Result<OpenPlan, WaveError> {
    Ok(plan_of(&wave::roster_changes(conn, wave.id)?.added))
}

fn plan_of(planned: &[(Person, String, StepKind)]) -> OpenPlan {
    let step = |k: StepKind| planned.iter().filter(|(_, _, s)| *s == k).count();
    OpenPlan {
        mails: planned.len(),
        people: planned
            .iter()
            .map(|(p, _, _)| p.email.as_str())
            .collect::<HashSet<_>>()
            .len(),
        units: planned
            .iter()
            .filter(|(_, _, s)| *s != StepKind::Org)
            .map(|(_, u, _)| u.as_str())
            .collect::<HashSet<_>>()
            .len(),
        mass: step(StepKind::Mass),
        self_assessment: step(StepKind::SelfAssessment),
        org: step(StepKind::Org),
    }
}

/// What purging a rehearsal wave would delete.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgePlan {
    /// Answer sheets, opened or still sealed.
    pub responses: i64,
    /// Invitations (their links stop working).
    pub invitations: i64,
    /// Self-assessment and committee sheets, drafts included.
    pub sheets: i64,
}

/// Counts what `wave::purge_test` would delete from `wave` now.
pub fn purge_plan(conn: &mut DbConn, wave: &Wave) -> Result<PurgePlan, WaveError> {
    let (responses, invitations, sheets) = crate::db::waves::purge_counts(conn, wave.id)?;
    // Sealed sheets live in a table of the wave's own, which exists only while sealed.
    let sealed = if wave.is_sealed() {
        crate::db::sealed::count(conn, wave.id)?
    } else {
        0
    };
    Ok(PurgePlan {
        responses: responses + sealed,
        invitations,
        sheets,
    })
}

/// How a wave stands: its mass responses, and the evaluated units still without a
/// submitted self-assessment or committee score.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Standing {
    /// Mass invitations.
    pub invited: i64,
    /// Mass responses.
    pub responses: i64,
    /// Evaluated units.
    pub units: usize,
    /// Units without a submitted self-assessment.
    pub missing_self: usize,
    /// Units without any submitted committee score.
    pub missing_org: usize,
}

impl Standing {
    /// Responses / invitations, 0 when nobody was invited.
    #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    pub fn rate(&self) -> f64 {
        if self.invited == 0 {
            0.0
        } else {
            self.responses as f64 / self.invited as f64
        }
    }
}

/// Counts how `wave` stands now.
pub fn standing(conn: &mut DbConn, wave: &Wave) -> Result<Standing, WaveError> {
    let progress = wave::progress(conn, wave.id)?;
    let units = wave::targets(&wave::frame(conn, wave)?, wave.scope.as_deref());
    let done = |conn: &mut DbConn, step: &str| -> Result<HashSet<String>, WaveError> {
        Ok(assessments::of_wave(conn, wave.id, step)?
            .into_iter()
            .filter(|a| a.submitted)
            .map(|a| a.unit)
            .collect())
    };
    let with_self = done(conn, StepKind::SelfAssessment.as_str())?;
    let with_org = done(conn, StepKind::Org.as_str())?;
    Ok(Standing {
        invited: progress.iter().map(|p| p.invited).sum(),
        responses: progress.iter().map(|p| p.responses).sum(),
        units: units.len(),
        missing_self: units
            .iter()
            .filter(|u| !with_self.contains(&u.code))
            .count(),
        missing_org: units.iter().filter(|u| !with_org.contains(&u.code)).count(),
    })
}
