-- Self-assessments (one per unit, scorer '') and committee scores (one per unit and member,
-- scorer = the member's address). Not anonymous: they belong to a unit or a committee member.
CREATE TABLE assessments (
    id TEXT PRIMARY KEY NOT NULL,
    wave_id INTEGER NOT NULL REFERENCES waves (id),
    unit TEXT NOT NULL REFERENCES units (code),
    step TEXT NOT NULL,
    scorer TEXT NOT NULL,
    answers TEXT NOT NULL,
    evidence TEXT NOT NULL,
    submitted BOOLEAN NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX assessments_key ON assessments (wave_id, unit, step, scorer);
