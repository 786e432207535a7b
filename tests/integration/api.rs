//! The JSON API over real HTTP: tokens (401s, hashed storage, console and CLI), scopes
//! (404 for sibling scopes), every endpoint's happy path and an error, the report against
//! `sanping report --format json`, the shared rate limit, pagination, audit entries, the
//! OpenAPI document against the route table, and no CORS.

use std::collections::BTreeSet;

use sanping::auth::{self, Role};
use serde_json::{Value, json};

use crate::support::{self, Server, TestDb};

/// A response: status, headers (lowercased names) and the body as JSON (`Null` when not).
pub(crate) struct Res {
    pub(crate) status: u16,
    headers: Vec<(String, String)>,
    pub(crate) body: Value,
}

impl Res {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

fn call(
    server: &Server,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<(&str, &[u8])>,
) -> Res {
    let agent = support::client();
    let url = server.url(path);
    let mut req = ureq::http::Request::builder().method(method).uri(&url);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let mut res = match body {
        Some((ctype, bytes)) => {
            let req = req
                .header("content-type", ctype)
                .body(bytes.to_vec())
                .unwrap();
            agent.run(req).unwrap()
        }
        None => agent.run(req.body(()).unwrap()).unwrap(),
    };
    let status = res.status().as_u16();
    let headers = res
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                v.to_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let text = res.body_mut().read_to_string().unwrap_or_default();
    Res {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

pub(crate) fn get(server: &Server, path: &str, token: &str) -> Res {
    call(server, "GET", path, Some(token), None)
}

fn post(server: &Server, path: &str, token: &str, body: &Value) -> Res {
    let bytes = body.to_string();
    call(
        server,
        "POST",
        path,
        Some(token),
        Some(("application/json", bytes.as_bytes())),
    )
}

/// POSTs a CSV file to an import endpoint.
fn post_csv(server: &Server, path: &str, token: &str, csv: &[u8]) -> Res {
    call(server, "POST", path, Some(token), Some(("text/csv", csv)))
}

/// An account (password `password-of-NAME`) with a token; returns the token.
fn account(server: &Server, name: &str, role: Role, scope: Option<&str>) -> String {
    account_limited(server, name, role, scope, 1000)
}

fn account_limited(
    server: &Server,
    name: &str,
    role: Role,
    scope: Option<&str>,
    per_minute: i32,
) -> String {
    let mut conn = server.state.pool.get().unwrap();
    auth::add_scoped_user_as(
        &mut conn,
        "system",
        None,
        name,
        role,
        scope,
        &format!("password-of-{name}"),
    )
    .unwrap();
    sanping::api_token::create(&mut conn, "system", name, "test", per_minute)
        .unwrap()
        .1
}

fn audit(server: &Server) -> Vec<sanping::db::accounts::AuditEntry> {
    sanping::db::accounts::audit_entries(&mut server.state.pool.get().unwrap(), 1000).unwrap()
}

fn audited(server: &Server, actor: &str, action: &str) -> usize {
    audit(server)
        .iter()
        .filter(|e| e.actor == actor && e.action == action)
        .count()
}

fn setup() -> (TestDb, Server) {
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    let server = Server::start(state);
    (db, server)
}

#[test]
fn missing_unknown_revoked_and_disabled_tokens_are_401() {
    let (db, server) = setup();
    let token = account(&server, "org", Role::Organizer, None);
    let none = call(&server, "GET", "/api/v1/waves", None, None);
    assert_eq!((none.status, none.code()), (401, "unauthorized"));
    assert!(none.header("www-authenticate").is_some());
    let bad = get(&server, "/api/v1/waves", "sp_aaaaaaaaaaaaaaaaaaaaaaaaaa");
    assert_eq!((bad.status, bad.code()), (401, "unauthorized"));
    assert_eq!(get(&server, "/api/v1/waves", "garbage").status, 401);
    assert_eq!(get(&server, "/api/v1/waves", &token).status, 200);

    // Revoked with the CLI.
    let id = sanping::db::api_tokens::of_user(&mut server.state.pool.get().unwrap(), "org")
        .unwrap()[0]
        .id
        .clone();
    let out = support::bin()
        .env("DATABASE_URL", db.url())
        .args(["token", "revoke", &id, "--as", "ops"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let revoked = get(&server, "/api/v1/waves", &token);
    assert_eq!((revoked.status, revoked.code()), (401, "unauthorized"));
    assert_eq!(audited(&server, "cli:ops", "token.revoke"), 1);

    // Made with the CLI: printed once on stdout, works until the account is disabled.
    let out = support::bin()
        .env("DATABASE_URL", db.url())
        .args([
            "token", "create", "org", "--label", "nightly", "--as", "ops",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let fresh = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(fresh.starts_with("sp_"), "{fresh}");
    assert_eq!(audited(&server, "cli:ops", "token.create"), 1);
    assert_eq!(get(&server, "/api/v1/waves", &fresh).status, 200);
    sanping::db::accounts::set_disabled(&mut server.state.pool.get().unwrap(), "org", true)
        .unwrap();
    let disabled = get(&server, "/api/v1/waves", &fresh);
    assert_eq!((disabled.status, disabled.code()), (401, "unauthorized"));
    // An unknown account gets no token.
    let out = support::bin()
        .env("DATABASE_URL", db.url())
        .args(["token", "create", "nobody"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn outside_the_scope_is_404_for_sibling_scopes() {
    let (_db, server) = setup();
    let cs = account(&server, "cs-org", Role::Organizer, Some("CS"));
    let lib = account(&server, "lib-org", Role::Organizer, Some("LIB"));
    let root = account(&server, "root-org", Role::Organizer, None);
    let wave = support::create_wave(&server.state, "liuhao.toml", Some("CS"), false);
    let whole = support::create_wave(&server.state, "liuhao.toml", None, false);

    let ids = |token: &str| -> BTreeSet<i64> {
        get(&server, "/api/v1/waves", token).body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(ids(&cs), BTreeSet::from([i64::from(wave)]));
    assert!(ids(&lib).is_empty());
    assert_eq!(ids(&root), BTreeSet::from([wave, whole].map(i64::from)));

    assert_eq!(
        get(&server, &format!("/api/v1/waves/{wave}"), &cs).status,
        200
    );
    for path in ["", "/progress", "/mail", "/report", "/record", "/receipts"] {
        let r = get(&server, &format!("/api/v1/waves/{wave}{path}"), &lib);
        assert_eq!((r.status, r.code()), (404, "not_found"), "{path}");
        let r = get(&server, &format!("/api/v1/waves/{whole}{path}"), &cs);
        assert_eq!(r.status, 404, "whole tree {path}");
        // A wave that does not exist answers the same.
        assert_eq!(
            get(&server, &format!("/api/v1/waves/999{path}"), &lib).status,
            404
        );
    }
    for action in ["open", "remind", "close", "publish"] {
        let r = post(
            &server,
            &format!("/api/v1/waves/{wave}/{action}"),
            &lib,
            &json!({}),
        );
        assert_eq!(r.status, 404, "{action}");
    }
    let r = post(
        &server,
        &format!("/api/v1/waves/{wave}/extend"),
        &lib,
        &json!({"closes": "2099-01-01 10:00"}),
    );
    assert_eq!(r.status, 404);
    assert!(
        audit(&server)
            .iter()
            .all(|e| e.actor != "lib-org" || !e.action.starts_with("wave."))
    );

    // Units: each sees its own subtree.
    let codes = |token: &str| -> Vec<String> {
        get(&server, "/api/v1/units", token).body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["code"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(codes(&cs), ["CS", "CS-S1", "CS-T"]);
    assert_eq!(codes(&lib), ["LIB"]);

    // Imports: rows outside the scope are line errors, nothing is written.
    let csv = "code,name,kind,parent\nCS-S2,计算机学院本科生第二党支部,branch,CS\nLIB-2,图书馆第二支部,branch,LIB\n";
    let r = post_csv(&server, "/api/v1/units/import", &cs, csv.as_bytes());
    assert_eq!((r.status, r.code()), (422, "invalid_rows"));
    let rows = r.body["error"]["details"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["line"], 3);
    assert!(codes(&root).iter().all(|c| c != "CS-S2"));
    let people = "email,name,unit,category,role\nnew1@demo.edu.cn,新人,CS-T,faculty,member\nnew2@demo.edu.cn,新人二,LIB,faculty,member\n";
    let r = post_csv(&server, "/api/v1/people/import", &cs, people.as_bytes());
    assert_eq!((r.status, r.code()), (422, "invalid_rows"));
    assert_eq!(r.body["error"]["details"]["rows"][0]["line"], 3);
    // The root of one's scope may not be moved under a sibling.
    let r = post_csv(
        &server,
        "/api/v1/units/import",
        &cs,
        "code,name,kind,parent\nCS,计算机学院党总支,general_branch,LIB\n".as_bytes(),
    );
    assert_eq!(r.status, 422);
    // Inside the scope it works.
    let r = post_csv(
        &server,
        "/api/v1/units/import",
        &cs,
        "code,name,kind,parent\nCS-S2,计算机学院本科生第二党支部,branch,CS\n".as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["added"], json!(["CS-S2"]));

    // A wave outside the scope cannot be created.
    ensure_holder(&server);
    let r = post(&server, "/api/v1/waves", &cs, &new_wave(Some("LIB")));
    assert_eq!((r.status, r.code()), (422, "scope_outside"));
    let r = post(&server, "/api/v1/waves", &cs, &new_wave(None));
    assert_eq!((r.status, r.code()), (422, "scope_outside"));
    // Nor one whose key holder lies outside it (keeper is installation-wide).
    let r = post(&server, "/api/v1/waves", &cs, &new_wave(Some("CS-T")));
    assert_eq!((r.status, r.code()), (422, "scope_outside"), "{}", r.body);
    let mut inside = new_wave(Some("CS-T"));
    inside["holders"] = json!(["cs-org"]);
    let r = post(&server, "/api/v1/waves", &cs, &inside);
    assert_eq!(r.status, 201, "{}", r.body);
    // Its entry is in the scope's audit log, as the console's would be.
    let id = r.body["id"].as_i64().unwrap();
    let entry = audit(&server)
        .into_iter()
        .find(|e| e.action == "wave.create" && e.detail.starts_with(&format!("wave {id}")))
        .expect("audited");
    assert_eq!(entry.scope.as_deref(), Some("CS-T"), "{}", entry.detail);
}

fn ensure_holder(server: &Server) {
    support::ensure_holder(&mut server.state.pool.get().unwrap());
}

fn new_wave(scope: Option<&str>) -> Value {
    json!({
        "survey": "liuhao.toml",
        "title": "2026年度群众测评",
        "scope": scope,
        "holders": [support::HOLDER],
        "threshold": 1,
    })
}

#[test]
fn imports_take_csv_or_json_rows_with_the_cli_line_errors() {
    let (_db, server) = setup();
    let org = account(&server, "org", Role::Organizer, None);
    let viewer = account(&server, "v", Role::Viewer, None);
    let bad = "code,name,kind,parent\nX1,名称,branch,NOPE\nX2,,branch,U\n";
    let expected =
        match sanping::import::units(&mut server.state.pool.get().unwrap(), bad.as_bytes()) {
            Err(sanping::import::ImportError::Rows(rows)) => rows,
            other => panic!("{other:?}"),
        };
    let r = post_csv(&server, "/api/v1/units/import", &org, bad.as_bytes());
    assert_eq!((r.status, r.code()), (422, "invalid_rows"));
    let got: Vec<(u64, String)> = r.body["error"]["details"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want: Vec<(u64, String)> = expected
        .iter()
        .map(|e| (e.line, e.message.clone()))
        .collect();
    assert_eq!(got, want);

    // JSON rows: row i is line i + 2.
    let rows = json!({"rows": [
        {"code": "CS-S3", "name": "第三支部", "kind": "branch", "parent": "CS"},
        {"code": "CS-S4", "name": "第四支部", "kind": "nonsense", "parent": "CS"},
    ]});
    let r = post(&server, "/api/v1/units/import", &org, &rows);
    assert_eq!(r.status, 422);
    assert_eq!(r.body["error"]["details"]["rows"][0]["line"], 3);
    let rows = json!({"rows": [
        {"code": "CS-S3", "name": "第三支部", "kind": "branch", "parent": "CS"},
    ]});
    let r = post(&server, "/api/v1/units/import", &org, &rows);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["added"], json!(["CS-S3"]));
    let people = json!({"rows": [
        {"email": "p1@demo.edu.cn", "name": "张三", "unit": "CS-S3", "category": "student", "role": ["member"]},
    ]});
    let r = post(&server, "/api/v1/people/import", &org, &people);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["added"], json!(["p1@demo.edu.cn"]));
    let r = post(
        &server,
        "/api/v1/people/import",
        &org,
        &json!({"rows": [{"email": "x@y.z", "colour": "red"}]}),
    );
    assert_eq!((r.status, r.code()), (400, "bad_json"));
    let r = call(
        &server,
        "POST",
        "/api/v1/people/import",
        Some(&org),
        Some(("application/xml", b"<x/>")),
    );
    assert_eq!((r.status, r.code()), (415, "unsupported_media_type"));
    let r = post_csv(
        &server,
        "/api/v1/units/import",
        &viewer,
        b"code,name,kind,parent\n",
    );
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    let r = get(&server, "/api/v1/units", &viewer);
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    let r = get(&server, "/api/v1/units?per_page=2&page=2", &org);
    assert_eq!((r.status, r.body["per_page"].as_u64()), (200, Some(2)));
    assert_eq!(r.body["total"].as_u64(), Some(6));
    // The console's entries, by the account, naming the token.
    let entries = audit(&server);
    for action in ["units.import", "people.import"] {
        let e = entries
            .iter()
            .find(|e| e.action == action && e.actor == "org")
            .unwrap_or_else(|| panic!("{action} not audited"));
        assert!(e.detail.contains("1 added"), "{}", e.detail);
        assert!(e.detail.contains("[API token "), "{}", e.detail);
    }
    // A scoped token's import: its count of unchanged units is of its subtree only (not the
    // installation's size), and its entry is in its scope's audit log.
    let cs = account(&server, "csorg", Role::Organizer, Some("CS"));
    let units = sanping::db::units::all(&mut server.state.pool.get().unwrap()).unwrap();
    let in_cs = sanping::scope::Scope::of(Some("CS")).units(&units).len();
    assert!(in_cs < units.len());
    let rows = json!({"rows": [
        {"code": "CS-S5", "name": "第五支部", "kind": "branch", "parent": "CS"},
    ]});
    let r = post(&server, "/api/v1/units/import", &cs, &rows);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["unchanged"].as_u64(),
        Some(in_cs as u64),
        "{}",
        r.body
    );
    let e = audit(&server)
        .into_iter()
        .find(|e| e.action == "units.import" && e.actor == "csorg")
        .unwrap();
    assert_eq!(e.scope.as_deref(), Some("CS"));
}

#[test]
fn creating_a_wave_refuses_bad_json_unknown_surveys_missing_holders_and_viewers() {
    let (_db, server) = setup();
    let org = account(&server, "org", Role::Organizer, None);
    let viewer = account(&server, "v", Role::Viewer, None);
    ensure_holder(&server);
    let r = call(
        &server,
        "POST",
        "/api/v1/waves",
        Some(&org),
        Some(("application/json", b"{not json")),
    );
    assert_eq!((r.status, r.code()), (400, "bad_json"));
    let mut unknown = new_wave(None);
    unknown["survey"] = json!("nope.toml");
    assert_eq!(
        post(&server, "/api/v1/waves", &org, &unknown).code(),
        "unknown_survey"
    );
    let mut nobody = new_wave(None);
    nobody["holders"] = json!([]);
    assert_eq!(post(&server, "/api/v1/waves", &org, &nobody).status, 422);
    assert_eq!(
        post(&server, "/api/v1/waves", &viewer, &new_wave(None)).status,
        403
    );

    assert!(
        get(&server, "/api/v1/waves", &org).body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(audited(&server, "org", "wave.create"), 0);
}

#[test]
fn a_wave_goes_through_its_lifecycle_with_errors_and_audit_entries() {
    let (_db, server) = setup();
    let org = account(&server, "org", Role::Organizer, None);
    let committee = account(&server, "com", Role::Committee, None);
    let viewer = account(&server, "v", Role::Viewer, None);
    ensure_holder(&server);

    let r = post(&server, "/api/v1/waves", &org, &new_wave(None));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["state"], "draft");
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/waves/{id}").as_str())
    );
    let w = |p: &str| format!("/api/v1/waves/{id}{p}");
    // Open: the key holder has not checked the key.
    let r = post(&server, &w("/open"), &org, &json!({}));
    assert_eq!((r.status, r.code()), (409, "keys_unchecked"));
    let r = post(&server, &w("/open"), &org, &json!({"unchecked_keys": true}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["state"], "open");
    assert!(r.body["queued"].as_u64().unwrap() > 0);
    let r = post(&server, &w("/open"), &org, &json!({"unchecked_keys": true}));
    assert_eq!((r.status, r.code()), (409, "wave_not_draft"));

    // Extend.
    let r = post(
        &server,
        &w("/extend"),
        &org,
        &json!({"closes": "2099-01-01 10:00"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body["closes_at"]
            .as_str()
            .unwrap()
            .starts_with("2099-01-01")
    );
    let r = post(
        &server,
        &w("/extend"),
        &org,
        &json!({"closes": "2001-01-01 10:00"}),
    );
    assert_eq!((r.status, r.code()), (422, "invalid"));
    let r = post(
        &server,
        &w("/extend"),
        &org,
        &json!({"closes": "next week"}),
    );
    assert_eq!(r.status, 422);

    // Remind: nobody's last mail is 3 days old; min_days must be sane.
    let r = post(&server, &w("/remind"), &org, &json!({"min_days": 0}));
    assert_eq!(r.status, 200, "{}", r.body);
    let r = post(&server, &w("/remind"), &org, &json!({"min_days": 9999}));
    assert_eq!((r.status, r.code()), (422, "invalid"));
    let r = post(&server, &w("/remind"), &org, &json!({"bogus": 1}));
    assert_eq!((r.status, r.code()), (400, "bad_json"));

    // Progress and mail status; a viewer may not see them.
    let r = get(&server, &w("/progress"), &committee);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body["invited"].as_i64().unwrap() > 0);
    assert!(r.body["total"].as_u64().unwrap() > 0);
    assert_eq!(get(&server, &w("/progress"), &viewer).status, 403);
    let r = get(&server, &w("/mail"), &org);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body["by_state"]["queued"].as_i64().unwrap() > 0);
    assert_eq!(r.body["failed"]["total"], 0);
    let r = get(&server, &w("/mail"), &committee);
    assert_eq!(r.status, 200);
    assert!(r.body["failed"].is_null());
    assert_eq!(get(&server, &w("/mail"), &viewer).status, 403);

    // No report, record or receipts while open.
    let r = get(&server, &w("/report"), &viewer);
    assert_eq!((r.status, r.code()), (409, "wave_open"));
    assert_eq!(get(&server, &w("/record"), &viewer).code(), "no_record");
    assert_eq!(
        get(&server, &w("/receipts"), &viewer).code(),
        "wave_not_published"
    );
    assert_eq!(get(&server, &w(""), &committee).body["state"], "open");

    // Close, and what a sealed wave refuses.
    assert_eq!(
        post(&server, &w("/close"), &committee, &json!({})).status,
        403
    );
    let r = post(&server, &w("/close"), &org, &json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["sealed"], true);
    assert_eq!(
        post(&server, &w("/close"), &org, &json!({})).code(),
        "wave_not_open"
    );
    assert_eq!(
        post(&server, &w("/publish"), &org, &json!({})).code(),
        "wave_sealed"
    );
    assert_eq!(get(&server, &w("/report"), &viewer).code(), "wave_sealed");
    let wave = i32::try_from(id).unwrap();
    sanping::sealing::unseal(
        &mut server.state.pool.get().unwrap(),
        wave,
        &support::holder_password(),
        "test",
    )
    .unwrap();
    let r = post(&server, &w("/publish"), &org, &json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["state"], "published");
    let r = get(&server, &w("/record"), &viewer);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["hash"].as_str().unwrap().len(), 64);
    assert_eq!(r.body["body"]["wave"], id);
    let r = get(&server, &w("/receipts"), &viewer);
    assert_eq!((r.status, r.body["total"].as_u64()), (200, Some(0)));
    let r = get(&server, "/api/v1/nothing/here", &viewer);
    assert_eq!((r.status, r.code()), (404, "not_found"));

    // The console's entries, by the account.
    for action in [
        "wave.create",
        "wave.open",
        "wave.extend",
        "wave.remind",
        "wave.close",
        "wave.publish",
    ] {
        assert_eq!(audited(&server, "org", action), 1, "{action}");
    }
    let open = audit(&server)
        .into_iter()
        .find(|e| e.action == "wave.open")
        .unwrap();
    assert!(
        open.detail.contains("invitations queued"),
        "{}",
        open.detail
    );
    assert!(
        open.detail.contains("key holders checked"),
        "{}",
        open.detail
    );
}

#[test]
fn the_report_has_the_figures_of_sanping_report_format_json() {
    let db = TestDb::new();
    let state = db.state();
    let wave = crate::report::fixed_wave(&state);
    let server = Server::start(state);
    let viewer = account(&server, "v", Role::Viewer, None);
    let org = account(&server, "org", Role::Organizer, None);
    let r = get(&server, &format!("/api/v1/waves/{wave}/report"), &viewer);
    assert_eq!(r.status, 200, "{}", r.body);
    let out = support::bin()
        .env("DATABASE_URL", db.url())
        .args(["report", &wave.to_string(), "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    // The comments come in a fresh random order each time (their order must not follow
    // submission); everything else is the same document.
    let mut api = r.body.clone();
    for doc in [&mut api, &mut cli] {
        let comments = doc["comments"].as_array_mut().unwrap();
        assert!(!comments.is_empty());
        comments.sort_by_key(ToString::to_string);
    }
    assert_eq!(api, cli);
    assert!(r.body["units"].as_array().is_some_and(|u| !u.is_empty()));
    let entry = audit(&server)
        .into_iter()
        .find(|e| e.action == "report.export")
        .unwrap();
    assert_eq!(entry.actor, "v");
    assert!(entry.detail.starts_with(&format!("wave {wave} as json")));

    // Published: the receipts, one per answer sheet, each found by its code.
    assert_eq!(
        post(
            &server,
            &format!("/api/v1/waves/{wave}/publish"),
            &org,
            &json!({})
        )
        .status,
        200
    );
    let codes = sanping::respond::receipts(&mut server.state.pool.get().unwrap(), wave).unwrap();
    let r = get(
        &server,
        &format!("/api/v1/waves/{wave}/receipts?per_page=5&code={}", codes[0]),
        &viewer,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["total"].as_u64(), Some(codes.len() as u64));
    assert_eq!(r.body["items"].as_array().unwrap().len(), 5);
    assert_eq!(r.body["found"], true);
    let r = get(
        &server,
        &format!("/api/v1/waves/{wave}/receipts?code=AAAAA-AAAAA"),
        &viewer,
    );
    assert_eq!(r.body["found"], false);
    assert_eq!(
        get(&server, &format!("/api/v1/waves/{wave}/record"), &viewer).status,
        200
    );
}

#[test]
fn past_its_limit_a_token_gets_429_with_retry_after_in_every_process() {
    let db = TestDb::new();
    let a = Server::start(db.state());
    let b = Server::start(db.state());
    let limit = 3;
    let token = account_limited(&a, "org", Role::Viewer, None, limit);
    let minute = || chrono::Utc::now().timestamp() / 60;
    // Requests alternate between the two servers: with one count shared through the
    // database, exactly `limit` pass and the next is refused (counts kept per process would
    // let 2 × limit pass). The count is per minute: should the minute turn during a try,
    // it is tried once more with a new token.
    let mut tries = 0;
    let answers = loop {
        let token = if tries == 0 {
            token.clone()
        } else {
            sanping::api_token::create(&mut a.state.pool.get().unwrap(), "system", "org", "", limit)
                .unwrap()
                .1
        };
        let started = minute();
        let mut answers = Vec::new();
        for i in 0..(2 * limit + 2) {
            let server = if i % 2 == 0 { &a } else { &b };
            let r = get(server, "/api/v1/waves", &token);
            let limited = r.status == 429;
            if limited {
                assert_eq!(r.code(), "rate_limited");
                let secs: u64 = r.header("retry-after").unwrap().parse().unwrap();
                assert!((1..=60).contains(&secs), "{secs}");
            } else {
                assert_eq!(r.status, 200);
            }
            answers.push(limited);
            if limited {
                break;
            }
        }
        tries += 1;
        if minute() == started || tries == 2 {
            break answers;
        }
    };
    let mut want = vec![false; usize::try_from(limit).unwrap()];
    want.push(true);
    assert_eq!(answers, want, "one count across both processes");
    // Another token of the same account has its own count.
    let other =
        sanping::api_token::create(&mut a.state.pool.get().unwrap(), "system", "org", "", limit)
            .unwrap()
            .1;
    assert_eq!(get(&b, "/api/v1/waves", &other).status, 200);
}

#[test]
fn lists_are_paginated_with_totals() {
    let (_db, server) = setup();
    let viewer = account(&server, "v", Role::Viewer, None);
    for _ in 0..5 {
        support::create_wave(&server.state, "liuhao.toml", None, false);
    }
    let r = get(&server, "/api/v1/waves?per_page=2&page=3", &viewer);
    assert_eq!(r.status, 200);
    assert_eq!(
        (
            &r.body["total"],
            &r.body["pages"],
            &r.body["page"],
            &r.body["per_page"]
        ),
        (&json!(5), &json!(3), &json!(3), &json!(2))
    );
    // Newest first: the last page holds the first wave.
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["items"][0]["id"], 1);
    let r = get(&server, "/api/v1/waves?per_page=2&page=9", &viewer);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 0);
    let all = get(&server, "/api/v1/waves", &viewer);
    assert_eq!(all.body["items"].as_array().unwrap().len(), 5);
    assert_eq!(
        get(&server, "/api/v1/waves?state=published", &viewer).body["total"],
        0
    );
    for bad in ["page=0", "per_page=0", "per_page=201", "page=x"] {
        let r = get(&server, &format!("/api/v1/waves?{bad}"), &viewer);
        assert_eq!((r.status, r.code()), (400, "bad_pagination"), "{bad}");
    }
    // A wave's progress (per unit) and failed mails page the same way.
    let org = account(&server, "o", Role::Organizer, None);
    let id = support::open_wave(&server.state, "liuhao.toml", None, false).0;
    let all = get(
        &server,
        &format!("/api/v1/waves/{id}/progress?per_page=200"),
        &org,
    );
    let units = all.body["total"].as_u64().unwrap();
    assert!(units >= 2, "{}", all.body);
    let r = get(
        &server,
        &format!("/api/v1/waves/{id}/progress?per_page=1&page=2"),
        &org,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["items"][0], all.body["items"][1]);
    assert_eq!(r.body["pages"].as_u64(), Some(units));
    let r = get(
        &server,
        &format!("/api/v1/waves/{id}/mail?per_page=1"),
        &org,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["failed"]["per_page"].as_u64(), Some(1));
    for path in ["progress", "mail"] {
        let r = get(
            &server,
            &format!("/api/v1/waves/{id}/{path}?per_page=0"),
            &org,
        );
        assert_eq!((r.status, r.code()), (400, "bad_pagination"), "{path}");
    }
}

/// The `(METHOD, path)` of every `/api/v1` route in the route table (src/web/mod.rs).
fn routes_in_table() -> BTreeSet<(String, String)> {
    let src = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web/mod.rs"),
    )
    .unwrap();
    let mut out = BTreeSet::new();
    for (i, _) in src.match_indices("\"/api/v1") {
        let rest = &src[i + 1..];
        let path = &rest[..rest.find('"').unwrap()];
        // The route's own text: up to the next path (a resource's routes follow its path).
        let end = ["\"/", ".default_service("]
            .iter()
            .filter_map(|m| rest[path.len() + 1..].find(m).map(|i| i + path.len() + 1))
            .min()
            .unwrap_or(rest.len());
        let own = &rest[..end];
        for method in ["get", "post", "put", "patch", "delete"] {
            if own.contains(&format!("aw::{method}()")) {
                out.insert((method.to_uppercase(), path.to_owned()));
            }
        }
    }
    out
}

#[test]
fn the_openapi_document_lists_every_api_route_and_no_other() {
    let (_db, server) = setup();
    let r = call(&server, "GET", "/api/v1/openapi.json", None, None);
    assert_eq!(r.status, 200);
    assert!(r.body["openapi"].as_str().unwrap().starts_with("3."));
    let mut documented = BTreeSet::new();
    for (path, item) in r.body["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let table = routes_in_table();
    assert_eq!(table.len(), 17, "{table:?}");
    assert_eq!(documented, table);
    // Each documented operation is served: without a token, 401 in JSON (the document
    // itself: 200), never the default 404 page.
    for (method, path) in &documented {
        let concrete = path.replace("{id}", "1");
        let r = call(&server, method, &concrete, None, None);
        if path == "/api/v1/openapi.json" {
            assert_eq!(r.status, 200);
        } else {
            assert_eq!(
                (r.status, r.code()),
                (401, "unauthorized"),
                "{method} {path}"
            );
        }
    }
}

#[test]
fn no_cors_headers_are_sent() {
    let (_db, server) = setup();
    let token = account(&server, "org", Role::Organizer, None);
    let agent = support::client();
    for method in ["OPTIONS", "GET"] {
        let req = ureq::http::Request::builder()
            .method(method)
            .uri(server.url("/api/v1/waves"))
            .header("origin", "https://evil.example")
            .header("access-control-request-method", "GET")
            .header("authorization", format!("Bearer {token}"))
            .body(())
            .unwrap();
        let res = agent.run(req).unwrap();
        assert!(
            res.headers().keys().all(|k| !k
                .as_str()
                .to_ascii_lowercase()
                .starts_with("access-control-")),
            "{method}: {:?}",
            res.headers()
        );
    }
}

#[test]
fn tokens_are_made_and_revoked_in_the_console_and_stored_only_hashed() {
    let (db, server) = setup();
    let mut conn = server.state.pool.get().unwrap();
    auth::add_user(&mut conn, "org", Role::Organizer, "org-password-1").unwrap();
    auth::add_user(&mut conn, "other", Role::Organizer, "other-password-1").unwrap();
    drop(conn);
    let (_, browser) = crate::admin::login(&server, "org", "org-password-1");
    let browser = browser.unwrap();
    assert_eq!(
        crate::admin::get(&server, Some(&browser), "/admin/tokens").0,
        200
    );
    let csrf = browser.csrf.clone();
    let mut res = support::client()
        .post(&server.url("/admin/tokens"))
        .header("cookie", &browser.cookie)
        .send_form([("csrf", csrf.as_str()), ("label", "nightly import")])
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let html = res.body_mut().read_to_string().unwrap();
    let token = html
        .split("<pre class=\"token\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    assert!(token.starts_with("sp_"));
    // Shown once: the list no longer carries it.
    let (_, again) = crate::admin::get(&server, Some(&browser), "/admin/tokens");
    assert!(!again.contains(&token));
    assert!(again.contains("nightly import"));
    assert_eq!(get(&server, "/api/v1/waves", &token).status, 200);
    // A CSRF token is needed.
    let res = support::client()
        .post(&server.url("/admin/tokens"))
        .header("cookie", &browser.cookie)
        .send_form([("label", "x")])
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);

    // Only the hash is stored: not in any column, not in the database file.
    let hash = sanping::domain::token::hash(&token);
    let dump = support::dump_text(&server.state);
    assert!(dump.contains(&hash));
    assert!(!dump.contains(&token));
    if !db.is_postgres() {
        for suffix in ["", "-wal"] {
            let path = format!("{}{suffix}", db.url());
            if let Ok(bytes) = std::fs::read(&path) {
                assert!(
                    !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
                    "{path} holds the token"
                );
            }
        }
    }

    // Another account cannot revoke it; its owner can.
    let id = sanping::db::api_tokens::of_user(&mut server.state.pool.get().unwrap(), "org")
        .unwrap()[0]
        .id
        .clone();
    let (_, other) = crate::admin::login(&server, "other", "other-password-1");
    let other = other.unwrap();
    let status = crate::admin::post(
        &server,
        Some(&other),
        &format!("/admin/tokens/{id}/revoke"),
        &[("csrf", other.csrf.as_str())],
    );
    assert_eq!(status, 404);
    assert_eq!(get(&server, "/api/v1/waves", &token).status, 200);
    let status = crate::admin::post(
        &server,
        Some(&browser),
        &format!("/admin/tokens/{id}/revoke"),
        &[("csrf", csrf.as_str())],
    );
    assert_eq!(status, 303);
    assert_eq!(get(&server, "/api/v1/waves", &token).status, 401);
    assert_eq!(audited(&server, "org", "token.create"), 1);
    assert_eq!(audited(&server, "org", "token.revoke"), 1);
    let (_, listed) = crate::admin::get(&server, Some(&browser), "/admin/tokens");
    assert!(listed.contains("已撤销"), "{listed}");
}

/// A token revoked after it was read for a request (by another process, say) does not get
/// that request through: the count that admits it checks the token is still live, and
/// `Revoked` is answered 401 like any revoked token (`web::api::caller`).
#[test]
fn a_revocation_between_reading_a_token_and_counting_its_request_refuses_it() {
    let db = TestDb::new();
    let state = db.state();
    let mut conn = state.pool.get().unwrap();
    auth::add_scoped_user_as(
        &mut conn,
        "system",
        None,
        "org",
        Role::Viewer,
        None,
        "password-of-org",
    )
    .unwrap();
    let secret = sanping::api_token::create(&mut conn, "system", "org", "", 10)
        .unwrap()
        .1;
    let caller = sanping::api_token::authenticate(&mut conn, &secret)
        .unwrap()
        .unwrap();
    assert_eq!(
        sanping::api_token::take_request(&mut conn, &caller).unwrap(),
        sanping::api_token::Admission::Go
    );
    sanping::api_token::revoke(&mut conn, "system", &caller.token_id, None).unwrap();
    assert_eq!(
        sanping::api_token::take_request(&mut conn, &caller).unwrap(),
        sanping::api_token::Admission::Revoked
    );
}

/// Errors answered before any handler runs are JSON with a stable code too: an id in the
/// path that is no number, a body over the endpoint's limit, an unknown route.
#[test]
fn every_error_is_json_even_before_a_handler_runs() {
    let (_db, server) = setup();
    let org = account(&server, "org", Role::Organizer, None);
    for path in [
        "/api/v1/waves/abc",
        "/api/v1/waves/abc/report",
        "/api/v1/nothing",
        "/%61pi/v1/waves/abc",
    ] {
        let r = get(&server, path, &org);
        assert_eq!((r.status, r.code()), (404, "not_found"), "{path}");
        assert_eq!(r.header("content-type"), Some("application/json"), "{path}");
    }
    // Over the import's 8 MB: 413, JSON, nothing imported.
    let mut big = String::from("code,name,kind,parent\n");
    while big.len() <= 8 * 1024 * 1024 {
        big +=
            "BIGUNIT,一个很长的单位名称用来填满请求体一个很长的单位名称用来填满请求体,branch,CS\n";
    }
    let r = post_csv(&server, "/api/v1/units/import", &org, big.as_bytes());
    assert_eq!((r.status, r.code()), (413, "too_large"));
    let units = sanping::db::units::all(&mut server.state.pool.get().unwrap()).unwrap();
    assert!(!units.iter().any(|u| u.code == "BIGUNIT"));
    // Over a wave body's limit (the default for JSON bodies).
    let r = call(
        &server,
        "POST",
        "/api/v1/waves",
        Some(&org),
        Some(("application/json", big.as_bytes())),
    );
    assert_eq!((r.status, r.code()), (413, "too_large"));
}

/// A token acts as its account as it is now: a role changed in the console applies to the
/// next request; a secretary's token finds nothing (404), as its console does.
#[test]
fn a_token_follows_its_account_s_role_at_the_next_request() {
    let (_db, server) = setup();
    let token = account(&server, "u", Role::Viewer, None);
    assert_eq!(get(&server, "/api/v1/units", &token).code(), "forbidden");
    auth::add_scoped_user_as(
        &mut server.state.pool.get().unwrap(),
        "system",
        None,
        "u",
        Role::Organizer,
        None,
        "password-of-u",
    )
    .unwrap();
    assert_eq!(get(&server, "/api/v1/units", &token).status, 200);
    // Limited to a scope: the next request sees only the subtree.
    auth::add_scoped_user_as(
        &mut server.state.pool.get().unwrap(),
        "system",
        None,
        "u",
        Role::Organizer,
        Some("CS"),
        "password-of-u",
    )
    .unwrap();
    let r = get(&server, "/api/v1/units?per_page=100", &token);
    let codes: Vec<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"CS") && !codes.contains(&"LIB"),
        "{codes:?}"
    );
    let secretary = account(&server, "sec", Role::Secretary, Some("CS-T"));
    for path in ["/api/v1/waves", "/api/v1/units", "/api/v1/waves/1"] {
        let r = get(&server, path, &secretary);
        assert_eq!((r.status, r.code()), (404, "not_found"), "{path}");
    }
}

/// A state that does not allow the action is 409 with a code naming the state it needs.
#[test]
fn an_action_in_the_wrong_state_names_the_state_it_needs() {
    let (_db, server) = setup();
    let org = account(&server, "org", Role::Organizer, None);
    let id = support::open_wave(&server.state, "liuhao.toml", None, false).0;
    let w = |p: &str| format!("/api/v1/waves/{id}{p}");
    let r = post(&server, &w("/publish"), &org, &json!({}));
    assert_eq!((r.status, r.code()), (409, "wave_not_closed"), "{}", r.body);
    let r = post(&server, &w("/close"), &org, &json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
    let r = post(
        &server,
        &w("/extend"),
        &org,
        &json!({"closes": "2099-01-01 10:00"}),
    );
    assert_eq!(
        (r.status, r.code()),
        (409, "wave_not_draft_or_open"),
        "{}",
        r.body
    );
}
