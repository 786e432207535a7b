//! One-time tokens: minted from a CSPRNG (`rand`'s thread RNG, seeded from the OS), stored only as a sha256 hash.
//!
//! A token is 130 random bits written as 26 lowercase base32 letters and digits: URL-safe,
//! case-insensitive and free of look-alike symbols, so it can also be typed from a printed
//! slip. The database only ever sees [`hash`] of the normalized token.

use rand::Rng as _;
use sha2::{Digest, Sha256};

/// Length of a token in characters.
pub const TOKEN_LEN: usize = 26;

const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// Mints a fresh token (130 bits from the CSPRNG).
pub fn mint() -> String {
    let mut bytes = [0u8; TOKEN_LEN];
    // ThreadRng is a ChaCha CSPRNG seeded (and periodically reseeded) from the OS.
    rand::rng().fill_bytes(&mut bytes);
    bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
        .collect()
}

/// Normalizes what a person typed or a URL carried: lowercase, without spaces or dashes.
/// Returns `None` when it cannot be a token, so lookups of garbage never reach the database.
pub fn normalize(raw: &str) -> Option<String> {
    let token: String = raw
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let ok = token.len() == TOKEN_LEN && token.bytes().all(|b| ALPHABET.contains(&b));
    ok.then_some(token)
}

/// The hash stored in place of the token: lowercase hex of sha256.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A token in groups of four for printing (`abcd-efgh-…`).
pub fn grouped(token: &str) -> String {
    token
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// A random identifier (128 bits, hex) for rows that must not reveal insertion order.
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    // ThreadRng is a ChaCha CSPRNG seeded (and periodically reseeded) from the OS.
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The receipt code of a stored response: the first 50 bits of sha256 over its random id
/// and its answers, as two groups of five base32 characters (`ABCDE-FGHJK`). It can be
/// recomputed from the response alone, so nothing extra is stored, and it reveals nothing
/// about the answers.
pub fn receipt(response_id: &str, answers: &str) -> String {
    let mut h = Sha256::new();
    h.update(response_id.as_bytes());
    h.update(b"\n");
    h.update(answers.as_bytes());
    let digest = h.finalize();
    let mut bits = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    let mut out = String::with_capacity(11);
    for i in 0..10 {
        if i == 5 {
            out.push('-');
        }
        out.push(char::from(
            ALPHABET[(bits >> 59) as usize].to_ascii_uppercase(),
        ));
        bits <<= 5;
    }
    out
}

/// Normalizes a typed receipt code to the printed form, or `None` if it cannot be one.
pub fn normalize_receipt(raw: &str) -> Option<String> {
    let clean: String = raw
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if clean.len() != 10 || !clean.bytes().all(|b| ALPHABET.contains(&b)) {
        return None;
    }
    let upper = clean.to_ascii_uppercase();
    Some(format!("{}-{}", &upper[..5], &upper[5..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipts_are_stable_short_and_depend_on_the_response() {
        let a = receipt("id1", "{\"m1\":\"s\"}");
        assert_eq!(a, receipt("id1", "{\"m1\":\"s\"}"));
        assert_ne!(a, receipt("id2", "{\"m1\":\"s\"}"));
        assert_eq!(a.len(), 11);
        assert_eq!(
            normalize_receipt(&a.to_lowercase().replace('-', "")),
            Some(a)
        );
        assert_eq!(normalize_receipt("nope"), None);
    }

    #[test]
    fn minted_tokens_are_url_safe_distinct_and_normalize_to_themselves() {
        let a = mint();
        let b = mint();
        assert_ne!(a, b);
        assert_eq!(a.len(), TOKEN_LEN);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        );
        assert_eq!(normalize(&a).as_deref(), Some(a.as_str()));
        assert_eq!(
            normalize(&grouped(&a).to_uppercase()).as_deref(),
            Some(a.as_str())
        );
    }

    #[test]
    fn garbage_is_not_a_token() {
        assert_eq!(normalize("short"), None);
        assert_eq!(normalize(&"0".repeat(TOKEN_LEN)), None);
        assert_eq!(normalize(&format!("{}é", "a".repeat(TOKEN_LEN - 1))), None);
    }

    #[test]
    fn hash_is_sha256_hex() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
