-- A province on one installation (issue 17): a university's wave reads the roster of its
-- own units and the committee members (who score every unit), not the whole province's.
CREATE INDEX people_unit ON people (unit);
-- Only the few committee members: the literal predicate is the one
-- `db::people::of_units_or_committee` writes.
CREATE INDEX people_committee ON people (email) WHERE roles LIKE '%committee%';
