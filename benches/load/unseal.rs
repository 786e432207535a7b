//! Parts `unseal-1m`, `report-1m` and `verify-1m`: `--responses` (default 1,000,000)
//! answer sheets SEALED to a wave's key as a submission seals them
//! (`sanping::sealing::seal_sheet`, on every core), inserted raw into the wave's
//! `sealed_<id>` table with as many used invitations (setup); then timed: `wave::close`,
//! `sealing::unseal` by the wave's key holder (open, check, store in random order, count,
//! drop the ciphertexts, scrub SQLite), and on the unsealed wave `report::build` and what
//! `sanping wave verify` does.

use std::fmt::Write as _;

use sanping::app::AppState;
use sanping::db::DbConn;
use sanping::domain::answers::Submission;
use sanping::domain::token;

use crate::{
    Args, Backend, BenchDb, Figures, HOLDER, Rng, cpu_seconds, create_wave, mass_items, memory_kib,
    mib, per_sec, pick, secs, timed, units_csv,
};

pub(crate) fn sql_text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

pub(crate) fn exec_raw(conn: &mut DbConn, sql: &str) -> diesel::QueryResult<usize> {
    use diesel::RunQueryDsl as _;
    match conn {
        DbConn::Sqlite(c) => diesel::sql_query(sql).execute(c),
        DbConn::Postgresql(c) => diesel::sql_query(sql).execute(c),
    }
}

/// `bytes` as a SQL literal: `X'…'` on SQLite, `'\x…'` (bytea's hex input) on PostgreSQL.
fn sql_blob(out: &mut String, backend: Backend, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push_str(match backend {
        Backend::Sqlite => "X'",
        Backend::Postgres => "'\\x",
    });
    out.reserve(2 * bytes.len() + 1);
    for &b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out.push('\'');
}

/// Sheets `from..to` of the generated wave, sealed: (unit index, ciphertext).
fn seal_range(
    wave: i32,
    public_key: &[u8],
    sizes: &[usize; 3],
    branches: &[String],
    items: &[(String, Vec<String>)],
    from: usize,
    to: usize,
) -> Vec<(usize, Vec<u8>)> {
    let mut rng = Rng(2026 + from as u64);
    (from..to)
        .map(|i| {
            let unit = i % branches.len();
            let bias = (unit % 21) as u64;
            let submission = Submission {
                answers: items
                    .iter()
                    .map(|(id, options)| {
                        (
                            id.clone(),
                            options[pick(&mut rng, options.len(), bias)].clone(),
                        )
                    })
                    .collect(),
                comment: (rng.below(100) < 5)
                    .then(|| format!("第{i}条意见：希望多开展主题党日活动")),
            };
            let (sealed, _receipt) =
                sanping::sealing::seal_sheet(wave, public_key, sizes, &branches[unit], &submission)
                    .expect("seal a sheet");
            (unit, sealed)
        })
        .collect()
}

/// Seals `count` sheets to `wave`'s key on every core and inserts them into its
/// `sealed_<id>` table with `count` used mass invitations spread over the branches, in one
/// transaction of multi-row `INSERT`s. Returns the time and the CPU seconds spent sealing.
fn insert_sealed(
    state: &AppState,
    backend: Backend,
    wave: i32,
    count: usize,
    branches: &[String],
) -> (std::time::Duration, f64) {
    const BATCH: usize = 500;
    const ROUND: usize = 20_000;
    let items = mass_items();
    let mut conn = state.pool.get().expect("a connection");
    let head = sanping::db::waves::find_head(&mut conn, wave)
        .expect("read the wave")
        .expect("the wave");
    let public_key = head.public_key.expect("a sealed wave");
    let survey = state.survey(&mut conn, wave).expect("the survey");
    let sizes = sanping::sealing::sheet_sizes(&survey);
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let mut sealing = (std::time::Duration::ZERO, 0.0);
    sanping::db::write_tx(&mut conn, |conn| -> diesel::QueryResult<()> {
        let mut done = 0;
        while done < count {
            let round = ROUND.min(count - done);
            let cpu = cpu_seconds("self");
            let (sheets, t_seal) = timed(|| {
                std::thread::scope(|s| {
                    let per = round.div_ceil(workers);
                    let handles: Vec<_> = (0..workers)
                        .map(|w| {
                            let from = done + (w * per).min(round);
                            let to = done + ((w + 1) * per).min(round);
                            let (key, items) = (&public_key, &items);
                            s.spawn(move || {
                                seal_range(wave, key, &sizes, branches, items, from, to)
                            })
                        })
                        .collect();
                    handles
                        .into_iter()
                        .flat_map(|h| h.join().expect("a sealing thread"))
                        .collect::<Vec<_>>()
                })
            });
            sealing.0 += t_seal;
            sealing.1 += cpu_seconds("self") - cpu;
            for chunk in sheets.chunks(BATCH) {
                let mut inv = String::from(
                    "INSERT INTO invitations (id, wave_id, person, unit, step, token_hash, used, reminders) VALUES ",
                );
                let mut sealed = format!("INSERT INTO sealed_{wave} (id, sheet) VALUES ");
                for (k, (unit, sheet)) in chunk.iter().enumerate() {
                    let sep = if k == 0 { "" } else { "," };
                    let unit = sql_text(&branches[*unit]);
                    let _ = write!(
                        inv,
                        "{sep}('{}', {wave}, NULL, {unit}, 'mass', NULL, TRUE, 0)",
                        token::random_id()
                    );
                    let _ = write!(sealed, "{sep}('{}', ", token::random_id());
                    sql_blob(&mut sealed, backend, sheet);
                    sealed.push(')');
                }
                exec_raw(conn, &inv)?;
                exec_raw(conn, &sealed)?;
            }
            done += round;
        }
        Ok(())
    })
    .expect("insert the sealed sheets");
    if backend == Backend::Sqlite {
        // The server checkpoints its log as the sheets come in over days; this one
        // transaction left it all in the log.
        exec_raw(&mut conn, "PRAGMA wal_checkpoint(TRUNCATE)").expect("checkpoint");
    }
    sealing
}

pub fn report_1m(args: &Args, figures: &mut Figures) {
    let (want_report, want_verify) = (args.wants("report-1m"), args.wants("verify-1m"));
    println!(
        "\n== unseal-1m / report-1m / verify-1m ({}, {} sealed sheets)",
        args.backend.name(),
        args.responses
    );
    let db = BenchDb::new(args.backend);
    let state = AppState::open(db.config()).expect("open the database");
    let (units, branches) = units_csv();
    sanping::import::units(
        &mut state.pool.get().expect("a connection"),
        units.as_bytes(),
    )
    .expect("import the units");
    let wave = create_wave(&state, "百万答卷（基准）");
    // Nobody on the roster: the wave opens with no invitations; the answered ones are
    // inserted below, as if slips had been used.
    sanping::wave::open(
        &mut state.pool.get().expect("a connection"),
        wave,
        &state.config.base_url,
        |_| Ok(()),
    )
    .expect("open the wave");
    let ((t_seal, seal_cpu), t_insert) =
        timed(|| insert_sealed(&state, args.backend, wave, args.responses, &branches));
    println!(
        "  setup: {n} sheets sealed ({:.1} s on {} threads, {:.1} CPU s) and inserted with {n} \
         used invitations, {:.1} s in all ({:.0} sheets/s)",
        secs(t_seal),
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        seal_cpu,
        secs(t_insert),
        per_sec(args.responses, t_insert),
        n = args.responses
    );
    if let Some(size) = db.sqlite_mib() {
        println!("  SQLite file + WAL: {size:.0} MiB");
    }
    let mut conn = state.pool.get().expect("a connection");
    let ((), t_close) = timed(|| sanping::wave::close(&mut conn, wave).expect("close the wave"));
    println!("  wave::close: {:.2} s", secs(t_close));
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
        "  sealing::unseal: {:.2} s ({unseal_cpu:.1} CPU s of this process): {} sheets opened, \
         {} rejected, scrubbed: {}",
        secs(t_unseal),
        unsealed.sheets,
        unsealed.rejected,
        unsealed.scrubbed
    );
    if let Some(size) = db.sqlite_mib() {
        println!("  SQLite file + WAL after unsealing: {size:.0} MiB");
    }
    figures.add(
        "unseal-1m",
        "setup (seal + insert), wave::close",
        format!("{:.1} s, {:.2} s", secs(t_insert), secs(t_close)),
    );
    let all_opened = unsealed.sheets == args.responses && unsealed.rejected == 0;
    figures.check(
        "unseal-1m",
        &format!("wave::close + sealing::unseal ({} sheets)", args.responses),
        format!(
            "{:.2} s (close {:.2} s, unseal {:.2} s, {unseal_cpu:.0} CPU s){}",
            secs(t_close + t_unseal),
            secs(t_close),
            secs(t_unseal),
            if all_opened {
                ""
            } else {
                "; NOT every sheet opened"
            }
        ),
        "≤ 60 s (2 cores)",
        secs(t_close + t_unseal) <= 60.0 && all_opened,
    );

    // What the close spent most of its time on, and what the report no longer does.
    let (counts, t_count) =
        timed(|| sanping::tally::count(&mut conn, wave).expect("count the responses"));
    drop(counts);
    println!(
        "  for comparison: tally::count of the unsealed wave (stream + JSON parse + count) \
         {:.2} s",
        secs(t_count)
    );
    let (report, t_build) =
        timed(|| sanping::report::build(&mut conn, wave, None).expect("build the report"));
    let shown = report.units.iter().filter(|u| !u.suppressed).count();
    println!(
        "  report::build: {:.2} s ({} units, {shown} shown, {} comments)",
        secs(t_build),
        report.units.len(),
        report.comments.len()
    );
    if want_report {
        figures.add(
            "report-1m",
            "tally::count (for comparison)",
            format!("{:.2} s", secs(t_count)),
        );
        figures.check(
            "report-1m",
            &format!("report::build ({} responses)", args.responses),
            format!("{:.2} s", secs(t_build)),
            "≤ 1 s",
            secs(t_build) <= 1.0,
        );
    }
    if want_verify {
        drop(report);
        // What `sanping wave verify` does: build the report, then audit against it.
        let ((audit, t_audit), t_verify) = timed(|| {
            let report = sanping::report::build(&mut conn, wave, None).expect("build the report");
            timed(|| {
                sanping::report::verify::audit(&mut conn, wave, Some(&report))
                    .expect("audit the wave")
            })
        });
        println!(
            "  wave verify = report::build + verify::audit: {:.2} s (audit alone {:.2} s): \
             {} checked, {} bad, {} mismatches, balanced: {}",
            secs(t_verify),
            secs(t_audit),
            audit.checked,
            audit.bad_responses,
            audit.mismatches.len(),
            audit.ok()
        );
        figures.add(
            "verify-1m",
            "verify::audit alone",
            format!("{:.2} s", secs(t_audit)),
        );
        figures.check(
            "verify-1m",
            &format!("wave verify ({} responses)", args.responses),
            format!("{:.2} s", secs(t_verify)),
            "≤ 30 s",
            secs(t_verify) <= 30.0,
        );
    }
    let (hwm, _) = memory_kib("self");
    println!("  this process's peak RSS so far: {:.0} MiB", mib(hwm));
}
