-- Revocable sessions: a session cookie names its account and the account's epoch when it was
-- made; logging out, a new password or role, and disabling an account bump the epoch, which
-- ends every session of the account on every server process at its next request.
ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
-- A disabled account cannot log in and has no sessions (`sanping admin disable`).
ALTER TABLE users ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT 0;

-- The cookie key is no longer kept in the database (whoever could read it could sign a
-- session): it comes from SANPING_SECRET or a key file next to the SQLite file.
DELETE FROM settings WHERE key = 'cookie_secret';
