//! Sealed answers in the console, over real HTTP: key holders and threshold on the new-wave
//! form, key checks on the wave page, the open guard, and 开箱 with T holders' passwords.

use sanping::auth::{self, Role};
use sanping::db::{DbConn, holders, waves};

use crate::admin::{Browser, get, login};
use crate::support::{self, Server, TestDb};

const ORG_PASSWORD: &str = "organizer-pass";
const KP_PASSWORD: &str = "committee-pass";

/// A database with the fixture units and roster, an organizer `org`, a committee member
/// `kp` and a viewer `v`, served over HTTP.
fn setup() -> (TestDb, Server) {
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    let mut conn = state.pool.get().unwrap();
    auth::add_user(&mut conn, "org", Role::Organizer, ORG_PASSWORD).unwrap();
    auth::add_user(&mut conn, "kp", Role::Committee, KP_PASSWORD).unwrap();
    auth::add_user(&mut conn, "v", Role::Viewer, "viewer-pass").unwrap();
    drop(conn);
    (db, Server::start(state))
}

fn browser(server: &Server, user: &str, password: &str) -> Browser {
    login(server, user, password).1.expect("logged in")
}

/// POST a form as `b`: status and body.
fn post(server: &Server, b: &Browser, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let mut res = support::client()
        .post(&server.url(path))
        .header("cookie", &b.cookie)
        .send_form(fields.iter().copied())
        .unwrap();
    (
        res.status().as_u16(),
        res.body_mut().read_to_string().unwrap(),
    )
}

fn conn(server: &Server) -> impl std::ops::DerefMut<Target = DbConn> {
    server.state.pool.get().unwrap()
}

fn wave_titled(server: &Server, title: &str) -> Option<waves::WaveHead> {
    waves::all(&mut conn(server))
        .unwrap()
        .into_iter()
        .find(|w| w.title == title)
}

/// Creates a wave held by `org` and `kp`, any two of whom unseal, through the form.
fn create_two_holder_wave(server: &Server, org: &Browser, title: &str) -> i32 {
    let (status, body) = post(
        server,
        org,
        "/admin/waves",
        &[
            ("csrf", &org.csrf),
            ("title", title),
            ("survey", "liuhao.toml"),
            ("scope", ""),
            ("closes", ""),
            ("holder", "org"),
            ("holder", "kp"),
            ("threshold", "2"),
        ],
    );
    assert_eq!(status, 303, "{body}");
    wave_titled(server, title).expect("created").id
}

fn audit_actions(server: &Server) -> Vec<String> {
    sanping::db::accounts::audit_entries(&mut conn(server), 500)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

#[test]
fn a_wave_created_on_the_form_stores_its_key_holders_and_threshold() -> anyhow::Result<()> {
    let (_db, server) = setup();
    let org = browser(&server, "org", ORG_PASSWORD);
    let (status, form) = get(&server, Some(&org), "/admin/waves/new");
    assert_eq!(status, 200);
    for account in ["org", "kp", "v"] {
        assert!(
            form.contains(&format!("name=\"holder\" value=\"{account}\"")),
            "every account can be checked as a key holder: {form}"
        );
    }
    assert!(form.contains("name=\"threshold\"") && form.contains("name=\"single_ok\""));
    assert!(form.contains("我确认只由一人保管密钥：此人与数据库合在一起即可读出全部答卷"));
    let id = create_two_holder_wave(&server, &org, "两人保管的批次");
    let stored = holders::of_wave(&mut conn(&server), id)?;
    let names: Vec<&str> = stored.iter().map(|h| h.username.as_str()).collect();
    assert_eq!(names, ["kp", "org"]);
    assert!(
        stored
            .iter()
            .all(|h| h.confirmed_at.is_none() && h.share.is_none())
    );
    let w = sanping::wave::get(&mut conn(&server), id)?;
    assert_eq!((w.threshold, w.state.as_str()), (Some(2), "draft"));
    let (status, page) = get(&server, Some(&org), &format!("/admin/waves/{id}"));
    assert_eq!(status, 200);
    assert!(page.contains("任意 2 人可开箱"), "{page}");
    assert!(
        !page.contains("此批次只有一位密钥保管人"),
        "no warning for 2 of 2"
    );
    Ok(())
}

#[test]
fn a_single_holder_without_acknowledgement_is_refused_and_the_form_keeps_what_was_typed()
-> anyhow::Result<()> {
    let (_db, server) = setup();
    let org = browser(&server, "org", ORG_PASSWORD);
    let fields = [
        ("csrf", org.csrf.as_str()),
        ("title", "只一人保管的批次"),
        ("survey", "siyou.toml"),
        ("scope", "CS"),
        ("closes", ""),
        ("holder", "kp"),
        ("threshold", "1"),
    ];
    let (status, page) = post(&server, &org, "/admin/waves", &fields);
    assert_eq!(status, 422);
    assert!(page.contains("只选了一位密钥保管人（kp）"), "{page}");
    assert!(
        page.contains("value=\"只一人保管的批次\""),
        "the title is kept"
    );
    assert!(page.contains("name=\"holder\" value=\"kp\" checked"));
    assert!(!page.contains("name=\"holder\" value=\"org\" checked"));
    assert!(page.contains("<option value=\"siyou.toml\" selected>"));
    assert!(page.contains("<option value=\"CS\" selected>"));
    assert!(wave_titled(&server, "只一人保管的批次").is_none());

    let mut acknowledged = fields.to_vec();
    acknowledged.push(("single_ok", "on"));
    let (status, _) = post(&server, &org, "/admin/waves", &acknowledged);
    assert_eq!(status, 303);
    let id = wave_titled(&server, "只一人保管的批次")
        .expect("created")
        .id;
    let w = sanping::wave::get(&mut conn(&server), id)?;
    assert_eq!(w.threshold, Some(1), "one holder unseals alone");
    let (_, page) = get(&server, Some(&org), &format!("/admin/waves/{id}"));
    assert!(page.contains("此批次只有一位密钥保管人（kp）"), "{page}");
    let (_, confirm) = get(&server, Some(&org), &format!("/admin/waves/{id}/open"));
    assert!(
        confirm.contains("此人与数据库合在一起即可读出全部答卷"),
        "opening says so too: {confirm}"
    );
    Ok(())
}

#[test]
fn a_holder_checks_their_key_on_the_wave_page_and_a_wrong_password_is_refused_and_audited()
-> anyhow::Result<()> {
    let (_db, server) = setup();
    let org = browser(&server, "org", ORG_PASSWORD);
    let id = create_two_holder_wave(&server, &org, "检查密钥");
    let page_path = format!("/admin/waves/{id}");
    let check_path = format!("/admin/waves/{id}/check-key");

    let kp = browser(&server, "kp", KP_PASSWORD);
    let (status, page) = get(&server, Some(&kp), &page_path);
    assert_eq!(status, 200, "committee members see the wave page");
    assert!(page.contains("检查我的密钥") && page.contains(&check_path));
    assert!(
        !page.contains(&format!("/admin/waves/{id}/open")),
        "organizer actions are for organizers only"
    );
    let (status, _) = post(
        &server,
        &kp,
        &check_path,
        &[("csrf", &kp.csrf), ("password", KP_PASSWORD)],
    );
    assert_eq!(status, 303);
    let stored = holders::of_wave(&mut conn(&server), id)?;
    let confirmed: Vec<&str> = stored
        .iter()
        .filter(|h| h.confirmed_at.is_some())
        .map(|h| h.username.as_str())
        .collect();
    assert_eq!(confirmed, ["kp"]);
    let (_, page) = get(&server, Some(&kp), &page_path);
    assert!(page.contains("kp <span class=\"ok\">✓</span>"), "{page}");
    assert!(!page.contains("org <span class=\"ok\">"));

    let (status, page) = post(
        &server,
        &org,
        &check_path,
        &[("csrf", &org.csrf), ("password", "not-my-password")],
    );
    assert_eq!(status, 422);
    assert!(page.contains("密钥检查未通过"), "{page}");
    assert!(
        holders::of_wave(&mut conn(&server), id)?
            .iter()
            .any(|h| h.username == "org" && h.confirmed_at.is_none())
    );
    assert!(audit_actions(&server).contains(&"wave.check_key.refused".to_owned()));

    let (status, _) = post(
        &server,
        &kp,
        &check_path,
        &[("csrf", "forged"), ("password", KP_PASSWORD)],
    );
    assert_eq!(status, 400, "no key check without the session's CSRF token");
    let viewer = browser(&server, "v", "viewer-pass");
    assert_eq!(get(&server, Some(&viewer), &page_path).0, 403);
    let (status, _) = post(
        &server,
        &viewer,
        &check_path,
        &[("csrf", &viewer.csrf), ("password", "viewer-pass")],
    );
    assert_eq!(status, 403);
    Ok(())
}

#[test]
fn opening_with_fewer_checked_keys_than_the_threshold_needs_the_acknowledgement()
-> anyhow::Result<()> {
    let (_db, server) = setup();
    let org = browser(&server, "org", ORG_PASSWORD);
    let id = create_two_holder_wave(&server, &org, "开放前检查");
    let open = format!("/admin/waves/{id}/open");
    let (status, confirm) = get(&server, Some(&org), &open);
    assert_eq!(status, 200);
    assert!(
        confirm.contains("只有 0 位密钥保管人检查过自己的密钥，而开箱需要 2 位。尚未检查：kp、org"),
        "{confirm}"
    );
    assert!(confirm.contains("name=\"unchecked_ok\""));

    let (status, page) = post(&server, &org, &open, &[("csrf", &org.csrf)]);
    assert_eq!(status, 422);
    assert!(page.contains("我了解此风险，仍然开放"), "{page}");
    let w = sanping::wave::get(&mut conn(&server), id)?;
    assert_eq!(w.state, "draft");
    assert!(!w.is_sealed() && w.public_key.is_none(), "nothing changed");

    let (status, _) = post(
        &server,
        &org,
        &open,
        &[("csrf", &org.csrf), ("unchecked_ok", "on")],
    );
    assert_eq!(status, 303);
    let w = sanping::wave::get(&mut conn(&server), id)?;
    assert_eq!(w.state, "open");
    assert!(w.is_sealed());
    assert!(
        holders::of_wave(&mut conn(&server), id)?
            .iter()
            .all(|h| h.share.is_some())
    );
    Ok(())
}

#[test]
fn two_holders_unseal_a_closed_wave_on_one_form_and_one_wrong_password_changes_nothing()
-> anyhow::Result<()> {
    let (_db, server) = setup();
    let org = browser(&server, "org", ORG_PASSWORD);
    let id = create_two_holder_wave(&server, &org, "开箱");
    let wave_path = format!("/admin/waves/{id}");
    let unseal_path = format!("/admin/waves/{id}/unseal");
    let (status, _) = post(
        &server,
        &org,
        &format!("{wave_path}/check-key"),
        &[("csrf", &org.csrf), ("password", ORG_PASSWORD)],
    );
    assert_eq!(status, 303, "one of two checked: opening still asks");
    let (status, _) = post(
        &server,
        &org,
        &format!("{wave_path}/open"),
        &[("csrf", &org.csrf), ("unchecked_ok", "on")],
    );
    assert_eq!(status, 303);

    let (_, _, tokens) = sanping::wave::slips(&mut conn(&server), id, "LIB", 3)?;
    for (i, token) in tokens.iter().enumerate() {
        let (status, _) = support::post_fields(
            &server.url(&format!("/s/{token}")),
            &support::answers_for("liuhao.toml", i),
        );
        assert_eq!(status, 200);
    }
    let (status, _) = post(
        &server,
        &org,
        &format!("{wave_path}/close"),
        &[("csrf", &org.csrf)],
    );
    assert_eq!(status, 303);

    let kp = browser(&server, "kp", KP_PASSWORD);
    let (_, page) = get(&server, Some(&kp), &wave_path);
    assert!(page.contains("待开箱"), "{page}");
    assert!(page.contains(&format!("href=\"{unseal_path}\"")));
    assert!(
        !page.contains(&format!("/admin/results/{id}")),
        "no results while sealed"
    );
    let viewer = browser(&server, "v", "viewer-pass");
    assert_eq!(get(&server, Some(&viewer), &unseal_path).0, 403);
    let (status, form) = get(&server, Some(&kp), &unseal_path);
    assert_eq!(status, 200);
    for field in ["holder_1", "password_1", "holder_2", "password_2"] {
        assert!(form.contains(&format!("name=\"{field}\"")), "{form}");
    }
    assert!(!form.contains("holder_3"), "one row per holder it takes");

    let (status, page) = post(
        &server,
        &kp,
        &unseal_path,
        &[
            ("csrf", &kp.csrf),
            ("holder_1", "kp"),
            ("password_1", KP_PASSWORD),
            ("holder_2", "org"),
            ("password_2", "a-wrong-password"),
        ],
    );
    assert_eq!(status, 422);
    assert!(page.contains("开箱未成功，未做任何更改"), "{page}");
    assert!(
        page.contains("<option value=\"org\" selected>"),
        "the holders chosen are kept"
    );
    assert!(
        !page.contains(KP_PASSWORD),
        "a password never comes back in a page"
    );
    let (status, _) = post(
        &server,
        &kp,
        &unseal_path,
        &[
            ("csrf", &kp.csrf),
            ("holder_1", "kp"),
            ("password_1", KP_PASSWORD),
        ],
    );
    assert_eq!(status, 422, "one holder is fewer than the threshold");
    let w = sanping::wave::get(&mut conn(&server), id)?;
    assert!(w.is_sealed(), "still sealed");
    assert_eq!(sanping::db::sealed::count(&mut conn(&server), id)?, 3);
    assert!(audit_actions(&server).contains(&"wave.unseal.refused".to_owned()));

    let (status, _) = post(
        &server,
        &kp,
        &unseal_path,
        &[
            ("csrf", &kp.csrf),
            ("holder_1", "kp"),
            ("password_1", KP_PASSWORD),
            ("holder_2", "org"),
            ("password_2", ORG_PASSWORD),
        ],
    );
    assert_eq!(status, 303);
    let w = sanping::wave::get(&mut conn(&server), id)?;
    assert!(!w.is_sealed() && w.unsealed_at.is_some());
    let opened: i64 = {
        use diesel::prelude::*;
        use sanping::db::schema::responses;
        responses::table
            .filter(responses::wave_id.eq(id))
            .count()
            .get_result(&mut *conn(&server))?
    };
    assert_eq!(
        opened, 3,
        "the three sheets are opened and stored as responses"
    );
    assert!(
        holders::of_wave(&mut conn(&server), id)?
            .iter()
            .all(|h| h.share.is_none()),
        "the shares are erased"
    );
    assert!(audit_actions(&server).contains(&"wave.unseal".to_owned()));
    let (_, page) = get(&server, Some(&kp), &wave_path);
    assert!(!page.contains("待开箱") && page.contains(&format!("/admin/results/{id}")));
    let (status, _) = post(
        &server,
        &kp,
        &unseal_path,
        &[
            ("csrf", &kp.csrf),
            ("holder_1", "kp"),
            ("password_1", KP_PASSWORD),
            ("holder_2", "org"),
            ("password_2", ORG_PASSWORD),
        ],
    );
    assert_eq!(status, 422, "an unsealed wave is not unsealed twice");
    Ok(())
}

#[test]
fn an_organizer_previews_the_questionnaire_as_a_respondent_sees_it() {
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    let wave = support::create_wave(&state, "liuhao.toml", None, false);
    let mut conn = state.pool.get().unwrap();
    sanping::auth::add_user(
        &mut conn,
        "org",
        sanping::auth::Role::Organizer,
        "organizer-pass",
    )
    .unwrap();
    sanping::auth::add_user(&mut conn, "v", sanping::auth::Role::Viewer, "viewer-pass").unwrap();
    drop(conn);
    let server = Server::start(state);
    let (_, org) = crate::admin::login(&server, "org", "organizer-pass");
    let org = org.unwrap();
    let (status, page) = crate::admin::get(
        &server,
        Some(&org),
        &format!("/admin/waves/{wave}/preview?unit=LIB"),
    );
    assert_eq!(status, 200);
    assert!(page.contains("id=\"preview\"") && page.contains("图书馆直属党支部"));
    assert_eq!(
        page.matches("type=\"radio\"").count(),
        18 * 4,
        "every item, as a draft"
    );
    assert!(
        page.contains("action=\"#\"") && page.contains(" disabled>"),
        "nothing to submit"
    );
    let (status, _) = crate::admin::get(
        &server,
        Some(&org),
        &format!("/admin/waves/{wave}/preview?unit=NOPE"),
    );
    assert_eq!(status, 404);
    let (_, viewer) = crate::admin::login(&server, "v", "viewer-pass");
    let (status, _) = crate::admin::get(
        &server,
        viewer.as_ref(),
        &format!("/admin/waves/{wave}/preview"),
    );
    assert_eq!(status, 403);
}
