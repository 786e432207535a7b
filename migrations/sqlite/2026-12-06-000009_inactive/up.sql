-- Units and people taken out of use (停用): kept for history — old waves' frames, the audit
-- log and re-imports still know them — but left out of every wave created or opened since.
-- kind is 'unit' or 'person'; key is the unit's code or the person's address.
CREATE TABLE inactive (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    since TIMESTAMP NOT NULL,
    PRIMARY KEY (kind, key)
);
