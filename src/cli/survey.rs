//! `sanping survey …`.

use std::path::PathBuf;

use anyhow::bail;

use crate::domain::people::{PeopleSpec, Raters};
use crate::domain::survey::{Scale, StepKind, Survey, fingerprint};

/// Survey file commands.
#[derive(Debug, clap::Subcommand)]
pub enum SurveyCommand {
    /// Validate survey files and print a summary of each.
    Check {
        /// The files (e.g. surveys/*.toml).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// Runs a survey command.
pub fn run(cmd: SurveyCommand) -> anyhow::Result<()> {
    let SurveyCommand::Check { files } = cmd;
    let mut failed = 0;
    for path in &files {
        let name = path.display().to_string();
        let src = match std::fs::read_to_string(path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{name}: cannot read: {e}");
                failed += 1;
                continue;
            }
        };
        match Survey::parse(&name, &src) {
            Ok(survey) => println!("{}", summary(&name, &survey, &src)),
            Err(errors) => {
                failed += 1;
                for e in errors {
                    eprintln!("{e}");
                }
            }
        }
    }
    if failed > 0 {
        bail!("{failed} of {} survey file(s) are invalid", files.len());
    }
    Ok(())
}

/// A human summary of a valid survey (also shown on the console's survey page).
pub fn summary(name: &str, s: &Survey, src: &str) -> String {
    if let Some(spec) = &s.people {
        return people_summary(name, s, spec, src);
    }
    let mut out = format!("{name}: OK — {} ({})\n", s.title.zh, s.id);
    for kind in StepKind::ALL {
        let step = s.step(kind);
        let dims: Vec<String> = step
            .dimensions
            .iter()
            .map(|d| format!("{}×{}", d.name.zh, d.items.len()))
            .collect();
        out += &format!(
            "  {:<5} {} items in {} dimensions: {}\n",
            kind.as_str(),
            step.items().count(),
            step.dimensions.len(),
            dims.join(", ")
        );
    }
    for scale in s.scales.values() {
        out += &format!("  scale {}: {}\n", scale.id, options(scale));
    }
    let w = s.weights;
    out += &format!(
        "  weights: self {} · mass {} · org {}{}\n",
        w.self_assessment,
        w.mass,
        w.org,
        if s.step(StepKind::Org).trim_extremes {
            " · org trims highest and lowest"
        } else {
            ""
        }
    );
    let grades: Vec<String> = s
        .grades
        .iter()
        .map(|g| format!("{} ≥ {}", g.label.zh, g.min))
        .collect();
    out += &format!("  grades: {}\n", grades.join(", "));
    for g in &s.gates {
        out += &format!(
            "  gate: satisfaction below {}% caps the grade at {}\n",
            g.min_satisfaction * 100.0,
            s.grades[g.cap].label.zh
        );
    }
    out += &format!(
        "  anonymity: figures need ≥ {} responses, comments ≥ {}\n  fingerprint: {}",
        s.anonymity.min_responses,
        s.anonymity.min_comments,
        fingerprint(src)
    );
    out
}

/// A scale's options with their scores: `✓` marks satisfied options, `(reason)` those where
/// a rater may give a reason.
fn options(scale: &Scale) -> String {
    scale
        .options
        .iter()
        .map(|o| match o.score {
            Some(score) => format!(
                "{} {score}{}{}",
                o.label.zh,
                if o.satisfied { "✓" } else { "" },
                if o.reason { " (reason)" } else { "" }
            ),
            None => format!("{} (not a valid vote)", o.label.zh),
        })
        .collect::<Vec<_>>()
        .join(" / ")
}

/// The summary of a people survey (民主评议): who is rated by whom, the items and the rules
/// that turn ratings into a suggested and a final grade.
fn people_summary(name: &str, s: &Survey, spec: &PeopleSpec, src: &str) -> String {
    let mut out = format!(
        "{name}: OK — {} ({}), people survey (民主评议)\n",
        s.title.zh, s.id
    );
    out += &format!(
        "  rated: people with roster role {}",
        spec.rated_roles.join(" or ")
    );
    if !spec.rated_categories.is_empty() {
        out += &format!(", in category {}", spec.rated_categories.join(" or "));
    }
    if spec.team {
        out += "; and each unit's leadership team as a whole (班子)";
    }
    out += "\n";
    out += match (spec.raters, spec.masses) {
        (Raters::Peers, false) => "  raters: the rated people of a unit rate each other (互评)\n",
        (Raters::Peers, true) => {
            "  raters: the rated people of a unit rate each other (互评), and the rest of the unit rates them too (群众)\n"
        }
        (Raters::Unit, _) => "  raters: everyone in the unit rates them (民主测评)\n",
    };
    out += &format!(
        "  k: a person's result is shown with ≥ {k} raters; a unit where someone could have fewer than {k} takes no part\n",
        k = spec.min_raters
    );
    out += if spec.summary {
        "  summary: each rated person writes a 个人总结 (述职)\n"
    } else {
        "  summary: none\n"
    };
    for i in &spec.items {
        out += &format!(
            "  item {} [{}]{}: {}\n",
            i.id,
            i.scale,
            if i.id == spec.overall {
                " (overall)"
            } else {
                ""
            },
            i.text.zh
        );
    }
    let overall = s.scale_of(spec.overall_item());
    out += &format!("  overall scale {}: {}\n", overall.id, options(overall));
    let label = |id: &str| label_of(overall, id);
    for (i, rule) in spec.suggest.iter().enumerate() {
        let when: Vec<String> = rule.when.iter().map(|w| label(w)).collect();
        out += &format!(
            "  suggest {}: {}{} when {} have ≥ {} of the valid ratings\n",
            i + 1,
            if rule.flag {
                "flag as candidate for "
            } else {
                ""
            },
            label(&rule.grade),
            when.join(" + "),
            rule.min_share
        );
    }
    out += &format!("  otherwise suggest: {}\n", label(&spec.default_grade));
    let top = overall.options.first().map_or("", |o| o.label.zh.as_str());
    if spec.final_grade {
        out += &format!(
            "  final grade: recorded by the unit's committee (组织评定); {top} for at most ⌊n × {}⌋ of n rated people\n",
            spec.top_cap
        );
    } else {
        out += "  final grade: none recorded (the ratings and suggestion are the result)\n";
    }
    for scale in s.scales.values().filter(|sc| sc.id != overall.id) {
        out += &format!("  scale {}: {}\n", scale.id, options(scale));
    }
    out += &format!("  fingerprint: {}", fingerprint(src));
    out
}

/// The label of option `id` of `scale`, or the id itself.
fn label_of(scale: &Scale, id: &str) -> String {
    scale
        .option(id)
        .map_or_else(|| id.to_owned(), |o| o.label.zh.clone())
}
