//! Scoped roles (issue #17): two sibling scopes, CS and LIB, under the fixture university U.
//! Every console route and the CLI commands that take a scope answer an account of one
//! sibling as if the other's waves, units, people and audit entries did not exist (404), let
//! it create waves and accounts only inside its own subtree, and import only rows inside it.

use sanping::auth::{self, Role};
use sanping::db::DbConn;

use crate::admin::{Browser, get, login, post};
use crate::support::{self, Server, TestDb};

const PW: &str = "scope-password";

/// The backends to run on: SQLite always, PostgreSQL when `SANPING_TEST_PG` is set.
fn backends() -> Vec<TestDb> {
    [Some(TestDb::sqlite()), TestDb::postgres()]
        .into_iter()
        .flatten()
        .collect()
}

struct Province {
    db: TestDb,
    server: Server,
    /// Closed and unsealed, scoped CS, with comments.
    cs_wave: i32,
    /// Closed and unsealed, scoped LIB.
    lib_wave: i32,
    /// A draft scoped CS.
    cs_draft: i32,
}

fn add(conn: &mut DbConn, name: &str, role: Role, scope: Option<&str>) {
    auth::add_scoped_user_as(conn, "test", None, name, role, scope, PW).unwrap();
}

/// The fixture unit tree, an installation-wide organizer `root` and `cs`, organizer of CS.
fn units_and_organizers(conn: &mut DbConn) {
    sanping::import::units(conn, &std::fs::read(support::fixture("units.csv")).unwrap()).unwrap();
    add(conn, "root", Role::Organizer, None);
    add(conn, "cs", Role::Organizer, Some("CS"));
}

fn setup(db: TestDb) -> Province {
    let state = db.state();
    {
        let mut conn = state.pool.get().unwrap();
        units_and_organizers(&mut conn);
        sanping::import::people(
            &mut conn,
            &std::fs::read(support::fixture("report_people.csv")).unwrap(),
        )
        .unwrap();
        add(&mut conn, "lib", Role::Organizer, Some("LIB"));
        add(&mut conn, "csview", Role::Viewer, Some("CS"));
    }
    let cs_wave = support::create_wave(&state, "liuhao.toml", Some("CS"), false);
    let lib_wave = support::create_wave(&state, "liuhao.toml", Some("LIB"), false);
    for (id, unit, n, comment) in [
        (cs_wave, "CS", 10, Some("计算机学院的意见")),
        (lib_wave, "LIB", 6, None),
    ] {
        sanping::wave::open(&mut state.pool.get().unwrap(), id, "http://x", |_| Ok(())).unwrap();
        crate::report::mass(&state, id, unit, &vec!["satisfied"; n], comment);
        support::close_and_unseal(&mut state.pool.get().unwrap(), id).unwrap();
    }
    let cs_draft = support::create_wave(&state, "liuhao.toml", Some("CS"), false);
    let server = Server::start(state);
    Province {
        db,
        server,
        cs_wave,
        lib_wave,
        cs_draft,
    }
}

fn who(p: &Province, name: &str) -> Browser {
    login(&p.server, name, PW).1.unwrap()
}

/// Every GET route about one wave.
fn wave_gets(id: i32) -> Vec<String> {
    [
        "/admin/waves/{id}",
        "/admin/waves/{id}/unseal",
        "/admin/waves/{id}/people",
        "/admin/waves/{id}/people.csv",
        "/admin/waves/{id}/edit",
        "/admin/waves/{id}/preview",
        "/admin/waves/{id}/open",
        "/admin/waves/{id}/remind",
        "/admin/waves/{id}/invite-added",
        "/admin/waves/{id}/close",
        "/admin/waves/{id}/publish",
        "/admin/waves/{id}/purge",
        "/admin/results/{id}",
        "/admin/results/{id}/unit/CS",
        "/admin/results/{id}/unit/LIB",
        "/admin/results/{id}/print",
        "/admin/results/{id}/tree",
        "/admin/results/{id}/export/csv",
        "/admin/results/{id}/export/xlsx",
    ]
    .iter()
    .map(|p| p.replace("{id}", &id.to_string()))
    .collect()
}

/// Every POST route about one wave.
fn wave_posts(id: i32) -> Vec<String> {
    [
        "/admin/waves/{id}/slips",
        "/admin/waves/{id}/extend",
        "/admin/waves/{id}/check-key",
        "/admin/waves/{id}/unseal",
        "/admin/waves/{id}/people/grade",
        "/admin/waves/{id}/edit",
        "/admin/waves/{id}/open",
        "/admin/waves/{id}/close",
        "/admin/waves/{id}/publish",
        "/admin/waves/{id}/remind",
        "/admin/waves/{id}/invite-added",
        "/admin/waves/{id}/purge",
    ]
    .iter()
    .map(|p| p.replace("{id}", &id.to_string()))
    .collect()
}

#[test]
fn a_sibling_scope_gets_404_on_every_wave_route_and_the_owner_does_not() {
    for db in backends() {
        let p = setup(db);
        let (cs, lib, view) = (who(&p, "cs"), who(&p, "lib"), who(&p, "csview"));
        for id in [p.cs_wave, p.cs_draft] {
            for path in wave_gets(id) {
                assert_eq!(get(&p.server, Some(&lib), &path).0, 404, "lib GET {path}");
            }
            for path in wave_posts(id) {
                let fields = [("csrf", lib.csrf.as_str()), ("unit", "CS"), ("count", "1")];
                assert_eq!(
                    post(&p.server, Some(&lib), &path, &fields),
                    404,
                    "lib POST {path}"
                );
            }
        }
        for path in wave_gets(p.lib_wave) {
            assert_eq!(get(&p.server, Some(&cs), &path).0, 404, "cs GET {path}");
            // A viewer's role check comes first (403 on committee pages, for any id); on the
            // pages its role has, a sibling's wave does not exist.
            if path.starts_with("/admin/results/") && !path.contains("/export/") {
                assert_eq!(
                    get(&p.server, Some(&view), &path).0,
                    404,
                    "csview GET {path}"
                );
            }
        }
        for path in wave_posts(p.lib_wave) {
            let fields = [("csrf", cs.csrf.as_str())];
            assert_eq!(
                post(&p.server, Some(&cs), &path, &fields),
                404,
                "cs POST {path}"
            );
        }
        // The owner reaches its own wave's pages.
        let id = p.cs_wave;
        for path in [
            format!("/admin/waves/{id}"),
            format!("/admin/results/{id}"),
            format!("/admin/results/{id}/unit/CS"),
            format!("/admin/results/{id}/print"),
            format!("/admin/results/{id}/tree"),
            format!("/admin/results/{id}/export/csv"),
            format!("/admin/waves/{}/edit", p.cs_draft),
            format!("/admin/waves/{}/preview", p.cs_draft),
        ] {
            assert_eq!(get(&p.server, Some(&cs), &path).0, 200, "cs GET {path}");
        }
        assert_eq!(
            get(&p.server, Some(&view), &format!("/admin/results/{id}")).0,
            200
        );
        // The installation-wide account sees both.
        let root = who(&p, "root");
        for w in [p.cs_wave, p.lib_wave] {
            assert_eq!(
                get(&p.server, Some(&root), &format!("/admin/results/{w}")).0,
                200
            );
        }
        // The owner's POSTs reach their handlers (refused for want of fields or of the right
        // state, or done: publishing the closed wave), so the sibling's 404s above are the
        // scope's. A people wave's grading is 404 on a unit wave for everyone (see
        // `a_sibling_scope_gets_404_on_a_people_wave_s_pages`).
        for path in wave_posts(p.cs_wave) {
            if path.ends_with("/people/grade") {
                continue;
            }
            let fields = [("csrf", cs.csrf.as_str())];
            let status = post(&p.server, Some(&cs), &path, &fields);
            assert!(
                status == 303 || ((400..500).contains(&status) && status != 404),
                "cs POST {path}: {status}"
            );
        }
        assert_eq!(wave_row(&p.db, p.cs_wave).0, "published");
    }
}

/// A wave of the whole tree lies outside every scoped account: 404 on the console, "does not
/// exist" on the CLI; the installation-wide account reaches it.
#[test]
fn a_whole_tree_wave_does_not_exist_for_a_scoped_account() {
    for db in backends() {
        let p = setup(db);
        let id = support::create_wave(&p.db.state(), "liuhao.toml", None, false);
        let (cs, root) = (who(&p, "cs"), who(&p, "root"));
        for path in [
            format!("/admin/waves/{id}"),
            format!("/admin/waves/{id}/edit"),
        ] {
            assert_eq!(get(&p.server, Some(&cs), &path).0, 404, "cs GET {path}");
            assert_eq!(get(&p.server, Some(&root), &path).0, 200, "root GET {path}");
        }
        let (_, list) = get(&p.server, Some(&cs), "/admin");
        assert!(!list.contains(&format!("/admin/waves/{id}\"")), "{list}");
        let out = cli(&p.db, &["--as", "cs", "wave", "show", &id.to_string()]);
        assert!(!out.0 && out.1.contains("does not exist"), "{}", out.1);
        assert!(cli(&p.db, &["--as", "root", "wave", "show", &id.to_string()]).0);
    }
}

/// A people wave (民主评议) scoped to CS: its results page, downloads and grading are 404
/// for LIB's organizer, and work for CS's.
#[test]
fn a_sibling_scope_gets_404_on_a_people_wave_s_pages() {
    for db in backends() {
        let state = db.state();
        crate::people::load(&state);
        let (id, links) = support::open_wave(&state, "minzhu-pingyi.toml", Some("CS"), false);
        {
            let mut conn = state.pool.get().unwrap();
            crate::people_console::rate_and_close(&mut conn, id, &links);
            add(&mut conn, "cs", Role::Organizer, Some("CS"));
            add(&mut conn, "lib", Role::Organizer, Some("LIB"));
        }
        let server = Server::start(state);
        let cs = login(&server, "cs", PW).1.unwrap();
        let lib = login(&server, "lib", PW).1.unwrap();
        // Status only: the XLSX is no text.
        let status = |b: &Browser, path: &str| {
            support::client()
                .get(&server.url(path))
                .header("cookie", &b.cookie)
                .call()
                .unwrap()
                .status()
                .as_u16()
        };
        for suffix in ["people", "people.csv", "people.xlsx", "people.json"] {
            let path = format!("/admin/waves/{id}/{suffix}");
            assert_eq!(status(&lib, &path), 404, "lib GET {path}");
            assert_eq!(status(&cs, &path), 200, "cs GET {path}");
        }
        let grade = format!("/admin/waves/{id}/people/grade");
        // A rated person of the wave with a grade that is none: CS's organizer is answered
        // about the grade, LIB's as if the wave did not exist.
        let form = |b: &Browser| {
            post(
                &server,
                Some(b),
                &grade,
                &[
                    ("csrf", b.csrf.as_str()),
                    ("person", "m1@demo.edu.cn"),
                    ("grade", "no-such-grade"),
                ],
            )
        };
        assert_eq!(form(&lib), 404);
        let cs_post = form(&cs);
        assert!(cs_post != 404 && cs_post >= 400, "{cs_post}");
    }
}

/// The new-wave form offers a scoped organizer its subtree's units and accounts only (not
/// the whole tree); the tokens page lists its own tokens, and a sibling's token is 404.
#[test]
fn the_new_wave_form_and_the_tokens_page_keep_to_the_scope() {
    let p = setup(TestDb::new());
    let (cs, root) = (who(&p, "cs"), who(&p, "root"));
    let (status, form) = get(&p.server, Some(&cs), "/admin/waves/new");
    assert_eq!(status, 200);
    for inside in [
        "<option value=\"CS\"",
        "<option value=\"CS-T\"",
        "value=\"cs\"",
    ] {
        assert!(form.contains(inside), "{inside}: {form}");
    }
    for outside in [
        "<option value=\"LIB\"",
        "<option value=\"U\"",
        "<option value=\"\"",
        "value=\"lib\"",
        "value=\"root\"",
    ] {
        assert!(!form.contains(outside), "{outside}: {form}");
    }
    let (_, wide) = get(&p.server, Some(&root), "/admin/waves/new");
    assert!(wide.contains("<option value=\"\"") && wide.contains("<option value=\"LIB\""));

    let lib_token = {
        let mut conn = p.db.state().pool.get().unwrap();
        sanping::api_token::create(&mut conn, "test", "lib", "lib's", 10)
            .unwrap()
            .0
            .id
    };
    let cs_token = {
        let mut conn = p.db.state().pool.get().unwrap();
        sanping::api_token::create(&mut conn, "test", "cs", "cs's", 10)
            .unwrap()
            .0
            .id
    };
    let (status, page) = get(&p.server, Some(&cs), "/admin/tokens");
    assert_eq!(status, 200);
    assert!(
        page.contains(&cs_token) && !page.contains(&lib_token),
        "{page}"
    );
    let path = format!("/admin/tokens/{lib_token}/revoke");
    assert_eq!(
        post(&p.server, Some(&cs), &path, &[("csrf", cs.csrf.as_str())]),
        404
    );
    let mut conn = p.db.state().pool.get().unwrap();
    let t = sanping::db::api_tokens::find(&mut conn, &lib_token)
        .unwrap()
        .unwrap();
    assert!(t.revoked_at.is_none());
}

#[test]
fn the_wave_list_units_people_and_audit_show_only_the_scope() {
    for db in backends() {
        let p = setup(db);
        let (cs, root) = (who(&p, "cs"), who(&p, "root"));
        let (_, list) = get(&p.server, Some(&cs), "/admin");
        assert!(
            list.contains(&format!("/admin/waves/{}\"", p.cs_wave)),
            "{list}"
        );
        assert!(
            !list.contains(&format!("/admin/waves/{}\"", p.lib_wave)),
            "{list}"
        );
        let (_, list) = get(&p.server, Some(&root), "/admin");
        assert!(
            list.contains(&format!("/admin/waves/{}\"", p.lib_wave)),
            "{list}"
        );

        let (_, units) = get(&p.server, Some(&cs), "/admin/units");
        assert!(units.contains("id=\"u-CS-T\""), "{units}");
        assert!(!units.contains("id=\"u-LIB\""), "{units}");
        assert!(!units.contains("id=\"u-U\""), "{units}");

        let (_, people) = get(&p.server, Some(&cs), "/admin/people?q=LIB");
        assert!(!people.contains("@demo.edu.cn"), "no LIB person: {people}");
        let (_, people) = get(&p.server, Some(&root), "/admin/people?q=LIB");
        assert!(people.contains("@demo.edu.cn"), "{people}");

        // 停用 outside the scope: 404, and nothing changes.
        let f = [("csrf", cs.csrf.as_str()), ("active", "0")];
        assert_eq!(
            post(&p.server, Some(&cs), "/admin/units/LIB/status", &f),
            404
        );
        let lib_person = {
            let mut conn = p.db.state().pool.get().unwrap();
            sanping::db::people::all(&mut conn)
                .unwrap()
                .into_iter()
                .find(|x| x.unit == "LIB")
                .unwrap()
                .email
        };
        let f = [
            ("csrf", cs.csrf.as_str()),
            ("active", "0"),
            ("email", lib_person.as_str()),
        ];
        assert_eq!(post(&p.server, Some(&cs), "/admin/people/status", &f), 404);
        let f = [("csrf", cs.csrf.as_str()), ("active", "0")];
        assert_eq!(
            post(&p.server, Some(&cs), "/admin/units/CS-S1/status", &f),
            303
        );

        // The audit log: CS's entries (its wave's unseal, its 停用), not LIB's.
        let (status, audit) = get(&p.server, Some(&cs), "/admin/audit");
        assert_eq!(status, 200);
        assert!(audit.contains(&format!("wave {} ", p.cs_wave)), "{audit}");
        assert!(audit.contains("CS-S1 and the units below it"), "{audit}");
        assert!(!audit.contains(&format!("wave {} ", p.lib_wave)), "{audit}");
        assert!(!audit.contains("root as organizer"), "{audit}");
        let (_, audit) = get(&p.server, Some(&root), "/admin/audit");
        assert!(audit.contains(&format!("wave {} ", p.lib_wave)), "{audit}");
    }
}

#[test]
fn a_provincial_account_sees_the_figures_but_not_the_comments_of_a_scoped_wave() {
    let p = setup(TestDb::new());
    let (cs, root) = (who(&p, "cs"), who(&p, "root"));
    let path = format!("/admin/results/{}/unit/CS", p.cs_wave);
    let (status, own) = get(&p.server, Some(&cs), &path);
    assert_eq!(status, 200);
    assert!(own.contains("计算机学院的意见"), "{own}");
    let (status, wide) = get(&p.server, Some(&root), &path);
    assert_eq!(status, 200);
    assert!(!wide.contains("计算机学院的意见"), "{wide}");
    // The API's report keeps the same rule.
    let token = |name: &str| {
        let mut conn = p.server.state.pool.get().unwrap();
        sanping::api_token::create(&mut conn, "test", name, "test", 100)
            .unwrap()
            .1
    };
    let report = format!("/api/v1/waves/{}/report", p.cs_wave);
    let own = crate::api::get(&p.server, &report, &token("cs"));
    assert_eq!(own.status, 200, "{}", own.body);
    assert!(own.body.to_string().contains("计算机学院的意见"));
    let wide = crate::api::get(&p.server, &report, &token("root"));
    assert_eq!(wide.status, 200, "{}", wide.body);
    assert!(wide.body["units"].as_array().is_some_and(|u| !u.is_empty()));
    assert!(!wide.body.to_string().contains("计算机学院的意见"));
}

#[test]
fn waves_are_created_only_inside_the_scope_with_holders_inside_it() {
    for db in backends() {
        let p = setup(db);
        let cs = who(&p, "cs");
        let form = |scope: &'static str, holder: &'static str| {
            vec![
                ("csrf", cs.csrf.clone()),
                ("title", "范围内的批次".to_owned()),
                ("survey", "siyou.toml".to_owned()),
                ("scope", scope.to_owned()),
                ("closes", String::new()),
                ("holder", holder.to_owned()),
                ("single_ok", "on".to_owned()),
            ]
        };
        let send = |fields: Vec<(&str, String)>| {
            let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post(&p.server, Some(&cs), "/admin/waves", &f)
        };
        let count = || {
            let mut conn = p.db.state().pool.get().unwrap();
            sanping::db::waves::all(&mut conn).unwrap().len()
        };
        let before = count();
        assert_eq!(send(form("LIB", "cs")), 422, "a sibling's scope");
        // Said in the page's language only (Chinese by default).
        let fields = form("CS-T", "lib");
        let mut res = support::client()
            .post(&p.server.url("/admin/waves"))
            .header("cookie", &cs.cookie)
            .send_form(fields.iter().map(|(k, v)| (*k, v.as_str())))
            .unwrap();
        let html = res.body_mut().read_to_string().unwrap();
        assert!(html.contains("没有账号 “lib”"), "{html}");
        assert!(!html.contains("inside your scope"), "{html}");
        assert_eq!(send(form("", "cs")), 422, "the whole tree");
        assert_eq!(send(form("CS-T", "lib")), 422, "a holder outside the scope");
        assert_eq!(count(), before);
        assert_eq!(send(form("CS-T", "cs")), 303);
        assert_eq!(count(), before + 1);
        // Editing a draft cannot move it out either.
        let edit = format!("/admin/waves/{}/edit", p.cs_draft);
        let mut f = form("LIB", "cs");
        f.retain(|(k, _)| *k != "survey");
        let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(post(&p.server, Some(&cs), &edit, &f), 422);
    }
}

#[test]
fn accounts_are_added_only_inside_the_scope_and_at_most_the_own_role() {
    for db in backends() {
        let p = setup(db);
        let (cs, view) = (who(&p, "cs"), who(&p, "csview"));
        let (status, page) = get(&p.server, Some(&cs), "/admin/accounts");
        assert_eq!(status, 200);
        assert!(
            page.contains("csview") && !page.contains(">lib<") && !page.contains(">root<"),
            "{page}"
        );
        assert_eq!(get(&p.server, Some(&view), "/admin/accounts").0, 403);
        let add = |name: &str, role: &str, scope: &str| {
            post(
                &p.server,
                Some(&cs),
                "/admin/accounts",
                &[
                    ("csrf", cs.csrf.as_str()),
                    ("username", name),
                    ("role", role),
                    ("scope", scope),
                    ("password", "a-long-password"),
                ],
            )
        };
        assert_eq!(add("x1", "viewer", "LIB"), 422, "a sibling's scope");
        assert_eq!(add("x2", "viewer", ""), 422, "the whole tree");
        assert_eq!(
            add("lib", "viewer", "CS"),
            422,
            "taking over a sibling's account"
        );
        assert_eq!(
            add("root", "viewer", "CS"),
            422,
            "taking over a wider account"
        );
        assert_eq!(add("x3", "organizer", "CS-T"), 303);
        let mut conn = p.db.state().pool.get().unwrap();
        let x3 = sanping::db::accounts::find_user(&mut conn, "x3")
            .unwrap()
            .unwrap();
        assert_eq!(x3.scope.as_deref(), Some("CS-T"));
        for name in ["x1", "x2"] {
            assert!(
                sanping::db::accounts::find_user(&mut conn, name)
                    .unwrap()
                    .is_none()
            );
        }
        let lib = sanping::db::accounts::find_user(&mut conn, "lib")
            .unwrap()
            .unwrap();
        assert_eq!(lib.scope.as_deref(), Some("LIB"));
        // A viewer cannot grant an organizer, from the command line either.
        let out = cli(
            &p.db,
            &[
                "--as",
                "csview",
                "admin",
                "add",
                "y",
                "--role",
                "organizer",
                "--scope",
                "CS",
            ],
        );
        assert!(!out.0, "{}", out.1);
    }
}

#[test]
fn console_imports_refuse_rows_outside_the_scope() {
    let p = setup(TestDb::new());
    let cs = who(&p, "cs");
    let (status, page) = crate::organizer::upload(
        &p.server,
        &cs,
        "/admin/units",
        "code,name,kind,parent\nCS-N,新支部,branch,CS\nLIB-N,图书馆新支部,branch,LIB\n",
    );
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("LIB-N"), "the row outside is named: {page}");
    let mut conn = p.db.state().pool.get().unwrap();
    assert!(
        sanping::db::units::find(&mut conn, "CS-N")
            .unwrap()
            .is_none()
    );
    let (status, page) = crate::organizer::upload(
        &p.server,
        &cs,
        "/admin/people",
        "email,name,unit,category,role\nnew.cs@demo.edu.cn,新,CS-T,faculty,member\nnew.lib@demo.edu.cn,新,LIB,faculty,member\n",
    );
    assert_eq!(status, 422, "{page}");
    assert!(
        sanping::db::people::find(&mut conn, "new.cs@demo.edu.cn")
            .unwrap()
            .is_none()
    );
    // Rows about what is stored: a LIB unit taken in under CS, a CS unit moved out under
    // LIB, a LIB person moved into CS. Each is a line error and nothing changes.
    for (path, csv, named, why) in [
        (
            "/admin/units",
            "code,name,kind,parent\nLIB,图书馆直属党支部,direct_branch,CS\n",
            "LIB",
            "已被您的范围之外的单位使用",
        ),
        (
            "/admin/units",
            "code,name,kind,parent\nCS-T,计算机学院教工党支部,branch,LIB\n",
            "CS-T",
            "上级“LIB”不存在",
        ),
        (
            "/admin/people",
            "email,name,unit,category,role\nsun.hao@demo.edu.cn,孙浩,CS-T,faculty,member\n",
            "sun.hao@demo.edu.cn",
            "之外的单位名册中",
        ),
    ] {
        let (status, page) = crate::organizer::upload(&p.server, &cs, path, csv);
        assert_eq!(status, 422, "{csv}: {page}");
        assert!(page.contains("第 2 行") && page.contains(named), "{page}");
        assert!(page.contains(why), "{why}: {page}");
    }
    // The scope's own top unit, re-imported under its parent as stored: unchanged.
    let (status, page) = crate::organizer::upload(
        &p.server,
        &cs,
        "/admin/units",
        "code,name,kind,parent\nCS,计算机学院党总支,general_branch,U\n",
    );
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("新增 0，修改 0"), "{page}");
    // A parent or unit outside the scope reads as one that does not exist, in the same pass.
    for (path, csv, unknown) in [
        (
            "/admin/units",
            "code,name,kind,parent\nX1,甲,branch,NOPE\nX2,乙,branch,LIB\n",
            ["上级“NOPE”不存在", "上级“LIB”不存在"],
        ),
        (
            "/admin/people",
            "email,name,unit,category,role\na@demo.edu.cn,甲,NOPE,faculty,member\nb@demo.edu.cn,乙,LIB,faculty,member\n",
            ["单位“NOPE”不存在", "单位“LIB”不存在"],
        ),
    ] {
        let (status, page) = crate::organizer::upload(&p.server, &cs, path, csv);
        assert_eq!(status, 422, "{page}");
        assert!(unknown.iter().all(|u| page.contains(u)), "{page}");
    }
    let parent = |conn: &mut DbConn, code| {
        sanping::db::units::find(conn, code)
            .unwrap()
            .unwrap()
            .parent
    };
    assert_eq!(parent(&mut conn, "LIB").as_deref(), Some("U"));
    assert_eq!(parent(&mut conn, "CS-T").as_deref(), Some("CS"));
    let sun = sanping::db::people::find(&mut conn, "sun.hao@demo.edu.cn")
        .unwrap()
        .unwrap();
    assert_eq!(sun.unit, "LIB");
    let (status, page) = crate::organizer::upload(
        &p.server,
        &cs,
        "/admin/units",
        "code,name,kind,parent\nCS-N,新支部,branch,CS\n",
    );
    assert_eq!(status, 200, "{page}");
}

/// Runs the CLI on `db` with a password on stdin: success and stdout+stderr.
pub(crate) fn cli(db: &TestDb, args: &[&str]) -> (bool, String) {
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
        .write_all(b"a-long-password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn cli_admin_add_imports_and_audit_keep_to_the_scope() {
    for db in backends() {
        let p = setup(db);
        let db = &p.db;
        // admin add --as a scoped organizer: inside its scope and role only.
        assert!(
            !cli(
                db,
                &[
                    "--as", "cs", "admin", "add", "a1", "--role", "viewer", "--scope", "LIB"
                ]
            )
            .0
        );
        assert!(
            !cli(
                db,
                &["--as", "cs", "admin", "add", "a2", "--role", "viewer"]
            )
            .0
        );
        assert!(
            !cli(
                db,
                &[
                    "--as", "cs", "admin", "add", "lib", "--role", "viewer", "--scope", "CS"
                ]
            )
            .0
        );
        let ok = cli(
            db,
            &[
                "--as",
                "cs",
                "admin",
                "add",
                "a3",
                "--role",
                "committee",
                "--scope",
                "CS-T",
            ],
        );
        assert!(ok.0, "{}", ok.1);
        // Without --as an account, the operator acts installation-wide.
        let ok = cli(
            db,
            &[
                "admin",
                "add",
                "a4",
                "--role",
                "organizer",
                "--scope",
                "LIB",
            ],
        );
        assert!(ok.0, "{}", ok.1);

        let dir = tempfile::tempdir().unwrap();
        let units = dir.path().join("units.csv");
        std::fs::write(
            &units,
            "code,name,kind,parent\nCS-N,新支部,branch,CS\nLIB-N,新,branch,LIB\n",
        )
        .unwrap();
        let units = units.to_str().unwrap();
        let out = cli(db, &["units", "import", units, "--scope", "CS"]);
        assert!(!out.0 && out.1.contains("line 3"), "{}", out.1);
        let out = cli(db, &["--as", "cs", "units", "import", units]);
        assert!(!out.0, "the account's scope is the default: {}", out.1);
        let out = cli(
            db,
            &["--as", "cs", "units", "import", units, "--scope", "LIB"],
        );
        assert!(!out.0, "a scope outside the account's: {}", out.1);
        let people = dir.path().join("people.csv");
        std::fs::write(&people, "email,name,unit,category,role\nn1@demo.edu.cn,新,CS-T,faculty,member\nn2@demo.edu.cn,新,LIB,faculty,member\n").unwrap();
        let people = people.to_str().unwrap();
        let out = cli(db, &["people", "import", people, "--scope", "CS"]);
        assert!(!out.0 && out.1.contains("line 3"), "{}", out.1);
        {
            let mut conn = db.state().pool.get().unwrap();
            assert!(
                sanping::db::units::find(&mut conn, "CS-N")
                    .unwrap()
                    .is_none()
            );
            assert!(
                sanping::db::people::find(&mut conn, "n1@demo.edu.cn")
                    .unwrap()
                    .is_none()
            );
        }
        let out = cli(db, &["people", "import", people, "--scope", "U"]);
        assert!(out.0, "{}", out.1);

        // audit --scope: the subtree's entries only.
        let out = cli(db, &["audit", "--limit", "500", "--scope", "LIB"]);
        assert!(out.0, "{}", out.1);
        assert!(
            out.1.contains(&format!("wave {} ", p.lib_wave)),
            "{}",
            out.1
        );
        assert!(
            !out.1.contains(&format!("wave {} ", p.cs_wave)),
            "{}",
            out.1
        );
        let out = cli(db, &["--as", "cs", "audit", "--limit", "500"]);
        assert!(out.1.contains(&format!("wave {} ", p.cs_wave)), "{}", out.1);
        assert!(
            !out.1.contains(&format!("wave {} ", p.lib_wave)),
            "{}",
            out.1
        );
    }
}

#[test]
fn the_province_demo_gives_each_university_its_own_organizer() {
    use sanping::demo::{self, Spec, province};
    let db = TestDb::new();
    let state = db.state();
    {
        let mut conn = state.pool.get().unwrap();
        let bar = indicatif::ProgressBar::hidden();
        demo::build(&mut conn, &Spec::full(demo::DEFAULT_SEED), &bar).unwrap();
        province::add(&mut conn).unwrap();
        let units = sanping::db::units::all(&mut conn).unwrap();
        let root: Vec<&str> = units
            .iter()
            .filter(|u| u.parent.is_none())
            .map(|u| u.code.as_str())
            .collect();
        assert_eq!(root, [province::ROOT]);
        let waves = sanping::db::waves::all(&mut conn).unwrap();
        assert!(!waves.is_empty());
        assert!(waves.iter().all(|w| {
            sanping::scope::Scope::of(Some(province::FIRST)).covers(&units, w.scope.as_deref())
        }));
    }
    let server = Server::start(state);
    let b = |name: &str, pw: &str| login(&server, name, pw).1.unwrap();
    let [(p, pp, _), (u1, u1p, _), (u2, u2p, _)] = province::LOGINS;
    let (prov, first, second) = (b(p, pp), b(u1, u1p), b(u2, u2p));
    let (_, list1) = get(&server, Some(&first), "/admin");
    let (_, list2) = get(&server, Some(&second), "/admin");
    let (_, listp) = get(&server, Some(&prov), "/admin");
    assert!(list1.contains("/admin/waves/1\""), "{list1}");
    assert!(listp.contains("/admin/waves/1\""), "{listp}");
    assert!(!list2.contains("/admin/waves/1\""), "{list2}");
    assert_eq!(get(&server, Some(&second), "/admin/results/1").0, 404);
    let (_, units2) = get(&server, Some(&second), "/admin/units");
    assert!(units2.contains("id=\"u-U2-LI\""), "{units2}");
    assert!(!units2.contains("id=\"u-CS\""), "{units2}");
    let (_, unitsp) = get(&server, Some(&prov), "/admin/units");
    assert!(unitsp.contains("id=\"u-U2-LI\"") && unitsp.contains("id=\"u-CS\""));
}

/// The state and scope of wave `id`.
fn wave_row(db: &TestDb, id: i32) -> (String, Option<String>) {
    let mut conn = db.state().pool.get().unwrap();
    let w = sanping::wave::get(&mut conn, id).unwrap();
    (w.state, w.scope)
}

/// The ids `sanping wave list` printed.
fn listed(out: &str) -> Vec<i32> {
    out.lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect()
}

#[test]
fn cli_wave_report_mail_token_and_admin_commands_keep_to_the_scope() {
    for db in backends() {
        let p = setup(db);
        let db = &p.db;
        let (cs_wave, lib_wave) = (p.cs_wave.to_string(), p.lib_wave.to_string());
        let as_cs = |args: &[&str]| cli(db, &[&["--as", "cs"][..], args].concat());

        // wave: the sibling's waves do not exist; changes need an organizer.
        let out = as_cs(&["wave", "list"]);
        assert!(out.0, "{}", out.1);
        let ids = listed(&out.1);
        assert!(
            ids.contains(&p.cs_wave) && ids.contains(&p.cs_draft),
            "{}",
            out.1
        );
        assert!(!ids.contains(&p.lib_wave), "{}", out.1);
        assert!(listed(&cli(db, &["wave", "list"]).1).contains(&p.lib_wave));
        let lib = lib_wave.as_str();
        let lib_draft = {
            let state = db.state();
            support::create_wave(&state, "liuhao.toml", Some("LIB"), false).to_string()
        };
        // Every wave command, on the sibling's closed wave and on its draft, and the
        // report and mail status of it.
        for args in [
            vec!["wave", "show", lib],
            vec!["wave", "verify", lib],
            vec!["wave", "publish", lib],
            vec!["wave", "extend", lib, "--closes", "2099-01-01 10:00"],
            vec!["wave", "close", lib],
            vec!["wave", "remind", lib],
            vec!["wave", "invite-added", lib],
            vec!["wave", "check-key", lib, "--holder", "cs"],
            vec!["wave", "unseal", lib, "--holder", "cs"],
            vec![
                "wave",
                "grade",
                lib,
                "--person",
                "x@demo.edu.cn",
                "--grade",
                "优秀",
            ],
            vec![
                "wave", "slips", lib, "--unit", "LIB", "--count", "1", "--out", "x.html",
            ],
            vec!["wave", "purge-test", lib],
            vec!["wave", "open", lib_draft.as_str()],
            vec!["wave", "edit", lib_draft.as_str(), "--title", "改"],
            vec!["report", lib],
            vec!["mail", "status", lib],
        ] {
            let out = as_cs(&args);
            assert!(
                !out.0 && out.1.contains("does not exist"),
                "{args:?}: {}",
                out.1
            );
        }
        assert_eq!(wave_row(db, p.lib_wave).0, "closed");
        let lib_draft_id: i32 = lib_draft.parse().unwrap();
        assert_eq!(wave_row(db, lib_draft_id).0, "draft");
        assert!(as_cs(&["wave", "show", cs_wave.as_str()]).0);
        let out = cli(db, &["--as", "csview", "wave", "publish", cs_wave.as_str()]);
        assert!(!out.0 && out.1.contains("organizer"), "{}", out.1);
        assert_eq!(wave_row(db, p.cs_wave).0, "closed");
        let out = as_cs(&["wave", "publish", cs_wave.as_str()]);
        assert!(out.0, "{}", out.1);
        assert_eq!(wave_row(db, p.cs_wave).0, "published");

        // wave create / edit: inside the scope, with holders inside it.
        let survey = support::survey_file("siyou.toml");
        let survey = survey.to_str().unwrap();
        let create = |scope: Option<&str>, holder: &str| {
            let mut args = vec![
                "wave",
                "create",
                "--survey",
                survey,
                "--title",
                "范围内",
                "--single-holder",
            ];
            args.push(holder);
            if let Some(s) = scope {
                args.extend(["--scope", s]);
            }
            as_cs(&args)
        };
        let waves_before = listed(&cli(db, &["wave", "list"]).1).len();
        let out = create(Some("LIB"), "cs");
        assert!(!out.0, "{}", out.1);
        let out = create(None, "lib");
        assert!(!out.0 && out.1.contains("lib"), "{}", out.1);
        assert_eq!(listed(&cli(db, &["wave", "list"]).1).len(), waves_before);
        let out = create(None, "cs");
        assert!(out.0, "{}", out.1);
        let id: i32 = out.1.lines().next().unwrap().trim().parse().unwrap();
        assert_eq!(
            wave_row(db, id).1.as_deref(),
            Some("CS"),
            "the account's scope"
        );
        let draft = p.cs_draft.to_string();
        let out = as_cs(&["wave", "edit", draft.as_str(), "--scope", "LIB"]);
        assert!(!out.0, "{}", out.1);
        let out = as_cs(&["wave", "edit", draft.as_str(), "--whole-tree"]);
        assert!(!out.0, "{}", out.1);
        assert_eq!(wave_row(db, p.cs_draft).1.as_deref(), Some("CS"));
        assert!(as_cs(&["wave", "edit", draft.as_str(), "--scope", "CS-T"]).0);

        // report: a wider account gets no comments.
        let report = ["report", cs_wave.as_str(), "--format", "json"];
        let own = as_cs(&report);
        assert!(own.0 && own.1.contains("计算机学院的意见"), "{}", own.1);
        let wide = cli(db, &[&["--as", "root"][..], &report].concat());
        assert!(wide.0 && !wide.1.contains("计算机学院的意见"), "{}", wide.1);
        assert!(wide.1.contains("\"units\""), "{}", wide.1);

        // mail: status of the own scope; send is the operator's.
        assert!(as_cs(&["mail", "status"]).0);
        assert!(as_cs(&["mail", "status", cs_wave.as_str()]).0);
        let out = as_cs(&["mail", "send"]);
        assert!(!out.0 && out.1.contains("operator"), "{}", out.1);

        // token: only for accounts inside the scope; another scope's token is no token.
        let out = as_cs(&["token", "create", "lib"]);
        assert!(!out.0 && out.1.contains("no account"), "{}", out.1);
        let out = as_cs(&["token", "create", "root"]);
        assert!(!out.0, "{}", out.1);
        assert!(as_cs(&["token", "create", "csview"]).0);
        let lib_token = {
            let mut conn = db.state().pool.get().unwrap();
            sanping::api_token::create(&mut conn, "test", "lib", "", 10)
                .unwrap()
                .0
                .id
        };
        let out = as_cs(&["token", "revoke", lib_token.as_str()]);
        assert!(!out.0 && out.1.contains("no API token"), "{}", out.1);
        assert!(!out.1.contains("lib"), "the owner is not told: {}", out.1);
        let out = as_cs(&["token", "list", "lib"]);
        assert!(!out.0, "{}", out.1);

        // admin disable / enable / password: only accounts inside the scope.
        let out = as_cs(&["admin", "disable", "lib"]);
        assert!(!out.0 && out.1.contains("no account"), "{}", out.1);
        let out = as_cs(&["admin", "password", "root"]);
        assert!(!out.0 && out.1.contains("no account"), "{}", out.1);
        let out = as_cs(&["admin", "enable", "lib"]);
        assert!(!out.0 && out.1.contains("no account"), "{}", out.1);
        let mut conn = db.state().pool.get().unwrap();
        let lib = sanping::db::accounts::find_user(&mut conn, "lib")
            .unwrap()
            .unwrap();
        assert!(!lib.disabled);
        let live = sanping::db::api_tokens::find(&mut conn, &lib_token)
            .unwrap()
            .unwrap();
        assert!(live.revoked_at.is_none());
        drop(conn);
        assert!(as_cs(&["admin", "disable", "csview"]).0);
    }
}

/// `mail status --as` a scoped account counts the mail of its scope's waves only: LIB's
/// queued invitations are not CS's.
#[test]
fn cli_mail_status_counts_only_the_scope() {
    for db in backends() {
        let p = setup(db);
        let db = &p.db;
        {
            let state = db.state();
            let id = support::create_wave(&state, "liuhao.toml", Some("LIB"), false);
            sanping::wave::open_by_email(&mut state.pool.get().unwrap(), id).unwrap();
        }
        let own = cli(db, &["--as", "cs", "mail", "status"]);
        assert!(own.0 && !own.1.contains("invitation"), "{}", own.1);
        let lib = cli(db, &["--as", "lib", "mail", "status"]);
        assert!(lib.0 && lib.1.contains("invitation"), "{}", lib.1);
        // A failed mail: its address is for organizers; a committee member learns it failed.
        let mut conn = db.state().pool.get().unwrap();
        diesel::RunQueryDsl::execute(
            diesel::sql_query(
                "UPDATE outbox SET state = 'failed', last_error = '550 no such user' \
                 WHERE recipient = 'sun.hao@demo.edu.cn'",
            ),
            &mut *conn,
        )
        .unwrap();
        drop(conn);
        add(
            &mut db.state().pool.get().unwrap(),
            "libcom",
            Role::Committee,
            Some("LIB"),
        );
        let org = cli(db, &["--as", "lib", "mail", "status"]);
        assert!(org.0 && org.1.contains("sun.hao@demo.edu.cn"), "{}", org.1);
        let com = cli(db, &["--as", "libcom", "mail", "status"]);
        assert!(com.0 && com.1.contains("failed"), "{}", com.1);
        assert!(!com.1.contains("sun.hao@demo.edu.cn"), "{}", com.1);
        assert!(com.1.contains("organizers only"), "{}", com.1);
    }
}

/// Two `serve` processes on one database: the installation-wide organizer (on one) and the
/// organizer of CS (on the other) add the same new name at the same moment. Whatever the
/// order, the account ends as the wider one made it: either CS's addition came first and the
/// wider organizer reset it, or it came second and was refused as a taken name. Were the
/// check of an existing account not made where the account is written, CS's addition could
/// pass the check before the other wrote and then overwrite the wider account.
#[test]
fn two_servers_adding_one_name_at_once_leave_it_as_the_wider_organizer_made_it() {
    for db in backends() {
        let state = db.state();
        units_and_organizers(&mut state.pool.get().unwrap());
        let dir = tempfile::tempdir().unwrap();
        let a = support::ServeProcess::start(&db, dir.path());
        let b = support::ServeProcess::start(&db, dir.path());
        let root = login(&a, "root", PW).1.unwrap();
        let cs = login(&b, "cs", PW).1.unwrap();
        for i in 0..6 {
            let name = format!("race{i}");
            let barrier = std::sync::Barrier::new(2);
            let (wide, narrow) = std::thread::scope(|s| {
                let wide = s.spawn(|| {
                    barrier.wait();
                    post(
                        &a,
                        Some(&root),
                        "/admin/accounts",
                        &[
                            ("csrf", root.csrf.as_str()),
                            ("username", name.as_str()),
                            ("role", "organizer"),
                            ("scope", ""),
                            ("password", "wide-password"),
                        ],
                    )
                });
                let narrow = s.spawn(|| {
                    barrier.wait();
                    post(
                        &b,
                        Some(&cs),
                        "/admin/accounts",
                        &[
                            ("csrf", cs.csrf.as_str()),
                            ("username", name.as_str()),
                            ("role", "viewer"),
                            ("scope", "CS-T"),
                            ("password", "narrow-password"),
                        ],
                    )
                });
                (wide.join().unwrap(), narrow.join().unwrap())
            });
            assert_eq!(wide, 303, "the wider organizer's addition of {name}");
            assert!([303, 422].contains(&narrow), "{name}: {narrow}");
            let mut conn = state.pool.get().unwrap();
            let user = sanping::db::accounts::find_user(&mut conn, &name)
                .unwrap()
                .unwrap();
            assert_eq!(
                (user.role.as_str(), user.scope.as_deref()),
                ("organizer", None),
                "{name}: CS's addition (status {narrow}) overwrote the wider account"
            );
        }
    }
}

/// Two `serve` processes importing the same new roster at once (the installation-wide
/// organizer on one, the CS organizer on the other): both succeed, one adding the people and
/// the other finding them there. Without the roster lock both read a roster without them,
/// both inserted them, and one failed on the duplicate key (PostgreSQL; SQLite's write lock
/// serialises them anyway).
#[test]
fn two_servers_importing_one_new_roster_at_once_both_succeed() {
    for db in backends() {
        let state = db.state();
        units_and_organizers(&mut state.pool.get().unwrap());
        let dir = tempfile::tempdir().unwrap();
        let a = support::ServeProcess::start(&db, dir.path());
        let b = support::ServeProcess::start(&db, dir.path());
        let root = login(&a, "root", PW).1.unwrap();
        let cs = login(&b, "cs", PW).1.unwrap();
        let n = 1500;
        for round in 0..3 {
            let mut csv = String::from("email,name,unit,category,role\n");
            for i in 0..n {
                csv += &format!("r{round}p{i}@race.edu.cn,人{i},CS-T,student,member\n");
            }
            let barrier = std::sync::Barrier::new(2);
            let (wide, narrow) = std::thread::scope(|s| {
                let wide = s.spawn(|| {
                    barrier.wait();
                    crate::organizer::upload(&a, &root, "/admin/people", &csv)
                });
                let narrow = s.spawn(|| {
                    barrier.wait();
                    crate::organizer::upload(&b, &cs, "/admin/people", &csv)
                });
                (wide.join().unwrap(), narrow.join().unwrap())
            });
            assert_eq!(
                (wide.0, narrow.0),
                (200, 200),
                "round {round}: {}\n---\n{}",
                wide.1,
                narrow.1
            );
            let pages = [&wide.1, &narrow.1];
            let added = |text: &str| pages.iter().filter(|p| p.contains(text)).count();
            assert_eq!(added(&format!("新增 {n}，")), 1, "round {round}");
            assert_eq!(added("新增 0，修改 0，"), 1, "round {round}");
            let stored = sanping::db::people::all(&mut state.pool.get().unwrap())
                .unwrap()
                .into_iter()
                .filter(|p| p.email.starts_with(&format!("r{round}p")))
                .count();
            assert_eq!(stored, n, "round {round}");
        }
    }
}

#[test]
fn cli_units_and_people_commands_keep_to_the_scope() {
    for db in backends() {
        let p = setup(db);
        let db = &p.db;
        let as_cs = |args: &[&str]| cli(db, &[&["--as", "cs"][..], args].concat());
        // units / people list, deactivate and activate: the subtree only.
        let out = as_cs(&["units", "list"]);
        assert!(
            out.0 && out.1.contains("CS-T") && !out.1.contains("LIB"),
            "{}",
            out.1
        );
        assert!(cli(db, &["units", "list"]).1.contains("LIB"));
        let out = as_cs(&["people", "list"]);
        assert!(
            out.0 && out.1.contains("CS-T") && !out.1.contains("LIB"),
            "{}",
            out.1
        );
        let out = as_cs(&["units", "deactivate", "LIB"]);
        assert!(!out.0 && out.1.contains("does not exist"), "{}", out.1);
        let out = as_cs(&["people", "deactivate", "sun.hao@demo.edu.cn"]);
        assert!(!out.0 && out.1.contains("not in the roster"), "{}", out.1);
        // Back in use likewise: LIB's unit and person do not exist for CS.
        assert!(cli(db, &["units", "deactivate", "LIB"]).0);
        let out = as_cs(&["units", "activate", "LIB"]);
        assert!(!out.0 && out.1.contains("does not exist"), "{}", out.1);
        let out = as_cs(&["people", "activate", "sun.hao@demo.edu.cn"]);
        assert!(!out.0 && out.1.contains("not in the roster"), "{}", out.1);
        assert!(cli(db, &["units", "activate", "LIB"]).0);
        // A disabled account acts as nobody, not as the operator.
        assert!(cli(db, &["admin", "disable", "csview"]).0);
        let out = cli(db, &["--as", "csview", "units", "deactivate", "CS-T"]);
        assert!(!out.0 && out.1.contains("disabled"), "{}", out.1);
        let mut conn = db.state().pool.get().unwrap();
        let out_of_use =
            |conn: &mut DbConn, kind| sanping::db::inactive::of_kind(conn, kind).unwrap();
        assert!(out_of_use(&mut conn, sanping::db::inactive::UNIT).is_empty());
        assert!(out_of_use(&mut conn, sanping::db::inactive::PERSON).is_empty());
        drop(conn);
        assert!(as_cs(&["units", "deactivate", "CS-T"]).0);
        let out = as_cs(&["audit", "--limit", "5"]);
        assert!(
            out.1.contains("units.deactivate"),
            "the entry is in the scope: {}",
            out.1
        );
    }
}

/// With `--as` an account below organizer, the CLI refuses what its console pages refuse:
/// the audit log, the unit and people lists, accounts, and other accounts' API tokens; its
/// own tokens it may make, list and revoke. Token entries go into the owner's scope, so the
/// scope's audit log shows them.
#[test]
fn cli_as_a_viewer_does_only_what_its_console_lets_it() {
    for db in backends() {
        let p = setup(db);
        let db = &p.db;
        add(
            &mut db.state().pool.get().unwrap(),
            "csview2",
            Role::Viewer,
            Some("CS"),
        );
        let as_view = |args: &[&str]| cli(db, &[&["--as", "csview"][..], args].concat());
        let units_file = support::fixture("units.csv");
        let units_file = units_file.to_str().unwrap();
        for args in [
            vec!["audit"],
            vec!["units", "list"],
            vec!["people", "list"],
            vec!["units", "import", units_file],
            vec!["units", "deactivate", "CS-T"],
            vec!["people", "deactivate", "wang.li@demo.edu.cn"],
            vec!["admin", "disable", "csview2"],
            vec!["admin", "enable", "csview2"],
            vec!["admin", "password", "csview2"],
            vec!["token", "create", "csview2"],
            vec!["token", "list", "csview2"],
        ] {
            let out = as_view(&args);
            assert!(!out.0 && out.1.contains("organizer"), "{args:?}: {}", out.1);
        }
        // The wave page, its keys and the mail status need the committee, as on the console.
        let cs_wave = p.cs_wave.to_string();
        for args in [
            vec!["wave", "show", cs_wave.as_str()],
            vec!["wave", "check-key", cs_wave.as_str(), "--holder", "csview"],
            vec!["wave", "unseal", cs_wave.as_str(), "--holder", "csview"],
            vec!["mail", "status"],
        ] {
            let out = as_view(&args);
            assert!(!out.0 && out.1.contains("committee"), "{args:?}: {}", out.1);
        }
        // A branch secretary has no tokens page on the console, nor tokens here.
        add(
            &mut db.state().pool.get().unwrap(),
            "cssec",
            Role::Secretary,
            Some("CS-T"),
        );
        for args in [
            vec!["--as", "cssec", "token", "create", "cssec"],
            vec!["--as", "cssec", "token", "list", "cssec"],
        ] {
            let out = cli(db, &args);
            assert!(!out.0 && out.1.contains("viewer"), "{args:?}: {}", out.1);
        }
        let out = as_view(&[
            "admin", "add", "newview", "--role", "viewer", "--scope", "CS",
        ]);
        assert!(!out.0 && out.1.contains("organizer"), "{}", out.1);
        let mut conn = db.state().pool.get().unwrap();
        assert!(
            sanping::db::accounts::find_user(&mut conn, "newview")
                .unwrap()
                .is_none()
        );
        assert!(
            !sanping::db::accounts::find_user(&mut conn, "csview2")
                .unwrap()
                .unwrap()
                .disabled
        );
        assert!(
            sanping::db::api_tokens::of_user(&mut conn, "csview2")
                .unwrap()
                .is_empty()
        );
        drop(conn);

        // Its own tokens: made, listed, revoked; the entries are in CS's audit log.
        let out = as_view(&["token", "create", "csview"]);
        assert!(out.0, "{}", out.1);
        let id = {
            let mut conn = db.state().pool.get().unwrap();
            sanping::db::api_tokens::of_user(&mut conn, "csview").unwrap()[0]
                .id
                .clone()
        };
        let out = as_view(&["token", "list", "csview"]);
        assert!(out.0 && out.1.contains(&id), "{}", out.1);
        assert!(as_view(&["token", "revoke", &id]).0);
        let log = cli(db, &["--as", "cs", "audit"]);
        assert!(
            log.0 && log.1.contains("token.create") && log.1.contains("token.revoke"),
            "{}",
            log.1
        );
        let lib_log = cli(db, &["--as", "lib", "audit"]);
        assert!(
            lib_log.0 && !lib_log.1.contains("token.create"),
            "{}",
            lib_log.1
        );
    }
}
