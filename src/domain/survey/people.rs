//! The `[people]` section of a survey file of `kind = "people"` (民主评议): the file as written
//! and its validation into a [`PeopleSpec`]. Kept apart from `survey.rs`, which reads the rest
//! of the file (scales, and the unit-only parts a people survey must not have).

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;
use toml::Spanned;

use super::{Item, Scale, Validator, is_id, text, yes};
use crate::domain::people::{Fraction, PeopleSpec, Raters, Rule};
use crate::domain::roster::Role;

/// The default k: a person's result needs this many raters unless the file says otherwise.
const DEFAULT_MIN_RATERS: u32 = 5;

/// The default cap on the top grade (优秀 at most about a third of the rated people).
const DEFAULT_TOP_CAP: Fraction = Fraction { num: 1, den: 3 };

/// Largest numerator or denominator of a share written as `"a/b"`: keeps ⌊n × a/b⌋ far from
/// overflowing and rejects typos like `"1/30000000"`.
const MAX_SHARE_TERM: u64 = 1_000_000;

/// A share written as a number is read to four decimals (0.3333 = 3333/10000).
const DECIMAL_DEN: u64 = 10_000;

/// Required keys are `Option` so a missing one is reported with the section's line and place
/// rather than by toml without a place.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPeople {
    rated_roles: Option<Spanned<Vec<String>>>,
    rated_categories: Option<Spanned<Vec<String>>>,
    raters: Option<Spanned<String>>,
    masses: Option<Spanned<bool>>,
    #[serde(default)]
    team: bool,
    #[serde(default = "yes")]
    summary: bool,
    min_raters: Option<Spanned<i64>>,
    overall: Option<Spanned<String>>,
    #[serde(default = "yes")]
    final_grade: bool,
    top_cap: Option<Spanned<toml::Value>>,
    default_grade: Option<Spanned<String>>,
    #[serde(default)]
    suggest: Vec<RawRule>,
    #[serde(default)]
    items: Vec<RawPeopleItem>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    grade: Spanned<String>,
    when: Spanned<Vec<String>>,
    min_share: Spanned<toml::Value>,
    #[serde(default)]
    flag: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPeopleItem {
    id: Spanned<String>,
    text: String,
    text_en: Option<String>,
    scale: Spanned<String>,
}

/// A spec that stands in for a missing `[people]` section, so the survey can still be built
/// while its errors are reported. Never returned to callers (the file is refused).
pub(super) fn placeholder() -> PeopleSpec {
    PeopleSpec {
        rated_roles: Vec::new(),
        rated_categories: Vec::new(),
        raters: Raters::Peers,
        masses: false,
        team: false,
        summary: true,
        min_raters: DEFAULT_MIN_RATERS,
        items: Vec::new(),
        overall: String::new(),
        final_grade: true,
        top_cap: DEFAULT_TOP_CAP,
        default_grade: String::new(),
        suggest: Vec::new(),
    }
}

impl Validator<'_> {
    /// Validates the `[people]` section against the file's `scales`.
    pub(super) fn people(
        &mut self,
        raw: Spanned<RawPeople>,
        scales: &BTreeMap<String, Scale>,
    ) -> PeopleSpec {
        let at = raw.span().start;
        let raw = raw.into_inner();
        let rated_roles = self.rated_roles(at, raw.rated_roles);
        let rated_categories = match raw.rated_categories {
            Some(c) => {
                if c.get_ref().iter().any(|c| c.trim().is_empty()) {
                    self.err(
                        c.span().start,
                        "people.rated_categories",
                        "a category is empty (roster categories are e.g. \"student\", \"faculty\")",
                        "类别为空（名册的类别如 `student`、`faculty`）",
                    );
                }
                c.into_inner()
            }
            None => Vec::new(),
        };
        let raters = self.raters(at, raw.raters.as_ref());
        let masses = match raw.masses {
            Some(m) if *m.get_ref() && raters == Raters::Unit => {
                self.err(
                    m.span().start,
                    "people.masses",
                    "masses = true only adds raters to raters = \"peers\"; with raters = \
                     \"unit\" everyone in the unit rates already", "`masses = true` 只在 `raters = \"peers\"` 时增加评议人；`raters = \"unit\"` 时全单位已参加评议",
                );
                false
            }
            Some(m) => m.into_inner(),
            None => false,
        };
        let min_raters = self.min_raters(raw.min_raters.as_ref());
        let items = self.people_items(at, raw.items, scales);
        let overall_scale = self.overall(at, raw.overall.as_ref(), &items, scales);
        let top_cap = match &raw.top_cap {
            Some(v) => self.share(v, "people.top_cap"),
            None => DEFAULT_TOP_CAP,
        };
        if let Some(scale) = overall_scale
            && scale.options.first().is_some_and(|o| !o.is_valid())
        {
            self.err(
                at,
                "people.overall",
                format!(
                    "the first option of scale \"{}\" is the top grade capped by top_cap: it \
                     must be a valid vote",
                    scale.id
                ),
                format!(
                    "量表“{}”的第一个选项是受 `top_cap` 限制的最高等次，必须是有效票",
                    scale.id
                ),
            );
        }
        let default_grade = if let Some(g) = &raw.default_grade {
            self.grade_option(
                overall_scale,
                g.get_ref(),
                g.span().start,
                "people.default_grade",
            );
            g.get_ref().clone()
        } else {
            self.err(
                at,
                "people.default_grade",
                "missing: the grade suggested when no [[people.suggest]] rule matches (an \
                 option id of the overall item's scale)", "缺少：没有 `[[people.suggest]]` 规则适用时的建议等次（总体评价题量表的一个选项 id）",
            );
            String::new()
        };
        let suggest = raw
            .suggest
            .into_iter()
            .enumerate()
            .map(|(i, r)| self.rule(i, r, overall_scale))
            .collect();
        PeopleSpec {
            rated_roles,
            rated_categories,
            raters,
            masses,
            team: raw.team,
            summary: raw.summary,
            min_raters,
            overall: raw.overall.map(Spanned::into_inner).unwrap_or_default(),
            items,
            final_grade: raw.final_grade,
            top_cap,
            default_grade,
            suggest,
        }
    }

    fn rated_roles(&mut self, at: usize, raw: Option<Spanned<Vec<String>>>) -> Vec<String> {
        let Some(roles) = raw else {
            self.err(
                at,
                "people.rated_roles",
                "missing: the roster roles of the people who are rated, e.g. [\"party\"]",
                "缺少：被评议人员的名册角色，如 `[\"party\"]`",
            );
            return Vec::new();
        };
        let rat = roles.span().start;
        if roles.get_ref().is_empty() {
            self.err(
                rat,
                "people.rated_roles",
                "name at least one roster role (party, secretary, cadre …)",
                "请至少写一个名册角色（`party`、`secretary`、`cadre` 等）",
            );
        }
        for r in roles.get_ref() {
            if Role::parse(r).is_none() {
                self.err(
                    rat,
                    "people.rated_roles",
                    format!(
                        "\"{r}\" is not a roster role (member, secretary, committee, party, \
                         cadre)"
                    ),
                    format!(
                        "“{r}”不是名册角色（`member`、`secretary`、`committee`、`party`、`cadre`）"
                    ),
                );
            }
        }
        roles.into_inner()
    }

    fn raters(&mut self, at: usize, raw: Option<&Spanned<String>>) -> Raters {
        let Some(raters) = raw else {
            self.err(
                at,
                "people.raters",
                "missing: \"peers\" (the rated rate each other) or \"unit\" (everyone in the \
                 unit rates them)",
                "缺少：`\"peers\"`（被评议人互评）或 `\"unit\"`（全单位评议）",
            );
            return Raters::Peers;
        };
        match raters.get_ref().as_str() {
            "peers" => Raters::Peers,
            "unit" => Raters::Unit,
            other => {
                self.err(
                    raters.span().start,
                    "people.raters",
                    format!("\"{other}\" is not a kind of raters: use \"peers\" or \"unit\""),
                    format!("“{other}”不是评议人类型：请用 `\"peers\"` 或 `\"unit\"`"),
                );
                Raters::Peers
            }
        }
    }

    fn min_raters(&mut self, raw: Option<&Spanned<i64>>) -> u32 {
        let Some(k) = raw else {
            return DEFAULT_MIN_RATERS;
        };
        match u32::try_from(*k.get_ref()) {
            Ok(k) if k >= 2 => k,
            _ => {
                self.err(
                    k.span().start,
                    "people.min_raters",
                    "must be at least 2: a result from one rater is that rater's answer",
                    "至少为 2：只有一人评议的结果就是这个人的答案",
                );
                DEFAULT_MIN_RATERS
            }
        }
    }

    fn people_items(
        &mut self,
        at: usize,
        raw: Vec<RawPeopleItem>,
        scales: &BTreeMap<String, Scale>,
    ) -> Vec<Item> {
        if raw.is_empty() {
            self.err(
                at,
                "people.items",
                "a people survey needs at least one [[people.items]]",
                "人员问卷至少需要一个 `[[people.items]]`",
            );
        }
        let mut ids = HashSet::new();
        raw.into_iter()
            .map(|i| {
                let iat = i.id.span().start;
                let place = format!("people item \"{}\"", i.id.get_ref());
                if !is_id(i.id.get_ref()) {
                    self.err(
                        iat,
                        place.clone(),
                        "an item id must be lowercase letters, digits, '-' or '_'",
                        "题目 id 只能由小写字母、数字、`-` 或 `_` 组成",
                    );
                }
                if !ids.insert(i.id.get_ref().clone()) {
                    self.err(
                        iat,
                        place.clone(),
                        "the item id is used twice",
                        "题目 id 重复",
                    );
                }
                if i.text.trim().is_empty() {
                    self.err(iat, place.clone(), "text is empty", "题目文字为空");
                }
                if !scales.contains_key(i.scale.get_ref()) {
                    self.err(
                        i.scale.span().start,
                        place,
                        format!(
                            "scale \"{}\" is not defined under [scales]",
                            i.scale.get_ref()
                        ),
                        format!("量表“{}”未在 `[scales]` 中定义", i.scale.get_ref()),
                    );
                }
                Item {
                    id: i.id.into_inner(),
                    text: text(i.text, i.text_en),
                    weight: 1.0,
                    required: true,
                    scale: i.scale.into_inner(),
                }
            })
            .collect()
    }

    /// Checks `overall` names an item and returns that item's scale, if both exist.
    fn overall<'s>(
        &mut self,
        at: usize,
        raw: Option<&Spanned<String>>,
        items: &[Item],
        scales: &'s BTreeMap<String, Scale>,
    ) -> Option<&'s Scale> {
        let Some(overall) = raw else {
            self.err(
                at,
                "people.overall",
                "missing: the id of the [[people.items]] item whose options are the grades",
                "缺少：其选项即为等次的 `[[people.items]]` 题目的 id",
            );
            return None;
        };
        let Some(item) = items.iter().find(|i| &i.id == overall.get_ref()) else {
            self.err(
                overall.span().start,
                "people.overall",
                format!(
                    "\"{}\" is not the id of one of the [[people.items]]",
                    overall.get_ref()
                ),
                format!(
                    "“{}”不是 `[[people.items]]` 中任何题目的 id",
                    overall.get_ref()
                ),
            );
            return None;
        };
        scales.get(&item.scale)
    }

    /// Checks `id` is a valid option of the overall scale (when that scale is known): a grade
    /// is something a person can be given, never 不了解.
    fn grade_option(&mut self, scale: Option<&Scale>, id: &str, at: usize, place: &str) {
        let Some(scale) = scale else { return };
        match scale.option(id) {
            Some(o) if o.is_valid() => {}
            Some(_) => self.err(
                at,
                place,
                format!(
                    "option \"{id}\" of scale \"{}\" is not a valid vote, so it cannot be a grade",
                    scale.id
                ),
                format!("量表“{}”的选项“{id}”不是有效票，不能作为等次", scale.id),
            ),
            None => self.err(
                at,
                place,
                format!(
                    "\"{id}\" is not an option of the overall item's scale \"{}\"",
                    scale.id
                ),
                format!("“{id}”不是总体评价题量表“{}”的选项", scale.id),
            ),
        }
    }

    fn rule(&mut self, i: usize, raw: RawRule, scale: Option<&Scale>) -> Rule {
        let place = format!("people.suggest[{}]", i + 1);
        self.grade_option(scale, raw.grade.get_ref(), raw.grade.span().start, &place);
        if raw.when.get_ref().is_empty() {
            self.err(
                raw.when.span().start,
                place.clone(),
                "when needs at least one option id of the overall scale",
                "`when` 至少需要总体评价量表的一个选项 id",
            );
        }
        for w in raw.when.get_ref() {
            self.grade_option(scale, w, raw.when.span().start, &format!("{place} when"));
        }
        let min_share = self.share(&raw.min_share, &format!("{place} min_share"));
        Rule {
            grade: raw.grade.into_inner(),
            when: raw.when.into_inner(),
            min_share,
            flag: raw.flag,
        }
    }

    /// Reads a share in (0, 1]: `"a/b"`, kept exact, or a number with at most four decimals.
    fn share(&mut self, raw: &Spanned<toml::Value>, place: &str) -> Fraction {
        let at = raw.span().start;
        let parsed = match raw.get_ref() {
            toml::Value::String(s) => parse_ratio(s),
            toml::Value::Float(x) => from_decimal(*x),
            toml::Value::Integer(1) => Ok(Fraction { num: 1, den: 1 }),
            toml::Value::Integer(n) => Err(out_of_range(n)),
            _ => Err((
                "write a share as a string \"a/b\" (e.g. \"1/3\") or a number such as 0.5"
                    .to_owned(),
                "比例请写成字符串 `\"a/b\"`（如 `\"1/3\"`）或 0.5 这样的数".to_owned(),
            )),
        };
        match parsed.and_then(|f| {
            if f.num == 0 || f.num > f.den {
                Err(out_of_range(f))
            } else {
                Ok(f)
            }
        }) {
            Ok(f) => f,
            Err((message, zh)) => {
                self.err(at, place, message, zh);
                DEFAULT_TOP_CAP
            }
        }
    }
}

/// `"a/b"` with whole numbers a, b (b > 0), reduced; or why not, in English and Chinese.
fn parse_ratio(s: &str) -> Result<Fraction, (String, String)> {
    let bad = || {
        (
            format!("\"{s}\" is not a share \"a/b\" of whole numbers (e.g. \"1/3\")"),
            format!("“{s}”不是由整数写成的比例 `\"a/b\"`（如 `\"1/3\"`）"),
        )
    };
    let (a, b) = s.split_once('/').ok_or_else(bad)?;
    let a: u64 = a.trim().parse().map_err(|_| bad())?;
    let b: u64 = b.trim().parse().map_err(|_| bad())?;
    if b == 0 {
        return Err((
            format!("\"{s}\" divides by zero"),
            format!("“{s}”的分母为零"),
        ));
    }
    if a > MAX_SHARE_TERM || b > MAX_SHARE_TERM {
        return Err((
            format!("\"{s}\": write the share with numbers up to {MAX_SHARE_TERM}"),
            format!("“{s}”：比例中的数不能超过 {MAX_SHARE_TERM}"),
        ));
    }
    Ok(reduced(a, b))
}

/// `x` as `x × 10000 / 10000`, reduced; refused when it has more than four decimals, so that
/// 0.33333 is not silently read as 3333/10000 (write "1/3" for a third).
fn from_decimal(x: f64) -> Result<Fraction, (String, String)> {
    let scaled = x * DECIMAL_DEN as f64;
    if !(0.0..=1.0).contains(&x) || scaled.is_nan() {
        return Err(out_of_range(x));
    }
    let rounded = scaled.round();
    if (scaled - rounded).abs() > 1e-6 {
        return Err((
            format!(
                "{x} has more than four decimals: write an exact share as a string, e.g. \"1/3\""
            ),
            format!("{x} 的小数超过四位：精确的比例请写成字符串，如 `\"1/3\"`"),
        ));
    }
    // In 0..=10000 after the checks above.
    let num = rounded as u64;
    Ok(reduced(num, DECIMAL_DEN))
}

fn reduced(num: u64, den: u64) -> Fraction {
    let g = gcd(num, den).max(1);
    Fraction {
        num: num / g,
        den: den / g,
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// A share outside (0, 1], said in English and Chinese.
fn out_of_range(value: impl std::fmt::Display) -> (String, String) {
    (
        format!("{value} is not in (0, 1]: a share is more than 0 and at most 1"),
        format!("{value} 不在 (0, 1] 之内：比例须大于 0 且不大于 1"),
    )
}
