//! Part `province` (issue 17, point 5): one database holding a province — a provincial
//! committee over `--universities` (default 100) universities of about 60 units each (a
//! committee, 12 党总支, 48 branches) and `--per-university` (default 20,000) people each —
//! and every university's past wave closed with its answers counted, so that the tables a
//! university's dashboard and wave opening read hold the whole province's rows. Then timed,
//! for one university in the middle: its dashboard (`report::build`, and the real console
//! pages over HTTP from a separate `sanping serve`) and opening its next wave
//! (`wave::open_by_email`, as the console does, and `wave::open` with links).
//!
//! Setup (printed with progress, not a target): the unit tree and the roster go through the
//! importers; each past wave is created by `wave::create` with the university as its scope,
//! its frame frozen by `db::frames::freeze`, its invitations (one per `wave::assignments`
//! pair, with a token hash), the sent mails of the outbox and 65 % of the invitations
//! answered (a response row each, 5 % with a comment) are inserted by raw multi-row
//! `INSERT`s in one transaction per wave; then the wave is marked open and closed by
//! `wave::close`, which counts it (`tally::store`) and writes its record — what a wave from
//! before sealing does at its close, and the same rows unsealing leaves. Not seeded:
//! self-assessments, committee sheets and receipts (the dashboard reads the first two by
//! wave, through their primary key).
//!
//! With `SANPING_BENCH_SCHEMA=NAME` (PostgreSQL) the schema is kept, and a later run on it
//! skips the setup and times the same university again (e.g. after a change to `src/`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use sanping::app::AppState;
use sanping::db::DbConn;
use sanping::db::people::Person;
use sanping::db::units::Unit;
use sanping::domain::token;

use crate::unseal::{exec_raw, sql_text};
use crate::{
    Args, Backend, BenchDb, Figures, HOLDER, Rng, ServerProcess, agent, free_port, mass_items,
    per_sec, percentile_ms, pick, secs, survey_src, timed,
};

const PART: &str = "province";
const COLLEGES: usize = 12;
const BRANCHES: usize = 4;
/// Share of invitations answered in a past wave, in percent.
const ANSWERED: u64 = 65;
/// Rows per `INSERT` statement.
const BATCH: usize = 1_000;
/// The console account the pages are read with (an organizer: the wave page needs one).
const VIEWER: (&str, &str) = ("bench-organizer", "bench-organizer-password");
/// The measured university's own organizer (scoped to it).
const SCOPED: (&str, &str) = ("bench-university", "bench-university-password");

fn university(u: usize) -> String {
    format!("U{u:03}")
}

/// The province's `units.csv`: the root `P`, then per university its committee, colleges
/// and branches.
fn units_csv(universities: usize) -> String {
    let mut csv = String::from("code,name,kind,parent\nP,省委教育工委,committee,\n");
    for u in 1..=universities {
        let top = university(u);
        let _ = writeln!(csv, "{top},第{u}大学党委,committee,P");
        for c in 1..=COLLEGES {
            let _ = writeln!(
                csv,
                "{top}-C{c:02},第{u}大学第{c}学院党总支,general_branch,{top}"
            );
            for b in 1..=BRANCHES {
                let _ = writeln!(
                    csv,
                    "{top}-C{c:02}-B{b},第{u}大学第{c}学院第{b}党支部,branch,{top}-C{c:02}"
                );
            }
        }
    }
    csv
}

/// The people of university `u`: spread over its branches, the first of each branch its
/// secretary, five committee members in the university's committee.
fn people_of(u: usize, per: usize) -> Vec<Person> {
    let top = university(u);
    let branches = COLLEGES * BRANCHES;
    (0..per)
        .map(|i| {
            let (unit, roles) = if i < 5 {
                (top.clone(), "committee")
            } else {
                let b = i % branches;
                let unit = format!("{top}-C{:02}-B{}", b / BRANCHES + 1, b % BRANCHES + 1);
                (
                    unit,
                    if i < 5 + branches {
                        "secretary"
                    } else {
                        "member"
                    },
                )
            };
            Person {
                email: format!("p{i:05}@u{u:03}.edu.cn"),
                name: format!("测试{u}-{i}"),
                unit,
                category: if i % 3 == 0 { "faculty" } else { "student" }.to_owned(),
                roles: roles.to_owned(),
            }
        })
        .collect()
}

fn people_csv(universities: usize, per: usize) -> String {
    let mut csv = String::with_capacity(universities * per * 64);
    csv.push_str("email,name,unit,category,role\n");
    for u in 1..=universities {
        for p in people_of(u, per) {
            let _ = writeln!(
                csv,
                "{},{},{},{},{}",
                p.email, p.name, p.unit, p.category, p.roles
            );
        }
    }
    csv
}

fn holder_exists(state: &AppState) {
    let mut conn = state.pool.get().expect("a connection");
    for (name, role, password) in [
        (HOLDER.0, sanping::auth::Role::Committee, HOLDER.1),
        (VIEWER.0, sanping::auth::Role::Organizer, VIEWER.1),
    ] {
        if sanping::db::accounts::find_user(&mut conn, name)
            .expect("find the account")
            .is_none()
        {
            sanping::auth::add_user(&mut conn, name, role, password).expect("add the account");
        }
    }
}

/// The organizer of university `scope` (an account scoped to it), made once.
fn university_organizer(state: &AppState, scope: &str) {
    let mut conn = state.pool.get().expect("a connection");
    let user = sanping::db::accounts::find_user(&mut conn, SCOPED.0).expect("find the account");
    if user.is_none_or(|u| u.scope.as_deref() != Some(scope)) {
        sanping::auth::add_scoped_user_as(
            &mut conn,
            "bench",
            None,
            SCOPED.0,
            sanping::auth::Role::Organizer,
            Some(scope),
            SCOPED.1,
        )
        .expect("add the university's organizer");
    }
}

/// A draft liuhao wave scoped to university `u`.
fn create_scoped(state: &AppState, title: &str, u: usize) -> i32 {
    let spec = sanping::wave::NewWaveSpec {
        survey_name: crate::SURVEY.into(),
        survey_src: survey_src(),
        title: title.into(),
        scope: Some(university(u)),
        closes_at: None,
        is_test: false,
        holders: vec![HOLDER.0.to_owned()],
        threshold: 1,
    };
    sanping::wave::create(&mut state.pool.get().expect("a connection"), &spec)
        .expect("create the wave")
}

/// Runs the multi-row statement `head` + `rows` in batches of [`BATCH`].
fn insert_rows(conn: &mut DbConn, head: &str, rows: &[String]) -> diesel::QueryResult<()> {
    for chunk in rows.chunks(BATCH) {
        let mut sql = String::with_capacity(head.len() + chunk.len() * 160);
        sql.push_str(head);
        sql.push_str(&chunk.join(","));
        exec_raw(conn, &sql)?;
    }
    Ok(())
}

/// A closed past wave of university `u`, answered and counted (see the module doc).
/// Returns the wave and its invitations.
fn past_wave(
    state: &AppState,
    all_units: &[Unit],
    items: &[(String, Vec<String>)],
    u: usize,
    per: usize,
    title: &str,
) -> (i32, usize) {
    const AT: &str = "'2026-01-10 08:00:00'";
    let id = create_scoped(state, title, u);
    let survey = sanping::domain::survey::Survey::parse(crate::SURVEY, &survey_src())
        .expect("a valid survey");
    let targets = sanping::wave::targets(all_units, Some(university(u).as_str()));
    let people = people_of(u, per);
    let pairs = sanping::wave::assignments(&survey, &people, &targets);
    let mut rng = Rng(u as u64 * 7919 + id as u64);
    let (mut invitations, mut mails, mut responses) = (Vec::new(), Vec::new(), Vec::new());
    for (k, (person, unit)) in pairs.iter().enumerate() {
        let inv = token::random_id();
        let used = rng.below(100) < ANSWERED;
        invitations.push(format!(
            "({},{id},{},{},'mass',{},{used},0)",
            sql_text(&inv),
            sql_text(&person.email),
            sql_text(unit),
            sql_text(&token::hash(&token::mint())),
        ));
        mails.push(format!(
            "({},{id},{},'invitation',{},'sent',1,{AT},NULL,{AT},{AT})",
            sql_text(&token::random_id()),
            sql_text(&inv),
            sql_text(&person.email),
        ));
        if used {
            let bias = (k % 21) as u64;
            let answers: BTreeMap<&str, &str> = items
                .iter()
                .map(|(item, options)| {
                    (
                        item.as_str(),
                        options[pick(&mut rng, options.len(), bias)].as_str(),
                    )
                })
                .collect();
            let comment = if rng.below(100) < 5 {
                sql_text(&format!("第{k}条意见：希望多开展主题党日活动"))
            } else {
                "NULL".to_owned()
            };
            responses.push(format!(
                "({},{id},{},{},{comment},false)",
                sql_text(&token::random_id()),
                sql_text(unit),
                sql_text(&serde_json::to_string(&answers).expect("answers serialize")),
            ));
        }
    }
    let mut conn = state.pool.get().expect("a connection");
    sanping::db::write_tx(&mut conn, |conn| -> diesel::QueryResult<()> {
        sanping::db::frames::freeze(conn, id, &targets)?;
        insert_rows(
            conn,
            "INSERT INTO invitations (id, wave_id, person, unit, step, token_hash, used, reminders) VALUES ",
            &invitations,
        )?;
        insert_rows(
            conn,
            "INSERT INTO outbox (id, wave_id, invitation_id, kind, recipient, state, attempts, \
             next_attempt_at, last_error, created_at, sent_at) VALUES ",
            &mails,
        )?;
        insert_rows(
            conn,
            "INSERT INTO responses (id, wave_id, unit, answers, comment, is_test) VALUES ",
            &responses,
        )?;
        exec_raw(
            conn,
            &format!("UPDATE waves SET state = 'open', opened_at = {AT} WHERE id = {id}"),
        )?;
        Ok(())
    })
    .expect("insert the past wave");
    sanping::wave::close(&mut conn, id).expect("close the past wave");
    (id, invitations.len())
}

/// Logs in at `/admin/login` and returns the session cookie (`name=value`).
fn login(base: &str, user: &str, password: &str) -> String {
    let agent = agent();
    let cookie_of = |res: &ureq::http::Response<ureq::Body>, name: &str| {
        res.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .and_then(|v| v.split(';').next())
            .map(str::to_owned)
    };
    let mut page = agent
        .get(format!("{base}/admin/login"))
        .call()
        .expect("the login page");
    let pre = cookie_of(&page, "sp_login_csrf").expect("the login form's cookie");
    let html = page.body_mut().read_to_string().expect("the login page");
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the login form's token")
        .to_owned();
    let res = agent
        .post(format!("{base}/admin/login"))
        .header("cookie", &pre)
        .send_form([
            ("csrf", csrf.as_str()),
            ("username", user),
            ("password", password),
        ])
        .expect("log in");
    cookie_of(&res, "sp_session").expect("a session cookie")
}

/// GETs `path` `times` times with the session; returns the sorted latencies in µs and the
/// last status and body length.
fn get_pages(base: &str, cookie: &str, path: &str, times: usize) -> (Vec<u32>, u16, usize) {
    let agent = agent();
    let mut lat = Vec::with_capacity(times);
    let (mut status, mut len) = (0, 0);
    for _ in 0..times {
        let start = Instant::now();
        let mut res = agent
            .get(format!("{base}{path}"))
            .header("cookie", cookie)
            .call()
            .expect("a page");
        status = res.status().as_u16();
        len = res.body_mut().read_to_vec().map_or(0, |b| b.len());
        lat.push(u32::try_from(start.elapsed().as_micros()).unwrap_or(u32::MAX));
    }
    lat.sort_unstable();
    (lat, status, len)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Seeds the province (see the module doc); returns (the measured university, its two
/// closed waves: last year's and this year's).
fn seed(args: &Args, state: &AppState) -> (usize, i32, i32) {
    let (n, per) = (args.universities, args.per_university);
    let start = Instant::now();
    holder_exists(state);
    let mut conn = state.pool.get().expect("a connection");
    let ((), t) = timed(|| {
        sanping::import::units(&mut conn, units_csv(n).as_bytes()).expect("import the units");
    });
    let all_units = sanping::db::units::all(&mut conn).expect("the units");
    println!("  units: {} in {:.1} s", all_units.len(), secs(t));
    let csv = people_csv(n, per);
    let (report, t) =
        timed(|| sanping::import::people(&mut conn, csv.as_bytes()).expect("import the roster"));
    drop(csv);
    println!(
        "  people: {} in {:.1} s ({:.0}/s)",
        report.added.len(),
        secs(t),
        per_sec(report.added.len(), t)
    );
    drop(conn);
    let items = mass_items();
    let measured = n.div_ceil(2);
    let mut last_year = 0;
    let mut invited = 0;
    let t0 = Instant::now();
    for u in 1..=n {
        let (id, count) = past_wave(state, &all_units, &items, u, per, "2025年度群众测评");
        invited += count;
        if u == measured {
            last_year = id;
        }
        if u % 10 == 0 || u == n {
            println!(
                "  past waves: {u}/{n} closed, {invited} invitations, {:.0} s",
                secs(t0.elapsed())
            );
        }
    }
    // The measured university's wave of this year, the newest closed wave of the database.
    let (this_year, count) =
        past_wave(state, &all_units, &items, measured, per, "2026年度群众测评");
    invited += count;
    // What autovacuum would do soon after such a load; the timings should not depend on
    // whether it has got round to it.
    if args.backend == Backend::Postgres {
        exec_raw(&mut state.pool.get().expect("a connection"), "ANALYZE").expect("analyze");
    }
    println!(
        "  seeded: {n} universities, {} people, {invited} invitations in {} closed waves, in {:.0} s",
        n * per,
        n + 1,
        secs(start.elapsed())
    );
    (measured, last_year, this_year)
}

/// The measured university and its two closed waves, when the database (a schema kept
/// with `SANPING_BENCH_SCHEMA`) already holds a seeded province. Mails that opening waves in
/// an earlier run queued are marked sent, so the server's worker does not deliver them while
/// pages are timed.
fn seeded(state: &AppState) -> Option<(usize, i32, i32)> {
    let mut conn = state.pool.get().expect("a connection");
    let waves = sanping::db::waves::all(&mut conn).expect("the waves");
    let this_year = waves.iter().find(|w| w.title == "2026年度群众测评")?;
    let scope = this_year.scope.clone()?;
    let last_year = waves
        .iter()
        .find(|w| w.title == "2025年度群众测评" && w.scope.as_deref() == Some(scope.as_str()))?;
    exec_raw(
        &mut conn,
        "UPDATE outbox SET state = 'sent' WHERE state = 'queued'",
    )
    .expect("mark old mails sent");
    // Statistics for indexes a newer build's migrations just made.
    if let DbConn::Postgresql(_) = &mut *conn {
        exec_raw(&mut conn, "ANALYZE").expect("analyze");
    }
    let u = scope.trim_start_matches('U').parse().ok()?;
    Some((u, last_year.id, this_year.id))
}

pub fn province(args: &Args, figures: &mut Figures) {
    println!(
        "\n== {PART} ({}, {} universities × {} people)",
        args.backend.name(),
        args.universities,
        args.per_university
    );
    let db = BenchDb::new(args.backend);
    let state = AppState::open(db.config()).expect("open the database");
    let (u, last_year, this_year) = match seeded(&state) {
        Some(found) => {
            println!("  reusing the province seeded in SANPING_BENCH_SCHEMA");
            found
        }
        None => seed(args, &state),
    };
    let scope = university(u);
    figures.add(
        PART,
        "seeded",
        format!(
            "{} universities × {} people, {} closed waves",
            args.universities,
            args.per_university,
            args.universities + 1
        ),
    );

    dashboard(&db, &state, figures, &scope, (last_year, this_year));
    open_next(&db, &state, figures, u);
}

/// The university's dashboard: `report::build` through the library, then the console's
/// pages over HTTP from a separate server process.
fn dashboard(
    db: &BenchDb,
    state: &AppState,
    figures: &mut Figures,
    scope: &str,
    (last_year, this_year): (i32, i32),
) {
    let mut conn = state.pool.get().expect("a connection");
    let mut builds = Vec::new();
    for _ in 0..5 {
        let (report, t) =
            timed(|| sanping::report::build(&mut conn, this_year, None).expect("the report"));
        assert!(!report.units.is_empty(), "the report has units");
        builds.push(t);
    }
    builds.sort_unstable();
    let (_, t_compare) = timed(|| {
        sanping::report::build(&mut conn, this_year, Some(last_year)).expect("the report")
    });
    drop(conn);
    println!(
        "  report::build of {scope}'s wave {this_year}: median {:.1} ms (min {:.1}, max {:.1}); \
         compared with {last_year}: {:.1} ms",
        ms(builds[2]),
        ms(builds[0]),
        ms(builds[4]),
        ms(t_compare)
    );
    figures.check(
        PART,
        &format!("report::build, one university ({scope}), median of 5"),
        format!("{:.1} ms", ms(builds[2])),
        "≤ 200 ms",
        ms(builds[2]) <= 200.0,
    );

    let port = free_port();
    let server = ServerProcess::start(db, port);
    let base = format!("http://127.0.0.1:{port}");
    // The installation-wide organizer, then the university's own, whose every page checks
    // its scope against the province's tree.
    university_organizer(state, scope);
    for (account, who) in [(VIEWER, "installation-wide"), (SCOPED, "the university's")] {
        let cookie = login(&base, account.0, account.1);
        for (path, what) in [
            (format!("/admin/results/{this_year}"), "dashboard page"),
            ("/admin".to_owned(), "wave list page"),
            (format!("/admin/waves/{this_year}"), "wave page"),
        ] {
            let _ = get_pages(&base, &cookie, &path, 1);
            let (lat, status, len) = get_pages(&base, &cookie, &path, 20);
            let (p50, max) = (percentile_ms(&lat, 50.0), percentile_ms(&lat, 100.0));
            println!(
                "  GET {path} ({what}, {who} organizer): {status}, {} KiB, p50 {p50:.1} ms, p95 {:.1} ms, max {max:.1} ms (20 requests)",
                len / 1024,
                percentile_ms(&lat, 95.0)
            );
            figures.check(
                PART,
                &format!("GET {what} of {scope}, {who} organizer (status {status}), p50 of 20"),
                format!("{p50:.1} ms (max {max:.1})"),
                "≤ 200 ms",
                status == 200 && p50 <= 200.0,
            );
        }
    }
    drop(server);
}

/// Opening the university's next wave: by email (as the console does), then with links.
fn open_next(db: &BenchDb, state: &AppState, figures: &mut Figures, u: usize) {
    let scope = university(u);
    let wave = create_scoped(state, "2027年度群众测评", u);
    let (queued, t_email) = timed(|| {
        sanping::wave::open_by_email(&mut state.pool.get().expect("a connection"), wave)
            .expect("open the wave by email")
    });
    println!(
        "  wave::open_by_email of {scope}: {queued} invitations + mails in {:.2} s",
        secs(t_email)
    );
    figures.check(
        PART,
        &format!("wave::open_by_email, one university ({queued} invitations + mails)"),
        format!("{:.2} s", secs(t_email)),
        "≤ 3 s",
        secs(t_email) <= 3.0,
    );
    let wave = create_scoped(state, "2027年度群众测评（链接）", u);
    let mut conn = state.pool.get().expect("a connection");
    let head = sanping::wave::get(&mut conn, wave).expect("the wave");
    let outside = sanping::wave::planned(&mut conn, &head)
        .expect("the plan")
        .iter()
        .filter(|(p, _, step)| {
            *step == sanping::domain::survey::StepKind::Org && !p.unit.starts_with(&scope)
        })
        .count();
    // What opening read before it read only the wave's part of the roster.
    let (everyone, t_all) = timed(|| {
        sanping::deactivate::active_people(&mut conn)
            .expect("the roster")
            .len()
    });
    drop(conn);
    println!(
        "  {outside} invitations of committee members outside {scope} (the org step invites the \
         committee members of the wave's own 党委: none expected); reading the whole roster \
         ({everyone} people) alone: {:.2} s",
        secs(t_all)
    );
    figures.add(
        PART,
        &format!("org invitations of committee members outside {scope}"),
        outside.to_string(),
    );
    figures.add(
        PART,
        &format!("reading the whole roster ({everyone} people)"),
        format!("{:.2} s", secs(t_all)),
    );
    let links_file = db.dir.path().join("links.csv");
    let (opened, t_links) = timed(|| {
        sanping::wave::open(
            &mut state.pool.get().expect("a connection"),
            wave,
            &state.config.base_url,
            |links| {
                let mut csv = String::with_capacity(links.len() * 120);
                for l in links {
                    let _ = writeln!(csv, "{},{},{}", l.email, l.unit, l.url);
                }
                std::fs::write(&links_file, csv).map_err(|e| e.to_string())
            },
        )
        .expect("open the wave with links")
    });
    println!(
        "  wave::open (links) of {scope}: {opened} invitations in {:.2} s",
        secs(t_links)
    );
    figures.check(
        PART,
        &format!("wave::open, links, one university ({opened} invitations)"),
        format!("{:.2} s", secs(t_links)),
        "≤ 3 s",
        secs(t_links) <= 3.0,
    );
}
