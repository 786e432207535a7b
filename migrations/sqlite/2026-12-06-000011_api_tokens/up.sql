-- API tokens (`Authorization: Bearer …` on /api/v1): one account may hold several. Only the
-- sha256 of a token is stored; the token itself is shown once, when it is made. A token acts
-- as its account: role, scope and whether it is disabled are read from `users` on every
-- request. Revoked tokens are kept (revoked_at set) so the console and the audit log can
-- still name them. The rate limit is counted here, in a fixed window of 60 s
-- (window_start, unix seconds; window_count requests so far), so that every server process
-- on one database shares it.
CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL REFERENCES users (username),
    label TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP,
    per_minute INTEGER NOT NULL,
    window_start BIGINT NOT NULL,
    window_count INTEGER NOT NULL
);
CREATE INDEX api_tokens_username ON api_tokens (username);
