use super::*;

const UNITS_HEADER: &str = "code,name,kind,parent";
const PEOPLE_HEADER: &str = "email,name,unit,category,role";

/// A CSV file from its lines (header first), each ended by `\n`.
fn csv(lines: &[&str]) -> Vec<u8> {
    let mut out = String::new();
    for l in lines {
        out.push_str(l);
        out.push('\n');
    }
    out.into_bytes()
}

fn no_units() -> BTreeMap<String, Option<String>> {
    BTreeMap::new()
}

/// A stored tree from `(code, parent)` pairs.
fn stored(pairs: &[(&str, Option<&str>)]) -> BTreeMap<String, Option<String>> {
    pairs
        .iter()
        .map(|(c, p)| ((*c).to_owned(), p.map(str::to_owned)))
        .collect()
}

fn units_ok(bytes: &[u8], existing: &BTreeMap<String, Option<String>>) -> Vec<UnitRow> {
    parse_units(bytes, existing).unwrap_or_else(|errors| panic!("unexpected errors: {errors:?}"))
}

fn units_err(bytes: &[u8], existing: &BTreeMap<String, Option<String>>) -> Vec<RowError> {
    match parse_units(bytes, existing) {
        Ok(rows) => panic!("expected errors, got rows {rows:?}"),
        Err(errors) => errors,
    }
}

fn codes(rows: &[UnitRow]) -> Vec<&str> {
    rows.iter().map(|r| r.code.as_str()).collect()
}

/// The lines of the errors whose message contains `part`.
fn lines_of(errors: &[RowError], part: &str) -> Vec<u64> {
    errors
        .iter()
        .filter(|e| e.message.contains(part))
        .map(|e| e.line)
        .collect()
}

/// Asserts there is exactly one error, on `line`, mentioning every one of `parts`.
fn assert_only(errors: &[RowError], line: u64, parts: &[&str]) {
    assert_eq!(errors.len(), 1, "expected one error, got {errors:?}");
    assert_eq!(errors[0].line, line, "{errors:?}");
    for part in parts {
        assert!(
            errors[0].message.contains(part),
            "{:?} does not mention {part:?}",
            errors[0].message
        );
    }
}

fn units(codes: &[&str]) -> HashSet<String> {
    codes.iter().map(|&c| c.to_owned()).collect()
}

fn people_ok(bytes: &[u8], known: &HashSet<String>) -> Vec<PersonRow> {
    parse_people(bytes, known).unwrap_or_else(|errors| panic!("unexpected errors: {errors:?}"))
}

fn people_err(bytes: &[u8], known: &HashSet<String>) -> Vec<RowError> {
    match parse_people(bytes, known) {
        Ok(rows) => panic!("expected errors, got rows {rows:?}"),
        Err(errors) => errors,
    }
}

// ---- kinds and roles -----------------------------------------------------------------

#[test]
fn unit_kinds_round_trip_through_their_ids() {
    for kind in [
        UnitKind::Committee,
        UnitKind::GeneralBranch,
        UnitKind::DirectBranch,
        UnitKind::Branch,
    ] {
        assert_eq!(UnitKind::parse(kind.as_str()), Some(kind));
        assert!(!kind.label().is_empty());
    }
    assert_eq!(UnitKind::parse("Branch"), None);
    assert_eq!(UnitKind::parse("党支部"), None);
}

#[test]
fn roles_round_trip_and_join_with_semicolons() {
    for role in [
        Role::Member,
        Role::Secretary,
        Role::Committee,
        Role::Party,
        Role::Cadre,
    ] {
        assert_eq!(Role::parse(role.as_str()), Some(role));
    }
    assert_eq!(Role::parse("admin"), None);
    assert_eq!(
        roles_to_string(&[Role::Member, Role::Secretary]),
        "member;secretary"
    );
    assert_eq!(roles_to_string(&[]), "");
}

#[test]
fn row_error_displays_its_line() {
    let e = RowError::new(3, "bad", "不对");
    assert_eq!(e.to_string(), "line 3: bad");
}

// ---- parse_units ---------------------------------------------------------------------

#[test]
fn a_valid_tree_comes_back_parents_first_even_when_children_are_listed_first() {
    let rows = units_ok(
        &csv(&[
            UNITS_HEADER,
            "b1,第一党支部,branch,g1",
            "g1,机关党总支,general_branch,root",
            "d1,直属党支部,direct_branch,root",
            "root,校党委,committee,",
            "b2,第二党支部,branch,g1",
        ]),
        &no_units(),
    );
    assert_eq!(codes(&rows), ["root", "g1", "d1", "b1", "b2"]);
    assert_eq!(
        rows[0],
        UnitRow {
            line: 5,
            code: "root".into(),
            name: "校党委".into(),
            kind: UnitKind::Committee,
            parent: None,
        }
    );
    assert_eq!(
        rows[3],
        UnitRow {
            line: 2,
            code: "b1".into(),
            name: "第一党支部".into(),
            kind: UnitKind::Branch,
            parent: Some("g1".into()),
        }
    );
    assert_eq!(rows[2].kind, UnitKind::DirectBranch);
    // Every parent is written before its children.
    for (i, row) in rows.iter().enumerate() {
        if let Some(p) = &row.parent {
            assert!(
                codes(&rows[..i]).contains(&p.as_str()),
                "{p} after {}",
                row.code
            );
        }
    }
}

#[test]
fn a_byte_order_mark_is_accepted() {
    let mut bytes = "\u{feff}".as_bytes().to_vec();
    bytes.extend(csv(&[UNITS_HEADER, "root,校党委,committee,"]));
    let rows = units_ok(&bytes, &no_units());
    assert_eq!(codes(&rows), ["root"]);
}

#[test]
fn chinese_names_are_kept_and_fields_trimmed() {
    let rows = units_ok(
        &csv(&[
            UNITS_HEADER,
            " root , 中共某某大学委员会 ,committee, ",
            "jsj,  计算机学院党总支  , general_branch ,root",
        ]),
        &no_units(),
    );
    assert_eq!(rows[0].name, "中共某某大学委员会");
    assert_eq!(rows[0].parent, None);
    assert_eq!(rows[1].name, "计算机学院党总支");
    assert_eq!(rows[1].kind, UnitKind::GeneralBranch);
    assert_eq!(rows[1].parent.as_deref(), Some("root"));
}

#[test]
fn header_columns_may_come_in_any_order_and_case() {
    let rows = units_ok(
        &csv(&[
            "Parent, KIND ,name,code",
            ",committee,校党委,root",
            "root,branch,第一党支部,b1",
        ]),
        &no_units(),
    );
    assert_eq!(codes(&rows), ["root", "b1"]);
    assert_eq!(rows[1].name, "第一党支部");
    assert_eq!(rows[1].kind, UnitKind::Branch);
    assert_eq!(rows[1].parent.as_deref(), Some("root"));
}

#[test]
fn extra_columns_are_ignored() {
    let rows = units_ok(
        &csv(&["code,name,note,kind,parent", "root,校党委,顶层,committee,"]),
        &no_units(),
    );
    assert_eq!(rows[0].name, "校党委");
}

#[test]
fn a_missing_column_is_reported_on_line_1() {
    let errors = units_err(&csv(&["code,name,parent", "root,校党委,"]), &no_units());
    assert_only(&errors, 1, &["missing column \"kind\""]);
}

#[test]
fn every_missing_column_is_reported() {
    let errors = units_err(&csv(&["code,title", "root,校党委"]), &no_units());
    assert_eq!(lines_of(&errors, "missing column"), [1, 1, 1]);
    for col in ["name", "kind", "parent"] {
        assert!(
            errors
                .iter()
                .any(|e| e.message.contains(&format!("\"{col}\""))),
            "{col} not reported in {errors:?}"
        );
    }
}

#[test]
fn an_empty_file_is_reported_on_line_1() {
    let errors = units_err(b"", &no_units());
    assert_only(&errors, 1, &["empty", UNITS_HEADER]);
}

#[test]
fn a_header_only_file_has_no_rows() {
    assert!(units_ok(&csv(&[UNITS_HEADER]), &no_units()).is_empty());
}

#[test]
fn an_unknown_kind_is_reported_with_its_line() {
    let errors = units_err(
        &csv(&[
            UNITS_HEADER,
            "root,校党委,committee,",
            "b1,第一党支部,party,root",
        ]),
        &no_units(),
    );
    assert_only(&errors, 3, &["\"b1\"", "unknown kind \"party\""]);
}

#[test]
fn a_duplicate_code_is_reported_naming_the_first_line() {
    let errors = units_err(
        &csv(&[
            UNITS_HEADER,
            "root,校党委,committee,",
            "b1,第一党支部,branch,root",
            "b2,第二党支部,branch,root",
            "b1,又一个,branch,root",
        ]),
        &no_units(),
    );
    assert_only(&errors, 5, &["duplicate code \"b1\"", "first on line 3"]);
}

#[test]
fn an_unknown_parent_is_reported_with_its_line() {
    let errors = units_err(
        &csv(&[
            UNITS_HEADER,
            "root,校党委,committee,",
            "b1,第一党支部,branch,g9",
        ]),
        &no_units(),
    );
    assert_only(&errors, 3, &["\"b1\"", "unknown parent \"g9\""]);
}

#[test]
fn a_second_root_is_reported_with_its_line() {
    let errors = units_err(
        &csv(&[
            UNITS_HEADER,
            "root,校党委,committee,",
            "b1,第一党支部,branch,root",
            "other,另一个党委,committee,",
        ]),
        &no_units(),
    );
    // Both parentless rows are named: the file alone cannot tell which is meant.
    assert_eq!(lines_of(&errors, "has no parent"), [2, 4]);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[1].message.contains("other, root"), "{errors:?}");
}

#[test]
fn a_new_root_beside_a_stored_root_is_reported() {
    let existing = stored(&[("root", None)]);
    let errors = units_err(
        &csv(&[UNITS_HEADER, "other,另一个党委,committee,"]),
        &existing,
    );
    assert_only(&errors, 2, &["\"other\" has no parent"]);
}

#[test]
fn a_unit_that_is_its_own_parent_is_reported_with_its_line() {
    let errors = units_err(
        &csv(&[
            UNITS_HEADER,
            "root,校党委,committee,",
            "b1,第一党支部,branch,b1",
        ]),
        &no_units(),
    );
    assert!(!errors.is_empty());
    assert!(errors.iter().all(|e| e.line == 3), "{errors:?}");
    assert_eq!(lines_of(&errors, "names itself as its parent"), [3]);
}

#[test]
fn a_cycle_of_parents_is_reported_on_each_of_its_lines() {
    let errors = units_err(
        &csv(&[
            UNITS_HEADER,
            "root,校党委,committee,",
            "a,甲,general_branch,b",
            "b,乙,branch,a",
            "c,丙,branch,a",
        ]),
        &no_units(),
    );
    // c hangs below the cycle but is not part of it.
    assert_eq!(lines_of(&errors, "cycle"), [3, 4]);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].message.contains("\"a\""));
    assert!(errors[1].message.contains("\"b\""));
}

#[test]
fn a_cycle_through_stored_units_is_reported() {
    let existing = stored(&[("root", None), ("g1", Some("root")), ("b1", Some("g1"))]);
    let errors = units_err(
        &csv(&[UNITS_HEADER, "g1,机关党总支,general_branch,b1"]),
        &existing,
    );
    assert_only(&errors, 2, &["\"g1\"", "cycle"]);
}

#[test]
fn several_bad_rows_are_all_reported_in_line_order() {
    let errors = units_err(
        &csv(&[
            UNITS_HEADER,
            "root,校党委,committee,",
            "b1,第一党支部,party,root",
            "b2,第二党支部,branch,nowhere",
            "root,重复,committee,",
            "b3,,branch,root",
            "b 4,第四党支部,branch,root",
            ",无代码,branch,root",
        ]),
        &no_units(),
    );
    let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [3, 4, 5, 6, 7, 8], "{errors:?}");
    assert!(errors[0].message.contains("unknown kind"));
    assert!(errors[1].message.contains("unknown parent"));
    assert!(errors[2].message.contains("first on line 2"));
    assert!(errors[3].message.contains("column \"name\" is empty"));
    assert!(errors[4].message.contains("white space"));
    assert!(errors[5].message.contains("column \"code\" is empty"));
}

#[test]
fn stored_units_count_as_known_parents() {
    let existing = stored(&[("root", None), ("g1", Some("root"))]);
    let rows = units_ok(&csv(&[UNITS_HEADER, "b1,第一党支部,branch,g1"]), &existing);
    assert_eq!(codes(&rows), ["b1"]);
    assert_eq!(rows[0].parent.as_deref(), Some("g1"));
}

#[test]
fn a_reimport_may_move_a_unit_to_another_parent() {
    let existing = stored(&[
        ("root", None),
        ("g1", Some("root")),
        ("g2", Some("root")),
        ("b1", Some("g1")),
    ]);
    let rows = units_ok(
        &csv(&[
            UNITS_HEADER,
            "b1,第一党支部,branch,g2",
            "root,校党委,committee,",
        ]),
        &existing,
    );
    assert_eq!(codes(&rows), ["root", "b1"]);
    assert_eq!(rows[1].parent.as_deref(), Some("g2"));
}

#[test]
fn a_reimport_may_move_a_unit_below_a_new_one_listed_later() {
    let existing = stored(&[("root", None), ("b1", Some("root"))]);
    let rows = units_ok(
        &csv(&[
            UNITS_HEADER,
            "b1,第一党支部,branch,g1",
            "g1,机关党总支,general_branch,root",
        ]),
        &existing,
    );
    assert_eq!(codes(&rows), ["g1", "b1"]);
}

#[test]
fn empty_and_blank_lines_are_skipped_without_shifting_line_numbers() {
    let bytes = b"code,name,kind,parent\n\nroot,\xe6\xa0\xa1\xe5\x85\x9a\xe5\xa7\x94,committee,\n  \n,,,\n\nb1,x,branch,zz\n";
    let errors = units_err(bytes, &no_units());
    assert_only(&errors, 7, &["unknown parent \"zz\""]);
    let rows = units_ok(
        &csv(&[
            UNITS_HEADER,
            "",
            "root,校党委,committee,",
            "",
            "b1,x,branch,root",
            "",
        ]),
        &no_units(),
    );
    assert_eq!(codes(&rows), ["root", "b1"]);
    assert_eq!(rows[1].line, 5);
}

#[test]
fn crlf_line_endings_are_accepted() {
    let rows = units_ok(
        b"code,name,kind,parent\r\nroot,R,committee,\r\nb1,B,branch,root\r\n",
        &no_units(),
    );
    assert_eq!(codes(&rows), ["root", "b1"]);
    assert_eq!(rows[1].line, 3);
}

#[test]
fn errors_in_crlf_files_name_the_real_line() {
    // Excel saves CSV with CRLF line ends; csv's own line count lags by one there.
    let bytes = b"\xef\xbb\xbfcode,name,kind,parent\r\nroot,R,committee,\r\n\r\nb1,B,party,root\r\nb2,B,branch,zz\r\n";
    let errors = units_err(bytes, &no_units());
    assert_eq!(lines_of(&errors, "unknown kind"), [4]);
    assert_eq!(lines_of(&errors, "unknown parent"), [5]);
    let errors = people_err(
        b"email,name,unit,category,role\r\na@example.edu,A,b1,faculty,\r\nbad,B,b1,faculty,\r\n",
        &units(&["b1"]),
    );
    assert_only(&errors, 3, &["not an email address"]);
}

#[test]
fn old_mac_line_ends_are_counted_as_lines() {
    let errors = units_err(
        b"code,name,kind,parent\rroot,R,committee,\rb1,B,branch,zz\r",
        &no_units(),
    );
    assert_only(&errors, 3, &["unknown parent"]);
}

#[test]
fn a_quoted_field_spanning_lines_moves_the_following_line_numbers() {
    // The line break inside the name is itself refused (it would break mail headers),
    // and the next record is still reported on its own line, 4.
    let errors = units_err(
        &csv(&[
            UNITS_HEADER,
            "root,\"校党委",
            "（第二行）\",committee,",
            "b1,B,branch,zz",
        ]),
        &no_units(),
    );
    assert_eq!(lines_of(&errors, "control character"), vec![2]);
    assert_eq!(lines_of(&errors, "unknown parent"), vec![4]);
}

#[test]
fn quoted_fields_may_hold_commas() {
    let rows = units_ok(
        &csv(&[UNITS_HEADER, r#"root,"党委,校级",committee,"#]),
        &no_units(),
    );
    assert_eq!(rows[0].name, "党委,校级");
}

#[test]
fn a_row_with_the_wrong_number_of_fields_is_reported() {
    let errors = units_err(
        &csv(&[
            UNITS_HEADER,
            "root,校党委,committee,",
            "b1,第一党支部,branch",
            "b2,第二党支部,branch,root,extra",
        ]),
        &no_units(),
    );
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0].line, 3);
    assert!(errors[0].message.contains("expected 4 fields, found 3"));
    assert_eq!(errors[1].line, 4);
    assert!(errors[1].message.contains("expected 4 fields, found 5"));
}

#[test]
fn invalid_utf8_in_a_unit_field_is_reported_with_its_line() {
    let mut bytes = csv(&[UNITS_HEADER, "root,校党委,committee,"]);
    bytes.extend_from_slice(b"b1,\xb5\xda\xd2\xbb,branch,root\n");
    let errors = units_err(&bytes, &no_units());
    assert_only(&errors, 3, &["\"name\"", "UTF-8"]);
}

// ---- parse_people --------------------------------------------------------------------

#[test]
fn a_valid_roster_parses_with_lowercased_emails_and_sorted_roles() {
    let rows = people_ok(
        &csv(&[
            PEOPLE_HEADER,
            "Zhang.San@Example.EDU,张三,b1,faculty,member;secretary",
            "lisi@example.edu,李四,b1,student,",
            "wangwu@example.edu,王五,root,faculty,committee; Member",
            "zhao@example.edu,赵六,b1,retired,secretary;member;secretary",
        ]),
        &units(&["root", "b1"]),
    );
    assert_eq!(rows.len(), 4);
    assert_eq!(
        rows[0],
        PersonRow {
            line: 2,
            email: "zhang.san@example.edu".into(),
            name: "张三".into(),
            unit: "b1".into(),
            category: "faculty".into(),
            roles: vec![Role::Member, Role::Secretary],
        }
    );
    assert_eq!(rows[1].roles, [Role::Member], "an empty role means member");
    assert_eq!(rows[2].roles, [Role::Member, Role::Committee]);
    assert_eq!(rows[3].roles, [Role::Member, Role::Secretary]);
    assert_eq!(roles_to_string(&rows[3].roles), "member;secretary");
}

#[test]
fn party_and_cadre_roles_parse_and_sort_after_the_older_roles() {
    let rows = people_ok(
        &csv(&[
            PEOPLE_HEADER,
            "a@example.edu,甲,b1,faculty,party;secretary",
            "b@example.edu,乙,b1,faculty,Cadre;party;member",
        ]),
        &units(&["b1"]),
    );
    assert_eq!(rows[0].roles, [Role::Secretary, Role::Party]);
    assert_eq!(roles_to_string(&rows[0].roles), "secretary;party");
    assert_eq!(rows[1].roles, [Role::Member, Role::Party, Role::Cadre]);
    assert_eq!(roles_to_string(&rows[1].roles), "member;party;cadre");
}

#[test]
fn roles_may_be_written_in_any_case_with_stray_separators() {
    let rows = people_ok(
        &csv(&[PEOPLE_HEADER, "a@example.edu,甲,b1,faculty,; SECRETARY ;;"]),
        &units(&["b1"]),
    );
    assert_eq!(rows[0].roles, [Role::Secretary]);
}

#[test]
fn an_unknown_role_is_reported_with_its_line() {
    let errors = people_err(
        &csv(&[
            PEOPLE_HEADER,
            "a@example.edu,甲,b1,faculty,member",
            "b@example.edu,乙,b1,faculty,member;leader",
        ]),
        &units(&["b1"]),
    );
    assert_only(&errors, 3, &["unknown role \"leader\""]);
}

#[test]
fn an_invalid_email_is_reported_with_its_line() {
    let errors = people_err(
        &csv(&[PEOPLE_HEADER, "zhangsan at example.edu,张三,b1,faculty,"]),
        &units(&["b1"]),
    );
    assert_only(
        &errors,
        2,
        &["\"zhangsan at example.edu\" is not an email address"],
    );
    let errors = people_err(&csv(&[PEOPLE_HEADER, ",张三,b1,faculty,"]), &units(&["b1"]));
    assert_only(&errors, 2, &["not an email address"]);
}

#[test]
fn a_duplicate_email_is_reported_case_insensitively_with_the_first_line() {
    let errors = people_err(
        &csv(&[
            PEOPLE_HEADER,
            "zhang@example.edu,张三,b1,faculty,",
            "li@example.edu,李四,b1,faculty,",
            "ZHANG@Example.edu,张三,b1,student,",
        ]),
        &units(&["b1"]),
    );
    assert_only(
        &errors,
        4,
        &["duplicate email \"ZHANG@Example.edu\"", "first on line 2"],
    );
}

#[test]
fn an_unknown_unit_is_reported_with_its_line() {
    let errors = people_err(
        &csv(&[PEOPLE_HEADER, "a@example.edu,甲,b9,faculty,"]),
        &units(&["b1"]),
    );
    assert_only(&errors, 2, &["unknown unit \"b9\""]);
}

#[test]
fn unit_codes_are_matched_exactly() {
    let errors = people_err(
        &csv(&[PEOPLE_HEADER, "a@example.edu,甲,B1,faculty,"]),
        &units(&["b1"]),
    );
    assert_only(&errors, 2, &["unknown unit \"B1\""]);
}

#[test]
fn empty_name_unit_or_category_is_reported() {
    let errors = people_err(
        &csv(&[
            PEOPLE_HEADER,
            "a@example.edu,,b1,faculty,",
            "b@example.edu,乙,b1, ,",
            "c@example.edu,丙,,faculty,",
        ]),
        &units(&["b1"]),
    );
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert_eq!(lines_of(&errors, "column \"name\" is empty"), [2]);
    assert_eq!(lines_of(&errors, "column \"category\" is empty"), [3]);
    assert_eq!(lines_of(&errors, "column \"unit\" is empty"), [4]);
}

#[test]
fn every_problem_of_a_row_and_every_bad_row_is_reported() {
    let errors = people_err(
        &csv(&[
            PEOPLE_HEADER,
            "bad,,zz,,boss",
            "ok@example.edu,好人,b1,faculty,",
            "also-bad,丙,b1,faculty,",
        ]),
        &units(&["b1"]),
    );
    assert_eq!(lines_of(&errors, ""), [2, 2, 2, 2, 2, 4], "{errors:?}");
}

#[test]
fn invalid_utf8_in_a_person_field_is_reported_with_its_line() {
    let mut bytes = csv(&[PEOPLE_HEADER, "a@example.edu,甲,b1,faculty,"]);
    bytes.extend_from_slice(b"b@example.edu,\xd5\xc5\xc8\xfd,b1,faculty,\n");
    bytes.extend_from_slice(&csv(&["c@example.edu,丙,b1,faculty,"])[..]);
    let errors = people_err(&bytes, &units(&["b1"]));
    assert_only(&errors, 3, &["column \"name\"", "not valid UTF-8"]);
}

#[test]
fn a_roster_missing_the_role_column_is_reported_on_line_1() {
    let errors = people_err(
        &csv(&["email,name,unit,category", "a@example.edu,甲,b1,faculty"]),
        &units(&["b1"]),
    );
    assert_only(&errors, 1, &["missing column \"role\""]);
}

#[test]
fn a_roster_with_a_bom_and_reordered_header_parses() {
    let mut bytes = "\u{feff}".as_bytes().to_vec();
    bytes.extend(csv(&[
        "Role,Category,Unit,Name,Email",
        "secretary,faculty,b1,张三,Zhang@Example.edu",
    ]));
    let rows = people_ok(&bytes, &units(&["b1"]));
    assert_eq!(rows[0].email, "zhang@example.edu");
    assert_eq!(rows[0].name, "张三");
    assert_eq!(rows[0].roles, [Role::Secretary]);
}

// ---- is_email ------------------------------------------------------------------------

#[test]
fn plain_addresses_are_emails() {
    for s in [
        "a@b.cn",
        "zhang.san@example.edu.cn",
        "first+tag@mail.example.org",
        "x_y-z@sub-domain.example.com",
        "张三@例子.中国",
    ] {
        assert!(is_email(s), "{s} should be an email");
    }
}

#[test]
fn malformed_addresses_are_not_emails() {
    for s in [
        "",
        "plain",
        "@example.edu",
        "a@",
        "a@localhost",
        "a@@example.edu",
        "a@b@example.edu",
        "a@.example.edu",
        "a@example.edu.",
        "a@example..edu",
        "a b@example.edu",
        "a@exam ple.edu",
        " a@example.edu",
        "a@example.edu\n",
        "a\t@example.edu",
        "<a@example.edu>",
        "a@example.edu,b@example.edu",
        "a@example.edu;b@example.edu",
        "\"a\"@example.edu",
        "a\u{0}@example.edu",
    ] {
        assert!(!is_email(s), "{s:?} should not be an email");
    }
}

#[test]
fn addresses_longer_than_254_bytes_are_not_emails() {
    let domain = "@example.edu";
    let fits = format!("{}{domain}", "a".repeat(254 - domain.len()));
    assert_eq!(fits.len(), 254);
    assert!(is_email(&fits));
    let too_long = format!("a{fits}");
    assert!(!is_email(&too_long));
}

#[test]
fn names_with_a_line_break_are_a_line_error() {
    let known: HashSet<String> = ["CS".to_owned()].into_iter().collect();
    let errors = people_err(
        &csv(&[PEOPLE_HEADER, "a@x.edu,\"王\n丽\",CS,faculty,member"]),
        &known,
    );
    assert_only(&errors, 2, &["line break"]);
    let errors = units_err(
        &csv(&[UNITS_HEADER, "CS,\"计算机\r学院\",committee,"]),
        &no_units(),
    );
    assert_only(&errors, 2, &["CS", "control character"]);
}
