//! A demonstration university for `sanping demo`: a unit tree and a roster generated from a
//! seed, imported through the real importer, and two closed and published waves of the
//! 六好 survey answered through the real library calls — the mass questionnaire with each
//! person's one-time token, the secretaries' self-assessments and the committee's scoring
//! sheets — so that the home page, the receipts page and `sanping report` have something
//! believable to show.
//!
//! Everything the generator decides comes from one seeded [`StdRng`]: the same seed builds
//! the same university and the same answers (tokens and response ids stay random, as they
//! must). Each submission is its own transaction, exactly as a respondent's would be.

use std::collections::{BTreeMap, HashMap};

use indicatif::ProgressBar;
use rand::rngs::StdRng;
use rand::seq::SliceRandom as _;
use rand::{RngExt as _, SeedableRng as _};

use crate::assess::{self, SaveError};
use crate::db::{DbConn, units, waves};
use crate::domain::answers::{self, Sheet, Submission};
use crate::domain::roster::UnitKind;
use crate::domain::survey::{Scale, StepKind, Survey};
use crate::domain::token;
use crate::import::{self, ImportError};
use crate::respond::{self, Submitted};
use crate::wave::{self, Link, NewWaveSpec, WaveError};

pub mod people;
pub mod province;

pub use people::PeopleWaveSummary;

/// The survey both demo waves use: the 18-item 六好 standard shipped in `surveys/`.
pub const SURVEY: &str = include_str!("../surveys/liuhao.toml");

/// The seed `sanping demo` uses unless told otherwise.
pub const DEFAULT_SEED: u64 = 2026;

/// The code of the one small unit whose responses stay below the anonymity threshold.
pub const SMALL_UNIT: &str = "FL-R";

/// The titles of the two waves, oldest first.
pub const WAVE_TITLES: [&str; 2] = ["2025年度基层党组织“三评”", "2026年度基层党组织“三评”"];

/// The wave the demo leaves open, so a newcomer can answer it with the printed links.
pub const OPEN_TITLE: &str = "2026年度党员群众满意度补充测评（进行中）";

/// Working links of the open wave, one of each kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenLinks {
    /// An unused respondent link (群众测评).
    pub respond: String,
    /// A secretary's self-assessment not yet submitted (基层自评).
    pub self_assess: String,
    /// A committee member's scoring sheet (组织考评).
    pub committee: String,
}

/// What to build.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Seed of every random choice.
    pub seed: u64,
    /// Put into the one-time links (which nobody sees).
    pub base_url: String,
}

impl Spec {
    /// The full-size university with this seed.
    pub fn full(seed: u64) -> Self {
        Self {
            seed,
            base_url: "http://127.0.0.1:8080".to_owned(),
        }
    }
}

/// Why the demo was not built.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The database already has a unit tree: the demo fills only an empty database.
    #[error(
        "the database already holds {0} unit(s); `sanping demo` fills only an empty database, so nothing was added"
    )]
    NotEmpty(usize),
    /// The generated files were refused by the importer (a bug of the generator).
    #[error("the generated roster was refused: {0:?}")]
    Import(#[from] ImportError),
    /// A wave step failed.
    #[error(transparent)]
    Wave(#[from] WaveError),
    /// A sheet was not saved.
    #[error("a sheet was not saved: {0}")]
    Save(#[from] SaveError),
    /// Something the generator did was refused (a bug of the generator).
    #[error("{0}")]
    Refused(String),
    /// The database failed.
    #[error("database error: {0}")]
    Db(#[from] diesel::result::Error),
}

/// What one demo wave holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaveSummary {
    /// The wave id.
    pub id: i32,
    /// Its title.
    pub title: String,
    /// Mass invitations issued.
    pub invited: usize,
    /// Mass responses stored.
    pub responses: usize,
    /// Self-assessments submitted.
    pub self_sheets: usize,
    /// Committee sheets saved (one per member and unit).
    pub org_sheets: usize,
    /// One receipt code of the wave, to try on its receipts page.
    pub sample_receipt: Option<String>,
    /// For the wave left open: links to try.
    pub open_links: Option<OpenLinks>,
}

/// What the demo built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Units in the tree (the committee included).
    pub units: usize,
    /// Units evaluated in each wave.
    pub targets: usize,
    /// People on the roster.
    pub people: usize,
    /// Committee members.
    pub committee: usize,
    /// Target units without a secretary (no self-assessment).
    pub without_secretary: Vec<String>,
    /// The waves, oldest first.
    pub waves: Vec<WaveSummary>,
    /// The people waves (民主评议党员, then 班子测评), both published.
    pub people_waves: Vec<PeopleWaveSummary>,
}

/// The demo's key holders (committee accounts) and their passwords: every wave is sealed
/// to them, any two of three unseal it. A demo database only; never a real one.
pub const HOLDERS: [(&str, &str); 3] = [
    ("keeper1", "sanping-key-1"),
    ("keeper2", "sanping-key-2"),
    ("keeper3", "sanping-key-3"),
];
/// How many of [`HOLDERS`] it takes to unseal a demo wave.
pub const HOLDER_THRESHOLD: u8 = 2;

/// Builds the demo in an empty database: the university, then both waves. For each wave
/// `bar` is reset to that wave's number of submissions and advanced by each.
pub fn build(conn: &mut DbConn, spec: &Spec, bar: &ProgressBar) -> Result<Summary, DemoError> {
    let existing = units::all(conn)?.len();
    if existing > 0 {
        return Err(DemoError::NotEmpty(existing));
    }
    let survey = Survey::parse("surveys/liuhao.toml", SURVEY)
        .map_err(|e| DemoError::Refused(format!("the embedded survey is invalid: {e:?}")))?;
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let mut uni = University::generate(&mut rng);
    // Roles come from a generator of their own: the unit waves stay what they were.
    let mut people_rng = people::people_rng(spec.seed);
    uni.assign_roles(&mut people_rng);
    for (name, password) in HOLDERS {
        crate::auth::add_user(conn, name, crate::auth::Role::Committee, password)
            .map_err(|e| DemoError::Refused(format!("{e:#}")))?;
    }
    import::units(conn, uni.units_csv().as_bytes())?;
    import::people(conn, uni.people_csv().as_bytes())?;
    let targets: Vec<String> = wave::targets(&units::all(conn)?, None)
        .into_iter()
        .map(|u| u.code)
        .collect();
    let categories: HashMap<&str, &'static str> = uni
        .people
        .iter()
        .map(|p| (p.email.as_str(), p.category))
        .collect();
    let mut done = Vec::new();
    for (year, title) in WAVE_TITLES.iter().enumerate() {
        let sim = Simulation {
            uni: &uni,
            categories: &categories,
            survey: &survey,
            targets: &targets,
            year,
            bar,
        };
        done.push(sim.run(conn, &mut rng, title, &spec.base_url, true)?);
    }
    let current = Simulation {
        uni: &uni,
        categories: &categories,
        survey: &survey,
        targets: &targets,
        year: 1,
        bar,
    };
    done.push(current.run(conn, &mut rng, OPEN_TITLE, &spec.base_url, false)?);
    let people_waves = people::build(conn, &mut people_rng, &spec.base_url, &categories, bar)?;
    Ok(Summary {
        units: uni.units.len(),
        targets: targets.len(),
        people: crate::db::people::all(conn)?.len(),
        committee: uni.people.iter().filter(|p| p.roles == "committee").count(),
        without_secretary: uni
            .units
            .iter()
            .filter(|u| !u.secretary && u.kind != UnitKind::Committee)
            .map(|u| u.code.clone())
            .collect(),
        waves: done,
        people_waves,
    })
}

// ---- the university --------------------------------------------------------------------

/// Colleges, each a 党总支 with its branches.
const COLLEGES: [(&str, &str); 12] = [
    ("CS", "计算机学院"),
    ("ME", "机械工程学院"),
    ("FL", "外国语学院"),
    ("EM", "经济管理学院"),
    ("EE", "电气工程学院"),
    ("CE", "土木工程学院"),
    ("MS", "材料科学与工程学院"),
    ("CH", "化学化工学院"),
    ("MA", "数学与统计学院"),
    ("PH", "物理与光电工程学院"),
    ("MX", "马克思主义学院"),
    ("AD", "艺术设计学院"),
];

/// Optional branches beyond one per college (see `University::generate`).
const EXTRA_BRANCHES: usize = 8;

/// Branches directly under the committee (直属党支部), with their usual size.
const DIRECT: [(&str, &str, usize, usize); 4] = [
    ("LIB", "图书馆直属党支部", 40, 65),
    ("LOG", "后勤直属党支部", 70, 120),
    ("ADM", "机关直属党支部", 60, 100),
    ("HOS", "校医院直属党支部", 30, 50),
];

/// A kind of branch in a college: code suffix, name, category of its people, size range.
struct BranchType {
    suffix: &'static str,
    name: &'static str,
    category: &'static str,
    min: usize,
    max: usize,
}

const TEACHERS: BranchType = BranchType {
    suffix: "T",
    name: "教工党支部",
    category: "faculty",
    min: 50,
    max: 105,
};
const OPTIONAL: [BranchType; 3] = [
    BranchType {
        suffix: "S2",
        name: "本科生第二党支部",
        category: "student",
        min: 80,
        max: 145,
    },
    BranchType {
        suffix: "G",
        name: "研究生党支部",
        category: "student",
        min: 50,
        max: 105,
    },
    BranchType {
        suffix: "R",
        name: "离退休党支部",
        category: "retired",
        min: 12,
        max: 28,
    },
];
const UNDERGRADS: BranchType = BranchType {
    suffix: "S1",
    name: "本科生第一党支部",
    category: "student",
    min: 80,
    max: 145,
};

/// One planned unit.
#[derive(Debug, Clone)]
struct PlannedUnit {
    code: String,
    name: String,
    kind: UnitKind,
    parent: Option<String>,
    category: &'static str,
    size: usize,
    secretary: bool,
    /// Latent quality per wave (about −2 … 2; 0 is an average unit).
    quality: [f64; 2],
    /// Share of the invited who answer, per wave.
    response_rate: [f64; 2],
}

/// One planned person.
#[derive(Debug, Clone)]
struct PlannedPerson {
    email: String,
    name: String,
    unit: String,
    category: &'static str,
    roles: &'static str,
}

/// The generated university.
#[derive(Debug, Clone)]
struct University {
    units: Vec<PlannedUnit>,
    people: Vec<PlannedPerson>,
}

impl University {
    /// About 4,000 people in 60 target units; every unit but the small one has at least
    /// 10 people.
    fn generate(rng: &mut StdRng) -> Self {
        let mut units = vec![PlannedUnit {
            code: "U".into(),
            name: "示范大学党委".into(),
            kind: UnitKind::Committee,
            parent: None,
            category: "faculty",
            size: 7,
            secretary: false,
            quality: [0.0; 2],
            response_rate: [0.0; 2],
        }];
        let mut add = |code: String, name: String, kind, parent: &str, category, size| {
            units.push(PlannedUnit {
                code,
                name,
                kind,
                parent: Some(parent.to_owned()),
                category,
                size,
                secretary: true,
                quality: [0.0; 2],
                response_rate: [0.0; 2],
            });
        };
        // Every college has a teachers' and a first undergraduates' branch and 1–3 of the
        // others; EXTRA_BRANCHES more spread at random keep the tree at 60 target units.
        let mut extra = [1_usize; COLLEGES.len()];
        let mut left = EXTRA_BRANCHES;
        while left > 0 {
            let i = rng.random_range(0..extra.len());
            if extra[i] < OPTIONAL.len() {
                extra[i] += 1;
                left -= 1;
            }
        }
        for ((code, college), extra) in COLLEGES.into_iter().zip(extra) {
            // The 党总支's own people: its leadership, the college office and counsellors.
            let own = rng.random_range(10..=14);
            let gb = UnitKind::GeneralBranch;
            add(
                code.into(),
                format!("{college}党总支"),
                gb,
                "U",
                "faculty",
                own,
            );
            let mut optional: Vec<&BranchType> = OPTIONAL.iter().collect();
            optional.shuffle(rng);
            optional.truncate(extra);
            if code == "FL" && !optional.iter().any(|b| b.suffix == "R") {
                optional[0] = &OPTIONAL[2];
            }
            let mut chosen = vec![&TEACHERS, &UNDERGRADS];
            chosen.extend(optional);
            chosen.sort_by_key(|b| b.suffix);
            for b in chosen {
                let branch_code = format!("{code}-{}", b.suffix);
                let size = if branch_code == SMALL_UNIT {
                    4
                } else {
                    rng.random_range(b.min..=b.max)
                };
                let name = format!("{college}{}", b.name);
                add(branch_code, name, UnitKind::Branch, code, b.category, size);
            }
        }
        for (code, name, min, max) in DIRECT {
            let size = rng.random_range(min..=max);
            let kind = UnitKind::DirectBranch;
            add(code.into(), name.into(), kind, "U", "faculty", size);
        }
        plan_units(rng, &mut units);
        let people = plan_people(rng, &units);
        Self { units, people }
    }

    fn units_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["code", "name", "kind", "parent"])
            .expect("writing to memory");
        for u in &self.units {
            let parent = u.parent.as_deref().unwrap_or("");
            w.write_record([u.code.as_str(), &u.name, u.kind.as_str(), parent])
                .expect("writing to memory");
        }
        into_text(w)
    }

    fn people_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["email", "name", "unit", "category", "role"])
            .expect("writing to memory");
        for p in &self.people {
            w.write_record([p.email.as_str(), &p.name, &p.unit, p.category, p.roles])
                .expect("writing to memory");
        }
        into_text(w)
    }

    /// Party members (`party`), cadres (`cadre`) and secretaries, unit by unit.
    fn assign_roles(&mut self, rng: &mut StdRng) {
        let mut position: HashMap<String, usize> = HashMap::new();
        for p in &mut self.people {
            let Some(u) = self.units.iter().find(|u| u.code == p.unit) else {
                continue;
            };
            let k = position.entry(p.unit.clone()).or_default();
            p.roles = people::roles(rng, u.kind, u.category, u.size, *k, u.secretary);
            *k += 1;
        }
    }

    fn unit(&self, code: &str) -> Option<&PlannedUnit> {
        self.units.iter().find(|u| u.code == code)
    }
}

fn into_text(w: csv::Writer<Vec<u8>>) -> String {
    let bytes = w.into_inner().expect("writing to memory");
    String::from_utf8(bytes).expect("the generator writes UTF-8")
}

/// Latent qualities, response rates and the units without a secretary.
fn plan_units(rng: &mut StdRng, units: &mut [PlannedUnit]) {
    let targets: Vec<usize> = (0..units.len())
        .filter(|&i| units[i].kind != UnitKind::Committee)
        .collect();
    // Spread the qualities evenly over the targets, then shuffle: every seed has its
    // strong and its weak units.
    let n = targets.len().max(2) as f64;
    let mut spread: Vec<f64> = (0..targets.len())
        .map(|i| -1.6 + 3.2 * i as f64 / (n - 1.0))
        .collect();
    spread.shuffle(rng);
    for (&i, z) in targets.iter().zip(spread) {
        let u = &mut units[i];
        let first = z + rng.random_range(-0.15..0.15);
        // Most units improved over the year; a few slipped.
        let change = if rng.random_bool(0.8) {
            rng.random_range(0.15..0.7)
        } else {
            rng.random_range(-0.35..0.05)
        };
        u.quality = [first, first + change];
        let rate = rng.random_range(0.60..0.93);
        u.response_rate = [
            rate,
            (rate + rng.random_range(-0.03..0.06)).clamp(0.60, 0.95),
        ];
    }
    let mut candidates: Vec<usize> = targets
        .iter()
        .copied()
        .filter(|&i| units[i].kind == UnitKind::Branch && units[i].code != SMALL_UNIT)
        .collect();
    candidates.shuffle(rng);
    for &i in candidates.iter().take(rng.random_range(1..=2)) {
        units[i].secretary = false;
    }
}

fn plan_people(rng: &mut StdRng, units: &[PlannedUnit]) -> Vec<PlannedPerson> {
    let mut people = Vec::new();
    for u in units {
        for k in 0..u.size {
            let roles = match (u.kind, k) {
                (UnitKind::Committee, _) => "committee",
                (_, 0) if u.secretary => "member;secretary",
                _ => "member",
            };
            people.push(PlannedPerson {
                email: format!("u{:05}@demo.edu.cn", people.len() + 1),
                name: names::person(rng, u.category),
                unit: u.code.clone(),
                category: u.category,
                roles,
            });
        }
    }
    people
}

// ---- answering ---------------------------------------------------------------------------

/// How good an average respondent finds each mass item, relative to the unit (m1 … m18):
/// facilities, online channels and the "brand" are judged more harshly.
const ITEM_OFFSET: [f64; 18] = [
    0.2, 0.1, 0.0, 0.1, -0.3, 0.25, 0.0, 0.1, -0.1, -0.2, 0.0, -0.25, -0.1, 0.05, 0.0, 0.1, -0.35,
    0.1,
];
/// How much more often than usual an item gets 不了解 (m5 about delegates, m17 the brand …).
const ITEM_UNKNOWN: [f64; 18] = [
    1.0, 1.5, 1.0, 1.0, 2.5, 0.7, 1.2, 1.0, 1.2, 1.0, 1.5, 1.2, 1.0, 1.0, 1.0, 1.3, 2.0, 0.5,
];

/// Chance of 不满意 on an item for a respondent at quality `z`.
fn dissatisfaction(z: f64) -> f64 {
    (0.075 - 0.045 * z).clamp(0.005, 0.4)
}

/// Chance of 满意 (rather than 基本满意) among the rest.
fn full_satisfaction(z: f64) -> f64 {
    (0.66 + 0.12 * z).clamp(0.3, 0.95)
}

/// The satisfaction index a unit of quality `z` would get: what secretaries and the
/// committee sense, without any survey.
fn expected_index(z: f64) -> f64 {
    let (d, s) = (dissatisfaction(z), full_satisfaction(z));
    100.0 * (1.0 - d) * s + 60.0 * (1.0 - d) * (1.0 - s)
}

/// The options of the mass scale by meaning.
struct MassOptions {
    satisfied: String,
    basic: String,
    dissatisfied: String,
    unknown: Option<String>,
}

impl MassOptions {
    fn of(scale: &Scale) -> Self {
        let mut valid: Vec<_> = scale.options.iter().filter(|o| o.is_valid()).collect();
        valid.sort_by(|a, b| b.score.partial_cmp(&a.score).expect("scores are numbers"));
        let id = |i: usize| valid[i.min(valid.len() - 1)].id.clone();
        Self {
            satisfied: id(0),
            basic: id(1),
            dissatisfied: id(valid.len() - 1),
            unknown: scale
                .options
                .iter()
                .find(|o| !o.is_valid())
                .map(|o| o.id.clone()),
        }
    }
}

/// The valid option whose score is nearest to `value`.
fn nearest(scale: &Scale, value: f64) -> String {
    scale
        .options
        .iter()
        .filter_map(|o| o.score.map(|s| (o, (s - value).abs())))
        .min_by(|a, b| a.1.partial_cmp(&b.1).expect("scores are numbers"))
        .map(|(o, _)| o.id.clone())
        .expect("a scale has a valid option")
}

/// One wave being answered.
struct Simulation<'a> {
    uni: &'a University,
    /// Each person's category, by address.
    categories: &'a HashMap<&'a str, &'static str>,
    survey: &'a Survey,
    targets: &'a [String],
    /// 0 for the first wave, 1 for the second.
    year: usize,
    bar: &'a ProgressBar,
}

/// The links of an opened wave, by step.
#[derive(Default)]
struct Links {
    mass: BTreeMap<String, Vec<Link>>,
    selfs: Vec<Link>,
    org: Vec<Link>,
}

pub(crate) fn token_of(link: &Link) -> &str {
    link.url.rsplit('/').next().unwrap_or_default()
}

impl Simulation<'_> {
    fn run(
        &self,
        conn: &mut DbConn,
        rng: &mut StdRng,
        title: &str,
        base_url: &str,
        finish: bool,
    ) -> Result<WaveSummary, DemoError> {
        let id = wave::create(
            conn,
            &NewWaveSpec {
                survey_name: "surveys/liuhao.toml".into(),
                survey_src: SURVEY.into(),
                title: title.into(),
                scope: None,
                closes_at: None,
                is_test: false,
                holders: HOLDERS.iter().map(|(name, _)| (*name).to_owned()).collect(),
                threshold: HOLDER_THRESHOLD,
            },
        )?;
        let mut opened = Vec::new();
        wave::open(conn, id, base_url, |links| {
            opened = links.to_vec();
            Ok(())
        })?;
        // The order of the links is the database's; sort them so the seed decides alone.
        opened.sort_by(|a, b| {
            (&a.unit, &a.email, a.step.as_str()).cmp(&(&b.unit, &b.email, b.step.as_str()))
        });
        let mut links = Links::default();
        for link in opened {
            match link.step {
                StepKind::Mass => links.mass.entry(link.unit.clone()).or_default().push(link),
                StepKind::SelfAssessment => links.selfs.push(link),
                StepKind::Org => links.org.push(link),
            }
        }
        let invited = links.mass.values().map(Vec::len).sum();
        let mut respondents = self.respondents(rng, &links.mass);
        let mut open_links = None;
        if !finish {
            // Left open: a third have answered so far, half the self-assessments are in,
            // and the committee has not started. One link of each kind is left to try.
            respondents.truncate(respondents.len() / 3);
            let answered: std::collections::HashSet<&str> =
                respondents.iter().map(|l| l.url.as_str()).collect();
            let half = links.selfs.len() / 2;
            open_links = Some(OpenLinks {
                respond: links
                    .mass
                    .values()
                    .flatten()
                    .find(|l| !answered.contains(l.url.as_str()))
                    .map(|l| l.url.clone())
                    .unwrap_or_default(),
                self_assess: links
                    .selfs
                    .get(half)
                    .map(|l| l.url.clone())
                    .unwrap_or_default(),
                committee: links.org.first().map(|l| l.url.clone()).unwrap_or_default(),
            });
            links.selfs.truncate(half);
            links.org.clear();
        }
        let total = respondents.len() + links.selfs.len() + links.org.len() * self.targets.len();
        self.bar.reset();
        self.bar.set_length(total as u64);
        self.bar.set_message(title.to_owned());
        let mut summary = WaveSummary {
            id,
            title: title.to_owned(),
            invited,
            responses: 0,
            self_sheets: 0,
            org_sheets: 0,
            sample_receipt: None,
            open_links,
        };
        for link in &respondents {
            let receipt = self.answer_mass(conn, rng, link)?;
            summary.sample_receipt.get_or_insert(receipt);
            summary.responses += 1;
            self.bar.inc(1);
        }
        for link in &links.selfs {
            self.self_assess(conn, rng, link)?;
            summary.self_sheets += 1;
            self.bar.inc(1);
        }
        for link in &links.org {
            summary.org_sheets += self.committee_scores(conn, rng, link)?;
        }
        if !finish {
            return Ok(summary);
        }
        wave::close(conn, id)?;
        // 开箱 by the first two key holders, as a committee would after the close.
        let given: Vec<crate::sealing::HolderPassword> = HOLDERS
            .iter()
            .take(usize::from(HOLDER_THRESHOLD))
            .map(|(name, password)| crate::sealing::HolderPassword {
                username: (*name).to_owned(),
                password: zeroize::Zeroizing::new((*password).to_owned()),
            })
            .collect();
        crate::sealing::unseal(conn, id, &given, "demo")?;
        wave::publish(conn, id)?;
        Ok(summary)
    }

    /// Who answers the mass questionnaire: per unit its share of the invited (at least 5,
    /// so only the small unit stays below the threshold), in a random order overall.
    fn respondents(&self, rng: &mut StdRng, mass: &BTreeMap<String, Vec<Link>>) -> Vec<Link> {
        let mut out = Vec::new();
        for (unit, links) in mass {
            let n = links.len();
            let answering = if unit == SMALL_UNIT {
                // 3 of its 4: below the threshold, so it shows 样本不足.
                n.min(4).saturating_sub(1)
            } else {
                let rate = self
                    .uni
                    .unit(unit)
                    .map_or(0.75, |u| u.response_rate[self.year]);
                ((n as f64 * rate).round() as usize).clamp(5.min(n), n)
            };
            let mut chosen = links.clone();
            chosen.shuffle(rng);
            chosen.truncate(answering);
            out.extend(chosen);
        }
        out.shuffle(rng);
        out
    }

    fn quality(&self, unit: &str) -> f64 {
        self.uni.unit(unit).map_or(0.0, |u| u.quality[self.year])
    }

    fn category(&self, email: &str) -> &'static str {
        self.categories.get(email).copied().unwrap_or("faculty")
    }

    /// One respondent's questionnaire, checked as the web form checks it, then submitted
    /// with their token. Returns the receipt code.
    fn answer_mass(
        &self,
        conn: &mut DbConn,
        rng: &mut StdRng,
        link: &Link,
    ) -> Result<String, DemoError> {
        let step = self.survey.step(StepKind::Mass);
        let person = self.quality(&link.unit) + rng.random_range(-0.6..0.6);
        let category = self.category(&link.email);
        let mut unknown = match category {
            "student" => 0.06,
            "retired" => 0.08,
            _ => 0.03,
        };
        if rng.random_bool(0.05) {
            // Someone who hardly knows the branch's work.
            unknown = 0.4;
        }
        let mut fields = Vec::new();
        for (i, item) in step.items().enumerate() {
            let options = MassOptions::of(self.survey.scale_of(item));
            let z = person + ITEM_OFFSET[i % ITEM_OFFSET.len()];
            let p_unknown = (unknown * ITEM_UNKNOWN[i % ITEM_UNKNOWN.len()]).min(0.9);
            let option = match &options.unknown {
                Some(id) if rng.random_bool(p_unknown) => id.clone(),
                _ => {
                    let (d, s) = (dissatisfaction(z), full_satisfaction(z));
                    let u: f64 = rng.random();
                    if u < d {
                        options.dissatisfied
                    } else if u < d + (1.0 - d) * s {
                        options.satisfied
                    } else {
                        options.basic
                    }
                }
            };
            fields.push((answers::field_name(&item.id), option));
        }
        if step.comment && rng.random_bool(0.07) {
            fields.push((
                "comment".to_owned(),
                comments::pick(rng, category, person).to_owned(),
            ));
        }
        let submission: Submission = answers::check(self.survey, step, &fields)
            .map_err(|(e, _)| DemoError::Refused(format!("a generated answer sheet: {e:?}")))?;
        let stored = match respond::lookup(conn, token_of(link))? {
            respond::Lookup::Ready(wave, invitation) => {
                respond::store(conn, &wave, &invitation, self.survey, &submission)?
            }
            refused => Submitted::Refused(Box::new(refused)),
        };
        match stored {
            Submitted::Stored(receipt) => Ok(receipt),
            Submitted::Refused(why) => Err(DemoError::Refused(format!(
                "a mass answer for {} was refused: {why:?}",
                link.unit
            ))),
        }
    }

    fn invitation(conn: &mut DbConn, link: &Link) -> Result<waves::Invitation, DemoError> {
        waves::find_invitation_by_hash(conn, &token::hash(token_of(link)))?.ok_or_else(|| {
            DemoError::Refused(format!("no invitation for the link of {}", link.email))
        })
    }

    /// A secretary's self-assessment: a little rosier than the masses see it.
    fn self_assess(
        &self,
        conn: &mut DbConn,
        rng: &mut StdRng,
        link: &Link,
    ) -> Result<(), DemoError> {
        let step = self.survey.step(StepKind::SelfAssessment);
        let target = expected_index(self.quality(&link.unit)) + rng.random_range(4.0..12.0);
        let mut fields = Vec::new();
        for (i, item) in step.items().enumerate() {
            let value = target + rng.random_range(-9.0..9.0) + rng.random_range(-9.0..9.0);
            let option = nearest(self.survey.scale_of(item), value);
            fields.push((answers::field_name(&item.id), option));
            if rng.random_bool(0.6) {
                let evidence = EVIDENCE[i % EVIDENCE.len()].to_owned();
                fields.push((answers::evidence_field(&item.id), evidence));
            }
        }
        let sheet = check_sheet(self.survey, StepKind::SelfAssessment, &fields)?;
        let invitation = Self::invitation(conn, link)?;
        let unit = invitation.unit.clone();
        assess::save(
            conn,
            &invitation,
            &unit,
            StepKind::SelfAssessment,
            &sheet,
            true,
        )?;
        Ok(())
    }

    /// One committee member scores every target unit through their invitation. Returns
    /// how many sheets were saved.
    fn committee_scores(
        &self,
        conn: &mut DbConn,
        rng: &mut StdRng,
        link: &Link,
    ) -> Result<usize, DemoError> {
        let step = self.survey.step(StepKind::Org);
        let invitation = Self::invitation(conn, link)?;
        let harshness = rng.random_range(-6.0..6.0);
        for unit in self.targets {
            let seen = expected_index(self.quality(unit)) + harshness;
            let fields: Vec<(String, String)> = step
                .items()
                .map(|item| {
                    let value = seen + rng.random_range(-10.0..10.0);
                    let option = nearest(self.survey.scale_of(item), value);
                    (answers::field_name(&item.id), option)
                })
                .collect();
            let sheet = check_sheet(self.survey, StepKind::Org, &fields)?;
            assess::save(conn, &invitation, unit, StepKind::Org, &sheet, false)?;
            self.bar.inc(1);
        }
        Ok(self.targets.len())
    }
}

fn check_sheet(
    survey: &Survey,
    kind: StepKind,
    fields: &[(String, String)],
) -> Result<Sheet, DemoError> {
    let evidence = kind == StepKind::SelfAssessment;
    answers::check_sheet(survey, survey.step(kind), fields, evidence, true)
        .map_err(|(e, _)| DemoError::Refused(format!("a generated {} sheet: {e:?}", kind.as_str())))
}

/// Short evidence a secretary writes for items s1 … s18.
const EVIDENCE: [&str; 18] = [
    "本学期组织理论学习研讨会3次，班子成员讲专题党课2次",
    "制定服务型党组织建设实施方案，专题研究部署2次",
    "班子成员每人结对联系3名师生，定期走访教研室和宿舍",
    "组织党务工作者培训1次，启用党建信息化平台",
    "党代表工作室每月接待1次，收集意见建议12条",
    "严格发展党员程序，教师党员带头开展课程思政",
    "党务公开栏按月更新，意见反馈渠道畅通",
    "设立党员关爱帮扶基金，开展年度评优表彰",
    "服务成效纳入支部考核，结果用于评先评优",
    "党员活动室约60平方米，设施齐全，预约使用",
    "设立党员先锋岗4个，服务流程上墙公示",
    "支部公众号每周更新，线上办理组织关系转接",
    "支部建在教研室和年级，实现党员教育管理全覆盖",
    "开展主题党日和志愿服务活动6次",
    "结合学科特色举办读书会和文化沙龙",
    "党建工作与人才培养、科学研究深度融合",
    "打造“一支部一品牌”特色项目1项",
    "开展满意度调查，师生反映的问题及时整改",
];

/// Free-text comments respondents leave.
mod comments {
    use rand::RngExt as _;
    use rand::rngs::StdRng;
    use rand::seq::IndexedRandom as _;

    const SUGGESTIONS: [&str; 12] = [
        "希望党组织多组织与师生面对面的交流活动",
        "党员活动室开放时间可以再灵活一些",
        "支部公众号更新不够及时，通知经常滞后",
        "希望多开展志愿服务和社会实践活动",
        "建议党务公开更及时，评优结果公示更详细",
        "理论学习形式可以更加多样，少一些照本宣科",
        "办事流程希望进一步简化，少跑腿",
        "建议组织生活会多一些批评与自我批评",
        "反映的问题回应较慢，希望有跟踪反馈",
        "希望班子成员多到基层走一走、听一听",
        "活动通知太临时，希望提前安排",
        "支部活动和业务工作结合得还不够紧密",
    ];
    const PRAISE: [&str; 6] = [
        "支部工作扎实，对我们帮助很大",
        "党员先锋岗服务热情，点赞",
        "今年的主题党日活动很有收获",
        "感谢支部的关心，整体满意",
        "工作比去年有明显进步，希望继续保持",
        "党员老师们很负责，值得学习",
    ];
    const STUDENT: [&str; 4] = [
        "希望加强对学生党员和入党积极分子的日常联系",
        "建议多组织和专业学习结合的党日活动",
        "宿舍社区的党员服务站可以多开放",
        "研究生党员的科研压力大，活动可以更灵活",
    ];
    const FACULTY: [&str; 3] = [
        "希望党代表多听取青年教师的意见",
        "会议和材料报送较多，希望减轻负担",
        "实验室和办公条件的问题希望尽快解决",
    ];
    const RETIRED: [&str; 3] = [
        "希望多关心离退休老同志的生活和健康",
        "组织生活可以考虑行动不便的老同志",
        "希望多通报学校的发展情况",
    ];

    /// A comment fitting the respondent: praise from the content, suggestions otherwise.
    pub(super) fn pick(rng: &mut StdRng, category: &str, mood: f64) -> &'static str {
        if mood > 0.3 && rng.random_bool(0.6) {
            return PRAISE.choose(rng).copied().unwrap_or_default();
        }
        let own: &[&str] = match category {
            "student" => &STUDENT,
            "retired" => &RETIRED,
            _ => &FACULTY,
        };
        if rng.random_bool(0.4) {
            own.choose(rng).copied().unwrap_or_default()
        } else {
            SUGGESTIONS.choose(rng).copied().unwrap_or_default()
        }
    }
}

/// Chinese names: a common surname and one or two given-name characters whose style fits
/// the generation (retirees, staff, students).
mod names {
    use rand::RngExt as _;
    use rand::rngs::StdRng;
    use rand::seq::IndexedRandom as _;

    /// Roughly in order of frequency.
    const SURNAMES: [&str; 100] = [
        "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡",
        "郭", "何", "林", "高", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "邓", "冯", "曹",
        "彭", "曾", "肖", "田", "董", "潘", "袁", "蔡", "蒋", "余", "于", "杜", "叶", "程", "魏",
        "苏", "吕", "丁", "任", "卢", "姚", "沈", "钟", "姜", "崔", "谭", "陆", "范", "汪", "廖",
        "石", "金", "韦", "贾", "夏", "付", "方", "邹", "熊", "白", "孟", "秦", "邱", "侯", "江",
        "尹", "薛", "闫", "段", "雷", "龙", "黎", "史", "陶", "贺", "毛", "郝", "顾", "龚", "邵",
        "万", "覃", "武", "钱", "戴", "严", "欧阳", "莫", "孔", "向",
    ];
    const OLDER: [&str; 40] = [
        "建", "国", "华", "秀", "英", "兰", "志", "明", "桂", "芳", "德", "福", "春", "梅", "玉",
        "珍", "淑", "文", "荣", "伟", "军", "红", "霞", "平", "庆", "忠", "海", "宝", "凤", "琴",
        "永", "学", "成", "光", "民", "爱", "金", "贵", "正", "兴",
    ];
    const MIDDLE: [&str; 40] = [
        "伟", "静", "丽", "强", "磊", "洋", "艳", "勇", "杰", "娟", "涛", "敏", "超", "燕", "鹏",
        "辉", "颖", "斌", "琳", "波", "宁", "晶", "峰", "蕾", "健", "慧", "彬", "雪", "晓", "东",
        "婷", "亮", "云", "飞", "莉", "刚", "宏", "倩", "博", "冰",
    ];
    const YOUNGER: [&str; 40] = [
        "子", "涵", "梓", "萱", "浩", "然", "宇", "轩", "欣", "怡", "思", "雨", "佳", "琪", "一",
        "诺", "博", "文", "俊", "睿", "泽", "梦", "瑶", "嘉", "晨", "阳", "诗", "语", "若", "汐",
        "铭", "昊", "天", "可", "馨", "逸", "航", "心", "悦", "辰",
    ];

    /// A name for a person of this category.
    pub(super) fn person(rng: &mut StdRng, category: &str) -> String {
        // Skewed towards the frequent surnames.
        let u: f64 = rng.random();
        let surname = SURNAMES[((u * u) * SURNAMES.len() as f64) as usize % SURNAMES.len()];
        let pool: &[&str] = match category {
            "retired" => &OLDER,
            "student" => &YOUNGER,
            _ if rng.random_bool(0.3) => &OLDER,
            _ => &MIDDLE,
        };
        let mut name = surname.to_owned();
        let length = if rng.random_bool(0.75) { 2 } else { 1 };
        for _ in 0..length {
            name.push_str(pool.choose(rng).copied().unwrap_or("明"));
        }
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_university_is_plausible_and_fixed_by_its_seed() {
        let a = University::generate(&mut StdRng::seed_from_u64(7));
        let b = University::generate(&mut StdRng::seed_from_u64(7));
        assert_eq!(a.people_csv(), b.people_csv());
        assert_eq!(a.units_csv(), b.units_csv());
        let targets = a
            .units
            .iter()
            .filter(|u| u.kind != UnitKind::Committee)
            .count();
        assert_eq!(targets, 60);
        assert!(
            (3000..=5000).contains(&a.people.len()),
            "{} people",
            a.people.len()
        );
        assert_eq!(a.unit(SMALL_UNIT).map(|u| u.size), Some(4));
        let without = a.units.iter().filter(|u| !u.secretary).count();
        assert!((2..=3).contains(&without), "the committee and 1–2 units");
        for u in a.units.iter().filter(|u| u.kind == UnitKind::GeneralBranch) {
            let kids = a
                .units
                .iter()
                .filter(|c| c.parent.as_deref() == Some(u.code.as_str()))
                .count();
            assert!((3..=5).contains(&kids), "{}: {kids} branches", u.code);
        }
        assert!(
            a.people
                .iter()
                .all(|p| p.email.is_ascii() && p.name.chars().count() >= 2)
        );
    }

    #[test]
    fn better_units_are_expected_to_score_higher() {
        assert!(expected_index(1.0) > expected_index(0.0));
        assert!(expected_index(0.0) > expected_index(-1.0));
        assert!(dissatisfaction(-1.6) > 0.1 && dissatisfaction(1.0) < 0.05);
    }
}
