//! What a confirmation page of the console says: the numbers of the action (mails, people
//! and units on opening or inviting people added since, reminders due, what a purge
//! deletes, responses so far, the response rate) and the warnings
//! worth a second thought (closing before the closing time, publishing thin results).

use super::strings::{self, AdminStrings};
use super::waves::wave_error;
use crate::error::AppError;
use crate::forecast::{self, OpenPlan};
use crate::wave;
use crate::web::respond::local_time;

/// The guard of the console's reminder: days since the last mail (`wave remind --min-days`).
pub const MIN_DAYS: u32 = 3;
/// At most this many reminders per invitation.
pub const MAX_REMINDERS: u32 = 2;

/// The reminder's minimum days from a form or query field; [`MIN_DAYS`] when absent.
pub(super) fn min_days_of(value: Option<&str>) -> Result<u32, AppError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(MIN_DAYS),
        Some(v) => v.parse().ok().filter(|d| *d <= 365).ok_or_else(|| {
            AppError::BadRequest(crate::error::Msg::new(
                "提醒间隔须为天数。",
                "min_days must be a number of days",
            ))
        }),
    }
}

pub(super) fn plan_text(a: &AdminStrings, p: OpenPlan) -> String {
    strings::fill(
        a.plan_summary,
        &[
            ("people", &p.people.to_string()),
            ("mails", &p.mails.to_string()),
            ("units", &p.units.to_string()),
            ("mass", &p.mass.to_string()),
            ("self", &p.self_assessment.to_string()),
            ("org", &p.org.to_string()),
        ],
    )
}

fn percent(rate: f64) -> String {
    format!("{:.1}%", rate * 100.0)
}

/// The numbers of the confirmation page of `action` on `w`.
pub(super) enum Numbers {
    None,
    Open(OpenPlan),
    Added(OpenPlan),
    Purge(forecast::PurgePlan),
    Remind(usize),
    Standing(forecast::Standing),
}

pub(super) fn numbers(
    conn: &mut crate::db::DbConn,
    w: &crate::db::waves::Wave,
    action: &str,
    min_days: u32,
) -> Result<Numbers, AppError> {
    Ok(match action {
        "open" => Numbers::Open(forecast::open_plan(conn, w).map_err(wave_error)?),
        "invite-added" => Numbers::Added(forecast::added_plan(conn, w).map_err(wave_error)?),
        "purge" => Numbers::Purge(forecast::purge_plan(conn, w).map_err(wave_error)?),
        "remind" => Numbers::Remind(
            wave::due_reminders(conn, w.id, min_days, MAX_REMINDERS)
                .map_err(wave_error)?
                .len(),
        ),
        "close" | "publish" => Numbers::Standing(forecast::standing(conn, w).map_err(wave_error)?),
        _ => Numbers::None,
    })
}

/// The summary and warnings of a confirmation page.
pub(super) fn explain(
    a: &AdminStrings,
    w: &crate::db::waves::Wave,
    action: &str,
    numbers: Numbers,
    min_days: u32,
) -> (Option<String>, Vec<String>) {
    let mut warnings = Vec::new();
    let summary = match numbers {
        Numbers::None => None,
        Numbers::Open(p) => Some(plan_text(a, p)),
        Numbers::Added(p) => Some(strings::fill(
            a.added_summary,
            &[
                ("people", &p.people.to_string()),
                ("mails", &p.mails.to_string()),
                ("units", &p.units.to_string()),
            ],
        )),
        Numbers::Purge(p) => Some(strings::fill(
            a.purge_summary,
            &[
                ("responses", &p.responses.to_string()),
                ("invitations", &p.invitations.to_string()),
                ("sheets", &p.sheets.to_string()),
            ],
        )),
        Numbers::Remind(n) => Some(strings::fill(
            a.remind_summary,
            &[
                ("n", &n.to_string()),
                ("days", &min_days.to_string()),
                ("max", &MAX_REMINDERS.to_string()),
            ],
        )),
        Numbers::Standing(s) if action == "close" => {
            if let Some(closes) = w.closes_at
                && closes > chrono::Utc::now().naive_utc()
            {
                warnings.push(strings::fill(
                    a.close_early_warning,
                    &[("closes", &local_time(closes))],
                ));
            }
            Some(strings::fill(
                a.close_summary,
                &[
                    ("responses", &s.responses.to_string()),
                    ("invited", &s.invited.to_string()),
                    ("rate", &percent(s.rate())),
                ],
            ))
        }
        Numbers::Standing(s) => {
            if s.rate() < 0.3 {
                warnings.push(a.publish_low_warning.to_owned());
            }
            if s.missing_self > 0 || s.missing_org > 0 {
                warnings.push(strings::fill(
                    a.publish_missing_warning,
                    &[
                        ("self", &s.missing_self.to_string()),
                        ("org", &s.missing_org.to_string()),
                    ],
                ));
            }
            Some(strings::fill(
                a.publish_summary,
                &[
                    ("rate", &percent(s.rate())),
                    ("responses", &s.responses.to_string()),
                    ("invited", &s.invited.to_string()),
                    ("units", &s.units.to_string()),
                ],
            ))
        }
    };
    (summary, warnings)
}
