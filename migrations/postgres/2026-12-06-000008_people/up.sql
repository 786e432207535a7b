-- 民主评议: waves that evaluate people (see docs/survey-format.md, kind = "people").

-- What a wave evaluates: 'units' (the three steps) or 'people' (民主评议), from its survey.
ALTER TABLE waves ADD COLUMN kind TEXT NOT NULL DEFAULT 'units';

-- Who a people wave rates, frozen when it opens: one row per rated person (person = their
-- address) or leadership team (person = 'team:' || unit code), with the name and unit then.
CREATE TABLE wave_people (
    wave_id INTEGER NOT NULL REFERENCES waves (id),
    person TEXT NOT NULL,
    name TEXT NOT NULL,
    unit TEXT NOT NULL,
    PRIMARY KEY (wave_id, person)
);
-- Each rating sheet reads the rated people of its rater's unit.
CREATE INDEX wave_people_unit ON wave_people (wave_id, unit);

-- Ratings counted per rated person, item and option, written by 开箱 (unsealing) only. No
-- rating sheet is ever stored in the clear: a sheet lists everyone of a unit but its rater,
-- so it would name its rater.
CREATE TABLE person_tallies (
    wave_id INTEGER NOT NULL REFERENCES waves (id),
    person TEXT NOT NULL,
    item TEXT NOT NULL,
    choice TEXT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (wave_id, person, item, choice)
);

-- Reasons raters gave with a low grade, kept per rated person under random ids (so in no
-- order of submission), and only for people rated by at least k raters.
CREATE TABLE person_reasons (
    wave_id INTEGER NOT NULL REFERENCES waves (id),
    person TEXT NOT NULL,
    id TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (wave_id, person, id)
);

-- 个人总结: what a rated person writes about themselves. Identified, like a self-assessment.
CREATE TABLE summaries (
    wave_id INTEGER NOT NULL REFERENCES waves (id),
    person TEXT NOT NULL,
    body TEXT NOT NULL,
    submitted BOOLEAN NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (wave_id, person)
);

-- 组织评定: the final grade the unit's committee records for a rated person, and why.
CREATE TABLE person_grades (
    wave_id INTEGER NOT NULL REFERENCES waves (id),
    person TEXT NOT NULL,
    grade TEXT NOT NULL,
    reason TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    PRIMARY KEY (wave_id, person)
);

-- A rater's saved draft, encrypted under a key derived from their raw token (which is never
-- stored), so only the holder of the link can read it back. Deleted when the sheet is sent.
CREATE TABLE rating_drafts (
    invitation_id TEXT PRIMARY KEY NOT NULL REFERENCES invitations (id),
    sealed BYTEA NOT NULL
);

-- The unit subtree an account's role applies to (NULL: the whole installation). Secretary
-- accounts (role secretary) see and grade the people of their own branch only.
ALTER TABLE users ADD COLUMN scope TEXT;
