//! Sealed answers: while a wave is open nothing readable about an answer is anywhere in the
//! database (tables, system columns, SQLite's file and log, a `pg_dump`); unsealing needs T
//! key holders and leaves the opened sheets in one transaction, in an order unrelated to
//! the order they came in.

use std::collections::BTreeMap;

use diesel::prelude::*;
use sanping::auth::{self, Role};
use sanping::db::{self, DbConn, holders, sealed};
use sanping::sealing::{self, HolderPassword};
use sanping::wave::{self, NewWaveSpec};
use zeroize::Zeroizing;

use crate::support::{self, Server, TestDb};

const HOLDERS: [(&str, &str); 3] = [
    ("holder-a", "password-of-a"),
    ("holder-b", "password-of-b"),
    ("holder-c", "password-of-c"),
];

/// A wave on the fixture roster held by the three [`HOLDERS`], any two of whom unseal it.
fn held_wave(state: &sanping::app::AppState) -> i32 {
    let mut conn = state.pool.get().unwrap();
    for (name, password) in HOLDERS {
        auth::add_user(&mut conn, name, Role::Committee, password).unwrap();
    }
    let path = support::survey_file("liuhao.toml");
    wave::create(
        &mut conn,
        &NewWaveSpec {
            survey_name: path.display().to_string(),
            survey_src: std::fs::read_to_string(&path).unwrap(),
            title: "封存测试".into(),
            scope: None,
            closes_at: None,
            is_test: false,
            holders: HOLDERS.iter().map(|(n, _)| (*n).to_owned()).collect(),
            threshold: 2,
        },
    )
    .unwrap()
}

fn given(names: &[(&str, &str)]) -> Vec<HolderPassword> {
    names
        .iter()
        .map(|(n, p)| HolderPassword {
            username: (*n).to_owned(),
            password: Zeroizing::new((*p).to_owned()),
        })
        .collect()
}

/// The answers of sheet `i`, as a form and as the JSON a plaintext sheet would hold.
fn sheet(i: usize, comment: &str) -> (Vec<(String, String)>, String) {
    let mut fields = support::answers_for("liuhao.toml", i % 3);
    let json: BTreeMap<String, String> = fields
        .iter()
        .map(|(k, v)| (k.trim_start_matches("q.").to_owned(), v.clone()))
        .collect();
    fields.push(("comment".into(), comment.to_owned()));
    (fields, serde_json::to_string(&json).unwrap())
}

fn receipt_of(html: &str) -> String {
    html.split("id=\"receipt\">").nth(1).unwrap()[..11].to_owned()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[derive(QueryableByName)]
struct FreePages {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    freelist_count: i32,
}

#[derive(QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Text)]
    v: String,
}

fn pg_texts(conn: &mut DbConn, sql: &str) -> Vec<String> {
    let DbConn::Postgresql(c) = conn else {
        panic!("PostgreSQL only")
    };
    diesel::sql_query(sql)
        .load::<Text>(c)
        .unwrap()
        .into_iter()
        .map(|r| r.v)
        .collect()
}

#[test]
fn while_a_wave_is_open_no_answer_can_be_read_from_the_database() {
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    let id = held_wave(&state);
    let mut conn = state.pool.get().unwrap();
    let mut links = Vec::new();
    wave::open(&mut conn, id, &state.config.base_url, |l| {
        links = l.to_vec();
        Ok(())
    })
    .unwrap();
    let mut tokens: Vec<String> = support::mass_links(links)
        .iter()
        .map(|l| l.url.rsplit('/').next().unwrap().to_owned())
        .collect();
    tokens.extend(wave::slips(&mut conn, id, "CS-T", 8).unwrap().2);
    drop(conn);
    let server = Server::start(state);
    let run = sanping::domain::token::random_id();
    let mut markers = Vec::new();
    let mut answer_jsons = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        // Comments of very different lengths: the ciphertexts must not tell them apart.
        let marker = format!("MARK{run}N{i}");
        let comment = format!("{marker}{}", "意".repeat([0, 40, 300, 1900][i % 4]));
        let (fields, json) = sheet(i, &comment);
        let (status, html) = support::post_fields(&server.url(&format!("/s/{t}")), &fields);
        assert_eq!(status, 200, "{html}");
        markers.push(marker);
        answer_jsons.push(json);
    }
    let mut conn = server.state.pool.get().unwrap();
    assert_eq!(support::stored_sheets(&mut conn, id), tokens.len() as i64);
    let secrets: Vec<&String> = markers.iter().chain(&answer_jsons).collect();

    // Every column of every table, as SQL sees it.
    let text = support::dump_text(&server.state);
    for s in &secrets {
        assert!(!text.contains(s.as_str()), "{s} readable through SQL");
    }
    // Only three ciphertext lengths, whatever the comment's length.
    let lengths: std::collections::BTreeSet<usize> = sealed::all(&mut conn, id)
        .unwrap()
        .iter()
        .map(Vec::len)
        .collect();
    assert!(lengths.len() <= 3, "{lengths:?}");

    match &db {
        TestDb::Sqlite { .. } => {
            // The file and its write-ahead log, byte by byte.
            for suffix in ["", "-wal"] {
                let bytes = std::fs::read(format!("{}{suffix}", db.url())).unwrap_or_default();
                for s in &secrets {
                    assert!(!contains(&bytes, s), "{s} in the SQLite file{suffix}");
                }
            }
        }
        TestDb::Postgres { base, schema, .. } => {
            // The attack that re-linked everyone: invitation and answer share a
            // transaction id. It still pairs people with rows — of ciphertext only.
            let joined = pg_texts(
                &mut conn,
                &format!(
                    "SELECT encode(s.sheet, 'escape') AS v FROM invitations i \
                     JOIN sealed_{id} s ON i.xmin = s.xmin WHERE i.used"
                ),
            );
            assert_eq!(joined.len(), tokens.len());
            for row in &joined {
                for s in &secrets {
                    assert!(!row.contains(s.as_str()), "{s} through the xmin join");
                }
            }
            let dump = std::process::Command::new("pg_dump")
                .args(["--no-owner", "--schema", schema, base])
                .output()
                .unwrap();
            assert!(
                dump.status.success(),
                "{}",
                String::from_utf8_lossy(&dump.stderr)
            );
            assert!(contains(&dump.stdout, &format!("sealed_{id}")));
            for s in &secrets {
                assert!(!contains(&dump.stdout, s), "{s} in pg_dump");
            }
        }
    }
}

/// Spearman's rank correlation of a permutation of 0..n with 0..n.
fn spearman(order: &[usize]) -> f64 {
    let n = order.len() as f64;
    let d2: f64 = order
        .iter()
        .enumerate()
        .map(|(pos, &i)| (pos as f64 - i as f64).powi(2))
        .sum();
    1.0 - 6.0 * d2 / (n * (n * n - 1.0))
}

fn order_of(comments: Vec<String>) -> Vec<usize> {
    comments
        .iter()
        .map(|c| c.trim_start_matches('#').parse().unwrap())
        .collect()
}

#[test]
fn unsealing_takes_t_holders_and_leaves_sheets_unlinked_and_shuffled() {
    const N: usize = 90;
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    let id = held_wave(&state);
    let mut conn = state.pool.get().unwrap();
    wave::open(&mut conn, id, &state.config.base_url, |_| Ok(())).unwrap();
    let tokens = wave::slips(&mut conn, id, "CS-T", N).unwrap().2;
    drop(conn);
    let server = Server::start(state);
    let mut receipts = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        let (fields, _) = sheet(i, &format!("#{i}"));
        let (status, html) = support::post_fields(&server.url(&format!("/s/{t}")), &fields);
        assert_eq!(status, 200);
        receipts.push(receipt_of(&html));
    }
    let mut conn = server.state.pool.get().unwrap();
    wave::close(&mut conn, id).unwrap();
    let err = sanping::report::build(&mut conn, id, None).unwrap_err();
    assert!(err.to_string().contains("sealed"), "{err}");

    // T−1 holders, or a wrong password: refused, nothing changed, the refusal audited.
    let one = sealing::unseal(&mut conn, id, &given(&HOLDERS[..1]), "test").unwrap_err();
    assert!(one.to_string().contains("needs 2"), "{one}");
    let wrong = given(&[HOLDERS[0], ("holder-b", "not-the-password")]);
    let bad = sealing::unseal(&mut conn, id, &wrong, "test").unwrap_err();
    assert!(bad.to_string().contains("holder-b"), "{bad}");
    let outsider = given(&[HOLDERS[0], (support::HOLDER, support::HOLDER_PASSWORD)]);
    assert!(sealing::unseal(&mut conn, id, &outsider, "test").is_err());
    assert!(wave::get(&mut conn, id).unwrap().is_sealed());
    assert_eq!(sealed::count(&mut conn, id).unwrap(), N as i64);
    let refusals = db::accounts::audit_entries(&mut conn, 50)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "wave.unseal.refused")
        .count();
    assert_eq!(refusals, 3);

    // Any T of them: every sheet opened, counted as submitted.
    let done = sealing::unseal(&mut conn, id, &given(&[HOLDERS[2], HOLDERS[0]]), "test").unwrap();
    assert_eq!((done.sheets, done.rejected), (N, 0));
    let w = wave::get(&mut conn, id).unwrap();
    assert!(!w.is_sealed() && w.unsealed_at.is_some());
    assert!(
        sealed::count(&mut conn, id).is_err(),
        "the ciphertexts are dropped"
    );
    assert!(
        holders::of_wave(&mut conn, id)
            .unwrap()
            .iter()
            .all(|h| h.share.is_none()),
        "the key can never be rebuilt again"
    );
    assert!(sealing::unseal(&mut conn, id, &given(&HOLDERS[..2]), "test").is_err());
    let counts = sanping::tally::load(&mut conn, id).unwrap();
    let cs_t = &counts.own["CS-T"];
    assert_eq!(cs_t.responses, N as u64);
    let first_item = support::answers_for("liuhao.toml", 0)[0]
        .0
        .trim_start_matches("q.")
        .to_owned();
    for choice in 0..3 {
        let option = &support::answers_for("liuhao.toml", choice)[0].1;
        assert_eq!(
            cs_t.items[&first_item][option],
            (0..N).filter(|i| i % 3 == choice).count() as u64
        );
    }
    let mut expected = receipts.clone();
    expected.sort();
    assert_eq!(sanping::respond::receipts(&mut conn, id).unwrap(), expected);

    // Storage order: unrelated to the order of submission.
    let by_scan = db::waves::responses_of(&mut conn, id)
        .unwrap()
        .into_iter()
        .filter_map(|r| r.comment)
        .collect();
    let mut orders = vec![("scan", order_of(by_scan))];
    match &mut *conn {
        DbConn::Sqlite(c) => {
            let rows: Vec<Text> = diesel::sql_query(format!(
                "SELECT comment AS v FROM responses INDEXED BY responses_wave_unit \
                 WHERE wave_id = {id} AND unit = 'CS-T'"
            ))
            .load(c)
            .unwrap();
            orders.push(("index", order_of(rows.into_iter().map(|r| r.v).collect())));
            // The log is empty and no free page keeps an old one.
            let wal = std::fs::metadata(format!("{}-wal", db.url())).map_or(0, |m| m.len());
            assert_eq!(wal, 0, "the write-ahead log is truncated");
            let free: FreePages = diesel::sql_query("PRAGMA freelist_count")
                .get_result(c)
                .unwrap();
            assert_eq!(free.freelist_count, 0);
        }
        pg @ DbConn::Postgresql(_) => {
            let by_ctid = pg_texts(
                pg,
                &format!("SELECT comment AS v FROM responses WHERE wave_id = {id} ORDER BY ctid"),
            );
            orders.push(("ctid", order_of(by_ctid)));
            // One transaction for every sheet, shared with no invitation.
            let xmins = pg_texts(
                pg,
                &format!("SELECT DISTINCT xmin::text AS v FROM responses WHERE wave_id = {id}"),
            );
            assert_eq!(xmins.len(), 1, "{xmins:?}");
            let shared = pg_texts(
                pg,
                &format!(
                    "SELECT id AS v FROM invitations WHERE xmin::text = '{}'",
                    xmins[0]
                ),
            );
            assert!(shared.is_empty());
        }
    }
    for (how, order) in orders {
        assert_eq!(order.len(), N, "{how}");
        let rho = spearman(&order);
        // For a random order the coefficient's spread is about 1/sqrt(N) ≈ 0.11.
        assert!(
            rho.abs() < 0.45,
            "{how} order follows submission order: rho = {rho:.2}"
        );
    }
}

#[test]
fn key_holders_check_open_and_unseal_from_the_command_line() -> anyhow::Result<()> {
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    let mut conn = state.pool.get()?;
    for (name, password) in &HOLDERS[..2] {
        auth::add_user(&mut conn, name, Role::Committee, password)?;
    }
    drop(conn);
    let dir = tempfile::tempdir()?;
    let run = |args: &[&str], stdin: &str| {
        use std::io::Write as _;
        let mut child = support::bin()
            .env("DATABASE_URL", db.url())
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let survey = support::survey_file("liuhao.toml");
    let survey = survey.to_str().unwrap();
    let (ok, out) = run(
        &[
            "wave",
            "create",
            "--title",
            "t",
            "--survey",
            survey,
            "--holders",
            "holder-a",
        ],
        "",
    );
    assert!(!ok && out.contains("--single-holder"), "{out}");
    let (ok, out) = run(
        &[
            "wave",
            "create",
            "--title",
            "t",
            "--survey",
            survey,
            "--holders",
            "holder-a,holder-b",
            "--threshold",
            "2",
        ],
        "",
    );
    assert!(ok, "{out}");
    let id: String = out.lines().next().unwrap().trim().to_owned();
    let (ok, out) = run(
        &["wave", "check-key", &id, "--holder", "holder-a"],
        "wrong-password\n",
    );
    assert!(!ok && out.contains("wrong"), "{out}");
    let (ok, out) = run(
        &["wave", "check-key", &id, "--holder", "holder-a"],
        "password-of-a\n",
    );
    assert!(ok, "{out}");
    let links = dir.path().join("links.csv");
    let open = ["wave", "open", &id, "--links", links.to_str().unwrap()];
    let (ok, out) = run(&open, "");
    assert!(!ok && out.contains("only 1 of"), "{out}");
    let (ok, out) = run(
        &["wave", "check-key", &id, "--holder", "holder-b"],
        "password-of-b\n",
    );
    assert!(ok, "{out}");
    let (ok, out) = run(&open, "");
    assert!(ok, "{out}");
    let (ok, out) = run(
        &["wave", "check-key", &id, "--holder", "holder-b"],
        "password-of-b\n",
    );
    assert!(ok && out.contains("share"), "{out}");
    let token = std::fs::read_to_string(&links)?
        .lines()
        .find(|l| l.contains(",mass,"))
        .and_then(|l| l.rsplit('/').next())
        .unwrap()
        .to_owned();
    let (fields, _) = sheet(0, "命令行");
    let submission = sanping::domain::answers::Submission {
        answers: fields
            .iter()
            .filter(|(k, _)| k.starts_with("q."))
            .map(|(k, v)| (k.trim_start_matches("q.").to_owned(), v.clone()))
            .collect(),
        comment: Some("命令行".into()),
    };
    let mut conn = state.pool.get()?;
    assert!(matches!(
        sanping::respond::submit(&mut conn, &token, &submission)?,
        sanping::respond::Submitted::Stored(_)
    ));
    drop(conn);
    assert!(run(&["wave", "close", &id], "").0);
    let (ok, out) = run(&["wave", "show", &id], "");
    assert!(
        ok && out.contains("待开箱") && out.contains("holder-a ✓"),
        "{out}"
    );
    let (ok, out) = run(
        &["wave", "unseal", &id, "--holder", "holder-a"],
        "password-of-a\n",
    );
    assert!(!ok && out.contains("needs 2"), "{out}");
    let (ok, out) = run(
        &[
            "wave", "unseal", &id, "--holder", "holder-b", "--holder", "holder-a",
        ],
        "password-of-b\npassword-of-a\n",
    );
    assert!(ok && out.contains("1 answer sheet"), "{out}");
    let (ok, out) = run(&["wave", "verify", &id], "");
    assert!(ok, "{out}");
    Ok(())
}

#[test]
fn account_keys_are_made_at_login_kept_across_a_password_change_and_never_silently_replaced() {
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    let id = held_wave(&state);
    let mut conn = state.pool.get().unwrap();
    // An account from before sealing has no key: the next login makes one.
    diesel::update(db::schema::users::table.find("holder-c"))
        .set((
            db::schema::users::public_key.eq(None::<Vec<u8>>),
            db::schema::users::sealed_key.eq(None::<Vec<u8>>),
        ))
        .execute(&mut *conn)
        .unwrap();
    let err = wave::open(&mut conn, id, "http://x", |_| Ok(())).unwrap_err();
    assert!(err.to_string().contains("holder-c"), "{err}");
    auth::login(&mut conn, "holder-c", "password-of-c", "127.0.0.1").unwrap();
    wave::open(&mut conn, id, "http://x", |_| Ok(())).unwrap();
    // A new password set without the old one would orphan the share: refused.
    let err = auth::add_user(&mut conn, "holder-a", Role::Committee, "new-password").unwrap_err();
    assert!(err.to_string().contains("admin password"), "{err}");
    // Knowing the old one, the key is re-encrypted and the share still opens.
    auth::change_password(&mut conn, "holder-a", "password-of-a", "new-password-a").unwrap();
    assert!(sealing::check_key(&mut conn, id, "holder-a", "password-of-a", "t").is_err());
    assert_eq!(
        sealing::check_key(&mut conn, id, "holder-a", "new-password-a", "t").unwrap(),
        sealing::KeyCheck::Share
    );
    wave::close(&mut conn, id).unwrap();
    let done = sealing::unseal(
        &mut conn,
        id,
        &given(&[("holder-a", "new-password-a"), HOLDERS[2]]),
        "t",
    )
    .unwrap();
    assert_eq!(done.sheets, 0);
    // Guessing a holder's password through key checks is throttled like logins.
    for _ in 0..6 {
        assert!(sealing::check_key(&mut conn, id, "holder-b", "guess", "t").is_err());
    }
    let err = sealing::check_key(&mut conn, id, "holder-b", "password-of-b", "t").unwrap_err();
    assert!(err.to_string().contains("too many"), "{err}");
}

#[test]
fn purging_a_sealed_rehearsal_drops_its_ciphertexts_and_shares_and_it_opens_with_a_new_key() {
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    let (id, links) = support::open_wave(&state, "liuhao.toml", None, true);
    let mut conn = state.pool.get().unwrap();
    let first_key = wave::get(&mut conn, id).unwrap().public_key.unwrap();
    let token = support::mass_links(links)[0]
        .url
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let (fields, _) = sheet(0, "演练");
    let submission = sanping::domain::answers::Submission {
        answers: fields
            .iter()
            .filter(|(k, _)| k.starts_with("q."))
            .map(|(k, v)| (k.trim_start_matches("q.").to_owned(), v.clone()))
            .collect(),
        comment: None,
    };
    sanping::respond::submit(&mut conn, &token, &submission).unwrap();
    assert_eq!(sealed::count(&mut conn, id).unwrap(), 1);
    let (sheets, _) = wave::purge_test(&mut conn, id).unwrap();
    assert_eq!(sheets, 1);
    assert!(
        sealed::count(&mut conn, id).is_err(),
        "the ciphertext table is dropped"
    );
    let w = wave::get(&mut conn, id).unwrap();
    assert!(w.public_key.is_none() && w.state == "draft");
    assert!(
        holders::of_wave(&mut conn, id)
            .unwrap()
            .iter()
            .all(|h| h.share.is_none())
    );
    wave::open(&mut conn, id, "http://x", |_| Ok(())).unwrap();
    let second_key = wave::get(&mut conn, id).unwrap().public_key.unwrap();
    assert_ne!(first_key, second_key, "a fresh key each time it opens");
}
