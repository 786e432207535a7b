-- The durable outbox: a mail is queued in the same transaction that creates its reason and
-- delivered by a worker with retries. It never holds a token: the worker mints one at send
-- time and stores only its hash on the invitation.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY NOT NULL,
    wave_id INTEGER NOT NULL REFERENCES waves (id),
    invitation_id TEXT NOT NULL REFERENCES invitations (id),
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_wave ON outbox (wave_id, state);
CREATE INDEX outbox_invitation ON outbox (invitation_id);

-- How many reminders an invitation has had (a limit per invitation).
ALTER TABLE invitations ADD COLUMN reminders INTEGER NOT NULL DEFAULT 0;
