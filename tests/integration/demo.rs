//! `sanping demo`: the generated university and its two waves, read back through the real
//! report and audit; the command's choice of database.

use sanping::demo::{self, DemoError, Spec};
use sanping::report;

use crate::support::{self, TestDb};

#[test]
fn the_demo_builds_two_published_waves_the_report_can_show() {
    let db = TestDb::new();
    let state = db.state();
    let mut conn = state.pool.get().unwrap();
    let bar = indicatif::ProgressBar::hidden();
    let summary = demo::build(&mut conn, &Spec::full(demo::DEFAULT_SEED), &bar).unwrap();
    assert_eq!(
        summary.units,
        summary.targets + 1,
        "only the committee is not evaluated"
    );
    assert!((3000..=5000).contains(&summary.people), "{summary:?}");
    assert_eq!(summary.committee, 7);
    assert!((1..=2).contains(&summary.without_secretary.len()));
    let [first, second, open] = summary.waves.as_slice() else {
        panic!("two published waves and an open one: {summary:?}");
    };
    assert_eq!(
        bar.position(),
        bar.length().unwrap(),
        "every submission counted"
    );
    for w in [first, second] {
        let wave = sanping::wave::get(&mut conn, w.id).unwrap();
        assert_eq!(wave.state, "published");
        assert!(w.responses * 100 >= w.invited * 60, "{w:?}");
        assert_eq!(w.org_sheets, 7 * summary.targets);
        assert_eq!(
            w.self_sheets,
            summary.targets - summary.without_secretary.len()
        );
    }

    // The open wave: its printed links work, one of each kind.
    assert_eq!(
        sanping::wave::get(&mut conn, open.id).unwrap().state,
        "open"
    );
    let links = open.open_links.clone().expect("links to try");
    let server = support::Server::start(state.clone());
    for (link, shows) in [
        (&links.respond, "提交答卷"),
        (&links.self_assess, "基层自评"),
        (&links.committee, "组织考评"),
    ] {
        let (status, page) = support::get(&server.url(&support::path_of(link)));
        assert_eq!(status, 200, "{link}");
        assert!(page.contains(shows), "{link} should show {shows}");
    }
    // And in a browser on a phone, as a newcomer opens them (issue 16, point 1).
    if let Some((driver, port)) = crate::browser_ux::driver() {
        crate::browser_ux::block_on(async {
            let c = crate::browser::browser(port, driver.1.path()).await;
            c.set_window_size(360, 740).await.unwrap();
            for (link, shows, name) in [
                (&links.respond, "提交答卷", "demo-respond.png"),
                (&links.self_assess, "基层自评", "demo-self.png"),
                (&links.committee, "组织考评", "demo-committee.png"),
            ] {
                c.goto(&server.url(&support::path_of(link))).await.unwrap();
                crate::browser::wait_for(&c, shows).await;
                crate::browser_people::shot(&c, name).await;
            }
            c.close().await.unwrap();
        });
    }
    let r = report::build(&mut conn, second.id, Some(first.id)).unwrap();
    assert!(
        (55..=65).contains(&r.units.len()),
        "about 60 branch-level units: {}",
        r.units.len()
    );
    let small = r.units.iter().find(|u| u.code == demo::SMALL_UNIT).unwrap();
    assert_eq!((small.invited, small.responses), (4, 3));
    assert!(small.suppressed && small.mass.is_none(), "样本不足");
    assert!(r.units.iter().any(|u| u.bar_met == Some(false)));
    assert!(r.units.iter().any(|u| u.bar_met == Some(true)));
    for u in &r.units {
        assert!(u.responses <= u.invited, "{}", u.code);
        assert_eq!(
            u.org.scorers, 7,
            "{}: every member scores every unit",
            u.code
        );
        let has_secretary = !summary.without_secretary.contains(&u.code);
        assert_eq!(u.self_score.is_some(), has_secretary, "{}", u.code);
        if u.code != demo::SMALL_UNIT {
            assert!(
                u.responses >= 5,
                "{}: only the small unit is too small",
                u.code
            );
        }
    }
    let changes: Vec<f64> = r
        .units
        .iter()
        .filter_map(|u| u.change.as_ref()?.satisfaction_index)
        .collect();
    let better = changes.iter().filter(|d| **d > 0.0).count();
    assert!(
        better * 2 > changes.len(),
        "most units improved: {better} of {}",
        changes.len()
    );
    assert!(!r.comments.is_empty());
    for w in [first, second] {
        let shown = report::build(&mut conn, w.id, None).unwrap();
        let audit = report::verify::audit(&mut conn, w.id, Some(&shown)).unwrap();
        assert!(audit.ok(), "wave {}: {audit:?}", w.id);
        assert_eq!(audit.checked, w.responses);
    }

    check_people_waves(&mut conn, &summary);

    let again = demo::build(&mut conn, &Spec::full(1), &bar).unwrap_err();
    assert!(
        matches!(again, DemoError::NotEmpty(n) if n == summary.units),
        "{again}"
    );
}

/// The 民主评议党员 wave: published, a result for (nearly) everyone, a few 基本合格, one person
/// flagged, a final grade for everyone, nowhere more 优秀 than ⌊n × 1/3⌋ and exactly that
/// in one branch; the small branch left out. The 班子测评 wave: published, with its teams.
fn check_people_waves(conn: &mut sanping::db::DbConn, summary: &demo::Summary) {
    let [minzhu, banzi] = summary.people_waves.as_slice() else {
        panic!("a 民主评议党员 and a 班子测评 wave: {summary:?}");
    };
    for w in [minzhu, banzi] {
        assert_eq!(sanping::wave::get(conn, w.id).unwrap().state, "published");
        let (_, diffs) = sanping::record::check(conn, w.id, &sanping::tally::Counts::default())
            .unwrap()
            .expect("a record");
        assert!(diffs.is_empty(), "wave {}: {diffs:?}", w.id);
        assert!(
            w.sheets * 100 >= w.raters * 75 && w.sheets < w.raters,
            "most raters, not all: {w:?}"
        );
    }
    assert!(minzhu.too_small.contains(&demo::SMALL_UNIT.to_owned()));
    assert!(minzhu.summaries * 10 >= minzhu.rated * 8, "{minzhu:?}");
    let r = report::people::build(conn, minzhu.id).unwrap();
    assert!(r.final_grade);
    let people: Vec<&report::people::PersonResult> = r.people.iter().filter(|p| !p.team).collect();
    assert_eq!(people.len(), minzhu.rated);
    assert!(people.len() >= 30, "{}", people.len());
    assert!(people.iter().all(|p| p.counts.is_some() && p.raters >= 5));
    let count = |p: &report::people::PersonResult, label: &str| {
        p.counts
            .iter()
            .flatten()
            .find(|c| c.label == label)
            .map_or(0, |c| c.count)
    };
    let final_is = |p: &report::people::PersonResult, label: &str| {
        p.final_grade.as_ref().is_some_and(|g| g.label == label)
    };
    assert!(people.iter().any(|p| count(p, "基本合格") > 0));
    assert!(
        people.iter().all(|p| p.final_grade.is_some()),
        "every member graded"
    );
    let basic = people.iter().filter(|p| final_is(p, "基本合格")).count();
    assert!((2..=5).contains(&basic), "a few 基本合格: {basic}");
    assert_eq!(
        people.iter().filter(|p| p.flagged).count(),
        1,
        "one flagged"
    );
    assert!(people.iter().any(|p| !p.reasons.is_empty()));
    let mut at_cap = Vec::new();
    for u in &r.units {
        let n = people.iter().filter(|p| p.unit == u.unit).count() as u64;
        assert_eq!(u.max_top, n / 3, "{}", u.unit);
        let top = people
            .iter()
            .filter(|p| p.unit == u.unit && final_is(p, "优秀"))
            .count() as u64;
        assert!(top <= n / 3, "{}: {top} 优秀 of {n}", u.unit);
        if top == n / 3 && n >= 6 {
            at_cap.push(u.unit.clone());
        }
    }
    assert!(
        at_cap.contains(&demo::people::AT_CAP.to_owned()),
        "{at_cap:?}"
    );
    assert_eq!(
        minzhu.at_cap.as_ref().map(|(unit, _, _)| unit.as_str()),
        Some(demo::people::AT_CAP)
    );

    let b = report::people::build(conn, banzi.id).unwrap();
    assert!(!b.final_grade);
    assert!(banzi.teams >= 3, "{banzi:?}");
    assert!(
        b.people
            .iter()
            .any(|p| p.team && !p.suppressed && p.items.len() == 5)
    );
    assert!(b.people.iter().any(|p| !p.team && p.counts.is_some()));
}

#[test]
fn the_command_starts_over_in_its_own_file_and_refuses_a_database_with_units() {
    let dir = tempfile::tempdir().unwrap();
    // A stale demo database is replaced; the real sanping.db is not touched.
    std::fs::write(dir.path().join("sanping-demo.db"), "not a database").unwrap();
    std::fs::write(dir.path().join("sanping-demo.db-wal"), "stale").unwrap();
    std::fs::write(dir.path().join("sanping.db"), "the real one").unwrap();
    let run = |database_url: Option<&str>| {
        let mut cmd = support::bin();
        cmd.current_dir(dir.path())
            .env_remove("DATABASE_URL")
            .args(["demo", "--no-serve", "--seed", "7"]);
        if let Some(url) = database_url {
            cmd.env("DATABASE_URL", url);
        }
        cmd.output().unwrap()
    };
    let out = run(None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for shown in [
        "61 units",
        "3 waves",
        "wave 3 is open",
        "a respondent (群众测评):      http://127.0.0.1:8080/s/",
        "/w/2/receipts",
        "DATABASE_URL=sanping-demo.db sanping report 2 --compare 1",
        "wave 4 2026年度外国语学院民主评议党员 (民主评议党员 in FL)",
        "exactly its quota",
        "left out, too small for anonymous rating: FL-R",
        "wave 5 2026年度计算机学院领导班子和领导干部民主测评",
        "DATABASE_URL=sanping-demo.db sanping report 4 --format table",
        "http://127.0.0.1:8080/admin/waves/5/people",
    ] {
        assert!(stdout.contains(shown), "{shown} missing:\n{stdout}");
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("sanping.db")).unwrap(),
        "the real one"
    );
    let out = run(Some("sanping-demo.db"));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("already holds 61 unit(s)"), "{stderr}");
}

/// `sanping demo --province` (the command, as a newcomer runs it) builds the province and
/// prints a login for it and for each of its two universities.
#[test]
fn the_province_demo_command_prints_a_login_per_university_and_one_for_the_province() {
    let dir = tempfile::tempdir().unwrap();
    let out = support::bin()
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .args(["demo", "--no-serve", "--seed", "7", "--province"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("province: "), "{stdout}");
    for (name, password, scope) in sanping::demo::province::LOGINS {
        let line = format!(
            "(user {name}, password {password}) — organizer of {}",
            scope.unwrap_or("the whole province")
        );
        assert!(stdout.contains(&line), "{line} missing:\n{stdout}");
    }
    let mut conn = sanping::db::pool(
        &sanping::db::DbTarget::parse(dir.path().join("sanping-demo.db").to_str()),
        1,
        std::time::Duration::from_secs(5),
        false,
    )
    .unwrap()
    .get()
    .unwrap();
    for (name, _, scope) in sanping::demo::province::LOGINS {
        let user = sanping::db::accounts::find_user(&mut conn, name)
            .unwrap()
            .unwrap();
        assert_eq!(user.scope.as_deref(), scope, "{name}");
    }
}
