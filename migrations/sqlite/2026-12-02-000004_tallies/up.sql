-- A closed wave's answers counted once, when it closes: a report reads these few thousand
-- rows instead of every response. The raw responses stay; `wave verify` recounts them and
-- compares. Only counts per unit are kept, never anything about one response.
CREATE TABLE tallies (
    wave_id INTEGER NOT NULL REFERENCES waves (id),
    unit TEXT NOT NULL,
    item TEXT NOT NULL,
    choice TEXT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (wave_id, unit, item, choice)
);

-- Per unit of a closed wave: mass invitations issued and answer sheets stored.
CREATE TABLE unit_totals (
    wave_id INTEGER NOT NULL REFERENCES waves (id),
    unit TEXT NOT NULL,
    invited BIGINT NOT NULL,
    responses BIGINT NOT NULL,
    PRIMARY KEY (wave_id, unit)
);

-- The report reads the comments of a wave without scanning every answer sheet.
CREATE INDEX responses_comments ON responses (wave_id) WHERE comment IS NOT NULL;
