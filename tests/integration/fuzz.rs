//! Random and malicious input: forged answer sheets against `POST /s/{token}` and random CSV
//! files against the importers. Never a 500, never a panic, never a partial write, and an
//! invalid submission never burns its token.

use diesel::prelude::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sanping::db::schema::invitations;

use crate::support::{self, Server, TestDb};

fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        (1..=20u8).prop_map(|i| format!("q.m{i}")),
        Just("comment".to_owned()),
        Just("q.".to_owned()),
        "[a-z.\\[\\]%&=]{0,12}",
        "\\PC{0,8}",
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        prop_oneof![
            Just("satisfied"),
            Just("basic"),
            Just("dissatisfied"),
            Just("unknown")
        ]
        .prop_map(str::to_owned),
        "\\PC{0,40}",
        Just("<script>alert(1)</script>".to_owned()),
        (1900usize..2100).prop_map(|n| "意".repeat(n)),
        Just("x".repeat(70_000)),
    ]
}

fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A form body: mostly well-formed pairs, sometimes with raw invalid bytes spliced in.
fn body() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec((field(), value()), 0..30),
        prop::option::of(prop::collection::vec(any::<u8>(), 0..64)),
        any::<bool>(),
    )
        .prop_map(|(pairs, raw, complete)| {
            let mut parts: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect();
            if complete {
                parts.extend((1..=18).map(|i| format!("q.m{i}=satisfied")));
            }
            let mut bytes = parts.join("&").into_bytes();
            if let Some(raw) = raw {
                bytes.extend_from_slice(b"&");
                bytes.extend(raw);
            }
            bytes
        })
}

#[test]
fn forged_answer_sheets_never_cause_a_500_and_never_burn_a_token() {
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    let (wave, _) = support::open_wave(&state, "liuhao.toml", None, false);
    let (_, _, tokens) =
        sanping::wave::slips(&mut state.pool.get().unwrap(), wave, "LIB", 200).unwrap();
    let server = Server::start(state);
    let next = std::cell::Cell::new(0usize);
    let mut runner = TestRunner::new(Config {
        cases: 150,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&body(), |bytes| {
            let i = next.get();
            next.set(i + 1);
            let token = &tokens[i % tokens.len()];
            let mut conn = server.state.pool.get().unwrap();
            let before = support::stored_sheets(&mut conn, wave);
            let hash = sanping::domain::token::hash(token);
            let was_used: bool = invitations::table
                .filter(invitations::token_hash.eq(&hash))
                .select(invitations::used)
                .first(&mut *conn)
                .unwrap();
            drop(conn);
            let (status, _) = support::post_raw(
                &server.url(&format!("/s/{token}")),
                "application/x-www-form-urlencoded",
                &bytes,
            );
            prop_assert!(status < 500, "status {}", status);
            let mut conn = server.state.pool.get().unwrap();
            let after = support::stored_sheets(&mut conn, wave);
            let used: bool = invitations::table
                .filter(invitations::token_hash.eq(&hash))
                .select(invitations::used)
                .first(&mut *conn)
                .unwrap();
            match status {
                200 => prop_assert!(
                    !was_used && used && after == before + 1,
                    "a stored answer burns its token once"
                ),
                410 => prop_assert!(was_used && after == before),
                _ => prop_assert!(
                    used == was_used && after == before,
                    "status {}: nothing written, token as it was",
                    status
                ),
            }
            Ok(())
        })
        .unwrap();
}

/// CSV-ish files: a right, wrong or random header, rows of plausible and random cells, and
/// sometimes random bytes at the end.
pub fn csv_text() -> impl Strategy<Value = Vec<u8>> {
    let cell = prop_oneof![
        Just(String::new()),
        Just("U".to_owned()),
        Just("CS".to_owned()),
        Just("branch".to_owned()),
        Just("committee".to_owned()),
        "[A-Z]{1,3}",
        "\\PC{0,6}",
        Just("\"quoted, with comma\"".to_owned()),
    ];
    let row = prop::collection::vec(cell, 0..6).prop_map(|cells| cells.join(","));
    (
        prop_oneof![
            Just("code,name,kind,parent".to_owned()),
            Just("email,name,unit,category,role".to_owned()),
            "\\PC{0,20}"
        ],
        prop::collection::vec(row, 0..12),
        prop::option::of(prop::collection::vec(any::<u8>(), 0..32)),
    )
        .prop_map(|(header, rows, raw)| {
            let mut bytes = format!("{header}\n{}", rows.join("\n")).into_bytes();
            if let Some(raw) = raw {
                bytes.extend(raw);
            }
            bytes
        })
}

#[test]
fn random_csv_files_import_all_or_nothing_without_panicking() {
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    let mut runner = TestRunner::new(Config {
        cases: 200,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&csv_text(), |bytes| {
            let mut conn = state.pool.get().unwrap();
            let units_before = sanping::db::units::all(&mut conn).unwrap();
            let people_before = sanping::db::people::all(&mut conn).unwrap();
            match sanping::import::units(&mut conn, &bytes) {
                Ok(_) => {}
                Err(sanping::import::ImportError::Rows(rows)) => {
                    prop_assert!(!rows.is_empty());
                    prop_assert_eq!(
                        sanping::db::units::all(&mut conn).unwrap(),
                        units_before.clone()
                    );
                }
                Err(e) => prop_assert!(false, "database error: {}", e),
            }
            match sanping::import::people(&mut conn, &bytes) {
                Ok(_) => {}
                Err(sanping::import::ImportError::Rows(_)) => {
                    prop_assert_eq!(sanping::db::people::all(&mut conn).unwrap(), people_before);
                }
                Err(e) => prop_assert!(false, "database error: {}", e),
            }
            Ok(())
        })
        .unwrap();
}
