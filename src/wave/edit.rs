//! Editing a draft wave: its title, closing time, scope and key holders, with the checks
//! of [`super::create`]. The survey is fixed: another survey is another wave. One write
//! transaction under the wave's exclusive lock, audited as `wave.edit` with what changed.

use chrono::NaiveDateTime;

use super::{State, now};
use crate::db::{self, DbConn, holders, units, waves};

/// What to change in a draft wave; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct DraftEdit {
    /// The new title.
    pub title: Option<String>,
    /// The new closing time (UTC); `Some(None)` removes it.
    pub closes_at: Option<Option<NaiveDateTime>>,
    /// The new scope (a unit code); `Some(None)` evaluates the whole tree.
    pub scope: Option<Option<String>>,
    /// The new key holders (replacing all of them).
    pub holders: Option<Vec<String>>,
    /// The new threshold.
    pub threshold: Option<u8>,
}

/// Why an edit was refused. English for the CLI and the audit, [`EditError::zh`] for the
/// console.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// No such wave.
    #[error("wave {0} does not exist (see `sanping wave list`)")]
    NotFound(i32),
    /// Only a draft can be edited.
    #[error(
        "wave {id} is {}; only a draft wave can be edited (its invitations and key are fixed once it opens)",
        .state.as_str()
    )]
    NotDraft {
        /// The wave.
        id: i32,
        /// Its state.
        state: State,
    },
    /// The title is empty.
    #[error("the title is empty")]
    EmptyTitle,
    /// The title holds a control character.
    #[error("the title contains a line break or another control character")]
    ControlTitle,
    /// The closing time has passed.
    #[error("the closing time {0} (UTC) is in the past")]
    PastClosing(NaiveDateTime),
    /// The scope is not a unit.
    #[error("scope \"{0}\" is not a unit (see `sanping units list`)")]
    NotUnit(String),
    /// A key holder is not an account.
    #[error(
        "key holder \"{0}\" is not an account (create it with `sanping admin add {0} --role committee`)"
    )]
    NotAccount(String),
    /// No key holders.
    #[error(
        "a wave needs key holders, who unseal its answers after it closes: name them \
         (--holders NAME,NAME,NAME --threshold 2, or --single-holder NAME)"
    )]
    NoHolders,
    /// A holder named twice.
    #[error("a key holder is named twice")]
    HolderTwice,
    /// More than 255 holders.
    #[error("at most 255 key holders")]
    TooManyHolders,
    /// The threshold is outside 1..=n.
    #[error("the threshold must be between 1 and the number of key holders ({n}), not {t}")]
    Threshold {
        /// The threshold asked.
        t: usize,
        /// The number of holders.
        n: usize,
    },
    /// The database failed.
    #[error("database error: {0}")]
    Db(#[from] diesel::result::Error),
}

impl EditError {
    /// The reason in Chinese, for the console.
    pub fn zh(&self) -> String {
        match self {
            Self::NotFound(id) => format!("批次 {id} 不存在。"),
            Self::NotDraft { id, state } => format!(
                "批次 {id} 当前为“{}”，只有草稿批次可以编辑（开放后邀请与密钥已固定）。",
                state.label()
            ),
            Self::EmptyTitle => "标题不能为空。".into(),
            Self::ControlTitle => "标题不能含换行或其他控制字符。".into(),
            Self::PastClosing(at) => format!(
                "截止时间 {}（UTC）已经过去，请选择将来的时间。",
                at.format("%Y-%m-%d %H:%M")
            ),
            Self::NotUnit(code) => format!("范围“{code}”不是已有的单位。"),
            Self::NotAccount(name) => format!("密钥保管人“{name}”不是已有的账号。"),
            Self::NoHolders => "请选择密钥保管人：测评结束后由他们开箱读出答卷。".into(),
            Self::HolderTwice => "同一位密钥保管人选了两次。".into(),
            Self::TooManyHolders => "密钥保管人最多 255 位。".into(),
            Self::Threshold { t, n } => {
                format!("开箱所需人数必须在 1 到保管人数（{n}）之间，不能是 {t}。")
            }
            Self::Db(e) => format!("数据库错误：{e}"),
        }
    }
}

impl From<EditError> for super::WaveError {
    fn from(e: EditError) -> Self {
        match e {
            EditError::NotFound(id) => Self::NotFound(id),
            EditError::Db(e) => Self::Db(e),
            other => Self::Edit(other),
        }
    }
}

/// Checks a wave's title; returns it trimmed.
pub fn check_title(title: &str) -> Result<&str, EditError> {
    let title = title.trim();
    if title.is_empty() {
        return Err(EditError::EmptyTitle);
    }
    if title.chars().any(char::is_control) {
        return Err(EditError::ControlTitle);
    }
    Ok(title)
}

/// Checks that a closing time lies in the future.
pub fn check_closes(closes_at: Option<NaiveDateTime>) -> Result<(), EditError> {
    match closes_at {
        Some(at) if at <= now() => Err(EditError::PastClosing(at)),
        _ => Ok(()),
    }
}

/// Checks key holders and threshold: some holders, none twice, at most 255, threshold in
/// 1..=n (that they are accounts is checked inside the writing transaction).
pub fn check_holders(holders: &[String], threshold: u8) -> Result<(), EditError> {
    let n = holders.len();
    if n == 0 {
        return Err(EditError::NoHolders);
    }
    let mut names = holders.to_vec();
    names.sort();
    names.dedup();
    if names.len() != n {
        return Err(EditError::HolderTwice);
    }
    if n > 255 {
        return Err(EditError::TooManyHolders);
    }
    let t = usize::from(threshold);
    if t == 0 || t > n {
        return Err(EditError::Threshold { t, n });
    }
    Ok(())
}

/// Checks, in a transaction, that the holders are accounts and the scope is a unit.
pub(crate) fn check_names(
    conn: &mut DbConn,
    holders: &[String],
    scope: Option<&str>,
) -> Result<(), EditError> {
    let accounts = crate::db::accounts::usernames(conn)?;
    if let Some(name) = holders.iter().find(|h| !accounts.contains(h)) {
        return Err(EditError::NotAccount(name.clone()));
    }
    if let Some(scope) = scope
        && units::find(conn, scope)?.is_none()
    {
        return Err(EditError::NotUnit(scope.to_owned()));
    }
    Ok(())
}

fn show_time(t: Option<NaiveDateTime>) -> String {
    t.map_or_else(
        || "not set".to_owned(),
        |t| format!("{} UTC", t.format("%Y-%m-%d %H:%M")),
    )
}

/// Edits a draft wave and records `wave.edit` by `actor` in the same transaction. Returns
/// what changed, one line each ("title: A → B"); empty when nothing did (then no entry).
pub fn edit(
    conn: &mut DbConn,
    id: i32,
    change: &DraftEdit,
    actor: &str,
) -> Result<Vec<String>, EditError> {
    let title = change.title.as_deref().map(check_title).transpose()?;
    if let Some(closes) = change.closes_at {
        check_closes(closes)?;
    }
    db::write_tx(conn, |conn| {
        waves::hold_exclusive(conn, id)?;
        let w = waves::find(conn, id)?.ok_or(EditError::NotFound(id))?;
        let state = State::parse(&w.state);
        if state != State::Draft {
            return Err(EditError::NotDraft { id, state });
        }
        let old_holders: Vec<String> = holders::of_wave(conn, id)?
            .into_iter()
            .map(|h| h.username)
            .collect();
        let old_threshold = u8::try_from(w.threshold.unwrap_or(1)).unwrap_or(1);
        let new_holders = change
            .holders
            .clone()
            .unwrap_or_else(|| old_holders.clone());
        let new_threshold = change.threshold.unwrap_or(old_threshold);
        check_holders(&new_holders, new_threshold)?;
        let new_title = title.unwrap_or(&w.title);
        let new_scope = change.scope.clone().unwrap_or_else(|| w.scope.clone());
        let new_closes = change.closes_at.unwrap_or(w.closes_at);
        check_names(conn, &new_holders, new_scope.as_deref())?;

        let mut changed = Vec::new();
        if new_title != w.title {
            changed.push(format!("title: {} → {new_title}", w.title));
        }
        if new_closes != w.closes_at {
            changed.push(format!(
                "closes: {} → {}",
                show_time(w.closes_at),
                show_time(new_closes)
            ));
        }
        if new_scope != w.scope {
            let show = |s: &Option<String>| s.clone().unwrap_or_else(|| "whole tree".into());
            changed.push(format!("scope: {} → {}", show(&w.scope), show(&new_scope)));
        }
        let (mut a, mut b) = (old_holders.clone(), new_holders.clone());
        a.sort();
        b.sort();
        if a != b {
            changed.push(format!("key holders: {} → {}", a.join(", "), b.join(", ")));
        }
        if new_threshold != old_threshold {
            changed.push(format!("threshold: {old_threshold} → {new_threshold}"));
        }
        if changed.is_empty() {
            return Ok(changed);
        }
        let rows = waves::update_draft(
            conn,
            id,
            new_title,
            new_scope.as_deref(),
            new_closes,
            i32::from(new_threshold),
        )?;
        if rows != 1 {
            return Err(EditError::NotDraft { id, state });
        }
        if a != b {
            holders::replace(conn, id, &new_holders)?;
        }
        crate::auth::record(
            conn,
            actor,
            "wave.edit",
            &format!("wave {id}: {}", changed.join("; ")),
        )?;
        Ok(changed)
    })
}
