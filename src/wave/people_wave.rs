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
        return WaveError::refused(
            format!(
                "批次 {wave_id} 没有评议对象：其范围内没有人担任问卷所评议的角色（见问卷的 \
                 `rated_roles` 和名册的 `role` 列）。"
            ),
            format!(
                "wave {wave_id} rates nobody: no one in its scope holds a role the survey rates \
                 (see the survey's rated_roles and the roster's role column)"
            ),
        );
    }
    WaveError::refused(
        format!(
            "批次 {wave_id} 无法开放：其范围内每个单位的人数都太少，无法匿名评议——{}",
            too_small_list(too_small, true)
        ),
        format!(
            "wave {wave_id} cannot open: every unit in its scope is too small for anonymous rating — {}",
            too_small_list(too_small, false)
        ),
    )
}

/// The units left out, in words: "CODE 名称 (at most n raters, k needed)".
pub fn too_small_list(too_small: &[(Unit, TooSmall)], chinese: bool) -> String {
    too_small
        .iter()
        .map(|(u, s)| {
            if chinese {
                format!(
                    "{} {}（每人至多 {} 名评议人，需要 {} 名）",
                    u.code, u.name, s.possible, s.needed
                )
            } else {
                format!(
                    "{} {} (at most {} raters each, {} needed)",
                    u.code, u.name, s.possible, s.needed
                )
            }
        })
        .collect::<Vec<_>>()
        .join(if chinese { "；" } else { "; " })
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

/// A final grade to record (组织评定).
#[derive(Debug, Clone)]
pub struct GradeSpec<'a> {
    /// The wave.
    pub wave_id: i32,
    /// The rated person's address.
    pub person: &'a str,
    /// The grade: an option id or label (zh or en) of the survey's grade scale.
    pub grade: &'a str,
    /// Why (may be empty).
    pub reason: &'a str,
    /// Who records it.
    pub actor: &'a str,
}

/// Longest reason for a final grade, in characters.
pub const MAX_GRADE_REASON_CHARS: usize = 500;

/// Records the committee's final grade of a person, in one transaction holding the wave's
/// lock, audited. Only for a closed, unsealed, not yet published people wave whose survey
/// asks for final grades. Refused when the top grade would exceed the unit's quota
/// (⌊n × cap⌋ of its n rated people). Returns the option id recorded.
pub fn grade(conn: &mut DbConn, g: &GradeSpec<'_>) -> Result<String, WaveError> {
    let id = g.wave_id;
    let reason = g.reason.trim();
    if reason.chars().count() > MAX_GRADE_REASON_CHARS {
        return Err(WaveError::refused(
            format!("评定理由过长，至多 {MAX_GRADE_REASON_CHARS} 字。"),
            format!("the reason may have at most {MAX_GRADE_REASON_CHARS} characters"),
        ));
    }
    if reason
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        return Err(WaveError::refused(
            "评定理由含有无法接受的控制字符。",
            "the reason contains a control character",
        ));
    }
    crate::db::write_tx(conn, |conn| {
        crate::db::waves::hold_exclusive(conn, id)?;
        let wave = super::get(conn, id)?;
        let survey = super::survey_of(&wave)?;
        let Some(spec) = &survey.people else {
            return Err(WaveError::refused(
                format!("批次 {id} 评议的是单位，不是个人。"),
                format!("wave {id} evaluates units, not people"),
            ));
        };
        if !spec.final_grade {
            return Err(WaveError::refused(
                "本问卷不设组织评定。",
                format!("the survey of wave {id} records no final grades"),
            ));
        }
        match super::State::parse(&wave.state) {
            super::State::Closed if !wave.is_sealed() => {}
            super::State::Closed => super::require_unsealed(&wave, "recording final grades")?,
            super::State::Published => {
                return Err(WaveError::refused(
                    "本批次已发布，组织评定不能再更改。",
                    format!("wave {id} is published: its final grades can no longer change"),
                ));
            }
            _ => {
                return Err(WaveError::refused(
                    "测评结束并开箱后才能进行组织评定。",
                    format!(
                        "wave {id} is {}: final grades are recorded after it closes and its ratings are unsealed",
                        super::state_label(&wave.state, wave.is_sealed())
                    ),
                ));
            }
        }
        let Some(rated_person) = rated::find(conn, id, g.person)?.filter(|r| !is_team(&r.person))
        else {
            return Err(WaveError::refused(
                format!("{} 不是本批次的评议对象。", g.person),
                format!("{} is not rated in wave {id}", g.person),
            ));
        };
        let scale = &survey.scales[&spec.overall_item().scale];
        let wanted = g.grade.trim();
        let Some(option) = scale.options.iter().find(|o| {
            o.id == wanted || o.label.zh == wanted || o.label.en.as_deref() == Some(wanted)
        }) else {
            let known: Vec<String> = scale
                .options
                .iter()
                .map(|o| format!("{} ({})", o.label.zh, o.id))
                .collect();
            return Err(WaveError::refused(
                format!("“{wanted}”不是本问卷的等次，请从列表中选择。"),
                format!(
                    "\"{wanted}\" is not a grade of this survey; the grades are {}",
                    known.join(", ")
                ),
            ));
        };
        let top = &scale.options[0];
        if option.id == top.id {
            let in_unit: Vec<Rated> = rated::of_unit(conn, id, &rated_person.unit)?
                .into_iter()
                .filter(|r| !is_team(&r.person))
                .collect();
            let n = in_unit.len() as u64;
            let max = spec.max_top(n);
            let others: Vec<String> = rated::grades_of(conn, id)?
                .into_iter()
                .filter(|fg| {
                    fg.grade == top.id
                        && fg.person != g.person
                        && in_unit.iter().any(|r| r.person == fg.person)
                })
                .map(|fg| fg.person)
                .collect();
            if others.len() as u64 + 1 > max {
                let names: Vec<&str> = others
                    .iter()
                    .filter_map(|o| in_unit.iter().find(|r| &r.person == o))
                    .map(|r| r.name.as_str())
                    .collect();
                return Err(WaveError::refused(
                    format!(
                        "名额已满：本支部 {n} 人，{}至多 {max} 人（⌊{n} × {}⌋），已评定 {} 人（{}）。\
                         请先更改其中一人的评定。",
                        top.label.zh,
                        spec.top_cap,
                        others.len(),
                        names.join("、")
                    ),
                    format!(
                        "quota: at most {max} of the {n} people of {} may be graded {} (⌊{n} × {}⌋), \
                         and {} already are ({}); change one of them first",
                        rated_person.unit,
                        top.label.zh,
                        spec.top_cap,
                        others.len(),
                        others.join(", ")
                    ),
                ));
            }
        }
        rated::set_grade(
            conn,
            &rated::FinalGrade {
                wave_id: id,
                person: g.person.to_owned(),
                grade: option.id.clone(),
                reason: reason.to_owned(),
                recorded_by: g.actor.to_owned(),
                recorded_at: chrono::Utc::now().naive_utc(),
            },
        )?;
        crate::auth::record(
            conn,
            g.actor,
            "people.grade",
            &format!(
                "wave {id}: {} graded {} ({}){}",
                g.person,
                option.label.zh,
                option.id,
                if reason.is_empty() {
                    String::new()
                } else {
                    format!(", reason: {reason}")
                }
            ),
        )?;
        Ok(option.id.clone())
    })
}
