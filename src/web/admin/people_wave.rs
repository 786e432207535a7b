//! The parts of the wave pages that differ for a people wave (民主评议): what opening a
//! draft would do and which units are too small to take part, where the results are, and
//! which waves a branch secretary sees in the list.

use serde::Serialize;

use super::strings::fill;
use crate::db::waves as db_waves;
use crate::domain::Lang;
use crate::wave::{self, State};

/// What opening a people wave's draft would do.
#[derive(Serialize)]
pub(super) struct PeoplePlanView {
    /// "将评议 N 人：评议链接 R 个，个人总结链接 S 个", in the page's language.
    pub text: String,
    /// Each unit left out, with the reason.
    pub too_small: Vec<String>,
}

/// The plan of a people wave's draft, in words.
pub(super) fn people_plan_view(plan: &wave::people_wave::Plan, lang: Lang) -> PeoplePlanView {
    let rated = plan
        .rated
        .iter()
        .filter(|r| !crate::domain::people::is_team(&r.person))
        .count();
    let step = |k: crate::domain::survey::StepKind| {
        plan.invitees.iter().filter(|(_, _, s)| *s == k).count()
    };
    let (links, summaries) = (
        step(crate::domain::survey::StepKind::Mass).to_string(),
        step(crate::domain::survey::StepKind::SelfAssessment).to_string(),
    );
    let text = fill(
        match lang {
            Lang::Zh => {
                "开放后将评议 {rated} 人：发出评议链接 {links} 个（匿名，每位评议人一个），个人总结链接 {summaries} 个（每位评议对象一个）。"
            }
            Lang::En => {
                "Opening rates {rated} people: {links} rating links (anonymous, one per rater) and {summaries} personal summary links (one per person rated)."
            }
        },
        &[
            ("rated", &rated.to_string()),
            ("links", &links),
            ("summaries", &summaries),
        ],
    );
    let too_small = plan
        .too_small
        .iter()
        .map(|(u, small)| {
            fill(
                match lang {
                    Lang::Zh => "{name} {code}：人数不足：互评至少需要 {min} 人（k = {k}；此单位每位评议对象至多 {possible} 名评议人），不参加本次评议",
                    Lang::En => "{name} {code}: too few people: rating each other takes at least {min} (k = {k}; here each person rated has at most {possible} raters), so the unit takes no part",
                },
                &[
                    ("name", &u.name),
                    ("code", &u.code),
                    ("min", &(u64::from(small.needed) + 1).to_string()),
                    ("k", &small.needed.to_string()),
                    ("possible", &small.possible.to_string()),
                ],
            )
        })
        .collect();
    PeoplePlanView { text, too_small }
}

/// Where a wave's results are: the unit dashboard, or a people wave's results page.
pub(super) fn results_href(id: i32, people: bool) -> String {
    if people {
        format!("/admin/waves/{id}/people")
    } else {
        format!("/admin/results/{id}")
    }
}

/// Whether a secretary scoped to `scope` has anything to see in wave `w`: a people wave
/// with results and a unit of its frame inside the scope.
pub(super) fn secretary_sees(
    conn: &mut crate::db::DbConn,
    w: &db_waves::WaveHead,
    scope: Option<&str>,
) -> diesel::QueryResult<bool> {
    let st = State::parse(&w.state);
    if !w.is_people() || w.is_sealed() || !matches!(st, State::Closed | State::Published) {
        return Ok(false);
    }
    let Some(scope) = scope else {
        return Ok(false);
    };
    let frozen = crate::db::frames::units_of(conn, w.id)?;
    Ok(!crate::wave::targets(&frozen, Some(scope)).is_empty())
}
