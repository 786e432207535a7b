//! The foundation: migrations on both backends, imports, configuration, serve.

use crate::support::{self, TestDb};
use sanping::db;
use sanping::import::{self, ImportError};

#[test]
fn migrations_run_down_and_up_again() -> anyhow::Result<()> {
    let tdb = TestDb::new();
    let state = tdb.state();
    let mut conn = state.pool.get()?;
    let before = db::tables_and_columns(&mut conn)?;
    assert!(
        before.contains_key("responses"),
        "tables after up: {before:?}"
    );
    assert!(db::revert_all(&mut conn)? >= 1);
    assert!(db::tables_and_columns(&mut conn)?.is_empty());
    assert!(db::migrate(&mut conn)? >= 1);
    assert_eq!(db::tables_and_columns(&mut conn)?, before);
    assert_eq!(db::migrate(&mut conn)?, 0, "a second run has nothing to do");
    Ok(())
}

#[test]
#[cfg_attr(
    not(sanping_test_pg),
    ignore = "needs SANPING_TEST_PG=postgres://… (PostgreSQL only)"
)]
fn both_backends_end_with_the_same_tables_and_columns() -> anyhow::Result<()> {
    let Some(pg) = TestDb::postgres() else {
        panic!(
            "{} was set when this test was built, not now",
            support::PG_ENV
        );
    };
    let sqlite = TestDb::sqlite();
    let a = db::tables_and_columns(&mut *sqlite.state().pool.get()?)?;
    let b = db::tables_and_columns(&mut *pg.state().pool.get()?)?;
    assert_eq!(a, b);
    Ok(())
}

#[test]
fn sqlite_connections_use_wal_foreign_keys_and_busy_timeout() -> anyhow::Result<()> {
    use diesel::RunQueryDsl as _;
    #[derive(diesel::QueryableByName)]
    struct Value {
        #[diesel(sql_type = diesel::sql_types::Text)]
        v: String,
    }
    let tdb = TestDb::sqlite();
    let state = tdb.state();
    let mut conn = state.pool.get()?;
    let db::DbConn::Sqlite(c) = &mut *conn else {
        unreachable!()
    };
    let one = |c: &mut diesel::SqliteConnection, sql: &str| -> anyhow::Result<String> {
        let rows: Vec<Value> = diesel::sql_query(sql).load(c)?;
        Ok(rows.into_iter().next().map(|r| r.v).unwrap_or_default())
    };
    assert_eq!(
        one(c, "SELECT journal_mode AS v FROM pragma_journal_mode")?,
        "wal"
    );
    assert_eq!(
        one(
            c,
            "SELECT CAST(foreign_keys AS TEXT) AS v FROM pragma_foreign_keys"
        )?,
        "1"
    );
    assert_eq!(
        one(
            c,
            "SELECT CAST(timeout AS TEXT) AS v FROM pragma_busy_timeout"
        )?,
        "10000"
    );
    Ok(())
}

#[test]
fn a_unit_file_with_any_bad_row_imports_nothing_and_names_every_bad_line() -> anyhow::Result<()> {
    let tdb = TestDb::new();
    let state = tdb.state();
    let mut conn = state.pool.get()?;
    let csv = "code,name,kind,parent\nU,大学党委,committee,\nA,甲学院党总支,general_branch,U\nB,乙,college,U\nC,丙,branch,NOPE\nA,重复,branch,U\n";
    let Err(ImportError::Rows(rows)) = import::units(&mut conn, csv.as_bytes()) else {
        panic!("a bad file must be refused");
    };
    let lines: Vec<u64> = rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, vec![4, 5, 6], "{rows:?}");
    assert!(rows[0].message.contains("college"));
    assert!(rows[1].message.contains("NOPE"));
    assert!(rows[2].message.contains("first on line 3"));
    assert!(
        db::units::all(&mut conn)?.is_empty(),
        "nothing may be stored"
    );
    Ok(())
}

#[test]
fn reimporting_an_updated_unit_file_updates_by_code_and_reports_it() -> anyhow::Result<()> {
    let tdb = TestDb::new();
    let state = tdb.state();
    let mut conn = state.pool.get()?;
    let first = import::units(&mut conn, &std::fs::read(support::fixture("units.csv"))?)?;
    assert_eq!(first.added.len(), 5);
    let updated = "\u{feff}code,name,kind,parent\nCS-S1,计算机学院本科生党支部,branch,CS\nCS-S2,计算机学院研究生党支部,branch,CS\n";
    let second = import::units(&mut conn, updated.as_bytes())?;
    assert_eq!(second.added, vec!["CS-S2"]);
    assert_eq!(second.changed, vec!["CS-S1"]);
    assert_eq!(second.unchanged, 4);
    let unit = db::units::find(&mut conn, "CS-S1")?.expect("stored");
    assert_eq!(unit.name, "计算机学院本科生党支部");
    Ok(())
}

#[test]
fn a_roster_with_any_bad_row_imports_nothing() -> anyhow::Result<()> {
    let tdb = TestDb::new();
    let state = tdb.state();
    let mut conn = state.pool.get()?;
    import::units(&mut conn, &std::fs::read(support::fixture("units.csv"))?)?;
    let csv = "email,name,unit,category,role\nok@demo.edu.cn,甲,CS-T,faculty,member\nnot-an-address,乙,CS-T,faculty,member\nc@demo.edu.cn,丙,CS-T,faculty,dean\n";
    let Err(ImportError::Rows(rows)) = import::people(&mut conn, csv.as_bytes()) else {
        panic!("a bad file must be refused");
    };
    assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), vec![3, 4]);
    assert!(db::people::all(&mut conn)?.is_empty());
    let report = import::people(&mut conn, &std::fs::read(support::fixture("people.csv"))?)?;
    assert_eq!(report.added.len(), 6);
    let people = db::people::all(&mut conn)?;
    let wang = people.iter().find(|p| p.name == "王丽").expect("王丽");
    assert!(wang.has_role("secretary") && wang.has_role("member"));
    Ok(())
}

#[test]
fn cli_import_of_a_bad_file_exits_non_zero_and_prints_line_numbers() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let csv = dir.path().join("units.csv");
    std::fs::write(
        &csv,
        "code,name,kind,parent\nU,大学党委,committee,\nX,某,branch,MISSING\n",
    )?;
    let out = support::bin()
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .args(["units", "import"])
        .arg(&csv)
        .output()?;
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr)?;
    assert!(
        stderr.contains("line 3") && stderr.contains("MISSING"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    assert!(
        dir.path().join("sanping.db").exists(),
        "DATABASE_URL unset means ./sanping.db"
    );
    Ok(())
}

#[test]
fn cli_survey_check_names_the_file_and_line_of_an_error() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let good = std::fs::read_to_string(support::survey_file("liuhao.toml"))?;
    let bad = good.replacen("mass = 0.5", "mass = 0.6", 1);
    assert_ne!(good, bad, "the fixture edit must apply");
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, &bad)?;
    let out = support::bin()
        .arg("survey")
        .arg("check")
        .arg(&path)
        .output()?;
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr)?;
    let line = bad
        .lines()
        .position(|l| l.starts_with("[weights]"))
        .unwrap()
        + 1;
    assert!(
        stderr.contains(&format!("bad.toml:{line}: weights")),
        "{stderr}"
    );
    let ok = support::bin()
        .args(["survey", "check"])
        .arg(support::survey_file("liuhao.toml"))
        .arg(support::survey_file("siyou.toml"))
        .output()?;
    assert!(ok.status.success());
    assert!(String::from_utf8(ok.stdout)?.contains("fingerprint"));
    Ok(())
}

#[test]
fn cli_config_prints_the_effective_configuration_with_secrets_masked() -> anyhow::Result<()> {
    let cookie_secret = "Kq7-private-cookie-secret-9xYw2-vbnm";
    let out = support::bin()
        .arg("config")
        .env(
            "DATABASE_URL",
            "postgres://app:hunter2@db.example.edu/sanping",
        )
        .env("SMTP_URL", "smtp://mailer:pa55word@smtp.example.edu:587")
        .env("SANPING_SECRET", cookie_secret)
        .env("SANPING_BIND", "0.0.0.0:9000")
        .output()?;
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout)?;
    for secret in ["hunter2", "pa55word", cookie_secret] {
        assert!(!stdout.contains(secret), "{stdout}");
    }
    assert!(stdout.contains("0.0.0.0:9000"), "{stdout}");
    assert!(stdout.contains("db.example.edu"), "{stdout}");
    let flag = support::bin()
        .args(["config", "--bind", "127.0.0.1:9999"])
        .env("SANPING_BIND", "0.0.0.0:9000")
        .output()?;
    assert!(
        String::from_utf8(flag.stdout)?.contains("127.0.0.1:9999"),
        "a flag overrides the environment"
    );
    Ok(())
}

#[test]
fn the_server_serves_a_chinese_home_page_and_a_health_check() -> anyhow::Result<()> {
    let tdb = TestDb::new();
    let server = support::Server::start(tdb.state());
    let (status, body) = support::get(&server.url("/"));
    assert_eq!(status, 200);
    assert!(
        body.contains("lang=\"zh-CN\"") && body.contains("三评"),
        "{body}"
    );
    assert!(body.contains("href=\"/admin/login\""));
    let (status, body) = support::get(&server.url("/?lang=en"));
    assert_eq!(status, 200);
    assert!(body.contains("lang=\"en\""));
    let (status, body) = support::get(&server.url("/healthz"));
    assert_eq!(status, 200);
    let health: serde_json::Value = serde_json::from_str(&body)?;
    assert_eq!(health["status"], "ok");
    assert_eq!(
        health["database"],
        if tdb.is_postgres() {
            "postgresql"
        } else {
            "sqlite"
        }
    );
    let (status, _) = support::get(&server.url("/static/style.css"));
    assert_eq!(status, 200);
    let (status, _) = support::get(&server.url("/no/such/page"));
    assert_eq!(status, 404);
    Ok(())
}

#[test]
fn the_cookie_secret_is_generated_once_and_kept() {
    let tdb = TestDb::new();
    let first = tdb.state().secret.clone();
    let second = tdb.state().secret.clone();
    assert!(first.len() >= 32);
    assert_eq!(first, second);
}

#[test]
fn every_template_renders_in_strict_mode_with_its_context() {
    // Rendering every page with its real context happens in the HTTP tests; here the
    // registry must at least compile every template file.
    let hb = sanping::web::templates::registry().expect("templates compile");
    for name in sanping::web::templates::names() {
        assert!(hb.has_template(&name), "{name}");
    }
}
