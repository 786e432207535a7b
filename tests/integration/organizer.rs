//! The organizer's console says what it does: uploads return to their own page with the
//! roster's counts before and after, and each wave state has its own one-line hint.

use sanping::auth::{self, Role};

use crate::admin::{Browser, get, login};
use crate::support::{self, Server, TestDb};

/// A database with the fixture roster and an organizer; the server and the organizer.
fn setup() -> (TestDb, Server, Browser) {
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    auth::add_user(
        &mut state.pool.get().unwrap(),
        "org",
        Role::Organizer,
        "organizer-pass",
    )
    .unwrap();
    let server = Server::start(state);
    let org = login(&server, "org", "organizer-pass").1.unwrap();
    (db, server, org)
}

/// POSTs `csv` as a multipart upload to `path`: status and page.
fn upload(server: &Server, b: &Browser, path: &str, csv: &str) -> (u16, String) {
    let boundary = "XsanpingOrganizerX";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n",
        b.csrf
    );
    let mut res = support::client()
        .post(&server.url(path))
        .header("cookie", &b.cookie)
        .header(
            "content-type",
            &format!("multipart/form-data; boundary={boundary}"),
        )
        .send(body.as_bytes())
        .unwrap();
    (
        res.status().as_u16(),
        res.body_mut().read_to_string().unwrap(),
    )
}

/// The roster's counts as the pages word them.
fn counts(db: &TestDb) -> String {
    let mut conn = db.state().pool.get().unwrap();
    format!(
        "{} 个单位，{} 人",
        sanping::db::units::all(&mut conn).unwrap().len(),
        sanping::db::people::all(&mut conn).unwrap().len()
    )
}

#[test]
fn each_upload_returns_to_its_own_page_with_the_counts_before_and_after() {
    let (db, server, org) = setup();
    let before = counts(&db);
    let (status, page) = get(&server, Some(&org), "/admin/people");
    assert_eq!(status, 200);
    assert!(page.contains(&format!("名册现有：{before}")), "{page}");

    // A good units upload: the units page, with the new unit in the tree.
    let (status, page) = upload(
        &server,
        &org,
        "/admin/units",
        "code,name,kind,parent\nCS-X,计算机学院新支部,branch,CS\n",
    );
    assert_eq!(status, 200, "{page}");
    let after = counts(&db);
    assert_ne!(before, after);
    assert!(page.contains("<h1>组织</h1>"), "the units page: {page}");
    assert!(page.contains("计算机学院新支部"), "{page}");
    assert!(
        page.contains(&format!("导入前：{before} → 导入后：{after}")),
        "{page}"
    );

    // A bad units upload: still the units page, 422, the real counts, unchanged.
    let (status, page) = upload(
        &server,
        &org,
        "/admin/units",
        "code,name,kind,parent\nZZ,某,branch,NOPE\n",
    );
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("<h1>组织</h1>"), "{page}");
    assert!(page.contains("NOPE"), "the bad row is listed: {page}");
    assert!(
        page.contains(&format!("导入前：{after} → 导入后：{after}")),
        "{page}"
    );
    assert!(!page.contains("→ 导入后：0 个单位"), "{page}");

    // A bad people upload: the people page, the counts unchanged (never "0").
    let (status, page) = upload(
        &server,
        &org,
        "/admin/people",
        "email,name,unit,category,role\nbad-address,某,CS-T,faculty,member\n",
    );
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("<h1>名册</h1>"), "{page}");
    assert!(
        page.contains(&format!("导入前：{after} → 导入后：{after}")),
        "{page}"
    );
    assert_eq!(counts(&db), after);

    // A good people upload: the people page with both counts.
    let (status, page) = upload(
        &server,
        &org,
        "/admin/people",
        "email,name,unit,category,role\nnew.one@demo.edu.cn,新人,CS-X,faculty,member\n",
    );
    assert_eq!(status, 200, "{page}");
    let last = counts(&db);
    assert_ne!(last, after);
    assert!(page.contains("<h1>名册</h1>"), "{page}");
    assert!(
        page.contains(&format!("导入前：{after} → 导入后：{last}")),
        "{page}"
    );
}

/// The one-line hint of the wave page.
fn hint(page: &str) -> &str {
    page.split("class=\"hint state-hint\">")
        .nth(1)
        .and_then(|s| s.split("</p>").next())
        .unwrap_or_default()
}

#[test]
fn each_wave_state_has_its_own_hint() {
    let (db, server, org) = setup();
    let state = db.state();
    let id = support::create_wave(&state, "liuhao.toml", None, false);
    let page = |id: i32| get(&server, Some(&org), &format!("/admin/waves/{id}")).1;
    let draft = page(id);
    assert!(hint(&draft).contains("草稿"), "{draft}");
    assert!(!draft.contains("测评进行中"), "{draft}");

    let mut conn = state.pool.get().unwrap();
    sanping::wave::open(&mut conn, id, "http://x", |_| Ok(())).unwrap();
    let open = page(id);
    assert!(hint(&open).contains("测评进行中"), "{open}");

    sanping::wave::close(&mut conn, id).unwrap();
    let sealed = page(id);
    assert!(hint(&sealed).contains("待开箱"), "{sealed}");
    assert!(!sealed.contains("测评进行中"), "{sealed}");

    sanping::sealing::unseal(&mut conn, id, &support::holder_password(), "test").unwrap();
    let closed = page(id);
    assert!(
        hint(&closed).contains("测评已结束，不再接受答卷"),
        "{closed}"
    );

    sanping::wave::publish(&mut conn, id).unwrap();
    let published = page(id);
    assert!(hint(&published).contains("结果已公布"), "{published}");
    assert!(!published.contains("测评进行中"), "{published}");
}
