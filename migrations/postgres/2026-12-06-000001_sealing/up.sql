-- Sealed answers. While a wave is open its answer sheets are stored only encrypted to the
-- wave's public key, in a table of their own (sealed_<wave id>, made when the wave opens and
-- dropped when it is unsealed). The private key is split among the wave's key holders;
-- each share is encrypted to the holder's account key, whose private half is stored only
-- encrypted under a key derived from the account's password.

-- An account's key pair: the public half, and the private half encrypted (salt, nonce + ciphertext).
ALTER TABLE users ADD COLUMN public_key BYTEA;
ALTER TABLE users ADD COLUMN key_salt BYTEA;
ALTER TABLE users ADD COLUMN sealed_key BYTEA;

-- How many holders it takes to unseal (NULL: a wave from before sealing, stored in the clear),
-- the wave's public key (set when it opens) and when its answers were unsealed.
ALTER TABLE waves ADD COLUMN threshold INTEGER;
ALTER TABLE waves ADD COLUMN public_key BYTEA;
ALTER TABLE waves ADD COLUMN unsealed_at TIMESTAMP;

-- The key holders of a wave, named when it is created. `share` is the holder's share of the
-- wave's private key encrypted to their account key: set when the wave opens, erased when it
-- is unsealed. `confirmed_at`: when the holder last showed that their password unlocks it.
CREATE TABLE wave_holders (
    wave_id INTEGER NOT NULL REFERENCES waves (id),
    username TEXT NOT NULL REFERENCES users (username),
    share BYTEA,
    confirmed_at TIMESTAMP,
    PRIMARY KEY (wave_id, username)
);

-- The receipt codes of an unsealed wave, computed from the opened sheets (which keep no
-- nonce, so a code cannot be mapped back to its sheet).
CREATE TABLE receipts (
    wave_id INTEGER NOT NULL REFERENCES waves (id),
    code TEXT NOT NULL,
    PRIMARY KEY (wave_id, code)
);

-- A sheet carries no time at all.
ALTER TABLE responses DROP COLUMN day;
