//! Part `respondent-cpu`: the whole respondent, not just the `POST`. One client, for each of
//! `--respondents` tokens, `GET`s the questionnaire and `POST`s a valid sheet; the server's
//! CPU time (user + system, from `/proc/<pid>/stat`) before and after, divided by the
//! respondents, is the figure. Then, on as many more tokens, all the `GET`s and then all the
//! `POST`s, to show how the time splits between the two.

use std::collections::BTreeMap;
use std::time::Instant;

use sanping::app::AppState;

use crate::{
    Args, Backend, BenchDb, Figures, ServerProcess, agent, cpu_seconds, create_wave, form_bodies,
    free_port, import, open_for_tokens, people_csv, secs, units_csv,
};

const PART: &str = "respondent-cpu";

/// What one pass of requests saw.
#[derive(Default)]
struct Pass {
    statuses: BTreeMap<(&'static str, u16), usize>,
    form_bytes: usize,
}

impl Pass {
    fn ok(&self, method: &'static str) -> usize {
        self.statuses.get(&(method, 200)).copied().unwrap_or(0)
    }
}

fn get(agent: &ureq::Agent, base: &str, token: &str, pass: &mut Pass) {
    let (status, len) = match agent.get(format!("{base}/s/{token}")).call() {
        Ok(mut res) => (
            res.status().as_u16(),
            res.body_mut().read_to_vec().map_or(0, |b| b.len()),
        ),
        Err(_) => (0, 0),
    };
    pass.form_bytes = pass.form_bytes.max(len);
    *pass.statuses.entry(("GET", status)).or_default() += 1;
}

fn post(agent: &ureq::Agent, base: &str, token: &str, body: &str, pass: &mut Pass) {
    let status = match agent
        .post(format!("{base}/s/{token}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .send(body.as_bytes())
    {
        Ok(mut res) => {
            let _ = res.body_mut().read_to_vec();
            res.status().as_u16()
        }
        Err(_) => 0,
    };
    *pass.statuses.entry(("POST", status)).or_default() += 1;
}

/// Runs `f` and returns the server's CPU milliseconds and the wall milliseconds it took.
fn measured(pid: &str, f: impl FnOnce()) -> (f64, f64) {
    let (cpu, start) = (cpu_seconds(pid), Instant::now());
    f();
    (
        (cpu_seconds(pid) - cpu) * 1000.0,
        secs(start.elapsed()) * 1000.0,
    )
}

pub fn respondent_cpu(args: &Args, figures: &mut Figures) {
    let n = args.respondents;
    println!(
        "\n== {PART} ({}, {n} respondents, one client)",
        args.backend.name()
    );
    let db = BenchDb::new(args.backend);
    let state = AppState::open(db.config()).expect("open the database");
    let (_, branches) = units_csv();
    import(&state, &people_csv(2 * n, &branches, false));
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let wave = create_wave(&state, "2026年度群众测评（基准）");
    let tokens = open_for_tokens(&state, wave, &base);
    let (whole, split) = tokens.split_at(n.min(tokens.len()));
    let bodies = form_bodies(16);
    let server = ServerProcess::start(&db, port);
    let pid = server.pid();
    let agent = agent();

    let mut pass = Pass::default();
    let (cpu_ms, wall_ms) = measured(&pid, || {
        for (i, token) in whole.iter().enumerate() {
            get(&agent, &base, token, &mut pass);
            post(&agent, &base, token, &bodies[i % bodies.len()], &mut pass);
        }
    });
    let per = cpu_ms / whole.len().max(1) as f64;
    println!(
        "  {} respondents in {:.2} s: server CPU {:.2} s; {} forms shown (200, up to {} bytes), \
         {} stored (200); all statuses {:?}",
        whole.len(),
        wall_ms / 1000.0,
        cpu_ms / 1000.0,
        pass.ok("GET"),
        pass.form_bytes,
        pass.ok("POST"),
        pass.statuses
    );
    println!(
        "  → server CPU per respondent (GET + POST): {per:.3} ms; wall {:.3} ms per respondent \
         (LimeSurvey 6: 983 ms, {:.0}× more)",
        wall_ms / whole.len().max(1) as f64,
        983.0 / per.max(1e-9)
    );

    let mut apart = Pass::default();
    let (get_ms, get_wall) = measured(&pid, || {
        for token in split {
            get(&agent, &base, token, &mut apart);
        }
    });
    let (post_ms, post_wall) = measured(&pid, || {
        for (i, token) in split.iter().enumerate() {
            post(&agent, &base, token, &bodies[i % bodies.len()], &mut apart);
        }
    });
    let m = split.len().max(1) as f64;
    println!(
        "  apart, {} more respondents: GET {:.3} ms CPU ({:.3} ms wall), POST {:.3} ms CPU \
         ({:.3} ms wall) each; statuses {:?}",
        split.len(),
        get_ms / m,
        get_wall / m,
        post_ms / m,
        post_wall / m,
        apart.statuses
    );
    drop(server);
    let all_ok = pass.ok("GET") == whole.len()
        && pass.ok("POST") == whole.len()
        && apart.ok("GET") == split.len()
        && apart.ok("POST") == split.len();
    figures.add(
        PART,
        "server CPU per GET / per POST (apart)",
        format!("{:.3} / {:.3} ms", get_ms / m, post_ms / m),
    );
    figures.check(
        PART,
        "every GET and POST answered 200",
        all_ok.to_string(),
        "true",
        all_ok,
    );
    let what = format!(
        "server CPU per respondent, GET + POST ({} respondents)",
        whole.len()
    );
    // The issue sets the target for SQLite; PostgreSQL's figure is shown for comparison.
    match args.backend {
        Backend::Sqlite => {
            figures.check(PART, &what, format!("{per:.3} ms"), "≤ 0.8 ms", per <= 0.8);
        }
        Backend::Postgres => figures.add(PART, &what, format!("{per:.3} ms")),
    }
}
