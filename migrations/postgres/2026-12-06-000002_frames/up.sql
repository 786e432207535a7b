-- A wave's frame, frozen when it opens: the units it evaluates as they were then (code,
-- name, kind, parent). Reports, roll-ups, ranks and exports of the wave read these rows, so
-- a later import of units changes later waves only. (Who was invited is in `invitations`.)
CREATE TABLE wave_units (
    wave_id INTEGER NOT NULL REFERENCES waves (id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    parent TEXT,
    PRIMARY KEY (wave_id, code)
);

-- A wave's record, written once when its results are final: a canonical JSON summary
-- (survey fingerprint, frame hash, counts per unit, hashes of the tallies and the receipts,
-- the previous record's hash) and its sha256. One chain per installation, in `seq` order.
CREATE TABLE wave_records (
    wave_id INTEGER PRIMARY KEY NOT NULL REFERENCES waves (id),
    seq INTEGER NOT NULL UNIQUE,
    body TEXT NOT NULL,
    hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
