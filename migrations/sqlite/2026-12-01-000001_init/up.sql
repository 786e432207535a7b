-- Settings the instance keeps for itself (e.g. the generated cookie secret).
CREATE TABLE settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

-- The unit tree (校党委 → 党总支 / 直属党支部 → 党支部), keyed by the organizer's code.
CREATE TABLE units (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    parent TEXT REFERENCES units (code)
);

-- The roster. `roles` is a ';'-separated sorted list (member, secretary, committee).
CREATE TABLE people (
    email TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    unit TEXT NOT NULL REFERENCES units (code),
    category TEXT NOT NULL,
    roles TEXT NOT NULL
);

-- An evaluation wave. `survey` is the survey file's content, copied at creation, so a later
-- edit of the file changes no existing wave; `fingerprint` is its sha256.
CREATE TABLE waves (
    id INTEGER PRIMARY KEY NOT NULL,
    title TEXT NOT NULL,
    survey TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    scope TEXT REFERENCES units (code),
    state TEXT NOT NULL,
    is_test BOOLEAN NOT NULL,
    closes_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    opened_at TIMESTAMP,
    closed_at TIMESTAMP,
    published_at TIMESTAMP
);

-- One invitation per (person, target unit, step); `person` is NULL for printed slips.
-- It records only *that* it was used: no time, no response reference.
CREATE TABLE invitations (
    id TEXT PRIMARY KEY NOT NULL,
    wave_id INTEGER NOT NULL REFERENCES waves (id),
    person TEXT REFERENCES people (email),
    unit TEXT NOT NULL REFERENCES units (code),
    step TEXT NOT NULL,
    token_hash TEXT UNIQUE,
    used BOOLEAN NOT NULL
);
CREATE UNIQUE INDEX invitations_person_target ON invitations (wave_id, person, unit, step);
CREATE INDEX invitations_wave_unit ON invitations (wave_id, unit);

-- An anonymous answer sheet: no person, token, invitation, IP or time of day. Keyed by a
-- random id in a WITHOUT ROWID table, so the B-tree order is random, not insertion order.
CREATE TABLE responses (
    id TEXT PRIMARY KEY NOT NULL,
    wave_id INTEGER NOT NULL REFERENCES waves (id),
    unit TEXT NOT NULL REFERENCES units (code),
    day DATE NOT NULL,
    answers TEXT NOT NULL,
    comment TEXT,
    is_test BOOLEAN NOT NULL
) WITHOUT ROWID;
CREATE INDEX responses_wave_unit ON responses (wave_id, unit);
