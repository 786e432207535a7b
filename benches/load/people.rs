//! Parts `people-open`, `people-submit` and `people-unseal`: a 民主评议 wave
//! (`surveys/minzhu-pingyi.toml`, every member of a branch rates every other one).
//!
//! - `people-open`: `--members` (default 5,000) party members in branches of 10 – 15 (400
//!   branches for 5,000: ≈ 58,700 ratings), imported; `wave::open` of a people wave over all
//!   of it with links written to a file (as `wave open --links` does), then, on a second
//!   wave, `wave::open_by_email`.
//! - `people-unseal`: on the first wave, everyone submits their sheet (setup, on every core),
//!   then `wave::close`, `sealing::unseal` by the wave's one key holder, and
//!   `report::people::build`, each timed.
//! - `people-submit`: `--sheets` (default 2,000) 30-person rating sheets (branches of 31)
//!   sent by `--c` threads (16 unless `--c` is given) through the library, as the POST
//!   handler does it: a pooled connection, `respond::lookup` of the token, the wave's cached
//!   survey (`AppState::survey`), `rating::submit` (check, seal, burn the link and store in
//!   one transaction). The pool and its connections are warmed first by four sheets per
//!   thread, not counted, as a running server's would be.
//! - `people-http`: the same over HTTP: the rater's form posted to `/s/{token}` of the
//!   release `sanping serve` by `--c` keep-alive clients.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sanping::app::AppState;
use sanping::domain::people::sheet;
use sanping::domain::survey::{StepKind, Survey};
use sanping::rating::{self, Sent};
use sanping::respond::{Lookup, Submitted};

use crate::{
    Args, Backend, BenchDb, Figures, HOLDER, Rng, cpu_seconds, create_wave_of, manifest_path,
    memory_kib, mib, per_sec, percentile_ms, secs, timed,
};

const SURVEY: &str = "minzhu-pingyi.toml";
const BRANCHES_PER_COLLEGE: usize = 10;

fn survey_src() -> String {
    let path = manifest_path("surveys").join(SURVEY);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("the people survey {}: {e}", path.display()))
}

fn survey() -> Survey {
    Survey::parse(SURVEY, &survey_src()).expect("a valid people survey")
}

/// `units.csv` with a committee and `branches` branches, ten to a general branch.
fn units_csv(branches: usize) -> (String, Vec<String>) {
    let mut csv = String::from("code,name,kind,parent\nU,基准大学党委,committee,\n");
    let mut codes = Vec::with_capacity(branches);
    for b in 0..branches {
        let c = b / BRANCHES_PER_COLLEGE + 1;
        if b % BRANCHES_PER_COLLEGE == 0 {
            let _ = writeln!(csv, "C{c:03},第{c}学院党总支,general_branch,U");
        }
        let code = format!("C{c:03}-B{:02}", b % BRANCHES_PER_COLLEGE + 1);
        let _ = writeln!(
            csv,
            "{code},第{c}学院第{}党支部,branch,C{c:03}",
            b % BRANCHES_PER_COLLEGE + 1
        );
        codes.push(code);
    }
    (csv, codes)
}

/// Branch sizes between 10 and 15 (12.5 on average) adding up to `members`.
fn sizes_for(members: usize) -> Vec<usize> {
    let n = (members * 2).div_ceil(25).max(1);
    let mut sizes: Vec<usize> = (0..n).map(|i| 10 + i % 6).collect();
    let mut sum: usize = sizes.iter().sum();
    let mut k = 0;
    while sum != members && k < 12 * n {
        let s = &mut sizes[k % n];
        if sum < members && *s < 15 {
            *s += 1;
            sum += 1;
        } else if sum > members && *s > 10 {
            *s -= 1;
            sum -= 1;
        }
        k += 1;
    }
    sizes
}

/// A roster of party members only (no 群众, so nobody rates from outside): `sizes[i]`
/// members in branch `i`, the first its secretary. Returns the CSV and the members' addresses
/// by branch code.
fn roster_csv(branches: &[String], sizes: &[usize]) -> (String, HashMap<String, Vec<String>>) {
    let mut csv = String::from("email,name,unit,category,role\n");
    let mut by_unit = HashMap::new();
    let mut i = 0usize;
    for (code, &size) in branches.iter().zip(sizes) {
        let mut members = Vec::with_capacity(size);
        for k in 0..size {
            let email = format!("m{i:06}@bench.edu.cn");
            let category = if i.is_multiple_of(3) {
                "faculty"
            } else {
                "student"
            };
            let role = if k == 0 {
                "member;party;secretary"
            } else {
                "member;party"
            };
            let _ = writeln!(csv, "{email},党员{i},{code},{category},{role}");
            members.push(email);
            i += 1;
        }
        by_unit.insert(code.clone(), members);
    }
    (csv, by_unit)
}

/// Imports the units and the roster of `sizes`; returns the members by branch.
fn load(state: &AppState, sizes: &[usize]) -> HashMap<String, Vec<String>> {
    let (units, branches) = units_csv(sizes.len());
    let (roster, by_unit) = roster_csv(&branches, sizes);
    let mut conn = state.pool.get().expect("a connection");
    sanping::import::units(&mut conn, units.as_bytes()).expect("import the units");
    let (report, t) =
        timed(|| sanping::import::people(&mut conn, roster.as_bytes()).expect("import the roster"));
    println!(
        "  import: {} branches, {} members in {:.2} s",
        branches.len(),
        report.added.len(),
        secs(t)
    );
    by_unit
}

/// One rater's sheet to send: their raw token and the form's fields.
struct Job {
    token: String,
    fields: Vec<(String, String)>,
}

/// The fields of `rater`'s sheet: an option of every item for every other member of the
/// branch; a third of the people mostly 优秀, one in ten drawing some 基本合格/不合格, half
/// of those with a reason.
fn fields_for(
    survey: &Survey,
    rng: &mut Rng,
    rater: &str,
    members: &[String],
) -> Vec<(String, String)> {
    let spec = survey.people.as_ref().expect("a people survey");
    let mut fields = Vec::new();
    for (j, person) in members.iter().enumerate().filter(|(_, p)| *p != rater) {
        let mut low = false;
        for item in &spec.items {
            let options = &survey.scales[&item.scale].options;
            let r = rng.below(100);
            let index = match j % 10 {
                0..=2 => usize::from(r >= 75),
                9 if r >= 80 => 2 + usize::from(r >= 95),
                _ => usize::from(r >= 15),
            }
            .min(options.len() - 1);
            low |= options[index].reason;
            fields.push((
                sheet::field_name(person, &item.id),
                options[index].id.clone(),
            ));
        }
        if low && rng.below(2) == 0 {
            fields.push((
                sheet::reason_field(person),
                format!("学习不够主动，参加组织生活较少（{j}）"),
            ));
        }
    }
    fields
}

/// Opens `wave` with every link written to a file; returns the count, the time and a sheet
/// to send for every rating link.
fn open_with_links(
    state: &AppState,
    db: &BenchDb,
    wave: i32,
    by_unit: &HashMap<String, Vec<String>>,
) -> (usize, Duration, Vec<Job>) {
    let file = db.dir.path().join(format!("links-{wave}.csv"));
    let mut raters: Vec<(String, String, String)> = Vec::new();
    let (opened, t_open) = timed(|| {
        sanping::wave::open(
            &mut state.pool.get().expect("a connection"),
            wave,
            &state.config.base_url,
            |links| {
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
                raters = links
                    .iter()
                    .filter(|l| l.step == StepKind::Mass)
                    .filter_map(|l| {
                        let (_, token) = l.url.rsplit_once("/s/")?;
                        Some((token.to_owned(), l.email.clone(), l.unit.clone()))
                    })
                    .collect();
                std::fs::write(&file, csv).map_err(|e| e.to_string())
            },
        )
        .expect("open the people wave")
    });
    let survey = survey();
    let mut rng = Rng(2026);
    let jobs = raters
        .into_iter()
        .map(|(token, email, unit)| Job {
            fields: fields_for(&survey, &mut rng, &email, &by_unit[&unit]),
            token,
        })
        .collect();
    (opened, t_open, jobs)
}

/// What `c` threads sending every job saw: latencies (µs, sorted) of the whole call and of
/// the lookup alone, outcomes by name.
#[derive(Default)]
struct SendLog {
    total_us: Vec<u32>,
    lookup_us: Vec<u32>,
    outcomes: BTreeMap<&'static str, usize>,
    first_error: Option<String>,
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

/// One sheet, as the POST handler sends it: a pooled connection, the lookup, the cached
/// survey and frame, `rating::submit`. Returns the outcome and the time up to the end of the lookup.
fn send_one(
    state: &AppState,
    job: &Job,
    start: Instant,
) -> (Result<&'static str, String>, Duration) {
    let mut conn = match state.pool.get() {
        Ok(c) => c,
        Err(e) => return (Err(e.to_string()), start.elapsed()),
    };
    let looked = sanping::respond::lookup(&mut conn, &job.token);
    let t_lookup = start.elapsed();
    let (wave, invitation) = match looked {
        Ok(Lookup::Ready(w, i)) => (w, i),
        Ok(_) => return (Ok("refused by lookup"), t_lookup),
        Err(e) => return (Err(e.to_string()), t_lookup),
    };
    let survey = match state.survey(&mut conn, wave.id) {
        Ok(s) => s,
        Err(e) => return (Err(e.to_string()), t_lookup),
    };
    let targets = match state.frame(&mut conn, &wave, &invitation.unit) {
        Ok(in_unit) => rating::targets_among(&in_unit, &invitation),
        Err(e) => return (Err(e.to_string()), t_lookup),
    };
    let outcome = match rating::submit(
        &mut conn,
        &wave,
        &invitation,
        &survey,
        &targets,
        &job.fields,
    ) {
        Ok(Sent::Done(Submitted::Stored(_))) => Ok("stored"),
        Ok(Sent::Done(Submitted::Refused(_))) => Ok("refused"),
        Ok(Sent::Invalid(..)) => Ok("invalid"),
        Err(e) => Err(e.to_string()),
    };
    (outcome, t_lookup)
}

/// `c` threads send every job, as fast as they can.
fn send_all(state: &AppState, jobs: &[Job], c: usize) -> (SendLog, Duration) {
    let next = AtomicUsize::new(0);
    let (logs, elapsed) = timed(|| {
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..c)
                .map(|_| {
                    s.spawn(|| {
                        let mut log = SendLog::default();
                        while let Some(job) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
                            let start = Instant::now();
                            let (outcome, t_lookup) = send_one(state, job, start);
                            log.total_us.push(micros(start.elapsed()));
                            log.lookup_us.push(micros(t_lookup));
                            match outcome {
                                Ok(name) => *log.outcomes.entry(name).or_default() += 1,
                                Err(e) => {
                                    *log.outcomes.entry("error").or_default() += 1;
                                    log.first_error.get_or_insert(e);
                                }
                            }
                        }
                        log
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a sending thread"))
                .collect::<Vec<_>>()
        })
    });
    let mut all = SendLog::default();
    for log in logs {
        all.total_us.extend(log.total_us);
        all.lookup_us.extend(log.lookup_us);
        for (k, n) in log.outcomes {
            *all.outcomes.entry(k).or_default() += n;
        }
        if all.first_error.is_none() {
            all.first_error = log.first_error;
        }
    }
    all.total_us.sort_unstable();
    all.lookup_us.sort_unstable();
    (all, elapsed)
}

fn stored_of(sent: &SendLog) -> usize {
    sent.outcomes.get("stored").copied().unwrap_or(0)
}

fn print_outcomes(sent: &SendLog) {
    println!(
        "  outcomes: {:?}{}",
        sent.outcomes,
        sent.first_error
            .as_ref()
            .map_or(String::new(), |e| format!(" (first error: {e})"))
    );
}

/// The configuration of the bench's state, with the server's default pool (SQLite 4,
/// PostgreSQL 16).
fn state_of(db: &BenchDb, backend: Backend) -> AppState {
    let mut config = db.config();
    config.db_pool = pool_size(backend);
    AppState::open(config).expect("open the database")
}

/// The server's default pool size.
fn pool_size(backend: Backend) -> u32 {
    match backend {
        Backend::Sqlite => 4,
        Backend::Postgres => 16,
    }
}

/// Sheets sent before the measured ones to warm the pool: four per sending thread.
fn warm_up(c: usize) -> usize {
    4 * c
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

// ---------------------------------------------------------------------------------------

/// Parts `people-open` and `people-unseal`.
pub fn open_and_unseal(args: &Args, figures: &mut Figures) {
    println!(
        "\n== people-open / people-unseal ({}, {} members)",
        args.backend.name(),
        args.members
    );
    let db = BenchDb::new(args.backend);
    let state = state_of(&db, args.backend);
    let sizes = sizes_for(args.members);
    let ratings: usize = sizes.iter().map(|s| s * (s - 1)).sum();
    let by_unit = load(&state, &sizes);
    let wave = create_wave_of(&state, "民主评议党员（基准）", SURVEY, survey_src());
    let (opened, t_open, jobs) = open_with_links(&state, &db, wave, &by_unit);
    let rated = sanping::db::rated::of_wave(&mut state.pool.get().expect("a connection"), wave)
        .expect("the frame")
        .len();
    println!(
        "  wave::open (links to a file): {opened} invitations ({} rating links, {} own links), \
         {rated} people rated, {ratings} ratings to come, in {:.2} s",
        jobs.len(),
        opened - jobs.len(),
        secs(t_open)
    );
    if args.wants("people-open") {
        figures.check(
            "people-open",
            &format!(
                "wave::open, links ({} members, {} branches, {ratings} ratings, {opened} invitations)",
                args.members,
                sizes.len()
            ),
            format!("{:.2} s", secs(t_open)),
            "≤ 10 s",
            secs(t_open) <= 10.0,
        );
        let second = create_wave_of(&state, "民主评议党员（基准，邮件）", SURVEY, survey_src());
        let (queued, t_email) = timed(|| {
            sanping::wave::open_by_email(&mut state.pool.get().expect("a connection"), second)
                .expect("open the people wave by email")
        });
        println!(
            "  wave::open_by_email: {queued} invitations + as many queued mails in {:.2} s",
            secs(t_email)
        );
        figures.check(
            "people-open",
            &format!("wave::open_by_email ({queued} invitations + mails)"),
            format!("{:.2} s", secs(t_email)),
            "≤ 10 s",
            secs(t_email) <= 10.0,
        );
    }
    if !args.wants("people-unseal") {
        return;
    }
    let cpu = cpu_seconds("self");
    let (sent, t_send) = send_all(&state, &jobs, cores());
    println!(
        "  setup: {} sheets sent on {} threads in {:.1} s ({:.0}/s, {:.1} CPU s)",
        jobs.len(),
        cores(),
        secs(t_send),
        per_sec(jobs.len(), t_send),
        cpu_seconds("self") - cpu
    );
    print_outcomes(&sent);
    if let Some(size) = db.sqlite_mib() {
        println!("  SQLite file + WAL: {size:.1} MiB");
    }
    let mut conn = state.pool.get().expect("a connection");
    let ((), t_close) = timed(|| sanping::wave::close(&mut conn, wave).expect("close the wave"));
    let holder = sanping::sealing::HolderPassword {
        username: HOLDER.0.to_owned(),
        password: HOLDER.1.to_owned().into(),
    };
    let cpu = cpu_seconds("self");
    let (unsealed, t_unseal) = timed(|| {
        sanping::sealing::unseal(&mut conn, wave, &[holder], "bench").expect("unseal the wave")
    });
    let unseal_cpu = cpu_seconds("self") - cpu;
    println!(
        "  wave::close {:.2} s; sealing::unseal {:.2} s ({unseal_cpu:.1} CPU s): {} sheets \
         counted, {} rejected, scrubbed: {}",
        secs(t_close),
        secs(t_unseal),
        unsealed.sheets,
        unsealed.rejected,
        unsealed.scrubbed
    );
    let (report, t_report) =
        timed(|| sanping::report::people::build(&mut conn, wave).expect("build the people report"));
    let counted: u64 = report.people.iter().map(|p| p.raters).sum();
    let shown = report.people.iter().filter(|p| !p.suppressed).count();
    println!(
        "  report::people::build {:.2} s: {} people ({shown} shown), {counted} ratings counted \
         of {ratings}",
        secs(t_report),
        report.people.len()
    );
    let (json, t_json) = timed(|| {
        sanping::report::people_export::json(&report)
            .expect("the JSON report")
            .len()
    });
    println!("  people_export::json {:.2} s ({json} bytes)", secs(t_json));
    let (hwm, _) = memory_kib("self");
    println!("  this process's peak RSS so far: {:.0} MiB", mib(hwm));
    let all = stored_of(&sent) == jobs.len()
        && unsealed.sheets == jobs.len()
        && unsealed.rejected == 0
        && usize::try_from(counted).ok() == Some(ratings);
    figures.add(
        "people-unseal",
        "setup: every sheet sent (library, all cores)",
        format!("{} sheets in {:.1} s", jobs.len(), secs(t_send)),
    );
    figures.check(
        "people-unseal",
        &format!(
            "close + unseal + report ({} sheets, {ratings} ratings)",
            jobs.len()
        ),
        format!(
            "{:.2} s (close {:.2}, unseal {:.2} [{unseal_cpu:.1} CPU s], report {:.2}){}",
            secs(t_close + t_unseal + t_report),
            secs(t_close),
            secs(t_unseal),
            secs(t_report),
            if all {
                ""
            } else {
                "; NOT every rating counted"
            }
        ),
        "≤ 30 s",
        secs(t_close + t_unseal + t_report) <= 30.0 && all,
    );
}

/// Members of a branch in `people-submit` and `people-http`: each rates 30 others.
const BRANCH: usize = 31;

/// The setup of `people-submit` and `people-http`: a database with branches of 31, an open
/// 民主评议 wave, and the warm-up sheets plus `--sheets` measured ones.
fn submit_setup(args: &Args, c: usize) -> (BenchDb, AppState, i32, Vec<Job>) {
    let db = BenchDb::new(args.backend);
    let state = state_of(&db, args.backend);
    let sizes = vec![BRANCH; (args.sheets + warm_up(c)).div_ceil(BRANCH)];
    let by_unit = load(&state, &sizes);
    let wave = create_wave_of(&state, "民主评议党员（基准，提交）", SURVEY, survey_src());
    let (opened, t_open, mut jobs) = open_with_links(&state, &db, wave, &by_unit);
    println!(
        "  wave::open: {opened} invitations in {:.2} s",
        secs(t_open)
    );
    jobs.truncate(args.sheets + warm_up(c));
    (db, state, wave, jobs)
}

/// Part `people-submit`.
pub fn submit(args: &Args, figures: &mut Figures) {
    const PART: &str = "people-submit";
    let c = if args.c_given { args.c } else { 16 };
    println!(
        "\n== {PART} ({}, {} sheets of {} people, c = {c}, library)",
        args.backend.name(),
        args.sheets,
        BRANCH - 1
    );
    let (_db, state, wave, jobs) = submit_setup(args, c);
    // Warm the survey cache, the pool's connections and their prepared statements as a
    // running server would have: `c` connections held at once (the pool grows to them),
    // then a few sheets on each, sent and not counted.
    drop(state.survey(&mut state.pool.get().expect("a connection"), wave));
    let held: Vec<_> = (0..c.min(pool_size(args.backend) as usize))
        .map(|_| state.pool.get().expect("a connection"))
        .collect();
    drop(held);
    let (warm, jobs) = jobs.split_at(warm_up(c));
    let (warmed, _) = send_all(&state, warm, c);
    assert_eq!(
        stored_of(&warmed),
        warm.len(),
        "the warm-up sheets are stored"
    );
    let cpu = cpu_seconds("self");
    let (sent, elapsed) = send_all(&state, jobs, c);
    let cpu = cpu_seconds("self") - cpu;
    let stored = stored_of(&sent);
    let rate = per_sec(stored, elapsed);
    let p = |v: &[u32], q: f64| percentile_ms(v, q);
    let (p50, p95, p99, max) = (
        p(&sent.total_us, 50.0),
        p(&sent.total_us, 95.0),
        p(&sent.total_us, 99.0),
        p(&sent.total_us, 100.0),
    );
    println!(
        "  {} sheets in {:.2} s: {rate:.0} stored/s; latency p50 {p50:.1} ms, p95 {p95:.1} ms, \
         p99 {p99:.1} ms, max {max:.1} ms",
        jobs.len(),
        secs(elapsed)
    );
    println!(
        "  of which pool + lookup: p50 {:.1} ms, p99 {:.1} ms; CPU {cpu:.1} s = {:.2} ms a sheet",
        p(&sent.lookup_us, 50.0),
        p(&sent.lookup_us, 99.0),
        cpu * 1000.0 / jobs.len().max(1) as f64
    );
    print_outcomes(&sent);
    let progress = sanping::wave::progress(&mut state.pool.get().expect("a connection"), wave)
        .expect("the wave's progress");
    let used: i64 = progress.iter().map(|p| p.used).sum();
    println!("  invitations used: {used}");
    figures.add(
        PART,
        &format!("stored/s ({} sheets of 30, c={c}, library)", jobs.len()),
        format!("{rate:.0}/s"),
    );
    figures.check(
        PART,
        "latency p99 (library: lookup + rating::submit)",
        format!("{p99:.1} ms (p50 {p50:.1}, p95 {p95:.1}, max {max:.1})"),
        "≤ 50 ms",
        p99 <= 50.0,
    );
    figures.check(
        PART,
        "all stored",
        format!(
            "{stored} of {}, {used} links used ({} by the warm-up)",
            jobs.len(),
            warm.len()
        ),
        "every one",
        stored == jobs.len() && usize::try_from(used).ok() == Some(stored + warm.len()),
    );
}

/// Part `people-http`: `people-submit` over HTTP, against the release `sanping serve` as a
/// separate process with its default pool, `--c` keep-alive clients (16 unless given)
/// posting each rater's form to `/s/{token}` and reading the page to the end.
pub fn submit_http(args: &Args, figures: &mut Figures) {
    const PART: &str = "people-http";
    let c = if args.c_given { args.c } else { 16 };
    println!(
        "\n== {PART} ({}, {} sheets of {} people, c = {c}, HTTP)",
        args.backend.name(),
        args.sheets,
        BRANCH - 1
    );
    let (db, state, wave, jobs) = submit_setup(args, c);
    let tokens: Vec<String> = jobs.iter().map(|j| j.token.clone()).collect();
    let bodies: Vec<String> = jobs.iter().map(|j| form_body(&j.fields)).collect();
    let port = crate::free_port();
    let server = crate::ServerProcess::start(&db, port);
    let base = format!("http://127.0.0.1:{port}");
    // Warm the server's pool and caches: four sheets per client, not counted.
    let warm = warm_up(c);
    let (warmed, _) = crate::run_clients(&base, &tokens[..warm], &bodies[..warm], c);
    assert_eq!(
        warmed.statuses.get(&200).copied().unwrap_or(0),
        warm,
        "the warm-up sheets are stored: {:?} {:?}",
        warmed.statuses,
        warmed.first_error
    );
    let pid = server.pid();
    let cpu = cpu_seconds(&pid);
    let (log, elapsed) = crate::run_clients(&base, &tokens[warm..], &bodies[warm..], c);
    let cpu = cpu_seconds(&pid) - cpu;
    let sent = tokens.len() - warm;
    let ok = log.statuses.get(&200).copied().unwrap_or(0);
    let p = |q: f64| percentile_ms(&log.latencies_us, q);
    let (p50, p95, p99, max) = (p(50.0), p(95.0), p(99.0), p(100.0));
    println!(
        "  {sent} sheets in {:.2} s: {:.0}/s; latency p50 {p50:.1} ms, p95 {p95:.1} ms, \
         p99 {p99:.1} ms, max {max:.1} ms; statuses {:?}, transport errors {}",
        secs(elapsed),
        per_sec(ok, elapsed),
        log.statuses,
        log.transport_errors
    );
    println!(
        "  server CPU {cpu:.1} s = {:.2} ms a sheet",
        cpu * 1000.0 / sent.max(1) as f64
    );
    let progress = sanping::wave::progress(&mut state.pool.get().expect("a connection"), wave)
        .expect("the wave's progress");
    let used: i64 = progress.iter().map(|p| p.used).sum();
    figures.add(
        PART,
        &format!("sheets/s ({sent} sheets of 30, c={c}, HTTP)"),
        format!("{:.0}/s", per_sec(ok, elapsed)),
    );
    figures.check(
        PART,
        "latency p99 (HTTP POST of a 30-person sheet)",
        format!("{p99:.1} ms (p50 {p50:.1}, p95 {p95:.1}, max {max:.1})"),
        "≤ 50 ms",
        p99 <= 50.0,
    );
    figures.check(
        PART,
        "all stored",
        format!("{ok} pages of 200 of {sent}, {used} links used ({warm} by the warm-up)"),
        "every one",
        ok == sent && usize::try_from(used).ok() == Some(tokens.len()),
    );
}

/// A rater's fields as the browser posts them.
fn form_body(fields: &[(String, String)]) -> String {
    let enc = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}
