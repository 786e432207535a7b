//! `sanping survey …`.

use std::path::PathBuf;

use anyhow::bail;

use crate::domain::survey::{StepKind, Survey, fingerprint};

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

/// A human summary of a valid survey.
pub fn summary(name: &str, s: &Survey, src: &str) -> String {
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
        let opts: Vec<String> = scale
            .options
            .iter()
            .map(|o| match o.score {
                Some(score) => format!(
                    "{} {score}{}",
                    o.label.zh,
                    if o.satisfied { "✓" } else { "" }
                ),
                None => format!("{} (not a valid vote)", o.label.zh),
            })
            .collect();
        out += &format!("  scale {}: {}\n", scale.id, opts.join(" / "));
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
