//! A survey file as the console shows it, in the page's language: a short summary of a
//! valid file, and each mistake of an invalid one with its line and place. The CLI's
//! `sanping survey check` keeps its own (English) wording.

use crate::domain::Lang;
use crate::domain::survey::{StepKind, Survey, SurveyError, fingerprint};

/// A step's name in `lang`.
pub fn step_name(lang: Lang, kind: StepKind) -> &'static str {
    match (lang, kind) {
        (Lang::Zh, StepKind::SelfAssessment) => "基层自评",
        (Lang::Zh, StepKind::Mass) => "群众测评",
        (Lang::Zh, StepKind::Org) => "组织考评",
        (Lang::En, StepKind::SelfAssessment) => "self-assessment",
        (Lang::En, StepKind::Mass) => "mass evaluation",
        (Lang::En, StepKind::Org) => "committee assessment",
    }
}

/// A valid survey file in a few lines: what it evaluates, its steps or items, its grades,
/// its anonymity thresholds and its fingerprint.
pub fn summary(lang: Lang, s: &Survey, src: &str) -> String {
    let zh = lang == Lang::Zh;
    let mut lines = vec![format!("{} ({})", s.title.get(lang), s.id)];
    if let Some(spec) = &s.people {
        lines.push(if zh {
            format!(
                "民主评议：每人评议 {} 项；评议人数不少于 {} 人才显示个人结果；{}",
                spec.items.len(),
                spec.min_raters,
                if spec.summary {
                    "被评议人撰写个人总结"
                } else {
                    "不需要个人总结"
                }
            )
        } else {
            format!(
                "People evaluation: {} questions per person; a person's result is shown with at least {} raters; {}",
                spec.items.len(),
                spec.min_raters,
                if spec.summary {
                    "each rated person writes a summary"
                } else {
                    "no personal summary"
                }
            )
        });
    } else {
        for kind in StepKind::ALL {
            let step = s.step(kind);
            let (items, dims) = (step.items().count(), step.dimensions.len());
            lines.push(if zh {
                format!("{}：{items} 题，{dims} 个维度", step_name(lang, kind))
            } else {
                format!(
                    "{}: {items} items in {dims} dimensions",
                    step_name(lang, kind)
                )
            });
        }
        let grades: Vec<String> = s
            .grades
            .iter()
            .map(|g| format!("{} ≥ {}", g.label.get(lang), g.min))
            .collect();
        lines.push(if zh {
            format!("等级：{}", grades.join("、"))
        } else {
            format!("Grades: {}", grades.join(", "))
        });
        let (k, c) = (s.anonymity.min_responses, s.anonymity.min_comments);
        lines.push(if zh {
            format!("匿名：答卷不少于 {k} 份才显示结果，不少于 {c} 份才提供意见建议")
        } else {
            format!("Anonymity: figures need at least {k} responses, comments at least {c}")
        });
    }
    let fp = fingerprint(src);
    lines.push(if zh {
        format!("问卷指纹：{fp}")
    } else {
        format!("Fingerprint: {fp}")
    });
    lines.join("\n")
}

/// One mistake of a survey file: its line and place (as written in the file), and what is
/// wrong in the page's language.
pub fn error(lang: Lang, e: &SurveyError) -> String {
    let message = match lang {
        Lang::Zh => &e.zh,
        Lang::En => &e.message,
    };
    let line = e.line.map(|l| match lang {
        Lang::Zh => format!("第 {l} 行"),
        Lang::En => format!("line {l}"),
    });
    // The place is a path into the file: its keys as written, quoted as code in Chinese.
    let place = (!e.place.is_empty()).then(|| match lang {
        Lang::Zh => format!("`{}`", e.place),
        Lang::En => e.place.clone(),
    });
    let at: Vec<String> = line.into_iter().chain(place).collect();
    match (lang, at.is_empty()) {
        (_, true) => message.clone(),
        (Lang::Zh, false) => format!("{}：{message}", at.join("，")),
        (Lang::En, false) => format!("{}: {message}", at.join(", ")),
    }
}
