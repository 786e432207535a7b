//! Opening a people wave (民主评议): who rates whom in each unit of the frame, from the roster's
//! units and roles, and the units too small to take part.

use std::collections::BTreeMap;

use crate::db::DbConn;
use crate::db::people::Person;
use crate::db::rated::{self, Rated};
use crate::db::units::Unit;
use crate::domain::people::{PeopleSpec, Rosterable, TooSmall, is_team, plan_unit, team_key};
use crate::domain::survey::StepKind;

use super::WaveError;

impl Rosterable for Person {
    fn key(&self) -> &str {
        &self.email
    }

    fn category(&self) -> &str {
        &self.category
    }

    fn has_role(&self, role: &str) -> bool {
        Person::has_role(self, role)
    }
}

/// What opening a people wave over some units does.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// (person, unit, step): `self` is a rated person's own link (个人总结, and later their
    /// result), `mass` a rater's anonymous rating link.
    pub invitees: Vec<(Person, String, StepKind)>,
    /// Who is rated (the frame of the wave), without the wave id.
    pub rated: Vec<Rated>,
    /// Units with rated people left out because someone in them could not reach k raters.
    pub too_small: Vec<(Unit, TooSmall)>,
}

/// Plans a people wave over `targets` with the roster `people`.
pub fn plan(spec: &PeopleSpec, people: &[Person], targets: &[Unit]) -> Plan {
    let mut by_unit: BTreeMap<&str, Vec<&Person>> = BTreeMap::new();
    for p in people {
        by_unit.entry(p.unit.as_str()).or_default().push(p);
    }
    let mut out = Plan::default();
    for unit in targets {
        let Some(members) = by_unit.get(unit.code.as_str()) else {
            continue;
        };
        let members: Vec<Person> = members.iter().map(|p| (*p).clone()).collect();
        let unit_plan = plan_unit(spec, &unit.code, &members);
        if let Some(small) = unit_plan.too_small {
            out.too_small.push((unit.clone(), small));
            continue;
        }
        if unit_plan.raters.is_empty() {
            continue;
        }
        let person = |key: &str| members.iter().find(|p| p.email == key);
        for key in &unit_plan.rated {
            if let Some(p) = person(key) {
                out.rated.push(Rated {
                    wave_id: 0,
                    person: p.email.clone(),
                    name: p.name.clone(),
                    unit: unit.code.clone(),
                });
                out.invitees
                    .push((p.clone(), unit.code.clone(), StepKind::SelfAssessment));
            }
        }
        if spec.team {
            out.rated.push(Rated {
                wave_id: 0,
                person: team_key(&unit.code),
                name: format!("{}领导班子", unit.name),
                unit: unit.code.clone(),
            });
        }
        for (key, _) in &unit_plan.raters {
            if let Some(p) = person(key) {
                out.invitees
                    .push((p.clone(), unit.code.clone(), StepKind::Mass));
            }
        }
    }
    out
}

/// The message refusing a people wave in which no unit can take part.
pub fn nothing_to_rate(wave_id: i32, too_small: &[(Unit, TooSmall)]) -> WaveError {
    if too_small.is_empty() {
        return WaveError::Invalid(format!(
            "wave {wave_id} rates nobody: no one in its scope holds a role the survey rates \
             (see the survey's rated_roles and the roster's role column)"
        ));
    }
    WaveError::Invalid(format!(
        "wave {wave_id} cannot open: every unit in its scope is too small for anonymous rating — {}",
        too_small_list(too_small)
    ))
}

/// The units left out, in words: "CODE 名称 (at most n raters, k needed)".
pub fn too_small_list(too_small: &[(Unit, TooSmall)]) -> String {
    too_small
        .iter()
        .map(|(u, s)| {
            format!(
                "{} {} (at most {} raters each, {} needed)",
                u.code, u.name, s.possible, s.needed
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Freezes who the wave rates, in the transaction that opens it.
pub fn freeze(conn: &mut DbConn, wave_id: i32, plan: &Plan) -> Result<(), WaveError> {
    let rows: Vec<Rated> = plan
        .rated
        .iter()
        .map(|r| Rated {
            wave_id,
            ..r.clone()
        })
        .collect();
    rated::freeze(conn, &rows)?;
    Ok(())
}

/// The keys a rater of `unit` rates: everyone rated in the unit but themselves (and the team).
pub fn targets_of(rated_in_unit: &[Rated], rater: &str) -> Vec<String> {
    let mut people: Vec<String> = rated_in_unit
        .iter()
        .filter(|r| r.person != rater && !is_team(&r.person))
        .map(|r| r.person.clone())
        .collect();
    people.extend(
        rated_in_unit
            .iter()
            .filter(|r| is_team(&r.person))
            .map(|r| r.person.clone()),
    );
    people
}
