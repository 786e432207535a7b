//! The wave lifecycle: create (draft) → open → closed → published, invitations with
//! one-time tokens, printed slips, and the rehearsal reset. Each change is one transaction.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDateTime, Utc};

use crate::db::people::Person;
use crate::db::units::Unit;
use crate::db::waves::{self, Invitation, NewWave, Wave};
use crate::db::{self, DbConn};
use crate::domain::roster::UnitKind;
use crate::domain::survey::{StepKind, Survey, SurveyError, fingerprint};
use crate::domain::token;

pub mod edit;
mod frame;
pub mod people_wave;
pub use edit::{DraftEdit, EditError};
pub use frame::{RosterChanges, frame, invite_added, roster_changes};

/// The states of a wave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Being prepared: no invitations yet.
    Draft,
    /// Taking answers.
    Open,
    /// No more answers; results visible to the committee.
    Closed,
    /// Results published; receipts can be checked.
    Published,
}

impl State {
    /// The id stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Open => "open",
            Self::Closed => "closed",
            Self::Published => "published",
        }
    }

    /// Reads a stored state (unknown values read as draft, which allows nothing harmful).
    pub fn parse(s: &str) -> Self {
        match s {
            "open" => Self::Open,
            "closed" => Self::Closed,
            "published" => Self::Published,
            _ => Self::Draft,
        }
    }

    /// The Chinese name.
    pub fn label(self) -> &'static str {
        match self {
            Self::Draft => "草稿",
            Self::Open => "进行中",
            Self::Closed => "已结束",
            Self::Published => "已公布",
        }
    }
}

/// A wave action that needs a certain state, named in both languages (a refusal says it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Opening a draft.
    Opening,
    /// Reminding those who have not answered.
    Reminding,
    /// Making paper slips.
    MakingSlips,
    /// Closing.
    Closing,
    /// Publishing the results.
    Publishing,
    /// Moving the closing time.
    Extending,
    /// Inviting people added since the wave opened.
    InvitingAdded,
}

impl Action {
    /// In English (the CLI's words).
    pub fn en(self) -> &'static str {
        match self {
            Self::Opening => "opening",
            Self::Reminding => "reminding",
            Self::MakingSlips => "making slips",
            Self::Closing => "closing",
            Self::Publishing => "publishing",
            Self::Extending => "extending",
            Self::InvitingAdded => "inviting people added since it opened",
        }
    }

    /// In Chinese (the console's).
    pub fn zh(self) -> &'static str {
        match self {
            Self::Opening => "开启",
            Self::Reminding => "发送提醒",
            Self::MakingSlips => "生成纸质测评码",
            Self::Closing => "结束",
            Self::Publishing => "公布结果",
            Self::Extending => "延期",
            Self::InvitingAdded => "邀请新增人员",
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.en())
    }
}

/// Why a wave command did nothing.
#[derive(Debug, thiserror::Error)]
pub enum WaveError {
    /// No such wave.
    #[error("wave {0} does not exist (see `sanping wave list`)")]
    NotFound(i32),
    /// The state does not allow the action.
    #[error("wave {id} is {state}; {action} needs a wave that is {needed}")]
    State {
        /// The wave.
        id: i32,
        /// Its state.
        state: &'static str,
        /// What was asked.
        action: Action,
        /// The state it needs.
        needed: &'static str,
    },
    /// The survey file is invalid.
    #[error("the survey file is invalid:\n{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Survey(Vec<SurveyError>),
    /// Bad input, explained.
    #[error("{0}")]
    Invalid(String),
    /// A refusal a person can act on, said in both languages (the CLI says the English).
    #[error("{0}")]
    Refused(crate::error::Msg),
    /// Another process changed the wave between this one's check and its write: nothing
    /// was done, and trying again may work (409 in the API).
    #[error("{0}")]
    Raced(crate::error::Msg),
    /// A title, closing time, scope or key holders a wave cannot have (in both languages).
    #[error(transparent)]
    Edit(EditError),
    /// The database failed.
    #[error("database error: {0}")]
    Db(#[from] diesel::result::Error),
    /// Delivering the links failed; nothing was changed.
    #[error("cannot deliver the links: {0}")]
    Delivery(String),
}

impl WaveError {
    /// A refusal in Chinese and English.
    pub fn refused(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self::Refused(crate::error::Msg::new(zh, en))
    }

    /// Another process changed wave `id` between this one's check and its write.
    pub(crate) fn changed_meanwhile(id: i32) -> Self {
        Self::Raced(crate::error::Msg::new(
            format!("批次 {id} 刚被其他操作更改，请重试。"),
            format!("wave {id} changed meanwhile; try again"),
        ))
    }

    /// Another key holder unsealed wave `id` while this unsealing was being prepared.
    pub(crate) fn unsealed_meanwhile(id: i32) -> Self {
        Self::Raced(crate::error::Msg::new(
            format!("批次 {id} 刚被其他人开箱。"),
            format!("wave {id} was unsealed meanwhile"),
        ))
    }
}

/// What `create` needs.
#[derive(Debug, Clone)]
pub struct NewWaveSpec {
    /// Name of the survey file (for messages).
    pub survey_name: String,
    /// The survey file's content.
    pub survey_src: String,
    /// The title.
    pub title: String,
    /// Subtree to evaluate.
    pub scope: Option<String>,
    /// Automatic close time (UTC).
    pub closes_at: Option<NaiveDateTime>,
    /// Rehearsal wave.
    pub is_test: bool,
    /// The accounts that will hold shares of the wave's key.
    pub holders: Vec<String>,
    /// How many of them it takes to unseal the answers.
    pub threshold: u8,
}

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// Creates a draft wave, copying the survey's content and fingerprint into it.
pub fn create(conn: &mut DbConn, spec: &NewWaveSpec) -> Result<i32, WaveError> {
    let survey = Survey::parse(&spec.survey_name, &spec.survey_src).map_err(WaveError::Survey)?;
    let title = edit::check_title(&spec.title)?;
    edit::check_closes(spec.closes_at)?;
    edit::check_holders(&spec.holders, spec.threshold)?;
    db::write_tx(conn, |conn| {
        edit::check_names(conn, &spec.holders, spec.scope.as_deref())?;
        let id = waves::next_id(conn)?;
        waves::insert(
            conn,
            &NewWave {
                id,
                title,
                survey: &spec.survey_src,
                fingerprint: &fingerprint(&spec.survey_src),
                scope: spec.scope.as_deref(),
                state: State::Draft.as_str(),
                is_test: spec.is_test,
                closes_at: spec.closes_at,
                created_at: now(),
                threshold: Some(i32::from(spec.threshold)),
                kind: if survey.people.is_some() {
                    waves::PEOPLE
                } else {
                    "units"
                },
            },
        )?;
        crate::db::holders::insert(conn, id, &spec.holders)?;
        Ok(id)
    })
}

/// The state to show: a closed wave whose answers are still sealed is 待开箱.
pub fn state_label(state: &str, sealed: bool) -> &'static str {
    let st = State::parse(state);
    if st == State::Closed && sealed {
        "待开箱"
    } else {
        st.label()
    }
}

/// Loads a wave or says it does not exist.
pub fn get(conn: &mut DbConn, id: i32) -> Result<Wave, WaveError> {
    waves::find(conn, id)?.ok_or(WaveError::NotFound(id))
}

/// The wave's frozen survey. It was valid when the wave was created.
pub fn survey_of(wave: &Wave) -> Result<Survey, WaveError> {
    Survey::parse(&format!("wave {}", wave.id), &wave.survey).map_err(WaveError::Survey)
}

/// A one-time link created when a wave opens: the only place its raw token exists.
#[derive(Debug, Clone)]
pub struct Link {
    /// The person invited.
    pub email: String,
    /// Their name.
    pub name: String,
    /// Code of the unit they evaluate (for `org`: their own unit).
    pub unit: String,
    /// What the link is for.
    pub step: StepKind,
    /// `{base_url}/s/{token}`.
    pub url: String,
}

/// The units evaluated in a wave: every non-committee unit in the scope's subtree.
pub fn targets(all: &[Unit], scope: Option<&str>) -> Vec<Unit> {
    crate::scope::Scope::of(scope)
        .units(all)
        .into_iter()
        .filter(|u| u.kind != UnitKind::Committee.as_str())
        .cloned()
        .collect()
}

/// Who evaluates whom: each person rates their own unit, and — when the survey says so
/// for their category — the parent of their unit too. Only target units count.
pub fn assignments<'a>(
    survey: &Survey,
    people: &'a [Person],
    targets: &[Unit],
) -> Vec<(&'a Person, String)> {
    let target: HashMap<&str, &Unit> = targets.iter().map(|u| (u.code.as_str(), u)).collect();
    let mass = survey.step(StepKind::Mass);
    let mut out = Vec::new();
    for person in people {
        let Some(own) = target.get(person.unit.as_str()) else {
            continue;
        };
        out.push((person, own.code.clone()));
        if mass.rates_parent(&person.category)
            && let Some(parent) = own.parent.as_deref()
            && target.contains_key(parent)
        {
            out.push((person, parent.to_owned()));
        }
    }
    out
}

/// Who a wave opening invites: (person, unit, step) — the mass evaluation of each person's
/// units, each target unit's secretaries for its self-assessment, and each committee member
/// once for the scoring sheet of all units (their invitation carries their own unit).
fn invitees(conn: &mut DbConn, id: i32) -> Result<Vec<(Person, String, StepKind)>, WaveError> {
    // A second process opening the same wave waits here, then finds it open.
    waves::hold_exclusive(conn, id)?;
    // No import or 停用 between reading the roster here and freezing the frame.
    db::units::hold_roster_shared(conn)?;
    let wave = get(conn, id)?;
    require(&wave, State::Draft, Action::Opening)?;
    if let Some(closes) = wave.closes_at
        && closes <= now()
    {
        return Err(WaveError::refused(
            format!("批次 {id} 的截止时间 {closes}（UTC）已过，请新建批次。"),
            format!(
                "wave {id} was set to close at {closes} (UTC), which has passed; create a new wave"
            ),
        ));
    }
    let planned = planned(conn, &wave)?;
    if planned.is_empty()
        && let Some(spec) = &survey_of(&wave)?.people
    {
        let plan = people_plan(conn, &wave, spec)?;
        return Err(self::people_wave::nothing_to_rate(id, &plan.too_small));
    }
    Ok(planned)
}

/// The plan of a people wave: who rates whom, who is rated, which units are too small.
pub fn people_plan(
    conn: &mut DbConn,
    wave: &Wave,
    spec: &crate::domain::people::PeopleSpec,
) -> Result<self::people_wave::Plan, WaveError> {
    let all_units = crate::deactivate::active_units(conn)?;
    let targets = targets(&all_units, wave.scope.as_deref());
    let people =
        crate::deactivate::active_people_for(conn, wave.scope.as_deref(), &all_units, &targets)?;
    Ok(self::people_wave::plan(spec, &people, &targets))
}

/// Who opening `wave` now would invite, by the same plan as opening; reads only.
pub fn planned(
    conn: &mut DbConn,
    wave: &Wave,
) -> Result<Vec<(Person, String, StepKind)>, WaveError> {
    let survey = survey_of(wave)?;
    let all_units = crate::deactivate::active_units(conn)?;
    let targets = targets(&all_units, wave.scope.as_deref());
    // Only the people the plan can invite: a university's wave reads its own 20,000, not
    // the province's two million.
    let people =
        crate::deactivate::active_people_for(conn, wave.scope.as_deref(), &all_units, &targets)?;
    Ok(plan(&survey, &people, &targets))
}

/// Everyone the roster `people` invites to a wave over `targets`: (person, unit, step).
pub(crate) fn plan(
    survey: &Survey,
    people: &[Person],
    targets: &[Unit],
) -> Vec<(Person, String, StepKind)> {
    if let Some(spec) = &survey.people {
        return self::people_wave::plan(spec, people, targets).invitees;
    }
    let mut out: Vec<(Person, String, StepKind)> = assignments(survey, people, targets)
        .into_iter()
        .map(|(p, u)| (p.clone(), u, StepKind::Mass))
        .collect();
    // By unit, in roster order: one pass over the people, not one per target unit.
    let mut secretaries: HashMap<&str, Vec<&Person>> = HashMap::new();
    for p in people.iter().filter(|p| p.has_role("secretary")) {
        secretaries.entry(p.unit.as_str()).or_default().push(p);
    }
    for unit in targets {
        for p in secretaries.get(unit.code.as_str()).into_iter().flatten() {
            out.push(((*p).clone(), unit.code.clone(), StepKind::SelfAssessment));
        }
    }
    for p in people.iter().filter(|p| p.has_role("committee")) {
        out.push((p.clone(), p.unit.clone(), StepKind::Org));
    }
    out
}

/// Target units of a wave that have nobody to fill in their self-assessment.
pub fn missing_secretaries(conn: &mut DbConn, id: i32) -> Result<Vec<Unit>, WaveError> {
    let wave = get(conn, id)?;
    let all_units = crate::deactivate::active_units(conn)?;
    let targets = targets(&all_units, wave.scope.as_deref());
    let people =
        crate::deactivate::active_people_for(conn, wave.scope.as_deref(), &all_units, &targets)?;
    let with_secretary: std::collections::HashSet<&str> = people
        .iter()
        .filter(|p| p.has_role("secretary"))
        .map(|p| p.unit.as_str())
        .collect();
    Ok(targets
        .into_iter()
        .filter(|u| !with_secretary.contains(u.code.as_str()))
        .collect())
}

pub(crate) fn new_invitation(
    wave_id: i32,
    person: Option<&str>,
    unit: &str,
    step: StepKind,
    token_hash: Option<String>,
) -> Invitation {
    Invitation {
        id: token::random_id(),
        wave_id,
        person: person.map(str::to_owned),
        unit: unit.to_owned(),
        step: step.as_str().to_owned(),
        token_hash,
        used: false,
        reminders: 0,
    }
}

/// Seals the wave to a fresh key (see [`crate::sealing::seal_wave`]) and marks it open.
fn mark_open(conn: &mut DbConn, id: i32) -> Result<(), WaveError> {
    let wave = get(conn, id)?;
    crate::sealing::seal_wave(conn, &wave)?;
    let frame = targets(
        &crate::deactivate::active_units(conn)?,
        wave.scope.as_deref(),
    );
    db::frames::freeze(conn, id, &frame)?;
    if let Some(spec) = &survey_of(&wave)?.people {
        let plan = people_plan(conn, &wave, spec)?;
        self::people_wave::freeze(conn, id, &plan)?;
    }
    if waves::transition(conn, id, "draft", "open", now())? == 1 {
        Ok(())
    } else {
        Err(WaveError::changed_meanwhile(id))
    }
}

/// Opens a draft wave and queues one invitation mail per (person, target unit), all in one
/// transaction. No token exists yet: the mail worker mints each at send time. Returns how
/// many invitations were created.
pub fn open_by_email(conn: &mut DbConn, id: i32) -> Result<usize, WaveError> {
    db::write_tx(conn, |conn| {
        let at = now();
        let (invitations, mails): (Vec<_>, Vec<_>) = invitees(conn, id)?
            .into_iter()
            .map(|(person, unit, step)| {
                let invitation = new_invitation(id, Some(&person.email), &unit, step, None);
                let mail = queued_mail(&invitation, &person.email, "invitation", at);
                (invitation, mail)
            })
            .unzip();
        waves::insert_invitations(conn, &invitations)?;
        crate::db::outbox::insert(conn, &mails)?;
        mark_open(conn, id)?;
        Ok(invitations.len())
    })
}

pub(crate) fn queued_mail(
    invitation: &Invitation,
    recipient: &str,
    kind: &str,
    at: NaiveDateTime,
) -> crate::db::outbox::Mail {
    crate::db::outbox::Mail {
        id: token::random_id(),
        wave_id: invitation.wave_id,
        invitation_id: invitation.id.clone(),
        kind: kind.to_owned(),
        recipient: recipient.to_owned(),
        state: "queued".to_owned(),
        attempts: 0,
        next_attempt_at: at,
        last_error: None,
        created_at: at,
        sent_at: None,
    }
}

/// Opens a draft wave without email: mints a token per invitation now, hands the links to
/// `deliver` (e.g. a file the organizer names) and commits only if delivery succeeded — so
/// no invitation exists whose link was lost. Returns how many invitations were created.
pub fn open(
    conn: &mut DbConn,
    id: i32,
    base_url: &str,
    deliver: impl FnOnce(&[Link]) -> Result<(), String>,
) -> Result<usize, WaveError> {
    db::write_tx(conn, |conn| {
        let (invitations, links): (Vec<_>, Vec<_>) = invitees(conn, id)?
            .into_iter()
            .map(|(person, unit, step)| {
                let token = token::mint();
                let hash = Some(token::hash(&token));
                let invitation = new_invitation(id, Some(&person.email), &unit, step, hash);
                let link = Link {
                    email: person.email,
                    name: person.name,
                    unit,
                    step,
                    url: format!("{base_url}/s/{token}"),
                };
                (invitation, link)
            })
            .unzip();
        waves::insert_invitations(conn, &invitations)?;
        mark_open(conn, id)?;
        deliver(&links).map_err(WaveError::Delivery)?;
        Ok(links.len())
    })
}

/// The invitations a reminder would go to now: unused personal mass invitations with fewer
/// than `max` reminders, no mail waiting, and a last mail sent at least `min_days` days ago.
/// Reads only: the console's confirmation page counts them, [`remind`] queues them.
pub fn due_reminders(
    conn: &mut DbConn,
    id: i32,
    min_days: u32,
    max: u32,
) -> Result<Vec<Invitation>, WaveError> {
    let cutoff = now() - chrono::Duration::days(i64::from(min_days));
    // Per invitation: a mail still waiting, and when one was last sent. One read of the
    // wave's outbox instead of one per invitation.
    let mut sends: HashMap<String, (bool, Option<NaiveDateTime>)> = HashMap::new();
    for (invitation, state, sent_at) in crate::db::outbox::deliveries(conn, id)? {
        let entry = sends.entry(invitation).or_default();
        entry.0 |= state == "queued" || state == "sending";
        entry.1 = entry.1.max(sent_at);
    }
    Ok(
        waves::unanswered(conn, id, i32::try_from(max).unwrap_or(i32::MAX))?
            .into_iter()
            .filter(|invitation| {
                sends
                    .get(&invitation.id)
                    .is_some_and(|&(pending, last_sent)| {
                        !pending && last_sent.is_some_and(|t| t <= cutoff)
                    })
            })
            .collect(),
    )
}

/// Queues a reminder for every unused personal invitation of an open wave whose last mail
/// was sent at least `min_days` days ago and that has had fewer than `max` reminders. The
/// worker mints a new token for it, which retires the old link. Returns how many.
pub fn remind(conn: &mut DbConn, id: i32, min_days: u32, max: u32) -> Result<usize, WaveError> {
    db::write_tx(conn, |conn| {
        // Two reminders at once (two organizers, two processes): the second waits, then
        // sees the first one's mails pending and queues none.
        waves::hold_exclusive(conn, id)?;
        let wave = get(conn, id)?;
        require(&wave, State::Open, Action::Reminding)?;
        let at = now();
        let mails: Vec<_> = due_reminders(conn, id, min_days, max)?
            .into_iter()
            .filter_map(|invitation| {
                let recipient = invitation.person.clone()?;
                Some(queued_mail(&invitation, &recipient, "reminder", at))
            })
            .collect();
        crate::db::outbox::insert(conn, &mails)?;
        let reminded: Vec<&str> = mails.iter().map(|m| m.invitation_id.as_str()).collect();
        waves::count_reminders(conn, &reminded)?;
        Ok(mails.len())
    })
}

/// Makes `count` anonymous one-time tokens for `unit`, not tied to any person (现场测评).
/// Returns the raw tokens; they exist nowhere else.
pub fn slips(
    conn: &mut DbConn,
    id: i32,
    unit: &str,
    count: usize,
) -> Result<(Wave, Unit, Vec<String>), WaveError> {
    if count == 0 || count > 2000 {
        return Err(WaveError::refused(
            "份数须在 1 到 2000 之间。",
            "--count must be between 1 and 2000",
        ));
    }
    db::write_tx(conn, |conn| {
        let wave = get(conn, id)?;
        let state = State::parse(&wave.state);
        if !matches!(state, State::Draft | State::Open) {
            return Err(WaveError::State {
                id,
                state: state.as_str(),
                action: Action::MakingSlips,
                needed: "draft or open",
            });
        }
        let Some(target) = frame(conn, &wave)?.into_iter().find(|u| u.code == unit) else {
            return Err(WaveError::refused(
                format!(
                    "单位“{unit}”不在批次 {id} 的测评范围内（不存在、超出范围，或为考评组本身）。"
                ),
                format!(
                    "unit \"{unit}\" is not evaluated in wave {id} (unknown, out of scope, or the committee itself)"
                ),
            ));
        };
        let tokens: Vec<String> = (0..count).map(|_| token::mint()).collect();
        let invitations: Vec<Invitation> = tokens
            .iter()
            .map(|t| new_invitation(id, None, unit, StepKind::Mass, Some(token::hash(t))))
            .collect();
        waves::insert_invitations(conn, &invitations)?;
        Ok((wave, target, tokens))
    })
}

pub(crate) fn require(wave: &Wave, needed: State, action: Action) -> Result<(), WaveError> {
    let state = State::parse(&wave.state);
    if state == needed {
        Ok(())
    } else {
        Err(WaveError::State {
            id: wave.id,
            state: state.as_str(),
            action,
            needed: needed.as_str(),
        })
    }
}

/// Closes an open wave. A sealed wave's answers stay sealed until its key holders unseal
/// them ([`crate::sealing::unseal`]). A wave from before sealing has its responses counted
/// now and, on PostgreSQL, rewritten in random order.
pub fn close(conn: &mut DbConn, id: i32) -> Result<(), WaveError> {
    db::write_tx(conn, |conn| {
        // Waits for submissions under way, so none is stored after the close, and for
        // another closer, so this one reads the state it left (closed) and stops.
        waves::hold_exclusive(conn, id)?;
        let wave = get(conn, id)?;
        require(&wave, State::Open, Action::Closing)?;
        waves::transition(conn, id, "open", "closed", now())?;
        if wave.is_people() {
            // Drafts of sheets never sent: nobody can send them now.
            db::rated::forget_drafts(conn, id)?;
        }
        if wave.public_key.is_none() {
            waves::shuffle_responses(conn, id)?;
            let counts = crate::tally::store(conn, id)?;
            crate::record::write(conn, id, &counts)?;
        }
        Ok(())
    })
}

/// Refuses what needs a wave's answers while they are still sealed.
pub fn require_unsealed(wave: &Wave, action: &str) -> Result<(), WaveError> {
    if wave.is_sealed() {
        return Err(WaveError::refused(
            format!(
                "批次 {} 的答卷仍为密封状态（待开箱）：须先由密钥保管人开箱。",
                wave.id
            ),
            format!(
                "wave {} is still sealed: {action} needs its key holders to unseal it first \
                 (`sanping wave unseal {} --holder NAME …`, or Unseal in the console)",
                wave.id, wave.id
            ),
        ));
    }
    Ok(())
}

/// Publishes a closed, unsealed wave's results.
pub fn publish(conn: &mut DbConn, id: i32) -> Result<(), WaveError> {
    db::write_tx(conn, |conn| {
        // After any final grade being recorded (people waves) in another process.
        waves::hold_exclusive(conn, id)?;
        let wave = get(conn, id)?;
        require(&wave, State::Closed, Action::Publishing)?;
        require_unsealed(&wave, "publishing")?;
        waves::transition(conn, id, "closed", "published", now())?;
        if wave.is_people() {
            // A people wave's results are final only now: after 开箱 its committee records
            // the final grades, which the record covers with the counts.
            crate::record::write(conn, id, &crate::tally::Counts::default())?;
        }
        Ok(())
    })
}

/// Deletes a rehearsal wave's responses and invitations and returns it to draft.
pub fn purge_test(conn: &mut DbConn, id: i32) -> Result<(usize, usize), WaveError> {
    db::write_tx(conn, |conn| {
        let wave = get(conn, id)?;
        if !wave.is_test {
            return Err(WaveError::refused(
                format!("批次 {id} 不是演练批次，只有演练批次可以清空。"),
                format!(
                    "wave {id} is not a test wave; only waves created with --test can be purged"
                ),
            ));
        }
        waves::hold_exclusive(conn, id)?;
        db::tallies::delete(conn, id)?;
        let sealed = if wave.is_sealed() {
            usize::try_from(db::sealed::count(conn, id)?).unwrap_or(0)
        } else {
            0
        };
        db::sealed::drop(conn, id)?;
        db::sealed::delete_receipts(conn, id)?;
        db::holders::erase_shares(conn, id)?;
        db::frames::thaw(conn, id)?;
        db::rated::purge(conn, id)?;
        let (responses, invitations) = waves::purge(conn, id)?;
        let counts = (responses + sealed, invitations);
        waves::transition(conn, id, &wave.state, "draft", now())?;
        Ok(counts)
    })
}

/// Whether a wave takes answers at `at`: open, and not past its closing time.
pub fn accepts_answers(wave: &waves::WaveHead, at: NaiveDateTime) -> bool {
    State::parse(&wave.state) == State::Open && wave.closes_at.is_none_or(|c| at < c)
}

/// Progress of one unit in a wave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitProgress {
    /// The unit's code.
    pub unit: String,
    /// Invitations issued (emails and slips).
    pub invited: i64,
    /// Invitations used.
    pub used: i64,
    /// Responses stored.
    pub responses: i64,
}

impl UnitProgress {
    /// Responses / invitations, 0 when nobody was invited.
    pub fn response_rate(&self) -> f64 {
        if self.invited == 0 {
            0.0
        } else {
            self.responses as f64 / self.invited as f64
        }
    }
}

/// Per-unit counts of a wave, in unit-code order. No scores: those wait for the close.
pub fn progress(conn: &mut DbConn, id: i32) -> Result<Vec<UnitProgress>, WaveError> {
    fn slot(map: &mut BTreeMap<String, UnitProgress>, unit: String) -> &mut UnitProgress {
        map.entry(unit.clone()).or_insert(UnitProgress {
            unit,
            invited: 0,
            used: 0,
            responses: 0,
        })
    }
    let sealed = get(conn, id)?.is_sealed();
    let mut by_unit = BTreeMap::new();
    for (unit, used, n) in waves::invitation_counts(conn, id)? {
        let p = slot(&mut by_unit, unit);
        p.invited += n;
        if used {
            p.used += n;
            // Sealed sheets carry their unit inside: one per used invitation.
            if sealed {
                p.responses += n;
            }
        }
    }
    if !sealed {
        for (unit, n) in waves::response_counts(conn, id)? {
            slot(&mut by_unit, unit).responses += n;
        }
    }
    Ok(by_unit.into_values().collect())
}
