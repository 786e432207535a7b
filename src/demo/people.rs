//! The demo's people waves (民主评议): a 民主评议党员 wave over one college's branches and a
//! 领导班子和领导干部民主测评 wave over another's, each opened, answered through the real
//! library calls (个人总结 saved and submitted, rating sheets sent with each rater's link),
//! closed, unsealed by two key holders, graded (组织评定, within the 优秀 quota) and published.
//!
//! Everything the generator decides comes from its own seeded [`StdRng`], so the unit waves
//! of the demo stay what they were.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use indicatif::ProgressBar;
use rand::RngExt as _;
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom as _, SliceRandom as _};

use super::{DemoError, HOLDER_THRESHOLD, HOLDERS, token_of};
use crate::db::{self, DbConn, rated};
use crate::domain::people::{PeopleSpec, sheet};
use crate::domain::survey::{StepKind, Survey};
use crate::rating::{self, Sent};
use crate::respond::{self, Submitted};
use crate::wave::{self, Link, NewWaveSpec, people_wave};

/// The 民主评议党员 survey shipped in `surveys/`.
pub const MINZHU: &str = include_str!("../../surveys/minzhu-pingyi.toml");
/// The 领导班子和领导干部民主测评 survey shipped in `surveys/`.
pub const BANZI: &str = include_str!("../../surveys/banzi.toml");

/// The college (党总支) whose branches hold the 民主评议党员 wave. Its retirees' branch is the
/// demo's small unit: too small for anonymous rating, it is left out with the reason.
pub const MINZHU_SCOPE: &str = "FL";
/// The branch whose committee gives 优秀 to exactly as many members as the quota allows.
pub const AT_CAP: &str = "FL-T";
/// The college whose leadership teams and cadres are assessed (班子测评).
pub const BANZI_SCOPE: &str = "CS";

/// The titles of the 民主评议党员 and the 班子测评 wave.
pub const TITLES: [&str; 2] = [
    "2026年度外国语学院民主评议党员",
    "2026年度计算机学院领导班子和领导干部民主测评",
];

/// A unit at the 优秀 quota: its code, how many got 优秀 (= ⌊n × cap⌋), its n rated people.
pub type AtCap = (String, usize, usize);

/// What one demo people wave holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeopleWaveSummary {
    /// The wave id.
    pub id: i32,
    /// Its title.
    pub title: String,
    /// The survey's title (民主评议党员, 领导班子和领导干部民主测评).
    pub kind: String,
    /// The scope (a 党总支's code).
    pub scope: String,
    /// Units taking part.
    pub units: usize,
    /// People rated (leadership teams not counted).
    pub rated: usize,
    /// Leadership teams rated.
    pub teams: usize,
    /// Rating links issued.
    pub raters: usize,
    /// Rating sheets sent.
    pub sheets: usize,
    /// 个人总结 (述职) submitted.
    pub summaries: usize,
    /// Final grades recorded (组织评定); 0 when the survey records none.
    pub graded: usize,
    /// The unit whose 优秀 final grades reach the quota exactly.
    pub at_cap: Option<AtCap>,
    /// Units left out as too small for anonymous rating.
    pub too_small: Vec<String>,
}

/// Both people waves, after the unit waves. `bar` counts the sheets of each.
pub fn build(
    conn: &mut DbConn,
    rng: &mut StdRng,
    base_url: &str,
    categories: &HashMap<&str, &'static str>,
    bar: &ProgressBar,
) -> Result<Vec<PeopleWaveSummary>, DemoError> {
    let minzhu = run(
        conn,
        rng,
        &Wave {
            file: "surveys/minzhu-pingyi.toml",
            src: MINZHU,
            title: TITLES[0],
            scope: MINZHU_SCOPE,
            base_url,
            categories,
            bar,
        },
    )?;
    let banzi = run(
        conn,
        rng,
        &Wave {
            file: "surveys/banzi.toml",
            src: BANZI,
            title: TITLES[1],
            scope: BANZI_SCOPE,
            base_url,
            categories,
            bar,
        },
    )?;
    Ok(vec![minzhu, banzi])
}

/// The generator of everything about people: apart from the unit waves' own.
pub(super) fn people_rng(seed: u64) -> StdRng {
    rand::SeedableRng::seed_from_u64(seed ^ 0x6d69_6e7a_6875_7079)
}

/// Roster roles besides `member`: who is a Party member (`party`) and who is a cadre of the
/// unit's leadership (`cadre`; the secretary keeps `secretary`). `position` is the person's
/// place in their unit (0 is the secretary when the unit has one).
pub(super) fn roles(
    rng: &mut StdRng,
    kind: crate::domain::roster::UnitKind,
    category: &str,
    size: usize,
    position: usize,
    secretary: bool,
) -> &'static str {
    use crate::domain::roster::UnitKind;
    if kind == UnitKind::Committee {
        return "committee";
    }
    if position == 0 && secretary {
        return "member;party;secretary";
    }
    // 党总支: the college's leadership (副书记, 院长, 副院长); a branch: its 支部委员.
    let cadres = match kind {
        UnitKind::GeneralBranch => 3,
        _ if size >= 60 => 2,
        _ if size >= 10 => 1,
        _ => 0,
    };
    if (1..=cadres).contains(&position) {
        return "member;party;cadre";
    }
    // Among the rest, the share of Party members: most of the college offices and of the
    // retirees, about half the teachers, a quarter of the students.
    let share = match (kind, category) {
        (UnitKind::GeneralBranch, _) => 0.7,
        (_, "retired") => 0.95,
        (_, "student") => 0.25,
        _ => 0.5,
    };
    if rng.random_bool(share) {
        "member;party"
    } else {
        "member"
    }
}

struct Wave<'a> {
    file: &'static str,
    src: &'static str,
    title: &'static str,
    scope: &'static str,
    base_url: &'a str,
    categories: &'a HashMap<&'a str, &'static str>,
    bar: &'a ProgressBar,
}

/// How raters see one rated person (or team).
#[derive(Debug, Clone, Copy)]
enum Profile {
    /// Most: 合格 from most raters, 优秀 from some (the share given).
    Usual(f64),
    /// Respected by nearly everyone: 优秀 from this share.
    Strong(f64),
    /// Criticized: many 基本合格.
    Weak,
    /// Many 不合格: the rules flag them for the committee.
    Flagged,
}

fn run(conn: &mut DbConn, rng: &mut StdRng, w: &Wave<'_>) -> Result<PeopleWaveSummary, DemoError> {
    let id = wave::create(
        conn,
        &NewWaveSpec {
            survey_name: w.file.into(),
            survey_src: w.src.into(),
            title: w.title.into(),
            scope: Some(w.scope.to_owned()),
            closes_at: None,
            is_test: false,
            holders: HOLDERS.iter().map(|(name, _)| (*name).to_owned()).collect(),
            threshold: HOLDER_THRESHOLD,
        },
    )?;
    let head = wave::get(conn, id)?;
    let survey = wave::survey_of(&head)?;
    let spec = survey
        .people
        .clone()
        .ok_or_else(|| DemoError::Refused(format!("{} is not a people survey", w.file)))?;
    let plan = wave::people_plan(conn, &head, &spec)?;
    let mut opened = Vec::new();
    wave::open(conn, id, w.base_url, |links| {
        opened = links.to_vec();
        Ok(())
    })?;
    opened.sort_by(|a, b| {
        (&a.unit, &a.email, a.step.as_str()).cmp(&(&b.unit, &b.email, b.step.as_str()))
    });
    let frame = rated::of_wave(conn, id)?;
    let (units, profiles) = profiles(rng, &spec, &frame);
    let is_team = |r: &&rated::Rated| crate::domain::people::is_team(&r.person);
    let mut summary = PeopleWaveSummary {
        id,
        title: w.title.to_owned(),
        kind: survey.title.zh.clone(),
        scope: w.scope.to_owned(),
        units,
        rated: frame.iter().filter(|r| !is_team(r)).count(),
        teams: frame.iter().filter(is_team).count(),
        raters: 0,
        sheets: 0,
        summaries: 0,
        graded: 0,
        at_cap: None,
        too_small: plan.too_small.iter().map(|(u, _)| u.code.clone()).collect(),
    };
    if spec.summary {
        summary.summaries = write_summaries(conn, rng, w, id, &opened)?;
    }

    // The rating sheets: per unit most raters send theirs.
    let mut raters: BTreeMap<&str, Vec<&Link>> = BTreeMap::new();
    for link in opened.iter().filter(|l| l.step == StepKind::Mass) {
        raters.entry(link.unit.as_str()).or_default().push(link);
    }
    summary.raters = raters.values().map(Vec::len).sum();
    let mut sending: Vec<&Link> = Vec::new();
    for links in raters.values() {
        let rate = rng.random_range(0.78..0.93);
        let n = links.len();
        let least = n.min(spec.min_raters as usize + 1);
        let answering = ((n as f64 * rate).round() as usize).clamp(least, n);
        let mut chosen = links.clone();
        chosen.shuffle(rng);
        chosen.truncate(answering);
        sending.extend(chosen);
    }
    sending.shuffle(rng);
    w.bar.reset();
    w.bar.set_length(sending.len() as u64);
    w.bar.set_message(w.title.to_owned());
    for link in sending {
        send_sheet(conn, rng, &survey, &profiles, link)?;
        summary.sheets += 1;
        w.bar.inc(1);
    }

    wave::close(conn, id)?;
    let given: Vec<crate::sealing::HolderPassword> = HOLDERS
        .iter()
        .take(usize::from(HOLDER_THRESHOLD))
        .map(|(name, password)| crate::sealing::HolderPassword {
            username: (*name).to_owned(),
            password: zeroize::Zeroizing::new((*password).to_owned()),
        })
        .collect();
    crate::sealing::unseal(conn, id, &given, "demo")?;
    if spec.final_grade {
        let (graded, at_cap) = grade_all(conn, rng, id)?;
        summary.graded = graded;
        summary.at_cap = at_cap;
    }
    wave::publish(conn, id)?;
    Ok(summary)
}

/// Who is seen how, by rated key: in the branch at the cap a little more than a third are
/// respected by nearly all, elsewhere one or two; a few are criticized and one is flagged.
/// Returns the number of units too.
fn profiles<'f>(
    rng: &mut StdRng,
    spec: &PeopleSpec,
    frame: &'f [rated::Rated],
) -> (usize, HashMap<&'f str, Profile>) {
    let mut by_unit: BTreeMap<&str, Vec<&rated::Rated>> = BTreeMap::new();
    for r in frame {
        by_unit.entry(r.unit.as_str()).or_default().push(r);
    }
    // Who is seen how: in the branch at the cap, a little more than a third are respected
    // by nearly all; elsewhere one or two. A few are criticized and one is flagged.
    let mut profiles: HashMap<&str, Profile> = HashMap::new();
    let mut weak_left = 3_usize;
    let mut flag_left = 1_usize;
    for (unit, rated_here) in &by_unit {
        let mut people: Vec<&str> = rated_here
            .iter()
            .filter(|r| !crate::domain::people::is_team(&r.person))
            .map(|r| r.person.as_str())
            .collect();
        people.shuffle(rng);
        let n = people.len();
        let strong = if spec.final_grade && *unit == AT_CAP {
            spec.max_top(n as u64) as usize + 2
        } else if spec.final_grade {
            rng.random_range(1..=2)
        } else {
            // A cadre or two respected by nearly everyone in a few units.
            rng.random_range(0..=1)
        };
        let strong = strong.min(n);
        let mut rest = people.split_off(strong);
        for p in people {
            profiles.insert(p, Profile::Strong(rng.random_range(0.8..0.92)));
        }
        if n >= 12
            && weak_left > 0
            && let Some(p) = rest.pop()
        {
            profiles.insert(p, Profile::Weak);
            weak_left -= 1;
        }
        if n >= 12
            && flag_left > 0
            && *unit != AT_CAP
            && spec.final_grade
            && let Some(p) = rest.pop()
        {
            profiles.insert(p, Profile::Flagged);
            flag_left -= 1;
        }
        for p in rest {
            profiles.insert(p, Profile::Usual(rng.random_range(0.08..0.45)));
        }
        for r in rated_here
            .iter()
            .filter(|r| crate::domain::people::is_team(&r.person))
        {
            profiles.insert(
                r.person.as_str(),
                Profile::Usual(rng.random_range(0.3..0.6)),
            );
        }
    }
    (by_unit.len(), profiles)
}

/// 个人总结 (述职): most write and submit theirs. Returns how many did.
fn write_summaries(
    conn: &mut DbConn,
    rng: &mut StdRng,
    w: &Wave<'_>,
    id: i32,
    opened: &[Link],
) -> Result<usize, DemoError> {
    let mut written = 0;
    // 个人总结 (述职): most write and submit theirs.
    for link in opened.iter().filter(|l| l.step == StepKind::SelfAssessment) {
        if !rng.random_bool(0.88) {
            continue;
        }
        let cadre = w.file.contains("banzi");
        let body = summaries::write(rng, w.categories.get(link.email.as_str()).copied(), cadre);
        db::write_tx(conn, |conn| {
            crate::db::waves::hold_exclusive(conn, id)?;
            rated::save_summary(
                conn,
                &rated::Summary {
                    wave_id: id,
                    person: link.email.clone(),
                    body,
                    submitted: true,
                    updated_at: chrono::Utc::now().naive_utc(),
                },
            )
        })?;
        written += 1;
    }
    Ok(written)
}

/// One rater's sheet through their link, as the rating page would send it.
fn send_sheet(
    conn: &mut DbConn,
    rng: &mut StdRng,
    survey: &Survey,
    profiles: &HashMap<&str, Profile>,
    link: &Link,
) -> Result<(), DemoError> {
    let (head, invitation) = match respond::lookup(conn, token_of(link))? {
        respond::Lookup::Ready(head, invitation) => (head, invitation),
        other => {
            return Err(DemoError::Refused(format!(
                "the rating link of {} does not work: {other:?}",
                link.email
            )));
        }
    };
    let spec = survey
        .people
        .as_ref()
        .ok_or_else(|| DemoError::Refused("not a people survey".into()))?;
    // Some raters are generous, some strict; a few give everyone the middle grade.
    let leniency: f64 = rng.random_range(-0.08..0.1);
    let indifferent = rng.random_bool(0.06);
    let mut fields = Vec::new();
    let targets = rating::targets(conn, &invitation)?;
    for target in &targets {
        let profile = profiles
            .get(target.person.as_str())
            .copied()
            .unwrap_or(Profile::Usual(0.25));
        // 0 the best option of a scale, 3 the worst.
        let level = draw_level(rng, profile, leniency, indifferent);
        let mut low = false;
        for item in &spec.items {
            let scale = &survey.scales[&item.scale];
            let wobble = if item.id == spec.overall || !rng.random_bool(0.25) {
                0
            } else if rng.random_bool(0.5) {
                1
            } else {
                -1
            };
            let i = (level + wobble).clamp(0, 3);
            let i = usize::try_from(i).unwrap_or(0).min(scale.options.len() - 1);
            let option = &scale.options[i];
            low |= option.reason;
            fields.push((
                sheet::field_name(&target.person, &item.id),
                option.id.clone(),
            ));
        }
        if low && rng.random_bool(0.55) {
            let reasons: &[&str] = if level >= 3 { &HARSH } else { &CRITICAL };
            let reason = reasons.choose(rng).copied().unwrap_or(CRITICAL[0]);
            fields.push((sheet::reason_field(&target.person), reason.to_owned()));
        }
    }
    match rating::submit(conn, &head, &invitation, survey, &targets, &fields)? {
        Sent::Done(Submitted::Stored(_)) => Ok(()),
        Sent::Done(Submitted::Refused(why)) => Err(DemoError::Refused(format!(
            "a rating sheet of {} was refused: {why:?}",
            link.unit
        ))),
        Sent::Invalid(errors, _) => Err(DemoError::Refused(format!(
            "a generated rating sheet of {}: {errors:?}",
            link.unit
        ))),
    }
}

/// The option a rater picks on the overall item: 0 the best, 3 the worst.
fn draw_level(rng: &mut StdRng, profile: Profile, leniency: f64, indifferent: bool) -> i64 {
    let (top, basic, bad) = match profile {
        Profile::Usual(top) => (top, 0.025, 0.004),
        Profile::Strong(top) => (top, 0.005, 0.0),
        Profile::Weak => (0.03, 0.45, 0.04),
        Profile::Flagged => (0.02, 0.28, 0.45),
    };
    let top = if indifferent {
        top * 0.3
    } else {
        (top + leniency).clamp(0.0, 0.97)
    };
    let u: f64 = rng.random();
    [(bad, 3), (bad + basic, 2), (bad + basic + top, 0)]
        .into_iter()
        .find(|(cut, _)| u < *cut)
        .map_or(1, |(_, level)| level)
}

/// Reasons raters give with 基本合格 (基本称职).
const CRITICAL: [&str; 8] = [
    "参加组织生活不够经常",
    "理论学习主动性不够",
    "工作积极性有待提高",
    "联系群众不够密切",
    "先锋模范作用发挥不明显",
    "党费缴纳不够及时",
    "对分管工作投入精力不足",
    "批评与自我批评开展得不够",
];
/// Reasons raters give with 不合格 (不称职).
const HARSH: [&str; 4] = [
    "多次无故不参加组织生活",
    "工作敷衍，群众意见较大",
    "组织纪律观念淡薄",
    "长期不履行党员义务",
];

/// 组织评定: each branch committee grades its members after 开箱 — the suggested grade, at
/// most ⌊n × cap⌋ 优秀 per branch (those with the largest share of 优秀 first); in
/// [`AT_CAP`] the committee fills the quota. Returns how many were graded and the branch at
/// the cap.
fn grade_all(
    conn: &mut DbConn,
    rng: &mut StdRng,
    id: i32,
) -> Result<(usize, Option<AtCap>), DemoError> {
    let report = crate::report::people::build(conn, id)
        .map_err(|e| DemoError::Refused(format!("the people report of wave {id}: {e}")))?;
    let caps: HashMap<&str, u64> = report
        .units
        .iter()
        .map(|u| (u.unit.as_str(), u.max_top))
        .collect();
    let mut by_unit: BTreeMap<&str, Vec<&crate::report::people::PersonResult>> = BTreeMap::new();
    for p in report.people.iter().filter(|p| !p.team) {
        by_unit.entry(p.unit.as_str()).or_default().push(p);
    }
    let top = report
        .grades
        .first()
        .map(|g| g.id.clone())
        .unwrap_or_default();
    let suggested = |p: &crate::report::people::PersonResult| {
        p.suggested
            .as_ref()
            .map_or_else(|| "qualified".to_owned(), |g| g.id.clone())
    };
    let mut graded = 0;
    let mut at_cap = None;
    for (unit, mut people) in by_unit {
        let cap = usize::try_from(caps.get(unit).copied().unwrap_or(0)).unwrap_or(0);
        people.sort_by(|a, b| {
            b.share_top
                .unwrap_or(0.0)
                .partial_cmp(&a.share_top.unwrap_or(0.0))
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| a.key.cmp(&b.key))
        });
        let mut excellent: BTreeSet<&str> = people
            .iter()
            .filter(|p| suggested(p) == top)
            .take(cap)
            .map(|p| p.key.as_str())
            .collect();
        if unit == AT_CAP {
            for p in &people {
                if excellent.len() >= cap {
                    break;
                }
                if suggested(p) == "qualified" {
                    excellent.insert(p.key.as_str());
                }
            }
        }
        for p in &people {
            let Some(email) = p.email.as_deref() else {
                continue;
            };
            let s = suggested(p);
            let (grade, reason) = if excellent.contains(p.key.as_str()) {
                let reason = if s == top {
                    ""
                } else {
                    "评议结果接近优秀标准，支部委员会综合平时表现评定为优秀"
                };
                (top.as_str(), reason)
            } else if s == top {
                (
                    "qualified",
                    "评议结果达到优秀标准，因优秀名额所限评定为合格",
                )
            } else if p.flagged {
                (
                    "basic",
                    "评议中不合格票较多，经支部委员会研究并与本人谈话，评定为基本合格，限期整改",
                )
            } else if s == "basic" {
                let reasons = [
                    "组织生活参加不够经常，经支部委员会研究评定为基本合格",
                    "群众意见较多，支部委员会已谈心谈话，评定为基本合格",
                ];
                ("basic", reasons.choose(rng).copied().unwrap_or(reasons[0]))
            } else {
                ("qualified", "")
            };
            people_wave::grade(
                conn,
                &people_wave::GradeSpec {
                    wave_id: id,
                    person: email,
                    grade,
                    reason,
                    actor: "demo",
                },
            )?;
            graded += 1;
        }
        if unit == AT_CAP && cap > 0 && excellent.len() == cap {
            at_cap = Some((unit.to_owned(), cap, people.len()));
        }
    }
    Ok((graded, at_cap))
}

/// 个人总结 and 述职 texts.
mod summaries {
    use rand::RngExt as _;
    use rand::rngs::StdRng;
    use rand::seq::IndexedRandom as _;

    const FACULTY: [&str; 5] = [
        "一年来，认真学习党的理论，按时参加“三会一课”和主题党日；承担本科课程{n}门，指导学生{m}名，教学评价良好。",
        "本年度坚持把理论学习与教学科研结合起来，主持教研项目1项，发表论文{n}篇，积极参加支部组织的志愿服务。",
        "一年来严格遵守党的纪律，按时足额缴纳党费；担任班主任，联系学生{m}名，帮助困难学生{n}人次。",
        "本年度参加支部学习{m}次，讲微党课1次；在课程思政建设中发挥党员带头作用，所授课程获校级优秀。",
        "一年来服从组织安排，完成学院交办的各项工作，参与专业认证材料准备，协助组织学术活动{n}次。",
    ];
    const STUDENT: [&str; 5] = [
        "本学年按时参加支部组织生活，学习成绩位于专业前{n}0%；担任班级学习委员，参加志愿服务{m}小时。",
        "一年来认真学习党的理论，参加青年大学习和主题党日活动；参与学科竞赛获省级奖励1项，帮扶低年级同学{n}名。",
        "本学年在宿舍党员先锋岗值班{m}次，组织班级读书会{n}次；专业课程全部通过，获得校级奖学金。",
        "一年来积极参加社会实践和志愿服务{m}小时，担任入党积极分子联系人，按时汇报思想。",
        "本学年坚持学习与实践相结合，参与导师科研项目，协助支部做好党员发展材料整理工作。",
    ];
    const RETIRED: [&str; 3] = [
        "退休后坚持参加支部学习，关心学校发展，参加社区志愿服务{m}次。",
        "本年度参加离退休党支部组织生活{m}次，积极参与关心下一代工作，为青年教师讲传统{n}次。",
        "虽年事已高，仍坚持读书看报、学习党的理论，按时缴纳党费，力所能及地参加社区活动。",
    ];
    const CADRE: [&str; 4] = [
        "本年度分管{area}工作，牵头完成年度重点任务，坚持民主集中制，落实“一岗双责”，严格遵守廉洁自律各项规定。",
        "一年来履行{area}职责，深入教研室和学生班级调研{m}次，推动解决师生反映的问题{n}项。",
        "本年度协助书记抓好{area}，组织专题学习{n}次，带头讲党课，认真落实党风廉政建设责任。",
        "一年来围绕{area}开展工作，完善制度{n}项；存在的不足是深入基层还不够，今后将加强调查研究。",
    ];
    const AREAS: [&str; 6] = [
        "党建和思想政治",
        "本科教学",
        "学科建设与科研",
        "学生工作",
        "组织和宣传",
        "行政和财务",
    ];
    const ENDINGS: [&str; 4] = [
        "不足是理论学习的系统性还不够，今后将进一步加强。",
        "存在的不足是与群众的沟通还不够主动，今后注意改进。",
        "今后将继续发挥党员先锋模范作用，做好本职工作。",
        "对照党员标准，在批评与自我批评方面还需加强。",
    ];

    /// A summary for someone of this category (a cadre's 述职 when `cadre`).
    pub(super) fn write(rng: &mut StdRng, category: Option<&str>, cadre: bool) -> String {
        let pool: &[&str] = if cadre {
            &CADRE
        } else {
            match category {
                Some("student") => &STUDENT,
                Some("retired") => &RETIRED,
                _ => &FACULTY,
            }
        };
        let text = pool.choose(rng).copied().unwrap_or(FACULTY[0]);
        let ending = ENDINGS.choose(rng).copied().unwrap_or(ENDINGS[0]);
        format!("{text}{ending}")
            .replace("{n}", &rng.random_range(2..=5).to_string())
            .replace("{m}", &rng.random_range(10..=40).to_string())
            .replace("{area}", AREAS.choose(rng).copied().unwrap_or(AREAS[0]))
    }
}
