//! One installation, many subtrees (issue 17, point 5): a wave scoped to one subtree reads
//! only that subtree's part of the roster (and its 党委's committee members) yet invites exactly
//! whom the whole roster would; a dashboard compares a wave with the previous one of its own
//! scope, not with another subtree's.

use crate::support::{self, TestDb};
use sanping::app::AppState;

/// The fixtures plus a second college, MATH, whose secretary-less 党总支 and one committee
/// member live outside CS, and — under a provincial committee P with a committee member of
/// its own — a second university V beside U, with a committee member of its own.
fn two_colleges(state: &AppState) {
    let mut conn = state.pool.get().expect("conn");
    let mut units = std::fs::read_to_string(support::fixture("units.csv"))
        .unwrap()
        .replace(
            "U,示范大学党委,committee,\n",
            "P,省委教育工委,committee,\nU,示范大学党委,committee,P\n",
        );
    units.push_str(
        "MATH,数学学院党总支,general_branch,U\nMATH-T,数学学院教工党支部,branch,MATH\n\
         V,另一所大学党委,committee,P\nV-T,另一所大学教工党支部,branch,V\n",
    );
    sanping::import::units(&mut conn, units.as_bytes()).expect("units");
    let mut people = std::fs::read_to_string(support::fixture("people.csv")).unwrap();
    people.push_str(
        "li.na@demo.edu.cn,李娜,MATH-T,faculty,member;secretary\n\
         qian.wei@demo.edu.cn,钱伟,MATH-T,faculty,committee;member\n\
         sun.li@demo.edu.cn,孙丽,V-T,faculty,committee;member\n\
         he.ping@demo.edu.cn,何平,P,faculty,committee\n",
    );
    sanping::import::people(&mut conn, people.as_bytes()).expect("people");
}

#[test]
fn a_scoped_wave_invites_its_subtree_and_its_party_committee_s_members_and_nobody_else()
-> anyhow::Result<()> {
    let tdb = TestDb::new();
    let state = tdb.state();
    two_colleges(&state);
    sanping::deactivate::set_person(
        &mut *state.pool.get()?,
        "test",
        &sanping::scope::Scope::All,
        "zhao.gang@demo.edu.cn",
        false,
    )?;
    let (_, links) = support::open_wave(&state, "liuhao.toml", Some("CS"), false);
    let mut got: Vec<(String, String, &str)> = links
        .iter()
        .map(|l| (l.email.clone(), l.unit.clone(), l.step.as_str()))
        .collect();
    got.sort_unstable();
    let mut expected = vec![
        ("chen.jing@demo.edu.cn", "CS-S1", "mass"),
        ("liu.yang@demo.edu.cn", "CS-S1", "mass"),
        ("liu.yang@demo.edu.cn", "CS-S1", "self"),
        ("wang.li@demo.edu.cn", "CS-T", "mass"),
        ("wang.li@demo.edu.cn", "CS-T", "self"),
        // The committee of U (the 党委 above CS) scores every unit, wherever its members
        // belong inside U; V's member scores V's waves, not U's, and P's member neither.
        ("zhou.min@demo.edu.cn", "U", "org"),
        ("qian.wei@demo.edu.cn", "MATH-T", "org"),
    ];
    expected.sort_unstable();
    let expected: Vec<(String, String, &str)> = expected
        .into_iter()
        .map(|(e, u, s)| (e.to_owned(), u.to_owned(), s))
        .collect();
    assert_eq!(got, expected);

    let (_, links) = support::open_wave(&state, "liuhao.toml", Some("V"), false);
    let org: Vec<&str> = links
        .iter()
        .filter(|l| l.step.as_str() == "org")
        .map(|l| l.email.as_str())
        .collect();
    assert_eq!(org, ["sun.li@demo.edu.cn"]);

    let math = support::create_wave(&state, "liuhao.toml", Some("MATH"), false);
    let missing = sanping::wave::missing_secretaries(&mut *state.pool.get()?, math)?;
    let codes: Vec<&str> = missing.iter().map(|u| u.code.as_str()).collect();
    assert_eq!(codes, ["MATH"]);
    Ok(())
}

#[test]
fn the_dashboard_compares_with_the_previous_final_wave_of_the_same_scope() -> anyhow::Result<()> {
    let tdb = TestDb::new();
    let state = tdb.state();
    two_colleges(&state);
    let finished = |scope: Option<&str>| -> anyhow::Result<i32> {
        let (id, _) = support::open_wave(&state, "liuhao.toml", scope, false);
        support::close_and_unseal(&mut *state.pool.get()?, id)?;
        Ok(id)
    };
    let whole = finished(None)?;
    let cs = finished(Some("CS"))?;
    let math = finished(Some("MATH"))?;
    let cs_now = finished(Some("CS"))?;
    // Still sealed: not final, so never compared with.
    let (sealed, _) = support::open_wave(&state, "liuhao.toml", Some("MATH"), false);
    sanping::wave::close(&mut *state.pool.get()?, sealed)?;
    let previous = |id: i32, scope: Option<&str>| {
        sanping::db::waves::previous_final(&mut state.pool.get().unwrap(), id, scope).unwrap()
    };
    assert_eq!(previous(cs_now, Some("CS")), Some(cs));
    assert_eq!(previous(cs, Some("CS")), None);
    assert_eq!(previous(sealed + 1, Some("MATH")), Some(math));
    assert_eq!(previous(cs_now + 10, None), Some(whole));
    Ok(())
}
