//! Sealed waves: the key ceremony when a wave opens, sealing each answer sheet as it is
//! submitted, the holders' key check, and unsealing (开箱) after the close.
//!
//! What the database holds while a wave is open is only ciphertext: each sheet (answers,
//! comment, unit and a random receipt nonce) sealed to the wave's public key. The private key
//! exists in memory twice: when the wave opens (made, split among the key holders, wiped)
//! and while it is unsealed (rebuilt from T holders' shares, used, wiped). Unsealing writes
//! the opened sheets in random order in one transaction, with no nonce and nothing that
//! points back to a ciphertext, then drops the ciphertexts and erases the shares, so the
//! wave's key can never be rebuilt again. The cryptography itself is in [`crate::domain::seal`].

use std::collections::{BTreeMap, HashSet};

use chrono::Utc;
use rand::seq::SliceRandom as _;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::auth;
use crate::db::waves::{self, Response, Wave};
use crate::db::{self, DbConn, holders, sealed};
use crate::domain::answers::{self, MAX_COMMENT_CHARS, Submission};
use crate::domain::seal::{self, SealError, SecretKey};
use crate::domain::survey::{StepKind, Survey};
use crate::domain::token;
use crate::wave::{self, State, WaveError};

mod people;

/// What HPKE's `info` says of a sheet: it opens only as a sheet of this wave.
fn sheet_info(wave_id: i32) -> Vec<u8> {
    format!("sanping sheet v1 wave {wave_id}").into_bytes()
}

/// What HPKE's `info` says of a key share: it opens only as this holder's share of this wave.
fn share_info(wave_id: i32, username: &str) -> Vec<u8> {
    format!("sanping share v1 wave {wave_id} holder {username}").into_bytes()
}

/// What is sealed: one respondent's answer sheet. The nonce makes the receipt code
/// unguessable from the answers; it is never stored in the clear.
#[derive(Serialize, Deserialize)]
struct Sheet {
    unit: String,
    answers: BTreeMap<String, String>,
    comment: Option<String>,
    nonce: String,
}

/// The three sizes a wave's sealed sheets are padded to: the longest sheet of the survey
/// without a comment (every item answered with its longest option, a unit code of up to
/// 256 bytes), plus a short, a medium or the longest possible comment (each character at
/// most 6 bytes once escaped).
pub fn sheet_sizes(survey: &Survey) -> [usize; 3] {
    let items: usize = survey
        .step(StepKind::Mass)
        .items()
        .map(|i| {
            let longest = survey
                .scale_of(i)
                .options
                .iter()
                .map(|o| o.id.len())
                .max()
                .unwrap_or(0);
            i.id.len() + longest + 6
        })
        .sum();
    seal::pad_sizes(items + 256 + 128, MAX_COMMENT_CHARS * 6 + 2)
}

/// Seals a checked submission for `unit` to the wave's public key. Returns the ciphertext
/// and the receipt code to show the respondent.
pub fn seal_sheet(
    wave_id: i32,
    public_key: &[u8],
    sizes: &[usize; 3],
    unit: &str,
    submission: &Submission,
) -> Result<(Vec<u8>, String), SealError> {
    let sheet = Sheet {
        unit: unit.to_owned(),
        answers: submission.answers.clone(),
        comment: submission.comment.clone(),
        nonce: token::random_id(),
    };
    let receipt = receipt_of(&sheet);
    let plain = Zeroizing::new(serde_json::to_vec(&sheet).expect("a sheet serializes"));
    let padded = seal::pad(&plain, sizes);
    Ok((
        seal::seal(public_key, &sheet_info(wave_id), &padded)?,
        receipt,
    ))
}

fn receipt_of(sheet: &Sheet) -> String {
    let answers = serde_json::to_string(&sheet.answers).expect("a map of strings serializes");
    token::receipt(&sheet.nonce, &answers)
}

/// The key ceremony, in the transaction that opens a wave: a fresh key pair in memory, its
/// private key split T-of-N, each share sealed to its holder's account key. Only the public
/// key and the sealed shares are stored; the private key and the plain shares are wiped when
/// this returns. Refused when a holder has no account key yet (they have not logged in since
/// accounts got keys), so a wave is never sealed to a key nobody can open.
pub fn seal_wave(conn: &mut DbConn, wave: &Wave) -> Result<(), WaveError> {
    let id = wave.id;
    let holders = holders::of_wave(conn, id)?;
    let Some(threshold) = wave.threshold.filter(|_| !holders.is_empty()) else {
        return Err(WaveError::refused(
            format!("批次 {id} 没有密钥保管人（创建于答卷加密之前），请新建批次并指定密钥保管人。"),
            format!(
                "wave {id} has no key holders (it was created before answers were sealed); \
                 create a new wave with --holders"
            ),
        ));
    };
    let without_key: Vec<&str> = holders
        .iter()
        .filter(|h| h.account_key.is_none())
        .map(|h| h.username.as_str())
        .collect();
    if !without_key.is_empty() {
        return Err(WaveError::refused(
            format!(
                "密钥保管人 {} 尚无账户密钥：每人须先登录一次，或核对一次密钥。",
                without_key.join("、")
            ),
            format!(
                "key holder(s) {} have no account key yet: each must log in once, or run \
                 `sanping wave check-key {id} --holder NAME`",
                without_key.join(", ")
            ),
        ));
    }
    let t = u8::try_from(threshold).map_err(|_| WaveError::Invalid("bad threshold".into()))?;
    let n =
        u8::try_from(holders.len()).map_err(|_| WaveError::Invalid("too many holders".into()))?;
    let key = SecretKey::generate();
    let public = key.public_key();
    let shares = seal::split(&key, t, n);
    drop(key);
    seal::check_split(&shares, t, &public)
        .map_err(|e| WaveError::Invalid(format!("the key split failed its check: {e}")))?;
    for (holder, share) in holders.iter().zip(&shares) {
        let account_key = holder.account_key.as_deref().unwrap_or_default();
        let sealed_share = seal::seal(account_key, &share_info(id, &holder.username), share)
            .map_err(|e| {
                WaveError::refused(
                    format!(
                        "密钥保管人 {} 的账号密钥无法使用（{e}）：请其重新登录一次后再试。",
                        holder.username
                    ),
                    format!("the account key of {} is {e}", holder.username),
                )
            })?;
        holders::set_share(conn, id, &holder.username, &sealed_share)?;
    }
    waves::set_public_key(conn, id, &public)?;
    sealed::create(conn, id)?;
    Ok(())
}

/// How ready a wave's key holders are: who has shown that their password unlocks their key,
/// against how many it takes to unseal. Opening a wave with fewer confirmed holders than
/// that risks answers nobody can ever read, so the CLI and the console both warn and ask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyReadiness {
    /// How many holders it takes to unseal.
    pub threshold: usize,
    /// The holders who checked their key.
    pub confirmed: Vec<String>,
    /// The holders who have not.
    pub unconfirmed: Vec<String>,
}

impl KeyReadiness {
    /// The readiness of a wave's holders.
    pub fn of(holders: &[holders::Holder], threshold: Option<i32>) -> Self {
        let (confirmed, unconfirmed): (Vec<_>, Vec<_>) =
            holders.iter().partition(|h| h.confirmed_at.is_some());
        let names = |v: Vec<&holders::Holder>| v.into_iter().map(|h| h.username.clone()).collect();
        Self {
            threshold: usize::try_from(threshold.unwrap_or(0)).unwrap_or(0),
            confirmed: names(confirmed),
            unconfirmed: names(unconfirmed),
        }
    }

    /// Reads the readiness of wave `id`.
    pub fn read(conn: &mut DbConn, id: i32) -> Result<Self, WaveError> {
        let wave = wave::get(conn, id)?;
        Ok(Self::of(&holders::of_wave(conn, id)?, wave.threshold))
    }

    /// Whether fewer holders checked their key than it takes to unseal.
    pub fn short(&self) -> bool {
        self.confirmed.len() < self.threshold
    }

    /// What the audit entry of an opening adds when fewer holders checked their key than
    /// it takes to unseal (the organizer went ahead anyway); empty otherwise. The console,
    /// the CLI and the API write the same.
    pub fn opening_note(&self) -> String {
        if !self.short() {
            return String::new();
        }
        format!(
            "; opened with {} of {} needed key holders checked ({} not)",
            self.confirmed.len(),
            self.threshold,
            self.unconfirmed.join(", ")
        )
    }

    /// How many holders the wave has.
    pub fn holders(&self) -> usize {
        self.confirmed.len() + self.unconfirmed.len()
    }
}

/// What a key check showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyCheck {
    /// Before the wave opens: the password unlocks the account key its share will be sealed to.
    AccountKey,
    /// After it opened: the password unlocks the holder's share of the wave's key.
    Share,
}

/// A holder shows that their password unlocks their key (and, once the wave is open, their
/// share). Recorded on the wave, audited; a wrong password is audited too.
pub fn check_key(
    conn: &mut DbConn,
    id: i32,
    username: &str,
    password: &str,
    actor: &str,
) -> Result<KeyCheck, WaveError> {
    let wave = wave::get(conn, id)?;
    let holder = holders::of_wave(conn, id)?
        .into_iter()
        .find(|h| h.username == username)
        .ok_or_else(|| {
            WaveError::refused(
                format!("{username} 不是批次 {id} 的密钥保管人。"),
                format!("{username} is not a key holder of wave {id}"),
            )
        })?;
    let outcome = auth::unlock(conn, username, password)
        .map_err(|e| key_error(e, id))
        .and_then(|key| match (&holder.share, wave.is_sealed()) {
            (Some(share), true) => open_share(&key, id, username, share).map(|_| KeyCheck::Share),
            _ => Ok(KeyCheck::AccountKey),
        });
    db::write_tx(conn, |conn| -> Result<(), WaveError> {
        match &outcome {
            Ok(_) => {
                holders::confirm(conn, id, username, Utc::now().naive_utc())?;
                auth::record(
                    conn,
                    actor,
                    "wave.check_key",
                    &format!("wave {id}: {username}"),
                )?;
            }
            Err(e) => auth::record(
                conn,
                actor,
                "wave.check_key.refused",
                &format!("wave {id}: {username}: {e}"),
            )?,
        }
        Ok(())
    })?;
    outcome
}

fn key_error(e: auth::KeyError, id: i32) -> WaveError {
    match e {
        auth::KeyError::Db(e) => WaveError::Db(e),
        auth::KeyError::WrongPassword(name) => WaveError::refused(
            format!("{name} 的口令不正确；批次 {id} 未做任何更改。"),
            format!("the password of {name} is wrong; nothing was changed in wave {id}"),
        ),
        other => WaveError::Invalid(other.to_string()),
    }
}

fn open_share(
    key: &SecretKey,
    id: i32,
    username: &str,
    sealed_share: &[u8],
) -> Result<Zeroizing<Vec<u8>>, WaveError> {
    seal::open(key, &share_info(id, username), sealed_share).map_err(|e| {
        WaveError::refused(
            format!("{username} 在批次 {id} 的密钥份额无法打开。"),
            format!("the key share of {username} for wave {id} does not open: {e}"),
        )
    })
}

/// A holder's name and password, as typed for unsealing.
pub struct HolderPassword {
    /// The account.
    pub username: String,
    /// Its password (wiped when dropped).
    pub password: Zeroizing<String>,
}

/// What unsealing did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsealed {
    /// Sheets opened and stored.
    pub sheets: usize,
    /// Sealed sheets that did not open or did not fit the survey (left out, counted here and
    /// in the audit log; `wave verify` shows the imbalance).
    pub rejected: usize,
    /// On SQLite, whether the file and its log were rewritten so no freed page keeps a
    /// ciphertext (false when another process kept the log busy; run `sanping wave unseal`
    /// again later or VACUUM by hand).
    pub scrubbed: bool,
}

/// 开箱: rebuilds the wave's key from the given holders' shares, opens every sealed sheet,
/// checks it against the survey, and in ONE transaction writes the sheets in random order
/// (no nonce, no link to a ciphertext), stores the receipt codes, drops the ciphertexts and
/// erases the shares. Fewer than T valid holders, or a wrong password: nothing changes and
/// the refusal is audited.
pub fn unseal(
    conn: &mut DbConn,
    id: i32,
    given: &[HolderPassword],
    actor: &str,
) -> Result<Unsealed, WaveError> {
    let wave = wave::get(conn, id)?;
    if State::parse(&wave.state) != State::Closed || !wave.is_sealed() {
        return Err(WaveError::refused(
            format!(
                "批次 {id} 当前为“{}”；只有已结束且答卷仍密封的批次才能开箱。",
                wave::state_label(&wave.state, wave.is_sealed())
            ),
            format!(
                "wave {id} is {}; only a closed wave whose answers are sealed can be unsealed",
                wave.state
            ),
        ));
    }
    let key = match rebuild_key(conn, &wave, given) {
        Ok(key) => key,
        Err(e) => {
            let names: Vec<&str> = given.iter().map(|g| g.username.as_str()).collect();
            db::write_tx(conn, |conn| {
                auth::record(
                    conn,
                    actor,
                    "wave.unseal.refused",
                    &format!("wave {id} by {}: {e}", names.join(", ")),
                )
            })?;
            return Err(e);
        }
    };
    if wave.is_people() {
        return people::unseal(conn, &wave, key, given, actor);
    }
    let survey = wave::survey_of(&wave)?;
    let units: HashSet<String> = waves::invitation_counts(conn, id)?
        .into_iter()
        .map(|(unit, _, _)| unit)
        .collect();
    let mut opened = Vec::new();
    let mut rejected = 0;
    // The next batch is read while the last one is opened.
    std::thread::scope(|scope| -> diesel::QueryResult<()> {
        let mut pending: Option<std::thread::ScopedJoinHandle<'_, Vec<Option<Opened>>>> = None;
        let mut collect = |handle: std::thread::ScopedJoinHandle<'_, Vec<Option<Opened>>>| {
            for result in handle.join().expect("a sheet opener panicked") {
                match result {
                    Some(sheet) => opened.push(sheet),
                    None => rejected += 1,
                }
            }
        };
        let (key, survey, units) = (&key, &survey, &units);
        sealed::for_each_batch(conn, id, 4096, |batch| {
            if let Some(handle) = pending.take() {
                collect(handle);
            }
            pending = Some(scope.spawn(move || open_batch(key, id, survey, units, &batch)));
        })?;
        if let Some(handle) = pending.take() {
            collect(handle);
        }
        Ok(())
    })?;
    drop(key);
    opened.shuffle(&mut rand::rng());
    let mut receipts: Vec<String> = opened.iter().map(|o| o.receipt.clone()).collect();
    receipts.sort();
    receipts.dedup();
    let mut rows: Vec<Response> = opened
        .into_iter()
        .map(|o| Response {
            id: token::random_id(),
            wave_id: id,
            unit: o.unit,
            answers: o.answers,
            comment: o.comment,
            is_test: wave.is_test,
        })
        .collect();
    // In the order of their fresh random ids: as random an order as the shuffle's, and the
    // index on `id` is appended to instead of inserted into all over (a million rows on
    // SQLite: 7 s instead of 27 s).
    rows.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    let sheets = rows.len();
    let holders_named: Vec<&str> = given.iter().map(|g| g.username.as_str()).collect();
    db::cache_size(conn, Some(128))?;
    let stored = db::write_tx(conn, |conn| -> Result<(), WaveError> {
        waves::hold_exclusive(conn, id)?;
        if waves::set_unsealed(conn, id, Utc::now().naive_utc())? != 1 {
            return Err(WaveError::unsealed_meanwhile(id));
        }
        waves::insert_responses(conn, &rows)?;
        sealed::insert_receipts(conn, id, &receipts)?;
        // Freed pages are not zeroed one by one (gigabytes of writes for a million sheets):
        // the scrub below rebuilds the file, so no freed page survives it.
        sealed::drop(conn, id)?;
        holders::erase_shares(conn, id)?;
        // Counted from the rows in hand: they are every response of the wave.
        let counts = crate::tally::store_sheets(
            conn,
            id,
            &survey,
            rows.iter().map(|r| (r.unit.as_str(), r.answers.as_str())),
        )?;
        crate::record::write(conn, id, &counts)?;
        auth::record(
            conn,
            actor,
            "wave.unseal",
            &format!(
                "wave {id} by {}: {sheets} sheet(s) opened, {rejected} rejected",
                holders_named.join(", ")
            ),
        )?;
        Ok(())
    });
    db::cache_size(conn, None)?;
    stored?;
    let scrubbed = db::scrub(conn)?;
    Ok(Unsealed {
        sheets,
        rejected,
        scrubbed,
    })
}

/// Opens the given holders' shares and rebuilds the wave's key from them.
fn rebuild_key(
    conn: &mut DbConn,
    wave: &Wave,
    given: &[HolderPassword],
) -> Result<SecretKey, WaveError> {
    let id = wave.id;
    let stored = holders::of_wave(conn, id)?;
    let threshold = wave.threshold.unwrap_or(1);
    let mut seen = HashSet::new();
    let mut shares = Vec::new();
    for g in given {
        if !seen.insert(g.username.as_str()) {
            return Err(WaveError::refused(
                format!("{} 被填写了两次。", g.username),
                format!("{} is named twice", g.username),
            ));
        }
        let Some(holder) = stored.iter().find(|h| h.username == g.username) else {
            return Err(WaveError::refused(
                format!("{} 不是批次 {id} 的密钥保管人。", g.username),
                format!("{} is not a key holder of wave {id}", g.username),
            ));
        };
        let Some(sealed_share) = holder.share.as_deref() else {
            // Another process unsealed the wave a moment ago and erased the shares.
            return Err(WaveError::unsealed_meanwhile(id));
        };
        let key = auth::unlock(conn, &g.username, &g.password).map_err(|e| key_error(e, id))?;
        shares.push(open_share(&key, id, &g.username, sealed_share)?);
    }
    let need = usize::try_from(threshold).unwrap_or(1);
    if shares.len() < need {
        return Err(WaveError::refused(
            format!(
                "批次 {id} 开箱需要 {need} 位密钥保管人；现有 {} 位输入了口令，未做任何更改。",
                shares.len()
            ),
            format!(
                "unsealing wave {id} needs {need} of its key holders; {} gave their password, nothing was changed",
                shares.len()
            ),
        ));
    }
    let public = wave.public_key.as_deref().unwrap_or_default();
    seal::combine(&shares, u8::try_from(threshold).unwrap_or(1), public).map_err(|e| {
        WaveError::refused(
            format!("批次 {id} 的密钥无法重建；未做任何更改。"),
            format!("wave {id}: {e}; nothing was changed"),
        )
    })
}

/// One opened sheet, ready to store.
struct Opened {
    unit: String,
    answers: String,
    comment: Option<String>,
    receipt: String,
}

/// Opens a batch of sealed sheets on every core. `None` for a sheet that does not open,
/// does not parse, names a unit the wave did not invite, or does not fit the survey.
fn open_batch(
    key: &SecretKey,
    id: i32,
    survey: &Survey,
    units: &HashSet<String>,
    batch: &[Vec<u8>],
) -> Vec<Option<Opened>> {
    let info = sheet_info(id);
    let open_one = |sealed_sheet: &Vec<u8>| -> Option<Opened> {
        let padded = seal::open(key, &info, sealed_sheet).ok()?;
        let sheet: Sheet = serde_json::from_slice(seal::unpad(&padded).ok()?).ok()?;
        if !units.contains(&sheet.unit) {
            return None;
        }
        let mut fields: Vec<(String, String)> = sheet
            .answers
            .iter()
            .map(|(item, choice)| (answers::field_name(item), choice.clone()))
            .collect();
        if let Some(c) = &sheet.comment {
            fields.push(("comment".to_owned(), c.clone()));
        }
        let checked = answers::check(survey, survey.step(StepKind::Mass), &fields).ok()?;
        Some(Opened {
            receipt: receipt_of(&sheet),
            answers: serde_json::to_string(&checked.answers).ok()?,
            comment: checked.comment,
            unit: sheet.unit,
        })
    };
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let chunk = batch.len().div_ceil(workers).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = batch
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(open_one).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a sheet opener panicked"))
            .collect()
    })
}
