//! The audit trail: every command that changes or exports data leaves its entry, whatever
//! its path (the real binary, the console's login form), naming who did it.

use sanping::db::accounts;

use crate::support::{self, Server, TestDb};

/// Runs the real binary against `db` with `stdin`: success and stdout + stderr.
fn run(db: &TestDb, env: &[(&str, &str)], args: &[&str], stdin: &str) -> (bool, String) {
    use std::io::Write as _;
    let mut cmd = support::bin();
    cmd.env("DATABASE_URL", db.url())
        .env_remove("USER")
        .env_remove("LOGNAME");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run sanping");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait for sanping");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// (actor, action, detail) of every entry, oldest first.
fn entries(db: &TestDb) -> Vec<(String, String, String)> {
    let state = db.state();
    let mut conn = state.pool.get().expect("conn");
    let mut all = accounts::audit_entries(&mut conn, 1000).expect("audit");
    all.reverse();
    all.into_iter()
        .map(|e| (e.actor, e.action, e.detail))
        .collect()
}

#[test]
fn every_changing_cli_command_leaves_an_audit_entry_naming_its_actor() -> anyhow::Result<()> {
    let db = TestDb::new();
    drop(db.state());
    let dir = tempfile::tempdir()?;
    let path = |name: &str| dir.path().join(name).display().to_string();
    let units = support::fixture("units.csv").display().to_string();
    let people = support::fixture("people.csv").display().to_string();
    let survey = support::survey_file("liuhao.toml").display().to_string();
    let later = (chrono::Local::now() + chrono::Duration::days(30))
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let as_alice = |args: &[&str], stdin: &str| {
        let mut all = vec!["--as", "alice"];
        all.extend_from_slice(args);
        let (ok, out) = run(&db, &[], &all, stdin);
        assert!(ok, "sanping {}: {out}", args.join(" "));
        out
    };
    // Each command, and the action its entry must carry.
    let mut expected = Vec::new();
    as_alice(&["units", "import", &units], "");
    expected.push("units.import");
    as_alice(&["people", "import", &people], "");
    expected.push("people.import");
    for (name, pw) in [("li", "password-of-li"), ("wang", "password-of-wang")] {
        as_alice(
            &["admin", "add", name, "--role", "committee"],
            &format!("{pw}\n"),
        );
        expected.push("admin.add");
    }
    as_alice(
        &["admin", "password", "li"],
        "password-of-li\nnew-password-of-li\n",
    );
    expected.push("admin.password");
    let out = as_alice(
        &[
            "wave",
            "create",
            "--test",
            "--survey",
            &survey,
            "--title",
            "演练",
            "--holders",
            "li,wang",
            "--threshold",
            "2",
        ],
        "",
    );
    let id = out.lines().next().unwrap_or_default().trim().to_owned();
    expected.push("wave.create");
    as_alice(
        &["wave", "check-key", &id, "--holder", "li"],
        "new-password-of-li\n",
    );
    as_alice(
        &["wave", "check-key", &id, "--holder", "wang"],
        "password-of-wang\n",
    );
    expected.extend(["wave.check_key", "wave.check_key"]);
    as_alice(&["wave", "open", &id, "--links", &path("links.csv")], "");
    expected.push("wave.open");
    as_alice(&["wave", "remind", &id], "");
    expected.push("wave.remind");
    as_alice(
        &[
            "wave",
            "slips",
            &id,
            "--unit",
            "CS-T",
            "--count",
            "2",
            "--out",
            &path("slips.html"),
        ],
        "",
    );
    expected.push("wave.slips");
    as_alice(&["wave", "extend", &id, "--closes", &later], "");
    expected.push("wave.extend");
    as_alice(&["wave", "close", &id], "");
    expected.push("wave.close");
    as_alice(
        &["wave", "unseal", &id, "--holder", "li", "--holder", "wang"],
        "new-password-of-li\npassword-of-wang\n",
    );
    expected.push("wave.unseal");
    as_alice(
        &["report", &id, "--format", "csv", "--out", &path("r.csv")],
        "",
    );
    expected.push("report.export");
    // Printed, not written to a file: nothing to audit.
    as_alice(&["report", &id], "");
    as_alice(&["wave", "publish", &id], "");
    expected.push("wave.publish");
    as_alice(&["wave", "purge-test", &id], "");
    expected.push("wave.purge");

    let log = entries(&db);
    let actions: Vec<&str> = log.iter().map(|(_, a, _)| a.as_str()).collect();
    assert_eq!(actions, expected, "{log:#?}");
    assert!(
        log.iter().all(|(actor, _, _)| actor == "cli:alice"),
        "{log:#?}"
    );
    let detail = |action: &str| {
        log.iter()
            .find(|(_, a, _)| a == action)
            .map(|(_, _, d)| d.clone())
            .unwrap_or_default()
    };
    assert!(detail("wave.create").contains(&format!("wave {id}")));
    assert!(detail("wave.extend").contains("closes at"));
    assert!(detail("report.export").contains("csv"));
    assert!(detail("wave.purge").contains("responses"));

    // Without --as: the OS user ($USER, else $LOGNAME); `sanping audit` shows it.
    let (ok, out) = run(&db, &[("USER", "bob")], &["units", "import", &units], "");
    assert!(ok, "{out}");
    let (ok, out) = run(
        &db,
        &[("LOGNAME", "carol")],
        &["units", "import", &units],
        "",
    );
    assert!(ok, "{out}");
    let (ok, shown) = run(&db, &[], &["audit", "--limit", "2"], "");
    assert!(ok, "{shown}");
    assert!(
        shown.contains("cli:bob") && shown.contains("cli:carol") && shown.contains("units.import"),
        "{shown}"
    );
    Ok(())
}

#[test]
fn a_refused_cli_change_leaves_no_entry() {
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    let id = support::create_wave(&state, "liuhao.toml", None, false);
    drop(state);
    let before = entries(&db).len();
    // A draft cannot be closed, nor a wave that is no test purged.
    let (ok, _) = run(&db, &[], &["wave", "close", &id.to_string()], "");
    assert!(!ok);
    let (ok, _) = run(&db, &[], &["wave", "purge-test", &id.to_string()], "");
    assert!(!ok);
    assert_eq!(entries(&db).len(), before);
}

#[test]
fn a_failed_login_is_audited_with_the_name_tried_and_the_address() {
    let db = TestDb::new();
    let state = db.state();
    let mut conn = state.pool.get().expect("conn");
    sanping::auth::add_user(
        &mut conn,
        "org",
        sanping::auth::Role::Organizer,
        "organizer-pass",
    )
    .expect("add org");
    drop(conn);
    let server = Server::start(state);
    let (status, browser) = crate::admin::login(&server, "org", "not-the-password");
    assert!(browser.is_none(), "status {status}");
    let (_, browser) = crate::admin::login(&server, "nobody", "whatever-it-is");
    assert!(browser.is_none());
    let failed: Vec<_> = entries(&db)
        .into_iter()
        .filter(|(_, a, _)| a == "login.failed")
        .collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(
        failed[0].2.contains("\"org\"") && failed[0].2.contains("127.0.0.1"),
        "{failed:?}"
    );
    assert!(failed[1].2.contains("\"nobody\""), "{failed:?}");
}
