//! Load benchmarks of sanping: numbers to compare with the targets, never assertions.
//!
//! ```sh
//! cargo bench --bench load -- [--db sqlite|postgres] [--n N] [--c C] [--only NAME[,NAME…]]
//!                              [--people N] [--responses N] [--mails N] [--respondents N]
//!                              [--members N] [--sheets N] [--universities N]
//!                              [--per-university N]
//! ```
//!
//! Parts (all by default, each on a fresh database — a SQLite file in a temporary folder, or
//! a fresh schema in the PostgreSQL at `SANPING_BENCH_PG`, default
//! `postgres://postgres@127.0.0.1:5432/test`):
//!
//! - `submissions`: `--n` one-time links (default 20,000) of a liuhao wave, the release
//!   `sanping serve` as a separate process, `--c` client threads (default 64, keep-alive)
//!   `POST`ing a complete valid form for every token; submissions/s, latency percentiles,
//!   errors, the server's peak RSS, and a count of what was stored.
//! - `respondent-cpu`: the whole respondent with one client: `GET` the questionnaire, `POST`
//!   a valid sheet, for `--respondents` tokens (default 5,000); the server's CPU time per
//!   respondent, and apart per `GET` and per `POST` (see `respondent.rs`).
//! - `open-100k`: importing a roster of `--people` (default 100,000) and opening a wave for
//!   it, with links (`wave::open`) and by email (`wave::open_by_email`).
//! - `unseal-1m` / `report-1m` / `verify-1m`: `--responses` (default 1,000,000) sealed
//!   answer sheets and as many used invitations inserted raw into an open wave; `wave::close`
//!   and `sealing::unseal`, then on the unsealed wave `report::build` and what `sanping wave
//!   verify` does (`report::build` + `report::verify::audit`); see `unseal.rs`.
//! - `smtp`: `--mails` (default 5,000) queued invitations delivered by
//!   `mail::worker::deliver_due` to an in-process SMTP server, no rate limit.
//! - `people-open` / `people-unseal`: a 民主评议 wave (`surveys/minzhu-pingyi.toml`) over
//!   `--members` (default 5,000) party members in branches of 10–15; `wave::open` (links to a
//!   file), then everyone rates the others of their branch, `wave::close`, `sealing::unseal`,
//!   `report::people::build`; see `people.rs`.
//! - `people-submit`: `--sheets` (default 2,000) rating sheets of 30 people each (branches of
//!   31) submitted at `--c` concurrency (16 for this part unless given) through
//!   `respond::lookup` + `rating::submit`; throughput and latency percentiles.
//! - `people-http`: the same sheets over HTTP, posted to the release `sanping serve`.
//! - `province` (only with `--only`): a province of `--universities` (default 100)
//!   universities × `--per-university` (default 20,000) people with every university's past
//!   wave closed and counted; one university's dashboard (`report::build` and the console
//!   pages over HTTP) and opening its next wave; see `province.rs`.
//!
//! Everything listens on 127.0.0.1 only. `cargo test --benches` runs this binary without
//! `--bench`: it then does nothing. See BENCHMARKS.md for measured figures.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection as _;
use diesel::{Connection as _, PgConnection};
use sanping::app::AppState;
use sanping::config::Config;
use sanping::domain::survey::{StepKind, Survey};
use sanping::domain::token;

mod people;
mod province;
mod respondent;
mod unseal;

const PARTS: [&str; 12] = [
    "submissions",
    "respondent-cpu",
    "open-100k",
    "unseal-1m",
    "report-1m",
    "verify-1m",
    "smtp",
    "people-open",
    "people-submit",
    "people-http",
    "people-unseal",
    "province",
];
/// Parts run only when named in `--only` (they take many minutes to set up).
const ON_REQUEST: [&str; 1] = ["province"];
const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/test";
const SURVEY: &str = "liuhao.toml";
/// The generated unit tree: this many colleges (党总支), each with this many branches.
const COLLEGES: usize = 20;
const BRANCHES_PER_COLLEGE: usize = 10;

// ---------------------------------------------------------------------------------------
// Arguments

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

#[derive(Debug, Clone)]
struct Args {
    backend: Backend,
    n: usize,
    c: usize,
    only: Vec<String>,
    people: usize,
    responses: usize,
    mails: usize,
    respondents: usize,
    members: usize,
    sheets: usize,
    universities: usize,
    per_university: usize,
    /// Whether `--c` was given (`people-submit` runs at 16 otherwise).
    c_given: bool,
}

impl Args {
    fn wants(&self, part: &str) -> bool {
        if self.only.is_empty() {
            !ON_REQUEST.contains(&part)
        } else {
            self.only.iter().any(|p| p == part)
        }
    }
}

fn parse_args(raw: &[String]) -> Result<Args, String> {
    let mut args = Args {
        backend: Backend::Sqlite,
        n: 20_000,
        c: 64,
        only: Vec::new(),
        people: 100_000,
        responses: 1_000_000,
        mails: 5_000,
        respondents: 5_000,
        members: 5_000,
        sheets: 2_000,
        universities: 100,
        per_university: 20_000,
        c_given: false,
    };
    let mut it = raw.iter();
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        let count = |v: String| -> Result<usize, String> {
            v.replace('_', "")
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{flag}: \"{v}\" is not a positive number"))
        };
        match flag.as_str() {
            // cargo bench appends `--bench`; a bare filter word may come too.
            "--bench" => {}
            "--db" => {
                args.backend = match value()?.as_str() {
                    "sqlite" => Backend::Sqlite,
                    "postgres" | "postgresql" | "pg" => Backend::Postgres,
                    other => {
                        return Err(format!("--db: \"{other}\" is neither sqlite nor postgres"));
                    }
                }
            }
            "--n" => args.n = count(value()?)?,
            "--c" => {
                args.c = count(value()?)?;
                args.c_given = true;
            }
            "--people" => args.people = count(value()?)?,
            "--responses" => args.responses = count(value()?)?,
            "--mails" => args.mails = count(value()?)?,
            "--respondents" => args.respondents = count(value()?)?,
            "--members" => args.members = count(value()?)?,
            "--sheets" => args.sheets = count(value()?)?,
            "--universities" => args.universities = count(value()?)?,
            "--per-university" => args.per_university = count(value()?)?,
            "--only" => {
                for part in value()?.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    if !PARTS.contains(&part) {
                        return Err(format!(
                            "--only: unknown part \"{part}\" (one of {})",
                            PARTS.join(", ")
                        ));
                    }
                    args.only.push(part.to_owned());
                }
            }
            other => {
                return Err(format!(
                    "unknown argument \"{other}\"; usage: cargo bench --bench load -- \
                     [--db sqlite|postgres] [--n N] [--c C] [--only {}] \
                     [--people N] [--responses N] [--mails N] [--respondents N] \
                     [--members N] [--sheets N] [--universities N] [--per-university N]",
                    PARTS.join("|")
                ));
            }
        }
    }
    Ok(args)
}

// ---------------------------------------------------------------------------------------
// Figures

/// One measured figure, with the target it is compared against (if any).
struct Figure {
    part: &'static str,
    what: String,
    value: String,
    target: String,
    met: Option<bool>,
}

#[derive(Default)]
struct Figures(Vec<Figure>);

impl Figures {
    fn add(&mut self, part: &'static str, what: &str, value: String) {
        self.0.push(Figure {
            part,
            what: what.to_owned(),
            value,
            target: String::new(),
            met: None,
        });
    }

    fn check(&mut self, part: &'static str, what: &str, value: String, target: &str, met: bool) {
        println!(
            "  → {what}: {value} (target {target}: {})",
            if met { "met" } else { "MISSED" }
        );
        self.0.push(Figure {
            part,
            what: what.to_owned(),
            value,
            target: target.to_owned(),
            met: Some(met),
        });
    }

    fn print(&self, backend: Backend) {
        println!("\n== summary ({})", backend.name());
        println!("| part | figure | value | target | |");
        println!("|---|---|---|---|---|");
        for f in &self.0 {
            let verdict = match f.met {
                Some(true) => "met",
                Some(false) => "missed",
                None => "",
            };
            println!(
                "| {} | {} | {} | {} | {verdict} |",
                f.part, f.what, f.value, f.target
            );
        }
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn per_sec(count: usize, d: Duration) -> f64 {
    count as f64 / d.as_secs_f64().max(1e-9)
}

/// Runs `f` and returns its value and how long it took.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let value = f();
    (value, start.elapsed())
}

// ---------------------------------------------------------------------------------------
// /proc readings (Linux)

/// `VmHWM` (peak resident set) and `VmRSS` of a process, in KiB.
fn memory_kib(pid: &str) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// User + system CPU seconds a process has used (assuming the usual 100 clock ticks a second).
fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name in parentheses: state is field 3, utime 14, stime 15.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = after
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    let ticks = fields.get(11).copied().unwrap_or(0) + fields.get(12).copied().unwrap_or(0);
    ticks as f64 / 100.0
}

/// (busy, total) jiffies of the whole machine, from `/proc/stat`.
fn machine_jiffies() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let line = stat.lines().next().unwrap_or_default();
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    (total - idle, total)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

// ---------------------------------------------------------------------------------------
// A fresh database

struct BenchDb {
    url: String,
    dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

impl BenchDb {
    fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        match backend {
            Backend::Sqlite => Self {
                url: dir.path().join("bench.db").display().to_string(),
                dir,
                pg: None,
            },
            Backend::Postgres => {
                let base = std::env::var("SANPING_BENCH_PG").unwrap_or_else(|_| DEFAULT_PG.into());
                // A schema named in SANPING_BENCH_SCHEMA is kept (and reused by `province`).
                let kept = std::env::var("SANPING_BENCH_SCHEMA").ok();
                let schema = kept
                    .clone()
                    .unwrap_or_else(|| format!("bench_{}", token::random_id()));
                let mut conn = PgConnection::establish(&base)
                    .unwrap_or_else(|e| panic!("cannot connect to PostgreSQL at {base}: {e}"));
                conn.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
                    .expect("create the bench schema");
                let sep = if base.contains('?') { '&' } else { '?' };
                let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
                Self {
                    url,
                    dir,
                    pg: kept.is_none().then_some((base, schema)),
                }
            }
        }
    }

    fn config(&self) -> Config {
        let mut config = Config::for_database(&self.url);
        config.mail_dir = self.dir.path().join("mail");
        // PostgreSQL needs a cookie secret (SQLite makes a key file next to the database).
        config.secret = Some(format!("Bench-secret-{}", token::random_id()));
        config
    }

    /// On-disk size of the SQLite file and its WAL, in MiB (`None` on PostgreSQL).
    fn sqlite_mib(&self) -> Option<f64> {
        if self.url.starts_with("postgres") {
            return None;
        }
        let size = |suffix: &str| {
            std::fs::metadata(format!("{}{suffix}", self.url)).map_or(0, |m| m.len())
        };
        Some((size("") + size("-wal")) as f64 / 1024.0 / 1024.0)
    }
}

impl Drop for BenchDb {
    fn drop(&mut self) {
        if let Some((base, schema)) = &self.pg
            && let Ok(mut conn) = PgConnection::establish(base)
        {
            let _ = conn.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Generated units, roster and answers

fn manifest_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn survey_src() -> String {
    std::fs::read_to_string(manifest_path("surveys").join(SURVEY)).expect("the survey file")
}

/// `units.csv` of a university: a committee, `COLLEGES` general branches, each with
/// `BRANCHES_PER_COLLEGE` branches. Returns the CSV and the branch codes.
fn units_csv() -> (String, Vec<String>) {
    let mut csv = String::from("code,name,kind,parent\nU,基准大学党委,committee,\n");
    let mut branches = Vec::new();
    for c in 1..=COLLEGES {
        let _ = writeln!(csv, "C{c:02},第{c}学院党总支,general_branch,U");
        for b in 1..=BRANCHES_PER_COLLEGE {
            let code = format!("C{c:02}-B{b:02}");
            let _ = writeln!(csv, "{code},第{c}学院第{b}党支部,branch,C{c:02}");
            branches.push(code);
        }
    }
    (csv, branches)
}

/// `people.csv` with `n` people spread over the branches. With `roles`, the first person
/// of each branch is its secretary and five people are committee members (as in a real
/// roster); without, everyone is a plain member and gets exactly one mass invitation.
fn people_csv(n: usize, branches: &[String], roles: bool) -> String {
    let mut csv = String::with_capacity(n * 64);
    csv.push_str("email,name,unit,category,role\n");
    for i in 0..n {
        let unit = &branches[i % branches.len()];
        let category = if i % 3 == 0 { "faculty" } else { "student" };
        let role = if roles && i < branches.len() {
            "secretary"
        } else if roles && i % 20_000 == 1_007 {
            "committee"
        } else {
            "member"
        };
        let _ = writeln!(csv, "p{i:07}@bench.edu.cn,测试{i},{unit},{category},{role}");
    }
    csv
}

/// Imports the unit tree and the roster; prints and returns the times.
fn import(state: &AppState, people: &str) -> (Duration, Duration) {
    let mut conn = state.pool.get().expect("a connection");
    let (units, _) = units_csv();
    let ((), t_units) = timed(|| {
        sanping::import::units(&mut conn, units.as_bytes()).expect("import the units");
    });
    let (report, t_people) =
        timed(|| sanping::import::people(&mut conn, people.as_bytes()).expect("import the roster"));
    println!(
        "  import: {} units in {:.2} s, {} people in {:.2} s",
        COLLEGES * (BRANCHES_PER_COLLEGE + 1) + 1,
        secs(t_units),
        report.added.len(),
        secs(t_people)
    );
    (t_units, t_people)
}

/// The key holder of the benchmark's waves, and its password.
const HOLDER: (&str, &str) = ("bench-keeper", "bench-keeper-password");

fn create_wave(state: &AppState, title: &str) -> i32 {
    create_wave_of(state, title, SURVEY, survey_src())
}

/// Creates a wave of the survey file `name` (source `src`), sealed to [`HOLDER`] alone.
fn create_wave_of(state: &AppState, title: &str, name: &str, src: String) -> i32 {
    let mut conn = state.pool.get().expect("a connection");
    if sanping::db::accounts::find_user(&mut conn, HOLDER.0)
        .expect("find the holder")
        .is_none()
    {
        sanping::auth::add_user(
            &mut conn,
            HOLDER.0,
            sanping::auth::Role::Committee,
            HOLDER.1,
        )
        .expect("add the key holder");
    }
    drop(conn);
    let spec = sanping::wave::NewWaveSpec {
        survey_name: name.into(),
        survey_src: src,
        title: title.into(),
        scope: None,
        closes_at: None,
        is_test: false,
        holders: vec![HOLDER.0.to_owned()],
        threshold: 1,
    };
    sanping::wave::create(&mut state.pool.get().expect("a connection"), &spec)
        .expect("create the wave")
}

/// The mass step's item ids and, per item, its option ids in the survey's order.
fn mass_items() -> Vec<(String, Vec<String>)> {
    let survey = Survey::parse(SURVEY, &survey_src()).expect("a valid survey");
    survey
        .step(StepKind::Mass)
        .items()
        .map(|i| {
            let options = survey
                .scale_of(i)
                .options
                .iter()
                .map(|o| o.id.clone())
                .collect();
            (i.id.clone(), options)
        })
        .collect()
}

/// splitmix64: a small deterministic generator for plausible answers.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// An option index: mostly the first (satisfied), less the next ones; `bias` (0..20)
/// moves answers down for a less liked unit.
fn pick(rng: &mut Rng, count: usize, bias: u64) -> usize {
    let r = rng.below(100);
    let i = if r < 72 - bias {
        0
    } else if r < 90 {
        1
    } else if r < 96 {
        2
    } else {
        3
    };
    i.min(count - 1)
}

/// Form bodies (`application/x-www-form-urlencoded`) with an answer for every item, some
/// with a comment.
fn form_bodies(count: usize) -> Vec<String> {
    let items = mass_items();
    let mut rng = Rng(42);
    (0..count)
        .map(|k| {
            let mut body = items
                .iter()
                .map(|(id, options)| {
                    format!("q.{id}={}", options[pick(&mut rng, options.len(), 5)])
                })
                .collect::<Vec<_>>()
                .join("&");
            if k % 2 == 0 {
                let comment = format!("希望多开展主题活动，加强与群众的联系（{k}）");
                let _ = write!(
                    body,
                    "&comment={}",
                    percent_encoding::utf8_percent_encode(
                        &comment,
                        percent_encoding::NON_ALPHANUMERIC
                    )
                );
            }
            body
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// The server process

/// The release `sanping serve`, killed (by its pid) when dropped.
struct ServerProcess {
    child: Child,
    log: PathBuf,
}

impl ServerProcess {
    fn start(db: &BenchDb, port: u16) -> Self {
        let log = db.dir.path().join("server.log");
        let out = std::fs::File::create(&log).expect("the server log");
        let child = Command::new(env!("CARGO_BIN_EXE_sanping"))
            .arg("serve")
            .current_dir(db.dir.path())
            .env("DATABASE_URL", &db.url)
            .env("SANPING_BIND", format!("127.0.0.1:{port}"))
            .env("SANPING_BASE_URL", format!("http://127.0.0.1:{port}"))
            .env("SANPING_MAIL_DIR", db.dir.path().join("mail"))
            .env("SANPING_SURVEY_DIR", manifest_path("surveys"))
            // Required with PostgreSQL (no key file there); any 32+ characters do here.
            .env(
                "SANPING_SECRET",
                "load-benchmark-secret-not-for-production-use",
            )
            // Every client thread comes from 127.0.0.1: one address, not one person.
            .env("SANPING_PER_ADDRESS_LIMIT", "0")
            .env("RUST_LOG", "warn")
            .env_remove("SMTP_URL")
            // PostgreSQL needs a cookie secret; SQLite makes a key file next to the database.
            .env(
                "SANPING_SECRET",
                "Bench-secret-of-the-server-process-0123456789",
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(out)
            .spawn()
            .expect("start sanping serve");
        let mut server = Self { child, log };
        server.wait_ready(port);
        server
    }

    fn pid(&self) -> String {
        self.child.id().to_string()
    }

    fn wait_ready(&mut self, port: u16) {
        let agent = agent();
        let url = format!("http://127.0.0.1:{port}/healthz");
        let start = Instant::now();
        loop {
            if let Ok(res) = agent.get(&url).call()
                && res.status().as_u16() == 200
            {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "sanping serve exited with {status}:\n{}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "sanping serve did not answer /healthz within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The last lines the server wrote (warnings and errors only: `RUST_LOG=warn`).
    fn log_tail(&self, lines: usize) -> (usize, String) {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        let tail = all[all.len().saturating_sub(lines)..].join("\n");
        (all.len(), tail)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A keep-alive HTTP client that returns 4xx/5xx as responses and follows no redirects.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_mins(1)))
        .build()
        .into()
}

// ---------------------------------------------------------------------------------------
// Part 1: submissions

#[derive(Default)]
struct ClientLog {
    latencies_us: Vec<u32>,
    statuses: BTreeMap<u16, usize>,
    transport_errors: usize,
    first_error: Option<String>,
}

fn client(base: &str, tokens: &[String], bodies: &[String], next: &AtomicUsize) -> ClientLog {
    let agent = agent();
    let mut log = ClientLog::default();
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(token) = tokens.get(i) else {
            return log;
        };
        let body = bodies[i % bodies.len()].as_bytes();
        let start = Instant::now();
        let sent = agent
            .post(format!("{base}/s/{token}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .send(body);
        match sent {
            Ok(mut res) => {
                let status = res.status().as_u16();
                // Read the page to the end so the connection is reused.
                let _ = res.body_mut().read_to_vec();
                log.latencies_us
                    .push(u32::try_from(start.elapsed().as_micros()).unwrap_or(u32::MAX));
                *log.statuses.entry(status).or_default() += 1;
            }
            Err(e) => {
                log.latencies_us
                    .push(u32::try_from(start.elapsed().as_micros()).unwrap_or(u32::MAX));
                log.transport_errors += 1;
                log.first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }
}

fn percentile_ms(sorted_us: &[u32], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted_us.len() as f64).ceil() as usize;
    f64::from(sorted_us[rank.clamp(1, sorted_us.len()) - 1]) / 1000.0
}

/// Opens `wave` with links and returns the raw tokens of its mass invitations.
fn open_for_tokens(state: &AppState, wave: i32, base: &str) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    let (opened, t_open) = timed(|| {
        sanping::wave::open(
            &mut state.pool.get().expect("a connection"),
            wave,
            base,
            |links| {
                tokens = links
                    .iter()
                    .filter(|l| l.step == StepKind::Mass)
                    .filter_map(|l| l.url.rsplit_once("/s/").map(|(_, t)| t.to_owned()))
                    .collect();
                Ok(())
            },
        )
        .expect("open the wave")
    });
    println!(
        "  wave {wave} opened: {opened} invitations in {:.2} s",
        secs(t_open)
    );
    tokens
}

/// `c` client threads submit a form for every token; their logs merged, latencies sorted.
fn run_clients(
    base: &str,
    tokens: &[String],
    bodies: &[String],
    c: usize,
) -> (ClientLog, Duration) {
    let next = AtomicUsize::new(0);
    let (logs, elapsed) = timed(|| {
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..c)
                .map(|_| s.spawn(|| client(base, tokens, bodies, &next)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a client thread"))
                .collect::<Vec<_>>()
        })
    });
    let mut all = ClientLog::default();
    for log in logs {
        all.latencies_us.extend(log.latencies_us);
        for (status, n) in log.statuses {
            *all.statuses.entry(status).or_default() += n;
        }
        all.transport_errors += log.transport_errors;
        if all.first_error.is_none() {
            all.first_error = log.first_error;
        }
    }
    all.latencies_us.sort_unstable();
    (all, elapsed)
}

fn submissions(args: &Args, figures: &mut Figures) {
    const PART: &str = "submissions";
    println!(
        "\n== {PART} ({}, n = {}, c = {})",
        args.backend.name(),
        args.n,
        args.c
    );
    let db = BenchDb::new(args.backend);
    let state = AppState::open(db.config()).expect("open the database");
    let (_, branches) = units_csv();
    import(&state, &people_csv(args.n, &branches, false));
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let wave = create_wave(&state, "2026年度群众测评（基准）");
    let tokens = open_for_tokens(&state, wave, &base);
    let bodies = form_bodies(16);
    let server = ServerProcess::start(&db, port);
    let pid = server.pid();
    let (_, start_kib) = memory_kib(&pid);
    let cpu_before = (cpu_seconds(&pid), cpu_seconds("self"), machine_jiffies());
    let (all, elapsed) = run_clients(&base, &tokens, &bodies, args.c);
    let server_cpu = cpu_seconds(&pid) - cpu_before.0;
    let client_cpu = cpu_seconds("self") - cpu_before.1;
    let (busy1, total1) = machine_jiffies();
    let machine_busy = (busy1 - cpu_before.2.0) as f64 / (total1 - cpu_before.2.1).max(1) as f64;
    let (hwm_kib, rss_kib) = memory_kib(&pid);
    let (log_lines, log_tail) = server.log_tail(5);
    drop(server);
    let ok = all.statuses.get(&200).copied().unwrap_or(0);
    let errors = all.latencies_us.len() - ok;
    let rate = per_sec(ok, elapsed);
    let (p50, p95, p99) = (
        percentile_ms(&all.latencies_us, 50.0),
        percentile_ms(&all.latencies_us, 95.0),
        percentile_ms(&all.latencies_us, 99.0),
    );
    let max = percentile_ms(&all.latencies_us, 100.0);
    println!(
        "  {} requests in {:.2} s: {ok} stored (200), {errors} errors {:?}{}",
        all.latencies_us.len(),
        secs(elapsed),
        all.statuses
            .iter()
            .filter(|(s, _)| **s != 200)
            .collect::<Vec<_>>(),
        if all.transport_errors > 0 {
            format!(
                ", {} transport errors (first: {})",
                all.transport_errors,
                all.first_error.as_deref().unwrap_or("")
            )
        } else {
            String::new()
        }
    );
    println!("  latency p50 {p50:.1} ms, p95 {p95:.1} ms, p99 {p99:.1} ms, max {max:.1} ms");
    println!(
        "  CPU during the run: server {server_cpu:.1} s, clients (this process) {client_cpu:.1} s, \
         machine busy {:.0}% of {} cores over {:.1} s",
        machine_busy * 100.0,
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
        secs(elapsed)
    );
    println!(
        "  server memory: peak RSS (VmHWM) {:.1} MiB, RSS {:.1} MiB at the end, {:.1} MiB after start",
        mib(hwm_kib),
        mib(rss_kib),
        mib(start_kib)
    );
    if log_lines > 0 {
        println!("  server log: {log_lines} line(s) at warn or above; last:\n{log_tail}");
    }
    let progress = sanping::wave::progress(&mut state.pool.get().expect("a connection"), wave)
        .expect("the wave's progress");
    let used: i64 = progress.iter().map(|p| p.used).sum();
    let stored: i64 = progress.iter().map(|p| p.responses).sum();
    let all_stored = usize::try_from(stored).ok() == Some(ok) && stored == used;
    println!(
        "  stored: {stored} responses, {used} invitations used, {ok} receipts returned, \
         {} tokens: {}",
        tokens.len(),
        if all_stored && ok == tokens.len() {
            "every submission was stored"
        } else {
            "MISMATCH"
        }
    );
    if let Some(size) = db.sqlite_mib() {
        println!("  SQLite file + WAL: {size:.1} MiB");
    }
    let (target_rate, target_name) = match args.backend {
        Backend::Sqlite => (2000.0, "≥ 2,000/s (SQLite, C=64)"),
        Backend::Postgres => (1000.0, "≥ 1,000/s (PostgreSQL)"),
    };
    figures.check(
        PART,
        &format!("submissions/s (n={}, c={})", args.n, args.c),
        format!("{rate:.0}/s"),
        target_name,
        rate >= target_rate,
    );
    let latency = format!("{p99:.1} ms (p50 {p50:.1}, p95 {p95:.1})");
    // The issue sets the p99 target for SQLite; PostgreSQL's figure is shown for comparison.
    match args.backend {
        Backend::Sqlite => figures.check(PART, "latency p99", latency, "≤ 100 ms", p99 <= 100.0),
        Backend::Postgres => figures.add(PART, "latency p99", latency),
    }
    figures.check(PART, "errors", errors.to_string(), "0", errors == 0);
    figures.check(
        PART,
        "server peak RSS",
        format!("{:.1} MiB", mib(hwm_kib)),
        "< 150 MB",
        (hwm_kib as f64) * 1024.0 < 150e6,
    );
    figures.check(
        PART,
        "all stored (rows counted)",
        format!("{stored} of {}", tokens.len()),
        "every one",
        all_stored && ok == tokens.len(),
    );
    figures.add(
        PART,
        "server / client CPU s",
        format!("{server_cpu:.1} / {client_cpu:.1}"),
    );
}

// ---------------------------------------------------------------------------------------
// Part 2: opening a wave for 100,000 people

fn open_100k(args: &Args, figures: &mut Figures) {
    const PART: &str = "open-100k";
    println!(
        "\n== {PART} ({}, {} people)",
        args.backend.name(),
        args.people
    );
    let db = BenchDb::new(args.backend);
    let state = AppState::open(db.config()).expect("open the database");
    let (_, branches) = units_csv();
    let (_, t_people) = import(&state, &people_csv(args.people, &branches, true));
    figures.add(
        PART,
        &format!("people import ({})", args.people),
        format!("{:.2} s", secs(t_people)),
    );

    let wave = create_wave(&state, "链接测评（基准）");
    let links_file = db.dir.path().join("links.csv");
    let (opened, t_links) = timed(|| {
        sanping::wave::open(
            &mut state.pool.get().expect("a connection"),
            wave,
            &state.config.base_url,
            |links| {
                // As `wave open --links FILE` does: every link into a file.
                let mut csv = String::with_capacity(links.len() * 120);
                csv.push_str("email,name,unit,step,url\n");
                for l in links {
                    let _ = writeln!(
                        csv,
                        "{},{},{},{},{}",
                        l.email,
                        l.name,
                        l.unit,
                        l.step.as_str(),
                        l.url
                    );
                }
                std::fs::write(&links_file, csv).map_err(|e| e.to_string())
            },
        )
        .expect("open the wave with links")
    });
    println!(
        "  wave::open (links to a file): {opened} invitations in {:.2} s ({:.0}/s)",
        secs(t_links),
        per_sec(opened, t_links)
    );
    figures.check(
        PART,
        &format!("wave::open, links ({opened} invitations)"),
        format!("{:.2} s", secs(t_links)),
        "≤ 10 s",
        secs(t_links) <= 10.0,
    );

    let wave = create_wave(&state, "邮件测评（基准）");
    let (queued, t_email) = timed(|| {
        sanping::wave::open_by_email(&mut state.pool.get().expect("a connection"), wave)
            .expect("open the wave by email")
    });
    println!(
        "  wave::open_by_email: {queued} invitations + {queued} queued mails in {:.2} s ({:.0}/s)",
        secs(t_email),
        per_sec(queued, t_email)
    );
    figures.check(
        PART,
        &format!("wave::open_by_email ({queued} invitations + mails)"),
        format!("{:.2} s", secs(t_email)),
        "≤ 10 s",
        secs(t_email) <= 10.0,
    );
}

// ---------------------------------------------------------------------------------------
// Part 4: SMTP delivery

/// An SMTP handler that only counts what it accepts.
#[derive(Clone)]
struct Counter(Arc<AtomicUsize>);

impl mailin_embedded::Handler for Counter {
    fn data(&mut self, _buf: &[u8]) -> std::io::Result<()> {
        Ok(())
    }

    fn data_end(&mut self) -> mailin_embedded::Response {
        self.0.fetch_add(1, Ordering::Relaxed);
        mailin_embedded::response::OK
    }
}

fn start_smtp() -> (u16, Arc<AtomicUsize>) {
    let received = Arc::new(AtomicUsize::new(0));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind an SMTP port");
    let port = listener.local_addr().expect("its address").port();
    let mut server = mailin_embedded::Server::new(Counter(received.clone()));
    server
        .with_name("smtp.bench")
        .with_num_threads(4)
        .with_tcp_listener(listener);
    std::thread::spawn(move || {
        let _ = server.serve();
    });
    (port, received)
}

fn smtp(args: &Args, figures: &mut Figures) {
    const PART: &str = "smtp";
    const SAMPLE: usize = 500;
    println!(
        "\n== {PART} ({}, {} mails)",
        args.backend.name(),
        args.mails
    );
    let (port, received) = start_smtp();
    let db = BenchDb::new(args.backend);
    let mut config = db.config();
    config.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
    config.mail_rate = None;
    let state = AppState::open(config).expect("open the database");
    let (_, branches) = units_csv();
    import(&state, &people_csv(args.mails, &branches, false));
    let wave = create_wave(&state, "邮件投递（基准）");
    let (queued, t_queue) = timed(|| {
        sanping::wave::open_by_email(&mut state.pool.get().expect("a connection"), wave)
            .expect("open the wave by email")
    });
    println!("  {queued} mails queued in {:.2} s", secs(t_queue));
    let mailer = sanping::mail::Mailer::from_config(&state.config).expect("the mailer");
    let policy = sanping::mail::worker::Policy::from_state(&state);
    let (stats, elapsed) = timed(|| {
        sanping::mail::worker::deliver_due(&state, &mailer, &policy, &mut |_| {})
            .expect("deliver the mails")
    });
    let rate = per_sec(stats.sent, elapsed);
    println!(
        "  deliver_due: {} sent, {} retried, {} failed, {} skipped in {:.2} s; the server \
         received {}",
        stats.sent,
        stats.retried,
        stats.failed,
        stats.skipped,
        secs(elapsed),
        received.load(Ordering::Relaxed)
    );

    // Where the time goes: composing alone, and sending an already composed mail alone.
    let ctx = sanping::mail::MailContext {
        name: "测试".into(),
        unit_name: "第1学院第1党支部".into(),
        wave_title: "邮件投递（基准）".into(),
        closes: "由组织部另行通知".into(),
        link: format!("{}/s/{}", state.config.base_url, token::mint()),
        fingerprint: "0".repeat(64),
    };
    let to = || -> lettre::message::Mailbox {
        "测试 <p0000000@bench.edu.cn>".parse().expect("an address")
    };
    let (message, t_compose) = timed(|| {
        let mut last = None;
        for _ in 0..SAMPLE {
            last = Some(
                sanping::mail::compose(&state.templates, "invitation", mailer.from(), to(), &ctx)
                    .expect("compose"),
            );
        }
        last.expect("a message")
    });
    let ((), t_send) = timed(|| {
        for _ in 0..SAMPLE {
            mailer.send(&message).expect("send");
        }
    });
    let per_mail_ms = secs(elapsed) * 1000.0 / stats.sent.max(1) as f64;
    let compose_ms = secs(t_compose) * 1000.0 / SAMPLE as f64;
    let send_ms = secs(t_send) * 1000.0 / SAMPLE as f64;
    println!(
        "  per mail: {per_mail_ms:.2} ms in deliver_due = compose {compose_ms:.2} ms + SMTP send \
         {send_ms:.2} ms + outbox/database {:.2} ms (sampled over {SAMPLE} mails)",
        (per_mail_ms - compose_ms - send_ms).max(0.0)
    );
    figures.add(
        PART,
        "per mail: compose / send / database",
        format!(
            "{compose_ms:.2} / {send_ms:.2} / {:.2} ms",
            (per_mail_ms - compose_ms - send_ms).max(0.0)
        ),
    );
    // The same message over a plain socket, written the way lettre writes it (the body,
    // then "\r\n.\r\n" in a second write): with Nagle on, and with TCP_NODELAY.
    let formatted = message.formatted();
    let nagle_ms = raw_smtp_ms(port, &formatted, false, SAMPLE / 5);
    let nodelay_ms = raw_smtp_ms(port, &formatted, true, SAMPLE / 5);
    println!(
        "  raw SMTP client, same message, same server: {nagle_ms:.2} ms a mail with Nagle on \
         (as lettre 0.11.23), {nodelay_ms:.2} ms with TCP_NODELAY"
    );
    figures.add(
        PART,
        "raw send: Nagle on / TCP_NODELAY",
        format!("{nagle_ms:.2} / {nodelay_ms:.2} ms"),
    );
    figures.check(
        PART,
        &format!("deliver_due ({} mails)", stats.sent),
        format!("{rate:.0} mails/s"),
        "≥ 300/s",
        rate >= 300.0,
    );
}

/// Milliseconds per mail for `count` mails sent down one connection by a minimal SMTP
/// client that writes like lettre does, with or without `TCP_NODELAY`.
fn raw_smtp_ms(port: u16, message: &[u8], nodelay: bool, count: usize) -> f64 {
    use std::io::{BufRead as _, BufReader, Write as _};
    let stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect to SMTP");
    stream.set_nodelay(nodelay).expect("set TCP_NODELAY");
    let mut reader = BufReader::new(stream.try_clone().expect("clone the socket"));
    let mut writer = stream;
    // Reads one (possibly multi-line) reply and returns its code.
    let mut reply = move || -> String {
        let mut line = String::new();
        loop {
            line.clear();
            reader.read_line(&mut line).expect("an SMTP reply");
            if line.as_bytes().get(3) != Some(&b'-') {
                return line.chars().take(3).collect();
            }
        }
    };
    let say = |w: &mut std::net::TcpStream, text: &[u8]| {
        w.write_all(text).expect("write to SMTP");
        w.flush().expect("flush");
    };
    assert_eq!(reply(), "220");
    say(&mut writer, b"EHLO bench.local\r\n");
    assert_eq!(reply(), "250");
    let mut body = Vec::with_capacity(message.len() + 64);
    for line in message.split_inclusive(|&b| b == b'\n') {
        if line.first() == Some(&b'.') {
            body.push(b'.');
        }
        body.extend_from_slice(line);
    }
    let start = Instant::now();
    for _ in 0..count {
        say(&mut writer, b"MAIL FROM:<sanping@localhost>\r\n");
        assert_eq!(reply(), "250");
        say(&mut writer, b"RCPT TO:<p0000000@bench.edu.cn>\r\n");
        assert_eq!(reply(), "250");
        say(&mut writer, b"DATA\r\n");
        assert_eq!(reply(), "354");
        say(&mut writer, &body);
        say(&mut writer, b"\r\n.\r\n");
        assert_eq!(reply(), "250");
    }
    let ms = secs(start.elapsed()) * 1000.0 / count as f64;
    say(&mut writer, b"QUIT\r\n");
    ms
}

// ---------------------------------------------------------------------------------------

fn main() {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    if !raw.iter().any(|a| a == "--bench") {
        println!("load: run it with `cargo bench --bench load`; nothing to do as a test");
        return;
    }
    let args = match parse_args(&raw) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    println!(
        "sanping load benchmark: {} on {} core(s){}",
        args.backend.name(),
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
        if args.only.is_empty() {
            String::new()
        } else {
            format!(", only {}", args.only.join(", "))
        }
    );
    let mut figures = Figures::default();
    let start = Instant::now();
    if args.wants("submissions") {
        submissions(&args, &mut figures);
    }
    if args.wants("respondent-cpu") {
        respondent::respondent_cpu(&args, &mut figures);
    }
    if args.wants("open-100k") {
        open_100k(&args, &mut figures);
    }
    if args.wants("unseal-1m") || args.wants("report-1m") || args.wants("verify-1m") {
        unseal::report_1m(&args, &mut figures);
    }
    if args.wants("smtp") {
        smtp(&args, &mut figures);
    }
    if args.wants("people-open") || args.wants("people-unseal") {
        people::open_and_unseal(&args, &mut figures);
    }
    if args.wants("people-submit") {
        people::submit(&args, &mut figures);
    }
    if args.wants("people-http") {
        people::submit_http(&args, &mut figures);
    }
    if args.wants("province") {
        province::province(&args, &mut figures);
    }
    figures.print(args.backend);
    println!("\n(total {:.0} s)", secs(start.elapsed()));
}
