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

#[cfg(test)]
mod tests {
    use super::*;

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
