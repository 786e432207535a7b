ALTER TABLE users DROP COLUMN scope;
DROP TABLE rating_drafts;
DROP TABLE person_grades;
DROP TABLE summaries;
DROP TABLE person_reasons;
DROP TABLE person_tallies;
DROP INDEX wave_people_unit;
DROP TABLE wave_people;
ALTER TABLE waves DROP COLUMN kind;
