//! The wave lifecycle, invitations, tokens and slips.

use diesel::prelude::*;
use sanping::db::schema::{invitations, waves};
use sanping::wave::{self, WaveError};

use crate::support::{self, TestDb};

#[test]
fn each_state_change_needs_the_right_state_and_says_why_not() -> anyhow::Result<()> {
    let tdb = TestDb::new();
    let state = tdb.state();
    support::load_fixtures(&state);
    let id = support::create_wave(&state, "liuhao.toml", None, false);
    let mut conn = state.pool.get()?;
    let err = wave::publish(&mut conn, id).unwrap_err();
    assert!(matches!(err, WaveError::State { .. }));
    assert_eq!(
        err.to_string(),
        format!("wave {id} is draft; publishing needs a wave that is closed")
    );
    assert!(matches!(
        wave::close(&mut conn, id),
        Err(WaveError::State { .. })
    ));
    wave::open(&mut conn, id, "http://x", |_| Ok(()))?;
    assert!(matches!(
        wave::open(&mut conn, id, "http://x", |_| Ok(())),
        Err(WaveError::State { .. })
    ));
    wave::close(&mut conn, id)?;
    assert!(matches!(
        wave::close(&mut conn, id),
        Err(WaveError::State { .. })
    ));
    let err = wave::publish(&mut conn, id).unwrap_err();
    assert!(err.to_string().contains("sealed"), "{err}");
    sanping::sealing::unseal(&mut conn, id, &support::holder_password(), "test")?;
    wave::publish(&mut conn, id)?;
    assert_eq!(wave::get(&mut conn, id)?.state, "published");
    assert!(matches!(
        wave::get(&mut conn, 999),
        Err(WaveError::NotFound(999))
    ));
    Ok(())
}

#[test]
fn the_survey_is_copied_into_the_wave_with_its_fingerprint() -> anyhow::Result<()> {
    let tdb = TestDb::new();
    let state = tdb.state();
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("s.toml");
    let original = std::fs::read_to_string(support::survey_file("liuhao.toml"))?;
    std::fs::write(&path, &original)?;
    support::ensure_holder(&mut *state.pool.get()?);
    let out = support::bin()
        .env("DATABASE_URL", tdb.url())
        .args([
            "wave",
            "create",
            "--single-holder",
            support::HOLDER,
            "--title",
            "测试",
            "--survey",
        ])
        .arg(&path)
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id: i32 = String::from_utf8(out.stdout)?.trim().parse()?;
    std::fs::write(&path, original.replace("班子建设好", "改过的"))?;
    let mut conn = state.pool.get()?;
    let w = wave::get(&mut conn, id)?;
    assert_eq!(
        w.survey, original,
        "a later edit of the file changes no wave"
    );
    assert_eq!(
        w.fingerprint,
        sanping::domain::survey::fingerprint(&original)
    );
    Ok(())
}

#[test]
fn creating_a_wave_refuses_bad_surveys_scopes_and_past_closing_times() -> anyhow::Result<()> {
    let tdb = TestDb::new();
    let state = tdb.state();
    support::load_fixtures(&state);
    let mut conn = state.pool.get()?;
    support::ensure_holder(&mut conn);
    let good = std::fs::read_to_string(support::survey_file("liuhao.toml"))?;
    let spec = |src: &str, scope: Option<&str>, closes| wave::NewWaveSpec {
        survey_name: "x.toml".into(),
        survey_src: src.into(),
        title: "t".into(),
        scope: scope.map(str::to_owned),
        closes_at: closes,
        is_test: false,
        holders: vec![support::HOLDER.to_owned()],
        threshold: 1,
    };
    let bad = good.replacen("mass = 0.5", "mass = 0.9", 1);
    let err = wave::create(&mut conn, &spec(&bad, None, None)).unwrap_err();
    assert!(err.to_string().contains("x.toml:"), "{err}");
    let err = wave::create(&mut conn, &spec(&good, Some("NOPE"), None)).unwrap_err();
    assert!(err.to_string().contains("NOPE"), "{err}");
    let past = chrono::Utc::now().naive_utc() - chrono::Duration::hours(1);
    let err = wave::create(&mut conn, &spec(&good, None, Some(past))).unwrap_err();
    assert!(err.to_string().contains("past"), "{err}");
    assert!(sanping::db::waves::all(&mut conn)?.is_empty());
    Ok(())
}

#[test]
fn opening_invites_each_person_for_their_unit_and_students_for_the_parent_too() {
    let tdb = TestDb::new();
    let state = tdb.state();
    support::load_fixtures(&state);
    // siyou.toml: also_rate_parent = ["student"]. The committee member of U rates nothing.
    let (_, links) = support::open_wave(&state, "siyou.toml", None, false);
    let links = support::mass_links(links);
    let mut pairs: Vec<(String, String)> = links
        .iter()
        .map(|l| (l.email.clone(), l.unit.clone()))
        .collect();
    pairs.sort();
    let expected: Vec<(String, String)> = [
        ("chen.jing@demo.edu.cn", "CS"),
        ("chen.jing@demo.edu.cn", "CS-S1"),
        ("liu.yang@demo.edu.cn", "CS"),
        ("liu.yang@demo.edu.cn", "CS-S1"),
        ("sun.hao@demo.edu.cn", "LIB"),
        ("wang.li@demo.edu.cn", "CS-T"),
        ("zhao.gang@demo.edu.cn", "CS-T"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    assert_eq!(pairs, expected);
    // liuhao.toml: nobody rates the parent; a scope keeps the wave to one subtree.
    let (_, scoped) = support::open_wave(&state, "liuhao.toml", Some("CS"), false);
    let scoped = support::mass_links(scoped);
    let mut units: Vec<&str> = scoped.iter().map(|l| l.unit.as_str()).collect();
    units.sort_unstable();
    assert_eq!(units, vec!["CS-S1", "CS-S1", "CS-T", "CS-T"]);
}

#[test]
fn only_token_hashes_are_stored_never_the_tokens() -> anyhow::Result<()> {
    let tdb = TestDb::new();
    let state = tdb.state();
    support::load_fixtures(&state);
    let (id, links) = support::open_wave(&state, "liuhao.toml", None, false);
    let mut conn = state.pool.get()?;
    let (_, _, slips) = wave::slips(&mut conn, id, "LIB", 3)?;
    let mut tokens: Vec<String> = links
        .iter()
        .map(|l| l.url.rsplit('/').next().unwrap().to_owned())
        .collect();
    tokens.extend(slips);
    let hashes: Vec<Option<String>> = invitations::table
        .select(invitations::token_hash)
        .load(&mut *conn)?;
    let dump = support::dump_text(&state);
    for t in &tokens {
        assert!(t.len() >= 26, "at least 128 bits: {t}");
        assert!(
            t.bytes().all(|b| b.is_ascii_alphanumeric()),
            "URL-safe: {t}"
        );
        assert!(
            !dump.contains(t.as_str()),
            "raw token found in the database"
        );
        let h = sanping::domain::token::hash(t);
        assert!(hashes.contains(&Some(h)));
    }
    if let Some(path) = sqlite_path(&tdb) {
        let mut bytes = std::fs::read(&path)?;
        bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
        let raw = String::from_utf8_lossy(&bytes);
        assert!(
            tokens.iter().all(|t| !raw.contains(t.as_str())),
            "raw token in the SQLite files"
        );
    }
    Ok(())
}

fn sqlite_path(tdb: &TestDb) -> Option<String> {
    (!tdb.is_postgres()).then(|| tdb.url().to_owned())
}

#[test]
fn cli_open_writes_links_only_to_the_named_file_and_show_counts_per_unit() -> anyhow::Result<()> {
    let tdb = TestDb::new();
    let state = tdb.state();
    support::load_fixtures(&state);
    let id = support::create_wave(&state, "liuhao.toml", None, false);
    let dir = tempfile::tempdir()?;
    let links = dir.path().join("links.csv");
    let run = |args: &[&str]| {
        support::bin()
            .env("DATABASE_URL", tdb.url())
            .env("SANPING_BASE_URL", "https://pj.example.edu")
            .args(args)
            .output()
            .expect("run sanping")
    };
    let out = run(&[
        "wave",
        "open",
        &id.to_string(),
        "--links",
        links.to_str().unwrap(),
        "--unchecked-keys",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Opened without the holders' checks: the entry says so, as the console's and the API's.
    let entry = sanping::db::accounts::audit_entries(&mut *state.pool.get()?, 100)?
        .into_iter()
        .find(|e| e.action == "wave.open")
        .expect("audited");
    assert!(
        entry.detail.contains("; opened with 0 of ")
            && entry.detail.contains("needed key holders checked"),
        "{}",
        entry.detail
    );
    let csv = std::fs::read_to_string(&links)?;
    assert_eq!(
        csv.lines().count(),
        10,
        "header + 5 mass + 3 self (secretaries) + 1 org (committee):\n{csv}"
    );
    assert!(
        csv.lines()
            .skip(1)
            .all(|l| l.contains("https://pj.example.edu/s/")),
        "{csv}"
    );
    let stdout = String::from_utf8(out.stdout)?;
    assert!(
        !stdout.contains("/s/"),
        "links go to the file only: {stdout}"
    );
    let show = String::from_utf8(run(&["wave", "show", &id.to_string()]).stdout)?;
    assert!(show.contains("CS-T") && show.contains("open"), "{show}");
    let again = run(&[
        "wave",
        "open",
        &id.to_string(),
        "--links",
        links.to_str().unwrap(),
    ]);
    assert!(!again.status.success());
    assert!(
        String::from_utf8(again.stderr)?.contains("is open; opening needs a wave that is draft")
    );
    Ok(())
}

#[test]
fn a_failed_delivery_of_the_links_leaves_the_wave_a_draft_without_invitations() -> anyhow::Result<()>
{
    let tdb = TestDb::new();
    let state = tdb.state();
    support::load_fixtures(&state);
    let id = support::create_wave(&state, "liuhao.toml", None, false);
    let mut conn = state.pool.get()?;
    let err = wave::open(&mut conn, id, "http://x", |_| Err("disk full".into())).unwrap_err();
    assert!(err.to_string().contains("disk full"));
    assert_eq!(wave::get(&mut conn, id)?.state, "draft");
    let n: i64 = invitations::table.count().get_result(&mut *conn)?;
    assert_eq!(n, 0);
    Ok(())
}

#[test]
fn slips_make_anonymous_tokens_printed_with_qr_codes() -> anyhow::Result<()> {
    let tdb = TestDb::new();
    let state = tdb.state();
    support::load_fixtures(&state);
    let id = support::create_wave(&state, "liuhao.toml", None, false);
    let dir = tempfile::tempdir()?;
    let out_file = dir.path().join("slips.html");
    let out = support::bin()
        .env("DATABASE_URL", tdb.url())
        .args([
            "wave",
            "slips",
            &id.to_string(),
            "--unit",
            "CS-T",
            "--count",
            "6",
            "--out",
        ])
        .arg(&out_file)
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(&out_file)?;
    assert_eq!(html.matches("<svg").count(), 6);
    assert_eq!(html.matches("class=\"code\"").count(), 6);
    assert!(html.contains("计算机学院教工党支部") && html.contains("size: A4"));
    let mut conn = state.pool.get()?;
    let slips: Vec<(Option<String>, String)> = invitations::table
        .filter(invitations::wave_id.eq(id))
        .select((invitations::person, invitations::unit))
        .load(&mut *conn)?;
    assert_eq!(slips.len(), 6);
    assert!(slips.iter().all(|(p, u)| p.is_none() && u == "CS-T"));
    let refused = support::bin()
        .env("DATABASE_URL", tdb.url())
        .args([
            "wave",
            "slips",
            &id.to_string(),
            "--unit",
            "U",
            "--count",
            "2",
            "--out",
        ])
        .arg(&out_file)
        .output()?;
    assert!(
        !refused.status.success(),
        "the committee itself is not evaluated"
    );
    Ok(())
}

#[test]
fn purge_test_resets_only_test_waves() -> anyhow::Result<()> {
    let tdb = TestDb::new();
    let state = tdb.state();
    support::load_fixtures(&state);
    let (real, _) = support::open_wave(&state, "liuhao.toml", None, false);
    let (test, _) = support::open_wave(&state, "liuhao.toml", None, true);
    let mut conn = state.pool.get()?;
    assert!(matches!(
        wave::purge_test(&mut conn, real),
        Err(WaveError::Refused(_))
    ));
    let (_, invitations) = wave::purge_test(&mut conn, test)?;
    assert_eq!(
        invitations, 9,
        "5 mass, 3 self (secretaries), 1 org (committee)"
    );
    assert_eq!(wave::get(&mut conn, test)?.state, "draft");
    let left: i64 = invitations::table
        .filter(invitations::wave_id.eq(real))
        .count()
        .get_result(&mut *conn)?;
    assert_eq!(left, 9, "the real wave is untouched");
    let _ = waves::table.count().get_result::<i64>(&mut *conn)?;
    Ok(())
}
