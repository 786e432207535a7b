//! Sealed answers: the cryptography that keeps a wave's answers unreadable to whoever reads
//! the database, and lets only T of the wave's N key holders read them after it closes.
//!
//! - **Sheets** are sealed to the wave's X25519 public key with HPKE (RFC 9180, base mode:
//!   DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305), from the `hpke` crate: a
//!   fresh ephemeral key per sheet, so two sheets share nothing, and the `info` binds a sheet
//!   to its wave. Sheets are padded to one of three sizes first, so a ciphertext's length
//!   does not tell how long its comment is.
//! - **The wave's private key** is split T-of-N with Shamir's scheme over GF(256), from
//!   `blahaj` (a maintained fork of `sharks`). Chosen over `vsss-rs` because a 32-byte
//!   secret needs no elliptic-curve field arithmetic, its shares wipe themselves on drop,
//!   and it brings nothing new into the build (it uses `rand` 0.10, as we do).
//! - **Each share** is sealed (HPKE again) to its holder's *account key*: an X25519 pair per
//!   account whose private half is stored only encrypted, with ChaCha20-Poly1305 under a key
//!   derived from the account's password by Argon2id (default parameters, its own salt).
//!
//! Every secret here lives in a [`Zeroizing`] buffer, wiped when dropped; none is ever
//! formatted (no `Debug` on secret types).

use hpke::{Deserializable as _, Kem as _, OpModeR, OpModeS, Serializable as _};
use rand::Rng as _;
use zeroize::Zeroizing;

type Kem = hpke::kem::X25519HkdfSha256;
type Kdf = hpke::kdf::HkdfSha256;
type Aead = hpke::aead::ChaCha20Poly1305;

/// Bytes of an X25519 key, public or private.
pub const KEY_LEN: usize = 32;
/// Bytes HPKE adds to what it seals: the encapsulated key and the AEAD tag.
pub const OVERHEAD: usize = 32 + 16;
/// Bytes of the length prefix that padding adds.
const LEN_PREFIX: usize = 4;
/// The size every padded sheet is rounded to: small enough that a sheet without a long
/// comment (about 1.8 KB sealed for an 18-item survey) shares a 4 KiB database page with
/// another, which halves what a million sheets take on disk.
const PAD_UNIT: usize = 256;

/// Why something could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The key does not open it, or it was changed.
    #[error("this key does not open it (wrong key, or the data was changed)")]
    Open,
    /// The password does not unlock the account key.
    #[error("wrong password")]
    WrongPassword,
    /// Fewer shares than the threshold.
    #[error("{have} key share(s) given, {need} needed")]
    TooFewShares {
        /// Distinct shares given.
        have: usize,
        /// The threshold.
        need: usize,
    },
    /// The shares combine to a key that is not the wave's.
    #[error("the key shares do not rebuild the wave's key")]
    WrongShares,
    /// Stored bytes of the wrong shape.
    #[error("malformed {0}")]
    Malformed(&'static str),
}

/// An X25519 private key, wiped when dropped.
pub struct SecretKey(Zeroizing<[u8; KEY_LEN]>);

impl SecretKey {
    /// A fresh key from the operating system's CSPRNG (any 32 bytes are a key: X25519
    /// clamps them).
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        rand::rng().fill_bytes(bytes.as_mut());
        Self(bytes)
    }

    /// A key from its 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SealError> {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        if bytes.len() != KEY_LEN {
            return Err(SealError::Malformed("private key"));
        }
        key.copy_from_slice(bytes);
        Ok(Self(key))
    }

    /// The matching public key.
    pub fn public_key(&self) -> [u8; KEY_LEN] {
        let pk = Kem::sk_to_pk(&self.hpke());
        let mut out = [0u8; KEY_LEN];
        out.copy_from_slice(&pk.to_bytes());
        out
    }

    fn hpke(&self) -> <Kem as hpke::Kem>::PrivateKey {
        <Kem as hpke::Kem>::PrivateKey::from_bytes(self.0.as_ref()).expect("32 bytes are a key")
    }
}

/// Seals `plaintext` to `public_key`; `info` names what it is for (a ciphertext opens only
/// with the same `info`). The result is the encapsulated key followed by the ciphertext.
pub fn seal(public_key: &[u8], info: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
    let pk = <Kem as hpke::Kem>::PublicKey::from_bytes(public_key)
        .map_err(|_| SealError::Malformed("public key"))?;
    let (encapped, ciphertext) =
        hpke::single_shot_seal::<Aead, Kdf, Kem>(&OpModeS::Base, &pk, info, plaintext, b"")
            .map_err(|_| SealError::Malformed("public key"))?;
    let mut out = Vec::with_capacity(OVERHEAD + plaintext.len());
    out.extend_from_slice(&encapped.to_bytes());
    out.extend_from_slice(&ciphertext);
    Ok(out)
}

/// Opens what [`seal`] made, with the private key and the same `info`.
pub fn open(key: &SecretKey, info: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
    if sealed.len() < OVERHEAD {
        return Err(SealError::Malformed("sealed data"));
    }
    let (encapped, ciphertext) = sealed.split_at(KEY_LEN);
    let encapped = <Kem as hpke::Kem>::EncappedKey::from_bytes(encapped)
        .map_err(|_| SealError::Malformed("sealed data"))?;
    hpke::single_shot_open::<Aead, Kdf, Kem>(
        &OpModeR::Base,
        &key.hpke(),
        &encapped,
        info,
        ciphertext,
        b"",
    )
    .map(Zeroizing::new)
    .map_err(|_| SealError::Open)
}

/// The three padded sizes for sheets of at most `base` bytes without a comment and at most
/// `comment_bound` bytes of comment: a short comment, a medium one, the longest possible.
pub fn pad_sizes(base: usize, comment_bound: usize) -> [usize; 3] {
    let round = |n: usize| (n + LEN_PREFIX).div_ceil(PAD_UNIT) * PAD_UNIT;
    [
        round(base + comment_bound / 16),
        round(base + comment_bound / 4),
        round(base + comment_bound),
    ]
}

/// Pads `plain` (with its length in front) to the smallest of `sizes` it fits, so that only
/// three lengths ever reach the database. Something larger than every size (which a checked
/// sheet never is) is rounded up to whole kilobytes.
pub fn pad(plain: &[u8], sizes: &[usize; 3]) -> Zeroizing<Vec<u8>> {
    let need = plain.len() + LEN_PREFIX;
    let size = sizes
        .iter()
        .copied()
        .find(|&s| s >= need)
        .unwrap_or_else(|| need.div_ceil(PAD_UNIT) * PAD_UNIT);
    let mut out = Zeroizing::new(Vec::with_capacity(size));
    let len = u32::try_from(plain.len()).expect("a sheet is far below 4 GB");
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(plain);
    out.resize(size, 0);
    out
}

/// The content of a [`pad`]ded buffer.
pub fn unpad(padded: &[u8]) -> Result<&[u8], SealError> {
    let (len, rest) = padded
        .split_first_chunk::<LEN_PREFIX>()
        .ok_or(SealError::Malformed("padding"))?;
    let len = u32::from_be_bytes(*len) as usize;
    rest.get(..len).ok_or(SealError::Malformed("padding"))
}

/// An account's private key as stored: encrypted under a key derived from the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    /// The Argon2id salt (16 random bytes, new each time the key is wrapped).
    pub salt: Vec<u8>,
    /// The ChaCha20-Poly1305 nonce (12 bytes) followed by the encrypted key and its tag.
    pub sealed: Vec<u8>,
}

/// The key-encryption key: Argon2id (the crate's default parameters) over the password.
fn key_from_password(password: &str, salt: &[u8]) -> Result<Zeroizing<[u8; KEY_LEN]>, SealError> {
    let mut out = Zeroizing::new([0u8; KEY_LEN]);
    argon2::Argon2::default()
        .hash_password_into(password.as_bytes(), salt, out.as_mut())
        .map_err(|_| SealError::Malformed("salt"))?;
    Ok(out)
}

fn cipher(kek: &[u8; KEY_LEN]) -> chacha20poly1305::ChaCha20Poly1305 {
    use chacha20poly1305::KeyInit as _;
    chacha20poly1305::ChaCha20Poly1305::new(&(*kek).into())
}

/// Encrypts an account's private key under its password, with a fresh salt and nonce.
pub fn wrap(key: &SecretKey, password: &str) -> WrappedKey {
    use chacha20poly1305::aead::Aead as _;
    let mut salt = vec![0u8; 16];
    let mut nonce = [0u8; 12];
    rand::rng().fill_bytes(&mut salt);
    rand::rng().fill_bytes(&mut nonce);
    let kek = key_from_password(password, &salt).expect("a 16-byte salt is valid");
    let ciphertext = cipher(&kek)
        .encrypt(&nonce.into(), key.0.as_ref())
        .expect("encrypting 32 bytes cannot fail");
    let mut sealed = nonce.to_vec();
    sealed.extend_from_slice(&ciphertext);
    WrappedKey { salt, sealed }
}

/// Decrypts an account's private key with its password.
pub fn unwrap(wrapped: &WrappedKey, password: &str) -> Result<SecretKey, SealError> {
    use chacha20poly1305::aead::Aead as _;
    let (nonce, ciphertext) = wrapped
        .sealed
        .split_first_chunk::<12>()
        .ok_or(SealError::Malformed("account key"))?;
    let kek = key_from_password(password, &wrapped.salt)?;
    let plain = Zeroizing::new(
        cipher(&kek)
            .decrypt(&(*nonce).into(), ciphertext)
            .map_err(|_| SealError::WrongPassword)?,
    );
    SecretKey::from_bytes(&plain)
}

/// The key of a rater's draft: SHA-256 over a label and the raw token. The database holds
/// only `sha256(token)` (a different input), so whoever reads it cannot derive this key;
/// only the holder of the link can read their draft back.
fn draft_key(token: &str) -> Zeroizing<[u8; KEY_LEN]> {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    h.update(b"sanping draft key v1\0");
    h.update(token.as_bytes());
    let mut out = Zeroizing::new([0u8; KEY_LEN]);
    out.copy_from_slice(&h.finalize());
    out
}

/// Encrypts a draft under a key derived from the raw token (see [`draft_key`]).
pub fn lock_draft(token: &str, plain: &[u8]) -> Vec<u8> {
    use chacha20poly1305::aead::Aead as _;
    let mut nonce = [0u8; 12];
    rand::rng().fill_bytes(&mut nonce);
    let ciphertext = cipher(&draft_key(token))
        .encrypt(&nonce.into(), plain)
        .expect("encrypting a draft cannot fail");
    let mut sealed = nonce.to_vec();
    sealed.extend_from_slice(&ciphertext);
    sealed
}

/// Decrypts a draft [`lock_draft`] made with the same token.
pub fn unlock_draft(token: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
    use chacha20poly1305::aead::Aead as _;
    let (nonce, ciphertext) = sealed
        .split_first_chunk::<12>()
        .ok_or(SealError::Malformed("draft"))?;
    cipher(&draft_key(token))
        .decrypt(&(*nonce).into(), ciphertext)
        .map(Zeroizing::new)
        .map_err(|_| SealError::Open)
}

/// Splits a private key into `n` shares of which any `threshold` rebuild it. Each share is
/// its x-coordinate followed by 32 bytes.
pub fn split(key: &SecretKey, threshold: u8, n: u8) -> Vec<Zeroizing<Vec<u8>>> {
    blahaj::Sharks(threshold)
        .dealer(key.0.as_ref())
        .take(usize::from(n))
        .map(|share| Zeroizing::new(Vec::from(&share)))
        .collect()
}

/// Rebuilds a private key from at least `threshold` distinct shares and checks it against
/// the public key it must match.
pub fn combine(
    shares: &[Zeroizing<Vec<u8>>],
    threshold: u8,
    public_key: &[u8],
) -> Result<SecretKey, SealError> {
    let parsed = shares
        .iter()
        .map(|s| blahaj::Share::try_from(s.as_slice()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| SealError::Malformed("key share"))?;
    let mut xs: Vec<u8> = parsed.iter().map(|s| s.x.0).collect();
    xs.sort_unstable();
    xs.dedup();
    if xs.len() < usize::from(threshold) {
        return Err(SealError::TooFewShares {
            have: xs.len(),
            need: usize::from(threshold),
        });
    }
    let secret = Zeroizing::new(
        blahaj::Sharks(threshold)
            .recover(&parsed)
            .map_err(|_| SealError::Malformed("key share"))?,
    );
    let key = SecretKey::from_bytes(&secret)?;
    if key.public_key().as_slice() == public_key {
        Ok(key)
    } else {
        Err(SealError::WrongShares)
    }
}

/// Checks that every choice of `threshold` of `shares` rebuilds the key (at most a few
/// hundred choices; past that a sample of them), so a wave is never sealed to shares that
/// cannot open it.
pub fn check_split(
    shares: &[Zeroizing<Vec<u8>>],
    threshold: u8,
    public_key: &[u8],
) -> Result<(), SealError> {
    let t = usize::from(threshold);
    let mut chosen: Vec<usize> = (0..t).collect();
    for _ in 0..512 {
        let pick: Vec<Zeroizing<Vec<u8>>> = chosen.iter().map(|&i| shares[i].clone()).collect();
        combine(&pick, threshold, public_key)?;
        // The next choice in lexicographic order, or stop after the last.
        let Some(i) = (0..t).rev().find(|&i| chosen[i] < shares.len() - t + i) else {
            return Ok(());
        };
        chosen[i] += 1;
        for j in i + 1..t {
            chosen[j] = chosen[j - 1] + 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
