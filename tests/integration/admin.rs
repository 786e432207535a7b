//! The admin console over real HTTP: roles, CSRF, cookies, throttling, escaping, and the
//! dashboard's numbers against `sanping report`.

use sanping::auth::{self, Role};

use crate::support::{self, Served, Server, TestDb};

/// A logged-in browser: its cookie header and the page's CSRF token.
pub struct Browser {
    pub cookie: String,
    pub csrf: String,
}

fn cookie_of(res: &ureq::http::Response<ureq::Body>, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// Logs in through the login form: the status and, on success, the browser.
pub fn login(server: &impl Served, user: &str, password: &str) -> (u16, Option<Browser>) {
    let mut page = support::client()
        .get(&server.url("/admin/login"))
        .call()
        .unwrap();
    let pre = cookie_of(&page, "sp_login_csrf").unwrap();
    let pre_pair = pre.split(';').next().unwrap().to_owned();
    let html = page.body_mut().read_to_string().unwrap();
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let res = support::client()
        .post(&server.url("/admin/login"))
        .header("cookie", &pre_pair)
        .send_form([
            ("csrf", csrf.as_str()),
            ("username", user),
            ("password", password),
        ])
        .unwrap();
    let status = res.status().as_u16();
    let Some(session) = cookie_of(&res, "sp_session") else {
        return (status, None);
    };
    let cookie = session.split(';').next().unwrap().to_owned();
    let mut admin = support::client()
        .get(&server.url("/admin"))
        .header("cookie", &cookie)
        .call()
        .unwrap();
    let body = admin.body_mut().read_to_string().unwrap();
    let csrf = body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    (status, Some(Browser { cookie, csrf }))
}

/// GET as `b` (or anonymously): status and body.
pub fn get(server: &impl Served, b: Option<&Browser>, path: &str) -> (u16, String) {
    let mut req = support::client().get(&server.url(path));
    if let Some(b) = b {
        req = req.header("cookie", &b.cookie);
    }
    let mut res = req.call().unwrap();
    (
        res.status().as_u16(),
        res.body_mut().read_to_string().unwrap(),
    )
}

pub fn post(server: &impl Served, b: Option<&Browser>, path: &str, fields: &[(&str, &str)]) -> u16 {
    let mut req = support::client().post(&server.url(path));
    if let Some(b) = b {
        req = req.header("cookie", &b.cookie);
    }
    req.send_form(fields.iter().copied())
        .unwrap()
        .status()
        .as_u16()
}

fn setup() -> (TestDb, Server, i32) {
    let db = TestDb::new();
    let state = db.state();
    let wave = crate::report::fixed_wave(&state);
    let mut conn = state.pool.get().unwrap();
    auth::add_user(&mut conn, "org", Role::Organizer, "organizer-pass").unwrap();
    auth::add_user(&mut conn, "kp", Role::Committee, "committee-pass").unwrap();
    auth::add_user(&mut conn, "v", Role::Viewer, "viewer-pass").unwrap();
    drop(conn);
    (db, Server::start(state), wave)
}

#[test]
fn every_admin_route_refuses_anonymous_requests_and_wrong_roles() {
    let (_db, server, wave) = setup();
    let organizer_only = [
        "/admin/audit".to_owned(),
        "/admin/units".into(),
        "/admin/people".into(),
        "/admin/surveys".into(),
        "/admin/waves/new".into(),
        format!("/admin/waves/{wave}"),
        format!("/admin/waves/{wave}/publish"),
    ];
    let viewer_ok = [
        "/admin".to_owned(),
        format!("/admin/results/{wave}"),
        format!("/admin/results/{wave}/unit/LIB"),
        format!("/admin/results/{wave}/print"),
    ];
    let export = format!("/admin/results/{wave}/export/csv");
    for path in organizer_only.iter().chain(&viewer_ok).chain([&export]) {
        assert_eq!(get(&server, None, path).0, 401, "anonymous GET {path}");
    }
    for path in [
        "/admin/logout",
        "/admin/waves",
        &format!("/admin/waves/{wave}/publish"),
        "/admin/people",
    ] {
        assert_eq!(post(&server, None, path, &[]), 401, "anonymous POST {path}");
    }
    let (_, viewer) = login(&server, "v", "viewer-pass");
    let viewer = viewer.unwrap();
    for path in organizer_only.iter().chain([&export]) {
        assert_eq!(
            get(&server, Some(&viewer), path).0,
            403,
            "viewer GET {path}"
        );
    }
    for path in &viewer_ok {
        assert_eq!(
            get(&server, Some(&viewer), path).0,
            200,
            "viewer GET {path}"
        );
    }
    let (_, committee) = login(&server, "kp", "committee-pass");
    let committee = committee.unwrap();
    assert_eq!(get(&server, Some(&committee), &export).0, 200);
    assert_eq!(get(&server, Some(&committee), "/admin/audit").0, 403);
    // The viewer's cookie made to name the organizer instead (its signature no longer fits).
    let forged = Browser {
        cookie: viewer
            .cookie
            .replace("\"user\":\"v\"", "\"user\":\"org\"")
            .replace("%22user%22:%22v%22", "%22user%22:%22org%22")
            .replace("%22user%22%3A%22v%22", "%22user%22%3A%22org%22"),
        csrf: viewer.csrf.clone(),
    };
    assert_ne!(forged.cookie, viewer.cookie, "{}", viewer.cookie);
    assert_eq!(
        get(&server, Some(&forged), "/admin/audit").0,
        401,
        "a tampered cookie is no session"
    );
}

#[test]
fn a_form_without_the_right_csrf_token_changes_nothing() {
    let (db, server, wave) = setup();
    let (status, org) = login(&server, "org", "organizer-pass");
    assert_eq!(status, 303);
    let org = org.unwrap();
    let path = format!("/admin/waves/{wave}/publish");
    assert_eq!(post(&server, Some(&org), &path, &[]), 400);
    assert_eq!(post(&server, Some(&org), &path, &[("csrf", "forged")]), 400);
    let mut conn = db.state().pool.get().unwrap();
    assert_eq!(sanping::wave::get(&mut conn, wave).unwrap().state, "closed");
    assert_eq!(
        post(&server, Some(&org), &path, &[("csrf", &org.csrf)]),
        303
    );
    assert_eq!(
        sanping::wave::get(&mut conn, wave).unwrap().state,
        "published"
    );
    let audit = sanping::db::accounts::audit_entries(&mut conn, 10).unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.actor == "org" && e.action == "wave.publish"),
        "{audit:?}"
    );
}

#[test]
fn session_cookies_are_httponly_samesite_lax_and_secure_on_https() {
    let (db, server, _) = setup();
    let mut page = support::client()
        .get(&server.url("/admin/login"))
        .call()
        .unwrap();
    let pre = cookie_of(&page, "sp_login_csrf").unwrap();
    let html = page.body_mut().read_to_string().unwrap();
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let res = support::client()
        .post(&server.url("/admin/login"))
        .header("cookie", pre.split(';').next().unwrap())
        .send_form([
            ("csrf", csrf.as_str()),
            ("username", "org"),
            ("password", "organizer-pass"),
        ])
        .unwrap();
    let set = cookie_of(&res, "sp_session").unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/"),
        "{set}"
    );
    assert!(!set.contains("Secure"), "plain http base URL: {set}");
    let mut config = db.config();
    config.base_url = "https://pj.example.edu".into();
    let https = sanping::app::AppState::open(config).unwrap();
    let cookie =
        sanping::web::session::Session::new("org".into(), Role::Organizer, 0).cookie(&https);
    assert_eq!(cookie.secure(), Some(true));
    assert_eq!(cookie.http_only(), Some(true));
}

#[test]
fn failed_logins_are_slowed_down_per_account() {
    let (_db, server, _) = setup();
    for _ in 0..5 {
        assert_eq!(login(&server, "org", "wrong").0, 401);
    }
    // The sixth guess is not even checked.
    assert_eq!(login(&server, "org", "wrong").0, 429);
    let (status, browser) = login(&server, "org", "organizer-pass");
    assert_eq!(
        status, 429,
        "locked out for a while after repeated failures"
    );
    assert!(browser.is_none());
}

#[test]
fn the_dashboard_shows_the_numbers_of_sanping_report_and_escapes_comments() {
    let (db, server, wave) = setup();
    let (_, kp) = login(&server, "kp", "committee-pass");
    let kp = kp.unwrap();
    let (status, html) = get(&server, Some(&kp), &format!("/admin/results/{wave}"));
    assert_eq!(status, 200);
    let report = sanping::report::build(
        &mut db.state().pool.get().unwrap(),
        wave,
        Some(wave - 1).filter(|w| *w > 0),
    )
    .unwrap();
    for u in &report.units {
        let row = html
            .split(&format!("data-code=\"{}\"", u.code))
            .nth(1)
            .unwrap()
            .split("</tr>")
            .next()
            .unwrap();
        for cell in sanping::report::export::cells(u, report.satisfaction_bar, false) {
            let escaped = handlebars::html_escape(&cell);
            assert!(
                row.contains(&escaped),
                "{}: {cell} missing in {row}",
                u.code
            );
        }
    }
    assert!(html.contains("样本不足") && html.contains("class=\"badge grade-2\""));
    assert!(
        html.contains("<svg") && html.contains("分维度满意度指数"),
        "the heatmap"
    );
    let (_, sorted) = get(
        &server,
        Some(&kp),
        &format!("/admin/results/{wave}?sort=8&dir=asc&kind=branch"),
    );
    assert!(!sorted.contains("data-code=\"LIB\""), "filtered by kind");
    let (_, unit) = get(
        &server,
        Some(&kp),
        &format!("/admin/results/{wave}/unit/CS"),
    );
    assert!(
        unit.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "comments render as text"
    );
    assert!(!unit.contains("<script>alert"));
    let (status, tree) = get(&server, Some(&kp), &format!("/admin/results/{wave}/tree"));
    assert_eq!(status, 200);
    let cs = tree
        .split("data-code=\"CS\"")
        .nth(1)
        .unwrap()
        .split("</tr>")
        .next()
        .unwrap();
    assert!(
        cs.contains("<td>20 <span") && cs.contains("不含样本不足单位") && cs.contains("98.0"),
        "CS rolls up 20 responses without CS-S1, index 98.0: {cs}"
    );
    let s1 = tree
        .split("data-code=\"CS-S1\"")
        .nth(1)
        .unwrap()
        .split("</tr>")
        .next()
        .unwrap();
    assert!(!s1.contains('%'), "no figure of hidden CS-S1: {s1}");
    let (_, cst) = get(
        &server,
        Some(&kp),
        &format!("/admin/results/{wave}/unit/CS-T"),
    );
    assert!(
        cst.contains("95%区间") && cst.contains("按答卷人聚类"),
        "the interval legend"
    );
    let (_, cs1) = get(
        &server,
        Some(&kp),
        &format!("/admin/results/{wave}/unit/CS-S1"),
    );
    assert!(cs1.contains("样本不足") && !cs1.contains("95%区间："));
    assert!(
        cs1.contains("缺少的环节"),
        "the page says which step is missing"
    );
    let (_, lib) = get(
        &server,
        Some(&kp),
        &format!("/admin/results/{wave}/unit/LIB"),
    );
    assert!(lib.contains("去掉一个最高分和一个最低分") && lib.contains("72.0"));
}

/// The part of `html` from the element with `id` to the end of its `</section>`.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    html.split(&format!("id=\"{id}\""))
        .nth(1)
        .unwrap_or_else(|| panic!("no #{id}"))
        .split("</section>")
        .next()
        .unwrap()
}

#[test]
fn the_dashboard_opens_with_the_summary_of_the_json_and_explains_its_figures() {
    let (db, server, wave) = setup();
    let (_, kp) = login(&server, "kp", "committee-pass");
    let kp = kp.unwrap();
    let report = sanping::report::build(&mut db.state().pool.get().unwrap(), wave, None).unwrap();
    let text = sanping::report::export::summary_text(&report);
    let (status, html) = get(&server, Some(&kp), &format!("/admin/results/{wave}"));
    assert_eq!(status, 200);
    let summary = section(&html, "summary");
    assert!(
        html.find("id=\"summary\"").unwrap() < html.find("id=\"results\"").unwrap(),
        "the summary comes first"
    );
    for (figure, value) in [
        ("rate", text.rate.clone()),
        ("interval", format!("95%区间 {}", text.interval)),
        ("index", text.index.clone()),
        ("response_rate", text.response_rate.clone()),
        (
            "responses",
            format!("{} / {}", text.responses, text.invited),
        ),
        ("below_bar", text.below_bar.to_string()),
    ] {
        assert!(
            summary.contains(&format!("data-figure=\"{figure}\">{value}<")),
            "{figure} = {value} missing in {summary}"
        );
    }
    assert_eq!((text.rate.as_str(), text.index.as_str()), ("96.0%", "92.8"));
    for (grade, n) in &text.grades {
        assert!(summary.contains(&format!("{grade} {n}<")), "{grade} {n}");
    }
    assert!(summary.contains("未定级 1<") && summary.contains("满意率未达90%的单位"));
    assert!(
        summary.contains("3 个单位的 26 份答卷") && summary.contains("不含样本不足单位"),
        "hidden units are left out, and the page says so: {summary}"
    );
    // The legend: one paragraph per term, in Chinese and in English.
    let legend = section(&html, "legend");
    for term in [
        "满意率",
        "满意度指数",
        "90%线",
        "等级",
        "样本不足",
        "95%区间",
        "同类排名",
    ] {
        assert!(
            legend.contains(&format!("<dt>{term}</dt><dd>")),
            "{term} in {legend}"
        );
    }
    assert!(legend.contains("好 ≥ 90 · 较好 ≥ 80 · 一般 ≥ 60 · 较差 &lt; 60"));
    assert!(legend.contains("答卷少于 5 份"));
    let (_, en) = get(
        &server,
        Some(&kp),
        &format!("/admin/results/{wave}?lang=en"),
    );
    let en_legend = section(&en, "legend");
    for term in [
        "Satisfaction rate",
        "Satisfaction index",
        "The 90% bar",
        "Grades",
        "Too few responses",
        "95% interval",
        "Rank",
    ] {
        assert!(
            en_legend.contains(&format!("<dt>{term}</dt><dd>")),
            "{term} in {en_legend}"
        );
    }
    assert!(section(&en, "summary").contains("Units below the 90% bar"));
    assert!(
        en.contains("aria-label=\"Heatmap of the satisfaction index by dimension\""),
        "the charts speak the page's language"
    );
    // Ranks read "n / m".
    let cst = html
        .split("data-code=\"CS-T\"")
        .nth(1)
        .unwrap()
        .split("</tr>")
        .next()
        .unwrap();
    assert!(cst.contains("<td>1 / 1</td>"), "{cst}");
    // The heatmap: every cell and every row names its unit in full (shown on hover), and
    // its scale has distinct colours between 80 and 100.
    let heat = html
        .split("aria-label=\"分维度满意度指数热力图\"")
        .nth(1)
        .unwrap();
    for u in &report.units {
        assert!(
            heat.contains(&format!("<title>{}</title>", u.name)),
            "{}",
            u.name
        );
        assert_eq!(
            heat.matches(&format!("<title>{} · ", u.name)).count(),
            report.dimensions.len(),
            "{}",
            u.name
        );
    }
    let fill_of = |range: &str| {
        heat.split(&format!("><title>{range}</title>"))
            .next()
            .unwrap()
            .rsplit("fill=\"")
            .next()
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned()
    };
    let fills: std::collections::BTreeSet<String> = ["80–85", "85–90", "90–95", "95–100"]
        .into_iter()
        .map(fill_of)
        .collect();
    assert_eq!(fills.len(), 4, "{fills:?}");
    // The unit page draws the bar on the rate: the chart is of rates, its line says so.
    let (_, lib) = get(
        &server,
        Some(&kp),
        &format!("/admin/results/{wave}/unit/LIB"),
    );
    assert!(lib.contains("aria-label=\"分维度满意率\"") && lib.contains(">满意率 90%</text>"));
    assert!(
        lib.contains("80.0%</text>"),
        "LIB's overall rate on the chart"
    );
    assert!(section(&lib, "legend").contains("<dt>满意度指数</dt>"));
}

#[test]
fn a_script_in_a_comment_is_text_on_the_respondent_page_too() {
    let (_db, server, wave) = setup();
    let mut conn = server.state.pool.get().unwrap();
    diesel::RunQueryDsl::execute(
        diesel::update(sanping::db::schema::waves::table).set(diesel::ExpressionMethods::eq(
            sanping::db::schema::waves::state,
            "open",
        )),
        &mut *conn,
    )
    .unwrap();
    let (_, _, tokens) = sanping::wave::slips(&mut conn, wave, "LIB", 1).unwrap();
    drop(conn);
    let url = server.url(&format!("/s/{}", tokens[0]));
    let (status, html) = support::post_fields(
        &url,
        &[("comment".into(), "<script>alert(2)</script>".into())],
    );
    assert_eq!(
        status, 422,
        "items missing: the form comes back with the comment kept"
    );
    assert!(
        html.contains("&lt;script&gt;alert(2)&lt;/script&gt;")
            && !html.contains("<script>alert(2)")
    );
}

#[test]
fn every_page_carries_the_security_headers() {
    let (_db, server, _) = setup();
    for path in [
        "/",
        "/admin/login",
        "/s/aaaaaaaaaaaaaaaaaaaaaaaaaa",
        "/static/style.css",
        "/nope",
    ] {
        let res = support::client().get(&server.url(path)).call().unwrap();
        let h = |n: &str| {
            res.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert!(
            h("content-security-policy").contains("default-src 'none'"),
            "{path}"
        );
        assert_eq!(h("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(h("referrer-policy"), "no-referrer", "{path}");
        assert_eq!(h("x-frame-options"), "DENY", "{path}");
    }
}

#[test]
fn a_roster_upload_with_bad_rows_lists_them_and_imports_nothing() {
    let (db, server, _) = setup();
    let (_, org) = login(&server, "org", "organizer-pass");
    let org = org.unwrap();
    let boundary = "XsanpingX";
    let csv = "email,name,unit,category,role\nnew@demo.edu.cn,新人,LIB,faculty,member\nbad-address,某,LIB,faculty,member\n";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n",
        org.csrf
    );
    let mut res = support::client()
        .post(&server.url("/admin/people"))
        .header("cookie", &org.cookie)
        .header(
            "content-type",
            &format!("multipart/form-data; boundary={boundary}"),
        )
        .send(body.as_bytes())
        .unwrap();
    assert_eq!(res.status().as_u16(), 422);
    let html = res.body_mut().read_to_string().unwrap();
    assert!(
        html.contains("第 3 行") && html.contains("bad-address"),
        "{html}"
    );
    let people = sanping::db::people::all(&mut db.state().pool.get().unwrap()).unwrap();
    assert!(
        people.iter().all(|p| p.email != "new@demo.edu.cn"),
        "nothing imported"
    );
}

/// POSTs `csv` as the `file` of a multipart upload form to `path`: the status.
fn upload(server: &Server, b: &Browser, path: &str, csv: &[u8]) -> u16 {
    let boundary = "XsanpingBoundary7f3a9c";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.csv\"\r\nContent-Type: text/csv\r\n\r\n",
        b.csrf
    )
    .into_bytes();
    body.extend_from_slice(csv);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    support::client()
        .post(&server.url(path))
        .header("cookie", &b.cookie)
        .header(
            "content-type",
            &format!("multipart/form-data; boundary={boundary}"),
        )
        .send(&body[..])
        .unwrap()
        .status()
        .as_u16()
}

#[test]
fn random_csv_uploads_never_get_a_500_and_a_refused_one_changes_nothing() {
    use proptest::test_runner::{Config, TestRunner};
    let (db, server, _) = setup();
    let org = login(&server, "org", "organizer-pass").1.unwrap();
    let state = db.state();
    let refused = std::cell::Cell::new(0);
    let mut runner = TestRunner::new(Config {
        cases: 60,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&crate::fuzz::csv_text(), |csv| {
            let mut conn = state.pool.get().unwrap();
            for path in ["/admin/units", "/admin/people"] {
                let units = sanping::db::units::all(&mut conn).unwrap();
                let people = sanping::db::people::all(&mut conn).unwrap();
                let status = upload(&server, &org, path, &csv);
                if status == 422 {
                    refused.set(refused.get() + 1);
                }
                proptest::prop_assert!(status < 500, "{} for {}", status, path);
                if status >= 400 {
                    proptest::prop_assert_eq!(sanping::db::units::all(&mut conn).unwrap(), units);
                    proptest::prop_assert_eq!(sanping::db::people::all(&mut conn).unwrap(), people);
                }
            }
            Ok(())
        })
        .unwrap();
    assert!(refused.get() > 0, "the files reached the importers");
}

#[test]
fn an_organizer_creates_a_wave_from_a_survey_file_and_sees_the_files_validated() {
    let (db, server, _) = setup();
    let (_, org) = login(&server, "org", "organizer-pass");
    let org = org.unwrap();
    let (status, surveys) = get(&server, Some(&org), "/admin/surveys");
    assert_eq!(status, 200);
    assert!(
        surveys.contains("liuhao.toml") && surveys.contains("siyou.toml") && surveys.contains("✓"),
        "{surveys}"
    );
    let status = post(
        &server,
        Some(&org),
        "/admin/waves",
        &[
            ("csrf", &org.csrf),
            ("title", "网页创建的批次"),
            ("survey", "siyou.toml"),
            ("scope", "CS"),
            ("closes", ""),
            ("holder", "kp"),
            ("single_ok", "on"),
        ],
    );
    assert_eq!(status, 303);
    let mut conn = db.state().pool.get().unwrap();
    let w = sanping::db::waves::all(&mut conn)
        .unwrap()
        .into_iter()
        .find(|w| w.title == "网页创建的批次")
        .expect("created");
    assert_eq!(
        (w.state.as_str(), w.scope.as_deref()),
        ("draft", Some("CS"))
    );
    let w = sanping::wave::get(&mut conn, w.id).unwrap();
    assert!(
        w.survey.contains("四有"),
        "the survey's content is copied into the wave"
    );
    let bad = post(
        &server,
        Some(&org),
        "/admin/waves",
        &[
            ("csrf", &org.csrf),
            ("title", "x"),
            ("survey", "../etc/passwd"),
        ],
    );
    assert_eq!(bad, 422, "only files of the survey folder");
}

#[test]
fn failed_logins_are_slowed_down_per_account_and_address() {
    let (_db, server, _) = setup();
    for n in 0..6 {
        assert_eq!(login(&server, &format!("nobody{n}"), "wrong").0, 401);
    }
    let (status, _) = login(&server, "v", "viewer-pass");
    assert_eq!(
        status, 303,
        "other names' failures do not lock an account out (a campus NAT shares one address)"
    );
    for _ in 0..5 {
        assert_eq!(login(&server, "v", "wrong").0, 401);
    }
    let (status, browser) = login(&server, "v", "viewer-pass");
    assert_eq!(
        status, 429,
        "five failures lock this account from this address"
    );
    assert!(browser.is_none());
}
