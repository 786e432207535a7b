//! The people-wave pages rendered from a hand-built survey, through the real templates in
//! strict mode: every field a template asks for exists, errors link to their cards.

use std::sync::Arc;

use super::*;
use crate::domain::people::{Fraction, Raters};
use crate::domain::survey::{Item, Scale, ScaleOption};
use crate::domain::text::Text;

fn text(zh: &str) -> Text {
    Text {
        zh: zh.to_owned(),
        en: Some(format!("en:{zh}")),
    }
}

fn option(id: &str, label: &str, reason: bool) -> ScaleOption {
    ScaleOption {
        id: id.to_owned(),
        label: text(label),
        score: Some(50.0),
        satisfied: false,
        reason,
    }
}

fn ctx() -> Ctx {
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/surveys/liuhao.toml"))
        .expect("liuhao");
    let mut survey = Survey::parse("liuhao.toml", &src).expect("liuhao parses");
    survey.scales.insert(
        "grade4".into(),
        Scale {
            id: "grade4".into(),
            name: text("等次"),
            options: vec![
                option("excellent", "优秀", false),
                option("qualified", "合格", false),
                option("basic", "基本合格", true),
                option("unqualified", "不合格", true),
            ],
        },
    );
    survey.people = Some(PeopleSpec {
        rated_roles: vec!["party".into()],
        rated_categories: Vec::new(),
        raters: Raters::Peers,
        masses: false,
        team: true,
        summary: true,
        min_raters: 5,
        items: vec![Item {
            id: "grade".into(),
            text: text("您的评议等次是："),
            weight: 1.0,
            required: true,
            scale: "grade4".into(),
        }],
        overall: "grade".into(),
        final_grade: true,
        top_cap: Fraction { num: 1, den: 3 },
        default_grade: "qualified".into(),
        suggest: Vec::new(),
    });
    Ctx {
        survey: Arc::new(survey),
        wave: crate::db::waves::WaveHead {
            id: 7,
            title: "2026年度民主评议".into(),
            fingerprint: "f".repeat(64),
            scope: None,
            state: "open".into(),
            is_test: false,
            closes_at: None,
            created_at: chrono::NaiveDateTime::default(),
            opened_at: None,
            closed_at: None,
            published_at: None,
            threshold: None,
            public_key: None,
            unsealed_at: None,
            kind: "people".into(),
        },
        invitation: crate::db::waves::Invitation {
            id: "inv".into(),
            wave_id: 7,
            person: Some("a@x.cn".into()),
            unit: "B".into(),
            step: "mass".into(),
            token_hash: None,
            used: false,
            reminders: 0,
        },
        unit_name: "某支部".into(),
    }
}

fn targets() -> Vec<Rated> {
    [
        ("b@x.cn", "乙"),
        ("c@x.cn", "丙"),
        ("team:B", "某支部领导班子"),
    ]
    .into_iter()
    .map(|(k, n)| Rated {
        wave_id: 7,
        person: k.into(),
        name: n.into(),
        unit: "B".into(),
    })
    .collect()
}

fn render(lang: Lang, f: &Filled) -> String {
    let hb = crate::web::templates::registry().expect("templates");
    let page = sheet_page(lang, "TOKEN", &ctx(), &targets(), f).expect("page");
    hb.render("pages/rate/sheet", &page).expect("renders")
}

#[test]
fn the_sheet_lists_every_target_with_radios_and_a_reason_box() {
    let mut ratings = Ratings::default();
    ratings
        .ratings
        .entry("c@x.cn".into())
        .or_default()
        .insert("grade".into(), "basic".into());
    ratings.reasons.insert("c@x.cn".into(), "迟到较多".into());
    let html = render(
        Lang::Zh,
        &Filled {
            ratings: &ratings,
            typed_reasons: None,
            errors: &[],
            draft: true,
            saved: true,
        },
    );
    assert!(html.contains("请对以下 3 个对象逐一评议"));
    assert!(html.contains("某支部领导班子"));
    assert!(html.contains(r#"name="b@x.cn:grade""#));
    assert!(html.contains(r#"id="p-2-1-basic" name="c@x.cn:grade" value="basic" checked"#));
    assert!(html.contains("迟到较多"));
    assert!(html.contains("选择基本合格/不合格时可填写理由（选填，200字以内）"));
    assert!(html.contains("草稿已保存"));
    assert!(html.contains("您的评议等次是："));
    assert!(!html.contains("<script"));
}

#[test]
fn a_refused_sheet_links_each_problem_to_its_card_and_keeps_typed_reasons() {
    let errors = vec![
        FieldError {
            field: "b@x.cn:grade".into(),
            message: text("请选择一项"),
        },
        FieldError {
            field: "form".into(),
            message: text("表单中有不在您评议名单上的人员，未保存任何内容"),
        },
    ];
    let typed: HashMap<String, String> = [("c@x.cn".to_owned(), "长".repeat(500))].into();
    let html = render(
        Lang::Zh,
        &Filled {
            ratings: &Ratings::default(),
            typed_reasons: Some(&typed),
            errors: &errors,
            draft: false,
            saved: false,
        },
    );
    assert!(html.contains("评议表尚未提交：还有 2 处需要修改"));
    assert!(html.contains(r##"<a href="#p-1-1">乙：请选择一项</a>"##));
    assert!(html.contains("不在您评议名单上"));
    assert!(html.contains("您的链接仍然有效"));
    assert!(html.contains(&"长".repeat(MAX_REASON_CHARS)));
    assert!(!html.contains(&"长".repeat(MAX_REASON_CHARS + 1)));
    assert!(!html.contains("草稿已保存"));
}

#[test]
fn the_sheet_speaks_english_when_asked() {
    let html = render(
        Lang::En,
        &Filled {
            ratings: &Ratings::default(),
            typed_reasons: None,
            errors: &[],
            draft: false,
            saved: false,
        },
    );
    assert!(html.contains("Please rate each of the 3 below"));
    assert!(html.contains("With en:基本合格 or en:不合格 you may give a reason"));
    assert!(!html.contains("请对以下"));
}

#[test]
fn a_body_bound_fits_sixty_people_with_reasons() {
    // 60 people, each with a 200-character Chinese reason (9 bytes a character encoded).
    let realistic =
        60 * ("someone.long.name%40university.edu.cn%3Agrade=unqualified&".len() * 2 + 200 * 9);
    assert!(max_body(60, 1) > realistic);
    assert!(max_body(60, 1) < 512 * 1024, "inside the route's own limit");
}

#[test]
fn the_people_mails_compose_with_a_true_anonymity_note() {
    let hb = crate::web::templates::registry().expect("templates");
    let ctx = crate::mail::MailContext {
        name: "甲一".into(),
        unit_name: "某支部".into(),
        wave_title: "2026年度民主评议".into(),
        closes: "2026-12-31 17:00".into(),
        link: "https://example.edu.cn/s/TOKEN".into(),
        fingerprint: "f".repeat(64),
    };
    let from: lettre::message::Mailbox = "组织部 <org@example.edu.cn>".parse().unwrap();
    let to: lettre::message::Mailbox = "a@example.edu.cn".parse().unwrap();
    for name in ["rating", "summary", "people_reminder"] {
        let mail = crate::mail::compose(&hb, name, &from, to.clone(), &ctx).expect(name);
        assert!(!mail.formatted().is_empty());
        for part in ["subject", "body.txt", "body.html"] {
            let text = hb
                .render(&format!("email/{name}/{part}"), &ctx)
                .expect("renders");
            assert!(
                part == "subject" || text.contains("https://example.edu.cn/s/TOKEN"),
                "{name}/{part}"
            );
        }
    }
    let rating = hb.render("email/rating/body.txt", &ctx).unwrap();
    for promise in [
        "只保存链接的哈希值",
        "密钥保管人共同开箱",
        "任何评议表都不会以明文保存",
        "至少达到规定人数的评议后才会显示",
        "是否已评议",
    ] {
        assert!(rating.contains(promise), "{promise}");
    }
}
