//! Survey files (`surveys/*.toml`): parsing and validation. The format is documented in
//! `docs/survey-format.md`. Everything a wave needs to know about scales, weights, grades,
//! gates and anonymity thresholds comes from here: nothing of a standard is hard-coded.
//!
//! A file of `kind = "people"` (民主评议) rates people instead of units: its `[people]` section
//! is parsed in [`people`] and the unit-only parts of [`Survey`] hold neutral placeholders.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use toml::Spanned;

use super::people::PeopleSpec;
use super::text::Text;

mod people;

/// The three steps of the evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepKind {
    /// 基层自评: the unit assesses itself.
    #[serde(rename = "self")]
    SelfAssessment,
    /// 群众测评: the anonymous satisfaction survey.
    Mass,
    /// 组织考评: the committee's assessment.
    Org,
}

impl StepKind {
    /// All steps in their order.
    pub const ALL: [Self; 3] = [Self::SelfAssessment, Self::Mass, Self::Org];

    /// The id used in files, the database and URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SelfAssessment => "self",
            Self::Mass => "mass",
            Self::Org => "org",
        }
    }

    /// The step with this id.
    pub fn parse(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == id)
    }
}

/// A validated survey.
#[derive(Debug, Clone)]
pub struct Survey {
    /// Short identifier from the file.
    pub id: String,
    /// Title shown to everyone.
    pub title: Text,
    /// Where the standard comes from.
    pub description: Option<Text>,
    /// Step weights of the composite score; they sum to 1.
    pub weights: Weights,
    /// Anonymity thresholds.
    pub anonymity: Anonymity,
    /// Grade bands from best to worst.
    pub grades: Vec<Grade>,
    /// Caps on the grade when the mass satisfaction rate is too low.
    pub gates: Vec<Gate>,
    /// Answer scales by id.
    pub scales: BTreeMap<String, Scale>,
    /// The steps `self`, `mass`, `org` in this order.
    pub steps: [Step; 3],
    /// The `[people]` section of a people survey (`kind = "people"`); `None` for a unit
    /// survey. A people survey has no steps, weights, grades or gates: those fields hold
    /// neutral placeholders (no dimensions, weights 0/1/0, no grades, no gates) and
    /// `anonymity` repeats `min_raters`, so code that only knows unit surveys finds nothing
    /// to count rather than a panic.
    pub people: Option<PeopleSpec>,
}

/// Step weights of the composite.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    /// Weight of the self-assessment.
    pub self_assessment: f64,
    /// Weight of the mass satisfaction index.
    pub mass: f64,
    /// Weight of the committee's score.
    pub org: f64,
}

/// Anonymity thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anonymity {
    /// No figure of a group with fewer mass responses is shown or exported.
    pub min_responses: u32,
    /// Comments need at least this many responses in the group.
    pub min_comments: u32,
}

/// A grade band: composite scores `>= min` get `label` (unless a gate caps it).
#[derive(Debug, Clone, PartialEq)]
pub struct Grade {
    /// The grade's name, e.g. 好.
    pub label: Text,
    /// Inclusive lower bound of the composite score.
    pub min: f64,
}

/// A gate: a mass satisfaction rate below `min_satisfaction` caps the grade at `cap`.
#[derive(Debug, Clone, PartialEq)]
pub struct Gate {
    /// Threshold on the overall satisfaction rate, 0..1.
    pub min_satisfaction: f64,
    /// Index into [`Survey::grades`] of the best grade allowed below the threshold.
    pub cap: usize,
}

/// An answer scale.
#[derive(Debug, Clone, PartialEq)]
pub struct Scale {
    /// The scale's id.
    pub id: String,
    /// Its name.
    pub name: Text,
    /// Options in the order shown.
    pub options: Vec<ScaleOption>,
}

impl Scale {
    /// The option with this id.
    pub fn option(&self, id: &str) -> Option<&ScaleOption> {
        self.options.iter().find(|o| o.id == id)
    }
}

/// One option of a scale.
#[derive(Debug, Clone, PartialEq)]
pub struct ScaleOption {
    /// The option's id, as submitted in forms.
    pub id: String,
    /// Its label.
    pub label: Text,
    /// Score 0..100; `None` exactly when the option is not a valid vote.
    pub score: Option<f64>,
    /// Counts toward the satisfaction rate.
    pub satisfied: bool,
    /// A rater choosing it may give a reason (people surveys: 基本合格, 不合格 …).
    pub reason: bool,
}

impl ScaleOption {
    /// A valid vote (not 不了解).
    pub fn is_valid(&self) -> bool {
        self.score.is_some()
    }
}

/// One step of the evaluation.
#[derive(Debug, Clone)]
pub struct Step {
    /// Which step.
    pub kind: StepKind,
    /// Dimensions in order.
    pub dimensions: Vec<Dimension>,
    /// Whether the form offers a free-text comment (mass step).
    pub comment: bool,
    /// Person categories who also rate their unit's parent; `*` means everyone.
    pub also_rate_parent: Vec<String>,
    /// Drop one highest and one lowest score when there are at least 5 scorers.
    pub trim_extremes: bool,
}

impl Step {
    /// All items of the step, in order.
    pub fn items(&self) -> impl Iterator<Item = &Item> {
        self.dimensions.iter().flat_map(|d| d.items.iter())
    }

    /// Whether people of `category` also rate the parent of their unit.
    pub fn rates_parent(&self, category: &str) -> bool {
        self.also_rate_parent
            .iter()
            .any(|c| c == "*" || c == category)
    }
}

/// A group of items, e.g. one of the six 好.
#[derive(Debug, Clone)]
pub struct Dimension {
    /// The dimension's id.
    pub id: String,
    /// Its name.
    pub name: Text,
    /// Items in order.
    pub items: Vec<Item>,
}

/// One question.
#[derive(Debug, Clone)]
pub struct Item {
    /// Unique across the survey.
    pub id: String,
    /// The question.
    pub text: Text,
    /// Weight within its dimension and step (> 0).
    pub weight: f64,
    /// Whether an answer is required.
    pub required: bool,
    /// The scale's id (exists in [`Survey::scales`]).
    pub scale: String,
}

/// A TOML error in Chinese: the parser speaks English, so only what it quotes of the file
/// (between backticks: keys, values) is kept; the line is given beside it.
fn toml_zh(message: &str) -> String {
    let quoted: Vec<String> = message
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|q| !q.trim().is_empty())
        .map(|q| format!("`{q}`"))
        .collect();
    if quoted.is_empty() {
        "不是有效的 TOML：语法有误。".to_owned()
    } else {
        format!("不是有效的 TOML，或键与值有误：{}。", quoted.join("、"))
    }
}

impl Survey {
    /// Parses and validates a survey file's content. `file` names it in error messages.
    pub fn parse(file: &str, src: &str) -> Result<Self, Vec<SurveyError>> {
        let raw: RawSurvey = toml::from_str(src).map_err(|e| {
            vec![SurveyError {
                file: file.to_owned(),
                line: e.span().map(|s| line_of(src, s.start)),
                place: String::new(),
                message: e.message().to_owned(),
                zh: toml_zh(e.message()),
            }]
        })?;
        let mut v = Validator {
            file,
            src,
            errors: Vec::new(),
        };
        let survey = v.survey(raw);
        if v.errors.is_empty() {
            Ok(survey)
        } else {
            Err(v.errors)
        }
    }

    /// Whether the survey rates people (民主评议) rather than units.
    pub fn is_people(&self) -> bool {
        self.people.is_some()
    }

    /// The step of this kind.
    pub fn step(&self, kind: StepKind) -> &Step {
        match kind {
            StepKind::SelfAssessment => &self.steps[0],
            StepKind::Mass => &self.steps[1],
            StepKind::Org => &self.steps[2],
        }
    }

    /// The scale of an item (validated to exist).
    pub fn scale_of(&self, item: &Item) -> &Scale {
        &self.scales[&item.scale]
    }
}

/// sha256 of a survey file's bytes, in hex: printed on forms so anyone can check which
/// version of the questionnaire a wave uses.
pub fn fingerprint(src: &str) -> String {
    hex::encode(Sha256::digest(src.as_bytes()))
}

/// A problem in a survey file, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyError {
    /// The file's name.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// Where in the structure (e.g. `steps.mass item m3`).
    pub place: String,
    /// What is wrong (English, as `sanping survey check` prints it).
    pub message: String,
    /// The same in Chinese, for the console's Chinese pages. Keys of the file stay as
    /// written, between backticks.
    pub zh: String,
}

impl fmt::Display for SurveyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.place.is_empty() {
            write!(f, ": {}", self.place)?;
        }
        write!(f, ": {}", self.message)
    }
}

fn line_of(src: &str, offset: usize) -> usize {
    src.get(..offset).map_or(0, |s| s.matches('\n').count()) + 1
}

// ---- the file as written -------------------------------------------------------------

/// The unit-only parts are optional here so that a people survey can leave them out; a unit
/// survey without them is refused in [`Validator::survey`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSurvey {
    kind: Option<Spanned<String>>,
    id: Spanned<String>,
    title: String,
    title_en: Option<String>,
    description: Option<String>,
    description_en: Option<String>,
    weights: Option<Spanned<RawWeights>>,
    anonymity: Option<Spanned<RawAnonymity>>,
    grades: Option<Spanned<Vec<RawGrade>>>,
    gates: Option<Spanned<Vec<RawGate>>>,
    scales: BTreeMap<String, Spanned<RawScale>>,
    steps: Option<Spanned<RawSteps>>,
    people: Option<Spanned<people::RawPeople>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWeights {
    #[serde(rename = "self")]
    self_assessment: f64,
    mass: f64,
    org: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAnonymity {
    min_responses: i64,
    min_comments: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrade {
    label: Spanned<String>,
    label_en: Option<String>,
    min: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGate {
    min_satisfaction: Spanned<f64>,
    cap: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScale {
    name: String,
    name_en: Option<String>,
    options: Vec<RawOption>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOption {
    id: Spanned<String>,
    label: String,
    label_en: Option<String>,
    score: Option<f64>,
    #[serde(default)]
    satisfied: bool,
    #[serde(default = "yes")]
    valid: bool,
    #[serde(default)]
    reason: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSteps {
    #[serde(rename = "self")]
    self_assessment: Option<Spanned<RawStep>>,
    mass: Option<Spanned<RawStep>>,
    org: Option<Spanned<RawStep>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    scale: Spanned<String>,
    comment: Option<bool>,
    #[serde(default)]
    also_rate_parent: Vec<String>,
    trim_extremes: Option<bool>,
    #[serde(default)]
    dimensions: Vec<RawDimension>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDimension {
    id: Spanned<String>,
    name: String,
    name_en: Option<String>,
    #[serde(default)]
    items: Vec<RawItem>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    id: Spanned<String>,
    text: String,
    text_en: Option<String>,
    weight: Option<f64>,
    #[serde(default = "yes")]
    required: bool,
    scale: Option<Spanned<String>>,
}

fn yes() -> bool {
    true
}

fn text(zh: String, en: Option<String>) -> Text {
    Text {
        zh,
        en: en.filter(|e| !e.trim().is_empty()),
    }
}

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

// ---- validation -----------------------------------------------------------------------

/// The parts of the file only a unit survey has, as written.
struct UnitParts {
    weights: Option<Spanned<RawWeights>>,
    anonymity: Option<Spanned<RawAnonymity>>,
    grades: Option<Spanned<Vec<RawGrade>>>,
    gates: Option<Spanned<Vec<RawGate>>>,
    steps: Option<Spanned<RawSteps>>,
}

/// The unit-only fields of [`Survey`], validated (or placeholders).
struct Standard {
    weights: Weights,
    anonymity: Anonymity,
    grades: Vec<Grade>,
    gates: Vec<Gate>,
    steps: [Step; 3],
}

impl Standard {
    /// A people survey's weights: all on the one thing it has, its raters' answers.
    const PEOPLE_WEIGHTS: Weights = Weights {
        self_assessment: 0.0,
        mass: 1.0,
        org: 0.0,
    };

    /// The neutral placeholders of a people survey.
    fn for_people(spec: &PeopleSpec) -> Self {
        Self {
            weights: Self::PEOPLE_WEIGHTS,
            anonymity: Anonymity {
                min_responses: spec.min_raters,
                min_comments: spec.min_raters,
            },
            grades: Vec::new(),
            gates: Vec::new(),
            steps: StepKind::ALL.map(empty_step),
        }
    }
}

/// A step with nothing in it: a placeholder where a file has no such step.
fn empty_step(kind: StepKind) -> Step {
    Step {
        kind,
        dimensions: Vec::new(),
        comment: false,
        also_rate_parent: Vec::new(),
        trim_extremes: false,
    }
}

struct Validator<'a> {
    file: &'a str,
    src: &'a str,
    errors: Vec<SurveyError>,
}

impl Validator<'_> {
    fn err(
        &mut self,
        offset: usize,
        place: impl Into<String>,
        message: impl Into<String>,
        zh: impl Into<String>,
    ) {
        self.errors.push(SurveyError {
            file: self.file.to_owned(),
            line: Some(line_of(self.src, offset)),
            place: place.into(),
            message: message.into(),
            zh: zh.into(),
        });
    }

    fn survey(&mut self, raw: RawSurvey) -> Survey {
        let RawSurvey {
            kind,
            id,
            title,
            title_en,
            description,
            description_en,
            weights,
            anonymity,
            grades,
            gates,
            scales,
            steps,
            people,
        } = raw;
        if !is_id(id.get_ref()) {
            self.err(
                id.span().start,
                "id",
                "must be lowercase letters, digits, '-' or '_'",
                "只能由小写字母、数字、`-` 或 `_` 组成",
            );
        }
        let is_people = self.is_people_kind(kind.as_ref(), people.is_some());
        let scales: BTreeMap<String, Scale> = scales
            .into_iter()
            .map(|(id, s)| {
                let scale = self.scale(&id, s, is_people);
                (id, scale)
            })
            .collect();
        let parts = UnitParts {
            weights,
            anonymity,
            grades,
            gates,
            steps,
        };
        let (standard, people) = if is_people {
            self.absent_in_people_survey(&parts);
            let spec = if let Some(p) = people {
                self.people(p, &scales)
            } else {
                self.err(
                    0,
                    "people",
                    "missing: a survey of kind = \"people\" needs a [people] section",
                    "缺少 `[people]` 一节：`kind = \"people\"` 的问卷必须有它",
                );
                people::placeholder()
            };
            (Standard::for_people(&spec), Some(spec))
        } else {
            if let Some(p) = &people {
                self.err(
                    p.span().start,
                    "people",
                    "a unit survey has no [people] section: put kind = \"people\" at the top \
                     of the file to rate people",
                    "单位问卷没有 `[people]` 一节：要评议人员，请在文件开头写 `kind = \"people\"`",
                );
            }
            (self.unit_parts(parts, &scales), None)
        };
        Survey {
            id: id.into_inner(),
            title: text(title, title_en),
            description: description.map(|d| text(d, description_en)),
            weights: standard.weights,
            anonymity: standard.anonymity,
            grades: standard.grades,
            gates: standard.gates,
            scales,
            steps: standard.steps,
            people,
        }
    }

    /// Whether the file is a people survey, from `kind` (default `units`). An unknown kind is
    /// reported and then guessed from the presence of `[people]`, so the other errors still
    /// make sense.
    fn is_people_kind(&mut self, kind: Option<&Spanned<String>>, has_people: bool) -> bool {
        let Some(kind) = kind else { return false };
        match kind.get_ref().as_str() {
            "units" => false,
            "people" => true,
            other => {
                self.err(
                    kind.span().start,
                    "kind",
                    format!("\"{other}\" is not a kind: use \"units\" (the default) or \"people\""),
                    format!("“{other}”不是问卷类型：请用 `\"units\"`（默认）或 `\"people\"`"),
                );
                has_people
            }
        }
    }

    /// Reports a key a unit survey cannot do without. Its line is the top of the file: the
    /// key is nowhere.
    fn missing(&mut self, place: &str, what: &str, what_zh: &str) {
        self.err(
            0,
            place,
            format!("missing: a unit survey needs {what}"),
            format!("缺少：单位问卷需要 {what_zh}"),
        );
    }

    /// The unit-only parts of a unit survey, each reported when missing.
    fn unit_parts(&mut self, parts: UnitParts, scales: &BTreeMap<String, Scale>) -> Standard {
        let weights = if let Some(w) = &parts.weights {
            self.weights(w)
        } else {
            self.missing(
                "weights",
                "[weights] with self, mass and org",
                "含 `self`、`mass`、`org` 的 `[weights]`",
            );
            Standard::PEOPLE_WEIGHTS
        };
        let anonymity = if let Some(a) = &parts.anonymity {
            self.anonymity(a)
        } else {
            self.missing(
                "anonymity",
                "[anonymity] with min_responses and min_comments",
                "含 `min_responses` 和 `min_comments` 的 `[anonymity]`",
            );
            Anonymity {
                min_responses: 2,
                min_comments: 2,
            }
        };
        let grades = if let Some(g) = &parts.grades {
            self.grades(g)
        } else {
            self.missing("grades", "at least two [[grades]]", "至少两个 `[[grades]]`");
            Vec::new()
        };
        let gates = parts
            .gates
            .map(|g| self.gates(g.get_ref(), &grades))
            .unwrap_or_default();
        let mut item_ids = HashSet::new();
        let steps = if let Some(steps) = parts.steps {
            let at = steps.span().start;
            let steps = steps.into_inner();
            [
                (StepKind::SelfAssessment, steps.self_assessment),
                (StepKind::Mass, steps.mass),
                (StepKind::Org, steps.org),
            ]
            .map(|(kind, step)| {
                if let Some(step) = step {
                    return self.step(kind, step, scales, &mut item_ids);
                }
                self.err(
                    at,
                    format!("steps.{}", kind.as_str()),
                    format!(
                        "missing: a unit survey needs all three steps self, mass and org; add \
                         [steps.{}]",
                        kind.as_str()
                    ),
                    format!(
                        "缺少：单位问卷需要 `self`、`mass`、`org` 三个环节；请添加 `[steps.{}]`",
                        kind.as_str()
                    ),
                );
                empty_step(kind)
            })
        } else {
            self.missing(
                "steps",
                "[steps.self], [steps.mass] and [steps.org]",
                "`[steps.self]`、`[steps.mass]` 和 `[steps.org]`",
            );
            StepKind::ALL.map(empty_step)
        };
        Standard {
            weights,
            anonymity,
            grades,
            gates,
            steps,
        }
    }

    /// Reports each unit-only key present in a people survey: a people survey is scored by
    /// its `[people]` rules, and a `[weights]` there would only suggest otherwise.
    fn absent_in_people_survey(&mut self, parts: &UnitParts) {
        let present = [
            ("weights", parts.weights.as_ref().map(|w| w.span().start)),
            ("grades", parts.grades.as_ref().map(|g| g.span().start)),
            ("gates", parts.gates.as_ref().map(|g| g.span().start)),
            ("steps", parts.steps.as_ref().map(|s| s.span().start)),
        ];
        for (key, at) in present {
            if let Some(at) = at {
                self.err(
                    at,
                    key,
                    format!(
                        "a people survey (kind = \"people\") has no {key}: people are rated on \
                         [[people.items]] and graded by [people] rules; remove it"
                    ), format!("人员问卷（`kind = \"people\"`）不用 `{key}`：人员按 `[[people.items]]` 评议、按 `[people]` 的规则定等次；请删除它"),
                );
            }
        }
        if let Some(a) = &parts.anonymity {
            self.err(
                a.span().start,
                "anonymity",
                "a people survey (kind = \"people\") takes its threshold k from \
                 people.min_raters; remove [anonymity]", "人员问卷（`kind = \"people\"`）的门槛 k 取自 `people.min_raters`；请删除 `[anonymity]`",
            );
        }
    }

    fn weights(&mut self, raw: &Spanned<RawWeights>) -> Weights {
        let w = raw.get_ref();
        let at = raw.span().start;
        for (name, value) in [
            ("self", w.self_assessment),
            ("mass", w.mass),
            ("org", w.org),
        ] {
            if !(0.0..=1.0).contains(&value) {
                self.err(
                    at,
                    format!("weights.{name}"),
                    format!("{value} is not between 0 and 1"),
                    format!("{value} 不在 0 到 1 之间"),
                );
            }
        }
        let sum = w.self_assessment + w.mass + w.org;
        if (sum - 1.0).abs() > 1e-9 {
            self.err(
                at,
                "weights",
                format!("self + mass + org must sum to 1, not {sum}"),
                format!("`self + mass + org` 之和必须为 1，现为 {sum}"),
            );
        }
        Weights {
            self_assessment: w.self_assessment,
            mass: w.mass,
            org: w.org,
        }
    }

    fn anonymity(&mut self, raw: &Spanned<RawAnonymity>) -> Anonymity {
        let a = raw.get_ref();
        let at = raw.span().start;
        if a.min_responses < 2 {
            self.err(
                at,
                "anonymity.min_responses",
                "must be at least 2: a group of one is a person",
                "至少为 2：一个人的答卷就是这个人",
            );
        }
        if a.min_comments < a.min_responses {
            self.err(
                at,
                "anonymity.min_comments",
                "must be at least min_responses",
                "不能小于 `min_responses`",
            );
        }
        let clamp = |v: i64| u32::try_from(v.max(0)).unwrap_or(u32::MAX);
        Anonymity {
            min_responses: clamp(a.min_responses),
            min_comments: clamp(a.min_comments),
        }
    }

    fn grades(&mut self, raw: &Spanned<Vec<RawGrade>>) -> Vec<Grade> {
        let at = raw.span().start;
        let list = raw.get_ref();
        if list.len() < 2 {
            self.err(
                at,
                "grades",
                "at least two grades are needed",
                "至少需要两个等级",
            );
        }
        let mut seen = HashSet::new();
        for (i, g) in list.iter().enumerate() {
            let place = format!("grades[{}] \"{}\"", i + 1, g.label.get_ref());
            if !seen.insert(g.label.get_ref().clone()) {
                self.err(
                    g.label.span().start,
                    place.clone(),
                    "the label is used twice",
                    "等级名称重复",
                );
            }
            if !(0.0..=100.0).contains(&g.min) {
                self.err(
                    g.label.span().start,
                    place.clone(),
                    "min must be between 0 and 100",
                    "`min` 必须在 0 到 100 之间",
                );
            }
            if i > 0 && g.min >= list[i - 1].min {
                self.err(
                    g.label.span().start,
                    place.clone(),
                    "grades must go from best to worst with strictly decreasing min",
                    "等级须从高到低排列，`min` 严格递减",
                );
            }
        }
        if let Some(last) = list.last()
            && last.min != 0.0
        {
            self.err(
                last.label.span().start,
                "grades",
                "the last grade must have min = 0 so every score gets a grade",
                "最后一个等级的 `min` 必须为 0，使每个得分都有等级",
            );
        }
        list.iter()
            .map(|g| Grade {
                label: text(g.label.get_ref().clone(), g.label_en.clone()),
                min: g.min,
            })
            .collect()
    }

    fn gates(&mut self, raw: &[RawGate], grades: &[Grade]) -> Vec<Gate> {
        raw.iter()
            .enumerate()
            .filter_map(|(i, g)| {
                let place = format!("gates[{}]", i + 1);
                let threshold = *g.min_satisfaction.get_ref();
                if !(0.0..=1.0).contains(&threshold) {
                    self.err(
                        g.min_satisfaction.span().start,
                        place.clone(),
                        "min_satisfaction is a rate between 0 and 1 (e.g. 0.9)",
                        "`min_satisfaction` 是 0 到 1 之间的比率（如 0.9）",
                    );
                }
                let Some(cap) = grades.iter().position(|gr| &gr.label.zh == g.cap.get_ref()) else {
                    self.err(
                        g.cap.span().start,
                        place,
                        format!("cap \"{}\" is not one of the grades", g.cap.get_ref()),
                        format!("`cap` “{}”不是已有的等级", g.cap.get_ref()),
                    );
                    return None;
                };
                Some(Gate {
                    min_satisfaction: threshold,
                    cap,
                })
            })
            .collect()
    }

    fn scale(&mut self, id: &str, raw: Spanned<RawScale>, is_people: bool) -> Scale {
        let at = raw.span().start;
        let place = format!("scales.{id}");
        if !is_id(id) {
            self.err(
                at,
                place.clone(),
                "a scale id must be lowercase letters, digits, '-' or '_'",
                "量表 id 只能由小写字母、数字、`-` 或 `_` 组成",
            );
        }
        let raw = raw.into_inner();
        if raw.options.len() < 2 {
            self.err(
                at,
                place.clone(),
                "a scale needs at least two options",
                "量表至少需要两个选项",
            );
        }
        let mut seen = HashSet::new();
        let mut options = Vec::new();
        for o in raw.options {
            let oplace = format!("{place} option \"{}\"", o.id.get_ref());
            let oat = o.id.span().start;
            if !is_id(o.id.get_ref()) {
                self.err(
                    oat,
                    oplace.clone(),
                    "an option id must be lowercase letters, digits, '-' or '_'",
                    "选项 id 只能由小写字母、数字、`-` 或 `_` 组成",
                );
            }
            if !seen.insert(o.id.get_ref().clone()) {
                self.err(
                    oat,
                    oplace.clone(),
                    "the option id is used twice in this scale",
                    "同一量表中选项 id 重复",
                );
            }
            match (o.valid, o.score) {
                (true, None) => self.err(
                    oat,
                    oplace.clone(),
                    "a valid option needs a score",
                    "有效选项需要 `score`",
                ),
                (false, Some(_)) => self.err(
                    oat,
                    oplace.clone(),
                    "an option with valid = false is not scored: remove its score",
                    "`valid = false` 的选项不计分：请删除它的 `score`",
                ),
                (_, Some(s)) if !(0.0..=100.0).contains(&s) => {
                    self.err(
                        oat,
                        oplace.clone(),
                        "score must be between 0 and 100",
                        "`score` 必须在 0 到 100 之间",
                    );
                }
                _ => {}
            }
            if !o.valid && o.satisfied {
                self.err(
                    oat,
                    oplace.clone(),
                    "an option that is not a valid vote cannot count as satisfied",
                    "无效选项不能算作满意",
                );
            }
            if o.reason && !is_people {
                self.err(
                    oat,
                    oplace.clone(),
                    "reason = true is only asked in people surveys (kind = \"people\"); a \
                     unit survey's forms never ask for a reason", "`reason = true` 只用于人员问卷（`kind = \"people\"`）；单位问卷的表单从不询问理由",
                );
            }
            options.push(ScaleOption {
                id: o.id.into_inner(),
                label: text(o.label, o.label_en),
                score: if o.valid { o.score } else { None },
                satisfied: o.satisfied,
                reason: o.reason,
            });
        }
        if !options.is_empty() && !options.iter().any(ScaleOption::is_valid) {
            self.err(
                at,
                place,
                "a scale needs at least one valid option",
                "量表至少需要一个有效选项",
            );
        }
        Scale {
            id: id.to_owned(),
            name: text(raw.name, raw.name_en),
            options,
        }
    }

    fn step(
        &mut self,
        kind: StepKind,
        raw: Spanned<RawStep>,
        scales: &BTreeMap<String, Scale>,
        item_ids: &mut HashSet<String>,
    ) -> Step {
        let at = raw.span().start;
        let sname = format!("steps.{}", kind.as_str());
        let raw = raw.into_inner();
        if !scales.contains_key(raw.scale.get_ref()) {
            self.err(
                raw.scale.span().start,
                sname.clone(),
                format!(
                    "scale \"{}\" is not defined under [scales]",
                    raw.scale.get_ref()
                ),
                format!("量表“{}”未在 `[scales]` 中定义", raw.scale.get_ref()),
            );
        }
        if raw.dimensions.is_empty() {
            self.err(
                at,
                sname.clone(),
                "a step needs at least one dimension with items",
                "每个环节至少需要一个含题目的维度",
            );
        }
        if kind != StepKind::Mass && (raw.comment.is_some() || !raw.also_rate_parent.is_empty()) {
            self.err(
                at,
                sname.clone(),
                "comment and also_rate_parent belong to the mass step only",
                "`comment` 和 `also_rate_parent` 只属于群众测评环节（`mass`）",
            );
        }
        if kind != StepKind::Org && raw.trim_extremes.is_some() {
            self.err(
                at,
                sname.clone(),
                "trim_extremes belongs to the org step only",
                "`trim_extremes` 只属于组织考评环节（`org`）",
            );
        }
        let mut dim_ids = HashSet::new();
        let mut dimensions = Vec::new();
        for d in raw.dimensions {
            let dplace = format!("{sname} dimension \"{}\"", d.id.get_ref());
            if !is_id(d.id.get_ref()) {
                self.err(
                    d.id.span().start,
                    dplace.clone(),
                    "a dimension id must be lowercase letters, digits, '-' or '_'",
                    "维度 id 只能由小写字母、数字、`-` 或 `_` 组成",
                );
            }
            if !dim_ids.insert(d.id.get_ref().clone()) {
                self.err(
                    d.id.span().start,
                    dplace.clone(),
                    "the dimension id is used twice in this step",
                    "同一环节中维度 id 重复",
                );
            }
            if d.items.is_empty() {
                self.err(
                    d.id.span().start,
                    dplace.clone(),
                    "a dimension needs at least one item",
                    "维度至少需要一道题",
                );
            }
            let items = d
                .items
                .into_iter()
                .map(|i| self.item(&sname, i, raw.scale.get_ref(), scales, item_ids))
                .collect();
            dimensions.push(Dimension {
                id: d.id.into_inner(),
                name: text(d.name, d.name_en),
                items,
            });
        }
        let step = Step {
            kind,
            dimensions,
            comment: raw.comment.unwrap_or(kind == StepKind::Mass),
            also_rate_parent: raw.also_rate_parent,
            trim_extremes: raw.trim_extremes.unwrap_or(false),
        };
        if kind == StepKind::Mass {
            let any_satisfied = step
                .items()
                .filter_map(|i| scales.get(&i.scale))
                .all(|s| s.options.iter().any(|o| o.satisfied));
            if !any_satisfied {
                self.err(at, sname, "every mass scale needs at least one option with satisfied = true, or no satisfaction rate can be computed", "群众测评的每个量表至少需要一个 `satisfied = true` 的选项，否则无法计算满意率");
            }
        }
        step
    }

    fn item(
        &mut self,
        sname: &str,
        raw: RawItem,
        step_scale: &str,
        scales: &BTreeMap<String, Scale>,
        item_ids: &mut HashSet<String>,
    ) -> Item {
        let iat = raw.id.span().start;
        let place = format!("{sname} item \"{}\"", raw.id.get_ref());
        if !is_id(raw.id.get_ref()) {
            self.err(
                iat,
                place.clone(),
                "an item id must be lowercase letters, digits, '-' or '_'",
                "题目 id 只能由小写字母、数字、`-` 或 `_` 组成",
            );
        }
        if !item_ids.insert(raw.id.get_ref().clone()) {
            self.err(
                iat,
                place.clone(),
                "the item id is used twice in this survey (ids are unique across all steps)",
                "题目 id 在本问卷中重复（各环节的 id 必须互不相同）",
            );
        }
        if raw.text.trim().is_empty() {
            self.err(iat, place.clone(), "text is empty", "题目文字为空");
        }
        let weight = raw.weight.unwrap_or(1.0);
        if weight.is_nan() || weight <= 0.0 {
            self.err(
                iat,
                place.clone(),
                "weight must be greater than 0",
                "`weight` 必须大于 0",
            );
        }
        let scale = match raw.scale {
            Some(s) => {
                if !scales.contains_key(s.get_ref()) {
                    self.err(
                        s.span().start,
                        place,
                        format!("scale \"{}\" is not defined under [scales]", s.get_ref()),
                        format!("量表“{}”未在 `[scales]` 中定义", s.get_ref()),
                    );
                }
                s.into_inner()
            }
            None => step_scale.to_owned(),
        };
        Item {
            id: raw.id.into_inner(),
            text: text(raw.text, raw.text_en),
            weight,
            required: raw.required,
            scale,
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod toml_zh_tests {
    /// The Chinese TOML error keeps only what the parser quotes of the file: no English words.
    #[test]
    fn a_toml_error_in_chinese_keeps_only_the_quoted_keys() {
        let zh = super::toml_zh("missing field `title`");
        assert_eq!(zh, "不是有效的 TOML，或键与值有误：`title`。");
        assert_eq!(
            super::toml_zh("expected `=`, found newline"),
            "不是有效的 TOML，或键与值有误：`=`。"
        );
        assert_eq!(
            super::toml_zh("invalid string"),
            "不是有效的 TOML：语法有误。"
        );
        let err = super::Survey::parse("x.toml", "[survey\nid = 1").expect_err("broken");
        assert!(
            !err[0].zh.chars().any(|c| c.is_ascii_lowercase()),
            "{}",
            err[0].zh
        );
    }
}
