-- Tokens a reminder or a retried delivery replaced: only the hash of the old token, its wave
-- and when the newer link was minted, so an old link can say it was replaced and when,
-- instead of "this link does not exist". No raw token, no person, no invitation.
CREATE TABLE retired_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    wave_id INTEGER NOT NULL REFERENCES waves (id),
    retired_at TIMESTAMP NOT NULL
);
CREATE INDEX retired_tokens_wave ON retired_tokens (wave_id);
