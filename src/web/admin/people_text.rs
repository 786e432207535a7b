//! The words of the people results page in Chinese and English: its headings, its legend
//! (样本不足, the suggested grade's rules, the quota), the refusals of a final grade in
//! Chinese with their numbers, and the counts per unit as CSV for readers who see no person.

use std::fmt::Write as _;

use serde::Serialize;

use crate::domain::Lang;
use crate::domain::people::PeopleSpec;
use crate::report::export::{SUPPRESSED, neutralize};
use crate::report::people::PeopleReport;
use crate::report::people_export;

/// The fixed words of the people results page; `{top}` is the top grade's label, `{people}`
/// and `{max}` a branch's counts, `{n}` a number of reasons.
#[derive(Debug, Serialize)]
pub struct PeopleWords {
    pub title: &'static str,
    pub per_branch: &'static str,
    pub branch: &'static str,
    pub rated: &'static str,
    pub shown: &'static str,
    pub graded: &'static str,
    pub ungraded: &'static str,
    pub top_quota: &'static str,
    pub counts_only: &'static str,
    pub unit_hint: &'static str,
    pub name: &'static str,
    pub raters: &'static str,
    pub top_share: &'static str,
    pub low_share: &'static str,
    pub suggested: &'static str,
    pub final_grade: &'static str,
    pub reasons: &'static str,
    pub grade: &'static str,
    pub reason: &'static str,
    pub final_reason: &'static str,
    pub suppressed: &'static str,
    pub flagged: &'static str,
    pub reasons_count: &'static str,
    pub reasons_withheld: &'static str,
}

static ZH: PeopleWords = PeopleWords {
    title: "民主评议结果",
    per_branch: "各支部汇总",
    branch: "支部",
    rated: "评议对象",
    shown: "结果可显示",
    graded: "评定",
    ungraded: "未评定",
    top_quota: "{top}名额上限",
    counts_only: "仅显示各支部的汇总数字；个人结果只对组织者和本支部书记可见。",
    unit_hint: "评议对象 {people} 人，{top}至多 {max} 人。",
    name: "姓名",
    raters: "评议人数",
    top_share: "{top}率",
    low_share: "较低等次率",
    suggested: "建议等次",
    final_grade: "组织评定",
    reasons: "理由",
    grade: "评定",
    reason: "理由",
    final_reason: "评定理由",
    suppressed: SUPPRESSED,
    flagged: "需关注",
    reasons_count: "{n} 条",
    reasons_withheld: "评议理由只对测评范围之内的账号显示，本账号的范围大于该测评的范围，故不显示。",
};

static EN: PeopleWords = PeopleWords {
    title: "Democratic evaluation results",
    per_branch: "Per branch",
    branch: "Branch",
    rated: "People rated",
    shown: "With a result shown",
    graded: "Graded",
    ungraded: "Not graded",
    top_quota: "Places for {top}",
    counts_only: "Only the counts per branch are shown to this account; a person's result is seen by the organizers and their branch secretary only.",
    unit_hint: "{people} people rated; at most {max} may be graded {top}.",
    name: "Name",
    raters: "Raters",
    top_share: "Share {top}",
    low_share: "Share of lower grades",
    suggested: "Suggested grade",
    final_grade: "Final grade",
    reasons: "Reasons",
    grade: "Grade",
    reason: "Reason",
    final_reason: "Reason for the final grade",
    suppressed: "too few ratings",
    flagged: "needs attention",
    reasons_count: "{n} reasons",
    reasons_withheld: "The raters' reasons are shown only to accounts inside the wave's scope; this account's scope is wider, so they are left out.",
};

/// The people results page's words in `lang`.
pub(super) fn words(lang: Lang) -> &'static PeopleWords {
    match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    }
}

/// The legend: 样本不足, the suggested grade's rules, the quota, the shares, the reasons.
pub(super) fn legend(
    report: &PeopleReport,
    spec: &PeopleSpec,
    lang: Lang,
) -> Vec<(String, String)> {
    if lang == Lang::En {
        return legend_en(report, spec);
    }
    let label = |id: &str| grade_label(report, id);
    let top = report.grades.first().map_or("", |g| g.label.as_str());
    let k = report.min_raters;
    let mut rules = String::new();
    for r in &spec.suggest {
        let when: Vec<String> = r.when.iter().map(|w| label(w)).collect();
        let _ = write!(
            rules,
            "{}占有效评议 ≥ {} 时{}{}；",
            when.join("＋"),
            r.min_share,
            if r.flag {
                "标记为需关注："
            } else {
                "建议"
            },
            label(&r.grade)
        );
    }
    let _ = write!(rules, "否则建议{}。", label(&spec.default_grade));
    vec![
        (
            SUPPRESSED.to_owned(),
            format!(
                "评议人数少于 k = {k}（问卷的 min_raters）时，此人的各等次票数、比率、建议等次和理由一概不显示，以免推知个人的评价；组织评定仍可进行。"
            ),
        ),
        (
            "建议等次".to_owned(),
            format!("按问卷的规则依次判断：{rules}建议仅供参考，以组织评定为准。"),
        ),
        (
            "需关注".to_owned(),
            "命中带标记的规则（如不合格票占比较高），提请支部委员会重点研究。".to_owned(),
        ),
        (
            format!("{top}名额"),
            format!(
                "每个支部 n 名评议对象中，组织评定为{top}的至多 ⌊n × {}⌋ 人（向下取整）；超出时保存被拒绝。",
                report.top_cap
            ),
        ),
        (
            format!("{top}率 / 较低等次率"),
            format!("{top}票、需说明理由的较低等次（如基本合格、不合格）票在有效评议中的占比。"),
        ),
        (
            "理由".to_owned(),
            "评议人选择较低等次时填写的理由，随机排列，不显示评议人；评议人数达到 k 时才显示。"
                .to_owned(),
        ),
    ]
}

/// A grade's label in the survey (its id when the survey has no such grade).
fn grade_label(report: &PeopleReport, id: &str) -> String {
    report
        .grades
        .iter()
        .find(|g| g.id == id)
        .map_or_else(|| id.to_owned(), |g| g.label.clone())
}

/// The legend in English (the grade labels are the survey's own words).
fn legend_en(report: &PeopleReport, spec: &PeopleSpec) -> Vec<(String, String)> {
    let label = |id: &str| grade_label(report, id);
    let top = report.grades.first().map_or("", |g| g.label.as_str());
    let k = report.min_raters;
    let mut rules = String::new();
    for r in &spec.suggest {
        let when: Vec<String> = r.when.iter().map(|w| label(w)).collect();
        let _ = write!(
            rules,
            "when {} make up at least {} of the valid ratings, {} {}; ",
            when.join(" + "),
            r.min_share,
            if r.flag {
                "flag for attention:"
            } else {
                "suggest"
            },
            label(&r.grade)
        );
    }
    let _ = write!(rules, "otherwise suggest {}.", label(&spec.default_grade));
    vec![
        (
            EN.suppressed.to_owned(),
            format!(
                "With fewer than k = {k} raters (the survey's min_raters) a person's counts, shares, suggested grade and reasons are not shown at all, so that no one's rating can be inferred; the final grade can still be recorded."
            ),
        ),
        (
            EN.suggested.to_owned(),
            format!("The survey's rules, in order: {rules} A suggestion only; the final grade decides."),
        ),
        (
            EN.flagged.to_owned(),
            "A flagged rule matched (e.g. many ratings of the lowest grade): for the branch committee to look into.".to_owned(),
        ),
        (
            format!("Places for {top}"),
            format!(
                "Of a branch's n people rated, at most ⌊n × {}⌋ (rounded down) may get the final grade {top}; saving one more is refused.",
                report.top_cap
            ),
        ),
        (
            format!("Share {top} / share of lower grades"),
            format!("The shares of {top} and of the lower grades that ask for a reason among the valid ratings."),
        ),
        (
            EN.reasons.to_owned(),
            "Reasons raters gave with a lower grade, shuffled and without the rater; shown only with at least k raters.".to_owned(),
        ),
    ]
}

/// The counts per unit as CSV, for readers who see no person.
pub(super) fn units_csv(report: &PeopleReport) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(b"\xEF\xBB\xBF".to_vec());
    let mut heads: Vec<String> = ["支部代码", "支部", "评议对象", "结果可显示"]
        .map(str::to_owned)
        .to_vec();
    heads.extend(report.grades.iter().map(|g| format!("评定{}", g.label)));
    heads.push("优秀名额上限".to_owned());
    w.write_record(&heads)?;
    for u in &report.units {
        let mut row = vec![
            neutralize(&u.unit),
            neutralize(&u.name),
            u.people.to_string(),
            u.shown.to_string(),
        ];
        row.extend(u.final_grades.iter().map(|g| g.count.to_string()));
        row.push(u.max_top.to_string());
        w.write_record(row)?;
    }
    w.write_record([people_export::record_line(report)])?;
    Ok(w.into_inner()?)
}
