//! Why a wave action was refused, in the console's two languages: the library says its
//! refusals in English (what the CLI prints) and, where a person can act on them, in Chinese
//! too ([`WaveError::Refused`]); the states of [`WaveError::State`] are named here (its actions name themselves:
//! [`crate::wave::Action`]).

use crate::domain::Lang;
use crate::error::{AppError, Msg};
use crate::wave::{State, WaveError};

/// A wave error as the console shows it: what a person can fix is a 409 with the reason.
pub(crate) fn wave_error(e: WaveError) -> AppError {
    match e {
        WaveError::NotFound(_) => AppError::NotFound,
        WaveError::Db(e) => e.into(),
        other => AppError::Conflict(wave_msg(&other)),
    }
}

/// What a wave error says, in Chinese and English.
pub(crate) fn wave_msg(e: &WaveError) -> Msg {
    let en = e.to_string();
    let zh = match e {
        WaveError::Refused(m) | WaveError::Raced(m) => return m.clone(),
        WaveError::State {
            id,
            state,
            action,
            needed,
        } => format!(
            "批次 {id} 当前为“{}”，{}须在批次为“{}”时进行。",
            states_zh(state),
            action.zh(),
            states_zh(needed)
        ),
        WaveError::NotFound(id) => format!("批次 {id} 不存在。"),
        WaveError::Edit(e) => e.zh(),
        WaveError::Survey(errors) => {
            let mut text = String::from("问卷文件有误：");
            for e in errors {
                text.push('\n');
                text.push_str(&crate::web::survey_text::error(Lang::Zh, e));
            }
            text
        }
        WaveError::Delivery(_) => "链接无法发送，未做任何更改。".into(),
        // The rest are rare and said by the library in English only: the Chinese page says
        // that it failed, the log and the CLI say why.
        WaveError::Invalid(_) | WaveError::Db(_) => {
            tracing::info!(refusal = %en, "wave action refused");
            "当前无法执行此操作，未做任何更改。".into()
        }
    };
    Msg::new(zh, en)
}

/// "draft", "closed", "draft or open" in Chinese.
fn states_zh(states: &str) -> String {
    states
        .split(" or ")
        .map(|s| State::parse(s).label())
        .collect::<Vec<_>>()
        .join("或")
}
