//! The secret that signs session cookies: where it comes from and what is good enough.
//!
//! It is never kept in the database, so whoever can read the database (a dump, a backup, a
//! read-only account) still cannot sign a session. `SANPING_SECRET` wins when set. Otherwise,
//! on SQLite, a random key is made once and kept in a file next to the database file
//! (`sanping.db` → `sanping.db.key`, mode 0600); PostgreSQL has no file of its own, so there
//! `SANPING_SECRET` is required.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::config::Config;
use crate::db::DbTarget;
use crate::domain::token;

/// Fewest characters a secret may have.
pub const MIN_LEN: usize = 32;
/// Fewest distinct characters a secret may have. 32 random hex digits show about 14 of the 16;
/// fewer than 10 means a repeated pattern, not a random string.
pub const MIN_DISTINCT: usize = 10;

/// Refuses a secret that is too short or plainly not random: under [`MIN_LEN`] characters,
/// under [`MIN_DISTINCT`] distinct ones, or all of one class (only lower-case letters, only
/// upper-case letters, only digits or only other characters).
pub fn check(secret: &str, name: &str) -> anyhow::Result<()> {
    let hint = "make one with `openssl rand -base64 48`";
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() < MIN_LEN {
        bail!(
            "{name} must be at least {MIN_LEN} characters long (it has {}); {hint}",
            chars.len()
        );
    }
    let mut distinct = chars.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < MIN_DISTINCT {
        bail!(
            "{name} is too regular: it has {} distinct characters, at least {MIN_DISTINCT} are \
             needed; {hint}",
            distinct.len()
        );
    }
    let class = |c: &char| {
        if c.is_ascii_lowercase() {
            0
        } else if c.is_ascii_uppercase() {
            1
        } else if c.is_ascii_digit() {
            2
        } else {
            3
        }
    };
    let first = class(&chars[0]);
    if chars.iter().all(|c| class(c) == first) {
        bail!(
            "{name} is made of one kind of character only (all lower-case, all upper-case, all \
             digits or all symbols); mix them, or {hint}"
        );
    }
    Ok(())
}

/// The key file of a SQLite database: the database path with `.key` appended.
pub fn key_file(sqlite_path: &str) -> PathBuf {
    PathBuf::from(format!("{sqlite_path}.key"))
}

/// The cookie secret for this configuration: `SANPING_SECRET`, else (SQLite) the key file,
/// made on first use; PostgreSQL without `SANPING_SECRET` is refused.
pub fn load(config: &Config) -> anyhow::Result<String> {
    if let Some(secret) = &config.secret {
        check(secret, "SANPING_SECRET")?;
        return Ok(secret.clone());
    }
    match &config.database {
        DbTarget::Postgres(_) => bail!(
            "SANPING_SECRET is not set. With PostgreSQL it is required: the key that signs \
             session cookies is never kept in the database, and there is no local file to keep \
             it in. Set SANPING_SECRET to a random string of at least {MIN_LEN} characters \
             (`openssl rand -base64 48`), the same for every server process"
        ),
        DbTarget::Sqlite(path) => read_or_make(&key_file(path)),
    }
}

/// Reads the key file, or makes it: written under a temporary name with mode 0600 and then
/// linked into place, which fails if it exists, so of two processes starting at once one
/// key wins and both read it whole.
fn read_or_make(path: &Path) -> anyhow::Result<String> {
    if !path.exists() {
        let tmp = path.with_extension(format!("key.{}", token::random_id()));
        let secret = format!("{}{}", token::random_id(), token::random_id());
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let written = opts
            .open(&tmp)
            .and_then(|mut f| f.write_all(secret.as_bytes()).and_then(|()| f.sync_all()));
        let linked = written.and_then(|()| std::fs::hard_link(&tmp, path));
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => return Ok(secret),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(e).with_context(|| {
                    format!(
                        "cannot write the cookie key file {} (or set SANPING_SECRET)",
                        path.display()
                    )
                });
            }
        }
    }
    warn_if_readable_by_others(path);
    let secret = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the cookie key file {}", path.display()))?;
    let secret = secret.trim().to_owned();
    check(&secret, &format!("the cookie key file {}", path.display()))?;
    Ok(secret)
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            file = %path.display(),
            "the cookie key file is readable by other users; `chmod 600` it"
        );
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_: &Path) {}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn short_regular_or_one_class_secrets_are_refused() {
        assert!(check("short-but-mixed-1A", "S").is_err());
        assert!(check(&"s".repeat(40), "S").is_err());
        assert!(check(&"abcd1234".repeat(5), "S").is_err(), "8 distinct");
        assert!(check("abcdefghijklmnopqrstuvwxyzabcdefgh", "S").is_err());
        assert!(check("12345678901234567890123456789012", "S").is_err());
    }

    #[test]
    fn random_secrets_pass() {
        for _ in 0..200 {
            let hex = crate::domain::token::random_id();
            assert!(check(&hex, "S").is_ok(), "{hex}");
        }
        assert!(check("q7Vd9+e2LmR0xZs4/kT1bWc8NfYh3GpA", "S").is_ok());
    }
}
