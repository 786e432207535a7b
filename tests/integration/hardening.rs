//! Hostile clients and odd data: redirects stay on the site, nothing sensitive is cached,
//! receipts show nothing before publication, exports run no formula, the CLI survives a
//! closed pipe and never prints control characters from the data.

use std::io::Read as _;

use crate::support::{self, Server, TestDb};

fn location(url: &str) -> (u16, String) {
    let res = support::client().get(url).call().expect("GET");
    let to = res
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (res.status().as_u16(), to)
}

#[test]
fn the_language_switch_redirects_only_to_paths_of_this_site() {
    let db = TestDb::new();
    let server = Server::start(db.state());
    for (back, expected) in [
        ("/admin", "/admin"),
        ("/%5Cevil.example/", "/"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/x%0D%0ASet-Cookie:%20a=b", "/"),
    ] {
        let (status, to) = location(&server.url(&format!("/lang/en?back={back}")));
        assert_eq!((status, to.as_str()), (303, expected), "back={back}");
    }
}

#[test]
fn pages_are_never_cached_and_https_installations_send_hsts() {
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    let (_, links) = support::open_wave(&state, "liuhao.toml", None, false);
    let server = Server::start(state.clone());
    let header = |path: &str, name: &str| {
        let res = support::client().get(&server.url(path)).call().unwrap();
        res.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let form = support::path_of(&links[0].url);
    for path in [form.as_str(), "/admin/login", "/", "/w/1/receipts"] {
        assert_eq!(
            header(path, "cache-control").as_deref(),
            Some("no-store"),
            "{path}"
        );
        assert_eq!(header(path, "strict-transport-security"), None);
    }
    assert_eq!(
        header("/static/style.css", "cache-control").as_deref(),
        Some("public, max-age=3600")
    );
    let mut https = state;
    let mut config = (*https.config).clone();
    config.bind = format!("127.0.0.1:{}", support::free_port());
    config.base_url = "https://pj.example.edu".into();
    https.config = std::sync::Arc::new(config);
    let (addr, handle) = sanping::web::server::spawn(https).unwrap();
    let res = support::client()
        .get(&format!("http://{addr}/"))
        .call()
        .unwrap();
    assert!(res.headers().get("strict-transport-security").is_some());
    drop(handle.stop(false));
}

#[test]
fn receipts_show_nothing_of_a_wave_that_is_not_published_or_is_a_rehearsal() {
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    let draft = support::create_wave(&state, "liuhao.toml", None, false);
    let mut conn = state.pool.get().unwrap();
    diesel::RunQueryDsl::execute(
        diesel::update(diesel::QueryDsl::find(
            sanping::db::schema::waves::table,
            draft,
        ))
        .set(diesel::ExpressionMethods::eq(
            sanping::db::schema::waves::title,
            "秘密草稿标题",
        )),
        &mut *conn,
    )
    .unwrap();
    let (rehearsal, _) = support::open_wave(&state, "liuhao.toml", None, true);
    support::close_and_unseal(&mut conn, rehearsal).unwrap();
    sanping::wave::publish(&mut conn, rehearsal).unwrap();
    let (real, _) = support::open_wave(&state, "liuhao.toml", None, false);
    support::close_and_unseal(&mut conn, real).unwrap();
    sanping::wave::publish(&mut conn, real).unwrap();
    let server = Server::start(state.clone());
    let (status, page) = support::get(&server.url(&format!("/w/{draft}/receipts")));
    assert!(
        status == 404 && !page.contains("秘密草稿标题"),
        "{status} {page}"
    );
    let (status, page) = support::get(&server.url(&format!("/w/{rehearsal}/receipts")));
    assert!(status == 404 && !page.contains("2026年度测评"), "{status}");
    let (status, page) = support::get(&server.url(&format!("/w/{real}/receipts")));
    assert!(status == 200 && page.contains("2026年度测评"), "{status}");
}

#[test]
fn csv_exports_run_no_formula_from_a_unit_name() {
    let db = TestDb::new();
    let state = db.state();
    let mut conn = state.pool.get().unwrap();
    sanping::import::units(
        &mut conn,
        "code,name,kind,parent\nU,校党委,committee,\n@X,=HYPERLINK(\"http://evil\"),branch,U\nB,+1+2,branch,U\n"
            .as_bytes(),
    )
    .unwrap();
    drop(conn);
    let wave = support::create_wave(&state, "liuhao.toml", None, false);
    let mut conn = state.pool.get().unwrap();
    sanping::wave::open(&mut conn, wave, "http://x", |_| Ok(())).unwrap();
    support::close_and_unseal(&mut conn, wave).unwrap();
    let report = sanping::report::build(&mut conn, wave, None).unwrap();
    let csv = String::from_utf8(sanping::report::export::csv(&report).unwrap()).unwrap();
    assert!(csv.contains("'@X,\"'=HYPERLINK"), "{csv}");
    assert!(csv.contains("B,'+1+2"), "{csv}");
    for line in csv.lines().skip(1) {
        for cell in line.split(',').take(4) {
            let cell = cell.trim_matches('"');
            assert!(!cell.starts_with(['=', '+', '@']), "live formula in {line}");
        }
    }
}

#[test]
fn the_cli_survives_a_closed_pipe_and_prints_no_control_characters() {
    let db = TestDb::new();
    let state = db.state();
    let mut conn = state.pool.get().unwrap();
    let mut units = String::from("code,name,kind,parent\nU,校党委,committee,\n");
    for i in 0..3000 {
        units.push_str(&format!(
            "B{i},第{i}个党支部（名字长一些以便填满管道缓冲区）,branch,U\n"
        ));
    }
    sanping::import::units(&mut conn, units.as_bytes()).unwrap();
    // A name with an escape sequence, as if written by another tool.
    diesel::RunQueryDsl::execute(
        diesel::update(diesel::QueryDsl::find(
            sanping::db::schema::units::table,
            "B1",
        ))
        .set(diesel::ExpressionMethods::eq(
            sanping::db::schema::units::name,
            "坏\u{1b}[2J名字",
        )),
        &mut *conn,
    )
    .unwrap();
    drop(conn);
    let out = support::bin()
        .env("DATABASE_URL", db.url())
        .args(["units", "list"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains('\u{1b}') && text.contains("坏\\u{1b}[2J名字"));
    // The reader goes away after the first bytes, as `| head -1` does.
    let mut child = support::bin()
        .env("DATABASE_URL", db.url())
        .args(["units", "list"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Starts `sanping ARGS` on `db` `n` times at once and returns each run's success and output.
fn at_once(db: &TestDb, n: usize, args: &[&str]) -> Vec<(bool, String)> {
    let children: Vec<std::process::Child> = (0..n)
        .map(|_| {
            support::bin()
                .env("DATABASE_URL", db.url())
                .args(args)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stdout).into_owned()
                    + &String::from_utf8_lossy(&out.stderr),
            )
        })
        .collect()
}

#[test]
fn processes_started_together_on_an_empty_database_all_migrate() {
    let db = TestDb::new();
    for (ok, out) in at_once(&db, 3, &["migrate"]) {
        assert!(ok, "{out}");
    }
    // And the schema is whole.
    let state = db.state();
    let mut conn = state.pool.get().unwrap();
    assert!(
        sanping::db::tables_and_columns(&mut conn)
            .unwrap()
            .contains_key("wave_records")
    );
}

#[test]
fn two_processes_opening_or_reminding_one_wave_at_once_do_it_once() {
    use diesel::prelude::*;
    use sanping::db::schema::outbox;
    let db = TestDb::new();
    let state = db.state();
    support::load_members_only(&state);
    let wave = support::create_wave(&state, "liuhao.toml", None, false);
    let id = wave.to_string();
    let results = at_once(&db, 2, &["wave", "open", &id, "--unchecked-keys"]);
    let opened = results.iter().filter(|(ok, _)| *ok).count();
    assert_eq!(opened, 1, "{results:?}");
    let refused = &results.iter().find(|(ok, _)| !*ok).unwrap().1;
    assert!(refused.contains("is open"), "a clear refusal: {refused}");
    let mut conn = state.pool.get().unwrap();
    let invited = support::stored_invitations(&mut conn, wave);
    assert!(invited > 0);
    // As if every invitation had been mailed four days ago (reminders wait three).
    diesel::update(outbox::table)
        .set((
            outbox::state.eq("sent"),
            outbox::sent_at.eq(Some(
                chrono::Utc::now().naive_utc() - chrono::Duration::days(4),
            )),
        ))
        .execute(&mut *conn)
        .unwrap();
    let results = at_once(&db, 2, &["wave", "remind", &id]);
    assert!(results.iter().all(|(ok, _)| *ok), "{results:?}");
    let reminders: i64 = outbox::table
        .filter(outbox::kind.eq("reminder"))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(reminders, invited, "one reminder per invitation, not two");
}

/// A fresh database with one account.
fn with_account(
    name: &str,
    role: sanping::auth::Role,
    password: &str,
) -> (TestDb, sanping::app::AppState) {
    let db = TestDb::new();
    let state = db.state();
    sanping::auth::add_user(&mut state.pool.get().unwrap(), name, role, password).unwrap();
    (db, state)
}

fn attempt(state: &sanping::app::AppState, user: &str, password: &str, addr: &str) -> &'static str {
    let mut conn = state.pool.get().unwrap();
    match sanping::auth::login(&mut conn, user, password, addr) {
        Ok(_) => "ok",
        Err(sanping::auth::LoginError::Wrong) => "wrong",
        Err(sanping::auth::LoginError::Locked(_)) => "locked",
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn a_strangers_guesses_never_lock_the_owner_out_from_another_address() {
    let (_db, state) = with_account("org", sanping::auth::Role::Organizer, "organizer-pass");
    for _ in 0..5 {
        assert_eq!(attempt(&state, "org", "guess", "10.0.0.1"), "wrong");
    }
    assert_eq!(attempt(&state, "org", "guess", "10.0.0.1"), "locked");
    assert_eq!(
        attempt(&state, "org", "organizer-pass", "10.0.0.1"),
        "locked"
    );
    assert_eq!(
        attempt(&state, "org", "organizer-pass", "10.0.0.2"),
        "ok",
        "the owner, from an address that has not failed"
    );
}

#[test]
fn an_address_guessing_many_names_is_slowed_and_a_success_does_not_reset_it() {
    let db = TestDb::new();
    let state = db.state();
    let mut conn = state.pool.get().unwrap();
    sanping::auth::add_user(&mut conn, "v", sanping::auth::Role::Viewer, "viewer-pass").unwrap();
    drop(conn);
    for n in 0..30 {
        assert_eq!(
            attempt(&state, &format!("n{n}"), "guess", "10.0.0.3"),
            "wrong"
        );
    }
    assert_eq!(attempt(&state, "v", "viewer-pass", "10.0.0.3"), "ok");
    for n in 30..50 {
        assert_eq!(
            attempt(&state, &format!("n{n}"), "guess", "10.0.0.3"),
            "wrong"
        );
    }
    assert_eq!(
        attempt(&state, "n50", "guess", "10.0.0.3"),
        "locked",
        "the viewer's login did not reset the address's count"
    );
}

#[test]
fn parallel_guesses_are_counted_atomically_and_only_five_are_answered() {
    let (_db, state) = with_account("org", sanping::auth::Role::Organizer, "organizer-pass");
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(30));
    let outcomes: Vec<&str> = (0..30)
        .map(|_| {
            let (state, barrier) = (state.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                attempt(&state, "org", "guess", "10.0.0.9")
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    assert_eq!(
        outcomes.iter().filter(|o| **o == "wrong").count(),
        5,
        "{outcomes:?}"
    );
    assert_eq!(outcomes.iter().filter(|o| **o == "locked").count(), 25);
}

#[test]
fn a_nul_byte_is_a_clear_422_on_every_input_path_and_changes_nothing() {
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    let (wave, links) = support::open_wave(&state, "liuhao.toml", None, false);
    let mut conn = state.pool.get().unwrap();
    sanping::auth::add_user(
        &mut conn,
        "org",
        sanping::auth::Role::Organizer,
        "organizer-pass",
    )
    .unwrap();
    // A roster file: a line error, nothing imported.
    let err = sanping::import::people(
        &mut conn,
        "email,name,unit,category,role\nx@demo.edu.cn,某人,CS-T,fac\0ulty,member\n".as_bytes(),
    )
    .unwrap_err();
    assert!(
        matches!(err, sanping::import::ImportError::Rows(ref rows) if rows[0].message.contains("control character")),
        "{err:?}"
    );
    drop(conn);
    let server = Server::start(state.clone());
    // The login form.
    let (status, page) = support::post_raw(
        &server.url("/admin/login"),
        "application/x-www-form-urlencoded",
        b"csrf=x&username=or%00g&password=organizer-pass",
    );
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("NUL"));
    // A respondent's comment: refused, the link still unused.
    let mut fields = support::answers_for("liuhao.toml", 0);
    fields.push(("comment".into(), "意见\0建议".into()));
    let link = support::mass_links(links)[0].url.clone();
    let (status, _) = support::post_fields(&server.url(&support::path_of(&link)), &fields);
    assert_eq!(status, 422);
    let mut conn = state.pool.get().unwrap();
    assert_eq!(support::stored_sheets(&mut conn, wave), 0);
    drop(conn);
    // A console form (a new wave's title).
    let (_, org) = crate::admin::login(&server, "org", "organizer-pass");
    let org = org.unwrap();
    let status = crate::admin::post(
        &server,
        Some(&org),
        "/admin/waves",
        &[
            ("csrf", &org.csrf),
            ("title", "标题\0"),
            ("survey", "liuhao.toml"),
            ("test", "on"),
        ],
    );
    assert_eq!(status, 422);
    let mut conn = state.pool.get().unwrap();
    assert_eq!(sanping::db::waves::all(&mut conn).unwrap().len(), 1);
}

#[test]
fn a_name_with_a_line_break_stops_no_mail() {
    use diesel::prelude::*;
    use sanping::db::schema::{outbox, people};
    let db = TestDb::new();
    let state = db.state();
    support::load_members_only(&state);
    let mut conn = state.pool.get().unwrap();
    // As an import from before names were checked left it.
    diesel::update(people::table.find("zhao.gang@demo.edu.cn"))
        .set(people::name.eq("赵\r\nBcc: evil@example.com"))
        .execute(&mut *conn)
        .unwrap();
    let wave = support::create_wave(&state, "liuhao.toml", None, false);
    sanping::wave::open_by_email(&mut conn, wave).unwrap();
    let queued: i64 = outbox::table.count().get_result(&mut *conn).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = support::bin()
        .env("DATABASE_URL", db.url())
        .env("SANPING_MAIL_DIR", dir.path())
        .args(["mail", "send"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sent: i64 = outbox::table
        .filter(outbox::state.eq("sent"))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(sent, queued, "every mail went out");
    let mut found = false;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let entry = entry.unwrap();
        let file = entry.file_name().to_string_lossy().into_owned();
        assert!(
            file.starts_with(&format!("wave{wave}-invitation-")) && file.contains("@demo.edu.cn"),
            "named by wave, kind and recipient: {file}"
        );
        let text = std::fs::read_to_string(entry.path()).unwrap();
        if text.contains("zhao.gang@demo.edu.cn") {
            found = true;
            assert!(
                !text.lines().any(|l| l.starts_with("Bcc:")),
                "no injected header"
            );
        }
    }
    assert!(found);
}

#[test]
fn times_are_shown_in_the_time_zone_tz_names() {
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    let wave = support::create_wave(&state, "liuhao.toml", None, false);
    let mut conn = state.pool.get().unwrap();
    let utc = chrono::NaiveDate::from_ymd_opt(2030, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    sanping::deadline::extend(&mut conn, wave, utc, "test").unwrap();
    let list = |tz: &str| {
        let out = support::bin()
            .env("DATABASE_URL", db.url())
            .env("TZ", tz)
            .args(["wave", "list"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(list("UTC").contains("2030-01-01 00:00"));
    assert!(list("Asia/Shanghai").contains("2030-01-01 08:00"));
}

#[test]
fn a_login_costs_the_same_argon2_work_whether_the_name_exists_or_not() {
    // Timing is the property here: an unknown name answered at once would tell a stranger
    // which names exist. Medians of a few tries; the gap this guards against was 70×.
    let (_db, state) = with_account("org", sanping::auth::Role::Organizer, "organizer-pass");
    let median = |user: &str, address: &str| {
        let mut times: Vec<std::time::Duration> = (0..5)
            .map(|_| {
                let started = std::time::Instant::now();
                assert_eq!(attempt(&state, user, "guess", address), "wrong");
                started.elapsed()
            })
            .collect();
        times.sort();
        times[2]
    };
    let known = median("org", "10.1.0.1");
    let unknown = median("no-such-user", "10.1.0.2");
    assert!(
        unknown * 3 >= known,
        "an unknown name took {unknown:?}, a known one {known:?}"
    );
}

#[test]
fn two_processes_unsealing_one_wave_at_once_store_its_sheets_once() {
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    let (wave, _) = support::open_wave(&state, "liuhao.toml", None, false);
    let mut conn = state.pool.get().unwrap();
    let tokens = sanping::wave::slips(&mut conn, wave, "CS-T", 12).unwrap().2;
    let survey = sanping::wave::survey_of(&sanping::wave::get(&mut conn, wave).unwrap()).unwrap();
    for t in &tokens {
        let sanping::respond::Lookup::Ready(head, invitation) =
            sanping::respond::lookup(&mut conn, t).unwrap()
        else {
            panic!("a ready slip");
        };
        let submission = sanping::domain::answers::Submission {
            answers: support::answers_for("liuhao.toml", 1)
                .into_iter()
                .map(|(k, v)| (k.trim_start_matches("q.").to_owned(), v))
                .collect(),
            comment: None,
        };
        sanping::respond::store(&mut conn, &head, &invitation, &survey, &submission).unwrap();
    }
    sanping::wave::close(&mut conn, wave).unwrap();
    drop(conn);
    let id = wave.to_string();
    let password = format!("{}\n", support::HOLDER_PASSWORD);
    let children: Vec<std::process::Child> = (0..2)
        .map(|_| {
            let mut child = support::bin()
                .env("DATABASE_URL", db.url())
                .args(["wave", "unseal", &id, "--holder", support::HOLDER])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            std::io::Write::write_all(&mut child.stdin.take().unwrap(), password.as_bytes())
                .unwrap();
            child
        })
        .collect();
    let outcomes: Vec<(bool, String)> = children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stdout).into_owned()
                    + &String::from_utf8_lossy(&out.stderr),
            )
        })
        .collect();
    assert_eq!(
        outcomes.iter().filter(|(ok, _)| *ok).count(),
        1,
        "{outcomes:?}"
    );
    let refused = &outcomes.iter().find(|(ok, _)| !*ok).unwrap().1;
    assert!(
        refused.contains("unsealed") || refused.contains("sealed"),
        "a clear refusal: {refused}"
    );
    let mut conn = state.pool.get().unwrap();
    assert_eq!(support::stored_sheets(&mut conn, wave), 12, "stored once");
}
