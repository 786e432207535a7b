DROP INDEX people_committee;
DROP INDEX people_unit;
